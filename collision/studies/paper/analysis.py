"""The paper's parameters and the pure analysis behind its figures (no engine, no file).

* The parameters of every figure (the paper's values and our choices, see
  :mod:`collision.studies.paper`), and :data:`BOUNDARY_RTOL`.
* :func:`release_times_from_flux`: ``gamma tau_p`` from a sampled flux.
* Eq 31 and its physical states in closed form (eq D2): :func:`cov31`,
  :func:`cov31_scale`, :func:`lowest_uncertainty_eigenvalue`, :func:`physical_mask`,
  :func:`class_half_width`; eq 41 (eq 42): :func:`qubit_class_half_width`.
* :func:`local_extrema` of a sampled curve (eqs 35-38 check).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "BOUNDARY_RTOL",
    "FIG2_T",
    "FIG2_T_S",
    "FIG3A_C",
    "FIG3B_RHO23",
    "FIG7_N_S",
    "N_S",
    "P_VALUES",
    "QUBIT_SCALE_NOTE",
    "STATIONARY_C_SUMS",
    "XI_S",
    "class_half_width",
    "cov31",
    "cov31_scale",
    "local_extrema",
    "lowest_uncertainty_eigenvalue",
    "physical_mask",
    "qubit_class_half_width",
    "release_times_from_flux",
]

#: Percentages of Figs 4a and 6a.
P_VALUES = (25.0, 50.0, 75.0, 86.0, 90.0, 95.0)
#: Reservoir temperature of Fig. 2 (the paper's k_B T / hbar omega = 1).
FIG2_T = 1.0
#: Initial temperatures of Fig. 2 (not listed in the paper; our choice).
FIG2_T_S = (0.25, 0.5, 2.0, 4.0)
#: Occupation N_S of Figs 3a, 4 and 5a-b (the paper's value).
N_S = 1.0
#: Local polarisation xi_S of Figs 3b, 5c and 6 (the paper's value).
XI_S = 0.25
#: Correlations of Fig. 3a, C13 = C24 = factor * N_S.
FIG3A_C = (-0.7, 0.0, 0.7)
#: Re rho23 of Fig. 3b (the paper's symbol).
FIG3B_RHO23 = (-0.75, 0.0, 0.75)
#: N_S of the four panels of Fig. 7 (our choice).
FIG7_N_S = (0.1, 0.5, 1.0, 5.0)
#: C13 + C24 of the stationary-point check of eqs 35-38.
STATIONARY_C_SUMS = (-2.0, -1.4, -0.7, 0.0, 0.7, 1.4, 2.0)
#: Width of the round-off band at the boundary of the physical states, relative to the
#: state's scale (``2 N_S + 1`` for eq 31, 1 for a density matrix): grids count states whose
#: lowest eigenvalue (of ``C + (i/2) Omega``, or of ``rho``) is ``>= -BOUNDARY_RTOL x scale`` as
#: physical, and sampled class segments end where it is ``+BOUNDARY_RTOL x scale``.  It is 100x
#: inside the package's validation tolerance (1e-10 of the scale) and 1000x above the
#: round-off of a 4x4 eigensolver (~1e-15), so no sampled state is accepted or rejected by
#: the last bits of an eigenvalue; it moves a class end by ~1e-12 (tests resolve 1e-9).
BOUNDARY_RTOL = 1e-12

#: How the qubit fluxes compare with the paper's Sec. VI curves (notes, titles, REPORT.md).
QUBIT_SCALE_NOTE = "physical units; the paper's Sec. VI qubit curves are 2x these"


# --- release times ----------------------------------------------------------------------------

def _cumulative_steps(t: np.ndarray, j: np.ndarray) -> np.ndarray:
    """A collision engine's exact ``Q(t_k) = sum_{i<k} J_i (t_{i+1} - t_i)`` along the last
    axis (``J_i`` is the energy released during ``[t_i, t_{i+1}]`` over the step)."""
    steps = j[..., :-1] * np.diff(t)
    return np.concatenate([np.zeros(j.shape[:-1] + (1,)), np.cumsum(steps, axis=-1)], axis=-1)


def _cumulative_trapezoid(t: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``int_0^t_k j dt`` at every sample (trapezoid rule), along the last axis."""
    steps = 0.5 * (j[..., 1:] + j[..., :-1]) * np.diff(t)
    return np.concatenate([np.zeros(j.shape[:-1] + (1,)), np.cumsum(steps, axis=-1)], axis=-1)


