"""Thermal ancillas and the automatic bath cutoff.

A qubit ancilla is exact with 2 levels.  A bosonic ancilla is truncated to ``d_b`` Fock
levels, and this module chooses ``d_b`` from a stated error bound.

The error bound
---------------
``leak(d_b)`` is the probability that one time step ever needs an ancilla level
``>= d_b``: the ancilla arrives with ``>= d_b`` quanta (thermal weight
``(N/(N+1))^d_b``), or one of the step's ``n_systems`` collisions lifts it there.  The
ancilla's level distribution is followed through the collisions with the untruncated
beam-splitter amplitudes (the block unitary of :mod:`collision.unitaries` with an
ancilla space large enough to hold every reachable level); weight that leaves the kept
levels is counted once and dropped.  Every subsystem is given the populations ``P(n)``:
the elementwise maximum of the initial reduced populations of every subsystem and of
the reservoir-temperature Gibbs populations (a bound for product states, since the leak
is linear in each subsystem's populations).

Correlated states.  A product of marginals underestimates the weight of joint
configurations in a correlated state: in ``sum_n lambda^n |n, n>`` both oscillators are
excited together with probability ``lambda^2``, not ``lambda^4``, and the ancilla that
took S1's quantum meets an excited S2 far more often than the product predicts
(measured: with the product bound alone the automatic cutoff was 2 for ``lambda =
0.05`` at ``dt = 0.02``, and the correlated flux came out 68 % off).  The joint
populations of ``rho0`` that exceed the product bound are therefore followed
configuration by configuration (:func:`correlation_leak`) and their leak is added.
Leak probabilities add populations, not amplitudes: interference between paths is
not bounded, which is why ``bath_tol`` is small.

The ancilla enters with its Gibbs populations restricted to the ``d_b`` kept levels and
renormalised (the exact Gibbs state of the truncated mode).

Cost.  The automatic cutoff grows with the temperature (the thermal tail
``(N/(N+1))^d_b`` must fall below ``bath_tol``), and the density engine's cost per step
grows as ``d_b^3`` (``d_b^2`` Kraus operators).  What helps at high temperature: a
larger ``bath_tol`` (a looser, still stated, bound), a smaller ``dt`` (fewer levels are
lifted per step), ``bath="qubit"`` (a 2-level ancilla, exact, but a different reservoir:
the rates of paper eq 7), or, for Gaussian states of oscillators,
:class:`collision.GaussianCollisionModel`, which has no cutoffs at all.
"""

from __future__ import annotations

import numpy as np

from lindblad._validate import integer
from lindblad.thermal import thermal_populations

from ._loop import TruncationWarning, warn
from .unitaries import exchange_unitary

#: What helps when the boson bath needs many levels (module docstring).
_REMEDIES = ("raise bath_tol (a looser per-step bound), lower dt, use bath='qubit' (exact "
             "2-level ancillas, but the reservoir rates of paper eq 7), or, for Gaussian "
             "states, GaussianCollisionModel (no cutoffs)")

#: Default bound on the per-step probability of needing an ancilla level beyond the cutoff.
DEFAULT_BATH_TOL = 1e-8
#: Largest automatic boson-bath cutoff.
MAX_BATH_CUTOFF = 64


def ancilla_populations(bath: str, temperature: float, omega: float, d_anc: int) -> np.ndarray:
    """Fock populations of an incoming ancilla, ground first, shape ``(d_anc,)``."""
    if bath == "qubit":
        return thermal_populations("qubit", temperature, omega)
    return thermal_populations("oscillator", temperature, omega, d_anc)


def leak_probability(d_anc: int, theta: float, temperature: float, omega: float,
                     sys_populations: np.ndarray, n_systems: int) -> float:
    """Probability that one step needs an ancilla level ``>= d_anc`` (boson bath).

    The ancilla's level distribution is followed exactly through the ``n_systems``
    collisions of one step, each subsystem having the populations ``P(n)``; weight that
    arrives on, or is lifted to, a level ``>= d_anc`` is counted and dropped, so the
    result is the probability that the step ever needs such a level.

    Parameters
    ----------
    d_anc : int
        Candidate ancilla dimension.
    theta : float
        Collision angle ``sqrt(gamma dt)``.
    temperature, omega : float
        Reservoir temperature and frequency.
    sys_populations : ndarray, shape (d_sys,)
        Fock populations ``P(n)`` of a subsystem.  They need not be normalised: the
        elementwise maximum of several distributions gives an upper bound.
    n_systems : int
        Number of collisions per step.
    """
    d_sys = sys_populations.size
    ratio = 0.0 if temperature == 0 else float(np.exp(-omega / temperature))
    q = (1 - ratio) * ratio ** np.arange(d_anc)  # incoming weight on the kept levels
    leak = ratio**d_anc  # incoming weight above them
    u = exchange_unitary(d_sys, d_anc + d_sys, theta)  # holds every level reachable from q
    for _ in range(n_systems):
        out = np.zeros(d_anc + d_sys)
        for n in np.flatnonzero(sys_populations):
            for k in np.flatnonzero(q):
                s = n + k
                lo = u.first[s]
                col = np.abs(u.u[s, :u.size[s], n - lo]) ** 2  # to |lo + j, s - lo - j>
                out[s - lo - np.arange(u.size[s])] += sys_populations[n] * q[k] * col
        leak += float(out[d_anc:].sum())  # lifted out of the kept levels: counted, dropped
        q = out[:d_anc]
    return leak


