"""
A travel time between the subsystems
====================================

The paper's master equation assumes that the reservoir's field reaches S2 the instant it
leaves S1. With ``delay=tau`` it travels: ancilla ``j`` meets S1 at step ``j`` and S2 at
step ``j + tau/dt``. Because collisions on different (subsystem, ancilla) pairs commute,
a delayed cascade is S2 relaxing alone for ``tau``, then the zero-delay cascade; the
delayed models stay exact and cost no more than without delay.

Two qubits start in the correlated state of eq 41 (``xi_S = 0.25``,
``Re rho23 = 0.75``) at ``T = 0``. (a) The total flux for several delays: for
``t < tau`` S2 sees only fresh ancillas and the flux is that of independent reservoirs;
at ``t = tau`` S1's emission arrives. (b) The effect of the correlations,
``Delta J = J(rho23) - J(0)``, is damped by S2's own relaxation before it acts: scaled by
``e^{gamma tau / 2}`` and shifted by ``tau``, every delay gives the zero-delay curve.
Lines: :class:`lindblad.CascadeMasterEquation` with the same delay; markers: the
density engine at ``dt = 0.01``.
"""

# %%
# Engine and reference with the same delay
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import states

XI_S, RHO23, DT, T_MAX = 0.25, 0.75, 0.01, 8.0
TAUS = [0.0, 1.0, 2.0, 4.0]
correlated = states.correlated_qubits(XI_S, RHO23)
uncorrelated = states.correlated_qubits(XI_S, 0.0)

runs = {}
for tau in TAUS:
    model = collision.CascadeCollisionModel("qubit", temperature=0.0, delay=tau)
    master = lindblad.CascadeMasterEquation("qubit", temperature=0.0, delay=tau)
    res = model.run(correlated, T_MAX, DT, save_every=5)
    base = model.run(uncorrelated, T_MAX, DT, save_every=5)
    ref = master.heat_fluxes(correlated, res.t)
    ref_base = master.heat_fluxes(uncorrelated, res.t)
    runs[tau] = (res, base, ref, ref_base)
    print(f"tau = {tau:g}: largest |J_engine - J_exact| = "
          f"{np.max(np.abs(res.total - ref.total)):.2e}")

# %%
# The figure
# ----------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, tau in enumerate(TAUS):
    res, base, ref, ref_base = runs[tau]
    ax.plot(ref.t, ref.total, color=f"C{k}", label=rf"$\gamma\tau$ = {tau:g}")
    ax.plot(res.t[::8], res.total[::8], "o", ms=3, color=f"C{k}")
    scale = np.exp(tau / 2)
    bx.plot(ref.t - tau, scale * (ref.total - ref_base.total), color=f"C{k}",
            label=rf"$\gamma\tau$ = {tau:g}")
    bx.plot(res.t[::8] - tau, scale * (res.total - base.total)[::8], "o", ms=3,
            color=f"C{k}")
ax.set(xlabel=r"$\gamma t$", ylabel=r"$J^{(c)}$ ($\hbar\omega\gamma$)",
       title=r"(a) total flux, Re $\rho_{23}$ = 0.75")
ax.legend(fontsize=8)
bx.set(xlabel=r"$\gamma (t - \tau)$", ylabel=r"$e^{\gamma\tau/2}\,\Delta J$",
       title="(b) the correlations' effect, rescaled", xlim=(0, T_MAX - max(TAUS)))
bx.legend(fontsize=8)
fig.suptitle("Delayed cascade: lines master equation, markers density engine (dt = 0.01)")
fig.tight_layout()
plt.show()
