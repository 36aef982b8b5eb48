"""Trajectories from a product of local states with coherences (sampled subsystem by
subsystem, collision.trajectories.sampled_ensemble and the kernel's draw_product_state).

References: the density engine on the dense product state (the trajectory mean is an
unbiased estimate of its value at the same dt, so they agree within standard errors);
the local states themselves (the sampled ensemble must reproduce them exactly).
"""

import itertools
import warnings

import numpy as np
import pytest

import collision
import collision.trajectories as tr
from collision._kernels import rng as _rng
from collision._kernels import trajectories as _k
from lindblad import states

pytestmark = [pytest.mark.filterwarnings("ignore::collision.AccuracyWarning"),
              pytest.mark.filterwarnings("ignore::collision.TruncationWarning")]

PLUS = np.full((2, 2), 0.5, dtype=complex)  # |+><+|: pure, coherent


def coherent(d: int, weight: float, phase: float) -> np.ndarray:
    """A mixed local state with coherences between all its levels: ``(1 - weight)``
    times a Fock-diagonal state plus ``weight`` times a complex superposition."""
    pops = np.linspace(1.0, 0.4, d)
    phi = np.exp(1j * phase * np.arange(d)) * np.sqrt(np.linspace(0.5, 1.5, d))
    phi /= np.linalg.norm(phi)
    return (1 - weight) * np.diag(pops / pops.sum()) + weight * np.outer(phi, phi.conj())


# a 3-level state with coherence between levels 0 and 1 only (level 2 empty): its
# eigenstates live on levels 0 and 1
LOW_QUBIT = np.zeros((3, 3), dtype=complex)
LOW_QUBIT[:2, :2] = [[0.7, 0.3j], [-0.3j, 0.3]]

# name: (system, temperature, cutoff, local states, n_trajectories)
CASES = {
    "2-qubits-plus-thermal-T1": ("qubit", 1.0, None, [PLUS, states.thermal("qubit", 0.7)],
                                 3000),
    "3-qubits-coherent-everywhere-T0": ("qubit", 0.0, None,
                                        [coherent(2, 0.6, 0.4), coherent(2, 0.8, 1.3),
                                         coherent(2, 0.5, -2.0)], 3000),
    "3-qubits-coherent-everywhere-T1": ("qubit", 1.0, None,
                                        [coherent(2, 0.6, 0.4), PLUS,
                                         coherent(2, 0.5, -2.0)], 3000),
    "2-oscillators-cutoff3-T0": ("oscillator", 0.0, 3, [coherent(3, 0.7, 0.9), LOW_QUBIT],
                                 3000),
    "2-oscillators-cutoff3-T1": ("oscillator", 1.0, 3, [coherent(3, 0.7, 0.9),
                                                        coherent(3, 0.4, -1.1)], 3000),
}


def _model(system, temperature, cutoff, n):
    return collision.CascadeCollisionModel(system, n, temperature=temperature, cutoff=cutoff)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_trajectory_mean_agrees_with_the_density_engine(name):
    """Every local, correlated and own flux at every saved time within 4 standard errors
    of the density engine on the dense product (plus 1e-12 where the estimate has no
    spread, e.g. the local flux of a pure local state at t = 0)."""
    system, temperature, cutoff, local, n_traj = CASES[name]
    model = _model(system, temperature, cutoff, len(local))
    exact = model.run(states.product(*local), 0.4, 0.02, save_every=4)
    mc = model.run(local, 0.4, 0.02, save_every=4, method="trajectories",
                   n_trajectories=n_traj, seed=11)
    for field in ("local", "correlated", "subsystem"):
        diff = np.abs(getattr(mc, field) - getattr(exact, field))
        assert np.all(diff <= 4 * getattr(mc.stderr, field) + 1e-12), field
    assert np.all(np.abs(mc.total - exact.total) <= 4 * mc.stderr.total + 1e-12)


def _local_states_of(init: _k.InitialEnsemble, i: int):
    """Weights and vectors (d,) of subsystem ``i``'s drawable states."""
    cdf = init.local_cdf[i]
    weights = np.diff(np.concatenate([[0.0], cdf]))
    out = []
    for j in np.flatnonzero(weights > 0):
        vec = np.zeros(cdf.size, dtype=complex)
        c = init.local_count[i, j]
        vec[init.local_level[i, j, :c]] = init.local_amp[i, j, :c]
        out.append((weights[j], vec))
    return out


