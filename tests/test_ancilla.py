"""The automatic bath cutoff and its stated error bound (collision/ancilla.py)."""

import numpy as np
import pytest

from collision.ancilla import choose_bath_cutoff, leak_probability
from collision.unitaries import exchange_unitary_dense
from lindblad.thermal import thermal_populations


def _exact_leak_one_collision(d_anc, theta, temperature, sys_pop):
    """Brute force: ancilla weight on levels >= d_anc after ONE collision, computed with
    a dense expm in a space large enough to hold every reachable level."""
    d_sys = sys_pop.size
    big = d_anc + d_sys + 2
    u = exchange_unitary_dense(d_sys, big, theta)
    p = thermal_populations("oscillator", temperature, 1.0, 200)[:big]
    leak = thermal_populations("oscillator", temperature, 1.0, 200)[d_anc:].sum()
    for n in range(d_sys):
        for k in range(d_anc):
            psi = u[:, n * big + k].reshape(d_sys, big)
            leak += sys_pop[n] * p[k] * np.sum(np.abs(psi[:, d_anc:]) ** 2)
    return leak


@pytest.mark.parametrize("temperature", [0.0, 0.7], ids=["T=0", "T=0.7"])
def test_single_collision_bound_matches_brute_force(temperature):
    sys_pop = thermal_populations("oscillator", 1.5, 1.0, 6)
    for d in (2, 3, 5):
        ours = leak_probability(d, 0.3, temperature, 1.0, sys_pop, n_systems=1)
        assert ours == pytest.approx(_exact_leak_one_collision(d, 0.3, temperature, sys_pop),
                                     rel=1e-9, abs=1e-15)


def test_two_qubits_at_zero_temperature_need_three_ancilla_levels():
    # S1 can lift the ancilla to |1>, then S2 to |2>: a 2-level bosonic ancilla is not exact.
    pop = np.array([0.0, 1.0])
    assert leak_probability(2, 0.1, 0.0, 1.0, pop, n_systems=2) > 0
    assert leak_probability(3, 0.1, 0.0, 1.0, pop, n_systems=2) == pytest.approx(0, abs=1e-15)
    assert choose_bath_cutoff("boson", 0.1, 0.0, 1.0, pop, 2)[0] == 3


def test_leak_decreases_with_cutoff_and_auto_choice_meets_tolerance():
    pop = thermal_populations("oscillator", 2.0, 1.0, 10)
    leaks = [leak_probability(d, 0.2, 1.0, 1.0, pop, 2) for d in range(2, 16)]
    assert np.all(np.diff(leaks) < 0)
    d, leak = choose_bath_cutoff("boson", 0.2, 1.0, 1.0, pop, 2, tol=1e-6)
    assert leak <= 1e-6 < leak_probability(d - 1, 0.2, 1.0, 1.0, pop, 2)


def test_qubit_bath_is_exact_and_small_cutoff_warns():
    assert choose_bath_cutoff("qubit", 0.1, 1.0, 1.0, np.ones(2), 2) == (2, 0.0)
    with pytest.warns(UserWarning, match="bath_cutoff=2"):
        choose_bath_cutoff("boson", 0.3, 1.0, 1.0, np.ones(4), 2, bath_cutoff=2)


@pytest.mark.parametrize("kw, match", [
    (dict(bath="qubit", bath_cutoff=3), "qubit bath has 2 levels"),
    (dict(bath="boson", bath_cutoff=1), "integer >= 2"),
    (dict(bath="boson", bath_cutoff=2.5), "integer >= 2"),
    (dict(bath="boson", tol=0.0), "bath_tol"),
], ids=["qubit-bath-cutoff", "cutoff-1", "cutoff-float", "tol-0"])
def test_bad_cutoff_input(kw, match):
    args = dict(theta=0.1, temperature=1.0, omega=1.0, sys_populations=np.ones(3), n_systems=2)
    with pytest.raises(ValueError, match=match):
        choose_bath_cutoff(**(args | kw))
