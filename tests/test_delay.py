"""Finite travel time (``delay=``) between the subsystems of the cascade.

Reference: ``delay_register.py`` beside this file, an explicit register of the ancillas
in flight stepped in real time, written from the physics and independent of the engines.

Part 1 checks the register itself (passes without engine support for delays):
  * with zero delay it is today's cascade: the density engine's local/correlated fluxes
    and final state agree to 1e-12;
  * energy balance U_S(0) - U_S(t_k) = Q_out + sum in_flight, exact at finite dt, and
    in_flight equals its closed form in terms of the subsystem energies;
  * S1's flux does not depend on the delay;
  * the exact reorganisation (two subsystems, delay m steps): S2 first meets m fresh
    ancillas, then the zero-delay cascade runs, sigma(0) = (id x Phi_2^m)(rho0), and
    rho_12(k) = (Phi_1^m x id)(sigma(k - m)); the zero-delay side is the density engine.
Part 2 is the acceptance test of the engines (skipped until they support ``delay``).

Tolerances: 1e-12 absolute for fluxes (units hbar omega gamma, values <= 1; a flux is a
difference of O(1) energies divided by dt = 0.05, so rounding is ~20 eps ~ 5e-15 per
step, accumulated over <= 20 steps), energies and state entries.  Register and engine
simulate the same discrete model with the same truncations, so the AccuracyWarning
(dt vs the Lindblad limit) and TruncationWarning (tiny oscillator and bath cutoffs, on
purpose: the register holds n + sum(m) + 1 factors) do not apply and are ignored.

Bath truncation of the oscillator cases (T = 0.3, dt = 0.05): the Gibbs tail dropped by a
3-level boson bath is exp(-3 omega / T) = 4.5e-5, and the fluxes differ from those with
a 5-level bath by at most 6e-3 (3 levels) and 5e-4 (4 levels) hbar omega gamma
(measured with the register, delays 0 and 1).  Both sides share the truncation; the
cases use 4 levels, and 3 for the 3-step delay (cost: the register for 2 oscillators,
3 ancillas in flight and a 4-level bath has 2304 states and takes 8 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from delay_register import (
    exchange_unitary,
    fresh_collision,
    level_energies,
    register_run,
    thermal_ancilla,
)

from collision import CascadeCollisionModel
from collision.unitaries import exchange_unitary as block_unitary
from lindblad.states import correlated_qubits, product, thermal

pytestmark = [pytest.mark.filterwarnings("ignore::collision.AccuracyWarning"),
              pytest.mark.filterwarnings("ignore::collision.TruncationWarning")]

DT = 0.05
N_STEPS = 16  # saved steps 0 .. 16 (t_max = 0.8)
TOL = 1e-12


# --- the cases ------------------------------------------------------------------------
def _pure(*amplitudes) -> np.ndarray:
    psi = np.asarray(amplitudes, dtype=complex)
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


def _oscillator_correlated() -> np.ndarray:
    """Two oscillators (cutoff 3): half sqrt(.6)|00> + sqrt(.3)|11> + sqrt(.1)|22>, half
    a product of a diagonal and a thermal state."""
    psi = np.zeros(9)
    psi[[0, 4, 8]] = np.sqrt([0.6, 0.3, 0.1])
    mixed = product(np.diag([0.2, 0.5, 0.3]), thermal("oscillator", 0.7, cutoff=3))
    return 0.5 * _pure(*psi) + 0.5 * mixed


@dataclass(frozen=True)
class Case:
    system: str
    n_systems: int
    temperature: float
    cutoff: int | None
    bath: str
    bath_cutoff: int | None
    rho0: np.ndarray

    @property
    def d_sys(self) -> int:
        return 2 if self.system == "qubit" else self.cutoff

    @property
    def d_anc(self) -> int:
        return 2 if self.bath == "qubit" else self.bath_cutoff

    def model(self, **delay) -> CascadeCollisionModel:
        return CascadeCollisionModel(self.system, self.n_systems, temperature=self.temperature,
                                     cutoff=self.cutoff, bath=self.bath,
                                     bath_cutoff=self.bath_cutoff, **delay)

    def with_bath_cutoff(self, bath_cutoff: int) -> Case:
        return Case(self.system, self.n_systems, self.temperature, self.cutoff, self.bath,
                    bath_cutoff, self.rho0)


CASES = {
    # paper eq 41, locally thermal (xi_S = 0.4) with a complex coherence; reservoir T = 0.5
    "qubits-eq41": Case("qubit", 2, 0.5, None, "qubit", None,
                        correlated_qubits(0.4, 0.5 + 0.3j)),
    # product with a coherence between excitation numbers on S1
    "qubits-product": Case("qubit", 2, 0.5, None, "qubit", None,
                           product(_pure(0.6, 0.8j), thermal("qubit", 2.0))),
    "qubits3-product": Case("qubit", 3, 0.5, None, "qubit", None,
                            product(_pure(0.6, 0.8), thermal("qubit", 2.0),
                                    thermal("qubit", 0.3))),
    "qubits3-eq41": Case("qubit", 3, 0.5, None, "qubit", None,
                         product(correlated_qubits(0.4, 0.5 + 0.3j), thermal("qubit", 1.0))),
    "oscillators-product": Case("oscillator", 2, 0.3, 3, "boson", 4,
                                product(np.diag([0.2, 0.5, 0.3]),
                                        thermal("oscillator", 0.7, cutoff=3))),
    "oscillators-correlated": Case("oscillator", 2, 0.3, 3, "boson", 4,
                                   _oscillator_correlated()),
}


def _bath_for(case: Case, m: int) -> Case:
    """3-level boson bath for a 3-step delay (register cost, module docstring)."""
    return case.with_bath_cutoff(3) if case.bath == "boson" and m >= 3 else case


@cache
def _register(name: str, delays: tuple[int, ...], n_steps: int = N_STEPS,
              bath_cutoff: int | None = None):
    case = CASES[name] if bath_cutoff is None else CASES[name].with_bath_cutoff(bath_cutoff)
    return register_run(case.system, case.n_systems, case.temperature, case.cutoff,
                        case.bath, case.bath_cutoff, delays, case.rho0, DT, n_steps)


def _register_for(name: str, delays: tuple[int, ...], n_steps: int = N_STEPS):
    case = _bath_for(CASES[name], max(delays))
    return case, _register(name, delays, n_steps, case.bath_cutoff)


def _phi(case: Case, rho: np.ndarray, i: int, times: int = 1) -> np.ndarray:
    """``Phi_i^times``: subsystem ``i`` (0-based) alone with fresh ancillas."""
    unitary = exchange_unitary(case.d_sys, case.d_anc, math.sqrt(DT))
    anc = thermal_ancilla(case.bath, case.temperature, 1.0, case.d_anc)
    dims = (case.d_sys,) * case.n_systems
    for _ in range(times):
        rho = fresh_collision(rho, dims, i, unitary, anc)
    return (rho + rho.conj().T) / 2


def _local_flux(case: Case, rho_1: np.ndarray) -> float:
    """What one subsystem in state ``rho_1`` hands to a fresh ancilla, per unit time."""
    unitary = exchange_unitary(case.d_sys, case.d_anc, math.sqrt(DT))
    anc = thermal_ancilla(case.bath, case.temperature, 1.0, case.d_anc)
    after = fresh_collision(rho_1, (case.d_sys,), 0, unitary, anc)
    return float(np.real(np.diagonal(rho_1 - after)) @ level_energies(case.system, case.d_sys)
                 / DT)


def _interaction_picture(model: CascadeCollisionModel, rho: np.ndarray, t: float):
    return model.to_lab_frame(rho, -t)


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# === Part 1: the register =================================================================
def test_register_unitary_matches_package_blocks():
    """The dense exchange unitary is unitary and equals the package's block form."""
    for d_sys, d_anc in [(2, 2), (3, 4), (4, 3)]:
        u = exchange_unitary(d_sys, d_anc, math.sqrt(DT))
        assert _max_diff(u.conj().T @ u, np.eye(d_sys * d_anc)) < 1e-14
        block = block_unitary(d_sys, d_anc, math.sqrt(DT)).dense()
        assert _max_diff(u, block) < 1e-14


