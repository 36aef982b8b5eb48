"""Initial-state constructors and physical validation.

Density matrices use the basis of :mod:`lindblad.operators` (Fock, ground first, S1
most significant).  Covariance matrices use the quadrature order
``(X1, Y1, X2, Y2, ...)`` with ``X = (a + a^dag)/sqrt2``, ``Y = i(a^dag - a)/sqrt2``
and ``C_mn = <{chi_m, chi_n}>/2 - <chi_m><chi_n>``; the vacuum is ``I/2``.

Every constructor validates what it builds, and :func:`validate_density_matrix` /
:func:`validate_covariance` check user input; bad input raises ``ValueError`` saying
what is wrong and what is allowed.
"""

from __future__ import annotations

import numpy as np

from .operators import embed, local_dimension, lowering
from .thermal import thermal_populations

#: Absolute tolerance used for Hermiticity, trace and positivity checks.
ATOL = 1e-10


def thermal(system: str, temperature: float, cutoff: int | None = None,
            omega: float = 1.0) -> np.ndarray:
    """Gibbs state of one subsystem, shape ``(d, d)``.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    temperature : float
        In units of hbar omega / k_B; 0 gives the ground state.
    cutoff : int, optional
        Fock dimension (oscillators only); the Gibbs state is truncated and renormalised.
    omega : float
        Transition frequency.
    """
    local_dimension(system, cutoff)
    return np.diag(thermal_populations(system, temperature, omega, cutoff)).astype(complex)


def product(*rhos: np.ndarray) -> np.ndarray:
    """Kronecker product ``rho_1 x rho_2 x ...`` (S1 most significant)."""
    if not rhos:
        raise ValueError("product() needs at least one state")
    out = np.ones((1, 1), dtype=complex)
    for k, rho in enumerate(rhos):
        out = np.kron(out, validate_density_matrix(rho, name=f"state {k + 1}"))
    return out


def correlated_qubits(xi_s: float, rho23: complex) -> np.ndarray:
    """Locally thermal, correlated two-qubit state of the paper's eq 41.

    Parameters
    ----------
    xi_s : float
        Local polarisation ``tanh(omega / 2 T_S)`` of both qubits, in [0, 1].
    rho23 : complex
        The paper's symbol ``rho_23(0)``.  The matrix of eq 41 carries a prefactor 1/4,
        so the matrix element ``<eg| rho |ge>`` is ``rho23 / 4``.  Positivity (eq 42)
        requires ``|rho23| <= 1 - xi_s**2``.

    Returns
    -------
    ndarray, shape (4, 4)
        In this package's basis ``|gg>, |ge>, |eg>, |ee>``: the paper's excited-first
        matrix reversed along both axes.
    """
    xi_s = float(xi_s)
    if not 0.0 <= xi_s <= 1.0:
        raise ValueError(f"xi_s must lie in [0, 1], got {xi_s!r}")
    rho23 = complex(rho23)
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


def validate_density_matrix(rho, dim: int | None = None, atol: float = ATOL,
                            name: str = "rho") -> np.ndarray:
    """Check that ``rho`` is a density matrix and return it as a complex array.

    Raises ``ValueError`` if it is not a square 2-d array (of dimension ``dim`` when
    given), has non-finite entries, is not Hermitian, does not have unit trace, or
    has an eigenvalue below ``-atol``.
    """
    arr = np.asarray(rho)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[0]}, but this system's Hilbert space "
                         f"has dimension {dim}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(complex)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    herm = np.max(np.abs(arr - arr.conj().T))
    if herm > atol:
        raise ValueError(f"{name} is not Hermitian (max |rho - rho^dag| = {herm:.3g} > {atol:g})")
    tr = np.trace(arr).real
    if abs(tr - 1.0) > atol * max(1, arr.shape[0]):
        raise ValueError(f"{name} must have unit trace, got trace {tr:.12g}")
    lowest = np.linalg.eigvalsh((arr + arr.conj().T) / 2)[0]
    if lowest < -atol:
        raise ValueError(f"{name} is not positive semidefinite (lowest eigenvalue {lowest:.3g})")
    return arr


# --- Gaussian states -------------------------------------------------------------------

