"""Finite travel time (``delay``) in the Gaussian models.

The collision engine (process-order run, :mod:`collision.gaussian`) is checked against a
dense real-time reimplementation that keeps every ancilla in flight as a mode; the exact
master equation (:class:`lindblad.GaussianMasterEquation`) against an independent
solution of the delayed quantum Langevin equations by quadrature
(``tests/gaussian_langevin.py``); the two against each other at first order in dt; and
both against the physics: zero delay changes nothing, S1 does not notice the delay, the
total heat does not depend on it, a product state's S2 starts late from its locally
relaxed state, and energy is conserved with the energy in flight.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gaussian_langevin import LangevinCascade

import collision.gaussian as engine
from collision import GaussianCollisionModel
from collision._loop import AccuracyWarning
from collision.model import delay_steps
from lindblad.gaussian import GaussianMasterEquation, to_lab_frame
from lindblad.states import gaussian_correlated, gaussian_thermal, validate_covariance

pytestmark = pytest.mark.filterwarnings("ignore::collision._loop.AccuracyWarning")

FIELDS = ("local", "correlated")


def random_covariance(n_modes, seed, scale=0.4):
    """Vacuum plus a random PSD matrix: physical, with X-Y and inter-mode correlations."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * n_modes, 2 * n_modes))
    return validate_covariance(np.eye(2 * n_modes) / 2 + scale * x @ x.T / (2 * n_modes))


def occupations(cov):
    return (np.diagonal(cov)[0::2] + np.diagonal(cov)[1::2]) / 2 - 0.5


# --- dense real-time reference for the collision model -------------------------------------

def collide(cov, a, b, theta):
    """Dense ``R C R^T`` for the exchange collision of modes a and b."""
    c, s = math.cos(theta), math.sin(theta)
    r = np.eye(cov.shape[0])
    idx = [2 * a, 2 * a + 1, 2 * b, 2 * b + 1]
    r[np.ix_(idx, idx)] = [[c, 0, 0, s], [0, c, -s, 0], [0, s, c, 0], [-s, 0, 0, c]]
    return r @ cov @ r.T


def real_time_run(cov0, steps_per_link, theta, n_bath, omega, dt, n_steps):
    """The collision model step by step in real time, every ancilla in flight a mode.

    Real step k: S_i meets ancilla ``j = k - o_i`` (S1 first); an ancilla is fresh at the
    first subsystem it meets at or after t = 0.  ``in_flight[l, k]`` is the energy gained
    by the ancillas between S_l and S_{l+1} at t_k, read off the ancilla modes.
    Returns local, correlated, in_flight (each per real step) and the states at t_k.
    """
    n = cov0.shape[0] // 2
    o = np.concatenate([[0], np.cumsum(steps_per_link)]).astype(int)
    slots = o[-1] + 2  # ancillas alive at once
    cov = np.zeros((2 * (n + slots),) * 2)
    cov[:2 * n, :2 * n] = cov0

    def occ(c, mode):
        return (c[2 * mode, 2 * mode] + c[2 * mode + 1, 2 * mode + 1]) / 2 - 0.5

    local, corr = np.zeros((n, n_steps)), np.zeros((n, n_steps))
    in_flight, states = np.zeros((n - 1, n_steps)), []
    for k in range(n_steps):
        states.append(cov[:2 * n, :2 * n].copy())
        for link in range(n - 1):
            between = [j for j in range(k - o[link + 1], k - o[link]) if j + o[link] >= 0]
            in_flight[link, k] = omega * sum(occ(cov, n + j % slots) - n_bath for j in between)
        for i in range(n):
            j = k - o[i]
            slot = n + j % slots
            if i == 0 or j + o[i - 1] < 0:  # a fresh ancilla
                cov[2 * slot:2 * slot + 2, :] = 0
                cov[:, 2 * slot:2 * slot + 2] = 0
                cov[2 * slot, 2 * slot] = cov[2 * slot + 1, 2 * slot + 1] = n_bath + 0.5
            before = occ(cov, i)
            cov = collide(cov, i, slot, theta)
            local[i, k] = omega * math.sin(theta) ** 2 * (before - n_bath) / dt
            corr[i, k] = omega * (before - occ(cov, i)) / dt - local[i, k]
    states.append(cov[:2 * n, :2 * n].copy())
    return local, corr, in_flight, states


