"""The typed results of the paper's figures: the arrays behind each figure.

:mod:`.compute` fills them, :mod:`.plots` draws them, :mod:`.files` writes their CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lindblad._tabular import Tabular, fmt, time_span

__all__ = [
    "FLUX_KEYS",
    "ClassRangeFigure",
    "DensityMapFigure",
    "DomainFigure",
    "FigureResult",
    "FluxFigure",
    "FluxPanel",
    "ReleaseTimeFigure",
    "StationaryCheck",
]

#: Quantities of a :class:`FluxPanel`: the cascade fluxes (eq 12) and ``J^(ind)`` (eq 18).
FLUX_KEYS = ("J1", "J2", "J12", "total", "independent")


@dataclass(kw_only=True, repr=False)
class FigureResult(Tabular):
    """What every figure function returns: its name, files and notes.

    Attributes
    ----------
    name : str
        ``"fig2"``, ``"fig3a"``, ...
    png, csv : Path or None
        The files written; None on a result fresh from :mod:`.compute`, set by the
        ``figure_*`` functions of :mod:`.figures` when they write the files.
    notes : str
        Choices and conventions (also printed on the plot or in its CSV header).
    """

    name: str
    png: Path | None = None
    csv: Path | None = None
    notes: str = ""

    def _files(self) -> list[tuple[str, str]]:
        return [("name", self.name), ("csv", str(self.csv)), ("png", str(self.png))]

    def _display(self):
        pairs, header, rows = super()._display()
        return self._files() + pairs, header, rows


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


@dataclass(kw_only=True, repr=False)
class FluxFigure(FigureResult):
    """Figs 2, 3a and 3b: ``panels`` maps ``"oscillators"`` / ``"qubits"`` to a
    :class:`FluxPanel`."""

    panels: dict[str, FluxPanel]

    def _frame(self) -> tuple[dict, dict]:
        """The CSV file's columns: ``t``, then
        ``<panel>[<parameter>=<value>].<quantity>.<engine|reference>``."""
        cols: dict[str, np.ndarray] = {}
        for key, panel in self.panels.items():
            cols.setdefault("t", panel.t)
            for i, v in enumerate(panel.values):
                for q in FLUX_KEYS:
                    for src, data in (("engine", panel.engine), ("reference", panel.reference)):
                        cols[f"{key}[{panel.parameter}={v:g}].{q}.{src}"] = data[q][i]
        return cols, {"name": self.name,
                      **{f"dt[{k}]": p.dt for k, p in self.panels.items()}}

    def _display(self):
        pairs = self._files() + [(f"t[{k}]", time_span(p.t)) for k, p in self.panels.items()]
        rows = [[k, f"{p.parameter} = {fmt(v)}", fmt(e)] for k, p in self.panels.items()
                for v, e in zip(p.values, p.errors()["total"], strict=True)]
        return pairs, ["panel", "curve", "max |J engine - J reference| (total)"], rows


@dataclass(kw_only=True, repr=False)
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

    def _frame(self) -> tuple[dict, dict]:
        """The CSV file's columns: ``source`` (reference, engine, engine_trapezoid), the
        parameter, ``tau_p<p>``."""
        x, x_engine = self.x, self.x_engine
        cols = {"source": np.array(["reference"] * x.size + ["engine"] * x_engine.size
                                   + ["engine_trapezoid"] * x_engine.size),
                self.parameter.replace(" ", ""): np.concatenate([x, x_engine, x_engine])}
        for k, pc in enumerate(self.p):
            cols[f"tau_p{pc:g}"] = np.concatenate([self.tau_reference[k], self.tau_engine[k],
                                                   self.tau_engine_trapezoid[k]])
        return cols, {"name": self.name, "dt": self.dt}

    def _display(self):
        rows = [[fmt(pc), fmt(e)] for pc, e in zip(self.p, self.errors(), strict=True)]
        return self._files() + [("dt", fmt(self.dt))], \
            ["p (%)", "max |tau engine - tau reference|"], rows

    def errors(self) -> np.ndarray:
        """``max_x |tau_engine - tau_reference|`` per percentage, shape (n_p,)."""
        return np.max(np.abs(self.tau_engine - self.tau_reference_at_engine), axis=1)


@dataclass(kw_only=True, repr=False)
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
        member in the middle, ending :data:`.analysis.BOUNDARY_RTOL` x scale inside the class
        ends (``|positions| < half_width``), so every sampled state is strictly physical; a
        class that is a single state on the boundary is sampled there (``positions = 0``).
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

    def _frame(self) -> tuple[dict, dict]:
        """The CSV file's columns: one row per class."""
        return ({self.parameter.replace(" ", ""): self.classes, "minimum": self.minimum,
                 "maximum": self.maximum, "diagonal_member": self.diagonal,
                 "half_width": self.half_width, "argmin_position": self.argmin,
                 "argmax_position": self.argmax},
                {"name": self.name, "measure": self.measure, "unit": self.unit})


