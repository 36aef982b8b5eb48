"""The trajectory engine's "replay" flux estimator (:mod:`collision.trajectories`).

"replay" computes the conditional own flux given the trajectory's state by applying the
saved steps for every occupied incoming ancilla level; "conditional" gets the same
numbers from precomputed blocks of ``Phi^dag(H_i)``.  Checked here:

* trajectory by trajectory, for the same seed and stepper, the two give the same local
  and correlated fluxes at every saved time (they draw the same random numbers and
  differ only in the order of floating-point sums);
* the replay means lie within 4 standard errors of the exact averaged engine
  (:mod:`collision.density`) at fixed seeds;
* the choice of ``estimator="auto"`` and the option's validation.
"""

import warnings

import numpy as np
import pytest

import collision.drivers as drivers
import collision.trajectories as tr
from collision import CascadeCollisionModel
from collision._loop import AccuracyWarning, TruncationWarning
from collision.options import engine_options
from lindblad import states
from lindblad.thermal import temperature_from_occupation


def _excited_first(n):
    """S1 excited, the others in the ground state (a list of local states)."""
    return [np.diag([0.0, 1.0]).astype(complex)] + [np.diag([1.0, 0.0]).astype(complex)] * (
        n - 1)


def _thermal(system, n, occupation, cutoff=None):
    t = temperature_from_occupation(occupation)
    return states.product(*[states.thermal(system, t, cutoff)] * n)


# id: (model kwargs, rho0 factory, t_max, dt, save_every)
EQUALITY_CASES = {
    "qubits2-T1": (dict(system="qubit", temperature=1.0),
                   lambda: states.correlated_qubits(0.3, 0.6), 1.0, 0.05, 4),
    "qubits3-T0.5-every-step": (dict(system="qubit", n_systems=3, temperature=0.5),
                                lambda: _thermal("qubit", 3, 0.3), 0.5, 0.05, 1),
    "qubits5-T2-excited": (dict(system="qubit", n_systems=5, temperature=2.0),
                           lambda: _excited_first(5), 1.0, 0.05, 5),
    "qubits3-T0": (dict(system="qubit", n_systems=3, temperature=0.0),
                   lambda: _thermal("qubit", 3, 0.4), 1.0, 0.05, 4),
    "oscillators-cutoff4-T0.8": (dict(system="oscillator", cutoff=4, temperature=0.8),
                                 lambda: _thermal("oscillator", 2, 0.3, 4), 1.0, 0.05, 4),
    "oscillators3-cutoff3-T1.5": (dict(system="oscillator", n_systems=3, cutoff=3,
                                       temperature=1.5),
                                  lambda: _thermal("oscillator", 3, 0.2, 3), 0.6, 0.05, 2),
    "qubits3-T1-no-cascade": (dict(system="qubit", n_systems=3, temperature=1.0,
                                   cascade=False),
                              lambda: _thermal("qubit", 3, 0.3), 1.0, 0.05, 4),
}


def _plan(kwargs, rho0, t_max, dt, save_every):
    model = CascadeCollisionModel(**kwargs)
    with warnings.catch_warnings():  # coarse dt and small cutoffs on purpose: both
        warnings.simplefilter("ignore", AccuracyWarning)  # estimators and the exact
        warnings.simplefilter("ignore", TruncationWarning)  # reference share them
        return model, model.plan(rho0(), t_max, dt, save_every)


def _rows(monkeypatch, model, plan, **options):
    """The per-trajectory rows (local and correlated flux at every saved time) of a
    64-trajectory run, captured at the driver's batch seam, and the run's result."""
    real = tr._run_batch
    captured = []

    def batch(states_, tables, init, n_steps, save_every, rows, final_psi):
        real(states_, tables, init, n_steps, save_every, rows, final_psi)
        captured.append(rows[:states_.shape[0]].copy())

    monkeypatch.setattr(tr, "_run_batch", batch)
    result = tr.run_trajectories(model, plan, n_trajectories=64, seed=11, **options)
    monkeypatch.undo()
    return np.concatenate(captured), result


@pytest.mark.parametrize("name", list(EQUALITY_CASES), ids=list(EQUALITY_CASES))
def test_replay_equals_conditional_trajectory_by_trajectory(monkeypatch, name):
    """Same seed, same (collision) stepper: every trajectory's fluxes agree to 1e-13
    relative to the largest flux.  Both are ``(E_i - <Phi^dag(H_i)>) / dt - local_i``
    with the same terms summed in a different order, so they differ by rounding
    amplified by ``1/dt`` (measured at most 8.6e-15 per row, 2.4e-15 for the mean
    total; the standard errors, a difference of squares, 1.8e-15 relative)."""
    model, plan = _plan(*EQUALITY_CASES[name])
    cond, res_cond = _rows(monkeypatch, model, plan, estimator="conditional",
                           stepper="collisions")
    replay, res_replay = _rows(monkeypatch, model, plan, estimator="replay",
                               stepper="collisions")
    scale = np.max(np.abs(cond))
    assert scale > 0.1
    np.testing.assert_allclose(replay, cond, rtol=1e-13, atol=1e-13 * scale)
    expected = "replay" if model.cascade else "conditional"  # no cascade: C_i = 0 exactly
    assert res_replay.parameters["trajectory_method"] == f"{expected} estimator, collisions"
    np.testing.assert_allclose(res_replay.total, res_cond.total, rtol=1e-13,
                               atol=1e-13 * scale)
    np.testing.assert_allclose(res_replay.stderr.total, res_cond.stderr.total, rtol=1e-12)