def _plan_tables(name):
    system, temperature, cutoff, local, _ = CASES[name]
    model = _model(system, temperature, cutoff, len(local))
    plan = model.plan(local, 0.1, 0.02)
    tables, _, _ = tr.build_tables(model, plan)
    return local, tables, tr.sampled_ensemble(plan.initial, tables)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_the_sampled_ensemble_is_the_initial_state(name):
    """Summed over all combinations of local eigenstates, ``prod p_ij |phi><phi|`` is the
    product of the local states (1e-14: rounding of a d x d eigendecomposition), and
    every local state is the mixture of its eigenstates, which are normalised."""
    local, _, init = _plan_tables(name)
    members = [_local_states_of(init, i) for i in range(len(local))]
    for rho, member in zip(local, members, strict=True):
        mix = sum(w * np.outer(v, v.conj()) for w, v in member)
        np.testing.assert_allclose(mix, rho, rtol=0, atol=1e-14)
        for _, v in member:
            assert abs(np.linalg.norm(v) - 1) < 1e-14
    total = 0
    for combo in itertools.product(*members):
        w = np.prod([c[0] for c in combo])
        v = combo[0][1]
        for c in combo[1:]:
            v = np.kron(v, c[1])
        total = total + w * np.outer(v, v.conj())
    np.testing.assert_allclose(total, states.product(*local), rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", ["3-qubits-coherent-everywhere-T1",
                                  "2-oscillators-cutoff3-T0"],
                         ids=["3-qubits", "2-oscillators-level-2-empty"])
def test_the_kernel_draws_product_states_with_their_weights(name):
    """The kernel's draw: every state is exactly (1e-15) one product of local
    eigenstates, written at its storage positions, with the window lo..hi the least and
    most excited basis state it reaches; every product occurs with its weight within 4
    binomial standard errors over 4000 draws."""
    local, tables, init = _plan_tables(name)
    n, d = len(local), local[0].shape[0]
    members = [_local_states_of(init, i) for i in range(n)]
    combos = list(itertools.product(*[range(len(m)) for m in members]))
    vectors = []
    for combo in combos:
        v = np.ones(1, dtype=complex)
        for i, j in enumerate(combo):
            v = np.kron(v, members[i][j][1])
        vectors.append(v[tables.sector_states])  # storage order
    weights = np.array([np.prod([members[i][j][0] for i, j in enumerate(combo)])
                        for combo in combos])
    sector_of = np.repeat(np.arange(tables.sector_start.size - 1), np.diff(tables.sector_start))
    n_draws = 4000
    ss = np.random.SeedSequence(3)
    rng_states = np.zeros((n_draws, _rng.SFC64_WORDS), dtype=np.uint64)
    _rng.seed_children(tr.seed_prefix(ss), ss.pool_size, 0, rng_states)
    counts = np.zeros(len(combos))
    psi = np.zeros(d**n, dtype=complex)
    scratch = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
               np.empty(n + 1, dtype=complex), np.empty(n + 1, dtype=np.int64))
    for s in rng_states:
        psi[:] = 0
        lo, hi, *_ = _k.draw_product_state(s[0], s[1], s[2], s[3], init, tables.stride, psi,
                                           *scratch)
        match = [c for c, v in enumerate(vectors) if np.max(np.abs(psi - v)) < 1e-15]
        assert len(match) == 1
        counts[match[0]] += 1
        support = sector_of[np.flatnonzero(psi)]
        assert (lo, hi) == (support.min(), support.max())
    stderr = np.sqrt(weights * (1 - weights) / n_draws)
    assert np.all(np.abs(counts / n_draws - weights) <= 4 * stderr + 1e-12)


