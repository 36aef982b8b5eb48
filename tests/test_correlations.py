"""Tests of lindblad.correlations against values known from the literature.

Basis: ``|gg>, |ge>, |eg>, |ee>`` (ground first, S1 most significant); Gaussian quadrature
order ``(X1, Y1, X2, Y2)`` with vacuum covariance ``I/2``.  Every reference value is computed
here from an independent closed form (cited) or by an independent brute-force search, never
by calling the function under test a second way.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg, optimize

from lindblad import correlations as cr
from lindblad.states import (
    correlated_qubits,
    gaussian_correlated,
    gaussian_thermal,
    symplectic_eigenvalues,
)

# --- helpers ---------------------------------------------------------------------------------

G, E = np.array([1.0, 0.0]), np.array([0.0, 1.0])  # |g> = index 0, |e> = index 1
# Textbook Pauli matrices; products sigma_i x sigma_i do not depend on the sign conventions.
PAULI = (np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
         np.diag([1.0, -1.0]).astype(complex))
BELL_KETS = {
    "Phi+": (np.kron(G, G) + np.kron(E, E)) / np.sqrt(2),
    "Phi-": (np.kron(G, G) - np.kron(E, E)) / np.sqrt(2),
    "Psi+": (np.kron(G, E) + np.kron(E, G)) / np.sqrt(2),
    "Psi-": (np.kron(G, E) - np.kron(E, G)) / np.sqrt(2),
}


def proj(ket):
    ket = np.asarray(ket, dtype=complex)
    return np.outer(ket, ket.conj())


def bell_diagonal(c):
    """(1/4)(I + sum_i c_i sigma_i x sigma_i)."""
    return (np.eye(4) + sum(ci * np.kron(p, p) for ci, p in zip(c, PAULI, strict=True))) / 4


def werner(p):
    """p |Psi-><Psi-| + (1 - p) I/4 = Bell-diagonal with c = (-p, -p, -p)."""
    return p * proj(BELL_KETS["Psi-"]) + (1 - p) * np.eye(4) / 4


def qubit_thermal(xi):
    """Thermal qubit with polarisation xi: p_g = (1 + xi)/2."""
    return np.diag([(1 + xi) / 2, (1 - xi) / 2]).astype(complex)


def random_unitary(rng, d=2):
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_mixed(rng, d=2):
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def x_state(pops, w, z):
    """X state (eq F14) in our basis: <gg|rho|ee> = w, <ge|rho|eg> = z."""
    rho = np.diag(pops).astype(complex)
    rho[0, 3], rho[3, 0] = w, np.conj(w)
    rho[1, 2], rho[2, 1] = z, np.conj(z)
    return rho


def random_x_state(rng):
    pops = rng.dirichlet(np.ones(4))
    w = np.sqrt(pops[0] * pops[3]) * rng.uniform() * np.exp(2j * np.pi * rng.uniform())
    z = np.sqrt(pops[1] * pops[2]) * rng.uniform() * np.exp(2j * np.pi * rng.uniform())
    return x_state(pops, w, z)


def h_bits(x):
    """Eq F7 / Adesso-Datta f(x), written out independently of the module."""
    up, down = (x + 1) / 2, (x - 1) / 2
    return up * np.log2(up) - (down * np.log2(down) if down > 0 else 0.0)


def tmsv(r):
    """Two-mode squeezed vacuum covariance (vacuum I/2): <X1X2> = -<Y1Y2> = sinh(2r)/2."""
    ch, sh = np.cosh(2 * r) / 2, np.sinh(2 * r) / 2
    return np.array([[ch, 0, sh, 0], [0, ch, 0, -sh], [sh, 0, ch, 0], [0, -sh, 0, ch]])


OMEGA2 = np.kron(np.eye(2), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def random_covariance(rng, scale=0.6):
    """S diag(nu1, nu1, nu2, nu2) S^T with a random symplectic S = expm(Omega H)."""
    h = rng.normal(size=(4, 4)) * scale
    s = linalg.expm(OMEGA2 @ (h + h.T) / 2)
    nu = 0.5 + rng.exponential(0.8, size=2)
    return s @ np.diag([nu[0], nu[0], nu[1], nu[1]]) @ s.T


# --- entropies -------------------------------------------------------------------------------

def test_von_neumann_entropy_known_values():
    assert cr.von_neumann_entropy(np.eye(4) / 4) == pytest.approx(2.0, abs=1e-12)
    assert cr.von_neumann_entropy(np.eye(4) / 4, base=np.e) == pytest.approx(np.log(4), abs=1e-12)
    assert cr.von_neumann_entropy(proj(BELL_KETS["Psi-"])) == pytest.approx(0.0, abs=1e-12)
    p = 0.2  # binary entropy H(0.2)
    expected = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert cr.von_neumann_entropy(np.diag([p, 1 - p])) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("rho", "expected"), [
    (proj(BELL_KETS["Phi+"]), 2.0),                                  # pure maximally entangled
    (np.kron(qubit_thermal(0.3), qubit_thermal(0.7)), 0.0),          # product
    ((proj(np.kron(G, G)) + proj(np.kron(E, E))) / 2, 1.0),          # one classical bit
], ids=["bell", "product", "classical-bit"])
def test_mutual_information(rho, expected):
    assert cr.mutual_information(rho) == pytest.approx(expected, abs=1e-12)


# --- concurrence (Wootters, PRL 80, 2245 (1998); paper eqs F13-F16) ------------------------------

@pytest.mark.parametrize("name", list(BELL_KETS))
def test_concurrence_bell_states_is_one(name):
    rho = proj(BELL_KETS[name])
    assert cr.concurrence(rho) == pytest.approx(1.0, abs=1e-9)
    assert cr.concurrence_x_state(rho) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concurrence_product_states_is_zero(seed):
    rng = np.random.default_rng(seed)
    rho = np.kron(random_mixed(rng), random_mixed(rng))
    assert cr.concurrence(rho) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("p", [0.0, 0.2, 1 / 3, 0.5, 0.8, 1.0])
def test_concurrence_werner_state(p):
    # Wootters 1998: C(p |Psi-><Psi-| + (1-p) I/4) = max(0, (3p - 1)/2)
    expected = max(0.0, (3 * p - 1) / 2)
    assert cr.concurrence(werner(p)) == pytest.approx(expected, abs=1e-9)
    assert cr.concurrence_x_state(werner(p)) == pytest.approx(expected, abs=1e-12)


def test_concurrence_x_formula_f15_matches_wootters_on_random_x_states():
    rng = np.random.default_rng(1234)
    values = []
    for _ in range(40):
        rho = random_x_state(rng)
        general = cr.concurrence(rho)
        assert cr.concurrence_x_state(rho) == pytest.approx(general, abs=1e-9)
        values.append(general)
    # the sample covers both entangled and separable X states
    assert max(values) > 0.1
    assert min(values) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("xi_s", [0.0, 0.25, 0.6, 0.95])
def test_paper_eq41_states_are_never_entangled(xi_s):
    # Paper Sec. VI C and eq F16: C = max(|rho23| + xi_s^2 - 1, 0)/2 = 0 on the allowed disk
    bound = 1 - xi_s**2
    for frac in (0.0, 0.5, 1.0):
        for phase in (0.0, 0.9, np.pi):
            rho23 = frac * bound * np.exp(1j * phase)
            rho = correlated_qubits(xi_s, rho23)
            f16 = max(0.5 * (abs(rho23) + xi_s**2 - 1), 0.0)
            assert f16 == pytest.approx(0.0, abs=1e-12)
            assert cr.concurrence(rho) == pytest.approx(0.0, abs=1e-9)
            assert cr.concurrence_x_state(rho) == pytest.approx(0.0, abs=1e-12)


# --- quantum discord --------------------------------------------------------------------------

def luo_bell_diagonal_discord(c):
    """Discord of a Bell-diagonal state (Luo, PRA 77, 042303 (2008)), bits:
    I = 2 + sum_k lambda_k log2 lambda_k,  C = ((1-m)/2) log2(1-m) + ((1+m)/2) log2(1+m),
    m = max |c_i|, D = I - C."""
    c1, c2, c3 = c
    lam = np.array([1 - c1 - c2 - c3, 1 - c1 + c2 + c3, 1 + c1 - c2 + c3, 1 + c1 + c2 - c3]) / 4
    mutual = 2 + sum(x * np.log2(x) for x in lam if x > 0)
    m = max(abs(c1), abs(c2), abs(c3))
    classical = (1 - m) / 2 * np.log2(1 - m) + (1 + m) / 2 * np.log2(1 + m) if m < 1 else 1.0
    return mutual - classical


@pytest.mark.parametrize("name", list(BELL_KETS))
@pytest.mark.parametrize("side", ["A", "B"])
def test_discord_bell_states_is_one_bit(name, side):
    assert cr.quantum_discord(proj(BELL_KETS[name]), measured=side) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("side", ["A", "B"])
def test_discord_product_states_is_zero(seed, side):
    rng = np.random.default_rng(seed)
    rho = np.kron(random_mixed(rng), random_mixed(rng))
    assert cr.quantum_discord(rho, measured=side) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("c", [
    (-0.1, -0.1, -0.1), (-0.5, -0.5, -0.5), (-0.9, -0.9, -0.9),   # Werner p = 0.1, 0.5, 0.9
    (-0.7, 0.3, 0.2), (0.5, -0.2, 0.1), (0.2, -0.3, 0.6),
], ids=["werner-0.1", "werner-0.5", "werner-0.9", "bd-c1max", "bd-mixed", "bd-c3max"])
def test_discord_bell_diagonal_matches_luo_closed_form(c):
    # Werner states (Ollivier & Zurek PRL 88, 017901 (2001)) and general Bell-diagonal states,
    # closed form of Luo, PRA 77, 042303 (2008).
    expected = luo_bell_diagonal_discord(c)
    rho = bell_diagonal(c)
    assert cr.quantum_discord(rho, "A") == pytest.approx(expected, abs=1e-8)
    assert cr.quantum_discord(rho, "B") == pytest.approx(expected, abs=1e-8)


def test_discord_werner_matches_helper_definition():
    # bell_diagonal(-p, -p, -p) is the Werner state: cross-check of the test helpers themselves
    np.testing.assert_allclose(bell_diagonal((-0.4, -0.4, -0.4)), werner(0.4), atol=1e-15)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_discord_classical_quantum_states(seed):
    # rho = sum_j p_j |a_j><a_j| x rho_j, with {|a_j>} a random basis of A: D(B|A) = 0
    rng = np.random.default_rng(seed)
    u = random_unitary(rng)
    p = rng.uniform(0.2, 0.8)
    rho = (p * np.kron(proj(u[:, 0]), random_mixed(rng))
           + (1 - p) * np.kron(proj(u[:, 1]), random_mixed(rng)))
    assert cr.quantum_discord(rho, "A") == pytest.approx(0.0, abs=1e-9)
    assert cr.mutual_information(rho) - cr.classical_correlation(rho, "A") == pytest.approx(
        0.0, abs=1e-9)
    # with non-orthogonal conditional states the discord is one-sided
    assert cr.quantum_discord(rho, "B") > 1e-4


def test_discord_is_asymmetric():
    # (|g><g| x |g><g| + |e><e| x |+><+|)/2: classical on A, non-orthogonal states on B
    plus = (G + E) / np.sqrt(2)
    rho = 0.5 * (np.kron(proj(G), proj(G)) + np.kron(proj(E), proj(plus)))
    d_ba, d_ab = cr.quantum_discord(rho, "A"), cr.quantum_discord(rho, "B")
    assert d_ba == pytest.approx(0.0, abs=1e-9)
    assert d_ab > 0.1
    # and discord never exceeds the mutual information
    assert d_ab <= cr.mutual_information(rho) + 1e-12


def test_discord_of_paper_eq41_depends_only_on_modulus():
    # Paper Sec. VI C / Fig. 5(c): D_Z is non-zero except at rho23 = 0, constant on circles,
    # increasing with |rho23|; the states are symmetric under S1 <-> S2.
    xi_s = 0.25
    assert cr.quantum_discord(correlated_qubits(xi_s, 0.0)) == pytest.approx(0.0, abs=1e-9)
    previous = 0.0
    for mod in (0.2, 0.5, 0.9):
        values = [cr.quantum_discord(correlated_qubits(xi_s, mod * np.exp(1j * ph)), side)
                  for ph in (0.0, 1.0, np.pi / 2, np.pi) for side in ("A", "B")]
        np.testing.assert_allclose(values, values[0], atol=1e-9)
        assert values[0] > previous + 1e-3
        previous = values[0]


# --- trace-distance discord (paper eq 44-45) ---------------------------------------------------

@pytest.mark.parametrize("c", [
    (-1.0, -1.0, -1.0), (-0.6, -0.6, -0.6), (-0.7, 0.3, 0.2), (0.5, -0.2, 0.1), (0.2, -0.3, 0.6),
], ids=["singlet", "werner-0.6", "bd-c1max", "bd-mixed", "bd-c3max"])
def test_tdd_bell_diagonal_is_half_the_intermediate_correlation(c):
    # Paula, de Oliveira & Sarandy, PRA 87, 064101 (2013): min ||rho - chi||_1 over CQ states
    # is int{|c1|, |c2|, |c3|} (the middle value) for Bell-diagonal states.  Eq 44 carries a
    # factor 1/2, so D_-> = int/2 (a Bell state has 1/2).
    expected = np.median(np.abs(c)) / 2
    assert cr.trace_distance_discord(bell_diagonal(c)) == pytest.approx(expected, abs=1e-12)


def test_tdd_brute_force_confirms_the_half_convention():
    c = (-0.7, 0.3, 0.2)
    assert cr.trace_distance_discord(bell_diagonal(c), method="numerical") == pytest.approx(
        0.15, abs=1e-8)


@pytest.mark.parametrize(("pops", "w", "z"), [
    # both coherences non-zero, S1 not maximally mixed: the optimal measurement direction is
    # tilted (neither along z nor in the x-y plane), the hard case for a numerical search
    ((0.10, 0.30, 0.25, 0.35), 0.12 * np.exp(0.4j), 0.15 * np.exp(-1.1j)),
    ((0.40, 0.10, 0.20, 0.30), 0.25 * np.exp(2.0j), 0.08j),        # entangled, T33^2 largest
    ((0.05, 0.45, 0.30, 0.20), 0.06, 0.33 * np.exp(0.3j)),          # entangled
    ((0.30, 0.20, 0.20, 0.30), 0.0, 0.1),                            # w = 0 as in the cascade
], ids=["tilted-optimum", "entangled-T33", "entangled-z", "w-zero"])
def test_tdd_closed_form_matches_brute_force_minimisation(pops, w, z):
    # Closed form of Ciccarello, Tufarelli & Giovannetti, NJP 16, 013038 (2014), against a
    # direct minimisation of (1/2)||rho - chi||_1 over all classical-quantum states chi (eq 43).
    rho = x_state(pops, w, z)
    closed = cr.trace_distance_discord(rho)
    numerical = cr.trace_distance_discord(rho, method="numerical")
    assert numerical == pytest.approx(closed, abs=1e-8)
    assert numerical >= closed - 1e-12  # the brute force returns a real CQ state's distance


def test_tdd_is_invariant_under_local_unitaries_numerical_on_non_x_state():
    rng = np.random.default_rng(8)
    c = (0.5, -0.2, 0.1)
    u = np.kron(random_unitary(rng), random_unitary(rng))
    rho = u @ bell_diagonal(c) @ u.conj().T
    assert not cr.is_x_state(rho)
    with pytest.raises(ValueError, match="X state"):
        cr.trace_distance_discord(rho)
    assert cr.trace_distance_discord(rho, method="numerical") == pytest.approx(0.1, abs=1e-8)


def test_tdd_product_and_classical_quantum_states_are_zero():
    assert cr.trace_distance_discord(np.kron(qubit_thermal(0.3), qubit_thermal(0.8))) == 0.0
    rng = np.random.default_rng(9)
    u = random_unitary(rng)
    product = np.kron(random_mixed(rng), random_mixed(rng))      # not an X state
    cq = 0.4 * np.kron(proj(u[:, 0]), random_mixed(rng)) + 0.6 * np.kron(proj(u[:, 1]),
                                                                         random_mixed(rng))
    assert cr.trace_distance_discord(product, method="numerical") == pytest.approx(0.0, abs=1e-9)
    assert cr.trace_distance_discord(cq, method="numerical") == pytest.approx(0.0, abs=1e-9)


# Cascaded qubit master equation built here from the paper's eqs 6-8 (physical units), so the
# heat-flux/TDD relation is checked independently of the package's own Liouvillian.
_SM = np.array([[0, 1], [0, 0]], dtype=complex)   # sigma_- = |g><e|
_SZ = np.diag([-1.0, 1.0]).astype(complex)       # |e><e| - |g><g|
_I2 = np.eye(2)


def _spre(a):
    return np.kron(a, np.eye(4))


def _spost(a):
    return np.kron(np.eye(4), a.T)


def cascade_generators(xi, gamma, omega):
    """(full generator, D12) as 16x16 matrices acting on row-major vec(rho)."""
    s1m, s2m = np.kron(_SM, _I2), np.kron(_I2, _SM)
    s1p, s2p = s1m.conj().T, s2m.conj().T
    g_dn, g_up = gamma * (1 + xi) / 2, gamma * (1 - xi) / 2
    ham = omega / 2 * (np.kron(_SZ, _I2) + np.kron(_I2, _SZ))
    gen = -1j * (_spre(ham) - _spost(ham))
    for c, rate in ((s1m, g_dn), (s1p, g_up), (s2m, g_dn), (s2p, g_up)):   # eq 7
        cd_c = c.conj().T @ c
        gen = gen + rate * (_spre(c) @ _spost(c.conj().T) - 0.5 * _spre(cd_c) - 0.5 * _spost(cd_c))
    # eq 8: g_dn (s1- [rho, s2+] + [s2-, rho] s1+) + g_up (s1+ [rho, s2-] + [s2+, rho] s1-)
    d12 = (g_dn * (_spre(s1m) @ _spost(s2p) - _spre(s1m @ s2p) + _spre(s2m) @ _spost(s1p)
                   - _spost(s2m @ s1p))
           + g_up * (_spre(s1p) @ _spost(s2m) - _spre(s1p @ s2m) + _spre(s2p) @ _spost(s1m)
                     - _spost(s2p @ s1m)))
    return gen + d12, d12


def correlated_flux(rho, d12, omega):
    """J12 = -Tr[H2 D12(rho)] (J > 0: heat into the reservoir), H2 = (omega/2) sigma_z,2."""
    h2 = omega / 2 * np.kron(_I2, _SZ)
    return -np.trace(h2 @ (d12 @ rho.reshape(-1)).reshape(4, 4)).real


@pytest.mark.parametrize(("xi", "xi1", "xi2", "gamma", "omega"), [
    (1.0, 0.25, 0.25, 1.0, 1.0),     # T = 0 reservoir, equal local temperatures
    (0.6, 0.2, 0.9, 1.3, 0.8),       # finite T, different local temperatures, non-unit units
    (0.3, 0.95, 0.0, 0.7, 2.0),
], ids=["T0", "finiteT", "hot-S2"])
def test_correlated_heat_flux_equals_tdd_relation_eq45(xi, xi1, xi2, gamma, omega):
    # Paper eq 45 in physical units (DESIGN.md section 3): |J12(t)| = 2 xi gamma omega D_->
    gen, d12 = cascade_generators(xi, gamma, omega)
    rho0 = np.kron(qubit_thermal(xi1), qubit_thermal(xi2))
    fluxes = []
    for t in (0.0, 0.2, 0.7, 1.5, 4.0):
        rho = (linalg.expm(gen * t) @ rho0.reshape(-1)).reshape(4, 4)
        assert cr.is_x_state(rho)
        j12 = correlated_flux(rho, d12, omega)
        assert cr.correlated_heat_flux_from_tdd(rho, xi, gamma, omega) == pytest.approx(
            abs(j12), rel=1e-9, abs=1e-13)
        fluxes.append(abs(j12))
    assert fluxes[0] == 0.0 and max(fluxes) > 1e-2  # not trivially 0 = 0


def test_paper_eq46_counterexample_discord_without_correlated_flux():
    # Paper eqs 46-47: S1 pure with thermal populations (coherent), S2 thermal.  Then
    # J12(t) = 0 identically, yet D_->(rho(t)) > 0: eq 45 does not extend to such states.
    xi, xi2 = 0.6, 0.3
    gen, d12 = cascade_generators(xi, 1.0, 1.0)
    psi = np.array([np.sqrt((1 + xi) / 2), np.sqrt((1 - xi) / 2)])
    rho0 = np.kron(proj(psi), qubit_thermal(xi2))
    rho = (linalg.expm(gen * 1.0) @ rho0.reshape(-1)).reshape(4, 4)
    assert correlated_flux(rho, d12, 1.0) == pytest.approx(0.0, abs=1e-14)
    assert not cr.is_x_state(rho)
    assert cr.trace_distance_discord(rho, method="numerical") > 0.01


# --- Gaussian states ----------------------------------------------------------------------

@pytest.mark.parametrize("r", [0.1, 0.5, 1.0, 1.5])
def test_two_mode_squeezed_vacuum(r):
    cov = tmsv(r)
    # log-negativity = 2r (natural log); Adesso & Datta PRL 105, 030501 (2010): for pure
    # states the Gaussian discord equals the entanglement entropy f(cosh 2r), both sides.
    assert cr.log_negativity(cov) == pytest.approx(2 * r, abs=1e-9)
    n = np.sinh(r) ** 2  # reduced state: thermal with occupation sinh^2 r
    entropy = (n + 1) * np.log2(n + 1) - n * np.log2(n)
    assert h_bits(np.cosh(2 * r)) == pytest.approx(entropy, rel=1e-12)
    assert cr.gaussian_discord(cov, "A") == pytest.approx(entropy, abs=1e-11)
    assert cr.gaussian_discord(cov, "B") == pytest.approx(entropy, abs=1e-11)
    assert cr.gaussian_mutual_information(cov) == pytest.approx(2 * entropy, abs=1e-11)
    inv = cr.symplectic_invariants(cov)
    assert inv.I1 == pytest.approx(np.cosh(2 * r) ** 2)
    assert inv.I3 == pytest.approx(-np.sinh(2 * r) ** 2)
    assert inv.I4 == pytest.approx(1.0)
    np.testing.assert_allclose(cr.gaussian_symplectic_eigenvalues(cov), (0.5, 0.5), atol=1e-12)


@pytest.mark.parametrize(("n1", "n2"), [(0.0, 0.0), (1.0, 1.0), (0.3, 2.5)],
                         ids=["vacuum", "equal", "different"])
def test_product_thermal_states(n1, n2):
    cov = np.diag([n1 + 0.5, n1 + 0.5, n2 + 0.5, n2 + 0.5])
    assert cr.gaussian_discord(cov, "A") == pytest.approx(0.0, abs=1e-12)
    assert cr.gaussian_discord(cov, "B") == pytest.approx(0.0, abs=1e-12)
    assert cr.log_negativity(cov) == 0.0
    assert cr.gaussian_mutual_information(cov) == pytest.approx(0.0, abs=1e-12)
    # symplectic eigenvalues of thermal states: N + 1/2
    np.testing.assert_allclose(cr.gaussian_symplectic_eigenvalues(cov),
                               sorted((n1 + 0.5, n2 + 0.5)), atol=1e-12)
    np.testing.assert_allclose(cr.gaussian_symplectic_eigenvalues(gaussian_thermal(n1)),
                               (n1 + 0.5, n1 + 0.5), atol=1e-12)


def test_symplectic_eigenvalues_match_eq_f5_and_direct_diagonalisation():
    rng = np.random.default_rng(10)
    for _ in range(10):
        cov = random_covariance(rng)
        nu = cr.gaussian_symplectic_eigenvalues(cov)
        np.testing.assert_allclose(nu, symplectic_eigenvalues(cov), rtol=1e-8)
        # eq F5 with the vacuum-normalised invariants gives lambda_pm = 2 nu_pm
        inv = cr.symplectic_invariants(cov)
        assert inv.I1 == pytest.approx(4 * np.linalg.det(cov[:2, :2]))
        assert inv.I_delta == pytest.approx(inv.I1 + inv.I2 + 2 * inv.I3)
        disc = np.sqrt(inv.I_delta**2 - 4 * inv.I4)
        lam = np.sqrt([(inv.I_delta - disc) / 2, (inv.I_delta + disc) / 2])
        np.testing.assert_allclose(lam, 2 * np.array(nu), rtol=1e-8)
        # partial transpose = flip the sign of Y1
        flip = np.diag([1.0, -1.0, 1.0, 1.0])
        np.testing.assert_allclose(cr.gaussian_symplectic_eigenvalues(cov, partial_transpose=True),
                                   symplectic_eigenvalues(flip @ cov @ flip), rtol=1e-8)


@pytest.mark.parametrize("n_s", [0.5, 1.0, 3.0])
def test_paper_eq31_equal_correlations_discordant_but_not_entangled(n_s):
    # Paper Sec. V C: states (31) with C13 = C24 = c (|c| <= N_S, eq D5) are never entangled
    # but have non-zero Gaussian discord for c != 0.  Partial transpose: C24 -> -C24, with
    # symplectic eigenvalues sqrt((C11 - c)(C11 + c)) >= 1/2.
    c11 = n_s + 0.5
    for c in np.linspace(-n_s, n_s, 9):
        cov = gaussian_correlated(n_s, c, c)
        assert cr.log_negativity(cov) == 0.0
        nu_pt = cr.gaussian_symplectic_eigenvalues(cov, partial_transpose=True)
        np.testing.assert_allclose(nu_pt, np.sqrt(c11**2 - c**2), rtol=1e-9)
        d_a, d_b = cr.gaussian_discord(cov, "A"), cr.gaussian_discord(cov, "B")
        assert d_a == pytest.approx(d_b, abs=1e-10)
        if c == 0:
            assert d_a == pytest.approx(0.0, abs=1e-12)
        else:
            assert d_a > 1e-3


@pytest.mark.parametrize("c", [0.0, 0.5, 1.0, 1.3, 1.41])
def test_paper_eq31_epr_like_log_negativity(c):
    # C13 = -C24 = c (physical for c^2 <= N_S (N_S + 1)): partial transpose gives nu~_- =
    # C11 - |c|, so E_N = max(0, -ln(2 (C11 - |c|))); entangled only near the EPR corner
    n_s = 1.0
    cov = gaussian_correlated(n_s, c, -c)
    expected = max(0.0, -np.log(2 * (n_s + 0.5 - c)))
    assert cr.log_negativity(cov) == pytest.approx(expected, abs=1e-9)


def brute_force_w(cov):
    """min over pure Gaussian measurements on A of 4 det(sigma_{B|A}) (vacuum-normalised).

    sigma_{B|A} = C_B - C_AB^T (C_A + Gamma)^{-1} C_AB for a pure seed
    Gamma = R(phi) diag(e^{2r}, e^{-2r}) R(phi)^T / 2; homodyne (r -> infinity) separately.
    The 2x2 inverse is written out in the frame of the seed to stay accurate for large r.
    """
    a, b, x = cov[:2, :2], cov[2:, 2:], cov[:2, 2:]

    def rot(phi):
        return np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])

    def w_general(p):
        r, phi = p
        ap, xp = rot(phi).T @ a @ rot(phi), rot(phi).T @ x
        g1, g2 = np.exp(2 * r) / 2, np.exp(-2 * r) / 2
        det = (ap[0, 0] + g1) * (ap[1, 1] + g2) - ap[0, 1] ** 2
        inv = np.array([[ap[1, 1] + g2, -ap[0, 1]], [-ap[0, 1], ap[0, 0] + g1]]) / det
        return 4 * np.linalg.det(b - xp.T @ inv @ xp)

    def w_homodyne(phi):
        u = np.array([np.cos(phi), np.sin(phi)])
        v = x.T @ u
        return 4 * np.linalg.det(b - np.outer(v, v) / (u @ a @ u))

    phis = np.linspace(0, np.pi, 360, endpoint=False)
    hom = np.array([w_homodyne(p) for p in phis])
    best = min(optimize.minimize_scalar(w_homodyne, bounds=(p - 0.01, p + 0.01), method="bounded",
                                        options={"xatol": 1e-12}).fun
               for p in phis[np.argsort(hom)[:2]])
    grid = [(r, p) for r in np.linspace(0, 5, 26) for p in np.linspace(0, np.pi, 36,
                                                                       endpoint=False)]
    vals = np.array([w_general(g) for g in grid])
    for i in np.argsort(vals)[:3]:
        res = optimize.minimize(w_general, grid[i], method="Nelder-Mead",
                                options={"xatol": 1e-12, "fatol": 1e-15})
        best = min(best, res.fun)
    return best


def test_gaussian_discord_f8_matches_brute_force_over_gaussian_measurements():
    # D_G(B|A) = f(sqrt I1) - f(2 nu_-) - f(2 nu_+) + f(sqrt W_min): W_min from eq F8 against
    # a direct minimisation over all pure Gaussian measurements on A; symplectic eigenvalues
    # from direct diagonalisation.  Both branches of eq F8 are exercised.
    rng = np.random.default_rng(1)  # 5 states x 2 sides: 5 heterodyne-like, 5 homodyne cases
    branches = set()
    for _ in range(5):
        cov = random_covariance(rng)
        for side in ("A", "B"):
            c = cov if side == "A" else cov[np.ix_([2, 3, 0, 1], [2, 3, 0, 1])]
            i1, i2 = 4 * np.linalg.det(c[:2, :2]), 4 * np.linalg.det(c[2:, 2:])
            i3, i4 = 4 * np.linalg.det(c[:2, 2:]), 16 * np.linalg.det(c)
            branches.add(bool((i4 - i1 * i2) ** 2 <= (1 + i1) * i3**2 * (i2 + i4)))
            nu = symplectic_eigenvalues(c)
            expected = (h_bits(np.sqrt(i1)) - h_bits(2 * nu[0]) - h_bits(2 * nu[1])
                        + h_bits(np.sqrt(brute_force_w(c))))
            assert cr.gaussian_discord(cov, side) == pytest.approx(expected, abs=1e-8)
    assert branches == {True, False}


@pytest.mark.parametrize(("cov", "expected"), [
    (np.eye(4) / 2, True),                                     # vacuum
    (gaussian_thermal(1.3), True),
    (tmsv(1.2), True),                                         # pure, entangled
    (0.4 * np.eye(4), False),                                  # below the vacuum
    (np.diag([2.0, 0.1, 0.5, 0.5]), False),                    # Delta X Delta Y < 1/2
    (np.array([[1.5, 0, 1.2, 0], [0, 1.5, 0, 1.2],            # eq 31, N_S = 1, C13 = C24 =
               [1.2, 0, 1.5, 0], [0, 1.2, 0, 1.5]]), False),   # 1.2 > N_S: violates D5
    (np.array([[1.0, 0.3, 0, 0], [0.2, 1.0, 0, 0],            # not symmetric
               [0, 0, 1.0, 0], [0, 0, 0, 1.0]]), False),
], ids=["vacuum", "thermal", "tmsv", "sub-vacuum", "uncertainty", "eq31-beyond-D5", "asymmetric"])
def test_is_physical_covariance(cov, expected):
    assert cr.is_physical_covariance(cov) is expected


# --- bad input ---------------------------------------------------------------------------------

_ASYM = np.zeros((4, 4))
_ASYM[0, 1] = 0.3
_NON_X = bell_diagonal((0.5, -0.2, 0.1)) + 0.05 * (np.kron(PAULI[0], np.eye(2)) / 4)


@pytest.mark.parametrize(("func", "args", "match"), [
    (cr.concurrence, (np.eye(2) / 2,), "4x4"),
    (cr.concurrence, (2 * np.eye(4) / 4,), "unit trace"),
    (cr.concurrence, (np.diag([1.2, -0.2, 0.0, 0.0]),), "positive semidefinite"),
    (cr.concurrence_x_state, (_NON_X,), "X state"),
    (cr.quantum_discord, (np.eye(8) / 8,), "4x4"),
    (cr.quantum_discord, (np.eye(4) / 4, "C"), "measured must be"),
    (cr.trace_distance_discord, (_NON_X,), "X state"),
    (cr.trace_distance_discord, (np.eye(4) / 4, "exact"), "method must be"),
    (cr.is_x_state, (np.eye(3),), "4x4"),
    (cr.von_neumann_entropy, (np.eye(2) / 2, 1.0), "base"),
    (cr.correlated_heat_flux_from_tdd, (np.eye(4) / 4, 1.5), "xi"),
    (cr.correlated_heat_flux_from_tdd, (np.eye(4) / 4, 0.5, -1.0), "gamma"),
    (cr.log_negativity, (np.eye(2) / 2,), "4x4"),
    (cr.gaussian_discord, (0.4 * np.eye(4),), "uncertainty"),
    (cr.gaussian_discord, (np.eye(4) / 2, "both"), "measured must be"),
    (cr.symplectic_invariants, (np.eye(4) + _ASYM,), "symmetric"),
    (cr.is_physical_covariance, (np.eye(3),), "even size"),
], ids=["conc-shape", "conc-trace", "conc-negative", "concx-nonX", "qd-shape", "qd-side",
        "tdd-nonX", "tdd-method", "isx-shape", "entropy-base", "flux-xi", "flux-gamma",
        "logneg-shape", "gd-unphysical", "gd-side", "inv-asym", "phys-shape"])
def test_bad_input_raises_readable_value_error(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)
