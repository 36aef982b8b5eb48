"""The cascaded master equation with a travel time between subsystems (lindblad.delay)."""

import warnings

import numpy as np
import pytest

import collision
from lindblad import CascadeMasterEquation
from lindblad.states import correlated_qubits, product, thermal

T_GRID = np.linspace(0.0, 4.0, 81)


@pytest.fixture(scope="module")
def qubit_state():
    return correlated_qubits(0.3, 0.5 + 0.2j)


@pytest.mark.parametrize("tau", [0.25, 1.0, 3.0], ids=["tau0.25", "tau1", "tau3"])
def test_s1_flux_does_not_depend_on_the_delay(qubit_state, tau):
    plain = CascadeMasterEquation("qubit", temperature=0.7).heat_fluxes(qubit_state, T_GRID)
    late = CascadeMasterEquation("qubit", temperature=0.7, delay=tau).heat_fluxes(qubit_state,
                                                                                  T_GRID)
    np.testing.assert_allclose(late.J1, plain.J1, atol=1e-13)
    assert np.all(late.correlated[1][T_GRID < tau] == 0.0)  # nothing has arrived yet


@pytest.mark.parametrize("tau", [0.5, 2.0], ids=["tau0.5", "tau2"])
def test_product_state_s2_is_the_cascade_started_from_s2_relaxed_alone(tau):
    """For a product state S2's flux at t >= tau is the zero-delay S2 flux at t - tau of
    rho_1 x exp(L_2 tau) rho_2 (S2 relaxed alone, with fresh inputs, for tau)."""
    r1, r2 = thermal("qubit", 3.0), thermal("qubit", 0.2)
    delayed = CascadeMasterEquation("qubit", temperature=0.7, delay=tau)
    single = CascadeMasterEquation("qubit", temperature=0.7)
    # S2 alone for tau: the second qubit's marginal of the independent-reservoir model
    alone = CascadeMasterEquation("qubit", temperature=0.7, cascade=False)
    relaxed = alone.evolve(product(r1, r2), [tau])[0]
    r2_tau = relaxed.reshape(2, 2, 2, 2).trace(axis1=0, axis2=2)
    t = T_GRID[T_GRID >= tau]
    late = delayed.heat_fluxes(product(r1, r2), t)
    ref = single.heat_fluxes(product(r1, r2_tau), t - tau)
    np.testing.assert_allclose(late.local[1], ref.local[1], atol=1e-12)
    np.testing.assert_allclose(late.correlated[1], ref.correlated[1], atol=1e-12)


@pytest.mark.parametrize("tau", [0.5, 1.5], ids=["tau0.5", "tau1.5"])
def test_total_heat_does_not_depend_on_the_delay(qubit_state, tau):
    """Q(inf), the integral of the total flux to long times (the slow mode of the qubit
    cascade needs t ~ 30 / 0.15), is the same with and without delay.  The correlated
    flux jumps at t = tau, so the integral is split there (the left piece ends just
    before the jump); trapezoid error below 1e-5."""
    q = []
    for d in (0.0, tau):
        me = CascadeMasterEquation("qubit", temperature=0.7, delay=d)
        left = np.linspace(0.0, tau * (1 - 1e-12), 2001)
        right = np.linspace(tau, 200.0, 40001)
        q.append(sum(np.trapezoid(me.heat_fluxes(qubit_state, g).total, g)
                     for g in (left, right)))
    assert q[1] == pytest.approx(q[0], abs=1e-5)


def test_energy_balance_with_the_energy_in_flight(qubit_state):
    """U_S(0) - U_S(t) - sum in_flight = Q_out(t), the heat that has left the chain, which
    grows monotonically here and equals the integral of S1's and S2's flux over the
    process times that have passed S2 (trapezoid on a fine grid)."""
    me = CascadeMasterEquation("qubit", temperature=0.0, delay=1.0)
    # S2's correlated flux jumps at t = 1: a node just before it keeps the trapezoid rule
    # second order (error ~ 1e-7 here)
    t = np.sort(np.append(np.linspace(0.0, 3.0, 3001), 1.0 - 1e-12))
    every = np.flatnonzero(np.isin(t, np.linspace(0.0, 3.0, 7)))
    f = me.heat_fluxes(qubit_state, t)
    states = me.evolve(qubit_state, t[every])
    du = np.array([me.energies(qubit_state).sum() - me.energies(r).sum() for r in states])
    q_out = du - f.in_flight.sum(axis=0)[every]
    # heat out = energy the modes that passed S2 carry: S1 up to t - 1 and S2 up to t
    s1 = np.concatenate([[0.0], np.cumsum((f.J1[1:] + f.J1[:-1]) / 2 * np.diff(t))])
    s2 = f.J2 + f.J12
    s2c = np.concatenate([[0.0], np.cumsum((s2[1:] + s2[:-1]) / 2 * np.diff(t))])
    expect = np.interp(t - 1.0, t, s1, left=0.0) + s2c
    np.testing.assert_allclose(q_out, expect[every], atol=1e-6)


@pytest.mark.parametrize("system", ["qubit", "oscillator"])
def test_collision_engine_converges_to_the_delayed_master_equation(system, qubit_state):
    """Density engine with delay vs the delayed master equation: error O(dt) (order
    fitted over dt = 0.02, 0.01, 0.005)."""
    if system == "qubit":
        rho0, kw = qubit_state, {}
    else:
        one = thermal("oscillator", 0.5, cutoff=8)
        rho0, kw = product(one, thermal("oscillator", 0.3, cutoff=8)), {"cutoff": 8}
    errors = []
    dts = [0.02, 0.01, 0.005]
    for dt in dts:
        model = collision.CascadeCollisionModel(system, temperature=0.0, delay=0.4, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", collision.AccuracyWarning)
            res = model.run(rho0, 2.0, dt, save_every=int(round(0.1 / dt)))
        ref = model.master_equation().heat_fluxes(rho0, res.t)
        errors.append(np.max(np.abs(res.subsystem - ref.subsystem)))
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 0.9 < order < 1.1


def test_chain_with_per_link_delays_matches_the_collision_limit():
    """A 3-qubit chain with delays [0.3, 0.6]: master equation vs density engine,
    including the energy in flight and the equal-time state.  Measured at dt = 0.005:
    flux 2.3e-3, in flight 1.6e-4, state 1.7e-4, each halving with dt (first order)."""
    rho0 = product(correlated_qubits(0.3, 0.4), thermal("qubit", 1.5))
    model = collision.CascadeCollisionModel("qubit", 3, temperature=0.5, delay=[0.3, 0.6])
    ref_model = model.master_equation()
    errors = []
    for dt in (0.005, 0.0025):
        res = model.run(rho0, 2.0, dt, save_every=int(round(0.1 / dt)))
        ref = ref_model.heat_fluxes(rho0, res.t)
        state = ref_model.evolve(rho0, res.t[-1:])[0]
        errors.append([np.max(np.abs(res.subsystem - ref.subsystem)),
                       np.max(np.abs(res.in_flight - ref.in_flight)),
                       np.max(np.abs(res.final_state - state))])
    errors = np.array(errors)
    assert np.all(errors[0] < [3e-3, 2e-4, 2e-4])
    np.testing.assert_allclose(errors[0] / errors[1], 2.0, rtol=0.1)
