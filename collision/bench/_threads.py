"""Threads next to other work: the trajectory engine on 1 and 2 threads, on a quiet
machine and with one competing busy process per core (issue 17, item 8).

Targets: with one busy process per core, two threads are never slower than one
(speedup ``t_1 / t_2 >= 0.9``); on a quiet machine, ``>= 1.8``.

The problem is the ``qubits`` problem of DESIGN.md section 6 (2-qubit cascade, dt = 0.01,
501 saved times).  For every case the JIT is warmed first, then the 1- and 2-thread runs
are interleaved ``repeat`` times (so that a change of load affects both alike) and the
best and the median wall time of each are reported.  The competitors are plain Python
``while True: pass`` processes started by the benchmark (one per core, given a moment to
start) and killed, by their process handles, at the end of the case.  The 1-minute load
average is recorded before they start: on a machine shared with other jobs, "quiet" is
only as quiet as that number says.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time

import numba

from ..drivers import driver
from ..options import engine_options
from ._problems import collision_model, problems

#: Time step of the runs (the 501 saved times of the problem are its steps).
DT = 0.01
#: Code of one competing busy process.
BUSY = "while True:\n    pass\n"


def busy_processes(count: int) -> list[subprocess.Popen]:
    """Start ``count`` busy Python processes (stop them with :func:`stop`)."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.DEVNULL)
             for _ in range(count)]
    time.sleep(0.5)  # let them start spinning
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    """Kill the processes started by :func:`busy_processes` and reap them."""
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


def machine() -> str:
    """The CPU model (``/proc/cpuinfo``, else ``platform``) and the usable cores."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), model)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1
    return f"{model}, {cores} cores"


def _wall(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def thread_scaling(counts: tuple[int, ...] = (5_000, 50_000), repeat: int = 5,
                   busy: tuple[int | None, ...] = (0, None)) -> list[dict]:
    """Wall time of the 2-qubit trajectory run on 1 and 2 threads, quiet and loaded.

    Parameters
    ----------
    counts : tuple of int
        Trajectory counts to time.
    repeat : int
        Interleaved 1-/2-thread repeats per case (best and median reported).
    busy : tuple of int or None
        Competing busy processes of each case: 0 (quiet), a number, or None (one per
        core).

    Returns
    -------
    list of dict
        One row per (competitors, count): times in s, ``speedup_*`` = ``t_1 / t_2``, the
        1-minute load average before the competitors started, the cores.
    """
    prob = problems()["qubits"]
    model = collision_model(prob)
    plan = model.plan(prob.rho0, float(prob.times[-1]), DT)
    threads = [t for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1

    def run(n: int, t: int) -> None:
        opts = engine_options("trajectories", n_trajectories=n, seed=0, n_threads=t)
        driver("trajectories")(model, plan, **opts.as_dict(driver=True))

    for t in threads:  # warm the JIT (or load its cache)
        run(256, t)
    rows = []
    for competitors in busy:
        for n in counts:
            load_before = os.getloadavg()[0]
            procs = busy_processes(cores if competitors is None else competitors)
            try:
                walls: dict[int, list[float]] = {t: [] for t in threads}
                for _ in range(repeat):
                    for t in threads:
                        walls[t].append(_wall(lambda n=n, t=t: run(n, t)))
            finally:
                stop(procs)
            row = {"busy_processes": len(procs),
                   "trajectories": n, "loadavg_1min_before": round(load_before, 2),
                   "cores": cores}
            for t in threads:
                row[f"best_{t}t_s"] = min(walls[t])
                row[f"median_{t}t_s"] = statistics.median(walls[t])
            if len(threads) == 2:
                row["speedup_best"] = row["best_1t_s"] / row["best_2t_s"]
                row["speedup_median"] = row["median_1t_s"] / row["median_2t_s"]
            rows.append(row)
    return rows
