"""The building blocks of the density engine's step on the exchange kernels: the packed
layout of a density matrix in excitation sectors, the Kraus-operator stages, the
sequential (joint system-ancilla) stages, their costs, and the one-collision channel of a
single subsystem.  :class:`collision.density.DensityEngine` chooses among them and runs
them; the delayed engine (:mod:`collision.delay`) uses the same pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Per block pair and Kraus operator, the loop overhead counted in multiply-adds.
_PAIR_OVERHEAD = 24
#: Per inner loop of the ``sequential`` kernels, the overhead counted in multiply-adds.
_LOOP_OVERHEAD = 16

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
        """Number of blocks."""
        return self.block_size.size

    @property
    def max_block(self) -> int:
        """Size of the largest block."""
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
        """Number of Kraus operators."""
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


def local_channel(plan) -> np.ndarray:
    """The superoperator (row-major ``vec``) of one collision of a single subsystem with a
    fresh thermal ancilla, shape ``(d^2, d^2)``."""
    d, d_anc = plan.d_sys, plan.d_anc
    u = collision_operator(plan.unitary, np.arange(d, dtype=np.int64)[:, None], 0, dense=True)
    u = u.reshape(d, d_anc, d, d_anc)  # [x', l, x, k]
    sup = np.zeros((d * d, d * d), dtype=complex)
    for k, p in enumerate(plan.anc_pop):
        if p == 0:
            continue
        for ell in range(d_anc):
            kraus = np.sqrt(p) * u[:, ell, :, k]
            sup += np.kron(kraus, kraus.conj())
    return sup
