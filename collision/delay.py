"""A travel time between subsystems in the Fock-space collision engines, exactly.

With link delays of ``m_i`` steps, ancilla ``j`` meets S_i at real step ``j + o_i``
(``o_i = m_1 + ... + m_{i-1}``, :attr:`CollisionPlan.offsets`); the ancillas in flight at
``t = 0`` are fresh.  Collisions of different (subsystem, ancilla) pairs commute, so the
run can be reordered by ancilla, keeping every subsystem's and every ancilla's order:
in *process steps* ``j`` (the ancilla's index) the ancilla meets the active subsystems
in turn.  The flux run keeps S_i active from ``j = -o_i`` on, so it is

1. S_n alone for ``m_{n-1}`` steps, then S_{n-1} -> S_n, ..., S_2 -> ... -> S_n (the
   *start phases*, fresh ancillas entering the chain downstream of S1);
2. the zero-delay cascade from ``j = 0`` to the last saved step (the *main phase*: the
   same number of steps as a run without delay).

S_i's flux at real step ``s`` is its flux at process step ``s - o_i`` (an upstream
subsystem's reduced state with S_i is exact there: nothing flows back).  The
equal-time state at the last saved step ``S`` keeps S_i active only while
``j + o_i < S``: it branches off the flux run at ``j = S - o_n`` and ends with the
staggered *end phases* S_1 -> ... -> S_{n-1}, ..., S_1 alone.

Cost.  A phase with one active subsystem is a local channel: its joint-state map is a
power of a ``d^2 x d^2`` superoperator (repeated squaring) and its fluxes follow from
that subsystem's reduced state alone, so the first start phase and the last end phase
cost nothing that grows with the delay.  For two subsystems that makes the run's cost
independent of the delay; in longer chains the phases in which two or more subsystems
are active are stepped (their cost grows with the inner delays).

The energy in flight on link i at real step ``k`` is the energy the ancillas between S_i
and S_{i+1} received from S_1..S_i: ``sum_{i' <= i} dt sum_s own_{i'}(s)`` over the real
steps ``s`` of S_i' with those ancillas (an exact step sum of the engine's own fluxes).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lindblad.fluxes import HeatFluxes

from .density import DensityEngine, collision_operator


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


def matrix_power(sup: np.ndarray, m: int) -> np.ndarray:
    """``sup^m`` by repeated squaring."""
    out = np.eye(sup.shape[0], dtype=complex)
    base = sup.copy()
    while m:
        if m & 1:
            out = base @ out
        base = base @ base
        m >>= 1
    return out


def apply_local(rho: np.ndarray, sup: np.ndarray, site: int, dims: tuple[int, ...]) -> np.ndarray:
    """``(id x S x id)(rho)``: the superoperator ``sup`` acting on subsystem ``site``."""
    n, d = len(dims), dims[site]
    t = rho.reshape(dims + dims)
    s = sup.reshape(d, d, d, d)  # [x', y', x, y]: rho'[x', y'] = s[x', y', x, y] rho[x, y]
    t = np.tensordot(s, t, axes=([2, 3], [site, n + site]))  # (x', y', rest...)
    t = np.moveaxis(t, [0, 1], [site, n + site])
    return t.reshape(rho.shape)


def reduced_state(rho: np.ndarray, site: int, dims: tuple[int, ...]) -> np.ndarray:
    """The state of subsystem ``site``."""
    n = len(dims)
    t = rho.reshape(dims + dims)
    return np.einsum(t, list(range(n)) + [k if k != site else n + site for k in range(n)],
                     [site, n + site]) if n > 1 else rho


class _Record:
    """Own and local fluxes of every subsystem at every process step ``-o_n .. end``."""

    def __init__(self, first: int, last: int, n: int):
        self.first = first
        self.own = np.full((last - first + 1, n), np.nan)
        self.local = np.full((last - first + 1, n), np.nan)

    def put(self, j0: int, sites, own: np.ndarray, local: np.ndarray) -> None:
        rows = slice(j0 - self.first, j0 - self.first + own.shape[0])
        for i in sites:
            self.own[rows, i] = own[:, i]
            self.local[rows, i] = local[:, i]


def _phase_runs(offsets: np.ndarray, j_start: int, j_end: int, real_end: float):
    """Process-step segments ``(j0, j1, a, b)``: subsystems ``a .. b-1`` active on
    ``j0 <= j < j1``, where S_i is active while ``-o_i <= j < real_end - o_i``."""
    cuts = sorted({j_start, j_end, *(int(-o) for o in offsets),
                   *(int(real_end - o) for o in offsets if np.isfinite(real_end))})
    out = []
    for j0, j1 in zip(cuts[:-1], cuts[1:], strict=True):
        if j1 <= j_start or j0 >= j_end:
            continue
        j0, j1 = max(j0, j_start), min(j1, j_end)
        on = np.flatnonzero((j0 >= -offsets) & (j0 < real_end - offsets))
        out.append((j0, j1, int(on[0]) if on.size else 0, int(on[-1]) + 1 if on.size else 0))
    return out


class DelayedDensityRun:
    """The density engine with delays (module docstring)."""

    def __init__(self, model, plan, scheme: str = "auto"):
        self.model, self.plan, self.scheme = model, plan, scheme
        self.offsets = np.asarray(plan.offsets, dtype=np.int64)
        self.dims = model.dims
        self.sup = local_channel(plan)
        self.levels = np.asarray(plan.levels, dtype=float)
        self.local_flux = np.asarray(plan.local_flux, dtype=float)

    # --- one phase ----------------------------------------------------------------------
    def _phase(self, rho, j0: int, j1: int, a: int, b: int, record: _Record | None,
               progress: bool = False):
        """Advance ``rho`` (interaction picture) over process steps ``j0 .. j1 - 1`` with
        subsystems ``a .. b-1`` active, recording their fluxes; returns the new state."""
        steps = j1 - j0
        if b - a == 0:
            return rho
        if b - a == 1:  # one subsystem: a local channel
            if record is not None:
                self._record_local(rho, a, j0, steps, record)
            return apply_local(rho, matrix_power(self.sup, steps), a, self.dims)
        plan = dataclasses.replace(self.plan, rho0=rho, n_steps=steps + 1, save_every=1,
                                   times=np.arange(steps + 1) * self.plan.dt)
        res = DensityEngine(self.model, plan, scheme=self.scheme,
                            sites=range(a, b)).run(progress=progress, lab_frame=False)
        if res.partial:
            raise KeyboardInterrupt
        if record is not None:
            local = res.local.T[:steps]
            record.put(j0, range(a, b), local + res.correlated.T[:steps], local)
        return res.final_state

    def _record_local(self, rho, site: int, j0: int, steps: int, record: _Record) -> None:
        """Fluxes of a subsystem alone with fresh ancillas, from its reduced state."""
        r = reduced_state(rho, site, self.dims).reshape(-1)
        pops = np.empty((steps, self.levels.size))
        for s in range(steps):
            pops[s] = np.real(np.diag(r.reshape(self.levels.size, -1)))
            r = self.sup @ r
        local = pops @ self.local_flux
        own = np.zeros((steps, len(self.dims)))
        loc = np.zeros_like(own)
        own[:, site] = local
        loc[:, site] = local
        record.put(j0, [site], own, loc)

    # --- the run --------------------------------------------------------------------------
    def run(self, progress: bool = False) -> HeatFluxes:
        plan, o = self.plan, self.offsets
        n = len(self.dims)
        last = (plan.times.size - 1) * plan.save_every  # last saved real step
        record = _Record(-int(o[-1]), last, n)
        rho = (plan.rho0 + plan.rho0.conj().T) / 2
        branch = last - int(o[-1])  # where the equal-time state leaves the flux run
        cuts = _phase_runs(o, -int(o[-1]), last + 1, np.inf)
        equal_time = None
        for j0, j1, a, b in cuts:
            if j0 <= branch < j1 and branch > j0:
                rho = self._phase(rho, j0, branch, a, b, record, progress)
                j0 = branch
            if j0 == branch:
                equal_time = rho
            rho = self._phase(rho, j0, j1, a, b, record, progress)
        if equal_time is None:  # branch == last + 1 cannot happen; branch at the very end
            equal_time = rho
        for j0, j1, a, b in _phase_runs(o, branch, last, last):
            equal_time = self._phase(equal_time, j0, j1, a, b, None)
        return self._result(record, equal_time, last)

    def _result(self, record: _Record, equal_time: np.ndarray, last: int) -> HeatFluxes:
        plan, o, model = self.plan, self.offsets, self.model
        n = len(self.dims)
        real = np.arange(0, last + 1, plan.save_every)
        local = np.empty((n, real.size))
        own = np.empty((n, real.size))
        for i in range(n):
            rows = real - o[i] - record.first
            local[i], own[i] = record.local[rows, i], record.own[rows, i]
        # energy handed over by S_i up to real step s: cumulative own flux
        handed = np.zeros((last + 2, n))
        for i in range(n):
            rows = np.arange(0, last + 1) - o[i] - record.first
            handed[1:, i] = np.cumsum(record.own[rows, i]) * plan.dt
        in_flight = np.zeros((n - 1, real.size))
        for i in range(n - 1):
            for ip in range(i + 1):
                lo = np.clip(real - o[i + 1] + o[ip], 0, None)
                hi = np.clip(real - o[i] + o[ip], 0, None)
                in_flight[i] += handed[hi, ip] - handed[lo, ip]
        t = real * plan.dt
        return HeatFluxes(t, local, own - local, in_flight=in_flight,
                          final_state=model.to_lab_frame(equal_time, float(t[-1])),
                          parameters={"engine": "density", "scheme": self.scheme,
                                      "delay_steps": np.diff(o).tolist(), "frame": "lab"})
