"""The thermodynamic ledger (:class:`collision.thermo.Ledger`) in a Result's files.

:meth:`collision.results.Result.save` writes the ledger with the rest of the result, so
the checksum of :mod:`lindblad._files` covers it: in a ``.csv`` as columns named
``thermo.<column>``, in a ``.npz`` as one ``(n_columns, n_t)`` float array ``thermo``.
The column names, in order, and the streams' ``beta`` are in the saved parameters
(``saved_thermodynamics``).  Columns: ``energy``, ``entropy``, ``work``,
``entropy_production``, ``entropy_production_clausius``, ``correlations``,
``work_total``, ``entropy_production_total``, ``in_flight_energy`` (those that are not
``None``),
``heat_total[STREAM]``, ``relative_entropy[STREAM]``, and for trajectories
``stderr.energy``, ``stderr.work``, ``stderr.work_total``, ``stderr.in_flight_energy``,
``stderr.heat_total[STREAM]``.
The ledger's ``heat`` (and its standard errors) is the Result's and is not written twice.

On load every column is checked (:func:`ledger_from_columns`): present, one value per
saved time, and of its kind -- energies and work finite; entropy productions and
relative entropies never NaN (``+inf`` is a zero-temperature stream's); ``correlations``
NaN or ``+inf`` allowed (where the split is unknown); standard errors finite and ``>= 0``
or NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lindblad._files import check_numbers, file_error

from .thermo import Ledger, LedgerErrors

#: Key of the ledger's description in the saved parameters.
META = "saved_thermodynamics"
#: Scalar (per-time) fields, in the order they are written.
FIELDS = ("energy", "entropy", "work", "entropy_production", "entropy_production_clausius",
          "correlations", "work_total", "entropy_production_total", "in_flight_energy")
#: Per-stream fields.
STREAM_FIELDS = ("heat_total", "relative_entropy")
#: Standard-error fields (trajectories).
ERROR_FIELDS = ("energy", "work", "work_total", "in_flight_energy")
#: Columns that may hold +inf (no NaN), and those that may hold NaN and +inf.
INFINITE = ("entropy_production", "entropy_production_clausius", "entropy_production_total",
            "relative_entropy")
UNKNOWN = ("correlations",)


def ledger_columns(ledger: Ledger) -> dict[str, np.ndarray]:
    """The ledger's columns by name (module docstring), real float arrays."""
    cols = {f: np.asarray(getattr(ledger, f), dtype=float) for f in FIELDS
            if getattr(ledger, f) is not None}
    for f in STREAM_FIELDS:
        for r, v in (getattr(ledger, f) or {}).items():
            cols[f"{f}[{r}]"] = np.asarray(v, dtype=float)
    if ledger.stderr is not None:
        for f in ERROR_FIELDS:
            if getattr(ledger.stderr, f) is not None:
                cols[f"stderr.{f}"] = np.asarray(getattr(ledger.stderr, f), dtype=float)
        for r, v in ledger.stderr.heat_total.items():
            cols[f"stderr.heat_total[{r}]"] = np.asarray(v, dtype=float)
    return cols


def ledger_meta(ledger: Ledger, columns: dict[str, np.ndarray]) -> dict:
    """``parameters["saved_thermodynamics"]``: the column names and the streams' beta."""
    return {"columns": list(columns), "beta": dict(ledger.beta)}


def _kind(name: str) -> str:
    base = name.removeprefix("stderr.").split("[")[0]
    if name.startswith("stderr."):
        return "stderr"
    return "unknown" if base in UNKNOWN else "infinite" if base in INFINITE else "finite"


def _check_column(name: str, values: np.ndarray, n_t: int, path: Path) -> None:
    label = f"thermodynamics {name}"
    if values.shape != (n_t,):
        raise file_error(path, f"'{label}' has {values.size} values for {n_t} times")
    kind = _kind(name)
    if kind == "stderr":
        check_numbers(values, label, path, stderr=True)
    elif kind == "finite":
        check_numbers(values, label, path)
    else:
        bad = np.isneginf(values) if kind == "unknown" else np.isnan(values) | np.isneginf(values)
        if np.any(bad):
            index = int(np.argmax(bad))
            allowed = "a number or +inf or NaN" if kind == "unknown" else "a number or +inf"
            raise file_error(path, f"'{label}' must be {allowed}, got {values[index]!r} at "
                                   f"index {index}")


def ledger_from_columns(columns: dict[str, np.ndarray], meta, n_t: int, path: Path,
                        heat: dict[str, np.ndarray],
                        heat_err: dict[str, np.ndarray] | None) -> Ledger:
    """The :class:`Ledger` from its saved columns, every column checked (module
    docstring); ``heat``, ``heat_err`` are the loaded Result's.

    Raises
    ------
    ValueError
        Naming ``path``, when the description ``meta`` is malformed, a column is missing
        or has the wrong length or a value not allowed for its kind.
    """
    if not isinstance(meta, dict) or not isinstance(meta.get("columns"), list) \
            or not isinstance(meta.get("beta"), dict) \
            or not all(isinstance(c, str) for c in meta["columns"]):
        raise file_error(path, f"the saved parameters' '{META}' must be an object with a "
                               "list of column names and the streams' beta")
    for r, b in meta["beta"].items():
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))
                              or not np.isfinite(b)):
            raise file_error(path, f"'{META}' beta of stream {r!r} must be a finite number "
                                   f"or null, got {b!r}")
    known = set(FIELDS) | {f"stderr.{f}" for f in ERROR_FIELDS}
    names = list(meta["columns"])
    if "energy" not in names:
        raise file_error(path, f"the saved parameters' '{META}' lists no 'energy' column")
    for name in names:
        if name not in columns:
            raise file_error(path, f"the thermodynamic ledger's column '{name}' is missing")
        base = name.removeprefix("stderr.")
        if name not in known and not (base.split("[")[0] in STREAM_FIELDS
                                      and base.endswith("]")):
            raise file_error(path, f"'{name}' is not a column of the thermodynamic ledger")
        _check_column(name, np.asarray(columns[name], dtype=float), n_t, path)

    def get(name: str):
        return np.array(columns[name], dtype=float) if name in names else None

    def streams(prefix: str) -> dict[str, np.ndarray]:
        return {n[len(prefix) + 1:-1]: np.array(columns[n], dtype=float) for n in names
                if n.startswith(prefix + "[")}

    relative = streams("relative_entropy")
    has_entropy = "entropy" in names
    stderr = None
    if "stderr.energy" in names:
        stderr = LedgerErrors(energy=get("stderr.energy"),
                              heat={r: v.copy() for r, v in (heat_err or {}).items()},
                              work=get("stderr.work"),
                              heat_total=streams("stderr.heat_total"),
                              work_total=get("stderr.work_total"),
                              in_flight_energy=get("stderr.in_flight_energy"))
    return Ledger(energy=get("energy"), entropy=get("entropy"), work=get("work"),
                  entropy_production=get("entropy_production"),
                  entropy_production_clausius=get("entropy_production_clausius"),
                  relative_entropy=relative if has_entropy else None,
                  correlations=get("correlations"),
                  beta={r: (None if b is None else float(b))
                        for r, b in meta["beta"].items()},
                  heat_total=streams("heat_total"), work_total=get("work_total"),
                  entropy_production_total=get("entropy_production_total"),
                  heat={r: v.copy() for r, v in heat.items()}, stderr=stderr,
                  in_flight_energy=get("in_flight_energy"))
