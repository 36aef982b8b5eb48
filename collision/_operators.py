"""Operators of a collision model: the Hermiticity check and the embedding of an operator
on some factors of a Kronecker product into the whole space."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lindblad._validate import as_matrix

#: Tolerance of the Hermiticity checks, relative to ``max(1, max |M_ij|)``.
HERMITIAN_RTOL = 1e-10


def hermitian(value, name: str, dim: int | None = None) -> np.ndarray:
    """A Hermitian matrix as a complex array, or ``ValueError`` naming ``name``.

    ``value`` may be an array-like, a QuTiP ``Qobj`` or a scipy sparse matrix.  The
    tolerance is :data:`HERMITIAN_RTOL` times ``max(1, max |M_ij|)``; the returned matrix is
    the input itself (not symmetrised), so nothing the user gave is changed silently.
    """
    arr = as_matrix(value, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must be {dim} x {dim}, got shape {arr.shape}")
    arr = arr.astype(complex)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    scale = max(1.0, float(np.max(np.abs(arr))))
    off = float(np.max(np.abs(arr - arr.conj().T)))
    if off > HERMITIAN_RTOL * scale:
        raise ValueError(f"{name} must be Hermitian, but max |M - M^dag| = {off:.3g} (tolerance "
                         f"{HERMITIAN_RTOL * scale:.3g})")
    return arr


def embed(op: np.ndarray, targets: Sequence[int], dims: Sequence[int]) -> np.ndarray:
    """An operator on the factors ``targets`` (in that order) embedded in the whole space.

    Parameters
    ----------
    op : ndarray, shape (d, d)
        ``d = prod(dims[i] for i in targets)``; the first target is the most significant.
    targets : sequence of int
        Distinct factor indices.
    dims : sequence of int
        Dimensions of all factors (factor 0 most significant).

    Returns
    -------
    ndarray, shape (D, D)
        ``D = prod(dims)``: ``op`` on ``targets``, the identity elsewhere.
    """
    dims = tuple(int(d) for d in dims)
    targets = tuple(int(t) for t in targets)
    n, k = len(dims), len(targets)
    rest = [i for i in range(n) if i not in targets]
    d_rest = math.prod(dims[i] for i in rest)
    full = np.kron(op, np.eye(d_rest))  # factors ordered (targets..., rest...)
    order = list(targets) + rest
    t = full.reshape([dims[i] for i in order] * 2)
    perm = [order.index(i) for i in range(n)]
    t = t.transpose(perm + [k_ + n for k_ in perm]) if k else t
    big = math.prod(dims)
    return np.ascontiguousarray(t.reshape(big, big))
