"""The sweep folder: one file per finished point, written atomically.

Layout of ``out_dir``::

    sweep.json                      the specification, its digest, the swept names and
                                    the number of points (the points themselves are made
                                    from the specification: collision.sweep.spec)
    points/<id>.npz                 a finished point: HeatFluxes.save (exact), with
                                    parameters["sweep"] = its metadata, among them its
                                    ``id`` and the sweep's ``spec_digest``
    points/<id>.failed.json         a failed point: error message, traceback, metadata
    points/<id>.batch-<first>-<count>.npz
                                    a finished trajectory batch of an unfinished point
                                    (its mergeable statistics, its id, the spec digest
                                    and its range); removed once merged
    damaged/<time>-<name>           a point or batch file that could not be used, set
                                    aside (never deleted) when a run found it
    table.parquet / table.csv       the table, when asked for

A point or batch file is used only if it loads (:meth:`HeatFluxes.load` checks what it
holds) and records the id of the point it is named after and the digest of the folder's
specification (:attr:`collision.sweep.spec.SweepSpec.digest`): a file copied from
another point or another sweep, cut short or edited is *damaged*.  A run moves a damaged
file into ``damaged/`` with a :class:`DamagedFileWarning` naming it and why, and computes
the point again; :func:`collision.sweep.load` reports it as status ``"damaged"``.

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
import time
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from lindblad import __version__
from lindblad.fluxes import HeatFluxes, _plain

from ..statistics import Moments, TrajectoryStatistics, fluxes_from_moments
from .spec import SweepSpec, comparable, differences, plain, spec_digest

SPEC_FILE = "sweep.json"
POINTS = "points"
DAMAGED = "damaged"
#: Version of the folder layout (recorded in ``sweep.json``).  Layout 1 listed every
#: point in ``sweep.json`` and its point files record no spec digest; it is still read.
LAYOUT = 2
#: What reading a damaged file may raise (HeatFluxes.load raises ValueError for what it
#: detects; the others come from the file system and numpy's zip reader).
READ_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)


class DamagedFileWarning(UserWarning):
    """A point or batch file of a sweep folder could not be used (module docstring)."""


class DamagedFile(ValueError):
    """A point or batch file that cannot be used; the message names it and says why."""


def check_out_dir(out_dir) -> Path:
    """``out_dir`` as a path; refuses an empty one (which would name the current folder).

    Raises
    ------
    ValueError
        For an empty or blank ``out_dir``, or one that is not a path.
    """
    if not isinstance(out_dir, (str, os.PathLike)):
        raise ValueError(f"out_dir must be the path of the sweep's folder, got "
                         f"{type(out_dir).__name__}")
    if not os.fspath(out_dir).strip():
        raise ValueError(f"out_dir must name the sweep's folder, got {os.fspath(out_dir)!r} "
                         "(empty): give a folder such as results/my-sweep")
    return Path(out_dir)


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """This package's version (:data:`lindblad.__version__`: the installed metadata, or
    ``pyproject.toml`` in a source checkout)."""
    return __version__


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

    def __init__(self, root: Path, digest: str | None = None, seed: int | None = None):
        self.root = Path(root)
        self.points = self.root / POINTS
        self.digest, self.seed = digest, seed
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
        folder = cls(check_out_dir(root), spec.digest, spec.seed)
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
        record = {"layout": LAYOUT, "spec": plain(spec.raw), "digest": spec.digest,
                  "model": spec.model, "seed": spec.seed, "swept": spec.swept,
                  "n_points": len(spec.points)}
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

    @classmethod
    def existing(cls, root) -> tuple[SweepFolder, dict[str, Any]]:
        """A folder written by a sweep, for reading, and its ``sweep.json``."""
        folder = cls(check_out_dir(root))
        record = folder.read_spec()
        folder.digest, folder.seed = spec_digest(record["spec"]), record.get("seed")
        return folder, record

    def read_spec(self) -> dict[str, Any]:
        """The contents of ``sweep.json``."""
        path = self.root / SPEC_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} cannot be read as a sweep specification ({exc})") \
                from None
        if not isinstance(record, dict) or not isinstance(record.get("spec"), dict) \
                or not isinstance(record.get("swept"), list):
            raise ValueError(f"{path} is not the sweep.json of a sweep folder (it needs the "
                             "keys spec and swept)")
        return record

    # --- paths ----------------------------------------------------------------------------
    def point_path(self, pid: str) -> Path:
        """File of finished point ``pid``."""
        return self.points / f"{pid}.npz"

    def failed_path(self, pid: str) -> Path:
        """File recording the failure of point ``pid``."""
        return self.points / f"{pid}.failed.json"

    def batch_path(self, pid: str, first: int, count: int) -> Path:
        """File of trajectory batch ``(first, count)`` of point ``pid``."""
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
        """Save a finished point (its metadata in ``parameters["sweep"]``, with its id and
        the spec digest); removes the record of an earlier failure and the point's batch
        files."""
        result.parameters = {**result.parameters, "sweep": {**metadata, "id": pid,
                                                            "spec_digest": self.digest}}
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
        """Save a finished trajectory batch with its mergeable statistics (its id, range
        and the spec digest in ``parameters["sweep_batch"]``)."""
        nodes = sorted(result.statistics.nodes.items())
        stamp = {**result.parameters.get("sweep_batch", {}), "id": pid, "first": first,
                 "count": count, "spec_digest": self.digest}
        parameters = {**result.parameters, "sweep_batch": stamp}
        arrays = {"t": result.t,
                  "parameters": np.array(json.dumps(_plain(parameters), sort_keys=True)),
                  "level": np.array([k[0] for k, _ in nodes]),
                  "start": np.array([k[1] for k, _ in nodes]),
                  "count": np.array([m.count for _, m in nodes]),
                  "mean": np.stack([m.mean for _, m in nodes]),
                  "m2": np.stack([m.m2 for _, m in nodes]),
                  "rho_sum": np.stack([m.rho_sum for _, m in nodes])}
        path = self.batch_path(pid, first, count)
        _atomic(path, lambda tmp: np.savez(tmp, **arrays))
        return path

    # --- reading, damaged files -----------------------------------------------------------
    def read_point(self, pid: str) -> HeatFluxes:
        """The finished point ``pid``, checked (module docstring).

        Raises
        ------
        DamagedFile
            Naming the file and what is wrong with it.
        """
        path = self.point_path(pid)
        try:
            result = HeatFluxes.load(path)
        except READ_ERRORS as exc:
            raise DamagedFile(f"{path} cannot be read: {exc}") from None
        if result.partial:
            raise DamagedFile(f"{path} holds a partial (interrupted) result")
        self._check_stamp(path, result.parameters.get("sweep"), pid)
        return result

    def read_batch(self, pid: str, first: int, count: int) -> HeatFluxes:
        """The saved batch ``(first, count)`` of point ``pid``, checked like a point."""
        path = self.batch_path(pid, first, count)
        try:
            result = read_batch(path)
        except READ_ERRORS as exc:
            raise DamagedFile(f"{path} cannot be read: {exc}") from None
        stamp = result.parameters.get("sweep_batch")
        self._check_stamp(path, stamp, pid)
        if (stamp.get("first"), stamp.get("count")) != (first, count):
            raise DamagedFile(f"{path} holds trajectories {stamp.get('first')} + "
                              f"{stamp.get('count')}, not the batch it is named after")
        return result

    def _check_stamp(self, path: Path, stamp, pid: str) -> None:
        if not isinstance(stamp, dict):
            raise DamagedFile(f"{path} records no sweep metadata: not a file of this sweep")
        if stamp.get("id") != pid:
            raise DamagedFile(f"{path} holds point {stamp.get('id')!r}, not point {pid} it "
                              "is named after (a file copied or renamed)")
        if "spec_digest" not in stamp and self.seed is not None \
                and stamp.get("sweep_seed", self.seed) == self.seed:
            return  # written by layout 1, before files recorded the spec digest
        if stamp.get("spec_digest") != self.digest:
            raise DamagedFile(f"{path} was written by another sweep (spec digest "
                              f"{stamp.get('spec_digest')!r}, this folder's: {self.digest})")

    def read_failure(self, pid: str) -> dict[str, Any]:
        """The record of a failed point."""
        path = self.failed_path(pid)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DamagedFile(f"{path} cannot be read: {exc}") from None
        if not isinstance(record, dict) or record.get("id") != pid:
            raise DamagedFile(f"{path} is not the failure record of point {pid}")
        return record

    def set_aside(self, path: Path, why: str) -> Path:
        """Move a damaged file into ``damaged/`` (named by the time and its name) and
        warn (:class:`DamagedFileWarning`); returns its new path."""
        folder = self.root / DAMAGED
        folder.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = folder / f"{stamp}-{uuid.uuid4().hex[:6]}-{path.name}"
        os.replace(path, target)
        warnings.warn(f"{why}; moved to {target}, the point is computed again",
                      DamagedFileWarning, stacklevel=2)
        return target


def read_batch(path: Path) -> HeatFluxes:
    """A batch written by :meth:`SweepFolder.write_batch`, with its statistics, ready for
    :func:`collision.merge_results`."""
    with open(path, "rb") as fh, np.load(fh) as f:  # closed also when np.load fails
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
