"""Plots of the heat-statistics study (:mod:`collision.studies.heat_statistics`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._plotting import save_figure

if TYPE_CHECKING:
    from .heat_statistics import CorrelationPanel, TheoremStudy


def plot_correlations(panel: CorrelationPanel, path=None):
    """Mean, variance and skewness of the heat against t for every initial state, and
    P(q) at t = 1 at the integers q (a group of width 0.8 around each q, one slot per
    state: engine stems, master-equation bars; integer ticks); returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), constrained_layout=True)
    width = 0.8 / len(panel.values)  # P(q): one slot per initial state around each q
    for c, (v, eng, ref) in enumerate(zip(panel.values, panel.engine, panel.reference,
                                          strict=True)):
        color = f"C{c}"
        every = max(1, eng.t.size // 30)
        for ax, name in zip(axes[:3], ("mean", "variance", "skewness"), strict=True):
            ax.plot(ref.t, getattr(ref, name), "-", color=color, lw=1.2)
            ax.plot(eng.t[::every], getattr(eng, name)[::every], "o", ms=3, mfc="none",
                    color=color, label=f"{panel.parameter} = {v:g}")
        k = int(np.argmin(np.abs(eng.t - 1.0)))
        kr = int(np.argmin(np.abs(ref.t - 1.0)))
        offset = (c - (len(panel.values) - 1) / 2) * width
        axes[3].bar(ref.quanta + offset, ref.probabilities[kr], width=width, color=color,
                    alpha=0.3, lw=0)
        stems = axes[3].stem(eng.quanta + offset, eng.probabilities[k], linefmt=color,
                             markerfmt="o", basefmt=" ")
        stems.markerline.set(color=color, markerfacecolor="none", markersize=3)
    titles = (r"mean $\kappa_1$  [$\hbar\omega$]", r"variance $\kappa_2$  [$(\hbar\omega)^2$]",
              r"skewness $\kappa_3/\kappa_2^{3/2}$",
              r"$P(q)$ at $\gamma t = 1$ (stems: engine; bars: master equation)")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(r"$\gamma t$" if ax is not axes[3] else r"$q = Q/\hbar\omega$")
    lim = max(3, int(np.max([np.max(np.abs(e.quanta[e.probabilities.max(axis=0) > 1e-4]))
                             for e in panel.engine])))
    axes[3].set_xlim(-1.5, lim + 0.5)
    axes[3].xaxis.set_major_locator(MaxNLocator(integer=True))  # q is an integer
    axes[0].legend(fontsize=7)
    fig.suptitle(f"heat to the reservoir, {panel.system}s: {panel.notes}", fontsize=9)
    return save_figure(fig, path)


def plot_theorem(study: TheoremStudy, path=None):
    """``ln[P(q)/P(-q)]`` against t, as computed and after the correlation correction,
    with the theorem's value ``(beta - beta_S) omega q``; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4), constrained_layout=True, sharey=True)
    for c, (r23, eng, ref, cor, cor_ref) in enumerate(zip(
            study.rho23, study.engine, study.reference, study.corrected,
            study.corrected_reference, strict=True)):
        q, lr = eng.log_ratio()
        _, lr_ref = ref.log_ratio()
        every = max(1, eng.t.size // 30)
        for j, qq in enumerate(q):
            style = dict(color=f"C{c}", mfc="none", ms=3)
            mark = "o" if qq == 1 else "s"
            label = f"Re rho23 = {r23:g}" if qq == 1 else None
            axes[0].plot(ref.t, lr_ref[:, j] / qq, "-", color=f"C{c}", lw=1)
            axes[0].plot(eng.t[::every], lr[::every, j] / qq, mark, label=label, **style)
            axes[1].plot(ref.t, cor_ref[:, j] / qq, "-", color=f"C{c}", lw=1)
            axes[1].plot(eng.t[::every], cor[::every, j] / qq, mark, **style)
    for ax in axes:
        ax.axhline(study.slope, color="k", lw=0.8, ls="--")
        ax.set_xlabel(r"$\gamma t$")
    axes[0].set_ylabel(r"$\ln[P(q)/P(-q)]\,/\,q$   (o: q = 1, s: q = 2)")
    axes[0].set_title("as measured", fontsize=9)
    axes[1].set_title(r"minus $\ln[r(-q)/r(q)]$: the correlation correction", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"exchange fluctuation theorem: reservoir T = {study.temperature:g}, "
                 f"qubits at local T_S = {study.temperature_s:.3g}; dashed: "
                 r"$(\beta - \beta_S)\hbar\omega$", fontsize=9)
    return save_figure(fig, path)
