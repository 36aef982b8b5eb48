"""The paper's figures (Figs 2-7), reproduced by the collision engines.

Every ``figure_*`` function computes the numbers behind one figure of the paper, writes a
PNG and a CSV of those numbers into an output folder, and returns a small typed result
(a dataclass holding the arrays).  :func:`make_all` runs all of them and writes
``REPORT.md``, the numbers that tie the figures to the paper's text; a figure that fails
does not stop the others, and the report names it with its error (``Report.failures``).

What is drawn
-------------
* **Lines** are the exact reference: the paper's closed forms (:mod:`lindblad.closed_form`)
  where they exist (oscillators at any temperature, qubits at T = 0), otherwise
  :class:`lindblad.CascadeMasterEquation` (qubits at T > 0).
* **Markers** are the collision engines: the Gaussian collision engine
  (:class:`collision.gaussian.GaussianCollisionModel`, exact on covariance matrices, no
  Fock cutoff) for oscillators and the averaged ``density`` engine of
  :class:`collision.CascadeCollisionModel` for qubits, at the time step ``dt`` of
  :class:`FigureSettings` (0.01 by default; their error is O(dt)).
* Correlation measures (Figs 4b, 4c, 5, 6b) are properties of initial states, computed
  with :mod:`lindblad.correlations`: the logarithmic negativity ``E_N`` in nats (eq F12),
  the Gaussian discord ``D_G`` and the qubit discord ``D_Z`` in bits (eqs F1-F8).

Conventions (DESIGN.md section 3): hbar = k_B = 1, time in 1/gamma, flux in
hbar omega gamma, ``J > 0`` when heat flows into the reservoir.  **Qubit fluxes are
physical** (``H = (omega/2) sigma_z``): the paper's Sec. VI qubit curves are twice these;
every qubit flux plot says so.  ``rho23`` is the paper's symbol of eq 41 (4x the matrix
element).

Choices the paper leaves open
-----------------------------
* Fig. 2: the reservoir is at ``T = 1`` (the paper's value); the initial temperatures
  ``T_S`` are not listed, we use ``T_S = 0.25, 0.5, 2, 4`` (two below, two above ``T``).
* Fig. 5: the caption has (a) = ``D_G``, (b) = ``E_N`` (the text says the opposite); we
  follow the caption.
* Fig. 6: the caption's ``xi_S = 0.25`` (the text says ``xi_S = 0``).
* Fig. 7: ``N_S = 0.1, 0.5, 1, 5``.
* Boundaries of the physical states (eq D2 for eq 31, eq 42 for eq 41) come from closed
  forms (:func:`lowest_uncertainty_eigenvalue`, :func:`class_half_width`), never from
  bisecting a numerical check.  Sampled class members (Figs 4b, 4c, 6b) lie
  :data:`BOUNDARY_RTOL` x scale inside; the only states exactly on a boundary are those the
  paper puts there (``|C13 + C24| = 2 N_S``, ``|rho23| = 1 - xi_S^2`` with ``Im rho23 = 0``),
  whose lowest eigenvalue is exactly 0 with exactly representable entries.
* Release times ``tau_p`` from an engine: the engine's flux at ``t_k`` is the energy
  released during the step ``[t_k, t_k + dt]`` divided by ``dt``, so its exact running
  integral is the step sum ``Q(t_k) = dt sum_{j<k} J_j = U(0) - U(t_k)``.  That is the
  default (``rule="step"``); the trapezoid rule on the same samples is biased by
  ``J(0) dt / 2``, which becomes a large ``tau_p`` error where ``J`` is small (both are
  reported in REPORT.md).  ``Q(inf)`` is eq 11.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lindblad import closed_form as cf
from lindblad import correlations, states
from lindblad.fluxes import HeatFluxes
from lindblad.thermal import bose_occupation

from .gaussian import GaussianCollisionModel
from .model import CascadeCollisionModel

__all__ = [
    "BOUNDARY_RTOL",
    "FIG2_T_S",
    "FIG7_N_S",
    "P_VALUES",
    "STATIONARY_STEP",
    "ClassRangeFigure",
    "DensityMapFigure",
    "DomainFigure",
    "FigureResult",
    "FigureSettings",
    "FluxFigure",
    "FluxPanel",
    "ReleaseTimeFigure",
    "Report",
    "StationaryCheck",
    "class_half_width",
    "cov31_scale",
    "figure_2",
    "figure_3a",
    "figure_3b",
    "figure_4a",
    "figure_4b",
    "figure_4c",
    "figure_5a",
    "figure_5b",
    "figure_5c",
    "figure_6a",
    "figure_6b",
    "figure_7",
    "lowest_uncertainty_eigenvalue",
    "make_all",
    "physical_mask",
    "release_times_from_flux",
    "stationary_points_check",
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

QUBIT_SCALE_NOTE = "physical units; the paper's Sec. VI qubit curves are 2x these"
_TEX = {"E_N": r"$E_N$", "D_G": r"$D_G$", "D_Z": r"$D_Z$"}
FLUX_KEYS = ("J1", "J2", "J12", "total", "independent")
_P_STYLE = {25.0: ("tab:blue", (0, (5, 2))), 50.0: ("tab:cyan", ":"),
            75.0: ("tab:green", "-"), 86.0: ("gold", "-."),
            90.0: ("tab:orange", (0, (6, 2, 1, 2, 1, 2))),
            95.0: ("tab:red", (0, (6, 2, 1, 2, 1, 2, 1, 2)))}


# --- settings and result types ---------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class FigureSettings:
    """Time step and grid sizes of every figure.

    Attributes
    ----------
    dt : float
        Collision time step (1/gamma) of every engine run.
    t_max : float
        End of the time axis of Figs 2 and 3.
    n_release : int
        Points of the closed-form ``gamma tau_p`` curves (Figs 4a, 6a).
    n_release_engine : int
        Engine markers on those curves (odd: includes the uncorrelated state).
    n_classes, n_line : int
        Classes ``C13 + C24 = const`` (Figs 4b, 4c) and points sampled along each (odd).
    n_plane : int
        Grid per axis of the (C13, C24) plane (Figs 5a, 5b; odd).
    n_disc : int
        Grid per axis of the (Re rho23, Im rho23) square around the disc (Fig. 5c; odd).
    n_rho_classes, n_im : int
        Values of Re rho23 (Fig. 6b) and of Im rho23 sampled in each class (odd).
    n_domain : int
        Grid per axis of Fig. 7 (odd).
    """

    dt: float = 0.01
    t_max: float = 6.0
    n_release: int = 81
    n_release_engine: int = 9
    n_classes: int = 41
    n_line: int = 41
    n_plane: int = 101
    n_disc: int = 21
    n_rho_classes: int = 15
    n_im: int = 9
    n_domain: int = 201

    @classmethod
    def full(cls) -> FigureSettings:
        """The settings of ``make_all(quick=False)``."""
        return cls()

    @classmethod
    def quick(cls) -> FigureSettings:
        """Coarse grids and ``dt = 0.02`` (tests and CI)."""
        return cls(dt=0.02, t_max=6.0, n_release=17, n_release_engine=5, n_classes=9,
                   n_line=11, n_plane=21, n_disc=7, n_rho_classes=5, n_im=3, n_domain=41)


@dataclass(kw_only=True)
class FigureResult:
    """What every figure function returns: its name, files and notes.

    Attributes
    ----------
    name : str
        ``"fig2"``, ``"fig3a"``, ...
    png, csv : Path
        The files written.
    notes : str
        Choices and conventions (also printed on the plot or in its CSV header).
    """

    name: str
    png: Path
    csv: Path
    notes: str = ""


@dataclass(kw_only=True)
class FluxPanel:
    """Engine and reference heat fluxes of one system for several initial states.

    Attributes
    ----------
    system : {"oscillator", "qubit"}
    parameter : str
        What distinguishes the curves (``"T_S"``, ``"C13 = C24"``, ``"Re rho23"``).
    values : ndarray, shape (n_curves,)
    t : ndarray, shape (n_t,)
        Times ``k dt`` (1/gamma), shared by engine and reference.
    engine, reference : dict of str to ndarray, shape (n_curves, n_t)
        ``J1, J2, J12, total`` (cascade, eq 12) and ``independent`` (``J^(ind)``, two
        independent reservoirs, eq 18), in hbar omega gamma (physical units).
    engine_name, reference_name : str
    dt : float
    """

    system: str
    parameter: str
    values: np.ndarray
    t: np.ndarray
    engine: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    engine_name: str
    reference_name: str
    dt: float

    def errors(self) -> dict[str, np.ndarray]:
        """``max_t |J_engine - J_reference|`` per quantity, shape (n_curves,) each."""
        return {k: np.max(np.abs(self.engine[k] - self.reference[k]), axis=1)
                for k in self.engine}


@dataclass(kw_only=True)
class FluxFigure(FigureResult):
    """Figs 2, 3a and 3b: ``panels`` maps ``"oscillators"`` / ``"qubits"`` to a
    :class:`FluxPanel`."""

    panels: dict[str, FluxPanel]


@dataclass(kw_only=True)
class ReleaseTimeFigure(FigureResult):
    """Figs 4a and 6a: ``gamma tau_p`` against the correlation parameter.

    Attributes
    ----------
    parameter : str
        ``"C13 + C24"`` or ``"Re rho23"``.
    p : ndarray, shape (n_p,)
        Percentages.
    x, tau_reference : ndarray, shapes (n_x,), (n_p, n_x)
        Closed form on a fine grid.
    x_engine, tau_engine : ndarray, shapes (n_e,), (n_p, n_e)
        Engine values (step rule, see the module docstring).
    tau_engine_trapezoid : ndarray, shape (n_p, n_e)
        The same engine runs integrated with the trapezoid rule (for comparison).
    tau_reference_at_engine : ndarray, shape (n_p, n_e)
        Closed form at ``x_engine``.
    dt : float
    """

    parameter: str
    p: np.ndarray
    x: np.ndarray
    tau_reference: np.ndarray
    x_engine: np.ndarray
    tau_engine: np.ndarray
    tau_engine_trapezoid: np.ndarray
    tau_reference_at_engine: np.ndarray
    dt: float

    def errors(self) -> np.ndarray:
        """``max_x |tau_engine - tau_reference|`` per percentage, shape (n_p,)."""
        return np.max(np.abs(self.tau_engine - self.tau_reference_at_engine), axis=1)


@dataclass(kw_only=True)
class ClassRangeFigure(FigureResult):
    """Figs 4b, 4c and 6b: range of a correlation measure over a class of initial states.

    A class is the set of physical initial states sharing the parameter that fixes the
    heat-flux dynamics: ``C13 + C24`` for eq 31 (points ``C13 - C24 = d`` with
    ``|d| <= half_width``), ``Re rho23`` for eq 41 (``|Im rho23| <= half_width``).

    Attributes
    ----------
    parameter, measure, unit : str
    classes : ndarray, shape (n_c,)
    minimum, maximum : ndarray, shape (n_c,)
        Over the sampled members of each class.
    diagonal : ndarray, shape (n_c,)
        The member with ``C13 = C24`` (oscillators) or ``Im rho23 = 0`` (qubits).
    half_width : ndarray, shape (n_c,)
        Extent of the class along its line (exact, closed form).
    argmin, argmax : ndarray, shape (n_c,)
        Position along the line (``d`` or ``Im rho23``) of the minimum and maximum.
    samples : ndarray, shape (n_c, n_line)
        The sampled values.
    positions : ndarray, shape (n_c, n_line)
        Where they were sampled (``d`` or ``Im rho23``): a symmetric grid with the diagonal
        member in the middle, ending :data:`BOUNDARY_RTOL` x scale inside the class ends
        (``|positions| < half_width``), so every sampled state is strictly physical; a class
        that is a single state on the boundary is sampled there (``positions = 0``).
    """

    parameter: str
    measure: str
    unit: str
    classes: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    diagonal: np.ndarray
    half_width: np.ndarray
    argmin: np.ndarray
    argmax: np.ndarray
    samples: np.ndarray
    positions: np.ndarray


@dataclass(kw_only=True)
class DensityMapFigure(FigureResult):
    """Figs 5a-5c: a correlation measure on a plane of initial states.

    Attributes
    ----------
    measure, unit, x_label, y_label : str
    x, y : ndarray, shapes (n_x,), (n_y,)
    values : ndarray, shape (n_y, n_x)
        ``values[j, i]`` at ``(x[i], y[j])``; NaN where the state is unphysical.
    physical : ndarray of bool, shape (n_y, n_x)
    """

    measure: str
    unit: str
    x_label: str
    y_label: str
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    physical: np.ndarray


@dataclass(kw_only=True)
class DomainFigure(FigureResult):
    """Fig. 7: physical region of eq 31 on the (C13, C24) plane, in units of N_S + 1/2.

    Attributes
    ----------
    n_s : ndarray, shape (n_panels,)
    u : ndarray, shape (n_u,)
        Grid of ``C / (N_S + 1/2)`` on both axes.
    physical : ndarray of bool, shape (n_panels, n_u, n_u)
        ``physical[k, j, i]`` for ``(C13, C24) = (u[i], u[j]) (N_S + 1/2)``.
    diagonal_extent : ndarray, shape (n_panels,)
        Largest ``|C13|`` with ``C13 = C24`` physical (bisection of eq D2 in closed form,
        :func:`lowest_uncertainty_eigenvalue` ``>= 0``; eq D5 says ``N_S``).
    area_fraction : ndarray, shape (n_panels,)
        Fraction of the square ``[-1, 1]^2`` that is physical.
    """

    n_s: np.ndarray
    u: np.ndarray
    physical: np.ndarray
    diagonal_extent: np.ndarray
    area_fraction: np.ndarray


@dataclass(kw_only=True)
class StationaryCheck:
    """Eqs 35-38 against the Gaussian collision engine (oscillators, N_S, N = 0).

    Attributes
    ----------
    c_sum : float
        ``C13(0) + C24(0)``.
    t1, t2 : float
        Eq 35.
    engine_t_min, engine_t_max : float
        Local minimum and maximum of the engine's ``J^(c)`` (NaN if none inside the run).
    j0_eq36, j0_engine, jt1_eq37, jt1_engine, jt2_eq38, jt2_engine : float
        ``J^(c)`` at 0, t1, t2: closed form and engine (hbar omega gamma).
    dt : float
    """

    c_sum: float
    t1: float
    t2: float
    engine_t_min: float
    engine_t_max: float
    j0_eq36: float
    j0_engine: float
    jt1_eq37: float
    jt1_engine: float
    jt2_eq38: float
    jt2_engine: float
    dt: float


@dataclass(kw_only=True)
class Report:
    """What :func:`make_all` produced.

    Attributes
    ----------
    out_dir, path : Path
        Output folder and ``REPORT.md``.
    settings : FigureSettings
    figures : dict of str to FigureResult
        ``"fig2"``, ``"fig3a"``, ..., ``"fig7"``.
    stationary : list of StationaryCheck
    seconds : dict of str to float
        Wall time per step (figure, ``"eqs 35-38"``) and ``"total"``.
    files : list of Path
        Every file written (those of the figures that finished, and REPORT.md).
    failures : dict of str to str
        The steps that raised, each with ``"ExceptionType: message"``; empty if all went well.
    tracebacks : dict of str to str
        The formatted traceback of each failure (also in REPORT.md).
    interrupted : str or None
        The step that was running when a ``KeyboardInterrupt`` stopped the run (REPORT.md
        then covers the steps finished before); None if the run went to the end.
    """

    out_dir: Path
    path: Path
    settings: FigureSettings
    figures: dict[str, FigureResult]
    stationary: list[StationaryCheck]
    seconds: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    tracebacks: dict[str, str] = field(default_factory=dict)
    interrupted: str | None = None

    @property
    def ok(self) -> bool:
        """True if every step finished without an error."""
        return not self.failures and self.interrupted is None


# --- numerics shared by the figures ------------------------------------------------------------

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
    h = np.diff(t)
    if rule == "step":
        q = np.concatenate([[0.0], np.cumsum(flux[:-1] * h)])
    elif rule == "trapezoid":
        q = np.concatenate([[0.0], np.cumsum(0.5 * (flux[:-1] + flux[1:]) * h)])
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


def _cov31(n_s: float, c13, c24) -> np.ndarray:
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


def _qubit_class_half_width(xi_s: float, re: float, margin: float = 0.0) -> float:
    """Largest ``|Im rho23|`` of eq 41 with ``Re rho23 = re`` and the lowest eigenvalue of
    ``rho``, ``(1 - xi_s^2 - |rho23|) / 4`` (eq 42), ``>= margin``; 0 if only ``Im = 0``
    qualifies (the boundary states ``|re| = 1 - xi_s^2``), NaN if none is physical."""
    bound = 1.0 - xi_s**2
    if abs(re) > bound:
        return float("nan")
    return math.sqrt(max((bound - 4.0 * margin) ** 2 - re**2, 0.0))


def _engine_grid(t_max: float, dt: float) -> float:
    """``t_max`` rounded up to a whole number of steps."""
    return math.ceil(t_max / dt - 1e-9) * dt


def _markers(dt: float, spacing: float = 0.2) -> slice:
    return slice(None, None, max(1, int(round(spacing / dt))))


# --- plotting helpers (object-oriented matplotlib, Agg canvas: no display needed) --------------

def _new_figure(nrows: int, ncols: int, size: tuple[float, float], **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=120)
    return path


def _write_csv(path: Path, header: Sequence[str], columns: dict[str, np.ndarray]) -> Path:
    """Rectangular CSV: ``# `` comment lines, one header row, ``%.10g`` numbers."""
    arrays = [np.asarray(v) for v in columns.values()]
    n = arrays[0].shape[0]
    if any(a.shape != (n,) for a in arrays):
        raise ValueError("CSV columns must be 1-d and of equal length")
    with path.open("w") as fh:
        for line in header:
            fh.write(f"# {line}\n")
        fh.write(",".join(columns) + "\n")
        for row in zip(*arrays, strict=True):
            fh.write(",".join(_fmt(v) for v in row) + "\n")
    return path


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (str, np.str_)):
        return str(v)
    return f"{float(v):.10g}"


