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
Everything is checked before any work starts (:func:`validate`): every problem of every
point is collected, identical messages are grouped, and one :class:`SweepSpecError`
lists them all.

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
    points : list of Point
    """

    raw: dict[str, Any]
    model: str
    seed: int
    swept: list[str]
    points: list[Point] = field(repr=False)

    def comparable(self) -> dict[str, Any]:
        """The specification without execution-only options: what a folder's
        specification must equal for a re-run to continue it."""
        return comparable(self.raw)


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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read spec file {path}: {exc.strerror or exc}") from None
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

def validate(source) -> SweepSpec:
    """Read and check a specification completely, before any work.

    Parameters
    ----------
    source : dict, SweepSpec, str or Path
        The specification (module docstring), or a ``.toml`` / ``.json`` file (a
        :class:`SweepSpec` is returned as it is).

    Returns
    -------
    SweepSpec
        With every point, its id and its seed.

    Raises
    ------
    SweepSpecError
        Listing every problem: unknown sections, sections or parameters; empty or
        non-list grids; values a model, an initial state or
        an engine would reject (per point, grouped by message); options that do not apply
        to the engine; duplicate points.
    ValueError
        If the file cannot be read.
    """
    if isinstance(source, SweepSpec):
        return source
    raw = read_spec(source)
    problems: list[str] = []
    try:
        canonical(raw, "spec")
    except ValueError as exc:
        raise SweepSpecError([str(exc)]) from None

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
        raise SweepSpecError(problems)
    found, bad_fixed = _check_fixed_names(model, sections)
    problems += found
    fixed = {s: {k: v for k, v in sections[s].items() if (s, k) not in bad_fixed}
             for s in SWEPT_SECTIONS}

    combos = [dict(zip(grid, c, strict=True)) for c in itertools.product(*grid.values())] \
        if grid else []
    combos += [dict(p) for p in explicit]
    points, by_message = [], {}
    first_of: dict[str, int] = {}
    for index, values in enumerate(combos):
        definition = _definition(model, fixed, {k: v for k, v in values.items()
                                                if k not in bad})
        for message in check_definition(definition):
            by_message.setdefault(message, []).append(values)
        pid = point_id(definition)
        if pid in first_of and not bad:
            problems.append(f"points {first_of[pid]} and {index} are the same point "
                            f"({_values_text(values)})")
        if pid in first_of:
            continue
        first_of[pid] = index
        points.append(Point(index, values, definition, pid, point_seed(seed, definition),
                            batches(definition)))
    for message, where in by_message.items():
        problems.append(_grouped(message, where, len(combos)))
    asked = [k for k in EXECUTION_KEYS if k in fixed["run"]]
    if not problems and asked and all(engine(p.definition) != "trajectories" for p in points):
        problems.append(f"run option(s) {', '.join(asked)} apply to trajectory points, but no "
                        "point uses method = 'trajectories'")
    if problems:
        raise SweepSpecError(problems)
    return SweepSpec(raw, model, int(seed), swept, points)


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


def _grouped(message: str, where: list[dict], n_points: int) -> str:
    if len(where) == n_points and n_points > 1:
        return f"all {n_points} points: {message}"
    shown = "; ".join(_values_text(v) for v in where[:3])
    more = f" and {len(where) - 3} more" if len(where) > 3 else ""
    label = "point" if len(where) == 1 else f"{len(where)} points"
    return f"{label} ({shown}{more}): {message}"
