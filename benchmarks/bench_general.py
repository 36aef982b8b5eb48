"""General collision models against the QuTiP peer, and the paper's cascade on the
exchange and the general kernels (the suites of ``collision bench``, run alone).

    python benchmarks/bench_general.py [--quick]
"""

import argparse

from collision.bench._general import cascade_kernels, density_vs_loop, trajectories_vs_mcsolve
from collision.bench._util import format_rows

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    repeat = 1 if quick else 3
    for suite in (density_vs_loop, trajectories_vs_mcsolve, cascade_kernels):
        print(format_rows(suite(quick, repeat)))
        print()
