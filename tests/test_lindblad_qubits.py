"""Two qubits in cascade: the paper's Sec. VI formulas and App. C against the master equation.

The paper's qubit fluxes (eqs 23-25 and the T = 0 closed forms of Sec. VI B) are in
units of hbar omega gamma / 2: exactly twice the physical flux of H = (omega/2) sigma_z
(DESIGN.md section 3).  ``closed_form`` returns physical values by default and the
paper's with ``paper_units=True``; both are checked here against
``CascadeMasterEquation("qubit", ...)``, which knows nothing of the paper's scale.
"""

from __future__ import annotations

import numpy as np
import pytest

from lindblad import closed_form as cf
from lindblad import states
from lindblad.model import CascadeMasterEquation
from lindblad.thermal import qubit_polarisation

TIMES = np.linspace(0.0, 7.0, 36)
FIELDS = ("J1", "J2", "J12", "total")


def _random_state(rng: np.random.Generator, dim: int = 4) -> np.ndarray:
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


# --- T = 0 closed forms of Sec. VI B ------------------------------------------------------

CORRELATED = [  # (xi_S, paper's rho23 symbol), |rho23| <= 1 - xi_S^2 (eq 42)
    pytest.param(0.25, 0.0, id="thermal-xiS=0.25"),
    pytest.param(0.25, 0.75, id="xiS=0.25-rho23=+0.75"),
    pytest.param(0.25, -0.75, id="xiS=0.25-rho23=-0.75"),
    pytest.param(0.25, 0.5 - 0.6j, id="xiS=0.25-complex"),
    pytest.param(0.0, -1.0, id="xiS=0-rho23=-1(edge)"),
    pytest.param(0.0, 0.3j, id="xiS=0-imaginary"),
    pytest.param(0.8, 0.36 * np.exp(2.0j), id="xiS=0.8-edge-complex"),
    pytest.param(1.0, 0.0, id="xiS=1-ground"),
]


@pytest.mark.parametrize("xi_s, rho23", CORRELATED)
def test_zero_temperature_closed_forms_are_twice_the_physical_flux(xi_s, rho23):
    me = CascadeMasterEquation("qubit", temperature=0.0)
    num = me.heat_fluxes(states.correlated_qubits(xi_s, rho23), TIMES)
    paper = cf.qubit_fluxes(TIMES, xi_s, rho23, paper_units=True)
    physical = cf.qubit_fluxes(TIMES, xi_s, rho23)
    for name in FIELDS:
        assert np.max(np.abs(getattr(paper, name) - 2 * getattr(num, name))) < 1e-10, name
        assert np.max(np.abs(getattr(physical, name) - getattr(num, name))) < 1e-10, name


def test_zero_temperature_closed_forms_with_units():
    """gamma and omega enter as omega gamma f(gamma t)."""
    gamma, omega, xi_s, rho23 = 0.4, 2.5, 0.3, -0.5 + 0.2j
    me = CascadeMasterEquation("qubit", gamma=gamma, omega=omega, temperature=0.0)
    num = me.heat_fluxes(states.correlated_qubits(xi_s, rho23), TIMES)
    ref = cf.qubit_fluxes(TIMES, xi_s, rho23, gamma=gamma, omega=omega)
    for name in FIELDS:
        assert np.max(np.abs(getattr(ref, name) - getattr(num, name))) < 1e-10, name


def test_independent_reservoirs_qubits():
    me = CascadeMasterEquation("qubit", temperature=0.0, cascade=False)
    num = me.heat_fluxes(states.correlated_qubits(0.25, -0.6), TIMES)
    ref = cf.qubit_fluxes(TIMES, 0.25, -0.6, cascade=False)
    for name in FIELDS:
        assert np.max(np.abs(getattr(ref, name) - getattr(num, name))) < 1e-12, name
    assert np.allclose(num.total, cf.qubit_independent_flux(TIMES, 0.25), atol=1e-12)


