"""The Monte Carlo layer every trajectory engine shares: seeds, trajectory counts, threads.

Trajectory ``j`` of a run with seed ``s`` owns the random stream of child ``j`` of
``numpy.random.SeedSequence(s)`` (built in compiled code, :mod:`collision._kernels.rng`),
so results depend only on the seed and the trajectory's index, never on threads, batches
or workers.  The mergeable statistics are in :mod:`collision.statistics`.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np

from .statistics import MAX_TRAJECTORY_INDEX

#: Number of trajectories when neither ``n_trajectories`` nor ``target_stderr`` is given.
DEFAULT_N_TRAJECTORIES = 1000
#: Upper limit on the trajectories when only ``target_stderr`` is given.
DEFAULT_MAX_TRAJECTORIES = 100_000


def check_n_trajectories(n_trajectories, target_stderr) -> int:
    """The (maximum) number of trajectories, validated."""
    if n_trajectories is None:
        return DEFAULT_N_TRAJECTORIES if target_stderr is None else DEFAULT_MAX_TRAJECTORIES
    if isinstance(n_trajectories, bool) or not isinstance(n_trajectories, numbers.Integral) \
            or n_trajectories < 2:
        raise ValueError(f"n_trajectories must be an integer >= 2 (a standard error needs at "
                         f"least two trajectories), got {n_trajectories!r}")
    if n_trajectories > MAX_TRAJECTORY_INDEX:
        raise ValueError(f"n_trajectories must be at most 2**62 = {MAX_TRAJECTORY_INDEX:.3e} "
                         f"(trajectory indices are 64-bit integers in the kernels), got "
                         f"{n_trajectories}")
    return int(n_trajectories)


def seed_sequence(seed) -> np.random.SeedSequence:
    """The root ``SeedSequence`` of a run: from None (fresh entropy), an integer >= 0, or a
    ``numpy.random.SeedSequence`` (used as is, not modified)."""
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise ValueError(f"seed must be None, an integer >= 0 or a numpy.random.SeedSequence, "
                     f"got {seed!r}")


def _uint32_words(value) -> list[int]:
    """The 32-bit words of an integer >= 0, lowest first (``[0]`` for 0), or of every
    element of a sequence, concatenated (NumPy's SeedSequence entropy convention)."""
    if isinstance(value, numbers.Integral):
        value = int(value)
        words = [value & 0xFFFFFFFF]
        value >>= 32
        while value:
            words.append(value & 0xFFFFFFFF)
            value >>= 32
        return words
    return [w for v in value for w in _uint32_words(v)]


def seed_prefix(ss: np.random.SeedSequence) -> np.ndarray:
    """Entropy words shared by all children of ``ss``: its run entropy zero-padded to the
    pool size, then the words of its spawn key (NumPy's ``get_assembled_entropy``)."""
    run = _uint32_words(ss.entropy)
    run += [0] * max(0, ss.pool_size - len(run))
    return np.array(run + _uint32_words(ss.spawn_key), dtype=np.uint64)


# --- tables -------------------------------------------------------------------------------


class _ThreadCount:
    """Sets numba's thread count for a run (``None``: leave it) and restores it."""

    def __init__(self, n_threads: int | None):
        self._before = numba.get_num_threads()
        if n_threads is not None:
            if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral) \
                    or not 1 <= n_threads <= numba.config.NUMBA_NUM_THREADS:
                raise ValueError(f"n_threads must be an integer from 1 to "
                                 f"{numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS), "
                                 f"got {n_threads!r}")
            numba.set_num_threads(int(n_threads))

    def restore(self) -> None:
        numba.set_num_threads(self._before)
