"""The thermodynamic ledger of general collision models (collision/thermo.py).

Checked by the laws it must obey -- the first law at every step, zero switching work for
energy-conserving collisions, the Clausius form of the entropy production equal to the
information form for thermal streams, Sigma >= 0 -- and against a dense reference written
here: the joint state of the subsystems and every stream's ancilla after the collisions,
von Neumann entropies from ``eigvalsh``, ``Sigma dt = I(S':A') + D(rho'_A || eta)``.

Tolerances: the ledger's quantities are differences of O(1) energies and entropies
divided by ``dt = 0.05``, so rounding (~1e-15) becomes ~1e-13 per unit time; 1e-12 for
the first law and 1e-10 for the entropies (eigenvalues near zero enter as ``p ln p``) leave
a factor of ten to a hundred.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from dense_collision import embed_tensor, random_hermitian, random_state
from dense_memory import dense_memory_run
from scipy.linalg import expm
from test_memory import CASES as MEMORY_CASES
from test_memory import build as build_memory

from collision import CollisionModel
from collision.model import merge_results
from collision.models.general import Collision
from collision.options import DensityOptions, TrajectoryOptions
from collision.results import Result
from collision.thermo import thermal_beta
from lindblad._files import write_npz

DT = 0.05
SM = np.array([[0, 1], [0, 0]], dtype=complex)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SZ = np.diag([1.0, -1.0]).astype(complex)


def thermal(h: np.ndarray, beta: float) -> np.ndarray:
    w, v = np.linalg.eigh(h)
    p = np.exp(-beta * (w - w.min()))
    return (v * (p / p.sum())) @ v.conj().T


def exchange(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a^dag b + a b^dag`` on (system) x (ancilla)."""
    return np.kron(a.conj().T, b) + np.kron(a, b.conj().T)


def ladder(d: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, d)), 1).astype(complex)


def qubit(beta=0.7, w=1.0, v=None):
    h = w / 2 * SZ
    v = exchange(SM, SM) if v is None else v
    return CollisionModel([2], h, {"bath": thermal(h, beta)}, [Collision([0], v, "bath")],
                          stream_hamiltonians={"bath": h}), h, np.diag([0.2, 0.8])


def qutrit(beta=0.4):
    h = np.diag([0.0, 1.3, 2.6]).astype(complex)  # equally spaced: a^dag b resonant
    model = CollisionModel([3], h, {"bath": thermal(h, beta)},
                           [Collision([0], 0.8 * exchange(ladder(3), ladder(3)), "bath")],
                           stream_hamiltonians={"bath": h})
    return model, h, random_state(np.random.default_rng(3), 3)


def two_streams():
    h = 0.5 * SZ
    streams = {"hot": thermal(h, 0.2), "cold": thermal(h, 2.0)}
    model = CollisionModel([2], h, streams,
                           [Collision([0], exchange(SM, SM), "hot"),
                            Collision([0], 0.6 * exchange(SM, SM), "cold")],
                           stream_hamiltonians={"hot": h, "cold": h})
    return model, h, np.diag([0.5, 0.5])


def coupled():
    """Two qubits with an exchange coupling, each with its own thermal stream: the
    local collisions do not conserve the coupled Hamiltonian (non-zero work)."""
    h1, h2 = 0.5 * SZ, 0.5 * SZ
    coupling = 0.3 * exchange(SM, SM)
    h = np.kron(h1, np.eye(2)) + np.kron(np.eye(2), h2) + coupling
    model = CollisionModel([2, 2], h, {"left": thermal(h1, 0.3), "right": thermal(h2, 1.5)},
                           [Collision([0], exchange(SM, SM), "left"),
                            Collision([1], exchange(SM, SM), "right")],
                           stream_hamiltonians={"left": h1, "right": h2})
    return model, h, random_state(np.random.default_rng(5), 4)  # coherences: <coupling> moves


def xx():
    return qubit(beta=1.1, v=np.kron(SX, SX))


def coherent_stream():
    """A non-thermal stream: a random full-rank ancilla state (coherences included)."""
    rng = np.random.default_rng(11)
    h = 0.5 * SZ
    model = CollisionModel([2], h, {"bath": random_state(rng, 2)},
                           [Collision([0], exchange(SM, SM) + 0.4 * np.kron(SZ, SX), "bath")],
                           stream_hamiltonians={"bath": h})
    return model, h, random_state(rng, 2)


