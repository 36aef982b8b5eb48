"""The density engine: exact finite-dt references, convergence to the Lindblad
reference, the independent-reservoir model, input validation, interruption.

References used:

* closed forms of the averaged collision map at finite ``dt`` (exact to rounding);
* :class:`lindblad.CascadeMasterEquation` (the ``dt -> 0`` limit; error must be O(dt),
  and O(dt^2) after one Richardson step);
* energy bookkeeping (the integrated flux equals the energy released).
"""

import numpy as np
import pytest

import collision.density as density_module
from collision import CascadeCollisionModel
from collision.density import DensityEngine
from collision.drivers import run_density
from lindblad import states
from lindblad.operators import embed, excitations, lowering
from lindblad.thermal import qubit_polarisation, temperature_from_occupation

FIELDS = ("J1", "J2", "J12", "total")


def trace_distance(a, b):
    return 0.5 * np.abs(np.linalg.eigvalsh(a - b)).sum()


def fitted_order(dts, errors):
    return np.polyfit(np.log(dts), np.log(errors), 1)[0]


def random_state(dim, seed, max_excitations=None, fock=None):
    """Random full-rank state; optionally restricted to total excitation <= max."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    if max_excitations is not None:
        g[fock.sum(axis=1) > max_excitations, :] = 0.0
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def oscillator_thermal_pair(n_s, cutoff):
    one = states.thermal("oscillator", temperature_from_occupation(n_s), cutoff=cutoff)
    return states.product(one, one)


# --- exact references at finite dt -------------------------------------------------------

def test_qubit_J1_matches_the_closed_form_of_one_collision():
    """Qubit bath: P_e -> cos^2(theta) P_e + sin^2(theta) q exactly (q = (1 - xi)/2), so
    J1(t_k) = omega sin^2(theta) / dt (P_e(t_k) - q), P_e(t_k) = q + (P_e(0) - q) cos^(2k)."""
    omega, gamma, dt, temperature = 1.3, 0.8, 0.02, 1.0
    model = CascadeCollisionModel("qubit", 2, gamma=gamma, omega=omega, temperature=temperature)
    rho0 = states.correlated_qubits(0.2, 0.5)
    result = model.run(rho0, 3.0, dt, save_every=3)
    theta = np.sqrt(gamma * dt)
    q = (1 - qubit_polarisation(temperature, omega)) / 2
    k = np.round(result.t / dt)
    p_e = q + (rho0[2, 2].real + rho0[3, 3].real - q) * np.cos(theta) ** (2 * k)
    np.testing.assert_allclose(result.J1, omega * np.sin(theta) ** 2 / dt * (p_e - q),
                               rtol=0, atol=1e-12)


def test_oscillator_J1_matches_the_closed_form_of_one_collision():
    """T = 0, bath_cutoff >= cutoff (no truncation reached): n1 -> cos^2 n1 exactly."""
    cutoff, dt = 8, 0.05
    model = CascadeCollisionModel("oscillator", 2, temperature=0.0, cutoff=cutoff,
                                  bath_cutoff=cutoff)
    rho0 = oscillator_thermal_pair(0.7, cutoff)
    result = model.run(rho0, 4.0, dt)
    theta = np.sqrt(dt)
    n1_0 = np.real(np.diagonal(rho0)) @ (np.arange(cutoff**2) // cutoff)
    n1 = n1_0 * np.cos(theta) ** (2 * np.round(result.t / dt))
    np.testing.assert_allclose(result.J1, np.sin(theta) ** 2 / dt * n1, rtol=0, atol=1e-12)
    # S1 does not feel S2: the independent model has the same J1
    ind = CascadeCollisionModel("oscillator", 2, temperature=0.0, cutoff=cutoff,
                                bath_cutoff=cutoff, cascade=False).run(rho0, 4.0, dt)
    np.testing.assert_allclose(ind.J1, result.J1, rtol=0, atol=1e-12)


# bath_cutoff = cutoff is exact here (no quanta beyond cutoff - 1 exist), although the
# a-priori leak bound, which assumes any populations, warns about it
@pytest.mark.filterwarnings("ignore:bath_cutoff=7 leaves")
def test_oscillator_cascade_matches_the_exact_moment_recursion():
    """T = 0 and a state with at most cutoff - 1 quanta in total: no Fock cutoff is ever
    reached, and the beam-splitter algebra (a_i -> cos a_i - i sin b) closes on
    n1, n2 and x = <a2^dag a1>:

        n1' = c^2 n1,   n2' = c^2 n2 + s^4 n1 - 2 c s^2 Re x,   x' = c^2 x - c s^2 n1,

    giving J1 = s^2 n1 / dt, J2 = s^2 n2 / dt and J12 = (n2 - n2') / dt - J2 exactly."""
    cutoff, dt, omega = 7, 0.04, 1.0
    model = CascadeCollisionModel("oscillator", 2, temperature=0.0, cutoff=cutoff,
                                  bath_cutoff=cutoff)
    rho0 = random_state(cutoff**2, seed=3, max_excitations=cutoff - 1,
                        fock=excitations(model.dims))
    a1 = embed(lowering(cutoff), 0, model.dims).toarray()
    a2 = embed(lowering(cutoff), 1, model.dims).toarray()
    n1 = np.trace(rho0 @ a1.conj().T @ a1).real
    n2 = np.trace(rho0 @ a2.conj().T @ a2).real
    x = np.trace(rho0 @ a2.conj().T @ a1)
    assert abs(x) > 0.05  # the test needs S1-S2 coherence
    result = model.run(rho0, 3.0, dt)
    c, s2 = np.cos(np.sqrt(dt)), np.sin(np.sqrt(dt)) ** 2
    expected = {name: [] for name in ("J1", "J2", "J12")}
    for _ in result.t:
        n2_next = c**2 * n2 + s2**2 * n1 - 2 * c * s2 * x.real
        expected["J1"].append(omega * s2 * n1 / dt)
        expected["J2"].append(omega * s2 * n2 / dt)
        expected["J12"].append(omega * (n2 - n2_next) / dt - omega * s2 * n2 / dt)
        n1, n2, x = c**2 * n1, n2_next, c**2 * x - c * s2 * n1
    for name, values in expected.items():
        np.testing.assert_allclose(getattr(result, name), values, rtol=0, atol=1e-12,
                                   err_msg=name)


# --- convergence to the Lindblad reference ----------------------------------------------------

DTS = (0.1, 0.05, 0.025, 0.0125, 0.00625)  # a factor 16, every dt half the previous one
T_FLUX, T_STATE = 5.0, 2.0


def _convergence_cases():
    q_thermal = states.thermal("qubit", 3.0)
    return {
        "qubits-T0-qubitbath-thermal": (
            dict(system="qubit", temperature=0.0), states.product(q_thermal, q_thermal)),
        "qubits-T1-qubitbath-correlated": (
            dict(system="qubit", temperature=1.0), states.correlated_qubits(0.3, 0.8)),
        "qubits-T1-bosonbath-thermal": (
            dict(system="qubit", temperature=1.0, bath="boson"),
            states.product(states.thermal("qubit", 0.3), q_thermal)),
        "qubits-T0.5-random-with-coherences": (
            dict(system="qubit", temperature=0.5), random_state(4, seed=11)),
        "qubits-n3-T0.5-thermal": (
            dict(system="qubit", n_systems=3, temperature=0.5),
            states.product(q_thermal, q_thermal, states.thermal("qubit", 0.2))),
        "oscillators-N0-cutoff10": (
            dict(system="oscillator", cutoff=10, temperature=0.0),
            oscillator_thermal_pair(0.5, 10)),
        "oscillators-N0.15-cutoff8": (
            dict(system="oscillator", cutoff=8, temperature=temperature_from_occupation(0.15)),
            oscillator_thermal_pair(0.6, 8)),
    }


CONVERGENCE = _convergence_cases()


@pytest.fixture(scope="module", params=list(CONVERGENCE), ids=list(CONVERGENCE))
def convergence(request):
    """Errors for every dt: fluxes (max over the coarsest grid t = 0, 0.1, ..., 5, which
    every run contains), Richardson-extrapolated fluxes, and the state at t = 2."""
    kwargs, rho0 = CONVERGENCE[request.param]
    model = CascadeCollisionModel(**kwargs)
    me = model.master_equation()
    runs = [model.run(rho0, T_FLUX, dt) for dt in DTS]
    grid = runs[0].t
    ref = me.heat_fluxes(rho0, grid)

    def on_grid(result, name):
        stride = (result.t.size - 1) // (grid.size - 1)
        assert np.allclose(result.t[::stride], grid)
        return getattr(result, name)[::stride]

    flux_err = {name: [np.max(np.abs(on_grid(r, name) - getattr(ref, name))) for r in runs]
                for name in FIELDS}
    rich_err = [max(np.max(np.abs(2 * on_grid(fine, name) - on_grid(coarse, name)
                                  - getattr(ref, name))) for name in FIELDS)
                for coarse, fine in zip(runs[:-1], runs[1:], strict=True)]
    rho_ref = me.evolve(rho0, [T_STATE])[0]
    state_err = [trace_distance(model.run(rho0, T_STATE, dt).final_state, rho_ref) for dt in DTS]
    return flux_err, rich_err, state_err


@pytest.mark.parametrize("field", FIELDS)
def test_flux_error_is_first_order_in_dt(convergence, field):
    errors = convergence[0][field]
    order = fitted_order(DTS, errors)
    assert 0.9 <= order <= 1.1, f"{field}: errors {errors}, fitted order {order:.3f}"
    assert errors[-1] < 0.02  # and small: the engine converges to the right limit


def test_richardson_extrapolation_is_second_order(convergence):
    errors = convergence[1]
    order = fitted_order(DTS[:-1], errors)
    assert order >= 1.8, f"Richardson errors {errors}, fitted order {order:.3f}"


def test_final_state_converges_first_order(convergence):
    errors = convergence[2]
    order = fitted_order(DTS, errors)
    assert 0.9 <= order <= 1.1, f"trace distances {errors}, fitted order {order:.3f}"
    assert errors[-1] < 2e-3


# --- the independent-reservoir model and total heat ------------------------------------------

@pytest.mark.parametrize("system,rho0", [
    ("qubit", states.correlated_qubits(0.4, -0.5j)),
    ("oscillator", oscillator_thermal_pair(0.8, 6)),
], ids=["qubits-correlated", "oscillators-thermal"])
def test_independent_model_gives_S2_the_flux_of_S1(system, rho0):
    cutoff = 6 if system == "oscillator" else None
    model = CascadeCollisionModel(system, 2, temperature=0.6, cutoff=cutoff, cascade=False)
    result = model.run(rho0, 3.0, 0.02)
    np.testing.assert_allclose(result.subsystem[1], result.subsystem[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.J12, 0.0, atol=1e-12)
    cascade = CascadeCollisionModel(system, 2, temperature=0.6, cutoff=cutoff).run(rho0, 3.0,
                                                                                     0.02)
    np.testing.assert_allclose(cascade.J1, result.J1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cascade.correlated[0], 0.0, atol=1e-12)  # S1 has no J12 part
    assert np.max(np.abs(cascade.J12)) > 1e-2  # while the cascade does correlate S2


@pytest.mark.parametrize("system,temperature,t_end,rho0", [
    ("qubit", 1.0, 200.0, states.correlated_qubits(0.3, 0.8)),
    ("oscillator", 0.0, 30.0, oscillator_thermal_pair(0.5, 6)),
], ids=["qubits-T1-correlated", "oscillators-T0-thermal"])
def test_cascade_and_independent_release_the_same_total_heat(system, temperature, t_end, rho0):
    """Q(inf) = E(rho0) - E(rho_inf) for both models (paper eq 11), and eq 19.

    Tolerance: the flux at t_k is the forward difference (E_k - E_{k+1})/dt, so its
    trapezoid integral is exactly E(0) - E(t_end) - dt (J(0) - J(t_end)) / 2; the end
    correction is at most dt (|J(0)| + |J(t_end)|) / 2 (~ 1e-3 here).  What remains is
    the energy not yet released at t_end: the slowest mode of the qubit cascade at T = 1
    decays at rate 0.15 gamma (so t_end = 200 leaves ~1e-13), the oscillators relax as
    t^2 e^{-t} (t_end = 30 leaves ~1e-10); we allow 1e-9 for it.
    """
    cutoff = 6 if system == "oscillator" else None
    dt = 0.005
    results = {}
    for cascade in (True, False):
        model = CascadeCollisionModel(system, 2, temperature=temperature, cutoff=cutoff,
                                      cascade=cascade)
        results[cascade] = model.run(rho0, t_end, dt)
        me = model.master_equation()
        energy = np.sum(me.energies(rho0)) - np.sum(me.energies(me.steady_state()))
        assert abs(energy) > 0.05
    for cascade, r in results.items():
        q = np.trapezoid(r.total, r.t)
        tol = dt * (abs(r.total[0]) + abs(r.total[-1])) / 2 + 1e-9
        assert q == pytest.approx(energy, abs=tol), f"cascade={cascade}"
    # eq 19 (locally symmetric states): int (J1 - J2) = int J12 in the cascade
    r = results[True]
    tol = dt * (abs(r.J1[0]) + abs(r.J2[0]) + abs(r.J12[0])) + 1e-9
    assert np.trapezoid(r.J1 - r.J2, r.t) == pytest.approx(np.trapezoid(r.J12, r.t), abs=tol)
    assert abs(np.trapezoid(r.J12, r.t)) > 10 * tol


# --- engine internals: schemes, sectors ---------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(system="qubit", temperature=0.7),
    dict(system="qubit", temperature=0.7, cascade=False, n_systems=3),
    dict(system="oscillator", cutoff=5, temperature=0.4),
    dict(system="oscillator", cutoff=4, temperature=0.4, bath="qubit", cascade=False),
], ids=["qubits", "qubits-n3-independent", "oscillators", "oscillators-qubitbath-independent"])
def test_kernels_and_stored_sectors_agree(kwargs):
    model = CascadeCollisionModel(**kwargs)
    rho0 = random_state(model.dim, seed=5)
    plan = model.plan(rho0, 1.0, 0.05, save_every=2)
    runs = {scheme: DensityEngine(model, plan, scheme=scheme).run()
            for scheme in ("kraus", "superoperator")}
    # only the m = 0 sector matters for the fluxes
    fewer = DensityEngine(model, plan, sectors=[0]).run()
    for r in (runs["superoperator"], fewer):
        np.testing.assert_allclose(r.local, runs["kraus"].local, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r.correlated, runs["kraus"].correlated, rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs["superoperator"].final_state, runs["kraus"].final_state,
                               rtol=0, atol=1e-12)
    # the state stays a density matrix
    rho = runs["kraus"].final_state
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-14)
    assert np.linalg.eigvalsh(rho)[0] > -1e-12


