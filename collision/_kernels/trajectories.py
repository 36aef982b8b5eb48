"""Numba kernels of the Monte Carlo trajectory engine.

Pure functions of arrays and scalars; results go into caller-allocated arrays.  The
driver :mod:`collision.trajectories` builds the tables described here.

Excitation sectors
------------------
Every collision conserves the total number of excitations, so measuring the outgoing
ancilla (that came in with ``k`` quanta and leaves with ``l``) moves the systems from
excitation number ``N`` to ``N + k - l``.  A trajectory therefore only ever occupies the
sectors in a window ``lo <= N <= hi`` that moves rigidly by ``k - l`` per ancilla
(``lo = hi`` when it starts with a definite excitation number, as sampling a diagonal
``rho0`` does; a product of local states with coherences starts in the window from its
least to its most excited basis state, :func:`draw_product_state`), and every loop runs
over that window only.

The systems' state ``psi`` is stored *sector by sector*: position ``q`` holds the basis
state ``sector_states[q]`` (the joint Fock basis, S1 most significant), and sector ``N``
occupies positions ``sector_start[N] <= q < sector_start[N + 1]``.  Each trajectory keeps
two such vectors, ``buf[c]`` (current) and ``buf[1 - c]`` (next).

A step is one *stage* per ancilla: with ``cascade=True`` one ancilla meets S1, S2, ...,
Sn (one stage); with ``cascade=False`` subsystem ``i`` meets its own ancilla (stage ``i``).
Two interchangeable implementations of a stage:

* **stage matrices** (``Tables.matrices``): for every stage, sector ``N``, incoming level
  ``k`` and outgoing level ``l``, the precomputed block ``A = <l| U_stage |k>`` from sector
  ``N`` to sector ``N + k - l`` (dense, row-major, at ``mats[mat_start[stage, N, k, l]]``).
  The outcome ``l`` is drawn by trying ``l = k`` (the likely "nothing exchanged", with
  probability ``1 - O(dt)``) first, so a typical step costs one small matvec.
* **collisions** (memory-light fallback for large sectors): ``psi (x) |k>`` is built in
  the joint systems + ancilla vector ``joint[idx * d_anc + l]`` (basis index ``idx``) and
  every collision is applied block by block with the :class:`BlockUnitary` arrays: for
  subsystem ``i``, fixed other subsystems (``others_base``) and joint excitations ``M``,
  block ``s = M - r`` (``r`` = the others' excitations) mixes the amplitudes of
  ``|n_i = first[s] + j, ancilla s - first[s] - j>``, a small dense matvec.  Then the
  ancilla is measured with the Born rule.  The stage matrices are built with this code.

Flux estimators
---------------
At a saved step the fluxes are exact conditional expectations given ``psi``:

* local flux of ``S_i``: ``sum_q |psi_q|^2 o(n_i(q))`` with ``o`` = ``local_flux``;
* correlated flux (``Tables.conditional``): ``<psi| C_i |psi>`` with the precomputed
  sector blocks of ``C_i = (H_i - Phi^dag(H_i)) / dt - diag(o(n_i))``, ``Phi`` the averaged
  step;
* correlated flux otherwise: ``(<psi|H_i|psi> - <Psi'|H_i|Psi'>) / dt - local_i`` with
  ``Psi'`` the joint state after the step's collisions and before the measurement, for
  the ancilla level drawn or (``Tables.replay``) averaged over every occupied incoming
  level with its probability (the other levels are run first on ``joint`` and cleared,
  the drawn one last, so the random numbers drawn are the same).

Performance notes
-----------------
Handing an array (or a tuple of arrays, or a view) to a function costs numba an atomic
reference-count update per array, at a qubit step's scale more than the physics, and
with two threads these updates contend.  So the hot path of :func:`run_trajectory`
(flux recording and the stage matrices) is written out in that one function, with the
tables unpacked into local variables once per trajectory and the generator state kept in
four scalars; only the memory-light collision path calls (inlined) helpers.  Batch
outputs are trajectory-major so that threads never write to the same cache lines.
Measured on the 2-qubit problem of DESIGN.md section 6 this gives ~3e7 collisions/s per
core for the kernel alone, ~2.3e7 end to end.

In the collision path, :func:`collide` skips the 1 x 1 blocks that are exactly 1 (``|0, 0>``
and, for qubits, ``|1, 1>``: half of a qubit chain's joint amplitudes) and writes the 2 x 2
blocks out.  At 10 qubits this took a collision from 6-9 ns to 1.3-2 ns per joint
amplitude of the sector (kernel alone; sectors of 11 to 462 joint amplitudes) and a whole
run from 0.57 s to 0.35 s of CPU for 512 trajectories (2.9e6 collisions/s), with
bit-identical results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import njit
from .rng import sfc64_step, to_unit


class Tables(NamedTuple):
    """Everything a trajectory needs, as arrays and scalars (see the module docstring).

    Attributes
    ----------
    cascade : bool
        One ancilla per step meeting S1, S2, ... (True) or one per subsystem (False).
    conditional : bool
        Correlated flux from the ``corr_blocks`` quadratic forms (True) or from the
        energies of the pre-measurement joint state (False; collisions only).
    replay : bool
        With ``conditional`` False: average those energies over every incoming ancilla
        level at the saved steps (the "replay" estimator; collisions only).
    matrices : bool
        Run the stages with the precomputed stage matrices (True) or collision by
        collision (False).
    dt : float
        Time step (1/gamma).
    d_anc : int
        Ancilla dimension.
    n_max : int
        Largest system excitation number ``n (d - 1)``.
    sector_start : int64 (n_max + 2,), sector_states : int64 (D,)
        Storage order of ``psi``: position ``q`` holds basis state ``sector_states[q]``.
    level_of : int64 (D, n)
        Fock level of every subsystem at every position ``q``.
    energy, local_flux : float64 (d,)
        Level energies ``e_n`` and local fluxes ``o(n)`` of one subsystem.
    energy_of, local_of : float64 (D, n)
        ``e`` and ``o`` of every subsystem's level at every position ``q``.
    anc_cdf : float64 (d_anc,)
        Cumulative populations of the incoming ancilla (last positive entry set to 1).
    anc_pop : float64 (d_anc,)
        The populations themselves (weights of the replay estimator).
    block_start : int64 (n_max + 2,), corr_blocks : complex128 (n, n_entries)
        Row-major sector blocks of ``C_i`` (block ``N`` at ``block_start[N]``, size
        ``m_N^2``); shape ``(n, 0)`` when unused.
    mat_start : int64 (n_stages, n_max + 1, d_anc, d_anc), mats : complex128 (n_mat,)
        Offsets of the stage matrices (-1: absent) and their entries.
    stride : int64 (n,)
        ``d^(n - 1 - i)``: index step of subsystem ``i`` in the basis.
    others_start : int64 (n, r_max + 2), others_base : int64 (n, D / d)
        Basis indices with ``n_i = 0``, grouped by the other subsystems' excitations.
    first, size : int64 (n_blocks,), u : complex128 (n_blocks, m, m)
        The exchange unitary block by block (:class:`collision.unitaries.BlockUnitary`).
    """

    cascade: bool
    conditional: bool
    replay: bool
    matrices: bool
    dt: float
    d_anc: int
    n_max: int
    sector_start: np.ndarray
    sector_states: np.ndarray
    level_of: np.ndarray
    energy: np.ndarray
    local_flux: np.ndarray
    energy_of: np.ndarray
    local_of: np.ndarray
    anc_cdf: np.ndarray
    anc_pop: np.ndarray
    block_start: np.ndarray
    corr_blocks: np.ndarray
    mat_start: np.ndarray
    mats: np.ndarray
    stride: np.ndarray
    others_start: np.ndarray
    others_base: np.ndarray
    first: np.ndarray
    size: np.ndarray
    u: np.ndarray


class InitialEnsemble(NamedTuple):
    """The pure states a trajectory starts from, in one of two forms.

    **A list of states** (``local_cdf`` empty): ``psi_j`` with probability ``p_j``,
    ``rho0 = sum p_j |psi_j><psi_j|``.  ``psi_j`` has amplitude ``amp[q]`` at storage
    position ``pos[q]`` for ``start[j] <= q < start[j + 1]``; its excitation numbers lie
    in ``lo[j] .. hi[j]``; ``cdf`` is the cumulative of ``p_j``.  One uniform number
    draws ``j`` (:func:`run_trajectory`).

    **A product of local ensembles** (``local_cdf`` of shape ``(n, d)``): ``rho0 =
    rho_1 x ... x rho_n`` with ``rho_i = sum_j p_ij |phi_ij><phi_ij|``; the list fields
    are empty and :func:`draw_product_state` builds ``phi_1j_1 x ... x phi_nj_n``.

    Attributes (product form)
    -------------------------
    local_cdf : float64 (n, d)
        Cumulative of ``p_ij`` over ``j`` (1 from the last positive weight on).
    local_count : int64 (n, d)
        Number of nonzero Fock amplitudes of ``phi_ij``.
    local_level, local_amp : int64 (n, d, d), complex128 (n, d, d)
        Their Fock levels (ascending) and amplitudes, in ``[i, j, :local_count[i, j]]``.
    position : int64 (D,)
        Storage position of every basis state (Kronecker index); the inverse of
        ``Tables.sector_states``.
    """

    cdf: np.ndarray
    start: np.ndarray
    pos: np.ndarray
    amp: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    local_cdf: np.ndarray = np.zeros((0, 0))
    local_count: np.ndarray = np.zeros((0, 0), dtype=np.int64)
    local_level: np.ndarray = np.zeros((0, 0, 0), dtype=np.int64)
    local_amp: np.ndarray = np.zeros((0, 0, 0), dtype=np.complex128)
    position: np.ndarray = np.zeros(0, dtype=np.int64)


# --- small building blocks ------------------------------------------------------------

@njit(inline="always")
def clip_window(n_lo, n_hi, n_max):
    """The sectors ``n_lo .. n_hi`` clipped to ``0 .. n_max`` (empty if ``lo > hi``)."""
    return max(n_lo, 0), min(n_hi, n_max)


@njit(inline="always")
def window_positions(sector_start, n_lo, n_hi, n_max):
    """Storage positions ``(q_start, q_stop)`` of the sectors ``n_lo .. n_hi``, clipped to
    the existing sectors (``(0, 0)`` if none)."""
    n_lo, n_hi = clip_window(n_lo, n_hi, n_max)
    if n_lo > n_hi:
        return 0, 0
    return sector_start[n_lo], sector_start[n_hi + 1]


@njit
def max_sector_size(sector_start):
    """Largest number of basis states sharing one excitation number."""
    best = 0
    for n in range(sector_start.size - 1):
        best = max(best, sector_start[n + 1] - sector_start[n])
    return best


# --- collision by collision ------------------------------------------------------------------

@njit(inline="always")
def collide(joint, i, m_lo, m_hi, d_anc, stride, others_start, others_base, first, size, u,
            tmp):
    """Apply the exchange unitary of subsystem ``i`` and the ancilla to ``joint``.

    Parameters
    ----------
    joint : complex128 (D * d_anc,)
        Systems + ancilla, ``joint[idx * d_anc + l]``; only the joint excitation sectors
        ``m_lo <= M <= m_hi`` are touched (all others must be empty).
    i : int
        The colliding subsystem.
    d_anc : int
        Ancilla dimension.
    stride : int
        ``d^(n - 1 - i)``.
    others_start, others_base : int64 arrays
        ``Tables.others_start`` and ``Tables.others_base`` (row ``i`` is used).
    first, size, u : the blocks of the exchange unitary.
    tmp : complex128 (>= largest block)
        Scratch space.
    """
    s_max = first.size - 1
    r_top = others_start.shape[1] - 2
    step = stride * d_anc - 1  # address change for n_i -> n_i + 1, ancilla l -> l - 1
    for m in range(m_lo, m_hi + 1):
        for r in range(max(0, m - s_max), min(r_top, m) + 1):
            s = m - r
            f = first[s]
            n_b = size[s]
            p_start = others_start[i, r]
            p_stop = others_start[i, r + 1]
            offset = f * stride
            if n_b == 1:  # a phase; exactly 1 for |0, 0> and qubits' |1, 1>: skipped
                phase = u[s, 0, 0]
                if phase != 1.0:
                    for p in range(p_start, p_stop):
                        joint[(others_base[i, p] + offset) * d_anc + (s - f)] *= phase
                continue
            if n_b == 2:  # one quantum between a qubit-like pair: written out
                u00, u01, u10, u11 = u[s, 0, 0], u[s, 0, 1], u[s, 1, 0], u[s, 1, 1]
                for p in range(p_start, p_stop):
                    addr = (others_base[i, p] + offset) * d_anc + (s - f)
                    a0 = joint[addr]
                    a1 = joint[addr + step]
                    joint[addr] = u00 * a0 + u01 * a1
                    joint[addr + step] = u10 * a0 + u11 * a1
                continue
            for p in range(p_start, p_stop):
                addr = (others_base[i, p] + offset) * d_anc + (s - f)
                for j in range(n_b):
                    tmp[j] = joint[addr + j * step]
                for a in range(n_b):
                    acc = 0j
                    for j in range(n_b):
                        acc += u[s, a, j] * tmp[j]
                    joint[addr + a * step] = acc


@njit(inline="always")
def load_joint(buf, cur, lo, hi, k, d_anc, sector_start, sector_states, joint):
    """``joint = psi (x) |k>`` on the sectors ``lo .. hi`` (``joint`` must be empty)."""
    for q in range(sector_start[lo], sector_start[hi + 1]):
        joint[sector_states[q] * d_anc + k] = buf[cur, q]


@njit(inline="always")
def measure_ancilla(joint, buf, cur, lo, hi, k, u, d_anc, sector_start, sector_states, n_max,
                    prob):
    """Measure the outgoing ancilla in its Fock basis (Born rule) and collapse.

    ``joint`` holds the systems + ancilla after the collisions of an ancilla that came in
    with ``k`` quanta while the systems occupied the sectors ``lo .. hi``.  The outcome
    ``l`` is drawn with probability ``||<l|joint>||^2`` using the uniform number ``u``;
    ``buf[cur]`` receives the renormalised ``<l|joint>``, and ``joint`` is cleared.
    ``prob`` (float, d_anc) is scratch space.

    Returns
    -------
    (lo, hi, l) : the systems' new sector window ``lo + k - l .. hi + k - l`` (clipped),
        and the outcome ``l``.
    """
    total = 0.0
    chosen = 0
    for l_out in range(d_anc):
        p = 0.0
        q_start, q_stop = window_positions(sector_start, lo + k - l_out, hi + k - l_out, n_max)
        for q in range(q_start, q_stop):
            a = joint[sector_states[q] * d_anc + l_out]
            p += a.real * a.real + a.imag * a.imag
        prob[l_out] = p
        total += p
        if p > 0.0:
            chosen = l_out  # fallback if u lands beyond the rounded total
    target = u * total
    acc = 0.0
    for l_out in range(d_anc):
        acc += prob[l_out]
        if target < acc:
            chosen = l_out
            break
    new_lo, new_hi = clip_window(lo + k - chosen, hi + k - chosen, n_max)
    scale = 1.0 / np.sqrt(prob[chosen])
    for q in range(sector_start[new_lo], sector_start[new_hi + 1]):
        buf[cur, q] = joint[sector_states[q] * d_anc + chosen] * scale
    clear_joint(joint, lo, hi, k, d_anc, sector_start, sector_states, n_max)
    return new_lo, new_hi, chosen


@njit(inline="always")
def clear_joint(joint, lo, hi, k, d_anc, sector_start, sector_states, n_max):
    """Zero ``joint`` after the collisions of an ancilla that came in with ``k`` quanta
    while the systems occupied the sectors ``lo .. hi`` (the entries it can reach)."""
    for l_out in range(d_anc):
        q_start, q_stop = window_positions(sector_start, lo + k - l_out, hi + k - l_out, n_max)
        for q in range(q_start, q_stop):
            joint[sector_states[q] * d_anc + l_out] = 0.0


@njit(inline="always")
def joint_energies(joint, lo, hi, k, d_anc, sector_start, sector_states, n_max, energy_of,
                   energy):
    """``<Psi'|H_i|Psi'>`` of the pre-measurement joint state (the systems were in the
    sectors ``lo .. hi`` and the ancilla came in with ``k`` quanta)."""
    n_sys = energy.size
    for i in range(n_sys):
        energy[i] = 0.0
    for l_out in range(d_anc):
        q_start, q_stop = window_positions(sector_start, lo + k - l_out, hi + k - l_out, n_max)
        for q in range(q_start, q_stop):
            a = joint[sector_states[q] * d_anc + l_out]
            w = a.real * a.real + a.imag * a.imag
            for i in range(n_sys):
                energy[i] += w * energy_of[q, i]


# --- initial states ---------------------------------------------------------------------

@njit(inline="always")
def draw_product_state(s_a, s_b, s_c, s_w, init, stride, psi, choice, odometer, partial,
                       index):
    """Draw a product state ``phi_1j_1 x ... x phi_nj_n`` and write it into ``psi``.

    Draws, in this order, one uniform number per subsystem, S1 first (also for a pure
    local state), each turned into ``j_i`` by inverse CDF over ``init.local_cdf[i]``.
    Then every product of nonzero local amplitudes is written at the storage position
    (``init.position``) of its basis state; the others are left as they are (``psi``
    must be zero).  ``O(support)`` work: at most ``D``.

    Parameters
    ----------
    s_a, s_b, s_c, s_w : uint64
        The trajectory's SFC64 state.
    init : InitialEnsemble
        In product form.
    stride : int64 (n,)
        ``Tables.stride``.
    psi : complex128 (D,)
        Receives the state, in storage order.
    choice, odometer : int64 (n,); partial : complex128 (n + 1,); index : int64 (n + 1,)
        Scratch space.

    Returns
    -------
    (lo, hi, s_a, s_b, s_c, s_w)
        The excitation window: ``lo`` (``hi``) is the sum over subsystems of the lowest
        (highest) Fock level in the support of ``phi_ij_i``, the least (most) total
        excitation of a basis state the product reaches; and the advanced SFC64 state.
    """
    local_cdf = init.local_cdf
    count = init.local_count
    level = init.local_level
    amp = init.local_amp
    position = init.position
    n = local_cdf.shape[0]
    d = local_cdf.shape[1]
    lo = 0
    hi = 0
    for i in range(n):
        x, s_a, s_b, s_c, s_w = sfc64_step(s_a, s_b, s_c, s_w)
        r = to_unit(x)
        j = 0
        while j < d - 1 and r >= local_cdf[i, j]:
            j += 1
        choice[i] = j
        odometer[i] = 0
        lo += level[i, j, 0]
        hi += level[i, j, count[i, j] - 1]
    # odometer over the nonzero amplitudes, last subsystem fastest; partial[m] and
    # index[m] hold the amplitude and Kronecker index of subsystems < m
    partial[0] = 1.0
    index[0] = 0
    m0 = 0  # first subsystem whose partial product is out of date
    while True:
        for m in range(m0, n):
            j = choice[m]
            c = odometer[m]
            partial[m + 1] = partial[m] * amp[m, j, c]
            index[m + 1] = index[m] + level[m, j, c] * stride[m]
        psi[position[index[n]]] = partial[n]
        m0 = n - 1
        while m0 >= 0 and odometer[m0] == count[m0, choice[m0]] - 1:
            odometer[m0] = 0
            m0 -= 1
        if m0 < 0:
            break
        odometer[m0] += 1
    return lo, hi, s_a, s_b, s_c, s_w


# --- whole trajectories -----------------------------------------------------------------

@njit
def run_trajectory(rng_state, tb, init, n_steps, save_every, out, slot, final_psi, quanta):
    """One quantum trajectory of the collision model.

    Parameters
    ----------
    rng_state : ndarray of uint64, shape (4,)
        This trajectory's SFC64 state (advanced in place).
    tb : Tables
    init : InitialEnsemble
    n_steps, save_every : int
        Steps to run; fluxes are recorded at every ``save_every``-th step, starting with
        the first.
    out : ndarray of float64, shape (B, n_saved, 2, n)
        ``out[slot, :, 0]`` and ``out[slot, :, 1]`` receive the local and correlated flux
        estimates of every subsystem at every saved time (units of hbar omega gamma).
    slot : int
        This trajectory's place in the batch.
    final_psi : ndarray of complex128, shape (D,) or (0,)
        Receives the state at the last saved time (basis order, interaction picture) if
        not empty.
    quanta : ndarray of int64, shape (B, n_saved, n_stages) or (B, 0, 0)
        If not empty, ``quanta[slot, k, stage]`` receives the net number of quanta the
        ancillas of ``stage`` have gained by saved time ``k`` (outgoing level ``l`` minus
        incoming ``k`` of every ancilla, summed): one sample of the heat counting
        statistics (:mod:`collision.counting`).  Recording it changes nothing else.

    Notes
    -----
    The hot path (flux recording and the stage matrices) is written out in this one
    function on purpose, with the tables and the generator state in local variables:
    see "Performance notes" in the module docstring.
    """
    cascade = tb.cascade
    conditional = tb.conditional
    replay = tb.replay
    matrices = tb.matrices
    dt = tb.dt
    d_anc = tb.d_anc
    n_max = tb.n_max
    sector_start = tb.sector_start
    sector_states = tb.sector_states
    local_of = tb.local_of
    energy_of = tb.energy_of
    anc_cdf = tb.anc_cdf
    anc_pop = tb.anc_pop
    block_start = tb.block_start
    corr_blocks = tb.corr_blocks
    mat_start = tb.mat_start
    mats = tb.mats
    stride = tb.stride
    others_start = tb.others_start
    others_base = tb.others_base
    first = tb.first
    size = tb.size
    u = tb.u

    n_sys = local_of.shape[1]
    dim = local_of.shape[0]
    n_stages = 1 if cascade else n_sys
    buf = np.zeros((2, dim), dtype=np.complex128)  # psi = buf[cur]; buf[1 - cur] = next psi
    joint = np.zeros(0 if matrices else dim * d_anc, dtype=np.complex128)
    tmp = np.empty(u.shape[1], dtype=np.complex128)
    prob = np.empty(d_anc)
    local = np.empty(n_sys)
    energy = np.empty(n_sys)
    after = np.empty(n_sys)
    mean_after = np.empty(n_sys)
    count = quanta.shape[1] > 0
    net = np.zeros(n_stages, dtype=np.int64)  # quanta gained by each stage's ancillas
    s_a, s_b, s_c, s_w = rng_state[0], rng_state[1], rng_state[2], rng_state[3]

    cur = 0
    n_product = init.local_cdf.shape[0]
    if n_product > 0:
        # a product of local states: one draw per subsystem (draw_product_state)
        lo, hi, s_a, s_b, s_c, s_w = draw_product_state(
            s_a, s_b, s_c, s_w, init, stride, buf[cur], np.empty(n_product, dtype=np.int64),
            np.empty(n_product, dtype=np.int64), np.empty(n_product + 1, dtype=np.complex128),
            np.empty(n_product + 1, dtype=np.int64))
    else:
        # initial pure state psi_j with probability p_j (one inverse-CDF draw)
        x, s_a, s_b, s_c, s_w = sfc64_step(s_a, s_b, s_c, s_w)
        r = to_unit(x)
        j = 0
        while j < init.cdf.size - 1 and r >= init.cdf[j]:
            j += 1
        lo = init.lo[j]  # the trajectory's window of excitation sectors
        hi = init.hi[j]
        for q in range(init.start[j], init.start[j + 1]):
            buf[cur, init.pos[q]] = init.amp[q]

    k_save = -1  # index of the current saved time
    since_save = save_every  # steps since the last saved time
    for step in range(n_steps):
        save = since_save == save_every
        since_save += 1
        if save:
            k_save += 1
            since_save = 1
            if count:
                for st in range(n_stages):
                    quanta[slot, k_save, st] = net[st]
            # local fluxes (and energies): diagonal expectation values
            for i in range(n_sys):
                local[i] = 0.0
                energy[i] = 0.0
            for q in range(sector_start[lo], sector_start[hi + 1]):
                a = buf[cur, q]
                w = a.real * a.real + a.imag * a.imag
                for i in range(n_sys):
                    local[i] += w * local_of[q, i]
                    energy[i] += w * energy_of[q, i]
            for i in range(n_sys):
                out[slot, k_save, 0, i] = local[i]
                out[slot, k_save, 1, i] = 0.0
            # correlated fluxes <psi|C_i|psi>, sector by sector (C_0 = 0)
            if conditional and cascade:
                for n in range(lo, hi + 1):
                    q0 = sector_start[n]
                    m = sector_start[n + 1] - q0
                    b0 = block_start[n]
                    for i in range(1, n_sys):
                        acc = 0j
                        for a_ in range(m):
                            row = 0j
                            for b_ in range(m):
                                row += corr_blocks[i, b0 + a_ * m + b_] * buf[cur, q0 + b_]
                            acc += np.conj(buf[cur, q0 + a_]) * row
                        out[slot, k_save, 1, i] += acc.real
        last = step == n_steps - 1
        if last and conditional:
            break  # the conditional estimator needs no step after the last saved time

        for stage in range(n_stages):
            # incoming ancilla level k, drawn from its thermal populations
            x, s_a, s_b, s_c, s_w = sfc64_step(s_a, s_b, s_c, s_w)
            r = to_unit(x)
            k = 0
            while k < d_anc - 1 and r >= anc_cdf[k]:
                k += 1
            x, s_a, s_b, s_c, s_w = sfc64_step(s_a, s_b, s_c, s_w)
            r = to_unit(x)  # decides the measurement outcome

            if matrices:
                # outcome l with probability ||<l|U|k> psi||^2, tried in the order
                # l = k (most likely), 0, 1, ...; the new psi is written into buf[1 - cur]
                nxt = 1 - cur
                acc_p = 0.0
                chosen = -1
                last_possible = -1
                p = 0.0
                for t in range(d_anc + 1):
                    if t < d_anc:
                        if t == 0:
                            l_out = k
                        elif t - 1 < k:
                            l_out = t - 1
                        else:
                            l_out = t
                    else:  # r beyond the rounded total: recompute the last possible outcome
                        l_out = last_possible
                    p = 0.0
                    for n in range(lo, hi + 1):
                        off = mat_start[stage, n, k, l_out]
                        if off < 0:  # sector n + k - l does not exist: amplitude 0
                            continue
                        q_in = sector_start[n]
                        cols = sector_start[n + 1] - q_in
                        q_out = sector_start[n + k - l_out]
                        rows = sector_start[n + k - l_out + 1] - q_out
                        for a_ in range(rows):
                            amp = 0j
                            for b_ in range(cols):
                                amp += mats[off + a_ * cols + b_] * buf[cur, q_in + b_]
                            buf[nxt, q_out + a_] = amp
                            p += amp.real * amp.real + amp.imag * amp.imag
                    if p > 0.0:
                        last_possible = l_out
                    acc_p += p
                    if r < acc_p or t == d_anc:
                        chosen = l_out
                        break
                lo, hi = clip_window(lo + k - chosen, hi + k - chosen, n_max)
                net[stage] += chosen - k
                scale = 1.0 / np.sqrt(p)
                for q in range(sector_start[lo], sector_start[hi + 1]):
                    buf[nxt, q] *= scale
                cur = nxt
                continue

            # collision by collision on the joint systems + ancilla vector; at a saved
            # step of the replay estimator first for every other occupied incoming level
            # (energies weighted by its probability, then cleared), the drawn k last
            i_first = 0 if cascade else stage
            i_last = n_sys - 1 if cascade else stage
            flux = save and not conditional
            n_levels = d_anc if flux and replay else 1
            for i in range(n_sys):
                mean_after[i] = 0.0
            for t in range(n_levels):
                k_in = k if t == n_levels - 1 else (t if t < k else t + 1)
                if k_in != k and anc_pop[k_in] == 0.0:
                    continue
                load_joint(buf, cur, lo, hi, k_in, d_anc, sector_start, sector_states, joint)
                for i in range(i_first, i_last + 1):
                    collide(joint, i, lo + k_in, hi + k_in, d_anc, stride[i], others_start,
                            others_base, first, size, u, tmp)
                if flux:
                    joint_energies(joint, lo, hi, k_in, d_anc, sector_start, sector_states,
                                   n_max, energy_of, after)
                    weight = anc_pop[k_in] if replay else 1.0
                    for i in range(n_sys):
                        mean_after[i] += weight * after[i]
                if k_in != k:
                    clear_joint(joint, lo, hi, k_in, d_anc, sector_start, sector_states, n_max)
            if flux:
                for i in range(1, n_sys):
                    out[slot, k_save, 1, i] = (energy[i] - mean_after[i]) / dt - local[i]
            if last:
                break
            lo, hi, chosen = measure_ancilla(joint, buf, cur, lo, hi, k, r, d_anc,
                                             sector_start, sector_states, n_max, prob)
            net[stage] += chosen - k
    rng_state[0] = s_a
    rng_state[1] = s_b
    rng_state[2] = s_c
    rng_state[3] = s_w
    if final_psi.size > 0:
        final_psi[:] = 0.0
        for q in range(sector_start[lo], sector_start[hi + 1]):
            final_psi[sector_states[q]] = buf[cur, q]


# --- precomputation -----------------------------------------------------------------------

@njit
def _stage_columns(tb, stage, n, k, joint, tmp, addr, cols):
    """``U_stage |b, k>`` for every basis state ``b`` of sector ``n``, restricted to the
    joint sector ``n + k``: ``cols[b, c] = joint amplitude at address addr[c]``."""
    d_anc = tb.d_anc
    q0 = tb.sector_start[n]
    m = tb.sector_start[n + 1] - q0
    n_sys = tb.stride.size
    i_first = 0 if tb.cascade else stage
    i_last = n_sys - 1 if tb.cascade else stage
    for b in range(m):
        joint[tb.sector_states[q0 + b] * d_anc + k] = 1.0
        for i in range(i_first, i_last + 1):
            collide(joint, i, n + k, n + k, d_anc, tb.stride[i], tb.others_start,
                    tb.others_base, tb.first, tb.size, tb.u, tmp)
        for c in range(addr.size):
            cols[b, c] = joint[addr[c]]
            joint[addr[c]] = 0.0


@njit
def _joint_sector(tb, big, addr, pos, lev):
    """Enumerate the joint sector with ``big`` excitations: for every entry ``c``, its
    address in ``joint``, its systems' storage position and ancilla level.  Returns the
    number of entries (the arrays must be large enough)."""
    c = 0
    for l_out in range(tb.d_anc):
        n = big - l_out
        if 0 <= n <= tb.n_max:
            for q in range(tb.sector_start[n], tb.sector_start[n + 1]):
                addr[c] = tb.sector_states[q] * tb.d_anc + l_out
                pos[c] = q
                lev[c] = l_out
                c += 1
    return c


@njit
def stage_matrices(tb, anc_pop, mat_start, mats):
    """Fill the stage matrices ``<l| U_stage |k>`` from sector ``N`` to ``N + k - l``.

    ``mat_start`` (n_stages, n_max + 1, d_anc, d_anc) holds the offsets (computed by the
    driver, -1 where absent); blocks are row-major ``(m_{N+k-l}, m_N)``.
    """
    d_anc = tb.d_anc
    dim = tb.level_of.shape[0]
    joint = np.zeros(dim * d_anc, dtype=np.complex128)
    tmp = np.empty(tb.u.shape[1], dtype=np.complex128)
    width = d_anc * max_sector_size(tb.sector_start)
    addr = np.empty(width, dtype=np.int64)
    pos = np.empty(width, dtype=np.int64)
    lev = np.empty(width, dtype=np.int64)
    for stage in range(mat_start.shape[0]):
        for n in range(tb.n_max + 1):
            q0 = tb.sector_start[n]
            m = tb.sector_start[n + 1] - q0
            for k in range(d_anc):
                if anc_pop[k] == 0.0:
                    continue
                n_cols = _joint_sector(tb, n + k, addr, pos, lev)
                cols = np.zeros((m, n_cols), dtype=np.complex128)
                _stage_columns(tb, stage, n, k, joint, tmp, addr[:n_cols], cols)
                for c in range(n_cols):
                    off = mat_start[stage, n, k, lev[c]]
                    a = pos[c] - tb.sector_start[n + k - lev[c]]
                    for b in range(m):
                        mats[off + a * m + b] = cols[b, c]


@njit
def correlated_flux_blocks(tb, anc_pop, out):
    """Sector blocks of ``C_i = (H_i - Phi^dag(H_i)) / dt - diag(o(n_i))`` for a cascade.

    ``Phi^dag(X) = sum_k p_k <k| U^dag (X (x) 1) U |k>`` is the Heisenberg-picture
    averaged step (``U = U_n ... U_1``, ancilla in level ``k`` with probability ``p_k``),
    so ``<psi|H_i - Phi^dag(H_i)|psi> / dt`` is the energy ``S_i`` hands to the ancilla in
    the next step, averaged over the ancilla's level and the measurement outcome.  Every
    collision conserves the excitation number, so ``C_i`` is block diagonal in the
    systems' sectors.  Subsystem 0 meets a fresh ancilla: ``C_0 = 0``.

    Parameters
    ----------
    tb : Tables
        (its ``corr_blocks`` is not used).
    anc_pop : ndarray, shape (d_anc,)
        Incoming ancilla populations.
    out : ndarray of complex128, shape (n, n_entries)
        Receives the blocks, row-major, block ``N`` from ``tb.block_start[N]``.
    """
    n_sys = tb.stride.size
    dim = tb.level_of.shape[0]
    d_anc = tb.d_anc
    joint = np.zeros(dim * d_anc, dtype=np.complex128)
    tmp = np.empty(tb.u.shape[1], dtype=np.complex128)
    width = d_anc * max_sector_size(tb.sector_start)
    addr = np.empty(width, dtype=np.int64)
    pos = np.empty(width, dtype=np.int64)
    lev = np.empty(width, dtype=np.int64)
    out[:] = 0.0
    for n in range(tb.n_max + 1):
        q0 = tb.sector_start[n]
        m = tb.sector_start[n + 1] - q0
        heis = np.zeros((n_sys, m, m), dtype=np.complex128)  # Phi^dag(H_i) on sector n
        for k in range(d_anc):
            p_k = anc_pop[k]
            if p_k == 0.0:
                continue
            n_cols = _joint_sector(tb, n + k, addr, pos, lev)
            cols = np.zeros((m, n_cols), dtype=np.complex128)
            _stage_columns(tb, 0, n, k, joint, tmp, addr[:n_cols], cols)
            for i in range(n_sys):
                for a in range(m):
                    for b in range(m):
                        acc = 0j
                        for c in range(n_cols):
                            e_c = tb.energy[tb.level_of[pos[c], i]]
                            acc += np.conj(cols[a, c]) * e_c * cols[b, c]
                        heis[i, a, b] += p_k * acc
        b0 = tb.block_start[n]
        for i in range(1, n_sys):
            for a in range(m):
                n_i = tb.level_of[q0 + a, i]
                for b in range(m):
                    value = -heis[i, a, b]
                    if a == b:
                        value += tb.energy[n_i]
                    value /= tb.dt
                    if a == b:
                        value -= tb.local_flux[n_i]
                    out[i, b0 + a * m + b] = value
