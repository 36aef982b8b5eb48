"""The Monte Carlo trajectory engine: unbiasedness, error bars, reproducibility, memory,
input validation, interruption, and its random number generator.

References:

* an independent dense averaged-step map written here with numpy (``kron``-free tensor
  contractions and a partial trace over the ancilla): ``rho -> Tr_B[U (rho x tau) U^dag]``
  with the fluxes defined as in :mod:`collision.model`;
* the exact averaged engine :mod:`collision.density` (used when it is importable);
* NumPy's own ``SeedSequence`` and ``SFC64`` for the generator.

Statistical assertions use fixed seeds, so every run of the suite is identical; the
bounds were chosen so that a correct engine passes them for essentially any seed
(see each test).
"""

import dataclasses
import math
import tracemalloc

import numba
import numpy as np
import pytest

import collision.drivers as drivers
import collision.trajectories as tr
from collision import CascadeCollisionModel
from collision._kernels import rng as krng
from lindblad import states
from lindblad.thermal import temperature_from_occupation

FIELDS = ("J1", "J2", "J12", "total")


# --- independent reference: the dense averaged step -------------------------------------

def _apply_two_site(rho, u, i, n_sys):
    """``U rho U^dag`` for ``u`` acting on subsystem ``i`` and the ancilla (last axis).

    ``rho`` has axes (ket: S1..Sn, B, bra: S1..Sn, B); ``u`` has shape (d, dB, d, dB).
    """
    anc = n_sys
    # ket side: contract u's input indices with the ket axes (i, anc)
    out = np.tensordot(u, rho, axes=([2, 3], [i, anc]))
    out = np.moveaxis(out, [0, 1], [i, anc])
    # bra side: rho U^dag, contract the bra axes with conj(u)'s input indices
    bra_i, bra_anc = n_sys + 1 + i, 2 * n_sys + 1
    out = np.tensordot(out, u.conj(), axes=([bra_i, bra_anc], [2, 3]))
    return np.moveaxis(out, [-2, -1], [bra_i, bra_anc])


def dense_reference(model, plan):
    """Fluxes of the averaged collision map, computed densely (small systems only)."""
    n, d, db = model.n_systems, plan.d_sys, plan.d_anc
    dim = d**n
    u = plan.unitary.dense().reshape(d, db, d, db)
    tau = np.diag(plan.anc_pop).astype(complex)
    fock = plan.fock

    def collide(rho, sites):
        joint = np.kron(rho, tau).reshape([d] * n + [db] + [d] * n + [db])
        for i in sites:
            joint = _apply_two_site(joint, u, i, n)
        joint = joint.reshape(dim, db, dim, db)
        return np.einsum("akbk->ab", joint)

    def step(rho):
        if model.cascade:
            return collide(rho, range(n))
        for i in range(n):
            rho = collide(rho, [i])
        return rho

    def energies(rho):
        p = np.real(np.diagonal(rho))
        return np.array([p @ plan.levels[fock[:, i]] for i in range(n)])

    local = np.zeros((n, plan.times.size))
    corr = np.zeros_like(local)
    rho = plan.rho0.copy()
    for s in range(plan.n_steps):
        nxt = step(rho)
        if s % plan.save_every == 0:
            k = s // plan.save_every
            p = np.real(np.diagonal(rho))
            local[:, k] = [p @ plan.local_flux[fock[:, i]] for i in range(n)]
            corr[:, k] = (energies(rho) - energies(nxt)) / plan.dt - local[:, k]
        rho = nxt
    return local, corr


# --- the cases --------------------------------------------------------------------------

def _correlated_oscillators(cutoff):
    """A locally mixed, correlated two-mode state with a coherence between |01> and |10>
    (block diagonal in the excitation number, not diagonal)."""
    t_s = temperature_from_occupation(0.4)
    rho = states.product(*[states.thermal("oscillator", t_s, cutoff)] * 2)
    i01, i10 = 1, cutoff  # |0,1> and |1,0>
    c = 0.8 * math.sqrt(rho[i01, i01].real * rho[i10, i10].real)
    rho[i01, i10] = rho[i10, i01] = c
    return rho


def _coherent_qubits():
    """Qubits with coherences between different excitation numbers (|gg> + i|ee>)."""
    psi = np.array([0.6, 0, 0, 0.8j])
    thermal = states.product(*[states.thermal("qubit", 1.5)] * 2)
    return 0.5 * np.outer(psi, psi.conj()) + 0.5 * thermal


