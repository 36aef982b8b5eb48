"""Trajectory engine: collisions/s on 1 and 2 threads, and QuTiP mcsolve at equal error.

Run ``python benchmarks/bench_trajectories.py`` (about a minute, most of it in
``mcsolve``) or ``python benchmarks/bench_trajectories.py --quick`` (the peer calibrated
with fewer trajectories and scaled; see :mod:`collision.bench._suites`).
"""

import os
import sys

# one BLAS thread (QuTiP's small dense and sparse algebra gains nothing from more, and
# idle BLAS threads spinning next to numba's would distort both wall and CPU times);
# set before numpy is imported
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from collision.bench import format_rows, peer_comparison, trajectory_throughput  # noqa: E402

if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    repeat = 1 if quick else 3
    print("Trajectories vs QuTiP mcsolve at equal standard error of J(t) "
          "(DESIGN.md section 6 problems, dt = 0.01)")
    print(format_rows(peer_comparison(quick, repeat)))
    print()
    print("Throughput, 2 qubits (targets: >= 2e7 collisions/s on one core, >= 1.7x on two)")
    print(format_rows(trajectory_throughput(5000 if quick else 20000, 2 if quick else 5)))
