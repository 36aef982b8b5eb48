"""Initial states of a run without a dense matrix: products of local states, state vectors.

``CascadeCollisionModel.run`` takes the initial state of the chain as

* a ``(D, D)`` density matrix (any state; ``D = d^n``),
* a list or tuple of ``n`` local ``(d, d)`` density matrices, meaning their product
  ``rho_1 x rho_2 x ...`` (S1 first), or
* a state vector of shape ``(D,)`` (a pure state, normalised).

The form is read from the shape of ``numpy.asarray(rho0)`` (2-D, 1-D; 3-D or ragged for
a list of local states), so a dense matrix or a vector written as a nested Python list
is never taken for local states;
:func:`lindblad.states.state_form` is the one definition, shared with the master
equation, which accepts the same forms.

Only the density matrix is ``D^2`` in size.  The density engine needs one (it is built
from the others when it fits, ``MAX_DENSE_DIM``); the trajectory engine samples the
others directly, nothing bigger than ``D``: a product of local states whose local states
are diagonal in the Fock basis (thermal states, Fock states) is an ensemble of product
Fock states with the product of the local populations; any other product (local states
with coherences, e.g. ``|+><+|`` or a rotated thermal state) is sampled subsystem by
subsystem from each local state's eigenstates; a state vector is its own, single member
(:func:`collision.trajectories.sampled_ensemble`).  Everything a plan needs of the state
(populations, each subsystem's populations) is computed from these forms in ``O(D n)``.

Every run records a digest of its initial state, ``parameters["initial_state"]``
(:func:`state_digest`), so that Monte Carlo runs of different initial states are never
merged (:data:`collision.statistics.SAME_RUN`).  It digests the state in the form the
run received it: the same numbers in another container (a real or complex array, a
``qutip.Qobj``, a sparse matrix, a tuple instead of a list) digest the same, but one
state given in two forms (a matrix and the list of its local factors, a vector and its
projector) digests differently, so merging demands the same input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lindblad.states import NORM_TOL, state_form

#: Largest dimension for which a dense ``(D, D)`` density matrix is accepted or built
#: (16 MB per matrix at D = 1024 ... 268 MB at 4096).
MAX_DENSE_DIM = 4096
__all__ = ["MAX_DENSE_DIM", "NORM_TOL", "InitialState", "initial_state", "reduced_populations"]


@dataclass(frozen=True)
class InitialState:
    """A validated initial state in one of the three forms (module docstring).

    Attributes
    ----------
    kind : {"matrix", "product", "vector"}
    dims : tuple of int
    matrix : ndarray, shape (D, D), or None
    local : tuple of ndarray, each (d, d), or None
    vector : ndarray, shape (D,), or None
    """

    kind: str
    dims: tuple[int, ...]
    matrix: np.ndarray | None = None
    local: tuple[np.ndarray, ...] | None = None
    vector: np.ndarray | None = None

    @property
    def dim(self) -> int:
        """Dimension of the joint Hilbert space, the product of ``dims``."""
        return int(np.prod(self.dims))

    def populations(self) -> np.ndarray:
        """Populations of the joint Fock basis (Kronecker order), shape (D,)."""
        if self.kind == "matrix":
            return np.real(np.diagonal(self.matrix)).copy()
        if self.kind == "vector":
            return np.abs(self.vector) ** 2
        out = np.ones(1)
        for rho in self.local:
            out = np.kron(out, np.real(np.diagonal(rho)))
        return out

    @property
    def fock_diagonal(self) -> bool:
        """A product of local states each diagonal in the Fock basis."""
        return self.kind == "product" and all(
            not np.any(rho - np.diag(np.diagonal(rho))) for rho in self.local)

    def restricted(self, basis: np.ndarray) -> np.ndarray:
        """The density matrix on the basis states ``basis`` only (Kronecker indices),
        shape ``(len(basis), len(basis))``: no ``(D, D)`` array is built."""
        if self.kind == "matrix":
            return self.matrix[np.ix_(basis, basis)]
        if self.kind == "vector":
            v = self.vector[basis]
            return np.outer(v, v.conj())
        digits = np.array(np.unravel_index(basis, self.dims)).T  # (len(basis), n)
        out = np.ones((basis.size, basis.size), dtype=complex)
        for i, rho in enumerate(self.local):
            out *= rho[np.ix_(digits[:, i], digits[:, i])]
        return out

    def dense(self) -> np.ndarray:
        """The ``(D, D)`` density matrix (``ValueError`` beyond ``MAX_DENSE_DIM``)."""
        if self.kind == "matrix":
            return self.matrix
        if self.dim > MAX_DENSE_DIM:
            raise ValueError(f"this needs the initial state as a dense {self.dim} x {self.dim} "
                             f"matrix, more than the {MAX_DENSE_DIM} x {MAX_DENSE_DIM} this "
                             "package builds; run(..., method='trajectories') runs such "
                             "chains without delays or link phases from a list of the "
                             f"{len(self.dims)} local states (with or without coherences) or "
                             "a state vector of length D")
        if self.kind == "vector":
            return np.outer(self.vector, self.vector.conj())
        out = np.ones((1, 1), dtype=complex)
        for rho in self.local:
            out = np.kron(out, rho)
        return out


def initial_state(rho0, dims: tuple[int, ...], name: str = "rho0") -> InitialState:
    """Validate an initial state given as a matrix, a list of local states or a vector.

    The form is decided by :func:`lindblad.states.state_form` (the one definition of the
    forms, shared with :class:`lindblad.CascadeMasterEquation`): by the shape of
    ``numpy.asarray(rho0)``, ``(D, D)`` a matrix, ``(D,)`` a vector, a list or tuple
    read as ``(n, d, d)`` (or of matrices of different sizes) the local states of a
    product.

    Raises
    ------
    ValueError
        A list of the wrong length or with local states of the wrong dimension or not
        density matrices; a vector of the wrong length, not finite or not normalised; a
        matrix of the wrong shape, not a density matrix, or larger than
        ``MAX_DENSE_DIM`` (the message says what to pass instead); any other shape.
    """
    dims = tuple(int(d) for d in dims)
    kind, value = state_form(rho0, dims, name, max_dense_dim=MAX_DENSE_DIM)
    if kind == "product":
        return InitialState("product", dims, local=value)
    if kind == "vector":
        return InitialState("vector", dims, vector=value)
    return InitialState("matrix", dims, matrix=value)


def reduced_populations(state: InitialState, fock: np.ndarray) -> np.ndarray:
    """Each subsystem's populations, shape (n, d)."""
    if state.kind == "product":
        return np.array([np.real(np.diagonal(r)) for r in state.local])
    pops = state.populations()
    d = max(state.dims)
    return np.array([np.bincount(fock[:, i], weights=pops, minlength=d)
                     for i in range(fock.shape[1])])



