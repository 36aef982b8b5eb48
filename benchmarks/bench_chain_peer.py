"""A 10-qubit cascade: our trajectories against QuTiP mcsolve at equal standard error.

Run ``python benchmarks/bench_chain_peer.py`` (needs the ``bench`` extra; a few minutes).
"""

from collision.bench import chain_peer_comparison, format_rows

if __name__ == "__main__":
    print(format_rows(chain_peer_comparison()))
