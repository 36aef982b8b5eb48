"""Monte Carlo trajectories of the collision model, with standard errors.

Each trajectory is a pure state of the systems, evolved step by step:

1. it starts in a pure state drawn from ``rho0 = sum_j p_j |psi_j><psi_j|`` (the
   eigendecomposition of ``rho0``, done inside each excitation-number block when ``rho0``
   has no coherence between different excitation numbers; a diagonal ``rho0`` gives Fock
   states).  A ``rho0`` given as a list of local states is sampled without its dense
   matrix: a product Fock state if every local state is Fock-diagonal, else a product of
   local eigenstates drawn subsystem by subsystem (:func:`sampled_ensemble`);
2. in every step a fresh ancilla arrives in Fock level ``k`` with its thermal
   probability, collides with S1, S2, ... (``cascade=True``; with ``cascade=False`` every
   subsystem gets its own ancilla), and is measured in its Fock basis on the way out:
   outcome ``l`` with the Born probability, followed by collapse and renormalisation.

Averaging ``|psi><psi|`` over trajectories reproduces the averaged collision map of the
``density`` engine exactly (the measurement is an unravelling of the partial trace), so
the trajectory mean of any linear functional of the state is an unbiased estimate of the
density engine's value.

Fluxes (units hbar omega gamma, ``J > 0`` = heat into the reservoir) are recorded at
every saved time as *exact conditional expectations given the trajectory's state*
``psi_k``, which removes all the noise of the step that follows:

* local flux of S_i: ``sum_n P_i(n | psi_k) o(n)`` (``o`` = ``CollisionPlan.local_flux``);
* own flux of S_i: ``<psi_k| H_i - Phi^dag(H_i) |psi_k> / dt``, i.e. the energy S_i hands
  to the ancilla in the next step averaged over the ancilla's incoming level and over the
  measurement outcome (``Phi^dag`` is the Heisenberg-picture averaged step, precomputed
  per excitation-number block).  Its mean over trajectories is
  ``(E_i(rho_k) - E_i(Phi(rho_k))) / dt``, the density engine's definition;
* correlated flux = own - local.  S1 and every subsystem with ``cascade=False`` meet a
  fresh ancilla, so their correlated flux is exactly 0.

Three estimators of the own flux (``estimator=``), all unbiased:

``"conditional"``
    The quadratic forms above, with the blocks of ``Phi^dag(H_i)`` built before the run.
    Building them costs ``n sum_N m_N^2 J_{N+k}`` complex multiply-adds (``m_N`` the
    size of excitation sector ``N``, ``J`` that of the joint systems + ancilla sector,
    summed over the occupied ancilla levels ``k``; :func:`_conditional_cost`), and every
    saved step costs ``(n - 1) m_N^2``: cheap for a few subsystems, ~6 s to build at 10
    qubits.
``"replay"``
    The same values computed on the fly: the measurement does not change the mean of
    ``H_i`` (it acts on the systems only), so the conditional own flux is
    ``(<psi_k|H_i|psi_k> - sum_k' p_k' <Psi_k'|H_i|Psi_k'>) / dt`` with ``Psi_k'`` the
    joint systems + ancilla state after the step's collisions (ancilla in with level
    ``k'``), before the measurement.  At a saved step the step is applied once for every
    occupied level ``k'`` other than the one drawn (which is reused), so it costs
    ``(occupied levels - 1) / save_every`` extra steps per step, plus the energies of
    every joint state, and no tables (measured at 10 qubits with a qubit bath: 40% more
    kernel time than ``"collision"`` at ``save_every = 10``, 30% at 4).  It draws the
    same random numbers as the others, so for the same seed and stepper its
    per-trajectory values equal those of ``"conditional"`` up to rounding.  Collision
    stepper only.
``"collision"``
    ``(<psi_k|H_i|psi_k> - <Psi_k|H_i|Psi_k>) / dt`` with ``k`` the level drawn: no extra
    cost, extra noise from the ancilla's incoming level at ``T > 0`` (at 10 qubits and
    ``T = 1`` the per-trajectory spread of the total flux is 2.6x that of the others, so
    it needs 7x more trajectories).  At ``T = 0`` it equals ``"replay"``.

``"auto"`` takes ``"replay"`` unless its overhead exceeds ``MAX_REPLAY_OVERHEAD`` extra
steps per step (many occupied ancilla levels with a small ``save_every``: then
``"collision"``), except that it takes ``"conditional"`` when its blocks have at most
``MAX_CONDITIONAL_ENTRIES`` entries, cost at most ``MAX_CONDITIONAL_COST`` to build and
(with the stage matrices) make a step cheaper than ``"replay"`` by a rough operation
count (:func:`_auto_estimator`): chains of up to 6 qubits (7 with ``save_every = 10``),
short oscillator chains.
Without a cascade the correlated fluxes are exactly 0 and every choice runs as
``"conditional"``.

A step is applied either with precomputed "stage matrices" (the step restricted to one
excitation sector and one pair of ancilla levels in and out; "conditional" estimator only)
or collision by collision on the systems + ancilla vector when those matrices would not
fit in memory or another estimator is used (:mod:`collision._kernels.trajectories`).
``result.parameters["trajectory_method"]`` records the estimator and the stepper used.

Randomness and reproducibility
------------------------------
Trajectory ``j`` uses its own SFC64 stream seeded from the ``j``-th child of
``numpy.random.SeedSequence(seed)`` (:mod:`collision._kernels.rng`).  It draws, in this
order: the initial state (one uniform number; for a list of local states with
coherences one per subsystem, S1 first), then in every step and for every stage the
incoming ancilla level and the measurement outcome (one number each).  Trajectories run in
batches, each one parallel region in which numba's threads take trajectories one at a
time from a shared counter (:mod:`collision._kernels.batch`); each writes its own row of
a batch buffer, and the rows are reduced leaf by leaf in trajectory order (a second
region), so a given ``(seed, n_trajectories)`` gives bit-identical results on any number
of threads, and a thread slowed down by other processes only does less of the work.

Statistics are streamed: per batch, the mean and sum of squared deviations of every
quantity at every saved time (accumulated about the running mean, so without
cancellation), merged into the running values (Chan, Golub & LeVeque).  Memory is bounded
by the batch size, never by ``n_trajectories``; the batch size depends on the problem
only, so results are reproducible on any machine.  ``result.stderr`` is a
:class:`lindblad.fluxes.FluxStandardErrors`: the standard errors of J2, J12 and the
total are those of the per-trajectory sums (covariances included).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numba
import numpy as np

from lindblad.fluxes import HeatFluxes

from ._kernels import batch as _kb
from ._kernels import rng as _rng
from ._kernels import trajectories as _k
from ._loop import AccuracyWarning, BatchStops, run_in_chunks, warn
from .montecarlo import (  # noqa: F401 (re-exported for the tests)
    DEFAULT_MAX_TRAJECTORIES,
    DEFAULT_N_TRAJECTORIES,
    _ThreadCount,
    check_n_trajectories,
    seed_prefix,
    seed_sequence,
)
from .resources import BATCH_BUFFER_BYTES, MIN_BATCH, check_output_memory
from .resources import FINAL_STATE_DIM as MAX_FINAL_STATE_DIM
from .statistics import (
    LEAF,
    Moments,
    TrajectoryStatistics,
    fluxes_from_moments,
)

#: Largest batch (trajectories run in parallel between two statistics updates).
MAX_BATCH = 1024
# MIN_BATCH (smallest batch unless fewer trajectories are asked for, = LEAF) and
# BATCH_BUFFER_BYTES (bound on the per-batch result buffer) come from collision.resources,
# which estimates the memory of a run from them.
#: Target amount of work per batch (complex multiply-adds, rough), so that a batch takes
#: about a second or less and the progress bar and Ctrl-C respond.
BATCH_WORK = 4e8
# MAX_FINAL_STATE_DIM (largest D for which the trajectory-averaged final state is
# returned): from collision.resources.
#: The conditional flux estimator is used when its operator blocks have at most this many
#: entries in total (16 bytes each) and building them costs at most
#: ``MAX_CONDITIONAL_COST`` complex multiply-adds (about a second).
MAX_CONDITIONAL_ENTRIES = 2**22
MAX_CONDITIONAL_COST = 5e8
#: Otherwise "auto" takes the replay estimator when it adds at most this many stage
#: applications per step (``(occupied ancilla levels - 1) / save_every``), else the
#: collision estimator.
MAX_REPLAY_OVERHEAD = 1.0
#: Measured cost of a multiply-add of the collision stepper (indirect addressing) relative
#: to one of the stage matrices (contiguous), for the cost model of :func:`_auto_estimator`.
COLLISION_MADD_COST = 1.5
ESTIMATORS = ("auto", "conditional", "replay", "collision")
#: The stage matrices are used when they have at most this many entries in total.
MAX_STAGE_MATRIX_ENTRIES = 2**22
STEPPERS = ("auto", "matrices", "collisions")


# --- validation -----------------------------------------------------------------------------

def check_target_stderr(target_stderr) -> float | None:
    """``None`` or a finite number > 0 (units hbar omega gamma)."""
    if target_stderr is None:
        return None
    try:
        value = float(target_stderr)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(target_stderr, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"target_stderr must be a finite number > 0 (a standard error of the "
                         f"total heat flux, units hbar omega gamma), got {target_stderr!r}")
    return value


def _grouped(keys: np.ndarray, n_groups: int, members: np.ndarray | None = None):
    """Indices grouped by key: ``(start, order)`` with group ``g`` =
    ``order[start[g]:start[g + 1]]``."""
    members = np.arange(keys.size) if members is None else members
    order = np.argsort(keys[members], kind="stable")
    start = np.searchsorted(keys[members][order], np.arange(n_groups + 1))
    return start.astype(np.int64), members[order].astype(np.int64)


def build_tables(model, plan, estimator: str = "auto", stepper: str = "auto"
                 ) -> tuple[_k.Tables, str, str]:
    """Kernel tables for one run (see :mod:`collision._kernels.trajectories`).

    Parameters
    ----------
    model, plan
        The model and its run plan.
    estimator : {"auto", "conditional", "replay", "collision"}
        Correlated-flux estimator (module docstring; "auto": :func:`_auto_estimator`).
        Without a cascade every estimator is "conditional" (the correlated fluxes are
        exactly 0).
    stepper : {"auto", "matrices", "collisions"}
        Stage implementation; "auto" takes "matrices" when they fit in
        ``MAX_STAGE_MATRIX_ENTRIES`` and the conditional estimator is used.

    Returns
    -------
    (tables, estimator, stepper)
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if stepper not in STEPPERS:
        raise ValueError(f"stepper must be one of {STEPPERS}, got {stepper!r}")
    n_sys, d, d_anc = model.n_systems, plan.d_sys, plan.d_anc
    fock = np.asarray(plan.fock, dtype=np.int64)
    exc = fock.sum(axis=1)
    n_max = n_sys * (d - 1)
    sector_start, sector_states = _grouped(exc, n_max + 1)
    sizes = np.diff(sector_start)
    r_max = (n_sys - 1) * (d - 1)
    others_start = np.zeros((n_sys, r_max + 2), dtype=np.int64)
    others_base = np.zeros((n_sys, fock.shape[0] // d), dtype=np.int64)
    for i in range(n_sys):
        others_start[i], others_base[i] = _grouped(exc, r_max + 1,
                                                   np.flatnonzero(fock[:, i] == 0))
    pop = np.asarray(plan.anc_pop, dtype=float)
    cdf = np.cumsum(pop) / pop.sum()
    cdf[np.flatnonzero(pop > 0)[-1]:] = 1.0

    # stage matrices <l|U_stage|k> from sector N to N + k - l
    n_stages = 1 if model.cascade else n_sys
    mat_start = np.full((n_stages, n_max + 1, d_anc, d_anc), -1, dtype=np.int64)
    n_mat = 0
    for stage in range(n_stages):
        for n in range(n_max + 1):
            for k in np.flatnonzero(pop > 0):
                for l_out in range(d_anc):
                    if 0 <= n + k - l_out <= n_max:
                        mat_start[stage, n, k, l_out] = n_mat
                        n_mat += sizes[n + k - l_out] * sizes[n]

    # conditional estimator: blocks of C_i (cascade only; without it C_i = 0)
    n_entries = int(np.sum(sizes**2))
    if not model.cascade:
        estimator = "conditional"
    elif estimator == "auto":
        estimator = _auto_estimator(sizes, pop, n_sys, int(np.max(plan.unitary.size)),
                                    plan.save_every, n_mat)
    conditional = estimator == "conditional"
    block_start = np.concatenate([[0], np.cumsum(sizes**2)]).astype(np.int64)

    if stepper == "auto":
        stepper = "matrices" if conditional and n_mat <= MAX_STAGE_MATRIX_ENTRIES \
            else "collisions"
    if stepper == "matrices" and not conditional:
        raise ValueError(f"stepper='matrices' needs the conditional flux estimator "
                         f"(estimator='conditional' or 'auto'), got estimator={estimator!r}")
    matrices = stepper == "matrices"

    bu = plan.unitary
    tables = _k.Tables(
        cascade=bool(model.cascade), conditional=conditional,
        replay=estimator == "replay", matrices=matrices,
        dt=float(plan.dt), d_anc=int(d_anc), n_max=int(n_max),
        sector_start=sector_start, sector_states=sector_states,
        level_of=np.ascontiguousarray(fock[sector_states]),
        energy=np.asarray(plan.levels, dtype=float),
        local_flux=np.asarray(plan.local_flux, dtype=float),
        energy_of=np.ascontiguousarray(np.asarray(plan.levels, dtype=float)[fock[sector_states]]),
        local_of=np.ascontiguousarray(
            np.asarray(plan.local_flux, dtype=float)[fock[sector_states]]),
        anc_cdf=cdf, anc_pop=pop,
        block_start=block_start, corr_blocks=np.zeros((n_sys, 0), dtype=np.complex128),
        mat_start=mat_start, mats=np.zeros(0, dtype=np.complex128),
        stride=(d ** (n_sys - 1 - np.arange(n_sys))).astype(np.int64),
        others_start=others_start, others_base=others_base,
        first=np.asarray(bu.first, dtype=np.int64), size=np.asarray(bu.size, dtype=np.int64),
        u=np.ascontiguousarray(bu.u, dtype=np.complex128))
    if conditional and model.cascade:
        blocks = np.zeros((n_sys, n_entries), dtype=np.complex128)
        _k.correlated_flux_blocks(tables, pop, blocks)
        tables = tables._replace(corr_blocks=blocks)
    if matrices:
        mats = np.zeros(n_mat, dtype=np.complex128)
        _k.stage_matrices(tables, pop, mat_start, mats)
        tables = tables._replace(mats=mats)
    return tables, estimator, stepper


def _auto_estimator(sizes: np.ndarray, pop: np.ndarray, n_sys: int, block: int,
                    save_every: int, n_mat: int) -> str:
    """The estimator of ``estimator="auto"`` for a cascade (module docstring).

    "conditional" needs its blocks to fit and to be cheap to build; then, if "replay"
    is allowed (``MAX_REPLAY_OVERHEAD``), the two are compared by a rough cost per step
    of a trajectory in the widest sector ``m`` (complex multiply-adds): the stage
    matrices ``m^2`` (or the collisions, if they do not fit) plus the quadratic forms
    ``(n - 1) m^2 / save_every``, against the collisions ``n d_anc m b + 3 d_anc m``
    (``b`` the largest block of the exchange unitary; the second term loads and measures
    the joint vector; weighted by ``COLLISION_MADD_COST``) times ``1 + 2 (occupied
    levels - 1) / save_every`` (a replayed step lands in a larger sector and its
    energies are computed).  Measured with a qubit bath at T = 1 (CPU time of 512
    trajectories, "conditional" / "replay"): ``save_every = 10``: 6 qubits 0.037 / 0.051
    s, 7 qubits 0.075 / 0.100 s, 8 qubits 0.37 / 0.10 s, 9 qubits 1.3 / 0.21 s;
    ``save_every = 1``: 5 qubits 0.054 / 0.082 s, 6 qubits 0.113 / 0.111 s, 7 qubits
    0.30 / 0.15 s; the rule picks the faster one in each case (either at 6 qubits,
    ``save_every = 1``).
    """
    d_anc = pop.size
    overhead = (np.count_nonzero(pop) - 1) / save_every
    fallback = "replay" if overhead <= MAX_REPLAY_OVERHEAD else "collision"
    fits = (n_sys - 1) * int(np.sum(sizes**2)) <= MAX_CONDITIONAL_ENTRIES
    if not fits or _conditional_cost(sizes, pop, n_sys) > MAX_CONDITIONAL_COST:
        return fallback
    if fallback == "collision":  # noisier: not a question of cost alone
        return "conditional"
    m = float(np.max(sizes))
    collisions = COLLISION_MADD_COST * (n_sys * d_anc * m * block + 3 * d_anc * m)
    step = m * m if n_mat <= MAX_STAGE_MATRIX_ENTRIES else collisions
    conditional = step + (n_sys - 1) * m * m / save_every
    return "conditional" if conditional <= collisions * (1 + 2 * overhead) else "replay"


def _conditional_cost(sizes: np.ndarray, pop: np.ndarray, n_sys: int) -> float:
    """Complex multiply-adds of :func:`correlated_flux_blocks`: ``n m_N^2 J_{N+k}`` summed
    over the sectors ``N`` and the occupied ancilla levels ``k``, with ``J_M`` the size of
    the joint (systems + ancilla) sector ``M``."""
    d_anc = pop.size
    padded = np.concatenate([np.zeros(d_anc - 1), sizes, np.zeros(d_anc)])
    joint = np.convolve(padded, np.ones(d_anc), mode="valid")  # joint[M] = sum_l m_{M-l}
    cost = 0.0
    for k in np.flatnonzero(pop > 0):
        cost += n_sys * float(np.sum(sizes.astype(float) ** 2 * joint[k:k + sizes.size]))
    return cost


def initial_ensemble(rho0: np.ndarray, tables: _k.Tables) -> _k.InitialEnsemble:
    """Pure states and weights ``rho0 = sum_j p_j |psi_j><psi_j|`` to sample from.

    If ``rho0`` has no coherence between different total excitation numbers, it is
    decomposed block by block, so that every ``psi_j`` has a definite excitation number
    (the kernels then touch one sector per trajectory); diagonal blocks give Fock states.
    Otherwise the eigenvectors of the whole matrix are used.

    Raises
    ------
    ValueError
        If ``rho0`` has no positive eigenvalue (it cannot be normalised to a state).
    """
    rho0 = np.asarray(rho0, dtype=np.complex128)
    start = tables.sector_start
    order = tables.sector_states  # basis index of every storage position
    n_sectors = start.size - 1
    exc = np.empty(order.size, dtype=np.int64)  # excitation number of every basis state
    exc[order] = np.repeat(np.arange(n_sectors), np.diff(start))
    ket, bra = np.nonzero(rho0)
    weights, vectors, lo, hi = [], [], [], []  # vectors: (positions, amplitudes)
    if np.all(exc[ket] == exc[bra]):
        for n in range(n_sectors):
            pos = np.arange(start[n], start[n + 1])
            block = rho0[np.ix_(order[pos], order[pos])]
            if not np.any(block - np.diag(np.diag(block))):  # Fock states
                pops = np.diag(block).real
                for a in np.flatnonzero(pops > 0):
                    weights.append(pops[a])
                    vectors.append((pos[a:a + 1], np.ones(1, dtype=np.complex128)))
                    lo.append(n)
                    hi.append(n)
                continue
            evals, evecs = np.linalg.eigh(block)
            for j in np.flatnonzero(evals > 0):
                weights.append(evals[j])
                vectors.append((pos, evecs[:, j]))
                lo.append(n)
                hi.append(n)
    else:
        evals, evecs = np.linalg.eigh(rho0[np.ix_(order, order)])
        sector_of = exc[order]
        for j in np.flatnonzero(evals > 0):
            nz = np.flatnonzero(evecs[:, j])
            weights.append(evals[j])
            vectors.append((nz, evecs[nz, j]))
            lo.append(int(sector_of[nz].min()))
            hi.append(int(sector_of[nz].max()))
    total = float(np.sum(weights)) if weights else 0.0
    if not total > 0 or not math.isfinite(total):
        raise ValueError("rho0 has no positive eigenvalue, so no pure states can be sampled "
                         "from it: it must be a normalisable density matrix (Hermitian, "
                         "positive semidefinite, trace 1)")
    cdf = np.cumsum(np.asarray(weights) / total)
    cdf[-1] = 1.0
    offsets = np.concatenate([[0], np.cumsum([v[0].size for v in vectors])]).astype(np.int64)
    return _k.InitialEnsemble(
        cdf=cdf, start=offsets,
        pos=np.concatenate([v[0] for v in vectors]).astype(np.int64),
        amp=np.concatenate([v[1] for v in vectors]).astype(np.complex128),
        lo=np.asarray(lo, dtype=np.int64), hi=np.asarray(hi, dtype=np.int64))


def sampled_ensemble(state, tables: _k.Tables) -> _k.InitialEnsemble:
    """The ensemble of an initial state given without a dense matrix
    (:mod:`collision.initial`).  Nothing larger than ``D`` is built.

    * A state vector is its own single member.
    * A product of Fock-diagonal local states is the ensemble of product Fock states,
      weighted by the products of the local populations (one draw per trajectory).
    * A product of local states of which at least one has coherences is sampled
      subsystem by subsystem (:func:`collision._kernels.trajectories.draw_product_state`):
      ``rho_i = sum_j p_ij |phi_ij><phi_ij|`` (:func:`local_ensemble`, ``O(n d^3)``), one
      draw of ``j_i`` per subsystem, and the product of the ``phi_ij_i`` is built in the
      trajectory's state (``O(D)``).  This is the exact ensemble of ``rho0``, for every
      ``D``, and never needs the ``(D, D)`` matrix or its ``O(D^3)`` eigendecomposition;
      it is used for every chain length, so that a list means the same ensemble at 2 and
      at 20 subsystems.  The same list given as a dense matrix is decomposed by
      :func:`initial_ensemble` into other pure states (and draws one number instead of
      ``n``), so the two agree statistically, not trajectory by trajectory.
    """
    order = tables.sector_states
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    start = tables.sector_start
    sector_of = np.repeat(np.arange(start.size - 1), np.diff(start))  # by storage position
    if state.kind == "vector":
        nz = np.flatnonzero(state.vector)
        pos = position[nz]
        sectors = sector_of[pos]
        return _k.InitialEnsemble(
            cdf=np.ones(1), start=np.array([0, nz.size], dtype=np.int64),
            pos=pos.astype(np.int64), amp=state.vector[nz].astype(np.complex128),
            lo=np.array([sectors.min()], dtype=np.int64),
            hi=np.array([sectors.max()], dtype=np.int64))
    if not state.fock_diagonal:
        return _product_ensemble(state.local, position)
    pops = state.populations()
    index = np.flatnonzero(pops > 0)
    cdf = np.cumsum(pops[index] / pops[index].sum())
    cdf[-1] = 1.0
    pos = position[index]
    return _k.InitialEnsemble(cdf=cdf, start=np.arange(index.size + 1, dtype=np.int64),
                              pos=pos, amp=np.ones(index.size, dtype=np.complex128),
                              lo=sector_of[pos].astype(np.int64),
                              hi=sector_of[pos].astype(np.int64))


def local_ensemble(rho: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Pure states and weights of one local density matrix, ``rho = sum_j p_j
    |phi_j><phi_j|``, each ``phi_j`` supported on as few Fock levels as possible.

    The levels are split into the groups connected by nonzero coherences (a level
    without any is its own group, and its ``phi_j`` is that Fock state, with its
    population as weight, exactly); ``rho`` is diagonalised group by group
    (``numpy.linalg.eigh``).  States of weight ``<= 0`` are dropped.

    Returns
    -------
    (weights, vectors)
        ``weights`` (m,) > 0, not normalised; ``vectors[j]`` (d,) the amplitudes of
        ``phi_j`` (exactly zero outside its group).
    """
    d = rho.shape[0]
    group = np.arange(d)  # one label per group of connected levels (merged by relabelling)
    coherent = (np.triu(rho, 1) != 0) | (np.tril(rho, -1).T != 0)
    for a, b in zip(*np.nonzero(coherent), strict=True):
        group[group == group[b]] = group[a]
    weights, vectors = [], []
    for g in np.unique(group):
        levels = np.flatnonzero(group == g)
        if levels.size == 1:
            evals = np.real(rho[levels, levels])
            evecs = np.ones((1, 1), dtype=complex)
        else:
            evals, evecs = np.linalg.eigh(rho[np.ix_(levels, levels)])
        for j in np.flatnonzero(evals > 0):
            vec = np.zeros(d, dtype=complex)
            vec[levels] = evecs[:, j]
            weights.append(float(evals[j]))
            vectors.append(vec)
    return np.array(weights), vectors


def _product_ensemble(local, position: np.ndarray) -> _k.InitialEnsemble:
    """The product form of :class:`InitialEnsemble` for the local states ``local``."""
    n, d = len(local), local[0].shape[0]
    cdf = np.ones((n, d))
    count = np.ones((n, d), dtype=np.int64)  # unused slots: one amplitude 0 at level 0
    level = np.zeros((n, d, d), dtype=np.int64)
    amp = np.zeros((n, d, d), dtype=np.complex128)
    for i, rho in enumerate(local):
        weights, vectors = local_ensemble(np.asarray(rho, dtype=complex))
        cdf[i, :weights.size] = np.cumsum(weights / weights.sum())
        cdf[i, weights.size - 1:] = 1.0
        for j, vec in enumerate(vectors):
            nz = np.flatnonzero(vec)
            count[i, j] = nz.size
            level[i, j, :nz.size] = nz
            amp[i, j, :nz.size] = vec[nz]
    empty = np.zeros(0, dtype=np.int64)
    return _k.InitialEnsemble(cdf=np.ones(0), start=empty, pos=empty,
                              amp=np.zeros(0, dtype=np.complex128), lo=empty, hi=empty,
                              local_cdf=cdf, local_count=count, local_level=level,
                              local_amp=amp, position=position)


def batch_size(tables: _k.Tables, n_saved: int, n_steps: int, n_trajectories: int,
               init: _k.InitialEnsemble | None = None) -> int:
    """Trajectories per batch: a power of two <= ``MAX_BATCH`` bounded by the result
    buffer size and by a rough work estimate.  Depends on the problem only (never on the
    machine), so that results are reproducible everywhere.

    The work of a step grows with the storage positions a trajectory's excitation window
    spans: the widest sector, or (``init`` in product form) the widest window a drawn
    product state can span, if wider."""
    n_sys = tables.level_of.shape[1]
    row_bytes = 2 * n_sys * n_saved * 8
    widest = int(np.max(np.diff(tables.sector_start)))
    span = widest if init is None else max(widest, _widest_window(init, tables))
    if tables.matrices:
        work = n_steps * n_sys * widest * span
    else:
        work = n_steps * n_sys * span * tables.u.shape[1] * tables.d_anc**2
    b = min(MAX_BATCH, BATCH_BUFFER_BYTES // row_bytes, int(BATCH_WORK // max(work, 1)))
    b = 2 ** int(math.log2(max(b, MIN_BATCH)))
    return int(min(b, n_trajectories))


def _widest_window(init: _k.InitialEnsemble, tables: _k.Tables) -> int:
    """Storage positions of the widest excitation window a product-form ``init`` can
    start in (the lowest lowest and highest highest level of each subsystem's states);
    0 for the list form."""
    if init.local_cdf.shape[0] == 0:
        return 0
    low = high = 0
    for i in range(init.local_cdf.shape[0]):
        used = np.arange(int(np.argmax(init.local_cdf[i] >= 1.0)) + 1)  # drawable states
        count = init.local_count[i, used]
        low += int(np.min(init.local_level[i, used, 0]))
        high += int(np.max(init.local_level[i, used, count - 1]))
    return int(tables.sector_start[high + 1] - tables.sector_start[low])


def saved_time_bytes(n_systems: int, batch: int) -> int:
    """Bytes per saved time of a batch buffer of ``batch`` trajectories and of the
    running statistics (mean and m2, twice while merging, and the standard errors), and
    of the batch's leaf statistics (mean and m2 per leaf of ``LEAF`` trajectories)."""
    leaves = -(-batch // LEAF)
    return 8 * (2 * n_systems * batch + (6 + 2 * leaves) * (3 * n_systems + 3))


def smallest_batch(n_trajectories) -> int:
    """The batch of a run with many saved times, ``min(MIN_BATCH, n_trajectories)`` (an
    invalid ``n_trajectories`` counts as ``MIN_BATCH``; it is rejected later): larger
    batches are used only while their buffer fits in ``BATCH_BUFFER_BYTES``."""
    if isinstance(n_trajectories, numbers.Integral) and not isinstance(n_trajectories, bool) \
            and n_trajectories >= 1:
        return min(MIN_BATCH, int(n_trajectories))
    return MIN_BATCH


#: The ``quanta`` argument of the kernel when the heat is not counted.
NO_QUANTA = np.zeros((0, 0, 0), dtype=np.int64)


def _run_batch(states, tables, init, n_steps, save_every, rows, final_psi) -> None:
    """Run one batch of trajectories (a seam for tests that simulate an interrupt)."""
    _kb.run_batch(states, tables, init, n_steps, save_every, rows, final_psi, NO_QUANTA,
                  numba.get_num_threads())


# --- driver -------------------------------------------------------------------------------

def run_trajectories(model, plan, n_trajectories: int | None = None, seed=None,
                     progress: bool = False, target_stderr: float | None = None, *,
                     estimator: str = "auto", stepper: str = "auto",
                     first_trajectory: int = 0, n_threads: int | None = None,
                     final_state: bool = True, real_time=None) -> HeatFluxes:
    """Monte Carlo estimate of the collision model's heat fluxes, with standard errors.

    Parameters
    ----------
    model : CascadeCollisionModel
    plan : CollisionPlan
        From ``model.plan(rho0, t_max, dt, save_every)``.
    n_trajectories : int, optional
        Number of trajectories (>= 2); with ``target_stderr`` the upper limit.
        Default 1000, or 100,000 as a limit when only ``target_stderr`` is given.
    seed : None, int >= 0 or numpy.random.SeedSequence
        Root of the random streams: trajectory ``j`` uses child ``j`` of
        ``SeedSequence(seed)``.  None draws fresh entropy (recorded in
        ``parameters["seed_entropy"]`` so the run can be repeated).
    progress : bool
        Show a tqdm progress bar (updated after every batch).
    target_stderr : float, optional
        Stop after the first batch at which the largest standard error of the total
        flux over the saved times is <= this value (units hbar omega gamma).
    estimator : {"auto", "conditional", "replay", "collision"}
        Correlated-flux estimator (module docstring).  "conditional" and "replay" give
        the same values for the same seed; "auto" takes "conditional" unless its
        operator blocks are too large or too costly to build, then "replay" (unless the
        ancilla has many occupied levels and ``save_every`` is small), else
        "collision".
    stepper : {"auto", "matrices", "collisions"}
        How a step is applied to a state vector (:mod:`collision._kernels.trajectories`);
        "auto" uses the precomputed stage matrices unless they are too large.  Both give
        the same statistics; the choice only affects speed and memory.
    first_trajectory : int
        Index of the first trajectory (a multiple of ``collision.statistics.LEAF``):
        the run uses the streams ``first_trajectory, first_trajectory + 1, ...``, and
        ``result.statistics`` merges exactly with runs over other ranges of the seed.
    n_threads : int, optional
        numba threads for this run (restored afterwards); results do not depend on it.
    final_state : bool
        Keep the trajectory-averaged final state (``D <= 1024``); False skips it.
    real_time : (times, row_map), optional
        Used by delayed cascades (:mod:`collision.delay`): the statistics are those of
        ``row_map(rows)``, the trajectories' fluxes at the real ``times``, built from
        their fluxes at the plan's (process) times.

    Returns
    -------
    HeatFluxes
        Trajectory means at ``plan.times``; ``stderr`` is a :class:`FluxStandardErrors`.
        ``final_state`` is the trajectory average of ``|psi><psi|`` at the last saved time
        (lab frame; only for ``D <= 1024`` and ``final_state=True``, else None).
        ``parameters`` records ``n_trajectories`` (actually used), the seed, the batch
        size and the estimator;
        for oscillators also the largest top-level population and mean occupation of
        each subsystem in ``rho0`` and the final state (the kernels keep no other
        states; the pre-run checks of ``model.plan`` cover the reservoir's thermal
        state).
        If the run is interrupted with Ctrl-C after at least one batch, the statistics
        of the finished batches are returned with ``partial = True`` (a batch runs in
        compiled code and is sized to take about a second or less; the interrupt takes
        effect when it returns, and that batch is dropped).

    Raises
    ------
    ValueError
        For ``n_trajectories`` not an integer >= 2, a ``seed`` that is not None, an
        integer >= 0 or a ``SeedSequence``, ``target_stderr`` not a finite number > 0,
        an unknown ``estimator`` / ``stepper``, a ``plan.rho0`` without positive
        eigenvalues, or a batch buffer that would not fit in memory (the message
        suggests ``save_every``).

    Warns
    -----
    AccuracyWarning
        If ``target_stderr`` is given but not reached (with an estimate of the
        trajectories needed).
    """
    if plan.basis is not None:  # trajectories need no restricted basis: sectors suffice
        plan = dataclasses.replace(plan, rho0=plan.initial.matrix, basis=None)
    if any(plan.offsets):
        raise ValueError("a plan with delays runs through the delay layer: "
                         "collision.drivers.run_trajectories (or model.run)")
    target = check_target_stderr(target_stderr)
    n_max_traj = check_n_trajectories(n_trajectories, target)
    first = int(first_trajectory)
    if first < 0 or first % LEAF:
        raise ValueError(f"first_trajectory must be a multiple of {LEAF} that is >= 0, "
                         f"got {first_trajectory!r}")
    ss = seed_sequence(seed)
    tables, estimator, stepper = build_tables(model, plan, estimator, stepper)
    init = initial_ensemble(plan.rho0, tables) if plan.rho0 is not None \
        else sampled_ensemble(plan.initial, tables)

    n_sys = model.n_systems
    n_saved = plan.times.size
    dim = tables.level_of.shape[0]
    batch = batch_size(tables, n_saved, plan.n_steps, n_max_traj, init)
    check_output_memory(plan.n_steps - 1, plan.save_every, saved_time_bytes(n_sys, batch),
                        what=f"the trajectory batch buffer ({batch} trajectories) and "
                             "the statistics")
    prefix = seed_prefix(ss)
    first_child = int(ss.n_children_spawned) + first
    states = np.zeros((batch, _rng.SFC64_WORDS), dtype=np.uint64)
    rows = np.zeros((batch, n_saved, 2, n_sys))
    keep_final = final_state and dim <= MAX_FINAL_STATE_DIM
    final_psi = np.zeros((batch, dim if keep_final else 0), dtype=np.complex128)
    n_q = 3 * n_sys + 3
    times, row_map = real_time if real_time is not None else (plan.times, None)
    run = _BatchRun(first, keep_final, dim, np.zeros((n_q, times.size)))

    def advance(start: int, stop: int) -> None:
        b = stop - start
        _rng.seed_children(prefix, ss.pool_size, first_child + start, states[:b])
        _run_batch(states[:b], tables, init, plan.n_steps, plan.save_every, rows,
                   final_psi[:b])
        run.add_batch(start, b, rows if row_map is None else row_map(rows[:b]), final_psi)

    def target_reached(_: int) -> bool:
        return target is not None and run.worst_stderr() <= target

    def postfix() -> dict:
        return {"max_stderr": f"{run.worst_stderr():.2e}", "target": f"{target:.1e}"}

    threads = _ThreadCount(n_threads)
    try:
        done, partial = run_in_chunks(
            advance, BatchStops(batch, n_max_traj),
            lambda: run.stats.count, progress=progress, desc="trajectories", unit="traj",
            after_chunk=target_reached, postfix=postfix if target is not None else None)
    finally:
        threads.restore()
    if done < 2:  # interrupted before a standard error exists
        raise KeyboardInterrupt
    stats = run.stats
    if target is not None:
        _check_target_reached(stats.total(), target, n_max_traj, partial)
    return _result(model, plan, stats, f"{estimator} estimator, {stepper}", ss, seed, target,
                   n_max_traj, batch, partial, first, times)


class _BatchRun:
    """The statistics of a run, grown batch by batch (replaced whole after every batch,
    so an interrupt never leaves them half-updated)."""

    def __init__(self, first: int, keep_final: bool, dim: int, zeros: np.ndarray):
        self.first, self.keep_final, self.dim, self.zeros = first, keep_final, dim, zeros
        self.stats = TrajectoryStatistics()

    def add_batch(self, start: int, b: int, rows: np.ndarray, final_psi: np.ndarray) -> None:
        """Add trajectories ``start .. start + b - 1`` of the run, leaf by leaf (the
        leaves' moments in one parallel call, :func:`collision._kernels.batch.merge_leaves`)."""
        n_leaves = -(-b // LEAF)
        mean = np.empty((n_leaves,) + self.zeros.shape)
        m2 = np.empty_like(mean)
        _kb.merge_leaves(rows, b, LEAF, self.zeros, mean, m2, numba.get_num_threads())
        new = TrajectoryStatistics(dict(self.stats.nodes))
        for j, lo in enumerate(range(0, b, LEAF)):
            m = min(LEAF, b - lo)
            rho = np.zeros((self.dim, self.dim) if self.keep_final else (0, 0),
                           dtype=np.complex128)
            if self.keep_final:
                _kb.add_outer_products(final_psi[lo:lo + m], m, rho)
            new.add_leaf((self.first + start + lo) // LEAF, Moments(m, mean[j], m2[j], rho))
        self.stats = new

    def worst_stderr(self) -> float:
        """The largest standard error of the total flux over the saved times."""
        return float(np.max(self.stats.total().stderr[-1]))


def _check_target_reached(total: Moments, target: float, n_max_traj: int,
                          partial: bool) -> None:
    """Warn if the largest standard error of the total flux is still above ``target``."""
    worst = float(np.max(total.stderr[-1]))
    if worst <= target:
        return
    count = total.count
    why = "the run was interrupted" if partial else \
        f"n_trajectories = {n_max_traj} is the limit"
    warn(f"target_stderr = {target:.3g} was not reached: after {count} trajectories "
         f"({why}) the largest standard error of the total flux is {worst:.3g}; since it "
         f"falls as 1/sqrt(n), about {math.ceil(count * (worst / target) ** 2)} "
         "trajectories are needed", AccuracyWarning)


def _result(model, plan, stats: TrajectoryStatistics, method, ss, seed, target, n_max_traj,
            batch, partial, first, t) -> HeatFluxes:
    total = stats.total()
    count, rho_sum = total.count, total.rho_sum
    result = fluxes_from_moments(total, t)
    final_state = None
    monitor = model.top_level_monitor(plan.fock)
    if monitor is not None:
        monitor.add(plan.initial.populations() if plan.initial is not None
                    else np.real(np.diagonal(plan.rho0)))
    if rho_sum.size:
        final_state = model.to_lab_frame(rho_sum / count, float(t[-1]))
        if monitor is not None:
            monitor.add(np.diagonal(final_state))
    parameters = {
        "n_trajectories": int(count),
        "n_trajectories_limit": int(n_max_traj),
        "seed": int(seed) if isinstance(seed, numbers.Integral) else None,
        "seed_entropy": ss.entropy,
        "seed_spawn_key": list(ss.spawn_key),
        "first_child": int(ss.n_children_spawned),
        "rng": "SFC64 per trajectory, seeded by numpy SeedSequence(seed).spawn",
        "target_stderr": target,
        "first_trajectory": first,
        "batch_size": int(batch),
        "trajectory_method": method,
        "frame": "lab",
        **(monitor.parameters if monitor is not None else {}),
    }
    result.parameters, result.partial, result.final_state = parameters, partial, final_state
    result.statistics = stats
    return result
