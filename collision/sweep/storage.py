"""The sweep folder: one file per finished point, written atomically.

Layout of ``out_dir``::

    sweep.json                      the specification, the swept names and every point
                                    (id, values, seed), in order
    points/<id>.npz                 a finished point: HeatFluxes.save (exact), with
                                    parameters["sweep"] = its metadata
    points/<id>.failed.json         a failed point: error message, traceback, metadata
    points/<id>.batch-<first>-<count>.npz
                                    a finished trajectory batch of an unfinished point
                                    (its mergeable statistics); removed once merged
    table.parquet / table.csv       the table, when asked for

Every file is written under a temporary name in the same folder (``.tmp-*``), flushed
to disk and renamed over its final name (``os.replace``, atomic on POSIX and Windows),
so a point file is either complete or absent, whenever the process is killed.  Left-over
temporary files are removed when the next run opens the folder.  One run at a time may
use a folder (an advisory lock, ``.lock``, where the platform has ``fcntl``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from lindblad.fluxes import HeatFluxes, _plain

from ..statistics import Moments, TrajectoryStatistics, fluxes_from_moments
from .spec import SweepSpec, comparable, differences, plain

SPEC_FILE = "sweep.json"
POINTS = "points"
#: Version of the folder layout (recorded in ``sweep.json``).
LAYOUT = 1


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """The installed version of this package (``"unknown"`` from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cascade-collisions")
    except PackageNotFoundError:
        return "unknown"


def _atomic(path: Path, write) -> None:
    """Call ``write(temporary_path)``, flush the file to disk and rename it to ``path``."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}{path.suffix}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class SweepFolder:
    """The files of one sweep (module docstring).  Open with :meth:`open`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.points = self.root / POINTS
        self._lock = None

    # --- opening --------------------------------------------------------------------------
    @classmethod
    def open(cls, root, spec: SweepSpec) -> SweepFolder:
        """Create the folder for ``spec``, or reopen one made for the same specification.

        Raises
        ------
        ValueError
            If the folder cannot be written, holds another sweep's specification (the
            message lists what differs), holds point files but no specification, or is
            in use by another run.
        """
        folder = cls(Path(root))
        path = folder.root / SPEC_FILE
        if folder.root.exists() and not folder.root.is_dir():
            raise ValueError(f"out_dir {folder.root} exists and is not a folder")
        if path.exists():
            old = folder.read_spec()
            diff = differences(comparable(old["spec"]), spec.comparable())
            if diff:
                raise ValueError(f"{folder.root} holds a different sweep; use another folder, "
                                 "or the same specification to continue it. What differs:\n"
                                 + "\n".join(f"  - {d}" for d in diff))
        elif folder.points.exists():
            raise ValueError(f"{folder.root} has a {POINTS}/ folder but no {SPEC_FILE}: it is "
                             "not a sweep folder this package wrote; use another folder")
        try:
            folder.points.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"out_dir {folder.root}: cannot write there "
                             f"({exc.strerror or exc})") from None
        folder._acquire()
        for tmp in folder.points.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)
        for tmp in folder.root.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)
        record = {"layout": LAYOUT, "spec": plain(spec.raw), "model": spec.model,
                  "seed": spec.seed, "swept": spec.swept,
                  "points": [{"id": p.id, "values": plain(p.values), "seed": p.seed}
                             for p in spec.points]}
        _atomic(path, lambda tmp: tmp.write_text(json.dumps(record, indent=1, sort_keys=True)))
        return folder

    def _acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover (Windows: no lock)
            return
        fh = open(self.root / ".lock", "a")  # noqa: SIM115 (held until close())
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise ValueError(f"another sweep is running in {self.root}; wait for it or use "
                             "another folder") from None
        self._lock = fh

    def close(self) -> None:
        """Release the folder."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def read_spec(self) -> dict[str, Any]:
        """The contents of ``sweep.json``."""
        path = self.root / SPEC_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} cannot be read as a sweep specification ({exc})") \
                from None

    # --- paths ----------------------------------------------------------------------------
    def point_path(self, pid: str) -> Path:
        return self.points / f"{pid}.npz"

    def failed_path(self, pid: str) -> Path:
        return self.points / f"{pid}.failed.json"

    def batch_path(self, pid: str, first: int, count: int) -> Path:
        return self.points / f"{pid}.batch-{first}-{count}.npz"

    def finished(self) -> set[str]:
        """Ids of the finished points."""
        return {p.name[:-4] for p in self.points.glob("*.npz") if "." not in p.name[:-4]}

    def batches(self, pid: str) -> dict[tuple[int, int], Path]:
        """The saved batches of a point: ``(first, count) -> path``."""
        out = {}
        for path in self.points.glob(f"{pid}.batch-*.npz"):
            first, count = path.name[len(pid) + 7:-4].split("-")
            out[(int(first), int(count))] = path
        return out

    # --- writing --------------------------------------------------------------------------
    def write_point(self, pid: str, result: HeatFluxes, metadata: dict[str, Any]) -> Path:
        """Save a finished point (its metadata in ``parameters["sweep"]``); removes the
        record of an earlier failure and the point's batch files."""
        result.parameters = {**result.parameters, "sweep": metadata}
        path = self.point_path(pid)
        _atomic(path, result.save)
        self.failed_path(pid).unlink(missing_ok=True)
        for batch in self.batches(pid).values():
            batch.unlink(missing_ok=True)
        return path

    def write_failure(self, pid: str, metadata: dict[str, Any]) -> Path:
        """Record a failed point."""
        path = self.failed_path(pid)
        text = json.dumps(_plain(metadata), indent=1, sort_keys=True)
        _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return path

    def write_batch(self, pid: str, first: int, count: int, result: HeatFluxes) -> Path:
        """Save a finished trajectory batch with its mergeable statistics."""
        nodes = sorted(result.statistics.nodes.items())
        arrays = {"t": result.t,
                  "parameters": np.array(json.dumps(_plain(result.parameters), sort_keys=True)),
                  "level": np.array([k[0] for k, _ in nodes]),
                  "start": np.array([k[1] for k, _ in nodes]),
                  "count": np.array([m.count for _, m in nodes]),
                  "mean": np.stack([m.mean for _, m in nodes]),
                  "m2": np.stack([m.m2 for _, m in nodes]),
                  "rho_sum": np.stack([m.rho_sum for _, m in nodes])}
        path = self.batch_path(pid, first, count)
        _atomic(path, lambda tmp: np.savez(tmp, **arrays))
        return path


def read_batch(path: Path) -> HeatFluxes:
    """A batch written by :meth:`SweepFolder.write_batch`, with its statistics, ready for
    :func:`collision.statistics.merge_results`."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    stats = TrajectoryStatistics({
        (int(level), int(start)): Moments(int(count), mean, m2, rho)
        for level, start, count, mean, m2, rho in zip(
            arrays["level"], arrays["start"], arrays["count"], arrays["mean"], arrays["m2"],
            arrays["rho_sum"], strict=True)})
    result = fluxes_from_moments(stats.total(), arrays["t"])
    result.statistics = stats
    result.parameters = json.loads(str(arrays["parameters"]))
    return result
