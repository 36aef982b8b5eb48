"""The heat-statistics study: its states, the corrected fluctuation theorem, its files."""

import math

import numpy as np
import pytest

import collision
from collision.studies import heat_statistics as study
from lindblad import states
from lindblad.counting import HeatStatistics
from lindblad.operators import lowering
from lindblad.thermal import temperature_from_polarisation

pytestmark = pytest.mark.filterwarnings("ignore::collision.AccuracyWarning",
                                        "ignore::collision.TruncationWarning")


def _quadratures(rho, d):
    a = lowering(d).toarray()
    eye = np.eye(d)
    ops = []
    for b in (np.kron(a, eye), np.kron(eye, a)):
        ops += [(b + b.T) / math.sqrt(2), 1j * (b.T - b) / math.sqrt(2)]
    return np.array([[np.trace(rho @ (x @ y + y @ x) / 2).real for y in ops] for x in ops])


@pytest.mark.parametrize("c", [-0.7, 0.0, 0.7])
def test_correlated_oscillators_have_the_covariance_of_eq31(c):
    """Within the truncated weight (times the largest occupation it could carry)."""
    cutoff = 22
    rho, lost = study.correlated_oscillators(1.0, c, cutoff)
    assert lost < 2e-4
    states.validate_density_matrix(rho, cutoff**2)
    cov = _quadratures(rho, cutoff)
    np.testing.assert_allclose(cov, states.gaussian_correlated(1.0, c, c), atol=100 * lost)


def test_final_heat_at_zero_temperature_is_the_initial_excitation_number():
    """At T = 0 every quantum ends in the reservoir: P(q, infinity) is the distribution
    of the initial excitation number, whose variance for the beam-splitter correlations
    is 2 N_S (N_S + 1) + 2 c^2 (two thermal numbers N_S +/- c)."""
    n_s, c, cutoff = 0.4, 0.2, 10
    rho, lost = study.correlated_oscillators(n_s, c, cutoff)
    me = collision.CascadeCollisionModel("oscillator", cutoff=cutoff).master_equation()
    res = me.heat_statistics(rho, [0.0, 40.0])
    n_exc = np.add.outer(np.arange(cutoff), np.arange(cutoff)).ravel()
    p_n = np.bincount(n_exc, weights=np.diag(rho).real, minlength=2 * cutoff - 1)
    np.testing.assert_allclose(res.probabilities[-1, res.quanta >= 0], p_n, atol=1e-12)
    assert lost < 1e-4
    assert res.variance[-1] == pytest.approx(2 * n_s * (n_s + 1) + 2 * c**2, abs=1e-3)


@pytest.mark.parametrize("c", [-0.5, 0.5])
def test_mean_heat_of_correlated_oscillators_matches_the_gaussian_reference(c):
    """kappa_1(t) of the Fock-space state against the integral of the exact Gaussian
    total flux (trapezoid on a 1e-3 grid: error ~1e-7; truncation: weight ~1e-5)."""
    from scipy.integrate import cumulative_trapezoid

    import lindblad

    rho, _ = study.correlated_oscillators(0.5, c, 16)
    me = collision.CascadeCollisionModel("oscillator", cutoff=16).master_equation()
    res = me.heat_statistics(rho, [0.0, 0.5, 1.0])
    t = np.linspace(0.0, 1.0, 1001)
    flux = lindblad.GaussianMasterEquation().heat_fluxes(
        states.gaussian_correlated(0.5, c, c), t)
    heat = cumulative_trapezoid(flux.total, t, initial=0.0)[::500]
    np.testing.assert_allclose(res.mean, heat, atol=1e-4)


def _three_qubits_correlated():
    """Three qubits, thermal populations, a coherence |gge> <-> |egg> (not symmetric under
    reversing the chain: tests the permutation V)."""
    rho = states.product(*[states.thermal("qubit", 1.5)] * 3).astype(complex)
    i, j = 0b001, 0b100
    rho[i, j] = 0.3 * rho[i, i].real
    rho[j, i] = np.conj(rho[i, j])
    return rho


CORRECTION_CASES = [
    ("qubit", 2, None, 1.0, temperature_from_polarisation(0.25),
     states.correlated_qubits(0.25, 0.75)),
    ("qubit", 2, None, 0.5, temperature_from_polarisation(0.5),
     states.correlated_qubits(0.5, -0.3 + 0.4j)),
    ("qubit", 3, None, 0.8, 1.5, _three_qubits_correlated()),
    ("oscillator", 2, 3, 0.8, 0.8, None),
]


@pytest.mark.parametrize("system, n, cutoff, temp, temp_s, rho0", CORRECTION_CASES,
                         ids=["eq41", "eq41-complex", "3-qubits", "oscillators"])
@pytest.mark.parametrize("engine", ["collisions", "master-equation"])
def test_corrected_fluctuation_theorem_is_exact(system, n, cutoff, temp, temp_s, rho0,
                                                engine):
    """P(q, t; rho0) = e^{(beta - beta_S) omega q} Tr[R~ Phi_{-q}(gamma_S)], to rounding."""
    if rho0 is None:
        from tests.test_heat_statistics import _osc_correlated

        rho0 = _osc_correlated(cutoff)
    model = collision.CascadeCollisionModel(system, n, temperature=temp, cutoff=cutoff)
    times = np.array([0.0, 0.25, 0.5, 1.0])
    if engine == "collisions":
        res = model.heat_statistics(rho0, 1.0, 0.05, save_every=5)
        out = study.correlation_correction(model, rho0, temp_s, 1.0, 0.05, 5)
    else:
        res = model.master_equation().heat_statistics(rho0, times)
        out = study.correlation_correction(model, rho0, temp_s, 1.0, 0.05,
                                           master_equation=True, times=times)
    t, quanta, c, p_thermal = out
    np.testing.assert_allclose(t, res.t, atol=1e-12)
    slope = 1 / temp - 1 / temp_s
    np.testing.assert_allclose(np.exp(slope * quanta) * c[:, ::-1], res.probabilities,
                               rtol=0, atol=1e-12)
    # the plain theorem fails for these correlated states
    q, lr = res.log_ratio()
    assert np.nanmax(np.abs(lr - slope * q)) > 1e-3


def test_ratio_operator_is_the_identity_for_the_thermal_product():
    model = collision.CascadeCollisionModel("qubit", 3, temperature=1.0)
    gamma = states.product(*[states.thermal("qubit", 0.7)] * 3)
    np.testing.assert_allclose(study.ratio_operator(model, gamma, 0.7), np.eye(8), atol=1e-14)
    with pytest.raises(ValueError, match="temperature_s"):
        study.ratio_operator(model, gamma, 0.0)


def test_study_writes_its_report(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = study.make_study(tmp_path, quick=True)
    text = path.read_text()
    assert "exchange fluctuation theorem" in text
    assert (tmp_path / "fluctuation_theorem.png").exists()
    assert (tmp_path / "correlations_oscillator.png").exists()
    back = HeatStatistics.load(tmp_path / "theorem_rho23=0.75.csv")
    assert back.parameters["method"] == "density"
