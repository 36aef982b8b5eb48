"""Guards of the collision engines against silently wrong results.

Each defect class has the input that used to give a wrong answer (or a numpy error) and
the message or warning now expected:

* Fock cutoff of the subsystems (:class:`collision.TruncationWarning`), before and
  during the run, with the exact T = 0 criterion;
* the time step: O(gamma dt) error rule against the Lindblad reference, rounding at tiny
  dt (:class:`collision.AccuracyWarning`);
* the time grid and memory (``ValueError`` instead of an empty run or a MemoryError);
* an unreachable ``target_stderr``;
* the messages of the boson-bath cutoff;
* Ctrl-C in the Gaussian engine (chunked, resumable kernel) and its progress bar;
* one frame for every ``final_state`` (the lab frame).

Every warning must point at the line of this file that called the library.
"""

import math
import re
import warnings

import numpy as np
import pytest

import collision._kernels.gaussian as gaussian_kernels
import collision.density as density_module
import collision.gaussian as gaussian_module
import lindblad.resources
from collision import (
    AccuracyWarning,
    CascadeCollisionModel,
    GaussianCollisionModel,
    TruncationWarning,
)
from collision.ancilla import correlation_leak, leak_probability
from collision.model import predicted_dt_error
from lindblad import states
from lindblad.gaussian import to_lab_frame
from lindblad.operators import excitations
from lindblad.thermal import temperature_from_occupation


def fock_pair(n1, n2, cutoff):
    """The product Fock state |n1, n2> of two oscillators."""
    rho = np.zeros((cutoff**2, cutoff**2))
    rho[n1 * cutoff + n2, n1 * cutoff + n2] = 1.0
    return rho


def thermal_pair(n_s, cutoff):
    one = states.thermal("oscillator", temperature_from_occupation(n_s), cutoff=cutoff)
    return states.product(one, one)


def top_level_populations(rho, cutoff, n_systems=2):
    fock = excitations((cutoff,) * n_systems)
    pops = np.real(np.diagonal(rho))
    return np.array([pops[fock[:, i] == cutoff - 1].sum() for i in range(n_systems)])


def only_from_here(record, category):
    """The warnings of ``category`` in ``record``, after checking they point here."""
    hits = [w for w in record if issubclass(w.category, category)]
    assert hits, f"no {category.__name__}"
    for w in hits:
        assert w.filename == __file__, (w.filename, str(w.message))
    return hits


@pytest.fixture
def no_collision_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        warnings.simplefilter("error", AccuracyWarning)
        yield


# --- Fock cutoff of the subsystems ----------------------------------------------------------

def test_warm_reservoir_with_small_cutoff_is_wrong_and_warns_before_the_run():
    """T = 2 (N = 1.54) with cutoff 4 and a vacuum start: the reservoir's thermal state has
    population 0.10 in the top level.  The truncated fluxes are off by more than 2x from
    the exact (Gaussian, no cutoff) engine at the same dt; the warning says so first."""
    model = CascadeCollisionModel("oscillator", 2, temperature=2.0, cutoff=4)
    with pytest.warns(TruncationWarning, match="cutoff 4 is too small") as record:
        res = model.run(fock_pair(0, 0, 4), 3.0, 0.02, save_every=25)
    (w,) = only_from_here(record, TruncationWarning)
    assert "thermal state the reservoir at T = 2" in str(w.message)
    assert re.search(r"Use cutoff >= 2\d ", str(w.message))  # thermal tail at N = 1.54: 29
    exact = GaussianCollisionModel(2, temperature=2.0).run(states.gaussian_thermal(0.0, 2),
                                                           3.0, 0.02, save_every=25)
    assert abs(res.J1[-1]) < 0.5 * abs(exact.J1[-1])  # measured: 0.06x


def test_initial_state_in_the_top_level_warns():
    """A truncated thermal state (N_S = 0.5, cutoff 4) has 0.025 in its top level."""
    model = CascadeCollisionModel("oscillator", 2, temperature=0.3, cutoff=4)
    with pytest.warns(TruncationWarning, match=r"it is 0.025 \(S1; S2: 0.025\) in rho0") \
            as record:
        model.plan(thermal_pair(0.5, 4), 1.0, 0.01)
    only_from_here(record, TruncationWarning)


