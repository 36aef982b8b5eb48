"""The analytic results of lindblad.closed_form against the exact master equation.

Oscillators are simulated in a truncated Fock space, so every comparison below says
why its cutoff makes the truncation error negligible (< 1e-9):

* N = 0 (zero-temperature reservoir).  Every term of the generator (g_up = 0) either
  lowers the total excitation number n1 + n2 or conserves it (the cascade terms move
  a quantum from S1 to S2), so the subspace n1 + n2 <= d - 1 is invariant and on it
  the truncated operators act exactly like the untruncated ones.  An initial state
  supported there evolves *exactly*; the only truncation error is the one made in the
  initial state (the thermal tail beyond n1 + n2 = d - 1), which the tests measure
  and bound (``_moments`` below).  ``test_zero_temperature_truncation_is_exact``
  checks the claim.
* N > 0.  The reservoir pumps quanta up, so the truncation acts on the dynamics.
  Thermal starts stay Gaussian with each mode's occupation between N_S and N, so the
  weight of the top Fock level is <= q^(d-1), q = max(N_S, N) / (1 + max(N_S, N)).
  With max = 0.5 and d = 24, q^(d-1) = 3^-23 ~ 1e-11, and the flux error (a rate
  ~ gamma d times that weight) is < 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si
import scipy.linalg as sla
import scipy.sparse as sp

from lindblad import closed_form as cf
from lindblad import states
from lindblad.model import CascadeMasterEquation
from lindblad.operators import excitations
from lindblad.thermal import temperature_from_occupation

FIELDS = ("J1", "J2", "J12", "total")
TIMES = np.linspace(0.0, 8.0, 33)  # includes t1 = 2/gamma


def _max_err(a, b) -> float:
    return max(np.max(np.abs(getattr(a, k) - getattr(b, k))) for k in FIELDS)


# --- Fock-space states with a known covariance matrix --------------------------------------

def _ladders(d: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    a = sp.diags(np.sqrt(np.arange(1.0, d)), 1)
    eye = sp.identity(d)
    return sp.kron(a, eye, format="csr"), sp.kron(eye, a, format="csr")


def _restricted_product(n1: float, n2: float, d: int) -> np.ndarray:
    """Thermal occupations n1, n2 of two modes, kept on n1 + n2 <= d - 1 (renormalised)."""
    k = excitations((d, d))
    w = (n1 / (1 + n1)) ** k[:, 0] / (1 + n1) * (n2 / (1 + n2)) ** k[:, 1] / (1 + n2)
    w = np.where(k.sum(axis=1) <= d - 1, w, 0.0)
    return np.diag(w / w.sum()).astype(complex)


def beam_splitter_state(n_s: float, c: float, d: int) -> np.ndarray:
    """Locally thermal two-mode state with C13 = C24 = c (eq 31), in Fock space.

    Two thermal modes with occupations N_S - c and N_S + c (>= 0 iff |c| <= N_S, eq D5)
    mixed on a 50:50 beam splitter U = exp(pi/4 (a1^dag a2 - a2^dag a1)):
    U^dag a1 U = (a1 + a2)/sqrt2, U^dag a2 U = (a2 - a1)/sqrt2, hence
    <a1^dag a1> = <a2^dag a2> = N_S, <a1^dag a2> = c, <a1 a2> = 0, i.e.
    C11 = ... = C44 = N_S + 1/2, C13 = C24 = c (the symplectic map of the covariance).
    U conserves n1 + n2, so on the initial support n1 + n2 <= d - 1 the truncated
    expm is exact (no larger cutoff needed).
    """
    a1, a2 = _ladders(d)
    u = sla.expm(np.pi / 4 * (a1.T @ a2 - a2.T @ a1).toarray())
    rho = u @ _restricted_product(n_s - c, n_s + c, d) @ u.conj().T
    return (rho + rho.conj().T) / 2


def two_mode_squeezed_vacuum(n_s: float, d: int) -> np.ndarray:
    """|psi> = sqrt(1 - l^2) sum_n l^n |n, n>, l = tanh r, sinh^2 r = N_S.

    Locally thermal with N_S, C13 = -C24 = sqrt(N_S (N_S + 1)) (an EPR-like state), so
    C13(0) + C24(0) = 0.  Kept on n <= (d - 1) // 2 so that n1 + n2 <= d - 1.
    """
    lam = np.sqrt(n_s / (1 + n_s))
    psi = np.zeros(d * d, dtype=complex)
    for k in range((d - 1) // 2 + 1):
        psi[k * d + k] = lam**k
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


# --- oscillators: thermal starts (eqs 26-30) ------------------------------------------------

THERMAL_CASES = [
    pytest.param(0.3, 0.0, 20, id="N=0-Ns=0.3"),
    pytest.param(0.5, 0.2, 24, id="N=0.2-Ns=0.5-cooling"),
    pytest.param(0.05, 0.3, 24, id="N=0.3-Ns=0.05-heating"),
]


def _thermal_start(n_s: float, n: float, d: int) -> np.ndarray:
    if n == 0:  # supported on n1 + n2 <= d - 1: exact N = 0 dynamics (module docstring)
        return _restricted_product(n_s, n_s, d)
    one = states.thermal("oscillator", temperature_from_occupation(n_s), cutoff=d)
    return states.product(one, one)


@pytest.mark.parametrize("n_s, n, d", THERMAL_CASES)
def test_oscillator_thermal_start_matches_eqs_26_to_30(n_s, n, d):
    rho0 = _thermal_start(n_s, n, d)
    mean, cov = states.fock_moments(rho0, (d, d))
    # the truncated initial state has the nominal covariance to < 1e-10
    assert np.max(np.abs(mean)) == 0
    assert np.max(np.abs(cov - (n_s + 0.5) * np.eye(4))) < 1e-10
    me = CascadeMasterEquation("oscillator", temperature=temperature_from_occupation(n),
                               cutoff=d)
    num = me.heat_fluxes(rho0, TIMES)
    ref = cf.oscillator_fluxes(TIMES, n_s, n)
    assert _max_err(num, ref) < 1e-8
    # the individual closed forms behind the HeatFluxes object
    assert np.allclose(num.J2 + num.J12, cf.oscillator_j2_cascade(TIMES, n_s, n), atol=1e-8)
    assert np.allclose(num.total, cf.oscillator_total_flux(TIMES, n_s, n), atol=1e-8)
    assert np.allclose(ref.J2, (1 + TIMES**2) * ref.J1, atol=1e-15)       # eq 27
    assert np.allclose(ref.J12, -2 * TIMES * ref.J1, atol=1e-15)          # eq 27
    assert np.allclose(ref.total, (1 + (1 - TIMES) ** 2) * ref.J1, atol=1e-15)  # eq 29


def test_zero_temperature_truncation_is_exact():
    """N = 0: no weight ever reaches n1 + n2 > d - 1, and the fluxes equal the closed
    forms evaluated at the *measured* moments of the truncated state to round-off."""
    d, n_s = 12, 0.6  # a deliberately small cutoff: the initial tail is ~1e-5
    rho0 = _restricted_product(n_s, n_s, d)
    _, cov = states.fock_moments(rho0, (d, d))
    n_eff = cov[0, 0] - 0.5
    assert abs(n_eff - n_s) > 1e-7  # the truncation is visible in the initial state ...
    me = CascadeMasterEquation("oscillator", temperature=0.0, cutoff=d)
    rhos = me.evolve(rho0, [0.5, 2.0, 5.0])
    outside = excitations((d, d)).sum(axis=1) > d - 1
    assert np.max(np.abs(rhos[:, outside, :])) == 0.0
    num = me.heat_fluxes(rho0, TIMES)
    # ... but the dynamics adds nothing to it
    assert _max_err(num, cf.oscillator_fluxes(TIMES, n_eff, 0.0)) < 1e-12


# --- oscillators: correlated starts (eqs 31-34) ---------------------------------------------

CORRELATED_CASES = [  # (N_S, C13 = C24 = c, N, cutoff)
    pytest.param(0.2, -0.2, 0.0, 22, id="N=0-c=-Ns(edge)"),
    pytest.param(0.2, -0.1, 0.0, 22, id="N=0-c=-Ns/2"),
    pytest.param(0.2, 0.1, 0.0, 22, id="N=0-c=+Ns/2"),
    pytest.param(0.2, 0.2, 0.0, 22, id="N=0-c=+Ns(edge)"),
    pytest.param(0.3, 0.15, 0.1, 24, id="N=0.1-c=+Ns/2"),
]


@pytest.mark.parametrize("n_s, c, n, d", CORRELATED_CASES)
def test_oscillator_correlated_start_matches_eqs_32_to_34(n_s, c, n, d):
    # N = 0: exact dynamics, initial tail of n1+n2 >= d below 1e-11 (max occupation 0.4).
    # N = 0.1: largest mode occupation N_S + c = 0.45, q = 0.31, q^23 ~ 2e-12.
    rho0 = beam_splitter_state(n_s, c, d)
    states.validate_density_matrix(rho0)
    mean, cov = states.fock_moments(rho0, (d, d))
    expected = states.gaussian_correlated(n_s, c, c)  # eq 31 / D1
    assert np.max(np.abs(mean)) < 1e-14
    assert np.max(np.abs(cov - expected)) < 1e-10
    me = CascadeMasterEquation("oscillator", temperature=temperature_from_occupation(n),
                               cutoff=d)
    num = me.heat_fluxes(rho0, TIMES)
    ref = cf.oscillator_fluxes(TIMES, n_s, n, c_sum=2 * c)
    assert _max_err(num, ref) < 1e-8
    assert np.allclose(num.J2 + num.J12, cf.oscillator_j2_cascade(TIMES, n_s, n, 2 * c),
                       atol=1e-8)                                               # eq 34


def test_independent_reservoirs_give_twice_j1():
    """eq 18 / 30: J^(ind) = 2 J1 for symmetric states, correlated or not."""
    d, n_s, c = 22, 0.2, 0.15
    me = CascadeMasterEquation("oscillator", temperature=0.0, cutoff=d, cascade=False)
    for rho0, c_sum in ((beam_splitter_state(n_s, c, d), 2 * c),
                        (_restricted_product(n_s, n_s, d), 0.0)):
        num = me.heat_fluxes(rho0, TIMES)
        ref = cf.oscillator_fluxes(TIMES, n_s, 0.0, c_sum, cascade=False)
        assert _max_err(num, ref) < 1e-8
        assert np.max(np.abs(num.total - cf.oscillator_independent_flux(TIMES, n_s))) < 1e-8
        assert np.max(np.abs(num.J12)) == 0


def test_anticorrelated_quadratures_do_not_change_the_flux():
    """C13 = -C24 (two-mode squeezed vacuum, entangled): same fluxes as the product state
    (eqs 32-34 depend on C13 + C24 only)."""
    d, n_s = 23, 0.1  # kept on n <= 11: tail (N_S/(1+N_S))^12 ~ 3e-13; exact N = 0 dynamics
    rho0 = two_mode_squeezed_vacuum(n_s, d)
    mean, cov = states.fock_moments(rho0, (d, d))
    c13 = np.sqrt(n_s * (n_s + 1))
    assert np.max(np.abs(mean)) == 0
    assert np.max(np.abs(np.diag(cov) - (n_s + 0.5))) < 1e-10
    assert abs(cov[0, 2] - c13) < 1e-10 and abs(cov[1, 3] + c13) < 1e-10
    num = CascadeMasterEquation("oscillator", temperature=0.0, cutoff=d).heat_fluxes(rho0, TIMES)
    assert _max_err(num, cf.oscillator_fluxes(TIMES, n_s, 0.0, c_sum=0.0)) < 1e-8


# --- eqs 35-38 ------------------------------------------------------------------------------

@pytest.mark.parametrize("c_sum", [-1.6, -0.6, 0.6, 1.6], ids=lambda c: f"c_sum={c:+}")
def test_stationary_times_eq_35_are_stationary(c_sum):
    n_s = 1.0
    t1, t2 = cf.oscillator_stationary_times(n_s, c_sum)
    assert t1 == 2.0 and t2 == pytest.approx(2 * (1 + c_sum / (2 * n_s)))
    ts = np.array([t1, t2])
    # the closed-form derivative vanishes there, and it is the derivative of eq 29/34
    assert np.max(np.abs(cf.oscillator_total_flux_derivative(ts, n_s, 0.0, c_sum))) < 1e-15
    grid = np.linspace(0.5, 6.0, 12)
    h = 1e-5
    fd = (cf.oscillator_total_flux(grid + h, n_s, 0, c_sum)
          - cf.oscillator_total_flux(grid - h, n_s, 0, c_sum)) / (2 * h)
    assert np.allclose(fd, cf.oscillator_total_flux_derivative(grid, n_s, 0, c_sum), atol=1e-8)
    # minimum then maximum (Sec. V B): min at t1 if c_sum > 0, else at t2
    t_min, t_max = (t1, t2) if c_sum > 0 else (t2, t1)
    j = lambda t: cf.oscillator_total_flux(t, n_s, 0, c_sum)  # noqa: E731
    assert j(t_min) < min(j(t_min - 1e-3), j(t_min + 1e-3))
    assert j(t_max) > max(j(t_max - 1e-3), j(t_max + 1e-3))
    # eqs 36-38 are eq 29/34 evaluated at 0, t1, t2
    assert np.allclose(cf.oscillator_stationary_fluxes(n_s, c_sum),
                       j(np.array([0.0, t1, t2])), rtol=0, atol=1e-15)


def test_stationary_times_from_the_master_equation():
    """dJ^(c)/dt = Re(w L_0 v) of the exact Fock-space solution vanishes at t1, t2."""
    d, n_s, c = 22, 0.2, 0.15
    t1, t2 = cf.oscillator_stationary_times(n_s, 2 * c)
    me = CascadeMasterEquation("oscillator", temperature=0.0, cutoff=d)
    sec = me.sector(0)
    w_loc, w_cor = me.flux_weights()
    w = w_loc.sum(axis=0) + w_cor.sum(axis=0)
    rhos = me.evolve(beam_splitter_state(n_s, c, d), [0.5, t1, t2])
    dj = [np.real(w @ (sec.matrix @ r[sec.ket, sec.bra])) for r in rhos]
    expected = cf.oscillator_total_flux_derivative([0.5, t1, t2], n_s, 0.0, 2 * c)
    assert np.allclose(dj, expected, rtol=0, atol=1e-9)
    assert abs(dj[0]) > 0.05 and max(abs(dj[1]), abs(dj[2])) < 1e-9


# --- heats and release times -------------------------------------------------------------

@pytest.mark.parametrize("n_s, n, c_sum", [(1.0, 0.0, 0.0), (1.0, 0.0, -1.4), (0.3, 0.7, 0.5)],
                         ids=["thermal", "correlated", "heating"])
def test_oscillator_heat_released_is_the_integral(n_s, n, c_sum):
    for t in (0.0, 0.7, 3.0, 12.0):
        quad, _ = si.quad(lambda u: cf.oscillator_total_flux(u, n_s, n, c_sum), 0.0, t,
                          epsabs=1e-14, epsrel=1e-13)
        assert cf.oscillator_heat_released(t, n_s, n, c_sum) == pytest.approx(quad, abs=1e-12)
    q_inf = cf.oscillator_total_heat(n_s, n)
    assert q_inf == 2 * (n_s - n)  # eq 11: U(0) - U(inf) = 2 omega (N_S - N)
    assert cf.oscillator_heat_released(60.0, n_s, n, c_sum) == pytest.approx(q_inf, abs=1e-20)


@pytest.mark.parametrize("xi_s, rho23", [(0.25, 0.0), (0.25, -0.9), (0.0, 0.6 + 0.3j)],
                         ids=["thermal", "anticorrelated", "correlated"])
def test_qubit_heat_released_is_the_integral(xi_s, rho23):
    for t in (0.0, 0.7, 3.0, 12.0):
        quad, _ = si.quad(lambda u: cf.qubit_total_flux(u, xi_s, rho23), 0.0, t,
                          epsabs=1e-14, epsrel=1e-13)
        assert cf.qubit_heat_released(t, xi_s, rho23) == pytest.approx(quad, abs=1e-12)
        assert cf.qubit_heat_released(t, xi_s, rho23, paper_units=True) == pytest.approx(
            2 * quad, abs=1e-12)
    assert cf.qubit_total_heat(xi_s) == 1 - xi_s  # eq 11, T = 0 reservoir
    assert cf.qubit_heat_released(60.0, xi_s, rho23) == pytest.approx(1 - xi_s, abs=1e-20)


P_GRID = np.array([25.0, 50.0, 75.0, 86.0, 90.0, 95.0])  # the curves of Figs 4a and 6a


@pytest.mark.parametrize("c_sum", [-2.0, -1.0, 0.0, 1.0, 2.0], ids=lambda c: f"c_sum={c:+}")
def test_oscillator_release_time(c_sum):
    n_s = 1.0
    tau = cf.release_time(P_GRID, "oscillator", n_s=n_s, c_sum=c_sum)
    q = cf.oscillator_heat_released(tau, n_s, 0.0, c_sum)
    assert np.allclose(q / cf.oscillator_total_heat(n_s), P_GRID / 100, rtol=0, atol=1e-13)
    assert np.all(np.diff(tau) > 0)
    # independent of N_S at fixed c_sum / N_S (Fig. 4a)
    assert np.allclose(cf.release_time(P_GRID, n_s=3.0, c_sum=3 * c_sum), tau, atol=1e-12)
    # positive (negative) correlations speed up (slow down) the release (Sec. V B)
    tau0 = cf.release_time(P_GRID)
    if c_sum:
        assert np.all(np.sign(tau0 - tau) == np.sign(c_sum))


def test_oscillator_release_time_against_the_master_equation():
    """Q(tau_p) = U(0) - U(tau_p) of the exact Fock-space solution."""
    d, n_s, c = 22, 0.2, -0.1
    taus = cf.release_time([25.0, 75.0], "oscillator", n_s=n_s, c_sum=2 * c)
    me = CascadeMasterEquation("oscillator", temperature=0.0, cutoff=d)
    rho0 = beam_splitter_state(n_s, c, d)
    u = [me.energies(r).sum() for r in me.evolve(rho0, np.concatenate([[0.0], taus]))]
    frac = (u[0] - np.array(u[1:])) / cf.oscillator_total_heat(n_s)
    assert np.allclose(frac, [0.25, 0.75], atol=1e-9)


@pytest.mark.parametrize("rho23", [-0.9375, -0.5, 0.0, 0.5, 0.9375],
                         ids=lambda r: f"rho23={r:+}")
def test_qubit_release_time(rho23):
    xi_s = 0.25
    tau = cf.release_time(P_GRID, "qubit", xi_s=xi_s, rho23=rho23)
    q = cf.qubit_heat_released(tau, xi_s, rho23)
    assert np.allclose(q / cf.qubit_total_heat(xi_s), P_GRID / 100, rtol=0, atol=1e-13)
    assert np.all(np.diff(tau) > 0)
    tau0 = cf.release_time(P_GRID, "qubit")
    if rho23:
        assert np.all(np.sign(tau0 - tau) == np.sign(rho23))  # Sec. VI B, Fig. 6a
    # the exact master equation releases p% of Q(inf) at tau_p
    me = CascadeMasterEquation("qubit", temperature=0.0)
    rho0 = states.correlated_qubits(xi_s, rho23)
    u = [me.energies(r).sum() for r in me.evolve(rho0, np.concatenate([[0.0], tau]))]
    assert np.allclose((u[0] - np.array(u[1:])) / (1 - xi_s), P_GRID / 100, atol=1e-12)


def test_release_time_scalar_and_shape():
    assert isinstance(cf.release_time(50.0), float)
    assert cf.release_time(50.0) == pytest.approx(1.3190736768573652, abs=1e-12)
    out = cf.release_time(np.full((2, 3), 40.0), "qubit", xi_s=0.0)
    assert out.shape == (2, 3) and np.ptp(out) == 0


# --- qubit closed forms: consistency of the pieces ----------------------------------------

def test_qubit_closed_form_pieces_are_consistent():
    t = np.linspace(0, 7, 29)
    xi_s, r = 0.3, -0.4 + 0.2j
    f = cf.qubit_fluxes(t, xi_s, r)
    assert np.allclose(f.J2 + f.J12, cf.qubit_j2_cascade(t, xi_s, r), atol=1e-16)
    assert np.allclose(f.total, cf.qubit_total_flux(t, xi_s, r), atol=1e-16)
    assert np.allclose(cf.qubit_independent_flux(t, xi_s), 2 * f.J1, atol=1e-16)
    paper = cf.qubit_fluxes(t, xi_s, r, paper_units=True)
    assert np.allclose(paper.local, 2 * f.local, atol=0) and np.allclose(
        paper.correlated, 2 * f.correlated, atol=0)
    # the imaginary part of rho23 does not enter
    assert _max_err(f, cf.qubit_fluxes(t, xi_s, r.real)) == 0
    # omega and gamma: flux scales as omega gamma at fixed gamma t
    g = cf.qubit_fluxes(t / 2.0, xi_s, r, gamma=2.0, omega=3.0)
    assert np.allclose(g.local, 6.0 * f.local, atol=1e-15)
    # the paper's thermal start (eqs 39-40) with Sec. VI B at rho23 = 0: J1 = gamma(1 - xi_S)e^-t
    assert np.allclose(cf.qubit_j1(t, xi_s, paper_units=True), (1 - xi_s) * np.exp(-t))


def test_scalar_and_array_shapes():
    assert np.ndim(cf.oscillator_j1(1.0, 1.0)) == 0
    assert cf.oscillator_total_flux(np.zeros((2, 3)), 1.0).shape == (2, 3)
    assert cf.qubit_j12(np.ones((4, 1)), 0.5, 0.1).shape == (4, 1)


# --- input validation ------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: cf.oscillator_j1(-1.0, 1.0), "t must be finite and >= 0"),
    (lambda: cf.oscillator_j1([0.0, np.nan], 1.0), "t must be finite"),
    (lambda: cf.oscillator_j1("x", 1.0), "t must be a real number"),
    (lambda: cf.oscillator_j2(1.0, -0.5), "n_s .* must be >= 0"),
    (lambda: cf.oscillator_j2(1.0, 1.0, n=np.inf), "n must be finite"),
    (lambda: cf.oscillator_j2(1.0, 1.0, 0.0, c_sum=2.5), "eq D5"),
    (lambda: cf.oscillator_total_flux(1.0, 1.0, gamma=0.0), "gamma must be > 0"),
    (lambda: cf.oscillator_total_flux(1.0, 1.0, omega=-1.0), "omega must be > 0"),
    (lambda: cf.oscillator_fluxes(np.zeros((2, 2)), 1.0), "1-d array"),
    (lambda: cf.oscillator_fluxes([1.0], 1.0, 0.0, 3.0, cascade=False), "eq D5"),
    (lambda: cf.oscillator_stationary_times(0.5, 0.0, 0.5), "N_S != N"),
    (lambda: cf.oscillator_stationary_fluxes(0.5, 0.0, 0.5), "N_S != N"),
    (lambda: cf.qubit_j1(1.0, 1.5), r"xi_s .* must lie in \[0, 1\]"),
    (lambda: cf.qubit_j2(1.0, 0.5, 0.8), "eq 42"),
    (lambda: cf.qubit_j12(1.0, 0.5, "a"), "rho23 must be a"),
    (lambda: cf.qubit_total_heat(0.5, xi=2.0), r"xi .* must lie in \[0, 1\]"),
    (lambda: cf.qubit_fluxes_from_state(np.eye(3) / 3, 1.0), r"shape \(4, 4\)"),
    (lambda: cf.qubit_fluxes_from_state(np.full((4, 4), np.nan), 1.0), "finite"),
    (lambda: cf.qubit_fluxes_from_state(np.eye(4) / 4, -0.1), r"\[0, 1\]"),
    (lambda: cf.release_time(0.0), "strictly between 0 and 100"),
    (lambda: cf.release_time(100.0), "strictly between 0 and 100"),
    (lambda: cf.release_time([50.0, np.nan]), "strictly between 0 and 100"),
    (lambda: cf.release_time("half"), "p must be a percentage"),
    (lambda: cf.release_time(50.0, "spin"), "system must be 'oscillator' or 'qubit'"),
    (lambda: cf.release_time(50.0, "qubit", c_sum=0.5), "oscillator parameters"),
    (lambda: cf.release_time(50.0, "oscillator", xi_s=0.5), "qubit parameters"),
    (lambda: cf.release_time(50.0, n_s=0.0), "N_S != N"),
    (lambda: cf.release_time(50.0, "qubit", xi_s=1.0), "xi_s < 1"),
    (lambda: cf.release_time(50.0, "qubit", xi_s=0.5, rho23=0.9), "eq 42"),
], ids=["t<0", "t-nan", "t-str", "n_s<0", "n-inf", "c_sum>2Ns", "gamma=0", "omega<0",
        "t-2d", "c_sum-ind", "t2-Ns=N", "eq38-Ns=N", "xi_s>1", "rho23>bound", "rho23-str",
        "xi>1", "rho-shape", "rho-nan", "xi<0", "p=0", "p=100", "p-nan", "p-str",
        "bad-system", "cross-param-q", "cross-param-o", "no-heat-osc", "no-heat-qubit",
        "release-eq42"])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
