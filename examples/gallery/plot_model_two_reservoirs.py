"""
Two reservoirs: a steady heat current through a chain
=====================================================

S1 meets the ancillas of a hot stream (``T_h``), S2 those of a cold stream
(``T_c = 0.5``); the qubits (frequency 1) are coupled directly by
``g (sigma_+ sigma_- + h.c.)``, ``g = 0.5``. Every ancilla carries away the energy it
gains, so at the steady state the hot stream's heat is negative (it feeds the chain) and
the cold stream's positive: heat flows through the chain from hot to cold. The collision
model's currents (``dt = 0.01``) are compared with the steady state of the master
equation it derives, where the current into stream ``r`` is ``-Tr[H_S D_r(rho_ss)]``
(``D_r`` that stream's dissipator, itself the limit of a model with that stream's
collisions alone).
"""

# %%
# The model
# ---------
import math

import matplotlib.pyplot as plt
import numpy as np

import collision

sm = np.array([[0, 1], [0, 0]])
sz = np.diag([-1.0, 1.0])
one = np.eye(2)
exchange = np.kron(sm.T, sm) + np.kron(sm, sm.T)
h_local = 0.5 * (np.kron(sz, one) + np.kron(one, sz))
G, T_COLD = 0.5, 0.5


def thermal(temperature):
    p = 1 / (1 + math.exp(1 / temperature))
    return np.diag([1 - p, p])


def chain(t_hot, streams=("hot", "cold"), coupled=True):
    site = {"hot": 0, "cold": 1}
    return collision.CollisionModel(
        dims=[2, 2], hamiltonian=h_local + (G * exchange if coupled else 0),
        streams={"hot": thermal(t_hot), "cold": thermal(T_COLD)},
        collisions=[collision.Collision(site[r], exchange, stream=r) for r in streams],
        stream_hamiltonians={"hot": 0.5 * sz, "cold": 0.5 * sz})


def steady_currents(t_hot):
    """``-Tr[H_S D_r(rho_ss)]`` for each stream, from the derived master equations."""
    rho = chain(t_hot).master_equation().steady_state()
    out = {}
    for r in ("hot", "cold"):
        dissipator = chain(t_hot, streams=(r,), coupled=False).master_equation()
        drho = (dissipator.liouvillian() @ rho.reshape(-1)).reshape(4, 4)
        out[r] = -np.trace(h_local @ drho).real
    return out


# %%
# The approach to the steady state, and the current against T_h
# -------------------------------------------------------------
rho0 = np.kron(thermal(T_COLD), thermal(T_COLD))
res = chain(5.0).run(rho0, 20.0, 0.01, save_every=10)
steady = steady_currents(5.0)
print(f"T_h = 5: collisions hot {res.heat['hot'][-1]:.4f}, cold {res.heat['cold'][-1]:.4f};"
      f" master equation hot {steady['hot']:.4f}, cold {steady['cold']:.4f}")
t_hots = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 8.0])
engine_current = [chain(t).run(rho0, 20.0, 0.01, save_every=100).heat["cold"][-1]
                  for t in t_hots]
t_line = np.linspace(0.5, 8.0, 31)
exact_current = [steady_currents(t)["cold"] for t in t_line]

fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for name, color in (("hot", "C3"), ("cold", "C0")):
    ax.plot(res.t, res.heat[name], color=color, label=f"into the {name} stream")
    ax.axhline(steady[name], color=color, ls="--", lw=1)
ax.set(xlabel=r"$\gamma t$", ylabel="heat current",
       title="T_h = 5, T_c = 0.5 (dashed: steady state)")
ax.legend(fontsize=8)
bx.plot(t_line, exact_current, "k-", label="derived master equation")
bx.plot(t_hots, engine_current, "o", label="collisions at t = 20")
bx.set(xlabel="T_h", ylabel="steady current into the cold stream",
       title=f"heat through the chain, T_c = {T_COLD:g}")
bx.legend(fontsize=8)
fig.tight_layout()
plt.show()
