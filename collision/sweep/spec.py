"""The sweep specification: reading, complete validation, the points, their ids and seeds.

A specification is a TOML file (or JSON, or the equivalent Python dict) with the sections

``[sweep]``
    ``model`` (required): one of :data:`collision.sweep.point.MODELS`; ``seed``: an
    integer >= 0 (default 0), the root of every point's seed.
``[model]``
    Fixed constructor arguments of the model (``system``, ``temperature``, ...).
``[initial]``
    ``state``: a constructor of :data:`collision.sweep.point.STATES`, and its arguments.
``[run]``
    Fixed run options: ``t_max``, ``dt`` (both required), ``save_every``, ``method`` and
    the engine's options (:mod:`collision.options`), and ``batches`` (trajectories).  An
    exact reference (``CascadeMasterEquation``, ``GaussianMasterEquation``) saves the
    times ``k dt <= t_max``, or takes ``times`` instead: the list of its saved times.
``[grid]``
    Dotted names (``"model.temperature"``) mapped to non-empty lists of values: the
    Cartesian product over them, the first name varying slowest.
``[[points]]``
    Optional explicit points, each a table of dotted names, appended after the grid.

A point is the fixed sections with its dotted values put in (a swept value replaces a
fixed one of the same name, which stays the default of points that do not set it).
Everything that can be checked before any work is (:func:`validate`): every problem
found is collected, identical messages are grouped, and one :class:`SweepSpecError`
lists them all.  The points are never listed in memory: :attr:`SweepSpec.points` makes
each one when asked (a grid of 1000^3 points costs nothing until it runs), their number
is counted arithmetically and a sweep of more than ``max_points`` (default
:data:`MAX_POINTS`, 10^6) points is refused.  A sweep of at most :data:`CHECK_EVERY`
(1000) points has every point checked; a larger one has each value of each swept
parameter checked once (in the point that sets it, the other swept parameters at their
first value: a cost of the sum of the grid's lengths, not their product), and each point
is checked again, completely, just before it runs (a point that fails is recorded as
failed, with the message, and never computed).

Ids and seeds
-------------
A point is identified by its *definition*: ``{"model": name, "model_params": ...,
"initial": ..., "run": ...}`` with the values as written (constructor defaults are not
filled in) and without the execution-only run options :data:`EXECUTION_KEYS`, which
never change a result.  Its canonical form is JSON with sorted keys, no spaces, integral
floats written as integers (``1.0`` and ``1`` are the same value), finite numbers only
and complex numbers as ``{"complex": [re, im]}`` (:func:`canonical_json`).  Then

* ``id = sha256(canonical).hexdigest()[:16]`` names the point's files;
* ``seed = SeedSequence([sweep_seed, w_0, ..., w_7]).generate_state(1, uint64)[0] >> 1``
  where ``w_k`` are the eight big-endian 32-bit words of the same sha256 digest
  (:func:`point_seed`).

Both are stable across Python processes and machines (no ``hash()``), depend on the
point's parameters and the sweep seed only, never on its position in the sweep, the
backend or the number of workers.  The seed has 63 bits, so it fits every table format.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .point import (
    EXECUTION_KEYS,
    MODELS,
    Definition,
    batches,
    check_definition,
    engine,
    model_arguments,
    state_arguments,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

#: Most points a sweep may have (the ``max_points`` of :func:`validate` and
#: :func:`collision.sweep.run`).
MAX_POINTS = 10**6
#: Sweeps of at most this many points have every point checked by :func:`validate`.
CHECK_EVERY = 1000
#: Sections of a specification.
SECTIONS = ("sweep", "model", "initial", "run", "grid", "points")
#: Sections a dotted name may point into.
SWEPT_SECTIONS = ("model", "initial", "run")
#: Keys of ``[sweep]``.
SWEEP_KEYS = ("model", "seed")
#: Run options the sweep sets itself.
RESERVED_RUN_KEYS = {"seed": "every point's seed is derived from [sweep] seed and the "
                             "point (collision.sweep.spec)",
                     "first_trajectory": "use [run] batches to split a point's trajectories",
                     "progress": "the sweep shows its own progress bar over points"}


class SweepSpecError(ValueError):
    """An invalid specification; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid sweep specification ({n} problem{'s' * (n != 1)}), "
                         f"nothing was run:\n{lines}")


