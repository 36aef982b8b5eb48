"""A travel time between subsystems in the Fock-space collision engines, exactly.

With link delays of ``m_i`` steps, ancilla ``j`` meets S_i at real step ``j + o_i``
(``o_i = m_1 + ... + m_{i-1}``, :attr:`CollisionPlan.offsets`); the ancillas in flight at
``t = 0`` are fresh.  Collisions of different (subsystem, ancilla) pairs commute, so the
run can be reordered by ancilla, keeping every subsystem's and every ancilla's order:
in *process steps* ``j`` (the ancilla's index) the ancilla meets the active subsystems
in turn.  The flux run keeps S_i active while ``-o_i <= j <= K - o_i`` (``K`` the last
saved real step; later collisions only act on later real steps downstream), so it is

1. S_n alone for ``m_{n-1}`` steps, then S_{n-1} -> S_n, ..., S_2 -> ... -> S_n (the
   *start phases*, fresh ancillas entering the chain downstream of S1);
2. the zero-delay cascade from ``j = 0`` (the *main phase*);
3. the staggered end: S_n stops first, ..., S1 alone last (``j <= K``).

S_i's flux at real step ``s`` is its flux at process step ``s - o_i`` (an upstream
subsystem's reduced state with S_i is exact there: nothing flows back).  The
equal-time state at the last saved step ``K`` keeps S_i active only while
``j + o_i < K``: it branches off the flux run at ``j = K - o_n`` and ends with the
staggered *end phases* S_1 -> ... -> S_{n-1}, ..., S_1 alone.

Delays beyond the run.  S_{l+1} meets the first ancilla that has met S_l at real step
``m_l``; if ``m_l > K`` it sees only fresh ancillas during the whole run, whatever the
delay's length.  The plan caps every ``m_l`` at the run's ``K + 1`` steps
(:func:`collision.model.delay_steps`), which gives the same run exactly, so
``delay=1e300`` or ``inf`` costs what ``m_l = K + 1`` costs.

Cost.  A phase with one active subsystem is a local channel: its joint-state map is a
power of a ``d^2 x d^2`` superoperator (repeated squaring) and its fluxes follow from
that subsystem's reduced state alone, with no work per step beyond the row of fluxes
kept for it.  The record (:class:`_Record`) keeps every subsystem's fluxes at the run's
real steps only, ``2 n (K + 1)`` numbers, and the phases with two or more active
subsystems are stepped: with capped delays they span at most the run's ``K + 1``
steps each, so memory and time never grow with a delay beyond the run.  For two
subsystems the stepped phases are the main phase only (at most ``K + 1`` steps, fewer
the longer the delay: none once ``m_1 > K``); in longer chains the stretches in which
two or more subsystems are active grow with the inner delays shorter than the run.

The energy in flight on link i at real step ``k`` is the energy the ancillas between S_i
and S_{i+1} received from S_1..S_i: ``sum_{i' <= i} dt sum_s own_{i'}(s)`` over the real
steps ``s`` of S_i' with those ancillas (an exact step sum of the engine's own fluxes).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lindblad.fluxes import HeatFluxes

from .density import DensityEngine
from .density_stages import local_channel
from .resources import FINAL_STATE_DIM as MAX_FINAL_STATE_DIM
from .trajectories import run_trajectories


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
    """Own and local fluxes of every subsystem at the real steps ``0 .. last``.

    Phases hand in their fluxes by process step; S_i's process step ``j`` is its real
    step ``j + o_i``, and only the real steps of the run are kept, so the record holds
    ``2 n (last + 1)`` numbers whatever the delays (the energy in flight needs every
    real step: :func:`in_flight`).

    Attributes
    ----------
    own, local : ndarray, shape (n, last + 1)
        S_i's own and local flux at real step ``s`` (NaN until recorded).
    """

    def __init__(self, offsets: np.ndarray, last: int):
        self.offsets, self.last = offsets, last
        self.own = np.full((offsets.size, last + 1), np.nan)
        self.local = np.full((offsets.size, last + 1), np.nan)

    def window(self, site: int, j0: int, rows: int) -> tuple[int, int]:
        """The rows ``lo <= k < hi`` of a phase of ``rows`` process steps from ``j0`` whose
        real steps ``j0 + k + o_site`` lie in the run (``lo == hi``: none)."""
        first = j0 + int(self.offsets[site])
        lo = min(rows, max(0, -first))
        return lo, max(lo, min(rows, self.last + 1 - first))

    def put(self, j0: int, site: int, own: np.ndarray, local: np.ndarray) -> None:
        """S_site's fluxes at the process steps ``j0, j0 + 1, ...`` (rows outside the run
        are dropped)."""
        lo, hi = self.window(site, j0, own.shape[0])
        first = j0 + int(self.offsets[site])
        self.own[site, first + lo:first + hi] = own[lo:hi]
        self.local[site, first + lo:first + hi] = local[lo:hi]


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
        self._engines: dict[tuple[int, int], DensityEngine] = {}
        self.last = (plan.times.size - 1) * plan.save_every  # last saved real step
        # populations of one subsystem alone: p -> transfer @ p (the channel is
        # phase covariant, so populations evolve on their own)
        d = self.levels.size
        diag = np.arange(d) * (d + 1)
        self.transfer = np.real(self.sup[np.ix_(diag, diag)])

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
        engine = self._engines.get((a, b))
        if engine is None:  # the Kraus data depend on the active range only
            engine = self._engines[(a, b)] = DensityEngine(self.model, plan, self.scheme,
                                                           sites=range(a, b))
        engine.plan = plan
        res = engine.run(progress=progress, lab_frame=False)
        if record is not None:  # after Ctrl-C: the steps that finished
            done = min(steps, res.t.size)
            for i in range(a, b):
                local = res.local[i, :done]
                record.put(j0, i, local + res.correlated[i, :done], local)
        if res.partial:
            raise KeyboardInterrupt
        return res.final_state

    def _record_local(self, rho, site: int, j0: int, steps: int, record: _Record) -> None:
        """Fluxes of a subsystem alone with fresh ancillas, from its reduced state (only
        at the process steps that are real steps of the run)."""
        lo, hi = record.window(site, j0, steps)
        if hi == lo:
            return
        pops = np.real(np.diagonal(reduced_state(rho, site, self.dims)))[None, :]
        if lo:
            pops = pops @ np.linalg.matrix_power(self.transfer, lo).T
        power = self.transfer
        while pops.shape[0] < hi - lo:  # rows p, M p, ..., doubling: log2(steps) products
            pops = np.vstack([pops, pops @ power.T])
            power = power @ power
        local = pops[:hi - lo] @ self.local_flux
        record.put(j0 + lo, site, local, local)

    # --- the run --------------------------------------------------------------------------
    def advance(self, rho, j_start: int, j_end: int, record: _Record | None, branch: int,
                progress: bool = False):
        """The flux run from process step ``j_start`` to ``j_end``: returns the state at
        ``j_end`` and the state at ``branch`` (None if outside ``[j_start, j_end]``).

        S_i is active while its real step ``j + o_i`` is at most the last saved step
        (later collisions would only act on later real steps downstream), so a stretch in
        which one subsystem is active is a power of its local channel, whatever its
        length."""
        at_branch = rho if branch == j_start else None
        for j0, j1, a, b in _phase_runs(self.offsets, j_start, j_end, self.last + 1):
            if j0 < branch < j1:
                rho = self._phase(rho, j0, branch, a, b, record, progress)
                at_branch, j0 = rho, branch
            rho = self._phase(rho, j0, j1, a, b, record, progress)
            if j1 == branch:
                at_branch = rho
        return rho, at_branch

    def equal_time_state(self, rho_at_branch: np.ndarray, last: int) -> np.ndarray:
        """The equal-time state at real step ``last`` (interaction picture) from the flux
        run's state at process step ``last - o_n``: the staggered end phases."""
        branch = last - int(self.offsets[-1])
        for j0, j1, a, b in _phase_runs(self.offsets, branch, last, last):
            rho_at_branch = self._phase(rho_at_branch, j0, j1, a, b, None)
        return rho_at_branch

    def run(self, progress: bool = False) -> HeatFluxes:
        """The delayed run; after Ctrl-C the saved times that every subsystem has
        finished, with ``partial=True`` and no ``final_state``."""
        plan, o, last = self.plan, self.offsets, self.last
        record = _Record(o, last)
        rho = (plan.rho0 + plan.rho0.conj().T) / 2
        try:
            _, at_branch = self.advance(rho, -int(o[-1]), last + 1, record,
                                        last - int(o[-1]), progress)
        except KeyboardInterrupt:
            return self._result(record, None, last)
        return self._result(record, self.equal_time_state(at_branch, last), last)

    def _result(self, record: _Record, equal_time: np.ndarray | None,
                last: int) -> HeatFluxes:
        plan, o = self.plan, self.offsets
        local, own = record.local, record.own
        partial = equal_time is None
        if partial:  # the real steps every subsystem has finished
            done = int(np.argmin(np.all(np.isfinite(own), axis=0).tolist() + [False]))
            last = (done - 1) // plan.save_every * plan.save_every
            if done == 0:
                raise KeyboardInterrupt
            local, own = local[:, :last + 1], own[:, :last + 1]
        real = np.arange(0, last + 1, plan.save_every)
        t = real * plan.dt
        return HeatFluxes(t, local[:, real], (own - local)[:, real], partial=partial,
                          in_flight=in_flight(own, o, real, plan.dt),
                          final_state=None if partial
                          else self.model.to_lab_frame(equal_time, float(t[-1])),
                          parameters={"engine": "density", "scheme": self.scheme,
                                      "delay_steps": np.diff(o).tolist(), "frame": "lab"})


