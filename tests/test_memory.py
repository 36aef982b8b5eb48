"""Collision models with memory (issue 19) against independent references.

* both engines against the dense register of ``tests/dense_memory.py`` (subsystems x
  carried ancillas, explicit outgoing / incoming collisions): the density engine to 1e-12,
  trajectories within their standard errors;
* ``memory=None`` is the memoryless model bit for bit, and ``W = 1`` reproduces it;
* the composite (pseudomode) picture equals the memory route at every step;
* the damped Jaynes-Cummings limit (Breuer and Petruccione, Sec. 10.1) at order 1 in dt;
* bad input: clear errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from dense_collision import random_hermitian, random_state
from dense_memory import dense_memory_run, swap_legs
from scipy.linalg import expm

import collision
from collision import Collision, CollisionModel, Memory, partial_swap
from collision.options import DensityOptions

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground first
EXCHANGE = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)
GROUND = np.diag([1.0, 0.0]).astype(complex)
EXCITED = np.diag([0.0, 1.0]).astype(complex)


def thermal(d: int, temperature: float) -> np.ndarray:
    """Levels 0, 1, ..., d-1 (energies 0, 1, ...) at ``temperature`` (0: the ground state)."""
    if temperature == 0:
        p = np.eye(d)[0]
    else:
        p = np.exp(-np.arange(d) / temperature)
    return np.diag(p / p.sum()).astype(complex)


# --- random models with memory --------------------------------------------------------------
# name: (subsystem dims, {stream: (ancilla dim, temperature, memory (scale, swap) or None)},
#        collisions as (subsystems, stream, scale))
CASES = {
    "1-sub-qubit-T0-partial-swap": (
        [2], {"m": (2, 0.0, ("none", False))}, [(0, "m", "sqrt_dt"), (0, "m", "dt")]),
    "1-sub-qutrit-T1-swap": (
        [2], {"m": (3, 1.0, ("sqrt_dt", True))}, [(0, "m", "sqrt_dt")]),
    "2-sub-qubit-T1-and-memoryless-qutrit": (
        [2, 2], {"m": (2, 1.0, ("dt", False)), "f": (3, 0.7, None)},
        [(0, "m", "sqrt_dt"), (1, "f", "sqrt_dt"), ((1, 0), "m", "dt"), (1, "m", "sqrt_dt")]),
    "2-sub-two-memories-qubit-T0-qutrit-T1": (
        [2, 2], {"a": (2, 0.0, ("none", True)), "b": (3, 1.0, ("sqrt_dt", False))},
        [(0, "a", "sqrt_dt"), (0, "b", "sqrt_dt"), (1, "a", "sqrt_dt"), (1, "b", "dt")]),
}


def build(case: str, seed: int = 7):
    """The model and the same ingredients for the dense reference."""
    dims, spec, colls = CASES[case]
    rng = np.random.default_rng(seed)
    streams = {r: thermal(d, temp) for r, (d, temp, _) in spec.items()}
    energies = {r: np.diag(np.arange(d, dtype=float)).astype(complex)
                for r, (d, _, _) in spec.items()}
    collisions = []
    for subs, r, scale in colls:
        n_sub = 1 if isinstance(subs, int) else len(subs)
        d_s = math.prod(dims[s] for s in ((subs,) if isinstance(subs, int) else subs))
        assert n_sub >= 1
        collisions.append(((subs,) if isinstance(subs, int) else subs,
                           0.8 * random_hermitian(rng, d_s * spec[r][0]), r, scale))
    memory = {r: (0.9 * random_hermitian(rng, d * d), m[0], m[1])
              for r, (d, _, m) in spec.items() if m is not None}
    d_total = math.prod(dims)
    h = 0.5 * random_hermitian(rng, d_total)
    rho0 = random_state(rng, d_total)
    model = CollisionModel(dims, h, streams,
                           [Collision(s, v, r, sc) for s, v, r, sc in collisions],
                           stream_hamiltonians=energies,
                           memory={r: Memory(v, sc, sw) for r, (v, sc, sw) in memory.items()})
    return model, (dims, h, streams, collisions, energies, memory), rho0


@pytest.mark.parametrize("scheme", ["sequential", "superoperator"])
@pytest.mark.parametrize("case", list(CASES))
def test_density_engine_equals_dense_register(case, scheme):
    """Expectation values, every stream's heat and the final state to 1e-12 over 30 steps
    (rounding of products of unit-scale matrices; measured below 8e-15 for expectation
    values and states, 4e-13 for the heat, which is divided by dt = 0.05)."""
    model, (dims, h, streams, collisions, energies, memory), rho0 = build(case)
    d = model.dim
    rng = np.random.default_rng(1)
    e_ops = {"A": random_hermitian(rng, d), "B": rng.normal(size=(d, d)) + 0j}
    dt, steps = 0.05, 30
    res = model.run(rho0, steps * dt, dt, e_ops=e_ops, save_every=2,
                    options=DensityOptions(scheme=scheme))
    assert res.parameters["scheme"] == scheme
    expect, heat, rhos = dense_memory_run(dims, h, streams, collisions, energies, memory,
                                          rho0, dt, steps + 1, e_ops)
    for k in e_ops:
        assert np.max(np.abs(res.expect[k] - expect[k][::2])) < 1e-12, k
    for r in streams:
        assert np.max(np.abs(res.heat[r] - heat[r][::2])) < 1e-12, r
    assert res.final_state.shape == (d, d)
    assert np.max(np.abs(res.final_state - rhos[steps])) < 1e-12
    # the memory matters: the memoryless model is far from the reference
    plain = CollisionModel(dims, h, streams, model.collisions, stream_hamiltonians=energies)
    far = plain.run(rho0, steps * dt, dt, e_ops=e_ops, save_every=2)
    assert np.max(np.abs(far.expect["A"] - expect["A"][::2])) > 1e-3


@pytest.mark.parametrize("case", ["1-sub-qutrit-T1-swap",
                                  "2-sub-qubit-T1-and-memoryless-qutrit",
                                  "2-sub-two-memories-qubit-T0-qutrit-T1"])
def test_trajectories_agree_with_dense_register(case):
    """A chi-square over the 16 saved times of an expectation value and every stream's
    heat: the mean of z^2 (correlated through the shared trajectories) stays below 4
    (measured 0.52-1.40); the final state (average of |psi><psi| reduced to the
    subsystems, entries of modulus <= 1, so standard errors <= 1/sqrt(n)) within
    6/sqrt(n) = 0.095 entrywise (measured 0.004-0.010)."""
    model, (dims, h, streams, collisions, energies, memory), rho0 = build(case)
    d = model.dim
    rng = np.random.default_rng(2)
    e_ops = {"A": random_hermitian(rng, d)}
    dt, steps = 0.05, 30
    mc = model.run(rho0, steps * dt, dt, method="trajectories", e_ops=e_ops, save_every=2,
                   n_trajectories=4000, seed=5)
    expect, heat, rhos = dense_memory_run(dims, h, streams, collisions, energies, memory,
                                          rho0, dt, steps + 1, e_ops)
    pieces = [(mc.expect["A"], expect["A"][::2].real, mc.stderr.expect["A"])]
    pieces += [(mc.heat[r], heat[r][::2], mc.stderr.heat[r]) for r in streams]
    for got, want, err in pieces:
        z = (got - want)[1:] / err[1:]
        assert np.all(np.isfinite(z))
        assert np.mean(z**2) < 4.0, np.mean(z**2)
    assert mc.final_state.shape == (d, d)
    np.testing.assert_allclose(np.trace(mc.final_state), 1.0, atol=1e-12)
    assert np.max(np.abs(mc.final_state - rhos[steps])) < 6 / math.sqrt(4000)


# --- the memoryless model as a special case -------------------------------------------------

def _memoryless(**memory):
    """The case's subsystems and collisions without memory; ``memory=...`` if given."""
    model, (dims, h, streams, collisions, energies, _), rho0 = \
        build("2-sub-qubit-T1-and-memoryless-qutrit")
    return CollisionModel(dims, h, streams, model.collisions, stream_hamiltonians=energies,
                          **memory), rho0