CASES = {
    # id: (model kwargs, rho0 factory, t_max, dt, save_every, n_trajectories, run kwargs)
    "qubits-T0-thermal": (dict(system="qubit", temperature=0.0),
                          lambda: states.product(*[states.thermal("qubit", 2.0)] * 2),
                          3.0, 0.05, 4, 3000, {}),
    "qubits-T1-correlated": (dict(system="qubit", temperature=1.0),
                             lambda: states.correlated_qubits(0.3, 0.6),
                             3.0, 0.05, 4, 3000, {}),
    "qubits-T0.7-coherent-collisions": (dict(system="qubit", temperature=0.7),
                                        _coherent_qubits, 3.0, 0.05, 4, 3000,
                                        dict(stepper="collisions")),
    "qubits3-T0.5-collision-estimator": (dict(system="qubit", n_systems=3, temperature=0.5),
                                         lambda: states.product(
                                             *[states.thermal("qubit", 1.0)] * 3),
                                         2.0, 0.05, 4, 3000,
                                         dict(stepper="collisions", estimator="collision")),
    "oscillators-T0-thermal": (dict(system="oscillator", cutoff=6, temperature=0.0),
                               lambda: states.product(
                                   *[states.thermal("oscillator",
                                                    temperature_from_occupation(0.8), 6)] * 2),
                               3.0, 0.05, 4, 3000, {}),
    "oscillators-T0.8-correlated": (dict(system="oscillator", cutoff=5, temperature=0.8),
                                    lambda: _correlated_oscillators(5),
                                    2.0, 0.05, 4, 3000, {}),
    "oscillators-independent-T0.8": (dict(system="oscillator", cutoff=5, temperature=0.8,
                                          cascade=False),
                                     lambda: _correlated_oscillators(5),
                                     2.0, 0.05, 4, 3000, {}),
}

_RESULTS = {}


def case_result(name):
    """(model, plan, Monte Carlo result, dense reference), computed once per case."""
    if name not in _RESULTS:
        kwargs, rho0, t_max, dt, every, n, run_kwargs = CASES[name]
        model = CascadeCollisionModel(**kwargs)
        plan = model.plan(rho0(), t_max, dt, every)
        seed = 1000 + list(CASES).index(name)
        mc = tr.run_trajectories(model, plan, n_trajectories=n, seed=seed, **run_kwargs)
        _RESULTS[name] = (model, plan, mc, dense_reference(model, plan))
    return _RESULTS[name]


def z_scores(mc, local, corr):
    """z = (Monte Carlo - exact) / stderr for J1, J2, J12, total at every saved time.

    Points where the standard error is 0 (e.g. an exact zero) must agree to 1e-9 and
    are left out of the z statistics.
    """
    ref = tr.HeatFluxes(mc.t, local, corr)
    zs = []
    for name in FIELDS:
        diff = getattr(mc, name) - getattr(ref, name)
        se = getattr(mc.stderr, name)
        exact = se == 0
        assert np.all(np.abs(diff[exact]) < 1e-9), name
        zs.append(diff[~exact] / se[~exact])
    return np.concatenate(zs)


@pytest.mark.parametrize("name", list(CASES))
def test_mean_within_4_stderr_of_dense_reference(name):
    """Every saved time of every field lies within 4 standard errors of the exact
    averaged map (P(|z| > 4) = 6e-5 per point for a correct engine)."""
    model, plan, mc, (local, corr) = case_result(name)
    z = z_scores(mc, local, corr)
    assert z.size >= 20
    assert np.max(np.abs(z)) < 4.0, f"max |z| = {np.max(np.abs(z)):.2f}"


def test_fraction_within_2_stderr_is_about_95_percent():
    """Pooled over all cases (>= 50 points, 7 independent runs), the fraction of points
    within 2 standard errors is >= 85%.  Points of one run are correlated in time, so
    the fraction scatters more than a binomial; with ~7 independent runs its standard
    deviation is about 3%, so 85% is ~3 deviations below the expected 95% while a bias
    of one standard error would pull it down to ~80%."""
    z = np.concatenate([z_scores(*case_result(name)[2:3], *case_result(name)[3])
                        for name in CASES])
    assert z.size >= 50
    fraction = np.mean(np.abs(z) < 2)
    assert fraction >= 0.85, f"{fraction:.3f} of {z.size} points within 2 stderr"