def state_digest(state: InitialState) -> str:
    """A digest of a validated initial state, as recorded in ``parameters["initial_state"]``.

    Parameters
    ----------
    state : InitialState
        The state as the run received it (:func:`initial_state`), before any change of
        frame.

    Returns
    -------
    str
        ``"<form>:sha256:<64 hex digits>"``, ``<form>`` one of ``matrix``, ``product``,
        ``vector``: the SHA-256 of the form, the subsystem dimensions (int64) and the
        state's arrays as C-ordered complex128 (the matrix, the local matrices S1 first,
        or the vector), with signed zeros made positive.  Equal digests mean the same
        numbers in the same form (module docstring).
    """
    h = hashlib.sha256()
    h.update(state.kind.encode("ascii") + b"\0")
    h.update(np.asarray(state.dims, dtype=np.int64).tobytes())
    arrays = {"matrix": (state.matrix,), "product": state.local,
              "vector": (state.vector,)}[state.kind]
    for arr in arrays:
        arr = np.ascontiguousarray(arr, dtype=np.complex128) + 0.0  # -0.0 -> 0.0
        h.update(np.asarray(arr.shape, dtype=np.int64).tobytes())
        h.update(arr.tobytes())
    return f"{state.kind}:sha256:{h.hexdigest()}"
