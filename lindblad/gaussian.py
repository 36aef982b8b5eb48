"""Exact covariance-matrix solution of the cascaded master equation for oscillators.

For a chain S1 -> S2 -> ... -> Sn of oscillators ``H_i = omega a_i^dag a_i`` with a
thermal boson bath (occupation ``N``) the master equation of :mod:`lindblad.model`
(DESIGN.md section 3: ``g_dn L[c] + g_up L[c^dag] - i[H_c, .]`` with ``c = sum_i a_i``,
``(g_dn, g_up) = gamma (N + 1, N)``) is linear in the ladder operators, so second
moments obey a closed equation (paper App. B, eq B2, here for n modes):

    dC/dt = A C + C A^T + M.

Derivation (Heisenberg picture, frame rotating at ``omega``).  With the adjoint
dissipator ``L^dag[c] O = (c^dag [O, c] + [c^dag, O] c) / 2`` one finds
``g_dn L^dag[c] a_j + g_up L^dag[c^dag] a_j = -(gamma/2) sum_i a_i`` and, from
``H_c = i (gamma/2) sum_{i<k} (a_i^dag a_k - a_k^dag a_i)``,
``i [H_c, a_j] = (gamma/2) (sum_{k>j} a_k - sum_{i<j} a_i)``.  Together

    d a_j/dt = -(gamma/2) a_j - gamma sum_{i<j} a_i  + noise,

i.e. ``A = -gamma (I/2 + S) kron I_2`` with ``S`` the strictly lower-triangular all-ones
matrix: downstream modes are driven by everything upstream, never the reverse.  Every
mode receives the *same* input noise (one reservoir passing by), of strength
``<X_in X_in> = <Y_in Y_in> = N + 1/2``, hence ``M = gamma (N + 1/2) (J kron I_2)`` with
``J`` the all-ones matrix.  Without the cascade (``cascade=False``, independent
reservoirs) ``S = 0`` and ``J = I``.

Exact solution.  ``A + A^T = -gamma J kron I_2`` (``I + S + S^T = J``), so
``C_inf = (N + 1/2) I`` solves ``A C_inf + C_inf A^T + M = 0``: the product of thermal
states at the bath temperature is stationary (paper eq 10).  ``D = C - C_inf`` obeys
``dD/dt = A D + D A^T``, hence

    C(t) = e^{At} (C(0) - C_inf) e^{A^T t} + C_inf,
    e^{At} = e^{-gamma t / 2} exp(-gamma t S) kron I_2.

``S`` is nilpotent, and ``exp(-x S)`` (``x = gamma t``) is the lower-triangular Toeplitz
matrix with ones on the diagonal and, at distance ``d = i - j >= 1`` below it,

    exp(-x S)_{ij} = -(x / d) L_{d-1}^{(1)}(x)

(``L^{(1)}`` the generalised Laguerre polynomial; from ``(S^k)_{ij} = binom(d-1, k-1)``
summed over the finite series ``sum_k (-x S)^k / k!``).  For two modes this is just
``[[1, 0], [-x, 1]]``.  The Laguerre polynomials are evaluated by their three-term
recurrence (stable for x >= 0), carried together with the factor ``e^{-x/2}`` in
scaled form (:func:`_damped_toeplitz_entries`): ``L_{d-1}^{(1)}(x)`` grows like
``e^{x/2}`` and ``e^{-x/2}`` underflows past ``x ~ 1490``, while their product (an entry of
a contraction, ``|.| <= 1``) stays of order one for long chains.  No matrix
exponential, ODE integrator or time step is involved: the result is exact to rounding
at every time.

Heat fluxes (``J = -dU/dt``, units of hbar omega gamma, zero first moments).  With
``n_j = (C_XjXj + C_YjYj)/2 - 1/2`` the equation above gives
``-omega dn_j/dt = omega gamma (n_j - N) + omega gamma sum_{i<j} (C_XiXj + C_YiYj)``:

* local (``-Tr[H_j L_j rho]``):         ``omega gamma [(C_XjXj + C_YjYj)/2 - (N + 1/2)]``;
* correlated (``-sum_{i<j} Tr[H_j D_ij rho]``): ``omega gamma sum_{i<j} (C_XiXj + C_YiYj)``.

For n = 2 these are the paper's eqs 20-22.

Frames.  The paper's covariance (App. B) lives in the frame rotating at ``omega``; so
does :meth:`GaussianMasterEquation.evolve` by default.  Because every subsystem has the
same frequency the free rotation commutes with the dissipation, and the lab-frame
covariance is ``R(t) C(t) R(t)^T`` with each mode's quadratures rotated by
``omega t`` (``frame="lab"``, comparable entry by entry with
:meth:`lindblad.CascadeMasterEquation.evolve`).  Heat fluxes and occupations are the
same in both frames.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_real_array, check_array_size, choice
from .fluxes import HeatFluxes
from .model import CascadeSpec
from .states import validate_covariance
from .thermal import _check_positive, bose_occupation

FRAMES = ("rotating", "lab")


def _damped_toeplitz_entries(n: int, x: np.ndarray) -> np.ndarray:
    """``e_d(x) = e^{-x/2} exp(-x S)_{i, i-d}`` for ``d = 0 .. n-1``, shape ``(n, len(x))``.

    ``e_0 = e^{-x/2}`` and ``e_d = -(x/d) e^{-x/2} L_{d-1}^{(1)}(x)``.  The Laguerre
    polynomials follow from ``L_0 = 1``, ``L_1 = 2 - x``,
    ``(k+1) L_{k+1} = (2k + 2 - x) L_k - (k+1) L_{k-1}``; the pair ``(L_{k-1}, L_k)`` is
    kept as mantissas times ``exp(log_scale)`` (``log_scale`` starting at ``-x/2``) and
    renormalised by exact powers of two, so neither overflows nor underflows, whatever
    ``x >= 0`` and ``n``.
    """
    out = np.zeros((n, x.size))
    out[0] = np.exp(-0.5 * x)
    prev, cur = np.ones_like(x), 2.0 - x  # L_0, L_1
    log_scale = -0.5 * x
    with np.errstate(divide="ignore"):  # log(0) = -inf is fine: exp(-inf) = 0
        for d in range(1, n):
            # prev = L_{d-1}, cur = L_d, both times exp(log_scale)
            value = np.sign(prev) * np.exp(np.log(np.abs(prev)) + log_scale)
            out[d] = -(x / d) * value
            prev, cur = cur, ((2 * d + 2 - x) * cur - (d + 1) * prev) / (d + 1)
            _, exponent = np.frexp(np.maximum(np.abs(prev), np.abs(cur)))
            prev, cur = np.ldexp(prev, -exponent), np.ldexp(cur, -exponent)
            log_scale = log_scale + exponent * np.log(2.0)
    return out


def to_lab_frame(cov, times, omega: float = 1.0) -> np.ndarray:
    """Rotate rotating-frame covariances to the lab frame.

    Under ``H = omega sum_i a_i^dag a_i`` every mode's quadratures rotate as
    ``X -> cos(omega t) X + sin(omega t) Y``, ``Y -> cos(omega t) Y - sin(omega t) X``
    (``a -> a e^{-i omega t}``), so ``C_lab(t) = R(t) C(t) R(t)^T``.

    Parameters
    ----------
    cov : array_like, shape (n_t, 2n, 2n) or (2n, 2n)
        Covariance matrices in the frame rotating at ``omega``.
    times : array_like, shape (n_t,) or scalar
        The time of each matrix (units of 1/gamma).
    omega : float
        Mode frequency.

    Returns
    -------
    ndarray, same shape as ``cov``
    """
    cov = as_real_array(cov, "cov")
    if cov.ndim not in (2, 3) or cov.shape[-1] != cov.shape[-2] or cov.shape[-1] % 2 \
            or cov.shape[-1] == 0:
        raise ValueError(f"cov must have shape (n_t, 2n, 2n) or (2n, 2n), got {cov.shape}")
    t = np.atleast_1d(as_real_array(times, "times"))
    omega = _check_positive(omega, "omega")
    stack = cov.reshape((-1,) + cov.shape[-2:])
    if t.ndim != 1 or stack.shape[0] != t.size:
        raise ValueError(f"got {stack.shape[0]} covariance matrices but times of shape "
                         f"{t.shape}")
    n = stack.shape[-1] // 2
    c, s = np.cos(omega * t), np.sin(omega * t)
    r = np.zeros((t.size, 2, 2))
    r[:, 0, 0] = r[:, 1, 1] = c
    r[:, 0, 1] = s
    r[:, 1, 0] = -s
    blocks = stack.reshape(t.size, n, 2, n, 2)
    out = np.einsum("tab,tibjc,tdc->tiajd", r, blocks, r)
    return out.reshape(cov.shape)


class GaussianMasterEquation(CascadeSpec):
    """Exact covariance-matrix solution of the cascaded master equation (oscillators).

    Parameters
    ----------
    n_systems : int
        Length of the chain S1 -> S2 -> ... -> Sn, >= 2.
    gamma : float
        Relaxation rate of each subsystem alone (> 0); time is in units of 1/gamma.
    omega : float
        Oscillator frequency (> 0); energies are in units of hbar omega.
    temperature : float
        Reservoir temperature in units of hbar omega / k_B (>= 0); the bath occupation
        is ``N = 1/(exp(omega/T) - 1)``.
    cascade : bool
        True: one reservoir meets S1, then S2, ... (cascade).  False: every subsystem
        has its own independent reservoir (paper Fig. 1b).

    Notes
    -----
    Covariance matrices are ``(2n, 2n)`` in the quadrature order ``(X1, Y1, X2, Y2, ...)``
    with ``X = (a + a^dag)/sqrt2``, ``Y = i(a^dag - a)/sqrt2`` and
    ``C_mn = <{chi_m, chi_n}>/2 - <chi_m><chi_n>`` (vacuum ``I/2``).  The equations of
    motion of second moments close whatever the state, so :meth:`evolve` and
    :meth:`heat_fluxes` are exact for any initial state's covariance, Gaussian or not,
    provided its first moments vanish (the flux formulas count only the fluctuation
    energy).  See the module docstring for the derivation.
    """

    _repr_keys = ("n_systems", "gamma", "omega", "temperature", "cascade")

    def __init__(self, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cascade: bool = True, delay=0.0):
        super().__init__("oscillator", n_systems, gamma, omega, temperature, None, "boson",
                         cascade, delay)
        #: Mean bath occupation N.
        self.n_bath = bose_occupation(self.temperature, self.omega)

    # --- description ---------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Size ``2n`` of the covariance matrix."""
        return 2 * self.n_systems

    def _coupling(self) -> np.ndarray:
        """``S``: strictly lower-triangular all-ones (cascade) or zero, shape (n, n)."""
        if not self.cascade:
            return np.zeros((self.n_systems, self.n_systems))
        return np.tril(np.ones((self.n_systems, self.n_systems)), k=-1)

    def drift(self) -> np.ndarray:
        """Drift matrix ``A = -gamma (I/2 + S) kron I_2``, shape ``(2n, 2n)`` (units of gamma)."""
        a = -self.gamma * (0.5 * np.eye(self.n_systems) + self._coupling())
        return np.kron(a, np.eye(2))

    def diffusion(self) -> np.ndarray:
        """Diffusion matrix ``M = gamma (N + 1/2) (J kron I_2)``, shape ``(2n, 2n)``.

        ``J`` is the all-ones matrix for the cascade (one common input noise) and the
        identity for independent reservoirs.
        """
        j = np.ones((self.n_systems,) * 2) if self.cascade else np.eye(self.n_systems)
        return self.gamma * (self.n_bath + 0.5) * np.kron(j, np.eye(2))

    def steady_state(self) -> np.ndarray:
        """Stationary covariance ``(N + 1/2) I``, shape ``(2n, 2n)`` (thermal at the bath
        temperature, no correlations; paper eq 10)."""
        return (self.n_bath + 0.5) * np.eye(self.dim)

    def propagator(self, times) -> np.ndarray:
        """Mode propagator ``e^{-gamma t/2} exp(-gamma t S)`` at every time.

        ``e^{At}`` is this matrix Kronecker-multiplied with ``I_2`` (X and Y are
        propagated alike).

        Parameters
        ----------
        times : array_like, shape (n_t,)
            Times >= 0 (units of 1/gamma), non-decreasing.

        Returns
        -------
        ndarray, shape (n_t, n, n)
        """
        t = self._check_times(times)
        x = self.gamma * t
        n = self.n_systems
        # Toeplitz entries e_d(x) of e^{-x/2} exp(-x S) at distance d below the diagonal
        if self.cascade:
            diag = _damped_toeplitz_entries(n, x)
        else:
            diag = np.zeros((n, t.size))
            diag[0] = np.exp(-0.5 * x)
        idx = np.arange(n)
        dist = idx[:, None] - idx[None, :]
        return np.where(dist[None] >= 0, diag[np.clip(dist, 0, None)].transpose(2, 0, 1), 0.0)

    # --- dynamics ----------------------------------------------------------------------
    def _check_state(self, cov0) -> np.ndarray:
        return validate_covariance(cov0, self.n_systems, name="cov0")

    def evolve(self, cov0, times, frame: str = "rotating") -> np.ndarray:
        """Exact covariance matrices at ``times``.

        Parameters
        ----------
        cov0 : array_like, shape (2n, 2n)
            Initial covariance at t = 0, order ``(X1, Y1, X2, Y2, ...)`` (validated:
            symmetric and ``C + i Omega/2 >= 0``).
        times : array_like, shape (n_t,)
            Non-decreasing times >= 0 (units of 1/gamma).
        frame : {"rotating", "lab"}
            ``"rotating"`` (default, the paper's App. B): interaction picture, no free
            rotation.  ``"lab"``: quadratures also rotate by ``omega t`` under
            ``H = omega sum a^dag a`` (comparable with the Fock-space reference).

        Returns
        -------
        ndarray, shape (n_t, 2n, 2n)
        """
        choice(frame, "frame", FRAMES)
        cov0 = self._check_state(cov0)
        t = self._check_times(times)
        n = self.n_systems
        check_array_size((t.size, 2 * n, 2 * n), 8,
                         f"evolve() with {t.size} times for n_systems = {n}",
                         "; pass fewer times")
        e = self.propagator(t)  # (n_t, n, n)
        dev0 = (cov0 - self.steady_state()).reshape(n, 2, n, 2)
        # (e kron I2) D0 (e kron I2)^T, mode indices only
        dev = np.einsum("tik,kalb,tjl->tiajb", e, dev0, e, optimize=True)
        cov = dev.reshape(t.size, 2 * n, 2 * n) + self.steady_state()
        if frame == "lab":
            cov = to_lab_frame(cov, t, self.omega)
        return cov

    def flux_components(self, cov) -> tuple[np.ndarray, np.ndarray]:
        """Local and correlated heat fluxes of covariance matrices.

        Parameters
        ----------
        cov : array_like, shape (..., 2n, 2n)
            Covariance matrices (either frame).

        Returns
        -------
        local, correlated : ndarray, shape (n, ...)
            ``local[i] = omega gamma [(C_XiXi + C_YiYi)/2 - (N + 1/2)]`` and
            ``correlated[j] = omega gamma sum_{i<j} (C_XiXj + C_YiYj)`` (units of
            hbar omega gamma; zero for ``cascade=False``).
        """
        cov = as_real_array(cov, "cov")
        n = self.n_systems
        if cov.ndim < 2 or cov.shape[-2:] != (2 * n, 2 * n):
            raise ValueError(f"cov must have shape (..., {2 * n}, {2 * n}) for n_systems = {n}, "
                             f"got {cov.shape}")
        blocks = cov.reshape(cov.shape[:-2] + (n, 2, n, 2))
        # xy[..., i, j] = C_XiXj + C_YiYj
        xy = blocks[..., :, 0, :, 0] + blocks[..., :, 1, :, 1]
        scale = self.omega * self.gamma
        diag = np.diagonal(xy, axis1=-2, axis2=-1)
        local = scale * (diag / 2 - (self.n_bath + 0.5))
        if self.cascade:
            corr = scale * np.sum(np.tril(xy, k=-1), axis=-1)
        else:
            corr = np.zeros_like(local)
        return np.moveaxis(local, -1, 0), np.moveaxis(corr, -1, 0)

    def heat_fluxes(self, cov0, times) -> HeatFluxes:
        """Exact heat fluxes at ``times`` (``J = -dU/dt``, units of hbar omega gamma).

        Parameters
        ----------
        cov0 : array_like, shape (2n, 2n)
            Initial covariance (zero first moments assumed).
        times : array_like, shape (n_t,)
            Non-decreasing times >= 0 (units of 1/gamma).

        Returns
        -------
        HeatFluxes
            ``local`` and ``correlated`` of shape ``(n, n_t)`` (paper eqs 20-22 for
            n = 2); ``final_state`` is the covariance at ``times[-1]`` (rotating frame).
        """
        cov = self.evolve(cov0, times)
        local, corr = self.flux_components(cov)
        return HeatFluxes(self._check_times(times), local, corr,
                          parameters={"source": "lindblad", "method": "gaussian",
                                      **self.parameters, "frame": "rotating"},
                          final_state=cov[-1].copy())
