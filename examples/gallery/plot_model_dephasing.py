"""
Dephasing collisions: decoherence without heat
==============================================

A qubit (``H = sigma_z / 2``) meets ancillas prepared in ``|+>`` through
``sqrt(g) sigma_z x sigma_z``. The collision commutes with both energies, so no energy is
exchanged (the heat is zero at every step), yet each ancilla becomes correlated with the
qubit's energy basis and carries phase information away: the coherence decays as
``exp(-2 g t)``, the pure dephasing ``L[sqrt(g) sigma_z]`` that the package derives. (A
thermal ancilla would not do: its ``sigma_z`` has a non-zero mean, and the collisions
would then have no continuum limit.)
"""

# %%
# The model
# ---------
import matplotlib.pyplot as plt
import numpy as np

import collision

g = 0.5
sz = np.diag([-1.0, 1.0])
plus = np.full((2, 2), 0.5)                   # |+><+|
coherence = np.array([[0, 0], [1, 0]])        # Tr[|e><g| rho] = rho[g, e]
model = collision.CollisionModel(
    dims=[2], hamiltonian=0.5 * sz, streams=plus,
    collisions=[collision.Collision(0, np.sqrt(g) * np.kron(sz, sz))],
    stream_hamiltonians={"bath": 0.5 * sz})

# %%
# Run, derived limit and closed form
# ----------------------------------
res = model.run(plus, 3.0, 0.01, e_ops={"coherence": coherence}, save_every=5)
limit = model.master_equation().expect({"coherence": coherence}, plus, res.t)["coherence"]
closed = 0.5 * np.exp(-2 * g * res.t)
print(f"largest |collisions - closed form| = "
      f"{np.max(np.abs(np.abs(res.expect['coherence']) - closed)):.1e}; "
      f"largest |heat| = {np.max(np.abs(res.heat['bath'])):.1e}")

fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
ax.plot(res.t, closed, "k-", label="0.5 exp(-2 g t)")
ax.plot(res.t, np.abs(limit), "C1--", label="derived master equation")
ax.plot(res.t[::4], np.abs(res.expect["coherence"])[::4], "C0o", ms=3,
        label="collisions, dt = 0.01")
ax.set(xlabel="t", ylabel=r"$|\rho_{ge}|$", title="coherence of a qubit starting in |+>")
ax.legend()
bx.plot(res.t, res.heat["bath"], "C0")
bx.set(xlabel="t", ylabel="heat into the ancillas per unit time", title="no energy flows",
       ylim=(-1, 1))
fig.tight_layout()
plt.show()
