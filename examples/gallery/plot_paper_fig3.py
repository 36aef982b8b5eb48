"""
Paper Fig. 3: initial correlations speed up or slow down the heat release
=========================================================================

Two subsystems start with the same local states but different correlations between
them, and dissipate into a reservoir at ``T = 0``. The local states alone fix how much
heat is released in total (eq 11), but the correlations change *when* it is released:
the total cascade flux ``J^(c)(t)`` depends on them through the correlated part ``J12``.

(a) Oscillators in the Gaussian state of eq 31, ``N_S = 1``, with
``C13 = C24 = -0.7, 0, 0.7 N_S``: Gaussian collision engine against the closed form.
(b) Qubits in the state of eq 41, ``xi_S = 0.25``, ``Re rho23 = -0.75, 0, 0.75`` (the
paper's symbol, 4x the matrix element): density engine against the closed form of
Sec. VI B. The dashed line is the flux into independent reservoirs (``cascade=False``),
which no correlation can change.
"""

# %%
# Oscillators (eq 31)
# -------------------
import matplotlib.pyplot as plt
import numpy as np

import collision
from lindblad import closed_form, states

N_S, XI_S = 1.0, 0.25
DT, T_MAX = 0.01, 6.0

cascade = collision.GaussianCollisionModel(temperature=0.0)
independent = collision.GaussianCollisionModel(temperature=0.0, cascade=False)
osc = []
for c in (-0.7 * N_S, 0.0, 0.7 * N_S):
    res = cascade.run(states.gaussian_correlated(N_S, c, c), T_MAX, DT)
    osc.append((c, res, closed_form.oscillator_total_flux(res.t, N_S, 0.0, 2 * c)))
ind_osc = independent.run(states.gaussian_thermal(N_S), T_MAX, DT)

# %%
# Qubits (eq 41)
# --------------
qubits = collision.CascadeCollisionModel("qubit", temperature=0.0)
qub = []
for rho23 in (-0.75, 0.0, 0.75):
    res = qubits.run(states.correlated_qubits(XI_S, rho23), T_MAX, DT)
    qub.append((rho23, res, closed_form.qubit_total_flux(res.t, XI_S, rho23)))
    print(f"rho23 = {rho23:+.2f}: largest |J_engine - J_exact| = "
          f"{np.max(np.abs(res.total - qub[-1][2])):.2e}")
ind_qub = collision.CascadeCollisionModel("qubit", temperature=0.0, cascade=False).run(
    states.correlated_qubits(XI_S, 0.0), T_MAX, DT)

# %%
# The figure
# ----------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, (c, res, ref) in enumerate(osc):
    ax.plot(res.t, ref, color=f"C{k}", label=f"C13 = C24 = {c:+.1f}")
    ax.plot(res.t[::25], res.total[::25], "o", ms=4, color=f"C{k}")
ax.plot(ind_osc.t, ind_osc.total, "k--", lw=1, label="independent reservoirs")
ax.set(xlabel=r"$\gamma t$", ylabel=r"$J^{(c)}$ ($\hbar\omega\gamma$)",
       title="(a) oscillators, N_S = 1, T = 0")
ax.legend(fontsize=8)
for k, (rho23, res, ref) in enumerate(qub):
    bx.plot(res.t, ref, color=f"C{k}", label=f"Re rho23 = {rho23:+.2f}")
    bx.plot(res.t[::25], res.total[::25], "o", ms=4, color=f"C{k}")
bx.plot(ind_qub.t, ind_qub.total, "k--", lw=1, label="independent reservoirs")
bx.set(xlabel=r"$\gamma t$", ylabel=r"$J^{(c)}$ ($\hbar\omega\gamma$, physical)",
       title=r"(b) qubits, $\xi_S$ = 0.25, T = 0")
bx.legend(fontsize=8)
fig.suptitle(f"Fig. 3: lines closed forms, markers collisions (dt = {DT:g})")
fig.tight_layout()
plt.show()