@pytest.mark.parametrize("method", ["density", "trajectories"])
def test_memory_none_is_the_memoryless_model_bit_for_bit(method):
    plain, rho0 = _memoryless()
    none, _ = _memoryless(memory=None)
    e_ops = {"A": np.diag(np.arange(plain.dim, dtype=float))}
    kw = {"n_trajectories": 200, "seed": 3} if method == "trajectories" else {}
    a = plain.run(rho0, 0.5, 0.05, method=method, e_ops=e_ops, **kw)
    b = none.run(rho0, 0.5, 0.05, method=method, e_ops=e_ops, **kw)
    assert np.array_equal(a.expect["A"], b.expect["A"])
    for r in a.heat:
        assert np.array_equal(a.heat[r], b.heat[r])
    assert np.array_equal(a.final_state, b.final_state)


IDENTITY_W = {
    "V=0": lambda d: Memory(np.zeros((d * d, d * d))),
    "partial-swap-phi=0": lambda d: Memory(partial_swap(d, 0.0)),
    # SWAP exp(-i pi/2 SWAP) = -i 1: the identity up to a global phase
    "swap-after-full-partial-swap": lambda d: Memory(partial_swap(d, math.pi / 2), swap=True),
}


@pytest.mark.parametrize("scheme", ["sequential", "superoperator"])
@pytest.mark.parametrize("w", list(IDENTITY_W))
def test_identity_memory_reproduces_the_memoryless_model(w, scheme):
    """``W = 1`` (up to a phase) on both streams: the carried ancilla leaves untouched
    and a fresh one takes its place, so the result equals the memoryless one to 1e-13."""
    plain, rho0 = _memoryless()
    mem = {r: IDENTITY_W[w](plain.stream_dims[r]) for r in plain.streams}
    with_memory, _ = _memoryless(memory=mem)
    e_ops = {"A": np.diag(np.arange(plain.dim, dtype=float)), "B": np.triu(np.ones((4, 4)))}
    opts = DensityOptions(scheme=scheme)
    a = plain.run(rho0, 1.0, 0.05, e_ops=e_ops, options=opts)
    b = with_memory.run(rho0, 1.0, 0.05, e_ops=e_ops, options=opts)
    for k in e_ops:
        assert np.max(np.abs(a.expect[k] - b.expect[k])) < 1e-13, k
    for r in a.heat:
        assert np.max(np.abs(a.heat[r] - b.heat[r])) < 1e-13, r
    assert np.max(np.abs(a.final_state - b.final_state)) < 1e-13


