"""Mergeable Monte Carlo statistics of trajectory runs.

A trajectory run estimates means and standard errors of many quantities (every
subsystem's local, correlated and own flux, J2, J12 and the total, at every saved time).
:class:`TrajectoryStatistics` holds them in a form that can be merged *exactly*: two runs
over disjoint trajectory ranges of one seed merge to the bit-identical statistics of one
run over both ranges.

How.  Trajectories are grouped in *leaves* of :data:`LEAF` consecutive indices
(trajectory ``j`` is in leaf ``j // LEAF``).  A leaf's count, mean and sum of squared
deviations ``M2`` are computed in one pass, shifted by the leaf's first trajectory (no
cancellation).  Leaves are combined along a fixed binary tree over the leaf index: the
node of level ``k`` at ``s`` (``s`` a multiple of ``2^k``) covers leaves
``s .. s + 2^k - 1`` and its statistics are always ``merge(left child, right child)``
(Chan, Golub & LeVeque 1979).  A set of leaves is stored as its unique decomposition into
maximal complete nodes, and the totals are the left-to-right fold over those nodes.  Every
node is computed the same way whichever run produced its parts, so the result depends
only on the set of trajectories, never on batches, threads, workers or how the range was
split.  A run holds at most one node per level: memory grows with ``log2`` of the number
of trajectories.

The exactness needs the split points on leaf boundaries: a run may end inside a leaf
(its last leaf is then *incomplete*), but a run that starts inside a leaf cannot be merged
exactly with the run that holds the rest of it, and :meth:`TrajectoryStatistics.merge`
refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lindblad._tabular import Tabular
from lindblad.fluxes import FluxStandardErrors, HeatFluxes, _plain

#: Trajectories per leaf: split points of runs that are to be merged are multiples of it.
LEAF = 64
#: Bound on trajectory indices (``first_trajectory + n_trajectories``): the kernels count
#: trajectories and index their random streams with int64 (2**63 - 1), with room to spare.
MAX_TRAJECTORY_INDEX = 2**62


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of a set of samples.

    Attributes
    ----------
    count : int
    mean, m2 : ndarray, shape (n_quantities, n_saved)
    rho_sum : ndarray, shape (D, D) or (0, 0)
        Sum of ``|psi><psi|`` over the trajectories' final states (empty if not kept).
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray
    rho_sum: np.ndarray

    def merge(self, other: Moments) -> Moments:
        """Chan's pairwise update: the moments of both sets (``self`` first).

        Elementwise numpy arithmetic only (no reductions), so the result is the same on
        every machine and for every BLAS.
        """
        n_a, n_b = float(self.count), float(other.count)
        n = n_a + n_b
        delta = other.mean - self.mean
        mean = self.mean + delta * (n_b / n)
        m2 = self.m2 + other.m2 + delta * delta * (n_a * n_b / n)
        if self.rho_sum.shape == other.rho_sum.shape:
            rho_sum = self.rho_sum + other.rho_sum
        else:  # one side kept no final state: neither does the merge
            rho_sum = np.zeros((0, 0), dtype=complex)
        return Moments(self.count + other.count, mean, m2, rho_sum)

    @property
    def stderr(self) -> np.ndarray:
        """Standard error of each mean, ``sqrt(M2 / (n (n - 1)))`` (NaN for n < 2)."""
        if self.count < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(np.maximum(self.m2, 0.0) / (self.count * (self.count - 1)))


@dataclass(repr=False)
class TrajectoryStatistics(Tabular):
    """Statistics of a set of trajectories of one seed, mergeable exactly.

    Attributes
    ----------
    nodes : dict of (level, start) to Moments
        The maximal complete tree nodes (``start`` in leaves, a multiple of
        ``2**level``), plus at most one incomplete leaf at level -1 (``start`` its leaf
        index).
    """

    nodes: dict[tuple[int, int], Moments] = field(default_factory=dict)

    # --- building ------------------------------------------------------------------------
    def add_leaf(self, leaf: int, moments: Moments) -> None:
        """Add the moments of leaf ``leaf`` (trajectories ``leaf * LEAF ..``); complete
        leaves coalesce up the tree."""
        if not 1 <= moments.count <= LEAF:
            raise ValueError(f"a leaf holds 1 to {LEAF} trajectories, got {moments.count}")
        self._insert(0 if moments.count == LEAF else -1, leaf, moments)

    def merge(self, other: TrajectoryStatistics) -> TrajectoryStatistics:
        """The statistics of both sets of trajectories (they must be disjoint).

        Exact: equal bit for bit to the statistics of one run over both sets, as long as
        the runs split at multiples of ``LEAF`` trajectories.
        """
        out = TrajectoryStatistics(dict(self.nodes))
        for (level, start), moments in other.nodes.items():
            out._insert(level, start, moments)
        return out

    def _insert(self, level: int, start: int, moments: Moments) -> None:
        lo, hi = _span(level, start)
        for key in self.nodes:
            a, b = _span(*key)
            if a < hi and lo < b:
                raise ValueError(f"trajectories {lo * LEAF} to {hi * LEAF - 1} are already in "
                                 "these statistics: merge runs over disjoint trajectory ranges "
                                 "(TrajectoryOptions.first_trajectory)")
        if level < 0:
            if any(lv < 0 for lv, _ in self.nodes):
                raise ValueError("only one leaf may be incomplete: runs to be merged must "
                                 f"split at multiples of {LEAF} trajectories")
            self.nodes[(level, start)] = moments
            return
        while (level, start ^ (1 << level)) in self.nodes:
            sibling = start ^ (1 << level)
            other = self.nodes.pop((level, sibling))
            moments = other.merge(moments) if sibling < start else moments.merge(other)
            level, start = level + 1, min(start, sibling)
        self.nodes[(level, start)] = moments

    # --- reading -------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of trajectories."""
        return sum(m.count for m in self.nodes.values())

    def total(self) -> Moments:
        """The moments of all trajectories: the fold over the nodes in leaf order."""
        if not self.nodes:
            raise ValueError("no trajectories in these statistics")
        ordered = [m for _, m in sorted(self.nodes.items(), key=lambda kv: kv[0][1])]
        out = ordered[0]
        for m in ordered[1:]:
            out = out.merge(m)
        return out

    def ranges(self) -> list[tuple[int, int]]:
        """The trajectory index ranges covered, as ``(first, count)`` pairs, merged."""
        spans = sorted((start * LEAF, m.count) for (_, start), m in self.nodes.items())
        out: list[list[int]] = []
        for first, count in spans:
            if out and out[-1][0] + out[-1][1] == first:
                out[-1][1] += count
            else:
                out.append([first, count])
        return [(a, b) for a, b in out]

    # --- notebooks -----------------------------------------------------------------------
    def _frame(self) -> tuple[dict, dict]:
        """One row per tree node in trajectory order: ``level`` (-1: the incomplete
        leaf), ``first_trajectory``, ``count``; parameters ``count`` and ``ranges``."""
        keys = sorted(self.nodes, key=lambda k: k[1])
        return ({"level": np.array([lv for lv, _ in keys], dtype=np.int64),
                 "first_trajectory": np.array([st * LEAF for _, st in keys], dtype=np.int64),
                 "count": np.array([self.nodes[k].count for k in keys], dtype=np.int64)},
                {"count": self.count, "ranges": self.ranges()})