ZERO_DELAY = ["qubits-eq41", "qubits-product", "qubits3-product", "oscillators-correlated"]


@pytest.mark.parametrize("name", ZERO_DELAY, ids=ZERO_DELAY)
def test_register_without_delay_is_the_density_engine(name):
    case = CASES[name]
    reg = _register(name, (0,) * (case.n_systems - 1))
    model = case.model()
    res = model.run(case.rho0, N_STEPS * DT, DT)
    np.testing.assert_allclose(res.t, reg.t, rtol=0, atol=1e-15)
    assert _max_diff(res.local, reg.local) < TOL
    assert _max_diff(res.correlated, reg.correlated) < TOL
    assert _max_diff(res.final_state, model.to_lab_frame(reg.states[-1], reg.t[-1])) < TOL
    assert np.all(reg.in_flight == 0)


BALANCE = [("qubits-eq41", (1,)), ("qubits-eq41", (4,)), ("qubits3-eq41", (1, 2)),
           ("qubits3-product", (2, 0)), ("oscillators-correlated", (2,))]
BALANCE_IDS = [f"{name}-m{'-'.join(map(str, m))}" for name, m in BALANCE]


@pytest.mark.parametrize("name,delays", BALANCE, ids=BALANCE_IDS)
def test_register_energy_balance(name, delays):
    """U_S(0) - U_S(t_k) = Q_out + sum in_flight = sum_{k' < k} total dt, and
    in_flight_i(t_k) = sum_{i' <= i} [E_i'(k - o_{i+1} + o_i') - E_i'(k - o_i + o_i')]
    (steps clipped at 0; o_i the arrival offsets)."""
    _, reg = _register_for(name, delays)
    u_s = reg.energies.sum(axis=0)
    lost = u_s[0] - u_s
    assert np.max(np.abs(reg.in_flight)) > 1e-3  # something is in flight
    assert _max_diff(lost, reg.q_out + reg.in_flight.sum(axis=0)) < TOL
    total = (reg.local + reg.correlated).sum(axis=0)
    assert _max_diff(lost[1:], np.cumsum(total)[:-1] * DT) < TOL
    offsets = np.concatenate([[0], np.cumsum(delays)])
    for i in range(len(delays)):
        for k in range(reg.t.size):
            closed = sum(reg.energies[j, max(k - offsets[i + 1] + offsets[j], 0)]
                         - reg.energies[j, max(k - offsets[i] + offsets[j], 0)]
                         for j in range(i + 1))
            assert abs(reg.in_flight[i, k] - closed) < TOL