THERMAL = {"qubit": qubit, "qutrit": qutrit, "two streams": two_streams, "coupled": coupled,
           "sigma_x x sigma_x": xx}
ALL = {**THERMAL, "coherent stream": coherent_stream}
SCHEMES = ("sequential", "superoperator")


def run(factory, scheme="sequential", save_every=1, t_max=1.0):
    model, h, rho0 = factory()
    result = model.run(rho0, t_max, DT, e_ops={"H": h}, save_every=save_every,
                       options=DensityOptions(scheme=scheme), thermodynamics=True)
    assert result.parameters["scheme"] == scheme
    return result


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", list(ALL))
def test_first_law_at_every_step(name, scheme):
    """``W = dE/dt + sum_r Q_r`` with ``dE`` from the engine's own states (the saved
    ``<H>``), and the cumulative sums are the step sums of the rates."""
    r = run(ALL[name], scheme)
    led = r.thermodynamics
    energy = r.expect["H"]
    assert np.max(np.abs(led.energy - energy)) < 1e-12
    heat = sum(r.heat.values())
    first_law = np.diff(energy) / DT + heat[:-1]
    assert np.max(np.abs(led.work[:-1] - first_law)) < 1e-12
    for stream, q in r.heat.items():
        steps = np.concatenate([[0.0], np.cumsum(q[:-1] * DT)])
        assert np.max(np.abs(led.heat_total[stream] - steps)) < 1e-12
    steps = np.concatenate([[0.0], np.cumsum(led.work[:-1] * DT)])
    assert np.max(np.abs(led.work_total - steps)) < 1e-12
    steps = np.concatenate([[0.0], np.cumsum(led.entropy_production[:-1] * DT)])
    assert np.max(np.abs(led.entropy_production_total - steps)) < 1e-10


@pytest.mark.parametrize("name", ["qubit", "qutrit", "two streams"])
def test_no_work_for_energy_conserving_collisions(name):
    assert np.max(np.abs(run(ALL[name]).thermodynamics.work)) < 1e-12


@pytest.mark.parametrize("name", ["sigma_x x sigma_x", "coupled"])
def test_work_for_collisions_that_do_not_conserve_energy(name):
    assert np.max(np.abs(run(ALL[name]).thermodynamics.work)) > 1e-2


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", list(THERMAL))
def test_clausius_form_equals_information_form(name, scheme):
    led = run(THERMAL[name], scheme).thermodynamics
    assert all(b is not None for b in led.beta.values())
    assert np.max(np.abs(led.entropy_production_clausius - led.entropy_production)) < 1e-10


@pytest.mark.parametrize("name", list(ALL))
def test_entropy_production_is_non_negative(name):
    led = run(ALL[name]).thermodynamics
    assert np.min(led.entropy_production) >= -1e-12
    assert np.min(led.correlations) >= -1e-12
    assert all(np.min(v) >= -1e-12 for v in led.relative_entropy.values())
    assert np.min(np.diff(led.entropy_production_total)) >= -1e-12


def test_non_thermal_stream_has_no_clausius_form():
    led = run(coherent_stream).thermodynamics
    assert led.beta == {"bath": None}
    assert led.entropy_production_clausius is None
    assert np.max(led.entropy_production) > 1e-3


@pytest.mark.parametrize("name", ["two streams", "coherent stream"])
def test_save_every_and_schemes_agree(name):
    """Saving every third step reads the same ledger off the same steps, and the
    cumulative sums still cover every step (the superoperator scheme's geometric sum)."""
    every = run(ALL[name])
    for scheme in SCHEMES:
        sparse = run(ALL[name], scheme, save_every=3)
        a, b = sparse.thermodynamics, every.thermodynamics
        for field in ("energy", "work", "entropy_production", "work_total",
                      "entropy_production_total", "correlations"):
            assert np.max(np.abs(getattr(a, field) - getattr(b, field)[::3])) < 1e-10, field


# --- dense reference ------------------------------------------------------------------

def _entropy(rho: np.ndarray) -> float:
    p = np.linalg.eigvalsh(rho)
    p = p[p > 1e-300]
    return float(-np.sum(p * np.log(p)))


def _log(rho: np.ndarray) -> np.ndarray:
    p, v = np.linalg.eigh(rho)
    return (v * np.log(p)) @ v.conj().T


