"""Two reservoirs at different temperatures on a two-qubit chain: a steady heat current.

S1 meets the ancillas of a hot stream (T_h), S2 those of a cold stream (T_c = 0.5); the
qubits (frequency 1) are coupled directly by g (sigma_+ sigma_- + h.c.), g = 0.5.  Every
ancilla carries away the energy it gains, so at the steady state the hot stream's heat is
negative (it feeds the chain) and the cold stream's positive: heat flows through the chain
from hot to cold.  The collision model's currents (dt = 0.01) are compared with the
steady state of the master equation it derives, where the current into stream r is
``-Tr[H_S D_r(rho_ss)]`` (``D_r`` that stream's dissipator, itself the limit of a model
with that stream's collisions alone).

    python examples/models/two_reservoirs.py [--out results/examples]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collision  # noqa: E402

SM = np.array([[0, 1], [0, 0]], dtype=complex)
SZ = np.diag([-1.0, 1.0]).astype(complex)
EXCHANGE = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)
I2 = np.eye(2)


def thermal(temperature: float) -> np.ndarray:
    p_excited = 1 / (1 + math.exp(1 / temperature))
    return np.diag([1 - p_excited, p_excited]).astype(complex)


def chain(t_hot: float, t_cold: float, g: float = 0.5, which=("hot", "cold"),
          coupled: bool = True) -> collision.CollisionModel:
    h = 0.5 * (np.kron(SZ, I2) + np.kron(I2, SZ))
    if coupled:
        h = h + g * (np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T))
    sites = {"hot": 0, "cold": 1}
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=h,
        streams={"hot": thermal(t_hot), "cold": thermal(t_cold)},
        collisions=[collision.Collision(sites[r], EXCHANGE, stream=r) for r in which],
        stream_hamiltonians={"hot": 0.5 * SZ, "cold": 0.5 * SZ})


def steady_currents(t_hot: float, t_cold: float) -> dict[str, float]:
    """``-Tr[H_S D_r(rho_ss)]`` for each stream, from the derived master equations."""
    rho = chain(t_hot, t_cold).master_equation().steady_state()
    h_s = 0.5 * (np.kron(SZ, I2) + np.kron(I2, SZ))
    out = {}
    for r in ("hot", "cold"):
        dissipator = chain(t_hot, t_cold, which=(r,), coupled=False).master_equation()
        drho = (dissipator.liouvillian() @ rho.reshape(-1)).reshape(4, 4)
        out[r] = float(-np.trace(h_s @ drho).real)
    return out


def setup(t_hot: float = 2.0, t_cold: float = 0.5) -> dict:
    """The model, initial state and observables (``collision converge --model``)."""
    return {"model": chain(t_hot, t_cold), "rho0": np.kron(thermal(t_cold), thermal(t_cold)),
            "e_ops": {"E1": 0.5 * np.kron(SZ, I2), "E2": 0.5 * np.kron(I2, SZ)}}


def main(out: str | Path = "results/examples", t_max: float = 12.0, dt: float = 0.01,
         t_cold: float = 0.5) -> dict:
    start = np.kron(thermal(t_cold), thermal(t_cold))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for t_hot, color in zip([1.0, 2.0, 4.0], ["C0", "C1", "C3"], strict=True):
        res = chain(t_hot, t_cold).run(start, t_max, dt, save_every=10)
        ref = steady_currents(t_hot, t_cold)
        ax.plot(res.t, res.heat["cold"], color=color, label=f"T_h = {t_hot:g}: cold stream")
        ax.plot(res.t, res.heat["hot"], color=color, ls="--", label="hot stream")
        ax.axhline(ref["cold"], color=color, lw=0.6, ls=":")
        ax.axhline(ref["hot"], color=color, lw=0.6, ls=":")
    hot_temps = np.linspace(0.5, 5, 10)
    currents = [steady_currents(th, t_cold)["cold"] for th in hot_temps]
    final = [chain(th, t_cold).run(start, t_max, dt, save_every=100).heat["cold"][-1]
             for th in hot_temps]
    bx.plot(hot_temps, currents, "k-", label="derived master equation, steady state")
    bx.plot(hot_temps, final, "o", label=f"collisions at t = {t_max:g}, dt = {dt:g}")
    ax.set(xlabel="gamma t", ylabel="heat carried away per unit time",
           title="heat into the streams (dotted: steady state)")
    ax.legend(fontsize=7)
    bx.set(xlabel="T_h (T_c = 0.5)", ylabel="steady heat current into the cold stream",
           title="current through the chain")
    bx.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "two_reservoirs.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    error = float(np.max(np.abs(np.array(final) - np.array(currents))))
    print(f"steady current into the cold stream at T_h = 5: {currents[-1]:.4f} (master "
          f"equation), {final[-1]:.4f} (collisions); largest difference {error:.2g}; "
          f"wrote {path}")
    return {"path": path, "error": error, "currents": currents}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/examples")
    main(parser.parse_args().out)
