"""Throughput and accuracy of the Gaussian (covariance-matrix) collision engine.

Run ``python benchmarks/bench_gaussian.py`` (``--quick`` for fewer, shorter runs).

For each case (chain length n, time step dt, final time t_max) the script reports
collisions per second, where one collision is one ancilla meeting one subsystem (n per
step), both end to end (``GaussianCollisionModel.run``: validation, allocation, kernel)
and for the compiled time loop alone.  Every figure is the best of several runs after
a warm-up run, so the JIT compile is never timed; the CPU time of the best run is shown
next to its wall time (on a shared machine it is the fairer figure).
Target (DESIGN.md section 6): >= 1e6 collisions/s.

It also prints the largest deviation of the total flux from the exact
``GaussianMasterEquation`` for the reference case (n = 2, dt = 1e-3, t in [0, 5]): the
engine has no truncation, so this is the O(dt) collision-model error alone.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from collision._kernels.gaussian import run_gaussian_collisions
from collision.gaussian import GaussianCollisionModel
from lindblad.states import gaussian_correlated, gaussian_thermal


def best_of(func, repeat: int) -> tuple[float, float, object]:
    """Best (wall, cpu) time of ``repeat`` calls, and the last result."""
    best_wall, best_cpu, out = math.inf, math.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = func()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    return best_wall, best_cpu, out


def kernel_only(model: GaussianCollisionModel, cov0: np.ndarray, t_max: float, dt: float,
                save_every: int):
    """A closure running just the compiled loop (arrays allocated once, outside)."""
    n = model.n_systems
    n_saved = model.saved_times(t_max, dt, save_every).size
    work = np.zeros((2 * n + 2, 2 * n + 2))
    local = np.zeros((n, n_saved))
    corr = np.zeros((n, n_saved))
    final = np.zeros((2 * n, 2 * n))
    theta = math.sqrt(model.gamma * dt)

    def run():
        work[:] = 0.0
        work[:2 * n, :2 * n] = cov0
        run_gaussian_collisions(work, n, math.cos(theta), math.sin(theta), model.n_bath,
                                model.omega / dt, model.cascade, save_every, local, corr, final)
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7

    # warm the JIT (compiles or loads the cached machine code)
    GaussianCollisionModel().run(gaussian_thermal(1.0), 0.01, 0.01)

    cases = [(2, 1e-3, 5.0), (2, 1e-3, 500.0), (2, 1e-4, 500.0), (4, 1e-3, 100.0),
             (8, 1e-3, 100.0), (32, 1e-3, 20.0)]
    if args.quick:
        cases = [(2, 1e-3, 5.0), (2, 1e-3, 100.0), (8, 1e-3, 20.0)]
    print("Gaussian collision engine (T = 1, cascade, save every 10 steps)")
    print(f"{'n':>3} {'dt':>7} {'t_max':>6} {'collisions':>11} {'run() wall':>11} "
          f"{'cpu':>8} {'coll/s run()':>13} {'coll/s kernel':>14}")
    for n, dt, t_max in cases:
        model = GaussianCollisionModel(n, temperature=1.0)
        cov0 = gaussian_thermal(1.0, n)
        cov0[0, 2] = cov0[2, 0] = cov0[1, 3] = cov0[3, 1] = 0.5
        steps = (model.saved_times(t_max, dt, 10).size - 1) * 10 + 1
        collisions = steps * n
        wall, cpu, _ = best_of(lambda m=model, c=cov0, t=t_max, d=dt: m.run(c, t, d, 10),
                               repeat)
        k_wall, _, _ = best_of(kernel_only(model, cov0, t_max, dt, 10), repeat)
        print(f"{n:>3} {dt:>7.0e} {t_max:>6g} {collisions:>11.3g} {wall:>10.4f}s "
              f"{cpu:>7.4f}s {collisions / wall:>13.3g} {collisions / k_wall:>14.3g}")

    model = GaussianCollisionModel(temperature=1.0)
    cov0 = gaussian_correlated(1.0, 0.5, 0.5)
    res = model.run(cov0, 5.0, 1e-3, save_every=10)
    ref = model.master_equation().heat_fluxes(cov0, res.t)
    errors = {k: np.max(np.abs(getattr(res, k) - getattr(ref, k)))
              for k in ("J1", "J2", "J12", "total")}
    print("max |J - J_exact| over t in [0, 5], n = 2, dt = 1e-3, N_S = 1, C13 = C24 = 0.5, "
          "T = 1: " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))


if __name__ == "__main__":
    main()
