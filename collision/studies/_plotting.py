"""Small helpers shared by the studies' ``*plots`` modules (no matplotlib import here)."""

from __future__ import annotations


def save_figure(fig, path, dpi: int = 130):
    """Save ``fig`` to ``path`` at ``dpi`` unless ``path`` is None; return ``fig``."""
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def marker_slice(dt: float, spacing: float) -> slice:
    """Every marker ``spacing`` (1/gamma) apart on a time grid of step ``dt`` (1/gamma)."""
    return slice(None, None, max(1, int(round(spacing / dt))))
