"""Gaussian-engine throughput (target >= 1e6 collisions/s) and its O(dt) error.

Run ``python benchmarks/bench_gaussian.py``.
"""

from collision.bench import format_rows, gaussian_throughput

if __name__ == "__main__":
    print(format_rows(gaussian_throughput()))
