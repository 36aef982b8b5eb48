"""Plot of :mod:`collision.studies.machines` (matplotlib only)."""

from __future__ import annotations

import numpy as np

from ._plotting import save_figure
from .machines import FRIDGE_T


def plot_machines(study, dts, path=None):
    """Four panels: the chain's steady current against ``T_h - T_c`` and against the
    detuning (markers: collisions at the smaller ``dt``; lines: master equation), the
    refrigerator's COP against ``omega_c / omega_h`` with the formula and Carnot, and the
    cascade's ``Sigma(t)`` with the share ``I(0) - I(t)`` of the S1-S2 correlations."""
    from matplotlib.figure import Figure

    small = min(dts)
    fig = Figure(figsize=(11, 8), constrained_layout=True)
    ax, bx, cx, dx = fig.subplots(2, 2).ravel()
    for axis, name, label in ((ax, "T_h - T_c", "T_h - T_c (T_c = 0.5)"),
                              (bx, "detuning", "detuning omega_1 - omega_2 (T_h = 2)")):
        pts = [p for p in study.chain if p.parameter == name]
        x = [p.x for p in pts]
        for r, color in (("cold", "C0"), ("hot", "C3")):
            axis.plot(x, [p.continuum[r] for p in pts], "-", color=color,
                      label=f"{r} stream, master equation")
            for dt, mk in zip(sorted(dts), ("o", "x"), strict=False):
                axis.plot(x, [p.heat[dt][r] for p in pts], mk, color=color, ms=5,
                          label=f"collisions, dt = {dt:g}")
        axis.plot(x, [p.work[small] for p in pts], "s--", color="gray", ms=3,
                  label="switching work W")
        axis.axhline(0, color="k", lw=0.5)
        axis.set(xlabel=label, ylabel="steady heat into the stream (hbar omega gamma)",
                 title="two-qubit chain between a hot and a cold stream")
        axis.legend(fontsize=6)
    ratios = np.array([p.x for p in study.refrigerator])
    cools = np.array([p.extra["ideal"]["cools"] for p in study.refrigerator])
    for dt, mk in zip(sorted(dts), ("o", "x"), strict=False):
        cop = [p.extra["machine"][dt]["cop"] for p in study.refrigerator]
        cx.plot(ratios[cools], np.array(cop)[cools], mk, color="C0",
                label=f"COP, collisions dt = {dt:g}")
    grid = np.linspace(0.05, 0.95, 200)
    t_h, t_c = FRIDGE_T
    inside = grid < t_c / t_h
    cx.plot(grid[inside], grid[inside] / (1 - grid[inside]), "k-", lw=1,
            label="omega_c / (omega_h - omega_c)")
    cx.axhline(t_c / (t_h - t_c), color="C3", ls="--", label="Carnot T_c / (T_h - T_c)")
    cx.axvspan(t_c / t_h, 1, color="gray", alpha=0.15, label="no cooling (engine)")
    cx.set(xlabel="omega_c / omega_h", ylabel="coefficient of performance", ylim=(0, 2),
           title="swap refrigerator")
    cx.legend(fontsize=7)
    for j, c in enumerate(study.cascade):
        color = f"C{j % 10}"
        lab = f"{c.label} rho23 = {c.rho23.real:g}{c.rho23.imag:+g}i"
        dx.plot(c.t, c.sigma, "-", color=color, label=lab)
        dx.plot(c.t, c.sigma_me, ":", color="k", lw=0.8)
        dx.plot(c.t, c.mutual[0] - c.mutual, "--", color=color, lw=1)
    dx.set(xlabel="gamma t", ylabel="nats",
           title="cascade: Sigma(t) (dotted: ME), I(0) - I(t) (dashed)")
    dx.legend(fontsize=6)
    return save_figure(fig, path)