def test_save_every_subsamples_the_same_fluxes():
    model = CascadeCollisionModel("qubit", 2, temperature=0.5)
    rho0 = states.correlated_qubits(0.1, 0.3)
    every = model.run(rho0, 2.0, 0.01)
    sparse = model.run(rho0, 2.0, 0.01, save_every=7)
    np.testing.assert_allclose(sparse.t, every.t[::7], atol=1e-14)
    np.testing.assert_allclose(sparse.local, every.local[:, ::7], atol=1e-13)
    np.testing.assert_allclose(sparse.correlated, every.correlated[:, ::7], atol=1e-13)
    np.testing.assert_allclose(sparse.final_state,
                               model.run(rho0, sparse.t[-1], 0.01).final_state, atol=1e-13)


# --- long runs: progress bar and interruption ----------------------------------------------------

def test_progress_bar_runs(capsys):
    model = CascadeCollisionModel("qubit", 2, temperature=0.5)
    rho0 = states.correlated_qubits(0.1, 0.3)
    quiet = model.run(rho0, 1.0, 0.01)
    loud = model.run(rho0, 1.0, 0.01, progress=True)
    np.testing.assert_array_equal(loud.local, quiet.local)
    assert "density engine" in capsys.readouterr().err


@pytest.mark.parametrize("scheme", ["kraus", "sequential"])
@pytest.mark.parametrize("when", ["after-kernel", "before-kernel"])
def test_keyboard_interrupt_returns_the_finished_part(monkeypatch, when, scheme):
    model = CascadeCollisionModel("oscillator", 2, cutoff=4, temperature=0.3)
    rho0 = oscillator_thermal_pair(0.5, 4)
    plan = model.plan(rho0, 2.0, 0.01, save_every=2)
    full = run_density(model, plan, scheme=scheme)
    monkeypatch.setattr(density_module, "MIN_CHUNK_WORK", 0)  # many small chunks
    monkeypatch.setattr(density_module, "MAX_CHUNKS", 10)
    kernel = f"run_{scheme}"
    real_kernel = getattr(density_module.kernels, kernel)
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3 and when == "before-kernel":
            raise KeyboardInterrupt
        real_kernel(*args)
        if len(calls) == 3:  # Ctrl-C arrived while the kernel ran: raised on return
            raise KeyboardInterrupt

    monkeypatch.setattr(density_module.kernels, kernel, interrupted)
    part = run_density(model, plan, scheme=scheme)
    assert part.partial
    n = part.t.size
    assert 1 < n < full.t.size
    # 10 saved points per chunk (100 intervals / MAX_CHUNKS); the third call is interrupted
    assert n == (31 if when == "after-kernel" else 21)
    np.testing.assert_array_equal(part.local, full.local[:, :n])
    np.testing.assert_array_equal(part.correlated, full.correlated[:, :n])
    monkeypatch.setattr(density_module.kernels, kernel, real_kernel)
    np.testing.assert_allclose(part.final_state,
                               model.run(rho0, part.t[-1], 0.01).final_state, atol=1e-13)


