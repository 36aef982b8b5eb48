"""Sizes checked before work (issue 17, item 6): every entry point refuses a run whose
arrays would not fit in memory with a ValueError naming the parameter, the estimate and
the limit, before allocating anything that grows with the input.

The limit is made small with ``CASCADE_MEMORY_LIMIT`` (the documented override), so the
checks are exercised without allocating; a run that passes the check under the same
limit shows the estimate is not absurdly high.  The engines' kernels are replaced by a
function that fails the test, so "before work" is checked, not assumed.
"""

import numpy as np
import pytest

import collision
import collision.counting as counting_module
import collision.density as density_module
import collision.trajectories as trajectories_module
import lindblad
from collision._loop import BatchStops
from collision.options import TrajectoryOptions
from collision.resources import run_memory
from lindblad import states
from lindblad.resources import MEMORY_LIMIT_ENV, format_bytes, memory_limit

QUBIT = states.thermal("qubit", 1.0)


def _no_work(*args, **kwargs):
    raise AssertionError("the engine started working before the size check")


@pytest.fixture
def no_engine_work(monkeypatch):
    """Make any kernel call fail the test."""
    monkeypatch.setattr(density_module.DensityEngine, "run", _no_work)
    monkeypatch.setattr(trajectories_module, "_run_batch", _no_work)
    monkeypatch.setattr(counting_module, "_density", _no_work)
    monkeypatch.setattr(counting_module, "_trajectories", _no_work)


def _qubits(n=2):
    return collision.CascadeCollisionModel("qubit", n, temperature=1.0)


# entry point -> call; each with a limit of 1 MB and arrays far beyond it
OVERSIZE = {
    "run-density-saved-times": (lambda: _qubits().run([QUBIT] * 2, 1e4, 0.01),
                                r"t_max / \(dt save_every\).*saved times.*save_every >="),
    "run-trajectories-saved-times": (
        lambda: _qubits().run([QUBIT] * 2, 1e4, 0.01, method="trajectories",
                              n_trajectories=10**12, seed=1),
        r"t_max / \(dt save_every\).*saved times"),
    "run-extrapolate": (lambda: _qubits().run([QUBIT] * 2, 3e3, 0.01, extrapolate=True),
                        r"t_max / \(dt save_every\).*save_every = 2\)"),
    "heat-statistics-density": (
        lambda: _qubits(4).heat_statistics([QUBIT] * 4, 1e3, 0.01),
        r"t_max / \(dt save_every\).*saved times"),
    "heat-statistics-trajectories-1e12": (
        lambda: _qubits().heat_statistics([QUBIT] * 2, 1e3, 0.01, method="trajectories",
                                          n_trajectories=10**12, seed=1),
        r"t_max / \(dt save_every\).*saved times"),
    "heat-statistics-extrapolate": (
        lambda: _qubits().heat_statistics([QUBIT] * 2, 3e3, 0.01, extrapolate=True),
        r"save_every = 2\)"),
    "chain-dimension": (
        lambda: _qubits(24).run([QUBIT] * 24, 0.02, 0.01, method="trajectories", seed=1),
        r"n_systems = 24, qubits \(D = 2\^24\).*more than the limit of 1 MB"),
    "dense-states": (
        lambda: collision.CascadeCollisionModel("oscillator", 2, cutoff=40,
                                                temperature=1.0).run(
            [states.thermal("oscillator", 1.0, 40)] * 2, 0.02, 0.01),
        r"n_systems = 2, cutoff \(D = 40\^2\).*dense states"),
    "gaussian": (lambda: collision.GaussianCollisionModel(2).run(
        states.gaussian_thermal(0.5), 1e4, 0.01), r"saved times.*save_every >="),
    "gaussian-extrapolate": (lambda: collision.GaussianCollisionModel(2).run(
        states.gaussian_thermal(0.5), 3e3, 0.01, extrapolate=True), r"save_every = 2\)"),
    "master-equation-heat-fluxes": (
        lambda: lindblad.CascadeMasterEquation("oscillator", cutoff=20).heat_fluxes(
            np.eye(400) / 400, np.linspace(0, 1, 1000)),
        r"heat_fluxes\(\) with 1000 times \(D = 400\).*m = 0 block.*pass fewer times"),
    "master-equation-heat-statistics": (
        lambda: lindblad.CascadeMasterEquation("qubit", 4).heat_statistics(
            [QUBIT] * 4, np.linspace(0, 1, 10_000)),
        r"heat_statistics\(\) with 10000 times \(D = 16\)"),
    "master-equation-evolve": (
        lambda: lindblad.CascadeMasterEquation("qubit", 4).evolve(
            [QUBIT] * 4, np.linspace(0, 1, 1000)),
        r"evolve\(\) with 1000 times in dimension D = 16 would need"),
    "master-equation-delay": (
        lambda: lindblad.CascadeMasterEquation("oscillator", cutoff=20, delay=0.5).heat_fluxes(
            np.eye(400) / 400, np.linspace(0, 1, 400)),
        r"heat_fluxes\(\) with 400 times"),
}


