"""The paper's cascade as one instance of the general collision model.

* ``collision.presets.cascade`` is a :class:`collision.CascadeCollisionModel`, which is a
  :class:`collision.CollisionModel`: its runs are today's on every engine, bit for bit;
* its description (``general()``) on the general kernels gives the exchange kernels'
  results to rounding (the same map: 1e-12 in the fluxes, which are energy differences
  divided by dt, 1e-13 in the state);
* the limit the package derives from that description is the paper's master equation.
"""

from __future__ import annotations

import numpy as np
import pytest

import collision
from collision.options import TrajectoryOptions
from lindblad import states

QUBITS = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 0.5))


def test_preset_is_the_cascade_and_a_collision_model():
    model = collision.presets.cascade("qubit", 3, temperature=1.0, gamma=1.5)
    assert isinstance(model, collision.CascadeCollisionModel)
    assert isinstance(model, collision.CollisionModel)
    assert model.parameters == collision.CascadeCollisionModel(
        "qubit", 3, gamma=1.5, temperature=1.0).parameters
    assert model.continuum_order == 1.0
    assert [c.subsystems for c in model.collisions] == [(0,), (1,), (2,)]


@pytest.mark.parametrize("method, options", [
    ("density", None),
    ("trajectories", TrajectoryOptions(n_trajectories=128, seed=4)),
], ids=["density", "trajectories"])
def test_preset_runs_are_todays_runs_bit_for_bit(method, options):
    preset = collision.presets.cascade("qubit", 2, temperature=1.0, delay=0.1)
    today = collision.CascadeCollisionModel("qubit", 2, temperature=1.0, delay=0.1)
    a = preset.run(QUBITS, 1.0, 0.05, method=method, options=options)
    b = today.run(QUBITS, 1.0, 0.05, method=method, options=options)
    np.testing.assert_array_equal(a.local, b.local)
    np.testing.assert_array_equal(a.correlated, b.correlated)
    np.testing.assert_array_equal(a.final_state, b.final_state)


CASES = {
    "qubits-cascade-T1": (dict(system="qubit", temperature=1.0), QUBITS),
    "qubits-independent-T0.5": (dict(system="qubit", temperature=0.5, cascade=False),
                                QUBITS),
    "qubits-3-chain-T0": (dict(system="qubit", n_systems=3, temperature=0.0),
                          states.product(*[states.thermal("qubit", 1.0)] * 3)),
    "oscillators-T0.3": (dict(system="oscillator", cutoff=8, temperature=0.3),
                         states.product(*[states.thermal("oscillator", 0.3, 8)] * 2)),
}


@pytest.mark.filterwarnings("ignore::collision.TruncationWarning")
@pytest.mark.parametrize("case", list(CASES))
def test_general_kernels_reproduce_the_exchange_kernels(case):
    """Same map, other kernels: total flux to 1e-11 (energy differences over dt = 0.01;
    measured 1.4e-13 to 6.9e-13) and the final state to 1e-13 (measured <= 5e-14); S_i's
    energy from the general run equals the exchange run's state."""
    kwargs, rho0 = CASES[case]
    model = collision.presets.cascade(**kwargs)
    exchange = model.run(rho0, 1.0, 0.01)
    general = model.general().run(rho0, 1.0, 0.01)
    heat = sum(general.heat.values())
    assert np.max(np.abs(exchange.total - heat)) < 1e-11
    assert np.max(np.abs(exchange.final_state - general.final_state)) < 1e-13


@pytest.mark.parametrize("temperature", [0.0, 0.7])
@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_derived_limit_is_the_papers_master_equation(temperature, cascade):
    model = collision.presets.cascade("qubit", 3, temperature=temperature, cascade=cascade)
    derived = model.general().master_equation().liouvillian().toarray()
    paper = model.master_equation().liouvillian().toarray()
    assert np.max(np.abs(derived - paper)) < 1e-13


def test_description_refuses_what_it_cannot_hold():
    with pytest.raises(ValueError, match="no delay or phase"):
        collision.presets.cascade("qubit", 2, delay=0.1).general()
    with pytest.raises(ValueError, match="dense 8192 x 8192"):
        collision.presets.cascade("qubit", 13).general()
    with pytest.raises(ValueError, match="bath_cutoff must be an integer >= 2"):
        collision.presets.cascade("oscillator", cutoff=4, bath_cutoff=1)


def test_preset_runs_the_gaussian_engine_of_today():
    """``method="gaussian"`` on the oscillator preset is today's GaussianCollisionModel,
    bit for bit (delay included)."""
    preset = collision.presets.cascade("oscillator", 2, temperature=0.5, cutoff=10, delay=0.2)
    today = collision.GaussianCollisionModel(2, temperature=0.5, delay=0.2)
    cov0 = states.gaussian_thermal(1.0)
    a = preset.run(cov0, 1.0, 0.05, method="gaussian")
    b = today.run(cov0, 1.0, 0.05)
    np.testing.assert_array_equal(a.local, b.local)
    np.testing.assert_array_equal(a.correlated, b.correlated)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    with pytest.raises(ValueError, match="oscillators with a boson bath"):
        collision.presets.cascade("qubit", 2).run(cov0, 1.0, 0.05, method="gaussian")


def test_preset_counting_statistics_are_todays():
    preset = collision.presets.cascade("qubit", 2, temperature=1.0)
    today = collision.CascadeCollisionModel("qubit", 2, temperature=1.0)
    a = preset.heat_statistics(QUBITS, 0.5, 0.05)
    b = today.heat_statistics(QUBITS, 0.5, 0.05)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    np.testing.assert_array_equal(a.cumulants, b.cumulants)