@dataclass(kw_only=True, repr=False)
class DensityMapFigure(FigureResult):
    """Figs 5a-5c: a correlation measure on a plane of initial states.

    Attributes
    ----------
    measure, unit, x_label, y_label : str
    x, y : ndarray, shapes (n_x,), (n_y,)
    values : ndarray, shape (n_y, n_x)
        ``values[j, i]`` at ``(x[i], y[j])``; NaN where the state is unphysical.
    physical : ndarray of bool, shape (n_y, n_x)
    axis_names : tuple of str
        Names of the ``x`` and ``y`` columns of the CSV file and of ``to_pandas()``.
    """

    measure: str
    unit: str
    x_label: str
    y_label: str
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    physical: np.ndarray
    axis_names: tuple[str, str] = ("x", "y")

    def _frame(self) -> tuple[dict, dict]:
        """The CSV file's columns: one row per grid point, ``axis_names``, ``physical``
        and the measure."""
        xx, yy = np.meshgrid(self.x, self.y)
        return ({self.axis_names[0]: xx.ravel(), self.axis_names[1]: yy.ravel(),
                 "physical": self.physical.ravel(), self.measure: self.values.ravel()},
                {"name": self.name, "measure": self.measure, "unit": self.unit})

    def _display(self):
        finite = self.values[np.isfinite(self.values)]
        pairs = self._files() + [
            ("measure", f"{self.measure} ({self.unit})"),
            ("grid", f"{self.x.size} x {self.y.size}"),
            ("physical fraction", fmt(float(np.mean(self.physical)))),
            ("range", f"{fmt(finite.min())} .. {fmt(finite.max())}" if finite.size else "none")]
        return pairs, [], []


@dataclass(kw_only=True, repr=False)
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
        :func:`.analysis.lowest_uncertainty_eigenvalue` ``>= 0``; eq D5 says ``N_S``).
    area_fraction : ndarray, shape (n_panels,)
        Fraction of the square ``[-1, 1]^2`` that is physical.
    """

    n_s: np.ndarray
    u: np.ndarray
    physical: np.ndarray
    diagonal_extent: np.ndarray
    area_fraction: np.ndarray

    def _frame(self) -> tuple[dict, dict]:
        """The CSV file's columns: one row per ``N_S`` and grid point."""
        uu13, uu24 = np.meshgrid(self.u, self.u)
        return ({"N_S": np.repeat(self.n_s, self.u.size**2),
                 "u13": np.tile(uu13.ravel(), self.n_s.size),
                 "u24": np.tile(uu24.ravel(), self.n_s.size),
                 "physical": self.physical.ravel()},
                {"name": self.name, **{f"diagonal_extent[N_S={n:g}]": x for n, x in
                                       zip(self.n_s, self.diagonal_extent, strict=True)}})

    def _display(self):
        rows = [[fmt(n), fmt(d), fmt(a)] for n, d, a in
                zip(self.n_s, self.diagonal_extent, self.area_fraction, strict=True)]
        return self._files(), ["N_S", "diagonal extent", "area fraction"], rows


@dataclass(kw_only=True, repr=False)
class StationaryCheck(Tabular):
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

    def _frame(self) -> tuple[dict, dict]:
        """One row: every number of the check."""
        return {k: np.array([v]) for k, v in vars(self).items()}, {}
