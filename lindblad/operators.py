"""Hilbert spaces, ladder operators and the basis convention.

Every subsystem is written in its Fock basis, ground state first (for a qubit
``|0> = |g>`` and ``sigma_- = |g><e|``).  Joint states are Kronecker products with
S1 as the most significant factor: the joint index of ``|n_1, ..., n_k>`` is
``sum_i n_i * prod_{j>i} d_j``.

The paper lists two-qubit states excited-first (``|ee>, |eg>, |ge>, |gg>``);
:func:`paper_qubit_order` gives the permutation between the two.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from ._validate import choice, describe, integer
from .thermal import SYSTEMS

#: Largest joint Hilbert-space dimension D of the dense-matrix reference: it keeps
#: D x D matrices (the states of ``evolve``, 16 D^2 bytes each, and excitation-number
#: tables), 256 MiB each at this limit.  12 qubits, or 2 oscillators with cutoff 64.
MAX_DIMENSION = 4096


def local_dimension(system: str, cutoff: int | None) -> int:
    """Dimension of one subsystem: 2 for a qubit, ``cutoff`` for an oscillator."""
    if choice(system, "system", SYSTEMS) == "qubit":
        two = isinstance(cutoff, numbers.Real) and not isinstance(cutoff, (bool, np.bool_)) \
            and cutoff == 2
        if cutoff is not None and not two:
            raise ValueError(f"a qubit has dimension 2; cutoff must be None or 2, "
                             f"got {describe(cutoff)}")
        return 2
    if cutoff is None:
        raise ValueError("an oscillator needs a Fock cutoff (the dimension per oscillator), "
                         "e.g. cutoff=20")
    return integer(cutoff, "cutoff", 2, note=" (the Fock dimension per oscillator)")


def check_dimension(system: str, cutoff: int | None, n_systems: int, limit: int,
                    owner: str) -> int:
    """The joint dimension ``D = d**n_systems``, or ``ValueError`` if it exceeds ``limit``.

    Checked without forming ``d**n_systems`` first, so absurd inputs fail fast.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    cutoff : int or None
        Fock dimension per oscillator (validated by :func:`local_dimension`).
    n_systems : int
        Number of subsystems (already validated).
    limit : int
        Largest ``D`` that ``owner`` can handle.
    owner : str
        What needs the space (named in the message), e.g. ``"CascadeMasterEquation"``.
    """
    d = local_dimension(system, cutoff)
    if n_systems * math.log(d) <= math.log(limit) * (1 + 1e-12):
        return d**n_systems
    exponent = n_systems * math.log10(d)
    dim = f"{d**n_systems}" if exponent < 20 else f"~1e{exponent:.0f}"
    n_max = int(math.log(limit) / math.log(d) * (1 + 1e-12))
    if system == "qubit":
        fits = f"at most {n_max} qubits fit"
    else:
        c_max = int(limit ** (1 / n_systems) * (1 + 1e-12))
        fits = (f"{n_systems} oscillators need cutoff <= {c_max}"
                + (f", or at most {n_max} oscillators with cutoff = {d}" if n_max >= 2 else ""))
    raise ValueError(f"n_systems = {n_systems} {'qubits' if system == 'qubit' else 'oscillators'}"
                     f" of dimension {d} span a Hilbert space of dimension D = {d}**{n_systems}"
                     f" = {dim}, but {owner} handles D <= {limit} (it keeps dense D x D "
                     f"matrices, {16 * limit**2 / 2**20:.0f} MiB each at the limit): {fits}")


def lowering(dim: int) -> sp.csr_matrix:
    """Truncated lowering operator ``sum_n sqrt(n) |n-1><n|`` on ``dim`` levels.

    For ``dim = 2`` this is the qubit ``sigma_- = |g><e|``.  Note the qubit case is
    also sqrt(1) = 1 on its only element, so one function serves both.
    """
    return sp.diags(np.sqrt(np.arange(1, dim, dtype=float)), 1, shape=(dim, dim),
                    format="csr", dtype=complex)


def embed(op: sp.spmatrix, site: int, dims: tuple[int, ...]) -> sp.csr_matrix:
    """The operator ``op`` on subsystem ``site`` (0-based), identity on the others."""
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
    d = check_dimension("qubit", None, integer(n_systems, "n_systems", 1), MAX_DIMENSION,
                        "paper_qubit_order")
    return (d - 1) - np.arange(d)


def turn_subsystems(rho: np.ndarray, dims: tuple[int, ...], angles, inverse: bool = False
                    ) -> np.ndarray:
    """``V rho V^dag`` with ``V = exp(-i sum_i angles_i n_i)`` (``V^dag rho V`` with
    ``inverse``): every subsystem turned about its number operator, in the basis of this
    module.  Populations are unchanged; a coherence ``rho_kl`` gets the factor
    ``exp(-i sum_i angles_i (n_i(k) - n_i(l)))``."""
    p = excitations(dims) @ np.asarray(angles, dtype=float)
    sign = 1.0 if inverse else -1.0
    return rho * np.exp(sign * 1j * (p[:, None] - p[None, :]))
