"""
Paper Fig. 7: which correlated Gaussian states exist
=====================================================

Not every pair of correlations ``(C13, C24)`` in the Gaussian state of eq 31 is a quantum
state: the covariance matrix must satisfy the uncertainty relation
``C + i Omega / 2 >= 0`` (eq D2). In units of ``N_S + 1/2`` the allowed region grows with
the local occupation ``N_S``, from a thin cross around the axes for ``N_S -> 0`` (little
noise leaves little room for correlations in both quadratures) towards the whole square
for large ``N_S``. Here the region is drawn for ``N_S = 0.1, 0.5, 1, 5``, checked with
:func:`lindblad.states.validate_covariance`, the package's own validator: it raises a
``ValueError`` saying why a matrix is not a state.
"""

# %%
# Sampling the plane
# ------------------
import matplotlib.pyplot as plt
import numpy as np

from lindblad import states

N_S_VALUES = [0.1, 0.5, 1.0, 5.0]
u = np.linspace(-1, 1, 61)                 # C13 / (N_S + 1/2) and C24 / (N_S + 1/2)


def is_state(n_s, c13, c24):
    try:
        states.gaussian_correlated(n_s, c13, c24)   # validates the covariance matrix
    except ValueError:
        return False
    return True


masks = {}
for n_s in N_S_VALUES:
    a = n_s + 0.5
    masks[n_s] = np.array([[is_state(n_s, a * x, a * y) for x in u] for y in u])
    print(f"N_S = {n_s:g}: physical fraction of the square = {masks[n_s].mean():.3f}")

# %%
# The figure
# ----------
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
for ax, n_s in zip(axes, N_S_VALUES, strict=True):
    ax.pcolormesh(u, u, masks[n_s], shading="nearest", cmap="Blues", vmin=0, vmax=1.4)
    ax.set(title=f"N_S = {n_s:g}", xlabel=r"$C_{13} / (N_S + 1/2)$", aspect="equal")
axes[0].set_ylabel(r"$C_{24} / (N_S + 1/2)$")
fig.suptitle("Fig. 7: the physical states of eq 31 (blue)")
fig.tight_layout()
plt.show()