REAL_TIME_CASES = {
    # id: (n, delay per link in steps, t_max in steps, save_every)
    "n2-m3": (2, [3], 20, 1),
    "n2-t_max-below-delay": (2, [6], 4, 1),
    "n3-m2-m4": (3, [2, 4], 20, 1),
    "n3-save_every-3": (3, [5, 1], 12, 3),
    "n3-first-link-0": (3, [0, 3], 10, 2),
    "n3-last-link-0": (3, [3, 0], 10, 1),
    "n3-t_max-below-delays": (3, [10, 10], 6, 1),
    "n4-mixed": (4, [2, 0, 3], 12, 2),
}


@pytest.mark.parametrize("case", REAL_TIME_CASES.values(), ids=REAL_TIME_CASES.keys())
def test_collision_run_equals_real_time_reference(case):
    """Fluxes, in_flight and the equal-time final state agree with the real-time
    reimplementation to rounding (1e-12: fluxes are energy differences / dt ~ 1e-15/0.05)."""
    n, steps, n_steps, save_every = case
    dt, omega = 0.05, 1.3
    cov0 = random_covariance(n, seed=n + sum(steps))
    model = GaussianCollisionModel(n, temperature=0.7, omega=omega,
                                   delay=[m * dt for m in steps])
    res = model.run(cov0, n_steps * dt, dt, save_every=save_every)
    last = (res.t.size - 1) * save_every
    local, corr, in_flight, states = real_time_run(cov0, steps, math.sqrt(dt), model.n_bath,
                                                   omega, dt, last + 1)
    np.testing.assert_allclose(res.local, local[:, ::save_every], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.correlated, corr[:, ::save_every], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.in_flight, in_flight[:, ::save_every], rtol=0, atol=1e-13)
    np.testing.assert_allclose(res.final_state, to_lab_frame(states[last], last * dt, omega),
                               rtol=0, atol=1e-13)
    assert np.abs(res.in_flight).max() > 1e-2


# --- zero delay, S1, total heat -----------------------------------------------------------

@pytest.mark.parametrize("n, delay", [(2, 0.0), (2, [0]), (3, [0.0, 0.0])],
                         ids=["n2-scalar", "n2-list", "n3-list"])
@pytest.mark.parametrize("kind", ["collision", "master-equation"])
def test_zero_delay_is_bit_identical(kind, n, delay):
    cov0 = random_covariance(n, seed=4)
    if kind == "collision":
        with_delay = GaussianCollisionModel(n, temperature=0.5, delay=delay).run(cov0, 2.0, 0.02)
        plain = GaussianCollisionModel(n, temperature=0.5).run(cov0, 2.0, 0.02)
    else:
        t = np.linspace(0, 3, 31)
        with_delay = GaussianMasterEquation(n, temperature=0.5, delay=delay).heat_fluxes(cov0, t)
        plain = GaussianMasterEquation(n, temperature=0.5).heat_fluxes(cov0, t)
        np.testing.assert_array_equal(
            GaussianMasterEquation(n, temperature=0.5, delay=delay).evolve(cov0, t),
            GaussianMasterEquation(n, temperature=0.5).evolve(cov0, t))
    for name in FIELDS + ("final_state",):
        np.testing.assert_array_equal(getattr(with_delay, name), getattr(plain, name))
    assert with_delay.in_flight is None


