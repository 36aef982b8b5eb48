"""The cascaded master equation with a travel time between subsystems, solved exactly.

With delays ``tau_1 .. tau_{n-1}`` the reservoir's output of S_i reaches S_{i+1} a time
``tau_i`` later; ``T_i = tau_1 + ... + tau_{i-1}`` is when S1's output reaches S_i.
Without feedback this is *not* a memory problem.  The reservoir is a stream of
independent modes (the collision model's ancillas); the dynamics of different
(subsystem, mode) pairs commute, so they may be reordered as long as every subsystem and
every mode keeps its own order.  Follow the modes instead of the clock: in *process
time* ``u`` the mode that reaches S1 at real time ``u`` meets S_i at real time
``u + T_i``.  In process time

* for ``u < 0`` only the subsystems already reached by modes that have not met S1 are
  driven: S_i is active from ``u = -T_i`` on (those modes were fresh when they entered
  the chain downstream of S1), so the process starts at ``u = -T_n`` with S_n alone,
  then S_{n-1} -> S_n, ..., and from ``u = 0`` on it is the zero-delay cascade;
* S_i's own observables at real time ``t`` are those of the process state at
  ``u = t - T_i`` (its reduced state with every upstream subsystem is exact there);
* the equal-time state at real time ``t`` keeps S_i active only while its real time
  ``u + T_i`` lies in ``[0, t)``: the end is staggered too (S_n stops first).

Every phase is a cascade of a contiguous range of the chain with fresh inputs, so the
whole computation uses the exact excitation-block propagators of
:class:`lindblad.model.CascadeMasterEquation` with the terms of the active range.  The
cost does not depend on the delays beyond the phases themselves (the flux run covers
process times ``[-T_n, t_max]``).  Everything is computed in the interaction picture
(every term of the generator is invariant under the free rotation); states are rotated
to the lab frame at the end.

A delay longer than the last requested time (``inf`` included) acts as one just beyond
it: nothing S_i sends reaches S_{i+1} within the run, which therefore sees only fresh
input, whatever the delay's length.  Every delay beyond the horizon is replaced by a
finite one of the order of the run (:meth:`CascadeSpec.delays_within`), which gives the
same results exactly and keeps the propagation times finite (``delay=1e300`` and
``inf`` cost what a delay just beyond ``t_max`` costs).

The energy in flight on link i (between S_i and S_{i+1}) at real time t is what the
modes between them received from S_1 .. S_i:
``sum_{i' <= i} [E_i'(u = t - T_{i+1}) - E_i'(u = t - T_i)]`` in process time (an exact
difference of energies, no quadrature).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._sectors import _Sector
from .fluxes import HeatFluxes


def segments(arrival: np.ndarray, u_start: float, u_end: float,
             t_end: float = np.inf) -> list[tuple[float, float, int, int]]:
    """Process-time segments ``(u0, u1, a, b)`` on which subsystems ``a`` to ``b - 1`` are
    active: ``-T_i <= u < t_end - T_i`` (``t_end = inf`` for the flux run)."""
    cuts = sorted({u_start, u_end, *(-arrival), *(t_end - arrival)} - {np.inf})
    out = []
    for u0, u1 in zip(cuts[:-1], cuts[1:], strict=True):
        if u1 <= u_start or u0 >= u_end or u1 <= u0:
            continue
        u0, u1 = max(u0, u_start), min(u1, u_end)
        mid = 0.5 * (u0 + u1)
        active = np.flatnonzero((mid >= -arrival) & (mid < t_end - arrival))
        if active.size:
            out.append((u0, u1, int(active[0]), int(active[-1]) + 1))
        else:
            out.append((u0, u1, 0, 0))
    return out


def _phase_terms(me, a: int, b: int) -> list:
    """Generator terms (interaction picture) of the cascade of subsystems ``a .. b - 1``."""
    terms = [t for i in range(a, b) for t in me._local_terms[i]]
    for (i, j), pair in me._cascade_terms.items():
        if a <= i and j < b:
            terms += pair
    return terms


def _phase_sector(me, m: int, a: int, b: int):
    """The excitation block ``m`` of the active range's generator (cached on ``me``)."""
    cache = me.__dict__.setdefault("_delay_sectors", {})
    key = (m, a, b)
    if key not in cache:
        cache[key] = _Sector.build(me._n, m, _phase_terms(me, a, b))
    return cache[key]


