"""Plots of the delay study of :mod:`collision.studies.delay` (matplotlib only; computes
nothing but the curves' simple transforms).

Object-oriented matplotlib on an Agg canvas (no display needed); matplotlib is imported
only when a figure is drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._plotting import marker_slice

if TYPE_CHECKING:
    from .delay import DelayFluxPanel, DelayReleasePanel, Thresholds

__all__ = ["plot_fluxes", "plot_release"]

#: Unit label of the fluxes.
_FLUX_UNIT = r"$\hbar\omega\gamma$"
#: Line styles of the three class members drawn in the release plots.
_MEMBER_MARKERS = ("v", "o", "^")


def _figure(nrows: int, ncols: int, size: tuple[float, float], top: float = 0.88,
            hspace: float = 0.38, **kw):
    """A figure with fixed margins (a layout engine would double the drawing time)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.07, top=top, wspace=0.3,
                        hspace=hspace)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def _system_title(system: str) -> str:
    return ("harmonic oscillators" if system == "oscillator"
            else "qubits (physical units; the paper's Sec. VI curves are 2x)")


def _value_label(parameter: str, v: float) -> str:
    tex = {"C13 = C24": r"$C_{13}=C_{24}$", "Re rho23": r"Re$\,\rho_{23}$",
           "C13 + C24": r"$C_{13}+C_{24}$"}
    return f"{tex.get(parameter, parameter)} = {v:g}"


def plot_fluxes(panel: DelayFluxPanel, path: Path) -> Path:
    """``J^(c)(t)`` at every delay (one axis each) and the correlation effect ``Delta J``.

    Lines: exact reference; markers: engine; dashed black: ``J^(ind)``; dotted grey:
    ``t = delay``, when S1's output reaches S2.  The last axis shows
    ``Delta J = J^(c)(x) - J^(c)(0)`` of the most positively correlated curve at every
    delay with the law ``e^{-gamma tau/2} Delta J_0(t - tau)`` (thin black dashes).
    """
    n = panel.delays.size
    ncols = 3
    nrows = (n + 1 + ncols - 1) // ncols
    fig, axes = _figure(nrows, ncols, (12.0, 3.6 * nrows), sharex=True)
    flat = axes.ravel()
    for ax in flat[1:n]:
        ax.sharey(flat[0])
    mk = marker_slice(panel.dt, 0.25)
    top = float(np.max(panel.reference["total"]))
    bottom = float(min(0.0, np.min(panel.reference["total"])))
    pad = 0.05 * (top - bottom)
    for k, d in enumerate(panel.delays):
        ax = flat[k]
        for i, v in enumerate(panel.values):
            color = f"C{i}"
            ax.plot(panel.t, panel.reference["total"][k, i], color=color, lw=1.3,
                    label=_value_label(panel.parameter, v))
            ax.plot(panel.t[mk], panel.engine["total"][k, i][mk], "o", ms=3, mfc="none",
                    color=color)
        ax.plot(panel.t, panel.independent, color="k", lw=1.0, ls="--",
                label=r"$J^{(ind)}$ (independent reservoirs)")
        if d > 0:
            ax.axvline(d, color="0.5", lw=0.8, ls=":")
        ax.axhline(0.0, color="0.8", lw=0.6)
        ax.set_ylim(bottom - pad, top + pad)
        ax.set_title(rf"delay $\gamma\tau$ = {d:g}", fontsize=9)
        ax.set_ylabel(rf"$J^{{(c)}}$  [{_FLUX_UNIT}]")
    flat[0].legend(fontsize=7)
    ax = flat[n]
    effect = panel.effect("reference")
    member = int(np.argmax(panel.values))
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for k, d in enumerate(panel.delays):
        color = cmap(0.9 * k / max(1, n - 1))
        ax.plot(panel.t, effect[k, member], color=color, lw=1.4, label=rf"$\gamma\tau$ = {d:g}")
        steps = int(round(d / panel.dt))
        law = np.full(panel.t.size, np.nan)
        law[steps:] = np.exp(-d / 2) * effect[0, member, :panel.t.size - steps]
        ax.plot(panel.t, law, color="k", lw=0.8, ls=(0, (3, 3)))
    ax.axhline(0.0, color="0.8", lw=0.6)
    ax.set_title(rf"$\Delta J = J^{{(c)}}(x) - J^{{(c)}}(0)$, "
                 rf"{_value_label(panel.parameter, panel.values[member])}"
                 "\n" r"dashed: $e^{-\gamma\tau/2}\,\Delta J_0(t-\tau)$", fontsize=9)
    ax.set_ylabel(rf"$\Delta J$  [{_FLUX_UNIT}]")
    ax.legend(fontsize=7)
    for extra in flat[n + 1:]:
        extra.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(r"$\gamma t$")
    fig.suptitle(f"{_system_title(panel.system)}: total heat flux with a travel time "
                 rf"$\tau$ from S1 to S2" "\n"
                 f"lines: {panel.reference_name}; markers: {panel.engine_name} "
                 f"(dt = {panel.dt:g})", fontsize=9)
    fig.savefig(path, dpi=100)
    return path


