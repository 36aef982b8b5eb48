"""Physics statements of the paper (Secs V-VII), with the collision engines as the source
of rho(t) and the exact Lindblad reference alongside.

* Sec. VII, eq 45 in physical units: for two qubits starting in a product of local thermal
  states, ``|J12(t)| = 2 xi gamma omega D(rho(t))`` (D = one-sided trace-distance discord).
* Eqs 46-47: a counterexample, discord without correlated heat flux.
* Figs 4a / 6a: the slowest and fastest energy release happen at the extremes of the
  correlation parameter, and ``tau_p`` is monotonic in it.
"""

import numpy as np
import pytest

from collision import CascadeCollisionModel, GaussianCollisionModel
from collision.studies.paper import release_times_from_flux
from lindblad import closed_form as cf
from lindblad import correlations, states
from lindblad.thermal import qubit_polarisation

T_BATH = 1.0
XI = qubit_polarisation(T_BATH)
TIMES = (0.5, 1.0, 2.0, 3.0)


def thermal_pair(t_s):
    return states.product(states.thermal("qubit", t_s), states.thermal("qubit", t_s))


@pytest.fixture(scope="module")
def qubit_model():
    return CascadeCollisionModel("qubit", temperature=T_BATH)


# --- eq 45 --------------------------------------------------------------------------------

@pytest.mark.parametrize("t_s", [2.0, 0.5])
def test_j12_equals_tdd_exactly_along_the_lindblad_solution(qubit_model, t_s):
    me = qubit_model.master_equation()
    rho0 = thermal_pair(t_s)
    rhos = me.evolve(rho0, TIMES)
    fluxes = me.heat_fluxes(rho0, TIMES)
    for k in range(len(TIMES)):
        predicted = correlations.correlated_heat_flux_from_tdd(rhos[k], XI)
        assert abs(fluxes.J12[k]) == pytest.approx(predicted, abs=1e-10)
        assert predicted > 1e-3          # the statement is not about zeros
    # eq 45 is in the paper's units, twice these
    _, _, j12_paper = cf.qubit_fluxes_from_state(rhos[1], XI, paper_units=True)
    assert abs(j12_paper) == pytest.approx(4 * XI * correlations.trace_distance_discord(rhos[1]),
                                           abs=1e-10)


@pytest.mark.parametrize("t_s", [2.0, 0.5])
def test_j12_equals_tdd_to_first_order_in_dt_for_the_engine(qubit_model, t_s):
    """Engine flux at t vs the discord of the engine's state at t (lab frame).

    The engine's J12 at t_k is the correlated energy handed over during [t_k, t_k + dt], so it
    differs from eq 45 by O(dt); the discrepancy must halve with dt.  The relation itself is
    a property of the states reached: eq 25 applied to the engine's own state satisfies it
    to rounding at any dt (the state stays an X state with real <eg|rho|ge>).
    """
    rho0 = thermal_pair(t_s)
    worst = []
    for dt in (0.02, 0.01):
        gaps = []
        for t in TIMES:
            res = qubit_model.run(rho0, t, dt)
            assert res.t[-1] == pytest.approx(t)
            state = res.final_state
            predicted = correlations.correlated_heat_flux_from_tdd(state, XI)
            gaps.append(abs(res.J12[-1]) - predicted)
            _, _, j12_state = cf.qubit_fluxes_from_state(state, XI)
            assert abs(j12_state) == pytest.approx(predicted, abs=1e-12)
        worst.append(np.max(np.abs(gaps)))
    assert worst[0] < 0.13 * 0.02               # O(dt): 1.27e-3 measured at dt = 0.02
    assert 1.7 < worst[0] / worst[1] < 2.3      # first order


# --- eqs 46-47: discord without correlated heat flux -----------------------------------------

def counterexample_state(t2=0.4):
    """Eq 46-47: S1 pure with the reservoir's populations, S2 thermal at T2."""
    psi = np.array([np.sqrt((1 + XI) / 2), np.sqrt((1 - XI) / 2)])   # (|g>, |e>)
    return states.product(np.outer(psi, psi), states.thermal("qubit", t2))


