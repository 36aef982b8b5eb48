"""The parallel batch kernels (:mod:`collision._kernels.batch`): trajectories and leaf
statistics taken from a shared counter give bit-identical outputs for any number of
workers and threads, whichever thread runs which trajectory."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import collision.trajectories as tr
from collision import CascadeCollisionModel
from collision._kernels import batch as _kb
from collision._kernels import rng as _rng
from collision.statistics import LEAF
from lindblad import states

B = 150  # three leaves, the last one incomplete


def _batch(n_workers: int, threads: int, cascade: bool):
    """Rows, final states, quanta and leaf moments of one batch of ``B`` trajectories."""
    model = CascadeCollisionModel("qubit", 3, temperature=1.0, cascade=cascade)
    plan = model.plan(states.product(*[states.thermal("qubit", 2.0)] * 3), 0.4, 0.02,
                      save_every=2)
    tables, _, _ = tr.build_tables(model, plan)
    init = tr.initial_ensemble(plan.rho0, tables)
    ss = np.random.SeedSequence(9)
    rng = np.zeros((B, _rng.SFC64_WORDS), dtype=np.uint64)
    _rng.seed_children(tr.seed_prefix(ss), ss.pool_size, 0, rng)
    n_saved = plan.times.size
    rows = np.zeros((B, n_saved, 2, 3))
    psi = np.zeros((B, tables.level_of.shape[0]), dtype=complex)
    quanta = np.zeros((B, n_saved, 1 if cascade else 3), dtype=np.int64)
    zeros = np.zeros((12, n_saved))
    mean = np.full((3, 12, n_saved), np.nan)
    m2 = np.full_like(mean, np.nan)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        _kb.run_batch(rng, tables, init, plan.n_steps, plan.save_every, rows, psi, quanta,
                      n_workers)
        _kb.merge_leaves(rows, B, LEAF, zeros, mean, m2, n_workers)
    finally:
        numba.set_num_threads(before)
    return rows, psi, quanta, mean, m2, zeros


SCHEDULES = {"1 worker, 1 thread": (1, 1), "2 workers, 2 threads": (2, 2),
             "7 workers, 2 threads": (7, 2), "200 workers, 2 threads": (200, 2)}


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
@pytest.mark.parametrize("schedule", list(SCHEDULES), ids=list(SCHEDULES))
def test_batch_outputs_do_not_depend_on_the_schedule(schedule, cascade):
    workers, threads = SCHEDULES[schedule]
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    rows, psi, quanta, mean, m2, zeros = _batch(workers, threads, cascade)
    ref = _batch(1, 1, cascade)
    for got, want in zip((rows, psi, quanta, mean, m2), ref, strict=False):
        np.testing.assert_array_equal(got, want)
    assert np.all(np.isfinite(mean)) and np.any(quanta != 0)
    for j, lo in enumerate(range(0, B, LEAF)):  # every leaf, reduced serially
        m = min(LEAF, B - lo)
        leaf_mean, leaf_m2 = np.empty_like(zeros), np.empty_like(zeros)
        _kb.merge_batch(rows[lo:lo + m], m, 0, zeros, zeros, leaf_mean, leaf_m2)
        np.testing.assert_array_equal(mean[j], leaf_mean)
        np.testing.assert_array_equal(m2[j], leaf_m2)


@pytest.mark.parametrize("preset", [None, "ACTIVE", "passive"], ids=["unset", "ACTIVE", "passive"])
def test_import_makes_waiting_openmp_threads_sleep_unless_told_otherwise(preset):
    """``import collision`` sets ``OMP_WAIT_POLICY=PASSIVE`` before numba's OpenMP threads
    start (spinning threads slow a busy machine down), and keeps a value already set."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset is not None:
        env["OMP_WAIT_POLICY"] = preset
    code = ("import os, collision\n"
            "from collision._jit import jit_settings\n"
            "assert 'libgomp' not in open('/proc/self/maps').read() if "
            "os.path.exists('/proc/self/maps') else True\n"
            "print(os.environ['OMP_WAIT_POLICY'], jit_settings()['OMP_WAIT_POLICY'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    want = preset or "PASSIVE"
    assert out == [want, want]
