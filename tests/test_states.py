"""Initial states and input validation: every bad input raises a readable ValueError."""

from __future__ import annotations

import numpy as np
import pytest

from lindblad import states
from lindblad.model import CascadeMasterEquation
from lindblad.operators import paper_qubit_order
from lindblad.thermal import qubit_polarisation

QUBITS = CascadeMasterEquation("qubit")
RHO_2Q = states.product(states.thermal("qubit", 1.0), states.thermal("qubit", 1.0))


# --- bad input ------------------------------------------------------------------------------

BAD = [
    # density matrices
    ("not-hermitian", lambda: states.validate_density_matrix([[0.5, 0.1], [0.3, 0.5]]),
     "not Hermitian"),
    ("not-positive", lambda: states.validate_density_matrix([[1.2, 0.0], [0.0, -0.2]]),
     "not positive semidefinite"),
    ("not-positive-coherence", lambda: states.validate_density_matrix([[0.5, 0.7], [0.7, 0.5]]),
     "not positive semidefinite"),
    ("trace-2", lambda: states.validate_density_matrix(np.eye(2)), "unit trace"),
    ("vector", lambda: states.validate_density_matrix(np.ones(3) / 3), "square matrix"),
    ("rectangular", lambda: states.validate_density_matrix(np.ones((2, 3))), "square matrix"),
    ("nan", lambda: states.validate_density_matrix([[np.nan, 0], [0, 1.0]]), "non-finite"),
    ("inf", lambda: states.validate_density_matrix([[np.inf, 0], [0, 1.0]]), "non-finite"),
    ("strings", lambda: states.validate_density_matrix([["a", "b"], ["c", "d"]]),
     "must be numeric"),
    ("dim-mismatch", lambda: states.validate_density_matrix(np.eye(2) / 2, dim=4),
     "has dimension 2, but this system's Hilbert space has dimension 4"),
    ("model-wrong-dim", lambda: QUBITS.evolve(np.eye(2) / 2, [0.0]), r"shape \(2, 2\).*is \(4, 4\)"),
    ("model-not-state", lambda: QUBITS.heat_fluxes(np.eye(4), [0.0]), "unit trace"),
    ("product-empty", lambda: states.product(), "at least one state"),
    ("product-bad-factor", lambda: states.product(np.eye(2) / 2, np.eye(2)),
     "state 2 must have unit trace"),
    # temperatures and model parameters
    ("thermal-T<0", lambda: states.thermal("qubit", -1.0), "temperature must be .* >= 0"),
    ("thermal-T-nan", lambda: states.thermal("qubit", np.nan), "temperature must be a finite"),
    ("model-T<0", lambda: CascadeMasterEquation("qubit", temperature=-0.1),
     "temperature must be .* >= 0"),
    ("oscillator-no-cutoff", lambda: CascadeMasterEquation("oscillator"), "needs a Fock cutoff"),
    ("thermal-oscillator-no-cutoff", lambda: states.thermal("oscillator", 1.0),
     "needs a Fock cutoff"),
    ("oscillator-cutoff-1", lambda: CascadeMasterEquation("oscillator", cutoff=1),
     "integer >= 2"),
    ("oscillator-cutoff-float", lambda: CascadeMasterEquation("oscillator", cutoff=4.5),
     "integer >= 2"),
    ("qubit-cutoff-3", lambda: CascadeMasterEquation("qubit", cutoff=3),
     "a qubit has dimension 2"),
    ("thermal-qubit-cutoff-3", lambda: states.thermal("qubit", 1.0, cutoff=3),
     "a qubit has dimension 2"),
    ("n_systems=1", lambda: CascadeMasterEquation("qubit", n_systems=1), "integer >= 2"),
    ("n_systems=2.5", lambda: CascadeMasterEquation("qubit", n_systems=2.5), "integer >= 2"),
    ("n_systems=True", lambda: CascadeMasterEquation("qubit", n_systems=True), "integer >= 2"),
    ("bad-bath", lambda: CascadeMasterEquation("qubit", bath="fermion"), "bath must be one of"),
    ("bad-system", lambda: CascadeMasterEquation("spin"), "system must be one of"),
    ("thermal-bad-system", lambda: states.thermal("spin", 1.0), "system must be one of"),
    ("gamma=0", lambda: CascadeMasterEquation("qubit", gamma=0.0), "gamma must be .* > 0"),
    ("gamma<0", lambda: CascadeMasterEquation("qubit", gamma=-1.0), "gamma must be .* > 0"),
    ("omega=0", lambda: CascadeMasterEquation("qubit", omega=0.0), "omega must be .* > 0"),
    # eq 41-42
    ("rho23-above-eq42", lambda: states.correlated_qubits(0.5, 0.76), "eq 42"),
    ("rho23-complex-above-eq42", lambda: states.correlated_qubits(0.0, 0.8 + 0.7j), "eq 42"),
    ("xi_s>1", lambda: states.correlated_qubits(1.2, 0.0), r"xi_s must lie in \[0, 1\]"),
    ("xi_s<0", lambda: states.correlated_qubits(-0.1, 0.0), r"xi_s must lie in \[0, 1\]"),
    # covariance matrices, eqs D2-D5
    ("D3-C13>=C11", lambda: states.gaussian_correlated(1.0, 1.6, 0.0), "eq D3"),
    ("D3-C24>=C11", lambda: states.gaussian_correlated(1.0, 0.0, -1.5), "eq D3"),
    ("D5-C13=C24>Ns", lambda: states.gaussian_correlated(1.0, 1.2, 1.2), r"eq D4.*eq D5"),
    ("D5-C13=C24<-Ns", lambda: states.gaussian_correlated(0.5, -0.6, -0.6), r"eq D4.*eq D5"),
    ("D4-C13=-C24-beyond-EPR", lambda: states.gaussian_correlated(1.0, 1.42, -1.42), "eq D4"),
    ("D2-below-vacuum", lambda: states.validate_covariance(0.4 * np.eye(4)),
     "uncertainty principle"),
    ("cov-not-symmetric", lambda: states.validate_covariance(
        np.eye(4) + np.diag([0.1, 0.0, 0.0], 1)), "not symmetric"),
    ("cov-odd-size", lambda: states.validate_covariance(np.eye(3)), "even size"),
    ("cov-wrong-modes", lambda: states.validate_covariance(np.eye(4), n_modes=3),
     r"expected \(6, 6\)"),
    ("cov-complex", lambda: states.validate_covariance(np.eye(4) * (1 + 1j)), "must be real"),
    ("cov-nan", lambda: states.validate_covariance(np.full((2, 2), np.nan)), "non-finite"),
    ("gaussian-n_s<0", lambda: states.gaussian_thermal(-0.1), "n_s .* >= 0"),
    ("gaussian-n_systems=0", lambda: states.gaussian_thermal(1.0, 0), "positive integer"),
    # time grids
    ("times-unsorted", lambda: QUBITS.evolve(RHO_2Q, [0.0, 2.0, 1.0]), "sorted"),
    ("times-negative", lambda: QUBITS.heat_fluxes(RHO_2Q, [-1.0, 0.0]), "finite and >= 0"),
    ("times-nan", lambda: QUBITS.heat_fluxes(RHO_2Q, [0.0, np.nan]), "finite and >= 0"),
    ("times-empty", lambda: QUBITS.evolve(RHO_2Q, []), "non-empty 1-d"),
    ("times-2d", lambda: QUBITS.evolve(RHO_2Q, np.zeros((2, 2))), "non-empty 1-d"),
]