def _span(level: int, start: int) -> tuple[int, int]:
    """Leaves ``[lo, hi)`` of a node (level -1: one incomplete leaf)."""
    return start, start + (1 if level < 0 else 1 << level)


def fluxes_from_moments(total: Moments, t: np.ndarray):
    """Heat fluxes (means) with their standard errors from the moments of a run.

    The quantities are, in order: local (n), correlated (n), own (n), J2, J12, total
    (see :func:`collision._kernels.batch.merge_batch`).
    """
    n = (total.mean.shape[0] - 3) // 3
    se = total.stderr
    errors = FluxStandardErrors(t, se[:n], se[n:2 * n],
                                sums={"subsystem": se[2 * n:3 * n], "J2": se[3 * n],
                                      "J12": se[3 * n + 1], "total": se[3 * n + 2]})
    return HeatFluxes(t, total.mean[:n], total.mean[n:2 * n], stderr=errors)


#: The parameters that define a Monte Carlo run: two results merge only if they agree on
#: every one (:func:`check_same_run`, used by :func:`merge_results` and
#: :func:`collision.counting.merge_statistics`).  The model (every model parameter, and the
#: bath cutoff the run used), the initial state (``initial_state``, a digest of ``rho0`` in
#: the form the run received it: :func:`collision.initial.state_digest`), the time grid,
#: the engine's scheme as resolved (``trajectory_method``: estimator and stepper; "auto"
#: and the scheme it chose are the same run), the histogram groups of counting runs, and
#: the seed lineage (root entropy, spawn key, children spawned before the run).  Not
#: compared, because a trajectory's numbers depend only on the above and its index:
#: ``n_trajectories``, ``first_trajectory`` (the ranges must be disjoint instead,
#: :func:`check_disjoint`), ``target_stderr`` (it decides how many trajectories run, not
#: what they are), ``final_state`` (a merge keeps the final state only if both runs kept
#: it), ``n_threads``, ``batch_size`` and ``progress``.
SAME_RUN = ("method", "system", "n_systems", "gamma", "omega", "temperature", "cutoff", "bath",
            "cascade", "delay", "phase", "bath_cutoff", "bath_tol", "cutoff_tol",
            "initial_state", "dt", "t_max", "save_every", "trajectory_method", "n_groups",
            "seed_entropy", "seed_spawn_key", "first_child")