@pytest.mark.parametrize("kind", ["collision", "master-equation"])
def test_s1_does_not_notice_the_delay(kind):
    """S1 always meets fresh reservoir: its flux is the same for every delay (collision
    model: the closed-form and stepped parts agree to rounding, 1e-12)."""
    cov0 = gaussian_correlated(1.5, 1.0, 0.6)
    if kind == "collision":
        runs = [GaussianCollisionModel(temperature=0.4, delay=d).run(cov0, 3.0, 0.01)
                for d in (0.0, 0.01, 0.5, 2.5)]
    else:
        t = np.linspace(0, 3, 61)
        runs = [GaussianMasterEquation(temperature=0.4, delay=d).heat_fluxes(cov0, t)
                for d in (0.0, 0.01, 0.5, 2.5)]
    for res in runs[1:]:
        np.testing.assert_allclose(res.local[0], runs[0].local[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.correlated[0], 0, atol=1e-12)


def test_collision_total_heat_does_not_depend_on_the_delay():
    """Q(inf) = U(0) - U(inf) = omega sum_i (n_i(0) - N) (the chain ends thermal).  With
    save_every = 1 the step sum of the total flux is the exact energy released; by
    t = 40 + delays the remainder is < 1e-12."""
    cov0, dt, temperature = gaussian_correlated(2.0, 1.5, -1.0), 0.01, 1.0
    model = GaussianCollisionModel(temperature=temperature)
    expected = np.sum(occupations(cov0) - model.n_bath)
    for delay in (0.0, 0.3, 3.0):
        res = GaussianCollisionModel(temperature=temperature, delay=delay).run(
            cov0, 40 + delay, dt)
        assert np.sum(res.total) * dt == pytest.approx(expected, abs=1e-9), delay


def _gauss_legendre(f, a, b, cuts, nodes=40):
    """``int_a^b f`` by Gauss-Legendre on each piece between the cuts (f smooth on each:
    exponentials times polynomials, so 40 nodes on pieces of length <= 2 are exact to
    rounding; longer pieces are split)."""
    if b <= a:
        return np.zeros_like(np.asarray(f(np.array([a]))[..., 0]))
    points = sorted({a, b} | {c for c in cuts if a < c < b})
    pieces = []
    for lo, hi in zip(points[:-1], points[1:], strict=True):
        k = max(1, math.ceil((hi - lo) / 2.0))
        pieces += [(lo + (hi - lo) * q / k, lo + (hi - lo) * (q + 1) / k) for q in range(k)]
    x, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    for lo, hi in pieces:
        u = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        total = total + 0.5 * (hi - lo) * f(u) @ w
    return total


def _jump_times(arrival):
    """``T_i - T_l`` (l < i): S_i's flux jumps when S_l's output first reaches it."""
    return [a - b for a in arrival for b in arrival if a > b]


def test_master_equation_total_heat_does_not_depend_on_the_delay():
    """int_0^inf total flux dt = omega sum_i (n_i(0) - N) for every delay, by Gauss-Legendre
    quadrature split where the fluxes jump; to t = 60 + T_n the tail is below 1e-20 and
    the quadrature exact to rounding: tolerance 1e-10."""
    cov0 = random_covariance(3, seed=7, scale=1.0)
    for delay in ([0.0, 0.0], [0.7, 0.0], [1.5, 2.25]):
        me = GaussianMasterEquation(3, temperature=0.8, delay=delay)
        arrival = me.arrival_times
        heat = _gauss_legendre(lambda u, me=me: me.heat_fluxes(cov0, u).total, 0.0,
                               60 + arrival[-1], _jump_times(arrival))
        assert heat == pytest.approx(np.sum(occupations(cov0) - me.n_bath), abs=1e-10), delay


# --- product states: S2 starts late, from its locally relaxed state -----------------------

def test_collision_product_state_s2_is_the_shifted_zero_delay_flux():
    """For a product state, S2 relaxes alone for m steps (closed form: its deviation from
    thermal times cos^{2m} theta), then the zero-delay cascade runs: S2's flux at real
    step k >= m is the zero-delay flux at k - m from (S1, S2 relaxed).  Exact (1e-12)."""
    dt, m, temperature = 0.02, 35, 0.6
    c1, c2 = random_covariance(1, seed=1, scale=2.0), random_covariance(1, seed=2, scale=0.5)
    cov0 = np.zeros((4, 4))
    cov0[:2, :2], cov0[2:, 2:] = c1, c2
    delayed = GaussianCollisionModel(temperature=temperature, delay=m * dt).run(cov0, 3.0, dt)
    model = GaussianCollisionModel(temperature=temperature)
    thermal = (model.n_bath + 0.5) * np.eye(2)
    relaxed = cov0.copy()
    relaxed[2:, 2:] = thermal + math.cos(math.sqrt(dt)) ** (2 * m) * (c2 - thermal)
    plain = model.run(relaxed, 3.0 - m * dt, dt)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(delayed, name)[1, m:], getattr(plain, name)[1],
                                   rtol=0, atol=1e-12)
    # before the output of S1 arrives: S2 relaxes alone (local only)
    k = np.arange(m)
    n2 = model.n_bath + math.cos(math.sqrt(dt)) ** (2 * k) * (occupations(c2)[0] - model.n_bath)
    np.testing.assert_allclose(delayed.local[1, :m], math.sin(math.sqrt(dt)) ** 2 / dt
                               * (n2 - model.n_bath), rtol=0, atol=1e-12)
    np.testing.assert_allclose(delayed.correlated[1, :m], 0, atol=1e-12)


