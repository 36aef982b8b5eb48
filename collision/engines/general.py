"""The general engines: any collision model's step program on a density matrix (exact) or
on state vectors (Monte Carlo).

Both take a :class:`collision.plans.general.GeneralPlan` (never the model) and return a
:class:`collision.results.Result`.  The kernels are in :mod:`collision._kernels.general`.

Monte Carlo.  Trajectory ``j`` owns the random stream of child ``j`` of
``SeedSequence(seed)`` (as in :mod:`collision.trajectories`): its first draw picks its
initial state from the eigen-decomposition of ``rho0``, then every joining ancilla is
drawn from its stream's state and every leaving one measured in its stream's energy
basis (the computational basis without a Hamiltonian).  Any such unravelling averages to
the density engine's map.  Outputs per trajectory: ``<psi|O|psi>`` at the saved times and
the energy each stream's ancilla carries away in expectation over the measurement, given
the level it was drawn in.  With memory (:mod:`collision.models.memory`) the state
vectors hold the subsystems and the carried ancillas: a carried ancilla stays in the
state vector from step to step, its initial level drawn with the subsystems' from
``rho0 x eta``, and only the ancilla that leaves is measured; ``final_state`` is reduced
to the subsystems (:meth:`GeneralPlan.reduce`).  Statistics are kept in leaves of 64
trajectories (:mod:`collision.statistics`), so results do not depend on threads or
batches and runs over disjoint ranges of one seed merge exactly.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import thermo
from .. import thermo_delay as tdelay
from .. import thermo_trajectories as tledger
from .._kernels import general as _k
from .._kernels import rng as _rng
from .._loop import chunk_stops, run_in_chunks
from ..montecarlo import _ThreadCount, check_n_trajectories, seed_prefix, seed_sequence
from ..plans.delay import with_probes
from ..plans.general import PROBE, GeneralPlan
from ..resources import FINAL_STATE_DIM as MAX_FINAL_STATE_DIM
from ..results import Result, ResultErrors
from ..statistics import LEAF, Moments, TrajectoryStatistics

#: Memory budget of one batch's per-trajectory outputs (bytes).
BATCH_BYTES = 64 * 2**20
#: Largest batch of trajectories run in one parallel region.
MAX_BATCH = 4096


def _hermitian_ops(plan: GeneralPlan) -> np.ndarray:
    ops = plan.e_ops
    scale = np.maximum(1.0, np.max(np.abs(ops), axis=(1, 2))) if ops.size else np.zeros(0)
    return np.array([np.max(np.abs(o - o.conj().T)) <= 1e-12 * s
                     for o, s in zip(ops, scale, strict=True)], dtype=bool)


def _expect_dict(plan: GeneralPlan, values: np.ndarray) -> dict[str, np.ndarray]:
    herm = _hermitian_ops(plan)
    return {name: (values[:, o].real.copy() if herm[o] else values[:, o].copy())
            for o, name in enumerate(plan.e_names)}


def _heat_dict(plan: GeneralPlan, energy: np.ndarray) -> dict[str, np.ndarray]:
    return {name: energy[:, r] / plan.dt for r, name in enumerate(plan.streams)
            if plan.has_energy[r]}


def _program_args(plan: GeneralPlan) -> tuple:
    p = plan.program
    return (p.kind, p.stream, p.d_loc, p.n_rest, p.size, p.idx_offset, p.u_offset, p.idx,
            p.unitaries)


def step_cost(plan: GeneralPlan) -> float:
    """Multiply-adds of one density-engine step (for the chunking of progress bars)."""
    p = plan.program
    return float(np.sum(2 * p.size.astype(float) ** 2 * p.d_loc))


#: Largest ``D^2 x D^2`` step superoperator the density engine builds (bytes).
SUPEROPERATOR_BYTES = 64 * 2**20


def choose_scheme(plan: GeneralPlan) -> str:
    """``"superoperator"`` when building the step's ``D^2 x D^2`` matrix (``D^2`` steps)
    and applying its ``save_every``-th power at every saved time costs less than running
    the step program at every step, and the matrix fits :data:`SUPEROPERATOR_BYTES`;
    else ``"sequential"`` (the collisions one after the other on the joint state, at every
    step)."""
    d2 = plan.dim**2
    if 16 * d2 * d2 > SUPEROPERATOR_BYTES:
        return "sequential"
    cost_stages = step_cost(plan) * plan.n_steps
    powers = max(1, int(plan.save_every).bit_length())
    cost_super = (d2 * step_cost(plan) + d2**3 * 2 * powers
                  + float(d2 * d2) * plan.times.size)
    return "superoperator" if cost_super < cost_stages else "sequential"


def _one_step(plan: GeneralPlan, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                          np.ndarray]:
    """One step of the stage program from ``rho`` (any matrix, not only a state): the
    matrix after it, the energy of every stream's outgoing ancilla and its reduced state
    (``(n_streams, d_max, d_max)``)."""
    p = plan.program
    dim = plan.dim
    state = np.array(rho, dtype=np.complex128)
    energy = np.zeros((1, len(plan.streams)), dtype=np.complex128)
    k, d = len(plan.streams), plan.etas.shape[1]
    ledger = (np.zeros((0, 0), dtype=np.complex128), np.zeros((0, 4)),
              np.zeros((1, k, d, d), dtype=np.complex128),
              np.zeros((1, k, d, d), dtype=np.complex128),
              np.zeros((k, d, d), dtype=np.complex128))
    buffers = [np.zeros(p.max_size**2, dtype=np.complex128) for _ in range(3)]
    col = np.zeros(int(p.d_loc.max()) if p.d_loc.size else 1, dtype=np.complex128)
    _k.density_steps(state, 0, 1, 1, 1, p.kind, p.stream, p.d_loc, p.n_rest, p.size,
                     p.idx_offset, p.u_offset, p.idx, p.unitaries, plan.etas,
                     plan.stream_energies, np.zeros((0, dim, dim), dtype=np.complex128),
                     np.zeros((1, 0), dtype=np.complex128), energy,
                     np.zeros((dim, dim), dtype=np.complex128), *buffers, col,
                     _k.LEDGER_ANCILLAS, *ledger[:3], ledger[3], ledger[4])
    return state, energy[0], ledger[2][0]


def step_superoperator(plan: GeneralPlan) -> tuple[np.ndarray, np.ndarray]:
    """The step as a matrix on row-major ``vec(rho)``, shape ``(D^2, D^2)``, and the
    energy of every stream's outgoing ancilla as rows on ``vec(rho)``, shape
    ``(n_streams, D^2)``: column ``k D + l`` is the step applied to ``|k><l|``."""
    return _step_columns(plan)[:2]


def _step_columns(plan: GeneralPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`step_superoperator` and the leaving ancillas' states as rows on
    ``vec(rho)``, shape ``(n_streams * d_max^2, D^2)``."""
    dim = plan.dim
    sup = np.zeros((dim * dim, dim * dim), dtype=np.complex128)
    energy = np.zeros((len(plan.streams), dim * dim), dtype=np.complex128)
    anc = np.zeros((len(plan.streams) * plan.etas.shape[1]**2, dim * dim),
                   dtype=np.complex128)
    for k in range(dim):
        for m in range(dim):
            basis = np.zeros((dim, dim), dtype=np.complex128)
            basis[k, m] = 1.0
            out, e, a = _one_step(plan, basis)
            sup[:, k * dim + m] = out.reshape(-1)
            energy[:, k * dim + m] = e
            anc[:, k * dim + m] = a.reshape(-1)
    return sup, energy, anc


