"""GaussianMasterEquation: exact covariance solution vs the Fock-space reference and the
paper's closed forms.

How the Fock comparison is made exact.  The second-moment equations of this master
equation close for *any* state, so the Gaussian solution is exact for the covariance of
whatever state the Fock reference starts from.  We therefore build a state in a truncated
Fock space, compute its covariance from its Fock moments, and compare both evolutions:

* at N = 0 (T = 0) nothing ever raises the total excitation number and the exchange
  terms only move quanta between modes; a state supported on total excitations
  <= cutoff - 1 ("triangle" truncation) never sees the cutoff, so the two solutions agree
  to rounding (1e-14) whatever the cutoff;
* at N > 0 the bath pumps quanta up to the cutoff; the truncation error is about
  ``gamma N cutoff q^(cutoff-1)`` with ``q = n/(n+1)`` for the largest occupation n.
  The cutoffs below keep it below the 1e-8 tolerance (measured against larger cutoffs:
  7e-10 at cutoff 15, T = 0.5, occupations <= 0.3; 2.4e-9 for the 3-chain at cutoff 6,
  T = 0.2, occupations <= 0.04).

Where a test also claims the Fock state *is* a given ``gaussian_*`` covariance, the
triangle tail is bounded and checked (< 1e-9).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.sparse.linalg as spla

from lindblad.gaussian import GaussianMasterEquation, to_lab_frame
from lindblad.model import CascadeMasterEquation
from lindblad.operators import embed, excitations, lowering
from lindblad.states import fock_moments, gaussian_correlated, gaussian_thermal
from lindblad.thermal import bose_occupation

FIELDS = ("J1", "J2", "J12", "total")
TIMES = np.linspace(0.0, 5.0, 26)


# --- Fock-space helpers --------------------------------------------------------------

def _ladders(dims):
    """Sparse ladder operators of every mode on the truncated joint space."""
    return [embed(lowering(d), i, dims) for i, d in enumerate(dims)]


def triangle_thermal(occupations, cutoff):
    """Product of thermal states with the given occupations, restricted to total
    excitation number <= cutoff - 1 and renormalised.  Returns (rho, dims, tail) with
    ``tail`` the discarded probability."""
    dims = (cutoff,) * len(occupations)
    ex = excitations(dims)
    p = np.ones(len(ex))
    for i, n in enumerate(occupations):
        p *= (n / (n + 1)) ** ex[:, i] / (n + 1) if n > 0 else (ex[:, i] == 0)
    outside = ex.sum(axis=1) > cutoff - 1
    tail = p[outside].sum() + (1 - p.sum())  # also the mass beyond the box
    p[outside] = 0
    return np.diag(p / p.sum()).astype(complex), dims, tail


def beam_split(rho, dims, i, j, angle=np.pi / 4):
    """Real beam splitter exp(angle (a_i^dag a_j - a_j^dag a_i)) applied to rho.

    It conserves the total excitation number, so on a state supported on total
    excitations <= cutoff - 1 the truncated operator acts exactly.
    """
    u = unitary(1j * angle * (a_dag_b(dims, i, j) - a_dag_b(dims, j, i)))
    return u @ rho @ u.conj().T


def a_dag_b(dims, i, j):
    """``a_i^dag a_j`` on the truncated joint space (dense)."""
    a = _ladders(dims)
    return (a[i].conj().T @ a[j]).toarray()


def unitary(hermitian):
    """``exp(-i G)`` for a Hermitian G, by eigendecomposition.

    Not ``scipy.linalg.expm``: scipy 1.17.1 picks the Pade degree with the wrong norm
    (scipy issues 25864/25924, fixed by PR 25934) and is off by up to 1e-1 on some of
    this project's matrices."""
    w, v = np.linalg.eigh(hermitian)
    return (v * np.exp(-1j * w)) @ v.conj().T


