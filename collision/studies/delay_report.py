"""The delay study's files and report: ``collision delay`` (:func:`run_study`).

The physics (settings, the flux and release-time panels, thresholds) is in
:mod:`collision.studies.delay`; this module runs it as sweeps, writes the CSV and PNG
files and ``REPORT.md``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lindblad._tabular import concat_frames, fmt, html_table, text_grid

from .._loop import progress_bar
from .delay import (
    HEATS,
    MAX_DELAY,
    SPREAD_TOLERANCE,
    SYSTEMS,
    DelayFluxPanel,
    DelayReleasePanel,
    DelaySettings,
    Thresholds,
    compute_fluxes,
    compute_release,
    thresholds,
)
from .paper.analysis import N_S, QUBIT_SCALE_NOTE, XI_S
from .paper.files import write_csv
from .sweeps import SweepRuns

__all__ = ["FLUX_NAMES", "RELEASE_NAMES", "SWEEPS", "DelayStudy", "report_text", "run_study"]

#: File stems of the panels: the paper's figure with a delay.
FLUX_NAMES = {"oscillator": "delay_fig3a", "qubit": "delay_fig3b"}
RELEASE_NAMES = {"oscillator": "delay_fig4a", "qubit": "delay_fig6a"}


@dataclass(kw_only=True, repr=False)
class DelayStudy:
    """What :func:`run_study` computed and wrote.

    Attributes
    ----------
    settings : DelaySettings
    fluxes : dict of str to DelayFluxPanel
        ``"oscillator"``, ``"qubit"``.
    release : dict of str to DelayReleasePanel
    thresholds : dict of str to Thresholds
    files : list of Path
        Every file written (CSV, PNG, REPORT.md).
    seconds : dict of str to float
        Wall time of each step and ``"total"``.
    """

    settings: DelaySettings
    fluxes: dict[str, DelayFluxPanel]
    release: dict[str, DelayReleasePanel]
    thresholds: dict[str, Thresholds]
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_pandas(self):
        """The study's conclusions: every system's :class:`Thresholds` frame stacked, with
        a first column ``system`` (the panels have their own ``to_pandas()``)."""
        return concat_frames({name: thr.to_pandas() for name, thr in self.thresholds.items()},
                             "system", {"seconds": dict(self.seconds)})

    def _summary(self):
        pairs = [("seconds", fmt(self.seconds.get("total", math.nan))),
                 ("files", str(len(self.files))), ("systems", ", ".join(self.fluxes))]
        header = ["system", "heat", "p", "exact", "grid", "extrapolated"]
        rows = []
        for name, thr in self.thresholds.items():
            cols = thr._frame()[0]
            rows += [[name, *(fmt(cols[c][i]) for c in header[1:])]
                     for i in range(cols["p"].size)]
        return pairs, header, rows

    def _repr_html_(self) -> str:
        pairs, header, rows = self._summary()
        parts = [html_table("DelayStudy: threshold delays (1/gamma)", pairs, header, rows)]
        parts += [panel._repr_html_() for panel in self.fluxes.values()]
        parts += [panel._repr_html_() for panel in self.release.values()]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return text_grid("DelayStudy", *self._summary())


#: The top-level names of the study's sweep folders (module docstring).
SWEEPS = tuple(f"{kind}-{name}" for kind in ("fluxes", "release") for name in SYSTEMS)


def run_study(out_dir, quick: bool = False, progress: bool = False,
              settings: DelaySettings | None = None, *, workers: int | None = 1,
              client: Any = None, sweeps=None, keep_sweeps: bool = False) -> DelayStudy:
    """Compute the study and write its files into ``out_dir`` (created if missing).

    Files: ``delay_fig3a`` and ``delay_fig3b`` (``J^(c)(t)`` at every delay of
    ``settings.delays``), ``delay_fig4a`` and ``delay_fig6a`` (``tau_p`` against the delay),
    each as ``.csv`` and ``.png``; ``delay_fig4a_spread.csv`` and
    ``delay_fig6a_spread.csv`` (spread, ``eta`` and total heat per delay); ``REPORT.md``.

    The model runs are sweeps (module docstring) in ``sweeps`` (default
    ``out_dir/sweeps``), every finished run written as it finishes: after an interruption
    (Ctrl-C) or a failure they are kept, and running the study again with the same
    settings computes only the missing runs (other settings are refused, with what
    differs: delete the folder to start over).  Once every file is written they are
    removed, unless ``keep_sweeps``.

    Parameters
    ----------
    out_dir : path-like
    quick : bool
        :meth:`DelaySettings.quick` (a few seconds) instead of :meth:`DelaySettings.full`.
    progress : bool
        Show a progress bar over the steps.
    settings : DelaySettings, optional
        Overrides ``quick``.  Its ``runs``, if set, override ``workers``, ``client`` and
        ``sweeps``.
    workers : int or None
        Local processes that run the points of each sweep: 1 (default) runs them in this
        process, None on every core.  Not with ``client``.
    client : dask.distributed.Client or str, optional
        Run the points on this Dask cluster (a client or a scheduler address).
    sweeps : path-like, optional
        Folder of the sweeps (default ``out_dir/sweeps``).
    keep_sweeps : bool
        Keep the sweeps (every run's fluxes, :func:`collision.sweep.load`) after a complete
        study.

    Returns
    -------
    DelayStudy
    """
    from . import delay_plots

    s = settings or (DelaySettings.quick() if quick else DelaySettings.full())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if s.runs is None:
        s = replace(s, runs=SweepRuns(Path(sweeps) if sweeps is not None else out / "sweeps",
                                      workers=workers, client=client))
    runs = s.runs
    with runs.local_pool() as pooled:   # one pool of processes for every sweep
        s = replace(s, runs=pooled)
        study = DelayStudy(settings=s, fluxes={}, release={}, thresholds={})
        start = time.perf_counter()
        steps = [(kind, name) for kind in ("fluxes", "release") for name in SYSTEMS]
        bar = progress_bar(len(steps), progress, "delay study", unit="panel")
        try:
            for kind, name in steps:
                t0 = time.perf_counter()
                if kind == "fluxes":
                    panel = study.fluxes[name] = compute_fluxes(name, s)
                    stem = FLUX_NAMES[name]
                    study.files += [_write_flux_csv(panel, out / f"{stem}.csv"),
                                    delay_plots.plot_fluxes(panel, out / f"{stem}.png")]
                else:
                    rel = study.release[name] = compute_release(name, s)
                    thr = study.thresholds[name] = thresholds(rel)
                    stem = RELEASE_NAMES[name]
                    study.files += [_write_release_csv(rel, out / f"{stem}.csv"),
                                    _write_spread_csv(rel, thr, out / f"{stem}_spread.csv"),
                                    delay_plots.plot_release(rel, thr, out / f"{stem}.png")]
                study.seconds[f"{kind} {name}"] = time.perf_counter() - t0
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    study.settings = s = replace(s, runs=runs)   # without the closed pool
    study.seconds["total"] = time.perf_counter() - start
    report = out / "REPORT.md"
    report.write_text(report_text(study))
    study.files.append(report)
    if not keep_sweeps:
        s.runs.remove(SWEEPS)
    return study


def _write_flux_csv(panel: DelayFluxPanel, path: Path) -> Path:
    cols = panel._frame()[0]
    return write_csv(path, [f"{panel.system}s: heat fluxes (hbar omega gamma) with a travel "
                            f"time 'delay' (1/gamma) from S1 to S2", panel.notes,
                            f"engine: {panel.engine_name}; reference: {panel.reference_name}; "
                            "J_independent: two independent reservoirs (closed form)"], cols)


def _write_release_csv(panel: DelayReleasePanel, path: Path) -> Path:
    cols = panel._frame()[0]
    return write_csv(path, [
        f"{panel.system}s: gamma tau_p against the delay (1/gamma) and {panel.parameter}",
        panel.notes,
        "released: first time Q(t) = int_0^t J^(c) dt (heat that has left the subsystems, "
        "the paper's definition) reaches p% of Q(inf); out: the same for Q(t) - in_flight(t) "
        "(heat that has left the chain, past S2)"], cols)


def _write_spread_csv(panel: DelayReleasePanel, thr: Thresholds, path: Path) -> Path:
    cols = {"delay": panel.delays}
    for heat, times in panel.times.items():
        for k, pc in enumerate(panel.p):
            cols[f"spread_p{pc:g}.{heat}"] = times.spread[:, k]
    cols["eta"] = panel.eta
    cols["eta_law"] = thr.eta0 * np.exp(-panel.delays / 2)
    for i, lab in enumerate(("min", "0", "max")):
        cols[f"Q_end[x={lab}]"] = panel.q_reference[:, i]
    exact = "; ".join(f"{heat}: " + ", ".join(f"p={pc:g}: {x:.6g}" for pc, x in
                                              zip(thr.p, thr.exact[heat], strict=True))
                      for heat in HEATS)
    return write_csv(path, [
        f"{panel.system}s: spread max_x tau_p - min_x tau_p (1/gamma) over {panel.parameter} "
        f"in [{panel.x[0]:g}, {panel.x[-1]:g}] (reference); eta = int |J(x_max) - J(0)| dt / "
        f"Q(inf); eta_law = eta(0) e^(-delay/2); Q_end = int_0^{panel.t_end:g} J dt "
        f"(Q(inf) = {panel.q_inf:g})",
        f"exact thresholds (NaN: none): {exact}"], cols)


def _fmt_row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def _fmt_delay(d: float) -> str:
    return "-" if math.isnan(d) else f"{d:.2f}"


_HEAT_TITLES = {"released": "tau_p: heat that has left the subsystems, Q(t) = int J^(c) dt "
                            "(the paper's definition)",
                "out": "tau_p^out: heat that has left the chain, Q(t) - in_flight(t)"}

_PHYSICS = """\
* **Two stages.**  Collisions of different (subsystem, ancilla) pairs commute, so a delayed
  cascade is S2 relaxing *alone* for the delay, then the zero-delay cascade with S1's clock
  started earlier.  For t < delay every flux is local: J^(c)(t) = J^(ind)(t) exactly
  (independent reservoirs), whatever the correlations.  S1's flux never depends on the delay.
* **Correlations decay before they act.**  The correlations of eqs 31 and 41 are one-quantum
  coherences of S2 (<a1^dag a2>, <a1 a2>; |eg><ge|), damped by S2's local relaxation as its
  amplitude, e^{-gamma delay/2}, before S1's output reaches S2.  The fluxes are linear in the
  initial state, so the correlation effect Delta J = J^(c)(x) - J^(c)(0) is the zero-delay
  effect, delayed and damped: Delta J_delay(t) = e^{-gamma delay/2} Delta J_0(t - delay)
  (in the collision model cos(sqrt(gamma dt))^m after m collisions, exactly at any dt).  Its
  integral eta = int |Delta J| dt / Q(inf) decays as e^{-gamma delay/2}.
* **The heat comes back.**  When S1's output arrives, S2 has already relaxed and absorbs part
  of it: J^(c) jumps at t = delay (the cascade terms switch on) and then turns negative,
  so Q(t) = U_S(0) - U_S(t) is no longer monotonic (at large delays S2 takes back up to
  about 4/e^2 of S1's energy, the absorption of an exponential pulse by a resonant
  absorber).  The first time Q reaches p% (the paper's tau_p) can then jump when a
  correlation moves a maximum of Q across p%: before it vanishes the spread of tau_p over a
  class can *grow* with the delay.  The heat that has left the chain (past S2),
  Q_out = Q - in_flight, is monotonic at T = 0, and its tau_p^out changes smoothly.
* **Where the correlations stop mattering.**  Q(t) = Q^(ind)(t) for t < delay, so once
  delay >= tau_p^(ind) = -ln(1 - p/100)/gamma the paper's tau_p is *exactly* the same for
  every correlated state.  For Q_out the same holds for p < 50% beyond
  -ln(1 - 2p/100)/gamma (S2 alone holds half of the energy); for p >= 50% the spread of
  tau_p^out decays as e^{-gamma delay/2} and never vanishes exactly.  The total heat Q(inf)
  (eq 11) does not depend on the delay."""


def report_text(study: DelayStudy) -> str:
    """``REPORT.md``: what changes with the delay and why, and the numbers."""
    s = study.settings
    lines = [
        "# Heat release with a travel time between the subsystems",
        "",
        f"The paper's question (how do initial correlations speed up or slow down the heat "
        f"release?) with S1's output reaching S2 a time `delay` later.  T = 0; oscillators: "
        f"N_S = {N_S:g}, eq 31 states with C13 = C24; qubits: xi_S = {XI_S:g}, eq 41 states "
        f"(fluxes in {QUBIT_SCALE_NOTE}).  Lines: exact references with the same delay; "
        f"markers: collision engines at dt = {s.dt:g}.  Time in 1/gamma, flux in "
        f"hbar omega gamma, heat in hbar omega.",
        "",
        "## What changes with the delay, and why",
        "",
        _PHYSICS,
        "",
        "## Engines against the references",
        "",
        "max over t of |J^(c)_engine - J^(c)_reference| per curve; 'law': max over t of "
        "|Delta J_delay(t) - damping x Delta J_0(t - delay)| for the reference (damping "
        "e^{-delay/2}) and for the engine (cos(sqrt(dt))^m); 'J^(ind)': max over t < delay of "
        "|J^(c) - J^(ind)| (reference).",
        "",
    ]
    for name, panel in study.fluxes.items():
        err = panel.errors()
        scale = np.max(np.abs(panel.reference["total"]))
        law_r, law_e = panel.law_errors("reference"), panel.law_errors("engine")
        before = panel.before_arrival_errors()
        lines += [f"**{name}s** ({panel.engine_name} vs {panel.reference_name}; "
                  f"max |J^(c)| = {scale:.3g}):", "",
                  _fmt_row(["delay"] + [f"{panel.parameter} = {v:g}" for v in panel.values]
                           + ["law (ref)", "law (engine)", "J^(ind)"]),
                  _fmt_row(["---"] * (panel.values.size + 4))]
        for k, d in enumerate(panel.delays):
            lines.append(_fmt_row([f"{d:g}"] + [f"{e:.2e}" for e in err[k]]
                                  + [f"{law_r[k]:.1e}", f"{law_e[k]:.1e}",
                                     "-" if d == 0 else f"{before[k]:.1e}"]))
        j1 = panel.reference["J1"]
        lines += ["", f"S1's flux: max over delays and t of |J1(delay) - J1(0)| = "
                  f"{np.max(np.abs(j1 - j1[0])):.1e} (reference), "
                  f"{np.max(np.abs(panel.engine['J1'] - panel.engine['J1'][0])):.1e} "
                  f"(engine).", ""]
    lines += ["## Release times (1/gamma)", ""]
    for name, rel in study.release.items():
        thr = study.thresholds[name]
        lines += [f"### {name}s: {rel.parameter} in [{rel.x[0]:g}, {rel.x[-1]:g}]", ""]
        for heat, times in rel.times.items():
            eng_err = times.engine_errors()
            lines += [f"{_HEAT_TITLES[heat]}.  Reference at {rel.parameter} = "
                      f"{rel.x_engine[0]:g} / 0 / {rel.x_engine[2]:g}; last column: max "
                      f"|engine - reference| over p and the three states.", "",
                      _fmt_row(["delay"] + [f"p = {pc:g}%" for pc in rel.p] + ["engine"]),
                      _fmt_row(["---"] * (rel.p.size + 2))]
            for k, d in enumerate(rel.engine_delays):
                cells = [" / ".join(f"{v:.3f}" for v in times.reference_at_engine[k, j])
                         for j in range(rel.p.size)]
                lines.append(_fmt_row([f"{d:g}"] + cells + [f"{eng_err[k]:.1e}"]))
            lines.append("")
        lines += [f"Spread max_x tau_p - min_x tau_p over the {rel.x.size} class members "
                  f"(released / out):", "",
                  _fmt_row(["delay"] + [f"p = {pc:g}%" for pc in rel.p]),
                  _fmt_row(["---"] * (rel.p.size + 1))]
        for d in sorted(set(rel.engine_delays) | {float(rel.delays[rel.delays.size // 2])}):
            row = int(np.argmin(np.abs(rel.delays - d)))
            lines.append(_fmt_row([f"{rel.delays[row]:g}"] + [
                f"{rel.times['released'].spread[row, j]:.3f} / "
                f"{rel.times['out'].spread[row, j]:.3f}" for j in range(rel.p.size)]))
        lines += ["", f"Integrated correlation effect: eta(0) = {thr.eta0:.4f} (fraction of "
                  f"Q(inf), at |{rel.parameter}| = {rel.x[-1]:g}); eta(delay) e^(delay/2) / "
                  f"eta(0) - 1 is at most {thr.decay:.1e} over the grid.", "",
                  f"Total heat: Q(inf) = {rel.q_inf:g}; the reference's int_0^{rel.t_end:g} "
                  f"J^(c) dt - Q(inf) lies in [{np.min(rel.q_reference - rel.q_inf):.1e}, "
                  f"{np.max(rel.q_reference - rel.q_inf):.1e}] over every delay and "
                  f"{rel.parameter} = min / 0 / max; the engine's step sums in "
                  f"[{np.min(rel.q_engine - rel.q_inf):.1e}, "
                  f"{np.max(rel.q_engine - rel.q_inf):.1e}].", ""]
    lines += ["## Where the correlations stop mattering", "",
              "Delays (1/gamma) from which tau_p is the same for every member of the class: "
              "'exact' from the two-stage structure (no tolerance; '-': never exactly), "
              f"'grid': first delay of the grid from which the computed spread stays <= "
              f"{SPREAD_TOLERANCE:g} (the engines' time step; '>': extrapolated with "
              "e^{-delay/2} past the grid).  eta < eps beyond 2 ln(eta(0)/eps).", ""]
    header = ["system", "p", "released: exact", "released: grid", "out: exact", "out: grid"]
    lines += [_fmt_row(header), _fmt_row(["---"] * len(header))]
    for name, thr in study.thresholds.items():
        for k, pc in enumerate(thr.p):
            out_grid = (_fmt_delay(thr.grid["out"][k]) if not math.isnan(thr.grid["out"][k])
                        else f"> {study.release[name].delays[-1]:g} "
                             f"(~{thr.extrapolated['out'][k]:.1f})")
            lines.append(_fmt_row([name, f"{pc:g}%", _fmt_delay(thr.exact["released"][k]),
                                   _fmt_delay(thr.grid["released"][k]),
                                   _fmt_delay(thr.exact["out"][k]), out_grid]))
    lines.append("")
    for name, thr in study.thresholds.items():
        lines.append(f"* {name}s: " + "; ".join(f"eta < {eps:g} beyond delay {d:.2f}"
                                                for eps, d in thr.eta_delays.items()))
    lines += ["", "## Settings and timing", "",
              f"dt = {s.dt:g}; flux delays {', '.join(f'{d:g}' for d in s.delays)} up to "
              f"t = {s.t_max:g}; release grid of {s.n_release_delays} delays in "
              f"[0, {MAX_DELAY:g}], {s.n_x} class members, reference sampled every {s.h:g} up "
              f"to t = {s.t_release:g}.  "
              + "; ".join(f"{k}: {v:.1f} s" for k, v in study.seconds.items()) + ".", ""]
    return "\n".join(lines)
