"""Plots of the convergence studies of :mod:`collision.studies.convergence` (matplotlib)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lindblad.fluxes import FIELDS

from ._plotting import save_figure

if TYPE_CHECKING:
    from .convergence import DtConvergence, TrajectoryConvergence


def plot_dt_convergence(conv: DtConvergence, path=None, title: str | None = None):
    """Log-log plot of error vs dt with the fitted orders; returns the figure.

    Parameters
    ----------
    conv : DtConvergence
    path : path-like, optional
        Where to save the figure (130 dpi); not saved if None.
    title : str, optional
        Default ``"collision model vs Lindblad reference"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2), constrained_layout=True)
    for k, name in enumerate(FIELDS):
        ax.loglog(conv.dts, conv.errors[name], "o-", color=f"C{k}",
                  label=f"{name}: order {conv.orders[name]:.2f}")
        if name in conv.richardson:
            ax.loglog(conv.dts[:-1], conv.richardson[name], "s--", color=f"C{k}", mfc="none",
                      label=f"{name} Richardson: {conv.richardson_orders[name]:.2f}")
    ax.loglog(conv.dts, conv.state_errors, "k^-",
              label=f"trace distance at t={conv.t_state:g}: {conv.state_order:.2f}")
    ax.set_xlabel(r"$\gamma\,dt$")
    ax.set_ylabel(r"max$_t$ |J - J$_{\rm Lindblad}$|  [$\hbar\omega\gamma$]")
    ax.set_title(title or "collision model vs Lindblad reference")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_trajectory_convergence(tc: TrajectoryConvergence, path=None):
    """Log-log plot of the Monte Carlo errors vs the number of trajectories.

    Parameters
    ----------
    tc : TrajectoryConvergence
    path : path-like, optional
        Where to save the figure (130 dpi); not saved if None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2), constrained_layout=True)
    ax.loglog(tc.n, tc.stderr, "o-", label=f"max stderr (slope {tc.exponent:.2f})")
    ax.loglog(tc.n, tc.error, "s--", label="max |mean - exact average|")
    ax.loglog(tc.n, tc.stderr[0] * np.sqrt(tc.n[0] / tc.n), "k:", label=r"$n^{-1/2}$")
    ax.set_xlabel("trajectories")
    ax.set_ylabel(r"total flux error  [$\hbar\omega\gamma$]")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