def dense_sigma(dims, h, streams, collisions, rho0, dt, n_steps):
    """``[I(S':A') + D(rho'_A || eta)] / dt`` per step from the joint state of the
    subsystems and every stream's ancilla (full-rank ancilla states)."""
    names = list(streams)
    n = len(dims)
    joint_dims = list(dims) + [streams[r].shape[0] for r in names]
    d, d_anc = math.prod(dims), math.prod(joint_dims[n:])
    step = np.eye(d * d_anc, dtype=complex)
    for subs, v, r in collisions:
        u = embed_tensor(expm(-1j * math.sqrt(dt) * v), [*subs, n + names.index(r)],
                         joint_dims)
        step = u @ step
    eta = np.ones((1, 1), dtype=complex)
    for r in names:
        eta = np.kron(eta, streams[r])
    uh = expm(-1j * dt * h)
    rho, out = np.asarray(rho0, dtype=complex), []
    for _ in range(n_steps):
        joint = step @ np.kron(rho, eta) @ step.conj().T
        t = joint.reshape(d, d_anc, d, d_anc)
        sys, anc = np.einsum("iaja->ij", t), np.einsum("iaib->ab", t)
        mutual = _entropy(sys) + _entropy(anc) - _entropy(joint)
        relative = -_entropy(anc) - float(np.real(np.trace(anc @ _log(eta))))
        out.append((mutual + relative) / dt)
        rho = uh @ sys @ uh.conj().T
    return np.array(out)


CASES = {"qubit, qutrit stream": ([2], [3]), "qutrit, two streams": ([3], [2, 2]),
         "two qubits, two streams": ([2, 2], [2, 3])}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("case", list(CASES))
def test_against_dense_joint_state(case, scheme):
    """Random Hamiltonians, interactions, ancilla states and initial states; a stream
    may collide twice per step and with any subsystem."""
    dims, stream_dims = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    d = math.prod(dims)
    h = random_hermitian(rng, d)
    streams = {f"s{k}": random_state(rng, da) for k, da in enumerate(stream_dims)}
    collisions = []
    for k, da in enumerate(stream_dims):
        for sub in ([0], [len(dims) - 1]):
            collisions.append((sub, random_hermitian(rng, dims[sub[0]] * da), f"s{k}"))
    rho0 = random_state(rng, d)
    model = CollisionModel(dims, h, streams, [Collision(s, v, r) for s, v, r in collisions],
                           stream_hamiltonians={r: random_hermitian(rng, e.shape[0])
                                                for r, e in streams.items()})
    r = model.run(rho0, 0.5, DT, options=DensityOptions(scheme=scheme), thermodynamics=True)
    expected = dense_sigma(dims, h, streams, collisions, rho0, DT, r.t.size)
    assert np.max(np.abs(r.thermodynamics.entropy_production - expected)) < 1e-10


# --- streams that are not of full rank, thermal detection, refusals -----------------------

def test_zero_temperature_stream():
    """A pure (ground-state) ancilla: Sigma is zero while the outgoing ancilla stays in
    its state (the system in its ground state too) and +inf once the ancilla absorbs
    energy and leaves the support of ``eta``."""
    h = 0.5 * SZ
    ground = np.diag([0.0, 1.0]).astype(complex)  # sigma_z = -1 is the ground level
    model = CollisionModel([2], h, {"bath": ground}, [Collision([0], exchange(SM, SM),
                                                                "bath")],
                           stream_hamiltonians={"bath": h})
    led = model.run(np.diag([0.0, 1.0]), 0.2, DT, thermodynamics=True).thermodynamics
    assert led.beta == {"bath": None}
    assert np.all(np.abs(led.entropy_production) < 1e-12)  # ground state: nothing happens
    led = model.run(np.diag([1.0, 0.0]), 0.2, DT, thermodynamics=True).thermodynamics
    assert np.all(np.isinf(led.entropy_production)) and np.all(led.entropy_production > 0)


@pytest.mark.parametrize("beta", [0.0, 0.3, 2.5, -0.8])
def test_thermal_beta_detected(beta):
    h = np.diag([0.0, 0.7, 2.1]).astype(complex)
    u = np.linalg.qr(random_hermitian(np.random.default_rng(1), 3) + 3j * np.eye(3))[0]
    h = u @ h @ u.conj().T
    assert thermal_beta(thermal(h, beta), h) == pytest.approx(beta, abs=1e-12)
    off = np.zeros((3, 3))
    off[0, 2] = off[2, 0] = 1e-8  # not diagonal with h: not thermal
    assert thermal_beta(thermal(h, beta) + u @ off @ u.conj().T, h) is None


