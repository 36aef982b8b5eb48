"""Heat counting statistics: every engine against an exact reference.

* the density engine's P(q, t) against a dense, counting-resolved Kraus map written here
  (1e-12);
* the master equation's two exact methods against a dense tilted Liouvillian built
  here from the collective jumps (1e-12);
* the exchange fluctuation theorem for thermal product starts (1e-10, several dt, t, T);
* kappa_1 against the step sum of the engine's own total flux (rounding);
* O(dt) convergence to the master equation (fitted order);
* Monte Carlo histograms against the exact distribution (chi-square, fixed seed),
  bit-identical on 1 and 2 threads, exactly mergeable;
* bad input, files, plots.

Tolerances: probabilities are sums of O(D^2) products of numbers of order 1 computed
in double precision, so they are accurate to ~1e-15 absolutely; 1e-12 leaves a margin of
1000 for the number of steps.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from scipy import stats

import collision
import lindblad
from collision._loop import AccuracyWarning, TruncationWarning
from collision.counting import merge_statistics
from lindblad import states
from lindblad.counting import HeatStatistics, cumulants

pytestmark = pytest.mark.filterwarnings("ignore::collision.AccuracyWarning",
                                        "ignore::collision.TruncationWarning")


# --- an independent reference: the dense counting-resolved collision map -------------------

def _lowering(d):
    return np.diag(np.sqrt(np.arange(1, d, dtype=float)), 1)


def _embed(op, site, n, d):
    out = np.ones((1, 1))
    for i in range(n):
        out = np.kron(out, op if i == site else np.eye(d))
    return out


def dense_counting(system, n, temperature, cutoff, d_anc, rho0, dt, steps, save_every,
                   cascade=True):
    """P(q, t) (cascade) or P(q_1, .., q_n, t) (independent) from dense Kraus operators
    ``K_lk = sqrt(p_k) <l| U |k>``, carrying ``rho_q`` for every counting record ``q``."""
    d = 2 if system == "qubit" else cutoff
    theta = math.sqrt(dt)
    b = _lowering(d_anc)
    dim = d**n
    # total excitations of every (systems x ancilla) basis state: a collision conserves
    # them, so entries between different totals are exactly 0 (eigh leaves ~1e-17 there)
    fock = np.indices((d,) * n + (d_anc,)).reshape(n + 1, -1).sum(axis=0)
    conserved = fock[:, None] == fock[None, :]
    unitaries = []
    for i in range(n):
        a = np.kron(_embed(_lowering(d), i, n, d), np.eye(d_anc))
        bb = np.kron(np.eye(dim), b)
        g = a.conj().T @ bb + a @ bb.conj().T
        w, v = np.linalg.eigh(g)
        unitaries.append(np.where(conserved, (v * np.exp(-1j * theta * w)) @ v.conj().T, 0))
    if d_anc == 2:  # qubit bath
        xi = math.tanh(1 / (2 * temperature)) if temperature > 0 else 1.0
        p = np.array([(1 + xi) / 2, (1 - xi) / 2])
    else:
        x = math.exp(-1 / temperature) if temperature > 0 else 0.0
        p = x ** np.arange(d_anc)
        p /= p.sum()
    stages = [np.linalg.multi_dot(unitaries[::-1]) if n > 1 else unitaries[0]] if cascade \
        else unitaries

    def kraus(u):
        u4 = u.reshape(dim, d_anc, dim, d_anc)
        ops = [(math.sqrt(p[k]) * u4[:, l_, :, k], l_ - k)
               for k in range(d_anc) for l_ in range(d_anc) if p[k] > 0]
        return [(op, dq) for op, dq in ops if np.any(op)]  # drop exact zeros

    stage_kraus = [kraus(u) for u in stages]
    n_counters = 1 if cascade else n
    rho = {(0,) * n_counters: np.asarray(rho0, dtype=complex)}
    out = []
    for s in range(steps + 1):
        if s % save_every == 0:
            out.append({q: float(np.trace(r).real) for q, r in rho.items()})
        if s == steps:
            break
        for c, ks in enumerate(stage_kraus):
            new = {}
            for q, r in rho.items():
                if not np.any(r):
                    continue
                for op, dq in ks:
                    key = tuple(x + dq if j == c else x for j, x in enumerate(q))
                    term = op @ r @ op.conj().T
                    new[key] = new[key] + term if key in new else term
            rho = new
    return out


def _exact_table(records, quanta):
    """Rows of P on the grid ``quanta`` (1-d) from the dense reference's records."""
    return np.array([[rec.get((int(q),), 0.0) for q in quanta] for rec in records])