@pytest.mark.parametrize("call, match", [pytest.param(c, m, id=i) for i, c, m in BAD])
def test_bad_input_raises_a_readable_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_messages_say_what_is_allowed():
    """Spot-check that messages name the offending value and the allowed range."""
    with pytest.raises(ValueError) as err:
        states.correlated_qubits(0.5, 0.9)
    assert "0.9" in str(err.value) and "0.75" in str(err.value)
    with pytest.raises(ValueError) as err:
        CascadeMasterEquation("qubit", bath="fermion")
    assert "'fermion'" in str(err.value) and "'boson'" in str(err.value)
    with pytest.raises(ValueError) as err:
        states.validate_density_matrix([[1.2, 0.0], [0.0, -0.2]])
    assert "-0.2" in str(err.value)


# --- good input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 0.3, 1.0, 5.0], ids=lambda t: f"T={t}")
def test_thermal_states(temperature):
    q = states.thermal("qubit", temperature)
    xi = qubit_polarisation(temperature)
    assert np.allclose(q, np.diag([(1 + xi) / 2, (1 - xi) / 2]), atol=1e-15)  # |g>, |e>
    # <H> = (omega/2) <sigma_z> = -xi/2
    assert np.trace(q @ np.diag([-0.5, 0.5])).real == pytest.approx(-xi / 2)
    osc = states.thermal("oscillator", temperature, cutoff=8)
    states.validate_density_matrix(osc, dim=8)
    p = np.diag(osc).real
    if temperature == 0:
        assert p[0] == 1.0 and np.all(p[1:] == 0)
    else:  # truncated Gibbs: ratio exp(-omega/T) between neighbours
        assert np.allclose(p[1:] / p[:-1], np.exp(-1.0 / temperature), rtol=1e-12)


def test_product_order_is_s1_most_significant():
    e, g = np.diag([0.0, 1.0]), np.diag([1.0, 0.0])
    rho = states.product(e, g)  # |eg>: S1 excited
    assert rho[2, 2] == 1.0  # index n1 * 2 + n2 = 2
    assert QUBITS.energies(rho) == pytest.approx([0.5, -0.5])