@pytest.mark.parametrize("call, message", OVERSIZE.values(), ids=OVERSIZE.keys())
def test_oversize_runs_are_refused_before_work(call, message, monkeypatch, no_engine_work):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1e6")
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "1 MB" in str(info.value)  # the limit is stated


FIT = {
    "density": dict(method="density"),
    "trajectories": dict(method="trajectories", n_trajectories=64, seed=1),
}


@pytest.mark.parametrize("options", FIT.values(), ids=FIT.keys())
def test_a_small_run_fits_a_small_limit(options, monkeypatch):
    """The estimate is not absurd: 2 qubits, 21 saved times run under a 4 MB limit."""
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "4e6")
    res = _qubits().run([QUBIT] * 2, 0.2, 0.01, **options)
    assert res.t.size == 21


def test_estimate_names_every_array_of_each_engine():
    model = _qubits(3)
    names = {
        ("density", False): {"basis tables", "saved fluxes", "dense states"},
        ("density", True): {"basis tables", "heat statistics", "dense states"},
        ("trajectories", False): {"basis tables", "saved fluxes", "trajectory batch buffer",
                                  "state vectors", "Monte Carlo statistics",
                                  "averaged final states"},
        ("trajectories", True): {"basis tables", "trajectory batch buffer", "state vectors",
                                 "heat-statistics histograms"},
    }
    for (method, counting), expected in names.items():
        needs = run_memory(model, method, 100, 1, counting=counting, dense_dim=8)
        assert set(needs) == expected, (method, counting)
        assert all(b > 0 for b, _ in needs.values())


def test_memory_of_a_trajectory_run_grows_with_log_of_the_trajectories():
    model = _qubits()
    sizes = [sum(b for b, _ in run_memory(model, "trajectories", 100, 1,
                                          n_trajectories=n).values())
             for n in (10**3, 10**6, 10**12)]
    assert sizes[0] < sizes[1] < sizes[2] < 3 * sizes[0]


def test_batch_ends_are_lazy_and_exact():
    stops = BatchStops(64, 10**12)
    assert len(stops) == 15_625_000_000 and stops[-1] == 10**12 and stops[0] == 64
    assert list(BatchStops(64, 200)) == [64, 128, 192, 200]
    assert list(BatchStops(64, 200)) == list(np.append(np.arange(64, 200, 64), 200))


@pytest.mark.parametrize("n_trajectories, first", [(2**62 + 1, 0), (2**62 - 64, 128),
                                                   (1e30, 0)],
                         ids=["count", "count-plus-first", "float"])
def test_trajectory_counts_beyond_int64_are_refused(n_trajectories, first):
    with pytest.raises(ValueError, match=r"at most 2\*\*62.*64-bit"):
        TrajectoryOptions(n_trajectories=n_trajectories, first_trajectory=first)
    with pytest.raises(ValueError, match=r"at most 2\*\*62"):
        _qubits().run([QUBIT] * 2, 0.1, 0.01, method="trajectories",
                      n_trajectories=n_trajectories,
                      options=TrajectoryOptions(first_trajectory=first))


@pytest.mark.parametrize("value", ["", "lots", "-5", "nan"], ids=["empty", "word", "negative",
                                                                   "nan"])
def test_memory_limit_override(value, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    if value == "":
        assert memory_limit() > 0  # unset: half the available memory
        return
    with pytest.raises(ValueError, match=f"{MEMORY_LIMIT_ENV} must be a number of bytes"):
        memory_limit()


def test_format_bytes_rounds_across_units():
    assert format_bytes(999_744) == "1 MB"
    assert format_bytes(999) == "999 B"
    assert format_bytes(2.5e15) == "2.5 PB"
