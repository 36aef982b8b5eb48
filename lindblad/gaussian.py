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

Finite travel time (``delay``).  With link delays ``tau_1 .. tau_{n-1}`` the field
leaving S_i reaches S_{i+1} a time ``tau_i`` later; ``T_i = tau_1 + ... + tau_{i-1}`` is
when S1's output reaches S_i (:attr:`CascadeSpec.arrival_times`).  The field already in
flight at t = 0 is thermal (it has met no subsystem since t = 0).  In the interaction
picture the quantum Langevin equations read

    d a_i/dt = -(gamma/2) a_i(t) - gamma sum_{l<i} a_l(t - T_i + T_l) - sqrt(gamma) b(t - T_i),

a term ``a_l`` present only once ``t - T_i + T_l >= 0`` (``b(u)``: the input field that
meets S1 at time u, thermal, ``u >= -T_n``).  In "process time" ``s`` (S_i at real time
``s + T_i``) these are the zero-delay equations of the subsystems that have started
(``s + T_i >= 0``), driven by the same noise ``b(s)``: S_n alone first, then
S_{n-1} -> S_n, ..., then the whole chain.  The amplitude ``a_k(0)`` enters at
``s = -T_k`` and then spreads downstream exactly as without delay, so the coefficient of
``a_k(0)`` in ``a_i`` at process time s is ``e_{i-k}(gamma (s + T_k))`` (zero before
``s = -T_k``) and in real time

    G_ik(t) = e_{i-k}(gamma (t - T_i + T_k)) for t >= T_i - T_k, else 0.

