"""The general Lindblad master equation: any Hamiltonian, any jump operators.

    d rho/dt = -i [H, rho] + sum_c ( c rho c^dag - {c^dag c, rho}/2 ),

with the rates folded into the jump operators ``c`` (a jump ``sqrt(gamma) a`` is
``gamma L[a]``).  :class:`MasterEquation` is what a general collision model's
``master_equation()`` returns, and :meth:`lindblad.CascadeMasterEquation.to_master_equation`
writes the paper's cascade in this form.

Vectorisation is row-major, as everywhere in the package: ``vec(rho)[k * D + l] =
rho[k, l]``, so ``vec(A rho B) = (A kron B^T) vec(rho)`` and

    L = -i (H x I - I x H^T) + sum_c [ c x c^* - (c^dag c) x I / 2 - I x (c^dag c)^T / 2 ].

Propagation is exact (no fixed-step integrator): :func:`lindblad._propagate.propagate`,
dense propagators for ``D^2 <= 512`` and ``scipy.sparse.linalg.expm_multiply`` above.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._propagate import check_times, propagate
from ._validate import as_matrix, check_array_size, describe, integer
from .operators import MAX_DIMENSION
from .states import ATOL, validate_density_matrix

#: Hermiticity tolerance of the Hamiltonian and of observables, relative to
#: ``max(1, max |M_ij|)``: far above rounding (~1e-16), far below any physical asymmetry.
HERMITIAN_RTOL = 1e-12
#: Largest ``D^2`` for which :meth:`MasterEquation.steady_state` takes the dense SVD of the
#: Liouvillian (D <= 32); larger generators use sparse LU and shift-invert Arnoldi.
STEADY_DENSE_MAX = 1024
#: The steady state is unique when the second-smallest singular value (dense path) or
#: eigenvalue modulus (sparse path) of the Liouvillian exceeds this times its norm.  A
#: degenerate kernel gives ~1e-16; a unique one the slowest relaxation rate / ||L||.
STEADY_GAP_RTOL = 1e-9


def _is_matrix(value) -> bool:
    """Whether ``value`` is one matrix (rather than a list of them)."""
    if sp.issparse(value) or callable(getattr(value, "full", None)):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 2


def _operator(value, name: str, dim: int | None) -> sp.csr_matrix:
    """A finite square complex operator as CSR, of dimension ``dim`` if given.

    Accepts array-likes, scipy sparse matrices and anything with ``.full()`` (QuTiP
    ``Qobj``); the shape is checked before a sparse matrix is made dense.
    """
    if sp.issparse(value):
        if not np.issubdtype(value.dtype, np.number):
            raise ValueError(f"{name} must be numeric, got dtype {value.dtype}")
        shape = value.shape
        mat = sp.csr_matrix(value, dtype=complex)
    else:
        arr = as_matrix(value, name)
        shape = arr.shape
        mat = None
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {tuple(shape)}")
    if dim is None and shape[0] > MAX_DIMENSION:
        raise ValueError(f"{name} has dimension {shape[0]}; the master equation handles "
                         f"D <= {MAX_DIMENSION} (lindblad.operators.MAX_DIMENSION)")
    if dim is not None and shape[0] != dim:
        raise ValueError(f"{name} has shape {tuple(shape)}, but the Hamiltonian is "
                         f"({dim}, {dim}): every operator acts on the same space")
    if mat is None:
        mat = sp.csr_matrix(arr.astype(complex))
    if not np.all(np.isfinite(mat.data)):
        raise ValueError(f"{name} has non-finite entries")
    return mat


def _hermitian_defect(op: sp.csr_matrix) -> tuple[float, float]:
    """``(max |M - M^dag|, HERMITIAN_RTOL * max(1, max |M_ij|))``."""
    defect = abs(op - op.conj().T).max() if op.nnz else 0.0
    scale = max(1.0, abs(op).max() if op.nnz else 0.0)
    return float(defect), HERMITIAN_RTOL * scale


class MasterEquation:
    """A Lindblad master equation ``-i[H, rho] + sum_c L[c] rho``.

    Parameters
    ----------
    hamiltonian : array_like, scipy sparse matrix or qutip.Qobj, shape (D, D)
        Hermitian Hamiltonian (energy units; time is in the inverse unit).  Complex
        entries are kept.
    jump_operators : list of (D, D) matrices
        The jump operators ``c`` with their rates folded in:
        ``L[c] rho = c rho c^dag - {c^dag c, rho}/2``.  May be empty (unitary evolution).
    dims : list of int, optional
        Local dimensions of the subsystems, S1 most significant (product ``D``); default
        ``[D]``.  Used for the ``dims`` of :meth:`to_qutip`.

    Raises
    ------
    ValueError
        Wrong or different shapes, non-finite entries, a non-Hermitian Hamiltonian (beyond
        :data:`HERMITIAN_RTOL` relative to its largest entry), ``D`` above
        :data:`lindblad.operators.MAX_DIMENSION`, or ``dims`` whose product is not ``D``.
    """

    def __init__(self, hamiltonian, jump_operators=(), dims=None):
        self._h = _operator(hamiltonian, "hamiltonian", None)
        self.dim = self._h.shape[0]
        defect, tol = _hermitian_defect(self._h)
        if defect > tol:
            raise ValueError(f"hamiltonian is not Hermitian (max |H - H^dag| = {defect:.3g} > "
                             f"tolerance {tol:.3g} = {HERMITIAN_RTOL:g} x max(1, max |H_ij|))")
        if _is_matrix(jump_operators) or isinstance(jump_operators, (str, bytes)) \
                or not np.iterable(jump_operators):
            raise ValueError("jump_operators must be a list of (D, D) matrices (put a single "
                             f"jump operator in a list), got {describe(jump_operators)}")
        self._c = [_operator(c, f"jump_operators[{k}]", self.dim)
                   for k, c in enumerate(jump_operators)]
        self.dims = self._check_dims(dims)
        self._liouvillian: sp.csr_matrix | None = None

    def _check_dims(self, dims) -> tuple[int, ...]:
        if dims is None:
            return (self.dim,)
        if isinstance(dims, (str, bytes, numbers.Number)) or not np.iterable(dims):
            raise ValueError(f"dims must be a list of local dimensions, got {describe(dims)}")
        out = tuple(integer(d, f"dims[{k}]", 1) for k, d in enumerate(dims))
        if not out or int(np.prod(out, dtype=object)) != self.dim:
            raise ValueError(f"dims must be local dimensions whose product is D = {self.dim}, "
                             f"got {list(dims)}")
        return out

    @classmethod
    def from_qutip(cls, hamiltonian, c_ops=()) -> MasterEquation:
        """The master equation of QuTiP's ``mesolve(H, rho0, t, c_ops)``.

        ``dims`` are taken from ``hamiltonian.dims[0]`` when it has them (a ``Qobj``).
        """
        dims = getattr(hamiltonian, "dims", None)
        return cls(hamiltonian, list(c_ops), None if dims is None else list(dims[0]))

    @property
    def hamiltonian(self) -> np.ndarray:
        """``H``, a dense ``(D, D)`` complex array (a copy)."""
        return self._h.toarray()

    @property
    def jump_operators(self) -> list[np.ndarray]:
        """The jump operators, dense ``(D, D)`` complex arrays (copies)."""
        return [c.toarray() for c in self._c]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(dims={list(self.dims)}, "
                f"{len(self._c)} jump operator{'' if len(self._c) == 1 else 's'})")

    # --- generator ---------------------------------------------------------------------
    def liouvillian(self) -> sp.csr_matrix:
        """The generator as a sparse ``(D^2, D^2)`` CSR matrix (cached; a copy is returned).

        Row-major vectorisation: ``vec(rho)[k*D + l] = rho[k, l]``, so
        ``d vec(rho)/dt = L @ vec(rho)`` and ``vec(A rho B) = kron(A, B.T) vec(rho)``;
        the same convention as :meth:`lindblad.CascadeMasterEquation.liouvillian`.
        """
        if self._liouvillian is None:
            d = self.dim
            nnz = 2 * d * self._h.nnz + sum(c.nnz**2 + 2 * d * d * c.nnz for c in self._c)
            check_array_size((nnz,), 28, f"the Liouvillian of a D = {d} master equation",
                             " (bounded by the non-zero entries of H and the jumps)")
            eye = sp.identity(d, format="csr", dtype=complex)
            out = -1j * (sp.kron(self._h, eye, format="csr")
                         - sp.kron(eye, self._h.T, format="csr"))
            for c in self._c:
                cdc = (c.conj().T @ c).tocsr()
                out = out + sp.kron(c, c.conj(), format="csr") \
                    - 0.5 * sp.kron(cdc, eye, format="csr") \
                    - 0.5 * sp.kron(eye, cdc.T, format="csr")
            out = sp.csr_matrix(out)
            out.sum_duplicates()
            out.eliminate_zeros()
            self._liouvillian = out
        return self._liouvillian.copy()

    # --- dynamics ----------------------------------------------------------------------
    def _initial_state(self, rho0) -> np.ndarray:
        """``rho0`` as a validated density matrix; a state vector ``psi`` (shape ``(D,)``
        or ``(D, 1)``, unit norm) becomes ``|psi><psi|``."""
        arr = as_matrix(rho0, "rho0")
        if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1 and self.dim > 1):
            psi = arr.reshape(-1).astype(complex)
            if psi.size != self.dim:
                raise ValueError(f"rho0 is a state vector of length {psi.size}, but this "
                                 f"system has dimension D = {self.dim}")
            if not np.all(np.isfinite(psi)):
                raise ValueError("rho0 (a state vector) has non-finite entries")
            norm = float(np.linalg.norm(psi))
            if abs(norm - 1.0) > ATOL * max(1, self.dim):
                raise ValueError(f"rho0 is a state vector of norm {norm:.12g}; it must have "
                                 "norm 1")
            return np.outer(psi, psi.conj())
        return validate_density_matrix(arr, self.dim, name="rho0")

    def evolve(self, rho0, times) -> np.ndarray:
        """Exact density matrices at ``times``.

        Parameters
        ----------
        rho0 : array_like, shape (D, D) or (D,)
            Initial state at t = 0: a density matrix (Hermitian, positive semidefinite,
            unit trace; checked) or a normalised state vector.
        times : array_like, shape (n_t,)
            Non-decreasing times >= 0 (inverse energy units).

        Returns
        -------
        ndarray, shape (n_t, D, D), complex
        """
        rho = self._initial_state(rho0)
        t = check_times(times)
        d = self.dim
        check_array_size((t.size, d, d), 16, f"evolve() with {t.size} times in dimension "
                         f"D = {d}", "; pass fewer times")
        v = propagate(self._generator(), rho.reshape(-1), t)
        return v.reshape(t.size, d, d)

    def _generator(self) -> sp.csr_matrix:
        if self._liouvillian is None:
            self.liouvillian()
        return self._liouvillian

    def expect(self, operators, rho0, times):
        """Expectation values ``Tr[rho(t) O]`` (QuTiP's ``e_ops`` convention).

        Parameters
        ----------
        operators : dict or list of (D, D) matrices
            Observables; a dict gives a dict of arrays with the same keys, a list a list.
        rho0, times
            As for :meth:`evolve`.

        Returns
        -------
        dict or list of ndarray, each of shape (n_t,)
            Real for Hermitian operators (within :data:`HERMITIAN_RTOL`), complex otherwise.
        """
        if isinstance(operators, dict):
            names = list(operators)
            items = [operators[k] for k in names]
            labels = [f"operators[{k!r}]" for k in names]
        elif _is_matrix(operators) or isinstance(operators, (str, bytes)) \
                or not np.iterable(operators):
            raise ValueError("operators must be a dict or a list of (D, D) matrices (put a "
                             f"single operator in a list), got {describe(operators)}")
        else:
            items = list(operators)
            labels = [f"operators[{k}]" for k in range(len(items))]
        ops = [_operator(op, label, self.dim) for op, label in zip(items, labels, strict=True)]
        states = self.evolve(rho0, times)
        values = []
        for op in ops:
            # Tr[rho O] = sum_kl rho_kl O_lk
            val = np.einsum("tkl,lk->t", states, op.toarray())
            defect, tol = _hermitian_defect(op)
            values.append(val.real.copy() if defect <= tol else val)
        return dict(zip(names, values, strict=True)) if isinstance(operators, dict) else values

    def steady_state(self) -> np.ndarray:
        """The unique stationary state ``L rho = 0``, ``Tr rho = 1``, shape ``(D, D)``.

        For ``D^2 <= STEADY_DENSE_MAX`` the null vector comes from the dense SVD of ``L``;
        above, from inverse iteration with a sparse LU of ``L - sigma`` (``sigma =
        1e-3 STEADY_GAP_RTOL ||L||``), and shift-invert Arnoldi with that LU measures the
        second eigenvalue (``||L||`` the largest absolute row sum).

        Raises
        ------
        ValueError
            If the kernel is degenerate: the second-smallest singular value (dense) or
            eigenvalue modulus (sparse) is below ``STEADY_GAP_RTOL * ||L||``, i.e. the
            stationary state depends on the initial state (a conserved quantity, a
            decoherence-free subspace, no dissipation at all).
        """
        lv = self._generator()
        n = lv.shape[0]
        scale = float(abs(lv).sum(axis=1).max()) if lv.nnz else 0.0
        if scale == 0.0:
            raise ValueError("the Liouvillian is zero (no Hamiltonian, no jumps): every "
                             "state is stationary, the steady state is not unique")
        if n <= STEADY_DENSE_MAX:
            _, s, vh = la.svd(lv.toarray())
            gap, null = s[-2], vh[-1].conj()
            scale = s[0]
            measure = "second-smallest singular value"
        else:
            sigma = 1e-3 * STEADY_GAP_RTOL * scale  # far below any gap accepted
            lu = spla.splu((lv - sigma * sp.identity(n, format="csc")).tocsc())
            op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=complex)
            mu = spla.eigs(op, k=2, which="LM", return_eigenvectors=False,
                           v0=np.ones(n, dtype=complex), tol=1e-10)
            lam = np.sort(np.abs(sigma + 1.0 / mu))  # eigenvalues of L nearest sigma
            gap = lam[1]
            measure = "second-smallest eigenvalue modulus"
            null = np.eye(self.dim, dtype=complex).reshape(-1)
            for _ in range(6):  # inverse iteration: each step gains sigma / gap <= 1e-3
                null = lu.solve(null)
                null /= np.linalg.norm(null)
        if gap <= STEADY_GAP_RTOL * scale:
            raise ValueError(f"the steady state is not unique: the Liouvillian's kernel is "
                             f"degenerate ({measure} {gap:.3g} <= {STEADY_GAP_RTOL:g} x "
                             f"||L|| = {STEADY_GAP_RTOL * scale:.3g}); the long-time state "
                             "depends on rho0: use evolve()")
        rho = null.reshape(self.dim, self.dim)
        rho = rho / np.trace(rho)
        return (rho + rho.conj().T) / 2

    # --- QuTiP --------------------------------------------------------------------------
    def to_qutip(self):
        """``(H, c_ops)`` as ``qutip.Qobj`` with ``dims = [dims, dims]``, for
        ``qutip.mesolve(H, rho0, times, c_ops)``.

        Raises
        ------
        ImportError
            If QuTiP is not installed (it is optional: ``pip install qutip``).
        """
        try:
            import qutip  # application-facing glue: QuTiP is optional
        except ImportError as exc:
            raise ImportError("to_qutip() needs QuTiP, which is not installed "
                              "(pip install qutip)") from exc
        dims = [list(self.dims), list(self.dims)]
        return (qutip.Qobj(self._h.toarray(), dims=dims),
                [qutip.Qobj(c.toarray(), dims=dims) for c in self._c])
