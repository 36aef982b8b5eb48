"""The exact ensemble-averaged collision map ("density" engine).

One time step ``dt`` maps the state of the subsystems as

    cascade=True:   rho -> sum_k p_k Tr_B[U_n ... U_1 (rho x |k><k|) U_1^dag ... U_n^dag]
    cascade=False:  rho -> Phi_n(... Phi_1(rho)),
                    Phi_i(rho) = sum_k p_k Tr_B[U_i (rho x |k><k|) U_i^dag]

with ``U_i`` the exchange unitary of subsystem ``i`` and one ancilla
(:mod:`collision.unitaries`, exact in every excitation block) and ``p_k`` the thermal
populations of an incoming ancilla.  Nothing is approximated beyond the Fock cutoffs.

The scheme
----------
Kraus form.  Writing the trace in the ancilla's Fock basis, a step is
``rho -> sum_{l,k} K_lk rho K_lk^dag`` with ``K_lk = sqrt(p_k) <l| U_n ... U_1 |k>``, an
operator on the subsystems.  ``K_lk`` is built once per run by multiplying the sparse
single-collision unitaries on (subsystems x ancilla) -- each one is assembled entry by
entry from the block unitary -- and cutting out the ``(l, k)`` ancilla block.  Operators
that vanish identically (``p_k = 0``, e.g. every ``k > 0`` at ``T = 0``) are dropped.

Excitation blocks.  Every ``U_i`` conserves the total number of excitations of the
subsystems and the ancilla, so ``K_lk`` maps the block of total system excitation ``N``
to the block ``N + k - l`` and nothing else.  Sorting the joint basis by ``N``, a
density matrix splits into blocks ``rho[N_ket, N_bra]`` and the step maps block
``(N_ket, N_bra)`` to ``(N_ket + k - l, N_bra + k - l)``: the excitation difference
``m = N_ket - N_bra`` is conserved.  The engine stores only the sectors ``m`` occupied by
the initial state (``m = 0`` alone for states without coherences between different
excitation numbers, which is all the fluxes need), and only ``m >= 0`` (the rest is the
Hermitian conjugate).  Within a block, ``K_lk`` is sparse too (one collision moves one
subsystem's quanta to or from the ancilla, so a column of ``K_lk`` has at most
``d_anc^(n-1)`` entries), and is stored as CSR rows.  One block product
``K rho_blk K^dag`` then costs ``nnz(K_ket) c_bra + nnz(K_bra) c_ket`` multiply-adds,
about ``2 n_kraus d_anc^(n-1) S`` per step for ``S`` stored entries, instead of the
``D^4`` of a dense superoperator or the ``sum_N c_N^3`` of dense blocks.  Example:
2 oscillators, cutoff 20, ``T = 0``: ``S = 5,340``, 5 Kraus operators, 2.3e5 complex
multiply-adds per step.  At ``T > 0`` a boson bath has ``n_kraus = d_anc^2`` and the
cost grows as ``d_anc^3``: the automatic bath cutoff matters.

Sequential form.  The same map, without forming ``K_lk``: the joint state ``rho x tau``
(``tau = diag(p_k)``) goes through ``U_1``, then ``U_2``, ... and the ancilla is traced out
after the last collision.  Every ``U_i`` conserves the joint excitation, so the joint
operator is stored in the same sectors ``m`` as ``rho``, in dense pair blocks of the joint
blocks of total excitation ``N`` (``C_N`` joint states, ``J = sum_N C_N C_{N-m}``
entries).  Ordering a joint block for collision ``i`` by ``s = n_i + n_anc``, the other
Fock numbers, then ``n_i``, makes ``U_i`` block diagonal with dense blocks of at most
``min(d, d_anc)`` (the unitary's own blocks), applied to contiguous rows; only the order
changes from one collision to the next.  The exchange unitary ``cos(theta G) - i sin(theta
G)`` (``G`` bipartite) is real at even and imaginary at odd distances from the diagonal,
so every update is a real weight times a row of interleaved doubles, which vectorizes.
Per step and sector ``m = 0``:

* first collision: ``tau`` is diagonal, so ``Y = (rho x 1) U^dag`` is filled with single
  products and ``U diag(p) Y`` costs ``sum_rows g_r w_r`` (``g_r`` the row's group size,
  ``w_r`` the columns whose group holds the row's ancilla level: about half);
* middle collisions (``n >= 3``): ``U sigma U^dag``, ``J (g_ket + g_bra / 2)``;
* last collision: only equal ancilla levels survive the trace, so ``U sigma`` is needed
  on ``w_r`` columns per row, ``sum_rows g_r w_r``, then one short dot product per
  surviving entry.

About ``J min(d, d_anc)`` in all, against ``2 n_kraus d_anc^(n-1) S`` for the Kraus
form.  Example: 2 oscillators, cutoff 20, ``T = 1`` (``d_anc = 19``): ``S = 5,340``,
``J = 1.6e6``, 3.7e7 multiply-adds in the Kraus form and 4.7e7 counted sequentially
(1.8e7 + 1.8e7 row products, plus fills, zeroing and writes): no fewer operations, but
real weights on contiguous rows run
0.6-0.9 ns each where the Kraus kernel's complex products through CSR indices take
1.2-2.2 ns (measured; ``SEQUENTIAL_WEIGHT = 0.45``), so a step takes about a third of
the time (README, Measured performance).  Memory: two joint buffers and two scratch
blocks, ``16 (2 J + 2 C_max^2)`` bytes, plus index tables of about ``8 * 5 * n D d_anc``
bytes (55 MB in the example, ``C_max = 290``; ``MAX_SEQUENTIAL_BYTES`` caps it).
Without ``cascade`` (or for a single collision) each collision is the channel of one
subsystem alone, tabulated once
(``E[x', y', delta]``, phase covariant) and applied with ``<= 2 d - 1`` terms per stored
entry (``LOCAL_CHANNEL_WEIGHT = 2.5``: look-ups per term), far below the Kraus form's
``2 d_anc^2`` at ``T > 0``.

Three kernels (:mod:`collision._kernels.density`) run the whole time loop in compiled
code, without allocation:

* ``kraus``: the block loop above;
* ``superoperator``: for small problems (qubits) the step map restricted to each sector
  is first tabulated as a dense matrix by applying the ``kraus`` step to unit vectors;
  a step is then one small matrix-vector product per sector;
* ``sequential``: the collisions one after the other, as above.

All give the same numbers to rounding.  ``scheme="auto"`` takes the least estimated work
over the run: ``n_steps x kraus cost``, ``n_steps x SEQUENTIAL_WEIGHT x sequential cost``
(counted from the kernels' loops, plus ``_LOOP_OVERHEAD`` per inner loop; only if it fits
in ``MAX_SEQUENTIAL_BYTES``), and, when the tabulated map has at most
``MAX_SUPEROPERATOR_ENTRIES`` entries, its tabulation (about one Kraus step per block pair
and stored entry / pair) plus ``n_steps x (sum_m size_m^2 + S)``.  The Kraus cost comes
from the built operators for small problems and otherwise from their structural
non-zeros (:func:`kraus_cost_estimate`), so that choosing another scheme does not pay
for building a Kraus set of ``d_anc^2`` operators.

Fluxes (definitions in :mod:`collision.model`) are recorded inside the kernel at every
saved step ``s = k * save_every`` from the populations before and after that step.  The
run has one step beyond the last saved time, so the state at the last saved time is
still in the kernel's double buffer at the end and becomes ``final_state``.

Long runs are split into at most a few hundred chunks (:mod:`collision._loop`) between
which a progress bar is updated; a ``KeyboardInterrupt`` between chunks returns the saved
times finished so far with ``partial=True``.  For oscillators the populations of the
state at the end of every chunk (at least ``MIN_WATCH_CHUNKS`` of them when there are
enough saved times), of ``rho0`` and of the final state give the largest top-level
population of each subsystem (``parameters["max_top_level_population"]``, checked
against ``cutoff_tol`` by :class:`collision.model.CascadeCollisionModel`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lindblad.fluxes import HeatFluxes

from ._kernels import density as kernels
from ._loop import MAX_CHUNKS, MIN_CHUNK_WORK, chunk_stops, run_in_chunks

#: Largest number of complex entries of the tabulated step map (``superoperator`` scheme).
MAX_SUPEROPERATOR_ENTRIES = 1 << 20
#: For oscillators, at least this many chunks (when there are enough saved times), so the
#: top-level population is sampled along the run.
MIN_WATCH_CHUNKS = 50
#: Per block pair and Kraus operator, the loop overhead counted in multiply-adds.
_PAIR_OVERHEAD = 24
#: Per inner loop of the ``sequential`` kernels, the overhead counted in multiply-adds.
_LOOP_OVERHEAD = 16
#: Largest memory of the ``sequential`` scheme's joint state (two buffers) and tables.
MAX_SEQUENTIAL_BYTES = 1 << 30
#: Time of one counted multiply-add of the ``sequential`` joint-state kernels relative to
#: the ``kraus`` kernel's (measured 0.6-0.9 ns against 1.2-2.2 ns: real weights times
#: contiguous rows, which vectorize), and of its local-channel kernel (look-ups per term).
SEQUENTIAL_WEIGHT = 0.45
LOCAL_CHANNEL_WEIGHT = 2.5
SCHEMES = ("auto", "kraus", "superoperator", "sequential")


# --- basis and storage layout ---------------------------------------------------------------
@dataclass(frozen=True)
class BlockLayout:
    """The joint basis sorted by excitation number and the packed storage of rho.

    Attributes
    ----------
    order : ndarray of int64, shape (D,)
        ``order[a]`` is the original (Kronecker) index of sorted basis state ``a``.
    fock : ndarray of int64, shape (D, n_systems)
        Fock numbers of the sorted basis states.
    block_start, block_size : ndarray of int64, shape (n_blocks,)
        Block ``N`` (total excitation ``N``) is sorted states
        ``block_start[N] .. block_start[N] + block_size[N] - 1``.
    sectors : ndarray of int64, shape (n_sectors,)
        Stored excitation differences ``m = N_ket - N_bra >= 0`` (always contains 0).
    pair_ket, pair_bra, pair_off : ndarray of int64, shape (n_pairs,)
        Stored block pairs (sector by sector, ``N_ket`` increasing) and the offset of
        their row-major block in the state vector.
    pair_index : ndarray of int64, shape (n_blocks, n_blocks)
        ``pair_index[N_ket, N_bra]``: the pair's number, -1 if not stored.
    sec_start, sec_size : ndarray of int64, shape (n_sectors,)
        Each sector is the contiguous slice ``sec_start .. sec_start + sec_size`` of the
        state vector.
    diag_pos : ndarray of int64, shape (D,)
        Position of ``rho[a, a]`` in the state vector.
    size : int
        Length of the state vector.
    """

    order: np.ndarray
    fock: np.ndarray
    block_start: np.ndarray
    block_size: np.ndarray
    sectors: np.ndarray
    pair_ket: np.ndarray
    pair_bra: np.ndarray
    pair_off: np.ndarray
    pair_index: np.ndarray
    sec_start: np.ndarray
    sec_size: np.ndarray
    diag_pos: np.ndarray
    size: int

    @classmethod
    def build(cls, fock: np.ndarray, sectors) -> BlockLayout:
        """Layout for the joint Fock numbers ``fock`` (Kronecker order) and the
        excitation differences ``sectors``."""
        n_exc = fock.sum(axis=1)
        order = np.argsort(n_exc, kind="stable").astype(np.int64)
        n_blocks = int(n_exc.max()) + 1
        block_size = np.bincount(n_exc, minlength=n_blocks).astype(np.int64)
        block_start = np.concatenate([[0], np.cumsum(block_size)[:-1]]).astype(np.int64)
        sectors = np.array(sorted({0, *(abs(int(m)) for m in sectors)}), dtype=np.int64)
        ket, bra, off, sec_start, sec_size = [], [], [], [], []
        pos = 0
        for m in sectors:
            sec_start.append(pos)
            for nk in range(m, n_blocks):
                ket.append(nk)
                bra.append(nk - m)
                off.append(pos)
                pos += int(block_size[nk] * block_size[nk - m])
            sec_size.append(pos - sec_start[-1])
        pair_ket, pair_bra = np.array(ket, np.int64), np.array(bra, np.int64)
        pair_index = np.full((n_blocks, n_blocks), -1, dtype=np.int64)
        pair_index[pair_ket, pair_bra] = np.arange(pair_ket.size)
        diag_pos = np.empty(n_exc.size, dtype=np.int64)
        for n in range(n_blocks):
            c = block_size[n]
            local = np.arange(c)
            diag_pos[block_start[n] + local] = off[pair_index[n, n]] + local * c + local
        return cls(order, fock[order].astype(np.int64), block_start, block_size, sectors,
                   pair_ket, pair_bra, np.array(off, np.int64), pair_index,
                   np.array(sec_start, np.int64), np.array(sec_size, np.int64), diag_pos,
                   int(pos))

    @property
    def n_blocks(self) -> int:
        return self.block_size.size

    @property
    def max_block(self) -> int:
        return int(self.block_size.max())

    def pack(self, rho: np.ndarray) -> np.ndarray:
        """The stored blocks of ``rho`` (Kronecker basis) as a state vector.

        Entries of ``rho`` outside the stored sectors are dropped: the layout must be
        built from the sectors ``rho`` occupies.
        """
        srt = rho[np.ix_(self.order, self.order)]
        v = np.empty(self.size, dtype=complex)
        for nk, nb, off in zip(self.pair_ket, self.pair_bra, self.pair_off, strict=True):
            r0, c0 = self.block_start[nk], self.block_start[nb]
            blk = srt[r0:r0 + self.block_size[nk], c0:c0 + self.block_size[nb]]
            v[off:off + blk.size] = blk.ravel()
        return v

    def unpack(self, v: np.ndarray) -> np.ndarray:
        """The full ``(D, D)`` density matrix (Kronecker basis) of a state vector."""
        dim = self.order.size
        srt = np.zeros((dim, dim), dtype=complex)
        for nk, nb, off in zip(self.pair_ket, self.pair_bra, self.pair_off, strict=True):
            r0, c0 = self.block_start[nk], self.block_start[nb]
            ck, cb = self.block_size[nk], self.block_size[nb]
            blk = v[off:off + ck * cb].reshape(ck, cb)
            srt[r0:r0 + ck, c0:c0 + cb] = blk
            if nk != nb:
                srt[c0:c0 + cb, r0:r0 + ck] = blk.conj().T
        rho = np.empty_like(srt)
        rho[np.ix_(self.order, self.order)] = srt
        return rho


def occupied_sectors(rho: np.ndarray, fock: np.ndarray) -> np.ndarray:
    """Excitation differences ``m >= 0`` with a non-zero entry of ``rho``."""
    n_exc = fock.sum(axis=1)
    diff = np.abs(n_exc[:, None] - n_exc[None, :])
    return np.unique(diff[rho != 0])


# --- Kraus operators ------------------------------------------------------------------------
#: Below this dimension of (subsystems x ancilla) the Kraus set is built with dense
#: matrices (faster set-up for qubits); above it with scipy.sparse.
DENSE_BUILD_DIM = 256


def collision_operator(unitary, fock: np.ndarray, site: int, dense: bool = False,
                       basis: np.ndarray | None = None):
    """``U_site`` on (subsystems x ancilla) as a sparse (CSR) or dense matrix.

    Index ``j * d_anc + b`` for system basis state ``j`` (Kronecker order) and ancilla
    level ``b``.  Assembled from the blocks of ``unitary`` (a
    :class:`collision.unitaries.BlockUnitary`): ``|.., n, .., b>`` goes to
    ``|.., n', .., n + b - n'>`` with amplitude ``<n', n + b - n'| U |n, b>``.

    With ``basis`` (sorted Kronecker indices), ``fock`` holds only those basis states
    and ``j`` counts them; amplitudes into states outside the basis are dropped (used
    where no such state can be reached: :meth:`CollisionPlan.basis`).
    """
    dim, n_sys = fock.shape
    d_sys, d_anc = unitary.d_sys, unitary.d_anc
    stride = d_sys ** (n_sys - 1 - site)
    kron = np.arange(dim) if basis is None else basis
    index = None
    if basis is not None:
        index = np.full(d_sys**n_sys, -1, dtype=np.int64)
        index[basis] = np.arange(basis.size)
    rows, cols, vals = [], [], []
    for x in range(d_sys):
        src = np.flatnonzero(fock[:, site] == x)
        for b in range(d_anc):
            s = x + b
            lo = int(unitary.first[s])
            for j in range(int(unitary.size[s])):
                x2 = lo + j
                target = kron[src] + (x2 - x) * stride
                keep = slice(None)
                if index is not None:
                    target = index[target]
                    keep = target >= 0
                rows.append(target[keep] * d_anc + (s - x2))
                cols.append(src[keep] * d_anc + b)
                vals.append(np.full(cols[-1].size, unitary.u[s, j, x - lo]))
    n = dim * d_anc
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    if dense:
        out = np.zeros((n, n), dtype=complex)
        out[rows, cols] = vals  # every (row, col) occurs once
        return out
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


@dataclass(frozen=True)
class KrausStages:
    """The Kraus operators of one step, in the sorted basis, for the kernels.

    Attributes
    ----------
    shift : ndarray of int64, shape (n_kraus,)
        ``k - l``: operator ``q`` maps excitation block ``N`` to ``N + shift[q]``.
    ptr : ndarray of int64, shape (n_kraus, D + 1)
        CSR row pointers into ``col`` / ``val``.
    col : ndarray of int64, shape (nnz,)
        Sorted-basis column of every non-zero.
    val : ndarray of complex128, shape (nnz,)
        ``sqrt(p_k) <l| ... |k>`` entries.
    stage_q : ndarray of int64, shape (n_stages + 1,)
        Operators ``stage_q[s] .. stage_q[s + 1] - 1`` form stage ``s``.
    """

    shift: np.ndarray
    ptr: np.ndarray
    col: np.ndarray
    val: np.ndarray
    stage_q: np.ndarray

    @classmethod
    def build(cls, unitary, anc_pop: np.ndarray, fock: np.ndarray, order: np.ndarray,
              cascade: bool, sites=None, basis: np.ndarray | None = None) -> KrausStages:
        """Kraus operators of ``U_n ... U_1`` (cascade) or of each ``U_i`` alone; with
        ``sites``, of those subsystems only (a cascade of part of the chain); with
        ``basis``, on those basis states only (``fock`` holds their Fock numbers)."""
        dim, n_sys = fock.shape
        d_anc = unitary.d_anc
        dense = dim * d_anc <= DENSE_BUILD_DIM
        sites = range(n_sys) if sites is None else sites
        ops = [collision_operator(unitary, fock, i, dense, basis) for i in sites]
        if cascade:
            products = [ops[0]]
            for u in ops[1:]:
                products[0] = u @ products[0]
        else:
            products = ops
        sorted_index = np.empty(dim, dtype=np.int64)
        sorted_index[order] = np.arange(dim)
        weight = np.sqrt(np.asarray(anc_pop, dtype=float))
        shift, ptrs, cols, vals, stage_q = [], [], [], [], [0]
        nnz = 0
        for prod in products:
            if dense:
                r_all, c_all = np.nonzero(prod)
                v_all = prod[r_all, c_all]
            else:
                coo = prod.tocoo()
                r_all, c_all, v_all = coo.row, coo.col, coo.data
            k_in, l_out = c_all % d_anc, r_all % d_anc
            keep = (v_all != 0) & (weight[k_in] > 0)
            k_in, l_out = k_in[keep], l_out[keep]
            row = sorted_index[r_all[keep] // d_anc]
            col = sorted_index[c_all[keep] // d_anc]
            val = v_all[keep] * weight[k_in]
            label = k_in * d_anc + l_out  # one Kraus operator per (k, l)
            srt = np.lexsort((col, row, label))
            label, row, col, val = label[srt], row[srt], col[srt], val[srt]
            bounds = np.flatnonzero(np.diff(label)) + 1
            for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, label.size], strict=True):
                if hi == lo:
                    continue
                k, l_ = divmod(int(label[lo]), d_anc)
                shift.append(k - l_)
                ptrs.append(np.searchsorted(row[lo:hi], np.arange(dim + 1)) + nnz)
                cols.append(col[lo:hi])
                vals.append(val[lo:hi])
                nnz += hi - lo
            stage_q.append(len(shift))
        return cls(np.array(shift, np.int64), np.array(ptrs, np.int64),
                   np.concatenate(cols).astype(np.int64),
                   np.concatenate(vals).astype(complex), np.array(stage_q, np.int64))

    @property
    def n_kraus(self) -> int:
        return self.shift.size

    def step_cost(self, layout: BlockLayout) -> float:
        """Complex multiply-adds of one ``kraus`` step (plus loop overhead)."""
        b0, bs = layout.block_start, layout.block_size
        # nnz[q, N]: non-zeros of operator q in the rows of target block N
        edges = np.append(b0, b0[-1] + bs[-1])
        nnz = self.ptr[:, edges[1:]] - self.ptr[:, edges[:-1]]
        return kraus_cost(layout, self.shift, nnz)


def kraus_cost(layout: BlockLayout, shift: np.ndarray, nnz: np.ndarray) -> float:
    """Complex multiply-adds of one ``kraus`` step (plus loop overhead) for operators of
    shifts ``shift`` with ``nnz[q, N]`` non-zeros in the rows of target block ``N``."""
    bs, n_blocks = layout.block_size, layout.n_blocks
    tk = layout.pair_ket[None, :] + shift[:, None]  # shape (n_kraus, n_pairs)
    tb = layout.pair_bra[None, :] + shift[:, None]
    ok = (tb >= 0) & (tk < n_blocks)
    tk, tb = np.where(ok, tk, 0), np.where(ok, tb, 0)
    q = np.arange(shift.size)[:, None]
    nnz_k, nnz_b = nnz[q, tk], nnz[q, tb]
    cost = nnz_k * bs[layout.pair_bra][None, :] + bs[tk] * nnz_b + _PAIR_OVERHEAD
    return float(np.sum(np.where(ok & (nnz_k > 0) & (nnz_b > 0), cost, 0)))


def kraus_cost_estimate(plan, layout: BlockLayout, cascade: bool, sites=None) -> float:
    """:meth:`KrausStages.step_cost` without building the operators, from their
    structural non-zeros (an upper bound: amplitudes that vanish by accident are counted).

    Row ``x'`` of ``K_lk = sqrt(p_k) <l| U_r ... U_1 |k>`` has one non-zero per sequence
    of intermediate ancilla levels ``a_0 = k, a_1, .., a_r = l`` for which every input
    Fock number ``x'_j + a_j - a_{j-1}`` is a level (and the input state is in the
    basis): ``(T(x'_1) ... T(x'_r))[k, l]`` with ``T(v)[a, a'] = [0 <= v + a' - a < d]``.
    """
    fock, d, d_anc = layout.fock, plan.d_sys, plan.d_anc
    sites = list(range(fock.shape[1]) if sites is None else sites)
    a = np.arange(d_anc)
    v = np.arange(d)[:, None, None] + a[None, None, :] - a[None, :, None]
    transfer = ((v >= 0) & (v < d)).astype(float)  # [value, a_in, a_out]
    live = np.asarray(plan.anc_pop) > 0
    n_exc = fock.sum(axis=1)
    shift = (a[:, None] - a[None, :]).ravel()  # q = k * d_anc + l: k - l
    in_basis = n_exc[:, None, None] + a[None, None, :] - a[None, :, None] <= n_exc.max()
    total = 0.0
    for stage in ([sites] if cascade else [[i] for i in sites]):
        count = transfer[fock[:, stage[0]]]
        for i in stage[1:]:
            count = count @ transfer[fock[:, i]]  # (D, k, l)
        count = count * live[None, :, None] * in_basis
        nnz = np.add.reduceat(count, layout.block_start, axis=0)  # (n_blocks, k, l)
        total += kraus_cost(layout, shift, nnz.reshape(layout.n_blocks, -1).T)
    return total


# --- the sequential scheme --------------------------------------------------------------------
def _find_states(codes_sorted: np.ndarray, where: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Index in ``where`` (a permutation sorting ``codes_sorted``) of every code, -1 if
    absent."""
    pos = np.searchsorted(codes_sorted, codes)
    pos = np.minimum(pos, codes_sorted.size - 1)
    return np.where(codes_sorted[pos] == codes, where[pos], -1)