The product of thermal states at the bath temperature stays stationary (a passive linear
network fed by thermal noise at that temperature), so as above
``C - C_inf = (G kron I_2) (C(0) - C_inf) (G kron I_2)^T``: the equal-time covariance
at every real time, in closed form whatever the delays (no delay differential equation
is integrated, and the cost does not depend on the delays; a delay beyond the last
requested time, ``inf`` included, acts as a finite one just beyond it,
:meth:`CascadeSpec.delays_within`).  The same formula with the
process-time propagator gives the joint state of (S_1 at real time ``t - T_i + T_1``,
..., S_i at ``t``), from which S_i's flux at real time t follows with the zero-delay
formulas: local ``omega gamma [(C_XiXi + C_YiYi)/2 - (N + 1/2)]``, correlated
``omega gamma sum_l (C_XlXi + C_YlYi)`` over the upstream l whose output already reaches
S_i (``t >= T_i - T_l``; the flux jumps when a new one arrives).  The energy in flight
between S_i and S_{i+1} is ``sum_{i'<=i} [E_{i'}(t - T_{i+1} + T_{i'}) -
E_{i'}(t - T_i + T_{i'})]`` (``E`` a subsystem's energy, times clipped at 0): what the
reservoir has received from S_1..S_i and not yet carried past S_{i+1}.  An independent
check solves the Langevin equations above by quadrature (``tests/gaussian_langevin.py``).

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
#: With ``delay``: a time within this relative distance of an arrival time ``T_i - T_l``
#: counts as arrived (absorbs the rounding of sums of delays).
ARRIVAL_SLACK = 1e-12


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


def turn_modes(cov: np.ndarray, angles, inverse: bool = False) -> np.ndarray:
    """The covariance of ``V rho V^dag`` (``V^dag rho V`` with ``inverse``),
    ``V = exp(-i sum_i angles_i a_i^dag a_i)``: mode i's quadratures turned by
    ``angles_i`` as the free evolution turns them (:func:`to_lab_frame`), the Gaussian
    counterpart of :func:`lindblad.operators.turn_subsystems`."""
    phi = np.asarray(angles, dtype=float) * (-1.0 if inverse else 1.0)
    c, s = np.cos(phi), np.sin(phi)
    r = np.zeros((2 * phi.size, 2 * phi.size))
    r[0::2, 0::2] = np.diag(c)
    r[0::2, 1::2] = np.diag(s)
    r[1::2, 0::2] = np.diag(-s)
    r[1::2, 1::2] = np.diag(c)
    return r @ cov @ r.T


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
    delay : float or sequence of float
        Travel time of the reservoir from each subsystem to the next (1/gamma, >= 0):
        one number for every link or one per link (module docstring).  Default 0.

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
                 temperature: float = 0.0, cascade: bool = True, delay=0.0, phase=0.0):
        super().__init__("oscillator", n_systems, gamma, omega, temperature, None, "boson",
                         cascade, delay, phase)
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
        propagated alike).  With ``delay`` it is the delayed propagator ``G(t)`` of the
        module docstring: entry ``(i, k)`` is ``e_{i-k}(gamma (t - T_i + T_k))`` once
        ``t >= T_i - T_k`` and zero before.

        Parameters
        ----------
        times : array_like, shape (n_t,)
            Times >= 0 (units of 1/gamma), non-decreasing.

        Returns
        -------
        ndarray, shape (n_t, n, n)
        """
        t = self._check_times(times)
        if any(self.delays):
            return self._delayed_propagator(t)
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
            With ``delay``: the equal-time covariance of all subsystems at each time
            (module docstring), the field in flight traced out.
        """
        choice(frame, "frame", FRAMES)
        cov0 = self._check_state(cov0)
        t = self._check_times(times)
        if any(self.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
            cov = self._evolve(turn_modes(cov0, self.frame_angles, inverse=True), t, frame)
            return np.array([turn_modes(c, self.frame_angles) for c in cov])
        return self._evolve(cov0, t, frame)

    def _evolve(self, cov0: np.ndarray, t: np.ndarray, frame: str) -> np.ndarray:
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
            n = 2); ``final_state`` is the covariance at ``times[-1]`` in the lab frame
            (like every producer's; ``evolve(..., frame="rotating")`` gives the paper's).
            With ``delay``: S_i's fluxes at real time t (its correlated flux counts the
            upstream subsystems whose output has reached it), ``in_flight`` of shape
            ``(n - 1, n_t)`` (units hbar omega, relative to the thermal reservoir) and
            the equal-time ``final_state`` (module docstring).
        """
        cov0 = self._check_state(cov0)
        t = self._check_times(times)
        angles = self.frame_angles
        if any(self.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
            cov0 = turn_modes(cov0, angles, inverse=True)
        if any(self.delays):
            result = self._delayed_heat_fluxes(cov0, t)
            result.final_state = turn_modes(result.final_state, angles)
            return result
        cov = self._evolve(cov0, t, "rotating")
        local, corr = self.flux_components(cov)
        return HeatFluxes(t, local, corr,
                          parameters={"source": "lindblad", "method": "gaussian",
                                      **self.parameters, "frame": "lab"},
                          final_state=turn_modes(to_lab_frame(cov[-1], t[-1], self.omega),
                                                 angles))

    # --- finite travel time (delay) ----------------------------------------------------
    def _process_propagator(self, times: np.ndarray, ref: int, m: int
                            ) -> tuple[np.ndarray, np.ndarray]:
        """Propagator of the first ``m`` modes at the process times ``s = t - T_ref``.

        Row ``l`` is the coefficient vector of the initial amplitudes in ``a_l`` at real
        time ``s + T_l``: ``e_{l-k}(gamma (s + T_k))`` for ``k <= l`` with
        ``s + T_k >= 0``.  A subsystem that has not started (``s + T_l < 0``) keeps its
        initial amplitude (a unit row): its real time is clipped at 0.  A time within
        a relative ``ARRIVAL_SLACK`` of an arrival counts as arrived (``T_i`` are sums
        of delays and carry their rounding: ``0.4 + 0.8 > 1.2`` in floating point); the
        fluxes jump there, and the collision model, which counts whole steps, takes the
        value after the arrival.

        Returns
        -------
        g : ndarray, shape (n_t, m, m)
        started : ndarray of bool, shape (n_t, m)
            ``s + T_l >= 0``.
        """
        # delays beyond the last time act as finite ones just beyond it (delays_within)
        arrival = self.arrival_times_within(float(np.max(times)))
        lag = arrival[ref] - arrival[None, :m]
        x = self.gamma * (times[:, None] - lag)
        started = x >= -ARRIVAL_SLACK * self.gamma * np.maximum(lag, 1.0 / self.gamma)
        entries = _damped_toeplitz_entries(m, np.where(started, x, 0.0).ravel())
        entries = entries.reshape(m, times.size, m)  # [distance d, time, column k]
        rows, cols = np.tril_indices(m)
        g = np.zeros((times.size, m, m))
        g[:, rows, cols] = np.where(started[:, cols], entries[rows - cols, :, cols].T, 0.0)
        diag = np.arange(m)
        g[:, diag, diag] = np.where(started, g[:, diag, diag], 1.0)
        return g, started

    def _delayed_propagator(self, t: np.ndarray) -> np.ndarray:
        """``G(t)`` of the module docstring, shape ``(n_t, n, n)``: row i is row i of the
        process-time propagator at ``s = t - T_i``."""
        n = self.n_systems
        check_array_size((t.size, n, n), 8, f"the propagator at {t.size} times for "
                         f"n_systems = {n}", "; pass fewer times")
        out = np.zeros((t.size, n, n))
        for i in range(n):
            out[:, i, :i + 1] = self._process_propagator(t, i, i + 1)[0][:, i, :]
        return out

    def _delayed_heat_fluxes(self, cov0, times) -> HeatFluxes:
        """:meth:`heat_fluxes` with ``delay`` (module docstring).  Cost
        O(n_t n^4), independent of the delays."""
        t = times
        n = self.n_systems
        check_array_size((t.size, n, n), 8, f"heat_fluxes() with {t.size} times for "
                         f"n_systems = {n}", "; pass fewer times")
        dev = (cov0 - self.steady_state()).reshape(n, 2, n, 2)
        w = dev[:, 0, :, 0] + dev[:, 1, :, 1]  # X-X plus Y-Y deviations, per mode pair
        scale = self.omega * self.gamma
        local = np.zeros((n, t.size))
        corr = np.zeros((n, t.size))
        for i in range(n):
            # (S_1 at t - T_i + T_1, ..., S_i at t): the state S_i's flux is taken from
            g, started = self._process_propagator(t, i, i + 1)
            row = g[:, i, :]
            w_row = row @ w[:i + 1, :i + 1]
            local[i] = 0.5 * scale * np.einsum("tk,tk->t", w_row, row)
            upstream = np.einsum("tl,tlk->tk", started[:, :i].astype(float), g[:, :i, :])
            corr[i] = scale * np.einsum("tk,tk->t", upstream, w_row)

        def subchain_energy(ref: int, m: int) -> np.ndarray:
            # omega * sum_{i' < m} n_{i'} (up to a constant) at real times t - T_ref + T_i'
            g = self._process_propagator(t, ref, m)[0]
            return 0.5 * self.omega * np.sum((g @ w[:m, :m]) * g, axis=(1, 2))

        # link k (S_{k+1} -> S_{k+2}, 0-based k): sub-chain 0..k at t - T_{k+1} minus at t - T_k
        in_flight = np.array([subchain_energy(k + 1, k + 1) - subchain_energy(k, k + 1)
                              for k in range(n - 1)])
        final = self._evolve(cov0, t[-1:], "lab")[0]
        return HeatFluxes(t, local, corr, in_flight=in_flight,
                          parameters={"source": "lindblad", "method": "gaussian",
                                      **self.parameters, "frame": "lab"},
                          final_state=final)