def _flux_csv(path: Path, fig: FluxFigure, header: Sequence[str]) -> Path:
    cols: dict[str, np.ndarray] = {}
    for key, panel in fig.panels.items():
        cols.setdefault("t", panel.t)
        for i, v in enumerate(panel.values):
            for q in FLUX_KEYS:
                for src, data in (("engine", panel.engine), ("reference", panel.reference)):
                    cols[f"{key}[{panel.parameter}={v:g}].{q}.{src}"] = data[q][i]
    return _write_csv(path, header, cols)


# --- engine runs -----------------------------------------------------------------------------

def _flux_dict(cascade: HeatFluxes, independent: HeatFluxes) -> dict[str, np.ndarray]:
    return {"J1": cascade.J1, "J2": cascade.J2, "J12": cascade.J12, "total": cascade.total,
            "independent": independent.total}


def _stack(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in rows]) for k in FLUX_KEYS}


def _oscillator_panel(parameter: str, values, covs, temperature: float, n_s_list,
                      c_sums, settings: FigureSettings) -> FluxPanel:
    """Gaussian collision engine vs closed forms (eqs 26-34, any N)."""
    dt = settings.dt
    n_bath = bose_occupation(temperature)
    eng_c = GaussianCollisionModel(temperature=temperature)
    eng_i = GaussianCollisionModel(temperature=temperature, cascade=False)
    t_max = _engine_grid(settings.t_max, dt)
    engine, reference = [], []
    t = None
    for cov, n_s, c in zip(covs, n_s_list, c_sums, strict=True):
        res = eng_c.run(cov, t_max, dt)
        ind = eng_i.run(cov, t_max, dt)
        t = res.t
        engine.append(_flux_dict(res, ind))
        ref = cf.oscillator_fluxes(t, n_s, n_bath, c)
        reference.append({"J1": ref.J1, "J2": ref.J2, "J12": ref.J12, "total": ref.total,
                          "independent": cf.oscillator_independent_flux(t, n_s, n_bath)})
    return FluxPanel(system="oscillator", parameter=parameter, values=np.asarray(values, float),
                     t=t, engine=_stack(engine), reference=_stack(reference),
                     engine_name="Gaussian collision engine",
                     reference_name="closed form (eqs 26-34)", dt=dt)


