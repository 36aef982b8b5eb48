"""Memory and time of delayed runs against the delay (issue 17, item 5).

Two qubits (T = 0.5, a correlated initial state), dt = 0.01, ``--steps`` steps (default
300, t_max = 3), on the density engine and on the trajectory engine (``--trajectories``,
default 1000, one thread), with a link delay of 10, 1e3, 1e5 and 1e7 steps.  Every case
runs in a fresh subprocess: it first runs a short delayed warm-up (numba compilation and
caches), then the case, and reports

* ``traced MB``: the peak of the Python and numpy allocations during the case
  (``tracemalloc``; robust, the number to compare);
* ``RSS growth MB``: how far the process's peak resident memory
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) rose above its peak after the warm-up
  (0 when the case needs no more than the warm-up did; it also sees memory numba
  allocates, which ``tracemalloc`` does not);
* ``wall s``: the case's wall time (indicative only on a shared machine).

Run ``python benchmarks/bench_delay_memory.py`` (about a minute).  ``--delays 10,1e3,1e5``
limits the cases (before issue 17 the density engine needed about 90 MB per 1e6 steps
of delay, measured: 9.3 MB at 1e5, 89 MB at 1e6).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASE = r"""
import json, resource, sys, time, tracemalloc, warnings
import numpy as np
import collision
warnings.simplefilter("ignore")
method, steps, n_steps, n_traj = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
dt = 0.01
rng = np.random.default_rng(1)
a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
rho = a @ a.conj().T
rho /= np.trace(rho)
kw = {} if method == "density" else {"n_trajectories": n_traj, "seed": 1,
                                     "options": collision.TrajectoryOptions(n_threads=1)}

def run(delay_steps, steps_run):
    model = collision.CascadeCollisionModel("qubit", temperature=0.5, delay=delay_steps * dt)
    return model.run(rho, steps_run * dt, dt, method=method, **kw)

run(3, 20)  # warm-up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
run(steps, n_steps)
wall = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"traced": traced, "rss_growth_kb": after - before, "wall": wall}))
"""


def run_case(method: str, delay_steps: float, n_steps: int, n_trajectories: int) -> dict:
    """One case in a fresh interpreter; returns its measurements."""
    out = subprocess.run([sys.executable, "-c", CASE, method, repr(delay_steps), str(n_steps),
                          str(n_trajectories)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="10,1e3,1e5,1e7",
                        help="link delays in steps, comma separated")
    parser.add_argument("--steps", type=int, default=300, help="steps of the run")
    parser.add_argument("--trajectories", type=int, default=1000)
    args = parser.parse_args(argv)
    delays = [float(x) for x in args.delays.split(",")]
    print(f"2 qubits, dt = 0.01, {args.steps} steps; trajectories: {args.trajectories}, "
          "1 thread; each case in a fresh process")
    print(f"{'engine':<13}{'delay (steps)':>14}{'traced MB':>11}{'RSS growth MB':>15}"
          f"{'wall s':>9}")
    for method in ("density", "trajectories"):
        for d in delays:
            r = run_case(method, d, args.steps, args.trajectories)
            if "error" in r:
                print(f"{method:<13}{d:>14.0e}  failed: {r['error'][:80]}")
                continue
            # ru_maxrss is in kB on Linux (bytes on macOS)
            scale = 1e3 if sys.platform != "darwin" else 1.0
            print(f"{method:<13}{d:>14.0e}{r['traced'] / 1e6:>11.2f}"
                  f"{r['rss_growth_kb'] * scale / 1e6:>15.1f}{r['wall']:>9.3f}")


if __name__ == "__main__":
    main()
