"""Gaussian collision engine: one collision against exact Fock-space unitaries, the
whole loop against a dense reimplementation, and the continuum limit against the exact
GaussianMasterEquation (first order in dt, second order after Richardson extrapolation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from collision import GaussianCollisionModel
from collision._kernels.gaussian import beam_splitter, occupation, reset_mode
from collision.gaussian import collision_symplectic
from lindblad.gaussian import to_lab_frame
from lindblad.operators import embed, excitations, lowering
from lindblad.states import (
    _omega,
    fock_moments,
    gaussian_correlated,
    gaussian_thermal,
    validate_covariance,
)
from lindblad.thermal import bose_occupation

FIELDS = ("J1", "J2", "J12", "total")


def random_covariance(n_modes, seed, scale=0.4):
    """A generic physical covariance: the vacuum plus a random PSD matrix (classical noise
    added to a physical state keeps it physical).  Has X-Y and inter-mode correlations."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * n_modes, 2 * n_modes))
    noise = scale * x @ x.T / (2 * n_modes)
    return validate_covariance(np.eye(2 * n_modes) / 2 + (noise + noise.T) / 2)


def full_collision_matrix(n_modes, mode, anc, theta):
    """R on all 2m quadratures, built independently from the complex Heisenberg map
    a -> c a - i s b, b -> c b - i s a: for X' + iY' = sum_k u_k (X_k + i Y_k),
    X' = Re(u) X - Im(u) Y and Y' = Im(u) X + Re(u) Y."""
    u = np.eye(n_modes, dtype=complex)
    c, s = math.cos(theta), math.sin(theta)
    u[mode, mode] = u[anc, anc] = c
    u[mode, anc] = u[anc, mode] = -1j * s
    r = np.zeros((2 * n_modes, 2 * n_modes))
    r[0::2, 0::2] = u.real
    r[0::2, 1::2] = -u.imag
    r[1::2, 0::2] = u.imag
    r[1::2, 1::2] = u.real
    return r


# --- Fock-space helpers -------------------------------------------------------------

def ladders(dims):
    """Sparse ladder operators of every mode on the truncated joint space."""
    return [embed(lowering(d), i, dims) for i, d in enumerate(dims)]


def expect(rho, op):
    """Tr[rho op] for a sparse operator."""
    return np.sum(op.multiply(rho.T))


def exchange_unitary(a_sys, b, theta):
    """exp(-i theta (a^dag b + a b^dag)) by eigendecomposition of the Hermitian generator
    (exact on states whose total excitation number stays below the cutoff)."""
    h = (a_sys.conj().T @ b + a_sys @ b.conj().T).toarray()
    w, v = np.linalg.eigh(theta * h)
    return (v * np.exp(-1j * w)) @ v.conj().T


def random_state(dims, max_total, seed, phase_invariant):
    """Random density matrix supported on total excitations <= max_total.  With
    ``phase_invariant`` it is block diagonal in the total excitation number, so every
    first moment and every <a_i a_j> vanishes (but <a_i^dag a_j> does not)."""
    rng = np.random.default_rng(seed)
    tot = excitations(dims).sum(axis=1)
    keep = np.flatnonzero(tot <= max_total)
    g = rng.normal(size=(keep.size, keep.size)) + 1j * rng.normal(size=(keep.size, keep.size))
    if phase_invariant:
        g *= tot[keep][:, None] == tot[keep][None, :]
    small = g @ g.conj().T
    rho = np.zeros((tot.size, tot.size), dtype=complex)
    rho[np.ix_(keep, keep)] = small / np.trace(small)
    return rho


def thermal_ancilla(n_bath, dim, kept):
    """Thermal populations on levels 0..kept-1 (renormalised), in a dim-level space."""
    p = (n_bath / (n_bath + 1)) ** np.arange(dim) if n_bath > 0 else np.eye(dim)[0]
    p[kept:] = 0
    return np.diag(p / p.sum()).astype(complex)


# --- one collision ---------------------------------------------------------------------------

def test_collision_matrix_is_the_heisenberg_map_and_symplectic():
    theta = 0.37
    r = collision_symplectic(theta)
    np.testing.assert_allclose(r, full_collision_matrix(2, 0, 1, theta), atol=1e-15)
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-15)  # passive: orthogonal
    np.testing.assert_allclose(r @ _omega(2) @ r.T, _omega(2), atol=1e-15)  # symplectic


