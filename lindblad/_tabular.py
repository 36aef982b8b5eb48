"""Results in a notebook: ``to_pandas()`` tables and ``_repr_html_`` summaries.

One convention for every result of :mod:`lindblad` and :mod:`collision`:

* ``to_pandas()`` returns a :class:`pandas.DataFrame` with one row per saved time and the
  time as the column ``t`` (not the index), with **the columns of the result's CSV file**
  where it has one (``pandas.read_csv(path, comment="#")`` of a saved result gives the
  same table): a complex number as two real columns ``<name>.real`` and ``<name>.imag``;
  standard errors as ``<name>_stderr`` columns (:class:`collision.Result` files, whose
  CSV names them ``stderr.<name>``, keep that spelling).  Study results without a time
  axis have one row per point of their scan (``dt``, ``n``, ...).  ``df.attrs`` holds the
  result's ``parameters`` (a copy) and ``partial``.
* ``_repr_html_()``: a small HTML table of the key numbers (what produced the result, the
  time grid, the final values with their error bars, the ``partial`` flag); every text
  is escaped.  ``__repr__``: the same in one or a few lines.

pandas is an optional dependency (extras ``test`` and ``sweep``): this module imports it
if it is installed, and :func:`data_frame` raises a clear :class:`ImportError` when not.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

try:
    import pandas as _pd
except ImportError:  # pragma: no cover - pandas is in the test extra
    _pd = None

#: The message of the ImportError raised by ``to_pandas()`` without pandas.
NO_PANDAS = "to_pandas needs pandas: pip install pandas"

#: Parameters shown first in a summary, in this order, where a result records them.
KEY_PARAMETERS = ("engine", "method", "trajectory_method", "system", "dims", "n_systems",
                  "streams", "gamma", "omega", "temperature", "cutoff", "bath", "cascade",
                  "delay", "dt", "t_max", "save_every", "n_trajectories", "seed")
#: The parameters a text repr shows (the HTML summary shows all of :data:`KEY_PARAMETERS`).
SHORT_PARAMETERS = ("engine", "method", "system", "dims", "n_systems", "temperature", "dt",
                    "n_trajectories", "seed")
#: At most this many characters of one value in a summary.
MAX_VALUE = 60
#: At most this many rows of final values in a text repr, and in an HTML table.
MAX_ROWS = 12
MAX_HTML_ROWS = 40


def data_frame(columns: Mapping[str, Any], parameters: Mapping[str, Any] | None = None,
               partial: bool = False):
    """A :class:`pandas.DataFrame` of equal-length 1-D ``columns`` (in their order), with
    ``attrs = {"parameters": copy of parameters, "partial": partial}``.

    Raises
    ------
    ImportError
        When pandas is not installed (:data:`NO_PANDAS`).
    """
    if _pd is None:
        raise ImportError(NO_PANDAS)
    frame = _pd.DataFrame({name: np.array(values, copy=True)
                           for name, values in columns.items()})
    frame.attrs["parameters"] = copy.deepcopy(dict(parameters or {}))
    frame.attrs["partial"] = bool(partial)
    return frame


def fmt(value: Any) -> str:
    """A value for a summary: numbers to 6 significant digits, arrays by shape, long texts
    cut to :data:`MAX_VALUE` characters."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        text = str(value)
    elif isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
    elif isinstance(value, (complex, np.complexfloating)):
        text = f"{complex(value):.6g}"
    elif isinstance(value, np.ndarray) and value.size > 8:
        text = f"array{value.shape}"
    elif isinstance(value, np.ndarray):
        text = "[" + ", ".join(fmt(v) for v in value.ravel()) + "]"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def with_error(value: Any, error: Any = None) -> str:
    """``"value ± error"`` (or ``value`` alone when ``error`` is None)."""
    return fmt(value) if error is None else f"{fmt(value)} ± {fmt(error)}"


