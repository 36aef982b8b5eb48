"""The tidy table of a sweep folder: one row per point and saved time."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .spec import plain, points_of
from .storage import DamagedFile, DamagedFileWarning, SweepFolder, _atomic

#: Table formats :func:`save_table` writes (by suffix).
TABLE_FORMATS = ("parquet", "csv")
#: Metadata columns of ``load(metadata=True)``.
METADATA = ("seed", "wall_time", "version", "options", "warnings")


def _cell(value):
    """A swept value as a table cell: numbers, strings and bools as they are; a complex
    number as its text (``"(0.3+0.1j)"``); lists and tables as canonical JSON."""
    if isinstance(value, dict) and set(value) == {"complex"}:
        return str(complex(*value["complex"]))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def load(out_dir, metadata: bool = False):
    """The results of a sweep folder as one pandas DataFrame.

    Parameters
    ----------
    out_dir : path-like
        A folder written by :func:`collision.sweep.run` (finished or not).
    metadata : bool
        Add each point's ``seed``, ``wall_time`` (seconds of computation, summed over
        its batches), package ``version``, engine ``options`` (JSON) and ``warnings``.

    Returns
    -------
    pandas.DataFrame
        One row per point and saved time, points in the order of the specification:
        ``point`` (its id), a column per swept parameter (dotted names; lists as JSON,
        complex numbers as text), ``status`` ("ok", "failed", "missing" or "damaged":
        a point or failure file that cannot be used, see :mod:`.storage`), then the
        columns of :meth:`lindblad.fluxes.HeatFluxes.save`'s CSV: ``t``, ``J1``, ``J2``,
        ``J12``, ``total`` (units hbar omega gamma), their ``*_stderr`` for Monte Carlo
        points, every subsystem's ``local_i`` and ``correlated_i`` (and their standard
        errors); then ``error``.  A failed, missing or damaged point has one row with
        ``t`` NaN (and its error message: for a damaged one, the file and what is wrong).

    Raises
    ------
    ValueError
        If ``out_dir`` is not a sweep folder.

    Warns
    -----
    DamagedFileWarning
        Naming every damaged file (a run of the sweep sets them aside and recomputes).
    """
    import pandas as pd

    folder, record = SweepFolder.existing(out_dir)
    swept = record["swept"]
    fixed = {s: record["spec"].get(s, {}) for s in ("model", "initial", "run")}
    blocks, flux_columns = [], []  # one (rows, {column: cell or array}) per point
    damaged = []
    for pid, values, seed in _points(record):
        cells = {"point": pid}
        for name in swept:
            section, key = name.split(".", 1)
            cells[name] = _cell(values.get(name, fixed[section].get(key)))
        path, failed = folder.point_path(pid), folder.failed_path(pid)
        meta, rows = {"seed": seed}, 1
        try:
            if path.exists():
                result = folder.read_point(pid)
                columns = result._csv_columns()  # the CSV layout of HeatFluxes.save
                flux_columns += [c for c in columns if c not in flux_columns]
                cells.update(status="ok", error="", **columns)
                meta = {**result.parameters.get("sweep", {}),
                        "options": result.parameters.get("options")}
                rows = result.t.size
            elif failed.exists():
                meta = folder.read_failure(pid)
                cells.update(status="failed", error=str(meta.get("error", "")))
            else:
                cells.update(status="missing", error="")
        except DamagedFile as exc:
            damaged.append(str(exc))
            meta = {"seed": seed}
            cells.update(status="damaged", error=f"damaged file: {exc}")
        if metadata:
            options = meta.get("options")
            cells.update(seed=meta.get("seed"), wall_time=meta.get("wall_time"),
                         version=meta.get("version"),
                         options=None if options is None else json.dumps(options,
                                                                         sort_keys=True),
                         warnings="\n".join(meta.get("warnings") or []))
        blocks.append((rows, cells))
    if damaged:
        shown = "\n  ".join(damaged[:10])
        more = f"\n  ... and {len(damaged) - 10} more" if len(damaged) > 10 else ""
        warnings.warn(f"{len(damaged)} damaged file(s) in {folder.root}, their points have "
                      f"status 'damaged' (a run of the same sweep sets them aside and "
                      f"computes the points again):\n  {shown}{more}", DamagedFileWarning,
                      stacklevel=2)
    order = ["point", *swept, "status", *(flux_columns or ["t"]), "error"]
    order += list(METADATA) if metadata else []
    data = {}
    for name in order:
        if name in flux_columns or name == "t":  # numbers: NaN where a point has none
            data[name] = np.concatenate([
                np.asarray(cells[name], dtype=float) if name in cells
                else np.full(rows, np.nan) for rows, cells in blocks]) if blocks else []
        else:
            data[name] = [cells.get(name) for rows, cells in blocks for _ in range(rows)]
    return pd.DataFrame(data, columns=order)


def _points(record: dict) -> Iterator[tuple[str, dict, int]]:
    """``(id, values, seed)`` of every point of a folder, in order: made from its
    specification (layout 2), or as ``sweep.json`` lists them (layout 1)."""
    if "points" in record:
        for point in record["points"]:
            yield point["id"], point["values"], point["seed"]
        return
    for point in points_of(record["spec"]):
        yield point.id, plain(point.values), point.seed


def save_table(table, path) -> Path:
    """Write a table as Parquet (``.parquet``, needs pyarrow) or CSV (``.csv``), atomically.

    Raises
    ------
    ValueError
        For another suffix, or Parquet without pyarrow.
    """
    path = Path(path)
    suffix = path.suffix.lstrip(".")
    if suffix not in TABLE_FORMATS:
        raise ValueError(f"a table is written as .parquet or .csv, got {path.name!r}")
    if suffix == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError("writing Parquet needs pyarrow (pip install "
                             "'cascade-collisions[sweep]'); or write .csv") from None

        def write(tmp):
            table.to_parquet(tmp, index=False)
    else:
        def write(tmp):
            table.to_csv(tmp, index=False)
    _atomic(path, write)
    return path
