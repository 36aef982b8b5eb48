"""A hostile audit of the package's inputs: every case is run in a worker process with a
time limit and classified.

    python tests/hostile_audit.py [--only GROUP] [--timeout SECONDS] [--list] [--json FILE]

Each case says what a careful user should get:

* ``error``: a ``ValueError`` (a ``SystemExit`` with exit code 2 for the command line) whose
  message is not empty;
* ``ok``: a result that its check accepts (for example a file that loads bit for bit);
* ``either``: one of the two (a file a text editor re-saved, or a flipped byte in a
  part of a ``.npz`` container that holds no data: it must then load unchanged).

and is classified as

* ``pass``: what the case expects;
* ``silent``: no error where one was expected, or a result the check rejects;
* ``refused``: a ``ValueError`` for an input that must work;
* ``crash``: any other exception (``TypeError``, ``MemoryError``, ``BadZipFile``, ...);
* ``hang``: the case did not finish within the time limit (the worker is killed).

The closing table counts the classes; the exit status is 1 when any case is not ``pass``.
Not collected by pytest (the file name does not start with ``test_``); the unit tests
cover each class of defect, this script counts how the whole package holds up.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import collision
import lindblad
from lindblad import states

# --- cases ------------------------------------------------------------------------------


@dataclass
class Case:
    group: str
    name: str
    expect: str  # "error" | "ok" | "either"
    run: Callable[[], Any]
    check: Callable[[Any], str | None] | None = None  # None: any result is fine


CASES: list[Case] = []


def case(group: str, name: str, expect: str, check=None):
    def register(fn):
        CASES.append(Case(group, name, expect, fn, check))
        return fn
    return register


def add(group: str, name: str, expect: str, fn, check=None) -> None:
    CASES.append(Case(group, name, expect, fn, check))


def finite_fluxes(res) -> str | None:
    arrays = [res.t, res.local, res.correlated]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return "non-finite numbers in the result"
    return None


# --- shared inputs ----------------------------------------------------------------------

QUBIT = collision.CascadeCollisionModel("qubit", temperature=1.0)
RHO_Q = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
T_MAX, DT = 0.5, 0.05


# --- 1. result files: truncated, edited, reordered, damaged -----------------------------

def _producers() -> dict[str, Callable[[], Any]]:
    me = lindblad.CascadeMasterEquation("qubit", temperature=1.0)
    osc = collision.CascadeCollisionModel("oscillator", cutoff=4, temperature=0.5)
    rho_o = states.product(states.thermal("oscillator", 0.3, 4), states.thermal("oscillator",
                                                                               0.3, 4))
    indep = collision.CascadeCollisionModel("qubit", temperature=1.0, cascade=False)
    delayed = collision.CascadeCollisionModel("qubit", temperature=1.0, delay=0.1)
    gm = collision.GaussianCollisionModel(temperature=0.5)
    return {
        "fluxes-density": lambda: QUBIT.run(RHO_Q, T_MAX, DT),
        "fluxes-trajectories": lambda: QUBIT.run(RHO_Q, T_MAX, DT, method="trajectories",
                                                 n_trajectories=128, seed=1),
        "fluxes-reference": lambda: me.heat_fluxes(RHO_Q, np.linspace(0, T_MAX, 11)),
        "fluxes-oscillators": lambda: osc.run(rho_o, T_MAX, DT),
        "fluxes-delayed": lambda: delayed.run(RHO_Q, T_MAX, DT),
        "fluxes-gaussian": lambda: gm.run(states.gaussian_thermal(1.0), T_MAX, DT),
        "statistics-density": lambda: QUBIT.heat_statistics(RHO_Q, T_MAX, DT),
        "statistics-trajectories": lambda: QUBIT.heat_statistics(
            RHO_Q, T_MAX, DT, method="trajectories", n_trajectories=256, seed=2),
        "statistics-independent": lambda: indep.heat_statistics(RHO_Q, T_MAX, DT),
    }


def _loader(kind: str):
    return collision.HeatStatistics.load if kind.startswith("statistics") else \
        collision.HeatFluxes.load


def _same(a, b) -> str | None:
    """None when two results hold the same numbers bit for bit."""
    for name in ("t", "local", "correlated", "quanta", "probabilities", "cumulants",
                 "joint", "final_state"):
        x, y = getattr(a, name, None), getattr(b, name, None)
        if x is None and y is None:
            continue
        if x is None or y is None:
            if name == "final_state":  # a CSV has none
                continue
            return f"{name} present in one result only"
        if not np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True):
            return f"{name} differs from the saved result"
    return None


def _csv_edits() -> dict[str, tuple[str, Callable[[list[str]], list[str]]]]:
    """name -> (expect, edit of the file's lines)."""

    def data(lines):  # indices of the data rows
        return [i for i, s in enumerate(lines) if s and not s.startswith("#")][1:]

    def cut_mid_number(lines):
        i = data(lines)[-1]
        return lines[:i] + [lines[i][: len(lines[i]) - 3]]

    def drop_rows(k):
        def edit(lines):
            rows = data(lines)
            return [s for i, s in enumerate(lines) if i not in rows[-k:]]
        return edit

    def reorder(lines):
        rows = data(lines)
        out = list(lines)
        for i, j in zip(rows, reversed(rows), strict=True):
            out[i] = lines[j]
        return out

    def swap_two(lines):
        rows = data(lines)
        out = list(lines)
        out[rows[1]], out[rows[2]] = lines[rows[2]], lines[rows[1]]
        return out

    def duplicate(lines):
        i = data(lines)[2]
        return lines[: i + 1] + [lines[i]] + lines[i + 1:]

    def set_cell(row: int, col: int, value: str):
        def edit(lines):
            i = data(lines)[row]
            cells = lines[i].split(",")
            cells[col] = value
            return lines[:i] + [",".join(cells)] + lines[i + 1:]
        return edit

    def edit_digit(lines):
        i = data(lines)[3]
        cells = lines[i].split(",")
        c = cells[1]
        k = next(n for n in range(len(c) - 1, -1, -1) if c[n].isdigit())
        cells[1] = c[:k] + str((int(c[k]) + 1) % 10) + c[k + 1:]
        return lines[:i] + [",".join(cells)] + lines[i + 1:]

    def header_only(lines):
        return [s for i, s in enumerate(lines) if i not in data(lines)]

    def drop_column(col: int):
        def edit(lines):
            out = []
            for s in lines:
                if s.startswith("#") or not s:
                    out.append(s)
                    continue
                cells = s.split(",")
                del cells[col]
                out.append(",".join(cells))
            return out
        return edit

    def rename_last_column(lines):
        i = next(i for i, s in enumerate(lines) if s and not s.startswith("#"))
        cells = lines[i].split(",")
        cells[-1] = cells[-1] + "x"
        return lines[:i] + [",".join(cells)] + lines[i + 1:]

    def semicolons(lines):
        return [s if s.startswith("#") else s.replace(",", ";") for s in lines]

    def no_comments(lines):
        return [s for s in lines if not s.startswith("#")]

    def edit_parameters(lines):
        out = []
        for s in lines:
            if s.startswith("# parameters"):
                s = s.replace('"dt": 0.05', '"dt": 0.025').replace('"gamma": 1.0',
                                                                  '"gamma": 2.0')
            out.append(s)
        return out

    def mark_partial(lines):
        i = next(i for i, s in enumerate(lines) if s.startswith("#"))
        return lines[: i + 1] + ["# partial: true"] + lines[i + 1:]

    def extra_column(lines):
        out = []
        first = True
        for s in lines:
            if s.startswith("#") or not s:
                out.append(s)
            else:
                out.append(s + (",extra" if first else ",1.0"))
                first = False
        return out

    def garbage_row(lines):
        return lines + ["hello,world"]

    def blank_tail(lines):
        return lines + ["", ""]

    return {
        "cut-mid-number": ("error", cut_mid_number),
        "drop-last-row": ("error", drop_rows(1)),
        "drop-last-3-rows": ("error", drop_rows(3)),
        "rows-reversed": ("error", reorder),
        "two-rows-swapped": ("error", swap_two),
        "row-duplicated": ("error", duplicate),
        "nan-value": ("error", set_cell(2, 1, "nan")),
        "inf-value": ("error", set_cell(2, 1, "inf")),
        "negative-time": ("error", set_cell(0, 0, "-0.05")),
        "nan-time": ("error", set_cell(1, 0, "nan")),
        "text-in-cell": ("error", set_cell(1, 1, "abc")),
        "one-digit-edited": ("error", edit_digit),
        "header-only": ("error", header_only),
        "empty-file": ("error", lambda lines: []),
        "last-column-dropped": ("error", drop_column(-1)),
        "second-column-dropped": ("error", drop_column(1)),
        "last-column-renamed": ("error", rename_last_column),
        "semicolon-separated": ("error", semicolons),
        "comment-lines-removed": ("either", no_comments),
        "parameters-edited": ("error", edit_parameters),
        "marked-partial": ("error", mark_partial),
        "extra-column": ("error", extra_column),
        "garbage-row": ("error", garbage_row),
        "blank-lines-appended": ("either", blank_tail),
    }


def _npz_edits() -> dict[str, tuple[str, Callable[[Path], None]]]:
    def rewrite(change):
        def edit(path: Path) -> None:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            change(arrays)
            with open(path, "wb") as fh:
                np.savez(fh, **arrays)
        return edit

    def flip(at: float):
        def edit(path: Path) -> None:
            data = bytearray(path.read_bytes())
            data[int(at * (len(data) - 1))] ^= 0x55
            path.write_bytes(bytes(data))
        return edit

    def first_data_key(arrays):
        for key in ("local", "probabilities"):
            if key in arrays:
                return key
        raise KeyError

    def nan(arrays):
        key = first_data_key(arrays)
        a = arrays[key].astype(float).copy()
        a.flat[a.size // 2] = np.nan
        arrays[key] = a

    def edit_value(arrays):
        key = first_data_key(arrays)
        a = arrays[key].copy()
        a.flat[a.size // 2] *= 1.001
        arrays[key] = a

    def reverse_t(arrays):
        arrays["t"] = arrays["t"][::-1].copy()

    def wrong_state(arrays):
        if "final_state" in arrays:
            arrays["final_state"] = np.eye(3) / 3
        else:
            arrays["t"] = arrays["t"][:-1]

    def flat_local(arrays):
        key = first_data_key(arrays)
        arrays[key] = arrays[key].reshape(-1)

    def partial_string(arrays):
        arrays["partial"] = np.array("False")

    def object_array(arrays):
        key = first_data_key(arrays)
        arrays[key] = np.array([object()] * 3, dtype=object)

    def drop_t(arrays):
        del arrays["t"]

    def bad_json(arrays):
        arrays["parameters"] = np.array("{not json")

    def truncate(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    return {
        "empty-file": ("error", lambda p: p.write_bytes(b"")),
        "truncated-half": ("error", truncate),
        "byte-flipped-early": ("either", flip(0.1)),
        "byte-flipped-middle": ("either", flip(0.5)),
        "byte-flipped-late": ("either", flip(0.97)),
        "not-a-zip": ("error", lambda p: p.write_text("t,J1\n0,1\n")),
        "nan-value": ("error", rewrite(nan)),
        "value-edited": ("error", rewrite(edit_value)),
        "times-reversed": ("error", rewrite(reverse_t)),
        "wrong-final-state": ("error", rewrite(wrong_state)),
        "data-flattened": ("error", rewrite(flat_local)),
        "partial-as-string": ("error", rewrite(partial_string)),
        "object-array": ("error", rewrite(object_array)),
        "t-missing": ("error", rewrite(drop_t)),
        "parameters-not-json": ("error", rewrite(bad_json)),
    }


def _file_cases() -> None:
    producers = _producers()
    for kind in producers:
        for suffix in (".csv", ".npz"):
            def valid(kind=kind, suffix=suffix):
                res = producers[kind]()
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / f"r{suffix}"
                    res.save(path)
                    return res, _loader(kind)(path)
            add("files", f"{kind}{suffix}-valid", "ok", valid, lambda pair: _same(*pair))

            def bom(kind=kind, suffix=suffix):
                res = producers[kind]()
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "r.csv"
                    res.save(path)
                    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
                    return res, _loader(kind)(path)
            if suffix == ".csv":
                add("files", f"{kind}.csv-utf8-bom", "ok", bom, lambda pair: _same(*pair))

            edits = _csv_edits() if suffix == ".csv" else _npz_edits()
            for name, (expect, edit) in edits.items():
                def corrupted(kind=kind, suffix=suffix, edit=edit):
                    res = producers[kind]()
                    with tempfile.TemporaryDirectory() as tmp:
                        path = Path(tmp) / f"r{suffix}"
                        res.save(path)
                        if suffix == ".csv":
                            lines = path.read_text().split("\n")
                            if lines and lines[-1] == "":
                                lines = lines[:-1]
                            text = "\n".join(edit(lines))
                            path.write_text(text + ("\n" if text else ""))
                        else:
                            edit(path)
                        return res, _loader(kind)(path)
                add("files", f"{kind}{suffix}-{name}", expect, corrupted,
                    lambda pair: _same(*pair))


# --- 2. models and runs -----------------------------------------------------------------

def _model_cases() -> None:
    bad = {
        "system": ["qutrit", 2, None, "Qubit "],
        "n_systems": [0, 1, -2, 2.5, "2", True, 10**9, np.nan],
        "gamma": [0, -1.0, np.nan, np.inf, 1j, "1", None, [1.0, 2.0]],
        "omega": [0, -1.0, np.nan, np.inf, 1 + 0j],
        "temperature": [-1.0, np.nan, np.inf, 1j, "hot"],
        "cascade": ["yes", 1, None],
        "delay": [-0.1, np.nan, "0.1", 1j, [0.1, 0.2, 0.3]],
        "phase": [np.nan, np.inf, 1j],
        "bath": ["fermion", 3],
        "bath_cutoff": [0, 1, -3, 2.5, "5", 10**9],
    }
    for name, values in bad.items():
        for value in values:
            def build(name=name, value=value):
                kwargs = {"temperature": 1.0}
                if name == "bath_cutoff":
                    return collision.CascadeCollisionModel("oscillator", cutoff=4,
                                                           **{name: value, **kwargs})
                if name == "system":
                    return collision.CascadeCollisionModel(value, **kwargs)
                return collision.CascadeCollisionModel("qubit", **{**kwargs, name: value})
            add("models", f"cascade-{name}={value!r}", "error", build)
    for name, values in {"cutoff": [None, 1, 0, 2.5, "4", -4]}.items():
        for value in values:
            add("models", f"oscillator-{name}={value!r}", "error",
                lambda value=value: collision.CascadeCollisionModel("oscillator", cutoff=value))
    for name, values in {"n_systems": [0, 1.5, "2"], "gamma": [0, np.nan, 1j],
                         "temperature": [-1, np.inf], "delay": [-1.0, np.nan]}.items():
        for value in values:
            add("models", f"gaussian-{name}={value!r}", "error",
                lambda name=name, value=value: collision.GaussianCollisionModel(**{name: value}))
            add("models", f"master-equation-{name}={value!r}", "error",
                lambda name=name, value=value: lindblad.CascadeMasterEquation(
                    "qubit", **{name: value}))


def _run_cases() -> None:
    rho = RHO_Q

    def run(**kw):
        args = {"rho0": rho, "t_max": T_MAX, "dt": DT, **kw}
        return QUBIT.run(**args)

    bad_states = {
        "not-hermitian": rho + 0.01j * np.triu(np.ones((4, 4)), 1),
        "trace-2": 2 * rho,
        "negative-eigenvalue": np.diag([1.2, -0.1, -0.05, -0.05]),
        "wrong-shape-3x3": np.eye(3) / 3,
        "wrong-shape-8x8": np.eye(8) / 8,
        "nan-entry": np.where(np.eye(4) > 0, np.nan, 0),
        "string": "thermal",
        "none": None,
        "ragged-list": [[1, 0], [0]],
        "vector-not-normalised": np.array([1, 1, 0, 0], dtype=complex),
        "vector-wrong-length": np.array([1, 0, 0], dtype=complex),
        "list-of-3-states": [states.thermal("qubit", 1.0)] * 3,
        "list-with-bad-state": [states.thermal("qubit", 1.0), np.eye(2)],
        "bool-matrix": np.eye(4, dtype=bool),
        "object-array": np.array([[object()] * 4] * 4, dtype=object),
        "empty": np.zeros((0, 0)),
    }
    for name, value in bad_states.items():
        for method in ("density", "trajectories"):
            kw = {"n_trajectories": 64, "seed": 0} if method == "trajectories" else {}
            add("runs", f"rho0-{name}-{method}", "error",
                lambda value=value, method=method, kw=kw: run(rho0=value, method=method,
                                                              **kw))
    good_states = {
        "nested-list-matrix": rho.tolist(),
        "nested-list-vector": [0, 1, 0, 0],
        "list-of-local-states": [states.thermal("qubit", 2.0)] * 2,
        "tuple-of-local-states": (states.thermal("qubit", 2.0),) * 2,
        "vector": np.array([0, 0, 1, 0], dtype=complex),
        "real-int-matrix": np.diag([1, 0, 0, 0]),
    }
    for name, value in good_states.items():
        add("runs", f"rho0-{name}", "ok", lambda value=value: run(rho0=value),
            finite_fluxes)
    bad_args = {
        "t_max=0": {"t_max": 0}, "t_max=-1": {"t_max": -1}, "t_max=nan": {"t_max": np.nan},
        "t_max=inf": {"t_max": np.inf}, "t_max='1'": {"t_max": "1"},
        "t_max=1e12": {"t_max": 1e12}, "dt=0": {"dt": 0}, "dt=-0.1": {"dt": -0.1},
        "dt=nan": {"dt": np.nan}, "dt=1j": {"dt": 1j}, "dt>t_max": {"dt": 1.0},
        "dt=1e-300": {"dt": 1e-300},
        "save_every=0": {"save_every": 0}, "save_every=1.5": {"save_every": 1.5},
        "save_every=-1": {"save_every": -1}, "save_every='2'": {"save_every": "2"},
        "method=foo": {"method": "foo"}, "method=gaussian": {"method": "gaussian"},
        "n_trajectories=0": {"method": "trajectories", "n_trajectories": 0},
        "n_trajectories=-5": {"method": "trajectories", "n_trajectories": -5},
        "n_trajectories=1.5": {"method": "trajectories", "n_trajectories": 1.5},
        "n_trajectories=1e20": {"method": "trajectories", "n_trajectories": 10**20},
        "seed=-1": {"method": "trajectories", "n_trajectories": 64, "seed": -1},
        "seed=1.5": {"method": "trajectories", "n_trajectories": 64, "seed": 1.5},
        "seed='x'": {"method": "trajectories", "n_trajectories": 64, "seed": "x"},
        "target_stderr=-1": {"method": "trajectories", "target_stderr": -1.0},
        "target_stderr density": {"target_stderr": 0.1},
        "n_trajectories density": {"n_trajectories": 100},
        "options wrong type": {"options": {"scheme": "kraus"}},
        "options other engine": {"options": collision.TrajectoryOptions()},
        "extrapolate trajectories": {"method": "trajectories", "extrapolate": True,
                                     "n_trajectories": 64},
        "extrapolate='yes'": {"extrapolate": "yes"},
        "progress=2": {"progress": 2},
    }
    for name, kw in bad_args.items():
        add("runs", name, "error", lambda kw=kw: run(**kw))
    add("runs", "n_trajectories=10**12 heat statistics", "error",
        lambda: QUBIT.heat_statistics(rho, 1e6, 1e-3, method="trajectories",
                                      n_trajectories=10**12))
    add("runs", "t_max=1e9 dt=1e-3 statistics", "error",
        lambda: QUBIT.heat_statistics(rho, 1e9, 1e-3))
    for name, kw in {"method=gaussian": {"method": "gaussian"},
                     "delayed model": {}}.items():
        def stats(kw=kw, name=name):
            model = QUBIT if name != "delayed model" else collision.CascadeCollisionModel(
                "qubit", temperature=1.0, delay=0.1)
            return model.heat_statistics(rho, T_MAX, DT, **kw)
        add("runs", f"heat_statistics {name}", "error", stats)


def _master_equation_cases() -> None:
    me = lindblad.CascadeMasterEquation("qubit", temperature=1.0)
    times = np.linspace(0, 1, 5)
    add("master", "list-of-local-states", "ok",
        lambda: me.heat_fluxes([states.thermal("qubit", 2.0)] * 2, times), finite_fluxes)
    add("master", "state-vector", "ok",
        lambda: me.heat_fluxes(np.array([0, 0, 1, 0], dtype=complex), times), finite_fluxes)
    for name, t in {"times-decreasing": [1, 0.5, 0], "times-negative": [-1, 0],
                    "times-nan": [0, np.nan], "times-empty": [], "times-2d": [[0, 1]],
                    "times-complex": [0, 1j], "times-string": "0,1"}.items():
        add("master", name, "error", lambda t=t: me.heat_fluxes(RHO_Q, t))
    for name, rho in {"trace-2": 2 * RHO_Q, "wrong-shape": np.eye(3) / 3,
                      "not-hermitian": RHO_Q + 0.1j * np.triu(np.ones((4, 4)), 1)}.items():
        add("master", f"rho0-{name}", "error", lambda rho=rho: me.evolve(rho, times))
    add("master", "delay-1e300", "ok",
        lambda: lindblad.CascadeMasterEquation("qubit", temperature=1.0, delay=1e300)
        .heat_fluxes(RHO_Q, times), finite_fluxes)
    gme = lindblad.GaussianMasterEquation(temperature=0.5)
    for name, cov in {"not-symmetric": np.eye(4) / 2 + np.triu(np.ones((4, 4)), 1) * 0.1,
                      "uncertainty-violated": np.eye(4) * 0.1, "wrong-shape": np.eye(3),
                      "nan": np.full((4, 4), np.nan), "complex": np.eye(4) / 2 + 0j * 1j}.items():
        add("master", f"gaussian-cov-{name}", "error" if name != "complex" else "either",
            lambda cov=cov: gme.evolve(cov, times))
        add("master", f"gaussian-engine-cov-{name}", "error" if name != "complex" else "either",
            lambda cov=cov: collision.GaussianCollisionModel(temperature=0.5)
            .run(cov, T_MAX, DT))


# --- 3. delays ----------------------------------------------------------------------------

def _delay_cases() -> None:
    for delay in (1e300, 1e7, 1e5 * DT, float("inf")):
        for method in ("density", "trajectories"):
            def delayed(delay=delay, method=method):
                model = collision.CascadeCollisionModel("qubit", temperature=1.0, delay=delay)
                kw = {"n_trajectories": 128, "seed": 3} if method == "trajectories" else {}
                return model.run(RHO_Q, T_MAX, DT, method=method, **kw)
            add("delay", f"delay={delay:g}-{method}", "either" if delay == float("inf")
                else "ok", delayed, finite_fluxes)
        expect = "either" if delay == float("inf") else "ok"
        add("delay", f"delay={delay:g}-gaussian", expect,
            lambda delay=delay: collision.GaussianCollisionModel(temperature=0.5, delay=delay)
            .run(states.gaussian_thermal(1.0), T_MAX, DT), finite_fluxes)
        add("delay", f"delay={delay:g}-master-equation", expect,
            lambda delay=delay: lindblad.CascadeMasterEquation(
                "qubit", temperature=1.0, delay=delay).heat_fluxes(RHO_Q, [0, 0.25, 0.5]),
            finite_fluxes)
    add("delay", "delay-not-multiple-of-dt", "error",
        lambda: collision.CascadeCollisionModel("qubit", delay=0.013).run(RHO_Q, T_MAX, DT))
    # beyond the run any delay gives the same run, whole number of steps or not
    add("delay", "delay-1e300-not-multiple", "ok",
        lambda: collision.CascadeCollisionModel("qubit", delay=1e300).run(RHO_Q, T_MAX, 0.03),
        finite_fluxes)


# --- 4. merging Monte Carlo runs ------------------------------------------------------------

def _merge_cases() -> None:
    base = {"rho0": RHO_Q, "t_max": T_MAX, "dt": DT, "method": "trajectories",
            "n_trajectories": 64, "seed": 5}

    def pair(second: dict, model=None):
        a = QUBIT.run(**base)
        other = {**base, **second}
        opts = collision.TrajectoryOptions(n_trajectories=64, seed=other.pop("seed"),
                                           first_trajectory=other.pop("first", 64))
        other.pop("n_trajectories")
        b = (model or QUBIT).run(**other, options=opts)
        return collision.merge_results(a, b)
    differ = {
        "initial-state": ({"rho0": states.product(states.thermal("qubit", 0.5),
                                                  states.thermal("qubit", 0.5))}, None),
        "dt": ({"dt": 0.025}, None), "t_max": ({"t_max": 1.0}, None),
        "save_every": ({"save_every": 2}, None), "seed": ({"seed": 6}, None),
        "overlapping-range": ({"first": 0}, None),
        "temperature": ({}, collision.CascadeCollisionModel("qubit", temperature=2.0)),
        "gamma": ({}, collision.CascadeCollisionModel("qubit", temperature=1.0, gamma=2.0)),
        "cascade": ({}, collision.CascadeCollisionModel("qubit", temperature=1.0,
                                                        cascade=False)),
    }
    for name, (second, model) in differ.items():
        add("merge", f"merge_results-{name}", "error",
            lambda second=second, model=model: pair(second, model))
    add("merge", "merge_results-valid", "ok", lambda: pair({}),
        lambda r: None if r.parameters["n_trajectories"] == 128 else "wrong count")

    def stats_pair(second: dict):
        kw = {"method": "trajectories", "n_trajectories": 64, "seed": 5}
        a = QUBIT.heat_statistics(RHO_Q, T_MAX, DT, **kw)
        rho = second.get("rho0", RHO_Q)
        opts = collision.TrajectoryOptions(n_trajectories=64, seed=second.get("seed", 5),
                                           first_trajectory=64)
        b = QUBIT.heat_statistics(rho, second.get("t_max", T_MAX), DT,
                                  method="trajectories", options=opts)
        return collision.counting.merge_statistics(a, b)
    for name, second in {"initial-state": {"rho0": states.product(
            states.thermal("qubit", 0.5), states.thermal("qubit", 0.5))},
            "seed": {"seed": 9}, "t_max": {"t_max": 1.0}}.items():
        add("merge", f"merge_statistics-{name}", "error",
            lambda second=second: stats_pair(second))


# --- 5. sweeps ------------------------------------------------------------------------------

SPEC = """
[sweep]
model = "CascadeCollisionModel"
seed = 1

[model]
system = "qubit"

[initial]
state = "thermal"
temperature = 2.0

[run]
t_max = 0.5
dt = 0.05

[grid]
"model.temperature" = [0.5, 1.0]
"""


def _sweep_cases() -> None:
    from collision import sweep

    def in_tmp(fn):
        with tempfile.TemporaryDirectory() as tmp:
            return fn(Path(tmp))

    def spec_file(tmp: Path, text: str, name="s.toml", bom=False) -> Path:
        path = tmp / name
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
        return path

    add("sweep", "valid", "ok", lambda: in_tmp(
        lambda tmp: sweep.run(spec_file(tmp, SPEC), tmp / "out", workers=1, progress=False)))
    add("sweep", "toml-with-bom", "ok", lambda: in_tmp(
        lambda tmp: sweep.run(spec_file(tmp, SPEC, bom=True), tmp / "out", workers=1,
                              progress=False)))
    add("sweep", "out-empty-string", "error", lambda: in_tmp(
        lambda tmp: sweep.run(spec_file(tmp, SPEC), "", workers=1, progress=False)))
    add("sweep", "grid-1000^3", "error", lambda: sweep.validate({
        "sweep": {"model": "CascadeCollisionModel", "seed": 1},
        "model": {"system": "qubit"},
        "grid": {"model.temperature": list(np.linspace(0.1, 2, 1000)),
                 "model.gamma": list(np.linspace(0.5, 2, 1000)),
                 "model.omega": list(np.linspace(0.5, 2, 1000))},
        "initial": {"state": "thermal", "temperature": 1.0},
        "run": {"t_max": 0.5, "dt": 0.05}}))
    for name, text in {"bad-toml": "[sweep\nmodel=", "semicolon-csv": "a;b\n1;2\n",
                       "unknown-model": SPEC.replace("CascadeCollisionModel", "Foo"),
                       "negative-dt": SPEC.replace("dt = 0.05", "dt = -0.05"),
                       "delay-not-multiple": SPEC.replace(
                           'system = "qubit"', 'system = "qubit"\ndelay = 0.013')}.items():
        add("sweep", name, "error", lambda text=text: in_tmp(
            lambda tmp: sweep.run(spec_file(tmp, text), tmp / "out", workers=1,
                                  progress=False)))

    def copied_point(tmp: Path):
        out = tmp / "out"
        sweep.run(spec_file(tmp, SPEC), out, workers=1, progress=False)
        files = sorted((out / "points").glob("*"))
        before = sweep.load(out)
        files[1].write_bytes(files[0].read_bytes())
        after = sweep.run(spec_file(tmp, SPEC), out, workers=1, progress=False)
        return before, after

    def same_tables(pair):
        a, b = pair
        cols = [c for c in a.columns if a[c].dtype.kind == "f"]
        key = [c for c in a.columns if "temperature" in c][0]
        a = a.sort_values(key)[cols].to_numpy()
        b = b.sort_values(key)[cols].to_numpy()
        return None if np.array_equal(a, b, equal_nan=True) else "table changed"
    add("sweep", "point-file-copied-over-another", "ok", lambda: in_tmp(copied_point),
        same_tables)

    def damaged_point(tmp: Path):
        out = tmp / "out"
        sweep.run(spec_file(tmp, SPEC), out, workers=1, progress=False)
        before = sweep.load(out)
        f = min((out / "points").glob("*"))
        f.write_bytes(f.read_bytes()[:100])
        after = sweep.run(spec_file(tmp, SPEC), out, workers=1, progress=False)
        return before, after
    add("sweep", "point-file-damaged", "ok", lambda: in_tmp(damaged_point), same_tables)


# --- 6. command line ------------------------------------------------------------------------

def _cli_cases() -> None:
    from collision import cli

    def main(*argv):
        with tempfile.TemporaryDirectory() as tmp, \
                contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            args = [a.replace("TMP", tmp) for a in argv]
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = cli.main(list(args))
            if rc == 2:
                raise ValueError(err.getvalue() or "exit status 2")
            if rc not in (0, None):
                raise RuntimeError(f"exit status {rc}: {err.getvalue()[-300:]}")
            return rc

    bad = [
        ("run", "--dt", "0"), ("run", "--dt", "-1"), ("run", "--dt", "abc"),
        ("run", "--t-max", "nan"), ("run", "--t-max", "-1"), ("run", "--temperature", "-1"),
        ("run", "--n-systems", "1"), ("run", "--system", "qutrit"), ("run", "--cutoff", "1"),
        ("run", "--method", "foo"), ("run", "--save-every", "0"), ("run", "--seed", "-1"),
        ("run", "--delay", "-1"), ("run", "--delay", "nan"), ("run", "--rho23", "5"),
        ("statistics", "--dt", "0"),
        ("converge", "--dts", "0.1,-0.1"), ("converge", "--dts", ""),
        ("sweep", "missing.toml", "--out", "TMP/x"), ("nonsense",),
    ]
    for argv in bad:
        add("cli", " ".join(argv), "error", lambda argv=argv: main(*argv, "--out", "TMP")
            if argv[0] in ("run", "statistics") else main(*argv))
    add("cli", "run --system oscillator (automatic cutoff)", "ok",
        lambda: main("run", "--system", "oscillator", "--t-max", "0.5", "--quiet", "--out",
                     "TMP"))
    add("cli", "run --delay 1e300", "ok",
        lambda: main("run", "--delay", "1e300", "--t-max", "0.5", "--quiet", "--out", "TMP"))
    add("cli", "--version", "ok", lambda: _version_exit(main))


def _version_exit(main):
    try:
        main("--version")
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    return collision.__version__


# --- 7. general collision models ------------------------------------------------------------

def _general_cases() -> None:
    sm = np.array([[0, 1], [0, 0]], dtype=complex)
    v = np.kron(sm.conj().T, sm) + np.kron(sm, sm.conj().T)
    eta = np.diag([0.7, 0.3]).astype(complex)

    def model(**kw):
        args = {"dims": [2, 2], "hamiltonian": None, "streams": eta,
                "collisions": [collision.Collision(0, v), collision.Collision(1, v)]}
        args.update(kw)
        return collision.CollisionModel(**args)

    bad = {
        "interaction-not-hermitian": lambda: collision.Collision(0, np.triu(np.ones((4, 4)))),
        "interaction-nan": lambda: collision.Collision(0, np.full((4, 4), np.nan)),
        "interaction-string": lambda: collision.Collision(0, "sigma_x"),
        "interaction-wrong-shape": lambda: model(collisions=[collision.Collision(0, np.eye(8))]),
        "subsystem-out-of-range": lambda: model(collisions=[collision.Collision(2, v)]),
        "subsystem-negative": lambda: collision.Collision(-1, v),
        "subsystem-float": lambda: collision.Collision(0.5, v),
        "subsystems-repeated": lambda: collision.Collision((0, 0), np.eye(8)),
        "subsystems-empty": lambda: collision.Collision((), v),
        "stream-unknown": lambda: model(collisions=[collision.Collision(0, v, "hot")]),
        "stream-not-string": lambda: collision.Collision(0, v, stream=3),
        "scale-unknown": lambda: collision.Collision(0, v, scale="sqrt"),
        "ancilla-trace-2": lambda: model(streams=2 * eta),
        "ancilla-negative": lambda: model(streams=np.diag([1.2, -0.2])),
        "ancilla-not-hermitian": lambda: model(streams=np.array([[0.5, 0.1], [0.0, 0.5]])),
        "streams-empty-dict": lambda: model(streams={}),
        "streams-none": lambda: model(streams=None),
        "dims-empty": lambda: model(dims=[]),
        "dims-one": lambda: model(dims=[1, 2]),
        "dims-huge": lambda: model(dims=[2] * 20),
        "hamiltonian-wrong-shape": lambda: model(hamiltonian=np.eye(3)),
        "hamiltonian-not-hermitian": lambda: model(hamiltonian=np.triu(np.ones((4, 4)))),
        "hamiltonian-list-wrong-length": lambda: model(hamiltonian=[np.eye(2)]),
        "collisions-empty": lambda: model(collisions=[]),
        "collisions-not-collision": lambda: model(collisions=[v]),
        "stream-hamiltonian-unknown": lambda: model(stream_hamiltonians={"cold": np.eye(2)}),
        "stream-hamiltonian-shape": lambda: model(stream_hamiltonians={"bath": np.eye(3)}),
        "e_ops-wrong-shape": lambda: model().run(np.eye(4) / 4, 0.1, 0.01,
                                                 e_ops={"x": np.eye(2)}),
        "e_ops-not-dict-or-list": lambda: model().run(np.eye(4) / 4, 0.1, 0.01, e_ops=3),
        "rho0-wrong-shape": lambda: model().run(np.eye(3) / 3, 0.1, 0.01),
        "method-gaussian": lambda: model().run(np.eye(4) / 4, 0.1, 0.01, method="gaussian"),
        "scheme-kraus": lambda: model().run(np.eye(4) / 4, 0.1, 0.01,
                                            options=collision.DensityOptions(scheme="kraus")),
        "dt-zero": lambda: model().run(np.eye(4) / 4, 0.1, 0.0),
        "master-equation-first-moment": lambda: collision.CollisionModel(
            [2], None, np.full((2, 2), 0.5), [collision.Collision(0, np.kron(
                np.array([[0, 1], [1, 0]]), np.array([[0, 1], [1, 0]])))]).master_equation(),
        "memory-wrong-shape": lambda: model(memory={"bath": collision.Memory(np.eye(3))}),
        "memory-not-hermitian": lambda: model(memory={"bath": collision.Memory(
            np.triu(np.ones((4, 4))))}),
        "memory-unknown-stream": lambda: model(memory={"hot": collision.Memory(np.eye(4))}),
        "memory-scale": lambda: collision.Memory(np.eye(4), scale="sqrt"),
        "memory-swap-not-bool": lambda: collision.Memory(np.eye(4), swap="yes"),
        "partial-swap-d-1": lambda: collision.partial_swap(1, 0.3),
        "delay-negative": lambda: model(delay=-0.1),
        "delay-nan": lambda: model(delay=float("nan")),
        "delay-coupled-hamiltonian": lambda: model(hamiltonian=np.kron(sm, sm.T)
                                                   + np.kron(sm.T, sm), delay=0.1),
        "delay-unknown-stream": lambda: model(delay={"hot": 0.1}),
        "delay-not-whole-steps": lambda: model(delay=0.013).run(np.eye(4) / 4, 0.1, 0.01),
        "delay-joint-e_op": lambda: model(delay=0.1).run(np.eye(4) / 4, 0.5, 0.05,
                                                         e_ops={"zz": np.kron(sm, sm.T)}),
        "delay-with-memory": lambda: model(delay=0.1, memory={"bath": collision.Memory(
            np.eye(4))}).run(np.eye(4) / 4, 0.5, 0.05),
        "converge-model-file-missing": lambda: __import__(
            "collision.studies.model_convergence", fromlist=["load_setup"]).load_setup(
            "/nonexistent/model.py"),
    }
    for name, fn in bad.items():
        add("general", name, "error", fn)

    def heat_ok(res):
        return None if np.all(np.isfinite(res.heat["bath"])) else "non-finite heat"
    add("general", "first-moment-runs-at-finite-dt", "ok", lambda: collision.CollisionModel(
        [2], None, np.full((2, 2), 0.5), [collision.Collision(0, np.kron(
            np.array([[0, 1], [1, 0]]), np.array([[0, 1], [1, 0]])))],
        stream_hamiltonians={"bath": np.diag([0.0, 1.0])}).run(np.eye(2) / 2, 0.2, 0.01),
        heat_ok)
    add("general", "delay-beyond-the-run", "ok", lambda: model(delay=1e300).run(
        np.eye(4) / 4, 0.2, 0.01, e_ops={"z1": np.kron(np.diag([0.0, 1.0]), np.eye(2))}),
        lambda r: None if np.all(np.isfinite(r.expect["z1"])) else "not finite")
    add("general", "qobj-like-operators", "ok", lambda: model(
        collisions=[collision.Collision(0, _FakeQobj(v))]).run(np.eye(4) / 4, 0.1, 0.01))


class _FakeQobj:
    """Anything with .full(), as QuTiP's Qobj."""

    def __init__(self, m):
        self.m = m

    def full(self):
        return self.m


# --- runner ---------------------------------------------------------------------------------

def build_cases() -> list[Case]:
    CASES.clear()
    _file_cases()
    _model_cases()
    _run_cases()
    _master_equation_cases()
    _delay_cases()
    _merge_cases()
    _sweep_cases()
    _cli_cases()
    _general_cases()
    return CASES


def classify(case: Case) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = case.run()
        except ValueError as exc:
            msg = str(exc).strip()
            if case.expect == "ok":
                return "refused", msg[:200]
            return ("pass", msg[:200]) if msg else ("silent", "empty ValueError message")
        except SystemExit as exc:
            if exc.code == 2 and case.expect != "ok":
                return "pass", "usage error (exit 2)"
            if exc.code in (0, None) and case.expect != "error":
                return "pass", "exit 0"
            return "crash", f"SystemExit({exc.code!r})"
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - classifying is the point
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return "crash", tb[:200]
    if case.expect == "error":
        return "silent", "no error"
    problem = case.check(value) if case.check is not None else None
    return ("silent", problem) if problem else ("pass", "ok")


def _worker(conn, only: str | None) -> None:
    cases = build_cases()
    while True:
        index = conn.recv()
        if index is None:
            return
        conn.send(classify(cases[index]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=None, help="run only this group")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", default=None, help="write every outcome to this file")
    args = parser.parse_args(argv)
    cases = build_cases()
    chosen = [i for i, c in enumerate(cases) if args.only in (None, c.group)]
    if args.list:
        for i in chosen:
            print(f"{cases[i].group:8s} {cases[i].expect:6s} {cases[i].name}")
        print(f"{len(chosen)} cases")
        return 0
    ctx = mp.get_context("fork")
    outcomes: list[dict] = []
    proc = conn = None
    start = time.perf_counter()
    for i in chosen:
        if proc is None:
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, args.only), daemon=True)
            proc.start()
        conn.send(i)
        t0 = time.perf_counter()
        if conn.poll(args.timeout):
            try:
                verdict, detail = conn.recv()
            except EOFError:
                verdict, detail = "crash", "the worker died"
                proc = None
        else:
            verdict, detail = "hang", f"no answer within {args.timeout:g} s"
            proc.kill()
            proc = None
        if proc is not None and not proc.is_alive():
            proc = None
        c = cases[i]
        outcomes.append({"group": c.group, "name": c.name, "expect": c.expect,
                         "verdict": verdict, "detail": detail,
                         "seconds": round(time.perf_counter() - t0, 3)})
        if verdict != "pass":
            print(f"{verdict:8s} {c.group}/{c.name}: {detail}", flush=True)
    if proc is not None:
        conn.send(None)
        proc.join(5)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o["verdict"]] = counts.get(o["verdict"], 0) + 1
    groups = sorted({o["group"] for o in outcomes})
    print(f"\n{len(outcomes)} cases in {time.perf_counter() - start:.0f} s")
    print(f"{'group':8s} " + " ".join(f"{v:>8s}" for v in
                                       ("pass", "silent", "refused", "crash", "hang")))
    for g in groups:
        row = [o for o in outcomes if o["group"] == g]
        print(f"{g:8s} " + " ".join(f"{sum(o['verdict'] == v for o in row):8d}" for v in
                                    ("pass", "silent", "refused", "crash", "hang")))
    if args.json:
        Path(args.json).write_text(json.dumps(outcomes, indent=1))
    return 0 if counts.get("pass", 0) == len(outcomes) else 1


if __name__ == "__main__":
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")
    sys.exit(main())
