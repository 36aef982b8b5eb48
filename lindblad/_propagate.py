"""Exact propagation of a linear generator, shared by every master equation of the package.

:func:`propagate` computes ``exp(M t_k) v0`` on a time grid with no fixed-step integrator:
dense propagators for small generators, ``scipy.sparse.linalg.expm_multiply`` (Al-Mohy &
Higham's truncated Taylor scheme with backward-error control at double precision) for
large ones.  :func:`check_times` validates the time grids every model accepts.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._validate import as_real_array

#: Largest generator (rows) propagated with dense matrix exponentials.
DENSE_SECTOR_MAX = 512


def check_times(times, name: str = "times") -> np.ndarray:
    """Validate a time grid: 1-d, real, finite, >= 0, non-decreasing, not empty.

    A scalar counts as one time.  Complex values (even with zero imaginary parts),
    strings, bools and ragged lists are rejected with a ``ValueError`` naming ``name``.
    """
    t = as_real_array(times, name)
    if t.ndim == 0:
        t = t[None]
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or t[0] < 0:
        raise ValueError(f"{name} must be finite and >= 0 (time is measured from the initial "
                         "state at t = 0)")
    if np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be sorted in increasing order")
    return t


def propagate(matrix: sp.spmatrix, v0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``exp(matrix t_k) v0`` for every time of a validated grid, shape ``(len(t), size)``.

    Generators up to :data:`DENSE_SECTOR_MAX` rows use dense propagators
    ``exp(matrix h)`` (one per distinct step ``h``), obtained by applying
    ``scipy.sparse.linalg.expm_multiply`` to the identity; larger ones use
    ``expm_multiply`` on the time grid.  (``scipy.linalg.expm`` is avoided on purpose:
    scipy 1.17-1.18 choose its Pade degree from a wrong norm and return errors of
    order 0.1 on these generators; scipy issues 25864 and 24366.)
    """
    size = matrix.shape[0]
    out = np.empty((t.size, size), dtype=complex)
    v = v0.astype(complex)
    if not np.any(v):
        out[:] = 0
        return out
    steps = np.diff(t, prepend=0.0)
    if size <= DENSE_SECTOR_MAX:
        identity = np.eye(size, dtype=complex)
        cache: dict[str, np.ndarray] = {}
        for k, h in enumerate(steps):
            if h > 0:
                key = f"{h:.12e}"  # linspace steps differ in the last bits only
                if key not in cache:
                    cache[key] = spla.expm_multiply(matrix * h, identity)
                v = cache[key] @ v
            out[k] = v
        return out
    if t[0] > 0:
        v = spla.expm_multiply(matrix * t[0], v)
    uniform = t.size > 2 and np.allclose(steps[1:], steps[1], rtol=1e-12, atol=0)
    if uniform and steps[1] > 0:
        out[:] = spla.expm_multiply(matrix, v, start=0.0, stop=t[-1] - t[0], num=t.size,
                                    endpoint=True)
        return out
    out[0] = v
    for k in range(1, t.size):
        h = steps[k]
        out[k] = spla.expm_multiply(matrix * h, out[k - 1]) if h > 0 else out[k - 1]
    return out