@pytest.mark.parametrize("name", ["qubits-T1-correlated", "oscillators-T0.8-correlated",
                                  "oscillators-independent-T0.8",
                                  "qubits3-T0.5-collision-estimator"])
def test_mean_within_4_stderr_of_density_engine(name):
    """Same comparison against the exact averaged engine (and the two references agree
    to rounding)."""
    model, plan, mc, (local, corr) = case_result(name)
    exact = drivers.run_density(model, plan)
    np.testing.assert_allclose(exact.local, local, atol=1e-10)
    np.testing.assert_allclose(exact.correlated, corr, atol=1e-10)
    z = z_scores(mc, exact.local, exact.correlated)
    assert np.max(np.abs(z)) < 4.0, f"max |z| = {np.max(np.abs(z)):.2f}"


def test_final_state_is_the_trajectory_average():
    """The averaged |psi><psi| at the last saved time estimates the density engine's
    state: Hermitian, unit trace, within a few standard errors entrywise."""
    model, plan, mc, _ = case_result("qubits-T1-correlated")
    rho = mc.final_state
    assert np.allclose(rho, rho.conj().T, atol=1e-12)
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)
    exact = drivers.run_density(model, plan).final_state
    n = mc.parameters["n_trajectories"]
    assert np.max(np.abs(rho - exact)) < 4.0 * 0.5 / math.sqrt(n)  # |entries| <= 1/2


def test_correlated_flux_of_fresh_ancilla_subsystems_is_exactly_zero():
    """S1 always meets a fresh ancilla, and so does every subsystem without cascade:
    their correlated flux is zero in every trajectory, hence exactly zero."""
    _, _, mc, _ = case_result("qubits-T1-correlated")
    assert np.all(mc.correlated[0] == 0.0) and np.all(mc.stderr.correlated[0] == 0.0)
    _, _, mc, _ = case_result("oscillators-independent-T0.8")
    assert np.all(mc.correlated == 0.0)


# --- error bars -------------------------------------------------------------------------

def _qubit_problem(t_max=2.0, dt=0.05, save_every=4, temperature=1.0):
    model = CascadeCollisionModel("qubit", temperature=temperature)
    rho0 = states.product(*[states.thermal("qubit", 2.0)] * 2)
    return model, model.plan(rho0, t_max, dt, save_every)


def test_stderr_falls_as_inverse_square_root_of_n():
    """Fitted exponent of the mean standard error of the total flux vs n = 250..8000
    (independent seeds) lies in [-0.55, -0.45]: the stderr of a stderr estimate is
    ~1/sqrt(2n) relative, so the exponent is determined to about +-0.02."""
    model, plan = _qubit_problem()
    ns = np.array([250, 500, 1000, 2000, 4000, 8000])
    se = [np.mean(tr.run_trajectories(model, plan, n_trajectories=int(n), seed=7 + k)
                  .stderr.total) for k, n in enumerate(ns)]
    slope = np.polyfit(np.log(ns), np.log(se), 1)[0]
    assert -0.55 <= slope <= -0.45, f"fitted exponent {slope:.3f}"


