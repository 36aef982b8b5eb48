"""Trajectory engine on 1 and 2 threads, quiet and next to one busy process per core.

Run ``python benchmarks/bench_threads.py`` (a few minutes on two cores; ``--quick``:
5,000 trajectories only, 3 repeats; ``--busy``: the loaded cases only).  Cases: quiet,
one busy process, one busy process per core.  Targets
(issue 17): loaded, ``speedup >= 0.9`` (two threads never slower than one); quiet,
``>= 1.8``.  See :mod:`collision.bench._threads`.
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # no BLAS threads next to numba's
    os.environ.setdefault(_var, "1")

from collision.bench import format_rows, thread_scaling  # noqa: E402
from collision.bench._threads import machine  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    quick = "--quick" in args
    busy = (1, None) if "--busy" in args else (0, 1, None)
    print(f"machine: {machine()}; load average (1 min) before: {os.getloadavg()[0]:.2f}")
    print("2-qubit trajectories (dt = 0.01, 501 saved times), 1 vs 2 threads; speedup = "
          "t_1 / t_2 (targets: >= 0.9 with one busy process per core, >= 1.8 quiet)")
    print(format_rows(thread_scaling((5_000,) if quick else (5_000, 50_000),
                                     3 if quick else 5, busy)))
