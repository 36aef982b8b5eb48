"""Sweep scaling with long points: 64 trajectory points of about 1.3 s each on 1 and 2
workers, so that the parallel efficiency is visible (issue 13).

The suite ``sweep_scaling`` (``benchmarks/bench_sweep.py``) uses points of about 0.05 s,
whose cost is dominated by the start-up of the workers.  Here each point is the sweep of
:func:`collision.bench._suites._sweep_spec` (two qubits, thermal start at T_S = 2, bath
temperature swept, t in [0, 5], dt = 0.01) with 50 000 trajectories on one numba thread
(1000 collisions per trajectory).  The backends, each timed once on the same 64 points:

* ``run() in a loop``: the same runs without the sweep machinery (the reference);
* ``sweep, 1 worker``: :func:`collision.sweep.run` in this process;
* ``local processes``: 2 worker processes, started by the sweep (start-up included);
* ``Dask LocalCluster``: 2 single-threaded worker processes on loopback, started and warmed
  with a 2-point sweep before the timing, as a long-lived cluster would be.

Wall time, total CPU time (this process and every process it started, sampled with
``psutil``), speed-up over the loop and parallel efficiency (speed-up / workers).  The
JIT is warmed (or its cache loaded) in this process before any timing.  The machine load
(``os.getloadavg``) is printed before and after: on a shared machine the efficiency is
only meaningful next to it.

Run ``python benchmarks/sweep_scaling_long.py`` (about 8 minutes on 2 cores; ``--points N``
and ``--trajectories N`` for a shorter run).  Needs ``pip install ".[dask]"`` (the Dask
row, and ``psutil``, which ``dask.distributed`` brings).
"""

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

from collision import sweep
from collision.bench import format_rows
from collision.bench._suites import _sweep_spec
from collision.options import engine_options
from collision.sweep.point import build_model, build_state


class CpuMeter:
    """CPU seconds (user + system) of this process and of every process it started while
    the meter was running (children sampled every ``interval`` seconds; a process that
    ends between two samples loses at most ``interval`` of CPU time)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.me = psutil.Process()
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()

    def _sample(self) -> dict[int, float]:
        out = {}
        for proc in self.me.children(recursive=True):
            try:
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
            except psutil.Error:  # ended meanwhile
                pass
        return out

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._last.update(self._sample())

    def __enter__(self):
        self._start = self._sample()
        self._cpu0 = time.process_time()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._last.update(self._sample())
        self.own = time.process_time() - self._cpu0
        self.children = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())
        self.total = self.own + self.children


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def loop(points, n_trajectories: int) -> None:
    """The runs of the sweep's points, called directly."""
    for p in points:
        model = build_model(p.definition)
        run = p.definition.run
        model.run(build_state(model, p.definition), run["t_max"], run["dt"],
                  save_every=run["save_every"], method="trajectories",
                  options=engine_options("trajectories", n_trajectories=n_trajectories,
                                         seed=p.seed, n_threads=1))


def measure(n_points: int, n_trajectories: int) -> list[dict]:
    spec = _sweep_spec(n_points, n_trajectories)
    warm = _sweep_spec(2, 200)
    points = sweep.validate(spec).points
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = (Path(tmp) / f"s{k}" for k in range(100))
        sweep.run(warm, next(folders), workers=1, progress=False)  # JIT warm-up

        def row(backend: str, workers: int, func, **extra) -> None:
            print(f"... {backend} ({workers}), load {load()}", flush=True)
            start = time.perf_counter()
            with CpuMeter() as cpu:
                func()
            wall = time.perf_counter() - start
            direct = rows[0]["wall_s"] if rows else wall
            rows.append({"backend": backend, "workers": workers, "wall_s": wall,
                         "s_per_point": wall / n_points, "cpu_s": cpu.total,
                         "speedup": direct / wall, "efficiency": direct / wall / workers,
                         "overhead_ms_per_point": 1e3 * (wall - direct) / n_points
                         if workers == 1 else "", **extra, "load_after": load()})

        row("run() in a loop", 1, lambda: loop(points, n_trajectories))
        row("sweep, 1 worker", 1,
            lambda: sweep.run(spec, next(folders), workers=1, progress=False))
        row("local processes", 2,
            lambda: sweep.run(spec, next(folders), workers=2, progress=False))
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            rows.append({"backend": "Dask LocalCluster", "wall_s": "skipped: pip install "
                         "'.[dask]'"})
            return rows
        start = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            startup = time.perf_counter() - start
            sweep.run(warm, next(folders), client=client, progress=False)
            row("Dask LocalCluster", 2,
                lambda: sweep.run(spec, next(folders), client=client, progress=False),
                startup_s=startup)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--trajectories", type=int, default=50_000)
    args = parser.parse_args()
    print(f"{args.points} points x {args.trajectories} trajectories, "
          f"{os.cpu_count()} cores, load before {load()}")
    print(format_rows(measure(args.points, args.trajectories)))
