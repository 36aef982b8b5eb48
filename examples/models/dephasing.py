"""Dephasing collisions: decoherence without heat.

A qubit (H = sigma_z / 2) meets ancillas prepared in |+> through sqrt(g) sigma_z x sigma_z.
The collision commutes with both energies, so no energy is exchanged (the heat is zero at
every step), yet each ancilla becomes correlated with the qubit's energy basis and
carries phase information away: the coherence decays as exp(-2 g t), the pure dephasing
L[sqrt(g) sigma_z] that the package derives.  (A thermal ancilla would not do: its
sigma_z has a non-zero mean, and the collisions would then have no continuum limit.)

    python examples/models/dephasing.py [--out results/examples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collision  # noqa: E402

SZ = np.diag([-1.0, 1.0]).astype(complex)
PLUS = np.full((2, 2), 0.5, dtype=complex)  # |+><+|
COHERENCE = np.array([[0, 0], [1, 0]], dtype=complex)  # Tr[|e><g| rho] = rho[g, e]


def setup(g: float = 0.5) -> dict:
    """The model, initial state and observables (``collision converge --model``)."""
    m = collision.CollisionModel(
        dims=[2], hamiltonian=0.5 * SZ, streams=PLUS,
        collisions=[collision.Collision(0, np.sqrt(g) * np.kron(SZ, SZ))],
        stream_hamiltonians={"bath": 0.5 * SZ})
    return {"model": m, "rho0": PLUS, "e_ops": {"coherence": COHERENCE}}


def main(out: str | Path = "results/examples", t_max: float = 3.0, dt: float = 0.01,
         g: float = 0.5) -> dict:
    parts = setup(g)
    m, e_ops = parts["model"], parts["e_ops"]
    res = m.run(PLUS, t_max, dt, e_ops=e_ops, save_every=5)
    limit = m.master_equation().expect(e_ops, PLUS, res.t)["coherence"]
    closed = 0.5 * np.exp(-2 * g * res.t)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(res.t, closed, "k-", label="0.5 exp(-2 g t)")
    ax.plot(res.t, np.abs(limit), "C1--", label="derived master equation")
    ax.plot(res.t[::4], np.abs(res.expect["coherence"])[::4], "C0o", ms=3,
            label=f"collisions, dt = {dt:g}")
    ax.set(xlabel="t", ylabel="|rho_ge|", title="coherence of a qubit starting in |+>")
    ax.legend()
    bx.plot(res.t, res.heat["bath"], "C0")
    bx.set(xlabel="t", ylabel="heat into the ancillas per unit time",
           title="no energy flows", ylim=(-1, 1))
    fig.tight_layout()
    path = Path(out) / "dephasing.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    error = float(np.max(np.abs(np.abs(res.expect["coherence"]) - closed)))
    heat = float(np.max(np.abs(res.heat["bath"])))
    print(f"largest |collisions - closed form| = {error:.2g}; largest |heat| = {heat:.1g}; "
          f"wrote {path}")
    return {"path": path, "error": error, "heat": heat,
            "limit_error": float(np.max(np.abs(np.abs(limit) - closed)))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/examples")
    main(parser.parse_args().out)
