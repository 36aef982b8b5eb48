"""Hilbert spaces, ladder operators and the basis convention.

Every subsystem is written in its Fock basis, ground state first (for a qubit
``|0> = |g>`` and ``sigma_- = |g><e|``).  Joint states are Kronecker products with
S1 as the most significant factor: the joint index of ``|n_1, ..., n_k>`` is
``sum_i n_i * prod_{j>i} d_j``.

The paper lists two-qubit states excited-first (``|ee>, |eg>, |ge>, |gg>``);
:func:`paper_qubit_order` gives the permutation between the two.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .thermal import SYSTEMS


def local_dimension(system: str, cutoff: int | None) -> int:
    """Dimension of one subsystem: 2 for a qubit, ``cutoff`` for an oscillator."""
    if system == "qubit":
        if cutoff not in (None, 2):
            raise ValueError(f"a qubit has dimension 2; cutoff must be None or 2, got {cutoff!r}")
        return 2
    if system == "oscillator":
        if cutoff is None:
            raise ValueError("an oscillator needs a Fock cutoff (the dimension per oscillator), "
                             "e.g. cutoff=20")
        if isinstance(cutoff, bool) or int(cutoff) != cutoff or cutoff < 2:
            raise ValueError(f"cutoff must be an integer >= 2, got {cutoff!r}")
        return int(cutoff)
    raise ValueError(f"system must be one of {SYSTEMS}, got {system!r}")


def lowering(dim: int) -> sp.csr_matrix:
    """Truncated lowering operator ``sum_n sqrt(n) |n-1><n|`` on ``dim`` levels.

    For ``dim = 2`` this is the qubit ``sigma_- = |g><e|``.  Note the qubit case is
    also sqrt(1) = 1 on its only element, so one function serves both.
    """
    return sp.diags(np.sqrt(np.arange(1, dim, dtype=float)), 1, shape=(dim, dim),
                    format="csr", dtype=complex)


def embed(op: sp.spmatrix, site: int, dims: tuple[int, ...]) -> sp.csr_matrix:
    """``I x ... x op x ... x I`` with ``op`` on subsystem ``site`` (0-based)."""
    left = int(np.prod(dims[:site], dtype=int))
    right = int(np.prod(dims[site + 1:], dtype=int))
    return sp.kron(sp.kron(sp.identity(left, format="csr"), op), sp.identity(right, format="csr"),
                   format="csr")


def excitations(dims: tuple[int, ...]) -> np.ndarray:
    """Fock numbers of every joint basis state, shape ``(prod(dims), len(dims))``."""
    grids = np.meshgrid(*[np.arange(d) for d in dims], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def total_excitations(dims: tuple[int, ...]) -> np.ndarray:
    """Total excitation number of every joint basis state, shape ``(prod(dims),)``."""
    return excitations(dims).sum(axis=1)


def paper_qubit_order(n_systems: int = 2) -> np.ndarray:
    """Permutation from the paper's excited-first qubit order to ours.

    ``rho_ours = rho_paper[np.ix_(p, p)]`` with ``p = paper_qubit_order(n)``; the paper
    labels ``|ee>, |eg>, |ge>, |gg>`` as 1..4, we order ``|gg>, |ge>, |eg>, |ee>``
    (S1 most significant, ground first).  The map is its own inverse.
    """
    d = 2 ** n_systems
    return (d - 1) - np.arange(d)
