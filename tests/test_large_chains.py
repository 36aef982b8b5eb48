"""Initial states without a dense matrix, and long chains (collision.initial).

Exact reference for any chain length: at T = 0 with S1 excited and the rest in the
ground state, the state stays in the blocks with at most one excitation.  The
one-excitation amplitudes obey the no-jump equations of the cascade,

    dc_j/dt = -(gamma/2) c_j - gamma sum_{i<j} c_i,

(from the Lindblad form gamma L[sum a_i] - i[H_c, .] of DESIGN.md section 3), and S_j's
own flux is -omega d|c_j|^2/dt, its local part gamma omega |c_j|^2.
"""

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import collision
from lindblad import states

pytestmark = [pytest.mark.filterwarnings("ignore::collision.AccuracyWarning"),
              pytest.mark.filterwarnings("ignore::collision.TruncationWarning")]


def one_excitation_fluxes(n: int, t: np.ndarray, gamma: float = 1.0):
    """(local, correlated) of every subsystem, shape (n, len(t)), of the T = 0 chain
    started with S1 excited (module docstring)."""
    a = -gamma / 2 * np.eye(n) - gamma * np.tril(np.ones((n, n)), -1)
    c0 = np.zeros(n)
    c0[0] = 1.0
    c = spla.expm_multiply(a, c0, start=t[0], stop=t[-1], num=t.size, endpoint=True)
    dc = c @ a.T
    own = -2 * np.real(np.conj(c) * dc).T
    local = gamma * np.abs(c.T) ** 2
    return local, own - local


def _excited_chain(n: int):
    return [np.diag([0.0, 1.0]).astype(complex)] + [np.diag([1.0, 0.0]).astype(complex)] * (n - 1)