def unitary_weights(unitary) -> np.ndarray:
    """``ur`` with ``u = ur (-i)^((i - t) % 2)`` block by block: the exchange unitary
    ``cos(theta G) - i sin(theta G)`` of a bipartite (tridiagonal, zero-diagonal) ``G``
    is real at even and imaginary at odd distances from the diagonal.  The other part of
    each entry, zero in exact arithmetic, is a rounding residue of the eigensolver and
    is dropped."""
    u = unitary.u
    i = np.arange(u.shape[1])
    odd = ((i[:, None] - i[None, :]) % 2 == 1)[None, :, :]
    return np.ascontiguousarray(np.where(odd, -u.imag, u.real))


@dataclass(frozen=True)
class SequentialStages:
    """The data of the ``sequential`` scheme (module docstring), for the kernels.

    With ``joint_mode`` (a cascade of two or more collisions) the joint (subsystems x
    ancilla) states ``(x, a)`` with ``N(x) + a <= N_max`` (``N_max`` the largest system
    excitation plus the largest ancilla level of positive population) are sorted by
    their total excitation into joint blocks; a joint operator is stored in the pair
    blocks of the system's stored sectors.  For every stage (one collision, with
    subsystem ``i``) the states of a block are ordered by ``s = n_i + a``, then the
    other Fock numbers, then ``n_i``: consecutive groups on which the exchange unitary
    acts as its block ``s``.  The arrays are described in :mod:`collision._kernels.density`
    (comment above ``sequential_first``).  Without ``joint_mode`` every collision is the
    channel of one subsystem (``local``).

    Attributes
    ----------
    joint_mode : bool
    joint : tuple of ndarray
        ``(jb_off, jb_size, jpair_ket, jpair_bra, jpair_off, grp_ptr, grp_start,
        grp_size, grp_s, pos_grp, next_pos, prev_pos, anc, sysidx, rng_lo, rng_hi)``.
    local : tuple of ndarray
        ``(chan, shifted, site_fock)``: the channel ``chan[x', y', delta + d - 1]`` of one
        subsystem and, per stage, the shifted states and the subsystem's Fock numbers.
    joint_size : int
        Stored entries of a joint operator (0 without ``joint_mode``).
    max_joint_block : int
        Largest joint block.
    step_cost : float
        Complex multiply-adds of one step (counted from the loops of the kernels).
    unitary_weights : ndarray of float, shape of ``unitary.u``
        :func:`unitary_weights` of the plan's unitary.
    """

    joint_mode: bool
    joint: tuple
    local: tuple
    joint_size: int
    max_joint_block: int
    step_cost: float
    unitary_weights: np.ndarray

    @classmethod
    def build(cls, plan, layout: BlockLayout, cascade: bool, sites=None) -> SequentialStages:
        """Stages of ``U_n ... U_1`` (cascade) or of each ``U_i`` alone, for the subsystems
        ``sites`` (default all) in this order, on the stored sectors of ``layout``."""
        fock = layout.fock
        dim, n_sys = fock.shape
        sites = list(range(n_sys) if sites is None else sites)
        d = plan.d_sys
        empty2 = np.zeros((0, 0), dtype=np.int64)
        weights = unitary_weights(plan.unitary)
        if cascade and len(sites) >= 2:
            joint = cls._joint(plan, layout, sites)
            size = int(joint[4][-1] + joint[1][joint[2][-1]] * joint[1][joint[3][-1]])
            local = (np.zeros((0, 0, 0), dtype=complex), np.zeros((0, 0, 0), np.int64),
                     empty2)
            cost = cls._joint_cost(plan, joint)
            return cls(True, joint, local, size, int(joint[1].max()), cost, weights)
        from .delay import local_channel  # (delay imports this module)

        sup = local_channel(plan).reshape(d, d, d, d)  # [x', y', x, y]
        half = d - 1
        chan = np.zeros((d, d, 2 * d - 1), dtype=complex)  # chan[x', y', delta + d - 1]
        xs = np.arange(d)
        for e in range(2 * d - 1):
            xp = xs[(xs + e - half >= 0) & (xs + e - half < d)]
            xi = xp + e - half
            chan[xp[:, None], xp[None, :], e] = sup[xp[:, None], xp[None, :], xi[:, None],
                                                    xi[None, :]]
        codes = fock @ (d ** np.arange(n_sys - 1, -1, -1, dtype=np.int64))
        where = np.argsort(codes)
        codes_sorted = codes[where]
        shifted = np.full((len(sites), dim, 2 * d - 1), -1, dtype=np.int64)
        for st, i in enumerate(sites):
            for e in range(2 * d - 1):
                x = fock[:, i] + e - half
                ok = (x >= 0) & (x < d)
                shifted[st, ok, e] = _find_states(codes_sorted, where,
                                                  codes[ok] + (e - half) * d ** (n_sys - 1 - i))
        site_fock = np.ascontiguousarray(fock[:, sites].T)
        local = (chan, shifted, site_fock)
        cost = cls._local_cost(layout, shifted)
        empty3 = np.zeros((0, 0, 0), dtype=np.int64)
        joint = (np.zeros(0, np.int64),) * 5 + (empty2,) * 9 + (empty3, empty3)
        return cls(False, joint, local, 0, 0, cost, weights)

    @staticmethod
    def _joint(plan, layout: BlockLayout, sites) -> tuple:
        fock, d, d_anc, unitary = layout.fock, plan.d_sys, plan.d_anc, plan.unitary
        dim, n_sys = fock.shape
        n_exc = fock.sum(axis=1)
        k_max = int(np.flatnonzero(np.asarray(plan.anc_pop) > 0).max())
        n_max = int(n_exc.max()) + k_max
        sx = np.repeat(np.arange(dim, dtype=np.int64), d_anc)
        anc = np.tile(np.arange(d_anc, dtype=np.int64), dim)
        keep = n_exc[sx] + anc <= n_max
        sx, anc = sx[keep], anc[keep]
        jn = n_exc[sx] + anc
        n_jb = n_max + 1
        jb_size = np.bincount(jn, minlength=n_jb).astype(np.int64)
        jb_off = np.concatenate([[0], np.cumsum(jb_size)[:-1]]).astype(np.int64)
        ket, bra, off = [], [], []
        pos = 0
        for m in layout.sectors:
            for nk in range(int(m), n_jb):
                ket.append(nk)
                bra.append(nk - int(m))
                off.append(pos)
                pos += int(jb_size[nk] * jb_size[nk - m])
        n_joint, n_st = sx.size, len(sites)
        orders, in_block = [], []
        groups = []
        for i in sites:
            xi = fock[sx, i]
            s = xi + anc
            rest = [fock[sx, j] for j in range(n_sys) if j != i]
            order = np.lexsort([xi, *rest[::-1], s, jn])
            where = np.empty(n_joint, dtype=np.int64)
            where[order] = np.arange(n_joint)
            keys = np.stack([jn[order], s[order], *[r[order] for r in rest]])
            new = np.ones(n_joint, dtype=bool)
            new[1:] = np.any(keys[:, 1:] != keys[:, :-1], axis=0)
            starts = np.flatnonzero(new)
            sizes = np.diff(np.append(starts, n_joint))
            g_s = s[order][starts]
            if not (np.array_equal(sizes, unitary.size[g_s])
                    and np.array_equal(xi[order] - unitary.first[s[order]],
                                       np.arange(n_joint) - np.repeat(starts, sizes))):
                raise RuntimeError(  # pragma: no cover
                    "joint groups do not match the unitary's blocks")
            orders.append(order)
            in_block.append(where - jb_off[jn])
            groups.append((starts, sizes, g_s, np.repeat(np.arange(starts.size), sizes)))
        g_max = max(g[0].size for g in groups)
        grp_ptr = np.zeros((n_st, n_jb + 1), dtype=np.int64)
        grp_start = np.zeros((n_st, g_max), dtype=np.int64)
        grp_size = np.zeros((n_st, g_max), dtype=np.int64)
        grp_s = np.zeros((n_st, g_max), dtype=np.int64)
        pos_grp = np.zeros((n_st, n_joint), dtype=np.int64)
        next_pos = np.zeros((n_st, n_joint), dtype=np.int64)
        prev_pos = np.zeros((n_st, n_joint), dtype=np.int64)
        anc_st = np.zeros((n_st, n_joint), dtype=np.int64)
        sys_st = np.zeros((n_st, n_joint), dtype=np.int64)
        rng_lo = np.zeros((n_st, n_jb, d_anc), dtype=np.int64)
        rng_hi = np.zeros((n_st, n_jb, d_anc), dtype=np.int64)
        b = np.arange(d_anc)
        for st, (order, (starts, sizes, g_s, of)) in enumerate(zip(orders, groups, strict=True)):
            n_g = starts.size
            g_block = jn[order][starts]
            grp_ptr[st] = np.searchsorted(g_block, np.arange(n_jb + 1))
            grp_start[st, :n_g] = starts - jb_off[g_block]
            grp_size[st, :n_g] = sizes
            grp_s[st, :n_g] = g_s
            pos_grp[st] = of
            anc_st[st] = anc[order]
            sys_st[st] = sx[order]
            if st + 1 < n_st:
                next_pos[st] = in_block[st + 1][order]
                # prev_pos[st, jb_off[N] + next_pos[st, g]] = g - jb_off[N]
                block_of = jn[order]
                prev_pos[st, jb_off[block_of] + next_pos[st]] = np.arange(n_joint) \
                    - jb_off[block_of]
            s_all = fock[sx[order], sites[st]] + anc[order]
            for n in range(n_jb):
                s_blk = s_all[jb_off[n]:jb_off[n] + jb_size[n]]
                rng_lo[st, n] = np.searchsorted(s_blk, b, side="left")
                rng_hi[st, n] = np.searchsorted(s_blk, b + d - 1, side="right")
        return (jb_off, jb_size, np.array(ket, np.int64), np.array(bra, np.int64),
                np.array(off, np.int64), grp_ptr, grp_start, grp_size, grp_s, pos_grp,
                next_pos, prev_pos, anc_st, sys_st, rng_lo, rng_hi)

    @staticmethod
    def _joint_cost(plan, joint: tuple) -> float:
        """Multiply-adds of one step, counted from the loops of the joint kernels, plus
        ``_LOOP_OVERHEAD`` for every inner loop started."""
        (jb_off, jb_size, jpair_ket, jpair_bra, _, grp_ptr, grp_start, grp_size, _,
         pos_grp, _, _, anc, _, rng_lo, rng_hi) = joint
        n_st = grp_ptr.shape[0]
        live = np.asarray(plan.anc_pop) > 0
        madds = loops = 0.0
        for st in range(n_st):
            width = np.where(live[None, :], rng_hi[st] - rng_lo[st], 0)  # (n_jb, d_anc)
            sizes = grp_size[st][pos_grp[st]]  # group size at every position
            for nk, nb in zip(jpair_ket, jpair_bra, strict=True):
                ck, cb = int(jb_size[nk]), int(jb_size[nb])
                ket = slice(jb_off[nk], jb_off[nk] + ck)
                w_row = width[nb, anc[st, ket]]  # bra columns a ket row's ancilla meets
                if st == 0:  # fill Y, then U Y over the column ranges, write
                    groups = slice(grp_ptr[st, nk], grp_ptr[st, nk + 1])
                    per_group = np.add.reduceat(w_row, grp_start[st, groups]) \
                        if ck else np.zeros(0)
                    madds += w_row.sum() + np.sum(grp_size[st, groups] * per_group) \
                        + 4 * ck * cb
                    loops += np.sum(sizes[ket]) + 2 * ck
                elif st < n_st - 1:  # U rho, transpose, conj(U) XT, write
                    fold = 0.5 if nk == nb else 1.0
                    bra = slice(jb_off[nb], jb_off[nb] + cb)
                    madds += ck * cb * (np.mean(sizes[ket]) + fold * np.mean(sizes[bra]) + 6)
                    loops += np.sum(sizes[ket]) + np.sum(sizes[bra]) + ck + cb
                else:  # U rho on the needed columns, one dot product per group
                    madds += np.sum(sizes[ket] * w_row) + 2 * np.sum(w_row)
                    loops += np.sum(sizes[ket]) + np.sum(w_row / np.maximum(sizes[ket], 1))
        return float(madds + _LOOP_OVERHEAD * loops)

    @staticmethod
    def _local_cost(layout: BlockLayout, shifted: np.ndarray) -> float:
        """Multiply-adds of one step of local channels: per stored entry, the shifts that
        stay in the basis on both sides, plus ``_LOOP_OVERHEAD`` per row and shift."""
        bs, b0 = layout.block_size, layout.block_start
        cost = 0.0
        for sh in shifted:
            valid = sh >= 0  # (D, n_delta)
            per_block = np.add.reduceat(valid, b0, axis=0).astype(float)  # (n_blocks, n_delta)
            for nk, nb in zip(layout.pair_ket, layout.pair_bra, strict=True):
                fold = 0.5 if nk == nb else 1.0
                cost += fold * float(per_block[nk] @ per_block[nb]) \
                    + _LOOP_OVERHEAD * per_block[nk].sum() + bs[nk] * bs[nb]
        return cost

    @property
    def memory_bytes(self) -> int:
        """Bytes of the two joint buffers, the two scratch blocks and the int tables."""
        if not self.joint_mode:
            return int(sum(a.nbytes for a in self.local))
        return int(16 * (2 * self.joint_size + 2 * self.max_joint_block ** 2)
                   + sum(a.nbytes for a in self.joint))