def in_flight(own: np.ndarray, offsets: np.ndarray, real: np.ndarray, dt: float) -> np.ndarray:
    """Energy in flight on every link at the real steps ``real`` (module docstring), from
    every subsystem's own flux at every real step, ``own`` of shape (n, last + 1)."""
    n, steps = own.shape
    handed = np.zeros((n, steps + 1))  # energy S_i handed over before real step s
    handed[:, 1:] = np.cumsum(own, axis=1) * dt
    out = np.zeros((n - 1, real.size))
    for i in range(n - 1):
        for ip in range(i + 1):
            lo = np.clip(real - offsets[i + 1] + offsets[ip], 0, None)
            hi = np.clip(real - offsets[i] + offsets[ip], 0, None)
            out[i] += handed[ip, hi] - handed[ip, lo]
    return out


def run_trajectories_delayed(model, plan, progress: bool = False, **options) -> HeatFluxes:
    """The trajectory engine with delays.

    The start phases (process steps ``-o_n .. -1``) are computed exactly with the
    density engine; the main phase (the zero-delay cascade from their final state) is
    sampled by trajectories, whose per-trajectory fluxes are re-indexed to real time
    (S_i's real step ``s`` is process step ``s - o_i``; before the main phase the exact
    start-phase fluxes, with no variance), so that means and standard errors (of sums
    too) are those of the real-time quantities.  Statistics are kept at every step, for
    the energy in flight, and the result is thinned to the saved times; it carries no
    mergeable ``statistics``.  The equal-time final state (``D <= 1024``) comes from a
    second trajectory run of the same seed up to process step ``last - o_n`` followed by
    the exact end phases.
    """
    o = np.asarray(plan.offsets, dtype=np.int64)
    n = len(model.dims)
    last = (plan.times.size - 1) * plan.save_every
    branch = last - int(o[-1])
    exact = DelayedDensityRun(model, plan)
    record = _Record(o, last)
    rho = (plan.rho0 + plan.rho0.conj().T) / 2
    sigma0, at_branch = exact.advance(rho, -int(o[-1]), 0, record, branch)
    steps = np.arange(last + 1)

    def process_plan(end: int):
        return dataclasses.replace(plan, rho0=sigma0, save_every=1, n_steps=end + 1,
                                   times=np.arange(end + 1) * plan.dt, offsets=())

    def row_map(rows: np.ndarray) -> np.ndarray:
        out = np.empty((rows.shape[0], steps.size, 2, n))
        for i in range(n):
            j = steps - o[i]
            mc = j >= 0
            out[:, mc, :, i] = rows[:, j[mc], :, i]
            before = steps[~mc]
            out[:, ~mc, 0, i] = record.local[i, before]
            out[:, ~mc, 1, i] = record.own[i, before] - record.local[i, before]
        return out

    res = run_trajectories(model, process_plan(last), progress=progress,
                           real_time=(steps * plan.dt, row_map), **options)
    real = np.arange(0, last + 1, plan.save_every)
    own = res.local + res.correlated
    err = res.stderr
    err.t, err.local, err.correlated = err.t[real], err.local[:, real], err.correlated[:, real]
    err.sums = {k: v[..., real] for k, v in err.sums.items()}
    out = HeatFluxes(real * plan.dt, res.local[:, real], res.correlated[:, real], stderr=err,
                     partial=res.partial, in_flight=in_flight(own, o, real, plan.dt),
                     parameters={**res.parameters, "delay_steps": np.diff(o).tolist()})
    if options.get("final_state", True) and model.dim <= MAX_FINAL_STATE_DIM:
        if branch > 0:
            part = run_trajectories(model, process_plan(branch), **options)
            at_branch = model.to_lab_frame(part.final_state, -branch * plan.dt)
        out.final_state = model.to_lab_frame(exact.equal_time_state(at_branch, last),
                                             float(out.t[-1]))
    return out