@pytest.mark.parametrize("n", [3, 16], ids=["3-qubits", "16-qubits"])
def test_one_excitation_chain_against_the_exact_amplitudes(n):
    """Trajectories from a list of local states: within 4 standard errors plus the
    O(dt) bias (measured with the density engine: max |bias| = 0.99 dt for n = 3 and 16)."""
    model = collision.CascadeCollisionModel("qubit", n, temperature=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", collision.AccuracyWarning)
        res = model.run(_excited_chain(n), 2.0, 0.01, save_every=20, method="trajectories",
                        n_trajectories=2000, seed=5)
    local, corr = one_excitation_fluxes(n, res.t)
    bound = 4 * res.stderr.subsystem + 1.2 * 0.01
    assert np.all(np.abs(res.subsystem - (local + corr)) <= bound)
    # the density engine on the n + 1 reachable basis states (T = 0: nothing enters)
    # converges at first order: max error 0.99 dt at dt = 0.01 and 0.005 (measured)
    errors = []
    for dt in (0.01, 0.005):
        exact = model.run(_excited_chain(n), 2.0, dt, save_every=int(round(0.2 / dt)))
        errors.append(np.max(np.abs(exact.subsystem - (local + corr))))
        assert errors[-1] < 1.2 * dt
    assert 1.8 < errors[0] / errors[1] < 2.2
    if n > 12:
        assert exact.final_state is None  # (2^16)^2 entries: not built


@pytest.mark.slow
def test_thermal_chain_s1_and_independent_reservoirs():
    """16 thermal qubits: S1 meets fresh ancillas only, so its flux is that of a single
    qubit, taken exactly at the same dt from the density engine (S1 of a 2-qubit chain
    without cascade); with independent reservoirs every subsystem has S1's flux.  Within
    4.5 standard errors: 17 subsystem curves x 7 saved times are compared, and 4.5 sigma
    keeps the chance of a false failure of the fixed seed's draw below 1e-3."""
    n, t_s, temp = 16, 2.0, 1.0
    loc = [states.thermal("qubit", t_s)] * n
    single = collision.CascadeCollisionModel("qubit", 2, temperature=temp, cascade=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", collision.AccuracyWarning)
        ref = single.run(states.product(loc[0], loc[0]), 0.6, 0.02, save_every=10)
        for cascade in (True, False):
            model = collision.CascadeCollisionModel("qubit", n, temperature=temp,
                                                    cascade=cascade)
            res = model.run(loc, 0.6, 0.02, save_every=10, method="trajectories",
                            n_trajectories=64, seed=2)
            rows = range(n) if not cascade else [0]
            for i in rows:
                assert np.all(np.abs(res.subsystem[i] - ref.subsystem[0])
                              <= 4.5 * res.stderr.subsystem[i] + 1e-12)


@pytest.mark.parametrize("system", ["qubit", "oscillator"])
def test_list_vector_and_matrix_give_identical_trajectories(system):
    kw = {"cutoff": 3} if system == "oscillator" else {}
    model = collision.CascadeCollisionModel(system, 2, temperature=0.5, **kw)
    d = 2 if system == "qubit" else 3
    loc = [states.thermal(system, 1.5, kw.get("cutoff")), np.diag(np.eye(d)[0]).astype(complex)]
    runs = [model.run(x, 0.5, 0.05, method="trajectories", n_trajectories=128, seed=9)
            for x in (loc, states.product(*loc))]
    np.testing.assert_array_equal(runs[0].local, runs[1].local)
    np.testing.assert_array_equal(runs[0].correlated, runs[1].correlated)
    psi = np.zeros(d * d, dtype=complex)
    psi[1], psi[d] = 0.6, 0.8j  # a superposition within one excitation block
    a = model.run(psi, 0.5, 0.05, method="trajectories", n_trajectories=128, seed=9)
    b = model.run(np.outer(psi, psi.conj()), 0.5, 0.05, method="trajectories",
                  n_trajectories=128, seed=9)
    np.testing.assert_allclose(a.local, b.local, atol=1e-12)
    np.testing.assert_allclose(a.correlated, b.correlated, atol=1e-12)
    dens = [model.run(x, 0.5, 0.05) for x in (loc, psi)]
    np.testing.assert_allclose(dens[0].local, model.run(states.product(*loc), 0.5, 0.05).local,
                               atol=1e-15)
    assert dens[1].final_state.shape == (d * d, d * d)


@pytest.mark.parametrize("rho0, message", [
    ([states.thermal("qubit", 1.0)] * 2, "one local state per subsystem: 3"),
    ([states.thermal("qubit", 1.0), np.eye(3) / 3, states.thermal("qubit", 1.0)],
     "rho0\\[1\\] has dimension 3"),
    (np.ones(8) / 2, "must be normalised, got norm 1.41421356237"),
    (np.ones(7) / np.sqrt(7), "length D = 8"),
    (np.full(8, np.nan), "finite numbers"),
], ids=["short-list", "wrong-local-dimension", "not-normalised", "wrong-length", "nan"])
def test_bad_initial_states(rho0, message):
    model = collision.CascadeCollisionModel("qubit", 3, temperature=0.5)
    with pytest.raises(ValueError, match=message):
        model.run(rho0, 0.5, 0.05, method="trajectories", n_trajectories=64)


def test_dense_matrix_too_large_says_what_to_pass():
    from collision.initial import MAX_DENSE_DIM, initial_state

    n = int(np.log2(MAX_DENSE_DIM)) + 1
    # a (D, D) array would be 2^(2n) * 16 bytes; a broadcast view costs nothing
    huge = np.broadcast_to(np.zeros(1, dtype=complex), (2**n, 2**n))
    with pytest.raises(ValueError, match="pass a list of the .* local states"):
        initial_state(huge, (2,) * n)


def test_density_engine_refuses_a_chain_too_large_for_a_dense_state():
    """At T > 0 every block is reachable, so a 13-qubit density run needs the dense
    state: refused with the alternative named."""
    model = collision.CascadeCollisionModel("qubit", 13, temperature=0.5)
    with pytest.raises(ValueError, match="method='trajectories'"):
        model.run(_excited_chain(13), 0.1, 0.05)


def test_restricted_basis_gives_the_full_basis_results():
    """A 3-qubit chain at T = 0 from |100> + |010> (at most one excitation): the density
    engine on the 4 reachable states equals the full 8-state computation."""
    from collision.density import DensityEngine

    model = collision.CascadeCollisionModel("qubit", 3, temperature=0.0)
    psi = np.zeros(8, dtype=complex)
    psi[4], psi[2] = 0.6, 0.8
    plan = model.plan(psi, 1.0, 0.02)
    assert plan.basis.tolist() == [0, 1, 2, 4]
    small = model.run(psi, 1.0, 0.02)
    full = DensityEngine(model, dataclasses.replace(plan, basis=None, rho0=None).dense_initial()).run()
    np.testing.assert_allclose(small.local, full.local, atol=1e-14)
    np.testing.assert_allclose(small.correlated, full.correlated, atol=1e-14)
    np.testing.assert_allclose(small.final_state, full.final_state, atol=1e-14)