def test_replay_at_zero_temperature_equals_the_collision_estimator(monkeypatch):
    """With one occupied ancilla level there is nothing to replay: the two estimators
    do the same arithmetic and agree bit for bit."""
    model, plan = _plan(*EQUALITY_CASES["qubits3-T0"])
    collision, _ = _rows(monkeypatch, model, plan, estimator="collision")
    replay, _ = _rows(monkeypatch, model, plan, estimator="replay")
    np.testing.assert_array_equal(replay, collision)


UNBIASED_CASES = {
    "qubits4-T1-excited": (dict(system="qubit", n_systems=4, temperature=1.0),
                           lambda: _excited_first(4), 2.0, 0.05, 4, 2000),
    "oscillators-cutoff5-T0.8": (dict(system="oscillator", cutoff=5, temperature=0.8),
                                 lambda: _thermal("oscillator", 2, 0.4, 5), 2.0, 0.05, 4,
                                 2000),
}


@pytest.mark.parametrize("name", list(UNBIASED_CASES), ids=list(UNBIASED_CASES))
def test_replay_mean_within_4_stderr_of_density_engine(name):
    """Every saved time of J1, J2, J12 and the total lies within 4 standard errors of
    the exact averaged engine (P(|z| > 4) = 6e-5 per point for a correct estimator;
    fixed seed).  Points with a zero standard error (J12 at t = 0 from a Fock state,
    where every trajectory has the same value) must agree to 1e-9."""
    *setup, n = UNBIASED_CASES[name]
    model, plan = _plan(*setup)
    mc = tr.run_trajectories(model, plan, n_trajectories=n, seed=3, estimator="replay")
    assert mc.parameters["trajectory_method"].startswith("replay estimator")
    exact = drivers.run_density(model, plan)
    z = []
    for field in ("J1", "J2", "J12", "total"):
        diff = getattr(mc, field) - getattr(exact, field)
        se = getattr(mc.stderr, field)
        assert np.all(np.abs(diff[se == 0]) < 1e-9), field
        z.append(diff[se > 0] / se[se > 0])
    z = np.concatenate(z)
    assert z.size >= 30
    assert np.max(np.abs(z)) < 4.0, f"max |z| = {np.max(np.abs(z)):.2f}"


# --- the choice of "auto" -------------------------------------------------------------------

def _auto(kwargs, save_every=4, **limits):
    model = CascadeCollisionModel(**kwargs)
    rho0 = _excited_first(model.n_systems) if kwargs["system"] == "qubit" \
        else _thermal("oscillator", model.n_systems, 0.3, model.cutoff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        warnings.simplefilter("ignore", TruncationWarning)
        plan = model.plan(rho0, 1.0, 0.05, save_every)
    _, estimator, stepper = tr.build_tables(model, plan)
    return estimator, stepper


def test_auto_takes_conditional_with_matrices_for_small_problems():
    assert _auto(dict(system="qubit", temperature=1.0)) == ("conditional", "matrices")


@pytest.mark.parametrize("n, expected", [(6, "conditional"), (8, "replay")],
                         ids=["6-qubits", "8-qubits"])
def test_auto_compares_the_cost_of_a_step(n, expected):
    """With blocks cheap to build, "auto" still takes replay when the quadratic forms
    and the stage matrices make a step dearer (measured at T = 1, save_every = 10:
    conditional 1.4x faster at 6 qubits, replay 3.7x faster at 8; here save_every = 4,
    where the rule chooses the same)."""
    assert _auto(dict(system="qubit", n_systems=n, temperature=1.0))[0] == expected


def test_auto_takes_replay_when_the_conditional_blocks_are_costly():
    """10 qubits: building Phi^dag(H_i) would cost more than MAX_CONDITIONAL_COST
    (about 6 s); replay needs no tables and runs collision by collision."""
    assert _auto(dict(system="qubit", n_systems=10, temperature=1.0)) \
        == ("replay", "collisions")


QUBIT_BATH = dict(system="qubit", temperature=1.0)  # 2 occupied ancilla levels
COLD_BATH = dict(system="oscillator", cutoff=3, temperature=0.0)  # 1 occupied level
HOT_BATH = dict(system="oscillator", cutoff=3, temperature=4.0, bath="boson",
                bath_cutoff=4)  # 4 occupied levels


@pytest.mark.parametrize("kwargs, save_every, expected",
                         [(QUBIT_BATH, 1, "replay"), (COLD_BATH, 1, "replay"),
                          (HOT_BATH, 1, "collision"), (HOT_BATH, 10, "replay")],
                         ids=["2-levels-every-step", "1-level-every-step",
                              "4-levels-every-step", "4-levels-every-10th"])
def test_auto_weighs_the_replay_overhead(monkeypatch, kwargs, save_every, expected):
    """With the conditional blocks ruled out, "auto" takes replay while it adds at most
    MAX_REPLAY_OVERHEAD = 1 extra stage per step: (occupied levels - 1) / save_every."""
    monkeypatch.setattr(tr, "MAX_CONDITIONAL_COST", 0.0)
    estimator, _ = _auto(kwargs, save_every)
    assert estimator == expected


def test_replay_is_a_valid_option_and_matrices_need_the_conditional_estimator():
    model = CascadeCollisionModel("qubit", temperature=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        res = model.run(_excited_first(2), 0.5, 0.05, method="trajectories", seed=1,
                        options=engine_options("trajectories", n_trajectories=64,
                                               estimator="replay"))
        assert res.parameters["trajectory_method"] == "replay estimator, collisions"
        plan = model.plan(_excited_first(2), 0.5, 0.05)
    with pytest.raises(ValueError, match="needs the conditional flux estimator"):
        tr.run_trajectories(model, plan, n_trajectories=64, estimator="replay",
                            stepper="matrices")
    with pytest.raises(ValueError, match="estimator"):
        engine_options("trajectories", estimator="magic")