def test_ledger_refused_where_not_implemented():
    model, h, rho0 = qubit()
    with pytest.raises(ValueError, match="thermodynamics must be True or False"):
        model.run(rho0, 0.2, DT, thermodynamics="yes")


@pytest.mark.parametrize("name", ["sigma_x x sigma_x", "two streams"])
def test_trajectories_estimate_the_heat(name):
    """The trajectory engine's heat per stream against the density engine's, within five
    standard errors at every saved time (1000 trajectories, fixed seed)."""
    model, h, rho0 = ALL[name]()
    exact = model.run(rho0, 0.5, DT, thermodynamics=True)
    mc = model.run(rho0, 0.5, DT, method="trajectories", n_trajectories=1000, seed=7)
    for stream, q in exact.heat.items():
        err = mc.stderr.heat[stream]
        assert np.all(err > 0)
        assert np.all(np.abs(mc.heat[stream] - q) < 5 * err + 1e-12)
    # the ledger's cumulative heat is the step sum of the same heat
    for stream, q in exact.heat.items():
        assert exact.thermodynamics.heat_total[stream][-1] == pytest.approx(
            np.sum(q[:-1]) * DT, abs=1e-12)


# --- trajectories -------------------------------------------------------------------------

TRAJECTORY_CASES = {"qubit": ("qubit", 1), "sigma_x x sigma_x": ("sigma_x x sigma_x", 1),
                    "two streams": ("two streams", 1),
                    "two streams, save_every 3": ("two streams", 3)}


@pytest.mark.parametrize("case", list(TRAJECTORY_CASES))
def test_trajectory_ledger_within_standard_errors(case):
    """The trajectory ledger's energy, heat, work and cumulative sums against the density
    ledger, within four standard errors at every saved time (1000 trajectories, fixed
    seed: a 4-sigma excursion among ~60 correlated values has probability < 1e-2, and the
    seed is fixed).  Energy-conserving collisions (qubit, two streams): exact work 0;
    sigma_x x sigma_x: non-zero work, estimated.  With ``save_every = 3`` the cumulative
    sums still cover every step."""
    name, every = TRAJECTORY_CASES[case]
    model, h, rho0 = ALL[name]()
    exact = model.run(rho0, 0.6, DT, thermodynamics=True, save_every=every).thermodynamics
    r = model.run(rho0, 0.6, DT, method="trajectories", n_trajectories=1000, seed=7,
                  thermodynamics=True, save_every=every)
    mc, err = r.thermodynamics, r.thermodynamics.stderr
    pairs = [(exact.energy, mc.energy, err.energy), (exact.work, mc.work, err.work),
             (exact.work_total, mc.work_total, err.work_total)]
    pairs += [(exact.heat[s], mc.heat[s], err.heat[s]) for s in exact.heat]
    pairs += [(exact.heat_total[s], mc.heat_total[s], err.heat_total[s])
              for s in exact.heat_total]
    for want, got, e in pairs:
        assert np.all(e[1:] > 0)  # at t = 0 the cumulative sums are exactly zero
        assert np.all(np.abs(got - want) <= 4 * e + 1e-12)
    assert all(np.array_equal(mc.heat[s], r.heat[s]) for s in r.heat)
    if name == "sigma_x x sigma_x":
        assert np.min(np.abs(exact.work)) > 0.1 and np.all(np.abs(mc.work) > 4 * err.work)
    else:
        assert np.max(np.abs(exact.work)) < 1e-12
    for field_name in ("entropy", "entropy_production", "entropy_production_clausius",
                       "relative_entropy", "correlations", "entropy_production_total"):
        assert getattr(mc, field_name) is None, field_name
    assert mc.beta == exact.beta


