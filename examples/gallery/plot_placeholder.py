"""
Placeholder example
===================

A two-qubit cascade: the collision model's total heat flux against the exact Lindblad
reference (placeholder; the gallery helper replaces it).
"""

import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad

rho_s = lindblad.states.thermal("qubit", 2.0)
rho0 = lindblad.states.product(rho_s, rho_s)
t = np.linspace(0.0, 3.0, 61)
exact = lindblad.CascadeMasterEquation("qubit", temperature=1.0).heat_fluxes(rho0, t)
sim = collision.CascadeCollisionModel("qubit", temperature=1.0).run(rho0, 3.0, 0.05)

fig, ax = plt.subplots()
ax.plot(exact.t, exact.total, label="Lindblad")
ax.plot(sim.t, sim.total, "o", ms=3, label="collision model, dt = 0.05")
ax.set_xlabel(r"$\gamma t$")
ax.set_ylabel(r"total heat flux $J$ ($\hbar\omega\gamma$)")
ax.legend()
plt.show()