def _p_colors(p: np.ndarray):
    from matplotlib import colormaps

    cmap = colormaps["plasma"]
    return [cmap(0.85 * k / max(1, p.size - 1)) for k in range(p.size)]


def _release_axis(ax, panel: DelayReleasePanel, heat: str, colors) -> None:
    times = panel.times[heat]
    mid = panel.x.size // 2
    for j, pc in enumerate(panel.p):
        color = colors[j]
        ref = times.reference[:, j, :]
        ax.fill_between(panel.delays, ref.min(axis=1), ref.max(axis=1), color=color,
                        alpha=0.25, lw=0)
        ax.plot(panel.delays, ref[:, mid], color=color, lw=1.3, label=f"p = {pc:g}%")
        for i, m in enumerate(_MEMBER_MARKERS):
            ax.plot(panel.engine_delays, times.engine[:, j, i], m, ms=4, mfc="none",
                    color=color)
        star = times.exact_threshold[j]
        if np.isfinite(star):
            ax.plot([star], [0.0], marker="|", ms=10, color=color, clip_on=False)
    ax.set_xlabel(r"delay $\gamma\tau$")
    ax.set_ylim(bottom=0.0)


def plot_release(panel: DelayReleasePanel, thr: Thresholds, path: Path) -> Path:
    """Release times against the delay, their spread over the class, and ``eta``.

    Top: ``tau_p`` (heat that has left the subsystems, the paper's definition) and
    ``tau_p^out`` (heat that has left the chain) against the delay; bands: the whole
    class range, lines: the uncorrelated member, markers: the engine at
    ``x = -x_max`` (v), 0 (o), ``x_max`` (^); ticks on the axis: the exact thresholds.
    Bottom: the spread of each over the class, and ``eta`` with ``eta(0) e^{-gamma tau/2}``.
    """
    fig, axes = _figure(2, 2, (11.0, 8.4), top=0.85, hspace=0.42)
    colors = _p_colors(panel.p)
    rng = rf"{_value_label(panel.parameter, panel.x[0])} ... {panel.x[-1]:g}"
    _release_axis(axes[0, 0], panel, "released", colors)
    axes[0, 0].set_ylabel(r"$\gamma\tau_p$")
    axes[0, 0].set_title(r"$\tau_p$: $Q(t)=\int_0^t J^{(c)}dt'$ reaches p% of $Q(\infty)$"
                         "\n(heat that has left the subsystems; the paper's definition)",
                         fontsize=9)
    axes[0, 0].legend(fontsize=7, ncol=2, loc="upper left")
    _release_axis(axes[0, 1], panel, "out", colors)
    axes[0, 1].set_ylabel(r"$\gamma\tau_p^{out}$")
    axes[0, 1].set_title(r"$\tau_p^{out}$: $Q(t) - $ energy in flight reaches p% "
                         "\n(heat that has left the chain, past S2)", fontsize=9)
    ax = axes[1, 0]
    for j, pc in enumerate(panel.p):
        ax.plot(panel.delays, panel.times["released"].spread[:, j], color=colors[j], lw=1.3,
                label=f"p = {pc:g}%")
        ax.plot(panel.delays, panel.times["out"].spread[:, j], color=colors[j], lw=1.0,
                ls="--")
    ax.set_xlabel(r"delay $\gamma\tau$")
    ax.set_ylabel(r"spread  max$_x\,\gamma\tau_p$ - min$_x\,\gamma\tau_p$")
    ax.set_title(f"spread over the class ({rng}); solid: " r"$\tau_p$, dashed: $\tau_p^{out}$",
                 fontsize=9)
    ax.set_ylim(bottom=0.0)
    ax = axes[1, 1]
    ax.semilogy(panel.delays, panel.eta, "o", ms=3.5, color="C3", mfc="none",
                label=r"$\eta$ (reference)")
    law = thr.eta0 * np.exp(-panel.delays / 2)
    ax.semilogy(panel.delays, law, color="k", lw=1.0, label=r"$\eta(0)\,e^{-\gamma\tau/2}$")
    for eps, d in thr.eta_delays.items():
        ax.axhline(eps, color="0.6", lw=0.8, ls=":")
        ax.text(0.0, eps, rf" $\eta$ < {eps:g} beyond $\gamma\tau$ = {d:.1f}",
                ha="left", va="bottom", fontsize=7, color="0.3")
    ax.set_xlabel(r"delay $\gamma\tau$")
    ax.set_ylabel(r"$\eta = \int|J^{(c)}(x_{max}) - J^{(c)}(0)|\,dt\;/\;Q(\infty)$")
    ax.set_title(rf"integrated correlation effect, {_value_label(panel.parameter, panel.x[-1])}",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle(f"{_system_title(panel.system)}: release times against the delay\n"
                 f"bands: {rng}; lines: the uncorrelated state ({panel.reference_name}); "
                 f"markers: {panel.engine_name} (dt = {panel.dt:g}) at "
                 f"x = {panel.x[0]:g} (v), 0 (o), {panel.x[-1]:g} (^)", fontsize=9)
    fig.savefig(path, dpi=100)
    return path