def _omega(n_modes: int) -> np.ndarray:
    """Symplectic form for quadrature order (X1, Y1, X2, Y2, ...)."""
    return np.kron(np.eye(n_modes), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def validate_covariance(cov, n_modes: int | None = None, atol: float = ATOL,
                        name: str = "covariance matrix") -> np.ndarray:
    """Check a covariance matrix is physical (paper eq D2) and return it as floats.

    Requirements: shape ``(2n, 2n)``, real, finite, symmetric, and
    ``C + (i/2) Omega >= 0`` (the uncertainty principle; Omega is the symplectic form).
    """
    arr = np.asarray(cov)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] % 2:
        raise ValueError(f"{name} must be a square matrix of even size 2n, got shape {arr.shape}")
    if n_modes is not None and arr.shape[0] != 2 * n_modes:
        raise ValueError(f"{name} has shape {arr.shape}, expected ({2 * n_modes}, {2 * n_modes}) "
                         f"for {n_modes} modes in the order (X1, Y1, X2, Y2, ...)")
    if np.iscomplexobj(arr):
        if np.max(np.abs(arr.imag)) > atol:
            raise ValueError(f"{name} must be real")
        arr = arr.real
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries")
    asym = np.max(np.abs(arr - arr.T))
    if asym > atol:
        raise ValueError(f"{name} is not symmetric (max |C - C^T| = {asym:.3g})")
    lowest = np.linalg.eigvalsh(arr + 0.5j * _omega(arr.shape[0] // 2))[0]
    if lowest < -atol:
        nu = symplectic_eigenvalues(arr)
        raise ValueError(f"{name} violates the uncertainty principle C + i Omega/2 >= 0 (eq D2): "
                         f"smallest symplectic eigenvalue {nu.min():.6g} < 1/2")
    return arr


def symplectic_eigenvalues(cov) -> np.ndarray:
    """Symplectic eigenvalues of a covariance matrix (ascending), >= 1/2 if physical."""
    arr = np.asarray(cov, dtype=float)
    ev = np.linalg.eigvals(1j * _omega(arr.shape[0] // 2) @ arr)
    return np.sort(np.abs(ev))[::2]


def gaussian_thermal(n_s: float, n_systems: int = 2) -> np.ndarray:
    """Covariance matrix of ``n_systems`` uncorrelated modes with occupation ``n_s``:
    ``(n_s + 1/2) I``, shape ``(2n, 2n)``."""
    n_s = float(n_s)
    if not np.isfinite(n_s) or n_s < 0:
        raise ValueError(f"n_s (mean occupation) must be a finite number >= 0, got {n_s!r}")
    if int(n_systems) != n_systems or n_systems < 1:
        raise ValueError(f"n_systems must be a positive integer, got {n_systems!r}")
    return (n_s + 0.5) * np.eye(2 * int(n_systems))


def gaussian_correlated(n_s: float, c13: float, c24: float) -> np.ndarray:
    """Locally thermal, correlated two-mode covariance matrix (paper eq 31 / D1).

    Diagonal ``N_S + 1/2``, ``C13 = <X1 X2>``, ``C24 = <Y1 Y2>``, all else zero.
    Physical iff ``|C13|, |C24| < N_S + 1/2`` (D3) and both symplectic eigenvalues
    (D4) are ``>= 1/2``; on the line ``C13 = C24`` this is ``|C13| <= N_S`` (D5).
    """
    cov = gaussian_thermal(n_s, 2)
    c11 = float(n_s) + 0.5
    c13, c24 = float(c13), float(c24)
    for label, c in (("C13", c13), ("C24", c24)):
        if not np.isfinite(c) or abs(c) >= c11:
            raise ValueError(f"|{label}| = {abs(c):.6g} must be < C11 = N_S + 1/2 = {c11:.6g} "
                             "(eq D3)")
    cov[0, 2] = cov[2, 0] = c13
    cov[1, 3] = cov[3, 1] = c24
    nu_minus = symplectic_eigenvalues(cov).min()  # eq D4, without its cancellation
    if nu_minus < 0.5 - ATOL:
        raise ValueError(f"(C13, C24) = ({c13:.6g}, {c24:.6g}) is unphysical for N_S = {n_s:g}: "
                         f"symplectic eigenvalue nu_- = {nu_minus:.6g} < 1/2 (eq D4); for "
                         f"C13 = C24 the allowed range is |C13| <= N_S (eq D5)")
    return validate_covariance(cov, 2)


def gaussian_mean_occupations(cov) -> np.ndarray:
    """Mean occupation ``<a_i^dag a_i> = (C_XX + C_YY)/2 - 1/2`` of each mode."""
    arr = np.asarray(cov, dtype=float)
    d = np.diag(arr)
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
    dims = tuple(int(d) for d in dims)
    arr = validate_density_matrix(rho, int(np.prod(dims)))
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

