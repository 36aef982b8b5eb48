"""The result of a general collision-model run: expectation values and heat per stream.

:class:`Result` is what :meth:`collision.CollisionModel.run` returns, whatever the engine:
``t``; ``expect`` (name -> array over ``t``); ``heat`` (stream -> the energy that stream's
ancillas carry away per unit time over the step that starts at each saved time);
``final_state``; ``parameters``; and, for Monte Carlo runs, ``stderr`` (standard errors
with the same keys) and the mergeable ``statistics``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lindblad._files import (
    check_final_state,
    check_numbers,
    check_times,
    not_ours,
    npz_partial,
    read_csv_table,
    read_npz_arrays,
    warn_unverified,
    write_csv_table,
    write_npz,
)
from lindblad._tabular import (
    TimeTable,
    fmt,
    key_parameters,
    time_span,
)
from lindblad.fluxes import SUFFIXES, _plain

from .thermo_files import META as THERMO_META
from .thermo_files import ledger_columns, ledger_from_columns, ledger_meta


@dataclass
class ResultErrors:
    """Standard errors of a Monte Carlo :class:`Result` (same keys and shapes).

    For a non-Hermitian operator the error of the real and of the imaginary part are the
    real and imaginary parts of ``expect[name]``.
    """

    expect: dict[str, np.ndarray]
    heat: dict[str, np.ndarray]


@dataclass(repr=False)
class Result(TimeTable):
    """Expectation values and heat flows of a collision-model run.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Saved times.
    expect : dict of str to ndarray, shape (n_t,)
        ``Tr[O rho(t)]`` for every operator of ``e_ops`` (real for Hermitian operators,
        complex otherwise).  A list ``e_ops`` is stored under the keys ``"0", "1", ...``;
        :attr:`expect_list` gives them back in order.
    heat : dict of str to ndarray, shape (n_t,)
        For every stream with a Hamiltonian: ``(Tr[H_A rho_A'] - Tr[H_A eta]) / dt``, the
        energy its ancilla carries away per unit time over the step that starts at ``t``
        (``rho_A'`` the outgoing ancilla's state).  Positive: energy into the reservoir.
    final_state : ndarray, shape (D, D), or None
        The state at ``t[-1]`` (trajectories: the average of ``|psi><psi|``).
    parameters : dict
        What produced the result: the model, the run's arguments and options.
    stderr : ResultErrors or None
        Standard errors (Monte Carlo only).
    partial : bool
        True when the run was interrupted (Ctrl-C) and covers the finished part.
    statistics : object or None
        Monte Carlo: the mergeable statistics (:mod:`collision.statistics`).
    thermodynamics : collision.thermo.Ledger or None
        The thermodynamic ledger (``run(..., thermodynamics=True)``): energy, work,
        entropy production, cumulative sums; written by :meth:`save`
        (:mod:`collision.thermo_files`).
    """

    t: np.ndarray
    expect: dict[str, np.ndarray]
    heat: dict[str, np.ndarray]
    final_state: np.ndarray | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    stderr: ResultErrors | None = None
    partial: bool = False
    statistics: Any = field(default=None, repr=False, compare=False)
    thermodynamics: Any = field(default=None, repr=False, compare=False)

    __hash__ = None  # a mutable container of arrays

    def __eq__(self, other) -> bool:  # arrays make == ambiguous; identity is what is meant
        return self is other

    @property
    def expect_list(self) -> list[np.ndarray]:
        """The expectation values in the order of a list ``e_ops``."""
        return [self.expect[k] for k in self.expect]

    # --- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the result to ``.csv`` (no ``final_state``) or ``.npz`` (everything).

        CSV, in the conventions of :class:`lindblad.fluxes.HeatFluxes`: one row of column
        names, ``# parameters: {...}`` (JSON), ``# partial`` when interrupted, then one row
        per time with exact ``repr`` floats.  Columns: ``t``; ``expect[NAME]`` (a complex
        expectation value as ``expect[NAME].real`` and ``expect[NAME].imag``);
        ``heat[STREAM]``; for Monte Carlo the same with a ``stderr.`` prefix.  ``.npz``:
        ``t``, ``expect``, ``heat`` (stacked in the order of the names in ``parameters``),
        their standard errors, ``final_state``, ``parameters`` (JSON), ``partial``.
        The thermodynamic ledger, if any, goes with them under the same checksum (CSV
        columns ``thermo.NAME``, ``.npz`` array ``thermo``; :mod:`collision.thermo_files`).
        Missing parent folders are created.
        """
        path = Path(path)
        if path.suffix not in SUFFIXES:
            raise ValueError(f"save() writes .csv or .npz files, got {path.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        thermo = ledger_columns(self.thermodynamics) if self.thermodynamics is not None \
            else None
        extra = {THERMO_META: ledger_meta(self.thermodynamics, thermo)} if thermo else {}
        params = json.dumps(_plain({**self.parameters, "saved_expect": list(self.expect),
                                    "saved_heat": list(self.heat),
                                    "saved_complex": [k for k, v in self.expect.items()
                                                      if np.iscomplexobj(v)], **extra}),
                            sort_keys=True)
        if path.suffix == ".csv":
            cols = self._csv_columns()
            if thermo:
                cols.update({f"thermo.{k}": v for k, v in thermo.items()})
            return write_csv_table(path, cols, params, self.partial)
        n_t = self.t.size
        arrays = {"t": self.t, "parameters": np.array(params), "partial": np.array(self.partial),
                  "expect": _stack(self.expect.values(), n_t),
                  "heat": _stack(self.heat.values(), n_t)}
        if self.stderr is not None:
            arrays["stderr_expect"] = _stack(self.stderr.expect.values(), n_t)
            arrays["stderr_heat"] = _stack(self.stderr.heat.values(), n_t)
        if self.final_state is not None:
            arrays["final_state"] = np.asarray(self.final_state)
        if thermo:
            arrays["thermo"] = np.array(list(thermo.values()), dtype=float)
        return write_npz(path, arrays)

    def _csv_columns(self) -> dict[str, np.ndarray]:
        cols = {"t": self.t}
        sources = [("", self.expect, self.heat)]
        if self.stderr is not None:
            sources.append(("stderr.", self.stderr.expect, self.stderr.heat))
        for prefix, expect, heat in sources:
            for name, values in expect.items():
                if np.iscomplexobj(values):
                    cols[f"{prefix}expect[{name}].real"] = values.real
                    cols[f"{prefix}expect[{name}].imag"] = values.imag
                else:
                    cols[f"{prefix}expect[{name}]"] = values
            cols.update({f"{prefix}heat[{r}]": v for r, v in heat.items()})
        return cols

    @classmethod
    def load(cls, path: str | Path) -> Result:
        """Read a result written by :meth:`save` (the same numbers bit for bit).

        Raises
        ------
        ValueError
            Naming the file, if it is not a result written by :meth:`save`: another suffix,
            a damaged file, columns or arrays missing or of the wrong shape, times that are
            not finite and increasing, non-finite values.
        """
        path = Path(path)
        if path.suffix == ".csv":
            _, column, parameters, partial, verified = read_csv_table(path, "Result")
            out = cls._from_columns(path, column, parameters, partial)
        elif path.suffix == ".npz":
            arrays, verified = read_npz_arrays(path, "Result", ("t", "parameters", "partial",
                                                                "expect", "heat"))
            out = cls._from_arrays(path, arrays)
        else:
            raise ValueError(f"load() reads .csv or .npz files written by save(), got "
                             f"{path.name!r}")
        _check_loaded(path, out)
        if not verified:
            warn_unverified(path)
        return out

    @classmethod
    def _from_columns(cls, path: Path, column: dict, parameters: dict, partial: bool):
        error = not_ours(path, "Result")
        names, streams, complex_names = _saved_names(path, parameters)

        def get(name: str) -> np.ndarray:
            if name not in column:
                raise error(f"missing column {name}")
            return column[name]

        def read(prefix: str):
            expect = {k: (get(f"{prefix}expect[{k}].real") + 1j * get(f"{prefix}expect[{k}].imag")
                          if k in complex_names else get(f"{prefix}expect[{k}]"))
                      for k in names}
            return expect, {r: get(f"{prefix}heat[{r}]") for r in streams}

        expect, heat = read("")
        stderr = ResultErrors(*read("stderr.")) if any(k.startswith("stderr.")
                                                      for k in column) else None
        out = cls(get("t"), expect, heat, None, _public(parameters), stderr, partial)
        if THERMO_META in parameters:
            meta = parameters[THERMO_META]
            names = meta.get("columns") if isinstance(meta, dict) else None
            thermo = {k[len("thermo."):]: v for k, v in column.items()
                      if k.startswith("thermo.")}
            if isinstance(names, list) and set(thermo) - set(names):
                raise error(f"column thermo.{sorted(set(thermo) - set(names))[0]} is not "
                            "listed in its parameters")
            out.thermodynamics = _ledger(path, thermo, meta, out)
        return out

    @classmethod
    def _from_arrays(cls, path: Path, arrays: dict):
        from_json = json.loads(str(arrays["parameters"]))
        names, streams, complex_names = _saved_names(path, from_json)

        def unstack(block: np.ndarray, keys: list[str], what: str) -> dict:
            if block.ndim != 2 or block.shape[0] != len(keys):
                raise ValueError(f"{path} is not a Result .npz file: {what} has shape "
                                 f"{block.shape}, not ({len(keys)}, n_t)")
            return {k: (row if k in complex_names or what == "heat" else row.real).copy()
                    for k, row in zip(keys, block, strict=True)}

        stderr = None
        if "stderr_expect" in arrays:
            stderr = ResultErrors(unstack(arrays["stderr_expect"], names, "stderr_expect"),
                                  unstack(arrays["stderr_heat"], streams, "heat"))
        out = cls(arrays["t"], unstack(arrays["expect"], names, "expect"),
                  unstack(arrays["heat"], streams, "heat"), arrays.get("final_state"),
                  _public(from_json), stderr, npz_partial(arrays["partial"], path))
        if THERMO_META in from_json or "thermo" in arrays:
            meta = from_json.get(THERMO_META)
            block = arrays.get("thermo")
            names = meta.get("columns") if isinstance(meta, dict) else None
            if block is None or not isinstance(names, list) or block.dtype.kind != "f" \
                    or block.ndim != 2 or block.shape[0] != len(names):
                raise ValueError(f"{path} is not a Result .npz file: its thermodynamic "
                                 f"ledger ('thermo', shape {getattr(block, 'shape', None)}) "
                                 "does not match the columns listed in its parameters")
            out.thermodynamics = _ledger(path, dict(zip(names, block, strict=True)), meta,
                                         out)
        return out

    # --- notebooks -----------------------------------------------------------------------
    def _summary(self) -> tuple[list[tuple[str, str]], list[list[str]]]:
        """Summary pairs and the final values ``(name, value, stderr)`` of the reprs."""
        kind = "Monte Carlo" if self.stderr is not None else "exact"
        pairs = [("kind", kind), ("t", time_span(self.t))]
        pairs += key_parameters(self.parameters)
        if self.thermodynamics is not None:
            pairs.append(("thermodynamics", "Ledger (.thermodynamics)"))
        if self.partial:
            pairs.append(("partial", "True (interrupted)"))
        rows = []
        if self.t.size:
            for group in ("expect", "heat"):
                errors = None if self.stderr is None else getattr(self.stderr, group)
                for name, values in getattr(self, group).items():
                    err = None if errors is None or name not in errors else errors[name][-1]
                    rows.append([f"{group}[{name}]", fmt(values[-1]),
                                 "" if err is None else fmt(err)])
        return pairs, rows

def _stack(rows, n_t: int) -> np.ndarray:
    rows = list(rows)
    if not rows:
        return np.zeros((0, n_t))
    dtype = complex if any(np.iscomplexobj(r) for r in rows) else float
    return np.array(rows, dtype=dtype)


def _saved_names(path: Path, parameters: dict) -> tuple[list[str], list[str], set[str]]:
    try:
        return (list(parameters["saved_expect"]), list(parameters["saved_heat"]),
                set(parameters["saved_complex"]))
    except (KeyError, TypeError):
        raise ValueError(f"{path} is not a file written by Result.save: its parameters do "
                         "not list the saved expectation values and heats") from None


def _public(parameters: dict) -> dict:
    return {k: v for k, v in parameters.items()
            if k not in ("saved_expect", "saved_heat", "saved_complex", THERMO_META)}


def _ledger(path: Path, columns: dict, meta, result: Result):
    """The loaded result's ledger (checked,
    :func:`collision.thermo_files.ledger_from_columns`)."""
    if np.ndim(result.t) != 1:
        raise ValueError(f"{path}: t must be one-dimensional, got shape {np.shape(result.t)}")
    return ledger_from_columns(columns, meta, np.size(result.t), path, result.heat,
                               result.stderr.heat if result.stderr is not None else None)


def _check_loaded(path: Path, result: Result) -> None:
    """What every loaded result must satisfy: finite increasing times, every column of
    their length and finite (standard errors may be NaN: fewer than two trajectories),
    a final state of the model's dimension."""
    t = np.asarray(result.t)
    check_times(t, path)
    columns = {**{f"expect[{k}]": v for k, v in result.expect.items()},
               **{f"heat[{r}]": v for r, v in result.heat.items()}}
    errors = {}
    if result.stderr is not None:
        errors = {**{f"stderr.expect[{k}]": v for k, v in result.stderr.expect.items()},
                  **{f"stderr.heat[{r}]": v for r, v in result.stderr.heat.items()}}
    for name, values in {**columns, **errors}.items():
        if np.shape(values) != t.shape:
            raise ValueError(f"{path}: {name} has {np.size(values)} values for {t.size} times")
        values = np.asarray(values)
        for part in ((values.real, values.imag) if np.iscomplexobj(values) else (values,)):
            check_numbers(part, name, path, stderr=name in errors)
    rho = result.final_state
    if rho is not None:
        dim = int(np.prod(result.parameters.get("dims", [np.shape(rho)[0]])))
        if np.shape(rho) != (dim, dim):
            raise ValueError(f"{path}: final_state must be {dim} x {dim} (the model's "
                             f"dimension), got shape {np.shape(rho)}")
        check_final_state(rho, result.parameters, path)
