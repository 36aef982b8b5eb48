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

Two kernels (:mod:`collision._kernels.density`) run the whole time loop in compiled
code, without allocation:

* ``kraus``: the block loop above;
* ``superoperator``: for small problems (qubits) the step map restricted to each sector
  is first tabulated as a dense matrix by applying the ``kraus`` step to unit vectors;
  a step is then one small matrix-vector product per sector.  Both give the same numbers
  to rounding; ``scheme="auto"`` picks the cheaper one.

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
SCHEMES = ("auto", "kraus", "superoperator")


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
        bs, b0, n_blocks = layout.block_size, layout.block_start, layout.n_blocks
        # nnz[q, N]: non-zeros of operator q in the rows of target block N
        edges = np.append(b0, b0[-1] + bs[-1])
        nnz = self.ptr[:, edges[1:]] - self.ptr[:, edges[:-1]]
        tk = layout.pair_ket[None, :] + self.shift[:, None]  # shape (n_kraus, n_pairs)
        tb = layout.pair_bra[None, :] + self.shift[:, None]
        ok = (tb >= 0) & (tk < n_blocks)
        tk, tb = np.where(ok, tk, 0), np.where(ok, tb, 0)
        q = np.arange(self.n_kraus)[:, None]
        nnz_k, nnz_b = nnz[q, tk], nnz[q, tb]
        cost = nnz_k * bs[layout.pair_bra][None, :] + bs[tk] * nnz_b + _PAIR_OVERHEAD
        return float(np.sum(np.where(ok & (nnz_k > 0) & (nnz_b > 0), cost, 0)))


# --- the engine -----------------------------------------------------------------------------
class DensityEngine:
    """Precomputed data of one density-engine run.

    Parameters
    ----------
    model : CascadeCollisionModel
    plan : CollisionPlan
        From ``model.plan(rho0, t_max, dt, save_every)``.
    scheme : {"auto", "kraus", "superoperator"}
        Kernel choice (see the module docstring); "auto" takes the cheaper one.
    sectors : sequence of int, optional
        Excitation differences to store; default: those occupied by ``plan.rho0``.
    sites : sequence of int, optional
        The subsystems the ancilla meets (in this order); default all (a delayed
        cascade's phases drive part of the chain: :mod:`collision.delay`).
    """

    def __init__(self, model, plan, scheme: str = "auto", sectors=None, sites=None):
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.model = model
        self.plan = plan
        fock = plan.fock if plan.basis is None else plan.fock[plan.basis]
        if sectors is None:
            sectors = occupied_sectors(plan.rho0, fock)
        self.layout = BlockLayout.build(fock, sectors)
        self.kraus = KrausStages.build(plan.unitary, plan.anc_pop, fock, self.layout.order,
                                       model.cascade, sites, plan.basis)
        lay = self.layout
        self._tmp = np.zeros((2, lay.max_block**2), dtype=complex)
        self._work = np.zeros((2, lay.size), dtype=complex)
        self.kraus_cost = self.kraus.step_cost(lay)
        sup_entries = int(np.sum(lay.sec_size.astype(float) ** 2))
        self.superoperator_cost = float(sup_entries + lay.size)
        if scheme == "auto":
            # tabulating costs about one Kraus step per block pair and stored entry / pair
            build = self.kraus_cost * lay.size / lay.pair_ket.size
            cheaper = build + plan.n_steps * self.superoperator_cost \
                < plan.n_steps * self.kraus_cost
            scheme = "superoperator" if cheaper and sup_entries <= MAX_SUPEROPERATOR_ENTRIES \
                else "kraus"
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

    def _kraus_args(self) -> tuple:
        lay, kr = self.layout, self.kraus
        return (lay.block_start, lay.block_size, lay.pair_ket, lay.pair_bra, lay.pair_off,
                lay.pair_index, kr.shift, kr.ptr, kr.col, kr.val, kr.stage_q)

    @property
    def step_cost(self) -> float:
        """Estimated complex multiply-adds per step of the chosen scheme."""
        return self.superoperator_cost if self.scheme == "superoperator" else self.kraus_cost

    def step(self, rho: np.ndarray) -> np.ndarray:
        """One averaged step ``Phi(rho)`` (interaction picture), ``(D, D)`` in and out.

        ``rho`` is a Hermitian operator (e.g. a density matrix) whose non-zero entries
        lie in the engine's stored sectors (e.g. ``plan.rho0``); it goes through the
        same kernel as a ``kraus`` run.
        """
        rho = np.asarray(rho, dtype=complex)
        src = self.layout.pack((rho + rho.conj().T) / 2)
        dst = np.zeros_like(src)
        kernels.kraus_step(src, dst, self._work, self._tmp, *self._kraus_args(), True)
        return self.layout.unpack(dst)

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
            if self.scheme == "superoperator":
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
        parameters = {"engine": "density", "scheme": self.scheme, "n_kraus": self.kraus.n_kraus,
                      "sectors": self.layout.sectors.tolist(), "stored_entries": self.layout.size,
                      "frame": "lab"}
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
    scheme : {"auto", "kraus", "superoperator"}
        Kernel choice; all give the same result to rounding.

    Returns
    -------
    HeatFluxes
        ``local`` and ``correlated`` of shape ``(n_systems, len(t))`` in units of
        ``hbar omega gamma``; ``final_state`` is the ``(D, D)`` state at ``t[-1]`` in the
        lab frame.
    """
    plan = plan.dense_initial() if plan.basis is None else plan
    if any(plan.offsets):
        from .delay import DelayedDensityRun

        return DelayedDensityRun(model, plan, scheme).run(progress=progress)
    return DensityEngine(model, plan, scheme=scheme).run(progress=progress)