@pytest.mark.parametrize("xi_s, rho23", [(0.25, 0.0), (0.25, 0.9375), (0.25, -0.5 + 0.3j),
                                         (0.0, 1.0), (0.0, 1j), (1.0, 0.0)],
                         ids=["thermal", "edge+", "complex", "xi0-edge", "xi0-imag", "ground"])
def test_correlated_qubits_eq_41(xi_s, rho23):
    rho = states.correlated_qubits(xi_s, rho23)
    states.validate_density_matrix(rho, dim=4)
    # documented element: <eg|rho|ge> = rho23 / 4 (ours: |eg> = 2, |ge> = 1)
    assert rho[2, 1] == pytest.approx(rho23 / 4, abs=1e-16)
    assert rho[1, 2] == pytest.approx(np.conj(rho23) / 4, abs=1e-16)
    # the paper's excited-first matrix of eq 41, permuted to our basis
    paper = np.array([[(1 - xi_s) ** 2, 0, 0, 0],
                      [0, 1 - xi_s**2, rho23, 0],
                      [0, np.conj(rho23), 1 - xi_s**2, 0],
                      [0, 0, 0, (1 + xi_s) ** 2]]) / 4
    p = paper_qubit_order(2)
    assert np.allclose(rho, paper[np.ix_(p, p)], atol=1e-16)
    # locally thermal at xi_s (eqs 39-40): both marginals diag((1 + xi_s)/2, (1 - xi_s)/2)
    r = rho.reshape(2, 2, 2, 2)
    thermal = np.diag([(1 + xi_s) / 2, (1 - xi_s) / 2])
    assert np.allclose(np.einsum("ikjk->ij", r), thermal, atol=1e-16)
    assert np.allclose(np.einsum("kikj->ij", r), thermal, atol=1e-16)
    # positivity bound of eq 42 is tight: the smallest eigenvalue is (1 - xi^2 - |rho23|)/4
    assert np.linalg.eigvalsh(rho)[0] == pytest.approx(
        min((1 - xi_s**2 - abs(rho23)) / 4, (1 - xi_s) ** 2 / 4), abs=1e-15)


@pytest.mark.parametrize("n_s, c13, c24", [(1.0, 0.0, 0.0), (1.0, 0.7, 0.7), (1.0, -1.0, -1.0),
                                           (1.0, np.sqrt(2.0), -np.sqrt(2.0)), (0.5, 0.3, -0.1)],
                         ids=["product", "c=0.7", "c=-Ns(edge)", "EPR-edge", "asymmetric"])
def test_gaussian_correlated_eq_31(n_s, c13, c24):
    cov = states.gaussian_correlated(n_s, c13, c24)
    expected = (n_s + 0.5) * np.eye(4)
    expected[0, 2] = expected[2, 0] = c13
    expected[1, 3] = expected[3, 1] = c24
    assert np.array_equal(cov, expected)
    assert states.symplectic_eigenvalues(cov).min() >= 0.5 - 1e-12  # eq D4
    assert np.allclose(states.gaussian_mean_occupations(cov), [n_s, n_s])
    states.validate_covariance(cov, n_modes=2)


def test_gaussian_thermal():
    cov = states.gaussian_thermal(0.4, n_systems=3)
    assert cov.shape == (6, 6) and np.array_equal(cov, 0.9 * np.eye(6))
    assert np.allclose(states.symplectic_eigenvalues(cov), 0.9)
    assert np.allclose(states.symplectic_eigenvalues(states.gaussian_thermal(0.0)), 0.5)


def test_validate_density_matrix_returns_complex_copy():
    rho = states.validate_density_matrix([[0.25, 0.0], [0.0, 0.75]], dim=2)
    assert rho.dtype == complex and rho.shape == (2, 2)
    # a tiny (round-off) negative eigenvalue is tolerated, a real one is not
    states.validate_density_matrix(np.diag([1.0 + 1e-12, -1e-12]))


@pytest.mark.parametrize("n_s", [0.3, 1.0, 4.0], ids=lambda n: f"N_S={n}")
def test_gaussian_correlated_accepts_the_two_mode_squeezed_vacuum(n_s):
    # C13 = -C24 = sqrt(N_S (N_S + 1)) is pure: nu_- = 1/2 exactly (eq D4 on its boundary);
    # the invariant formula of D4 loses ~1e-9 to cancellation here.
    c = np.sqrt(n_s * (n_s + 1))
    cov = states.gaussian_correlated(n_s, c, -c)
    np.testing.assert_allclose(states.symplectic_eigenvalues(cov), [0.5, 0.5], atol=1e-12)