def _qubit_panel(parameter: str, values, rhos, temperature: float, settings: FigureSettings,
                 closed_form_xi_s: float | None = None) -> FluxPanel:
    """Density engine vs closed forms (T = 0, eq 41) or the master equation (T > 0)."""
    dt = settings.dt
    eng_c = CascadeCollisionModel("qubit", temperature=temperature)
    eng_i = CascadeCollisionModel("qubit", temperature=temperature, cascade=False)
    t_max = _engine_grid(settings.t_max, dt)
    engine, reference = [], []
    t = None
    for v, rho in zip(values, rhos, strict=True):
        res = eng_c.run(rho, t_max, dt)
        ind = eng_i.run(rho, t_max, dt)
        t = res.t
        engine.append(_flux_dict(res, ind))
        if closed_form_xi_s is not None:
            ref = cf.qubit_fluxes(t, closed_form_xi_s, v)
            ref_ind = cf.qubit_independent_flux(t, closed_form_xi_s)
        else:
            ref = eng_c.master_equation().heat_fluxes(rho, t)
            ref_ind = eng_i.master_equation().heat_fluxes(rho, t).total
        reference.append({"J1": ref.J1, "J2": ref.J2, "J12": ref.J12, "total": ref.total,
                          "independent": ref_ind})
    ref_name = ("closed form (Sec. VI B, physical units)" if closed_form_xi_s is not None
                else "CascadeMasterEquation (exact Lindblad)")
    return FluxPanel(system="qubit", parameter=parameter, values=np.asarray(values, float),
                     t=t, engine=_stack(engine), reference=_stack(reference),
                     engine_name="density engine", reference_name=ref_name, dt=dt)


def _settings(settings: FigureSettings | None) -> FigureSettings:
    return FigureSettings.full() if settings is None else settings


def _out(out_dir) -> Path:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _label_ts(ts: float) -> str:
    return rf"$T_S$ = {ts:g}"


# --- Fig. 2 ------------------------------------------------------------------------------------

def figure_2(out_dir, settings: FigureSettings | None = None,
             t_s: Sequence[float] = FIG2_T_S) -> FluxFigure:
    """Fig. 2: J1, J2, J12 and J^(c) (with J^(ind)) for thermal starts, reservoir T = 1.

    Left column oscillators (Gaussian collision engine vs eqs 26-30 at
    ``N = 1/(e - 1)``), right column qubits (density engine vs the exact master
    equation).  Both subsystems start thermal at each ``T_S`` (our choice, see the module
    docstring).

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig2.png`` and ``fig2.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.
    t_s : sequence of float
        Initial temperatures.

    Returns
    -------
    FluxFigure
        Panels ``"oscillators"`` and ``"qubits"``.
    """
    s = _settings(settings)
    out = _out(out_dir)
    t_s = tuple(float(x) for x in t_s)
    n_s = [bose_occupation(x) for x in t_s]
    osc = _oscillator_panel("T_S", t_s, [states.gaussian_thermal(n) for n in n_s], FIG2_T,
                            n_s, [0.0] * len(t_s), s)
    rhos = [states.product(states.thermal("qubit", x), states.thermal("qubit", x)) for x in t_s]
    qub = _qubit_panel("T_S", t_s, rhos, FIG2_T, s)
    notes = (f"reservoir T = {FIG2_T:g} (hbar omega / k_B); T_S = "
             f"{', '.join(f'{x:g}' for x in t_s)} (our choice: the paper does not list them); "
             f"engines at dt = {s.dt:g}; qubit fluxes in {QUBIT_SCALE_NOTE}")
    result = FluxFigure(name="fig2", png=out / "fig2.png", csv=out / "fig2.csv", notes=notes,
                        panels={"oscillators": osc, "qubits": qub})
    _plot_fig2(result)
    _flux_csv(result.csv, result, [
        "Fig. 2: heat fluxes for thermal starts (hbar omega gamma; time 1/gamma)", notes,
        "columns: <panel>[T_S=..].<J1|J2|J12|total|independent>.<engine|reference>",
        f"oscillators: {osc.engine_name} vs {osc.reference_name}; "
        f"qubits: {qub.engine_name} vs {qub.reference_name}"])
    return result


def _ts_colors(values: np.ndarray):
    from matplotlib import colormaps

    cmap = colormaps["coolwarm"]
    order = np.argsort(np.argsort(values))
    return [cmap(0.05 + 0.9 * k / max(1, len(values) - 1)) for k in order]


def _plot_fig2(result: FluxFigure) -> None:
    fig, axes = _new_figure(4, 2, (9.0, 10.5), sharex=True)
    rows = (("J1", r"$J_1$"), ("J2", r"$J_2$"), ("J12", r"$J_{12}$"), ("total", r"$J^{(c)}$"))
    for col, (key, title) in enumerate((("oscillators", "harmonic oscillators"),
                                        ("qubits", "qubits"))):
        panel = result.panels[key]
        colors = _ts_colors(panel.values)
        mk = _markers(panel.dt)
        for row, (q, label) in enumerate(rows):
            ax = axes[row, col]
            for i, v in enumerate(panel.values):
                ax.plot(panel.t, panel.reference[q][i], color=colors[i], lw=1.3,
                        label=_label_ts(v) if (row == 0 and col == 0) else None)
                ax.plot(panel.t[mk], panel.engine[q][i][mk], "o", ms=3, mfc="none",
                        color=colors[i])
                if q == "total":
                    ax.plot(panel.t, panel.reference["independent"][i], color=colors[i],
                            lw=1.0, ls="--")
                    ax.plot(panel.t[mk], panel.engine["independent"][i][mk], "x", ms=3,
                            color=colors[i])
            ax.axhline(0.0, color="0.7", lw=0.6)
            unit = r"$\hbar\omega\gamma$"
            ax.set_ylabel(f"{label}  [{unit}]")
            if row == 0:
                ttl = (title if key == "oscillators" else
                       f"{title}\n(physical units; the paper's Sec. VI\nqubit curves are 2x these)")
                ax.set_title(ttl, fontsize=9)
        axes[-1, col].set_xlabel(r"$\gamma t$")
        axes[-1, col].text(0.98, 0.95, r"solid: $J^{(c)}$, dashed: $J^{(ind)}$",
                           transform=axes[-1, col].transAxes, ha="right", va="top",
                           fontsize=7)
    axes[0, 0].legend(fontsize=7, title=rf"$k_BT/\hbar\omega$ = {FIG2_T:g}",
                      title_fontsize=7)
    fig.suptitle(f"Fig. 2 - lines: exact reference; markers: collision engines "
                 f"(dt = {result.panels['qubits'].dt:g})", fontsize=9)
    _save(fig, result.png)


# --- Fig. 3 ------------------------------------------------------------------------------------

