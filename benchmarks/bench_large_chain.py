"""Long qubit chains with the trajectory engine (16 qubits x 1000 trajectories, 20 qubits).

Run ``python benchmarks/bench_large_chain.py`` (several minutes on 2 cores).
"""

from collision.bench import format_rows, large_chain

if __name__ == "__main__":
    print(format_rows(large_chain()))
