"""Exact exchange unitaries, block by block.

One collision between a subsystem (ladder operator ``a``, ``d`` levels) and an ancilla
(``b``, ``d_b`` levels) is ``U = exp(-i theta G)`` with ``G = a^dag b + a b^dag`` and
``theta = sqrt(gamma dt)``.  ``G`` conserves ``s = n_a + n_b``, so ``U`` is block diagonal:
block ``s`` is spanned by ``|n_a, s - n_a>`` with ``max(0, s - d_b + 1) <= n_a <= min(s, d - 1)``
and ``G`` restricted to it is the real symmetric tridiagonal matrix::

    <n_a + 1, n_b - 1| G |n_a, n_b> = sqrt(n_a + 1) sqrt(n_b).

Each block is exponentiated exactly through its eigendecomposition (``scipy.linalg.eigh``
on a matrix of size <= min(d, d_b)), so the only approximation in a collision is the
finite Fock space itself, never a truncated series.

The result is a :class:`BlockUnitary` of plain arrays that the numba kernels index
directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla


@dataclass(frozen=True)
class BlockUnitary:
    """``U = exp(-i theta (a^dag b + a b^dag))`` stored block by block.

    Attributes
    ----------
    d_sys, d_anc : int
        Dimensions of the subsystem and of the ancilla.
    size : ndarray of int64, shape (n_blocks,)
        Dimension of block ``s`` (``s = n_sys + n_anc``), ``n_blocks = d_sys + d_anc - 1``.
    first : ndarray of int64, shape (n_blocks,)
        Smallest ``n_sys`` in block ``s``; basis state ``j`` of the block is
        ``|n_sys = first[s] + j, n_anc = s - first[s] - j>``.
    u : ndarray of complex128, shape (n_blocks, max_size, max_size)
        ``u[s, i, j] = <state i| U |state j>`` (zero padded).
    """

    d_sys: int
    d_anc: int
    theta: float
    size: np.ndarray
    first: np.ndarray
    u: np.ndarray

    def amplitude(self, n_out: int, l_out: int, n_in: int, k_in: int) -> complex:
        """``<n_out, l_out| U |n_in, k_in>`` (subsystem level, ancilla level)."""
        s = n_in + k_in
        if n_out + l_out != s:
            return 0.0
        return complex(self.u[s, n_out - self.first[s], n_in - self.first[s]])

    def dense(self) -> np.ndarray:
        """The full unitary on ``subsystem x ancilla`` (subsystem most significant)."""
        dim = self.d_sys * self.d_anc
        out = np.zeros((dim, dim), dtype=complex)
        for s in range(self.size.size):
            idx = [(self.first[s] + j) * self.d_anc + (s - self.first[s] - j)
                   for j in range(self.size[s])]
            out[np.ix_(idx, idx)] = self.u[s, :self.size[s], :self.size[s]]
        return out


def exchange_unitary(d_sys: int, d_anc: int, theta: float) -> BlockUnitary:
    """Build the block form of ``exp(-i theta (a^dag b + a b^dag))``.

    Parameters
    ----------
    d_sys, d_anc : int
        Fock dimensions (2 for a qubit: the qubit ladder operator is the two-level
        truncation of ``a``, so one formula serves qubits and oscillators).
    theta : float
        Collision angle ``sqrt(gamma dt)`` (dimensionless).
    """
    n_blocks = d_sys + d_anc - 1
    first = np.array([max(0, s - d_anc + 1) for s in range(n_blocks)], dtype=np.int64)
    size = np.array([min(s, d_sys - 1) - first[s] + 1 for s in range(n_blocks)], dtype=np.int64)
    u = np.zeros((n_blocks, size.max(), size.max()), dtype=complex)
    for s in range(n_blocks):
        n_sys = first[s] + np.arange(size[s])
        n_anc = s - n_sys
        # <n+1, m-1| G |n, m> = sqrt(n+1) sqrt(m): the off-diagonal of a tridiagonal block
        off = np.sqrt(n_sys[:-1] + 1.0) * np.sqrt(n_anc[:-1].astype(float))
        if size[s] == 1:
            u[s, 0, 0] = 1.0
            continue
        evals, evecs = sla.eigh_tridiagonal(np.zeros(size[s]), off)
        u[s, :size[s], :size[s]] = (evecs * np.exp(-1j * theta * evals)) @ evecs.T
    return BlockUnitary(int(d_sys), int(d_anc), float(theta), size, first, u)


def exchange_unitary_dense(d_sys: int, d_anc: int, theta: float) -> np.ndarray:
    """Reference implementation from the dense generator on the whole product space.

    ``G`` is Hermitian, so ``exp(-i theta G) = V exp(-i theta w) V^dag`` from a dense
    ``numpy.linalg.eigh`` of the full matrix: independent of :func:`exchange_unitary`'s
    block construction (the tests cross-check the two).
    """
    a = np.diag(np.sqrt(np.arange(1, d_sys, dtype=float)), 1)
    b = np.diag(np.sqrt(np.arange(1, d_anc, dtype=float)), 1)
    g = np.kron(a.T, b) + np.kron(a, b.T)
    w, v = np.linalg.eigh(g)
    return (v * np.exp(-1j * theta * w)) @ v.conj().T
