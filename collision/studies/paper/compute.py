"""The numbers behind each of the paper's figures: engine runs, references and samplings.

Every ``compute_figure_*`` function returns the typed result of one figure
(:mod:`.results`) with its arrays and notes, and writes no figure file: the result's ``png``
and ``csv`` are None until :mod:`.figures` writes them.  :func:`stationary_points_check`
compares eqs 35-38 with the Gaussian collision engine.  What is drawn and the choices the
paper leaves open are described in :mod:`collision.studies.paper`.

Model runs are sweeps
---------------------
Every grid of model runs is one sweep (:mod:`collision.sweep`), written here as a
specification (:func:`~collision.studies.sweeps.sweep_spec`) and run by
``settings.runs`` (:class:`~collision.studies.sweeps.SweepRuns`; in this process without
files when it is None, into ``<out>/sweeps/<name>`` for :mod:`.figures` and
:func:`~.report.make_all`).  The sweeps, named after their folders (:data:`SWEEPS`):

* ``fig2/oscillators``, ``fig3a/oscillators``: the Gaussian collision engine with the
  cascade and with independent reservoirs, for every initial state of the panel;
* ``fig2/qubits``, ``fig3b/qubits``: the same with the density engine;
  ``fig2/qubits-reference``: :class:`lindblad.CascadeMasterEquation` at the engine's
  times (the qubits at T > 0 have no closed form);
* ``fig4a``, ``fig6a``: the engine markers of the release times;
* ``eqs35-38``: the Gaussian engine runs of :func:`stationary_points_check`.

What is not a model run stays a plain evaluation here: the closed forms
(:mod:`lindblad.closed_form`: every oscillator reference, the qubits at T = 0, the
release-time curves), the correlation measures of initial states sampled over a class or
a plane (Figs 4b, 4c, 5a-c, 6b: one evaluation of a function of a state per sample, no
dynamics) and the physical domain of Fig. 7 (a closed-form criterion and a bisection).
These take milliseconds per point and have nothing to resume.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from lindblad import closed_form as cf
from lindblad import correlations, states
from lindblad.fluxes import HeatFluxes
from lindblad.thermal import bose_occupation

from ..sweeps import SweepRuns, sweep_spec
from .analysis import (
    BOUNDARY_RTOL,
    FIG2_T,
    FIG2_T_S,
    FIG3A_C,
    FIG3B_RHO23,
    FIG7_N_S,
    N_S,
    P_VALUES,
    QUBIT_SCALE_NOTE,
    STATIONARY_C_SUMS,
    XI_S,
    class_half_width,
    cov31,
    cov31_scale,
    local_extrema,
    physical_mask,
    qubit_class_half_width,
    release_times_from_flux,
)
from .results import (
    FLUX_KEYS,
    ClassRangeFigure,
    DensityMapFigure,
    DomainFigure,
    FluxFigure,
    FluxPanel,
    ReleaseTimeFigure,
    StationaryCheck,
)
from .settings import FigureSettings, settings_or_full

__all__ = [
    "compute_figure_2",
    "compute_figure_3a",
    "compute_figure_3b",
    "compute_figure_4a",
    "compute_figure_4b",
    "compute_figure_4c",
    "compute_figure_5a",
    "compute_figure_5b",
    "compute_figure_5c",
    "compute_figure_6a",
    "compute_figure_6b",
    "compute_figure_7",
    "stationary_points_check",
    "SWEEPS",
]

#: The top-level names of the sweep folders of the figures (module docstring).
SWEEPS = ("fig2", "fig3a", "fig3b", "fig4a", "fig6a", "eqs35-38")
#: The models and fixed model arguments of the engine runs.
_GAUSSIAN = "GaussianCollisionModel"
_DENSITY = "CascadeCollisionModel"
_QUBIT = {"system": "qubit"}


def _engine_grid(t_max: float, dt: float) -> float:
    """``t_max`` rounded up to a whole number of steps."""
    return math.ceil(t_max / dt - 1e-9) * dt


def _runs(settings: FigureSettings) -> SweepRuns:
    """``settings.runs``, or runs in this process without files."""
    return settings.runs if settings.runs is not None else SweepRuns()


# --- engine runs: Figs 2 and 3 -----------------------------------------------------------------

def _flux_dict(cascade, independent: np.ndarray) -> dict[str, np.ndarray]:
    """The curves of :data:`FLUX_KEYS`: ``J1``, ``J2``, ``J12`` and ``total`` of ``cascade``
    (engine or reference fluxes), ``independent`` the total with independent reservoirs."""
    return {"J1": cascade.J1, "J2": cascade.J2, "J12": cascade.J12, "total": cascade.total,
            "independent": independent}


def _stack(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in rows]) for k in FLUX_KEYS}


def _cascade_and_independent(settings: FigureSettings, name: str, model: str,
                             model_params: dict, initial: dict,
                             curves: list[dict]) -> tuple[list[HeatFluxes], list[HeatFluxes]]:
    """One sweep: ``model`` with the cascade, then with independent reservoirs, from every
    initial state of ``curves`` (dotted values of ``initial``), to ``settings.t_max``."""
    run = {"t_max": _engine_grid(settings.t_max, settings.dt), "dt": settings.dt}
    points = [{"model.cascade": cascade, **curve} for cascade in (True, False)
              for curve in curves]
    results = _runs(settings).run(name, sweep_spec(model, model_params, initial, run, points))
    return results[:len(curves)], results[len(curves):]


def _oscillator_panel(name: str, parameter: str, values, initial: dict, curves: list[dict],
                      temperature: float, n_s_list, c_sums,
                      settings: FigureSettings) -> FluxPanel:
    """Gaussian collision engine (sweep ``<name>/oscillators``) vs closed forms (eqs 26-34,
    any N)."""
    n_bath = bose_occupation(temperature)
    cascade, independent = _cascade_and_independent(
        settings, f"{name}/oscillators", _GAUSSIAN, {"temperature": temperature}, initial,
        curves)
    engine, reference = [], []
    for res, ind, n_s, c in zip(cascade, independent, n_s_list, c_sums, strict=True):
        engine.append(_flux_dict(res, ind.total))
        reference.append(_flux_dict(cf.oscillator_fluxes(res.t, n_s, n_bath, c),
                                    cf.oscillator_independent_flux(res.t, n_s, n_bath)))
    return FluxPanel(system="oscillator", parameter=parameter, values=np.asarray(values, float),
                     t=cascade[0].t, engine=_stack(engine), reference=_stack(reference),
                     engine_name="Gaussian collision engine",
                     reference_name="closed form (eqs 26-34)", dt=settings.dt)


def _qubit_panel(name: str, parameter: str, values, initial: dict, curves: list[dict],
                 temperature: float, settings: FigureSettings,
                 closed_form_xi_s: float | None = None) -> FluxPanel:
    """Density engine (sweep ``<name>/qubits``) vs closed forms (T = 0, eq 41) or the master
    equation (T > 0, sweep ``<name>/qubits-reference`` at the engine's times)."""
    params = {**_QUBIT, "temperature": temperature}
    cascade, independent = _cascade_and_independent(settings, f"{name}/qubits", _DENSITY,
                                                    params, initial, curves)
    if closed_form_xi_s is None:
        ref_c, ref_i = _cascade_and_independent(settings, f"{name}/qubits-reference",
                                                "CascadeMasterEquation", params, initial,
                                                curves)
    engine, reference = [], []
    for k, (res, ind, v) in enumerate(zip(cascade, independent, values, strict=True)):
        engine.append(_flux_dict(res, ind.total))
        if closed_form_xi_s is not None:
            ref = cf.qubit_fluxes(res.t, closed_form_xi_s, v)
            ref_ind = cf.qubit_independent_flux(res.t, closed_form_xi_s)
        else:
            ref, ref_ind = ref_c[k], ref_i[k].total
        reference.append(_flux_dict(ref, ref_ind))
    ref_name = ("closed form (Sec. VI B, physical units)" if closed_form_xi_s is not None
                else "CascadeMasterEquation (exact Lindblad)")
    return FluxPanel(system="qubit", parameter=parameter, values=np.asarray(values, float),
                     t=cascade[0].t, engine=_stack(engine), reference=_stack(reference),
                     engine_name="density engine", reference_name=ref_name, dt=settings.dt)


def compute_figure_2(settings: FigureSettings,
                     t_s: Sequence[float] = FIG2_T_S) -> FluxFigure:
    """The fluxes of Fig. 2 for thermal starts at each ``T_S`` (see :func:`.figures.figure_2`)."""
    t_s = tuple(float(x) for x in t_s)
    n_s = [bose_occupation(x) for x in t_s]
    osc = _oscillator_panel("fig2", "T_S", t_s, {"state": "gaussian_thermal"},
                            [{"initial.n_s": n} for n in n_s], FIG2_T, n_s, [0.0] * len(t_s),
                            settings)
    qub = _qubit_panel("fig2", "T_S", t_s, {"state": "thermal"},
                       [{"initial.temperature": x} for x in t_s], FIG2_T, settings)
    notes = (f"reservoir T = {FIG2_T:g} (hbar omega / k_B); T_S = "
             f"{', '.join(f'{x:g}' for x in t_s)} (our choice: the paper does not list them); "
             f"engines at dt = {settings.dt:g}; qubit fluxes in {QUBIT_SCALE_NOTE}")
    return FluxFigure(name="fig2", notes=notes, panels={"oscillators": osc, "qubits": qub})


def compute_figure_3a(settings: FigureSettings) -> FluxFigure:
    """The oscillator fluxes of Fig. 3(a) (see :func:`.figures.figure_3a`)."""
    c = [f * N_S for f in FIG3A_C]
    panel = _oscillator_panel("fig3a", "C13 = C24", c,
                              {"state": "gaussian_correlated", "n_s": N_S},
                              [{"initial.c13": x, "initial.c24": x} for x in c], 0.0,
                              [N_S] * len(c), [2 * x for x in c], settings)
    notes = f"N_S = {N_S:g}, N = 0 (T = 0); Gaussian collision engine at dt = {settings.dt:g}"
    return FluxFigure(name="fig3a", notes=notes, panels={"oscillators": panel})


def compute_figure_3b(settings: FigureSettings) -> FluxFigure:
    """The qubit fluxes of Fig. 3(b) (see :func:`.figures.figure_3b`)."""
    panel = _qubit_panel("fig3b", "Re rho23", FIG3B_RHO23,
                         {"state": "correlated_qubits", "xi_s": XI_S},
                         [{"initial.rho23": r} for r in FIG3B_RHO23], 0.0, settings,
                         closed_form_xi_s=XI_S)
    notes = (f"xi_S = {XI_S:g}, xi = 1 (T = 0); density engine at dt = {settings.dt:g}; "
             f"{QUBIT_SCALE_NOTE}")
    return FluxFigure(name="fig3b", notes=notes, panels={"qubits": panel})


# --- Figs 4a and 6a: release times -----------------------------------------------------------

def _release_figure(name: str, parameter: str, x: np.ndarray, x_engine: np.ndarray,
                    reference: Callable[[float], np.ndarray],
                    run: Callable[[float], list[HeatFluxes]], q_inf: float, dt: float,
                    notes: str) -> ReleaseTimeFigure:
    """Release times: closed form at ``x`` and ``x_engine``, and from the engine runs
    ``run(t_max)`` (one per ``x_engine``, to past the latest closed-form release)."""
    p = np.array(P_VALUES)
    tau_ref = np.array([reference(v) for v in x]).T
    tau_ref_e = np.array([reference(v) for v in x_engine]).T
    tau_e, tau_trap = [], []
    for res in run(_engine_grid(float(np.max(tau_ref_e)) + 1.0, dt)):
        tau_e.append(release_times_from_flux(res.t, res.total, q_inf, p, rule="step"))
        tau_trap.append(release_times_from_flux(res.t, res.total, q_inf, p, rule="trapezoid"))
    return ReleaseTimeFigure(name=name, notes=notes, parameter=parameter, p=p, x=x,
                             tau_reference=tau_ref, x_engine=x_engine,
                             tau_engine=np.array(tau_e).T,
                             tau_engine_trapezoid=np.array(tau_trap).T,
                             tau_reference_at_engine=tau_ref_e, dt=dt)


def _correlated_oscillators(settings: FigureSettings, name: str, c_sums, t_max: float,
                            n_s: float = N_S) -> list[HeatFluxes]:
    """One sweep of the Gaussian engine (N = 0) from eq 31 with ``C13 = C24 = c / 2`` for
    every ``c`` of ``c_sums``."""
    points = [{"initial.c13": float(c) / 2, "initial.c24": float(c) / 2} for c in c_sums]
    return _runs(settings).run(name, sweep_spec(
        _GAUSSIAN, {"temperature": 0.0}, {"state": "gaussian_correlated", "n_s": n_s},
        {"t_max": t_max, "dt": settings.dt}, points))


def compute_figure_4a(settings: FigureSettings) -> ReleaseTimeFigure:
    """Release times of Fig. 4(a), oscillators (see :func:`.figures.figure_4a`)."""
    x = np.linspace(-2 * N_S, 2 * N_S, settings.n_release)
    xe = np.linspace(-2 * N_S, 2 * N_S, settings.n_release_engine)

    def run(t_max: float) -> list[HeatFluxes]:
        return _correlated_oscillators(settings, "fig4a", xe, t_max)

    notes = (f"N_S = {N_S:g}, N = 0; Q(inf) = 2 N_S (eq 11); Gaussian collision engine at "
             f"dt = {settings.dt:g} with C13 = C24")
    return _release_figure("fig4a", "C13 + C24", x, xe,
                           lambda c: cf.oscillator_release_time(P_VALUES, N_S, c), run,
                           cf.oscillator_total_heat(N_S), settings.dt, notes)


def compute_figure_6a(settings: FigureSettings) -> ReleaseTimeFigure:
    """Release times of Fig. 6(a), qubits (see :func:`.figures.figure_6a`)."""
    b = 1.0 - XI_S**2
    x = np.linspace(-b, b, settings.n_release)
    xe = np.linspace(-b, b, settings.n_release_engine)

    def run(t_max: float) -> list[HeatFluxes]:
        return _runs(settings).run("fig6a", sweep_spec(
            _DENSITY, {**_QUBIT, "temperature": 0.0},
            {"state": "correlated_qubits", "xi_s": XI_S}, {"t_max": t_max, "dt": settings.dt},
            [{"initial.rho23": float(r)} for r in xe]))

    notes = (f"xi_S = {XI_S:g} (the caption's value; the text says 0), xi = 1 (T = 0); "
             f"Q(inf) = omega (1 - xi_S) (eq 11); density engine at dt = {settings.dt:g}")
    return _release_figure("fig6a", "Re rho23", x, xe,
                           lambda r: cf.qubit_release_time(P_VALUES, XI_S, r), run,
                           cf.qubit_total_heat(XI_S), settings.dt, notes)


# --- Figs 4b, 4c, 6b: correlation ranges within a class ----------------------------------------

def _class_result(name, parameter, measure, unit, classes, samples, widths, positions,
                  notes) -> ClassRangeFigure:
    mid = samples.shape[1] // 2
    kmin = np.argmin(samples, axis=1)
    kmax = np.argmax(samples, axis=1)
    rows = np.arange(classes.size)
    return ClassRangeFigure(name=name, notes=notes, parameter=parameter, measure=measure,
                            unit=unit, classes=classes, minimum=samples.min(axis=1),
                            maximum=samples.max(axis=1), diagonal=samples[:, mid],
                            half_width=widths, argmin=positions[rows, kmin],
                            argmax=positions[rows, kmax], samples=samples,
                            positions=positions)


def _sample_classes(classes: np.ndarray, n_samples: int,
                    half_width: Callable[..., float], margin: float,
                    measure: Callable[[float, np.ndarray], Sequence[float]]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Sample a measure along the segment of every class.

    Class ``c`` is the segment of positions ``|d| <= half_width(c)``; it is sampled at
    ``n`` evenly spaced positions up to ``half_width(c, margin=margin)`` (every sample
    strictly physical), ``n`` being ``n_samples`` made odd so that the middle sample is
    ``d = 0`` exactly.  ``measure(c, d)`` gives the values at the positions ``d``.

    Returns
    -------
    samples, widths, positions, n
        ``samples[i, k]`` at ``positions[i, k]`` of class ``i``, whose half-width is
        ``widths[i]``; ``n`` samples per class.
    """
    n = n_samples + (1 - n_samples % 2)
    samples = np.zeros((classes.size, n))
    widths = np.zeros(classes.size)
    positions = np.zeros((classes.size, n))
    for i, c in enumerate(classes):
        widths[i] = half_width(c)
        w = half_width(c, margin=margin)
        d = np.linspace(-w, w, n)
        d[n // 2] = 0.0
        positions[i] = d
        samples[i] = measure(c, d)
    return samples, widths, positions, n


def _oscillator_class(name: str, measure: str, unit: str,
                      func: Callable[[np.ndarray], float],
                      settings: FigureSettings) -> ClassRangeFigure:
    classes = np.linspace(-2 * N_S, 2 * N_S, settings.n_classes)

    def sample(c: float, d: np.ndarray) -> list[float]:
        return [func(cov) for cov in cov31(N_S, 0.5 * (c + d), 0.5 * (c - d))]

    # odd n_line: the C13 = C24 member (d = 0) is sampled
    samples, widths, positions, n_line = _sample_classes(
        classes, settings.n_line, lambda c, margin=0.0: class_half_width(N_S, c, margin),
        BOUNDARY_RTOL * cov31_scale(N_S), sample)
    return _class_result(name, "C13 + C24", measure, unit, classes, samples, widths,
                         positions, f"N_S = {N_S:g}; each class C13 + C24 = const is the "
                         f"segment C13 - C24 = d, |d| <= d_max = sqrt((2 N_S + 1 - "
                         f"|C13 + C24|)^2 - 1) (eq D2 in closed form), sampled at {n_line} "
                         f"points up to {BOUNDARY_RTOL:g} (2 N_S + 1) inside the boundary; "
                         f"d = 0 is C13 = C24")


def compute_figure_4b(settings: FigureSettings) -> ClassRangeFigure:
    """E_N over each class of Fig. 4(b) (see :func:`.figures.figure_4b`)."""
    return _oscillator_class("fig4b", "E_N", "nats", correlations.log_negativity, settings)


def compute_figure_4c(settings: FigureSettings) -> ClassRangeFigure:
    """D_G over each class of Fig. 4(c) (see :func:`.figures.figure_4c`)."""
    return _oscillator_class("fig4c", "D_G", "bits", correlations.gaussian_discord, settings)


def compute_figure_6b(settings: FigureSettings) -> ClassRangeFigure:
    """D_Z over each class of Fig. 6(b), qubits (see :func:`.figures.figure_6b`)."""
    b = 1.0 - XI_S**2
    classes = np.linspace(-b, b, settings.n_rho_classes)
    cache: dict[tuple[float, float], float] = {}

    def sample(r: float, im: np.ndarray) -> list[float]:
        for y in im:
            key = (float(r), float(y))
            if key not in cache:   # the end classes are single states
                cache[key] = correlations.quantum_discord(
                    states.correlated_qubits(XI_S, complex(r, y)))
        return [cache[(float(r), float(y))] for y in im]

    samples, widths, positions, n_im = _sample_classes(
        classes, settings.n_im, lambda r, margin=0.0: qubit_class_half_width(XI_S, r, margin),
        BOUNDARY_RTOL, sample)
    notes = (f"xi_S = {XI_S:g}; class Re rho23 = const: |Im rho23| <= sqrt((1 - xi_S^2)^2 - "
             f"Re^2) (eq 42), {n_im} samples up to {BOUNDARY_RTOL:g} inside the boundary (lowest "
             f"eigenvalue of rho); D_Z in bits, measurement on S1")
    return _class_result("fig6b", "Re rho23", "D_Z", "bits", classes, samples, widths,
                         positions, notes)


# --- Fig. 5: density plots ---------------------------------------------------------------------

def _oscillator_map(name: str, measure: str, unit: str, func,
                    settings: FigureSettings) -> DensityMapFigure:
    c11 = N_S + 0.5
    axis = np.linspace(-c11, c11, settings.n_plane)
    c13, c24 = np.meshgrid(axis, axis)          # [j, i] = (C13 = axis[i], C24 = axis[j])
    phys = physical_mask(N_S, c13, c24)
    values = np.full(c13.shape, np.nan)
    covs = cov31(N_S, c13, c24)
    for j, i in zip(*np.nonzero(phys), strict=True):
        values[j, i] = func(covs[j, i])
    notes = (f"N_S = {N_S:g}, N = 0; grid {settings.n_plane} x {settings.n_plane} on "
             f"[-(N_S + 1/2), N_S + 1/2]^2; unphysical points (eq D2) masked (NaN)")
    return DensityMapFigure(name=name, notes=notes, measure=measure, unit=unit,
                            x_label=r"$C_{13}(0)$", y_label=r"$C_{24}(0)$", x=axis, y=axis,
                            values=values, physical=phys, axis_names=("C13", "C24"))


def compute_figure_5a(settings: FigureSettings) -> DensityMapFigure:
    """D_G on the (C13, C24) plane, Fig. 5(a) (see :func:`.figures.figure_5a`)."""
    return _oscillator_map("fig5a", "D_G", "bits", correlations.gaussian_discord, settings)


def compute_figure_5b(settings: FigureSettings) -> DensityMapFigure:
    """E_N on the (C13, C24) plane, Fig. 5(b) (see :func:`.figures.figure_5b`)."""
    return _oscillator_map("fig5b", "E_N", "nats", correlations.log_negativity, settings)


def compute_figure_5c(settings: FigureSettings) -> DensityMapFigure:
    """D_Z on the (Re rho23, Im rho23) disc, Fig. 5(c) (see :func:`.figures.figure_5c`)."""
    b = 1.0 - XI_S**2
    axis = np.linspace(-b, b, settings.n_disc)
    re, im = np.meshgrid(axis, axis)
    phys = np.hypot(re, im) <= b + 4.0 * BOUNDARY_RTOL   # lowest eigenvalue >= -BOUNDARY_RTOL
    values = np.full(re.shape, np.nan)
    for j, i in zip(*np.nonzero(phys), strict=True):
        values[j, i] = correlations.quantum_discord(
            states.correlated_qubits(XI_S, complex(re[j, i], im[j, i])))
    notes = (f"xi_S = {XI_S:g}, states of eq 41; grid {settings.n_disc} x {settings.n_disc}; "
             f"outside |rho23| <= 1 - xi_S^2 = {b:g} (eq 42) masked; D_Z in bits, measurement "
             f"on S1")
    return DensityMapFigure(name="fig5c", notes=notes, measure="D_Z", unit="bits",
                            x_label=r"Re$[\rho_{23}(0)]$", y_label=r"Im$[\rho_{23}(0)]$",
                            x=axis, y=axis, values=values, physical=phys,
                            axis_names=("Re_rho23", "Im_rho23"))


# --- Fig. 7 ------------------------------------------------------------------------------------

def compute_figure_7(settings: FigureSettings,
                     n_s_values: Sequence[float] = FIG7_N_S) -> DomainFigure:
    """The physical domain of eq 31 for each ``N_S`` (see :func:`.figures.figure_7`)."""
    u = np.linspace(-1.0, 1.0, settings.n_domain)
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
             f"N_S + 1/2; grid {settings.n_domain} x {settings.n_domain}; criterion eq D2")
    return DomainFigure(name="fig7", notes=notes, n_s=n_s_arr, u=u, physical=physical,
                        diagonal_extent=np.array(extents),
                        area_fraction=physical.mean(axis=(1, 2)))


# --- eqs 35-38 against the engine ---------------------------------------------------------------

def stationary_points_check(settings: FigureSettings | None = None,
                            c_sums: Sequence[float] = STATIONARY_C_SUMS,
                            n_s: float = N_S) -> list[StationaryCheck]:
    """Stationary times (eq 35) and ``J^(c)`` at 0, t1, t2 (eqs 36-38) vs the Gaussian engine.

    For each ``c_sum`` the engine runs with ``C13 = C24 = c_sum / 2`` (N = 0) to
    ``t = 6`` (sweep ``eqs35-38``, run by ``settings.runs``); its local extrema are located
    by a parabola through the three samples around each sign change of the discrete
    derivative, and its flux at ``t1``, ``t2`` is interpolated linearly.

    Returns
    -------
    list of StationaryCheck
    """
    s = settings_or_full(settings)
    out = []
    runs = _correlated_oscillators(s, "eqs35-38", c_sums, _engine_grid(6.0, s.dt), n_s)
    for c, res in zip(c_sums, runs, strict=True):
        t, j = res.t, res.total
        t1, t2 = cf.oscillator_stationary_times(n_s, c)
        j0, jt1, jt2 = cf.oscillator_stationary_fluxes(n_s, c)
        t_min, t_max = local_extrema(t, j)
        out.append(StationaryCheck(c_sum=float(c), t1=t1, t2=t2, engine_t_min=t_min,
                                   engine_t_max=t_max, j0_eq36=j0, j0_engine=float(j[0]),
                                   jt1_eq37=jt1, jt1_engine=float(np.interp(t1, t, j)),
                                   jt2_eq38=jt2, jt2_engine=float(np.interp(t2, t, j)),
                                   dt=s.dt))
    return out