def run_density(plan: GeneralPlan, progress: bool = False, scheme: str = "auto",
                thermodynamics: bool = False) -> Result:
    """The exact ensemble average of the collision model (module docstring).

    ``scheme``: ``"sequential"`` runs the step program at every step; ``"superoperator"``
    builds the step's ``D^2 x D^2`` matrix once (``D^2`` single steps) and jumps between
    saved times with its power; ``"auto"`` takes the cheaper (:func:`choose_scheme`).  The
    two agree to rounding.  ``thermodynamics``: also record the ledger of
    :mod:`collision.thermo` (``Result.thermodynamics``): the leaving ancillas' states at
    every step and two ``D x D`` eigenvalue problems per saved time (superoperator scheme:
    the saved times run in numpy, with one more ``D^2 x D^2`` product each).

    Returns
    -------
    Result
        ``expect``, ``heat`` (streams with a Hamiltonian) and ``final_state`` at the saved
        times; after Ctrl-C the finished part with ``partial=True``.
        ``parameters["scheme"]`` says how the step was applied (:func:`choose_scheme`).
    """
    if scheme == "auto":
        scheme = choose_scheme(plan)
    out = _run_superoperator(plan, progress, thermodynamics) if scheme == "superoperator" \
        else _run_sequential(plan, progress, thermodynamics)
    out.parameters["scheme"] = scheme
    return out


