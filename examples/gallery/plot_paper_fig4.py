"""
Paper Fig. 4: release times and correlations of two oscillators
================================================================

Two oscillators start in the Gaussian state of eq 31 (local occupation ``N_S = 1``,
correlations ``C13 = <X1 X2>`` and ``C24 = <Y1 Y2>``) and release their energy into a
zero-temperature reservoir. The release time ``tau_p`` is the time by which ``p`` percent
of the total heat ``Q(inf) = 2 N_S`` has left. It depends on the correlations only
through ``C13 + C24`` (panel a), so every class ``C13 + C24 = const`` has one heat-flux
dynamics. Within a class the entanglement (log negativity ``E_N``, panel b) and the
Gaussian discord (``D_G``, panel c) still vary: equal heat flows can hide very different
quantum correlations.

Markers in (a) are release times read off the Gaussian collision engine: its flux at
``t_k`` is the energy released during ``[t_k, t_k + dt]`` over ``dt``, so the step sum
``Q(t_k) = dt sum_{j<k} J_j`` is exact.
"""

# %%
# (a) Release times: closed form and Gaussian engine
# --------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import closed_form, states

N_S, DT = 1.0, 0.01
P_VALUES = np.array([25.0, 50.0, 75.0, 90.0, 95.0])
Q_INF = closed_form.oscillator_total_heat(N_S)


def release_times(t, flux, q_inf, p):
    """First times at which the step sum of ``flux`` reaches ``p`` percent of ``q_inf``."""
    q = np.concatenate([[0.0], np.cumsum(flux[:-1] * np.diff(t))]) / q_inf
    return np.array([np.interp(x / 100, q, t) for x in p])   # q increases at T = 0


c_line = np.linspace(-2 * N_S, 2 * N_S, 41)
tau_line = np.array([closed_form.oscillator_release_time(P_VALUES, N_S, c) for c in c_line])
c_engine = np.linspace(-2 * N_S, 2 * N_S, 7)
engine = collision.GaussianCollisionModel(temperature=0.0)
tau_engine, tau_exact = [], []
for c in c_engine:
    res = engine.run(states.gaussian_correlated(N_S, c / 2, c / 2), 12.0, DT)
    tau_engine.append(release_times(res.t, res.total, Q_INF, P_VALUES))
    tau_exact.append(closed_form.oscillator_release_time(P_VALUES, N_S, c))
tau_engine = np.array(tau_engine)
print(f"largest |tau_engine - tau_exact| = {np.max(np.abs(tau_engine - tau_exact)):.3f}")

# %%
# (b, c) Correlations within each class
# -------------------------------------
# The class ``C13 + C24 = c`` is the segment ``C13 - C24 = d`` with
# ``|d| <= sqrt((2 N_S + 1 - |c|)^2 - 1)`` (the uncertainty relation, eq D2).
classes = np.linspace(-1.9 * N_S, 1.9 * N_S, 15)
ranges = {"E_N": [], "D_G": []}
for c in classes:
    d_max = np.sqrt((2 * N_S + 1 - abs(c)) ** 2 - 1) * (1 - 1e-9)
    covs = [states.gaussian_correlated(N_S, (c + d) / 2, (c - d) / 2)
            for d in np.linspace(-d_max, d_max, 11)]
    for name, measure in (("E_N", lindblad.log_negativity), ("D_G", lindblad.gaussian_discord)):
        values = [measure(cov) for cov in covs]
        ranges[name].append((min(values), max(values), values[5]))

# %%
# The figure
# ----------
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for k, p in enumerate(P_VALUES):
    axes[0].plot(c_line, tau_line[:, k], color=f"C{k}", label=f"p = {p:g}%")
    axes[0].plot(c_engine, tau_engine[:, k], "o", color=f"C{k}")
axes[0].set(xlabel="C13 + C24", ylabel=r"$\gamma\tau_p$",
            title="(a) release times (lines exact, markers engine)")
axes[0].legend(fontsize=8)
for ax, (name, unit) in zip(axes[1:], [("E_N", "nats"), ("D_G", "bits")], strict=True):
    lo, hi, diag = np.array(ranges[name]).T
    ax.fill_between(classes, lo, hi, alpha=0.3, label="range over the class")
    ax.plot(classes, diag, "k-", label="C13 = C24")
    ax.set(xlabel="C13 + C24", ylabel=f"{name} ({unit})",
           title=f"({'b' if name == 'E_N' else 'c'}) {name} within each class")
    ax.legend(fontsize=8)
fig.suptitle(f"Fig. 4: N_S = {N_S:g}, T = 0; Gaussian collision engine at dt = {DT:g}")
fig.tight_layout()
plt.show()