def test_counterexample_reference(qubit_model):
    me = qubit_model.master_equation()
    rho0 = counterexample_state()
    t = np.linspace(0.0, 5.0, 51)
    fluxes = me.heat_fluxes(rho0, t)
    assert np.max(np.abs(fluxes.J1)) < 1e-12
    assert np.max(np.abs(fluxes.J12)) < 1e-12
    assert np.max(np.abs(fluxes.J2)) > 0.1       # S2 does exchange heat
    rho1 = me.evolve(rho0, [1.0])[0]
    assert not correlations.is_x_state(rho1)     # the closed form of eq 45 does not apply
    assert correlations.trace_distance_discord(rho1, method="numerical") > 0.05


def test_counterexample_engine_has_exactly_zero_j1_and_j12(qubit_model):
    """At finite dt too, not only in the limit.

    S1's populations equal those of every incoming ancilla, and one collision averaged over
    the thermal ancilla maps S1's populations among themselves (coherences do not feed
    them), so S1 hands no energy to the stream: J1 = 0 per step.  The source of the S1-S2
    coherence <eg|rho|ge> is S1's population imbalance relative to the ancilla's, which is
    zero, so that coherence stays zero and with it J12.  Measured: both ~1e-14.
    """
    rho0 = counterexample_state()
    for dt in (0.02, 0.01):
        res = qubit_model.run(rho0, 1.0, dt)
        assert np.max(np.abs(res.J1)) < 1e-12
        assert np.max(np.abs(res.J12)) < 1e-12
        assert abs(res.final_state[2, 1]) < 1e-12
        assert np.max(np.abs(res.J2)) > 0.1
    ref_state = qubit_model.master_equation().evolve(rho0, [1.0])[0]
    d_ref = correlations.trace_distance_discord(ref_state, method="numerical")
    d_eng = correlations.trace_distance_discord(res.final_state, method="numerical")
    assert d_eng > 0.05
    assert abs(d_eng - d_ref) < 0.05 * 0.01      # O(dt): 2.0e-4 measured at dt = 0.01


# --- release times at the extremes ---------------------------------------------------------------

P_CHECK = (50.0, 90.0)


def test_oscillator_release_slowest_and_fastest_at_the_extremes():
    n_s, dt = 1.0, 0.02
    c_sums = np.linspace(-2 * n_s, 2 * n_s, 5)
    engine = GaussianCollisionModel(temperature=0.0)
    taus = []
    for c in c_sums:
        res = engine.run(states.gaussian_correlated(n_s, c / 2, c / 2), 8.0, dt)
        taus.append(release_times_from_flux(res.t, res.total, cf.oscillator_total_heat(n_s),
                                            P_CHECK))
    taus = np.array(taus).T                      # (p, c_sum)
    assert np.all(np.diff(taus, axis=1) < 0)     # monotonic: faster with larger C13 + C24
    assert np.all(np.argmax(taus, axis=1) == 0) and np.all(np.argmin(taus, axis=1) == 4)
    fine = np.linspace(-2 * n_s, 2 * n_s, 41)
    ref = np.array([cf.oscillator_release_time(P_CHECK, n_s, c) for c in fine]).T
    assert np.all(np.diff(ref, axis=1) < 0)
    np.testing.assert_allclose(taus, ref[:, ::10], atol=2.8 * dt)   # 1.37 dt measured


def test_qubit_release_slowest_and_fastest_at_the_extremes():
    xi_s, dt = 0.25, 0.02
    b = 1 - xi_s**2
    values = np.linspace(-b, b, 5)
    model = CascadeCollisionModel("qubit", temperature=0.0)
    taus = []
    for r in values:
        res = model.run(states.correlated_qubits(xi_s, r), 8.0, dt)
        taus.append(release_times_from_flux(res.t, res.total, cf.qubit_total_heat(xi_s),
                                            P_CHECK))
    taus = np.array(taus).T
    assert np.all(np.diff(taus, axis=1) < 0)
    assert np.all(np.argmax(taus, axis=1) == 0) and np.all(np.argmin(taus, axis=1) == 4)
    fine = np.linspace(-b, b, 41)
    ref = np.array([cf.qubit_release_time(P_CHECK, xi_s, r) for r in fine]).T
    assert np.all(np.diff(ref, axis=1) < 0)
    np.testing.assert_allclose(taus, ref[:, ::10], atol=2.8 * dt)   # 1.37 dt measured
