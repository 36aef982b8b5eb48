"""S1 and S2 coupled directly as well as through the cascade.

Two resonant qubits meet each ancilla of a zero-temperature reservoir in turn (S1 first),
and are also coupled by J (sigma_+ sigma_- + h.c.) in their Hamiltonian.  The cascade
alone carries S1's emission one way, to S2; the direct coupling swaps excitations both
ways, and the two paths interfere: the cascade's own Hamiltonian, i (gamma/2)
(sigma_+1 sigma_-2 - h.c.), which the order of the collisions produces, adds to J.
S1 starts excited.  Collisions (markers, dt = 0.01) against the derived master
equation (lines).

    python examples/models/direct_coupling.py [--out results/examples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collision  # noqa: E402

SM = np.array([[0, 1], [0, 0]], dtype=complex)
SZ = np.diag([-1.0, 1.0]).astype(complex)
EXCHANGE = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)
GROUND = np.diag([1.0, 0.0]).astype(complex)
EXCITED = np.diag([0.0, 1.0]).astype(complex)
I2 = np.eye(2)


def model(coupling: float) -> collision.CollisionModel:
    h = 0.5 * (np.kron(SZ, I2) + np.kron(I2, SZ)) + coupling * (
        np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T))
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=h, streams=GROUND,
        collisions=[collision.Collision(0, EXCHANGE), collision.Collision(1, EXCHANGE)],
        stream_hamiltonians={"bath": 0.5 * SZ})


def setup(coupling: float = 1.0) -> dict:
    """The model, initial state and observables (``collision converge --model``)."""
    return {"model": model(coupling), "rho0": np.kron(EXCITED, GROUND),
            "e_ops": {"S1": np.kron(EXCITED, I2), "S2": np.kron(I2, EXCITED)}}


def main(out: str | Path = "results/examples", t_max: float = 6.0, dt: float = 0.01) -> dict:
    rho0 = np.kron(EXCITED, GROUND)
    e_ops = {"S1": np.kron(EXCITED, I2), "S2": np.kron(I2, EXCITED)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    worst = 0.0
    for coupling, color in zip([0.0, 0.5, 1.0, 2.0], ["C0", "C1", "C2", "C3"], strict=True):
        m = model(coupling)
        res = m.run(rho0, t_max, dt, e_ops=e_ops, save_every=10)
        limit = m.master_equation().expect(e_ops, rho0, res.t)
        for ax, name in zip(axes, e_ops, strict=True):
            worst = max(worst, float(np.max(np.abs(res.expect[name] - limit[name]))))
            ax.plot(res.t, limit[name], color=color, label=f"J = {coupling:g}")
            ax.plot(res.t[::3], res.expect[name][::3], "o", ms=3, color=color)
    for ax, name in zip(axes, e_ops, strict=True):
        ax.set(xlabel="gamma t", title=f"excited population of {name}")
    axes[0].set_ylabel("population")
    axes[1].legend(title="markers: collisions", fontsize=8)
    fig.tight_layout()
    path = Path(out) / "direct_coupling.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"largest |collisions - master equation| = {worst:.2g} (O(dt), dt = {dt:g}); "
          f"wrote {path}")
    return {"path": path, "error": worst}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/examples")
    main(parser.parse_args().out)