#: Keys of :data:`SAME_RUN` a result must record to be merged (results of versions before
#: the initial-state digest do not: which state they started from cannot be checked).
REQUIRED = ("initial_state", "seed_entropy")


def _short(key: str, params: dict) -> str:
    """``params[key]`` for an error message: digests and long numbers cut to their first
    digits."""
    if key not in params:
        return "not recorded"
    value = params[key]
    if key == "initial_state" and isinstance(value, str) and value.count(":") == 2:
        form, _, digest = value.split(":")
        return f"{form} {digest[:8]}.."
    text, limit = (value, 40) if isinstance(value, str) else (repr(value), 20)
    return text if len(text) <= limit else text[:limit - 4] + ".."


def check_same_run(first: Any, second: Any) -> None:
    """``ValueError`` unless two Monte Carlo results come from one run definition
    (:data:`SAME_RUN`) and one time grid.

    The message names every key that differs, with both values (shortened), e.g.
    ``cannot merge: the runs differ in initial_state (matrix 3fa2c1d0.. vs product
    9c01ab34..) and dt (0.01 vs 0.02)``.  Parameters loaded from files (plain JSON types)
    compare equal to those of a result in memory.
    """
    pa, pb = first.parameters or {}, second.parameters or {}
    missing = [k for k in REQUIRED if k not in pa or k not in pb]
    if missing:
        raise ValueError(f"cannot merge: the results do not both record "
                         f"{' and '.join(missing)} (written by an older version?), so they "
                         "cannot be checked to come from one run; rerun them")
    differ = [f"{k} ({_short(k, pa)} vs {_short(k, pb)})" for k in SAME_RUN
              if (k in pa) != (k in pb) or _plain(pa.get(k)) != _plain(pb.get(k))]
    if not differ and not np.array_equal(first.t, second.t):
        differ = [f"their saved times ({first.t.size} from {first.t[0]:g} to {first.t[-1]:g} "
                  f"vs {second.t.size} from {second.t[0]:g} to {second.t[-1]:g})"]
    if differ:
        listed = ", ".join(differ[:-1]) + " and " + differ[-1] if len(differ) > 1 else differ[0]
        raise ValueError(f"cannot merge: the runs differ in {listed}; only runs of one model, "
                         "initial state, time grid, estimator and seed over disjoint trajectory "
                         "ranges can be merged")


def trajectory_ranges(result: Any) -> list[tuple[int, int]]:
    """The trajectory ranges of a Monte Carlo result as ``(first, count)`` pairs: its
    ``parameters["ranges"]`` (merged results) or ``first_trajectory, n_trajectories``."""
    p = result.parameters
    if "ranges" in p:
        return [(int(a), int(b)) for a, b in p["ranges"]]
    return [(int(p["first_trajectory"]), int(p["n_trajectories"]))]


def check_disjoint(first: Any, second: Any) -> list[tuple[int, int]]:
    """``ValueError`` if two Monte Carlo results share trajectories (a result merged with
    itself, or overlapping ranges of one seed); else the union of their ranges, sorted
    and joined where they touch."""
    spans = sorted(trajectory_ranges(first) + trajectory_ranges(second))
    for (a, n), (b, m) in zip(spans, spans[1:], strict=False):
        if a + n > b:
            raise ValueError(f"cannot merge: the trajectory ranges {a} to {a + n - 1} and "
                             f"{b} to {b + m - 1} overlap (trajectories {b} to "
                             f"{min(a + n, b + m) - 1} are in both runs): merge runs over "
                             "disjoint trajectory ranges of one seed "
                             "(TrajectoryOptions.first_trajectory), never a result with itself")
    out: list[list[int]] = []
    for a, n in spans:
        if out and out[-1][0] + out[-1][1] == a:
            out[-1][1] += n
        else:
            out.append([a, n])
    return [(a, n) for a, n in out]
