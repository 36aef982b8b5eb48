"""Heat counting statistics of the collision model, exact at finite dt.

Definitions in :mod:`lindblad.counting`: ``q(t)`` is the net number of quanta the
ancillas have gained by time ``t`` (a two-point measurement of every ancilla's energy,
before and after the chain), ``Q = hbar omega q``; the result is a
:class:`lindblad.counting.HeatStatistics`.  The ``dt -> 0`` limit is
:meth:`lindblad.CascadeMasterEquation.heat_statistics` (tilted generator).

``method="density"`` (exact)
----------------------------
One step of the density engine is ``rho -> sum_{l,k} K_lk rho K_lk^dag``; ``K_lk``
(ancilla in at level ``k``, out at ``l``) adds ``l - k`` to ``q`` and maps the chain's
excitation block ``N`` to ``N + k - l``.  The counting-resolved map therefore carries
``rho_q`` with ``rho_q(t)`` living in the blocks ``N = N0 - q`` of the parts of ``rho0``
that started in block ``N0``: ``q = N(0) - N(t)`` exactly, and

    P(q, t) = sum_{N0} Tr[Pi_{N0 - q} Phi^s(Pi_{N0} rho0 Pi_{N0})].

So the engine steps one state per occupied initial block ``N0`` with the density
engine's own step (its ``m = 0`` layout, Kraus or tabulated scheme;
:mod:`collision._kernels.counting`) and records every block's population at the saved
times.  The window of ``q`` is exact, ``|q| <= n (d - 1)``: nothing is truncated
beyond the model's own Fock cutoffs.  Only the ``m = 0`` part of ``rho0`` (coherences
between equal excitation numbers, e.g. ``rho23`` of eq 41) matters; the rest never
reaches a trace.  Cost: (number of occupied ``N0``) density-engine steps per step.

Independent reservoirs (``cascade=False``): subsystem ``i`` exchanges quanta with its own
ancillas only, its populations follow the one-collision transition matrix
``M[n', n] = sum_k p_k |<n', n + k - n'| U |n, k>|^2`` (exactly the density engine's map
on populations), ``q_i = n_i(0) - n_i(t)``, and the joint distribution of the
``q_i`` follows from ``M^s`` (:func:`lindblad.counting.independent_joint`).

``method="trajectories"`` (Monte Carlo)
---------------------------------------
The trajectory kernel draws every incoming ancilla level and measures the outgoing one;
it adds up ``l - k`` per trajectory (per subsystem with independent reservoirs) and
records it at the saved times.  These integers are histogrammed batch by batch into
fixed groups (trajectory ``j`` into group ``j % N_GROUPS``): integer counts, so the
result is exact whatever the batches or threads, memory does not grow with the number of
trajectories, and runs over disjoint trajectory ranges of one seed add up exactly
(:func:`merge_statistics`).  Standard errors: ``sqrt(P (1 - P) / (n - 1))`` for every
probability; for the cumulants (computed from the histogram, i.e. the plug-in estimates,
whose bias ``O(1/n)`` is far below their standard error) a delete-one-group jackknife
over the groups.
"""

from __future__ import annotations

import dataclasses
import numbers

import numba
import numpy as np

from lindblad._validate import flag
from lindblad.counting import (
    CountingErrors,
    HeatStatistics,
    cumulants,
    independent_joint,
    total_from_joint,
)
from lindblad.operators import turn_subsystems
from lindblad.tilted import counting_from_blocks

from ._kernels import batch as _kb
from ._kernels import counting as _kc
from ._kernels import rng as _rng
from ._loop import BatchStops, run_in_chunks
from .density import DensityEngine
from .extrapolate import richardson_statistics
from .initial import initial_state, state_digest
from .montecarlo import _ThreadCount, check_n_trajectories, seed_prefix, seed_sequence
from .options import engine_options
from .plans.exchange import time_grid
from .resources import N_GROUPS, check_run_memory
from .statistics import check_disjoint, check_same_run
from .trajectories import batch_size, build_tables, initial_ensemble, sampled_ensemble

METHODS = ("density", "trajectories")
# N_GROUPS, the groups of trajectories for the jackknife standard errors of the
# cumulants, comes from collision.resources (which estimates the histograms' memory).