# --- eqs 23-25 at any temperature -----------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 0.4, 1.0, 3.0], ids=lambda t: f"T={t}")
@pytest.mark.parametrize("bath", ["qubit", "boson"])
def test_eqs_23_to_25_on_random_states(temperature, bath):
    """Paper's eqs 23-25 (translated to our basis) = 2 x the model's fluxes.

    A qubit bath has rates gamma (1 +- xi)/2 with xi = tanh(omega / 2T).  A boson bath
    has rates gamma (N + 1), gamma N: the same form with gamma' = gamma (2N + 1) and
    xi' = 1 / (2N + 1), so eqs 23-25 apply with (gamma', xi').
    """
    rng = np.random.default_rng(20240611)
    me = CascadeMasterEquation("qubit", temperature=temperature, bath=bath)
    g_dn, g_up = me.rates
    xi = (g_dn - g_up) / (g_dn + g_up)  # = tanh(omega / 2T) for a qubit bath
    if bath == "qubit":
        assert xi == pytest.approx(qubit_polarisation(temperature))
    scale = (g_dn + g_up) / me.gamma   # 1 for a qubit bath, 2N + 1 for a boson bath
    for _ in range(5):
        rho0 = _random_state(rng)
        rhos = me.evolve(rho0, TIMES[::5])
        num = me.heat_fluxes(rho0, TIMES[::5])
        j1, j2, j12 = cf.qubit_fluxes_from_state(rhos, xi, gamma=me.gamma * scale,
                                                 paper_units=True)
        assert np.max(np.abs(j1 - 2 * num.J1)) < 1e-12
        assert np.max(np.abs(j2 - 2 * num.J2)) < 1e-12
        assert np.max(np.abs(j12 - 2 * num.J12)) < 1e-12
        phys = cf.qubit_fluxes_from_state(rhos[0], xi, gamma=me.gamma * scale)
        assert np.allclose(phys, [num.J1[0], num.J2[0], num.J12[0]], rtol=0, atol=1e-13)


# --- App. C ------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 0.7, 2.0], ids=lambda t: f"T={t}")
def test_rho14_decays_alone_eq_C4(temperature):
    """rho14 = <ee|rho|gg> (ours: rho[3, 0]) obeys eq C4 for any initial state.

    The paper's K (App. C) omits the free Hamiltonian (it has no imaginary entries),
    i.e. it is the interaction picture: there rho14(t) = exp(-gamma t) rho14(0).  In the
    Schroedinger picture rho14 also rotates, at the frequency 2 omega between |ee> and
    |gg>.  The decay rate is the same gamma as in eqs 7-8 (no factor): see
    test_lindblad_model.py::test_paper_liouvillian_appendix_c for K itself.
    """
    gamma, omega = 0.6, 1.3
    rng = np.random.default_rng(7)
    me = CascadeMasterEquation("qubit", gamma=gamma, omega=omega, temperature=temperature)
    for _ in range(3):
        rho0 = _random_state(rng)
        rho14 = me.evolve(rho0, TIMES)[:, 3, 0]
        expected = np.exp(-(gamma + 2j * omega) * TIMES) * rho0[3, 0]
        assert np.max(np.abs(rho14 - expected)) < 1e-13
        # interaction picture, as printed in the paper
        assert np.allclose(np.exp(2j * omega * TIMES) * rho14,
                           np.exp(-gamma * TIMES) * rho0[3, 0], rtol=0, atol=1e-13)


def test_fluxes_do_not_depend_on_rho14_or_im_rho23():
    """Sec. VI B: the fluxes depend on Re rho23(0) only (and not on rho14(0))."""
    me = CascadeMasterEquation("qubit", temperature=0.5)
    base = states.correlated_qubits(0.3, 0.4)
    other = states.correlated_qubits(0.3, 0.4 + 0.5j)
    other[3, 0] = 0.1j
    other[0, 3] = -0.1j
    states.validate_density_matrix(other)
    a, b = me.heat_fluxes(base, TIMES), me.heat_fluxes(other, TIMES)
    for name in FIELDS:
        assert np.max(np.abs(getattr(a, name) - getattr(b, name))) < 1e-14, name


def test_singlet_releases_no_heat_at_first():
    """App. E at T = 0: |Psi-> = (|eg> - |ge>)/sqrt2 is not touched by the collective
    dissipator, so it releases no heat at t = 0: the local fluxes J1 + J2 = omega gamma
    are cancelled by J12 = 2 omega gamma Re<eg|rho|ge> = -omega gamma (eq 25, physical)."""
    psi = np.zeros(4)
    psi[2], psi[1] = 1 / np.sqrt(2), -1 / np.sqrt(2)  # (|eg> - |ge>)/sqrt2
    me = CascadeMasterEquation("qubit", temperature=0.0)
    f = me.heat_fluxes(np.outer(psi, psi), [0.0])
    assert f.J12[0] == pytest.approx(-1.0, abs=1e-14)
    assert f.J1[0] + f.J2[0] == pytest.approx(1.0, abs=1e-14)
    assert f.total[0] == pytest.approx(0.0, abs=1e-14)