def _eq41(xi_s=0.25, rho23=0.75):
    return states.correlated_qubits(xi_s, rho23)


def _thermal_product(system, temperature, n=2, cutoff=None):
    one = states.thermal(system, temperature, cutoff)
    return states.product(*[one] * n)


def _osc_correlated(cutoff):
    """A two-oscillator state with coherences inside excitation blocks (|10> <-> |01>,
    |20> <-> |11>) and between blocks (|00> <-> |11>)."""
    rho = _thermal_product("oscillator", 0.8, 2, cutoff)
    d = cutoff
    i10, i01, i11, i00, i20 = d, 1, d + 1, 0, 2 * d
    rho[i10, i01] = rho[i01, i10] = 0.3 * math.sqrt(rho[i10, i10].real * rho[i01, i01].real)
    rho[i20, i11] = rho[i11, i20] = 0.2 * math.sqrt(rho[i20, i20].real * rho[i11, i11].real)
    rho[i00, i11] = rho[i11, i00] = 0.1 * math.sqrt(rho[i00, i00].real * rho[i11, i11].real)
    return rho


DENSE_CASES = [
    ("qubit", 2, 1.0, None, None, _eq41(), True),
    ("qubit", 2, 0.5, None, None, _eq41(0.5, -0.6), False),
    ("qubit", 3, 0.7, None, None, _thermal_product("qubit", 2.0, 3), True),
    ("oscillator", 2, 0.6, 3, None, _osc_correlated(3), True),
    ("oscillator", 2, 0.6, 3, None, _osc_correlated(3), False),
]
DENSE_IDS = ["qubits-eq41-cascade", "qubits-eq41-independent", "3-qubits-thermal",
             "oscillators-correlated-cascade", "oscillators-correlated-independent"]


@pytest.mark.parametrize("system, n, temp, cutoff, _, rho0, cascade", DENSE_CASES,
                         ids=DENSE_IDS)
def test_density_matches_dense_kraus_reference(system, n, temp, cutoff, _, rho0, cascade):
    dt, steps, every = 0.03, 24, 4
    cm = collision.CascadeCollisionModel(system, n, temperature=temp, cutoff=cutoff,
                                         cascade=cascade)
    res = cm.heat_statistics(rho0, steps * dt, dt, save_every=every)
    d_anc = res.parameters["bath_cutoff"]
    ref = dense_counting(system, n, temp, cutoff, d_anc, rho0, dt, steps, every, cascade)
    assert res.t.size == len(ref) == steps // every + 1
    if cascade:
        np.testing.assert_allclose(res.probabilities, _exact_table(ref, res.quanta),
                                   rtol=0, atol=1e-12)
    else:
        loc = res.local_quanta
        grid = np.stack(np.meshgrid(*[loc] * n, indexing="ij"), -1).reshape(-1, n)
        table = np.array([[rec.get(tuple(int(x) for x in g), 0.0) for g in grid]
                          for rec in ref]).reshape(res.joint.shape)
        np.testing.assert_allclose(res.joint, table, rtol=0, atol=1e-12)
        assert all(abs(v) < 1e-15 for rec in ref for key, v in rec.items()
                   if max(abs(x) for x in key) > loc[-1])
    # the window |q| <= n (d - 1) is exact: the reference has no weight outside it
    outside = [v for rec in ref for key, v in rec.items() if abs(sum(key)) > res.quanta[-1]]
    assert all(abs(v) < 1e-15 for v in outside)