def heat_statistics(model, rho0, t_max, dt, method: str = "density",
                    n_trajectories: int | None = None, seed=None, save_every: int = 1,
                    progress: bool = False, options=None,
                    extrapolate: bool = False) -> HeatStatistics:
    """See :meth:`collision.CascadeCollisionModel.heat_statistics`."""
    if method not in METHODS:
        why = (" (the Gaussian engine evolves covariance matrices and draws no quanta; "
               "use a CascadeCollisionModel with a Fock cutoff)" if method == "gaussian"
               else "")
        raise ValueError(f"method must be one of {METHODS} for heat_statistics: the "
                         f"methods that count the ancillas' quanta, got {method!r}{why}")
    if any(model.delays):
        raise ValueError("heat_statistics with a delay between the subsystems is not "
                         "implemented: use delay=0")
    opts = engine_options(method, options, n_trajectories=n_trajectories, seed=seed,
                          progress=progress or None)
    if flag(extrapolate, "extrapolate"):
        if method != "density":
            raise ValueError("extrapolate=True applies to method='density' (Monte Carlo "
                             "results are not extrapolated: collision.extrapolate)")
        # both runs and their extrapolation are held at once: check before the first
        half = time_grid(model.gamma, t_max, dt / 2, 2 * save_every)[3]
        check_run_memory(model, method, half, 2 * save_every, counting=True, copies=3)
        return richardson_statistics(*(
            heat_statistics(model, rho0, t_max, step, method, save_every=every, options=opts)
            for step, every in ((dt, save_every), (dt / 2, 2 * save_every))))
    if method == "trajectories" and opts.target_stderr is not None:
        raise ValueError("target_stderr does not apply to heat_statistics (it targets the "
                         "standard error of a flux in run()); give n_trajectories")
    given = None
    if any(model.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
        given = initial_state(rho0, model.dims)
        rho0 = turn_subsystems(given.dense(), model.dims, model.frame_angles, inverse=True)
    plan = model.plan(rho0, t_max, dt, save_every, method=method, counting=True,
                      n_trajectories=opts.n_trajectories if method == "trajectories" else None)
    if method == "density":
        result = _density(model, plan, opts.scheme, progress=opts.progress)
    else:
        result = _trajectories(model, plan, opts)
    result.parameters = {"source": "collision", "method": method, "counting": "two-point "
                         "measurement of every ancilla (net quanta gained)", **model.parameters,
                         "options": opts.as_dict(),
                         "initial_state": state_digest(given or plan.initial),
                         "dt": plan.dt, "t_max": float(t_max),
                         "theta": plan.theta, "save_every": plan.save_every,
                         "bath_cutoff": plan.d_anc, "bath_leak_per_step": plan.bath_leak,
                         **result.parameters}
    return result


# --- exact: the counting-resolved density engine ------------------------------------------

def transition_matrix(plan) -> np.ndarray:
    """``M[n', n]``: probability that one subsystem goes from level ``n`` to ``n'`` in one
    collision with a fresh ancilla (``sum_k p_k |<n', n + k - n'| U |n, k>|^2``)."""
    u = plan.unitary
    d = plan.d_sys
    m = np.zeros((d, d))
    for n in range(d):
        for k, p in enumerate(plan.anc_pop):
            s = n + k
            lo = int(u.first[s])
            col = np.abs(u.u[s, :u.size[s], n - lo]) ** 2
            m[lo:lo + u.size[s], n] += p * col
    return m


def _density(model, plan, scheme: str, progress: bool) -> HeatStatistics:
    n_saved = plan.times.size
    d = plan.d_sys
    last = (n_saved - 1) * plan.save_every
    if not model.cascade:
        step = np.linalg.matrix_power(transition_matrix(plan), plan.save_every)
        trans = np.empty((n_saved, d, d))
        trans[0] = np.eye(d)
        for k in range(1, n_saved):
            trans[k] = step @ trans[k - 1]
        pops = plan.initial.populations().reshape((d,) * model.n_systems)
        joint = independent_joint(pops, trans)
        local = np.arange(-(d - 1), d)
        quanta, total = total_from_joint(joint, local)
        return HeatStatistics(plan.times, quanta, total, joint=joint, local_quanta=local,
                              parameters={"engine": "density", "steps": last})
    plan = plan.dense_initial()  # (with a basis: the state on the reachable states)
    if scheme == "sequential":
        raise ValueError("heat statistics run the density engine's 'kraus' or "
                         "'superoperator' scheme (they follow every excitation block, which "
                         "the 'sequential' scheme does not keep); got scheme='sequential'; "
                         "use 'auto', 'kraus' or 'superoperator'")
    engine = DensityEngine(model, plan, scheme=scheme, sectors=[0], allow_sequential=False)
    lay = engine.layout
    packed = lay.pack((plan.rho0 + plan.rho0.conj().T) / 2)
    initial = []
    for nb in range(lay.n_blocks):
        off = lay.pair_off[lay.pair_index[nb, nb]]
        if np.any(packed[off:off + lay.block_size[nb] ** 2] != 0):
            initial.append(nb)
    initial = np.array(initial, dtype=np.int64)
    states = np.zeros((initial.size, 2, lay.size), dtype=complex)
    for j, nb in enumerate(initial):
        off = lay.pair_off[lay.pair_index[nb, nb]]
        size = lay.block_size[nb] ** 2
        states[j, 0, off:off + size] = packed[off:off + size]
    block_of = np.repeat(np.arange(lay.n_blocks), lay.block_size).astype(np.int64)
    out = np.zeros((n_saved, initial.size, lay.n_blocks))
    status = np.zeros(1, dtype=np.int64)
    record = (lay.diag_pos, block_of, out, status)

    def advance(start: int, stop: int) -> None:
        if engine.scheme == "superoperator":
            _kc.run_counting_superoperator(states, start, stop, last, plan.save_every,
                                           lay.size, engine._sup, *record)
        else:
            _kc.run_counting_kraus(states, engine._work, engine._tmp, start, stop, last,
                                   plan.save_every, *engine._kraus_args(), *record)

    stops = engine._chunk_stops()
    stops = np.unique(np.minimum(stops, last + 1))
    done, interrupted = run_in_chunks(advance, stops, lambda: int(status[0]),
                                      progress=progress, desc="heat statistics (density)")
    if done == 0:
        raise KeyboardInterrupt
    n_done = (done - 1) // plan.save_every + 1
    p = counting_from_blocks(out[:n_done], initial, model.n_systems * (d - 1))
    q_max = model.n_systems * (d - 1)
    return HeatStatistics(plan.times[:n_done], np.arange(-q_max, q_max + 1), p,
                          partial=interrupted and n_done < n_saved,
                          parameters={"engine": "density", "scheme": engine.scheme,
                                      "n_kraus": engine.kraus.n_kraus,
                                      "initial_blocks": initial.tolist()})


# --- Monte Carlo: histograms of the trajectories' quanta ------------------------------------

def _trajectories(model, plan, opts) -> HeatStatistics:
    n_traj = check_n_trajectories(opts.n_trajectories, None)
    first = int(opts.first_trajectory)
    ss = seed_sequence(opts.seed)
    if plan.basis is not None:  # trajectories need no restricted basis (as in a run)
        plan = dataclasses.replace(plan, rho0=plan.initial.matrix, basis=None)
    tables, estimator, stepper = build_tables(model, plan, opts.estimator, opts.stepper)
    init = initial_ensemble(plan.rho0, tables) if plan.rho0 is not None \
        else sampled_ensemble(plan.initial, tables)
    n_sys, d = model.n_systems, plan.d_sys
    n_saved = plan.times.size
    n_stages = 1 if model.cascade else n_sys
    q_max = n_sys * (d - 1)
    n_q = 2 * q_max + 1
    m = 2 * d - 1
    batch = batch_size(tables, n_saved, plan.n_steps, n_traj, init)
    prefix = seed_prefix(ss)
    first_child = int(ss.n_children_spawned) + first
    rng_states = np.zeros((batch, _rng.SFC64_WORDS), dtype=np.uint64)
    rows = np.zeros((batch, n_saved, 2, n_sys))
    final_psi = np.zeros((batch, 0), dtype=np.complex128)
    quanta = np.zeros((batch, n_saved, n_stages), dtype=np.int64)
    counts = np.zeros((N_GROUPS, n_saved, n_q), dtype=np.int64)
    joint = None if model.cascade else np.zeros((n_saved, m**n_sys), dtype=np.int64)
    saved = np.arange(n_saved)
    weights = (m ** np.arange(n_sys - 1, -1, -1)).astype(np.int64)
    status = [0]

    def advance(start: int, stop: int) -> None:
        b = stop - start
        _rng.seed_children(prefix, ss.pool_size, first_child + start, rng_states[:b])
        _kb.run_batch(rng_states[:b], tables, init, plan.n_steps, plan.save_every, rows,
                      final_psi[:b], quanta, numba.get_num_threads())
        q = quanta[:b]
        group = (first + start + np.arange(b)) % N_GROUPS
        total = q.sum(axis=2) + q_max
        flat = (group[:, None] * n_saved + saved[None, :]) * n_q + total
        counts.ravel()[:] += np.bincount(flat.ravel(), minlength=counts.size)
        if joint is not None:
            idx = (q + (d - 1)) @ weights + saved[None, :] * m**n_sys
            joint.ravel()[:] += np.bincount(idx.ravel(), minlength=joint.size)
        status[0] = stop

    threads = _ThreadCount(opts.n_threads)
    try:
        done, partial = run_in_chunks(
            advance, BatchStops(batch, n_traj), lambda: status[0],
            progress=opts.progress, desc="heat statistics (trajectories)", unit="traj")
    finally:
        threads.restore()
    if done < 2:
        raise KeyboardInterrupt
    parameters = {"engine": "trajectories", "n_trajectories": int(done),
                  "n_trajectories_limit": n_traj,
                  "seed": int(opts.seed) if isinstance(opts.seed, numbers.Integral) else None,
                  "seed_entropy": ss.entropy, "seed_spawn_key": list(ss.spawn_key),
                  "first_child": int(ss.n_children_spawned), "first_trajectory": first,
                  "batch_size": int(batch), "n_groups": N_GROUPS,
                  "trajectory_method": f"{estimator} estimator, {stepper}"}
    joint_counts = None if joint is None else joint.reshape((n_saved,) + (m,) * n_sys)
    return statistics_from_counts(plan.times, counts, joint_counts, parameters, partial)


def statistics_from_counts(t: np.ndarray, counts: np.ndarray, joint_counts, parameters: dict,
                           partial: bool = False) -> HeatStatistics:
    """A Monte Carlo :class:`HeatStatistics` from its integer histograms.

    Parameters
    ----------
    t : ndarray, shape (n_t,)
    counts : ndarray of int64, shape (n_groups, n_t, n_q)
        Histograms of the total ``q`` on the grid ``-q_max .. q_max`` per group of
        trajectories.
    joint_counts : ndarray of int64 or None, shape (n_t, m, ..., m)
        Histogram of the subsystems' heats (independent reservoirs).
    """
    total = counts.sum(axis=0)
    n = int(total[0].sum())
    q_max = (counts.shape[2] - 1) // 2
    quanta = np.arange(-q_max, q_max + 1)
    p = total / n
    se_p = np.sqrt(p * (1 - p) / (n - 1))
    kappa = cumulants(quanta, p)
    # delete-one-group jackknife over the non-empty groups
    sizes = counts[:, 0].sum(axis=1)
    groups = np.flatnonzero(sizes > 0)
    g = groups.size
    if g >= 2:
        loo = np.array([cumulants(quanta, total - counts[i]) for i in groups])
        se_k = np.sqrt((g - 1) / g * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    else:
        se_k = np.full_like(kappa, np.nan)
    joint = se_j = local = None
    if joint_counts is not None:
        joint = joint_counts / n
        se_j = np.sqrt(joint * (1 - joint) / (n - 1))
        d1 = (joint_counts.shape[1] - 1) // 2
        local = np.arange(-d1, d1 + 1)
    return HeatStatistics(t, quanta, p, kappa, stderr=CountingErrors(se_p, se_k, se_j),
                          joint=joint, local_quanta=local, parameters=dict(parameters),
                          partial=partial, counts=counts)


def merge_statistics(first: HeatStatistics, second: HeatStatistics) -> HeatStatistics:
    """Add the histograms of two Monte Carlo runs over disjoint trajectory ranges of one
    seed (``TrajectoryOptions.first_trajectory``): exactly the result of one run over
    both (integer counts; the groups are fixed by the trajectory index).

    Raises
    ------
    ValueError
        If either result has no histograms (``counts``; they are kept in ``.npz`` files),
        the runs differ in anything that defines a run
        (:data:`collision.statistics.SAME_RUN`: the model, ``initial_state``, the time
        grid, the estimator, the seed; the message names every key that differs, with
        both values), or they share trajectories (a result merged with itself,
        overlapping ranges).
    """
    for res in (first, second):
        if res.counts is None:
            raise ValueError("merge_statistics needs Monte Carlo results that carry their "
                             "histograms (result.counts; saved in .npz files only)")
    check_same_run(first, second)
    ranges = check_disjoint(first, second)
    pa, pb = first.parameters, second.parameters
    joint = None
    if first.joint is not None:
        n_a, n_b = pa["n_trajectories"], pb["n_trajectories"]
        joint = np.rint(first.joint * n_a).astype(np.int64) + \
            np.rint(second.joint * n_b).astype(np.int64)
    params = {**pa, "n_trajectories": pa["n_trajectories"] + pb["n_trajectories"],
              "ranges": ranges, "first_trajectory": ranges[0][0]}
    return statistics_from_counts(first.t, first.counts + second.counts, joint, params,
                                  first.partial or second.partial)