def test_streaming_statistics_equal_a_direct_computation(monkeypatch):
    """Means and standard errors merged batch by batch (Chan et al.) equal numpy's
    mean and std(ddof=1)/sqrt(n) of the per-trajectory values, for every field
    including the sums J2, J12 and total (whose errors include the covariances)."""
    model = CascadeCollisionModel("qubit", n_systems=3, temperature=1.0)
    plan = model.plan(states.product(*[states.thermal("qubit", 2.0)] * 3), 1.0, 0.05, 2)
    captured = []
    real = tr._run_batch

    def capture(states_, tables, init, n_steps, save_every, rows, final_psi):
        real(states_, tables, init, n_steps, save_every, rows, final_psi)
        captured.append(rows[:states_.shape[0]].copy())

    monkeypatch.setattr(tr, "_run_batch", capture)
    monkeypatch.setattr(tr, "MAX_BATCH", 64)
    mc = tr.run_trajectories(model, plan, n_trajectories=150, seed=3)
    assert len(captured) == 3  # batches of 64, 64, 22
    rows = np.concatenate(captured).transpose(1, 0, 2, 3)  # (n_saved, n_traj, 2, n)
    loc, cor = rows[:, :, 0, :], rows[:, :, 1, :]
    per_traj = {"J1": loc[..., 0], "J2": loc[..., 1:].sum(-1), "J12": cor.sum(-1),
                "total": loc.sum(-1) + cor.sum(-1)}
    for name, x in per_traj.items():
        np.testing.assert_allclose(getattr(mc, name), x.mean(axis=1), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(getattr(mc.stderr, name),
                                   x.std(axis=1, ddof=1) / math.sqrt(x.shape[1]),
                                   rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(mc.stderr.subsystem,
                               (loc + cor).std(axis=1, ddof=1).T / math.sqrt(150),
                               rtol=1e-9, atol=1e-14)


def test_target_stderr_stops_at_the_first_batch_that_reaches_it():
    model, plan = _qubit_problem()
    target = 0.02
    mc = tr.run_trajectories(model, plan, n_trajectories=100_000, seed=11,
                             target_stderr=target)
    used = mc.parameters["n_trajectories"]
    batch = mc.parameters["batch_size"]
    assert used < 100_000 and used % batch == 0
    assert np.max(mc.stderr.total) <= target
    # one batch fewer (the same trajectories, seeded by index) has not reached it
    fewer = tr.run_trajectories(model, plan, n_trajectories=used - batch, seed=11)
    assert np.max(fewer.stderr.total) > target


def test_n_trajectories_is_an_upper_limit_with_target_stderr():
    model, plan = _qubit_problem()
    mc = tr.run_trajectories(model, plan, n_trajectories=100, seed=1, target_stderr=1e-6)
    assert mc.parameters["n_trajectories"] == 100
    assert not mc.partial


# --- reproducibility -----------------------------------------------------------------------

@pytest.fixture
def restore_threads():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


def _identical(a, b):
    return (np.array_equal(a.local, b.local) and np.array_equal(a.correlated, b.correlated)
            and np.array_equal(a.stderr.local, b.stderr.local)
            and np.array_equal(a.stderr.correlated, b.stderr.correlated)
            and np.array_equal(a.stderr.total, b.stderr.total)
            and (a.final_state is None or np.array_equal(a.final_state, b.final_state)))


@pytest.mark.parametrize("stepper", ["matrices", "collisions"])
def test_same_seed_is_bit_identical_on_one_and_two_threads(restore_threads, stepper):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 numba threads")
    model = CascadeCollisionModel("oscillator", cutoff=4, temperature=0.6)
    rho0 = _correlated_oscillators(4)
    plan = model.plan(rho0, 1.0, 0.05, 2)
    runs = []
    for threads in (1, 2, 1):
        numba.set_num_threads(threads)
        runs.append(tr.run_trajectories(model, plan, n_trajectories=2100, seed=42,
                                        stepper=stepper))
    assert runs[0].parameters["batch_size"] < 2100  # several batches
    assert _identical(runs[0], runs[1]) and _identical(runs[0], runs[2])


def test_different_seeds_give_different_results():
    model, plan = _qubit_problem()
    a = tr.run_trajectories(model, plan, n_trajectories=200, seed=1)
    b = tr.run_trajectories(model, plan, n_trajectories=200, seed=2)
    assert not np.array_equal(a.local, b.local)


def test_seed_sequence_and_its_integer_give_the_same_run_and_it_is_not_consumed():
    model, plan = _qubit_problem()
    ss = np.random.SeedSequence(5)
    a = tr.run_trajectories(model, plan, n_trajectories=100, seed=ss)
    b = tr.run_trajectories(model, plan, n_trajectories=100, seed=ss)
    c = tr.run_trajectories(model, plan, n_trajectories=100, seed=5)
    assert _identical(a, b) and _identical(a, c)
    assert ss.n_children_spawned == 0


def test_seed_none_records_its_entropy_so_the_run_can_be_repeated():
    model, plan = _qubit_problem()
    a = tr.run_trajectories(model, plan, n_trajectories=50)
    b = tr.run_trajectories(model, plan, n_trajectories=50,
                            seed=np.random.SeedSequence(a.parameters["seed_entropy"]))
    assert _identical(a, b)
    assert a.parameters["n_trajectories"] == 50 and a.parameters["seed"] is None


def test_model_run_dispatches_and_records_the_run():
    model, _ = _qubit_problem()
    rho0 = states.product(*[states.thermal("qubit", 2.0)] * 2)
    mc = model.run(rho0, 1.0, 0.05, method="trajectories", n_trajectories=64, seed=9)
    assert mc.parameters["method"] == "trajectories"
    assert mc.parameters["n_trajectories"] == 64 and mc.parameters["seed"] == 9
    assert mc.stderr is not None and mc.stderr.total.shape == mc.t.shape


# --- memory -------------------------------------------------------------------------------------

def test_buffers_do_not_grow_with_n_trajectories(monkeypatch):
    """The batch buffers have the same shape for 5,000 and 50,000 trajectories, bounded
    by ``MAX_BATCH`` (the trajectories themselves are skipped here: only the driver's
    allocations are under test)."""
    model, plan = _qubit_problem()
    shapes = {}

    def whole(a):  # the allocated buffer behind a view of its first rows
        return a.base.shape if a.base is not None else a.shape

    def fake_batch(states_, tables, init, n_steps, save_every, rows, final_psi):
        shapes.setdefault(n, set()).add((whole(states_), whole(rows), whole(final_psi)))

    monkeypatch.setattr(tr, "_run_batch", fake_batch)
    for n in (5_000, 50_000):
        tr.run_trajectories(model, plan, n_trajectories=n, seed=0)
    assert shapes[5_000] == shapes[50_000]
    (state_shape, row_shape, _), = shapes[50_000]
    assert row_shape[0] <= tr.MAX_BATCH and state_shape[0] <= tr.MAX_BATCH


def test_peak_memory_does_not_grow_with_n_trajectories():
    """tracemalloc peak (numpy allocations of the driver) for 10,000 trajectories is
    within 1.5x of that for 1,000."""
    model, plan = _qubit_problem(t_max=1.0, dt=0.05, save_every=1)
    tr.run_trajectories(model, plan, n_trajectories=1_000, seed=0)  # compile, caches
    peaks = []
    for n in (1_000, 10_000):
        tracemalloc.start()
        tr.run_trajectories(model, plan, n_trajectories=n, seed=0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks


# --- input validation --------------------------------------------------------------------

@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, True, "100", np.float64(10.0)])
def test_bad_n_trajectories(bad):
    model, plan = _qubit_problem()
    with pytest.raises(ValueError, match="n_trajectories must be an integer >= 2"):
        tr.run_trajectories(model, plan, n_trajectories=bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "abc", True, np.random.default_rng(0)])