def test_initial_state_forms_and_the_zero_temperature_basis():
    """A list of local states, a state vector and a dense matrix give the same P(q, t);
    at T = 0 the density engine keeps only the reachable excitation blocks, and the
    counting agrees with the dense reference there too."""
    local = np.diag([0.6, 0.3, 0.1, 0.0]).astype(complex)  # oscillator, cutoff 4
    dense = states.product(local, local)
    cm = collision.CascadeCollisionModel("oscillator", temperature=0.0, cutoff=4)
    a = cm.heat_statistics([local, local], 0.6, 0.05, save_every=3)
    b = cm.heat_statistics(dense, 0.6, 0.05, save_every=3)
    np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=0, atol=1e-15)
    ref = dense_counting("oscillator", 2, 0.0, 4, a.parameters["bath_cutoff"], dense, 0.05,
                         12, 3)
    np.testing.assert_allclose(a.probabilities, _exact_table(ref, a.quanta), rtol=0,
                               atol=1e-12)
    psi = np.zeros(4)
    psi[[1, 2]] = [0.6, 0.8]  # |g e> and |e g>: one excitation shared
    qub = collision.CascadeCollisionModel("qubit", temperature=0.5)
    c = qub.heat_statistics(psi, 0.6, 0.05, save_every=3)
    d = qub.heat_statistics(np.outer(psi, psi), 0.6, 0.05, save_every=3)
    np.testing.assert_allclose(c.probabilities, d.probabilities, rtol=0, atol=1e-15)
    mc = qub.heat_statistics(psi, 0.6, 0.05, save_every=3, method="trajectories",
                             n_trajectories=64, seed=1)
    assert mc.parameters["n_trajectories"] == 64


# --- master equation -----------------------------------------------------------------------

def _dense_tilted(me, chis):
    """The tilted Liouvillian on vec(rho) (row-major), assembled here from the collective
    form L = -i[H + H_c, .] + sum_c (g_dn D[A_c] + g_up D[A_c^dag]) with counting fields."""
    n, d = me.n_systems, me.dims[0]
    dim = d**n
    a = [_embed(_lowering(d), i, n, d) for i in range(n)]
    chans = [sum(a)] if me.cascade else a
    g_dn, g_up = me.rates
    num = sum(x.T @ x for x in a)
    h = me.omega * num  # qubit energies differ by a constant: no effect on L
    if me.cascade:
        hc = sum(1j * (g_dn - g_up) / 2 * (a[i].T @ a[j] - a[j].T @ a[i])
                 for i in range(n) for j in range(i + 1, n))
        h = h + hc
    eye = np.eye(dim)

    def sandwich(x, y):  # x rho y
        return np.kron(x, y.T)

    lv = -1j * (sandwich(h, eye) - sandwich(eye, h))
    for chi, c in zip(chis, chans, strict=True):
        for g, x, ph in ((g_dn, c, np.exp(1j * chi)), (g_up, c.T, np.exp(-1j * chi))):
            xd = x.conj().T
            lv = lv + g * (ph * sandwich(x, xd) - 0.5 * sandwich(xd @ x, eye)
                           - 0.5 * sandwich(eye, xd @ x))
    return lv


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
@pytest.mark.parametrize("method", ["blocks", "fourier"])
def test_master_equation_matches_dense_tilted_generator(method, cascade):
    me = lindblad.CascadeMasterEquation("qubit", temperature=0.8, cascade=cascade)
    rho0 = _eq41(0.3, 0.6)
    t = np.array([0.0, 0.4, 1.3])
    res = me.heat_statistics(rho0, t, method=method)
    n_ch = 1 if cascade else 2
    qm = 2 if cascade else 1
    m = 2 * qm + 1
    chis = 2 * np.pi * np.arange(m) / m
    g = np.zeros((t.size,) + (m,) * n_ch, dtype=complex)
    v0 = rho0.reshape(-1)
    for idx in np.ndindex(*(m,) * n_ch):
        lv = _dense_tilted(me, chis[list(idx)])
        for k, tau in enumerate(t):
            v = spla.expm_multiply(lv * tau, v0) if tau > 0 else v0
            g[(k,) + idx] = np.trace(v.reshape(4, 4))
    # P(q) = (1/M) sum_j G(chi_j) exp(-i chi_j q), written out as a sum
    q = np.arange(-qm, qm + 1)
    phase = np.exp(-1j * np.outer(q, chis))  # (q, j)
    if cascade:
        p = (g @ phase.T).real / m
        np.testing.assert_allclose(res.probabilities, p, rtol=0, atol=1e-12)
    else:
        p = np.einsum("kab,xa,yb->kxy", g, phase, phase).real / m**2
        np.testing.assert_allclose(res.joint, p, rtol=0, atol=1e-12)


