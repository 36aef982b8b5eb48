"""Test-only reference: the delayed cascade of oscillators from its quantum Langevin
equations, second moments by numerical quadrature.

Independent of :mod:`lindblad.gaussian` (no process time, no Laguerre recurrence, no
master equation): the Heisenberg equations are solved in real time and the moments are
integrals over the input noise.

Equations (interaction picture, ``b(u)`` the reservoir field that meets S1 at time u;
the part ``u < 0`` is the field already in flight at t = 0, thermal):

    d a_i/dt = -(gamma/2) a_i(t) - sqrt(gamma) b_in,i(t),
    b_in,1(t) = b(t),   b_in,i+1(t) = b_out,i(t - tau_i) if t >= tau_i else b(t - T_{i+1}),
    b_out,i(t) = b_in,i(t) + sqrt(gamma) a_i(t)        (t >= 0),

``T_i = tau_1 + ... + tau_{i-1}``.  Unrolling the input-output relations,
``b_in,i(t) = b(t - T_i) + sqrt(gamma) sum_{l<i, t - T_i + T_l >= 0} a_l(t - T_i + T_l)``
(a subsystem contributes only from t = 0 on).  The sign conventions are those of the
zero-delay :class:`lindblad.GaussianMasterEquation` (drift ``-gamma/2`` and
``-gamma a_l`` from upstream; common noise of strength ``gamma (N + 1/2)`` per
quadrature), which this reproduces for delay 0.

Kernels.  Integrating, ``a_i(t) = e^{-gamma t/2} a_i(0) - sqrt(gamma) int_0^t
e^{-gamma (t - t')/2} b_in,i(t') dt'``, so every amplitude is a linear functional

    a_i(t) = sum_k g_ik(t) a_k(0) + int H_i(t, u) b(u) du,

with ``g`` and ``H`` finite sums of terms ``c e^{-gamma y/2} y^p / p!`` of the shifted
time ``y = t - sigma`` (``t - u - sigma`` for ``H``), zero for ``y < 0`` (and ``H`` also
for ``u < u_lo``).  One pass of an upstream term through the convolution
``-gamma int_0^t e^{-gamma (t - t')/2} f(t' - Delta) dt'`` maps
``(c, sigma, p) -> (-gamma c, sigma + Delta, p + 1)``, the direct noise gives
``(-sqrt(gamma), T_i, 0)`` with ``u_lo = -T_i``.  The kernels are exact; only the noise
integrals are numerical.

Moments.  The kernels are real, so X and Y propagate alike and the noise has
``<X_b(u) X_b(u')> = <Y_b Y_b> = (N + 1/2) delta(u - u')`` (symmetrised):

    C_{XiXj}(t) = sum_kk' g_ik g_jk' C0_{XkXk'} + (N + 1/2) int H_i(t, u) H_j(t, u) du,

the integral by :func:`scipy.integrate.quad` term pair by term pair (smooth integrands on
their common support).  Fluxes follow from their definitions: S_i's own flux
``J_i = -omega dn_i/dt`` (the derivative taken analytically under the integrals, plus
the boundary term of the moving upper limit: the noise injection), the local part
``omega gamma (n_i - N)`` and the correlated part the rest.  At an arrival time
``t = T_i - T_l`` the flux jumps; the right derivative is returned (the flux once the
output has arrived), like the master equation and the collision model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad


@dataclass(frozen=True)
class Term:
    """``coef * e^{-gamma y/2} y^power / power!``, ``y = t - shift`` (or ``t - u - shift``),
    zero for ``y < 0``; noise terms also vanish for ``u < u_low``."""

    coef: float
    shift: float
    power: int
    u_low: float = -math.inf


def _value(term: Term, y, gamma: float):
    y = np.asarray(y, dtype=float)
    out = term.coef * np.exp(-0.5 * gamma * y) * y ** term.power / math.factorial(term.power)
    return np.where(y >= 0, out, 0.0)


def _rate(term: Term, y, gamma: float):
    """d/dt of :func:`_value` (right derivative at ``y = 0``)."""
    y = np.asarray(y, dtype=float)
    out = -0.5 * gamma * term.coef * np.exp(-0.5 * gamma * y) * y ** term.power \
        / math.factorial(term.power)
    if term.power >= 1:
        out = out + term.coef * np.exp(-0.5 * gamma * y) * y ** (term.power - 1) \
            / math.factorial(term.power - 1)
    return np.where(y >= 0, out, 0.0)


class LangevinCascade:
    """Second moments and heat fluxes of a delayed cascade from its Langevin equations.

    Parameters
    ----------
    cov0 : ndarray, shape (2n, 2n)
        Initial covariance, order (X1, Y1, X2, Y2, ...), zero first moments.
    delays : sequence of float
        ``tau_1 .. tau_{n-1}`` (1/gamma).
    gamma, omega, n_bath : float
        Rate, frequency and reservoir occupation N.
    """

    def __init__(self, cov0, delays, gamma: float = 1.0, omega: float = 1.0,
                 n_bath: float = 0.0):
        self.cov0 = np.asarray(cov0, dtype=float)
        self.n = self.cov0.shape[0] // 2
        self.arrival = np.concatenate([[0.0], np.cumsum(delays)])
        self.gamma, self.omega, self.n_bath = gamma, omega, n_bath
        self.g: list[list[list[Term]]] = []   # g[i][k]: terms of the a_k(0) kernel of a_i
        self.h: list[list[Term]] = []         # h[i]: terms of the noise kernel of a_i
        for i in range(self.n):
            g_i = [[Term(1.0, 0.0, 0)] if k == i else [] for k in range(self.n)]
            h_i = [Term(-math.sqrt(gamma), self.arrival[i], 0, -self.arrival[i])]
            for upstream in range(i):
                lag = self.arrival[i] - self.arrival[upstream]
                for k in range(self.n):
                    g_i[k] += [self._passed(term, lag) for term in self.g[upstream][k]]
                h_i += [self._passed(term, lag) for term in self.h[upstream]]
            self.g.append(g_i)
            self.h.append(h_i)

    def _passed(self, term: Term, lag: float) -> Term:
        """``-gamma int_0^t e^{-gamma (t - t')/2} f(t' - lag) dt'`` of one term."""
        return Term(-self.gamma * term.coef, term.shift + lag, term.power + 1, term.u_low)

    # --- kernels ----------------------------------------------------------------------
    def initial_kernel(self, i: int, t: float, rate: bool = False) -> np.ndarray:
        """``g_ik(t)`` (or its t-derivative) for every k, shape (n,)."""
        f = _rate if rate else _value
        return np.array([sum(float(f(term, t - term.shift, self.gamma)) for term in g_ik)
                         for g_ik in self.g[i]])

    def _noise_integral(self, i: int, t_i: float, j: int, t_j: float,
                        rate_i: bool = False) -> float:
        """``int H_i(t_i, u) H_j(t_j, u) du`` (with ``d/dt_i H_i`` if ``rate_i``)."""
        total = 0.0
        f_i = _rate if rate_i else _value
        for a in self.h[i]:
            for b in self.h[j]:
                low = max(a.u_low, b.u_low)
                high = min(t_i - a.shift, t_j - b.shift)
                if high <= low:
                    continue

                def integrand(u, a=a, b=b):
                    return float(f_i(a, t_i - u - a.shift, self.gamma)
                                 * _value(b, t_j - u - b.shift, self.gamma))

                value, err = quad(integrand, low, high, epsabs=1e-14, epsrel=1e-12,
                                  limit=200)
                assert err < 1e-12, err
                total += value
        return total

    # --- moments ------------------------------------------------------------------------
    def covariance(self, i: int, t_i: float, j: int, t_j: float) -> np.ndarray:
        """The 2x2 block ``<{(X_i, Y_i)(t_i), (X_j, Y_j)(t_j)}>/2``."""
        gi, gj = self.initial_kernel(i, t_i), self.initial_kernel(j, t_j)
        c0 = self.cov0.reshape(self.n, 2, self.n, 2)
        block = np.einsum("k,kalb,l->ab", gi, c0, gj)
        return block + (self.n_bath + 0.5) * self._noise_integral(i, t_i, j, t_j) * np.eye(2)

    def equal_time_covariance(self, t: float) -> np.ndarray:
        """Covariance of all subsystems at real time t, shape (2n, 2n)."""
        out = np.zeros((2 * self.n, 2 * self.n))
        for i in range(self.n):
            for j in range(i, self.n):
                block = self.covariance(i, t, j, t)
                out[2 * i:2 * i + 2, 2 * j:2 * j + 2] = block
                out[2 * j:2 * j + 2, 2 * i:2 * i + 2] = block.T
        return out

    def occupation(self, i: int, t: float) -> float:
        """``n_i(t) = (C_XiXi + C_YiYi)/2 - 1/2``."""
        return float(np.trace(self.covariance(i, t, i, t))) / 2 - 0.5

    def occupation_rate(self, i: int, t: float) -> float:
        """``dn_i/dt`` (right derivative), analytically under the integrals.

        ``d/dt int^{t - T_i} H_i^2 du = H_i(t, t - T_i)^2 + 2 int H_i dH_i/dt du``; the
        boundary term is the direct noise only (``gamma``): every other term of ``H_i``
        vanishes at the upper limit.
        """
        g, dg = self.initial_kernel(i, t), self.initial_kernel(i, t, rate=True)
        c0 = self.cov0.reshape(self.n, 2, self.n, 2)
        trace0 = c0[:, 0, :, 0] + c0[:, 1, :, 1]
        initial = 2 * dg @ trace0 @ g  # d/dt of g trace0 g^T
        noise = 2 * (self.gamma + 2 * self._noise_integral(i, t, i, t, rate_i=True))
        return (initial + (self.n_bath + 0.5) * noise) / 2

    def fluxes(self, times) -> tuple[np.ndarray, np.ndarray]:
        """Local and correlated flux of every subsystem, shape (n, n_t) each
        (units hbar omega gamma)."""
        local = np.zeros((self.n, len(times)))
        own = np.zeros_like(local)
        for i in range(self.n):
            for k, t in enumerate(times):
                local[i, k] = self.omega * self.gamma * (self.occupation(i, t) - self.n_bath)
                own[i, k] = -self.omega * self.occupation_rate(i, t)
        return local, own - local

    def in_flight(self, times) -> np.ndarray:
        """Energy between S_l and S_{l+1} (hbar omega, relative to thermal), shape
        (n - 1, n_t): by energy conservation, what S_1..S_l released in the windows
        whose output is between the two, ``sum_{i'<=l} [E_i'(t - T_{l+1} + T_i') -
        E_i'(t - T_l + T_i')]`` (times clipped at 0)."""
        out = np.zeros((self.n - 1, len(times)))
        for link in range(self.n - 1):
            for k, t in enumerate(times):
                for i in range(link + 1):
                    early = max(0.0, t - self.arrival[link + 1] + self.arrival[i])
                    late = max(0.0, t - self.arrival[link] + self.arrival[i])
                    out[link, k] += self.omega * (self.occupation(i, early)
                                                  - self.occupation(i, late))
        return out
