"""Sweeps: a 64-point sweep on 1 and 2 workers (local processes and a loopback Dask
LocalCluster) against calling ``run`` in a loop, and the per-point overhead.

Run ``python benchmarks/bench_sweep.py`` (about a minute on 2 cores; ``--quick`` for 16
points).  The Dask rows need ``pip install ".[dask]"``.
"""

import sys

from collision.bench import format_rows, sweep_scaling

if __name__ == "__main__":
    print(format_rows(sweep_scaling(quick="--quick" in sys.argv[1:])))
