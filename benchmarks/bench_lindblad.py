"""The exact reference and the density engine against QuTiP mesolve (DESIGN.md section 6).

Run ``python benchmarks/bench_lindblad.py`` (needs the ``bench`` extra for QuTiP).
"""

from collision.bench import format_rows, master_equation_engines

if __name__ == "__main__":
    print(format_rows(master_equation_engines()))
