"""One entry point per figure of the paper: compute, then write its PNG and CSV.

Every ``figure_*`` function takes an output folder and optional
:class:`~.settings.FigureSettings`, computes the figure's numbers (:mod:`.compute`), draws
``<name>.png`` (:mod:`.plots`), writes ``<name>.csv`` (:mod:`.files`) and returns the
result with its ``png`` and ``csv`` paths set.  The titles, axis labels and CSV headers of
each figure are here.  What is drawn and the choices the paper leaves open are described
in :mod:`collision.studies.paper`.

The engine and reference runs of Figs 2, 3a, 3b, 4a and 6a are sweeps
(:mod:`.compute`) run by ``settings.runs``; when that is None, in this process into
``out_dir/sweeps/<name>``, where they stay: calling the function again computes only the
runs that are missing there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from ..sweeps import SweepRuns
from . import compute, plots
from .analysis import FIG2_T_S, FIG7_N_S, N_S, QUBIT_SCALE_NOTE, XI_S
from .files import (
    make_folder,
    write_class_csv,
    write_domain_csv,
    write_flux_csv,
    write_map_csv,
    write_release_csv,
)
from .results import (
    ClassRangeFigure,
    DensityMapFigure,
    DomainFigure,
    FigureResult,
    FluxFigure,
    ReleaseTimeFigure,
)
from .settings import FigureSettings, settings_or_full

__all__ = [
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
]

R = TypeVar("R", bound=FigureResult)


def _name_files(result: R, out: Path) -> R:
    """Set ``result.png`` and ``result.csv`` to ``out/<name>.png`` and ``out/<name>.csv``."""
    result.png = out / f"{result.name}.png"
    result.csv = out / f"{result.name}.csv"
    return result


def _with_runs(settings: FigureSettings | None, out: Path) -> FigureSettings:
    """``settings`` (default full) running the sweeps into ``out/sweeps`` unless its
    ``runs`` say where."""
    s = settings_or_full(settings)
    return s if s.runs is not None else replace(s, runs=SweepRuns(out / "sweeps"))


# --- Fig. 2 ------------------------------------------------------------------------------------

def figure_2(out_dir, settings: FigureSettings | None = None,
             t_s: Sequence[float] = FIG2_T_S) -> FluxFigure:
    """Fig. 2: J1, J2, J12 and J^(c) (with J^(ind)) for thermal starts, reservoir T = 1.

    Left column oscillators (Gaussian collision engine vs eqs 26-30 at
    ``N = 1/(e - 1)``), right column qubits (density engine vs the exact master
    equation).  Both subsystems start thermal at each ``T_S`` (our choice, see the
    docstring of :mod:`collision.studies.paper`).

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
    out = make_folder(out_dir)
    result = _name_files(compute.compute_figure_2(_with_runs(settings, out), t_s), out)
    osc, qub = result.panels["oscillators"], result.panels["qubits"]
    plots.plot_flux_grid(result, result.png)
    write_flux_csv(result, result.csv, [
        "Fig. 2: heat fluxes for thermal starts (hbar omega gamma; time 1/gamma)", result.notes,
        "columns: <panel>[T_S=..].<J1|J2|J12|total|independent>.<engine|reference>",
        f"oscillators: {osc.engine_name} vs {osc.reference_name}; "
        f"qubits: {qub.engine_name} vs {qub.reference_name}"])
    return result


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
    out = make_folder(out_dir)
    result = _name_files(compute.compute_figure_3a(_with_runs(settings, out)), out)
    plots.plot_total_vs_independent(result, result.png, "oscillators",
                                    r"$C_{13}(0) = C_{24}(0)$ = ",
                                    "Fig. 3(a): two oscillators", "")
    write_flux_csv(result, result.csv, [
        "Fig. 3(a): heat fluxes (hbar omega gamma), oscillators", result.notes,
        f"reference: {result.panels['oscillators'].reference_name}"])
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
    out = make_folder(out_dir)
    result = _name_files(compute.compute_figure_3b(_with_runs(settings, out)), out)
    plots.plot_total_vs_independent(result, result.png, "qubits", r"Re$[\rho_{23}(0)]$ = ",
                                    "Fig. 3(b): two qubits", f"\n({QUBIT_SCALE_NOTE})")
    write_flux_csv(result, result.csv, [
        "Fig. 3(b): heat fluxes (hbar omega gamma), qubits", result.notes,
        f"reference: {result.panels['qubits'].reference_name}"])
    return result


