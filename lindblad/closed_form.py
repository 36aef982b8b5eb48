"""The paper's analytic results, in physical units.

Every function here is a closed form from the paper (Secs III, V, VI and App. D),
vectorised over the time ``t`` (any array shape), with the equation number in its
docstring.  Conventions (DESIGN.md section 3):

* ``hbar = k_B = 1``; time in units of ``1/gamma`` (the functions take ``t`` and
  ``gamma`` separately and use ``s = gamma t``); fluxes in ``hbar omega gamma``;
  heats in ``hbar omega``.
* **Sign**: ``J > 0`` means heat flows from the system into the reservoir,
  ``J = -dU/dt`` (the sign of the paper's eqs 20-38).  Accordingly the heat released
  up to time ``t`` is ``Q(t) = int_0^t J^(c) dt' = U(0) - U(t)`` and
  ``Q(inf) = -Tr[(rho(inf) - rho(0)) H]``, i.e. eq 11 with this sign.
* **Qubits**: the paper's qubit fluxes (eqs 23-25 and the T = 0 formulas of
  Sec. VI B) are exactly *twice* the physical flux of ``H = (omega/2) sigma_z``
  (its qubit fluxes are in units of ``hbar omega gamma / 2``).  The qubit functions
  return physical values; ``paper_units=True`` returns the paper's numbers (twice the
  physical ones).  ``rho23`` is the paper's symbol of eq 41, four times the matrix
  element ``<eg| rho |ge>``; only its real part enters the fluxes.

Names: ``J1`` is S1's flux (eq 13/16), ``J2`` the local (``L2``) part of S2's flux,
``J12`` the correlated part (eq 14), ``*_j2_cascade`` S2's own flux ``J2 + J12``
(``J_2^(c)``, eq 17), ``*_total_flux`` the cascade total ``J^(c)`` (eq 12) and
``*_independent_flux`` the total ``J^(ind) = 2 J1`` of independent reservoirs (eq 18).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from ._validate import as_matrix, as_real, as_real_array, complex_scalar, flag
from .fluxes import HeatFluxes

#: Tolerance for the physical bounds of eqs 42 and D5 (same as lindblad.states.ATOL),
#: relative to the scale max(1, 2 N_S) for D5.
ATOL = 1e-10

__all__ = [
    "oscillator_j1", "oscillator_j2", "oscillator_j12", "oscillator_j2_cascade",
    "oscillator_total_flux", "oscillator_independent_flux",
    "oscillator_total_flux_derivative", "oscillator_fluxes", "oscillator_heat_released",
    "oscillator_total_heat", "oscillator_stationary_times", "oscillator_stationary_fluxes",
    "qubit_j1", "qubit_j2", "qubit_j12", "qubit_j2_cascade", "qubit_total_flux",
    "qubit_independent_flux", "qubit_fluxes", "qubit_heat_released", "qubit_total_heat",
    "qubit_fluxes_from_state", "release_time", "oscillator_release_time",
    "qubit_release_time",
]


# --- validation -----------------------------------------------------------------------

def _real(value, name: str) -> float:
    v = as_real(value, name)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _positive(value, name: str) -> float:
    v = _real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def _occupation(value, name: str) -> float:
    v = _real(value, name)
    if v < 0:
        raise ValueError(f"{name} (a mean occupation number) must be >= 0, got {value!r}")
    return v


def _times(t) -> np.ndarray:
    arr = as_real_array(t, "t")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("t must be finite and >= 0 (time elapsed since the initial state, "
                         "units of 1/gamma)")
    return arr


def _time_grid(t) -> np.ndarray:
    arr = _times(t)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"t must be a non-empty 1-d array of times for a HeatFluxes result, "
                         f"got shape {arr.shape}")
    return arr


def _c_sum(c_sum, n_s: float) -> float:
    c = _real(c_sum, "c_sum")
    excess = abs(c) - 2.0 * n_s
    if excess > ATOL * max(1.0, 2.0 * n_s):  # relative: C13 + C24 carries rounding ~ eps N_S
        raise ValueError(f"|c_sum| = |C13(0) + C24(0)| = {abs(c):.12g} exceeds 2 N_S = "
                         f"{2 * n_s:.12g} by {excess:.3g}: no physical state of the form eq 31 "
                         "has it (eq D5)")
    return c


def _osc(n_s, n, c_sum, gamma, omega) -> tuple[float, float, float, float, float]:
    n_s = _occupation(n_s, "n_s")
    n = _occupation(n, "n")
    c = _c_sum(c_sum, n_s)
    return n_s, n, c, _positive(gamma, "gamma"), _positive(omega, "omega")


def _xi_s(xi_s) -> float:
    v = _real(xi_s, "xi_s")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"xi_s = tanh(omega / 2 T_S) must lie in [0, 1], got {xi_s!r}")
    return v


def _rho23(rho23, xi_s: float) -> complex:
    r = complex_scalar(rho23, "rho23")
    bound = 1.0 - xi_s**2
    if abs(r) > bound + ATOL:
        raise ValueError(f"|rho23| = {abs(r):.6g} exceeds the positivity bound of eq 42, "
                         f"1 - xi_s^2 = {bound:.6g} (rho23 is the paper's symbol of eq 41, "
                         "4x the matrix element <eg|rho|ge>)")
    return r


def _scale(paper_units: bool) -> float:
    """Physical flux = (paper's qubit expression) / 2."""
    return 1.0 if flag(paper_units, "paper_units") else 0.5


# --- harmonic oscillators (Sec. V) ------------------------------------------------------
#
# All oscillator results follow from eqs B4-B9 with C_ii(0) = N_S + 1/2 and
# C13(0) + C24(0) = c_sum.  Writing s = gamma t and delta = N_S - N:
#   C11 - (N + 1/2)        = delta e^-s
#   C13 + C24              = (c_sum - 2 s delta) e^-s
#   (C33 + C44)/2 - (N+1/2) = (delta (1 + s^2) - s c_sum) e^-s
# which inserted in eqs 20-22 give eqs 26-29 (c_sum = 0) and 32-34.  The derivation
# does not use N = 0, so eqs 32-34 hold at any reservoir occupation N with
# J1 = hbar omega gamma (N_S - N) e^-s.

def oscillator_j1(t: ArrayLike, n_s: float, n: float = 0.0, *, gamma: float = 1.0,
                  omega: float = 1.0) -> np.ndarray:
    """S1's heat flux ``J1(t) = omega gamma (N_S - N) exp(-gamma t)`` (eq 26).

    Parameters
    ----------
    t : array_like
        Times >= 0 (units of 1/gamma); any shape.
    n_s : float
        Initial mean occupation ``N_S`` of each oscillator (locally thermal start).
    n : float
        Reservoir occupation ``N = 1/(exp(omega/T) - 1)``.
    gamma, omega : float
        Relaxation rate and frequency.

    Returns
    -------
    ndarray
        ``J1`` in units of ``hbar omega gamma`` (times ``omega gamma`` for other units),
        same shape as ``t``.  Also S1's flux for correlated starts and for the
        independent model.
    """
    s_t = _times(t)
    n_s, n, _, gamma, omega = _osc(n_s, n, 0.0, gamma, omega)
    return omega * gamma * (n_s - n) * np.exp(-gamma * s_t)


def oscillator_j2(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0, *,
                  gamma: float = 1.0, omega: float = 1.0) -> np.ndarray:
    """Local part of S2's flux, eqs 27 and 32.

    ``J2 = (1 + (gamma t)^2) J1 - omega gamma (gamma t) [C13(0) + C24(0)] exp(-gamma t)``.

    Parameters
    ----------
    t, n_s, n, gamma, omega
        As in :func:`oscillator_j1`.
    c_sum : float
        ``C13(0) + C24(0)`` of the initial covariance matrix (eq 31); 0 for the thermal
        start of eq 27.  Physical states have ``|c_sum| <= 2 N_S`` (eq D5).

    Returns
    -------
    ndarray
        ``J2`` in ``hbar omega gamma``, shape of ``t``.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    e = np.exp(-s)
    j1 = omega * gamma * (n_s - n) * e                  # eq 26
    return (1.0 + s**2) * j1 - omega * gamma * s * c * e  # eq 32 (eq 27 for c = 0)


def oscillator_j12(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0, *,
                   gamma: float = 1.0, omega: float = 1.0) -> np.ndarray:
    """Correlated part of S2's flux, eqs 27 and 33.

    ``J12 = -2 gamma t J1 + omega gamma [C13(0) + C24(0)] exp(-gamma t)``.

    Parameters and return value as in :func:`oscillator_j2`.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    e = np.exp(-s)
    j1 = omega * gamma * (n_s - n) * e          # eq 26
    return -2.0 * s * j1 + omega * gamma * c * e  # eq 33 (eq 27 for c = 0)


def oscillator_j2_cascade(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0, *,
                          gamma: float = 1.0, omega: float = 1.0) -> np.ndarray:
    """S2's own flux ``J2^(c) = J2 + J12`` in the cascade, eqs 28 and 34.

    ``J2^(c) = (1 - gamma t)^2 J1 + omega gamma (1 - gamma t) [C13(0) + C24(0)] exp(-gamma t)``.

    Parameters and return value as in :func:`oscillator_j2`.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    e = np.exp(-s)
    j1 = omega * gamma * (n_s - n) * e                           # eq 26
    return (1.0 - s) ** 2 * j1 + omega * gamma * (1.0 - s) * c * e  # eq 34 (eq 28)


def oscillator_total_flux(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0, *,
                          gamma: float = 1.0, omega: float = 1.0) -> np.ndarray:
    """Total cascade flux ``J^(c) = J1 + J2^(c)``, eq 29 (and eq 26 + eq 34).

    ``J^(c) = omega gamma {(N_S - N) [1 + (1 - gamma t)^2] + (1 - gamma t) c_sum} exp(-gamma t)``.

    Parameters and return value as in :func:`oscillator_j2`.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    return omega * gamma * ((n_s - n) * (1.0 + (1.0 - s) ** 2) + (1.0 - s) * c) * np.exp(-s)


def oscillator_independent_flux(t: ArrayLike, n_s: float, n: float = 0.0, *,
                                gamma: float = 1.0, omega: float = 1.0) -> np.ndarray:
    """Total flux of independent reservoirs ``J^(ind) = 2 J1``, eqs 18 and 30.

    Holds for any initial state whose two marginals are identical (thermal or
    correlated, eq 31): initial correlations do not enter.  Parameters and return
    value as in :func:`oscillator_j1`.
    """
    return 2.0 * oscillator_j1(t, n_s, n, gamma=gamma, omega=omega)


def oscillator_total_flux_derivative(t: ArrayLike, n_s: float, n: float = 0.0,
                                     c_sum: float = 0.0, *, gamma: float = 1.0,
                                     omega: float = 1.0) -> np.ndarray:
    """Time derivative of the cascade total flux (the unnumbered equation before eq 35).

    ``dJ^(c)/dt = omega gamma^2 {-(N_S - N) s^2 + [c_sum + 4 (N_S - N)] s
    - 2 [c_sum + 2 (N_S - N)]} exp(-s)`` with ``s = gamma t`` (the paper has N = 0).

    Returns
    -------
    ndarray
        In units of ``hbar omega gamma^2``, shape of ``t``.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    d = n_s - n
    return omega * gamma**2 * (-d * s**2 + (c + 4.0 * d) * s - 2.0 * (c + 2.0 * d)) * np.exp(-s)


def oscillator_fluxes(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0, *,
                      gamma: float = 1.0, omega: float = 1.0,
                      cascade: bool = True) -> HeatFluxes:
    """All oscillator fluxes as a :class:`~lindblad.fluxes.HeatFluxes` (eqs 26-34).

    Parameters
    ----------
    t : array_like, shape (n_t,)
        1-d grid of times >= 0 (units of 1/gamma).
    n_s, n, c_sum, gamma, omega
        As in :func:`oscillator_j2`.
    cascade : bool
        False gives the independent-reservoirs model (Fig. 1b): both subsystems carry
        ``J1`` and there is no correlated flux, so ``total = J^(ind)`` (eq 30).

    Returns
    -------
    HeatFluxes
        ``local = [J1, J2]``, ``correlated = [0, J12]`` (``hbar omega gamma``).
    """
    grid = _time_grid(t)
    j1 = oscillator_j1(grid, n_s, n, gamma=gamma, omega=omega)
    if flag(cascade, "cascade"):
        local = [j1, oscillator_j2(grid, n_s, n, c_sum, gamma=gamma, omega=omega)]
        corr = [np.zeros_like(j1), oscillator_j12(grid, n_s, n, c_sum, gamma=gamma, omega=omega)]
    else:
        _c_sum(c_sum, _occupation(n_s, "n_s"))
        local, corr = [j1, j1.copy()], [np.zeros_like(j1), np.zeros_like(j1)]
    params = {"source": "closed_form", "system": "oscillator", "n_s": float(n_s),
              "n": float(n), "c_sum": float(c_sum), "gamma": float(gamma),
              "omega": float(omega), "cascade": bool(cascade)}
    return HeatFluxes(grid, np.array(local), np.array(corr), parameters=params)


def oscillator_heat_released(t: ArrayLike, n_s: float, n: float = 0.0, c_sum: float = 0.0,
                             *, omega: float = 1.0, gamma: float = 1.0) -> np.ndarray:
    """Heat released into the reservoir up to ``t``, ``Q^(c)(t) = int_0^t J^(c) dt'``.

    Eq 29 (with eq 34) integrated analytically, ``s = gamma t``::

        Q(t) = omega {(N_S - N) [2 - (2 + s^2) exp(-s)] + c_sum s exp(-s)},

    using ``int_0^s (1 - u)^2 e^-u du = 1 - (1 + s^2) e^-s`` and
    ``int_0^s (1 - u) e^-u du = s e^-s``.  ``Q(inf) = 2 omega (N_S - N)`` (eq 11).

    Returns
    -------
    ndarray
        In units of ``hbar omega``, shape of ``t``; equals ``U(0) - U(t)``.  The same
        for the independent model at ``t -> inf`` only.
    """
    s_t = _times(t)
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    s = gamma * s_t
    e = np.exp(-s)
    return omega * ((n_s - n) * (2.0 - (2.0 + s**2) * e) + c * s * e)


def oscillator_total_heat(n_s: float, n: float = 0.0, *, omega: float = 1.0) -> float:
    """Total heat released, ``Q(inf) = -Tr[(rho(inf) - rho(0)) H] = 2 omega (N_S - N)`` (eq 11).

    Independent of the initial correlations (``c_sum``) and of the cascade; in
    ``hbar omega``.  Negative when the reservoir is hotter than the system.
    """
    n_s = _occupation(n_s, "n_s")
    n = _occupation(n, "n")
    return 2.0 * _positive(omega, "omega") * (n_s - n)


def oscillator_stationary_times(n_s: float, c_sum: float = 0.0, n: float = 0.0, *,
                                gamma: float = 1.0) -> tuple[float, float]:
    """Stationary points ``(t1, t2)`` of ``J^(c)(t)``, eq 35.

    ``t1 = 2/gamma``, ``t2 = (2/gamma) [1 + c_sum / (2 (N_S - N))]`` (the paper has N = 0).
    For ``c_sum = 0`` they merge into an inflection point; for ``N = 0`` and
    ``|c_sum| <= 2 N_S`` (eq D5) ``t2 >= 0``.

    Returns
    -------
    (t1, t2) : tuple of float
        Units of the inverse of ``gamma``.

    Raises
    ------
    ValueError
        If ``N_S == N`` (then ``J^(c) = omega gamma c_sum (1 - gamma t) e^-gamma t`` has the
        single stationary point ``t1``).
    """
    n_s, n, c, gamma, _ = _osc(n_s, n, c_sum, gamma, 1.0)
    if n_s == n:
        raise ValueError("eq 35 needs N_S != N: with N_S == N the total flux has the single "
                         "stationary point t1 = 2/gamma")
    return 2.0 / gamma, 2.0 / gamma * (1.0 + c / (2.0 * (n_s - n)))


def oscillator_stationary_fluxes(n_s: float, c_sum: float = 0.0, n: float = 0.0, *,
                                 gamma: float = 1.0,
                                 omega: float = 1.0) -> tuple[float, float, float]:
    """``(J^(c)(0), J^(c)(t1), J^(c)(t2))``, eqs 36-38 (``N_S - N`` in place of ``N_S``).

    * eq 36: ``J^(c)(0)  = omega gamma [2 N_S + c_sum]``;
    * eq 37: ``J^(c)(t1) = omega gamma [2 N_S - c_sum] exp(-2)``;
    * eq 38: ``J^(c)(t2) = omega gamma [2 N_S + c_sum] exp(-[2 N_S + c_sum] / N_S)``.

    Returns
    -------
    tuple of float
        In ``hbar omega gamma``.

    Raises
    ------
    ValueError
        If ``N_S == N`` (see :func:`oscillator_stationary_times`).
    """
    n_s, n, c, gamma, omega = _osc(n_s, n, c_sum, gamma, omega)
    d = n_s - n
    if d == 0:
        raise ValueError("eqs 37-38 need N_S != N (t2 of eq 35 is undefined for N_S == N)")
    unit = omega * gamma
    return (unit * (2.0 * d + c),                                 # eq 36
            unit * (2.0 * d - c) * math.exp(-2.0),                # eq 37
            unit * (2.0 * d + c) * math.exp(-(2.0 * d + c) / d))  # eq 38


# --- qubits at T = 0 (Sec. VI B) -------------------------------------------------------
#
# For the state of eq 41 and a zero-temperature reservoir (xi = 1), with s = gamma t,
# A = 1 - xi_S and R = Re rho23(0) (the paper's symbol), the paper gives
#   J1  = gamma A e^-s
#   J2  = gamma {(1 + s^2) A + 2 (1 - s - e^-s) A^2 - R s} e^-s
#   J12 = gamma {2 (1 - e^-s) A^2 - 2 s A + R} e^-s
# (twice the physical flux).  Derivation of the physical values: p_e1 = (A/2) e^-s,
# P_ee = (A/2)^2 e^-2s, d<eg|rho|ge>/dt = -gamma <eg|rho|ge> + gamma (P_ee - P_eg) and
# dp_e2/dt = -gamma p_e2 - 2 gamma Re<eg|rho|ge>, with J_i = omega gamma p_ei and
# J12 = 2 omega gamma Re<eg|rho|ge>; the tests check them against the master equation.

def _qubit_parts(t, xi_s, rho23, gamma, omega):
    s_t = _times(t)
    xi_s = _xi_s(xi_s)
    r = _rho23(rho23, xi_s)
    gamma = _positive(gamma, "gamma")
    omega = _positive(omega, "omega")
    return gamma * s_t, 1.0 - xi_s, r.real, gamma, omega


def qubit_j1(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
             omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """S1's flux for the state of eq 41 and a T = 0 reservoir (Sec. VI B).

    Paper: ``J1 = gamma (1 - xi_S) exp(-gamma t)``; physical value half of it.

    Parameters
    ----------
    t : array_like
        Times >= 0 (units of 1/gamma), any shape.
    xi_s : float
        Local polarisation ``tanh(omega / 2 T_S)`` of both qubits, in [0, 1].
    rho23 : complex
        The paper's symbol ``rho23(0)`` of eq 41 (4x ``<eg|rho|ge>``), with
        ``|rho23| <= 1 - xi_s^2`` (eq 42).  Does not enter ``J1``.
    gamma, omega : float
        Relaxation rate and transition frequency.
    paper_units : bool
        True returns the paper's value, twice the physical flux.

    Returns
    -------
    ndarray
        In ``hbar omega gamma`` (physical) or ``hbar omega gamma / 2`` (paper), shape of ``t``.
    """
    s, a, _, gamma, omega = _qubit_parts(t, xi_s, rho23, gamma, omega)
    return _scale(paper_units) * omega * gamma * a * np.exp(-s)


def qubit_j2(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
             omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """Local part of S2's flux for eq 41 and a T = 0 reservoir (Sec. VI B).

    Paper: ``J2 = gamma {(1 + s^2)(1 - xi_S) + 2 (1 - s - e^-s)(1 - xi_S)^2
    - Re[rho23(0)] s} e^-s`` with ``s = gamma t``; physical value half of it.
    Parameters and return value as in :func:`qubit_j1`.
    """
    s, a, r, gamma, omega = _qubit_parts(t, xi_s, rho23, gamma, omega)
    e = np.exp(-s)
    paper = gamma * ((1.0 + s**2) * a + 2.0 * (1.0 - s - e) * a**2 - r * s) * e
    return _scale(paper_units) * omega * paper


def qubit_j12(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
              omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """Correlated part of S2's flux for eq 41 and a T = 0 reservoir (Sec. VI B).

    Paper: ``J12 = gamma {2 (1 - e^-s)(1 - xi_S)^2 - 2 s (1 - xi_S) + Re[rho23(0)]} e^-s``;
    physical value half of it.  Parameters and return value as in :func:`qubit_j1`.
    """
    s, a, r, gamma, omega = _qubit_parts(t, xi_s, rho23, gamma, omega)
    e = np.exp(-s)
    paper = gamma * (2.0 * (1.0 - e) * a**2 - 2.0 * s * a + r) * e
    return _scale(paper_units) * omega * paper


def qubit_j2_cascade(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
                     omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """S2's own flux ``J2^(c) = J2 + J12`` (eq 17) for eq 41 and a T = 0 reservoir.

    Parameters and return value as in :func:`qubit_j1`.
    """
    kw = {"gamma": gamma, "omega": omega, "paper_units": paper_units}
    return qubit_j2(t, xi_s, rho23, **kw) + qubit_j12(t, xi_s, rho23, **kw)


def qubit_total_flux(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
                     omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """Total cascade flux ``J^(c) = J1 + J2 + J12`` (eq 12) for eq 41, T = 0 reservoir.

    This is the quantity of Fig. 3(b) (there in the paper's units).  Parameters and
    return value as in :func:`qubit_j1`.
    """
    kw = {"gamma": gamma, "omega": omega, "paper_units": paper_units}
    return qubit_j1(t, xi_s, rho23, **kw) + qubit_j2_cascade(t, xi_s, rho23, **kw)


def qubit_independent_flux(t: ArrayLike, xi_s: float, *, gamma: float = 1.0,
                           omega: float = 1.0, paper_units: bool = False) -> np.ndarray:
    """Total flux of independent reservoirs ``J^(ind) = 2 J1`` (eq 18), T = 0 reservoir.

    Independent of ``rho23``.  Parameters and return value as in :func:`qubit_j1`.
    """
    return 2.0 * qubit_j1(t, xi_s, gamma=gamma, omega=omega, paper_units=paper_units)


def qubit_fluxes(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *, gamma: float = 1.0,
                 omega: float = 1.0, paper_units: bool = False,
                 cascade: bool = True) -> HeatFluxes:
    """All T = 0 qubit fluxes of Sec. VI B as a :class:`~lindblad.fluxes.HeatFluxes`.

    Parameters
    ----------
    t : array_like, shape (n_t,)
        1-d grid of times >= 0.
    xi_s, rho23, gamma, omega, paper_units
        As in :func:`qubit_j1`.  ``xi_s`` with ``rho23 = 0`` is the thermal start of
        Sec. VI A (eqs 39-40) at a zero-temperature reservoir.
    cascade : bool
        False: independent reservoirs, ``local = [J1, J1]``, no correlated flux.

    Returns
    -------
    HeatFluxes
        ``local = [J1, J2]``, ``correlated = [0, J12]``.
    """
    grid = _time_grid(t)
    kw = {"gamma": gamma, "omega": omega, "paper_units": paper_units}
    j1 = qubit_j1(grid, xi_s, rho23, **kw)
    if flag(cascade, "cascade"):
        local = [j1, qubit_j2(grid, xi_s, rho23, **kw)]
        corr = [np.zeros_like(j1), qubit_j12(grid, xi_s, rho23, **kw)]
    else:
        local, corr = [j1, j1.copy()], [np.zeros_like(j1), np.zeros_like(j1)]
    params = {"source": "closed_form", "system": "qubit", "xi_s": float(xi_s),
              "rho23": complex(rho23), "temperature": 0.0, "gamma": float(gamma),
              "omega": float(omega), "paper_units": bool(paper_units),
              "cascade": bool(cascade)}
    return HeatFluxes(grid, np.array(local), np.array(corr), parameters=params)


def qubit_heat_released(t: ArrayLike, xi_s: float, rho23: complex = 0.0, *,
                        gamma: float = 1.0, omega: float = 1.0,
                        paper_units: bool = False) -> np.ndarray:
    """Heat released up to ``t``, ``Q^(c)(t) = int_0^t J^(c) dt' = U(0) - U(t)``, T = 0.

    Integrated analytically through the energy balance: with ``s = gamma t``,
    ``A = 1 - xi_S`` and ``R = Re rho23(0)``, the excited populations are
    ``p_e1 = (A/2) e^-s`` and ``p_e2 = e^-s z(s)``, ``z = (A/2)(1 + s^2) - (R/2) s
    - A^2 (s - 1 + e^-s)``, so (physical units)::

        Q(t) = omega [A - (A/2) e^-s - e^-s z(s)],   Q(inf) = omega (1 - xi_S)  (eq 11).

    Returns
    -------
    ndarray
        In ``hbar omega`` (twice that with ``paper_units=True``), shape of ``t``.
    """
    s, a, r, gamma, omega = _qubit_parts(t, xi_s, rho23, gamma, omega)
    e = np.exp(-s)
    z = 0.5 * a * (1.0 + s**2) - 0.5 * r * s - a**2 * (s - 1.0 + e)
    return 2.0 * _scale(paper_units) * omega * (a - 0.5 * a * e - e * z)


def qubit_total_heat(xi_s: float, xi: float = 1.0, *, omega: float = 1.0,
                     paper_units: bool = False) -> float:
    """Total heat released, ``Q(inf) = -Tr[(rho(inf) - rho(0)) H] = omega (xi - xi_S)`` (eq 11).

    For two qubits locally thermal at ``xi_S`` (eqs 39-41; correlations do not change
    the energy) relaxing to a reservoir at ``xi`` (1 for T = 0).  In ``hbar omega``;
    ``paper_units=True`` doubles it, consistently with the paper's flux scale.
    """
    xi_s = _xi_s(xi_s)
    xi = _real(xi, "xi")
    if not 0.0 <= xi <= 1.0:
        raise ValueError(f"xi = tanh(omega / 2T) must lie in [0, 1], got {xi!r}")
    return 2.0 * _scale(paper_units) * _positive(omega, "omega") * (xi - xi_s)


def qubit_fluxes_from_state(rho: ArrayLike, xi: float, *, gamma: float = 1.0,
                            omega: float = 1.0,
                            paper_units: bool = False
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(J1, J2, J12)`` of a two-qubit density matrix, eqs 23-25, any temperature.

    The paper writes, in its excited-first basis ``|ee>, |eg>, |ge>, |gg>`` = 1..4,

    * eq 23: ``J1  = gamma [(1 + xi)(rho11 + rho22) - (1 - xi)(rho33 + rho44)]``,
    * eq 24: ``J2  = gamma [(1 + xi)(rho11 + rho33) - (1 - xi)(rho22 + rho44)]``,
    * eq 25: ``J12 = 2 gamma xi (rho23 + rho32)``,

    which are twice the physical fluxes of ``H = (omega/2) sigma_z``.  In this
    package's basis ``|gg>, |ge>, |eg>, |ee>`` = 0..3 the paper's index ``k`` is ours
    ``4 - k``, so ``rho11 = rho[3, 3]``, ``rho22 = rho[2, 2]``, ``rho33 = rho[1, 1]``,
    ``rho44 = rho[0, 0]`` and ``rho23 = rho[2, 1] = <eg|rho|ge>``.

    Parameters
    ----------
    rho : array_like, shape (4, 4) or (..., 4, 4)
        Density matrix (or a stack of them, e.g. the output of ``evolve``) in this
        package's basis.  The fluxes are linear in ``rho``; positivity is not checked.
    xi : float
        Reservoir polarisation ``tanh(omega / 2T)`` in [0, 1].
    gamma, omega : float
        Relaxation rate and transition frequency.
    paper_units : bool
        True returns the paper's values (twice the physical fluxes).

    Returns
    -------
    (J1, J2, J12) : tuple of ndarray
        Real, shape ``rho.shape[:-2]``.
    """
    arr = as_matrix(rho, "rho")
    if arr.ndim < 2 or arr.shape[-2:] != (4, 4):
        raise ValueError(f"rho must be a two-qubit density matrix of shape (4, 4) (or a stack "
                         f"(..., 4, 4)), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise ValueError("rho must have finite numeric entries")
    xi = _real(xi, "xi")
    if not 0.0 <= xi <= 1.0:
        raise ValueError(f"xi = tanh(omega / 2T) must lie in [0, 1], got {xi!r}")
    unit = _scale(paper_units) * _positive(omega, "omega") * _positive(gamma, "gamma")
    p = np.real(np.diagonal(arr, axis1=-2, axis2=-1))
    r11, r22, r33, r44 = p[..., 3], p[..., 2], p[..., 1], p[..., 0]   # paper's labels
    r23 = arr[..., 2, 1]
    r32 = arr[..., 1, 2]
    j1 = unit * ((1 + xi) * (r11 + r22) - (1 - xi) * (r33 + r44))     # eq 23
    j2 = unit * ((1 + xi) * (r11 + r33) - (1 - xi) * (r22 + r44))     # eq 24
    j12 = unit * 2.0 * xi * np.real(r23 + r32)                        # eq 25
    return j1, j2, j12


# --- release times (Figs 4a and 6a) ------------------------------------------------------

def _percent(p) -> np.ndarray:
    try:
        arr = as_real_array(p, "p")
    except ValueError as exc:
        raise ValueError(f"p must be a percentage (a number in (0, 100)): {exc}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any((arr <= 0) | (arr >= 100)):
        raise ValueError(f"p must be a percentage strictly between 0 and 100 (0 and 100 are "
                         f"reached only at t = 0 and t = inf), got {p!r}")
    return arr


def _first_crossing(fraction: Callable[[np.ndarray], np.ndarray], target: float,
                    bound: tuple[float, float, float]) -> float:
    """Smallest ``s >= 0`` with ``fraction(s) = target``.

    ``fraction(s) = 1 - residual(s)`` with ``|residual(s)| <= (b0 + b1 s + b2 s^2) e^-s``
    (non-negative ``b``; the bound decreases for ``s >= 3``).  Past the ``s_max`` where the
    bound drops below ``1 - target`` no crossing exists; on ``[0, s_max]`` a grid of step
    <= 0.005 brackets the first sign change, which ``brentq`` then refines to ~1e-14.
    """
    b0, b1, b2 = bound
    s_max = 3.0
    while (b0 + b1 * s_max + b2 * s_max**2) * math.exp(-s_max) >= 0.5 * (1.0 - target):
        s_max += 1.0
    grid = np.linspace(0.0, s_max, int(s_max / 0.005) + 1)
    g = fraction(grid) - target
    above = np.flatnonzero(g >= 0)
    k = int(above[0])  # exists: g(s_max) > 0 by construction; g(0) = -target < 0
    if g[k] == 0.0:
        return float(grid[k])
    return float(brentq(lambda s: float(fraction(np.array(s))) - target, grid[k - 1], grid[k],
                        xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))


def _release_times(p: np.ndarray, fraction, bound) -> float | np.ndarray:
    out = np.array([_first_crossing(fraction, q / 100.0, bound) for q in p.ravel()])
    return float(out[0]) if p.ndim == 0 else out.reshape(p.shape)


def oscillator_release_time(p: ArrayLike, n_s: float = 1.0, c_sum: float = 0.0,
                            n: float = 0.0) -> float | np.ndarray:
    """``gamma tau_p`` for two oscillators (Fig. 4a): ``Q^(c)(tau_p) = (p/100) Q(inf)``.

    Uses the analytic ``Q^(c)(t)`` of :func:`oscillator_heat_released` (eq 29/34
    integrated), ``Q(t)/Q(inf) = 1 - [1 + s^2/2 - r s] e^-s`` with ``r = c_sum / (2 (N_S - N))``,
    solved for the first root with ``scipy.optimize.brentq``.  The result depends on
    ``N_S`` only through ``r`` ("independent of N_S" in Fig. 4a, which has N = 0).

    Parameters
    ----------
    p : float or array_like
        Percentage(s) of the total released heat, in (0, 100).
    n_s, c_sum, n : float
        As in :func:`oscillator_j2` (Fig. 4a: ``n_s = 1``, ``n = 0``).

    Returns
    -------
    float or ndarray
        ``gamma tau_p`` (dimensionless), shape of ``p``.
    """
    p_arr = _percent(p)
    n_s, n, c, _, _ = _osc(n_s, n, c_sum, 1.0, 1.0)
    if n_s == n:
        raise ValueError("the release time needs N_S != N: with N_S == N no net heat is "
                         "exchanged (Q(inf) = 0, eq 11)")
    r = c / (2.0 * (n_s - n))

    def fraction(s):
        return 1.0 - (1.0 + 0.5 * s**2 - r * s) * np.exp(-s)

    return _release_times(p_arr, fraction, (1.0, abs(r), 0.5))


def qubit_release_time(p: ArrayLike, xi_s: float = 0.25,
                       rho23: complex = 0.0) -> float | np.ndarray:
    """``gamma tau_p`` for two qubits and a T = 0 reservoir (Fig. 6a).

    ``Q^(c)(tau_p) = (p/100) Q(inf)`` with the analytic ``Q^(c)(t)`` of
    :func:`qubit_heat_released` (exact integral of the Sec. VI B fluxes through the
    energy balance): ``Q(t)/Q(inf) = 1 - [1 + s^2/2 - R s / (2A) - A (s - 1 + e^-s)] e^-s``,
    ``A = 1 - xi_S``, ``R = Re rho23(0)``; first root by ``scipy.optimize.brentq``.  The
    factor of two of the paper's qubit units cancels in the ratio.

    Parameters
    ----------
    p : float or array_like
        Percentage(s) in (0, 100).
    xi_s : float
        Local polarisation of the initial state (Fig. 6a: 0.25), in [0, 1).
    rho23 : complex
        The paper's symbol of eq 41; only the real part matters.

    Returns
    -------
    float or ndarray
        ``gamma tau_p``, shape of ``p``.
    """
    p_arr = _percent(p)
    xi_s = _xi_s(xi_s)
    r = _rho23(rho23, xi_s).real
    a = 1.0 - xi_s
    if a == 0.0:
        raise ValueError("the release time needs xi_s < 1: at xi_s = 1 both qubits start in "
                         "the ground state and release no heat (Q(inf) = 0, eq 11)")

    def fraction(s):
        return 1.0 - (1.0 + 0.5 * s**2 - 0.5 * r * s / a - a * (s - 1.0 + np.exp(-s))) \
            * np.exp(-s)

    return _release_times(p_arr, fraction, (1.0, abs(r) / (2.0 * a) + a, 0.5))


def release_time(p: ArrayLike, system: str = "oscillator", *, n_s: float | None = None,
                 c_sum: float | None = None, n: float | None = None,
                 xi_s: float | None = None,
                 rho23: complex | None = None) -> float | np.ndarray:
    """``gamma tau_p``: when ``p`` percent of ``Q(inf)`` (eq 11) has left the system.

    ``tau_p`` solves ``Q^(c)(tau_p) = int_0^tau_p J^(c) dt = (p/100) Q(inf)`` for the
    cascade (first solution), as in Fig. 4a (oscillators, N = 0) and Fig. 6a (qubits,
    T = 0).  Dispatches to :func:`oscillator_release_time` or :func:`qubit_release_time`.

    Parameters
    ----------
    p : float or array_like
        Percentage(s) in (0, 100).
    system : {"oscillator", "qubit"}
    n_s, c_sum, n : float, optional
        Oscillator parameters (defaults of Fig. 4a: ``n_s = 1``, ``c_sum = 0``, ``n = 0``).
    xi_s, rho23 : optional
        Qubit parameters (defaults of Fig. 6a: ``xi_s = 0.25``, ``rho23 = 0``); the
        reservoir is at T = 0.

    Returns
    -------
    float or ndarray
        ``gamma tau_p`` (dimensionless), shape of ``p``.

    Examples
    --------
    >>> round(release_time(50, "oscillator", n_s=1.0, c_sum=0.0), 6)
    1.319074
    """
    osc = {"n_s": n_s, "c_sum": c_sum, "n": n}
    qub = {"xi_s": xi_s, "rho23": rho23}
    if system == "oscillator":
        wrong = [k for k, v in qub.items() if v is not None]
        if wrong:
            raise ValueError(f"{wrong} are qubit parameters; for system='oscillator' give "
                             "n_s, c_sum and n")
        return oscillator_release_time(p, **{k: v for k, v in osc.items() if v is not None})
    if system == "qubit":
        wrong = [k for k, v in osc.items() if v is not None]
        if wrong:
            raise ValueError(f"{wrong} are oscillator parameters; for system='qubit' give "
                             "xi_s and rho23")
        return qubit_release_time(p, **{k: v for k, v in qub.items() if v is not None})
    raise ValueError(f"system must be 'oscillator' or 'qubit', got {system!r}")