def test_trajectory_ledger_merges_exactly():
    """Two runs over disjoint trajectory ranges merge to the ledger of one run."""
    model, h, rho0 = two_streams()
    kw = dict(method="trajectories", seed=5, thermodynamics=True)
    whole = model.run(rho0, 0.3, DT, n_trajectories=256, **kw)
    a = model.run(rho0, 0.3, DT, n_trajectories=128, **kw)
    b = model.run(rho0, 0.3, DT, n_trajectories=128,
                  options=TrajectoryOptions(first_trajectory=128), **kw)
    merged = merge_results(a, b).thermodynamics
    for f in ("energy", "work", "work_total"):
        assert np.array_equal(getattr(merged, f), getattr(whole.thermodynamics, f)), f
        assert np.array_equal(getattr(merged.stderr, f),
                              getattr(whole.thermodynamics.stderr, f)), f
    for s in ("hot", "cold"):
        assert np.array_equal(merged.heat_total[s], whole.thermodynamics.heat_total[s])


# --- machines: efficiency and coefficient of performance -----------------------------------

def otto(w_h, w_c, beta_h, beta_c):
    """Two qubits (frequencies ``w_h``, ``w_c``) swapped fully with a hot and a cold
    stream of their own frequency, then with each other by a collision with a "drive"
    stream of zero energy (which only supplies work).  From the periodic state (qubit 1
    at the cold population ``p_c``, qubit 2 at the hot one ``p_h``) every step moves one
    quantum's worth ``p_h - p_c`` round the cycle: by hand, ``Q_hot = w_h (p_c - p_h)
    / dt``, ``Q_cold = w_c (p_h - p_c) / dt``, ``W = Q_hot + Q_cold``, so the engine
    (``p_h > p_c``) has the Otto efficiency ``1 - w_c / w_h`` and the refrigerator the COP
    ``w_c / (w_h - w_c)``, exactly, at every step."""
    hh, hc = w_h / 2 * SZ, w_c / 2 * SZ
    h = np.kron(hh, np.eye(2)) + np.kron(np.eye(2), hc)
    swap = np.pi / 2 * exchange(SM, SM)  # exp(-i swap): a full swap (phases on |eg>, |ge>)
    model = CollisionModel([2, 2], h, {"hot": thermal(hh, beta_h), "cold": thermal(hc, beta_c),
                                       "drive": np.eye(2) / 2},
                           [Collision([0], swap, "hot", scale="none"),
                            Collision([1], swap, "cold", scale="none"),
                            Collision([0, 1], np.kron(swap, np.eye(2)), "drive", scale="none")],
                           stream_hamiltonians={"hot": hh, "cold": hc, "drive": np.zeros((2, 2))})
    rho0 = np.kron(thermal(hh, beta_c * w_c / w_h), thermal(hc, beta_h * w_h / w_c))
    p_h, p_c = 1 / (1 + math.exp(beta_h * w_h)), 1 / (1 + math.exp(beta_c * w_c))
    return model, rho0, p_h, p_c


MACHINES = {"engine": (2.0, 1.0, 0.5, 2.0), "refrigerator": (2.0, 1.0, 1.0, 1.2)}


@pytest.mark.parametrize("over", ["steady", "total"])
@pytest.mark.parametrize("kind", list(MACHINES))
def test_swap_machine_efficiency_and_cop(kind, over):
    w_h, w_c, beta_h, beta_c = MACHINES[kind]
    model, rho0, p_h, p_c = otto(*MACHINES[kind])
    dt = 0.1
    led = model.run(rho0, 0.5, dt, thermodynamics=True).thermodynamics
    assert np.allclose(led.heat["hot"], w_h * (p_c - p_h) / dt, rtol=0, atol=1e-12)
    assert np.allclose(led.heat["cold"], w_c * (p_h - p_c) / dt, rtol=0, atol=1e-12)
    assert np.allclose(led.work, (w_c - w_h) * (p_h - p_c) / dt, rtol=0, atol=1e-12)
    assert led.carnot_efficiency("hot", "cold") == pytest.approx(1 - beta_h / beta_c,
                                                                 abs=1e-12)
    assert led.carnot_cop("hot", "cold") == pytest.approx(beta_h / (beta_c - beta_h),
                                                          abs=1e-12)
    if kind == "engine":
        assert led.efficiency("hot", "cold", over) == pytest.approx(1 - w_c / w_h, abs=1e-12)
        assert led.efficiency("hot", "cold", over) < led.carnot_efficiency("hot", "cold")
        with pytest.raises(ValueError, match="not a refrigerator.*not positive"):
            led.coefficient_of_performance("cold", over)
    else:
        assert led.coefficient_of_performance("cold", over) == pytest.approx(
            w_c / (w_h - w_c), abs=1e-12)
        assert led.coefficient_of_performance("cold", over) < led.carnot_cop("hot", "cold")
        with pytest.raises(ValueError, match="not a heat engine.*not negative"):
            led.efficiency("hot", "cold", over)