def test_only_coherences_of_equal_excitation_number_matter():
    """Coherences between different excitation numbers never reach a trace: adding
    |gg><ee| leaves P(q, t) unchanged; the rho23 of eq 41 (equal numbers) changes it."""
    base = _eq41(0.25, 0.0)
    with_far = base.copy()
    with_far[0, 3] = with_far[3, 0] = 0.1
    with_near = _eq41(0.25, 0.75)
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    me = cm.master_equation()
    for run in (lambda r: cm.heat_statistics(r, 1.0, 0.05).probabilities,
                lambda r: me.heat_statistics(r, [0.0, 0.5, 1.0]).probabilities):
        p0, p_far, p_near = run(base), run(with_far), run(with_near)
        np.testing.assert_allclose(p_far, p0, rtol=0, atol=1e-15)
        assert np.max(np.abs(p_near - p0)) > 1e-3


# --- the exchange fluctuation theorem --------------------------------------------------------

XFT_CASES = [("qubit", 2, None, 1.0, 2.0, True), ("qubit", 2, None, 2.0, 0.5, True),
             ("qubit", 3, None, 1.0, 3.0, True), ("qubit", 2, None, 1.0, 0.4, False),
             ("oscillator", 2, 4, 0.8, 1.5, True)]
XFT_IDS = ["qubits-T1-TS2", "qubits-T2-TS0.5", "3-qubits", "qubits-independent",
           "oscillators-cutoff4"]