def test_master_equation_product_state_s2_is_the_shifted_zero_delay_flux():
    tau, temperature = 1.25, 0.6
    c1, c2 = random_covariance(1, seed=1, scale=2.0), random_covariance(1, seed=2, scale=0.5)
    cov0 = np.zeros((4, 4))
    cov0[:2, :2], cov0[2:, 2:] = c1, c2
    t = np.arange(0, 41) * 0.125  # includes t = tau exactly
    delayed = GaussianMasterEquation(temperature=temperature, delay=tau).heat_fluxes(cov0, t)
    me = GaussianMasterEquation(temperature=temperature)
    thermal = (me.n_bath + 0.5) * np.eye(2)
    relaxed = cov0.copy()
    relaxed[2:, 2:] = thermal + math.exp(-tau) * (c2 - thermal)
    late = t >= tau
    plain = me.heat_fluxes(relaxed, t[late] - tau)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(delayed, name)[1, late], getattr(plain, name)[1],
                                   rtol=0, atol=1e-13)
    n2 = me.n_bath + np.exp(-t[~late]) * (occupations(c2)[0] - me.n_bath)
    np.testing.assert_allclose(delayed.local[1, ~late], n2 - me.n_bath, rtol=0, atol=1e-13)
    np.testing.assert_allclose(delayed.correlated[1, ~late], 0, atol=1e-13)


# --- energy balance -----------------------------------------------------------------------

@pytest.mark.parametrize("n, steps", [(2, [7]), (3, [3, 5]), (3, [4, 0])],
                         ids=["n2", "n3", "n3-last-link-0"])
def test_collision_energy_balance_with_energy_in_flight(n, steps):
    """U_S(0) - U_S(t_k) = sum_{k'<k} total(k') dt = Q_out(t_k) + sum in_flight(t_k), with
    Q_out the energy of the ancillas past S_n: those met S_i at real steps
    r <= k - 1 - o_n + o_i.  Exact step sums (save_every = 1): 1e-12."""
    dt, omega = 0.02, 1.1
    cov0 = random_covariance(n, seed=11, scale=1.0)
    model = GaussianCollisionModel(n, temperature=0.5, omega=omega, delay=[m * dt for m in steps])
    res = model.run(cov0, 1.0, dt)
    offsets = np.concatenate([[0], np.cumsum(steps)]).astype(int)
    released = np.concatenate([[0], np.cumsum(res.total) * dt])[:-1]  # before each t_k
    own = np.cumsum(res.subsystem, axis=1) * dt  # own[i, r] = sum_{r' <= r}
    for k in range(res.t.size):
        q_out = sum(own[i, k - 1 - offsets[-1] + offsets[i]]
                    for i in range(n) if k - 1 - offsets[-1] + offsets[i] >= 0)
        assert released[k] == pytest.approx(q_out + res.in_flight[:, k].sum(), abs=1e-12)
    u0, u_end = omega * occupations(cov0).sum(), omega * occupations(res.final_state).sum()
    assert u0 - u_end == pytest.approx(np.sum(res.total[:-1]) * dt, abs=1e-12)