def test_bad_seed(bad):
    model, plan = _qubit_problem()
    with pytest.raises(ValueError, match="seed must be None, an integer >= 0 or a "
                                         "numpy.random.SeedSequence"):
        tr.run_trajectories(model, plan, n_trajectories=10, seed=bad)


@pytest.mark.parametrize("bad", [0, -1e-3, math.nan, math.inf, "small", True])
def test_bad_target_stderr(bad):
    model, plan = _qubit_problem()
    with pytest.raises(ValueError, match="target_stderr must be a finite number > 0"):
        tr.run_trajectories(model, plan, target_stderr=bad)


def test_non_normalisable_state_is_rejected():
    model, plan = _qubit_problem()
    with pytest.raises(ValueError, match="unit trace"):
        model.run(np.zeros((4, 4)), 1.0, 0.05, method="trajectories", n_trajectories=10)
    bad_plan = dataclasses.replace(plan, rho0=-np.eye(4) / 4)
    with pytest.raises(ValueError, match="no positive eigenvalue"):
        tr.run_trajectories(model, bad_plan, n_trajectories=10)


def test_bad_method_options():
    model, plan = _qubit_problem()
    with pytest.raises(ValueError, match="estimator must be one of"):
        tr.run_trajectories(model, plan, n_trajectories=10, estimator="magic")
    with pytest.raises(ValueError, match="stepper must be one of"):
        tr.run_trajectories(model, plan, n_trajectories=10, stepper="magic")
    with pytest.raises(ValueError, match="needs the conditional flux estimator"):
        tr.run_trajectories(model, plan, n_trajectories=10, stepper="matrices",
                            estimator="collision")


# --- interruption and progress -------------------------------------------------------------

def _interrupt_on_call(monkeypatch, call):
    real = tr._run_batch
    calls = []

    def batch(*args):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(tr, "_run_batch", batch)


def test_interrupt_returns_the_finished_batches_as_partial(monkeypatch):
    model, plan = _qubit_problem()
    monkeypatch.setattr(tr, "MAX_BATCH", 64)
    clean = tr.run_trajectories(model, plan, n_trajectories=128, seed=4)
    _interrupt_on_call(monkeypatch, 3)
    mc = tr.run_trajectories(model, plan, n_trajectories=1000, seed=4)
    assert mc.partial and not clean.partial
    assert mc.parameters["n_trajectories"] == 128
    assert _identical(mc, clean)


