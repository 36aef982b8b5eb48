"""Cost of the heat counting statistics against a plain run of the same problem.

Run ``python benchmarks/bench_heat_statistics.py`` (``--quick``: qubits only, one
repetition); the same suite runs in ``collision bench``.
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from collision.bench import format_rows, heat_statistics_cost  # noqa: E402

if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    print(format_rows(heat_statistics_cost(1 if quick else 3, quick)))