def test_master_equation_energy_balance_with_energy_in_flight():
    """U_S(0) - U_S(t) (from the equal-time states) = int_0^t total = Q_out(t) +
    sum in_flight(t), and in_flight[l](t) = sum_{i'<=l} int J_i' over the window whose
    output is between S_l and S_{l+1}.  Integrals by Gauss-Legendre split at the jumps
    (exact to rounding for these smooth pieces): tolerance 1e-10."""
    delays = [0.5, 1.25]
    cov0 = random_covariance(3, seed=12, scale=1.0)
    me = GaussianMasterEquation(3, temperature=0.7, omega=1.2, delay=delays)
    arrival = me.arrival_times
    cuts = _jump_times(arrival)
    t = np.array([0.0, 0.3, 0.5, 1.0, 1.75, 2.6, 4.0])
    res = me.heat_fluxes(cov0, t)
    energy = [me.omega * occupations(cov).sum() for cov in me.evolve(cov0, t)]

    def own(i, a, b):
        return _gauss_legendre(lambda u: me.heat_fluxes(cov0, u).subsystem[i], a, b, cuts)

    for k, tk in enumerate(t):
        total = _gauss_legendre(lambda u: me.heat_fluxes(cov0, u).total, 0.0, tk, cuts)
        assert energy[0] - energy[k] == pytest.approx(total, abs=1e-10)
        q_out = sum(own(i, 0.0, max(0.0, tk - arrival[-1] + arrival[i])) for i in range(3))
        assert total == pytest.approx(q_out + res.in_flight[:, k].sum(), abs=1e-10)
        for link in range(2):
            window = sum(own(i, max(0.0, tk - arrival[link + 1] + arrival[i]),
                             max(0.0, tk - arrival[link] + arrival[i]))
                         for i in range(link + 1))
            assert res.in_flight[link, k] == pytest.approx(window, abs=1e-10)


# --- the master equation against the Langevin equations ----------------------------------

LANGEVIN_CASES = {
    # id: (delays, initial covariance, temperature)
    "n2-no-delay": ([0.0], gaussian_correlated(1.0, 0.7, 0.4), 0.6),
    "n2-correlated": ([0.75], gaussian_correlated(1.0, 0.7, 0.4), 0.6),
    "n2-anticorrelated": ([1.5], gaussian_correlated(1.5, -1.2, -0.9), 1.0),
    "n3-random": ([0.5, 1.25], random_covariance(3, seed=2), 0.6),
    "n3-first-link-0": ([0.0, 0.75], random_covariance(3, seed=3), 0.4),
}