def release_times_from_flux(t: np.ndarray, flux: np.ndarray, q_inf: float,
                            p: Sequence[float] = P_VALUES, rule: str = "step") -> np.ndarray:
    """``gamma tau_p`` from a sampled total flux: first time ``Q(t) = (p/100) Q(inf)``.

    Parameters
    ----------
    t : ndarray, shape (n_t,)
        Increasing times starting at 0.
    flux : ndarray, shape (n_t,)
        Total flux ``J^(c)`` (any consistent unit).
    q_inf : float
        Total heat released, eq 11 (same unit times time); must be non-zero.
    p : sequence of float
        Percentages in (0, 100).
    rule : {"step", "trapezoid"}
        ``"step"``: ``Q(t_k) = sum_{j<k} J_j (t_{j+1} - t_j)``, exact for a collision
        engine, whose ``J_j`` is the energy released during ``[t_j, t_{j+1}]`` over the step;
        ``Q`` is linear inside a step.  ``"trapezoid"``: cumulative trapezoid rule.

    Returns
    -------
    ndarray, shape (len(p),)
        Crossing times, linearly interpolated inside the step where ``Q/Q(inf)`` first
        reaches ``p/100``.

    Raises
    ------
    ValueError
        If ``Q(t)`` never reaches a requested fraction on the grid (run longer).
    """
    t = np.asarray(t, dtype=float)
    flux = np.asarray(flux, dtype=float)
    if t.ndim != 1 or t.shape != flux.shape or t.size < 2:
        raise ValueError("t and flux must be 1-d arrays of the same length >= 2")
    if q_inf == 0:
        raise ValueError("q_inf = 0: no heat is exchanged, tau_p is undefined")
    if rule == "step":
        q = _cumulative_steps(t, flux)
    elif rule == "trapezoid":
        q = _cumulative_trapezoid(t, flux)
    else:
        raise ValueError(f"rule must be 'step' or 'trapezoid', got {rule!r}")
    frac = q / q_inf
    out = []
    for pc in p:
        target = float(pc) / 100.0
        above = np.flatnonzero(frac >= target)
        if above.size == 0:
            raise ValueError(f"Q(t) reaches only {frac.max():.4f} Q(inf) by t = {t[-1]:g}, "
                             f"not the {pc:g}% needed: run longer")
        k = int(above[0])
        if k == 0:
            out.append(float(t[0]))
            continue
        w = (target - frac[k - 1]) / (frac[k] - frac[k - 1])
        out.append(float(t[k - 1] + w * (t[k] - t[k - 1])))
    return np.array(out)


# --- eq 31 and eq 41: the physical states in closed form ---------------------------------------

def cov31(n_s: float, c13, c24) -> np.ndarray:
    """Covariance matrices of eq 31 (no validation), shape ``broadcast(c13, c24) + (4, 4)``."""
    c13, c24 = np.broadcast_arrays(np.asarray(c13, dtype=float), np.asarray(c24, dtype=float))
    cov = np.zeros(c13.shape + (4, 4))
    idx = np.arange(4)
    cov[..., idx, idx] = n_s + 0.5
    cov[..., 0, 2] = cov[..., 2, 0] = c13
    cov[..., 1, 3] = cov[..., 3, 1] = c24
    return cov


def _check_n_s(n_s: float) -> float:
    n_s = float(n_s)
    if not math.isfinite(n_s) or n_s < 0:
        raise ValueError(f"n_s (mean occupation N_S) must be a finite number >= 0, got {n_s!r}")
    return n_s


def _check_margin(margin: float, name: str = "margin") -> float:
    margin = float(margin)
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {margin!r}")
    return margin


def cov31_scale(n_s: float) -> float:
    """Scale of the covariance matrices of eq 31: ``2 N_S + 1`` (= ``Tr C / 2``, the energy).

    It bounds the spectral norm, ``||C|| = N_S + 1/2 + max(|C13|, |C24|) < 2 N_S + 1``, and is
    ``>= 1``: tolerances at the boundary of eq D2 are relative to it.
    """
    return 2.0 * _check_n_s(n_s) + 1.0


def lowest_uncertainty_eigenvalue(n_s: float, c13, c24) -> np.ndarray:
    """Lowest eigenvalue of ``C + (i/2) Omega`` for eq 31, in closed form (eq D2), vectorised.

    In the basis ``(X1 +- X2)/sqrt2, (Y1 +- Y2)/sqrt2`` the matrix splits into the two 2x2
    blocks ``[[p, i/2], [-i/2, q]]`` with ``(p, q) = (C11 +- C13, C11 +- C24)``, whose lower
    eigenvalues are ``(p + q)/2 - sqrt((p - q)^2 + 1)/2``.  (Their symplectic eigenvalues are
    ``nu_pm = sqrt(p q)``, eq D4; the state is physical iff both blocks are positive, i.e.
    ``p, q > 0`` (eq D3) and ``p q >= 1/4``.)  No eigensolver: exact up to the round-off of a
    few flops, ~1e-16 of :func:`cov31_scale`.

    Parameters
    ----------
    n_s : float
        Local occupation ``N_S`` (``C11 = N_S + 1/2``), >= 0.
    c13, c24 : array_like
        Broadcastable arrays of correlations.

    Returns
    -------
    ndarray, shape ``broadcast(c13, c24)``
        In the units of ``C`` (negative: unphysical).
    """
    c11 = _check_n_s(n_s) + 0.5
    c13, c24 = np.broadcast_arrays(np.asarray(c13, dtype=float), np.asarray(c24, dtype=float))
    lows = [0.5 * (p + q) - 0.5 * np.hypot(p - q, 1.0)
            for p, q in ((c11 + c13, c11 + c24), (c11 - c13, c11 - c24))]
    return np.minimum(*lows)


