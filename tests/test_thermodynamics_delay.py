"""The thermodynamic ledger of delayed collision models (collision/thermo_delay.py).

Reference: a register written here, independent of the process-time reordering the
engine uses: the joint state of the subsystems *and of every ancilla in flight* (a queue
of ``m_k`` ancillas on each link of the stream) stepped in real time.  Per step a fresh
ancilla meets the first subsystem, on every link the ancilla that just left joins the
back of the queue and the oldest one meets the next subsystem, the last one leaves
(its energy gain is the heat), then ``exp(-i H dt)``.  The work is summed collision by
collision, ``Tr[(h_i + H_A)(U X U^dag - X)]`` in the joint state ``X`` each collision
meets, so the first law is checked against an independent number, not rebuilt from the
ledger's own terms.

Tolerances: the ledger's rates are differences of O(1) energies divided by ``dt = 0.04``
after a few hundred products of unit-scale matrices (rounding ~1e-13 per unit time);
1e-10 against the register and 1e-12 for the identities leave a factor of ten or more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from delay_register import _append, _collide, _reduced, _trace_out, register_run
from dense_collision import random_hermitian, random_state, without_mean
from scipy.linalg import expm

from collision import CollisionModel
from collision.model import merge_results
from collision.models.general import Collision
from collision.options import TrajectoryOptions
from collision.results import Result

DT = 0.04
SM = np.array([[0, 1], [0, 0]], dtype=complex)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
HQ = 0.5 * np.diag([-1.0, 1.0]).astype(complex)
EXCHANGE = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)


def energy_of(t: np.ndarray, p: int, h: np.ndarray) -> float:
    return float(np.real(np.trace(_reduced(t, [p]) @ h)))


def register(dims, local_h, eta, h_anc, vs, delays, rho0, dt, n_steps):
    """One stream meeting subsystems ``0 .. n-1`` in turn with ``delays[k]`` steps between
    collisions ``k`` and ``k + 1``.  Returns, at real steps ``0 .. n_steps - 1``, the
    subsystems' energy, the energy in flight (gain over a fresh ancilla), the heat and
    the work of the step (energy, not per unit time)."""
    n, da = len(dims), eta.shape[0]
    fresh = float(np.real(np.trace(h_anc @ eta)))
    units = [expm(-1j * math.sqrt(dt) * v).reshape(dims[i], da, dims[i], da)
             for i, v in enumerate(vs)]
    free = [expm(-1j * dt * h) for h in local_h]
    t = np.asarray(rho0, dtype=complex).reshape(tuple(dims) * 2)
    labels: list = list(range(n))
    queues, next_id = [], 0
    for m in delays:  # fresh ancillas in flight at t = 0
        queues.append(list(range(next_id, next_id + m)))
        for _ in range(m):
            t = _append(t, eta)
            labels.append(("anc", next_id))
            next_id += 1
    out = {k: np.zeros(n_steps) for k in ("system", "flight", "heat", "work")}
    for s in range(n_steps):
        out["system"][s] = sum(energy_of(t, i, local_h[i]) for i in range(n))
        out["flight"][s] = sum(energy_of(t, labels.index(("anc", j)), h_anc) - fresh
                               for q in queues for j in q)
        t = _append(t, eta)
        carrier = ("anc", next_id)
        labels.append(carrier)
        next_id += 1
        for i in range(n):
            a = labels.index(carrier)
            before = energy_of(t, i, local_h[i]) + energy_of(t, a, h_anc)
            t = _collide(t, units[i], i, a)
            out["work"][s] += energy_of(t, i, local_h[i]) + energy_of(t, a, h_anc) - before
            if i < n - 1:
                queues[i].append(carrier[1])
                carrier = ("anc", queues[i].pop(0))
        p = labels.index(carrier)
        out["heat"][s] = energy_of(t, p, h_anc) - fresh
        t = _trace_out(t, p)
        del labels[p]
        nax = t.ndim // 2
        for i in range(n):  # exp(-i h_i dt) on subsystem i, ket and bra legs
            t = np.moveaxis(np.tensordot(free[i], t, axes=([1], [i])), 0, i)
            t = np.moveaxis(np.tensordot(t, free[i].conj(), axes=([nax + i], [1])), -1,
                            nax + i)
    return out


def random_chain(seed: int, dims, d_anc: int, delays, xx: bool = False):
    rng = np.random.default_rng(seed)
    eta = random_state(rng, d_anc)
    local_h = [0.5 * random_hermitian(rng, d) for d in dims]
    h_anc = random_hermitian(rng, d_anc)
    vs = [without_mean(0.7 * random_hermitian(rng, d * d_anc), eta, d) for d in dims]
    rho0 = random_state(rng, math.prod(dims))
    model = CollisionModel(list(dims), local_h, eta,
                           [Collision(i, v) for i, v in enumerate(vs)],
                           stream_hamiltonians={"bath": h_anc},
                           delay={"bath": [m * DT for m in delays]})
    return model, (local_h, eta, h_anc, vs), rho0


CHAINS = {"qubit-qutrit, 2 steps": (11, (2, 3), 2, [2]),
          "qutrits, 1 step": (12, (3, 3), 3, [1]),
          "three qubits, 1 and 3 steps": (13, (2, 2, 2), 2, [1, 3]),
          "three qubits, 0 and 2 steps": (14, (2, 2, 2), 2, [0, 2])}


@pytest.mark.parametrize("case", list(CHAINS))
@pytest.mark.parametrize("save_every", [1, 3], ids=["every-step", "every-third"])
def test_delayed_ledger_against_the_register(case, save_every):
    """Energy, energy in flight, heat, work and their cumulative sums at every saved time,
    to 1e-10, for random models (random local Hamiltonians, interactions, ancilla state
    and ancilla Hamiltonian: the collisions do not conserve energy)."""
    seed, dims, d_anc, delays = CHAINS[case]
    model, (local_h, eta, h_anc, vs), rho0 = random_chain(seed, dims, d_anc, delays)
    steps = 12
    res = model.run(rho0, steps * DT, DT, save_every=save_every, thermodynamics=True)
    led = res.thermodynamics
    ref = register(dims, local_h, eta, h_anc, vs, delays, rho0, DT, steps + 1)
    k = np.arange(res.t.size) * save_every
    assert np.max(np.abs(led.in_flight_energy - ref["flight"][k])) < 1e-10
    assert np.max(np.abs(led.energy - ref["system"][k] - ref["flight"][k])) < 1e-10
    assert np.max(np.abs(res.heat["bath"] - ref["heat"][k] / DT)) < 1e-10
    assert np.max(np.abs(led.work - ref["work"][k] / DT)) < 1e-10
    assert np.max(np.abs(led.work)) > 1e-2  # random collisions do work
    cum = np.concatenate([[0.0], np.cumsum(ref["heat"])])[k]
    assert np.max(np.abs(led.heat_total["bath"] - cum)) < 1e-10
    cum = np.concatenate([[0.0], np.cumsum(ref["work"])])[k]
    assert np.max(np.abs(led.work_total - cum)) < 1e-10
    if max(delays):
        assert np.max(np.abs(led.in_flight_energy)) > 1e-3  # the test sees the flight


@pytest.mark.parametrize("n, delays", [(2, [3]), (3, [1, 2])], ids=["2-qubits", "3-qubits"])
def test_cascade_ledger_against_the_delay_register(n, delays):
    """The paper's qubit cascade against tests/delay_register.py (its own register of the
    ancillas in flight, with the propagation phase ``-omega tau`` that makes it the
    general model's delay line, tests/test_general_delay.py): energy in flight per link
    summed, heat delivered (``q_out``) and the energy, to 1e-12 (measured 1e-15)."""
    temperature = 0.7
    xi = math.tanh(1 / (2 * temperature))
    eta = np.diag([(1 + xi) / 2, (1 - xi) / 2]).astype(complex)
    model = CollisionModel([2] * n, [HQ] * n, eta, [Collision(i, EXCHANGE) for i in range(n)],
                           stream_hamiltonians={"bath": HQ},
                           delay={"bath": [m * DT for m in delays]})
    rho0 = random_state(np.random.default_rng(2), 2**n)
    led = model.run(rho0, 10 * DT, DT, thermodynamics=True).thermodynamics
    reg = register_run("qubit", n, temperature, None, "qubit", None, delays, rho0, DT, 10,
                       phases=[-m * DT for m in delays])
    flight = reg.in_flight.sum(axis=0)
    assert np.max(np.abs(led.in_flight_energy - flight)) < 1e-12
    assert np.max(np.abs(led.heat_total["bath"] - reg.q_out)) < 1e-12
    assert np.max(np.abs(led.energy - reg.energies.sum(axis=0) - flight)) < 1e-12
    assert np.max(flight) > 1e-3


def cascade(delays, v=EXCHANGE, n=2, beta=0.8):
    w = np.exp(-beta * np.diag(HQ).real)
    eta = np.diag(w / w.sum()).astype(complex)
    return CollisionModel([2] * n, [HQ] * n, eta, [Collision(i, v) for i in range(n)],
                          stream_hamiltonians={"bath": HQ},
                          delay={"bath": [m * DT for m in delays]})


RHO_CASCADE = np.kron(np.diag([0.1, 0.9]), np.diag([0.6, 0.4])).astype(complex)


def two_streams():
    """Two streams through S1 -> S2 with one travel time (a qubit and a qutrit ancilla,
    both exchanging energy resonantly)."""
    h3 = np.diag([0.0, 1.0, 2.0]).astype(complex)
    lad = np.diag([1.0, math.sqrt(2.0)], 1).astype(complex)
    v3 = np.kron(SM.conj().T, lad) + np.kron(SM, lad.conj().T)
    w2, w3 = np.exp(-0.5 * np.diag(HQ).real), np.exp(-1.5 * np.diag(h3).real)
    return CollisionModel([2, 2], [HQ, HQ], {"a": np.diag(w2 / w2.sum()).astype(complex),
                                             "b": np.diag(w3 / w3.sum()).astype(complex)},
                          [Collision(0, EXCHANGE, "a"), Collision(0, 0.7 * v3, "b"),
                           Collision(1, EXCHANGE, "a"), Collision(1, 0.5 * v3, "b")],
                          stream_hamiltonians={"a": HQ, "b": h3},
                          delay={"a": [3 * DT], "b": [3 * DT]})


CONSERVING = {"1-step": lambda: cascade([1]), "5-steps": lambda: cascade([5]),
              "30-steps": lambda: cascade([30]), "two streams, 3 steps": two_streams}


@pytest.mark.parametrize("case", list(CONSERVING))
def test_first_law_and_no_work_for_an_energy_conserving_cascade(case):
    """Exchange collisions conserve ``h_i + H_A``: ``W = 0`` to rounding at every step
    (measured 1.9e-14 to 4.4e-14); the first law holds with the energy in flight, and fails
    by ``dF/dt`` without it."""
    res = CONSERVING[case]().run(RHO_CASCADE, 2.0, DT,
                                 e_ops={"H1": np.kron(HQ, np.eye(2)),
                                        "H2": np.kron(np.eye(2), HQ)},
                                 thermodynamics=True)
    led = res.thermodynamics
    assert np.max(np.abs(led.work)) < 1e-12
    assert np.max(np.abs(led.work_total)) < 1e-12
    e_sys = res.expect["H1"] + res.expect["H2"]
    assert np.max(np.abs(led.energy - e_sys - led.in_flight_energy)) < 1e-12
    heat = sum(res.heat.values())
    first_law = np.diff(led.energy) / DT + heat[:-1]
    assert np.max(np.abs(first_law - led.work[:-1])) < 1e-12
    without = np.diff(e_sys) / DT + heat[:-1]
    assert np.max(np.abs(without)) > 1e-2  # the energy in flight is needed
    assert led.entropy is None and led.entropy_production is None
    assert led.relative_entropy is None and led.correlations is None


def test_work_for_sigma_x_sigma_x_collisions():
    led = cascade([3], v=np.kron(SX, SX)).run(RHO_CASCADE, 1.0, DT,
                                               thermodynamics=True).thermodynamics
    assert np.min(np.abs(led.work)) > 1e-2


def test_a_delay_beyond_the_run_matches_two_streams():
    """Where the definitions coincide: with an infinite delay the ancillas that met S1
    never reach S2, which is two independent streams; the energy they carry is in flight
    here and heat of the first stream there, so the work, S2's heat and ``E - F`` equal
    the undelayed ledger's, and ``F`` its first stream's cumulative heat (1e-12)."""
    rng = np.random.default_rng(21)
    eta = random_state(rng, 2)
    v = without_mean(EXCHANGE + 0.3 * np.kron(SX, SX), eta, 2)
    h1, h2 = 0.5 * random_hermitian(rng, 2), 0.5 * random_hermitian(rng, 2)
    rho0 = random_state(rng, 4)
    far = CollisionModel([2, 2], [h1, h2], eta, [Collision(0, v), Collision(1, v)],
                         stream_hamiltonians={"bath": HQ}, delay=math.inf)
    apart = CollisionModel([2, 2], [h1, h2], {"a": eta, "b": eta},
                           [Collision(0, v, "a"), Collision(1, v, "b")],
                           stream_hamiltonians={"a": HQ, "b": HQ})
    d = far.run(rho0, 1.0, DT, save_every=2, thermodynamics=True).thermodynamics
    u = apart.run(rho0, 1.0, DT, save_every=2, thermodynamics=True).thermodynamics
    assert np.max(np.abs(d.work - u.work)) < 1e-12
    assert np.max(np.abs(d.work_total - u.work_total)) < 1e-12
    assert np.max(np.abs(d.heat["bath"] - u.heat["b"])) < 1e-12
    assert np.max(np.abs(d.in_flight_energy - u.heat_total["a"])) < 1e-12
    assert np.max(np.abs(d.energy - d.in_flight_energy - u.energy)) < 1e-12
    assert np.max(np.abs(d.work)) > 1e-2


def test_zero_delay_is_the_undelayed_ledger():
    """``delay=0`` runs the undelayed engine: the full ledger, no energy in flight."""
    led = cascade([0]).run(RHO_CASCADE, 0.4, DT, thermodynamics=True).thermodynamics
    assert led.in_flight_energy is None
    assert led.entropy_production is not None


TRAJECTORY_CASES = {"exchange cascade, 3 steps": lambda: cascade([3]),
                    "sigma_x x sigma_x, 2 steps": lambda: cascade([2], v=np.kron(SX, SX)),
                    "random chain, 1 and 3 steps": lambda: random_chain(
                        13, (2, 2, 2), 2, [1, 3])[0],
                    "two streams, 3 steps": two_streams}


@pytest.mark.parametrize("case", list(TRAJECTORY_CASES))
def test_trajectory_ledger_with_delay_within_standard_errors(case):
    """Energy, energy in flight, work and the cumulative sums of 2000 trajectories
    against the density ledger: every ``|z|`` below 4.5 (about 30-40 saved quantities per
    case, so a bound a correct estimator exceeds with probability ~3e-4; measured largest
    2.25), and the energy in flight large against its standard error (a missing or
    misplaced term would show)."""
    model = TRAJECTORY_CASES[case]()
    rho0 = random_state(np.random.default_rng(4), model.dim)
    kw = dict(t_max=0.4, dt=DT, save_every=2, thermodynamics=True)
    exact = model.run(rho0, **kw).thermodynamics
    mc = model.run(rho0, method="trajectories", n_trajectories=2000, seed=7,
                   **kw).thermodynamics
    pairs = [(mc.energy, mc.stderr.energy, exact.energy),
             (mc.in_flight_energy, mc.stderr.in_flight_energy, exact.in_flight_energy),
             (mc.work, mc.stderr.work, exact.work),
             (mc.work_total, mc.stderr.work_total, exact.work_total),
             *[(mc.heat_total[r], mc.stderr.heat_total[r], exact.heat_total[r])
               for r in exact.heat_total]]
    for k, (mean, err, want) in enumerate(pairs):
        ok = err > 0
        assert np.all(np.abs(mean - want)[ok] < 4.5 * err[ok]), k
        assert np.all(np.abs(mean - want)[~ok] < 1e-12), k  # t = 0: no variance
    assert np.max(np.abs(exact.in_flight_energy)) > 5 * np.max(mc.stderr.in_flight_energy)
    assert mc.entropy is None and mc.entropy_production is None


def test_delayed_trajectory_ledger_merges_exactly():
    """Two runs over disjoint trajectory ranges merge to the ledger of one run, the energy
    in flight and its standard error included (the layout in ``parameters``)."""
    model = cascade([2])
    kw = dict(method="trajectories", seed=5, thermodynamics=True)
    whole = model.run(RHO_CASCADE, 0.3, DT, n_trajectories=256, **kw)
    a = model.run(RHO_CASCADE, 0.3, DT, n_trajectories=128, **kw)
    b = model.run(RHO_CASCADE, 0.3, DT, n_trajectories=128,
                  options=TrajectoryOptions(first_trajectory=128), **kw)
    merged = merge_results(a, b).thermodynamics
    for f in ("energy", "work", "work_total", "in_flight_energy"):
        assert np.array_equal(getattr(merged, f), getattr(whole.thermodynamics, f)), f
        assert np.array_equal(getattr(merged.stderr, f),
                              getattr(whole.thermodynamics.stderr, f)), f
    assert np.max(whole.thermodynamics.in_flight_energy) > 1e-3


@pytest.mark.parametrize("method", ["density", "trajectories"])
@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_delayed_ledger_round_trip(suffix, method, tmp_path):
    kw = dict(n_trajectories=64, seed=3) if method == "trajectories" else {}
    res = cascade([3]).run(RHO_CASCADE, 0.6, DT, method=method, thermodynamics=True, **kw)
    path = tmp_path / f"delayed{suffix}"
    res.save(path)
    back = Result.load(path).thermodynamics
    led = res.thermodynamics
    for f in ("energy", "in_flight_energy", "work", "work_total"):
        assert np.array_equal(getattr(back, f), getattr(led, f)), f
        if method == "trajectories":
            assert np.array_equal(getattr(back.stderr, f), getattr(led.stderr, f)), f
    assert back.entropy is None and back.entropy_production is None