S1_CASES = [("qubits-eq41", (3,)), ("qubits3-product", (1, 2)),
            ("oscillators-product", (2,))]


@pytest.mark.parametrize("name,delays", S1_CASES,
                         ids=[f"{n}-m{'-'.join(map(str, m))}" for n, m in S1_CASES])
def test_register_s1_flux_does_not_depend_on_delay(name, delays):
    _, delayed = _register_for(name, delays)
    _, zero = _register_for(name, (0,) * len(delays))
    assert _max_diff(delayed.local[0], zero.local[0]) < TOL
    assert np.max(np.abs(delayed.correlated[0])) < TOL
    assert _max_diff(delayed.energies[0], zero.energies[0]) < TOL


REORG = [("qubits-eq41", 1), ("qubits-eq41", 2), ("qubits-eq41", 4), ("qubits-product", 3),
         ("oscillators-product", 2), ("oscillators-correlated", 1),
         ("oscillators-correlated", 2)]


@pytest.mark.parametrize("name,m", REORG, ids=[f"{n}-m{m}" for n, m in REORG])
def test_register_reorganisation_two_systems(name, m):
    """Delay m: S2's flux at real step k >= m is the zero-delay flux at cascade step
    k - m from sigma(0) = (id x Phi_2^m)(rho0) (density engine); for k < m it is S2's
    local flux of Phi_2^k(rho_2), uncorrelated.  rho_12(k) = (Phi_1^m x id)(sigma(k - m))
    for k >= m and (Phi_1^k x Phi_2^k)(rho0) for k < m."""
    case, reg = _register_for(name, (m,))
    sigma0 = _phi(case, case.rho0, 1, m)
    model = case.model()
    cascade = model.run(sigma0, (N_STEPS - m) * DT, DT)
    assert cascade.t.size == N_STEPS - m + 1
    # fluxes
    assert _max_diff(reg.local[0, :N_STEPS - m + 1], cascade.local[0]) < TOL
    assert _max_diff(reg.local[1, m:], cascade.local[1]) < TOL
    assert _max_diff(reg.correlated[1, m:], cascade.correlated[1]) < TOL
    assert np.max(np.abs(reg.correlated[1, :m])) < TOL
    dims = (case.d_sys, case.d_sys)
    for k in range(m):
        rho_2 = np.trace(_phi(case, case.rho0, 1, k).reshape(dims * 2), axis1=0, axis2=2)
        assert abs(reg.local[1, k] - _local_flux(case, rho_2)) < TOL
    # equal-time states
    for k in range(m):
        expected = _phi(case, _phi(case, case.rho0, 0, k), 1, k)
        assert _max_diff(reg.states[k], expected) < TOL
    for j in sorted({0, 1, 5, N_STEPS - m}):
        if j == 0:
            sigma = sigma0
        else:
            sigma = _interaction_picture(model, model.run(sigma0, j * DT, DT).final_state,
                                         j * DT)
        assert _max_diff(reg.states[j + m], _phi(case, sigma, 0, m)) < TOL