def physical_mask(n_s: float, c13, c24, rtol: float = BOUNDARY_RTOL) -> np.ndarray:
    """Whether eq 31 with ``(C13, C24)`` is a physical Gaussian state (eq D2), vectorised.

    True where :func:`lowest_uncertainty_eigenvalue` is ``>= -rtol * (2 N_S + 1)``: the exact
    criterion, with states on the boundary up to round-off counted as physical.  The default
    ``rtol`` (:data:`BOUNDARY_RTOL`) is 100x inside the tolerance of
    :func:`lindblad.states.validate_covariance`, so every state this mask accepts passes
    the package's validation whatever the last bits of its eigensolver; the two disagree
    only on states less than 1e-10 of the scale outside the boundary.

    Parameters
    ----------
    n_s : float
        Local occupation ``N_S`` (``C11 = N_S + 1/2``).
    c13, c24 : array_like
        Broadcastable arrays of correlations.
    rtol : float
        Allowance below zero, relative to :func:`cov31_scale`; 0 is the exact criterion.

    Returns
    -------
    ndarray of bool, shape ``broadcast(c13, c24)``
    """
    rtol = _check_margin(rtol, "rtol")
    return lowest_uncertainty_eigenvalue(n_s, c13, c24) >= -rtol * cov31_scale(n_s)


def class_half_width(n_s: float, c_sum: float, margin: float = 0.0) -> float:
    """Half-width ``d_max`` of the class ``C13 + C24 = c_sum`` of eq 31, in closed form.

    The class is the segment ``C13 - C24 = d`` (the physical states of eq 31 form a convex
    set, symmetric under ``C13 <-> C24``).  Along it :func:`lowest_uncertainty_eigenvalue`
    is ``lambda(d) = (2 N_S + 1 - |c_sum| - sqrt(1 + d^2)) / 2``, so the class is
    ``|d| <= sqrt((2 N_S + 1 - |c_sum|)^2 - 1)``: empty for ``|c_sum| > 2 N_S`` (eq D5) and
    the single state ``C13 = C24 = c_sum / 2``, on the boundary, at ``|c_sum| = 2 N_S``.

    Parameters
    ----------
    n_s : float
        Local occupation ``N_S``, >= 0.
    c_sum : float
        ``C13 + C24``.
    margin : float
        Keep only the members with ``lambda(d) >= margin`` (units of ``C``; sampling uses
        ``BOUNDARY_RTOL * (2 N_S + 1)``): the half-width is then
        ``sqrt((2 N_S + 1 - |c_sum| - 2 margin)^2 - 1)``.  A class thinner than that keeps
        its member ``d = 0`` (half-width 0), e.g. the boundary state at ``|c_sum| = 2 N_S``.

    Returns
    -------
    float
        ``d_max`` (units of ``C``); NaN when the class is empty.
    """
    n_s = _check_n_s(n_s)
    margin = _check_margin(margin)
    c_sum = float(c_sum)
    if not math.isfinite(c_sum):
        raise ValueError(f"c_sum (C13 + C24) must be finite, got {c_sum!r}")
    room = 2.0 * n_s + 1.0 - abs(c_sum)     # = sqrt(1 + d^2) + 2 lambda(d)
    if room < 1.0:
        return float("nan")
    return math.sqrt(max((room - 2.0 * margin) ** 2 - 1.0, 0.0))


def qubit_class_half_width(xi_s: float, re: float, margin: float = 0.0) -> float:
    """Largest ``|Im rho23|`` of eq 41 with ``Re rho23 = re`` and the lowest eigenvalue of
    ``rho``, ``(1 - xi_s^2 - |rho23|) / 4`` (eq 42), ``>= margin``; 0 if only ``Im = 0``
    qualifies (the boundary states ``|re| = 1 - xi_s^2``), NaN if none is physical."""
    bound = 1.0 - xi_s**2
    if abs(re) > bound:
        return float("nan")
    return math.sqrt(max((bound - 4.0 * margin) ** 2 - re**2, 0.0))


# --- sampled curves -----------------------------------------------------------------------------

def local_extrema(t: np.ndarray, j: np.ndarray) -> tuple[float, float]:
    """First interior local minimum and maximum of sampled ``j`` (parabolic refinement)."""
    d = np.diff(j)
    found = {"min": float("nan"), "max": float("nan")}
    for k in range(1, d.size):
        if d[k - 1] < 0 <= d[k]:
            kind = "min"
        elif d[k - 1] > 0 >= d[k]:
            kind = "max"
        else:
            continue
        if not math.isnan(found[kind]):
            continue
        y0, y1, y2 = j[k - 1], j[k], j[k + 1]
        den = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / den if den != 0 else 0.0
        found[kind] = float(t[k] + shift * (t[k + 1] - t[k]))
    return found["min"], found["max"]