def test_partial_swap_is_cos_minus_i_sin_swap():
    for d, phi in [(2, 0.3), (3, 1.1)]:
        s = swap_legs(d)
        assert np.allclose(partial_swap(d, phi), phi * s, atol=0)
        assert np.allclose(expm(-1j * partial_swap(d, phi)),
                           math.cos(phi) * np.eye(d * d) - 1j * math.sin(phi) * s,
                           atol=1e-14)


# --- the composite (pseudomode) picture ---------------------------------------------------------

COMPOSITE = {
    "sqrt_dt-leak": ("1-sub-qutrit-T1-swap", {}),
    "none-swap-two-memories": ("2-sub-two-memories-qubit-T0-qutrit-T1", {"b": True}),
    "dt-memory-and-memoryless": ("2-sub-qubit-T1-and-memoryless-qutrit", {"m": True}),
}


@pytest.mark.parametrize("name", list(COMPOSITE))
def test_composite_picture_equals_the_memory_route_at_every_step(name):
    """With swap=True the carried ancilla is a pseudomode that collides with a memoryless
    stream: the subsystems' expectation values, the heat of every stream and the final
    state agree to 1e-12 (rounding) at every step."""
    case, force_swap = COMPOSITE[name]
    model, (dims, h, streams, collisions, energies, memory), rho0 = build(case)
    memory = {r: Memory(v, sc, sw or force_swap.get(r, False))
              for r, (v, sc, sw) in memory.items()}
    model = CollisionModel(dims, h, streams, model.collisions, stream_hamiltonians=energies,
                           memory=memory)
    comp = model.composite()
    assert not comp.memory and list(comp.dims) == list(dims) + [streams[r].shape[0]
                                                                for r in memory]
    rest = comp.dim // model.dim
    rng = np.random.default_rng(4)
    op = random_hermitian(rng, model.dim)
    a = model.run(rho0, 1.5, 0.05, e_ops={"A": op})
    b = comp.run(model.composite_state(rho0), 1.5, 0.05, e_ops={"A": np.kron(op, np.eye(rest))})
    assert np.max(np.abs(a.expect["A"] - b.expect["A"])) < 1e-12
    for r in streams:
        assert np.max(np.abs(a.heat[r] - b.heat[r])) < 1e-12, r
    reduced = np.einsum("iaja->ij", b.final_state.reshape(model.dim, rest, model.dim, rest))
    assert np.max(np.abs(a.final_state - reduced)) < 1e-12


# --- the damped Jaynes-Cummings limit ---------------------------------------------------------

