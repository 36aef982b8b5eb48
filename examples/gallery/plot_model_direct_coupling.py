"""
Direct coupling as well as the cascade
======================================

Two resonant qubits meet each ancilla of a zero-temperature reservoir in turn (S1
first), and are also coupled directly by ``J (sigma_+ sigma_- + h.c.)`` in their
Hamiltonian. The cascade alone carries S1's emission one way, to S2; the direct coupling
swaps excitations both ways, and the two paths interfere: the cascade's own Hamiltonian,
``i (gamma/2) (sigma_+1 sigma_-2 - h.c.)``, which the order of the collisions produces,
adds to ``J``. S1 starts excited. Collisions (markers, ``dt = 0.01``) against the
derived master equation (lines).
"""

# %%
# The model
# ---------
import matplotlib.pyplot as plt
import numpy as np

import collision

sm = np.array([[0, 1], [0, 0]])
sz = np.diag([-1.0, 1.0])
exchange = np.kron(sm.T, sm) + np.kron(sm, sm.T)
ground, excited, one = np.diag([1.0, 0.0]), np.diag([0.0, 1.0]), np.eye(2)


def coupled(j):
    h = 0.5 * (np.kron(sz, one) + np.kron(one, sz)) + j * exchange   # S1 x S2 exchange
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=h, streams=ground,
        collisions=[collision.Collision(0, exchange), collision.Collision(1, exchange)],
        stream_hamiltonians={"bath": 0.5 * sz})


rho0 = np.kron(excited, ground)
e_ops = {"S1": np.kron(excited, one), "S2": np.kron(one, excited)}

# %%
# Runs against the derived master equation
# ----------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for k, j in enumerate([0.0, 0.5, 1.0, 2.0]):
    model = coupled(j)
    res = model.run(rho0, 6.0, 0.01, e_ops=e_ops, save_every=10)
    limit = model.master_equation().expect(e_ops, rho0, res.t)
    worst = max(np.max(np.abs(res.expect[n] - limit[n])) for n in e_ops)
    print(f"J = {j:g}: largest |collisions - master equation| = {worst:.1e}")
    for ax, name in zip(axes, e_ops, strict=True):
        ax.plot(res.t, limit[name], color=f"C{k}", label=f"J = {j:g}")
        ax.plot(res.t[::3], res.expect[name][::3], "o", ms=3, color=f"C{k}")
for ax, name in zip(axes, e_ops, strict=True):
    ax.set(xlabel=r"$\gamma t$", title=f"excited population of {name}")
axes[0].set_ylabel("population")
axes[1].legend(title="lines: limit; markers: collisions", fontsize=8)
fig.tight_layout()
plt.show()