def test_population_reaching_the_top_level_during_the_run_warns_after_it(monkeypatch):
    """|2, 2> with cutoff 4 at T = 0.2 (top-level population 0 in rho0, 3e-7 in the thermal
    state): S1's quanta lift S2 to the top level during the run.  With a chunk boundary at
    every saved time the recorded maximum is exactly the largest top-level population over
    the saved times, taken here from ``final_state`` of runs ending there."""
    monkeypatch.setattr(density_module, "MIN_CHUNK_WORK", 0)
    model = CascadeCollisionModel("oscillator", 2, temperature=0.2, cutoff=4)
    rho0 = fock_pair(2, 2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        plan = model.plan(rho0, 2.0, 0.05, save_every=4)
        assert plan.watch_top_level
        with pytest.warns(TruncationWarning, match="during the run") as record:
            res = model.run(rho0, 2.0, 0.05, save_every=4)
        only_from_here(record, TruncationWarning)
        warnings.simplefilter("ignore", TruncationWarning)
        expected = np.max([top_level_populations(model.run(rho0, t, 0.05).final_state, 4)
                           for t in res.t[1:]], axis=0)
    np.testing.assert_allclose(res.parameters["max_top_level_population"], expected,
                               rtol=1e-12)
    assert expected[1] > 0.05  # S2 really gets there


def test_top_level_record_of_the_trajectory_engine():
    """The trajectory engine records rho0 and the trajectory-averaged final state."""
    model = CascadeCollisionModel("oscillator", 2, temperature=0.2, cutoff=4)
    rho0 = fock_pair(2, 2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        with pytest.warns(TruncationWarning, match="during the run") as record:
            mc = model.run(rho0, 1.0, 0.05, method="trajectories", n_trajectories=64, seed=3)
    only_from_here(record, TruncationWarning)
    np.testing.assert_allclose(mc.parameters["max_top_level_population"],
                               top_level_populations(mc.final_state, 4), rtol=1e-12)


@pytest.mark.parametrize("rho0,warns", [
    (fock_pair(3, 0, 4), False),
    (fock_pair(2, 1, 4), False),
    (fock_pair(2, 2, 4), True),
], ids=["3-quanta-exact", "3-quanta-split-exact", "4-quanta-truncated"])
def test_zero_temperature_criterion_is_the_total_number_of_quanta(rho0, warns):
    """At T = 0 no quantum enters: with fewer quanta in all than the cutoff the truncation
    is exact even with the top level full; with more, S2 can be pushed above it."""
    model = CascadeCollisionModel("oscillator", 2, temperature=0.0, cutoff=4)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = model.run(rho0, 0.2, 0.01)
    hits = [w for w in record if issubclass(w.category, TruncationWarning)]
    assert bool(hits) == warns
    if warns:
        assert "rho0 has weight 1 (above cutoff_tol" in str(hits[0].message)
        assert "Use cutoff >= 5" in str(hits[0].message)
        assert hits[0].filename == __file__
    assert len(res.parameters["max_top_level_population"]) == 2


def test_exact_zero_temperature_truncation_agrees_with_a_larger_cutoff(no_collision_warnings):
    """|3, 0> at T = 0: cutoff 4 (top level full, no warning) equals cutoff 7 exactly."""
    small = CascadeCollisionModel("oscillator", 2, cutoff=4).run(fock_pair(3, 0, 4), 1.0, 0.01)
    big = CascadeCollisionModel("oscillator", 2, cutoff=7).run(fock_pair(3, 0, 7), 1.0, 0.01)
    np.testing.assert_allclose(small.local, big.local, rtol=0, atol=1e-12)
    np.testing.assert_allclose(small.correlated, big.correlated, rtol=0, atol=1e-12)


def test_cutoff_tol_is_settable_and_validated():
    model = CascadeCollisionModel("oscillator", 2, temperature=0.3, cutoff=4, cutoff_tol=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        res = model.run(thermal_pair(0.5, 4), 0.5, 0.01)
    assert res.parameters["cutoff_tol"] == 0.05
    for bad in (0.0, 1.0, "1e-6", True, float("nan")):
        with pytest.raises(ValueError, match="cutoff_tol must be a number in"):
            CascadeCollisionModel("oscillator", 2, cutoff=4, cutoff_tol=bad)


def test_qubits_have_no_cutoff():
    res = CascadeCollisionModel("qubit", 2).run(states.correlated_qubits(0.1, 0.3), 0.1, 0.01)
    assert res.parameters["max_top_level_population"] is None


# --- the time step ------------------------------------------------------------------------------

@pytest.mark.parametrize("system,n,cascade", [
    ("qubit", 2, True), ("qubit", 3, True), ("qubit", 2, False), ("gaussian", 4, True),
], ids=["qubits-n2", "qubits-n3", "qubits-n2-independent", "gaussian-n4"])
def test_dt_error_rule_bounds_the_measured_error(system, n, cascade):
    """The rule ``(n - 2/3) gamma dt`` (``gamma dt / 3`` independent) against the exact
    reference at dt = 0.05, thermal product states (the worst case measured): the largest
    subsystem-flux error relative to the largest reference flux is at most the rule and
    at least 90 % of it (measured: 97 %, 95 %, 99 %, 93 %)."""
    dt = 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        if system == "gaussian":
            model = GaussianCollisionModel(n, temperature=0.5, cascade=cascade)
            rho0 = states.gaussian_thermal(2.0, n)
        else:
            model = CascadeCollisionModel(system, n, temperature=0.5, cascade=cascade)
            rho0 = states.product(*[states.thermal("qubit", 2.0)] * n)
        res = model.run(rho0, 6.0, dt)
    ref = model.master_equation().heat_fluxes(rho0, res.t)
    error = np.max(np.abs(res.subsystem - ref.subsystem)) / np.max(np.abs(ref.subsystem))
    predicted = predicted_dt_error(dt, n, cascade)
    assert 0.9 * predicted <= error <= predicted


def test_large_dt_warns_with_the_step_that_would_do():
    model = CascadeCollisionModel("qubit", 3)
    with pytest.warns(AccuracyWarning, match=r"error of 23% .* take dt <= 0.0214") as record:
        model.run(states.product(*[states.thermal("qubit", 2.0)] * 3), 1.0, 0.1)
    only_from_here(record, AccuracyWarning)


def test_small_enough_dt_does_not_warn(no_collision_warnings):
    CascadeCollisionModel("qubit", 2).run(states.correlated_qubits(0.1, 0.3), 0.5, 0.02)
    GaussianCollisionModel(3).run(states.gaussian_thermal(1.0, 3), 0.5, 0.01)


@pytest.mark.parametrize("engine", ["density", "gaussian"])
def test_tiny_dt_warns_about_rounding(engine):
    """dt = 1e-12: the flux (a difference of energies / dt) has a rounding error of
    ~1e-4 (measured 4.6e-5 for qubits, 8.9e-5 Gaussian), so the run warns and says
    below which dt: eps E_max / 1e-6 (E_max = 1/2 for qubits, N_S + 1/2 = 1.5 here)."""
    with pytest.warns(AccuracyWarning, match="rounding spoils the fluxes") as record:
        if engine == "density":
            CascadeCollisionModel("qubit", 2).run(states.correlated_qubits(0.1, 0.3),
                                                  5e-12, 1e-12)
            bound = "1.1e-10"
        else:
            GaussianCollisionModel(2).run(states.gaussian_thermal(1.0), 5e-12, 1e-12)
            bound = "3.3e-10"
    (w,) = only_from_here(record, AccuracyWarning)
    assert f"take gamma * dt >= {bound}" in str(w.message)


# --- time grid and memory --------------------------------------------------------------------

def _run(engine, **kw):
    args = dict(t_max=1.0, dt=0.01, save_every=1) | kw
    if engine == "gaussian":
        return GaussianCollisionModel().run(states.gaussian_thermal(1.0), **args)
    method = "trajectories" if engine == "trajectories" else "density"
    extra = dict(n_trajectories=16, seed=1) if method == "trajectories" else {}
    return CascadeCollisionModel("qubit", 2).run(states.correlated_qubits(0.1, 0.3),
                                                 method=method, **args, **extra)


ENGINES = ["density", "trajectories", "gaussian"]


@pytest.mark.parametrize("engine", ENGINES)
def test_save_every_beyond_the_run_is_rejected(engine):
    with pytest.raises(ValueError, match=r"save_every = 101 is more than the 100 steps of the "
                                         r"run .* use save_every <= 100"):
        _run(engine, save_every=101)
    assert _run(engine, save_every=100).t.size == 2  # t = 0 and t = 1


@pytest.mark.parametrize("engine", ENGINES)
def test_output_that_does_not_fit_in_memory_is_rejected_before_allocating(engine):
    """t_max = 1e12 at dt = 0.01: 1e14 saved times, petabytes (a MemoryError before)."""
    with pytest.raises(ValueError, match=r"would need .* PB for 1e\+14 saved times .* "
                                         r"use save_every >= \d+"):
        _run(engine, t_max=1e12)


@pytest.mark.parametrize("engine", ENGINES)
def test_memory_message_suggests_a_save_every_that_fits(engine, monkeypatch):
    """With 2 MB available (1 MB usable) and 1e5 steps, the suggested save_every fits."""
    monkeypatch.setattr(lindblad.resources, "available_memory", lambda: 2_000_000)
    with pytest.raises(ValueError, match="only 1 MB fit") as info:
        _run(engine, t_max=1000.0, dt=0.01)
    suggested = int(re.search(r"save_every >= (\d+)", str(info.value)).group(1))
    assert 1 < suggested < 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        with pytest.raises(ValueError, match="fit"):
            _run(engine, t_max=1000.0, dt=0.01, save_every=suggested - 1)
    if engine != "density":  # a density run of 1e5 qubit steps is not needed to show it
        return
    plan = CascadeCollisionModel("qubit", 2).plan(states.correlated_qubits(0.1, 0.3), 1000.0,
                                                  0.01, save_every=suggested)
    assert plan.times.size > 2


def test_absurd_number_of_steps_is_rejected():
    with pytest.raises(ValueError, match="more than a run can take"):
        _run("density", t_max=1e300)


# --- Monte Carlo target ----------------------------------------------------------------------

def test_unreached_target_stderr_warns_with_the_trajectories_needed():
    model = CascadeCollisionModel("qubit", 2, temperature=0.5)
    rho0 = states.correlated_qubits(0.1, 0.3)
    with pytest.warns(AccuracyWarning, match="target_stderr = 1e-05 was not reached") as record:
        mc = model.run(rho0, 0.5, 0.01, method="trajectories", n_trajectories=64, seed=2,
                       target_stderr=1e-5)
    (w,) = only_from_here(record, AccuracyWarning)
    worst = float(np.max(mc.stderr.total))
    assert f"is {worst:.3g};" in str(w.message)
    assert f"about {math.ceil(64 * (worst / 1e-5) ** 2)} trajectories" in str(w.message)


def test_reached_target_stderr_does_not_warn(no_collision_warnings):
    model = CascadeCollisionModel("qubit", 2, temperature=0.5)
    model.run(states.correlated_qubits(0.1, 0.3), 0.5, 0.01, method="trajectories",
              n_trajectories=64, seed=2, target_stderr=1.0)


# --- boson bath --------------------------------------------------------------------------

def test_hot_boson_bath_message_says_what_helps():
    model = CascadeCollisionModel("oscillator", 2, temperature=40.0, cutoff=3, cutoff_tol=0.5)
    with pytest.raises(ValueError, match="no bath cutoff up to 64") as info:
        model.plan(fock_pair(0, 0, 3), 0.1, 0.01)
    for remedy in ("raise bath_tol", "lower dt", "bath='qubit'", "GaussianCollisionModel",
                   "cube of the bath cutoff"):
        assert remedy in str(info.value)


def test_small_bath_cutoff_warning_points_at_the_caller():
    model = CascadeCollisionModel("oscillator", 2, temperature=1.0, cutoff=5, bath_cutoff=2,
                                  cutoff_tol=0.5)
    with pytest.warns(TruncationWarning, match="bath_cutoff=2 leaves") as record:
        model.run(thermal_pair(0.5, 5), 0.1, 0.01)
    (w,) = only_from_here(record, TruncationWarning)
    assert "bath='qubit'" in str(w.message)


def test_correlated_state_gets_a_bath_cutoff_from_its_joint_populations():
    """sqrt(1 - l^2) sum_n l^n |n, n> (l = 0.05): both oscillators are excited together
    with probability 2.5e-3, which the product of the marginals puts at 6e-6.  With the
    product bound alone the automatic bath cutoff was 2 and S2's correlated flux came out
    68 % off the Gaussian engine (exact for second moments, same dt).  Now the cutoff is
    chosen from the joint populations and the engines agree to 1e-7 (the leak bound is
    5.6e-10 per step; the difference 3e-8 is measured)."""
    cutoff, dt = 6, 0.02
    rho0 = two_mode_squeezed(0.05, cutoff)
    cov0 = states.fock_moments(rho0, (cutoff, cutoff))[1]
    dens = CascadeCollisionModel("oscillator", 2, omega=1.3, cutoff=cutoff).run(rho0, 0.6, dt)
    gauss = GaussianCollisionModel(2, omega=1.3).run(cov0, 0.6, dt)
    assert dens.parameters["bath_cutoff"] >= 3
    assert dens.parameters["bath_leak_per_step"] <= 1e-8
    assert np.max(np.abs(gauss.correlated)) > 1e-4
    np.testing.assert_allclose(dens.correlated, gauss.correlated, rtol=0, atol=1e-7)
    np.testing.assert_allclose(dens.local, gauss.local, rtol=0, atol=1e-7)


def test_correlation_leak_of_one_configuration_is_the_population_leak():
    """The configuration (2, 2) with weight 1 against :func:`leak_probability` with every
    subsystem in level 2: both follow the same ancilla distribution through the same
    levels, so they agree to rounding."""
    pops = np.zeros(5)
    pops[2] = 1.0
    for d_anc in (2, 3, 4):
        joint = correlation_leak(d_anc, 0.3, 0.7, 1.0, np.array([1.0]), np.array([[2, 2]]),
                                 5)
        product = leak_probability(d_anc, 0.3, 0.7, 1.0, pops, 2)
        assert joint == pytest.approx(product, rel=1e-12)


# --- Ctrl-C and progress in the Gaussian engine --------------------------------------------

@pytest.fixture
def gaussian_chunks(monkeypatch):
    """Many small chunks: 100 saved intervals in 10 kernel calls of 10 saved times."""
    monkeypatch.setattr(gaussian_module, "MIN_CHUNK_WORK", 0)
    monkeypatch.setattr(gaussian_module, "MAX_CHUNKS", 10)
    real = gaussian_kernels.run_gaussian_collisions
    calls = []

    def interrupt_on(call, when):
        def kernel(*args):
            calls.append(1)
            if len(calls) == call and when == "before-kernel":
                raise KeyboardInterrupt
            real(*args)
            if len(calls) == call:  # Ctrl-C while the kernel ran: raised on return
                raise KeyboardInterrupt
        monkeypatch.setattr(gaussian_kernels, "run_gaussian_collisions", kernel)

    return interrupt_on


GAUSS_ARGS = dict(t_max=2.0, dt=0.01, save_every=2)


def _gauss_model():
    return GaussianCollisionModel(3, temperature=0.4, omega=1.3)


def _gauss_cov():
    cov = states.gaussian_thermal(0.8, 3)
    cov[0, 2] = cov[2, 0] = 0.2  # <X1 X2>: S2 feels correlations
    return cov


@pytest.mark.parametrize("when,n_saved", [("after-kernel", 21), ("before-kernel", 11)],
                         ids=["after-kernel", "before-kernel"])
def test_gaussian_interrupt_returns_the_finished_part(gaussian_chunks, when, n_saved):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        full = _gauss_model().run(_gauss_cov(), **GAUSS_ARGS)
        gaussian_chunks(2, when)
        part = _gauss_model().run(_gauss_cov(), **GAUSS_ARGS)
    assert part.partial and not full.partial
    assert part.t.size == n_saved
    np.testing.assert_array_equal(part.t, full.t[:n_saved])
    np.testing.assert_array_equal(part.local, full.local[:, :n_saved])
    np.testing.assert_array_equal(part.correlated, full.correlated[:, :n_saved])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        gaussian_chunks(-1, when)  # no more interrupts
        shorter = _gauss_model().run(_gauss_cov(), part.t[-1], 0.01)
    np.testing.assert_allclose(part.final_state, shorter.final_state, rtol=0, atol=1e-15)


def test_gaussian_interrupt_before_any_chunk_propagates(gaussian_chunks):
    gaussian_chunks(1, "before-kernel")
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        _gauss_model().run(_gauss_cov(), **GAUSS_ARGS)


def test_gaussian_chunked_run_is_bit_identical_to_one_kernel_call(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        one = _gauss_model().run(_gauss_cov(), **GAUSS_ARGS)
        monkeypatch.setattr(gaussian_module, "MIN_CHUNK_WORK", 0)
        many = _gauss_model().run(_gauss_cov(), **GAUSS_ARGS)
    np.testing.assert_array_equal(one.local, many.local)
    np.testing.assert_array_equal(one.correlated, many.correlated)
    np.testing.assert_array_equal(one.final_state, many.final_state)


def test_gaussian_progress_bar(capsys):
    quiet = GaussianCollisionModel().run(states.gaussian_thermal(1.0), 1.0, 0.01)
    loud = GaussianCollisionModel().run(states.gaussian_thermal(1.0), 1.0, 0.01, progress=True)
    np.testing.assert_array_equal(loud.local, quiet.local)
    assert "Gaussian engine" in capsys.readouterr().err


# --- one frame for final_state -----------------------------------------------------------------

def two_mode_squeezed(lam, cutoff):
    """sqrt(1 - lam^2) sum_n lam^n |n, n>, truncated and renormalised: <a1 a2> != 0, so
    its covariance rotates under the free Hamiltonian (the frame matters)."""
    psi = np.zeros(cutoff**2)
    for k in range(cutoff):
        psi[k * cutoff + k] = lam**k
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi)


def test_gaussian_and_fock_engines_return_the_same_lab_frame_state(no_collision_warnings):
    """The Gaussian engine's covariance equals the covariance of the density engine's
    final state (both lab frame) at the same dt; the collisions act the same way on
    second moments, so the difference is the Fock truncation: rho0's weight on >= 6
    quanta (1.6e-8) and the bath cutoff's leak bound (1e-8 per step)."""
    omega, dt, t_max, cutoff = 1.3, 0.02, 0.6, 6
    rho0 = two_mode_squeezed(0.05, cutoff)
    cov0 = states.fock_moments(rho0, (cutoff, cutoff))[1]
    fock = CascadeCollisionModel("oscillator", 2, omega=omega, cutoff=cutoff)
    dens = fock.run(rho0, t_max, dt)
    gauss = GaussianCollisionModel(2, omega=omega).run(cov0, t_max, dt)
    cov_dens = states.fock_moments(dens.final_state, (cutoff, cutoff))[1]
    np.testing.assert_allclose(gauss.final_state, cov_dens, rtol=0, atol=1e-6)
    rotating = to_lab_frame(gauss.final_state, -t_max, omega)  # back to the rotating frame
    assert np.max(np.abs(rotating - cov_dens)) > 1e-2  # the frames really differ here
    for res in (dens, gauss):
        assert res.parameters["frame"] == "lab"
    mc = fock.run(rho0, 0.1, dt, method="trajectories", n_trajectories=16, seed=1)
    assert mc.parameters["frame"] == "lab"


@pytest.mark.parametrize("change, message", [
    ({"dt": np.complex128(0.01 + 0.01j)}, "dt must be a real number"),
    ({"t_max": 1 + 0j}, "t_max must be a real number"),
    ({"dt": "0.01"}, "dt must be a real number"),
    ({"t_max": np.array([1.0, 2.0])}, "t_max must be a real number"),
], ids=["complex-dt", "complex-t_max", "string-dt", "array-t_max"])
def test_run_times_must_be_real_numbers(change, message):
    from collision import CascadeCollisionModel
    from lindblad import states

    model = CascadeCollisionModel("qubit", temperature=1.0)
    args = {"rho0": states.product(states.thermal("qubit", 1.0), states.thermal("qubit", 1.0)),
            "t_max": 1.0, "dt": 0.01, **change}
    with pytest.raises(ValueError, match=message):
        model.run(**args)


@pytest.mark.parametrize("bad", [np.complex128(1e-8 + 1j), "1e-8", 0.0, 1.5, float("nan")],
                         ids=["complex", "string", "zero", "above-one", "nan"])
def test_bath_tol_is_validated(bad):
    from collision import CascadeCollisionModel

    with pytest.raises(ValueError, match="bath_tol"):
        CascadeCollisionModel("oscillator", cutoff=4, bath_tol=bad)