def damped_jc(g: float, kappa: float) -> CollisionModel:
    """A qubit at resonance meeting the carried ancilla through exp(-i g dt V_ex); between
    ancillas a weak exchange exp(-i sqrt(kappa dt) V_ex), then a full swap; T = 0."""
    return CollisionModel([2], None, GROUND, [Collision(0, g * EXCHANGE, scale="dt")],
                          stream_hamiltonians={"bath": np.diag([0.0, 1.0])},
                          memory={"bath": Memory(math.sqrt(kappa) * EXCHANGE, "sqrt_dt",
                                                 swap=True)})


def g_of_t(t: np.ndarray, g: float, kappa: float) -> np.ndarray:
    """Breuer and Petruccione eq. (10.39): lambda = kappa/2, gamma_0 = 4 g^2 / kappa."""
    lam, gamma0 = kappa / 2, 4 * g**2 / kappa
    d = np.sqrt(complex(lam**2 - 2 * gamma0 * lam))
    return np.exp(-lam * t / 2) * (np.cosh(d * t / 2) + lam / d * np.sinh(d * t / 2))


@pytest.mark.parametrize("g,kappa,bound", [(0.2, 2.0, 2.2e-3), (1.0, 1.0, 1.3e-3)],
                         ids=["weak-no-revival", "strong-revivals"])
def test_damped_jaynes_cummings_limit_at_order_one(g, kappa, bound):
    """The excited population converges to |G(t)|^2 at order 1 in dt.  Measured: weak
    coupling 1.98e-3, 9.9e-4, 4.96e-4; strong 1.16e-3, 5.8e-4, 2.9e-4 at dt = 0.02, 0.01,
    0.005 (t <= 8).  The derived master equation (pseudomode with a leak) gives |G|^2 to
    1e-12: the mapping lambda = kappa/2, gamma_0 = 4 g^2/kappa is exact."""
    model = damped_jc(g, kappa)
    assert model.continuum_order == 1.0
    dts = np.array([0.02, 0.01, 0.005])
    errors = []
    for dt in dts:
        res = model.run(EXCITED, 8.0, dt, e_ops={"e": EXCITED}, save_every=round(0.1 / dt))
        exact = np.abs(g_of_t(res.t, g, kappa)) ** 2
        errors.append(np.max(np.abs(res.expect["e"] - exact)))
    errors = np.array(errors)
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 0.95 < order < 1.05, (errors, order)
    assert errors[0] < bound
    me = model.master_equation()
    assert isinstance(me, collision.PseudomodeMasterEquation) and me.dims == (2, 2)
    t = np.linspace(0, 8, 81)
    assert np.max(np.abs(me.expect_reduced({"e": EXCITED}, EXCITED, t)["e"]
                         - np.abs(g_of_t(t, g, kappa)) ** 2)) < 1e-12
    assert me.evolve_reduced(EXCITED, t).shape == (81, 2, 2)
    population = res.expect["e"]
    first_min = int(np.argmax(np.diff(population) > 0))  # first time it rises again
    revival = population[first_min:].max() - population[first_min]
    if 4 * g > kappa:  # strong coupling: zeros of G and revivals
        assert population[first_min] < 1e-3 and revival > 0.1
    else:
        assert np.all(np.diff(population) <= 1e-12)  # monotone decay


# --- validation ------------------------------------------------------------------------

def _one(memory, collisions=None, streams=None):
    return CollisionModel([2], None, streams if streams is not None else GROUND,
                          collisions or [Collision(0, EXCHANGE)], memory=memory)


