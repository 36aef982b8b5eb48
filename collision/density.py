"""The exact ensemble-averaged collision map ("density" engine).

One time step ``dt`` maps the state of the subsystems as::

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

import numpy as np

from lindblad.fluxes import HeatFluxes

from ._kernels import density as kernels
from ._loop import MAX_CHUNKS, MIN_CHUNK_WORK, chunk_stops, run_in_chunks
from .density_stages import (  # noqa: F401 (KrausStages, kraus_cost_estimate: re-exported)
    BlockLayout,
    KrausStages,
    SequentialStages,
    kraus_cost,
    kraus_cost_estimate,
    occupied_sectors,
    unitary_weights,
)

#: Largest number of complex entries of the tabulated step map (``superoperator`` scheme).
MAX_SUPEROPERATOR_ENTRIES = 1 << 20
#: For oscillators, at least this many chunks (when there are enough saved times), so the
#: top-level population is sampled along the run.
MIN_WATCH_CHUNKS = 50
#: Largest memory of the ``sequential`` scheme's joint state (two buffers) and tables.
MAX_SEQUENTIAL_BYTES = 1 << 30
#: Time of one counted multiply-add of the ``sequential`` joint-state kernels relative to
#: the ``kraus`` kernel's (measured 0.6-0.9 ns against 1.2-2.2 ns: real weights times
#: contiguous rows, which vectorize), and of its local-channel kernel (look-ups per term).
SEQUENTIAL_WEIGHT = 0.45
LOCAL_CHANNEL_WEIGHT = 2.5
SCHEMES = ("auto", "kraus", "superoperator", "sequential")


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