def figure_3a(out_dir, settings: FigureSettings | None = None) -> FluxFigure:
    """Fig. 3(a): J^(c)(t) of two oscillators, N_S = 1, N = 0, C13 = C24 = -0.7, 0, 0.7 N_S.

    Gaussian collision engine (cascade and independent reservoirs) against eqs 26-34 and
    ``J^(ind) = 2 J1`` (eq 30), which does not depend on the correlations.

    Parameters
    ----------
    out_dir : path-like
    settings : FigureSettings, optional

    Returns
    -------
    FluxFigure
        Panel ``"oscillators"`` with ``values`` = C13(0) (= C24(0)).
    """
    s = _settings(settings)
    out = _out(out_dir)
    c = [f * N_S for f in FIG3A_C]
    covs = [states.gaussian_correlated(N_S, x, x) for x in c]
    panel = _oscillator_panel("C13 = C24", c, covs, 0.0, [N_S] * len(c), [2 * x for x in c],
                              s)
    notes = f"N_S = {N_S:g}, N = 0 (T = 0); Gaussian collision engine at dt = {s.dt:g}"
    result = FluxFigure(name="fig3a", png=out / "fig3a.png", csv=out / "fig3a.csv",
                        notes=notes, panels={"oscillators": panel})
    _plot_total_vs_independent(result, "oscillators", r"$C_{13}(0) = C_{24}(0)$ = ",
                               "Fig. 3(a): two oscillators", "")
    _flux_csv(result.csv, result, ["Fig. 3(a): heat fluxes (hbar omega gamma), oscillators",
                                   notes, f"reference: {panel.reference_name}"])
    return result


def figure_3b(out_dir, settings: FigureSettings | None = None) -> FluxFigure:
    """Fig. 3(b): J^(c)(t) of two qubits, xi_S = 0.25, xi = 1, Re rho23 = -0.75, 0, 0.75.

    Density engine (cascade and independent) against the closed forms of Sec. VI B in
    physical units (the paper's curves are twice these).

    Parameters
    ----------
    out_dir : path-like
    settings : FigureSettings, optional

    Returns
    -------
    FluxFigure
        Panel ``"qubits"`` with ``values`` = Re rho23(0) (the paper's symbol).
    """
    s = _settings(settings)
    out = _out(out_dir)
    rhos = [states.correlated_qubits(XI_S, r) for r in FIG3B_RHO23]
    panel = _qubit_panel("Re rho23", FIG3B_RHO23, rhos, 0.0, s, closed_form_xi_s=XI_S)
    notes = (f"xi_S = {XI_S:g}, xi = 1 (T = 0); density engine at dt = {s.dt:g}; "
             f"{QUBIT_SCALE_NOTE}")
    result = FluxFigure(name="fig3b", png=out / "fig3b.png", csv=out / "fig3b.csv",
                        notes=notes, panels={"qubits": panel})
    _plot_total_vs_independent(result, "qubits", r"Re$[\rho_{23}(0)]$ = ",
                               "Fig. 3(b): two qubits", f"\n({QUBIT_SCALE_NOTE})")
    _flux_csv(result.csv, result, ["Fig. 3(b): heat fluxes (hbar omega gamma), qubits",
                                   notes, f"reference: {panel.reference_name}"])
    return result


def _plot_total_vs_independent(result: FluxFigure, key: str, label: str, title: str,
                               scale_note: str) -> None:
    panel = result.panels[key]
    fig, axes = _new_figure(1, 1, (6.0, 4.2))
    ax = axes[0, 0]
    mk = _markers(panel.dt)
    for i, v in enumerate(panel.values):
        color = f"C{i}"
        ax.plot(panel.t, panel.reference["total"][i], color=color, lw=1.4,
                label=rf"$J^{{(c)}}$, {label}{v:g}")
        ax.plot(panel.t[mk], panel.engine["total"][i][mk], "o", ms=3.5, mfc="none",
                color=color)
    ax.plot(panel.t, panel.reference["independent"][0], color="k", lw=1.2, ls="--",
            label=r"$J^{(ind)}$ (independent of the correlations)")
    for i in range(len(panel.values)):
        ax.plot(panel.t[mk], panel.engine["independent"][i][mk], "x", ms=3.5, color="k")
    ax.axhline(0.0, color="0.7", lw=0.6)
    ax.set_xlabel(r"$\gamma t$")
    ax.set_ylabel(r"heat flux  [$\hbar\omega\gamma$]")
    ax.set_title(f"{title} - lines: exact; markers: {panel.engine_name}, dt = {panel.dt:g}"
                 f"{scale_note}", fontsize=8)
    ax.legend(fontsize=7)
    _save(fig, result.png)


# --- Figs 4a and 6a: release times -----------------------------------------------------------

