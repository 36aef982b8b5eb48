"""The studies' grids of model runs, run as sweeps (:mod:`collision.sweep`).

A study (the paper's figures, :mod:`collision.studies.paper`; the delay study,
:mod:`collision.studies.delay`) writes every grid of engine or reference runs it needs as a
sweep specification, a dict with the schema of the TOML files (:mod:`collision.sweep.spec`,
:func:`sweep_spec`), and hands it to :meth:`SweepRuns.run`, which returns the results of the
points in the order of the specification.  With a folder (:attr:`SweepRuns.root`) each
specification is run by :func:`collision.sweep.run` into ``root/<name>`` and the results are
rebuilt from :func:`collision.sweep.load`: every finished point is on disk, a re-run
computes only the missing ones, and the points can run on local processes or a Dask cluster.
Without a folder the points run one after the other in this process, nothing is written.

A study opens :meth:`SweepRuns.local_pool` once around all its grids, so that its sweeps
share one pool of local processes (:func:`collision.sweep.local_pool`), started once,
instead of each starting its own for points of a few milliseconds.

Either way each point is computed by :func:`collision.sweep.point.compute` from its plain
definition, so the numbers are the same bit for bit (a point file holds them exactly).
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lindblad.fluxes import HeatFluxes

__all__ = ["SweepRuns", "point_state", "results_from_table", "sweep_spec"]


def sweep_spec(model: str, model_params: dict[str, Any], initial: dict[str, Any],
               run: dict[str, Any], points: list[dict[str, Any]]) -> dict[str, Any]:
    """A sweep specification (the dict form of the TOML files) with explicit points.

    Parameters
    ----------
    model : str
        A model of :data:`collision.sweep.MODELS`.
    model_params, initial, run : dict
        The fixed ``[model]``, ``[initial]`` and ``[run]`` sections.
    points : list of dict
        The points, each a dict of dotted names (``"model.delay"``) to values, in the
        order the results are wanted.
    """
    return {"sweep": {"model": model}, "model": dict(model_params), "initial": dict(initial),
            "run": dict(run), "points": [dict(p) for p in points]}


def point_state(model: str, model_params: dict[str, Any], initial: dict[str, Any]):
    """The initial state a sweep builds for ``initial`` (``state`` and its arguments) and
    the model ``model(**model_params)``: the state of a point, outside a sweep."""
    from ..sweep.point import Definition, build_model, build_state

    definition = Definition(model, dict(model_params), dict(initial), {})
    return build_state(build_model(definition), definition)


def results_from_table(table) -> list[HeatFluxes]:
    """The result of every point of a sweep table (:func:`collision.sweep.load`), in the
    order of the table: ``t``, every subsystem's ``local_i`` and ``correlated_i`` and,
    where the point has them, ``in_flight_i`` (the standard errors are left out).

    Raises
    ------
    ValueError
        If a point has no result (failed or missing).
    """
    out = []
    for pid, rows in table.groupby("point", sort=False):
        if (rows["status"] != "ok").any():
            raise ValueError(f"point {pid} has no result ({rows['status'].iloc[0]})")

        def numbered(name: str, rows=rows) -> np.ndarray | None:
            found = []
            while f"{name}_{len(found) + 1}" in rows and \
                    rows[f"{name}_{len(found) + 1}"].notna().all():
                found.append(rows[f"{name}_{len(found) + 1}"].to_numpy(dtype=float))
            return np.array(found) if found else None

        out.append(HeatFluxes(rows["t"].to_numpy(dtype=float), numbered("local"),
                              numbered("correlated"), in_flight=numbered("in_flight")))
    return out


@dataclass(frozen=True)
class SweepRuns:
    """Where and how a study computes its grids of runs.

    Attributes
    ----------
    root : Path or None
        Folder of the study's sweeps, each in ``root/<name>``: finished points are kept
        there and a re-run computes only the missing ones.  None: the points run in this
        process and nothing is written.
    workers : int or None
        Local processes (:func:`collision.sweep.run`): 1 runs the points in this process,
        None uses every core.  Not with ``client``.
    client : dask.distributed.Client or str, optional
        Run the points on this Dask cluster (a client or a scheduler address).
    progress : bool
        Show each sweep's progress bar over its points.
    pool : collision.sweep.LocalPool or None
        Local processes shared by the sweeps (set by :meth:`local_pool`); None: each
        sweep starts its own ``workers`` processes.

    Execution only: the results are the same bit for bit whatever these are.
    """

    root: Path | None = None
    workers: int | None = 1
    client: Any = None
    progress: bool = False
    pool: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.root is not None:
            object.__setattr__(self, "root", Path(self.root))
        if self.client is not None and self.workers not in (None, 1):
            raise ValueError("workers sets the number of local processes; with a Dask client "
                             "the cluster's workers run the points (give one or the other)")

    @contextlib.contextmanager
    def local_pool(self) -> Iterator[SweepRuns]:
        """These runs with one pool of :attr:`workers` local processes for all their sweeps.

        ::

            with runs.local_pool() as runs:
                a = runs.run("fig2/qubits", spec_a)
                b = runs.run("fig2/oscillators", spec_b)   # the same processes

        The processes start with the first point and stop when the ``with`` block ends,
        also on Ctrl-C or an error.  Runs with a client, a pool already, one worker or
        no folder are yielded unchanged.
        """
        if (self.root is None or self.client is not None or self.pool is not None
                or self.workers == 1 or importlib.util.find_spec("pandas") is None):
            yield self
            return
        from .. import sweep

        with sweep.local_pool(self.workers) as pool:
            yield replace(self, pool=pool)

    def folder(self, name: str) -> Path | None:
        """The folder of sweep ``name`` (None without :attr:`root`)."""
        return None if self.root is None else self.root / name

    def run(self, name: str, spec: dict[str, Any]) -> list[HeatFluxes]:
        """The results of the points of ``spec``, in its order.

        Parameters
        ----------
        name : str
            The sweep's folder below :attr:`root` (``"fig2/qubits"``).
        spec : dict
            A sweep specification (:func:`sweep_spec`).

        Returns
        -------
        list of HeatFluxes

        Raises
        ------
        KeyboardInterrupt
            If Ctrl-C stopped the sweep: its finished points are kept in the folder.
        RuntimeError
            If a point failed (the first errors are quoted; the folder records them all).
        collision.sweep.SweepSpecError
            For an invalid specification, before any run.
        """
        from .. import sweep

        if self.root is not None and importlib.util.find_spec("pandas") is None:
            warnings.warn("the model runs are computed in this process and not kept, so an "
                          "interrupted run cannot resume (collision.sweep needs pandas: pip "
                          "install 'cascade-collisions[sweep]')", stacklevel=2)
        elif self.root is not None:
            folder = self.folder(name)
            local = self.client is None and self.pool is None
            table = sweep.run(spec, folder, client=self.client, pool=self.pool,
                              workers=self.workers if local else None,
                              progress=self.progress)
            info = table.attrs["sweep"]
            if info["interrupted"]:
                raise KeyboardInterrupt(f"sweep {folder} interrupted: {info['ok']} of "
                                        f"{info['points']} points finished and kept")
            if info["failed"]:
                errors = table.loc[table["status"] == "failed", "error"].unique()[:3]
                raise RuntimeError(f"{info['failed']} of {info['points']} points of the sweep "
                                   f"{folder} failed: {'; '.join(errors)}")
            return results_from_table(table)
        from ..sweep.point import Task, compute

        return [compute(Task(p.id, p.definition, p.seed))
                for p in sweep.validate(spec).points]

    def remove(self, names: Iterable[str]) -> None:
        """Delete the folders ``root/<name>`` of these sweeps, and ``root`` if it is then
        empty (nothing else is touched)."""
        if self.root is None:
            return
        for name in names:
            shutil.rmtree(self.root / name, ignore_errors=True)
        try:
            self.root.rmdir()
        except OSError:  # not empty (other sweeps, the user's files) or absent
            pass