def key_parameters(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The :data:`KEY_PARAMETERS` a result records, formatted, in that order (a mapping,
    e.g. the ancilla states of ``streams``, by its keys)."""
    out = []
    for k in KEY_PARAMETERS:
        value = parameters.get(k)
        if value is not None:
            out.append((k, fmt(list(value) if isinstance(value, Mapping) else value)))
    return out


def time_span(t: np.ndarray) -> str:
    """``"0 .. 5 (501 times)"``."""
    t = np.asarray(t)
    if t.size == 0:
        return "no times"
    return f"{fmt(t[0])} .. {fmt(t[-1])} ({t.size} times)"


def html_table(title: str, summary: Iterable[tuple[str, Any]],
               header: Iterable[str] = (), rows: Iterable[Iterable[Any]] = ()) -> str:
    """A small HTML block: a bold ``title``, a two-column table of ``summary`` pairs, then
    (when ``rows`` is not empty) a table with ``header`` and ``rows``.  Every text is
    escaped."""
    esc = html.escape
    out = [f"<div><strong>{esc(str(title))}</strong>", "<table>"]
    out += [f"<tr><th style=\"text-align:left\">{esc(str(k))}</th><td>{esc(str(v))}</td></tr>"
            for k, v in summary]
    out.append("</table>")
    rows = [list(r) for r in rows]
    if len(rows) > MAX_HTML_ROWS:
        rows = rows[:MAX_HTML_ROWS] + [[f"... {len(rows) - MAX_HTML_ROWS} more"]]
    if rows:
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in header) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                for row in rows]
        out.append("</table>")
    out.append("</div>")
    return "\n".join(out)


def text_summary(title: str, summary: Iterable[tuple[str, Any]],
                 rows: Iterable[tuple[str, Any]] = ()) -> str:
    """``title(key=value, ...)`` then one indented line per row ``name: value`` (at most
    :data:`MAX_ROWS`, then a count of the rest).  Of the :data:`KEY_PARAMETERS` only the
    :data:`SHORT_PARAMETERS` are shown."""
    summary = [(k, v) for k, v in summary
               if k not in KEY_PARAMETERS or k in SHORT_PARAMETERS]
    head = f"{title}(" + ", ".join(f"{k}={v}" for k, v in summary) + ")"
    rows = list(rows)
    lines = [f"  {name}: {value}" for name, value in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"  ... {len(rows) - MAX_ROWS} more")
    return "\n".join([head] + lines)


def concat_frames(parts: Mapping[Any, Any], key: str | tuple[str, ...] = "part",
                  parameters: Mapping[str, Any] | None = None):
    """One tidy frame of several: the frames of ``parts`` stacked (their columns united,
    NaN where a part has none), with first column(s) ``key`` naming each row's part (a
    tuple of column names for tuple keys of ``parts``)."""
    if _pd is None:
        raise ImportError(NO_PANDAS)
    keys = (key,) if isinstance(key, str) else tuple(key)
    frames = []
    for name, frame in parts.items():
        frame = frame.copy()
        names = (name,) if len(keys) == 1 else tuple(name)
        for i, (column, value) in enumerate(zip(keys, names, strict=True)):
            frame.insert(i, column, value)
        frames.append(frame)
    out = _pd.concat(frames, ignore_index=True) if frames else \
        _pd.DataFrame({k: [] for k in keys})
    out.attrs = {"parameters": copy.deepcopy(dict(parameters or {})), "partial": False}
    return out


def text_grid(title: str, summary: Iterable[tuple[str, Any]], header: Iterable[str] = (),
              rows: Iterable[Iterable[Any]] = ()) -> str:
    """``title(key=value, ...)`` then a fixed-width table of at most :data:`MAX_ROWS`
    rows."""
    head = f"{title}(" + ", ".join(f"{k}={v}" for k, v in summary) + ")"
    header = [str(h) for h in header]
    rows = [[str(c) for c in r] for r in rows]
    if not rows:
        return head
    shown = rows[:MAX_ROWS]
    widths = [max(len(h), *(len(r[i]) for r in shown if i < len(r)))
              for i, h in enumerate(header)]
    lines = [head, "  " + "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=False))
              for r in shown]
    if len(rows) > MAX_ROWS:
        lines.append(f"  ... {len(rows) - MAX_ROWS} more rows")
    return "\n".join(lines)


class Tabular:
    """Mixin of the results whose numbers are one table (the studies).

    A subclass defines :meth:`_frame` (the columns and the scalar settings of the result)
    and may define :meth:`_display` (what the reprs show, by default the whole table);
    a dataclass subclass needs ``repr=False`` to keep this ``__repr__``.
    """

    def _frame(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(columns, parameters)``: equal-length 1-D columns, in order, and the
        result's scalar settings (``df.attrs["parameters"]``)."""
        raise NotImplementedError

    def _display(self) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
        """``(summary pairs, header, rows)`` of the reprs."""
        columns, parameters = self._frame()
        pairs = [(k, fmt(v)) for k, v in parameters.items()]
        values = [np.asarray(v).ravel() for v in columns.values()]
        n = values[0].size if values else 0
        return pairs, list(columns), [[fmt(v[i]) for v in values] for i in range(n)]

    def to_pandas(self):
        """The result as a :class:`pandas.DataFrame` (one row per point of the study;
        ``attrs["parameters"]`` its settings and fitted numbers).

        Raises
        ------
        ImportError
            When pandas is not installed.
        """
        columns, parameters = self._frame()
        return data_frame(columns, parameters)

    def _repr_html_(self) -> str:
        pairs, header, rows = self._display()
        return html_table(type(self).__name__, pairs, header, rows)

    def __repr__(self) -> str:
        pairs, header, rows = self._display()
        return text_grid(type(self).__name__, pairs, header, rows)


class TimeTable:
    """Mixin of the results saved at times ``t`` with a CSV file (``HeatFluxes``,
    ``HeatStatistics``, ``collision.Result``): :meth:`to_pandas` from the file's columns
    and the reprs from the final values.

    A subclass has ``t``, ``stderr``, ``parameters`` and ``partial``, and defines
    ``_csv_columns()`` (the CSV file's columns, in order) and ``_summary()`` (summary
    pairs and ``[name, value, error]`` rows); a dataclass subclass needs ``repr=False``
    to keep this ``__repr__``.  ``_value_header`` names the rows' first column.
    """

    _value_header = "final value"

    def to_pandas(self):
        """The result as a :class:`pandas.DataFrame` with exactly the columns and numbers
        of its CSV file (the class's ``save``; ``t`` a column), ``attrs["parameters"]``
        and ``attrs["partial"]``.

        Raises
        ------
        ImportError
            When pandas is not installed.
        """
        return data_frame(self._csv_columns(), self.parameters, self.partial)

    def _repr_html_(self) -> str:
        pairs, rows = self._summary()
        error = "stderr" if self.stderr is not None else "|dt error|"
        return html_table(type(self).__name__, pairs,
                          [self._value_header,
                           f"at t = {fmt(self.t[-1])}" if self.t.size else "",
                           error if any(r[2] for r in rows) else ""], rows)

    def __repr__(self) -> str:
        pairs, rows = self._summary()
        return text_summary(type(self).__name__, pairs,
                            [(r[0], with_error(r[1], r[2] or None)) for r in rows])