def _transfer_probabilities(d_sys: int, d_anc: int, theta: float) -> np.ndarray:
    """``T[n, k, l]``: probability that an ancilla arriving with ``k < d_anc`` quanta at a
    subsystem in level ``n`` leaves with ``l < d_anc + d_sys`` (untruncated ancilla)."""
    u = exchange_unitary(d_sys, d_anc + d_sys, theta)
    out = np.zeros((d_sys, d_anc, d_anc + d_sys))
    for n in range(d_sys):
        for k in range(d_anc):
            s = n + k
            lo = u.first[s]
            col = np.abs(u.u[s, :u.size[s], n - lo]) ** 2  # to |lo + j, s - lo - j>
            out[n, k, s - lo - np.arange(u.size[s])] = col
    return out


def correlation_leak(d_anc: int, theta: float, temperature: float, omega: float,
                     weights: np.ndarray, fock: np.ndarray, d_sys: int) -> float:
    """Leak probability of joint Fock configurations of the subsystems.

    Like :func:`leak_probability`, but the ancilla's level distribution is followed
    separately for every configuration ``fock[c]`` (the Fock levels of S1, S2, ...) with
    weight ``weights[c]``, and the leaks are summed: the collisions of one step meet the
    levels of that configuration.

    Parameters
    ----------
    d_anc : int
        Candidate ancilla dimension.
    theta, temperature, omega : float
        Collision angle, reservoir temperature and frequency.
    weights : ndarray, shape (m,)
        Non-negative weights of the configurations.
    fock : ndarray of int, shape (m, n_systems)
        Fock levels of every configuration; the collisions follow the columns in order.
    d_sys : int
        Fock dimension of a subsystem.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.size == 0:
        return 0.0
    fock = np.asarray(fock)
    ratio = 0.0 if temperature == 0 else float(np.exp(-omega / temperature))
    transfer = _transfer_probabilities(d_sys, d_anc, theta)
    q = np.outer(weights, (1 - ratio) * ratio ** np.arange(d_anc))  # per configuration
    leak = ratio**d_anc * float(weights.sum())  # arriving above the kept levels
    out = np.empty((weights.size, d_anc + d_sys))
    for i in range(fock.shape[1]):
        for n in range(d_sys):
            at = fock[:, i] == n
            out[at] = q[at] @ transfer[n]
        leak += float(out[:, d_anc:].sum())  # lifted out of the kept levels: counted, dropped
        q = out[:, :d_anc].copy()
    return leak


def choose_bath_cutoff(bath: str, theta: float, temperature: float, omega: float,
                       sys_populations: np.ndarray, n_systems: int,
                       bath_cutoff: int | None = None,
                       tol: float = DEFAULT_BATH_TOL,
                       correlated: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> tuple[int, float]:
    """Pick (or check) the ancilla dimension.

    The leak of a candidate is :func:`leak_probability` with ``sys_populations`` plus,
    if ``correlated = (weights, fock)`` is given, :func:`correlation_leak` of those
    joint configurations (the weight of a correlated state beyond the product bound).

    Returns ``(d_anc, per_step_leak)``.  For a qubit bath ``d_anc = 2`` and the leak is 0.
    With ``bath_cutoff=None`` the smallest ``d_anc >= 2`` with
    ``leak(d_anc) <= tol`` is chosen; a user-given cutoff whose leak exceeds
    ``tol`` triggers a :class:`collision.TruncationWarning` (a ``UserWarning``) that
    states the figure and what helps.

    Raises
    ------
    ValueError
        For an invalid ``bath_cutoff`` or ``tol``, or when no automatic cutoff up to
        ``MAX_BATH_CUTOFF`` meets ``tol`` (the message says which parameters help).
    """
    if bath == "qubit":
        if bath_cutoff not in (None, 2):
            raise ValueError(f"a qubit bath has 2 levels; bath_cutoff must be None or 2, "
                             f"got {bath_cutoff!r}")
        return 2, 0.0
    if not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"bath_tol must lie in (0, 1), got {tol!r}")

    def total_leak(d: int) -> float:
        leak = leak_probability(d, theta, temperature, omega, sys_populations, n_systems)
        if correlated is not None:
            leak += correlation_leak(d, theta, temperature, omega, *correlated,
                                     sys_populations.size)
        return leak
    if bath_cutoff is not None:
        d = integer(bath_cutoff, "bath_cutoff", 2, note=" (a bosonic ancilla must be able to "
                    "take at least one quantum)")
        leak = total_leak(d)
        if leak > tol:
            warn(f"bath_cutoff={d} leaves a per-step probability {leak:.2e} of needing a "
                 f"higher ancilla level (bath_tol = {tol:.1e}); results carry an error of "
                 "that order per step. Use bath_cutoff=None to choose the cutoff from "
                 f"bath_tol automatically; if that is too costly, {_REMEDIES}",
                 TruncationWarning)
        return d, leak
    for d in range(2, MAX_BATH_CUTOFF + 1):
        leak = total_leak(d)
        if leak <= tol:
            return d, leak
    raise ValueError(f"no bath cutoff up to {MAX_BATH_CUTOFF} keeps the per-step leak below "
                     f"bath_tol = {tol:.1e} (it is {leak:.2e} at {MAX_BATH_CUTOFF}, and the "
                     "density engine's cost grows as the cube of the bath cutoff): "
                     f"{_REMEDIES}; a lower temperature or system cutoff also helps")
