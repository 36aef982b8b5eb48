"""A squeezed reservoir: an oscillator relaxes to the squeezed state of its ancillas.

An oscillator (Fock cutoff 14) exchanges excitations, sqrt(gamma) (a^dag b + a b^dag), with
ancillas prepared in squeezed vacuum S(r)|0> (r = 0.4, 12 Fock levels).  Written in the
interaction picture (H = 0), the oscillator's quadrature variances relax from the vacuum
value 1/2 to those of the ancillas, e^{-2r}/2 and e^{2r}/2, with X and P exchanged (a
collision maps a -> cos(theta) a - i sin(theta) b: the factor -i turns the ancillas'
X-squeezing into the oscillator's P-squeezing).  The reservoir imprints its squeezing.
Squeezed vacuum has <b> = 0, so the collisions have a continuum limit (the squeezed-bath
master equation); its odd moments vanish, so the runs converge at order 1.

    python examples/models/squeezed_reservoir.py [--out results/examples]
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


def lowering(d: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, d)), 1).astype(complex)


def squeezed_vacuum(r: float, d: int) -> np.ndarray:
    """S(r)|0><0|S(r)^dag on d Fock levels (the weight beyond them, 2e-8 here, dropped)."""
    psi = np.zeros(d, dtype=complex)
    for m in range((d + 1) // 2):
        psi[2 * m] = ((-math.tanh(r)) ** m * math.sqrt(math.factorial(2 * m))
                      / (2**m * math.factorial(m)))
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


def setup(r: float = 0.4) -> dict:
    """The model, initial state (vacuum) and observables (``collision converge --model``)."""
    d_sys, d_anc = 14, 12
    a, b = lowering(d_sys), lowering(d_anc)
    m = collision.CollisionModel(
        dims=[d_sys], streams=squeezed_vacuum(r, d_anc),
        collisions=[collision.Collision(0, np.kron(a.conj().T, b) + np.kron(a, b.conj().T))])
    x = (a + a.conj().T) / math.sqrt(2)
    p = 1j * (a.conj().T - a) / math.sqrt(2)
    vacuum = np.zeros((d_sys, d_sys), dtype=complex)
    vacuum[0, 0] = 1
    return {"model": m, "rho0": vacuum, "e_ops": {"<X^2>": x @ x, "<P^2>": p @ p}}


def main(out: str | Path = "results/examples", t_max: float = 4.0, dt: float = 0.01,
         r: float = 0.4) -> dict:
    parts = setup(r)
    m, vacuum, e_ops = parts["model"], parts["rho0"], parts["e_ops"]
    res = m.run(vacuum, t_max, dt, e_ops=e_ops, save_every=5)
    limit = m.master_equation().expect(e_ops, vacuum, res.t)
    fig, ax = plt.subplots(figsize=(6, 4))
    for (name, values), color in zip(res.expect.items(), ["C0", "C3"], strict=True):
        ax.plot(res.t, limit[name], color=color, label=f"{name}, master equation")
        ax.plot(res.t[::5], values[::5], "o", ms=3, color=color, label=f"{name}, collisions")
    for value in (math.exp(-2 * r) / 2, math.exp(2 * r) / 2):
        ax.axhline(value, color="k", lw=0.6, ls=":")
    ax.set(xlabel="gamma t", ylabel="quadrature variance",
           title=f"vacuum in a squeezed reservoir (r = {r:g}); dotted: exp(+-2r)/2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "squeezed_reservoir.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    error = max(float(np.max(np.abs(res.expect[k] - limit[k]))) for k in e_ops)
    final = {k: float(v[-1]) for k, v in res.expect.items()}
    print(f"largest |collisions - master equation| = {error:.2g} (O(dt)); final variances "
          f"{final['<X^2>']:.4f}, {final['<P^2>']:.4f} (ancillas: "
          f"{math.exp(-2 * r) / 2:.4f}, {math.exp(2 * r) / 2:.4f}); order "
          f"{m.continuum_order:g}; wrote {path}")
    return {"path": path, "error": error, "final": final}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/examples")
    main(parser.parse_args().out)
