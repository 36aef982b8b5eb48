"""Cost of a travel time between the subsystems: runs with a delay of 0 to 1000 steps.

Run ``python benchmarks/bench_delay.py`` (the Gaussian engine's figures are in
``collision bench``).
"""

from collision.bench import delay_cost, format_rows

if __name__ == "__main__":
    print(format_rows(delay_cost()))
