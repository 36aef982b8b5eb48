"""
Heat statistics and the exchange fluctuation theorem
====================================================

Every ancilla is a probe whose energy can be read before it meets the chain and after it
leaves. The heat delivered to the reservoir by time ``t`` is ``Q = hbar omega q``, ``q``
the net number of quanta the ancillas gained; every collision conserves excitations, so
``q`` is an integer with ``|q| <= n (d - 1)`` (here 2). ``heat_statistics`` gives its
full distribution ``P(q, t)``, exactly at every ``dt`` (density engine), and the master
equation gives the ``dt -> 0`` limit by a tilted generator.

For a product of thermal states at ``beta_S`` and a reservoir at ``beta`` the exchange
fluctuation theorem of Jarzynski and Wojcik,
``ln[P(q, t) / P(-q, t)] = (beta - beta_S) hbar omega q``, holds exactly at every ``dt``
and ``t``. Initial correlations (the state of eq 41, ``rho23 != 0``) break it for
``|q| = 1``, where the correlations live.
"""

# %%
# Distributions: collisions at dt = 0.01 against the master-equation limit
# -------------------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

import collision
import lindblad
from lindblad import states

T_BATH, T_S, DT = 1.0, 2.0, 0.01
model = collision.CascadeCollisionModel("qubit", temperature=T_BATH)
thermal = states.product(states.thermal("qubit", T_S), states.thermal("qubit", T_S))
stats = model.heat_statistics(thermal, t_max=4.0, dt=DT, save_every=10)
limit = model.master_equation().heat_statistics(thermal, stats.t)
print(f"largest |P_collisions - P_limit| = "
      f"{np.max(np.abs(stats.probabilities - limit.probabilities)):.2e}")

# %%
# The fluctuation theorem, with and without initial correlations
# ---------------------------------------------------------------
# ``HeatStatistics.log_ratio()`` returns ``q = 1 .. q_max`` and ``ln[P(q)/P(-q)]`` at
# every saved time. For eq 41 the local states are thermal at the temperature whose
# polarisation is ``xi_S``.
beta, beta_s = 1 / T_BATH, 1 / T_S
q, ratio = stats.log_ratio()
print(f"thermal start: largest deviation from the theorem = "
      f"{np.nanmax(np.abs(ratio[1:] - (beta - beta_s) * q)):.1e}")
XI_S = 0.25
beta_eq41 = 1 / lindblad.temperature_from_polarisation(XI_S)
correlated = {r: model.heat_statistics(states.correlated_qubits(XI_S, r), 4.0, DT,
                                       save_every=10) for r in (-0.75, 0.75)}

# %%
# The figure
# ----------
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
ax = axes[0]
times = [0.5, 1.0, 3.0]
for k, t in enumerate(times):
    i = int(np.argmin(np.abs(stats.t - t)))
    offset = (k - 1) * 0.25
    ax.bar(limit.quanta + offset, limit.probabilities[i], width=0.25, color=f"C{k}",
           alpha=0.4, label=rf"$\gamma t$ = {t:g} (limit)")
    ax.plot(stats.quanta + offset, stats.probabilities[i], "o", color=f"C{k}")
ax.set(xlabel="q (quanta into the reservoir)", ylabel="P(q, t)", xticks=stats.quanta,
       title="(a) P(q, t): bars limit, markers dt = 0.01")
ax.legend(fontsize=8)
bx = axes[1]
for name, color in (("mean", "C0"), ("variance", "C1"), ("skewness", "C2")):
    bx.plot(limit.t, getattr(limit, name), color=color, label=name)
    bx.plot(stats.t[::3], getattr(stats, name)[::3], "o", ms=3, color=color)
bx.set(xlabel=r"$\gamma t$", title="(b) cumulants of Q (lines limit, markers collisions)")
bx.legend(fontsize=8)
cx = axes[2]
qq = np.linspace(0, 2, 3)
cx.plot(qq, (beta - beta_s) * qq, "k-", label=r"$(\beta - \beta_S) q$, thermal start")
for k in range(1, stats.t.size, 8):
    cx.plot(q, ratio[k], "ko", ms=4, alpha=0.5)
cx.plot(qq, (beta - beta_eq41) * qq, "k--", lw=1, label=r"$(\beta - \beta_S) q$, eq 41")
for r, color in ((-0.75, "C3"), (0.75, "C0")):
    qc, rc = correlated[r].log_ratio()
    for k in range(1, stats.t.size, 8):
        cx.plot(qc, rc[k], "s", ms=4, color=color, alpha=0.6,
                label=rf"eq 41, Re $\rho_{{23}}$ = {r:+g}" if k == 1 else None)
cx.set(xlabel="q", ylabel=r"ln[P(q, t) / P(-q, t)]", xticks=[0, 1, 2],
       title="(c) fluctuation theorem at several t")
cx.legend(fontsize=8)
fig.tight_layout()
plt.show()