# === Part 2: acceptance tests of the engines ============================================
DENSITY = ([("qubits-eq41", (m,)) for m in (1, 2, 3, 4)]
           + [("qubits3-eq41", (1, 2))]
           + [("oscillators-correlated", (m,)) for m in (1, 2, 3)])
DENSITY_IDS = [f"{n}-m{'-'.join(map(str, m))}" for n, m in DENSITY]


@pytest.mark.parametrize("save_every", [1, 2], ids=["save1", "save2"])
@pytest.mark.parametrize("name,delays", DENSITY, ids=DENSITY_IDS)
def test_density_engine_with_delay_matches_register(name, delays, save_every):
    case, reg = _register_for(name, delays)
    delay = delays[0] * DT if len(delays) == 1 else [m * DT for m in delays]
    model = case.model(delay=delay)
    res = model.run(case.rho0, N_STEPS * DT, DT, save_every=save_every)
    sub = slice(None, None, save_every)
    np.testing.assert_allclose(res.t, reg.t[sub], rtol=0, atol=1e-15)
    assert _max_diff(res.local, reg.local[:, sub]) < TOL
    assert _max_diff(res.correlated, reg.correlated[:, sub]) < TOL
    assert res.in_flight is not None
    assert _max_diff(res.in_flight, reg.in_flight[:, sub]) < TOL
    assert _max_diff(res.final_state, model.to_lab_frame(reg.states[-1], reg.t[-1])) < TOL


def test_density_engine_delay_with_rounding_is_whole_steps():
    """delay = 0.15 at dt = 0.05 (0.15 / 0.05 = 2.9999999999999996) is 3 steps."""
    case, reg = _register_for("qubits-eq41", (3,))
    res = case.model(delay=0.15).run(case.rho0, N_STEPS * DT, DT)
    assert _max_diff(res.local, reg.local) < TOL
    assert _max_diff(res.correlated, reg.correlated) < TOL


TRAJ = [("qubits-eq41", (2,)), ("qubits3-eq41", (1, 2))]


@pytest.mark.parametrize("name,delays", TRAJ,
                         ids=[f"{n}-m{'-'.join(map(str, m))}" for n, m in TRAJ])
def test_trajectories_with_delay_match_register(name, delays):
    """Mean within 4 standard errors of the register at every saved time (seed fixed;
    2000 trajectories)."""
    case, reg = _register_for(name, delays)
    delay = delays[0] * DT if len(delays) == 1 else [m * DT for m in delays]
    res = case.model(delay=delay).run(case.rho0, N_STEPS * DT, DT, method="trajectories",
                                      n_trajectories=2000, seed=20261127)
    for field in ("local", "correlated"):
        mean, err = getattr(res, field), getattr(res.stderr, field)
        ref = getattr(reg, field)
        assert np.all(np.abs(mean - ref) <= 4 * err + TOL), field
    if res.in_flight is not None and getattr(res.stderr, "in_flight", None) is not None:
        assert np.all(np.abs(res.in_flight - reg.in_flight) <= 4 * res.stderr.in_flight + TOL)