@pytest.mark.parametrize("case", LANGEVIN_CASES.values(), ids=LANGEVIN_CASES.keys())
def test_master_equation_agrees_with_langevin_quadrature(case):
    """Fluxes, energy in flight and equal-time covariances agree with the quantum
    Langevin solution to 1e-11 (its noise integrals are adaptive quadratures asked for
    epsrel = 1e-12 on values of order 1, with error estimates < 1e-12; measured at most
    1.2e-15).  The grid holds the arrival times exactly (steps of 1/4), where
    both take the flux once the output has arrived."""
    delays, cov0, temperature = case
    n = cov0.shape[0] // 2
    me = GaussianMasterEquation(n, temperature=temperature, omega=1.2, delay=delays)
    reference = LangevinCascade(cov0, delays, me.gamma, me.omega, me.n_bath)
    t = np.arange(0, 17) * 0.25
    res = me.heat_fluxes(cov0, t)
    local, corr = reference.fluxes(t)
    np.testing.assert_allclose(res.local, local, rtol=0, atol=1e-11)
    np.testing.assert_allclose(res.correlated, corr, rtol=0, atol=1e-11)
    if any(delays):
        np.testing.assert_allclose(res.in_flight, reference.in_flight(t), rtol=0, atol=1e-11)
    for tk in (0.6, 2.0, 4.0):
        np.testing.assert_allclose(me.evolve(cov0, [tk])[0], reference.equal_time_covariance(tk),
                                   rtol=0, atol=1e-11)
    assert np.abs(res.correlated[1:]).max() > 0.05


# --- collision model -> master equation -----------------------------------------------------

def test_collision_model_converges_at_first_order_with_delay():
    """dt = 0.1 / 2^k, k = 0..4, saved on t = 0, 0.1, ..., 4 (the delay 0.8 is a whole
    number of steps for all): local, correlated and in_flight converge at order 1."""
    cov0 = gaussian_correlated(1.0, 0.7, 0.4)
    model = GaussianCollisionModel(temperature=0.5, delay=0.8)
    dts = 0.1 * 2.0 ** -np.arange(5)
    runs = [model.run(cov0, 4.0, dt, save_every=2**k) for k, dt in enumerate(dts)]
    reference = model.master_equation().heat_fluxes(cov0, runs[0].t)
    for name in FIELDS + ("in_flight",):
        err = [np.abs(getattr(r, name) - getattr(reference, name)).max() for r in runs]
        order = np.polyfit(np.log(dts), np.log(err), 1)[0]
        assert 0.9 <= order <= 1.1, f"{name}: order {order:.3f}, errors {err}"


def test_chain_of_three_with_delays_converges_at_first_order():
    """n = 3, unequal delays: halving dt halves the largest error of every output (the
    grid holds the arrival times, where the correlated fluxes jump)."""
    cov0 = random_covariance(3, seed=9, scale=1.0)
    model = GaussianCollisionModel(3, temperature=0.5, delay=[0.4, 0.8])
    runs = [model.run(cov0, 4.0, dt, save_every=k) for dt, k in ((0.02, 5), (0.01, 10))]
    reference = model.master_equation().heat_fluxes(cov0, runs[0].t)
    errs = [max(np.abs(getattr(r, name) - getattr(reference, name)).max()
                for name in FIELDS + ("in_flight",)) for r in runs]
    assert errs[1] < 0.05
    assert 1.8 < errs[0] / errs[1] < 2.2


# --- long delays, interruption ---------------------------------------------------------------

def test_delay_far_beyond_the_run_costs_nothing_and_leaves_s2_alone():
    """A delay of 10^8 steps on a run of 200: S2 relaxes alone during the whole run (the
    closed form, no step of the delay is simulated), in_flight is what S1 released."""
    dt = 0.01
    cov0 = gaussian_correlated(1.0, 0.7, 0.4)
    res = GaussianCollisionModel(temperature=0.3, delay=1e6).run(cov0, 2.0, dt)
    alone = GaussianCollisionModel(temperature=0.3, cascade=False).run(cov0, 2.0, dt)
    np.testing.assert_allclose(res.local, alone.local, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.correlated, 0, atol=1e-12)
    released_by_s1 = np.concatenate([[0], np.cumsum(res.local[0]) * dt])[:-1]
    np.testing.assert_allclose(res.in_flight[0], released_by_s1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.final_state, alone.final_state, rtol=0, atol=1e-12)