@dataclass(frozen=True)
class Point:
    """One point of a sweep.

    Attributes
    ----------
    index : int
        Position in the sweep (grid first, then the explicit points).
    values : dict
        The swept values, by dotted name (``{"model.temperature": 0.5}``).
    definition : Definition
        Model, its arguments, the initial state and the run options of the point.
    id : str
        16 hex digits from the canonical definition (module docstring).
    seed : int
        The point's seed, from the sweep seed and the definition (63 bits).
    batches : int
        Trajectory batches the point is split into (1: one run).
    """

    index: int
    values: dict[str, Any]
    definition: Definition
    id: str
    seed: int
    batches: int = 1


@dataclass(frozen=True)
class SweepSpec:
    """A validated specification (:func:`validate`).

    Attributes
    ----------
    raw : dict
        The specification as given, with plain values.
    model : str
        The model class name.
    seed : int
        The sweep seed.
    swept : list of str
        The dotted names that vary, in order (grid names, then new names of the points).
    points : Points
        Every point, in order: a sequence (``len``, indexing, iteration) that makes each
        point when asked, never the whole list.
    """

    raw: dict[str, Any]
    model: str
    seed: int
    swept: list[str]
    points: Points = field(repr=False)

    def comparable(self) -> dict[str, Any]:
        """The specification without execution-only options: what a folder's
        specification must equal for a re-run to continue it."""
        return comparable(self.raw)

    @property
    def digest(self) -> str:
        """16 hex digits of the sha256 of :meth:`comparable` (canonical JSON): written
        into every point file of the sweep's folder, and checked when it is read."""
        return spec_digest(self.raw)


class Points(Sequence):
    """The points of a sweep, made one at a time: the grid (its Cartesian product, the
    first name varying slowest) then the explicit points.  ``len`` is computed, never
    counted; indexing decodes the index into one value per grid name."""

    def __init__(self, model: str, seed: int, fixed: dict, grid: dict[str, list],
                 explicit: list[dict], skip: frozenset = frozenset()):
        self._model, self._seed, self._fixed, self._skip = model, int(seed), fixed, skip
        self._grid = {k: list(v) for k, v in grid.items()}
        self._explicit = [dict(p) for p in explicit]
        self.n_grid = math.prod(len(v) for v in self._grid.values()) if self._grid else 0

    def __len__(self) -> int:
        return self.n_grid + len(self._explicit)

    def __repr__(self) -> str:
        return f"<{len(self)} points>"

    def values(self, index: int) -> dict[str, Any]:
        """The swept values of point ``index`` (0 <= index < len), without making it."""
        if index >= self.n_grid:
            return dict(self._explicit[index - self.n_grid])
        out = {}
        for name in reversed(list(self._grid)):
            index, j = divmod(index, len(self._grid[name]))
            out[name] = self._grid[name][j]
        return {name: out[name] for name in self._grid}

    def make(self, index: int, values: dict[str, Any]) -> Point:
        """The point of these values at position ``index``."""
        definition = _definition(self._model, self._fixed,
                                 {k: v for k, v in values.items() if k not in self._skip})
        return Point(index, values, definition, point_id(definition),
                     point_seed(self._seed, definition), batches(definition))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"point indices must be integers, got {type(index).__name__}")
        n = len(self)
        k = int(index) + n if index < 0 else int(index)
        if not 0 <= k < n:
            raise IndexError(f"point index {index} out of range (the sweep has {n} points)")
        return self.make(k, self.values(k))

    def __iter__(self) -> Iterator[Point]:
        names = list(self._grid)
        combos = itertools.product(*self._grid.values()) if names else ()
        for index, combo in enumerate(combos):
            yield self.make(index, dict(zip(names, combo, strict=True)))
        for k, values in enumerate(self._explicit):
            yield self.make(self.n_grid + k, dict(values))


# --- reading ---------------------------------------------------------------------------------

