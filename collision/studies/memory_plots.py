"""Plot of :mod:`collision.studies.memory` (matplotlib only)."""

from __future__ import annotations

import numpy as np

from ._plotting import marker_slice, save_figure


def plot_memory(dec, cas, path=None):
    """Four panels: S1's excited population (markers: collisions; lines: ``|G|^2``), the
    heat it releases, ``t_50`` against ``kappa``, and the cascade's released heat."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8), constrained_layout=True)
    ax, bx, cx, dx = fig.subplots(2, 2).ravel()
    step = marker_slice(float(dec.t[1] - dec.t[0]), 0.3)
    for j, kappa in enumerate(dec.kappas):
        color = f"C{j % 10}"
        ax.plot(dec.t, dec.exact[kappa], color=color, lw=1, label=f"kappa = {kappa:g}")
        ax.plot(dec.t[step], dec.population[kappa][step], "o", ms=2.5, color=color)
        bx.plot(dec.t, dec.released[kappa], color=color, lw=1)
    ax.plot(dec.t, np.exp(-dec.t), "k--", lw=1, label="Markovian exp(-gamma_0 t)")
    ax.set(xlabel="gamma_0 t", ylabel="S1 excited population",
           title="S1 in a reservoir with memory (markers: collisions)")
    ax.legend(fontsize=7)
    bx.plot(dec.t, 1 - np.exp(-dec.t), "k--", lw=1)
    bx.set(xlabel="gamma_0 t", ylabel="Q_out(t) (hbar omega)",
           title="heat carried away by the leaving ancillas")
    kappas = [r["kappa"] for r in dec.summary]
    cx.semilogx(kappas, [r["t_50"] for r in dec.summary], "o-", label="t_50 (Q_out = 1/2)")
    cx.semilogx(kappas, [r["max_stored"] for r in dec.summary], "s-",
                label="largest energy held by the pseudomode")
    cx.semilogx(kappas, [r["revival_peak"] for r in dec.summary], "^-",
                label="revival peak of P_e")
    cx.axhline(np.log(2), color="k", ls="--", lw=1, label="Markovian t_50 = ln 2")
    cx.axvline(4, color="gray", ls=":", lw=1)
    cx.set(xlabel="ancilla-ancilla exchange rate kappa (gamma_0)",
           title="from revivals (kappa < 4) to Markovian decay")
    cx.legend(fontsize=7)
    styles = {-0.75: ":", 0.0: "-", 0.75: "--"}
    kappas = sorted({k for k, _ in cas.released}, key=lambda k: -1 if k is None else k)
    for j, kappa in enumerate(kappas):
        for rho23, ls in styles.items():
            if (kappa, rho23) in cas.released:
                label = ("memoryless" if kappa is None else f"kappa = {kappa:g}") \
                    if rho23 == 0.0 else None
                dx.plot(cas.t, cas.released[(kappa, rho23)], ls, color=f"C{j}", lw=1,
                        label=label)
    dx.set(xlabel="gamma_0 t", ylabel="Q_out(t) (hbar omega)",
           title="cascade S1 -> S2, Re rho23 = -0.75 (:), 0 (-), 0.75 (--)")
    dx.legend(fontsize=7)
    return save_figure(fig, path)
