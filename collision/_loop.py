"""Run-time support shared by the collision engines.

* :func:`run_in_chunks`, the one driver loop of the time-stepping engines: it calls a
  compiled kernel chunk by chunk, updates an optional progress bar between chunks, and
  turns a ``KeyboardInterrupt`` (Ctrl-C) into "stop here, report how far we got";
* :func:`chunk_stops`, the chunk boundaries (just after saved steps);
* the warnings the runs raise, :class:`TruncationWarning` and :class:`AccuracyWarning`,
  and :func:`warn`, which attributes a warning to the user's line: the first caller
  outside this package, however deep inside it the warning is raised.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

#: At most this many kernel calls (chunks) per run.
MAX_CHUNKS = 200
#: At least this much work (multiply-adds) per chunk, so chunk overhead stays small.
MIN_CHUNK_WORK = 2_000_000


class TruncationWarning(UserWarning):
    """A Fock cutoff (of the subsystems or of a bosonic ancilla) is too small for the
    populations the run reaches: the results carry a truncation error that a reference
    with the same cutoff shares, so comparing with it does not reveal the error."""


class AccuracyWarning(UserWarning):
    """A result is less accurate than the run suggests: the O(gamma dt) error of a large
    time step, rounding in the fluxes at a tiny time step, or a ``target_stderr`` that
    was not reached."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside the ``collision`` package
    (the user's call of ``run``, ``plan``, ...), wherever inside it the warning arises."""
    frame = sys._getframe(1)
    level = 2  # stacklevel 2 is the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def chunk_stops(n_saved: int, save_every: int, n_steps: int, step_cost: float,
                max_chunks: int = MAX_CHUNKS, min_work: float = MIN_CHUNK_WORK,
                min_chunks: int = 1) -> np.ndarray:
    """Kernel-call boundaries of a run of ``n_steps = (n_saved - 1) save_every + 1`` steps.

    Every chunk but the last ends just after a saved step (``k save_every + 1``), so the
    state at the saved time ``k`` is the input of the chunk's last step.  There are at
    most ``max_chunks`` chunks; each has at least ``min_work`` multiply-adds (``step_cost``
    per step) unless that would leave fewer than ``min_chunks`` of them.

    Returns
    -------
    ndarray of int
        Increasing chunk ends; the last is ``n_steps``.
    """
    intervals = n_saved - 1
    per_saved = max(step_cost, 1.0) * save_every
    by_work = min(math.ceil(min_work / per_saved), math.ceil(intervals / max(min_chunks, 1)))
    saved_per_chunk = max(math.ceil(intervals / max_chunks), by_work, 1)
    k = np.arange(saved_per_chunk, intervals, saved_per_chunk)
    return np.append(k * save_every + 1, n_steps)


class BatchStops(Sequence):
    """The chunk ends ``batch, 2 batch, ..., total`` of a Monte Carlo run (the last batch
    may be shorter), as a lazy sequence: memory does not grow with ``total`` (a list of
    the ends of 10^12 trajectories in batches of 64 would take 125 GB).

    Parameters
    ----------
    batch : int
        Trajectories per batch, >= 1.
    total : int
        Trajectories in all, >= 1.
    """

    def __init__(self, batch: int, total: int):
        self.batch, self.total = int(batch), int(total)

    def __len__(self) -> int:
        return -(-self.total // self.batch)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(k)
        return min((k + 1) * self.batch, self.total)

    def __iter__(self):
        for k in range(len(self)):
            yield min((k + 1) * self.batch, self.total)


def progress_bar(total: int, enabled: bool, desc: str, unit: str = "step", **options):
    """A tqdm progress bar, or None when ``enabled`` is false.

    ``tqdm.auto``: a widget in a Jupyter notebook (with ipywidgets), a text bar on
    stderr in a terminal.
    """
    if not enabled:
        return None
    return tqdm(total=total, unit=unit, desc=desc, **options)


def run_in_chunks(advance: Callable[[int, int], None], stops: Sequence[int],
                  finished: Callable[[], int], *, progress: bool = False, desc: str = "",
                  unit: str = "step",
                  after_chunk: Callable[[int], bool | None] | None = None,
                  postfix: Callable[[], dict] | None = None) -> tuple[int, bool]:
    """Run a resumable kernel chunk by chunk (time steps, or batches of trajectories).

    Parameters
    ----------
    advance : callable ``(start, stop)``
        Runs steps ``start <= s < stop`` (a compiled kernel that keeps its state in the
        caller's arrays).
    stops : sequence of int
        Increasing chunk ends; the last one is the total number of steps.
    finished : callable ``() -> int``
        Number of steps the kernel has finished (e.g. its status array): a kernel that
        completed just before a Ctrl-C was raised still counts.
    progress : bool
        Show a tqdm progress bar (updated between chunks), labelled ``desc``, counting
        ``unit``.
    after_chunk : callable ``(finished_steps) -> bool``, optional
        Called after every completed chunk, e.g. to inspect the state; returning True
        stops the run there (e.g. a Monte Carlo target reached).
    postfix : callable ``() -> dict``, optional
        Values shown after the progress bar, refreshed after every chunk.

    Returns
    -------
    (finished_steps, interrupted)
        ``interrupted`` is True when a ``KeyboardInterrupt`` stopped the loop; the steps
        finished so far are complete and can be reported.
    """
    bar = progress_bar(int(stops[-1]), progress, desc, unit, leave=False)
    interrupted = False
    try:
        for stop in stops:
            advance(finished(), int(stop))
            done = after_chunk is not None and after_chunk(finished())
            if bar is not None:
                bar.update(finished() - bar.n)
                if postfix is not None:
                    bar.set_postfix(**postfix())
            if done:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    return finished(), interrupted
