"""
A thermal machine: two qubits between a hot and a cold stream
=============================================================

Qubit S1 (frequency ``omega_h = 3``) meets the ancillas of a hot stream at ``T_h``, qubit
S2 (``omega_c = 1``) those of a cold stream at ``T_c = 1``, each through a resonant
exchange; the qubits are coupled by ``g (sigma_+ sigma_- + h.c.)``. An excitation that
enters from the hot side as a quantum ``omega_h`` leaves on the cold side as ``omega_c``:
the difference is work, done by switching the collisions on and off. This is a swap
engine: for ``T_h / T_c > omega_h / omega_c`` it delivers power with efficiency
``1 - omega_c / omega_h = 2/3`` (below Carnot's ``1 - T_c / T_h``); for ``T_c < T_h``
below that ratio it runs backwards as a refrigerator; at the ratio every current
vanishes.

``run(..., thermodynamics=True)`` adds the ledger of every step
(:class:`collision.thermo.Ledger`): heat per stream (``> 0`` into the stream), the
switching work (``> 0`` done on system and ancillas), and the entropy production in its
information form ``I(S':A') + D(rho'_A || eta)`` and, for thermal streams, its Clausius
form ``dS/dt + sum_r beta_r Q_r``; the two agree at every finite ``dt``.
"""

# %%
# The machine
# -----------
import math

import matplotlib.pyplot as plt
import numpy as np

import collision

sm = np.array([[0, 1], [0, 0]])
sz = np.diag([-1.0, 1.0])
one = np.eye(2)
exchange = np.kron(sm.T, sm) + np.kron(sm, sm.T)
W_H, W_C, G, T_C = 3.0, 1.0, 0.3, 1.0


def thermal(omega, temperature):
    p = 1 / (1 + math.exp(omega / temperature))
    return np.diag([1 - p, p])


def machine(t_hot):
    h = 0.5 * W_H * np.kron(sz, one) + 0.5 * W_C * np.kron(one, sz) + G * exchange
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=h,
        streams={"hot": thermal(W_H, t_hot), "cold": thermal(W_C, T_C)},
        collisions=[collision.Collision(0, exchange, stream="hot"),
                    collision.Collision(1, exchange, stream="cold")],
        stream_hamiltonians={"hot": 0.5 * W_H * sz, "cold": 0.5 * W_C * sz})


rho0 = np.kron(thermal(W_H, T_C), thermal(W_C, T_C))   # both qubits at T_c

# %%
# The ledger of one run, T_h = 8
# ------------------------------
# The cumulative sums (energy and nats over ``[0, t)``) show the cycle: after a
# transient every total grows linearly, and ``W = Delta E + sum_r Q_r`` (first law).
res = machine(8.0).run(rho0, 30.0, 0.02, save_every=5, thermodynamics=True)
led = res.thermodynamics
gap = np.max(np.abs(led.entropy_production - led.entropy_production_clausius))
print(f"T_h = 8 at t = 30: Q_hot = {res.heat['hot'][-1]:.5f}, Q_cold = "
      f"{res.heat['cold'][-1]:.5f}, work = {led.work[-1]:.5f}, "
      f"Sigma = {led.entropy_production[-1]:.5f}; |Clausius - information| <= {gap:.0e}")

# %%
# Steady currents against T_h
# ---------------------------
t_hots = np.linspace(1.0, 10.0, 19)
rows = []
for t_hot in t_hots:
    r = machine(t_hot).run(rho0, 30.0, 0.02, save_every=1500, thermodynamics=True)
    rows.append((r.heat["hot"][-1], r.heat["cold"][-1], r.thermodynamics.work[-1],
                 r.thermodynamics.entropy_production[-1]))
q_hot, q_cold, work, sigma = np.array(rows).T
engine = work < -1e-9
print(f"efficiency -W / |Q_hot| where it runs as an engine: "
      f"{np.mean(-work[engine] / -q_hot[engine]):.4f} (1 - omega_c/omega_h = {1 - W_C / W_H:.4f})")

fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4))
ax.plot(res.t, led.heat_total["hot"], "C3", label="heat into the hot stream")
ax.plot(res.t, led.heat_total["cold"], "C0", label="heat into the cold stream")
ax.plot(res.t, led.work_total, "C2", label="work")
ax.plot(res.t[::20], led.energy[::20] - led.energy[0] + led.heat_total["hot"][::20]
        + led.heat_total["cold"][::20], "C2o", ms=3, mfc="none", label=r"$\Delta E + \sum Q$")
ax.plot(res.t, led.entropy_production_total, "k", label="entropy production (nats)")
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel="t", ylabel="total over [0, t)", title="T_h = 8: cumulative ledger")
ax.legend(fontsize=8)
bx.plot(t_hots, q_hot, "C3o-", label="heat into the hot stream")
bx.plot(t_hots, q_cold, "C0s--", label="heat into the cold stream")
bx.plot(t_hots, -work, "C2o-", label="power delivered, -W")
bx.plot(t_hots, sigma, "ko-", label="entropy production")
bx.axvline(T_C * W_H / W_C, color="k", ls=":", lw=1)
bx.axhline(0, color="k", lw=0.5)
bx.text(T_C * W_H / W_C + 0.1, bx.get_ylim()[0] * 0.8, "engine ->", fontsize=9)
bx.text(T_C * W_H / W_C - 2.2, bx.get_ylim()[0] * 0.8, "<- refrigerator", fontsize=9)
bx.set(xlabel="T_h", ylabel="steady rate", title=f"steady state, T_c = {T_C:g}")
bx.legend(fontsize=8)
fig.tight_layout()
plt.show()
