"""
Paper Fig. 6: release times and discord of two qubits
======================================================

Two qubits start in the state of eq 41 (local polarisation ``xi_S = 0.25``, the coherence
``rho23`` between ``|eg>`` and ``|ge>`` in the paper's symbol) and release their energy
into a zero-temperature reservoir. (a) The release time ``tau_p``, by which ``p`` percent
of ``Q(inf) = omega (1 - xi_S)`` has left, depends only on ``Re rho23``: positive
coherence speeds the release up (superradiance-like), negative slows it down.
(b) Within a class of equal ``Re rho23`` the imaginary part still changes the discord
``D_Z``: the heat flow does not see it.

Lines: the closed forms of Sec. VI B. Markers: the density engine at ``dt = 0.01``, its
release times from the exact step sum of its flux.
"""

# %%
# (a) Release times
# -----------------
import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import closed_form, states

XI_S, DT = 0.25, 0.01
P_VALUES = np.array([25.0, 50.0, 75.0, 90.0, 95.0])
BOUND = 1 - XI_S**2                       # |rho23| <= 1 - xi_S^2 (eq 42)
Q_INF = closed_form.qubit_total_heat(XI_S)


def release_times(t, flux, q_inf, p):
    """First times at which the step sum of ``flux`` reaches ``p`` percent of ``q_inf``."""
    q = np.concatenate([[0.0], np.cumsum(flux[:-1] * np.diff(t))]) / q_inf
    out = []
    for target in np.asarray(p) / 100:
        k = int(np.argmax(q >= target))
        out.append(t[k - 1] + (target - q[k - 1]) / (q[k] - q[k - 1]) * (t[k] - t[k - 1]))
    return np.array(out)


re_line = np.linspace(-BOUND, BOUND, 41)
tau_line = np.array([closed_form.qubit_release_time(P_VALUES, XI_S, r) for r in re_line])
re_engine = np.linspace(-BOUND, BOUND, 7)
model = collision.CascadeCollisionModel("qubit", temperature=0.0)
tau_engine = []
for r in re_engine:
    res = model.run(states.correlated_qubits(XI_S, r), 14.0, DT)
    tau_engine.append(release_times(res.t, res.total, Q_INF, P_VALUES))
tau_engine = np.array(tau_engine)
exact = np.array([closed_form.qubit_release_time(P_VALUES, XI_S, r) for r in re_engine])
print(f"largest |tau_engine - tau_exact| = {np.max(np.abs(tau_engine - exact)):.3f}")

# %%
# (b) Discord within each class ``Re rho23 = const``
# --------------------------------------------------
classes = np.linspace(-BOUND, BOUND, 11)
lo, hi, real_member = [], [], []
for r in classes:
    im_max = np.sqrt(max(BOUND**2 - r**2, 0.0)) * (1 - 1e-9)
    values = [lindblad.quantum_discord(states.correlated_qubits(XI_S, complex(r, y)))
              for y in np.linspace(-im_max, im_max, 5)]
    lo.append(min(values))
    hi.append(max(values))
    real_member.append(values[2])

# %%
# The figure
# ----------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, p in enumerate(P_VALUES):
    ax.plot(re_line, tau_line[:, k], color=f"C{k}", label=f"p = {p:g}%")
    ax.plot(re_engine, tau_engine[:, k], "o", color=f"C{k}")
ax.set(xlabel=r"Re $\rho_{23}$", ylabel=r"$\gamma\tau_p$",
       title="(a) release times (lines exact, markers engine)")
ax.legend(fontsize=8)
bx.fill_between(classes, lo, hi, alpha=0.3, label=r"range over Im $\rho_{23}$")
bx.plot(classes, real_member, "k-", label=r"Im $\rho_{23}$ = 0")
bx.set(xlabel=r"Re $\rho_{23}$", ylabel="$D_Z$ (bits)", title="(b) discord within each class")
bx.legend(fontsize=8)
fig.suptitle(rf"Fig. 6: two qubits, $\xi_S$ = {XI_S:g}, T = 0; density engine at dt = {DT:g}")
fig.tight_layout()
plt.show()