def correlated_fock_state(n_s, c, cutoff):
    """Fock form of gaussian_correlated(n_s, c, c): a 50:50 beam splitter on thermal
    states with occupations n_s - c (S1) and n_s + c (S2) gives local occupations n_s and
    <a1^dag a2> = c, i.e. C13 = C24 = c (the whole D5 line |c| <= n_s)."""
    rho, dims, tail = triangle_thermal([n_s - c, n_s + c], cutoff)
    return beam_split(rho, dims, 0, 1), dims, tail


def tmsv_state(r, cutoff):
    """Two-mode squeezed vacuum ~ sum_n tanh(r)^n |n, n>, kept for 2n <= cutoff - 1 and
    renormalised (untruncated: occupation sinh^2 r, C13 = -C24 = sinh r cosh r)."""
    lam = np.tanh(r)
    psi = np.zeros(cutoff * cutoff, dtype=complex)
    for k in range((cutoff - 1) // 2 + 1):
        psi[k * cutoff + k] = lam**k
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj()), (cutoff, cutoff)


def assert_fluxes_close(a, b, atol, per_subsystem=True):
    for name in FIELDS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=atol,
                                   err_msg=name)
    if per_subsystem:
        np.testing.assert_allclose(a.local, b.local, rtol=0, atol=atol)
        np.testing.assert_allclose(a.correlated, b.correlated, rtol=0, atol=atol)


# --- the solution itself ----------------------------------------------------------------

@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
@pytest.mark.parametrize("n", [2, 3, 5], ids=lambda n: f"n{n}")
def test_propagator_is_the_matrix_exponential_of_the_drift(n, cascade):
    g = GaussianMasterEquation(n, gamma=1.3, temperature=0.7, cascade=cascade)
    t = np.array([0.0, 0.3, 2.0, 7.5, 20.0])
    e = g.propagator(t)
    for k, tk in enumerate(t):
        np.testing.assert_allclose(np.kron(e[k], np.eye(2)), sl.expm(g.drift() * tk),
                                   rtol=0, atol=1e-13)


