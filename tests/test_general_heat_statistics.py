"""Heat statistics of general collision models (collision/counting_general.py).

References: the cascade's own heat statistics (collision/counting.py), a dense two-point
measurement written here (every ancilla prepared in a level, the step's unitary built with
scipy's expm on subsystems x ancillas, every ancilla projected on a level afterwards), the
mean heat of the density engine, and the exchange fluctuation theorem.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
import scipy.linalg

import collision
from collision import Collision, CollisionModel, HeatStatistics, presets
from collision.counting_general import excitations, scaled_cumulant_generating_function

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # |g><e|, ground first
EX = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)  # sigma_+ b + sigma_- b^dag
QUBIT_H = 0.5 * np.diag([-1.0, 1.0]).astype(complex)  # (omega / 2) sigma_z, omega = 1
#: Agreement of two exact computations of the same probabilities: both are sums of a few
#: hundred rounded products per step; measured differences are below 4e-15.
EXACT = 1e-10


def thermal(d: int, beta: float, omega: float = 1.0) -> np.ndarray:
    p = np.exp(-beta * omega * np.arange(d))
    return np.diag(p / p.sum()).astype(complex)


def conserving(rng, dims, scale: float = 1.0) -> np.ndarray:
    """A random Hermitian matrix on ``dims`` that commutes with the total excitation
    number (entries only between basis states of equal excitation number)."""
    n = excitations(dims)
    m = rng.normal(size=(n.size, n.size)) + 1j * rng.normal(size=(n.size, n.size))
    return scale * (m + m.conj().T) / 2 * (n[:, None] == n[None, :])


def random_model(seed: int, omega_cold: float = 0.6, beta_hot: float = 0.3,
                 beta_cold: float = 1.5) -> CollisionModel:
    """A qubit and a qutrit, a hot qubit stream and a cold qutrit stream, three collisions
    (one on both subsystems, one of Hamiltonian type) and a coupling Hamiltonian."""
    rng = np.random.default_rng(seed)
    return CollisionModel(
        [2, 3], conserving(rng, [2, 3]),
        {"hot": thermal(2, beta_hot), "cold": thermal(3, beta_cold, omega_cold)},
        [Collision(0, conserving(rng, [2, 2]), "hot"),
         Collision((0, 1), conserving(rng, [2, 3, 3]), "cold"),
         Collision(1, conserving(rng, [3, 2], 0.5), "hot", scale="dt")],
        stream_hamiltonians={"hot": np.diag([0.0, 1.0]),
                             "cold": omega_cold * np.diag([0.0, 1.0, 2.0]) + 0.3 * np.eye(3)})


def grand_canonical(dims, lam: float) -> np.ndarray:
    w = np.exp(-lam * excitations(dims))
    return np.diag(w / w.sum()).astype(complex)


# --- the dense two-point measurement -------------------------------------------------------

def _on_factors(op: np.ndarray, targets: list[int], dims: list[int]) -> np.ndarray:
    """``op`` on the factors ``targets`` (first most significant) of ``dims``, identity on
    the rest, by an explicit index loop over the basis."""
    total = math.prod(dims)
    out = np.zeros((total, total), dtype=complex)
    rest = [i for i in range(len(dims)) if i not in targets]
    for a in itertools.product(*[range(d) for d in dims]):
        for b in itertools.product(*[range(d) for d in dims]):
            if any(a[i] != b[i] for i in rest):
                continue
            ia = np.ravel_multi_index(a, dims)
            ib = np.ravel_multi_index(b, dims)
            la = np.ravel_multi_index([a[t] for t in targets], [dims[t] for t in targets])
            lb = np.ravel_multi_index([b[t] for t in targets], [dims[t] for t in targets])
            out[ia, ib] = op[la, lb]
    return out


def dense_statistics(model: CollisionModel, rho0: np.ndarray, dt: float, n_steps: int
                     ) -> dict[tuple[int, ...], float]:
    """``{(q_1, .., q_n): P}`` after ``n_steps``: every step prepares each stream's ancilla
    in level ``k_r`` (probability ``eta_r[k_r, k_r]``), applies the collisions (scipy
    expm on subsystems x ancillas) and ``exp(-i H dt)``, and projects every ancilla on
    level ``l_r``; the counts add ``l_r - k_r``."""
    order = list(model.streams)
    n = len(model.dims)
    dims = list(model.dims) + [model.stream_dims[r] for r in order]
    strength = {"sqrt_dt": math.sqrt(dt), "dt": dt, "none": 1.0}
    u = np.eye(math.prod(dims), dtype=complex)
    for c in model.collisions:
        gen = _on_factors(c.interaction, [*c.subsystems, n + order.index(c.stream)], dims)
        u = scipy.linalg.expm(-1j * strength[c.scale] * gen) @ u
    u = _on_factors(scipy.linalg.expm(-1j * dt * model.hamiltonian), list(range(n)), dims) @ u
    d, a_dims = model.dim, [model.stream_dims[r] for r in order]
    levels = list(itertools.product(*[range(x) for x in a_dims]))
    states = {(0,) * len(order): np.asarray(rho0, dtype=complex)}
    for _ in range(n_steps):
        new: dict[tuple[int, ...], np.ndarray] = {}
        for q, rho in states.items():
            for k in levels:
                p = math.prod(model.streams[r][k[i], k[i]].real for i, r in enumerate(order))
                if p == 0:
                    continue
                ket = np.zeros(math.prod(a_dims))
                ket[np.ravel_multi_index(k, a_dims)] = 1.0
                out = (u @ np.kron(rho, np.outer(ket, ket)) @ u.conj().T).reshape(
                    d, len(ket), d, len(ket))
                for lev in levels:
                    j = np.ravel_multi_index(lev, a_dims)
                    key = tuple(qi + li - ki for qi, li, ki in zip(q, lev, k, strict=True))
                    new[key] = new.get(key, 0) + p * out[:, j, :, j]
        states = new
    return {q: float(np.trace(rho).real) for q, rho in states.items()}


def joint_at(stats: HeatStatistics, k: int, q: tuple[int, ...]) -> float:
    c = stats.local_quanta.size // 2
    if any(abs(x) > c for x in q):
        return 0.0
    return float(stats.joint[(k, *[c + x for x in q])])


def three_streams(seed: int) -> CollisionModel:
    """A qubit and a qubit-qubit pair of streams plus a qutrit one: three counts."""
    rng = np.random.default_rng(seed)
    return CollisionModel(
        [2, 2], conserving(rng, [2, 2]),
        {"a": thermal(2, 0.1), "b": thermal(3, 1.0, 0.5), "c": thermal(2, 2.0, 1.3)},
        [Collision(0, conserving(rng, [2, 2]), "a"),
         Collision((0, 1), conserving(rng, [2, 2, 3]), "b"),
         Collision(1, conserving(rng, [2, 2]), "c"), Collision(0, conserving(rng, [2, 2]), "c")],
        stream_hamiltonians={"a": np.diag([0.0, 1.0]), "b": 0.5 * np.diag([0.0, 1.0, 2.0]),
                             "c": 1.3 * np.diag([0.0, 1.0])})


@pytest.mark.parametrize("build, seed", [(random_model, 3), (random_model, 11),
                                         (three_streams, 5)],
                         ids=["two streams seed3", "two streams seed11", "three streams"])
def test_joint_distribution_equals_dense_two_point_measurement(build, seed):
    model = build(seed)
    rng = np.random.default_rng(seed + 100)
    psi = rng.normal(size=model.dim) + 1j * rng.normal(size=model.dim)
    rho0 = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real  # coherences between blocks
    dt, steps = 0.07, 4
    stats = model.heat_statistics(rho0, steps * dt, dt)
    ref = dense_statistics(model, rho0, dt, steps)
    assert np.isclose(sum(ref.values()), 1.0, atol=1e-12)
    worst = max(abs(joint_at(stats, steps, q) - p) for q, p in ref.items())
    assert worst < EXACT
    # nothing outside the reference's support, and the total is the joint's sum
    assert abs(stats.joint[steps].sum() - 1.0) < EXACT
    totals = {}
    for q, p in ref.items():
        totals[sum(q)] = totals.get(sum(q), 0.0) + p
    assert max(abs(stats.probability(s)[steps] - p) for s, p in totals.items()) < EXACT


@pytest.mark.parametrize("build", [random_model, three_streams], ids=["two streams",
                                                                       "three streams"])
def test_kraus_and_superoperator_schemes_agree(build):
    model = build(8)
    rho0 = np.eye(model.dim) / model.dim
    sup = model.heat_statistics(rho0, 0.5, 0.05, scheme="superoperator")
    kraus = model.heat_statistics(rho0, 0.5, 0.05, scheme="kraus")
    assert (sup.parameters["scheme"], kraus.parameters["scheme"]) == ("superoperator", "kraus")
    assert np.max(np.abs(sup.joint - kraus.joint)) < EXACT
    with pytest.raises(ValueError, match="scheme"):
        model.heat_statistics(rho0, 0.5, 0.05, scheme="sequential")


@pytest.mark.parametrize("kwargs", [
    {"n_systems": 2, "temperature": 1.0},
    {"n_systems": 3, "temperature": 0.5},
    {"n_systems": 2, "temperature": 0.7, "cascade": False},
    {"n_systems": 3, "temperature": 1.5, "cascade": False},
], ids=["2 qubits", "3 qubits", "2 qubits independent", "3 qubits independent"])
def test_cascade_preset_equals_cascade_engine(kwargs):
    cm = presets.cascade("qubit", **kwargs)
    d = 2 ** kwargs["n_systems"]
    rng = np.random.default_rng(d)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    rho0 = 0.5 * np.outer(psi, psi.conj()) / np.vdot(psi, psi).real + 0.5 * np.eye(d) / d
    with warnings.catch_warnings():  # gamma dt = 0.05 is coarse (AccuracyWarning), on purpose
        warnings.simplefilter("ignore", collision.AccuracyWarning)
        ref = cm.heat_statistics(rho0, 1.0, 0.05, save_every=2)
    got = cm.general().heat_statistics(rho0, 1.0, 0.05, save_every=2)
    assert np.array_equal(got.t, ref.t)
    assert np.array_equal(got.quanta, ref.quanta)
    assert np.max(np.abs(got.probabilities - ref.probabilities)) < EXACT
    if ref.joint is not None:
        assert np.array_equal(got.local_quanta, ref.local_quanta)
        assert np.max(np.abs(got.joint - ref.joint)) < EXACT
    else:
        assert got.joint is None


@pytest.mark.parametrize("save_every", [1, 3], ids=["every step", "every 3rd"])
def test_marginal_means_equal_the_density_runs_heat(save_every):
    model = random_model(5)
    rho0 = [thermal(2, 0.4), thermal(3, 0.9)]
    dt = 0.05
    stats = model.heat_statistics(rho0, 1.2, dt, save_every=save_every)
    run = model.run(rho0, 1.2, dt)  # every step: its heat per unit time
    omegas = stats.parameters["quantum_energies"]
    q = stats.local_quanta
    for axis, name in enumerate(stats.parameters["joint_streams"]):
        marginal = stats.marginal(name)
        assert np.array_equal(marginal, stats.marginal(axis))
        mean = omegas[name] * (marginal @ q)
        steps = np.arange(stats.t.size) * save_every
        expected = np.concatenate([[0.0], np.cumsum(run.heat[name]) * dt])[steps]
        assert np.max(np.abs(mean - expected)) < EXACT
    # the total: kappa_1 is the sum of the streams' quanta
    assert np.max(np.abs(stats.mean - sum(stats.marginal(ax) @ q for ax in range(2)))) < EXACT


# --- the exchange fluctuation theorem ---------------------------------------------------

def _factor(stats: HeatStatistics, betas: dict[str, float], lam: float) -> np.ndarray:
    """``exp(sum_r (beta_r omega_r - lam) q_r)`` on the joint grid."""
    q = stats.local_quanta
    grids = np.meshgrid(*[q] * (stats.joint.ndim - 1), indexing="ij")
    omegas = stats.parameters["quantum_energies"]
    exponent = sum((betas[r] * omegas[r] - lam) * g
                   for r, g in zip(stats.parameters["joint_streams"], grids, strict=True))
    return np.exp(exponent)


def _flipped(joint_k: np.ndarray) -> np.ndarray:
    return joint_k[(slice(None, None, -1),) * joint_k.ndim]


@pytest.mark.parametrize("lam", [0.0, 0.8, -0.5], ids=["maximally mixed", "lam 0.8",
                                                       "lam -0.5"])
@pytest.mark.parametrize("dt", [0.1, 0.02], ids=["dt 0.1", "dt 0.02"])
def test_exchange_theorem_is_exact_against_the_reversed_model(lam, dt):
    model = random_model(7)
    rho0 = grand_canonical([2, 3], lam)
    forward = model.heat_statistics(rho0, 0.6, dt)
    reverse = model.time_reversed().heat_statistics(rho0, 0.6, dt)
    f = _factor(forward, {"hot": 0.3, "cold": 1.5}, lam)
    for k in range(forward.t.size):
        gap = np.abs(forward.joint[k] - f * _flipped(reverse.joint[k])) / np.maximum(1, f)
        assert gap.max() < EXACT
    # and the single process alone is not symmetric at finite dt (the test can fail)
    last = forward.joint[-1]
    assert np.max(np.abs(last - f * _flipped(last)) / np.maximum(1, f)) > 1e-4


def _resonant_qubit(order: str, beta_hot: float = 0.2, beta_cold: float = 1.0):
    cols = {"h": Collision(0, EX, "hot"), "c": Collision(0, EX, "cold")}
    return CollisionModel([2], QUBIT_H, {"hot": thermal(2, beta_hot), "cold": thermal(2, beta_cold)},
                          [cols[o] for o in order],
                          stream_hamiltonians={"hot": QUBIT_H, "cold": QUBIT_H})


@pytest.mark.parametrize("lam", [0.0, 0.6], ids=["maximally mixed", "lam 0.6"])
def test_palindromic_step_obeys_the_single_process_theorem_exactly(lam):
    model = _resonant_qubit("hch")
    stats = model.heat_statistics(grand_canonical([2], lam), 2.0, 0.05, save_every=5)
    f = _factor(stats, {"hot": 0.2, "cold": 1.0}, lam)
    for k in range(stats.t.size):
        gap = np.abs(stats.joint[k] - f * _flipped(stats.joint[k])) / np.maximum(1, f)
        assert gap.max() < EXACT


def _detuned_chain() -> CollisionModel:
    """Two exchange-coupled qubits of frequencies 1 and 0.6, S1 with a hot stream
    (beta 0.2, omega 1), S2 with a cold one (beta 1, omega 0.6): each quantum carried from
    hot to cold costs the work 1 - 0.6."""
    n1 = np.diag([0.0, 1.0]).astype(complex)
    h = np.kron(n1, np.eye(2)) + 0.6 * np.kron(np.eye(2), n1) + 0.5 * EX
    return CollisionModel([2, 2], h, {"hot": thermal(2, 0.2), "cold": thermal(2, 1.0, 0.6)},
                          [Collision(0, EX, "hot"), Collision(1, EX, "cold")],
                          stream_hamiltonians={"hot": n1, "cold": 0.6 * n1})


ASYMPTOTIC = {"resonant qubit": (lambda: _resonant_qubit("hc"), (0.2, 1.0)),
              "detuned chain": (_detuned_chain, (0.2, 0.6)),
              "random model": (lambda: random_model(7), (0.3, 0.9))}


@pytest.mark.parametrize("name, target, last_error", [
    ("resonant qubit", 0.8, 0.006), ("detuned chain", 0.4, 0.025)],
    ids=["resonant qubit", "detuned chain"])
def test_exchange_theorem_for_the_net_transfer_holds_asymptotically(name, target, last_error):
    """Hot collision then cold one (not a palindrome): ln[P(q_c = q) / P(q_c = -q)] is
    linear in q with a slope that approaches beta_c omega_c - beta_h omega_h as t grows
    (the boundary steps and the initial state add O(1) to ln P, so the slope's error falls
    like 1/t).  Measured errors at t = 10, 20, 30, 40: 0.016, 0.009, 0.006, 0.0047
    (qubit); 0.049, 0.035, 0.026, 0.020 (chain)."""
    model = ASYMPTOTIC[name][0]()
    stats = model.heat_statistics(np.eye(model.dim) / model.dim, 40.0, 0.1, save_every=100)
    q = stats.local_quanta
    errors = []
    for k in range(1, stats.t.size):  # t = 10, 20, 30, 40
        marginal = stats.marginal("cold")[k]
        pos, neg = marginal[q > 0][:4], marginal[q < 0][::-1][:4]
        slope = np.polyfit(np.arange(1, 5), np.log(pos / neg), 1)[0]
        errors.append(abs(slope - target))
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[-1] < last_error
    assert errors[-1] < 0.5 * errors[0]


@pytest.mark.parametrize("name", ["resonant qubit", "detuned chain"])
def test_tilted_step_map_has_the_gallavotti_cohen_symmetry(name):
    """Lambda(s) = Lambda(-s - beta omega) at finite dt: the asymptotic theorem is exact
    for these models (their reverse shares the tilted map's spectrum); measured 4e-14."""
    build, beta_omega = ASYMPTOTIC[name]
    model = build()
    rng = np.random.default_rng(4)
    for _ in range(4):
        s = rng.normal(size=2) * 0.7
        gap = scaled_cumulant_generating_function(model, 0.1, s) - \
            scaled_cumulant_generating_function(model, 0.1, -s - np.array(beta_omega))
        assert abs(gap) < EXACT


def test_gallavotti_cohen_symmetry_fails_when_the_reverse_differs():
    """Three collisions and a coupling Hamiltonian: the reverse order changes the tilted
    map's spectrum, and the single-process theorem fails even asymptotically (measured
    up to 5e-4 in Lambda at dt = 0.1)."""
    build, beta_omega = ASYMPTOTIC["random model"]
    model = build()
    s = np.array([0.4, -0.3])
    gap = scaled_cumulant_generating_function(model, 0.1, s) - \
        scaled_cumulant_generating_function(model, 0.1, -s - np.array(beta_omega))
    assert abs(gap) > 1e-7


def test_scgf_slope_is_the_steady_heat_current():
    """dLambda/ds_r at s = 0 (central difference, step 1e-5: error ~1e-10) times omega_r
    equals the density run's heat after relaxation (t = 80, relaxed to 1e-9)."""
    model = _detuned_chain()
    run = model.run(np.eye(4) / 4, 80.0, 0.1)
    for i, (name, omega) in enumerate((("hot", 1.0), ("cold", 0.6))):
        s = np.zeros(2)
        s[i] = 1e-5
        slope = (scaled_cumulant_generating_function(model, 0.1, s)
                 - scaled_cumulant_generating_function(model, 0.1, -s)) / 2e-5
        assert abs(omega * slope - run.heat[name][-1]) < 1e-8


# --- files and refusals -------------------------------------------------------------------

@pytest.mark.parametrize("build", [random_model, three_streams], ids=["two streams",
                                                                       "three streams"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_save_and_load_keep_the_joint_distribution(tmp_path, suffix, build):
    model = build(2)
    stats = model.heat_statistics(grand_canonical(model.dims, 0.3), 0.3, 0.1)
    path = stats.save(tmp_path / f"stats{suffix}")
    back = HeatStatistics.load(path)
    assert np.array_equal(back.joint, stats.joint)
    assert np.array_equal(back.probabilities, stats.probabilities)
    assert back.parameters["joint_streams"] == list(model.streams)


def _refusals():
    ground = np.diag([1.0, 0.0]).astype(complex)
    sx = np.array([[0, 1], [1, 0]], dtype=complex)
    plain = {"dims": [2], "hamiltonian": QUBIT_H, "streams": ground,
             "collisions": [Collision(0, EX)], "stream_hamiltonians": {"bath": QUBIT_H}}
    yield "non-conserving collision", {**plain, "collisions": [Collision(0, np.kron(sx, sx))]}, \
        "collisions[0]"
    yield "coherent ancilla", {**plain, "streams": np.full((2, 2), 0.5, dtype=complex)}, \
        "not diagonal"
    yield "no stream Hamiltonian", {**plain, "stream_hamiltonians": None}, "no Hamiltonian"
    yield "unequal spacing", {**plain, "dims": [3], "hamiltonian": np.diag([0.0, 1, 2]),
                              "streams": np.diag([1.0, 0, 0]),
                              "collisions": [Collision(0, conserving(
                                  np.random.default_rng(0), [3, 3]))],
                              "stream_hamiltonians": {"bath": np.diag([0.0, 1.0, 3.0])}}, \
        "equally spaced"
    yield "driven system", {**plain, "hamiltonian": sx}, "[H, N_S]"
    yield "memory", {**plain, "memory": {"bath": collision.Memory(
        collision.partial_swap(2, 0.3))}}, "memory"
    yield "delay", {**plain, "dims": [2, 2], "hamiltonian": None,
                    "collisions": [Collision(0, EX), Collision(1, EX)], "delay": 0.2}, "delay"


@pytest.mark.parametrize("kwargs, match", [(k, m) for _, k, m in _refusals()],
                         ids=[name for name, _, _ in _refusals()])
def test_refuses_models_without_countable_heat(kwargs, match):
    model = CollisionModel(**kwargs)
    with pytest.raises(ValueError, match=re.escape(match)):
        model.heat_statistics(np.eye(model.dim) / model.dim, 0.2, 0.1)


@pytest.mark.parametrize("fields", [[0.1], [0.1, np.nan], "x"], ids=repr)
def test_scgf_refuses_bad_fields(fields):
    with pytest.raises(ValueError, match="fields"):
        scaled_cumulant_generating_function(_detuned_chain(), 0.1, fields)


def test_refuses_other_methods():
    with pytest.raises(ValueError, match="method"):
        random_model(1).heat_statistics(np.eye(6) / 6, 0.2, 0.1, method="trajectories")


@pytest.mark.parametrize("axis", [2, -1, "warm", 1.0, True], ids=repr)
def test_marginal_refuses_axes_it_does_not_have(axis):
    stats = random_model(1).heat_statistics(np.eye(6) / 6, 0.2, 0.1)
    with pytest.raises(ValueError, match="marginal"):
        stats.marginal(axis)


@pytest.mark.parametrize("t_max, match", [(20.0, "use save_every >= "),
                                          (2000.0, "lower t_max")],
                         ids=["many saved times", "one saved time too large"])
def test_memory_check_refuses_a_joint_distribution_that_does_not_fit(t_max, match,
                                                                    monkeypatch):
    monkeypatch.setenv("CASCADE_MEMORY_LIMIT", "1e9")
    with pytest.raises(ValueError, match=match):
        random_model(1).heat_statistics(np.eye(6) / 6, t_max, 0.01)