def _propagate(me, m: int, v: np.ndarray, u_grid: np.ndarray, arrival: np.ndarray,
               t_end: float = np.inf) -> np.ndarray:
    """Block ``m`` of the process state at the sorted process times ``u_grid``
    (``-arrival[-1] <= u_grid``), from ``v`` at ``u = -arrival[-1]``; active subsystems
    as in :func:`segments`."""
    out = np.empty((u_grid.size, v.size), dtype=complex)
    u_end = float(u_grid[-1])
    for u0, u1, a, b in segments(arrival, -arrival[-1], u_end, t_end):
        inside = np.flatnonzero((u_grid >= u0) & (u_grid < u1))
        if b > a:
            rel = np.append(u_grid[inside] - u0, u1 - u0)
            path = _phase_sector(me, m, a, b).propagate(v, rel)
            out[inside], v = path[:-1], path[-1]
        else:
            out[inside] = v
    out[u_grid == u_end] = v
    return out


def _weights(me, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local, correlated and energy weights on block 0 for the active range ``a .. b-1``."""
    cache = me.__dict__.setdefault("_delay_weights", {})
    if (a, b) in cache:
        return cache[(a, b)]
    sec = me.sector(0)

    def adjoint(terms, h):
        out = sp.csr_matrix((me.dim, me.dim), dtype=complex)
        for term in terms:
            out = out - term.coef * (term.right @ h @ term.left)
        return out

    loc, cor, energy = [], [], []
    for i in range(me.n_systems):
        h = me.local_hamiltonian(i)
        loc.append(sec.trace_weights(adjoint(me._local_terms[i], h)))
        pairs = [t for j in range(max(a, 0), i) for t in me._cascade_terms.get((j, i), [])]
        cor.append(sec.trace_weights(adjoint(pairs, h)))
        energy.append(sec.trace_weights(h))
    cache[(a, b)] = (np.array(loc), np.array(cor), np.array(energy))
    return cache[(a, b)]


def heat_fluxes(me, rho0: np.ndarray, t: np.ndarray) -> HeatFluxes:
    """Heat fluxes and energy in flight of the delayed cascade (module docstring)."""
    arrival = me.arrival_times_within(t[-1])
    n = me.n_systems
    need = np.concatenate([t - arrival[i] for i in range(n)] +
                          [t - arrival[i + 1] for i in range(n - 1)])
    u_grid = np.unique(need)
    sec = me.sector(0)
    v = _propagate(me, 0, rho0[sec.ket, sec.bra], u_grid, arrival)
    local = np.zeros((n, t.size))
    corr = np.zeros((n, t.size))
    for i in range(n):
        u = t - arrival[i]
        rows = v[np.searchsorted(u_grid, u)]
        first = np.argmax(u[:, None] >= -arrival[None, :], axis=1)  # first active subsystem
        for a in np.unique(first):
            w_loc, w_cor, _ = _weights(me, int(a), n)
            sel = first == a
            local[i, sel] = (rows[sel] @ w_loc[i]).real
            corr[i, sel] = (rows[sel] @ w_cor[i]).real
    _, _, w_e = _weights(me, 0, n)
    energies = (v @ w_e.T).real  # (len(u_grid), n): E_i of the process state
    in_flight = np.zeros((n - 1, t.size))
    for i in range(n - 1):
        late = np.searchsorted(u_grid, t - arrival[i + 1])
        early = np.searchsorted(u_grid, t - arrival[i])
        in_flight[i] = np.sum(energies[late, :i + 1] - energies[early, :i + 1], axis=1)
    return HeatFluxes(t, local, corr, in_flight=in_flight,
                      parameters={"source": "lindblad", **me.parameters})


def evolve(me, rho0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Equal-time states of the delayed cascade at real times ``t`` (lab frame)."""
    arrival = me.arrival_times_within(t[-1])
    out = np.zeros((t.size, me.dim, me.dim), dtype=complex)
    diff = me._n[:, None] - me._n[None, :]
    for m in np.unique(diff[np.abs(rho0) > 0]):
        sec = me.sector(int(m))
        v0 = rho0[sec.ket, sec.bra]
        for k, tk in enumerate(t):
            v = _propagate(me, int(m), v0, np.array([tk]), arrival, t_end=tk)[-1] \
                if tk > 0 else v0
            out[k, sec.ket, sec.bra] = v
    phase = np.exp(-1j * me.omega * diff[None, :, :] * t[:, None, None])
    return out * phase