def test_drift_and_diffusion_are_the_papers_b1_b3():
    g = GaussianMasterEquation(gamma=2.0, temperature=1.0)
    n_b = bose_occupation(1.0)
    a = -2.0 * np.array([[0.5, 0, 0, 0], [0, 0.5, 0, 0], [1, 0, 0.5, 0], [0, 1, 0, 0.5]])
    m = 2.0 * (n_b + 0.5) * np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(g.drift(), a)
    np.testing.assert_allclose(g.diffusion(), m, rtol=1e-15)


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
@pytest.mark.parametrize("n", [2, 4], ids=lambda n: f"n{n}")
def test_solution_obeys_the_equation_of_motion(n, cascade):
    """Central differences of evolve() reproduce dC/dt = A C + C A^T + M (eq B2)."""
    g = GaussianMasterEquation(n, gamma=0.8, temperature=0.6, cascade=cascade)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2 * n, 2 * n))
    cov0 = gaussian_thermal(0.2, n) + 0.3 * x @ x.T  # adding a PSD matrix keeps it physical
    t = np.array([0.4, 1.7, 4.0])
    h = 1e-5
    cov = g.evolve(cov0, t)
    deriv = (g.evolve(cov0, t + h) - g.evolve(cov0, t - h)) / (2 * h)
    a, m = g.drift(), g.diffusion()
    rhs = a @ cov + cov @ a.T + m
    np.testing.assert_allclose(deriv, rhs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(g.evolve(cov0, [0.0])[0], cov0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
@pytest.mark.parametrize("n,temperature", [(2, 0.0), (2, 1.0), (3, 2.5)],
                         ids=["n2-T0", "n2-T1", "n3-T2.5"])
def test_steady_state_is_thermal_and_stationary(n, temperature, cascade):
    g = GaussianMasterEquation(n, temperature=temperature, cascade=cascade)
    c_inf = g.steady_state()
    n_b = bose_occupation(temperature)
    np.testing.assert_array_equal(c_inf, (n_b + 0.5) * np.eye(2 * n))
    a = g.drift()
    np.testing.assert_allclose(a @ c_inf + c_inf @ a.T + g.diffusion(), 0, atol=1e-14)
    cov0 = gaussian_thermal(1.3, n)
    cov0[0, 2] = cov0[2, 0] = 0.4
    late = g.evolve(cov0, [60.0])[0]
    np.testing.assert_allclose(late, c_inf, rtol=0, atol=1e-12)


# --- against the Fock-space reference ------------------------------------------------------

FOCK_CASES = {
    # id: (n_systems, temperature, occupations, beam splitter between S1 and S2?, cascade, cutoff)
    "thermal-N0-NS1": (2, 0.0, [1.0, 1.0], False, True, 12),
    "thermal-T0.5": (2, 0.5, [0.3, 0.3], False, True, 15),
    "correlated-N0-NS1": (2, 0.0, [1.6, 0.4], True, True, 12),
    "correlated-T0.5": (2, 0.5, [0.3, 0.1], True, True, 15),
    "independent-correlated-T0.5": (2, 0.5, [0.3, 0.1], True, False, 15),
    "chain3-correlated-N0": (3, 0.0, [0.45, 0.15, 0.3], True, True, 5),
    "chain3-correlated-T0.2": (3, 0.2, [0.04, 0.01, 0.03], True, True, 6),
}


@pytest.mark.parametrize("case", list(FOCK_CASES), ids=list(FOCK_CASES))
def test_heat_fluxes_match_fock_space_reference(case):
    n, temperature, occ, split, cascade, cutoff = FOCK_CASES[case]
    rho, dims, _ = triangle_thermal(occ, cutoff)
    if split:
        rho = beam_split(rho, dims, 0, 1)
    cov0 = fock_moments(rho, dims)[1]
    if split:  # the state really is correlated: |C13| = |C24| = |n_1 - n_2| / 2
        assert abs(cov0[0, 2]) > 0.4 * (cov0[0, 0] - 0.5)
        np.testing.assert_allclose(cov0[1, 3], cov0[0, 2], rtol=1e-12)
    fock = CascadeMasterEquation("oscillator", n, cutoff=cutoff, temperature=temperature,
                                 cascade=cascade).heat_fluxes(rho, TIMES)
    gauss = GaussianMasterEquation(n, temperature=temperature, cascade=cascade) \
        .heat_fluxes(cov0, TIMES)
    # N = 0: exact (rounding); N > 0: truncation error < 1e-9 (module docstring)
    assert_fluxes_close(gauss, fock, atol=1e-8 if temperature > 0 else 1e-12)
    assert np.max(np.abs(gauss.total)) > 0.02  # not a trivially small comparison


@pytest.mark.parametrize("c", [-0.05, 0.1], ids=["c-0.05", "c=N_S(D5-edge)"])
def test_gaussian_correlated_state_matches_its_fock_form(c):
    """gaussian_correlated(N_S, c, c) itself (not a truncated state's covariance): the
    triangle tail is < 1e-10 (largest occupation 0.2 at the edge c = N_S, q = 1/6,
    q^14 = 1.3e-11), so the Fock state's covariance and fluxes differ from the Gaussian
    ones by about cutoff * tail."""
    n_s, cutoff = 0.1, 14
    rho, dims, tail = correlated_fock_state(n_s, c, cutoff)
    assert tail < 1e-10
    cov = gaussian_correlated(n_s, c, c)
    np.testing.assert_allclose(fock_moments(rho, dims)[1], cov, rtol=0, atol=1e-9)
    fock = CascadeMasterEquation("oscillator", 2, cutoff=cutoff).heat_fluxes(rho, TIMES)
    gauss = GaussianMasterEquation().heat_fluxes(cov, TIMES)
    assert_fluxes_close(gauss, fock, atol=1e-8)


def test_two_mode_squeezed_state_covariance_matches_fock_in_the_lab_frame():
    """Phase-sensitive state (C13 = -C24 from <a1 a2> != 0, which rotates at 2 omega):
    every covariance entry in the lab frame agrees with the Fock evolution, and the
    fluxes equal those of the uncorrelated state with the same occupations (paper Sec.
    V B: only C13 + C24 matters).  The squeezed vacuum is truncated to |n, n> with
    2n <= cutoff - 1 (triangle), so at N = 0 the Fock evolution is exact."""
    r, cutoff, omega = 0.35, 9, 1.7
    rho, dims = tmsv_state(r, cutoff)
    cov0 = fock_moments(rho, dims)[1]
    # close to the ideal state: diagonal cosh(2r)/2, C13 = -C24 = sinh(2r)/2, all else 0
    ideal = np.cosh(2 * r) / 2 * np.eye(4)
    ideal[0, 2] = ideal[2, 0] = np.sinh(2 * r) / 2
    ideal[1, 3] = ideal[3, 1] = -np.sinh(2 * r) / 2
    np.testing.assert_allclose(cov0, ideal, rtol=0, atol=1e-3)  # truncated: C13 off by 3e-4
    assert cov0[0, 2] == pytest.approx(-cov0[1, 3], abs=1e-15)
    me = CascadeMasterEquation("oscillator", 2, cutoff=cutoff, omega=omega)
    g = GaussianMasterEquation(omega=omega)
    t = np.array([0.0, 0.9, 1.8, 2.7])
    # the reference's generator, propagated on the full (D^2) space
    rhos = spla.expm_multiply(me.liouvillian(), rho.ravel(), start=0, stop=t[-1], num=t.size,
                              endpoint=True).reshape(t.size, *rho.shape)
    fock_cov = np.array([fock_moments(x, dims)[1] for x in rhos])
    lab = g.evolve(cov0, t, frame="lab")
    np.testing.assert_allclose(lab, fock_cov, rtol=0, atol=1e-12)
    assert np.abs(lab - g.evolve(cov0, t)).max() > 0.1  # the frames do differ here
    gauss = g.heat_fluxes(cov0, t)
    for got, want in zip(g.flux_components(fock_cov), (gauss.local, gauss.correlated),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    uncorrelated = np.diag(np.diag(cov0))
    assert_fluxes_close(g.heat_fluxes(cov0, TIMES), g.heat_fluxes(uncorrelated, TIMES),
                        atol=1e-12)


# --- the paper's closed forms -------------------------------------------------------------

@pytest.mark.parametrize("n_s,temperature", [(1.0, 0.0), (0.2, 1.0), (3.0, 1.0)],
                         ids=["NS1-T0", "NS0.2-T1(cold start)", "NS3-T1"])
def test_thermal_start_matches_eqs_26_to_29(n_s, temperature):
    gamma, omega = 1.7, 0.9
    g = GaussianMasterEquation(gamma=gamma, omega=omega, temperature=temperature)
    n_b = bose_occupation(temperature, omega)
    f = g.heat_fluxes(gaussian_thermal(n_s), TIMES)
    gt = gamma * TIMES
    j1 = omega * gamma * (n_s - n_b) * np.exp(-gt)
    np.testing.assert_allclose(f.J1, j1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.J2, (1 + gt**2) * j1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.J12, -2 * gt * j1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.subsystem[1], (1 - gt) ** 2 * j1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.total, (1 + (1 - gt) ** 2) * j1, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_s,c13,c24", [(1.0, 0.7, 0.7), (1.0, -0.7, -0.7), (1.0, 0.5, -0.5),
                                         (2.0, 1.5, 0.3), (0.5, -0.2, 0.45)],
                         ids=["NS1-c0.7", "NS1-c-0.7", "NS1-antisym", "NS2-asym", "NS0.5-mixed"])
def test_correlated_start_matches_eqs_32_to_34(n_s, c13, c24):
    g = GaussianMasterEquation()  # N = 0 as in the paper's Sec. V B
    f = g.heat_fluxes(gaussian_correlated(n_s, c13, c24), TIMES)
    t, s = TIMES, c13 + c24
    j1 = n_s * np.exp(-t)
    np.testing.assert_allclose(f.J1, j1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.J2, (1 + t**2) * j1 - t * s * np.exp(-t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.J12, -2 * t * j1 + s * np.exp(-t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.subsystem[1], (1 - t) ** 2 * j1 + (1 - t) * s * np.exp(-t),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.total[0], 2 * n_s + s, rtol=0, atol=1e-12)  # eq 36


@pytest.mark.parametrize("cov0", [gaussian_thermal(1.5), gaussian_correlated(1.0, 0.6, 0.6),
                                  gaussian_correlated(1.0, 0.9, -0.4)],
                         ids=["thermal", "correlated", "asymmetric"])
def test_independent_reservoirs_give_twice_j1(cov0):
    g = GaussianMasterEquation(temperature=0.8, cascade=False)
    f = g.heat_fluxes(cov0, TIMES)
    np.testing.assert_array_equal(f.correlated, 0.0)
    np.testing.assert_allclose(f.total, 2 * f.J1, rtol=0, atol=1e-14)
    j1 = (1.5 if cov0[0, 0] == 2.0 else 1.0) - bose_occupation(0.8)
    np.testing.assert_allclose(f.J1, j1 * np.exp(-TIMES), rtol=0, atol=1e-12)  # eq 30


def test_result_metadata_and_frames():
    g = GaussianMasterEquation(3, temperature=0.5, omega=2.0)
    cov0 = gaussian_thermal(0.7, 3)
    cov0[0, 3] = cov0[3, 0] = 0.2  # an X1-Y2 correlation: rotates in the lab frame
    f = g.heat_fluxes(cov0, TIMES)
    assert f.local.shape == f.correlated.shape == (3, TIMES.size)
    assert f.parameters["method"] == "gaussian" and f.parameters["n_systems"] == 3
    np.testing.assert_allclose(f.final_state, g.evolve(cov0, TIMES, frame="lab")[-1], rtol=0,
                               atol=1e-15)
    lab = g.evolve(cov0, TIMES, frame="lab")
    loc_lab, cor_lab = g.flux_components(lab)
    np.testing.assert_allclose(loc_lab, f.local, atol=1e-13)
    np.testing.assert_allclose(cor_lab, f.correlated, atol=1e-13)
    np.testing.assert_allclose(to_lab_frame(g.evolve(cov0, TIMES), TIMES, 2.0), lab, atol=1e-15)
    assert "GaussianMasterEquation(n_systems=3" in repr(g)


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    ({"n_systems": 1}, "n_systems must be an integer >= 2"),
    ({"n_systems": 2.5}, "n_systems must be an integer >= 2"),
    ({"n_systems": True}, "n_systems must be an integer >= 2"),
    ({"gamma": 0.0}, "gamma must be a finite number > 0"),
    ({"gamma": float("nan")}, "gamma must be a finite number > 0"),
    ({"omega": -1.0}, "omega must be a finite number > 0"),
    ({"temperature": -0.1}, "temperature must be a finite number >= 0"),
], ids=["n1", "n-fraction", "n-bool", "gamma0", "gamma-nan", "omega-neg", "T-neg"])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMasterEquation(**kwargs)


@pytest.mark.parametrize("cov0,times,match", [
    (np.eye(6) / 2, TIMES, r"cov0 has shape \(6, 6\), expected \(4, 4\)"),
    (0.1 * np.eye(4), TIMES, "uncertainty principle"),
    (np.eye(4) / 2 + np.triu(np.ones((4, 4)), 1) * 0.1, TIMES, "not symmetric"),
    (np.eye(4) / 2, [-1.0, 0.0], "must be finite and >= 0"),
    (np.eye(4) / 2, [1.0, 0.5], "sorted in increasing order"),
    (np.eye(4) / 2, [], "non-empty 1-d array"),
], ids=["wrong-shape", "unphysical", "asymmetric", "negative-time", "unsorted", "no-times"])
def test_bad_inputs_raise(cov0, times, match):
    g = GaussianMasterEquation()
    with pytest.raises(ValueError, match=match):
        g.heat_fluxes(cov0, times)


def test_bad_frame_raises():
    with pytest.raises(ValueError, match="frame must be one of"):
        GaussianMasterEquation().evolve(np.eye(4) / 2, [0.0], frame="heisenberg")
