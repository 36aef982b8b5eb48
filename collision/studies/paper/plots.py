"""Drawing the paper's figures from their results (matplotlib only; computes nothing).

One function per kind of figure, taking a result of :mod:`collision.studies.paper.results`
and the path of the PNG (plus the figure's labels).  Object-oriented matplotlib on an Agg
canvas: no display needed, and matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._plotting import marker_slice
from .analysis import FIG2_T
from .results import ClassRangeFigure, DensityMapFigure, DomainFigure, FluxFigure, ReleaseTimeFigure

__all__ = [
    "MEASURE_TEX",
    "plot_class_range",
    "plot_density_map",
    "plot_domain",
    "plot_flux_grid",
    "plot_release_times",
    "plot_total_vs_independent",
]

#: TeX symbols of the correlation measures, for labels and titles.
MEASURE_TEX = {"E_N": r"$E_N$", "D_G": r"$D_G$", "D_Z": r"$D_Z$"}
#: Spacing (1/gamma) of the engine markers of the flux plots.
_MARKER_SPACING = 0.2
#: Colour and line style of each percentage p of Figs 4a and 6a.
_P_STYLE = {25.0: ("tab:blue", (0, (5, 2))), 50.0: ("tab:cyan", ":"),
            75.0: ("tab:green", "-"), 86.0: ("gold", "-."),
            90.0: ("tab:orange", (0, (6, 2, 1, 2, 1, 2))),
            95.0: ("tab:red", (0, (6, 2, 1, 2, 1, 2, 1, 2)))}


def _new_figure(nrows: int, ncols: int, size: tuple[float, float], **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=120)
    return path


def _label_ts(ts: float) -> str:
    return rf"$k_BT_S/\hbar\omega$ = {ts:g}"


def _ts_colors(values: np.ndarray):
    from matplotlib import colormaps

    cmap = colormaps["coolwarm"]
    order = np.argsort(np.argsort(values))
    return [cmap(0.05 + 0.9 * k / max(1, len(values) - 1)) for k in order]


# --- Figs 2 and 3: heat fluxes -------------------------------------------------------------------

def plot_flux_grid(result: FluxFigure, path: Path) -> Path:
    """Fig. 2: J1, J2, J12 and J^(c) (with J^(ind)), oscillators left and qubits right."""
    fig, axes = _new_figure(4, 2, (9.0, 10.5), sharex=True)
    rows = (("J1", r"$J_1$"), ("J2", r"$J_2$"), ("J12", r"$J_{12}$"), ("total", r"$J^{(c)}$"))
    for col, (key, title) in enumerate((("oscillators", "harmonic oscillators"),
                                        ("qubits", "qubits"))):
        panel = result.panels[key]
        colors = _ts_colors(panel.values)
        mk = marker_slice(panel.dt, _MARKER_SPACING)
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
    return _save(fig, path)


def plot_total_vs_independent(result: FluxFigure, path: Path, key: str, label: str,
                              title: str, scale_note: str) -> Path:
    """Figs 3a, 3b: J^(c) of every initial state of panel ``key`` and J^(ind)."""
    panel = result.panels[key]
    fig, axes = _new_figure(1, 1, (6.0, 4.2))
    ax = axes[0, 0]
    mk = marker_slice(panel.dt, _MARKER_SPACING)
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
    return _save(fig, path)


# --- Figs 4a and 6a: release times -----------------------------------------------------------

def plot_release_times(result: ReleaseTimeFigure, path: Path, x_label: str,
                       title: str) -> Path:
    """Figs 4a, 6a: ``gamma tau_p`` lines (closed form) and engine markers per percentage."""
    fig, axes = _new_figure(1, 1, (6.0, 4.4))
    ax = axes[0, 0]
    for k, pc in enumerate(result.p):
        color, ls = _P_STYLE[float(pc)]
        ax.plot(result.x, result.tau_reference[k], color=color, ls=ls, lw=1.5,
                label=f"p = {pc:g}%")
        ax.plot(result.x_engine, result.tau_engine[k], "o", ms=4, mfc="none", color=color)
    ax.set_xlabel(x_label)
    ax.set_ylabel(r"$\gamma\tau_p$")
    ax.set_title(f"{title}\nlines: closed form; markers: collision engine (dt = {result.dt:g}, "
                 "step-sum of its flux)", fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


# --- Figs 4b, 4c, 6b: correlation ranges within a class ----------------------------------------

def plot_class_range(result: ClassRangeFigure, path: Path, x_label: str, title: str) -> Path:
    """Figs 4b, 4c, 6b: the range of the measure over each class, and the diagonal member."""
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
    ax.set_ylabel(f"{MEASURE_TEX[result.measure]}  [{result.unit}]")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


# --- Fig. 5: density plots ---------------------------------------------------------------------

def plot_density_map(result: DensityMapFigure, path: Path, title: str,
                     gamma: float = 1.0) -> Path:
    """Figs 5a-5c: the measure on a plane of states, unphysical points grey.

    ``gamma`` is the exponent of the colour scale (:class:`matplotlib.colors.PowerNorm`).
    """
    from matplotlib.colors import PowerNorm

    fig, axes = _new_figure(1, 1, (5.4, 4.6))
    ax = axes[0, 0]
    masked = np.ma.masked_invalid(result.values)
    norm = PowerNorm(gamma, vmin=0.0, vmax=float(np.nanmax(result.values)))
    mesh = ax.pcolormesh(result.x, result.y, masked, shading="nearest", cmap="viridis",
                         norm=norm)
    cbar = fig.colorbar(mesh, ax=ax)
    scale = "" if gamma == 1.0 else f" (colour scale ~ value^{gamma:g})"
    cbar.set_label(f"{MEASURE_TEX[result.measure]}  [{result.unit}]{scale}")
    ax.set_facecolor("0.85")
    ax.set_xlabel(result.x_label)
    ax.set_ylabel(result.y_label)
    ax.set_aspect("equal")
    ax.set_title(f"{title}\n(grey: unphysical)", fontsize=9)
    return _save(fig, path)


# --- Fig. 7 ------------------------------------------------------------------------------------

def plot_domain(result: DomainFigure, path: Path) -> Path:
    """Fig. 7: one panel per N_S, the physical region, the classes and ``C13 = C24``."""
    u, n_s_arr, physical = result.u, result.n_s, result.physical
    ncols = min(4, n_s_arr.size)
    nrows = math.ceil(n_s_arr.size / ncols)
    fig, axes = _new_figure(nrows, ncols, (3.0 * ncols, 3.2 * nrows))
    for k, n_s in enumerate(n_s_arr):
        ax = axes.flat[k]
        ax.contourf(u, u, physical[k].astype(float), levels=[0.5, 1.5], colors=["tab:blue"],
                    alpha=0.45)
        for c in np.linspace(-1.5, 1.5, 7):
            ax.plot(u, c - u, "k--", lw=0.6)
        e = result.diagonal_extent[k] / (n_s + 0.5)
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
    return _save(fig, path)
