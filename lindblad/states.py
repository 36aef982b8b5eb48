"""Initial-state constructors and physical validation.

Density matrices use the basis of :mod:`lindblad.operators` (Fock, ground first, S1
most significant).  Covariance matrices use the quadrature order
``(X1, Y1, X2, Y2, ...)`` with ``X = (a + a^dag)/sqrt2``, ``Y = i(a^dag - a)/sqrt2``
and ``C_mn = <{chi_m, chi_n}>/2 - <chi_m><chi_n>``; the vacuum is ``I/2``.

Every constructor validates what it builds, and :func:`validate_density_matrix` /
:func:`validate_covariance` check user input; bad input raises ``ValueError`` saying
what is wrong and what is allowed.  Both accept array-likes, QuTiP ``Qobj`` (through
``.full()``) and scipy sparse matrices (through ``.toarray()``).

Tolerances are relative to the matrix scale ``s = max(1, max_ij |M_ij|)``: a check
``|defect| <= atol * s`` accepts rounding errors of eigensolvers and BLAS kernels,
which grow with the size of the entries, and never rejects a state built exactly on a
physical boundary (pure states, eq D5 with equality).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import (
    as_matrix,
    check_array_size,
    complex_scalar,
    integer,
    real_scalar,
)
from .operators import MAX_DIMENSION, embed, local_dimension, lowering
from .thermal import thermal_populations

#: Tolerance of the Hermiticity, symmetry, trace and positivity checks, relative to the
#: matrix scale ``max(1, max |M_ij|)`` (the trace check uses ``atol * max(1, D)``).
#: Double-precision eigensolvers err by ~1e-16 x scale x D, far below it.
ATOL = 1e-10


def thermal(system: str, temperature: float, cutoff: int | None = None,
            omega: float = 1.0) -> np.ndarray:
    """Gibbs state of one subsystem, shape ``(d, d)``.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    temperature : float
        In units of hbar omega / k_B, >= 0; 0 gives the ground state.
    cutoff : int, optional
        Fock dimension (oscillators only, 2 ... ``MAX_DIMENSION``); the Gibbs state is
        truncated and renormalised.
    omega : float
        Transition frequency, > 0.
    """
    d = local_dimension(system, cutoff)
    if d > MAX_DIMENSION:
        raise ValueError(f"cutoff = {d} exceeds the largest Hilbert-space dimension of the "
                         f"dense-matrix reference, {MAX_DIMENSION} (lindblad.operators."
                         "MAX_DIMENSION)")
    return np.diag(thermal_populations(system, temperature, omega, cutoff)).astype(complex)


def product(*rhos) -> np.ndarray:
    """Kronecker product ``rho_1 x rho_2 x ...`` (S1 most significant).

    Every factor is validated with :func:`validate_density_matrix` (named "state k").
    """
    if not rhos:
        raise ValueError("product() needs at least one state")
    factors = [validate_density_matrix(rho, name=f"state {k + 1}") for k, rho in enumerate(rhos)]
    dim = int(np.prod([f.shape[0] for f in factors], dtype=object))
    check_array_size((dim, dim), 16, f"the product of {len(factors)} states (dimension {dim})")
    out = np.ones((1, 1), dtype=complex)
    for factor in factors:
        out = np.kron(out, factor)
    return out


def correlated_qubits(xi_s: float, rho23: complex) -> np.ndarray:
    """Locally thermal, correlated two-qubit state of the paper's eq 41.

    Parameters
    ----------
    xi_s : float
        Local polarisation ``tanh(omega / 2 T_S)`` of both qubits, in [0, 1].
    rho23 : complex
        The paper's symbol ``rho_23(0)`` (any finite complex number; its phase is kept).
        The matrix of eq 41 carries a prefactor 1/4, so the matrix element
        ``<eg| rho |ge>`` is ``rho23 / 4``.  Positivity (eq 42) requires
        ``|rho23| <= 1 - xi_s**2``.

    Returns
    -------
    ndarray, shape (4, 4)
        In this package's basis ``|gg>, |ge>, |eg>, |ee>``: the paper's excited-first
        matrix reversed along both axes.
    """
    xi_s = real_scalar(xi_s, "xi_s", minimum=0.0, maximum=1.0)
    rho23 = complex_scalar(rho23, "rho23")
    bound = 1.0 - xi_s**2
    if abs(rho23) > bound + ATOL:
        raise ValueError(f"|rho23| = {abs(rho23):.6g} exceeds the positivity bound of eq 42, "
                         f"1 - xi_s^2 = {bound:.6g} (rho23 is the paper's symbol, 4x the "
                         "matrix element)")
    rho = np.zeros((4, 4), dtype=complex)
    rho[3, 3] = (1 - xi_s) ** 2  # |ee>
    rho[2, 2] = rho[1, 1] = bound  # |eg>, |ge>
    rho[0, 0] = (1 + xi_s) ** 2  # |gg>
    rho[2, 1] = rho23  # <eg|rho|ge>
    rho[1, 2] = rho23.conjugate()
    return rho / 4.0


def _scale(arr: np.ndarray) -> float:
    """``max(1, max |M_ij|)``: the scale the tolerances are relative to."""
    return max(1.0, float(np.max(np.abs(arr))))


def validate_density_matrix(rho, dim: int | None = None, atol: float = ATOL,
                            name: str = "rho") -> np.ndarray:
    """Check that ``rho`` is a density matrix and return it as a complex array.

    Parameters
    ----------
    rho : array_like, qutip.Qobj or scipy sparse matrix, shape (D, D)
        The candidate state (converted with ``.full()`` / ``.toarray()``).
    dim : int, optional
        Required dimension ``D``.
    atol : float
        Tolerance relative to ``s = max(1, max |rho_ij|)``: ``max |rho - rho^dag| <= atol s``,
        ``|Tr rho - 1| <= atol max(1, D)`` and lowest eigenvalue ``>= -atol s``.
    name : str
        Name used in error messages.

    Raises
    ------
    ValueError
        If ``rho`` is not a non-empty square numeric matrix (of dimension ``dim`` when
        given), has non-finite entries, is not Hermitian, does not have unit trace or is
        not positive semidefinite, within the tolerances above.
    """
    arr = as_matrix(rho, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != integer(dim, "dim", 1):
        raise ValueError(f"{name} has dimension {arr.shape[0]}, but this system's Hilbert space "
                         f"has dimension {dim}")
    atol = real_scalar(atol, "atol", minimum=0.0)
    arr = arr.astype(complex)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    tol = atol * _scale(arr)
    herm = np.max(np.abs(arr - arr.conj().T))
    if herm > tol:
        raise ValueError(f"{name} is not Hermitian (max |rho - rho^dag| = {herm:.3g} > "
                         f"tolerance {tol:.3g})")
    tr = np.trace(arr).real
    if abs(tr - 1.0) > atol * max(1, arr.shape[0]):
        raise ValueError(f"{name} must have unit trace, got trace {tr:.12g}")
    lowest = np.linalg.eigvalsh((arr + arr.conj().T) / 2)[0]
    if lowest < -tol:
        raise ValueError(f"{name} is not positive semidefinite (lowest eigenvalue {lowest:.3g} "
                         f"< -tolerance = {-tol:.3g})")
    return arr


# --- the three forms of an initial state ---------------------------------------------

#: Normalisation tolerance of a state vector.
NORM_TOL = 1e-10

STATE_FORMS = ("a (D, D) density matrix, a state vector of shape (D,), or the n local "
               "(d, d) density matrices of a product state as a list or tuple of matrices")


def state_form(rho0, dims, name: str = "rho0", max_dense_dim: int | None = None
               ) -> tuple[str, object]:
    """Validate an initial state of subsystems ``dims`` given in one of three forms.

    The form is decided by the shape of ``numpy.asarray(rho0)`` (QuTiP ``Qobj`` and
    scipy sparse matrices are read as matrices), never by the Python type of a list:

    * 2-D, ``(D, D)`` with ``D = prod(dims)``: a density matrix;
    * 1-D, ``(D,)``: a state vector (a pure state ``|psi><psi|``, normalised);
    * a list or tuple read as 3-D, ``(n, d, d)``, or whose items are matrices of
      different sizes or non-array objects (``Qobj``, sparse): the local density
      matrices of a product state ``rho_1 x rho_2 x ...`` (S1 first), one per subsystem.

    So a nested list of numbers is a matrix if it is a list of rows, a vector if it is a
    list of numbers, and local states only if it is a list of matrices; the forms
    cannot be confused.  A single 3-D numpy array is refused (pass ``list(array)`` for
    local states), and so is anything else, with the shape that was read and the forms
    allowed.

    Parameters
    ----------
    rho0 : array_like, Qobj, sparse matrix, or sequence of those
    dims : sequence of int
        Local dimensions ``d_i`` (``D = prod(dims)``).
    name : str
        Name in error messages.
    max_dense_dim : int, optional
        Largest ``D`` accepted for the matrix form (the message then names the others).

    Returns
    -------
    (kind, value)
        ``("matrix", (D, D) complex array)``, ``("vector", (D,) complex array)`` or
        ``("product", tuple of (d_i, d_i) complex arrays)``, each validated
        (:func:`validate_density_matrix`; vectors finite with norm 1 within
        ``NORM_TOL``).

    Raises
    ------
    ValueError
        For a shape that is none of the forms, a product with the wrong number of local
        states or a local state of the wrong dimension or not a density matrix, a vector
        of the wrong length, not finite or not normalised, a matrix that is not a
        density matrix or larger than ``max_dense_dim``.
    """
    dims = tuple(int(d) for d in dims)
    n = len(dims)
    dim = int(np.prod(dims, dtype=object))
    arr = _read_state(rho0, name)
    if arr is not None and arr.ndim == 3 and not isinstance(rho0, (list, tuple)):
        raise ValueError(f"{name} is one array of shape {arr.shape}; local states of a "
                         f"product are passed as a list or tuple of matrices (list({name})); "
                         f"{name} must be {STATE_FORMS}")
    if arr is None or arr.ndim == 3:
        items = list(rho0) if arr is None else list(arr)
        if len(items) != n:
            raise ValueError(f"{name} as local states holds one local state per subsystem: "
                             f"{n} ({' x '.join(map(str, dims))} dimensions), got "
                             f"{len(items)}")
        return "product", tuple(validate_density_matrix(r, dims[i], name=f"{name}[{i}]")
                                for i, r in enumerate(items))
    if arr.ndim == 1:
        if arr.size != dim:
            raise ValueError(f"{name} as a state vector must have length D = {dim}, got "
                             f"{arr.size}")
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} as a state vector must hold finite numbers")
        vec = arr.astype(complex)
        norm = float(np.linalg.norm(vec))
        if abs(norm - 1.0) > NORM_TOL:
            raise ValueError(f"{name} as a state vector must be normalised, got norm "
                             f"{norm:.12g} (divide it by its norm)")
        return "vector", vec
    if arr.ndim != 2:
        raise ValueError(f"{name} was read as an array of shape {arr.shape}; it must be "
                         f"{STATE_FORMS}, here D = {dim}")
    if arr.shape == (dim, dim) and max_dense_dim is not None and dim > max_dense_dim:
        raise ValueError(f"{name} is a dense {dim} x {dim} matrix, larger than this package "
                         f"handles ({max_dense_dim}); pass a list of the {n} local states "
                         "(a product state) or a state vector of length D")
    if arr.shape != (dim, dim):
        raise ValueError(f"{name} was read as a matrix of shape {arr.shape}, but a density "
                         f"matrix of these subsystems is ({dim}, {dim}); {name} must be "
                         f"{STATE_FORMS}")
    return "matrix", validate_density_matrix(arr, dim, name=name)


def _read_state(rho0, name: str) -> np.ndarray | None:
    """``rho0`` as a numeric array, or None for a list / tuple of separate matrices
    (ragged, or items that are not plain arrays)."""
    if isinstance(rho0, (list, tuple)) and rho0 and not all(
            isinstance(r, (list, tuple, np.ndarray, numbers.Number)) for r in rho0):
        return None  # e.g. a list of Qobj or sparse matrices: local states
    if isinstance(rho0, (list, tuple)):
        try:
            arr = np.asarray(rho0)
        except ValueError:  # ragged: local states of different sizes
            arr = None
        if arr is None or arr.dtype == object:
            if all(np.ndim(r) == 2 for r in rho0):
                return None
            raise ValueError(f"{name} could not be read as a rectangular array; it must be "
                             f"{STATE_FORMS}")
    return as_matrix(rho0, name)


def density_matrix(rho0, dims, name: str = "rho0") -> np.ndarray:
    """The ``(D, D)`` density matrix of an initial state in any of the forms of
    :func:`state_form` (a product of local states is their Kronecker product, a vector
    ``|psi><psi|``), validated; size-checked against the memory limit before it is
    built."""
    dims = tuple(int(d) for d in dims)
    dim = int(np.prod(dims, dtype=object))
    check_array_size((dim, dim), 16, f"{name} as a dense matrix (D = {dim})")
    kind, value = state_form(rho0, dims, name)
    if kind == "matrix":
        return value
    if kind == "vector":
        return np.outer(value, value.conj())
    out = np.ones((1, 1), dtype=complex)
    for rho in value:
        out = np.kron(out, rho)
    return out


# --- Gaussian states -------------------------------------------------------------------

def _omega(n_modes: int) -> np.ndarray:
    """Symplectic form for quadrature order (X1, Y1, X2, Y2, ...)."""
    return np.kron(np.eye(n_modes), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def _covariance_shape(cov, name: str) -> np.ndarray:
    """``cov`` as a numeric array of shape ``(2n, 2n)``, ``n >= 1`` (no physics checks)."""
    arr = as_matrix(cov, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] % 2 or arr.size == 0:
        raise ValueError(f"{name} must be a square matrix of even size 2n >= 2 (quadratures "
                         f"X1, Y1, X2, Y2, ...), got shape {arr.shape}")
    return arr


def _real_covariance(cov, name: str) -> np.ndarray:
    """``cov`` as a finite real array of shape ``(2n, 2n)`` (no physics checks)."""
    arr = _covariance_shape(cov, name)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real (the covariance of Hermitian quadratures), "
                         f"got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    return arr.astype(float)


def _uncertainty_violation(cov: np.ndarray, atol: float) -> str | None:
    """Why ``cov`` violates ``C + i Omega/2 >= 0`` (eq D2), or None if it does not.

    The criterion is the lowest eigenvalue ``mu`` of the Hermitian matrix
    ``C + i Omega/2``, rejected when ``mu < -atol * s`` (``s = max(1, max |C_ij|)``).
    A Hermitian eigensolver computes ``mu`` to ~1e-16 s, whereas symplectic eigenvalues
    (eigenvalues of the non-normal ``i Omega C``) lose accuracy as ``cond(C)`` grows
    (squeezed states), so they are only reported: ``C + i Omega/2`` is congruent to
    ``diag(nu_k) + i Omega/2`` (Williamson), so ``mu < 0`` exactly when ``nu_min < 1/2``,
    and ``nu_min`` is quoted only when its computed value agrees (``< 1/2``).
    """
    tol = atol * _scale(cov)
    mu = np.linalg.eigvalsh(cov + 0.5j * _omega(cov.shape[0] // 2))[0]
    if mu >= -tol:
        return None
    why = (f"C + i Omega/2 has the negative eigenvalue {mu:.3g} (tolerance {tol:.3g} = "
           f"atol x max(1, max |C_ij|))")
    nu = symplectic_eigenvalues(cov).min()
    if nu < 0.5:
        why += f"; smallest symplectic eigenvalue nu_min = {nu:.12g}, 1/2 - nu_min = {0.5 - nu:.3g}"
    return why


def validate_covariance(cov, n_modes: int | None = None, atol: float = ATOL,
                        name: str = "covariance matrix") -> np.ndarray:
    """Check a covariance matrix is physical (paper eq D2) and return it as floats.

    Parameters
    ----------
    cov : array_like, qutip.Qobj or scipy sparse matrix, shape (2n, 2n)
        Order ``(X1, Y1, X2, Y2, ...)``, vacuum ``I/2``.
    n_modes : int, optional
        Required number of modes ``n``.
    atol : float
        Tolerance relative to ``s = max(1, max |C_ij|)`` for the imaginary part
        (``max |Im C| <= atol s``), the symmetry (``max |C - C^T| <= atol s``) and the
        uncertainty principle (lowest eigenvalue of ``C + i Omega/2`` ``>= -atol s``).
    name : str
        Name used in error messages.

    Raises
    ------
    ValueError
        If the shape is wrong, an entry is non-finite or (beyond ``atol``) complex, ``C``
        is not symmetric or ``C + (i/2) Omega >= 0`` fails (Omega the symplectic form).
    """
    arr = _covariance_shape(cov, name)
    if n_modes is not None and arr.shape[0] != 2 * integer(n_modes, "n_modes", 1):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({2 * n_modes}, {2 * n_modes}) "
                         f"for {n_modes} modes in the order (X1, Y1, X2, Y2, ...)")
    atol = real_scalar(atol, "atol", minimum=0.0)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    if np.iscomplexobj(arr):
        imag = np.max(np.abs(arr.imag))
        if imag > atol * _scale(arr):
            raise ValueError(f"{name} must be real (covariances of Hermitian quadratures), got "
                             f"max |Im C| = {imag:.3g} > tolerance {atol * _scale(arr):.3g}")
        arr = arr.real
    arr = arr.astype(float)
    asym = np.max(np.abs(arr - arr.T))
    if asym > atol * _scale(arr):
        raise ValueError(f"{name} is not symmetric (max |C - C^T| = {asym:.3g} > tolerance "
                         f"{atol * _scale(arr):.3g})")
    why = _uncertainty_violation((arr + arr.T) / 2, atol)
    if why is not None:
        raise ValueError(f"{name} violates the uncertainty principle C + i Omega/2 >= 0 "
                         f"(eq D2): {why}")
    return arr


def symplectic_eigenvalues(cov) -> np.ndarray:
    """Symplectic eigenvalues of a covariance matrix (ascending), >= 1/2 if physical.

    Computed as the moduli of the eigenvalues of ``i Omega C`` (each appears twice);
    the shape is checked, not the physics.
    """
    arr = _real_covariance(cov, "cov")
    ev = np.linalg.eigvals(1j * _omega(arr.shape[0] // 2) @ arr)
    return np.sort(np.abs(ev))[::2]


def gaussian_thermal(n_s: float, n_systems: int = 2) -> np.ndarray:
    """Covariance matrix of ``n_systems`` uncorrelated modes with occupation ``n_s``:
    ``(n_s + 1/2) I``, shape ``(2n, 2n)``."""
    n_s = real_scalar(n_s, "n_s", minimum=0.0, note=" (mean occupation)")
    n = integer(n_systems, "n_systems", 1, note=" (a positive integer: the number of modes)")
    check_array_size((2 * n, 2 * n), 8, f"n_systems = {n}")
    return (n_s + 0.5) * np.eye(2 * n)


def gaussian_correlated(n_s: float, c13: float, c24: float) -> np.ndarray:
    """Locally thermal, correlated two-mode covariance matrix (paper eq 31 / D1).

    Diagonal ``N_S + 1/2``, ``C13 = <X1 X2>``, ``C24 = <Y1 Y2>``, all else zero.
    Physical iff ``|C13|, |C24| < N_S + 1/2`` (D3) and both symplectic eigenvalues
    (D4) are ``>= 1/2``; on the line ``C13 = C24`` this is ``|C13| <= N_S`` (D5).
    States on the boundary (e.g. ``C13 = C24 = N_S``) are accepted; D4 is checked with
    the tolerance of :func:`validate_covariance`.
    """
    n_s = real_scalar(n_s, "n_s", minimum=0.0, note=" (mean occupation)")
    cov = gaussian_thermal(n_s, 2)
    c11 = n_s + 0.5
    c13, c24 = real_scalar(c13, "c13"), real_scalar(c24, "c24")
    for label, c in (("C13", c13), ("C24", c24)):
        if abs(c) >= c11:
            raise ValueError(f"|{label}| = {abs(c):.6g} must be < C11 = N_S + 1/2 = {c11:.6g} "
                             "(eq D3)")
    cov[0, 2] = cov[2, 0] = c13
    cov[1, 3] = cov[3, 1] = c24
    why = _uncertainty_violation(cov, ATOL)  # eq D4, without its cancellation
    if why is not None:
        raise ValueError(f"(C13, C24) = ({c13:.6g}, {c24:.6g}) is unphysical for N_S = {n_s:g}: "
                         f"{why}, i.e. nu_- < 1/2 (eq D4); for C13 = C24 the allowed range is "
                         "|C13| <= N_S (eq D5)")
    return validate_covariance(cov, 2)


def gaussian_mean_occupations(cov) -> np.ndarray:
    """Mean occupation ``<a_i^dag a_i> = (C_XX + C_YY)/2 - 1/2`` of each mode."""
    d = np.diag(_real_covariance(cov, "cov"))
    return (d[0::2] + d[1::2]) / 2 - 0.5


def fock_moments(rho, dims: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """First moments and covariance matrix of a Fock-space density matrix.

    Parameters
    ----------
    rho : array_like, shape (D, D)
        State of ``len(dims)`` modes in the Fock basis (S1 most significant).
    dims : tuple of int
        Fock dimension of every mode.

    Returns
    -------
    mean : ndarray of complex, shape (n,)
        ``<a_i>``.
    cov : ndarray, shape (2n, 2n)
        Covariance in the order (X1, Y1, X2, Y2, ...), vacuum ``I/2``.

    Only normally ordered moments ``<a_i a_j>`` and ``<a_i^dag a_j>`` are used: with
    truncated ladder operators they are exact, unlike ``<a a^dag>`` at the top level.
    With centred moments ``P = <a_i a_j> - <a_i><a_j>`` and
    ``N = <a_i^dag a_j> - <a_i>^* <a_j>``: ``C_XiXj = Re(P + N)_ij + delta_ij/2``,
    ``C_YiYj = Re(N - P)_ij + delta_ij/2`` and ``C_XiYj = Im(P + N)_ij``.
    """
    if isinstance(dims, (str, bytes)) or not np.iterable(dims):
        raise ValueError(f"dims must be a tuple of Fock dimensions, one per mode, got {dims!r}")
    dims = tuple(integer(d, "dims entry", 1) for d in dims)
    arr = validate_density_matrix(rho, int(np.prod(dims, dtype=object)))
    a = [embed(lowering(d), i, dims) for i, d in enumerate(dims)]

    def expect(op) -> complex:  # Tr[rho op] in O(nnz(op))
        return complex(op.multiply(arr.T).sum())

    n = len(dims)
    mean = np.array([expect(ai) for ai in a])
    p = np.array([[expect(ai @ aj) for aj in a] for ai in a]) - np.outer(mean, mean)
    nn = np.array([[expect(ai.conj().T @ aj) for aj in a] for ai in a]) \
        - np.outer(mean.conj(), mean)
    cov = np.zeros((2 * n, 2 * n))
    cov[0::2, 0::2] = (p + nn).real + np.eye(n) / 2
    cov[1::2, 1::2] = (nn - p).real + np.eye(n) / 2
    cov[0::2, 1::2] = (p + nn).imag
    cov[1::2, 0::2] = cov[0::2, 1::2].T
    return mean, cov