# --- Figs 4a and 6a: release times -----------------------------------------------------------

def _write_release(result: ReleaseTimeFigure, out: Path, x_label: str,
                   title: str) -> ReleaseTimeFigure:
    _name_files(result, out)
    plots.plot_release_times(result, result.png, x_label, title)
    write_release_csv(result, result.csv, title)
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
    out = make_folder(out_dir)
    return _write_release(compute.compute_figure_4a(_with_runs(settings, out)), out,
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
    out = make_folder(out_dir)
    return _write_release(compute.compute_figure_6a(_with_runs(settings, out)), out,
                          r"Re$[\rho_{23}(0)]$", "Fig. 6(a): qubits")


# --- Figs 4b, 4c, 6b: correlation ranges within a class ----------------------------------------

def _write_class(result: ClassRangeFigure, out: Path, x_label: str,
                 title: str) -> ClassRangeFigure:
    _name_files(result, out)
    plots.plot_class_range(result, result.png, x_label, title)
    write_class_csv(result, result.csv)
    return result


def _oscillator_class_title(result: ClassRangeFigure) -> str:
    return (f"Fig. {result.name[3:]}: {plots.MEASURE_TEX[result.measure]} over each class "
            f"$C_{{13}} + C_{{24}}$ = const (oscillators, $N_S$ = {N_S:g}, N = 0)")


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
    out = make_folder(out_dir)
    result = compute.compute_figure_4b(settings_or_full(settings))
    return _write_class(result, out, r"$C_{13}(0) + C_{24}(0)$",
                        _oscillator_class_title(result))


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
    out = make_folder(out_dir)
    result = compute.compute_figure_4c(settings_or_full(settings))
    return _write_class(result, out, r"$C_{13}(0) + C_{24}(0)$",
                        _oscillator_class_title(result))


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
    out = make_folder(out_dir)
    return _write_class(compute.compute_figure_6b(settings_or_full(settings)), out,
                        r"Re$[\rho_{23}(0)]$",
                        rf"Fig. 6(b): $D_Z$ over each class Re$\rho_{{23}}$ = const (qubits, "
                        rf"$\xi_S$ = {XI_S:g})")


# --- Fig. 5: density plots ---------------------------------------------------------------------

def _write_oscillator_map(result: DensityMapFigure, out: Path) -> DensityMapFigure:
    _name_files(result, out)
    plots.plot_density_map(result, result.png,
                           f"Fig. {result.name[3:]}: {plots.MEASURE_TEX[result.measure]} of "
                           f"eq 31, $N_S$ = {N_S:g}, N = 0",
                           gamma=0.5 if result.measure == "D_G" else 1.0)
    write_map_csv(result, result.csv)
    return result


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
    out = make_folder(out_dir)
    return _write_oscillator_map(compute.compute_figure_5a(settings_or_full(settings)), out)


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
    out = make_folder(out_dir)
    return _write_oscillator_map(compute.compute_figure_5b(settings_or_full(settings)), out)


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
    out = make_folder(out_dir)
    result = _name_files(compute.compute_figure_5c(settings_or_full(settings)), out)
    plots.plot_density_map(result, result.png, rf"Fig. 5(c): $D_Z$ of eq 41, $\xi_S$ = {XI_S:g}")
    write_map_csv(result, result.csv)
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
    out = make_folder(out_dir)
    result = _name_files(compute.compute_figure_7(settings_or_full(settings), n_s_values), out)
    plots.plot_domain(result, result.png)
    write_domain_csv(result, result.csv)
    return result
