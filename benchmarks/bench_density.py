"""Density-engine throughput for two qubits (target >= 5e6 collisions/s).

Run ``python benchmarks/bench_density.py``; the oscillator comparison with QuTiP is in
``bench_lindblad.py``.
"""

from collision.bench import density_throughput, format_rows

if __name__ == "__main__":
    print(format_rows(density_throughput()))