def _run_sequential(plan: GeneralPlan, progress: bool, thermodynamics: bool) -> Result:
    p = plan.program
    n_saved = plan.times.size
    dim = plan.dim
    rho = np.array(plan.rho0, dtype=np.complex128)
    out_expect = np.zeros((n_saved, plan.e_ops.shape[0]), dtype=np.complex128)
    out_energy = np.zeros((n_saved, len(plan.streams)), dtype=np.complex128)
    out_state = np.zeros((dim, dim), dtype=np.complex128)
    buffers = [np.zeros(p.max_size**2, dtype=np.complex128) for _ in range(3)]
    col = np.zeros(int(p.d_loc.max()) if p.d_loc.size else 1, dtype=np.complex128)
    done = np.zeros(1, dtype=np.int64)
    ledger = (_k.LEDGER_ANCILLAS | _k.LEDGER_SYSTEM, *thermo.ledger_buffers(plan)) \
        if thermodynamics else _k.no_ledger()

    def advance(start: int, stop: int) -> None:
        _k.density_steps(rho, start, stop, plan.save_every, n_saved, p.kind, p.stream,
                         p.d_loc, p.n_rest, p.size, p.idx_offset, p.u_offset, p.idx,
                         p.unitaries, plan.etas, plan.stream_energies, plan.e_ops,
                         out_expect, out_energy, out_state, *buffers, col, *ledger)
        done[0] = stop

    stops = chunk_stops(n_saved, plan.save_every, plan.n_steps, step_cost(plan))
    finished, partial = run_in_chunks(advance, stops, lambda: int(done[0]),
                                      progress=progress, desc="density")
    # saved time k is complete (its expectation values and its step's heat) once step
    # k save_every has run; an interrupted run has no state at its last complete time
    n_done = n_saved if not partial else min(n_saved, -(-finished // plan.save_every))
    energy = out_energy[:n_done].real - plan.fresh_energy[None, :]
    out = Result(plan.times[:n_done].copy(), _expect_dict(plan, out_expect[:n_done]),
                 _heat_dict(plan, energy), None if partial else plan.reduce(out_state),
                 partial=partial)
    if thermodynamics:
        out.thermodynamics = thermo.assemble(plan, ledger[2][:n_done], ledger[3][:n_done],
                                             ledger[4][:n_done])
        out.thermodynamics.heat = {r: q.copy() for r, q in out.heat.items()}
    return out


def _run_superoperator(plan: GeneralPlan, progress: bool, thermodynamics: bool) -> Result:
    sup, energy_rows, anc_rows = _step_columns(plan)
    jump = np.linalg.matrix_power(sup, plan.save_every) if plan.save_every > 1 else sup
    n_saved = plan.times.size
    dim = plan.dim
    vec = np.array(plan.rho0, dtype=np.complex128).reshape(-1)
    e_rows = np.ascontiguousarray(plan.e_ops.transpose(0, 2, 1).reshape(-1, dim * dim))
    out_expect = np.zeros((n_saved, plan.e_ops.shape[0]), dtype=np.complex128)
    out_energy = np.zeros((n_saved, len(plan.streams)), dtype=np.complex128)
    final = np.zeros(dim * dim, dtype=np.complex128)
    tmp = np.zeros(dim * dim, dtype=np.complex128)
    done = np.zeros(1, dtype=np.int64)

    if thermodynamics:
        ledger = thermo.ledger_buffers(plan)
        anc_sum_rows = anc_rows @ thermo.geometric_sum(sup, plan.save_every)

    def advance(start: int, stop: int) -> None:
        if thermodynamics:  # one saved time at a time, the ledger in numpy between jumps
            for k in range(start, stop):
                thermo.superoperator_record(k, vec, sup, anc_rows, anc_sum_rows,
                                            ledger[0], ledger)
                _k.superoperator_steps(vec, k, k + 1, n_saved, jump, e_rows, energy_rows,
                                       out_expect, out_energy, final, tmp)
        else:
            _k.superoperator_steps(vec, start, stop, n_saved, jump, e_rows, energy_rows,
                                   out_expect, out_energy, final, tmp)
        done[0] = stop

    stops = chunk_stops(n_saved, 1, n_saved, float(dim**4))
    finished, partial = run_in_chunks(advance, stops, lambda: int(done[0]),
                                      progress=progress, desc="density", unit="saved time")
    n_done = finished if partial else n_saved
    energy = out_energy[:n_done].real - plan.fresh_energy[None, :]
    out = Result(plan.times[:n_done].copy(), _expect_dict(plan, out_expect[:n_done]),
                 _heat_dict(plan, energy),
                 None if partial else plan.reduce(final.reshape(dim, dim)),
                 partial=partial)
    if thermodynamics:
        out.thermodynamics = thermo.assemble(plan, ledger[1][:n_done], ledger[2][:n_done],
                                             ledger[3][:n_done])
        out.thermodynamics.heat = {r: q.copy() for r, q in out.heat.items()}
    return out


def run_density_delayed(plan: GeneralPlan, progress: bool = False,
                        thermodynamics: bool = False) -> Result:
    """The density engine with travel times between collisions: the process-time run of
    ``plan.delay`` (:mod:`collision.plans.delay`), piece by piece, with every observable
    and every stream's leaving energy recorded at each process step and read off at the
    saved real times; ``final_state`` is the equal-time state at ``t[-1]``.

    ``thermodynamics``: also the ledger with the ancillas in flight
    (:mod:`collision.thermo_delay`): the run compiled with probes, the subsystems' local
    energies recorded with the observables (one more ``D x D`` trace each per process
    step) and every in-flight ancilla's energy after the collision it leaves."""
    sched = plan.delay
    n_streams = len(plan.streams)
    e_ops = plan.e_ops
    if thermodynamics:
        sched = with_probes(sched, n_streams)
        e_ops = np.concatenate([plan.e_ops, tdelay.energy_ops(plan)])
    n_proc = sched.p_end - sched.p_start
    dim, n_ops = plan.dim, plan.e_ops.shape[0]
    rec_expect = np.zeros((n_proc + 1, e_ops.shape[0]), dtype=np.complex128)
    rec_energy = np.zeros((n_proc + 1, n_streams + sched.probes.shape[0]),
                          dtype=np.complex128)
    for r, column, _, _ in sched.probes:  # a probe that does not run: a fresh ancilla
        rec_energy[:, column] = plan.fresh_energy[r]
    rho = np.array(plan.rho0, dtype=np.complex128)
    buffers = [np.zeros(sched.max_size**2, dtype=np.complex128) for _ in range(3)]
    col = np.zeros(sched.max_size, dtype=np.complex128)
    scratch = np.zeros((dim, dim), dtype=np.complex128)
    pieces = []
    for p0, p1, program in sched.segments:  # split where the equal-time state branches
        cuts = [p0, *([sched.branch] if p0 < sched.branch < p1 else []), p1]
        pieces += [(a, b, program) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    state = {"done": sched.p_start, "branch": None}

    def run_piece(r, a, b, program, record: bool) -> None:
        p = program
        lo, hi = a - sched.p_start, b - sched.p_start
        _k.density_steps(r, 0, b - a, 1, (b - a) if record else 0, p.kind, p.stream, p.d_loc,
                         p.n_rest, p.size, p.idx_offset, p.u_offset, p.idx, p.unitaries,
                         plan.etas, plan.stream_energies, e_ops, rec_expect[lo:hi],
                         rec_energy[lo:hi], scratch, *buffers, col, *_k.no_ledger())

    def advance(start: int, stop: int) -> None:
        for a, b, program in pieces[start:stop]:
            if a == sched.branch:
                state["branch"] = rho.copy()
            run_piece(rho, a, b, program, True)
            state["done"] = b

    finished, partial = run_in_chunks(advance, np.arange(1, len(pieces) + 1),
                                      lambda: sum(1 for _, b, _ in pieces
                                                  if b <= state["done"]),
                                      progress=progress, desc="density (delayed)",
                                      unit="segment")
    if not partial:  # the records after the last process step (the ledger's E(t + dt))
        rec_expect[n_proc] = np.einsum("oji,ij->o", e_ops, rho)
    real = np.arange(plan.times.size) * plan.save_every
    sites = sched.sigma[sched.e_sites] if n_ops else np.zeros(0, dtype=np.int64)
    # a saved time is complete when every record it reads is
    need = [real - s for s in sites] + [real - o for o in sched.heat_offsets]
    complete = np.all([row < state["done"] for row in need], axis=0) if need else \
        np.ones(real.size, bool)
    n_done = int(np.argmin(complete)) if not complete.all() else real.size
    if thermodynamics:
        n_done = min(n_done, tdelay.n_complete(sched, real, state["done"], not partial))
    rows = real[:n_done] - sched.p_start
    values = np.stack([rec_expect[rows - sites[o], o] for o in range(n_ops)], axis=1) \
        if n_ops else np.zeros((n_done, 0), dtype=np.complex128)
    energy = np.stack([rec_energy[rows - sched.heat_offsets[r], r].real
                       for r in range(n_streams)], axis=1) - plan.fresh_energy[None, :]
    final = None
    if not partial and state["branch"] is not None:
        final = state["branch"]
        for a, b, program in sched.end_segments:
            run_piece(final, a, b, program, False)
    elif not partial and sched.branch == sched.p_end:
        final = rho.copy()
    out = Result(plan.times[:n_done].copy(), _expect_dict(plan, values),
                 _heat_dict(plan, energy), final, partial=partial)
    out.parameters["scheme"] = "sequential, delayed"
    if thermodynamics:
        out.thermodynamics = tdelay.assemble(plan, sched, rec_expect[:, n_ops:],
                                             rec_energy, n_done)
        out.thermodynamics.heat = {r: q.copy() for r, q in out.heat.items()}
    return out


def batch_size(plan: GeneralPlan, n_trajectories: int) -> int:
    """Trajectories per parallel region: a multiple of 64, within :data:`BATCH_BYTES`."""
    per = 16 * plan.times.size * (plan.e_ops.shape[0] + len(plan.streams)) + 16 * plan.dim
    fit = max(LEAF, (BATCH_BYTES // max(per, 1)) // LEAF * LEAF)
    want = -(-n_trajectories // LEAF) * LEAF
    return int(min(fit, MAX_BATCH, want))


def _leaf_moments(rows: np.ndarray, psi: np.ndarray | None) -> Moments:
    """Count, mean and M2 of ``rows`` (trajectory axis first), shifted by the first row;
    elementwise numpy only, so the same on every machine."""
    m = rows.shape[0]
    shift = rows[0]
    mean = shift + (rows - shift).sum(axis=0) / m
    dev = rows - mean
    m2 = (dev * dev).sum(axis=0)
    if psi is None:
        rho = np.zeros((0, 0), dtype=complex)
    else:
        rho = np.einsum("ti,tj->ij", psi, psi.conj(), optimize=False)
    return Moments(m, mean, m2, rho)


def run_trajectories(plan: GeneralPlan, n_trajectories: int | None = None, seed=None,
                     first_trajectory: int = 0, target_stderr: float | None = None,
                     n_threads: int | None = None, final_state: bool = True,
                     progress: bool = False, thermodynamics: bool = False) -> Result:
    """Monte Carlo trajectories of the collision model (module docstring).

    ``thermodynamics``: also estimate the ledger's expectation-value quantities
    (:mod:`collision.thermo_trajectories`; with delay those of
    :mod:`collision.thermo_delay`, the energy in flight included).

    Returns
    -------
    Result
        Means, ``stderr`` and ``statistics``; ``final_state`` the average of
        ``|psi><psi|`` at ``t[-1]`` (``D <= 1024`` and ``final_state=True``);
        ``thermodynamics`` the ledger with its standard errors when asked
        (``parameters["thermodynamics"]`` its layout, :func:`~collision.
        thermo_trajectories.ledger_layout`).
    """
    n_max = check_n_trajectories(n_trajectories, target_stderr)
    ss = seed_sequence(seed)
    prefix = seed_prefix(ss)
    first_child = int(ss.n_children_spawned) + int(first_trajectory)
    p = plan.program
    n_saved, n_ops, n_streams = plan.times.size, plan.e_ops.shape[0], len(plan.streams)
    probs, vecs = np.linalg.eigh(plan.rho0)
    probs = np.clip(probs, 0.0, None)
    probs /= probs.sum()
    keep_final = bool(final_state) and plan.dim <= MAX_FINAL_STATE_DIM
    delayed = _DelayedTables(plan, thermodynamics) if plan.delay is not None else None
    n_rows = delayed.n_proc if delayed else n_saved
    n_cols = (delayed.e_ops.shape[0], delayed.n_energy) if delayed else (n_ops, n_streams)
    batch = batch_size(plan, n_max) if delayed is None else \
        max(LEAF, min(batch_size(plan, n_max), BATCH_BYTES // (16 * n_rows * sum(n_cols)
                                                                + 16 * plan.dim) // LEAF * LEAF))
    states = np.zeros((batch, _rng.SFC64_WORDS), dtype=np.uint64)
    out_expect = np.zeros((batch, n_rows, n_cols[0]), dtype=np.complex128)
    out_energy = np.zeros((batch, n_rows, n_cols[1]))
    final_psi = np.zeros((batch, plan.dim), dtype=np.complex128)
    stats = [TrajectoryStatistics()]
    layout = tledger.ledger_layout(plan) if thermodynamics else None
    h_ledger, out_ledger = (tledger.ledger_hamiltonian(plan),
                            np.zeros((batch, n_saved, 2 + n_streams))) \
        if thermodynamics and delayed is None else _k.no_trajectory_ledger(batch)

    def advance(start: int, stop: int) -> None:
        b = stop - start
        _rng.seed_children(prefix, ss.pool_size, first_child + start, states[:b])
        if delayed is None:
            _k.trajectory_batch(vecs, probs, states[:b], plan.n_steps, plan.save_every,
                                n_saved, p.kind, p.stream, p.d_loc, p.n_rest, p.idx_offset,
                                p.u_offset, p.idx, p.unitaries, plan.eta_probs,
                                plan.eta_vectors, plan.measure, plan.stream_energies,
                                plan.e_ops, out_expect, out_energy, final_psi, p.max_size,
                                numba.get_num_threads(), h_ledger, out_ledger)
            expect, energy = out_expect[:b], out_energy[:b]
        else:
            delayed.run(vecs, probs, states[:b], out_expect, out_energy, final_psi)
            expect, energy = delayed.real_time(out_expect[:b], out_energy[:b])
        rows = np.concatenate([expect.real, expect.imag, energy],
                              axis=2).transpose(0, 2, 1)  # (b, quantities, n_saved)
        if layout is not None and delayed is not None:
            rows = np.concatenate([rows, tdelay.trajectory_rows(
                layout, plan, delayed.sched, out_expect[:b, :, n_ops:], out_energy[:b])],
                axis=1)
        elif layout is not None:
            rows = np.concatenate([rows, tledger.ledger_rows(
                layout, list(plan.streams), plan.dt, energy, out_ledger[:b])], axis=1)
        new = TrajectoryStatistics(dict(stats[0].nodes))
        for lo in range(0, b, LEAF):
            hi = min(b, lo + LEAF)
            new.add_leaf((int(first_trajectory) + start + lo) // LEAF,
                         _leaf_moments(rows[lo:hi], final_psi[lo:hi] if keep_final else None))
        stats[0] = new

    n_ledger = tledger.n_columns(layout) if layout is not None else 0

    def reached(_: int) -> bool:  # the ledger's quantities do not decide (documented)
        return target_stderr is not None and _worst(stats[0].total(),
                                                    n_ledger) <= target_stderr

    threads = _ThreadCount(n_threads)
    try:
        stops = np.append(np.arange(batch, n_max, batch), n_max)
        done, partial = run_in_chunks(advance, stops, lambda: stats[0].count,
                                      progress=progress, desc="trajectories", unit="traj",
                                      after_chunk=reached)
    finally:
        threads.restore()
    if done < 2:
        raise KeyboardInterrupt
    result = result_from_statistics(plan, stats[0], layout)
    result.partial = partial
    result.parameters.update({"seed_entropy": ss.entropy, "seed_spawn_key": list(ss.spawn_key),
                              "first_child": int(ss.n_children_spawned),
                              "first_trajectory": int(first_trajectory),
                              "final_state": keep_final})
    return result


class _DelayedTables:
    """The process-time run of a delayed plan (:mod:`collision.plans.delay`) as flat
    arrays for :func:`collision._kernels.general.delayed_trajectory_batch`, and the map of
    its per-process-step records to the saved real times."""

    def __init__(self, plan: GeneralPlan, thermodynamics: bool = False):
        sched = plan.delay
        self.e_ops = plan.e_ops
        if thermodynamics:  # probes, the local energies, one more process step (E(t + dt))
            sched = with_probes(sched, len(plan.streams), extra_steps=1)
            self.e_ops = np.concatenate([plan.e_ops, tdelay.energy_ops(plan)])
        self.sched = sched
        self.n_energy = len(plan.streams) + sched.probes.shape[0]
        self.plan = plan
        self.n_proc = sched.p_end - sched.p_start
        pieces = []
        for p0, p1, program in sched.segments:  # split where the equal-time state branches
            cuts = [p0, *([sched.branch] if p0 < sched.branch < p1 else []), p1]
            pieces += [(a, b, program) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        programs: list = []
        for _, _, program in [*pieces, *sched.end_segments]:
            if all(program is not q for q in programs):
                programs.append(program)

        def index(program) -> int:
            return next(k for k, q in enumerate(programs) if q is program)

        origin = sched.p_start
        self.seg_bounds = np.array([(a - origin, b - origin) for a, b, _ in pieces],
                                   dtype=np.int64).reshape(-1, 2)
        self.seg_prog = np.array([index(q) for _, _, q in pieces], dtype=np.int64)
        self.end_bounds = np.array([(a - origin, b - origin) for a, b, _ in
                                    sched.end_segments], dtype=np.int64).reshape(-1, 2)
        self.end_prog = np.array([index(q) for _, _, q in sched.end_segments], dtype=np.int64)
        self.branch = sched.branch - origin
        stage_start, idx_shift, u_shift = [0], 0, 0
        fields = {k: [] for k in ("kind", "stream", "d_loc", "n_rest", "idx_offset",
                                  "u_offset")}
        idx, unitaries = [], []
        for q in programs:
            for k in ("kind", "stream", "d_loc", "n_rest"):
                fields[k].append(getattr(q, k))
            fields["idx_offset"].append(q.idx_offset + idx_shift)
            fields["u_offset"].append(np.where(q.kind == PROBE, q.u_offset,  # a column
                                               q.u_offset + u_shift))
            idx.append(q.idx)
            unitaries.append(q.unitaries)
            idx_shift += q.idx.size
            u_shift += q.unitaries.size
            stage_start.append(stage_start[-1] + q.kind.size)
        self.stage_start = np.array(stage_start, dtype=np.int64)
        self.fields = {k: np.concatenate(v).astype(np.int64) for k, v in fields.items()}
        self.idx = np.concatenate(idx).astype(np.int64)
        self.unitaries = np.concatenate(unitaries).astype(np.complex128)
        self.max_size = sched.max_size
        real = np.arange(plan.times.size) * plan.save_every - origin
        self.expect_rows = real[None, :] - sched.sigma[sched.e_sites][:, None]
        self.energy_rows = real[None, :] - sched.heat_offsets[:, None]

    def run(self, vecs, probs, states, out_expect, out_energy, final_psi) -> None:
        f, plan = self.fields, self.plan
        _k.delayed_trajectory_batch(
            vecs, probs, states, self.seg_bounds, self.seg_prog, self.end_bounds,
            self.end_prog, self.branch, self.stage_start, f["kind"], f["stream"], f["d_loc"],
            f["n_rest"], f["idx_offset"], f["u_offset"], self.idx, self.unitaries,
            plan.eta_probs, plan.eta_vectors, plan.measure, plan.stream_energies, self.e_ops,
            out_expect, out_energy, final_psi, self.max_size, numba.get_num_threads())

    def real_time(self, expect: np.ndarray, energy: np.ndarray):
        """Records per process step -> values at the saved real times, per trajectory."""
        n_ops, n_streams = self.plan.e_ops.shape[0], len(self.plan.streams)
        values = np.stack([expect[:, self.expect_rows[o], o] for o in range(n_ops)], axis=2) \
            if n_ops else np.zeros((expect.shape[0], self.plan.times.size, 0), complex)
        heat = np.stack([energy[:, self.energy_rows[r], r] for r in range(n_streams)], axis=2)
        return values, heat


def _worst(total: Moments, skip_last: int = 0) -> float:
    """The largest standard error, leaving out the last ``skip_last`` quantities."""
    err = total.stderr[:total.stderr.shape[0] - skip_last]
    return float(np.nanmax(err)) if err.size else 0.0


def result_from_statistics(plan: GeneralPlan, stats: TrajectoryStatistics,
                           thermodynamics: dict | None = None) -> Result:
    """The :class:`Result` of trajectory statistics of a run (``thermodynamics``: the
    ledger's layout, or ``None``)."""
    return statistics_result(stats, plan.times, list(plan.e_names),
                             _hermitian_ops(plan).tolist(), list(plan.streams),
                             [r for r, has in zip(plan.streams, plan.has_energy, strict=True)
                              if has], plan.dt, plan.system_dim, thermodynamics)


def statistics_result(stats: TrajectoryStatistics, times: np.ndarray, e_names: list[str],
                      hermitian: list[bool], streams: list[str], heat_streams: list[str],
                      dt: float, system_dim: int, thermodynamics: dict | None = None
                      ) -> Result:
    """The :class:`Result` of trajectory statistics (after a run, and after a merge).

    The quantities are, in order, the real and the imaginary parts of every expectation
    value (``e_names``), then the energy every stream (``streams``, in order) carries
    away; the streams with a Hamiltonian (``heat_streams``) are reported as heat.  The
    final state is traced over the carried ancillas down to the subsystems' dimension
    ``system_dim``.  With ``thermodynamics`` (the ledger's layout,
    :func:`collision.thermo_trajectories.ledger_layout`) the last quantities are the
    ledger's, and ``Result.thermodynamics`` is built from them.
    """
    total = stats.total()
    n_ops = len(e_names)
    mean, err = total.mean.T, total.stderr.T  # (n_saved, quantities)

    def expect(values):
        return {name: values[:, o].real.copy() if hermitian[o] else values[:, o].copy()
                for o, name in enumerate(e_names)}

    values = mean[:, :n_ops] + 1j * mean[:, n_ops:2 * n_ops]
    errors = err[:, :n_ops] + 1j * err[:, n_ops:2 * n_ops]
    column = {r: 2 * n_ops + streams.index(r) for r in heat_streams}
    final = None
    if total.rho_sum.size:  # traced over the carried ancillas (memory streams) if any
        final = total.rho_sum / total.count
        rest = final.shape[0] // system_dim
        final = np.einsum("iaja->ij", final.reshape(system_dim, rest, system_dim, rest))
    out = Result(np.asarray(times, dtype=float).copy(), expect(values),
                 {r: mean[:, k] / dt for r, k in column.items()}, final,
                 stderr=ResultErrors(expect(errors), {r: err[:, k] / dt
                                                      for r, k in column.items()}))
    out.statistics = stats
    out.parameters = {"n_trajectories": total.count, "ranges": stats.ranges(),
                      "hermitian": list(hermitian), "stream_order": list(streams),
                      "heat_streams": list(heat_streams), "system_dim": int(system_dim)}
    if thermodynamics is not None:
        n = tledger.n_columns(thermodynamics)
        out.thermodynamics = tledger.ledger_from_moments(
            thermodynamics, total.mean[-n:], total.stderr[-n:], out.heat, out.stderr.heat)
        out.parameters["thermodynamics"] = thermodynamics
    return out