# --- input validation -----------------------------------------------------------------------------

BAD_RUNS = [
    (dict(dt=0.0), "dt must be"),
    (dict(dt=-0.1), "dt must be"),
    (dict(t_max=0.005), "t_max must be"),
    (dict(dt=0.8), "too large"),
    (dict(rho0=np.eye(3) / 3), r"shape \(3, 3\).*is \(4, 4\)"),
    (dict(rho0=np.array([[0.5, 0.5, 0, 0], [0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])),
     "not Hermitian"),
    (dict(rho0=np.diag([0.7, 0.7, -0.4, 0.0])), "not positive"),
    (dict(method="exact"), "method must be one of"),
    (dict(n_trajectories=100), "method='trajectories' only"),
    (dict(seed=1), "method='trajectories' only"),
    (dict(target_stderr=1e-3), "method='trajectories' only"),
    (dict(save_every=0), "save_every"),
]


@pytest.mark.parametrize("change,message", BAD_RUNS,
                         ids=["dt=0", "dt<0", "t_max<dt", "gamma*dt too large", "wrong dimension",
                              "not Hermitian", "not positive", "unknown method",
                              "n_trajectories with density", "seed with density",
                              "target_stderr with density",
                              "save_every=0"])
def test_bad_run_arguments_raise_readable_errors(change, message):
    model = CascadeCollisionModel("qubit", 2, temperature=0.5)
    args = dict(rho0=states.correlated_qubits(0.1, 0.3), t_max=1.0, dt=0.01, method="density")
    args.update(change)
    with pytest.raises(ValueError, match=message):
        model.run(**args)


def test_bad_bath_cutoff_and_scheme_raise():
    rho0 = oscillator_thermal_pair(0.5, 4)
    with pytest.raises(ValueError, match="bath_cutoff must be an integer >= 2"):
        CascadeCollisionModel("oscillator", 2, cutoff=4, temperature=0.5, bath_cutoff=1)
    with pytest.raises(ValueError, match="a qubit bath has 2 levels"):
        CascadeCollisionModel("qubit", 2, bath_cutoff=3)
    model = CascadeCollisionModel("oscillator", 2, cutoff=4, temperature=0.5)
    with pytest.raises(ValueError, match="scheme must be one of"):
        run_density(model, model.plan(rho0, 1.0, 0.01), scheme="fast")


def test_too_small_bath_cutoff_warns():
    model = CascadeCollisionModel("oscillator", 2, cutoff=5, temperature=1.0, bath_cutoff=2)
    with pytest.warns(UserWarning, match="bath_cutoff=2"):
        result = model.run(oscillator_thermal_pair(0.5, 5), 0.5, 0.05)
    assert result.parameters["bath_leak_per_step"] > 1e-8
