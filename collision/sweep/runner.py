"""``collision.sweep.run``: validate, open the folder, run the missing points, write each
as it finishes, and return the table."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from pathlib import Path

from .._loop import progress_bar
from ..model import merge_results
from . import backends
from .point import Outcome, Task, batch_ranges
from .spec import MAX_POINTS, Point, SweepSpec, plain, validate
from .storage import DamagedFile, SweepFolder, check_out_dir, package_version
from .table import TABLE_FORMATS, load, save_table


def run(spec, out_dir, client=None, workers: int | None = None, *, progress: bool = True,
        table: str | None = None, pool: backends.LocalPool | None = None,
        max_points: int | None = MAX_POINTS):
    """Run a sweep into a folder, resuming it if the folder holds part of it.

    Parameters
    ----------
    spec : dict, SweepSpec, str or Path
        The specification (:mod:`collision.sweep.spec`), or a ``.toml``/``.json`` file.
    out_dir : path-like
        The sweep's folder (created if needed; not empty).  A folder of the same sweep
        is continued: finished points are left untouched and only the missing (and
        failed) ones run; a damaged point file (cut short, edited, or copied from another
        point or sweep) is moved into ``out_dir/damaged/`` with a
        :class:`~collision.sweep.storage.DamagedFileWarning` and computed again.
    client : dask.distributed.Client or str, optional
        Run on this Dask cluster (a client, or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``) instead of local processes.
    workers : int, optional
        Local processes (default: every core this process may use); 1 runs the points in
        this process.  Not with ``client`` or ``pool``.  The processes import the main
        module, so a script needs the ``if __name__ == "__main__":`` guard.
    progress : bool
        Show a progress bar over points.
    table : {"parquet", "csv"}, optional
        Also write the table to ``out_dir/table.parquet`` or ``table.csv``.
    pool : LocalPool, optional
        Run on these local processes (:func:`collision.sweep.local_pool`), which stay up
        for the caller's next sweeps, instead of processes started for this sweep alone.
        Not with ``client`` or ``workers``.
    max_points : int or None
        Refuse a sweep of more points (default :data:`collision.sweep.spec.MAX_POINTS`,
        10^6; None: no limit), before any work.

    Returns
    -------
    pandas.DataFrame
        :func:`collision.sweep.load` of the folder.  ``table.attrs["sweep"]`` holds the
        counts (``points``, ``ok``, ``failed``, ``missing``), ``computed`` (ids of the
        points finished by this call), ``set_aside`` (the damaged files this call moved
        into ``out_dir/damaged/``), ``warned`` (points whose run warned; see
        ``load(out_dir, metadata=True)``) and ``interrupted`` (Ctrl-C stopped the sweep;
        every finished point is kept, and a re-run computes the rest).

    Raises
    ------
    ImportError
        Without pandas (the ``sweep`` extra).
    collision.sweep.SweepSpecError
        For an invalid specification (every problem listed), before any work.
    ValueError
        For bad ``workers``/``client``/``pool``/``table``, an empty ``out_dir``, or a
        folder holding another sweep (the message says what differs) or in use by
        another run.
    """
    if importlib.util.find_spec("pandas") is None:
        raise ImportError("collision.sweep returns a pandas DataFrame: pip install "
                          "'cascade-collisions[sweep]' (pandas, and pyarrow for Parquet)")
    check_out_dir(out_dir)
    sweep = validate(spec, max_points=max_points)
    if table is not None and table not in TABLE_FORMATS:
        raise ValueError(f"table must be one of {TABLE_FORMATS} or None, got {table!r}")
    if client is not None and workers is not None:
        raise ValueError("workers sets the number of local processes; with a Dask client the "
                         "cluster's workers run the points (give one or the other)")
    if pool is not None and (client is not None or workers is not None):
        raise ValueError("pool runs the points on its local processes; give no client or "
                         "workers with it")
    if pool is not None and not isinstance(pool, backends.LocalPool):
        raise ValueError(f"pool must be a collision.sweep.local_pool(...), got "
                         f"{type(pool).__name__}")
    backends.check_workers(workers)
    folder = SweepFolder.open(out_dir, sweep)
    try:
        books = _Bookkeeping(sweep, folder, progress)
        tasks = books.tasks()
        if client is not None:
            results = backends.dask_cluster(tasks, client)
        elif pool is not None:
            results = pool.run(tasks)
        elif (workers or backends.cpu_count()) == 1:
            results = backends.in_process(tasks)
        else:
            results = backends.local_processes(tasks, workers or backends.cpu_count())
        try:
            for task, outcome in results:
                if outcome.status == "interrupted":
                    raise KeyboardInterrupt
                books.finish(task, outcome)
        except KeyboardInterrupt:
            books.interrupted = True
        finally:
            results.close()
            books.close()
    finally:
        folder.close()
    out = load(out_dir)
    status = out.drop_duplicates("point")["status"].value_counts()
    out.attrs["sweep"] = {"points": len(sweep.points), "ok": int(status.get("ok", 0)),
                          "failed": int(status.get("failed", 0)),
                          "missing": int(status.get("missing", 0) + status.get("damaged", 0)),
                          "set_aside": list(books.set_aside),
                          "computed": sorted(books.computed), "warned": sorted(books.warned),
                          "interrupted": books.interrupted}
    if table is not None:
        save_table(out, Path(out_dir) / f"table.{table}")
    return out


class _Bookkeeping:
    """The bookkeeping of one run: which tasks to submit (made as the backend asks for
    them, never listed), and what to do with outcomes."""

    def __init__(self, sweep: SweepSpec, folder: SweepFolder, progress: bool):
        self.sweep, self.folder = sweep, folder
        self.active: dict[str, list] = {}  # id -> [point, tasks not yet back]
        self.computed: set[str] = set()
        self.warned: set[str] = set()
        self.failed: set[str] = set()
        self.set_aside: list[str] = []
        self.interrupted = False
        self.bar = progress_bar(len(sweep.points), progress, "sweep", unit="point")

    def tasks(self) -> Iterator[Task]:
        """The tasks of the points not finished yet, point by point: a finished point's
        file is checked (a damaged one is set aside and the point computed again);
        batches already saved are skipped; a point whose batches are all saved is
        merged here."""
        finished = self.folder.finished()
        for point in self.sweep.points:
            if point.id in finished and self._usable(point.id):
                self._advance()
                continue
            if point.batches == 1:
                yield self._start(point, Task(point.id, point.definition, point.seed), 1)
                continue
            saved = self._saved_batches(point.id)
            ranges = batch_ranges(point.definition.run["n_trajectories"], point.batches)
            todo = [r for r in ranges if r not in saved]
            if not todo:
                self._merge(point, saved)
            for first, count in todo:
                yield self._start(point, Task(point.id, point.definition, point.seed, first,
                                              count), len(todo))

    def _start(self, point: Point, task: Task, n_tasks: int) -> Task:
        self.active.setdefault(point.id, [point, n_tasks])
        return task

    def _usable(self, pid: str) -> bool:
        """Whether the point's file can be used; a damaged one is set aside."""
        try:
            self.folder.read_point(pid)
        except DamagedFile as exc:
            self._set_aside(self.folder.point_path(pid), str(exc))
            return False
        return True

    def _saved_batches(self, pid: str) -> dict:
        """The point's usable saved batches, ``(first, count) -> HeatFluxes``."""
        out = {}
        for (first, count), path in sorted(self.folder.batches(pid).items()):
            try:
                out[(first, count)] = self.folder.read_batch(pid, first, count)
            except DamagedFile as exc:
                self._set_aside(path, str(exc))
        return out

    def _set_aside(self, path: Path, why: str) -> None:
        self.set_aside.append(str(self.folder.set_aside(path, why)))

    def finish(self, task: Task, outcome: Outcome) -> None:
        """Record one outcome: write the point, its batch or its failure."""
        entry = self.active[task.point_id]
        entry[1] -= 1
        if entry[1] == 0:
            del self.active[task.point_id]
        point = entry[0]
        if outcome.warnings:
            self.warned.add(point.id)
        if outcome.status == "ok" and task.first is not None \
                and getattr(outcome.result, "statistics", None) is None:
            outcome.status = "failed"
            outcome.error = ("ValueError: this trajectory batch has no mergeable statistics "
                             "(result.statistics), so the batches cannot be merged; run the "
                             "point whole (batches = 1)")
        if outcome.status != "ok":
            if point.id not in self.failed:
                self.failed.add(point.id)
                self.folder.write_failure(point.id, {
                    **self._metadata(point, outcome.wall_time, outcome.warnings),
                    "status": "failed", "error": outcome.error,
                    "traceback": outcome.traceback, "batch": [task.first, task.count]})
                self._advance()
            return
        if task.first is None:
            self.folder.write_point(point.id, outcome.result, self._metadata(
                point, outcome.wall_time, outcome.warnings))
            self.computed.add(point.id)
            self._advance()
            return
        result = outcome.result
        result.parameters = {**result.parameters, "sweep_batch": {
            "wall_time": outcome.wall_time, "warnings": outcome.warnings}}
        self.folder.write_batch(point.id, task.first, task.count, result)
        ranges = batch_ranges(point.definition.run["n_trajectories"], point.batches)
        if point.id not in self.failed and set(ranges) <= set(self.folder.batches(point.id)):
            saved = self._saved_batches(point.id)
            if set(ranges) <= set(saved):
                self._merge(point, saved)

    def _merge(self, point: Point, saved: dict) -> None:
        """Merge a point's saved batches (exactly: :func:`merge_results`) and write it."""
        parts = [saved[r] for r in sorted(saved)]
        stamps = [p.parameters.pop("sweep_batch", {}) for p in parts]  # the sweep's, not the run's
        wall = sum(s.get("wall_time", 0.0) for s in stamps)
        warned = []
        for s in stamps:
            warned += [w for w in s.get("warnings", []) if w not in warned]
        try:
            merged = functools.reduce(merge_results, parts)
        except ValueError as exc:  # e.g. batches written by an older version: no digest
            for path in self.folder.batches(point.id).values():
                self.folder.set_aside(path, f"batch {path.name} of point {point.id} cannot be "
                                           f"merged with the others ({exc})")
            self.failed.add(point.id)
            self.folder.write_failure(point.id, {
                **self._metadata(point, wall, warned), "status": "failed",
                "error": f"ValueError: its saved batches cannot be merged ({exc}); they were "
                         "set aside in damaged/, and running the sweep again computes the "
                         "point anew", "traceback": ""})
            self._advance()
            return
        params = dict(merged.parameters)
        params["options"] = {**params["options"], "first_trajectory": 0,
                             "n_trajectories": merged.parameters["n_trajectories"]}
        merged.parameters = params
        self.folder.write_point(point.id, merged, self._metadata(point, wall, warned))
        self.computed.add(point.id)
        self._advance()

    def _metadata(self, point: Point, wall_time: float, warned: list[str]) -> dict:
        return {"id": point.id, "index": point.index, "values": plain(point.values),
                "seed": point.seed, "sweep_seed": self.sweep.seed, "model": self.sweep.model,
                "definition": plain({**point.definition.identity(),
                                         "run": point.definition.run}),
                "batches": point.batches, "wall_time": wall_time,
                "version": package_version(), "warnings": list(warned), "status": "ok"}

    def _advance(self) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=len(self.failed))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
