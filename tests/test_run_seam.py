"""The run seam: engine options, the table of engines, models rebuilt from their record."""

import numpy as np
import pytest

import collision
import lindblad
from collision.drivers import ENGINES
from collision.options import (
    DensityOptions,
    GaussianOptions,
    TrajectoryOptions,
    engine_options,
    options_from_dict,
)
from lindblad import states

MODELS = {
    "qubit-collision": lambda: collision.CascadeCollisionModel("qubit", 3, 1.5, 2.0, 0.7,
                                                               cascade=False),
    "oscillator-collision": lambda: collision.CascadeCollisionModel(
        "oscillator", 2, temperature=0.5, cutoff=5, bath="qubit", bath_tol=1e-9),
    "gaussian-collision": lambda: collision.GaussianCollisionModel(4, 0.5, 1.0, 2.0),
    "qubit-lindblad": lambda: lindblad.CascadeMasterEquation("qubit", 2, temperature=1.0),
    "oscillator-lindblad": lambda: lindblad.CascadeMasterEquation("oscillator", cutoff=6,
                                                                  bath="boson"),
    "gaussian-lindblad": lambda: lindblad.GaussianMasterEquation(3, temperature=0.3,
                                                                 cascade=False),
}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_from_parameters_round_trips_every_model_kind(make):
    model = make()
    again = type(model).from_parameters(model.parameters)
    assert again.parameters == model.parameters and repr(again) == repr(model)


def test_a_result_says_how_to_reproduce_it():
    model = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    first = model.run(rho0, 0.5, 0.01, method="trajectories", n_trajectories=64, seed=3)
    rebuilt = collision.CascadeCollisionModel.from_parameters(first.parameters)
    options = options_from_dict(first.parameters["options"])
    assert options == TrajectoryOptions(n_trajectories=64, seed=3)
    again = rebuilt.run(rho0, first.parameters["t_max"], first.parameters["dt"],
                        method=options.method, options=options)
    np.testing.assert_array_equal(again.local, first.local)
    np.testing.assert_array_equal(again.correlated, first.correlated)


def test_every_engine_has_options_and_a_driver_or_a_model():
    assert set(ENGINES) == {"density", "trajectories", "gaussian"}
    for name, (cls, _) in ENGINES.items():
        assert cls.method == name
        assert options_from_dict(cls().as_dict()) == cls()


@pytest.mark.parametrize("method, options, overrides, message", [
    ("magic", None, {}, "method must be one of"),
    ("density", TrajectoryOptions(), {}, "must be a DensityOptions"),
    ("density", None, {"seed": 1}, "seed do.es. not apply to method='density'"),
    ("density", None, {"scheme": "fast"}, "scheme must be one of"),
    ("trajectories", None, {"n_trajectories": 1}, "n_trajectories must be an integer >= 2"),
    ("trajectories", None, {"target_stderr": -1.0}, "target_stderr must be a finite"),
    ("trajectories", None, {"n_threads": 0}, "n_threads must be an integer >= 1"),
    ("gaussian", None, {"progress": "yes"}, "progress must be True or False"),
    ("trajectories", None, {"final_state": 1}, "final_state must be True or False"),
], ids=["unknown-method", "wrong-options", "seed-for-density", "bad-scheme",
        "one-trajectory", "negative-target", "zero-threads", "progress-not-bool",
        "final-state-not-bool"])
def test_bad_options_are_clear_errors(method, options, overrides, message):
    with pytest.raises(ValueError, match=message):
        engine_options(method, options, **overrides)


def test_options_reach_the_engines():
    model = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    runs = {s: model.run(rho0, 0.2, 0.01, options=DensityOptions(scheme=s))
            for s in ("kraus", "superoperator")}
    assert {r.parameters["scheme"] for r in runs.values()} == {"kraus", "superoperator"}
    np.testing.assert_allclose(runs["kraus"].local, runs["superoperator"].local, atol=1e-13)
    gm = collision.GaussianCollisionModel()
    res = gm.run(states.gaussian_thermal(1.0), 0.2, 0.01, options=GaussianOptions())
    assert res.parameters["options"] == {"method": "gaussian", "progress": False}
    with pytest.raises(ValueError, match="method must be one of"):
        model.run(rho0, 0.2, 0.01, method="gaussian")
