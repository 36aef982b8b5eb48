"""CSV files of the paper's figures: the numbers behind each plot.

Every file is rectangular: ``# `` comment lines (what the figure is, its notes), one header
row, then one row per point with numbers as ``%.10g`` and booleans as 0/1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .results import (
    ClassRangeFigure,
    DensityMapFigure,
    DomainFigure,
    FluxFigure,
    ReleaseTimeFigure,
)

__all__ = [
    "make_folder",
    "write_class_csv",
    "write_csv",
    "write_domain_csv",
    "write_flux_csv",
    "write_map_csv",
    "write_release_csv",
]


def make_folder(out_dir) -> Path:
    """The output folder ``out_dir`` as a Path, created (with its parents) if missing."""
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_csv(path: Path, header: Sequence[str], columns: dict[str, np.ndarray]) -> Path:
    """Rectangular CSV: ``# `` comment lines, one header row, ``%.10g`` numbers."""
    arrays = [np.asarray(v) for v in columns.values()]
    n = arrays[0].shape[0]
    if any(a.shape != (n,) for a in arrays):
        raise ValueError("CSV columns must be 1-d and of equal length")
    with path.open("w") as fh:
        for line in header:
            fh.write(f"# {line}\n")
        fh.write(",".join(columns) + "\n")
        for row in zip(*arrays, strict=True):
            fh.write(",".join(_fmt(v) for v in row) + "\n")
    return path


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (str, np.str_)):
        return str(v)
    return f"{float(v):.10g}"


def write_flux_csv(result: FluxFigure, path: Path, header: Sequence[str]) -> Path:
    """Figs 2, 3a, 3b: column ``t``, then ``<panel>[<parameter>=<value>].<quantity>.<source>``
    for every curve, quantity of :data:`.results.FLUX_KEYS` and source (engine, reference)."""
    return write_csv(path, header, result._frame()[0])


def write_release_csv(result: ReleaseTimeFigure, path: Path, title: str) -> Path:
    """Figs 4a, 6a: one row per closed-form point, engine marker (step rule) and engine
    marker (trapezoid rule), with ``tau_p`` for every percentage."""
    return write_csv(path, [f"{title}: gamma tau_p", result.notes,
                            "engine: Q(t) = step sum of the engine flux (exact energy "
                            "balance); engine_trapezoid: cumulative trapezoid rule"],
                     result._frame()[0])


def write_class_csv(result: ClassRangeFigure, path: Path) -> Path:
    """Figs 4b, 4c, 6b: one row per class (range, diagonal member, half-width, where the
    extremes are)."""
    return write_csv(path, [f"{result.measure} ({result.unit}) over the class "
                            f"{result.parameter} = const", result.notes], result._frame()[0])


def write_map_csv(result: DensityMapFigure, path: Path) -> Path:
    """Figs 5a-5c: one row per grid point; ``result.axis_names`` are the two coordinate
    columns."""
    return write_csv(path, [f"{result.measure} ({result.unit})", result.notes],
                     result._frame()[0])


def write_domain_csv(result: DomainFigure, path: Path) -> Path:
    """Fig. 7: one row per N_S and grid point; the diagonal extents in the header."""
    return write_csv(path, ["Fig. 7: physicality (eq D2) of eq 31", result.notes,
                            "diagonal_extent per N_S: " + ", ".join(
                                f"N_S={n:g}: {x:.12g}" for n, x in
                                zip(result.n_s, result.diagonal_extent, strict=True))],
                     result._frame()[0])
