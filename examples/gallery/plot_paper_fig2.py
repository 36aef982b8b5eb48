"""
Paper Fig. 2: heat fluxes from thermal initial states
=====================================================

Two identical subsystems S1 -> S2 start in a product of thermal states at temperature
``T_S`` and dissipate into one reservoir at ``T = 1``, modelled as a stream of thermal
ancillas that collide with S1, then S2. The heat that leaves the pair splits into S1's
flux ``J1``, the local part of S2's flux ``J2`` and a correlated part ``J12`` that exists
only because S2 meets ancillas that have already met S1. For ``T_S > T`` heat flows into
the reservoir (``J > 0``), for ``T_S < T`` out of it.

Oscillators run on the Gaussian collision engine (exact on covariance matrices, no Fock
cutoff) against the paper's closed forms (eqs 26-30); qubits run on the density engine
against the exact cascaded master equation (:class:`lindblad.CascadeMasterEquation`).
"""

# %%
# Oscillators: Gaussian engine against the closed forms
# -----------------------------------------------------
# ``lindblad.bose_occupation`` turns a temperature into the mean occupation
# ``N = 1/(e^{omega/T} - 1)``; the closed forms take occupations.
import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import closed_form, states

T_BATH = 1.0
T_S = [0.25, 0.5, 2.0, 4.0]
DT, T_MAX = 0.01, 5.0

n_bath = lindblad.bose_occupation(T_BATH)
oscillators = collision.GaussianCollisionModel(temperature=T_BATH)
osc = {}
for t_s in T_S:
    n_s = lindblad.bose_occupation(t_s)
    res = oscillators.run(states.gaussian_thermal(n_s), T_MAX, DT)
    ref = closed_form.oscillator_fluxes(res.t, n_s, n_bath)
    osc[t_s] = (res, ref)
    print(f"oscillators, T_S = {t_s:g}: largest |J_engine - J_exact| = "
          f"{np.max(np.abs(res.total - ref.total)):.2e}")

# %%
# Qubits: density engine against the cascaded master equation
# ------------------------------------------------------------
qubits = collision.CascadeCollisionModel("qubit", temperature=T_BATH)
master = lindblad.CascadeMasterEquation("qubit", temperature=T_BATH)
qub = {}
for t_s in T_S:
    rho0 = states.product(states.thermal("qubit", t_s), states.thermal("qubit", t_s))
    res = qubits.run(rho0, T_MAX, DT)
    ref = master.heat_fluxes(rho0, res.t)
    qub[t_s] = (res, ref)
    print(f"qubits, T_S = {t_s:g}: largest |J_engine - J_exact| = "
          f"{np.max(np.abs(res.total - ref.total)):.2e}")

# %%
# The figure: lines are exact, markers the collision engines
# -----------------------------------------------------------
fig, axes = plt.subplots(2, 4, figsize=(13, 6), sharex=True)
for row, (name, data) in enumerate([("oscillators", osc), ("qubits", qub)]):
    for col, key in enumerate(["J1", "J2", "J12", "total"]):
        ax = axes[row, col]
        for k, t_s in enumerate(T_S):
            res, ref = data[t_s]
            ax.plot(ref.t, getattr(ref, key), color=f"C{k}", label=f"T_S = {t_s:g}")
            ax.plot(res.t[::20], getattr(res, key)[::20], "o", ms=3, color=f"C{k}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"{name}: {key}")
        if row == 1:
            ax.set_xlabel(r"$\gamma t$")
axes[0, 0].set_ylabel(r"flux ($\hbar\omega\gamma$)")
axes[1, 0].set_ylabel(r"flux ($\hbar\omega\gamma$)")
axes[0, 3].legend(fontsize=8)
fig.suptitle(f"Fig. 2: thermal starts, reservoir T = {T_BATH:g}; lines exact, "
             f"markers collisions (dt = {DT:g})")
fig.tight_layout()
plt.show()