def read_spec(source) -> dict[str, Any]:
    """A specification as a dict: from a dict (deep-copied), a :class:`SweepSpec`, or the
    path of a ``.toml`` or ``.json`` file.

    Raises
    ------
    ValueError
        For a missing or unreadable file, a syntax error (with the file's name), or
        another type of ``source``.
    """
    if isinstance(source, SweepSpec):
        return copy.deepcopy(source.raw)
    if isinstance(source, dict):
        return copy.deepcopy(source)
    if not isinstance(source, (str, Path)):
        raise ValueError(f"spec must be a dict, a SweepSpec or the path of a .toml or .json "
                         f"file, got {type(source).__name__}")
    path = Path(source)
    if path.suffix not in (".toml", ".json"):
        raise ValueError(f"spec file {path} must end in .toml or .json")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is skipped
    except OSError as exc:
        raise ValueError(f"cannot read spec file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"spec file {path} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"spec file {path} is not valid {path.suffix[1:].upper()}: {exc}") \
            from None
    if not isinstance(data, dict):
        raise ValueError(f"spec file {path} must hold a table (object) of sections")
    return data


# --- canonical form, ids, seeds --------------------------------------------------------------

def canonical(value, where: str = "value", exact: bool = False):
    """``value`` in the canonical plain form used for ids and comparisons (module
    docstring); raises ``ValueError`` naming ``where`` for anything else.  With
    ``exact=True`` floats stay floats (the plain form written to files)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: keys must be strings, got {k!r}")
            out[k] = canonical(v, f"{where}.{k}", exact)
        return out
    if isinstance(value, (list, tuple)):
        return [canonical(v, f"{where}[{i}]", exact) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return canonical(value.tolist(), where, exact)
    if isinstance(value, np.generic):
        return canonical(value.item(), where, exact)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"{where} must be finite, got {value!r}")
        return int(x) if x.is_integer() and abs(x) < 2**53 and not exact else x
    if isinstance(value, numbers.Complex):
        return {"complex": [canonical(value.real, where, exact),
                            canonical(value.imag, where, exact)]}
    raise ValueError(f"{where} must be a number, string, bool, list or table, got "
                     f"{type(value).__name__}")


def plain(value):
    """``value`` as plain JSON values, numbers as given (what the folder records)."""
    return canonical(value, exact=True)


def canonical_json(value) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no spaces)."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)


def _digest(definition: Definition) -> bytes:
    return hashlib.sha256(canonical_json(definition.identity()).encode("ascii")).digest()


def spec_digest(raw: dict[str, Any]) -> str:
    """16 hex digits of the sha256 of the canonical JSON of :func:`comparable` ``(raw)``:
    the same for every specification a folder may continue."""
    return hashlib.sha256(canonical_json(comparable(raw)).encode("ascii")).hexdigest()[:16]


def point_id(definition: Definition) -> str:
    """The point's id: the first 16 hex digits of the sha256 of its canonical definition."""
    return _digest(definition).hex()[:16]