def test_a_14_qubit_chain_with_coherences_runs_from_its_local_states():
    """No dense 16384 x 16384 matrix: the run takes seconds.  S1 = |+> is pure, so its
    local flux at t = 0 has no Monte Carlo noise and equals the single-qubit value (the
    density engine on |+> x |0>, 1e-12); the other subsystems' local fluxes at t = 0
    are within 4 standard errors of their exact values (same engine, their local
    state on S1)."""
    n = 14
    local = [PLUS] + [coherent(2, 0.6, 0.3 * i) for i in range(1, n)]
    model = collision.CascadeCollisionModel("qubit", n, temperature=1.0)
    res = model.run(local, 0.04, 0.01, method="trajectories", n_trajectories=32, seed=4)
    pair = collision.CascadeCollisionModel("qubit", 2, temperature=1.0)
    ground = np.diag([1.0, 0.0]).astype(complex)
    exact = [pair.run(states.product(rho, ground), 0.04, 0.01).local[0, 0] for rho in local]
    assert res.stderr.local[0, 0] < 1e-15
    assert abs(res.local[0, 0] - exact[0]) < 1e-12
    assert np.all(np.abs(res.local[:, 0] - exact) <= 4 * res.stderr.local[:, 0] + 1e-12)
    assert np.all(res.stderr.local[1:, 0] > 0)  # mixed local states: a real test


def test_results_do_not_depend_on_threads_or_batches(monkeypatch):
    """Same seed: bit-identical results with 1 or 2 threads and batches of 256 or 64."""
    import numba

    local = CASES["3-qubits-coherent-everywhere-T1"][3]
    model = collision.CascadeCollisionModel("qubit", 3, temperature=1.0)

    def run(threads):
        return model.run(local, 0.2, 0.02, method="trajectories", n_trajectories=256, seed=8,
                         options=collision.TrajectoryOptions(n_threads=threads))

    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    one, two = run(1), run(threads)
    monkeypatch.setattr(tr, "MAX_BATCH", 64)
    monkeypatch.setattr(tr, "BATCH_WORK", 1.0)
    batched = run(threads)
    assert batched.parameters["batch_size"] == 64 != one.parameters["batch_size"]
    for other in (two, batched):
        for field in ("local", "correlated"):
            np.testing.assert_array_equal(getattr(other, field), getattr(one, field))
        np.testing.assert_array_equal(other.stderr.total, one.stderr.total)
        np.testing.assert_array_equal(other.final_state, one.final_state)


def test_the_density_engine_still_needs_the_dense_state():
    """13 qubits with a coherent S1 at T > 0: every block is reachable, the density
    engine refuses with the trajectory engine named; the trajectory engine runs."""
    local = [PLUS] + [states.thermal("qubit", 0.7)] * 12
    model = collision.CascadeCollisionModel("qubit", 13, temperature=1.0)
    with pytest.raises(ValueError, match="method='trajectories'.*with or without coherences"):
        model.run(local, 0.02, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.run(local, 0.02, 0.01, method="trajectories", n_trajectories=8, seed=1)
    assert np.all(np.isfinite(res.total))


def test_plan_builds_no_restricted_matrix_for_a_list():
    """At T = 0 the reachable basis of 7 |+> and 7 ground states has 9,908 states: the
    plan keeps the list (no 9,908 x 9,908 matrix, 1.6 GB); the density engine restricts
    it when it needs it, and gets the dense matrix's numbers."""
    g = np.diag([1.0, 0.0]).astype(complex)
    plan = _model("qubit", 0.0, None, 14).plan([PLUS] * 7 + [g] * 7, 0.02, 0.01)
    assert plan.basis.size == 9908 and plan.rho0 is None
    model = _model("qubit", 0.0, None, 4)
    local = [PLUS, PLUS, g, g]
    from_list = model.run(local, 0.1, 0.01)
    from_matrix = model.run(states.product(*local), 0.1, 0.01)
    np.testing.assert_array_equal(from_list.total, from_matrix.total)


def test_heat_statistics_sample_a_list_with_coherences_beyond_the_dense_limit():
    """13 qubits (D = 8192 > 4096) with |+> on S1: the counting statistics by
    trajectories sample the list; the distribution of q is normalised at every time."""
    g = np.diag([1.0, 0.0]).astype(complex)
    stats = _model("qubit", 0.0, None, 13).heat_statistics(
        [PLUS] + [g] * 12, 0.05, 0.01, method="trajectories", n_trajectories=64, seed=3)
    np.testing.assert_allclose(stats.probabilities.sum(axis=1), 1.0, atol=1e-12)
