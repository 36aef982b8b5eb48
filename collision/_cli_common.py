"""What every subcommand of :mod:`collision.cli` shares: the usage error, the output folder
(checked before computing, files staged and moved into place on success), where sweeps
run, and the options ``--out``/``--quiet`` and ``--workers``/``--scheduler``/
``--keep-sweeps``."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ._cli_format import default_is


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") \
                from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value
    return parse


def _writable_folder(out: str) -> Path:
    """``--out`` as a folder that exists and can be written (checked before computing)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return path


@contextlib.contextmanager
def _staged(out: Path):
    """A hidden folder inside ``out`` whose files move into ``out`` only on success."""
    stage = Path(tempfile.mkdtemp(prefix=".collision-", dir=out))
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _sweep_execution(args, default_workers: int | None) -> tuple[int | None, str | None]:
    """``--workers`` and ``--scheduler`` of a command that runs sweeps, checked: the local
    processes (``default_workers`` when neither is given) and the Dask scheduler."""
    if args.workers is not None and args.scheduler is not None:
        raise UsageError("--workers sets local processes and --scheduler a Dask cluster: "
                         "give one or the other")
    if args.scheduler is not None and importlib.util.find_spec("distributed") is None:
        raise UsageError("--scheduler needs dask.distributed: pip install "
                         "'cascade-collisions[dask]'")
    if args.scheduler is not None:
        return None, args.scheduler
    return (default_workers if args.workers is None else args.workers), None


def _study_execution(args) -> tuple[int | None, str | None]:
    """``--workers`` (default 1: this process) and ``--scheduler`` of ``figures`` and
    ``delay``, whose model runs are sweeps (pandas needed to run them elsewhere)."""
    workers, scheduler = _sweep_execution(args, default_workers=1)
    if (scheduler is not None or workers != 1) and importlib.util.find_spec("pandas") is None:
        raise UsageError("--workers and --scheduler run the model runs as sweeps, which need "
                         "pandas: pip install 'cascade-collisions[sweep]'")
    return workers, scheduler


def _kept_runs(command: str, sweeps: Path) -> None:
    """Say that the finished runs are kept in ``sweeps`` and how to resume."""
    if sweeps.exists():
        print(f"collision {command}: the finished model runs are kept in {sweeps}; run the "
              "same command again to compute only the missing ones", file=sys.stderr)


def _common(p: argparse.ArgumentParser, progress_bar: bool = True) -> None:
    p.add_argument("--out", default="results", help="output folder, created if needed")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar" if progress_bar else
                   "accepted like the other commands; this one shows no progress bar")



def _study_options(p: argparse.ArgumentParser) -> None:
    """Where the model runs of ``figures`` and ``delay`` (sweeps in OUT/sweeps) run."""
    default_is(p.add_argument("--workers", type=_int_at_least(1), default=None,
                               help="local processes running the model runs"),
                "1: this process, the fastest for --quick")
    p.add_argument("--scheduler", default=None,
                   help="address of a Dask scheduler (e.g. tcp://10.0.0.5:8786) to run the "
                        "model runs on instead (needs the 'dask' extra)")
    p.add_argument("--keep-sweeps", action="store_true",
                   help="keep OUT/sweeps (every model run, collision.sweep.load reads them) "
                        "after a complete run; they are always kept after an interruption "
                        "or a failure, and running again computes only the missing ones")