BAD = {
    "V_AA-wrong-shape": (lambda: _one({"bath": Memory(np.eye(8))}), r"must be 4 x 4"),
    "V_AA-not-hermitian": (lambda: Memory(np.triu(np.ones((4, 4)))), "Hermitian"),
    "unknown-stream": (lambda: _one({"hot": Memory(np.eye(4))}),
                       "stream 'hot', which does not exist"),
    "not-a-Memory": (lambda: _one({"bath": np.eye(4)}), "must be a collision.Memory"),
    "not-a-dict": (lambda: _one(Memory(np.eye(4))), "memory must be a dict"),
    "bad-scale": (lambda: Memory(np.eye(4), scale="sqrt"), "Memory scale"),
    "swap-not-bool": (lambda: Memory(np.eye(4), swap="yes"), "Memory swap"),
    "stream-without-collision": (lambda: _one({"cold": Memory(np.eye(4))},
                                              streams={"bath": GROUND, "cold": GROUND},
                                              collisions=[Collision(0, EXCHANGE, "bath")]),
                                 "takes part in no collision"),
    "partial-swap-d": (lambda: partial_swap(1, 0.3), "partial_swap d"),
    "partial-swap-phi": (lambda: partial_swap(2, float("nan")), "partial_swap phi"),
    "composite-without-swap": (lambda: _one({"bath": Memory(np.eye(4))}).composite(),
                               "swap=False"),
    "composite-memoryless": (lambda: _one(None).composite(), "needs a model with memory"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_refused_before_any_work(name):
    make, message = BAD[name]
    with pytest.raises(ValueError, match=message):
        make()


NO_EMBEDDING = {
    "swap-false": (Memory(partial_swap(2, 0.4)), "dt", "swap=False"),
    "sqrt_dt-coupling": (Memory(EXCHANGE, "sqrt_dt", True), "sqrt_dt", "scale='sqrt_dt'"),
    "finite-leak": (Memory(EXCHANGE, "none", True), "dt", "scale='none'"),
    "first-moment": (Memory(np.kron(np.diag([1.0, -0.5]), np.eye(2)), "sqrt_dt", True), "dt",
                     "first moment"),
}


@pytest.mark.parametrize("name", list(NO_EMBEDDING))
def test_no_markovian_embedding_is_a_clear_error(name):
    mem, scale, message = NO_EMBEDDING[name]
    model = _one({"bath": mem}, collisions=[Collision(0, EXCHANGE, scale=scale)])
    with pytest.raises(ValueError, match=f"no Markovian embedding.*{message}"):
        model.master_equation()
    with pytest.raises(ValueError, match="no Markovian embedding"):
        _ = model.continuum_order
    model.run(EXCITED, 0.1, 0.05)  # it still runs at finite dt


def test_fixed_strength_collision_runs_but_has_no_limit():
    model = CollisionModel([2], None, GROUND, [Collision(0, 0.3 * EXCHANGE, scale="none")])
    res = model.run(EXCITED, 0.2, 0.1, e_ops={"e": EXCITED})
    np.testing.assert_allclose(res.expect["e"][1], math.cos(0.3) ** 2, atol=1e-14)
    with pytest.raises(ValueError, match=r"collisions\[0\] has scale='none'"):
        model.master_equation()


def test_a_memory_model_is_recorded_and_rebuilt_bit_for_bit():
    """The result's parameters hold the memory too: the rebuilt model re-runs the same
    numbers."""
    import json

    import collision
    sm = np.array([[0, 1], [0, 0]], dtype=complex)
    v = np.kron(sm.conj().T, sm) + np.kron(sm, sm.conj().T)
    model = collision.CollisionModel(
        [2], 0.5 * np.diag([-1.0, 1.0]), np.diag([0.8, 0.2]).astype(complex),
        [collision.Collision(0, v)], stream_hamiltonians={"bath": np.diag([0.0, 1.0])},
        memory={"bath": collision.Memory(collision.partial_swap(2, 0.3), swap=False)})
    rho0 = np.diag([0.0, 1.0]).astype(complex)
    first = model.run(rho0, 0.5, 0.05, e_ops={"p": np.diag([0.0, 1.0])})
    rebuilt = collision.CollisionModel.from_parameters(json.loads(json.dumps(first.parameters)))
    assert set(rebuilt.memory) == {"bath"}
    again = rebuilt.run(rho0, 0.5, 0.05, e_ops={"p": np.diag([0.0, 1.0])})
    assert np.array_equal(first.expect["p"], again.expect["p"])
    assert np.array_equal(first.heat["bath"], again.heat["bath"])


def test_master_equation_without_stream_hamiltonians():
    """``stream_hamiltonians`` is optional for the continuum limit of a model with memory:
    omitting it gives the same pseudomode master equation (the stream energies enter only
    the heat and the ledger).  It used to fail in ``composite()`` with
    "stream_hamiltonians['bath'] must be numeric, got None"."""
    g, kappa = 1.0, 1.0
    with_energy = damped_jc(g, kappa)
    without = CollisionModel([2], None, GROUND, [Collision(0, g * EXCHANGE, scale="dt")],
                             memory={"bath": Memory(math.sqrt(kappa) * EXCHANGE, "sqrt_dt",
                                                    swap=True)})
    a, b = with_energy.master_equation(), without.master_equation()
    times = np.linspace(0.0, 4.0, 9)
    assert np.max(np.abs(a.evolve_reduced(EXCITED, times)
                         - b.evolve_reduced(EXCITED, times))) < 1e-12