# --- the engine -----------------------------------------------------------------------------
class DensityEngine:
    """Precomputed data of one density-engine run.

    Parameters
    ----------
    model : CascadeCollisionModel
    plan : CollisionPlan
        From ``model.plan(rho0, t_max, dt, save_every)``.
    scheme : {"auto", "kraus", "superoperator", "sequential"}
        Kernel choice (see the module docstring); "auto" takes the cheapest.
    sectors : sequence of int, optional
        Excitation differences to store; default: those occupied by ``plan.rho0``.
    sites : sequence of int, optional
        The subsystems the ancilla meets (in this order); default all (a delayed
        cascade's phases drive part of the chain: :mod:`collision.delay`).
    allow_sequential : bool
        Whether "auto" may take the sequential scheme (the heat counting statistics,
        :mod:`collision.counting`, run the Kraus or tabulated step only).
    """

    def __init__(self, model, plan, scheme: str = "auto", sectors=None, sites=None,
                 allow_sequential: bool = True):
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.model = model
        self.plan = plan = plan.dense_initial()
        self._fock = plan.fock if plan.basis is None else plan.fock[plan.basis]
        self._sites = sites
        if sectors is None:
            sectors = occupied_sectors(plan.rho0, self._fock)
        self.layout = lay = BlockLayout.build(self._fock, sectors)
        self._tmp = np.zeros((2, lay.max_block**2), dtype=complex)
        self._work = np.zeros((2, lay.size), dtype=complex)
        self.sequential = SequentialStages.build(plan, lay, model.cascade, sites)
        self.sequential_cost = self.sequential.step_cost * (
            SEQUENTIAL_WEIGHT if self.sequential.joint_mode else LOCAL_CHANNEL_WEIGHT)
        seq_fits = self.sequential.memory_bytes <= MAX_SEQUENTIAL_BYTES
        sup_entries = int(np.sum(lay.sec_size.astype(float) ** 2))
        self.superoperator_cost = float(sup_entries + lay.size)
        if scheme == "sequential" and not seq_fits:
            raise ValueError(
                f"scheme='sequential' needs {self.sequential.memory_bytes / 1e9:.3g} GB for "
                f"the joint state, more than MAX_SEQUENTIAL_BYTES = "
                f"{MAX_SEQUENTIAL_BYTES / 1e9:.3g} GB; use scheme='kraus' or 'auto'")
        if scheme == "auto":
            scheme = self._cheapest(sup_entries, seq_fits and allow_sequential)
        self.scheme = scheme
        self._sup = None
        if scheme == "superoperator":
            self._sup_off = np.concatenate(
                [[0], np.cumsum(lay.sec_size.astype(np.int64) ** 2)[:-1]]).astype(np.int64)
            self._sup = np.zeros(sup_entries, dtype=complex)
            src = np.zeros(lay.size, dtype=complex)
            dst = np.zeros(lay.size, dtype=complex)
            kernels.build_superoperator(lay.sec_start, lay.sec_size, self._sup_off, self._sup,
                                        src, dst, self._work, self._tmp, *self._kraus_args())
        if scheme == "sequential":
            seq = self.sequential
            n_joint = max(seq.joint_size, 1) if seq.joint_mode else 1
            self._jwork = np.zeros((2, n_joint), dtype=complex)
            big = max(seq.max_joint_block, 1)
            self._jtmp = (np.zeros(big**2, dtype=complex), np.zeros(big**2, dtype=complex),
                          np.zeros(big, dtype=complex))  # XT, ZT, one row

    def _cheapest(self, sup_entries: int, seq_fits: bool) -> str:
        """The scheme of least estimated work over the run (module docstring)."""
        lay, n_steps = self.layout, self.plan.n_steps
        costs = {}
        if seq_fits:
            costs["sequential"] = n_steps * self.sequential_cost
        if sup_entries <= MAX_SUPEROPERATOR_ENTRIES:  # small: build the operators
            costs["kraus"] = n_steps * self.kraus_cost
            # tabulating costs about one Kraus step per block pair and stored entry / pair
            costs["superoperator"] = self.kraus_cost * lay.size / lay.pair_ket.size \
                + n_steps * self.superoperator_cost
        else:
            costs["kraus"] = n_steps * kraus_cost_estimate(self.plan, lay, self.model.cascade,
                                                           self._sites)
        return min(costs, key=costs.get)

    @functools.cached_property
    def kraus(self) -> KrausStages:
        """The Kraus operators of a step (built when first needed)."""
        return KrausStages.build(self.plan.unitary, self.plan.anc_pop, self._fock,
                                 self.layout.order, self.model.cascade, self._sites,
                                 self.plan.basis)

    @functools.cached_property
    def kraus_cost(self) -> float:
        """Complex multiply-adds of one ``kraus`` step (builds the operators)."""
        return self.kraus.step_cost(self.layout)

    def _kraus_args(self) -> tuple:
        lay, kr = self.layout, self.kraus
        return (lay.block_start, lay.block_size, lay.pair_ket, lay.pair_bra, lay.pair_off,
                lay.pair_index, kr.shift, kr.ptr, kr.col, kr.val, kr.stage_q)

    @property
    def step_cost(self) -> float:
        """Estimated complex multiply-adds per step of the chosen scheme (``sequential``:
        weighted by ``SEQUENTIAL_WEIGHT`` or ``LOCAL_CHANNEL_WEIGHT``)."""
        if self.scheme == "superoperator":
            return self.superoperator_cost
        return self.sequential_cost if self.scheme == "sequential" else self.kraus_cost

    def step(self, rho: np.ndarray) -> np.ndarray:
        """One averaged step ``Phi(rho)`` (interaction picture), ``(D, D)`` in and out.

        ``rho`` is a Hermitian operator (e.g. a density matrix) whose non-zero entries
        lie in the engine's stored sectors (e.g. ``plan.rho0``); it goes through the
        same kernel as a run (the ``kraus`` kernel for ``superoperator``).
        """
        rho = np.asarray(rho, dtype=complex)
        src = self.layout.pack((rho + rho.conj().T) / 2)
        dst = np.zeros_like(src)
        if self.scheme == "sequential":
            args = self._sequential_args()
            kernels.sequential_step(src, dst, self._work, self._jwork, *self._jtmp,
                                    *args[:5], True, *args[5:])
        else:
            kernels.kraus_step(src, dst, self._work, self._tmp, *self._kraus_args(), True)
        return self.layout.unpack(dst)

    def _sequential_args(self) -> tuple:
        """``(u, ur, u_first, anc_pop, joint_mode, system, joint, local)`` of the kernels."""
        lay, seq, plan = self.layout, self.sequential, self.plan
        system = (lay.block_start, lay.block_size, lay.pair_ket, lay.pair_bra, lay.pair_off,
                  lay.pair_index)
        return (plan.unitary.u, seq.unitary_weights, plan.unitary.first,
                np.asarray(plan.anc_pop, dtype=float), seq.joint_mode, system, seq.joint,
                seq.local)

    def run(self, progress: bool = False, lab_frame: bool = True) -> HeatFluxes:
        """Run ``plan.n_steps`` steps from ``plan.rho0``; fluxes at ``plan.times``;
        ``final_state`` in the lab frame (or the interaction picture)."""
        plan, lay, model = self.plan, self.layout, self.model
        n_saved, n_sys = plan.times.size, model.n_systems
        state = np.zeros((2, lay.size), dtype=complex)
        state[0] = lay.pack((plan.rho0 + plan.rho0.conj().T) / 2)
        out_own = np.zeros((n_saved, n_sys))
        out_local = np.zeros((n_saved, n_sys))
        status = np.zeros(1, dtype=np.int64)
        common = (plan.save_every, 1.0 / plan.dt)
        flux_args = (lay.diag_pos, lay.fock, np.asarray(plan.levels, dtype=float),
                     np.asarray(plan.local_flux, dtype=float), out_own, out_local, status)

        def advance(start: int, stop: int) -> None:
            if self.scheme == "sequential":
                kernels.run_sequential(state, self._work, self._jwork, *self._jtmp,
                                       start, stop, *common,
                                       *self._sequential_args(), *flux_args)
            elif self.scheme == "superoperator":
                kernels.run_superoperator(state, start, stop, *common, lay.sec_start,
                                          lay.sec_size, self._sup_off, self._sup, *flux_args)
            else:
                kernels.run_kraus(state, self._work, self._tmp, start, stop, *common,
                                  *self._kraus_args(), *flux_args)

        monitor = model.top_level_monitor(lay.fock)

        def watch(done: int) -> None:  # the state at the last saved time of the chunk
            if monitor is not None:
                monitor.add(state[(done - 1) % 2, lay.diag_pos])

        watch(1)  # rho0
        done, interrupted = run_in_chunks(advance, self._chunk_stops(),
                                          lambda: int(status[0]), progress=progress,
                                          desc="density engine", after_chunk=watch)
        partial = interrupted and done < plan.n_steps
        if done == 0:
            if partial:
                raise KeyboardInterrupt
            raise RuntimeError("the density engine did not run")  # pragma: no cover
        # saved times 0 .. n_done - 1 are complete; the state at the last one is the
        # input of step (n_done - 1) * save_every, still in its buffer
        n_done = (done - 1) // plan.save_every + 1
        last_step = (n_done - 1) * plan.save_every
        t_last = float(plan.times[n_done - 1])
        watch(last_step + 1)
        rho_last = lay.unpack(state[last_step % 2])
        own, local = out_own[:n_done].T, out_local[:n_done].T
        parameters = {"engine": "density", "scheme": self.scheme,
                      "sectors": self.layout.sectors.tolist(), "stored_entries": self.layout.size,
                      "frame": "lab"}
        if self.scheme == "sequential":
            parameters["joint_entries"] = self.sequential.joint_size
        else:
            parameters["n_kraus"] = self.kraus.n_kraus
        if monitor is not None:
            parameters.update(monitor.parameters)
        if plan.basis is not None:  # the kept basis states of the whole space
            rho_last = plan.embed(rho_last)
        return HeatFluxes(plan.times[:n_done], local, own - local, partial=partial,
                          final_state=None if rho_last is None
                          else model.to_lab_frame(rho_last, t_last) if lab_frame
                          else rho_last,
                          parameters=parameters)

    def _chunk_stops(self) -> np.ndarray:
        """Kernel-call boundaries: just after a saved step, at most MAX_CHUNKS of them,
        each with at least MIN_CHUNK_WORK of work (for oscillators: unless that leaves
        fewer than MIN_WATCH_CHUNKS)."""
        plan = self.plan
        watch = MIN_WATCH_CHUNKS if self.model.system == "oscillator" else 1
        return chunk_stops(plan.times.size, plan.save_every, plan.n_steps, self.step_cost,
                           MAX_CHUNKS, MIN_CHUNK_WORK, min(watch, MAX_CHUNKS))


def run_density(model, plan, progress: bool = False, scheme: str = "auto") -> HeatFluxes:
    """Heat fluxes of the exact averaged collision map.

    Parameters
    ----------
    model : CascadeCollisionModel
        The model (system, chain length, bath, ``cascade``).
    plan : CollisionPlan
        Validated run parameters from ``model.plan``.
    progress : bool
        Show a tqdm progress bar (the run is split into chunks; ``KeyboardInterrupt``
        between chunks returns the finished saved times with ``partial=True``).
    scheme : {"auto", "kraus", "superoperator", "sequential"}
        Kernel choice; all give the same result to rounding.

    Returns
    -------
    HeatFluxes
        ``local`` and ``correlated`` of shape ``(n_systems, len(t))`` in units of
        ``hbar omega gamma``; ``final_state`` is the ``(D, D)`` state at ``t[-1]`` in the
        lab frame.
    """
    plan = plan.dense_initial()
    if any(plan.offsets):
        from .delay import DelayedDensityRun

        return DelayedDensityRun(model, plan, scheme).run(progress=progress)
    return DensityEngine(model, plan, scheme=scheme).run(progress=progress)