def _check_xft(res, beta, beta_s):
    """P(q) e^{-a q / 2} = P(-q) e^{a q / 2} with a = (beta - beta_S) omega, absolutely
    to 1e-12 (the probabilities' rounding, times factors <= e^{|a| q_max / 2}), and
    ln[P(q)/P(-q)] = a q to 1e-10 wherever both probabilities exceed 1e-5."""
    a = (beta - beta_s) * res.parameters.get("omega", 1.0)
    q = res.quanta
    p, flipped = res.probabilities, res.probabilities[:, ::-1]
    scale = np.exp(abs(a) * q.max() / 2)
    np.testing.assert_allclose(p * np.exp(-a * q / 2), flipped * np.exp(a * q / 2),
                               rtol=0, atol=1e-12 * scale)
    qs, ratio = res.log_ratio()
    big = np.array([(res.probability(int(x)) > 1e-5) & (res.probability(-int(x)) > 1e-5)
                    for x in qs]).T
    assert big.sum() >= 3
    np.testing.assert_allclose(ratio[big], np.broadcast_to(a * qs, ratio.shape)[big],
                               rtol=0, atol=1e-10)
    if res.joint is not None:  # jointly: P(q1, q2) / P(-q1, -q2) = e^{a (q1 + q2)}
        loc = res.local_quanta
        tot = np.add.outer(loc, loc)
        flip = res.joint[:, ::-1, ::-1]
        np.testing.assert_allclose(res.joint * np.exp(-a * tot / 2),
                                   flip * np.exp(a * tot / 2), rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("system, n, cutoff, temp, temp_s, cascade", XFT_CASES, ids=XFT_IDS)
@pytest.mark.parametrize("dt", [0.05, 0.01])
def test_exchange_fluctuation_theorem_collisions(system, n, cutoff, temp, temp_s, cascade,
                                                  dt):
    cm = collision.CascadeCollisionModel(system, n, temperature=temp, cutoff=cutoff,
                                         cascade=cascade)
    rho0 = _thermal_product(system, temp_s, n, cutoff)
    res = cm.heat_statistics(rho0, 2.0, dt, save_every=int(round(0.5 / dt)))
    _check_xft(res, 1 / temp, 1 / temp_s)


@pytest.mark.parametrize("system, n, cutoff, temp, temp_s, cascade", XFT_CASES, ids=XFT_IDS)
def test_exchange_fluctuation_theorem_master_equation(system, n, cutoff, temp, temp_s,
                                                      cascade):
    me = lindblad.CascadeMasterEquation(system, n, temperature=temp, cutoff=cutoff,
                                        cascade=cascade)
    res = me.heat_statistics(_thermal_product(system, temp_s, n, cutoff), [0, 0.3, 1.0, 4.0])
    _check_xft(res, 1 / temp, 1 / temp_s)


# --- the mean and the flux; the continuum limit ------------------------------------------

@pytest.mark.parametrize("system, cutoff, cascade, omega", [
    ("qubit", None, True, 1.0), ("qubit", None, False, 2.0),
    ("oscillator", 4, True, 1.5)], ids=["qubits", "qubits-independent-omega2",
                                        "oscillators-omega1.5"])
def test_mean_heat_is_the_step_sum_of_the_total_flux(system, cutoff, cascade, omega):
    """omega kappa_1(t_k) = dt sum_{j < k} J_total(t_j): the flux at t_j is the energy the
    ancillas gain in step j, divided by dt (rounding: ~1e-15 per step)."""
    cm = collision.CascadeCollisionModel(system, temperature=0.9, cutoff=cutoff,
                                         cascade=cascade, omega=omega)
    rho0 = _eq41() if system == "qubit" else _osc_correlated(4)
    dt = 0.02
    res = cm.heat_statistics(rho0, 2.0, dt, save_every=5)
    flux = cm.run(rho0, 2.0, dt)
    steps = np.concatenate([[0.0], np.cumsum(flux.total[:-1] * dt)])
    np.testing.assert_allclose(omega * res.mean, steps[::5], rtol=0, atol=1e-13)


def test_statistics_converge_to_master_equation_at_first_order():
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = _eq41()
    t = np.linspace(0, 2, 5)
    ref = cm.master_equation().heat_statistics(rho0, t)
    dts = np.array([0.05, 0.025, 0.0125])
    err = []
    for dt in dts:
        res = cm.heat_statistics(rho0, 2.0, dt, save_every=int(round(0.5 / dt)))
        np.testing.assert_allclose(res.t, t, rtol=0, atol=1e-12)
        err.append(max(np.max(np.abs(res.probabilities - ref.probabilities)),
                       np.max(np.abs(res.cumulants - ref.cumulants))))
    order = np.polyfit(np.log(dts), np.log(err), 1)[0]
    assert 0.9 < order < 1.1, (order, err)
    assert err[-1] < 0.01


# --- Monte Carlo -------------------------------------------------------------------------------

def _chi_square_p(counts, expected_p):
    """p-value of Pearson's chi-square test of ``counts`` against the probabilities
    ``expected_p``, bins with fewer than 5 expected counts pooled into one."""
    n = counts.sum()
    exp = n * expected_p
    small = exp < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(exp[~small], exp[small].sum())
    keep = exp > 0
    obs, exp = obs[keep], exp[keep]
    chi2 = np.sum((obs - exp) ** 2 / exp)
    return stats.chi2.sf(chi2, obs.size - 1)


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_trajectory_histograms_agree_with_exact_distribution(cascade):
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0, cascade=cascade)
    rho0 = _eq41()
    kw = dict(t_max=2.0, dt=0.02, save_every=25)
    exact = cm.heat_statistics(rho0, **kw)
    mc = cm.heat_statistics(rho0, method="trajectories", n_trajectories=4000, seed=11, **kw)
    n = mc.parameters["n_trajectories"]
    assert n == 4000 and np.array_equal(mc.t, exact.t)
    total = mc.counts.sum(axis=0)
    assert np.all(total.sum(axis=1) == n)
    p_values = [_chi_square_p(total[k], exact.probabilities[k]) for k in range(1, mc.t.size)]
    if not cascade:
        flat = np.rint(mc.joint * n).reshape(mc.t.size, -1)
        p_values += [_chi_square_p(flat[k], exact.joint[k].ravel())
                     for k in range(1, mc.t.size)]
    # 4 or 8 tests at level 1e-3 each: a false alarm has probability < 1%
    assert min(p_values) > 1e-3, p_values
    z = np.abs(mc.cumulants[1:] - exact.cumulants[1:]) / mc.stderr.cumulants[1:]
    assert np.max(z) < 4.5, z
    assert np.all(mc.stderr.probabilities[1:].max(axis=1) > 0)