BAD_DELAYS = {
    "not-whole-steps": (2, 0.025),
    "not-whole-steps-per-link": (3, [0.05, 0.07]),
    "negative": (2, -0.05),
    "nan": (2, math.nan),
    "wrong-length": (3, [0.05]),
}


@pytest.mark.parametrize(
    "key", list(BAD_DELAYS),
    ids=list(BAD_DELAYS))
def test_bad_delay_raises(key):
    n, delay = BAD_DELAYS[key]
    with pytest.raises(ValueError, match="delay"):
        CascadeCollisionModel("qubit", n, temperature=0.5, delay=delay).run(
            np.eye(2**n) / 2**n, 10 * DT, DT)


@pytest.mark.parametrize("name,delay", [("qubits-eq41", 0), ("qubits-eq41", 0.0),
                                        ("qubits3-eq41", [0, 0]),
                                        ("oscillators-correlated", 0.0)],
                         ids=["int", "float", "per-link", "oscillators"])
def test_zero_delay_is_bit_identical(name, delay):
    case = CASES[name]
    plain = case.model().run(case.rho0, N_STEPS * DT, DT)
    zero = case.model(delay=delay).run(case.rho0, N_STEPS * DT, DT)
    assert np.array_equal(plain.t, zero.t)
    assert np.array_equal(plain.local, zero.local)
    assert np.array_equal(plain.correlated, zero.correlated)
    assert np.array_equal(plain.final_state, zero.final_state)
    assert zero.in_flight is None


# === Part 3: a propagation phase on each link ==================================================
PHASES = [("qubits-eq41", (0,), (0.7,)), ("qubits-eq41", (2,), (np.pi / 2,)),
          ("qubits3-eq41", (1, 2), (0.4, -1.1)), ("oscillators-correlated", (1,), (2.0,))]


@pytest.mark.parametrize("name,delays,phases", PHASES,
                         ids=[f"{n}-m{'-'.join(map(str, m))}" for n, m, _ in PHASES])
def test_propagation_phase_matches_the_register(name, delays, phases):
    """A phase exp(-i phi b^dag b) on every ancilla crossing a link (register) equals the
    models' frame rotation of the downstream subsystems (lindblad CascadeSpec.frame_angles)."""
    case = _bath_for(CASES[name], max(delays))
    reg = register_run(case.system, case.n_systems, case.temperature, case.cutoff, case.bath,
                       case.bath_cutoff, delays, case.rho0, DT, N_STEPS, phases=phases)
    delay = [m * DT for m in delays]
    model = case.model(delay=delay if len(delay) > 1 else delay[0],
                       phase=list(phases) if len(phases) > 1 else phases[0])
    res = model.run(case.rho0, N_STEPS * DT, DT)
    assert _max_diff(res.local, reg.local) < TOL
    assert _max_diff(res.correlated, reg.correlated) < TOL
    assert _max_diff(res.final_state, model.to_lab_frame(reg.states[-1], reg.t[-1])) < TOL
    # the phase matters for these correlated states (the test could fail): through the
    # fluxes when rho0 has coherences of equal excitation number (eq 41), else the state
    plain = case.model(delay=delay if len(delay) > 1 else delay[0]).run(case.rho0,
                                                                       N_STEPS * DT, DT)
    assert max(_max_diff(plain.correlated, res.correlated),
               _max_diff(plain.final_state, res.final_state)) > 1e-3


