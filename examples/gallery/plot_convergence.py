"""
Convergence in dt, Richardson extrapolation, and Monte Carlo error bars
=======================================================================

A collision model with time step ``dt`` (collision angle ``theta = sqrt(gamma dt)``)
reproduces the cascaded master equation only as ``dt -> 0``. For exchange collisions with
thermal ancillas the error is first order in ``dt``. ``run(..., extrapolate=True)`` runs
at ``dt`` and ``dt/2`` and returns the Richardson combination ``2 J(dt/2) - J(dt)``,
whose error is second order, together with ``result.dt_error = J(dt) - J(dt/2)``, an
estimate of the plain run's error. The trajectory engine adds a statistical error that
falls as ``1/sqrt(n_trajectories)``; each of its outputs comes with a standard error.

The case is the package's main job: two qubits at ``T_S = 2`` relaxing in a reservoir at
``T = 1``; the reference is :class:`lindblad.CascadeMasterEquation` at the engine's
own saved times.
"""

# %%
# Error against dt, plain and extrapolated
# ----------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import states

rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
model = collision.CascadeCollisionModel("qubit", temperature=1.0)
master = lindblad.CascadeMasterEquation("qubit", temperature=1.0)
T_MAX = 4.0
# The coarsest steps are meant to be coarse: silence the engine's AccuracyWarning.
warnings.simplefilter("ignore", collision.AccuracyWarning)

dts = np.array([0.1, 0.05, 0.025, 0.0125, 0.00625])
plain, extrapolated, estimate = [], [], []
for dt in dts:
    res = model.run(rho0, T_MAX, dt)
    ref = master.heat_fluxes(rho0, res.t).total
    plain.append(np.max(np.abs(res.total - ref)))
    ext = model.run(rho0, T_MAX, dt, extrapolate=True)
    extrapolated.append(np.max(np.abs(ext.total - master.heat_fluxes(rho0, ext.t).total)))
    estimate.append(np.max(np.abs(ext.dt_error.total)))
order_plain = np.polyfit(np.log(dts), np.log(plain), 1)[0]
order_ext = np.polyfit(np.log(dts), np.log(extrapolated), 1)[0]
print(f"fitted order: plain {order_plain:.2f}, extrapolated {order_ext:.2f}")

# %%
# Monte Carlo: standard error against the number of trajectories
# ---------------------------------------------------------------
exact = model.run(rho0, T_MAX, 0.05)
n_traj = np.array([250, 1000, 4000, 16000])
mc_error, mc_stderr = [], []
for n in n_traj:
    mc = model.run(rho0, T_MAX, 0.05, method="trajectories", n_trajectories=int(n), seed=1)
    mc_error.append(np.sqrt(np.mean((mc.total - exact.total) ** 2)))
    mc_stderr.append(np.sqrt(np.mean(mc.stderr.total ** 2)))

# %%
# The figure
# ----------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
ax.loglog(dts, plain, "o-", label=f"plain run (order {order_plain:.2f})")
ax.loglog(dts, estimate, "s:", label="its estimate, |dt_error|")
ax.loglog(dts, extrapolated, "o-", label=f"extrapolate=True (order {order_ext:.2f})")
ax.set(xlabel=r"$\gamma\,dt$", ylabel=r"max$_t |J - J_{\rm Lindblad}|$",
       title="density engine against the master equation")
ax.legend(fontsize=8)
bx.loglog(n_traj, mc_error, "o", label="rms |mean - density engine|")
bx.loglog(n_traj, mc_stderr, "-", label="rms standard error")
bx.set(xlabel="trajectories", ylabel="error of the total flux",
       title="trajectories at dt = 0.05: error ~ 1/sqrt(n)")
bx.legend(fontsize=8)
fig.tight_layout()
plt.show()
