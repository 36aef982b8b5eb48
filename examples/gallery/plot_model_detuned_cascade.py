"""
A detuned cascade
=================

Two qubits, S1 at frequency 1 and S2 at ``1 + delta``, meet each ancilla of a
zero-temperature reservoir in turn through exchange collisions
``sigma_+ b + sigma_- b^dag``. S1 starts excited, S2 in its ground state, so S2 can only
be excited by what S1 emits, and a detuned S2 absorbs less of it.

The model is written in a few lines with :class:`collision.CollisionModel`;
:meth:`~collision.CollisionModel.master_equation` derives its ``dt -> 0`` limit (including
the cascade Hamiltonian that the *order* of the collisions produces), drawn as lines
against the collisions (markers, ``dt = 0.01``).
"""

# %%
# The model
# ---------
import matplotlib.pyplot as plt
import numpy as np

import collision

sm = np.array([[0, 1], [0, 0]])                  # sigma_- = |g><e|, ground state first
sz = np.diag([-1.0, 1.0])
exchange = np.kron(sm.T, sm) + np.kron(sm, sm.T)  # sigma_+ b + sigma_- b^dag
ground, excited = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])


def detuned(delta):
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=[0.5 * sz, 0.5 * (1 + delta) * sz], streams=ground,
        collisions=[collision.Collision(0, exchange), collision.Collision(1, exchange)],
        stream_hamiltonians={"bath": 0.5 * sz})


rho0 = np.kron(excited, ground)
p2 = {"S2": np.kron(np.eye(2), excited)}

# %%
# Runs against the derived master equation
# ----------------------------------------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, delta in enumerate([0.0, 0.5, 1.0, 2.0]):
    model = detuned(delta)
    res = model.run(rho0, 6.0, 0.01, e_ops=p2, save_every=10)
    exact = model.master_equation().expect(p2, rho0, res.t)["S2"]
    print(f"delta = {delta:g}: peak {res.expect['S2'].max():.3f}, largest |collisions - "
          f"master equation| = {np.max(np.abs(res.expect['S2'] - exact)):.1e}")
    ax.plot(res.t, exact, color=f"C{k}", label=f"delta = {delta:g}")
    ax.plot(res.t[::3], res.expect["S2"][::3], "o", ms=3, color=f"C{k}")
grid = np.linspace(0, 3, 7)
peak = [detuned(d).master_equation().expect(p2, rho0, np.linspace(0, 6, 121))["S2"].max()
        for d in grid]
bx.plot(grid, peak, "o-")
ax.set(xlabel=r"$\gamma t$", ylabel="excited population of S2",
       title="S1 excited, S2 ground, T = 0")
ax.legend(title="lines: limit; markers: collisions", fontsize=8)
bx.set(xlabel="detuning delta", ylabel="largest excitation of S2",
       title="what S2 absorbs of S1's emission")
fig.tight_layout()
plt.show()