@pytest.fixture(scope="module")
def machine_ledgers():
    engine, rho0, _, _ = otto(*MACHINES["engine"])
    idle, _, rho_idle = two_streams()
    coherent, _, rho_coherent = coherent_stream()
    return {"engine": engine.run(rho0, 0.3, 0.1, thermodynamics=True),
            "idle": idle.run(rho_idle, 0.3, DT, thermodynamics=True),
            "coherent": coherent.run(rho_coherent, 0.3, DT, thermodynamics=True)}


MACHINE_REFUSALS = {
    "unknown hot": ("engine", lambda led: led.efficiency("warm", "cold"),
                    "hot must be the name"),
    "cold not a string": ("engine", lambda led: led.coefficient_of_performance(3),
                          "cold must be the name"),
    "same stream": ("engine", lambda led: led.efficiency("hot", "hot"), "different streams"),
    "bad over": ("engine", lambda led: led.efficiency("hot", "cold", over="mean"),
                 "over must be"),
    "hot and cold exchanged": ("engine", lambda led: led.efficiency("cold", "hot"),
                               "no heat is taken from it"),
    "no work (energy-conserving)": ("idle", lambda led: led.efficiency("hot", "cold"),
                                    "not a heat engine.*not negative"),
    "refrigerator without work": ("idle", lambda led: led.coefficient_of_performance("cold"),
                                  "not a refrigerator.*not positive"),
    "carnot, hot colder": ("engine", lambda led: led.carnot_efficiency("cold", "hot"),
                           "0 <= beta_hot < beta_cold"),
    "carnot, not thermal": ("coherent", lambda led: led.carnot_cop("bath", "bath"),
                            "not thermal"),
}


@pytest.mark.parametrize("case", list(MACHINE_REFUSALS))
def test_machine_refusals(case, machine_ledgers):
    """Asking a ledger for a machine it is not raises a ValueError naming what is wrong."""
    which, call, message = MACHINE_REFUSALS[case]
    with pytest.raises(ValueError, match=message):
        call(machine_ledgers[which].thermodynamics)


# --- memory: the ledger of subsystems + carried ancillas ----------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("case", list(MEMORY_CASES))
def test_memory_ledger_against_dense_register(case, scheme):
    """With memory the ledger's system is subsystems + carried ancillas: its energy
    (carried ancillas included), the first law (the switching work of the random
    ancilla-ancilla collisions included) against the dense register of
    ``tests/dense_memory.py`` to 1e-12 at every step; Sigma (full-rank streams) against
    the register's I(reg':leaving) + D(leaving || eta) to 1e-10, and its Clausius form."""
    model, (dims, h, streams, collisions, energies, memory), rho0 = build_memory(case)
    dt, steps = 0.05, 20
    r = model.run(rho0, steps * dt, dt, options=DensityOptions(scheme=scheme),
                  thermodynamics=True)
    led = r.thermodynamics
    _, heat, _, book = dense_memory_run(dims, h, streams, collisions, energies, memory,
                                        rho0, dt, steps + 1, {}, ledger=True)
    assert np.max(np.abs(led.energy - book["energy"])) < 1e-12
    work = (book["energy_after"] - book["energy"]) / dt + sum(heat.values())
    assert np.max(np.abs(led.work - work)) < 1e-12
    assert np.max(np.abs(work)) > 1e-2  # the collisions do work
    steps_sum = np.concatenate([[0.0], np.cumsum(work[:-1] * dt)])
    assert np.max(np.abs(led.work_total - steps_sum)) < 1e-12
    if all(np.linalg.eigvalsh(e).min() > 0 for e in streams.values()):
        assert np.max(np.abs(led.entropy_production - book["sigma"])) < 1e-10
        assert np.min(led.entropy_production) >= -1e-12
        assert np.max(np.abs(led.entropy_production_clausius
                             - led.entropy_production)) < 1e-10


@pytest.mark.parametrize("case", ["1-sub-qutrit-T1-swap",
                                  "2-sub-qubit-T1-and-memoryless-qutrit"])
