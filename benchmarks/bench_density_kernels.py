"""Time per step of the density engine's ``kraus`` kernel, and ns per counted multiply-add.

Run ``python benchmarks/bench_density_kernels.py [--save FILE | --compare FILE]``.  For
each case: the scheme ``auto`` picks, and ``DensityEngine(model, plan, scheme="kraus")``
timed on ``engine.run()`` after a warm run (best of 3, wall and CPU time); the counted
multiply-adds per step are ``engine.kraus_cost`` (:func:`collision.density.kraus_cost`).
Where the ``sequential`` scheme fits, it is timed the same way, per counted (unweighted)
multiply-add of ``engine.sequential.step_cost``: the ratio of the two is
``SEQUENTIAL_WEIGHT`` (or ``LOCAL_CHANNEL_WEIGHT``) of :mod:`collision.density`.
``--save`` stores the fluxes and final states, ``--compare`` prints the largest
difference from a stored run (a kernel rewrite must agree to rounding).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import collision
from collision.bench._problems import collision_model, problems, thermal_bath_oscillators
from collision.density import MAX_SEQUENTIAL_BYTES, DensityEngine
from lindblad import states


def cases() -> list[tuple]:
    """(name, model, rho0, t_max, dt): the benchmark problems and two other shapes."""
    osc = problems()["oscillators"]
    warm = thermal_bath_oscillators()
    three = collision.CascadeCollisionModel("oscillator", 3, temperature=0.5, cutoff=8)
    rho3 = states.product(*[states.thermal("oscillator", 0.5, 8)] * 3)
    qubits = collision.CascadeCollisionModel("qubit", 10, temperature=0.0)
    chain = [np.diag([0.0, 1.0]).astype(complex)] + [np.diag([1.0, 0.0]).astype(complex)] * 9
    return [("2 osc, cutoff 20, T=0", collision_model(osc), osc.rho0, 5.0, 0.01),
            ("2 osc, cutoff 20, T=1", collision_model(warm), warm.rho0, 0.3, 0.01),
            ("3 osc, cutoff 8, T=0.5", three, rho3, 0.3, 0.01),
            ("10 qubits, T=0, S1 excited", qubits, chain, 5.0, 0.01)]


def timed(fn, repeat: int = 3) -> tuple[float, float, object]:
    """Best wall and CPU time of ``fn()`` over ``repeat`` calls after a warm call."""
    out = fn()
    wall, cpu = np.inf, np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", help="store fluxes and final states (npz)")
    parser.add_argument("--compare", help="compare with a stored run (npz)")
    args = parser.parse_args()
    stored = dict(np.load(args.compare)) if args.compare else {}
    results = {}
    print(f"{'case':28s} {'auto':>14s} {'steps':>6s} {'madds/step':>11s} {'ms/step':>9s} "
          f"{'cpu ms/step':>11s} {'ns/madd':>8s} {'seq ms/step':>11s} {'seq ns/madd':>11s}")
    for i, (name, model, rho0, t_max, dt) in enumerate(cases()):
        plan = model.plan(rho0, t_max, dt)
        auto = DensityEngine(model, plan).scheme
        engine = DensityEngine(model, plan, scheme="kraus")
        wall, cpu, res = timed(engine.run)
        n = plan.n_steps
        cost = engine.kraus_cost
        seq = ""
        if engine.sequential.joint_mode and \
                engine.sequential.memory_bytes <= MAX_SEQUENTIAL_BYTES:
            seq_wall = timed(DensityEngine(model, plan, scheme="sequential").run)[0]
            seq = (f" {1e3 * seq_wall / n:11.3f} "
                   f"{1e9 * seq_wall / n / engine.sequential.step_cost:11.2f}")
        print(f"{name:28s} {auto:>14s} {n:6d} {cost:11.3g} {1e3 * wall / n:9.3f} "
              f"{1e3 * cpu / n:11.3f} {1e9 * wall / n / cost:8.2f}{seq}")
        results[f"flux{i}"] = np.concatenate([res.local, res.correlated])
        results[f"final{i}"] = res.final_state if res.final_state is not None else np.zeros(1)
    if args.save:
        np.savez(args.save, **results)
    for key, value in stored.items():
        scale = max(np.max(np.abs(value)), 1e-300)
        print(f"{key}: max |diff| / max |value| = "
              f"{np.max(np.abs(results[key] - value)) / scale:.2e}")


if __name__ == "__main__":
    main()