def test_trajectory_counts_identical_on_one_and_two_threads_and_mergeable():
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = _eq41()
    kw = dict(t_max=1.0, dt=0.02, save_every=10, method="trajectories", seed=5)
    one = cm.heat_statistics(rho0, options=collision.TrajectoryOptions(
        n_trajectories=256, n_threads=1), **kw)
    two = cm.heat_statistics(rho0, options=collision.TrajectoryOptions(
        n_trajectories=256, n_threads=2), **kw)
    assert np.array_equal(one.counts, two.counts)
    assert np.array_equal(one.probabilities, two.probabilities)
    assert np.array_equal(one.cumulants, two.cumulants)
    a = cm.heat_statistics(rho0, options=collision.TrajectoryOptions(n_trajectories=128), **kw)
    b = cm.heat_statistics(rho0, options=collision.TrajectoryOptions(
        n_trajectories=128, first_trajectory=128), **kw)
    merged = merge_statistics(a, b)
    assert np.array_equal(merged.counts, one.counts)
    assert np.array_equal(merged.probabilities, one.probabilities)
    assert np.array_equal(merged.stderr.cumulants, one.stderr.cumulants)
    with pytest.raises(ValueError, match="overlap"):
        merge_statistics(a, a)


# --- input, files, plots ---------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, method="gaussian"), "cannot|count"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, method="exact"), "method"),
    (lambda cm, r: cm.heat_statistics(r, -1.0, 0.1), "t_max"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, float("nan")), "dt"),
    (lambda cm, r: cm.heat_statistics(np.eye(2) / 2, 1.0, 0.1), "rho0"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, save_every=0), "save_every"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, method="trajectories",
                                      n_trajectories=1), "n_trajectories"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, method="trajectories",
                                      options=collision.TrajectoryOptions(target_stderr=0.1)),
     "target_stderr"),
    (lambda cm, r: cm.heat_statistics(r, 1.0, 0.1, seed=3), "seed"),
    (lambda cm, r: cm.master_equation().heat_statistics(r, [-1.0, 1.0]), "times"),
    (lambda cm, r: cm.master_equation().heat_statistics(r, [0.0, float("nan")]), "times"),
    (lambda cm, r: cm.master_equation().heat_statistics(np.eye(3) / 3, [1.0]), "rho0"),
    (lambda cm, r: cm.master_equation().heat_statistics(r, [1.0], method="dft"), "method"),
    (lambda cm, r: collision.CascadeCollisionModel("qubit", delay=0.2).heat_statistics(
        r, 1.0, 0.1), "delay"),
    (lambda cm, r: lindblad.CascadeMasterEquation("qubit", delay=0.2).heat_statistics(
        r, [1.0]), "delay"),
], ids=["gaussian", "unknown-method", "negative-t_max", "nan-dt", "wrong-dimension",
        "save_every-0", "one-trajectory", "target_stderr", "seed-for-density",
        "negative-times", "nan-times", "me-wrong-dimension", "me-unknown-method",
        "delay", "me-delay"])
def test_bad_input_is_refused_with_a_clear_message(call, match):
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    with pytest.raises(ValueError, match=match):
        call(cm, _eq41())