def test_memory_trajectory_ledger_within_standard_errors(case):
    """Trajectories of a memory model: energy (carried ancillas included) and work within
    four standard errors of the density ledger (1000 trajectories, fixed seed)."""
    model, _, rho0 = build_memory(case)
    dt = 0.05
    exact = model.run(rho0, 0.5, dt, thermodynamics=True).thermodynamics
    mc = model.run(rho0, 0.5, dt, method="trajectories", n_trajectories=1000, seed=3,
                   thermodynamics=True).thermodynamics
    for f in ("energy", "work", "work_total"):
        want, got, err = getattr(exact, f), getattr(mc, f), getattr(mc.stderr, f)
        assert np.all(err[1:] > 0)
        assert np.all(np.abs(got - want) <= 4 * err + 1e-12), f


# --- files ----------------------------------------------------------------------------------

def _zero_temperature():
    h = 0.5 * SZ
    model = CollisionModel([2], h, {"bath": np.diag([0.0, 1.0]).astype(complex)},
                           [Collision([0], exchange(SM, SM), "bath")],
                           stream_hamiltonians={"bath": h})
    return model, h, np.diag([0.4, 0.6]).astype(complex)  # Sigma = +inf, correlations NaN


SAVED = {"density, two streams": (two_streams, "density"),
         "density, zero temperature (inf, NaN)": (_zero_temperature, "density"),
         "trajectories, sigma_x x sigma_x": (xx, "trajectories")}


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k])
                                                                  for k in a)
    if a is None or isinstance(a, float):
        return a == b or (a is None and b is None)
    return np.array_equal(a, b, equal_nan=True) and np.asarray(b).dtype == float


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
@pytest.mark.parametrize("case", list(SAVED))
def test_ledger_round_trip_is_exact(case, suffix, tmp_path):
    factory, method = SAVED[case]
    model, h, rho0 = factory()
    kw = {"n_trajectories": 128, "seed": 2} if method == "trajectories" else {}
    r = model.run(rho0, 0.3, DT, method=method, thermodynamics=True, **kw)
    back = Result.load(r.save(tmp_path / f"run{suffix}"))
    a, b = r.thermodynamics, back.thermodynamics
    for f in ("energy", "entropy", "work", "entropy_production",
              "entropy_production_clausius", "relative_entropy", "correlations", "beta",
              "heat_total", "work_total", "entropy_production_total", "heat"):
        assert _same(getattr(a, f), getattr(b, f)), f
    assert (a.stderr is None) == (b.stderr is None)
    if a.stderr is not None:
        for f in ("energy", "heat", "work", "heat_total", "work_total"):
            assert _same(getattr(a.stderr, f), getattr(b.stderr, f)), f
    assert "saved_thermodynamics" not in back.parameters
    if case.startswith("density, zero"):
        assert np.all(np.isinf(b.entropy_production)) and np.all(np.isnan(b.correlations))


def _edit_csv(path):
    lines = path.read_text().split("\n")
    col = lines[0].split(",").index("thermo.work")
    row = lines[3].split(",")
    row[col] = repr(float(row[col]) + 1e-9)
    lines[3] = ",".join(row)
    path.write_text("\n".join(lines))


def _nan_energy(path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != "sha256"}
    arrays["thermo"] = arrays["thermo"].copy()
    arrays["thermo"][0, 1] = np.nan  # column 0 is the energy; the checksum is rewritten
    write_npz(path, arrays)


def _short_thermo(path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != "sha256"}
    arrays["thermo"] = arrays["thermo"][:-1]
    write_npz(path, arrays)


CORRUPTIONS = {"csv ledger value edited": (".csv", _edit_csv, "modified or truncated"),
               "npz ledger energy NaN (valid checksum)": (".npz", _nan_energy,
                                                          "thermodynamics energy' must be "
                                                          "finite"),
               "npz ledger rows missing (valid checksum)": (".npz", _short_thermo,
                                                            "does not match the columns")}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_damaged_ledger_refused_naming_the_file(case, tmp_path):
    suffix, damage, message = CORRUPTIONS[case]
    model, h, rho0 = two_streams()
    path = model.run(rho0, 0.3, DT, thermodynamics=True).save(tmp_path / f"run{suffix}")
    damage(path)
    with pytest.raises(ValueError, match=message) as info:
        Result.load(path)
    assert str(path) in str(info.value)
