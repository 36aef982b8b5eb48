"""
A reservoir with memory: from Markovian decay to revivals
=========================================================

In a memoryless collision model every ancilla is fresh, and the dynamics is Markovian.
With ancilla-ancilla collisions (Ciccarello, Palma and Giovannetti, PRA 87, 040103
(2013)) the ancilla that has just met the system passes part of what it carries to the
next one before leaving: ``memory={stream: collision.Memory(V_AA, ...)}``. A weak
exchange ``g (sigma_+ b + h.c.)`` with the system (``scale="dt"``) followed by a partial
swap of strength ``sqrt(kappa dt)`` between outgoing and incoming ancilla and a full
swap is exactly a *pseudomode* coupled to the qubit and leaking at rate ``kappa``: the
damped Jaynes-Cummings model. Its excited population is ``|G(t)|^2`` with
``G = e^{-lambda t/2}[cosh(d t/2) + (lambda/d) sinh(d t/2)]``, ``lambda = kappa/2``,
``gamma_0 = 4 g^2/kappa``, ``d = sqrt(lambda^2 - 2 gamma_0 lambda)``: revivals for
``g > kappa/4``.

Here ``gamma_0 = 1`` (``g = sqrt(kappa)/2``) and ``kappa`` runs from strong memory to the
Markovian limit ``e^{-t}``. Lines: the closed form; markers: the density engine at
``dt = 0.005``. Right: the fraction of the energy released into the reservoir by ``t``:
memory delays the heat.
"""

# %%
# The model
# ---------
import matplotlib.pyplot as plt
import numpy as np

import collision

sm = np.array([[0, 1], [0, 0]])
sz = np.diag([-1.0, 1.0])
exchange = np.kron(sm.T, sm) + np.kron(sm, sm.T)      # sigma_+ b + sigma_- b^dag
ground, excited = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])


def with_memory(kappa):
    g = np.sqrt(kappa) / 2
    return collision.CollisionModel(
        dims=[2], hamiltonian=None, streams=ground,
        collisions=[collision.Collision(0, g * exchange, scale="dt")],
        stream_hamiltonians={"bath": 0.5 * sz},
        memory={"bath": collision.Memory(np.sqrt(kappa) * exchange, "sqrt_dt", swap=True)})


def closed_form(t, kappa):
    lam, gamma0 = kappa / 2, 1.0
    d = np.sqrt(complex(lam**2 - 2 * gamma0 * lam))
    if d == 0:                                    # critical damping, kappa = 4 gamma_0
        return (np.exp(-lam * t / 2) * (1 + lam * t / 2)) ** 2
    g_t = np.exp(-lam * t / 2) * (np.cosh(d * t / 2) + lam / d * np.sinh(d * t / 2))
    return np.abs(g_t) ** 2


# %%
# Runs
# ----
DT, T_MAX = 0.005, 14.0
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, kappa in enumerate([0.25, 1.0, 4.0, 12.0]):
    res = with_memory(kappa).run(excited, T_MAX, DT, e_ops={"P_e": excited}, save_every=10)
    exact = closed_form(res.t, kappa)
    print(f"kappa = {kappa:g}: largest |P_e - |G|^2| = "
          f"{np.max(np.abs(res.expect['P_e'] - exact)):.1e}")
    ax.plot(res.t, exact, color=f"C{k}", label=f"kappa = {kappa:g}")
    ax.plot(res.t[::10], res.expect["P_e"][::10], "o", ms=3, color=f"C{k}")
    released = np.concatenate([[0.0], np.cumsum(res.heat["bath"][:-1]) * 10 * DT])
    bx.plot(res.t, released, color=f"C{k}", label=f"kappa = {kappa:g}")
t = np.linspace(0, T_MAX, 300)
ax.plot(t, np.exp(-t), "k--", lw=1, label="Markovian")
bx.plot(t, 1 - np.exp(-t), "k--", lw=1, label="Markovian")
ax.set(xlabel="t", ylabel="excited population", yscale="log", ylim=(1e-4, 1.1),
       title="damped Jaynes-Cummings: lines |G(t)|^2, markers collisions")
ax.legend(fontsize=8)
bx.set(xlabel="t", ylabel="energy released (units of omega)", title="memory delays the heat")
bx.legend(fontsize=8)
fig.tight_layout()
plt.show()