@pytest.mark.parametrize("kind", ["exact", "independent", "monte-carlo"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_files_round_trip_exactly(tmp_path, kind, suffix):
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0,
                                         cascade=kind != "independent")
    kw = dict(method="trajectories", n_trajectories=128, seed=2) if kind == "monte-carlo" \
        else {}
    res = cm.heat_statistics(_eq41(), 0.5, 0.05, **kw)
    path = res.save(tmp_path / f"stats{suffix}")
    back = HeatStatistics.load(path)
    for name in ("t", "quanta", "probabilities", "cumulants"):
        assert np.array_equal(getattr(back, name), getattr(res, name)), name
    assert back.parameters["system"] == "qubit" and back.partial is False
    if kind == "independent":
        assert np.array_equal(back.joint, res.joint)
        assert np.array_equal(back.local_quanta, res.local_quanta)
    if kind == "monte-carlo":
        assert np.array_equal(back.stderr.probabilities, res.stderr.probabilities)
        assert np.array_equal(back.stderr.cumulants, res.stderr.cumulants)
        if suffix == ".npz":
            assert np.array_equal(back.counts, res.counts)
    if suffix == ".csv":
        table = np.genfromtxt(path, delimiter=",", names=True, comments="#")
        assert np.array_equal(table["P_m1"], res.probability(-1))
        assert np.array_equal(table["kappa_2"], res.variance)


def test_load_refuses_other_files(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="HeatStatistics"):
        HeatStatistics.load(bad)
    with pytest.raises(ValueError, match="suffix"):
        HeatStatistics.load(tmp_path / "x.txt")


def test_plot_draws_distributions_and_cumulants(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    res = cm.heat_statistics(_eq41(), 2.0, 0.05)
    ref = cm.master_equation().heat_statistics(_eq41(), np.linspace(0, 2, 41))
    ax_p, ax_k = res.plot(reference=ref, path=tmp_path / "s.png", log=True)
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert len(ax_k.lines) >= 4 and ax_p.get_yscale() == "log"
    plt.close(ax_p.figure)


def test_cumulants_of_known_distributions():
    q = np.arange(-3, 4)
    p = np.zeros(7)
    p[[2, 4]] = 0.5  # q = -1, 1 with equal weight
    np.testing.assert_allclose(cumulants(q, p), [0.0, 1.0, 0.0, -2.0], atol=1e-15)
    lam = 0.7  # a Poisson distribution (truncated far in its tail) has kappa_k = lam
    k = np.arange(0, 40)
    pois = stats.poisson.pmf(k, lam)
    np.testing.assert_allclose(cumulants(k, pois), [lam] * 4, rtol=1e-12)


def test_warnings_point_at_the_caller():
    cm = collision.CascadeCollisionModel("oscillator", cutoff=3, temperature=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cm.heat_statistics(_thermal_product("oscillator", 1.0, 2, 3), 0.2, 0.1)
    kinds = {w.category for w in caught}
    assert TruncationWarning in kinds and AccuracyWarning in kinds
    assert all(w.filename == __file__ for w in caught)


@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_counting_leaves_the_trajectory_fluxes_unchanged(cascade):
    """The README's claim: recording the quanta in the trajectory kernel changes nothing
    else; the flux rows and final states of one batch are bit-identical with and without
    counting."""
    import collision.trajectories as tr
    from collision._kernels import batch as _kb
    from collision._kernels import rng as _rng

    model = collision.CascadeCollisionModel("qubit", 3, temperature=1.0, cascade=cascade)
    plan = model.plan(states.product(*[states.thermal("qubit", 2.0)] * 3), 0.2, 0.02,
                      save_every=2)
    tables, _, _ = tr.build_tables(model, plan)
    init = tr.initial_ensemble(plan.rho0, tables)
    ss = np.random.SeedSequence(5)
    outputs = []
    for count in (False, True):
        rng = np.zeros((64, _rng.SFC64_WORDS), dtype=np.uint64)
        _rng.seed_children(tr.seed_prefix(ss), ss.pool_size, 0, rng)
        rows = np.zeros((64, plan.times.size, 2, 3))
        psi = np.zeros((64, tables.level_of.shape[0]), dtype=complex)
        n_stages = 1 if cascade else 3
        quanta = np.zeros((64, plan.times.size, n_stages) if count else (64, 0, 0),
                          dtype=np.int64)
        _kb.run_batch(rng, tables, init, plan.n_steps, plan.save_every, rows, psi, quanta, 2)
        outputs.append((rows, psi, quanta))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
    assert np.any(outputs[1][2] != 0)  # the counting run did count
