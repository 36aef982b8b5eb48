"""Richardson extrapolation in dt (collision.extrapolate): second order, with an error
estimate that bounds the true error."""

import warnings

import numpy as np
import pytest

import collision
from lindblad import states

DTS = [0.04, 0.02, 0.01]


def _density_case():
    model = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.correlated_qubits(0.3, 0.5)
    ref = model.master_equation()
    return (lambda dt, **kw: model.run(rho0, 2.0, dt, save_every=int(round(0.2 / dt)), **kw),
            lambda t: ref.heat_fluxes(rho0, t))


def _gaussian_case():
    model = collision.GaussianCollisionModel(3, temperature=0.5)
    cov0 = states.gaussian_thermal(1.5, 3)
    ref = model.master_equation()
    return (lambda dt, **kw: model.run(cov0, 2.0, dt, save_every=int(round(0.2 / dt)), **kw),
            lambda t: ref.heat_fluxes(cov0, t))


@pytest.mark.parametrize("case", [_density_case, _gaussian_case], ids=["density", "gaussian"])
def test_extrapolation_is_second_order_and_its_estimate_bounds_the_error(case):
    run, reference = case()
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", collision.AccuracyWarning)
        for dt in DTS:
            res = run(dt, extrapolate=True)
            ref = reference(res.t)
            true = np.abs(res.subsystem - ref.subsystem)
            errors.append(true.max())
            # the estimate J(dt) - J(dt/2) bounds the extrapolated result's error
            assert np.all(true <= np.abs(res.dt_error.subsystem) + 1e-12)
            assert res.parameters["extrapolate"] and res.parameters["dt"] == dt
    order = np.polyfit(np.log(DTS), np.log(errors), 1)[0]
    assert order >= 1.8


def test_extrapolation_is_refused_for_trajectories():
    model = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    with pytest.raises(ValueError, match="extrapolate=True applies to method='density'"):
        model.run(rho0, 1.0, 0.01, method="trajectories", n_trajectories=64, extrapolate=True)
    with pytest.raises(ValueError, match="extrapolate"):
        model.run(rho0, 1.0, 0.01, extrapolate="yes")


def test_extrapolated_state_is_second_order_too():
    model = collision.CascadeCollisionModel("qubit", temperature=0.5, delay=0.2)
    rho0 = states.correlated_qubits(0.3, 0.5)
    exact = model.master_equation().evolve(rho0, [1.0])[0]
    errs = []
    for dt in (0.02, 0.01):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", collision.AccuracyWarning)
            res = model.run(rho0, 1.0, dt, extrapolate=True)
        errs.append(np.abs(res.final_state - exact).max())
        assert res.in_flight is not None
    assert errs[0] / errs[1] > 3.5  # second order: 4x per halving


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_heat_statistics_extrapolate_to_second_order(cascade):
    """``heat_statistics(..., extrapolate=True)``: P(q, t) and its cumulants against the
    master equation's counting statistics (the tilted generator, exact), second order in
    dt, with ``dt_error`` bounding the true error; the joint distribution of independent
    reservoirs is extrapolated too."""
    model = collision.CascadeCollisionModel("qubit", temperature=1.0, cascade=cascade)
    rho0 = states.correlated_qubits(0.3, 0.5)
    dts = [0.04, 0.02, 0.01]
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", collision.AccuracyWarning)
        for dt in dts:
            res = model.heat_statistics(rho0, 1.0, dt, save_every=int(round(0.2 / dt)),
                                        extrapolate=True)
            ref = model.master_equation().heat_statistics(rho0, res.t)
            true = np.abs(res.probabilities - ref.probabilities)
            errors.append(true.max())
            assert np.all(true <= np.abs(res.dt_error.probabilities) + 1e-12)
            true_k = np.abs(res.cumulants[:, :2] - ref.cumulants[:, :2])
            assert np.all(true_k <= np.abs(res.dt_error.cumulants[:, :2]) + 1e-12)
            np.testing.assert_allclose(res.probabilities.sum(axis=1), 1.0, atol=1e-12)
            assert res.parameters["extrapolate"] and res.parameters["dt"] == dt
            assert (res.joint is None) == cascade
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert order >= 1.8


def test_heat_statistics_extrapolation_is_refused_for_trajectories():
    model = collision.CascadeCollisionModel("qubit", temperature=1.0)
    with pytest.raises(ValueError, match="extrapolate=True applies to method='density'"):
        model.heat_statistics(states.correlated_qubits(0.3, 0.5), 0.2, 0.01,
                              method="trajectories", n_trajectories=64, extrapolate=True)
