"""Plot of :mod:`collision.studies.chain_error` (matplotlib only)."""

from __future__ import annotations

from ._plotting import save_figure
from .chain_error import ChainError


def plot_chain_error(result: ChainError, path=None):
    """Measured error and the warning's rule against the chain length; returns the figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.6, 3.8), constrained_layout=True)
    ax = fig.add_subplot()
    ax.plot(result.n, 100 * result.measured, "o-", label="measured (Gaussian engine)")
    ax.plot(result.n, 100 * result.predicted, "k--", label=r"warning rule $(n - 2/3)\,\gamma dt$")
    ax.set_xlabel("chain length n")
    ax.set_ylabel("max |J_i - J_i(exact)| / max |J|  [%]")
    ax.set_title(f"time-step error of the collision model, dt = {result.dt:g}")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
