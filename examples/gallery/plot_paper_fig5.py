"""
Paper Fig. 5: discord and entanglement across the initial correlations
=======================================================================

The heat-flux dynamics of two oscillators in the state of eq 31 depends only on
``C13 + C24``, and that of two qubits in the state of eq 41 only on ``Re rho23``. These
maps show how the quantum correlations vary over *all* physical initial states: (a) the
Gaussian discord ``D_G`` (bits) and (b) the log negativity ``E_N`` (nats) on the
(``C13``, ``C24``) plane for ``N_S = 1``, white outside the physical region (the
uncertainty relation ``C + i Omega / 2 >= 0``); (c) the qubit discord ``D_Z`` (bits,
measurement on S1) on the disc ``|rho23| <= 1 - xi_S^2`` for ``xi_S = 0.25``.
Lines of constant ``C13 + C24`` (diagonals) and vertical lines of constant
``Re rho23`` are the classes of equal heat flux. This figure is about initial states
only: no dynamics is run.
"""

# %%
# The physical region of eq 31
# ----------------------------
# A covariance matrix (quadratures ``X1, Y1, X2, Y2``; vacuum ``1/2``) is physical
# when ``C + i Omega / 2`` is positive semi-definite.
import matplotlib.pyplot as plt
import numpy as np

import lindblad
from lindblad import states

N_S, XI_S = 1.0, 0.25
OMEGA = np.kron(np.eye(2), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def covariance(c13, c24):
    cov = (N_S + 0.5) * np.eye(4)
    cov[0, 2] = cov[2, 0] = c13
    cov[1, 3] = cov[3, 1] = c24
    return cov


def physical(cov):
    return np.linalg.eigvalsh(cov + 0.5j * OMEGA)[0] >= -1e-12


axis = np.linspace(-(N_S + 0.5), N_S + 0.5, 41)
d_g = np.full((axis.size, axis.size), np.nan)
e_n = np.full_like(d_g, np.nan)
for j, c24 in enumerate(axis):
    for i, c13 in enumerate(axis):
        cov = covariance(c13, c24)
        if physical(cov):
            d_g[j, i] = lindblad.gaussian_discord(cov)
            e_n[j, i] = lindblad.log_negativity(cov)

# %%
# Qubit discord on the disc of eq 42
# ----------------------------------
bound = 1 - XI_S**2
disc = np.linspace(-bound, bound, 15)
d_z = np.full((disc.size, disc.size), np.nan)
for j, im in enumerate(disc):
    for i, re in enumerate(disc):
        if np.hypot(re, im) <= bound * (1 - 1e-12):
            d_z[j, i] = lindblad.quantum_discord(states.correlated_qubits(XI_S, complex(re, im)))
print(f"largest D_G = {np.nanmax(d_g):.3f} bits, largest E_N = {np.nanmax(e_n):.3f} nats, "
      f"largest D_Z = {np.nanmax(d_z):.3f} bits")

# %%
# The figure
# ----------
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
panels = [(axis, d_g, "(a) $D_G$ (bits)", "$C_{13}$", "$C_{24}$"),
          (axis, e_n, "(b) $E_N$ (nats)", "$C_{13}$", "$C_{24}$"),
          (disc, d_z, r"(c) $D_Z$ (bits), $\xi_S$ = 0.25",
           r"Re $\rho_{23}$", r"Im $\rho_{23}$")]
for ax, (x, values, title, xl, yl) in zip(axes, panels, strict=True):
    mesh = ax.pcolormesh(x, x, values, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax)
    ax.set(title=title, xlabel=xl, ylabel=yl, aspect="equal")
fig.suptitle(f"Fig. 5: correlations of the initial states (N_S = {N_S:g})")
fig.tight_layout()
plt.show()
