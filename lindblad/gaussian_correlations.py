"""Correlations of two-mode Gaussian states: symplectic invariants, logarithmic negativity,
Gaussian discord and mutual information (paper App. F).

Covariance matrices in the quadrature order (X1, Y1, X2, Y2) with vacuum = I/2 (see
:mod:`lindblad.states`).  Re-exported by :mod:`lindblad.correlations`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import Side, as_matrix
from ._validate import check_side as _check_side
from ._validate import clip_roundoff as _clip_roundoff
from .states import ATOL, validate_covariance


class SymplecticInvariants(NamedTuple):
    """Local symplectic invariants of a two-mode covariance matrix (eqs F4-F5).

    Vacuum-normalised (the paper's definitions with ``C`` having vacuum ``I/2``):
    ``I1 = 4 det C1``, ``I2 = 4 det C2``, ``I3 = 4 det C3``, ``I4 = 16 det C`` and
    ``I_delta = I1 + I2 + 2 I3``.  For the vacuum ``I1 = I2 = I4 = 1``, ``I3 = 0``.
    """

    I1: float
    I2: float
    I3: float
    I4: float
    I_delta: float


def _two_mode(cov, name: str = "covariance matrix") -> np.ndarray:
    arr = as_matrix(cov, name)
    if arr.shape != (4, 4):
        raise ValueError(f"{name} must be a 4x4 two-mode covariance matrix in the order "
                         f"(X1, Y1, X2, Y2), got shape {arr.shape}")
    return validate_covariance(arr, n_modes=2, name=name)


def _invariants(c: np.ndarray) -> SymplecticInvariants:
    i1 = 4.0 * float(np.linalg.det(c[:2, :2]))
    i2 = 4.0 * float(np.linalg.det(c[2:, 2:]))
    i3 = 4.0 * float(np.linalg.det(c[:2, 2:]))
    i4 = 16.0 * float(np.linalg.det(c))
    return SymplecticInvariants(i1, i2, i3, i4, i1 + i2 + 2.0 * i3)


def symplectic_invariants(cov) -> SymplecticInvariants:
    """Symplectic invariants ``I1, I2, I3, I4, I_delta`` of eqs F4-F5 (vacuum-normalised).

    Parameters
    ----------
    cov : array_like, shape (4, 4)
        Physical two-mode covariance matrix, order ``(X1, Y1, X2, Y2)``, vacuum ``I/2``.
    """
    return _invariants(_two_mode(cov))


_OMEGA1 = np.array([[0.0, 1.0], [-1.0, 0.0]])
_PT_FLIP = np.diag([1.0, -1.0, 1.0, 1.0])  # partial transpose of S1: Y1 -> -Y1


def _spd_power(m: np.ndarray, power: float) -> np.ndarray:
    """``m**power`` for a symmetric positive-definite matrix."""
    w, v = np.linalg.eigh(m)
    return (v * np.clip(w, 1e-300, None) ** power) @ v.T


def _nu_pair(c: np.ndarray) -> tuple[float, float]:
    """Symplectic eigenvalues (ascending) of a 4x4 covariance matrix, package normalisation.

    Mathematically identical to eq F5 (``nu = lambda/2``), but computed as the positive
    eigenvalues of the Hermitian matrix ``sqrt(C) (i Omega) sqrt(C)``: eq F5 takes the square
    root of ``I_delta^2 - 4 I4``, which vanishes for pure states, so it loses half the digits
    (~1e-8) exactly where the entropy function f of eq F7 is steepest.
    """
    root = _spd_power(c, 0.5)
    ev = np.linalg.eigvalsh(root @ (1j * np.kron(np.eye(2), _OMEGA1)) @ root)
    return float(ev[2]), float(ev[3])


def gaussian_symplectic_eigenvalues(cov, partial_transpose: bool = False) -> tuple[float, float]:
    """Symplectic eigenvalues ``(nu_-, nu_+)`` of a two-mode covariance matrix (eq F5 / F11).

    ``nu_pm = lambda_pm / 2`` where ``lambda_pm = sqrt((I_delta +- sqrt(I_delta^2 - 4 I4))/2)``
    are the paper's eq F5 values (vacuum-normalised invariants).  Returned in this package's
    normalisation: ``nu >= 1/2`` for physical states, a thermal mode with occupation ``N`` has
    ``nu = N + 1/2``.  With ``partial_transpose=True`` the eigenvalues of the partially
    transposed state (``Y1 -> -Y1``, i.e. ``I_delta -> I1 + I2 - 2 I3`` of eq F11) are returned;
    ``nu~_- < 1/2`` signals entanglement.  Computed from a Hermitian eigenproblem (see
    ``_nu_pair``), accurate to machine precision also for pure states.
    """
    c = _two_mode(cov)
    if partial_transpose:
        c = _PT_FLIP @ c @ _PT_FLIP
    return _nu_pair(c)


def log_negativity(cov) -> float:
    """Logarithmic negativity ``E_N = max(0, -ln(2 nu~_-))`` of a two-mode Gaussian state, nats.

    ``nu~_-`` is the smallest symplectic eigenvalue of the partial transpose (eq F11, with the
    package normalisation ``nu >= 1/2``), so this is eq F12 with the **natural** logarithm.
    (Eq F11 as printed, with the vacuum-normalised invariants, gives ``lambda~_- = 2 nu~_-``,
    for which eq F12 should read ``-log(lambda~_-)``; the two agree once the normalisation is
    fixed.)  For a two-mode squeezed vacuum with squeezing ``r``, ``E_N = 2 r``.
    """
    nu_m, _ = gaussian_symplectic_eigenvalues(cov, partial_transpose=True)
    if nu_m <= 0:
        return float("inf")
    return max(0.0, -float(np.log(2.0 * nu_m)))


def _f_entropy(x: float) -> float:
    """Eq F7: ``f(x) = ((x+1)/2) log2((x+1)/2) - ((x-1)/2) log2((x-1)/2)`` for ``x >= 1``.

    The von Neumann entropy (bits) of a thermal mode with symplectic eigenvalue ``x/2`` (vacuum
    normalisation ``x = 1``); values below 1 from round-off are clipped to 1 (``f(1) = 0``).
    """
    x = max(float(x), 1.0)
    up = (x + 1.0) / 2.0
    down = (x - 1.0) / 2.0
    out = up * np.log2(up)
    if down > 0:
        out -= down * np.log2(down)
    return float(out)


def _w_min(c: np.ndarray, inv: SymplecticInvariants) -> float:
    """Eq F8: minimal conditional determinant (vacuum-normalised) of mode B after the optimal
    Gaussian measurement on mode A, for a covariance ``c`` whose *first* mode is measured.

    Adesso & Datta, PRL 105, 030501 (2010), with their measured-party determinant ``B -> I1``
    and ``A -> I2``.  The radicand of the first branch, ``Q = I3^2 + (I1 - 1)(I4 - I2)``,
    vanishes for pure states; evaluated from the invariants it loses half the digits.  It is
    computed instead in the factorised form ``Q = (a c+^2 - b(a^2 - 1))(a c-^2 - b(a^2 - 1))``
    (standard form ``a = sqrt I1``, ``b = sqrt I2``, ``|c+|, |c-|`` = singular values of the
    locally normalised correlation block), which follows by expanding
    ``I4 = (ab - c+^2)(ab - c-^2)`` and ``I3 = c+ c-``.
    """
    i1, i2, i3, i4 = inv.I1, inv.I2, inv.I3, inv.I4
    if i1 - 1.0 <= 1e-12:
        # The measured mode is pure, hence the state is a product: nothing to learn.
        return i2
    lhs = (i4 - i1 * i2) ** 2
    rhs = (1.0 + i1) * i3**2 * (i2 + i4)
    if lhs <= rhs * (1.0 + 1e-12):  # at equality (e.g. pure states) both branches agree
        a, b = np.sqrt(i1), np.sqrt(i2)
        sig = 2.0 * c  # vacuum-normalised blocks
        corr = (np.sqrt(a) * _spd_power(sig[:2, :2], -0.5)) @ sig[:2, 2:] @ (
            np.sqrt(b) * _spd_power(sig[2:, 2:], -0.5))
        s_plus, s_minus = np.linalg.svd(corr, compute_uv=False)
        q = (a * s_plus**2 - b * (i1 - 1.0)) * (a * s_minus**2 - b * (i1 - 1.0))
        return float(((abs(i3) + np.sqrt(max(q, 0.0))) / (i1 - 1.0)) ** 2)
    rad = i3**4 + (i4 - i1 * i2) ** 2 - 2.0 * i3**2 * (i4 + i1 * i2)
    return float((i1 * i2 - i3**2 + i4 - np.sqrt(max(rad, 0.0))) / (2.0 * i1))


def gaussian_discord(cov, measured: Side = "A") -> float:
    """Gaussian quantum discord of a two-mode Gaussian state, in bits (eqs F5-F8).

    ``D_G(B|A) = f(sqrt I1) - f(lambda_-) - f(lambda_+) + f(sqrt W)`` with ``f`` of eq F7,
    ``lambda_pm = 2 nu_pm`` of eq F5 and ``W`` of eq F8, the optimisation being over Gaussian
    measurements on ``A`` (S1) for ``measured="A"``; ``measured="B"`` swaps the roles of the
    modes (``I1 <-> I2``) and gives ``D_G(A|B)``.
    [Adesso & Datta, PRL 105, 030501 (2010); Giorda & Paris, PRL 105, 020503 (2010).]

    For pure states it equals the entanglement entropy, e.g. ``f(cosh 2r)`` for a two-mode
    squeezed vacuum; it vanishes exactly on product states.  Accurate to ~1e-12 also for
    (nearly) pure states (see ``_nu_pair`` and ``_w_min`` for the cancellation-free forms).

    Parameters
    ----------
    cov : array_like, shape (4, 4)
        Physical two-mode covariance matrix (order ``(X1, Y1, X2, Y2)``, vacuum ``I/2``).
    measured : {"A", "B"}

    Returns
    -------
    float
        Discord in bits (round-off negatives above -1e-9 become 0).
    """
    side = _check_side(measured)
    c = _two_mode(cov)
    if side == "B":
        swap = [2, 3, 0, 1]
        c = c[np.ix_(swap, swap)]
    inv = _invariants(c)
    nu_m, nu_p = _nu_pair(c)
    w = _w_min(c, inv)
    d = (_f_entropy(np.sqrt(inv.I1)) - _f_entropy(2.0 * nu_m) - _f_entropy(2.0 * nu_p)
         + _f_entropy(np.sqrt(w)))
    return _clip_roundoff(d)


def gaussian_mutual_information(cov) -> float:
    """Mutual information of a two-mode Gaussian state, bits:
    ``f(sqrt I1) + f(sqrt I2) - f(lambda_-) - f(lambda_+)`` (eqs F2, F5, F7)."""
    c = _two_mode(cov)
    inv = _invariants(c)
    nu_m, nu_p = _nu_pair(c)
    return _clip_roundoff(_f_entropy(np.sqrt(inv.I1)) + _f_entropy(np.sqrt(inv.I2))
                          - _f_entropy(2.0 * nu_m) - _f_entropy(2.0 * nu_p))


def is_physical_covariance(cov, atol: float = ATOL) -> bool:
    """Whether a covariance matrix describes a physical Gaussian state (eq D2).

    True iff it is real, finite, symmetric and ``C + (i/2) Omega >= 0`` within ``atol``
    (checked by :func:`lindblad.states.validate_covariance`).

    Raises
    ------
    ValueError
        If ``cov`` is not a square matrix of even size (a shape error, not a physics answer).
    """
    arr = as_matrix(cov, "cov")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] % 2 or arr.size == 0:
        raise ValueError(f"a covariance matrix must be square of even size 2n, got shape "
                         f"{arr.shape}")
    try:
        validate_covariance(arr, atol=atol)
    except ValueError:
        return False
    return True