def test_phase_is_a_turn_of_the_downstream_initial_coherences():
    """Lindblad model: phase phi on the link equals the phase-free model started from
    V^dag rho0 V, V = exp(-i phi n_2), with the states turned back; fluxes of a state
    without coherences do not change."""
    from lindblad import CascadeMasterEquation
    from lindblad.operators import turn_subsystems

    rho0 = correlated_qubits(0.4, 0.5 + 0.3j)
    t = np.linspace(0.0, 3.0, 31)
    phi = 0.9
    with_phase = CascadeMasterEquation("qubit", temperature=0.5, delay=0.4, phase=phi)
    plain = CascadeMasterEquation("qubit", temperature=0.5, delay=0.4)
    turned = turn_subsystems(rho0, (2, 2), [0.0, phi], inverse=True)
    a, b = with_phase.heat_fluxes(rho0, t), plain.heat_fluxes(turned, t)
    np.testing.assert_allclose(a.correlated, b.correlated, atol=1e-12)
    np.testing.assert_allclose(with_phase.evolve(rho0, t[-1:])[0],
                               turn_subsystems(plain.evolve(turned, t[-1:])[0], (2, 2),
                                               [0.0, phi]), atol=1e-12)
    # rho23 -> rho23 exp(-i phi): the correlated flux follows Re(rho23 e^{-i phi})
    assert np.max(np.abs(a.correlated - plain.heat_fluxes(rho0, t).correlated)) > 1e-2
    diag = np.diag(np.diag(rho0))
    np.testing.assert_allclose(with_phase.heat_fluxes(diag, t).local,
                               plain.heat_fluxes(diag, t).local, atol=1e-15)


@pytest.mark.parametrize("tau", [0.0, 0.1], ids=["no-delay", "delay"])
def test_gaussian_phase_agrees_with_the_fock_phase(tau):
    """Second moments of the bilinear collision model are exact for any state, so the
    Gaussian engine and the density engine agree to rounding on a T = 0 Fock state with a
    coherence between |1,0> and |0,1> (no truncation: at most one quantum), with a link
    phase that turns that coherence."""
    from collision import GaussianCollisionModel
    from lindblad.states import fock_moments

    psi = np.zeros(9, dtype=complex)
    psi[3], psi[1] = 0.8, 0.6  # 0.8 |1,0> + 0.6 |0,1>, cutoff 3
    rho0 = np.outer(psi, psi.conj())
    _, cov0 = fock_moments(rho0, (3, 3))
    for phi in (0.0, 1.1):
        fock = CascadeCollisionModel("oscillator", cutoff=3, temperature=0.0, delay=tau,
                                     phase=phi).run(rho0, 0.6, 0.05)
        gauss = GaussianCollisionModel(temperature=0.0, delay=tau, phase=phi).run(cov0, 0.6,
                                                                                   0.05)
        assert _max_diff(fock.local, gauss.local) < TOL
        assert _max_diff(fock.correlated, gauss.correlated) < TOL
        assert _max_diff(fock_moments(fock.final_state, (3, 3))[1], gauss.final_state) < TOL
    me = GaussianCollisionModel(temperature=0.0, delay=tau, phase=1.1).master_equation()
    plain = GaussianCollisionModel(temperature=0.0, delay=tau).master_equation()
    t = np.linspace(0, 1, 11)
    assert _max_diff(me.heat_fluxes(cov0, t).correlated,
                     plain.heat_fluxes(cov0, t).correlated) > 1e-3


def test_interrupted_delayed_density_run_keeps_the_finished_saved_times(monkeypatch):
    """Ctrl-C during a delayed density run returns the real times every subsystem has
    finished (partial, no final state), equal to the uninterrupted run's."""
    from collision import density as density_module

    case = CASES["qubits-eq41"]
    model = case.model(delay=2 * DT)
    full = model.run(case.rho0, N_STEPS * DT, DT)
    calls = []

    def interrupted(real):
        def kernel(*args):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            real(*args)
        return kernel

    monkeypatch.setattr(density_module, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(density_module, "MIN_WATCH_CHUNKS", 1, raising=False)
    for name in ("run_kraus", "run_superoperator", "run_sequential"):
        monkeypatch.setattr(density_module.kernels, name,
                            interrupted(getattr(density_module.kernels, name)))
    part = model.run(case.rho0, N_STEPS * DT, DT)
    assert part.partial and part.final_state is None
    k = part.t.size
    assert 1 <= k < full.t.size
    np.testing.assert_array_equal(part.local, full.local[:, :k])
    np.testing.assert_array_equal(part.in_flight, full.in_flight[:, :k])