def _release_figure(name: str, parameter: str, x: np.ndarray, x_engine: np.ndarray,
                    reference: Callable[[float], np.ndarray],
                    run: Callable[[float, float], HeatFluxes], q_inf: float, dt: float,
                    out: Path, notes: str, x_label: str, title: str) -> ReleaseTimeFigure:
    p = np.array(P_VALUES)
    tau_ref = np.array([reference(v) for v in x]).T
    tau_ref_e = np.array([reference(v) for v in x_engine]).T
    t_max = _engine_grid(float(np.max(tau_ref_e)) + 1.0, dt)
    tau_e, tau_trap = [], []
    for v in x_engine:
        res = run(v, t_max)
        tau_e.append(release_times_from_flux(res.t, res.total, q_inf, p, rule="step"))
        tau_trap.append(release_times_from_flux(res.t, res.total, q_inf, p, rule="trapezoid"))
    result = ReleaseTimeFigure(name=name, png=out / f"{name}.png", csv=out / f"{name}.csv",
                               notes=notes, parameter=parameter, p=p, x=x,
                               tau_reference=tau_ref, x_engine=x_engine,
                               tau_engine=np.array(tau_e).T,
                               tau_engine_trapezoid=np.array(tau_trap).T,
                               tau_reference_at_engine=tau_ref_e, dt=dt)
    fig, axes = _new_figure(1, 1, (6.0, 4.4))
    ax = axes[0, 0]
    for k, pc in enumerate(p):
        color, ls = _P_STYLE[float(pc)]
        ax.plot(x, tau_ref[k], color=color, ls=ls, lw=1.5, label=f"p = {pc:g}")
        ax.plot(x_engine, result.tau_engine[k], "o", ms=4, mfc="none", color=color)
    ax.set_xlabel(x_label)
    ax.set_ylabel(r"$\gamma\tau_p$")
    ax.set_title(f"{title}\nlines: closed form; markers: collision engine (dt = {dt:g}, "
                 "step-sum of its flux)", fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    _save(fig, result.png)
    cols = {"source": np.array(["reference"] * x.size + ["engine"] * x_engine.size
                               + ["engine_trapezoid"] * x_engine.size),
            parameter.replace(" ", ""): np.concatenate([x, x_engine, x_engine])}
    for k, pc in enumerate(p):
        cols[f"tau_p{pc:g}"] = np.concatenate([tau_ref[k], result.tau_engine[k],
                                               result.tau_engine_trapezoid[k]])
    _write_csv(result.csv, [f"{title}: gamma tau_p", notes,
                            "engine: Q(t) = step sum of the engine flux (exact energy "
                            "balance); engine_trapezoid: cumulative trapezoid rule"], cols)
    return result


def figure_4a(out_dir, settings: FigureSettings | None = None) -> ReleaseTimeFigure:
    """Fig. 4(a): ``gamma tau_p`` against C13 + C24 in [-2 N_S, 2 N_S] (N_S = 1, N = 0).

    Lines: :func:`lindblad.closed_form.oscillator_release_time`.  Markers: the Gaussian
    collision engine with ``C13 = C24 = c_sum / 2``, ``tau_p`` from its flux
    (:func:`release_times_from_flux`) and ``Q(inf) = 2 N_S`` (eq 11).

    Parameters
    ----------
    out_dir : path-like
    settings : FigureSettings, optional

    Returns
    -------
    ReleaseTimeFigure
    """
    s = _settings(settings)
    out = _out(out_dir)
    x = np.linspace(-2 * N_S, 2 * N_S, s.n_release)
    xe = np.linspace(-2 * N_S, 2 * N_S, s.n_release_engine)
    engine = GaussianCollisionModel(temperature=0.0)

    def run(c: float, t_max: float) -> HeatFluxes:
        return engine.run(states.gaussian_correlated(N_S, c / 2, c / 2), t_max, s.dt)

    notes = (f"N_S = {N_S:g}, N = 0; Q(inf) = 2 N_S (eq 11); Gaussian collision engine at "
             f"dt = {s.dt:g} with C13 = C24")
    return _release_figure("fig4a", "C13 + C24", x, xe,
                           lambda c: cf.oscillator_release_time(P_VALUES, N_S, c), run,
                           cf.oscillator_total_heat(N_S), s.dt, out, notes,
                           r"$C_{13}(0) + C_{24}(0)$", "Fig. 4(a): oscillators")


def figure_6a(out_dir, settings: FigureSettings | None = None) -> ReleaseTimeFigure:
    """Fig. 6(a): ``gamma tau_p`` against Re rho23 (xi_S = 0.25, xi = 1: the caption's values).

    Lines: :func:`lindblad.closed_form.qubit_release_time`.  Markers: the density engine,
    ``Q(inf) = omega (1 - xi_S)`` (eq 11, physical; the paper's factor 2 cancels in
    ``tau_p``).

    Parameters
    ----------
    out_dir : path-like
    settings : FigureSettings, optional

    Returns
    -------
    ReleaseTimeFigure
    """
    s = _settings(settings)
    out = _out(out_dir)
    b = 1.0 - XI_S**2
    x = np.linspace(-b, b, s.n_release)
    xe = np.linspace(-b, b, s.n_release_engine)
    engine = CascadeCollisionModel("qubit", temperature=0.0)

    def run(r: float, t_max: float) -> HeatFluxes:
        return engine.run(states.correlated_qubits(XI_S, r), t_max, s.dt)

    notes = (f"xi_S = {XI_S:g} (the caption's value; the text says 0), xi = 1 (T = 0); "
             f"Q(inf) = omega (1 - xi_S) (eq 11); density engine at dt = {s.dt:g}")
    return _release_figure("fig6a", "Re rho23", x, xe,
                           lambda r: cf.qubit_release_time(P_VALUES, XI_S, r), run,
                           cf.qubit_total_heat(XI_S), s.dt, out, notes,
                           r"Re$[\rho_{23}(0)]$", "Fig. 6(a): qubits")


# --- Figs 4b, 4c, 6b: correlation ranges within a class ----------------------------------------

def _oscillator_class_figure(name: str, measure: str, unit: str,
                             func: Callable[[np.ndarray], float], out_dir,
                             settings: FigureSettings | None) -> ClassRangeFigure:
    s = _settings(settings)
    out = _out(out_dir)
    classes = np.linspace(-2 * N_S, 2 * N_S, s.n_classes)
    n_line = s.n_line + (1 - s.n_line % 2)   # odd: the C13 = C24 member is sampled
    samples = np.zeros((classes.size, n_line))
    widths = np.zeros(classes.size)
    positions = np.zeros((classes.size, n_line))
    margin = BOUNDARY_RTOL * cov31_scale(N_S)
    for i, c in enumerate(classes):
        widths[i] = class_half_width(N_S, c)
        w = class_half_width(N_S, c, margin=margin)   # every sample strictly physical
        d = np.linspace(-w, w, n_line)
        d[n_line // 2] = 0.0
        positions[i] = d
        covs = _cov31(N_S, 0.5 * (c + d), 0.5 * (c - d))
        samples[i] = [func(cov) for cov in covs]
    result = _class_result(name, out, "C13 + C24", measure, unit, classes, samples, widths,
                           positions, f"N_S = {N_S:g}; each class C13 + C24 = const is the "
                           f"segment C13 - C24 = d, |d| <= d_max = sqrt((2 N_S + 1 - "
                           f"|C13 + C24|)^2 - 1) (eq D2 in closed form), sampled at {n_line} "
                           f"points up to {BOUNDARY_RTOL:g} (2 N_S + 1) inside the boundary; "
                           f"d = 0 is C13 = C24")
    _plot_class(result, r"$C_{13}(0) + C_{24}(0)$",
                f"Fig. {name[3:]}: {_TEX[measure]} over each class $C_{{13}} + C_{{24}}$ = const "
                f"(oscillators, $N_S$ = {N_S:g}, N = 0)")
    return result


def _class_result(name, out, parameter, measure, unit, classes, samples, widths, positions,
                  notes) -> ClassRangeFigure:
    mid = samples.shape[1] // 2
    kmin = np.argmin(samples, axis=1)
    kmax = np.argmax(samples, axis=1)
    rows = np.arange(classes.size)
    result = ClassRangeFigure(name=name, png=out / f"{name}.png", csv=out / f"{name}.csv",
                              notes=notes, parameter=parameter, measure=measure, unit=unit,
                              classes=classes, minimum=samples.min(axis=1),
                              maximum=samples.max(axis=1), diagonal=samples[:, mid],
                              half_width=widths, argmin=positions[rows, kmin],
                              argmax=positions[rows, kmax], samples=samples,
                              positions=positions)
    _write_csv(result.csv, [f"{measure} ({unit}) over the class {parameter} = const", notes],
               {parameter.replace(" ", ""): classes, "minimum": result.minimum,
                "maximum": result.maximum, "diagonal_member": result.diagonal,
                "half_width": widths, "argmin_position": result.argmin,
                "argmax_position": result.argmax})
    return result


def _plot_class(result: ClassRangeFigure, x_label: str, title: str) -> None:
    fig, axes = _new_figure(1, 1, (6.0, 4.2))
    ax = axes[0, 0]
    ax.fill_between(result.classes, result.minimum, result.maximum, color="tab:blue",
                    alpha=0.3, lw=0, label="all states of the class")
    ax.plot(result.classes, result.minimum, color="tab:blue", lw=1.0)
    ax.plot(result.classes, result.maximum, color="tab:blue", lw=1.0)
    for j in range(result.samples.shape[1]):
        ax.plot(result.classes, result.samples[:, j], ".", ms=1.5, color="tab:blue")
    diag = "C13 = C24" if result.parameter == "C13 + C24" else "Im rho23 = 0"
    ax.plot(result.classes, result.diagonal, "r--", lw=1.2, label=f"member with {diag}")
    ax.set_xlabel(x_label)
    ax.set_ylabel(f"{_TEX[result.measure]}  [{result.unit}]")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, result.png)


def figure_4b(out_dir, settings: FigureSettings | None = None) -> ClassRangeFigure:
    """Fig. 4(b): range of the log negativity E_N (nats) in each class C13 + C24 = const.

    Every physical state of eq 31 with the given ``C13 + C24`` (N_S = 1) is sampled along
    its segment (:func:`class_half_width`), ending :data:`BOUNDARY_RTOL` ``x (2 N_S + 1)``
    inside the boundary (the end classes ``|C13 + C24| = 2 N_S`` are single states on it);
    ``minimum``/``maximum`` bound the range, ``diagonal`` is the member with
    ``C13 = C24`` (never entangled).  E_N from :func:`lindblad.correlations.log_negativity`.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig4b.png`` and ``fig4b.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    ClassRangeFigure
    """
    return _oscillator_class_figure("fig4b", "E_N", "nats", correlations.log_negativity,
                                    out_dir, settings)


def figure_4c(out_dir, settings: FigureSettings | None = None) -> ClassRangeFigure:
    """Fig. 4(c): range of the Gaussian discord D_G (bits) in each class C13 + C24 = const.

    As :func:`figure_4b` with :func:`lindblad.correlations.gaussian_discord` (measurement
    on S1).

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig4c.png`` and ``fig4c.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    ClassRangeFigure
    """
    return _oscillator_class_figure("fig4c", "D_G", "bits", correlations.gaussian_discord,
                                    out_dir, settings)


def figure_6b(out_dir, settings: FigureSettings | None = None) -> ClassRangeFigure:
    """Fig. 6(b): range of the qubit discord D_Z (bits) over states (41) with given Re rho23.

    Each class ``Re rho23 = const`` (xi_S = 0.25) is the segment ``|Im rho23| <=
    sqrt((1 - xi_S^2)^2 - Re^2)`` (eq 42), sampled at ``n_im`` points whose lowest eigenvalue
    of ``rho`` is at least :data:`BOUNDARY_RTOL` (the end classes ``|Re rho23| = 1 - xi_S^2``
    are single states on the boundary); D_Z = :func:`lindblad.correlations.quantum_discord`
    (measurement on S1).

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig6b.png`` and ``fig6b.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    ClassRangeFigure
    """
    s = _settings(settings)
    out = _out(out_dir)
    b = 1.0 - XI_S**2
    classes = np.linspace(-b, b, s.n_rho_classes)
    n_im = s.n_im + (1 - s.n_im % 2)
    samples = np.zeros((classes.size, n_im))
    widths = np.zeros(classes.size)
    positions = np.zeros((classes.size, n_im))
    cache: dict[tuple[float, float], float] = {}
    for i, r in enumerate(classes):
        widths[i] = _qubit_class_half_width(XI_S, r)
        w = _qubit_class_half_width(XI_S, r, margin=BOUNDARY_RTOL)   # strictly physical
        im = np.linspace(-w, w, n_im)
        im[n_im // 2] = 0.0
        positions[i] = im
        for j, y in enumerate(im):
            key = (float(r), float(y))
            if key not in cache:   # the end classes are single states
                cache[key] = correlations.quantum_discord(
                    states.correlated_qubits(XI_S, complex(r, y)))
            samples[i, j] = cache[key]
    notes = (f"xi_S = {XI_S:g}; class Re rho23 = const: |Im rho23| <= sqrt((1 - xi_S^2)^2 - "
             f"Re^2) (eq 42), {n_im} samples up to {BOUNDARY_RTOL:g} inside the boundary (lowest "
             f"eigenvalue of rho); D_Z in bits, measurement on S1")
    result = _class_result("fig6b", out, "Re rho23", "D_Z", "bits", classes, samples, widths,
                           positions, notes)
    _plot_class(result, r"Re$[\rho_{23}(0)]$",
                rf"Fig. 6(b): $D_Z$ over each class Re$\rho_{{23}}$ = const (qubits, "
                rf"$\xi_S$ = {XI_S:g})")
    return result


# --- Fig. 5: density plots ---------------------------------------------------------------------

def _oscillator_map(name: str, measure: str, unit: str, func, out_dir,
                    settings: FigureSettings | None) -> DensityMapFigure:
    s = _settings(settings)
    out = _out(out_dir)
    c11 = N_S + 0.5
    axis = np.linspace(-c11, c11, s.n_plane)
    c13, c24 = np.meshgrid(axis, axis)          # [j, i] = (C13 = axis[i], C24 = axis[j])
    phys = physical_mask(N_S, c13, c24)
    values = np.full(c13.shape, np.nan)
    covs = _cov31(N_S, c13, c24)
    for j, i in zip(*np.nonzero(phys), strict=True):
        values[j, i] = func(covs[j, i])
    notes = (f"N_S = {N_S:g}, N = 0; grid {s.n_plane} x {s.n_plane} on [-(N_S + 1/2), "
             f"N_S + 1/2]^2; unphysical points (eq D2) masked (NaN)")
    result = DensityMapFigure(name=name, png=out / f"{name}.png", csv=out / f"{name}.csv",
                              notes=notes, measure=measure, unit=unit,
                              x_label=r"$C_{13}(0)$", y_label=r"$C_{24}(0)$", x=axis,
                              y=axis, values=values, physical=phys)
    _plot_map(result, f"Fig. {name[3:]}: {_TEX[measure]} of eq 31, $N_S$ = {N_S:g}, N = 0",
              gamma=0.5 if measure == "D_G" else 1.0)
    _map_csv(result, ["C13", "C24"])
    return result


def _map_csv(result: DensityMapFigure, names: Sequence[str]) -> None:
    xx, yy = np.meshgrid(result.x, result.y)
    _write_csv(result.csv, [f"{result.measure} ({result.unit})", result.notes],
               {names[0]: xx.ravel(), names[1]: yy.ravel(),
                "physical": result.physical.ravel(), result.measure: result.values.ravel()})


def _plot_map(result: DensityMapFigure, title: str, gamma: float = 1.0) -> None:
    from matplotlib.colors import PowerNorm

    fig, axes = _new_figure(1, 1, (5.4, 4.6))
    ax = axes[0, 0]
    masked = np.ma.masked_invalid(result.values)
    norm = PowerNorm(gamma, vmin=0.0, vmax=float(np.nanmax(result.values)))
    mesh = ax.pcolormesh(result.x, result.y, masked, shading="nearest", cmap="viridis",
                         norm=norm)
    cbar = fig.colorbar(mesh, ax=ax)
    scale = "" if gamma == 1.0 else f" (colour scale ~ value^{gamma:g})"
    cbar.set_label(f"{_TEX[result.measure]}  [{result.unit}]{scale}")
    ax.set_facecolor("0.85")
    ax.set_xlabel(result.x_label)
    ax.set_ylabel(result.y_label)
    ax.set_aspect("equal")
    ax.set_title(f"{title}\n(grey: unphysical)", fontsize=9)
    _save(fig, result.png)


def figure_5a(out_dir, settings: FigureSettings | None = None) -> DensityMapFigure:
    """Fig. 5(a): Gaussian discord D_G (bits) on the (C13, C24) plane, N_S = 1, N = 0.

    (The caption's assignment; the text swaps 5a and 5b.)  Unphysical points (eq D2) are
    NaN; D_G = :func:`lindblad.correlations.gaussian_discord` (measurement on S1).

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig5a.png`` and ``fig5a.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    DensityMapFigure
    """
    return _oscillator_map("fig5a", "D_G", "bits", correlations.gaussian_discord, out_dir,
                           settings)


def figure_5b(out_dir, settings: FigureSettings | None = None) -> DensityMapFigure:
    """Fig. 5(b): logarithmic negativity E_N (nats) on the (C13, C24) plane, N_S = 1.

    Entanglement appears only near ``C13 = -C24 = +- sqrt(N_S (N_S + 1))``.
    E_N = :func:`lindblad.correlations.log_negativity`; unphysical points are NaN.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig5b.png`` and ``fig5b.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    DensityMapFigure
    """
    return _oscillator_map("fig5b", "E_N", "nats", correlations.log_negativity, out_dir,
                           settings)


def figure_5c(out_dir, settings: FigureSettings | None = None) -> DensityMapFigure:
    """Fig. 5(c): qubit discord D_Z (bits) on the (Re rho23, Im rho23) disc, xi_S = 0.25.

    Square grid of ``n_disc`` points per axis over ``[-b, b]^2``, ``b = 1 - xi_S^2``;
    points outside the disc ``|rho23| <= b`` (eq 42) are NaN.  D_Z =
    :func:`lindblad.correlations.quantum_discord` of :func:`lindblad.states.correlated_qubits`
    at every grid point (no symmetry assumed).

    Parameters
    ----------
    out_dir : path-like
        Folder for ``fig5c.png`` and ``fig5c.csv``.
    settings : FigureSettings, optional
        Default :meth:`FigureSettings.full`.

    Returns
    -------
    DensityMapFigure
    """
    s = _settings(settings)
    out = _out(out_dir)
    b = 1.0 - XI_S**2
    axis = np.linspace(-b, b, s.n_disc)
    re, im = np.meshgrid(axis, axis)
    phys = np.hypot(re, im) <= b + 4.0 * BOUNDARY_RTOL   # lowest eigenvalue >= -BOUNDARY_RTOL
    values = np.full(re.shape, np.nan)
    for j, i in zip(*np.nonzero(phys), strict=True):
        values[j, i] = correlations.quantum_discord(
            states.correlated_qubits(XI_S, complex(re[j, i], im[j, i])))
    notes = (f"xi_S = {XI_S:g}, states of eq 41; grid {s.n_disc} x {s.n_disc}; outside "
             f"|rho23| <= 1 - xi_S^2 = {b:g} (eq 42) masked; D_Z in bits, measurement on S1")
    result = DensityMapFigure(name="fig5c", png=out / "fig5c.png", csv=out / "fig5c.csv",
                              notes=notes, measure="D_Z", unit="bits",
                              x_label=r"Re$[\rho_{23}(0)]$", y_label=r"Im$[\rho_{23}(0)]$",
                              x=axis, y=axis, values=values, physical=phys)
    _plot_map(result, rf"Fig. 5(c): $D_Z$ of eq 41, $\xi_S$ = {XI_S:g}")
    _map_csv(result, ["Re_rho23", "Im_rho23"])
    return result


# --- Fig. 7 ------------------------------------------------------------------------------------

def figure_7(out_dir, settings: FigureSettings | None = None,
             n_s_values: Sequence[float] = FIG7_N_S) -> DomainFigure:
    """Fig. 7: physical domain of eq 31 on the (C13, C24) plane in units of N_S + 1/2.

    The criterion is eq D2 (:func:`physical_mask`); dashed black lines are the classes
    ``C13 + C24 = const`` (equal heat-flux dynamics), the red line ``C13 = C24``, which
    crosses every class and ends at ``|C13| = N_S`` (eq D5).

    Parameters
    ----------
    out_dir : path-like
    settings : FigureSettings, optional
    n_s_values : sequence of float
        One panel per ``N_S`` (our choice: 0.1, 0.5, 1, 5).

    Returns
    -------
    DomainFigure
    """
    s = _settings(settings)
    out = _out(out_dir)
    u = np.linspace(-1.0, 1.0, s.n_domain)
    uu13, uu24 = np.meshgrid(u, u)
    n_s_arr = np.asarray(n_s_values, dtype=float)
    masks, extents = [], []
    for n_s in n_s_arr:
        a = n_s + 0.5
        masks.append(physical_mask(n_s, a * uu13, a * uu24))
        lo, hi = 0.0, a
        while hi - lo > 1e-13:   # bisection of the exact criterion (no tolerance)
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if physical_mask(n_s, mid, mid, rtol=0.0) else (lo, mid)
        extents.append(lo)
    physical = np.array(masks)
    notes = (f"N_S = {', '.join(f'{x:g}' for x in n_s_arr)} (our choice); axes in units of "
             f"N_S + 1/2; grid {s.n_domain} x {s.n_domain}; criterion eq D2")
    result = DomainFigure(name="fig7", png=out / "fig7.png", csv=out / "fig7.csv", notes=notes,
                          n_s=n_s_arr, u=u, physical=physical,
                          diagonal_extent=np.array(extents),
                          area_fraction=physical.mean(axis=(1, 2)))
    ncols = min(4, n_s_arr.size)
    nrows = math.ceil(n_s_arr.size / ncols)
    fig, axes = _new_figure(nrows, ncols, (3.0 * ncols, 3.2 * nrows))
    for k, n_s in enumerate(n_s_arr):
        ax = axes.flat[k]
        ax.contourf(u, u, physical[k].astype(float), levels=[0.5, 1.5], colors=["tab:blue"],
                    alpha=0.45)
        for c in np.linspace(-1.5, 1.5, 7):
            ax.plot(u, c - u, "k--", lw=0.6)
        e = extents[k] / (n_s + 0.5)
        ax.plot([-e, e], [-e, e], "r--", lw=1.2)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")
        ax.set_title(rf"$N_S$ = {n_s:g}", fontsize=9)
        ax.set_xlabel(r"$C_{13}(0)/(N_S+1/2)$", fontsize=8)
        ax.set_ylabel(r"$C_{24}(0)/(N_S+1/2)$", fontsize=8)
    for ax in list(axes.flat)[n_s_arr.size:]:
        ax.set_visible(False)
    fig.suptitle("Fig. 7: physical covariance matrices of eq 31 (blue); black dashed: "
                 "C13 + C24 = const; red: C13 = C24", fontsize=8)
    _save(fig, result.png)
    _write_csv(result.csv, ["Fig. 7: physicality (eq D2) of eq 31", notes,
                            "diagonal_extent per N_S: " + ", ".join(
                                f"N_S={n:g}: {x:.12g}" for n, x in zip(n_s_arr, extents,
                                                                       strict=True))],
               {"N_S": np.repeat(n_s_arr, u.size**2),
                "u13": np.tile(uu13.ravel(), n_s_arr.size),
                "u24": np.tile(uu24.ravel(), n_s_arr.size), "physical": physical.ravel()})
    return result


# --- eqs 35-38 against the engine ---------------------------------------------------------------

def stationary_points_check(settings: FigureSettings | None = None,
                            c_sums: Sequence[float] = STATIONARY_C_SUMS,
                            n_s: float = N_S) -> list[StationaryCheck]:
    """Stationary times (eq 35) and ``J^(c)`` at 0, t1, t2 (eqs 36-38) vs the Gaussian engine.

    For each ``c_sum`` the engine runs with ``C13 = C24 = c_sum / 2`` (N = 0) to
    ``t = 6``; its local extrema are located by a parabola through the three samples
    around each sign change of the discrete derivative, and its flux at ``t1``, ``t2`` is
    interpolated linearly.

    Returns
    -------
    list of StationaryCheck
    """
    s = _settings(settings)
    engine = GaussianCollisionModel(temperature=0.0)
    out = []
    for c in c_sums:
        res = engine.run(states.gaussian_correlated(n_s, c / 2, c / 2),
                         _engine_grid(6.0, s.dt), s.dt)
        t, j = res.t, res.total
        t1, t2 = cf.oscillator_stationary_times(n_s, c)
        j0, jt1, jt2 = cf.oscillator_stationary_fluxes(n_s, c)
        t_min, t_max = _local_extrema(t, j)
        out.append(StationaryCheck(c_sum=float(c), t1=t1, t2=t2, engine_t_min=t_min,
                                   engine_t_max=t_max, j0_eq36=j0, j0_engine=float(j[0]),
                                   jt1_eq37=jt1, jt1_engine=float(np.interp(t1, t, j)),
                                   jt2_eq38=jt2, jt2_engine=float(np.interp(t2, t, j)),
                                   dt=s.dt))
    return out


def _local_extrema(t: np.ndarray, j: np.ndarray) -> tuple[float, float]:
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


# --- make_all and the report ---------------------------------------------------------------------

FIGURES: dict[str, Callable[..., FigureResult]] = {
    "fig2": figure_2, "fig3a": figure_3a, "fig3b": figure_3b, "fig4a": figure_4a,
    "fig4b": figure_4b, "fig4c": figure_4c, "fig5a": figure_5a, "fig5b": figure_5b,
    "fig5c": figure_5c, "fig6a": figure_6a, "fig6b": figure_6b, "fig7": figure_7,
}
#: Name of the eqs 35-38 check (:func:`stationary_points_check`) among the steps of
#: :func:`make_all` (keys of ``Report.seconds`` and ``Report.failures``).
STATIONARY_STEP = "eqs 35-38"


def make_all(out_dir, quick: bool = False, progress: bool = True) -> Report:
    """Reproduce Figs 2-7 and write ``REPORT.md``.

    Every figure of :data:`FIGURES`, then the eqs 35-38 check, runs as one step.  A step that
    raises an exception does not stop the others: its error goes into ``Report.failures``
    and into REPORT.md (type, message and traceback), every other figure is written, and
    the sections of REPORT.md that need the missing figure say so.  A caller should treat
    a non-empty ``failures`` as a failed run (the CLI exits with status 1).

    A ``KeyboardInterrupt`` is not a failure: it stops the run, REPORT.md is written for the
    steps finished so far and marked interrupted (``Report.interrupted`` names the step that
    was running), and the ``KeyboardInterrupt`` is re-raised.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created).  Receives ``figN.png`` and ``figN.csv`` for
        N = 2, 3a, 3b, 4a, 4b, 4c, 5a, 5b, 5c, 6a, 6b, 7 and ``REPORT.md``.
    quick : bool
        Coarse grids and ``dt = 0.02`` (:meth:`FigureSettings.quick`), for tests and CI;
        otherwise :meth:`FigureSettings.full` (``dt = 0.01``).
    progress : bool
        Show a tqdm progress bar over the figures.

    Returns
    -------
    Report
        Every finished figure's result, the eq 35-38 check, timings, the files written and
        the steps that failed (``failures``, empty when all went well).

    Raises
    ------
    KeyboardInterrupt
        Re-raised after REPORT.md has been written (see above).
    """
    from tqdm import tqdm

    settings = FigureSettings.quick() if quick else FigureSettings.full()
    out = _out(out_dir)
    report = Report(out_dir=out, path=out / "REPORT.md", settings=settings, figures={},
                    stationary=[])
    start = time.perf_counter()
    bar = tqdm(list(FIGURES.items()) + [(STATIONARY_STEP, None)], desc="paper figures",
               unit="fig", disable=not progress)
    name = STATIONARY_STEP
    try:
        for name, func in bar:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            try:
                if func is None:
                    report.stationary = stationary_points_check(settings)
                else:
                    report.figures[name] = func(out, settings)
            except Exception as exc:   # recorded in the report; the other figures go on
                report.failures[name] = f"{type(exc).__name__}: {exc}"
                report.tracebacks[name] = traceback.format_exc()
            report.seconds[name] = time.perf_counter() - t0
    except KeyboardInterrupt:
        report.interrupted = name
        _write_report(report, start)
        raise
    finally:
        bar.close()
    _write_report(report, start)
    return report


def _write_report(report: Report, start: float) -> None:
    """Total time, REPORT.md and the list of files written, for the steps done so far."""
    report.seconds["total"] = time.perf_counter() - start
    report.path.write_text(_report_text(report))
    report.files = ([p for f in report.figures.values() for p in (f.png, f.csv)]
                    + [report.path])


def _unavailable(rep: Report, *needed: str) -> list[str]:
    """REPORT.md lines saying which of the ``needed`` steps did not finish (none if all did)."""
    missing = [n for n in needed if n not in rep.failures and not _finished(rep, n)]
    failed = [n for n in needed if n in rep.failures]
    why = [f"{n} failed" for n in failed] + [f"{n} was not run" for n in missing]
    if not why:
        return []
    see = " (see Failures)" if failed or rep.interrupted is not None else ""
    return [f"_Not available: {'; '.join(why)}{see}._", ""]


def _finished(rep: Report, name: str) -> bool:
    if name == STATIONARY_STEP:
        return name in rep.seconds and name not in rep.failures
    return name in rep.figures


def _status_lines(rep: Report) -> list[str]:
    """The summary of failures and interruption at the top of REPORT.md."""
    if not rep.failures and rep.interrupted is None:
        return []
    lines = ["## Failures", ""]
    if rep.interrupted is not None:
        steps = [*FIGURES, STATIONARY_STEP]
        left = steps[steps.index(rep.interrupted) + 1:] if rep.interrupted in steps else []
        lines += [f"**Interrupted** (KeyboardInterrupt) during {rep.interrupted}; not run: "
                  f"{', '.join(left) if left else 'nothing else'}. This report covers the "
                  "steps finished before.", ""]
    if rep.failures:
        lines += [f"**{len(rep.failures)} step(s) failed: {', '.join(rep.failures)}**; every "
                  "other figure was written.", ""]
        for name, message in rep.failures.items():
            lines += [f"### {name}", "", f"`{message}`", "", "```text",
                      rep.tracebacks.get(name, "").rstrip(), "```", ""]
    return lines


def _report_text(rep: Report) -> str:
    s = rep.settings
    f = rep.figures
    lines = ["# Paper figures reproduced by the collision engines", "",
             "Generated by `collision.figures.make_all`"
             f" ({_mode(s)} settings) in "
             f"{rep.seconds.get('total', float('nan')):.1f} s.", ""]
    lines += _status_lines(rep)
    lines += ["## Choices and conventions", "",
              "- Units: hbar = k_B = 1, time in 1/gamma, heat flux in hbar omega gamma, "
              "J > 0 = heat into the reservoir.",
              f"- **Qubit fluxes are physical** (H = (omega/2) sigma_z): {QUBIT_SCALE_NOTE}.",
              "  rho23 is the paper's symbol of eq 41 (4x the matrix element).",
              f"- Collision engines at **dt = {s.dt:g}** (theta = sqrt(gamma dt)): Gaussian "
              "collision engine for oscillators (exact on covariance matrices, no Fock "
              "cutoff), density engine for qubits. Their error is O(dt).",
              "- References: closed forms of `lindblad.closed_form` (oscillators at any T, "
              "qubits at T = 0); `CascadeMasterEquation` for the qubits of Fig. 2 (T = 1).",
              f"- Fig. 2: reservoir T = {FIG2_T:g}; **T_S = "
              f"{', '.join(f'{x:g}' for x in FIG2_T_S)}** (not listed in the paper).",
              "- Fig. 5: panels follow the caption ((a) D_G, (b) E_N; the text swaps them). "
              "Fig. 6: the caption's xi_S = 0.25 (the text says 0).",
              f"- Fig. 7: N_S = {', '.join(f'{x:g}' for x in FIG7_N_S)}.",
              "- E_N in nats (eq F12), D_G and D_Z in bits, discords with the measurement on "
              "S1.",
              "- Engine release times: Q(t_k) = dt sum_{j<k} J_j, the engine's exact energy "
              "balance (its J_j is the energy released in [t_j, t_j + dt] over dt); Q(inf) "
              "from eq 11. The trapezoid rule on the same samples is biased by J(0) dt/2 "
              "(compared below).",
              f"- Classes (Figs 4b, 4c, 6b) are sampled up to {BOUNDARY_RTOL:g} x scale "
              "inside the boundary of the physical states (closed forms of eqs D2 and 42), "
              "so every sampled state is strictly physical.",
              f"- Grids: release curves {s.n_release} points ({s.n_release_engine} engine "
              f"markers); classes {s.n_classes} x {s.n_line}; Fig. 5a-b {s.n_plane}^2; "
              f"Fig. 5c {s.n_disc}^2; Fig. 6b {s.n_rho_classes} x {s.n_im}; Fig. 7 "
              f"{s.n_domain}^2.", ""]

    lines += ["## Collision engine vs exact reference: max_t |J - J_ref| "
              f"(hbar omega gamma, dt = {s.dt:g})", ""]
    flux_names = [n for n in ("fig2", "fig3a", "fig3b") if n in f]
    lines += _unavailable(rep, "fig2", "fig3a", "fig3b")
    if flux_names:
        lines += ["| figure | system | initial state | J1 | J2 | J12 | J(c) | J(ind) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name in flux_names:
            fig = f[name]
            assert isinstance(fig, FluxFigure)
            for panel in fig.panels.values():
                err = panel.errors()
                for i, v in enumerate(panel.values):
                    lines.append(f"| {name} | {panel.system} | {panel.parameter} = {v:g} | "
                                 + " | ".join(f"{err[k][i]:.2e}" for k in FLUX_KEYS) + " |")
        lines += ["", "Peak |J(c)| of the reference, for scale: " + "; ".join(
            f"{name} {key}: {np.max(np.abs(p.reference['total'])):.3g}"
            for name in flux_names for key, p in f[name].panels.items()), ""]

    lines += ["## Stationary points and eqs 35-38 (oscillators, N_S = 1, N = 0; Gaussian "
              f"engine, dt = {s.dt:g})", ""]
    lines += _unavailable(rep, STATIONARY_STEP)
    if _finished(rep, STATIONARY_STEP):
        lines += _stationary_lines(rep.stationary)

    for name, label, fmt in (("fig4a", "C13+C24", "{:+.2f}"), ("fig6a", "Re rho23", "{:+.4f}")):
        what = "oscillators, N_S = 1, N = 0" if name == "fig4a" else "qubits, xi_S = 0.25, T = 0"
        lines += [f"## Release times gamma tau_p ({name}: {what}; engine dt = {s.dt:g})", ""]
        lines += _unavailable(rep, name)
        if name in f:
            lines += _release_lines(f[name], label, fmt)

    lines += ["## Correlations within each class of equal heat-flux dynamics", ""]
    lines += _unavailable(rep, "fig4b", "fig4c")
    if "fig4b" in f and "fig4c" in f:
        lines += _oscillator_class_lines(f["fig4b"], f["fig4c"])
    lines += _unavailable(rep, "fig6b")
    if "fig6b" in f:
        lines += _qubit_class_lines(f["fig6b"])
    lines += ["Ranges are over the sampled members of each class (grid above).", ""]

    lines += ["## Fig. 7", ""]
    lines += _unavailable(rep, "fig7")
    if "fig7" in f:
        dom = f["fig7"]
        assert isinstance(dom, DomainFigure)
        lines += ["| N_S | C13 = C24 extent (bisection) | eq D5: N_S | "
                  "physical fraction of [-1, 1]^2 |", "| --- | --- | --- | --- |"]
        for n_s, e, a in zip(dom.n_s, dom.diagonal_extent, dom.area_fraction, strict=True):
            lines.append(f"| {n_s:g} | {e:.10f} | {n_s:g} | {a:.3f} |")
        lines.append("")

    lines += ["## Runtime", "", "| step | seconds |", "| --- | --- |"]
    lines += [f"| {k} | {v:.2f} |" for k, v in rep.seconds.items()]
    lines += ["", "## Files", ""]
    lines += [f"- `{fig.png.name}`, `{fig.csv.name}`: {fig.notes}" for fig in f.values()]
    return "\n".join(lines) + "\n"


def _stationary_lines(checks: Sequence[StationaryCheck]) -> list[str]:
    lines = ["| C13+C24 | t1 | t2 (eq 35) | engine t_min | engine t_max | J(c)(0) eq 36 | "
             "engine | J(c)(t1) eq 37 | engine | diff | J(c)(t2) eq 38 | engine | diff |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in checks:
        lines.append(
            f"| {c.c_sum:+.2f} | {c.t1:.4f} | {c.t2:.4f} | {_num(c.engine_t_min)} | "
            f"{_num(c.engine_t_max)} | {c.j0_eq36:.5f} | {c.j0_engine:.5f} | "
            f"{c.jt1_eq37:.5f} | {c.jt1_engine:.5f} | {c.jt1_engine - c.jt1_eq37:+.2e} | "
            f"{c.jt2_eq38:.5f} | {c.jt2_engine:.5f} | {c.jt2_engine - c.jt2_eq38:+.2e} |")
    lines += ["", "For C13 + C24 > 0 the minimum is at t1 = 2 and the maximum at t2 > t1; for "
              "C13 + C24 < 0 the minimum is at t2 and the maximum at t1; at C13 + C24 = 0 they "
              "merge (inflection, no extremum); at -2 N_S, t2 = 0 (the boundary); at +2 N_S "
              "J(c)(t1) = 0 (the flux touches zero).", ""]
    return lines


def _release_lines(fig: FigureResult, label: str, fmt: str) -> list[str]:
    assert isinstance(fig, ReleaseTimeFigure)
    lines = [f"| {label} | source | " + " | ".join(f"p = {p:g}" for p in fig.p) + " |",
             "| --- | --- | " + " | ".join("---" for _ in fig.p) + " |"]
    picks = [0, fig.x_engine.size // 2, fig.x_engine.size - 1]
    for k in picks:
        x = fmt.format(fig.x_engine[k])
        for src, arr in (("closed form", fig.tau_reference_at_engine),
                         ("engine", fig.tau_engine),
                         ("engine - closed form", fig.tau_engine - fig.tau_reference_at_engine),
                         ("engine, trapezoid rule", fig.tau_engine_trapezoid)):
            cell = "{:+.2e}" if "-" in src else "{:.4f}"
            lines.append(f"| {x} | {src} | "
                         + " | ".join(cell.format(v) for v in arr[:, k]) + " |")
    lines += ["", "max over all engine markers of |engine - closed form|: " + ", ".join(
        f"p={p:g}: {e:.2e}" for p, e in zip(fig.p, fig.errors(), strict=True))
        + "; trapezoid rule: " + ", ".join(
        f"p={p:g}: {e:.2e}" for p, e in zip(fig.p, np.max(np.abs(
            fig.tau_engine_trapezoid - fig.tau_reference_at_engine), axis=1), strict=True)),
        ""]
    return lines


def _oscillator_class_lines(en: FigureResult, dg: FigureResult) -> list[str]:
    assert isinstance(en, ClassRangeFigure) and isinstance(dg, ClassRangeFigure)
    lines = ["| class | E_N min | E_N max (nats) | at C13-C24 = | D_G min | at C13-C24 = | "
             "D_G max (bits) | at C13-C24 = | D_G on C13 = C24 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for k in _class_picks(en.classes, (-2.0, -1.0, 0.0, 1.0, 2.0)):
        lines.append(f"| C13+C24 = {en.classes[k]:+.2f} | {en.minimum[k]:.4f} | "
                     f"{en.maximum[k]:.4f} | {en.argmax[k]:+.3f} | {dg.minimum[k]:.4f} | "
                     f"{dg.argmin[k]:+.3f} | {dg.maximum[k]:.4f} | {dg.argmax[k]:+.3f} | "
                     f"{dg.diagonal[k]:.4f} |")
    return lines + [""]


def _qubit_class_lines(dz: FigureResult) -> list[str]:
    assert isinstance(dz, ClassRangeFigure)
    lines = ["| class (qubits, xi_S = 0.25) | D_Z min (bits) | at Im rho23 = | D_Z max | "
             "at Im rho23 = |", "| --- | --- | --- | --- | --- |"]
    b = 1 - XI_S**2
    for k in _class_picks(dz.classes, (-b, -b / 2, 0.0, b / 2, b)):
        lines.append(f"| Re rho23 = {dz.classes[k]:+.4f} | {dz.minimum[k]:.4f} | "
                     f"{dz.argmin[k]:+.3f} | {dz.maximum[k]:.4f} | {dz.argmax[k]:+.3f} |")
    return lines + [""]


def _mode(settings: FigureSettings) -> str:
    if settings == FigureSettings.full():
        return "full"
    return "quick" if settings == FigureSettings.quick() else "custom"


def _num(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.4f}"


def _class_picks(classes: np.ndarray, wanted: Sequence[float]) -> list[int]:
    picks: list[int] = []
    for w in wanted:
        k = int(np.argmin(np.abs(classes - w)))
        if k not in picks:
            picks.append(k)
    return picks
