"""A batch of trajectories on several threads, and the statistics of its leaves.

Parallel work is organised so that a busy machine slows it down gracefully:

* **Few, long parallel regions.**  A batch of trajectories is one parallel region
  (:func:`run_batch`) in which a thread runs whole trajectories through all their steps,
  and its statistics are a second one (:func:`merge_leaves`), each tens of milliseconds
  long for a batch of 1,024 two-qubit trajectories.  Every region ends at a barrier that
  waits for the slowest thread, and on a machine with more runnable processes than cores
  a thread can wait for a scheduler time slice before it runs at all.  The statistics
  used to be three short regions per leaf of 64 trajectories (237 regions of well under
  a millisecond for 5,000 two-qubit trajectories); next to one busy process they took
  1.6-1.9 s on 2 threads against 0.05 s on 1 (7-8 ms per region), and the run was 8x
  slower on 2 threads than on 1.  That cost per region came from OpenMP threads that
  spin while they wait (:mod:`collision._jit` now makes them sleep instead).
* **Self-scheduling.**  numba's ``prange`` splits its range into one equal part per
  thread up front; if one thread shares its core with another process, the other
  finishes its half and waits.  Here ``prange`` runs one *worker* per thread, and the
  workers take trajectories (or leaves) one at a time from a shared atomic counter
  (:func:`fetch_add`), so a thread that gets more CPU does more of the work.
* **Results independent of the schedule.**  Trajectory ``t`` uses only
  ``rng_states[t]`` and writes only its own rows; leaf ``j`` is reduced from its rows
  in trajectory order by whichever thread takes it.  Which thread runs what changes
  nothing: results are bit-identical on any number of threads.

The reductions themselves (:func:`merge_batch`, :func:`add_outer_products`) are serial.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import njit
from .atomic import fetch_add
from .trajectories import run_trajectory


@njit(parallel=True)
def run_batch(rng_states, tb, init, n_steps, save_every, out, final_psi, quanta, n_workers):
    """Run ``rng_states.shape[0]`` independent trajectories on numba's threads.

    One worker per thread takes trajectories from a shared counter until none is left
    (see the module docstring).  Trajectory ``t`` uses only ``rng_states[t]`` and writes
    only ``out[t]``, ``final_psi[t]`` and ``quanta[t]``, so the results do not depend on
    the number of threads or on which thread ran which trajectory.

    Parameters
    ----------
    rng_states : ndarray of uint64, shape (B, 4)
    out : ndarray of float64, shape (B, n_saved, 2, n)
        Trajectory major: each trajectory writes one contiguous block.
    final_psi : ndarray of complex128, shape (B, D) or (B, 0)
    quanta : ndarray of int64, shape (B, n_saved, n_stages) or (B, 0, 0)
        Net quanta gained by the ancillas (see :func:`run_trajectory`), if not empty.
    n_workers : int
        Workers, ``numba.get_num_threads()`` (an argument: called inside a kernel, it
        would keep numba from caching the kernel).
    """
    n = rng_states.shape[0]
    taken = np.zeros(1, dtype=np.int64)
    for _ in prange(max(min(n_workers, n), 1)):
        t = fetch_add(taken, 1)
        while t < n:
            run_trajectory(rng_states[t], tb, init, n_steps, save_every, out, t,
                           final_psi[t], quanta)
            t = fetch_add(taken, 1)


@njit(parallel=True)
def merge_leaves(rows, n_rows, leaf, zeros, mean, m2, n_workers):
    """The statistics of every leaf of a batch: ``(mean[j], m2[j])`` of the rows
    ``j leaf .. min((j + 1) leaf, n_rows) - 1`` (:func:`merge_batch` from no
    trajectories), leaves taken one at a time by one worker per thread.

    Parameters
    ----------
    rows : ndarray, shape (B, n_saved, 2, n)
    zeros : ndarray, shape (3 n + 3, n_saved)
    mean, m2 : ndarray, shape (>= ceil(n_rows / leaf), 3 n + 3, n_saved)
    n_workers : int
        As in :func:`run_batch`.
    """
    n_leaves = (n_rows + leaf - 1) // leaf
    taken = np.zeros(1, dtype=np.int64)
    for _ in prange(max(min(n_workers, n_leaves), 1)):
        j = fetch_add(taken, 1)
        while j < n_leaves:
            lo = j * leaf
            m = min(leaf, n_rows - lo)
            merge_batch(rows[lo:lo + m], m, 0, zeros, zeros, mean[j], m2[j])
            j = fetch_add(taken, 1)


# --- statistics (serial) ----------------------------------------------------------------

@njit
def merge_batch(rows, n_rows, count, mean, m2, new_mean, new_m2):
    """Merge the batch ``rows[:n_rows]`` into running statistics of ``count`` trajectories.

    The quantities of a trajectory at a saved time are, in this order: local (n),
    correlated (n), own = local + correlated (n), J2 = sum(local[1:]), J12 =
    sum(correlated), total = J1 + J2 + J12.

    One pass over the batch accumulates the sums of ``x - c`` and ``(x - c)^2`` with the
    shift ``c`` = the running mean (the first trajectory's value for the first batch),
    which gives the batch mean and sum of squared deviations without cancellation (the
    shift lies within a few standard deviations of the mean).  They are combined with the
    running ``(mean, m2)`` by the pairwise update of Chan, Golub & LeVeque (1979) and
    written into ``(new_mean, new_m2)``.  Saved times are reduced in blocks (so that
    ``rows[r, block]`` is one contiguous read), every value in trajectory order.

    Parameters
    ----------
    rows : ndarray, shape (B, n_saved, 2, n)
        Local (``[:, :, 0]``) and correlated (``[:, :, 1]``) fluxes of every trajectory.
    n_rows : int
        Trajectories in this batch (``<= B``).
    count : int
        Trajectories already in ``(mean, m2)``.
    mean, m2, new_mean, new_m2 : ndarray, shape (3 n + 3, n_saved)
    """
    n_q, n_saved = mean.shape
    n_sys = rows.shape[3]
    n_a = float(count)
    n_b = float(n_rows)
    n_ab = n_a + n_b
    width = 32  # saved times per block: rows[r, block] is one contiguous read
    n_blocks = (n_saved + width - 1) // width
    x = np.empty(n_q)
    shift = np.empty((n_q, width))
    sum1 = np.empty((n_q, width))
    sum2 = np.empty((n_q, width))
    for blk in range(n_blocks):
        s0 = blk * width
        s1 = min(s0 + width, n_saved)
        sum1[:] = 0.0
        sum2[:] = 0.0
        for r in range(n_rows):
            for s in range(s0, s1):
                j2 = 0.0
                j12 = 0.0
                for i in range(n_sys):
                    loc = rows[r, s, 0, i]
                    cor = rows[r, s, 1, i]
                    x[i] = loc
                    x[n_sys + i] = cor
                    x[2 * n_sys + i] = loc + cor
                    if i > 0:
                        j2 += loc
                    j12 += cor
                x[3 * n_sys] = j2
                x[3 * n_sys + 1] = j12
                x[3 * n_sys + 2] = rows[r, s, 0, 0] + j2 + j12
                if r == 0:
                    for q in range(n_q):
                        shift[q, s - s0] = mean[q, s] if count > 0 else x[q]
                for q in range(n_q):
                    dev = x[q] - shift[q, s - s0]
                    sum1[q, s - s0] += dev
                    sum2[q, s - s0] += dev * dev
        for q in range(n_q):
            for s in range(s0, s1):
                d1 = sum1[q, s - s0]
                batch_mean = shift[q, s - s0] + d1 / n_b
                batch_m2 = max(sum2[q, s - s0] - d1 * d1 / n_b, 0.0)
                delta = batch_mean - mean[q, s]
                new_mean[q, s] = mean[q, s] + delta * (n_b / n_ab)
                new_m2[q, s] = m2[q, s] + batch_m2 + delta * delta * (n_a * n_b / n_ab)


@njit
def add_outer_products(psi, n_rows, rho):
    """``rho += sum_t |psi_t><psi_t|`` over ``t < n_rows`` (trajectories in order).

    A trajectory's state lives in a few excitation sectors, so only the products of its
    nonzero amplitudes are added (listed first, per trajectory): the cost is ``sum_t
    nnz_t^2`` instead of ``dim sum_t nnz_t``, and the sums are the same, term by term.
    """
    dim = rho.shape[0]
    nonzero = np.empty((n_rows, dim), dtype=np.int64)
    n_nonzero = np.zeros(n_rows, dtype=np.int64)
    for t in range(n_rows):
        c = 0
        for b in range(dim):
            if psi[t, b] != 0.0:
                nonzero[t, c] = b
                c += 1
        n_nonzero[t] = c
    for a in range(dim):
        for t in range(n_rows):
            ca = psi[t, a]
            if ca == 0.0:
                continue
            for j in range(n_nonzero[t]):
                b = nonzero[t, j]
                rho[a, b] += ca * np.conj(psi[t, b])
