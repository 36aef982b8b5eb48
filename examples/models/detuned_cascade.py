"""Detuned cascade: how much of S1's energy reaches S2 when S2 is detuned.

Two qubits, S1 at frequency 1 and S2 at 1 + delta, meet each ancilla of a zero-temperature
reservoir in turn (exchange collisions, gamma = 1).  S1 starts excited, S2 in its ground
state: S2 can only be excited by what S1 emits, and a detuned S2 absorbs less of it.
The collision model (markers, dt = 0.01) is compared with the master equation the package
derives from it (lines).

    python examples/models/detuned_cascade.py [--out results/examples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collision  # noqa: E402

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground state first
SZ = np.diag([-1.0, 1.0]).astype(complex)
EXCHANGE = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)  # sigma_+ b + sigma_- b^dag
GROUND = np.diag([1.0, 0.0]).astype(complex)
EXCITED = np.diag([0.0, 1.0]).astype(complex)


def model(delta: float) -> collision.CollisionModel:
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=[0.5 * SZ, 0.5 * (1 + delta) * SZ], streams=GROUND,
        collisions=[collision.Collision(0, EXCHANGE), collision.Collision(1, EXCHANGE)],
        stream_hamiltonians={"bath": 0.5 * SZ})


def setup(delta: float = 0.5) -> dict:
    """The model, initial state and observables (``collision converge --model``)."""
    return {"model": model(delta), "rho0": np.kron(EXCITED, GROUND),
            "e_ops": {"S2 excited": np.kron(np.eye(2), EXCITED)}}


def main(out: str | Path = "results/examples", t_max: float = 6.0, dt: float = 0.01) -> dict:
    rho0 = np.kron(EXCITED, GROUND)
    p2 = {"S2 excited": np.kron(np.eye(2), EXCITED)}
    deltas = [0.0, 0.5, 1.0, 2.0]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    peaks = {}
    worst = 0.0
    for delta, color in zip(deltas, ["C0", "C1", "C2", "C3"], strict=True):
        m = model(delta)
        res = m.run(rho0, t_max, dt, e_ops=p2, save_every=10)
        exact = m.master_equation().expect(p2, rho0, res.t)["S2 excited"]
        worst = max(worst, float(np.max(np.abs(res.expect["S2 excited"] - exact))))
        ax.plot(res.t, exact, color=color, label=f"delta = {delta:g}")
        ax.plot(res.t[::3], res.expect["S2 excited"][::3], "o", ms=3, color=color)
        peaks[delta] = float(res.expect["S2 excited"].max())
    grid = np.linspace(0, 3, 13)
    curve = [model(d).run(rho0, t_max, dt, e_ops=p2, save_every=10).expect["S2 excited"].max()
             for d in grid]
    bx.plot(grid, curve, "o-")
    ax.set(xlabel="gamma t", ylabel="population of S2's excited state",
           title="S1 excited, S2 ground, reservoir at T = 0")
    ax.legend(title="markers: collisions; lines: master equation", fontsize=8)
    bx.set(xlabel="detuning delta (units of omega_1)", ylabel="largest excitation of S2",
           title="what S2 absorbs of S1's emission")
    fig.tight_layout()
    path = Path(out) / "detuned_cascade.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"largest |collisions - master equation| = {worst:.2g} (O(dt), dt = {dt:g}); "
          f"peak of S2 at delta = 0, 2: {peaks[0.0]:.3f}, {peaks[2.0]:.3f}; wrote {path}")
    return {"path": path, "error": worst, "peaks": peaks}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/examples")
    main(parser.parse_args().out)