def point_seed(sweep_seed: int, definition: Definition) -> int:
    """The point's seed (63 bits) from the sweep seed and its definition (module docstring)."""
    words = np.frombuffer(_digest(definition), dtype=">u4").astype(np.uint64)
    ss = np.random.SeedSequence([int(sweep_seed), *(int(w) for w in words)])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def comparable(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` in canonical form without the execution-only run options."""
    out = canonical(raw, "spec")
    run = out.get("run")
    if isinstance(run, dict):
        out["run"] = {k: v for k, v in run.items() if k not in EXECUTION_KEYS}
    return out


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """What differs between two canonical specifications, one line per dotted key."""
    lines = []
    for key in sorted(set(old) | set(new), key=str):
        name = f"{prefix}{key}"
        if key not in new:
            lines.append(f"{name}: only in the folder's sweep (= {_short(old[key])})")
        elif key not in old:
            lines.append(f"{name}: not in the folder's sweep (here = {_short(new[key])})")
        elif isinstance(old[key], dict) and isinstance(new[key], dict):
            lines += differences(old[key], new[key], f"{name}.")
        elif old[key] != new[key]:
            lines.append(f"{name}: the folder's sweep has {_short(old[key])}, this one "
                         f"{_short(new[key])}")
    return lines


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


# --- validation ------------------------------------------------------------------------------

def validate(source, max_points: int | None = MAX_POINTS) -> SweepSpec:
    """Read and check a specification, before any work (module docstring).

    Parameters
    ----------
    source : dict, SweepSpec, str or Path
        The specification (module docstring), or a ``.toml`` / ``.json`` file (a
        :class:`SweepSpec` is checked against ``max_points`` and returned as it is).
    max_points : int or None
        Refuse a sweep of more points (default :data:`MAX_POINTS`, 10^6); None: no limit.

    Returns
    -------
    SweepSpec
        Its points, with their ids and seeds, are made when asked.

    Raises
    ------
    SweepSpecError
        Listing every problem: unknown sections, sections or parameters; empty or
        non-list grids; more than ``max_points`` points; values a model, an initial
        state or an engine would reject (grouped by message; every point of a sweep of
        at most :data:`CHECK_EVERY` points, else each value of each swept parameter);
        options that do not apply to the engine; duplicate points.
    ValueError
        If the file cannot be read, or ``max_points`` is not an integer >= 1 or None.
    """
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(
            max_points, numbers.Integral) or max_points < 1):
        raise ValueError(f"max_points must be an integer >= 1 or None (no limit), got "
                         f"{max_points!r}")
    if isinstance(source, SweepSpec):
        if max_points is not None and len(source.points) > max_points:
            raise SweepSpecError([_too_many(len(source.points), max_points)])
        return source
    raw = read_spec(source)
    problems, parsed = _parse(raw)
    if parsed is None:
        raise SweepSpecError(problems)
    model, seed, swept, fixed, grid, explicit, bad = parsed
    points = Points(model, seed, fixed, grid, explicit, bad)
    if max_points is not None and len(points) > max_points:  # the points unchecked
        problems.append(_too_many(len(points), max_points, grid, len(explicit)))
        raise SweepSpecError(problems)
    if not bad:
        problems += _duplicates(points, grid, explicit)
    problems += _check_points(points, grid, fixed)
    if problems:
        raise SweepSpecError(problems)
    return SweepSpec(raw, model, int(seed), swept, points)


def _parse(raw: dict[str, Any]) -> tuple[list[str], tuple | None]:
    """The problems of a specification's structure and names, and (unless the model is
    unknown) ``(model, seed, swept, fixed, grid, explicit, bad)``."""
    problems: list[str] = []
    try:
        canonical(raw, "spec")
    except ValueError as exc:
        return [str(exc)], None

    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        problems.append(f"unknown section(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(SECTIONS)}")
    sections = {}
    for name in ("sweep", "model", "initial", "run", "grid"):
        value = raw.get(name, {})
        if not isinstance(value, dict):
            problems.append(f"[{name}] must be a table, got {type(value).__name__}")
            value = {}
        sections[name] = value
    explicit = raw.get("points", [])
    if not isinstance(explicit, list) or not all(isinstance(p, dict) for p in explicit):
        problems.append("points must be a list of tables ([[points]]) of dotted names")
        explicit = []

    sweep = sections["sweep"]
    model = sweep.get("model")
    seed = sweep.get("seed", 0)
    extra = sorted(set(sweep) - set(SWEEP_KEYS))
    if extra:
        problems.append(f"[sweep] has unknown key(s) {', '.join(extra)}; allowed: "
                        f"{', '.join(SWEEP_KEYS)}")
    if model not in MODELS:
        problems.append(f"[sweep] model must be one of {', '.join(MODELS)}, got {model!r}")
        model = None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        problems.append(f"[sweep] seed must be an integer >= 0, got {seed!r}")
        seed = 0

    grid = {k: v for k, v in sections["grid"].items()}
    for name, values in list(grid.items()):
        if not isinstance(values, list):
            problems.append(f"[grid] {name!r} must be a list of values, got "
                            f"{type(values).__name__}")
            del grid[name]
        elif not values:
            problems.append(f"[grid] {name!r} is empty: give at least one value")
            del grid[name]
    swept = list(sections["grid"])
    for p in explicit:
        swept += [k for k in p if k not in swept]
    if not swept and not explicit:
        problems.append("nothing to sweep: give a [grid] or [[points]]")
    bad = set()  # names left out of the points' checks (already reported)
    for name in swept:
        found = _check_dotted(name, sections, model)
        problems += found
        bad.update([name] if found else [])
    if model is None:
        return problems, None
    found, bad_fixed = _check_fixed_names(model, sections)
    problems += found
    fixed = {s: {k: v for k, v in sections[s].items() if (s, k) not in bad_fixed}
             for s in SWEPT_SECTIONS}

    return problems, (model, int(seed), swept, fixed, grid, explicit, frozenset(bad))


def points_of(raw: dict[str, Any]) -> Points:
    """The points of a specification a folder recorded, made without checking them
    (:func:`validate` did when the folder was written).

    Raises
    ------
    ValueError
        If the specification's structure is not one :func:`validate` accepts.
    """
    problems, parsed = _parse(raw)
    if parsed is None:
        raise SweepSpecError(problems)
    model, seed, _, fixed, grid, explicit, bad = parsed
    return Points(model, seed, fixed, grid, explicit, bad)


def _too_many(n: int, limit: int, grid: dict | None = None, n_explicit: int = 0) -> str:
    shape = ""
    if grid:
        shape = " (" + " x ".join(str(len(v)) for v in grid.values()) + " grid" \
                + (f" + {n_explicit} points" if n_explicit else "") + ")"
    return (f"the sweep has {n:,} points{shape}, more than max_points = {limit:,}: split it "
            "into several sweeps, or raise max_points (collision.sweep.run(..., "
            "max_points=N), collision sweep --max-points N)")


def _duplicates(points: Points, grid: dict[str, list], explicit: list[dict]) -> list[str]:
    """Points that are the same point, found without listing the grid: two grid points
    differ in some grid name's value, so they are the same only if a grid list repeats
    a value; an explicit point is compared with the grid point of its values."""
    problems = []
    stride = points.n_grid
    for name, values in grid.items():
        stride //= len(values)
        seen: dict[str, int] = {}
        for j, value in enumerate(values):
            key = canonical_json(value)
            if key in seen:
                a, b = seen[key] * stride, j * stride
                problems.append(f"points {a} and {b} are the same point ([grid] {name} "
                                f"lists {values[seen[key]]!r} and {value!r}, the same value)")
            else:
                seen[key] = j
    keys = {name: {canonical_json(v): j for j, v in enumerate(values)}
            for name, values in grid.items()}
    first_of: dict[str, int] = {}
    for k, values in enumerate(explicit):
        index = points.n_grid + k
        point = points.make(index, values)
        if point.id in first_of:
            problems.append(f"points {first_of[point.id]} and {index} are the same point "
                            f"({_values_text(values)})")
            continue
        first_of[point.id] = index
        at = _grid_index(point.definition, keys, points)
        if at is not None:
            problems.append(f"points {at} and {index} are the same point "
                            f"({_values_text(values)})")
    return problems


def _grid_index(definition: Definition, keys: dict[str, dict[str, int]],
                points: Points) -> int | None:
    """The index of the grid point with this definition, or None."""
    if not keys:
        return None
    parts = {"model": definition.model_params, "initial": definition.initial,
             "run": definition.run}
    index = 0
    for name, positions in keys.items():
        section, key = name.split(".", 1)
        if key not in parts[section]:
            return None
        j = positions.get(canonical_json(parts[section][key]))
        if j is None:
            return None
        index = index * len(positions) + j
    twin = points[index]
    same = canonical_json(twin.definition.identity()) == canonical_json(definition.identity())
    return index if same else None


def _check_points(points: Points, grid: dict[str, list], fixed: dict) -> list[str]:
    """Problems of the points: every point of a sweep of at most :data:`CHECK_EVERY`
    points, else each value of each grid name once (the other names at their first
    value) and every explicit point (module docstring)."""
    n = len(points)
    if n <= CHECK_EVERY:
        indices: Iterable[int] = range(n)
    else:
        chosen, stride = {0}, points.n_grid
        for values in grid.values():
            stride //= len(values)
            chosen.update(j * stride for j in range(len(values)))
        indices = sorted(chosen) + list(range(points.n_grid, n))
    by_message: dict[str, list[dict]] = {}
    engines = set()
    checked = 0
    for index in indices:
        values = points.values(index)
        definition = _definition(points._model, points._fixed,
                                 {k: v for k, v in values.items() if k not in points._skip})
        for message in check_definition(definition):
            by_message.setdefault(message, []).append(values)
        engines.add(engine(definition))
        checked += 1
    problems = [_grouped(message, where, checked, n) for message, where in by_message.items()]
    asked = [k for k in EXECUTION_KEYS if k in fixed["run"]]
    if not problems and asked and "trajectories" not in engines:
        problems.append(f"run option(s) {', '.join(asked)} apply to trajectory points, but no "
                        "point uses method = 'trajectories'")
    return problems


def _definition(model: str, sections: dict, values: dict) -> Definition:
    parts = {s: dict(sections[s]) for s in SWEPT_SECTIONS}
    for name, value in values.items():
        section, key = name.split(".", 1)
        parts[section][key] = value
    return Definition(model, parts["model"], parts["initial"], parts["run"])


def _check_dotted(name: str, sections: dict, model: str | None) -> list[str]:
    section, _, key = name.partition(".")
    if section not in SWEPT_SECTIONS or not key:
        return [f"swept name {name!r} must be 'model.NAME', 'initial.NAME' or 'run.NAME'"]
    if section == "run" and key in EXECUTION_KEYS:
        return [f"{name} cannot be swept: it does not change results (it is an execution "
                "option; set it in [run])"]
    if section == "run" and key in RESERVED_RUN_KEYS:
        return [f"{name} cannot be set: {RESERVED_RUN_KEYS[key]}"]
    if model is None:
        return []
    if section == "model" and key not in model_arguments(model):
        return [f"{name}: {model} has no parameter {key!r}; allowed: "
                f"{', '.join(model_arguments(model))}"]
    return []


def _check_fixed_names(model: str, sections: dict) -> tuple[list[str], set]:
    """Problems of the fixed sections' names, and the ``(section, key)`` pairs at fault."""
    problems, bad = [], set()
    allowed = model_arguments(model)
    unknown = [k for k in sections["model"] if k not in allowed]
    if unknown:
        problems.append(f"[model] {model} has no parameter(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(allowed)}")
        bad.update(("model", k) for k in unknown)
    initial = sections["initial"]
    state = initial.get("state")
    names = state_arguments(state) if isinstance(state, str) else None
    if names is not None:
        unknown = [k for k in initial if k != "state" and k not in names]
        if unknown:
            problems.append(f"[initial] state {state!r} takes no argument(s) "
                            f"{', '.join(unknown)}; allowed: {', '.join(names)}")
            bad.update(("initial", k) for k in unknown)
    for key, why in RESERVED_RUN_KEYS.items():
        if key in sections["run"]:
            problems.append(f"[run] {key} cannot be set: {why}")
            bad.add(("run", key))
    return problems, bad


def _values_text(values: dict) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in values.items()) or "the fixed parameters"


def _grouped(message: str, where: list[dict], n_checked: int, n_points: int) -> str:
    shown = "; ".join(_values_text(v) for v in where[:3])
    more = f" and {len(where) - 3} more" if len(where) > 3 else ""
    if n_checked < n_points:  # one point per value of each grid name
        label = "point" if len(where) == 1 else f"{len(where)} points"
        return (f"{label} of the {n_checked} checked (each value of each swept parameter "
                f"once, of {n_points:,} points) ({shown}{more}): {message}")
    if len(where) == n_points and n_points > 1:
        return f"all {n_points} points: {message}"
    label = "point" if len(where) == 1 else f"{len(where)} points"
    return f"{label} ({shown}{more}): {message}"
