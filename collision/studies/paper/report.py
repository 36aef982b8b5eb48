"""``make_all``: every figure of the paper, the eqs 35-38 check, and ``REPORT.md``.

:func:`make_all` runs each entry of :data:`FIGURES` (compute, plot, CSV:
:mod:`.figures`) and :func:`~.compute.stationary_points_check` as one step each, then
writes ``REPORT.md``, the numbers that tie the figures to the paper's text.  A step that
fails does not stop the others (``Report.failures``); a ``KeyboardInterrupt`` leaves a
partial report.  The engine and reference runs are sweeps in ``<out>/sweeps``
(:mod:`.compute`): kept after an interruption or a failure, so that running again computes
only the missing runs, and removed once every figure is written (unless ``keep_sweeps``).
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lindblad._tabular import Tabular

from ..sweeps import SweepRuns
from .analysis import BOUNDARY_RTOL, FIG2_T, FIG2_T_S, FIG7_N_S, QUBIT_SCALE_NOTE, XI_S
from .compute import SWEEPS, stationary_points_check
from .figures import (
    figure_2,
    figure_3a,
    figure_3b,
    figure_4a,
    figure_4b,
    figure_4c,
    figure_5a,
    figure_5b,
    figure_5c,
    figure_6a,
    figure_6b,
    figure_7,
)
from .files import make_folder
from .results import (
    FLUX_KEYS,
    ClassRangeFigure,
    DomainFigure,
    FigureResult,
    FluxFigure,
    ReleaseTimeFigure,
    StationaryCheck,
)
from .settings import FigureSettings

__all__ = ["FIGURES", "STATIONARY_STEP", "Report", "make_all"]


@dataclass(kw_only=True, repr=False)
class Report(Tabular):
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
    sweeps : Path or None
        The folder of the runs' sweeps (``out_dir/sweeps``) if it was kept (failure,
        interruption or ``keep_sweeps``), else None.
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
    sweeps: Path | None = None

    @property
    def ok(self) -> bool:
        """True if every step finished without an error."""
        return not self.failures and self.interrupted is None

    def _frame(self) -> tuple[dict, dict]:
        """One row per figure: ``figure``, ``kind``, ``csv``, ``png``, ``seconds``; the
        figures' numbers are their own ``to_pandas()``."""
        names = list(self.figures)
        return ({"figure": np.array(names, dtype=object),
                 "kind": np.array([type(f).__name__ for f in self.figures.values()],
                                  dtype=object),
                 "csv": np.array([str(f.csv) for f in self.figures.values()], dtype=object),
                 "png": np.array([str(f.png) for f in self.figures.values()], dtype=object),
                 "seconds": np.array([self.seconds.get(n, np.nan) for n in names])},
                {"out_dir": str(self.out_dir), "ok": self.ok,
                 "failures": dict(self.failures), "interrupted": self.interrupted})


# --- make_all and the report ---------------------------------------------------------------------

FIGURES: dict[str, Callable[..., FigureResult]] = {
    "fig2": figure_2, "fig3a": figure_3a, "fig3b": figure_3b, "fig4a": figure_4a,
    "fig4b": figure_4b, "fig4c": figure_4c, "fig5a": figure_5a, "fig5b": figure_5b,
    "fig5c": figure_5c, "fig6a": figure_6a, "fig6b": figure_6b, "fig7": figure_7,
}
#: Name of the eqs 35-38 check (:func:`stationary_points_check`) among the steps of
#: :func:`make_all` (keys of ``Report.seconds`` and ``Report.failures``).
STATIONARY_STEP = "eqs 35-38"


def make_all(out_dir, quick: bool = False, progress: bool = True, *, workers: int | None = 1,
             client: Any = None, keep_sweeps: bool = False) -> Report:
    """Reproduce Figs 2-7 and write ``REPORT.md``.

    Every figure of :data:`FIGURES`, then the eqs 35-38 check, runs as one step.  A step that
    raises an exception does not stop the others: its error goes into ``Report.failures``
    and into REPORT.md (type, message and traceback), every other figure is written, and
    the sections of REPORT.md that need the missing figure say so.  A caller should treat
    a non-empty ``failures`` as a failed run (the CLI exits with status 1).

    A ``KeyboardInterrupt`` is not a failure: it stops the run, REPORT.md is written for the
    steps finished so far and marked interrupted (``Report.interrupted`` names the step that
    was running), and the ``KeyboardInterrupt`` is re-raised.

    The engine and reference runs are sweeps (:mod:`collision.sweep`) in
    ``out_dir/sweeps/<figure>/...``, every finished run written as it finishes.  After a
    failure or an interruption they are kept and calling ``make_all`` again with the same
    ``quick`` computes only the missing runs (other settings are refused, with what
    differs: delete ``out_dir/sweeps`` to start over); once every step has finished they
    are removed, unless ``keep_sweeps``.

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
    workers : int or None
        Local processes that run the points of each sweep: 1 (default) runs them in this
        process, None on every core.  Not with ``client``.
    client : dask.distributed.Client or str, optional
        Run the points on this Dask cluster (a client or a scheduler address).
    keep_sweeps : bool
        Keep ``out_dir/sweeps`` (every run's fluxes, :func:`collision.sweep.load`) after
        a complete run.

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
    out = make_folder(out_dir)
    runs = SweepRuns(out / "sweeps", workers=workers, client=client)
    with runs.local_pool() as pooled:   # one pool of processes for every sweep
        settings = replace(FigureSettings.quick() if quick else FigureSettings.full(),
                           runs=pooled)
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
            report.sweeps = runs.root if runs.root.exists() else None
            _write_report(report, start)
            raise
        finally:
            bar.close()
    report.settings = replace(settings, runs=runs)   # without the closed pool
    if report.ok and not keep_sweeps:
        runs.remove(SWEEPS)
    report.sweeps = runs.root if runs.root.exists() else None
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
        if rep.sweeps is not None:
            lines += [f"The finished engine and reference runs are kept in `{rep.sweeps}`: "
                      "running again into this folder computes only the missing ones.", ""]
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
             "Generated by `collision.studies.paper.make_all`"
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