@pytest.fixture
def interrupt_after(monkeypatch):
    """Make the kernel raise KeyboardInterrupt (Ctrl-C) on its ``calls``-th call, with one
    kernel call per couple of steps (tiny chunks)."""
    kernel = engine.kernels.run_process_collisions

    def arm(calls):
        count = {"n": 0}

        def interrupting(*args):
            count["n"] += 1
            if count["n"] == calls:
                raise KeyboardInterrupt
            return kernel(*args)

        monkeypatch.setattr(engine, "MIN_CHUNK_WORK", 1)
        monkeypatch.setattr(engine.kernels, "run_process_collisions", interrupting)

    return arm


def test_interrupted_delayed_run_returns_finished_saved_times(interrupt_after):
    """Ctrl-C midway: the saved times finished so far (S1, the last to reach a real step
    in process order, has passed them), equal to the full run, partial=True and no
    final_state (the equal-time state needs the whole run)."""
    cov0 = random_covariance(3, seed=5)
    model = GaussianCollisionModel(3, temperature=0.5, delay=[0.2, 0.3])
    full = model.run(cov0, 2.0, 0.01)
    interrupt_after(60)
    part = model.run(cov0, 2.0, 0.01)
    assert part.partial and part.final_state is None
    assert 0 < part.t.size < full.t.size
    # chunk ends split closed-form stretches, which changes rounding; a flux is an energy
    # difference / dt, so its rounding is ~ eps E / dt ~ 1e-13
    for name in FIELDS + ("in_flight",):
        np.testing.assert_allclose(getattr(part, name), getattr(full, name)[:, :part.t.size],
                                   rtol=0, atol=1e-12)


def test_interrupt_before_the_first_saved_time_propagates(interrupt_after):
    """Nothing finished (still in the first subsystems' start phase): Ctrl-C goes on to
    the caller, as without delay."""
    interrupt_after(1)
    with pytest.raises(KeyboardInterrupt):
        GaussianCollisionModel(3, delay=[0.2, 0.3]).run(random_covariance(3, seed=5), 2.0, 0.01)


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("delay, dt, match", [
    (0.015, 0.01, r"delay = 0.015 must be a whole number of time steps dt = 0.01 .*1.5 steps"
                  r".*0.01 \(1 steps\) or 0.02 \(2 steps\)"),
    ([0.02, 0.025], 0.01, r"delay\[1\] = 0.025 must be a whole number of time steps dt = 0.01"
                          r".*0.02 \(2 steps\) or 0.03 \(3 steps\)"),
    (0.3, 0.07, r"delay = 0.3 must be a whole number .*4.28571 steps.*0.28 \(4 steps\) or "
                r"0.35 \(5 steps\)"),
], ids=["not-a-multiple", "second-link", "dt-not-dividing"])
def test_delay_not_a_whole_number_of_steps_raises(delay, dt, match):
    with pytest.raises(ValueError, match=match):
        GaussianCollisionModel(3, delay=delay).run(gaussian_thermal(1.0, 3), 1.0, dt)


def test_delay_of_whole_steps_up_to_rounding_is_accepted():
    assert delay_steps((0.3, 0.7000000000000001, 0.0), 0.1) == (3, 7, 0)


@pytest.mark.parametrize("model", [GaussianCollisionModel, GaussianMasterEquation],
                         ids=["collision", "master-equation"])
@pytest.mark.parametrize("kwargs, match", [
    ({"delay": -0.1}, "delay must be a finite number >= 0"),
    ({"delay": float("nan")}, "delay must be a finite number >= 0"),
    ({"delay": [0.1, -float("inf")]}, r"delay\[1\] must be a finite number >= 0"),
    ({"delay": [0.1]}, "delay must be one number or one per link: 2 value"),
    ({"delay": 0.5, "cascade": False}, "delay applies to the cascade"),
], ids=["negative", "nan", "minus-inf-in-list", "wrong-length", "independent-reservoirs"])
def test_bad_delay_raises(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        model(3, **kwargs)


def test_accuracy_warning_still_raised_with_delay():
    with pytest.warns(AccuracyWarning):
        GaussianCollisionModel(3, delay=0.2).run(gaussian_thermal(1.0, 3), 1.0, 0.1)
