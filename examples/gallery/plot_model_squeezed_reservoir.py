"""
A squeezed reservoir
====================

An oscillator (Fock cutoff 12) exchanges excitations, ``sqrt(gamma) (a^dag b + a b^dag)``,
with ancillas prepared in squeezed vacuum ``S(r)|0>`` (``r = 0.4``, 10 Fock levels).
Written in the interaction picture (``H = 0``), the oscillator's quadrature variances
relax from the vacuum value 1/2 to those of the ancillas, ``e^{-2r}/2`` and
``e^{2r}/2``, with X and P exchanged (a collision maps ``a -> cos(theta) a - i sin(theta)
b``: the factor ``-i`` turns the ancillas' X-squeezing into the oscillator's
P-squeezing). The reservoir imprints its squeezing. Squeezed vacuum has ``<b> = 0``, so
the collisions have a continuum limit (the squeezed-bath master equation); its odd
moments vanish, so the runs converge at order 1 (``model.continuum_order`` says so, 1.0).
"""

# %%
# The model
# ---------
import math

import matplotlib.pyplot as plt
import numpy as np

import collision

R, D_SYS, D_ANC = 0.4, 12, 10


def lowering(d):
    return np.diag(np.sqrt(np.arange(1, d)), 1)


psi = np.zeros(D_ANC)                        # S(r)|0> in the Fock basis (even levels)
for m in range((D_ANC + 1) // 2):
    psi[2 * m] = ((-math.tanh(R)) ** m * math.sqrt(math.factorial(2 * m))
                  / (2**m * math.factorial(m)))
psi /= np.linalg.norm(psi)                   # the weight beyond 10 levels is dropped
a, b = lowering(D_SYS), lowering(D_ANC)
model = collision.CollisionModel(
    dims=[D_SYS], streams=np.outer(psi, psi),
    collisions=[collision.Collision(0, np.kron(a.T, b) + np.kron(a, b.T))])
x, p = (a + a.T) / math.sqrt(2), 1j * (a.T - a) / math.sqrt(2)
e_ops = {"<X^2>": x @ x, "<P^2>": p @ p}
vacuum = np.zeros((D_SYS, D_SYS))
vacuum[0, 0] = 1

# %%
# Run against the derived master equation
# ---------------------------------------
res = model.run(vacuum, 4.0, 0.01, e_ops=e_ops, save_every=5)
limit = model.master_equation().expect(e_ops, vacuum, res.t)
for name in e_ops:
    print(f"{name}: final {res.expect[name][-1]:.4f}, largest |collisions - limit| = "
          f"{np.max(np.abs(res.expect[name] - limit[name])):.1e}")

fig, ax = plt.subplots(figsize=(6.5, 4))
for name, color in zip(e_ops, ["C0", "C3"], strict=True):
    ax.plot(res.t, limit[name], color=color, label=f"{name}, master equation")
    ax.plot(res.t[::5], res.expect[name][::5], "o", ms=3, color=color,
            label=f"{name}, collisions")
for value in (math.exp(-2 * R) / 2, math.exp(2 * R) / 2):
    ax.axhline(value, color="k", lw=0.6, ls=":")
ax.set(xlabel=r"$\gamma t$", ylabel="quadrature variance",
       title=f"vacuum in a squeezed reservoir (r = {R:g}); dotted: exp(-+2r)/2")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