def test_interrupt_before_any_batch_finished_propagates(monkeypatch):
    model, plan = _qubit_problem()
    _interrupt_on_call(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        tr.run_trajectories(model, plan, n_trajectories=100, seed=4)


def test_progress_bar(capsys):
    model, plan = _qubit_problem()
    mc = tr.run_trajectories(model, plan, n_trajectories=100, seed=4, progress=True,
                             target_stderr=1.0)
    assert mc.parameters["n_trajectories"] == 100
    assert "trajectories" in capsys.readouterr().err


# --- the random number generator ------------------------------------------------------------

@pytest.mark.parametrize("seed_sequence", [
    np.random.SeedSequence(0),
    np.random.SeedSequence(2**130 + 17),
    np.random.SeedSequence([1, 2**40, 3], spawn_key=(7, 2**33)),
    np.random.SeedSequence(12345, pool_size=8),
    np.random.SeedSequence(99, n_children_spawned=7),
], ids=["zero", "big-entropy", "spawn-key", "pool-8", "already-spawned"])
def test_streams_equal_numpy_sfc64_of_spawned_seed_sequences(seed_sequence):
    """Trajectory j's generator is bit-identical to numpy.random.SFC64(ss.spawn(n)[j]):
    state after seeding, raw outputs, and doubles (Generator.random)."""
    first = seed_sequence.n_children_spawned
    states_ = np.zeros((5, krng.SFC64_WORDS), dtype=np.uint64)
    krng.seed_children(tr.seed_prefix(seed_sequence), seed_sequence.pool_size, first, states_)
    for j, child in enumerate(seed_sequence.spawn(5)):
        reference = np.random.SFC64(child)
        assert np.array_equal(states_[j], reference.state["state"]["state"])
        state = states_[j].copy()
        raw = [krng.sfc64_next(state) for _ in range(8)]
        assert np.array_equal(np.array(raw, dtype=np.uint64), reference.random_raw(8))
        state = states_[j].copy()
        doubles = [krng.uniform(state) for _ in range(8)]
        assert doubles == list(np.random.Generator(np.random.SFC64(child)).random(8))


def test_streams_of_children_beyond_2_to_the_32():
    """Child indices >= 2^32 take two entropy words, as in NumPy (whose ``spawn`` itself
    counts with 32 bits, so the children are built explicitly here)."""
    parent = np.random.SeedSequence(2024)
    first = 2**32 - 2
    states_ = np.zeros((4, krng.SFC64_WORDS), dtype=np.uint64)
    krng.seed_children(tr.seed_prefix(parent), parent.pool_size, first, states_)
    for j in range(4):
        child = np.random.SeedSequence(parent.entropy, spawn_key=(first + j,))
        assert np.array_equal(states_[j], np.random.SFC64(child).state["state"]["state"])


def test_oscillators_with_cutoff_40_run_in_bounded_memory():
    """Two oscillators with 40 Fock levels each (D = 1600): the tables stay small (the
    stage matrices of the T = 0 bath hold < 2e6 entries), the batch buffers are bounded,
    and the t = 0 fluxes (exact conditional expectations over the sampled initial Fock
    states) agree with the exact ones within 4 standard errors."""
    model = CascadeCollisionModel("oscillator", cutoff=40, temperature=0.0)
    rho0 = states.product(*[states.thermal("oscillator", temperature_from_occupation(2.0),
                                           40)] * 2)
    plan = model.plan(rho0, 0.5, 0.05, 5)
    tables, _, stepper = tr.build_tables(model, plan)
    assert stepper == "matrices" and tables.mats.size < 2e6
    mc = tr.run_trajectories(model, plan, n_trajectories=400, seed=8)
    assert mc.final_state is None  # D > MAX_FINAL_STATE_DIM: not accumulated
    z = (mc.local[:, 0] - exact_local_at_start(plan)) / mc.stderr.local[:, 0]
    assert np.all(np.abs(z) < 4), z


def exact_local_at_start(plan):
    """Exact local fluxes at t = 0: sum_n P_i(n) o(n) of the initial state."""
    p = np.real(np.diagonal(plan.rho0))
    n = plan.fock.shape[1]
    return np.array([p @ plan.local_flux[plan.fock[:, i]] for i in range(n)])