@pytest.mark.parametrize("mode", [0, 1, 2], ids=["S1", "S2", "S3"])
def test_kernel_collision_equals_dense_product(mode):
    """The O(n) in-place update equals R C R^T with the full matrix, and stays exactly
    symmetric."""
    cov = random_covariance(4, seed=mode)  # three systems + ancilla (mode 3)
    theta = 0.3
    expected = full_collision_matrix(4, mode, 3, theta) @ cov @ full_collision_matrix(
        4, mode, 3, theta).T
    beam_splitter(cov, mode, 3, math.cos(theta), math.sin(theta))
    np.testing.assert_allclose(cov, expected, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(cov, cov.T)


@pytest.mark.parametrize("n_bath,phase_invariant", [(0.0, False), (0.4, False), (0.4, True)],
                         ids=["vacuum-ancilla", "thermal-ancilla", "thermal-zero-mean"])
def test_one_collision_matches_fock_space(n_bath, phase_invariant):
    """Exact check against the unitary in Fock space: S1 in a random state on levels
    0..3, the ancilla thermal on levels 0..3 (truncated; the comparison uses the truncated
    state's own covariance), joint total <= 6 < cutoff 7, so the truncated exchange
    unitary is exact.  Covariance after the collision and the energy balance agree."""
    d, theta = 7, math.sqrt(0.3)
    dims = (d, d)
    a = ladders(dims)
    rho_s = random_state((d,), 3, seed=11, phase_invariant=phase_invariant)
    rho = np.kron(rho_s, thermal_ancilla(n_bath, d, kept=4))
    u = exchange_unitary(a[0], a[1], theta)
    after = u @ rho @ u.conj().T
    cov = fock_moments(rho, dims)[1]
    beam_splitter(cov, 0, 1, math.cos(theta), math.sin(theta))
    np.testing.assert_allclose(cov, fock_moments(after, dims)[1], rtol=0, atol=1e-13)
    # energy: what S1 loses the ancilla gains (U conserves a^dag a + b^dag b)
    n_op = [x.conj().T @ x for x in a]
    loss_s = expect(rho - after, n_op[0]).real
    gain_b = expect(after - rho, n_op[1]).real
    assert abs(loss_s) > 1e-3
    assert loss_s == pytest.approx(gain_b, abs=1e-13)


def test_energy_lost_by_the_chain_is_gained_by_the_ancilla():
    """One cascade step on the kernel level: S1's loss is the ancilla's gain in the first
    collision, and S1 + S2 losses are its total gain after the step."""
    cov = np.zeros((6, 6))
    cov[:4, :4] = gaussian_correlated(1.2, 0.6, 0.4)
    reset_mode(cov, 2, bose_occupation(0.7) + 0.5)
    c, s = math.cos(0.4), math.sin(0.4)
    n0 = [occupation(cov, k) for k in range(3)]
    beam_splitter(cov, 0, 2, c, s)
    n1 = [occupation(cov, k) for k in range(3)]
    assert n0[0] - n1[0] == pytest.approx(n1[2] - n0[2], abs=1e-14)
    assert n1[1] == n0[1]  # S2 untouched by the first collision
    beam_splitter(cov, 1, 2, c, s)
    n2 = [occupation(cov, k) for k in range(3)]
    assert (n0[0] - n2[0]) + (n0[1] - n2[1]) == pytest.approx(n2[2] - n0[2], abs=1e-14)


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_one_step_of_run_matches_fock_space(cascade):
    """run() over one step against the exact Fock computation: S1, S2 in a random
    excitation-block-diagonal state (zero first moments, <a1^dag a2> != 0) on total <= 4,
    vacuum ancilla(s), cutoff 5 (exact).  Fluxes at t = 0 and the covariance at t = dt."""
    d, dt, omega = 5, 0.05, 1.3
    theta = math.sqrt(dt)
    n_anc = 1 if cascade else 2
    dims = (d,) * (2 + n_anc)
    a = ladders(dims)
    rho_sys = random_state((d, d), 4, seed=5, phase_invariant=True)
    vac = np.zeros((d**n_anc, d**n_anc), dtype=complex)
    vac[0, 0] = 1
    rho = np.kron(rho_sys, vac)
    b1, b2 = (a[2], a[2]) if cascade else (a[2], a[3])
    u = exchange_unitary(a[1], b2, theta) @ exchange_unitary(a[0], b1, theta)
    after = u @ rho @ u.conj().T
    cov_before = fock_moments(rho, dims)[1][:4, :4]
    cov_after = fock_moments(after, dims)[1][:4, :4]
    n_before = [expect(rho, x.conj().T @ x).real for x in a[:2]]
    n_after = [expect(after, x.conj().T @ x).real for x in a[:2]]
    result = GaussianCollisionModel(omega=omega, cascade=cascade).run(cov_before, dt, dt)
    np.testing.assert_allclose(result.t, [0.0, dt])
    total = omega * (np.array(n_before) - n_after) / dt
    local = omega * math.sin(theta) ** 2 * np.array(n_before) / dt  # fresh vacuum ancilla
    np.testing.assert_allclose(result.subsystem[:, 0], total, rtol=0, atol=1e-11)
    np.testing.assert_allclose(result.local[:, 0], local, rtol=0, atol=1e-11)
    np.testing.assert_allclose(result.final_state, to_lab_frame(cov_after, dt, omega), rtol=0,
                               atol=1e-13)
    if cascade:
        assert abs(result.correlated[1, 0]) > 1e-2  # <a1^dag a2> matters for S2
    else:
        np.testing.assert_allclose(result.correlated[:, 0], 0, atol=1e-12)


def dense_reference_run(cov0, n, theta, n_bath, omega, dt, steps, cascade):
    """Straightforward reimplementation with full (2n+2)^2 matrices, for the loop logic."""
    cov = np.zeros((2 * n + 2, 2 * n + 2))
    cov[:2 * n, :2 * n] = cov0
    local, corr, states = [], [], []
    fresh = (n_bath + 0.5) * np.eye(2)

    def occ(c, i):
        return (c[2 * i, 2 * i] + c[2 * i + 1, 2 * i + 1]) / 2 - 0.5

    for _ in range(steps):
        states.append(cov[:2 * n, :2 * n].copy())
        loc, cor = [], []
        for i in range(n):
            if i == 0 or not cascade:  # a fresh ancilla arrives
                cov[2 * n:, :] = 0
                cov[:, 2 * n:] = 0
                cov[2 * n:, 2 * n:] = fresh
            r = full_collision_matrix(n + 1, i, n, theta)
            before = occ(cov, i)
            cov = r @ cov @ r.T
            total = omega * (before - occ(cov, i)) / dt
            loc.append(omega * math.sin(theta) ** 2 * (before - n_bath) / dt)
            cor.append(total - loc[-1])
        local.append(loc)
        corr.append(cor)
    return np.array(local).T, np.array(corr).T, states


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_run_equals_dense_reimplementation(cascade):
    n, dt, temperature, omega, save_every = 3, 0.04, 0.8, 1.1, 3
    cov0 = random_covariance(n, seed=3)
    model = GaussianCollisionModel(n, temperature=temperature, omega=omega, cascade=cascade)
    res = model.run(cov0, t_max=0.5, dt=dt, save_every=save_every)
    steps = int(0.5 / dt + 1e-9)  # 12
    np.testing.assert_allclose(res.t, np.arange(steps // save_every + 1) * save_every * dt)
    loc, cor, states = dense_reference_run(cov0, n, math.sqrt(dt), model.n_bath, omega, dt,
                                           steps + 1, cascade)
    np.testing.assert_allclose(res.local, loc[:, ::save_every], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.correlated, cor[:, ::save_every], rtol=0, atol=1e-12)
    # the reimplementation works in the rotating frame; final_state is in the lab frame
    np.testing.assert_allclose(res.final_state, to_lab_frame(states[steps], steps * dt, omega),
                               rtol=0, atol=1e-14)
    assert res.parameters["frame"] == "lab"
    assert res.parameters["method"] == "gaussian"
    assert res.parameters["theta"] == pytest.approx(math.sqrt(dt))
    assert res.parameters["dt"] == dt and res.parameters["save_every"] == save_every


# --- continuum limit -----------------------------------------------------------------------

def _max_errors(results, reference):
    return np.array([[np.max(np.abs(getattr(r, k) - getattr(reference, k))) for k in FIELDS]
                     for r in results])


@pytest.fixture(scope="module")
def convergence_runs():
    """Runs at dt = 0.1 / 2^k, k = 0..6 (0.1 .. 0.0016, 1.8 decades), all saved on the
    grid t = 0, 0.1, ..., 5; and the exact reference on that grid."""
    cov0 = random_covariance(2, seed=21, scale=1.0)
    model = GaussianCollisionModel(temperature=1.0)
    dts = 0.1 * 2.0 ** -np.arange(7)
    runs = [model.run(cov0, 5.0, dt, save_every=2**k) for k, dt in enumerate(dts)]
    reference = model.master_equation().heat_fluxes(cov0, runs[0].t)
    for r in runs:
        np.testing.assert_allclose(r.t, reference.t, rtol=1e-14)
    return dts, runs, reference


def test_error_falls_linearly_in_dt(convergence_runs):
    dts, runs, reference = convergence_runs
    err = _max_errors(runs, reference)
    for j, name in enumerate(FIELDS):
        order = np.polyfit(np.log(dts), np.log(err[:, j]), 1)[0]
        assert 0.9 <= order <= 1.1, f"{name}: fitted order {order:.3f}, errors {err[:, j]}"
    assert np.all(err[-1] < 5e-3)  # dt = 0.0016


def test_richardson_extrapolation_is_second_order(convergence_runs):
    dts, runs, reference = convergence_runs
    extrapolated = [type(r)(r.t, 2 * h.local - r.local, 2 * h.correlated - r.correlated)
                    for r, h in zip(runs[:-1], runs[1:], strict=True)]
    err = _max_errors(extrapolated, reference)
    for j, name in enumerate(FIELDS):
        order = np.polyfit(np.log(dts[:-1]), np.log(err[:, j]), 1)[0]
        assert order >= 1.8, f"{name}: fitted order {order:.3f}, errors {err[:, j]}"


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_chain_of_three_converges_at_first_order(cascade):
    """n = 3: every subsystem's local and correlated flux converges, halving dt halves
    the error."""
    cov0 = random_covariance(3, seed=9, scale=1.0)
    model = GaussianCollisionModel(3, temperature=0.5, cascade=cascade)
    runs = [model.run(cov0, 4.0, dt, save_every=k) for dt, k in ((0.02, 5), (0.01, 10))]
    ref = model.master_equation().heat_fluxes(cov0, runs[0].t)
    errs = [max(np.abs(r.local - ref.local).max(), np.abs(r.correlated - ref.correlated).max())
            for r in runs]
    assert errs[1] < 0.05
    assert 1.8 < errs[0] / errs[1] < 2.2


# --- physics -------------------------------------------------------------------------------

@pytest.mark.parametrize("cov0", [gaussian_thermal(1.5), gaussian_correlated(1.0, 0.7, 0.7),
                                  gaussian_correlated(1.0, 0.8, -0.5)],
                         ids=["thermal", "correlated", "asymmetric"])
def test_independent_reservoirs_treat_symmetric_subsystems_alike(cov0):
    res = GaussianCollisionModel(temperature=0.5, cascade=False).run(cov0, 5.0, 0.01, 10)
    np.testing.assert_allclose(res.subsystem[1], res.subsystem[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.correlated, 0, atol=1e-11)
    np.testing.assert_allclose(res.total, 2 * res.J1, rtol=0, atol=1e-11)


def test_s1_has_no_correlated_flux():
    res = GaussianCollisionModel(3, temperature=0.3).run(random_covariance(3, 4), 3.0, 0.02)
    np.testing.assert_allclose(res.correlated[0], 0, atol=1e-11)
    assert np.max(np.abs(res.correlated[1:])) > 1e-2


@pytest.mark.parametrize("cov0", [gaussian_thermal(2.0), gaussian_correlated(2.0, 1.5, 1.5),
                                  gaussian_correlated(2.0, -1.5, -1.5)],
                         ids=["thermal", "positively-correlated", "negatively-correlated"])
def test_cascade_and_independent_release_the_same_total_heat(cov0):
    """Q(inf) = U(0) - U(inf) = 2 omega (N_S - N) (paper eq 11), whatever the model and the
    correlations.  With save_every = 1 the sum of fluxes times dt is the exact energy
    released by the saved steps; by t = 40 / gamma the remainder is < 1e-12."""
    dt, temperature = 0.01, 1.0
    expected = 2 * (2.0 - bose_occupation(temperature))
    heats = []
    for cascade in (True, False):
        res = GaussianCollisionModel(temperature=temperature, cascade=cascade).run(cov0, 40, dt)
        heats.append(np.sum(res.total) * dt)
    assert heats[0] == pytest.approx(expected, abs=1e-9)
    assert heats[1] == pytest.approx(expected, abs=1e-9)


def test_local_flux_is_what_a_fresh_ancilla_takes():
    """The reported local flux of S2 equals the energy S2 hands to a fresh thermal ancilla
    in one collision (closed form omega sin^2(theta) (n_2 - N) / dt, checked on the kernel)."""
    dt, n_bath = 0.05, bose_occupation(0.9)
    cov0 = random_covariance(2, 8)
    res = GaussianCollisionModel(temperature=0.9).run(cov0, dt, dt)
    work = np.zeros((6, 6))
    work[:4, :4] = cov0
    reset_mode(work, 2, n_bath + 0.5)
    before = occupation(work, 1)
    beam_splitter(work, 1, 2, math.cos(math.sqrt(dt)), math.sin(math.sqrt(dt)))
    assert res.local[1, 0] == pytest.approx((before - occupation(work, 1)) / dt, abs=1e-12)


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    ({"n_systems": 1}, "n_systems must be an integer >= 2"),
    ({"gamma": -1.0}, "gamma must be a finite number > 0"),
    ({"omega": 0.0}, "omega must be a finite number > 0"),
    ({"temperature": -2.0}, "temperature must be a finite number >= 0"),
], ids=["n1", "gamma-neg", "omega0", "T-neg"])
def test_bad_model_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianCollisionModel(**kwargs)


@pytest.mark.parametrize("cov0,t_max,dt,save_every,match", [
    (gaussian_thermal(1.0), 5.0, 0.6, 1, r"gamma \* dt = 0.6 is too large"),
    (gaussian_thermal(1.0), 5.0, 0.0, 1, "dt must be a finite number > 0"),
    (gaussian_thermal(1.0), 5.0, float("inf"), 1, "dt must be a finite number > 0"),
    (gaussian_thermal(1.0), 0.001, 0.01, 1, r"t_max must be finite and >= dt"),
    (gaussian_thermal(1.0), 5.0, 0.01, 0, "save_every must be a positive integer"),
    (gaussian_thermal(1.0), 5.0, 0.01, 2.5, "save_every must be a positive integer"),
    (gaussian_thermal(1.0), 5.0, 0.01, True, "save_every must be a positive integer"),
    (gaussian_thermal(1.0, 3), 5.0, 0.01, 1, r"cov0 has shape \(6, 6\), expected \(4, 4\)"),
    (0.2 * np.eye(4), 5.0, 0.01, 1, "uncertainty principle"),
    (np.ones((4, 4)), 5.0, 0.01, 1, "uncertainty principle"),
], ids=["dt-too-large", "dt-zero", "dt-inf", "t_max-below-dt", "save_every-0",
        "save_every-fraction", "save_every-bool", "wrong-shape", "below-vacuum", "singular"])
def test_bad_run_arguments_raise(cov0, t_max, dt, save_every, match):
    with pytest.raises(ValueError, match=match):
        GaussianCollisionModel().run(cov0, t_max, dt, save_every)


def test_dt_limit_scales_with_gamma():
    GaussianCollisionModel(gamma=0.1).run(gaussian_thermal(1.0), 10.0, 4.0)  # gamma dt = 0.4
    with pytest.raises(ValueError, match="take dt <= 0.25"):
        GaussianCollisionModel(gamma=2.0).run(gaussian_thermal(1.0), 10.0, 0.3)


@pytest.mark.parametrize("temperature, cutoff", [(0.0, 12), (0.0, 16), (0.4, 10), (0.4, 14)],
                         ids=["T=0-cutoff12", "T=0-cutoff16", "T=0.4-cutoff10", "T=0.4-cutoff14"])
def test_fock_density_engine_agrees_with_gaussian_engine_at_same_dt(temperature, cutoff):
    """Both engines apply the same collisions; at equal dt they differ only by the Fock
    truncation.  Its size is set by the occupation the truncated Gibbs state misses,
    dN = N_S - <n>_truncated; fluxes are gamma-linear in occupations and correlations with
    O(1) prefactors (eqs 20-22; |J12| <= 2 gamma t J1 at t <= 3), so |dJ| <= 5 dN."""
    from collision import CascadeCollisionModel
    from lindblad.states import product, thermal
    from lindblad.thermal import temperature_from_occupation

    n_s = 0.5
    rho1 = thermal("oscillator", temperature_from_occupation(n_s), cutoff)
    missing = n_s - float(np.real(np.diag(rho1)) @ np.arange(cutoff))
    fock = CascadeCollisionModel("oscillator", cutoff=cutoff, temperature=temperature)
    res_fock = fock.run(product(rho1, rho1), 3.0, 0.05)
    res_gauss = GaussianCollisionModel(temperature=temperature).run(
        gaussian_thermal(n_s), 3.0, 0.05)
    for name in ("J1", "J2", "J12", "total"):
        diff = np.max(np.abs(getattr(res_fock, name) - getattr(res_gauss, name)))
        assert diff <= 5 * missing + 1e-9, name
