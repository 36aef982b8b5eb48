"""CascadeMasterEquation: steady state, energy bookkeeping, two constructions of the
generator, the paper's App. C matrix, exact propagation, time grids and longer chains."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.integrate as si
import scipy.linalg as sla
import scipy.sparse as sp

from lindblad import states
from lindblad.model import CascadeMasterEquation
from lindblad.operators import total_excitations

FIELDS = ("J1", "J2", "J12", "total")


def _random_state(rng: np.random.Generator, dim: int) -> np.ndarray:
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def _pinched(me: CascadeMasterEquation, rho: np.ndarray) -> np.ndarray:
    """rho with the coherences between different total excitation numbers removed.

    Still a state (pinching onto blocks keeps positivity and trace).  The fluxes and
    energies only see the m = 0 block, so for them nothing is lost, and evolve() then
    propagates one block instead of all of them.
    """
    n = total_excitations(me.dims)
    return np.where(n[:, None] == n[None, :], rho, 0.0)


def _vec(rho: np.ndarray) -> np.ndarray:
    return rho.reshape(-1)  # row-major, the model's documented convention


def _apply(me: CascadeMasterEquation, rho: np.ndarray) -> np.ndarray:
    """L(rho) through the full sparse Liouvillian."""
    return (me.liouvillian() @ _vec(rho)).reshape(rho.shape)


def _model(system: str, n: int = 2, **kw) -> CascadeMasterEquation:
    if system == "oscillator":
        kw.setdefault("cutoff", 4 if n == 2 else 3)
    return CascadeMasterEquation(system, n_systems=n, **kw)


# --- steady state (eq 10, App. A) -----------------------------------------------------------

STEADY = [pytest.param(system, bath, cascade, temperature, n,
                       id=f"{system}-{bath}bath-{'cascade' if cascade else 'indep'}-T={temperature}-n={n}")
          for system, bath, cascade, temperature, n in itertools.product(
              ("qubit", "oscillator"), ("qubit", "boson"), (True, False), (0.0, 0.5, 2.0), (2, 3))]


@pytest.mark.parametrize("system, bath, cascade, temperature, n", STEADY)
def test_steady_state_is_the_thermal_product(system, bath, cascade, temperature, n):
    cutoff = {2: 6, 3: 4}[n] if system == "oscillator" else None
    me = CascadeMasterEquation(system, n_systems=n, temperature=temperature, cutoff=cutoff,
                               bath=bath, cascade=cascade)
    one = states.thermal(system, temperature, cutoff)  # truncated Gibbs state for oscillators
    expected = states.product(*([one] * n))
    rho = me.steady_state()
    assert np.max(np.abs(rho - expected)) < 1e-10
    # App. A: (L1 + L2 + D12) rho_th = 0 exactly, also for the truncated operators
    assert np.max(np.abs(_apply(me, expected))) < 1e-12
    assert np.max(np.abs(me.thermal_state() - expected)) < 1e-15


# --- energy bookkeeping -----------------------------------------------------------------------

BOOKKEEPING = [
    pytest.param("qubit", 2, {"temperature": 0.5}, id="qubits-T=0.5"),
    pytest.param("qubit", 2, {"temperature": 0.0, "bath": "boson"}, id="qubits-bosonbath-T=0"),
    pytest.param("qubit", 3, {"temperature": 1.0}, id="qubits-n=3-T=1"),
    pytest.param("oscillator", 2, {"temperature": 0.7, "cutoff": 5}, id="oscillators-T=0.7"),
    pytest.param("oscillator", 2, {"temperature": 0.3, "cutoff": 4, "bath": "qubit"},
                 id="oscillators-qubitbath-T=0.3"),
]


@pytest.mark.parametrize("system, n, kw", BOOKKEEPING)
def test_fluxes_are_minus_the_energy_derivative(system, n, kw):
    """-Tr[H_i L(rho)] = local_i + correlated_i and -Tr[H L(rho)] = total, exactly."""
    me = CascadeMasterEquation(system, n_systems=n, **kw)
    rho0 = _pinched(me, _random_state(np.random.default_rng(3), me.dim))
    times = np.array([0.0, 0.3, 1.1, 2.5])
    fl = me.heat_fluxes(rho0, times)
    h_i = [me.local_hamiltonian(i).toarray() for i in range(n)]
    for k, rho in enumerate(me.evolve(rho0, times)):
        drho = _apply(me, rho)
        per = np.array([-np.trace(h @ drho).real for h in h_i])
        assert np.max(np.abs(per - fl.subsystem[:, k])) < 1e-12
        assert abs(per.sum() - fl.total[k]) < 1e-12
        assert abs(-np.trace(me.hamiltonian() @ drho).real - fl.total[k]) < 1e-12


@pytest.mark.parametrize("system, n, kw", BOOKKEEPING[:2] + BOOKKEEPING[3:4])
def test_integrated_flux_is_the_energy_released(system, n, kw):
    """int_0^t J^(c) = U(0) - U(t), Simpson on h = 2e-3 (error ~ h^4 < 1e-10)."""
    me = CascadeMasterEquation(system, n_systems=n, **kw)
    rho0 = _pinched(me, _random_state(np.random.default_rng(5), me.dim))
    t = np.linspace(0.0, 4.0, 2001)
    fl = me.heat_fluxes(rho0, t)
    q = si.simpson(fl.total, x=t)
    u = [me.energies(r).sum() for r in me.evolve(rho0, [0.0, 4.0])]
    assert abs(q - (u[0] - u[1])) < 1e-10
    # per subsystem as well
    q_i = si.simpson(fl.subsystem, x=t, axis=1)
    u_i = [me.energies(r) for r in me.evolve(rho0, [0.0, 4.0])]
    assert np.max(np.abs(q_i - (u_i[0] - u_i[1]))) < 1e-10


EQ19 = [
    pytest.param("qubit", {"temperature": 0.0}, states.correlated_qubits(0.25, -0.5),
                 id="qubits-T=0-correlated"),
    pytest.param("qubit", {"temperature": 1.0}, states.correlated_qubits(0.05, 0.3 + 0.4j),
                 id="qubits-T=1-correlated"),
    pytest.param("qubit", {"temperature": 0.5, "bath": "boson"},
                 states.product(*[states.thermal("qubit", 3.0)] * 2), id="qubits-bosonbath-thermal"),
    pytest.param("oscillator", {"temperature": 0.6, "cutoff": 5},
                 states.product(*[states.thermal("oscillator", 0.2, 5)] * 2),
                 id="oscillators-heating"),
]


def _spectral_gap(me: CascadeMasterEquation) -> float:
    """Slowest non-zero relaxation rate of the populations block."""
    ev = np.sort(np.linalg.eigvals(me.sector(0).matrix.toarray()).real)
    return -ev[-2]


@pytest.mark.parametrize("system, kw, rho0", EQ19)
def test_eq_19_correlated_heat_balances_the_local_difference(system, kw, rho0):
    """int_0^inf (J1 - J2) = int_0^inf J12 for locally symmetric starts (eq 19).

    Simpson with h <= 0.01 on [0, 32 / gap], where gap is the slowest relaxation rate
    (tail < e^-32).  Note the gap is not gamma: for qubits at T = 1 it is 0.15 gamma
    (and -> 0 as T -> inf, where the singlet decouples from the collective dissipator).
    Cross-checked with the exact integral int_0^inf e^{L t} (v0 - v_inf) dt = x, L x =
    v_inf - v0 (the flux functionals vanish on the kernel, so any solution x will do).
    """
    me = CascadeMasterEquation(system, **kw)
    gap = _spectral_gap(me)
    t_max = 32.0 / gap
    t = np.linspace(0.0, t_max, 2 * int(t_max / 0.02) + 1)
    fl = me.heat_fluxes(rho0, t)
    lhs = si.simpson(fl.J1 - fl.J2, x=t)
    rhs = si.simpson(fl.J12, x=t)
    assert abs(rhs) > 1e-3  # a non-trivial identity
    assert abs(lhs - rhs) < 1e-9
    # and the total is Q(inf) of eq 11 (same for the cascade and independent models)
    u0, u_inf = me.energies(rho0).sum(), me.energies(me.steady_state()).sum()
    assert abs(si.simpson(fl.total, x=t) - (u0 - u_inf)) < 1e-9
    assert abs(si.simpson(2 * fl.J1, x=t) - (u0 - u_inf)) < 1e-9
    # exact integrals through the resolvent
    sec = me.sector(0)
    v0 = rho0[sec.ket, sec.bra]
    v_inf = me.steady_state()[sec.ket, sec.bra]
    x = np.linalg.lstsq(sec.matrix.toarray(), v_inf - v0, rcond=None)[0]
    w_loc, w_cor = me.flux_weights()
    j1, j2, j12 = np.real(w_loc[0] @ x), np.real(w_loc[1] @ x), np.real(w_cor[1] @ x)
    assert abs((j1 - j2) - j12) < 1e-12
    assert abs(j12 - rhs) < 1e-9 and abs(j1 + j2 + j12 - (u0 - u_inf)) < 1e-12


# --- two constructions of the generator --------------------------------------------------------

GENERATORS = [
    pytest.param("qubit", 2, {"temperature": 0.6}, id="qubits-T=0.6"),
    pytest.param("qubit", 2, {"temperature": 0.6, "cascade": False}, id="qubits-indep"),
    pytest.param("qubit", 3, {"temperature": 0.0}, id="qubits-n=3-T=0"),
    pytest.param("qubit", 3, {"temperature": 1.5, "bath": "boson"}, id="qubits-n=3-bosonbath"),
    pytest.param("oscillator", 2, {"temperature": 0.5, "cutoff": 3}, id="oscillators-d=3"),
    pytest.param("oscillator", 2, {"temperature": 0.5, "cutoff": 4, "bath": "qubit"},
                 id="oscillators-d=4-qubitbath"),
    pytest.param("oscillator", 3, {"temperature": 0.0, "cutoff": 3}, id="oscillators-n=3-T=0"),
]


@pytest.mark.parametrize("system, n, kw", GENERATORS)
def test_liouvillian_equals_its_excitation_blocks(system, n, kw):
    """liouvillian() (Kronecker sums) vs sector(m).matrix (direct block assembly)."""
    me = CascadeMasterEquation(system, n_systems=n, **kw)
    d = me.dim
    full = me.liouvillian().tocsr()
    n_exc = total_excitations(me.dims)
    m_max = int(n_exc.max())
    rebuilt = sp.csr_matrix((d * d, d * d), dtype=complex)
    covered = np.zeros(d * d, dtype=int)
    for m in range(-m_max, m_max + 1):
        sec = me.sector(m)
        idx = sec.ket * d + sec.bra
        assert np.all(n_exc[sec.ket] - n_exc[sec.bra] == m)
        covered[idx] += 1
        coo = sec.matrix.tocoo()
        rebuilt = rebuilt + sp.csr_matrix((coo.data, (idx[coo.row], idx[coo.col])),
                                          shape=(d * d, d * d))
    assert np.all(covered == 1)  # the blocks partition the entries of rho
    assert abs(full - rebuilt).max() < 1e-14  # same entries, nothing outside the blocks
    # trace preservation: sum_k L[(k,k), :] = 0
    diag = np.arange(d) * (d + 1)
    assert np.max(np.abs(np.asarray(full[diag].sum(axis=0)))) < 1e-13
    # Hermiticity preservation
    rho = _random_state(np.random.default_rng(1), d)
    out = _apply(me, rho)
    assert np.max(np.abs(out - out.conj().T)) < 1e-13


def _paper_k_matrix(xi: float) -> np.ndarray:
    """The matrix printed in App. C (the paper's K up to the prefactor gamma/2).

    Rows and columns are ordered as in eq C2: (k, j) = 11, 21, 31, 41, 12, 22, ...
    (k fastest), labels 1..4 = |ee>, |eg>, |ge>, |gg>, and d rho_kj/dt =
    sum_mn K_{kj,mn} rho_mn with rho_kj = <k|rho|j>.  Transcribed row by row as
    {column: entry} (1-based, as printed).
    """
    p, q = 1 + xi, 1 - xi
    rows = {
        1: {1: -2 * p, 6: q, 7: q, 10: q, 11: q},
        2: {2: -2 - xi, 3: xi - 1, 8: q, 12: q},
        3: {2: -1 - xi, 3: -2 - xi, 8: q, 12: q},
        4: {4: -2},
        5: {5: -2 - xi, 9: xi - 1, 14: q, 15: q},
        6: {1: p, 6: -2, 7: xi - 1, 10: xi - 1, 16: q},
        7: {1: p, 6: -1 - xi, 7: -2, 11: xi - 1, 16: q},
        8: {2: p, 3: p, 8: -2 + xi, 12: xi - 1},
        9: {5: -1 - xi, 9: -2 - xi, 14: q, 15: q},
        10: {1: p, 6: -1 - xi, 10: -2, 11: xi - 1, 16: q},
        11: {1: p, 7: -1 - xi, 10: -1 - xi, 11: -2, 16: q},
        12: {2: p, 3: p, 8: -1 - xi, 12: -2 + xi},
        13: {13: -2},
        14: {5: p, 9: p, 14: -2 + xi, 15: xi - 1},
        15: {5: p, 9: p, 14: -1 - xi, 15: -2 + xi},
        16: {6: p, 7: p, 10: p, 11: p, 16: 2 * (xi - 1)},
    }
    k = np.zeros((16, 16))
    for r, entries in rows.items():
        for c, v in entries.items():
            k[r - 1, c - 1] = v
    return k


@pytest.mark.parametrize("temperature", [0.0, 0.7, 2.0], ids=lambda t: f"T={t}")
def test_paper_liouvillian_appendix_c(temperature):
    """Our dissipator, permuted to the paper's basis and ordering, is (gamma/2) x the
    printed App. C matrix, entry by entry (all 256, at three temperatures).

    Established conventions: (i) the printed matrix has no imaginary entries, so it
    omits -i[H, .] (interaction picture); we compare L - L_H.  (ii) Its prefactor is
    gamma/2: the |ee><gg| coherence entry (-2) must give eq C4's rate gamma, and row
    K_{11,*} must give eq 7's rates gamma(1 +- xi)/2 (the extracted text shows the
    prefactor as 'K / 2 gamma', which would be 4x too large).  (iii) Eq C2's ordering
    (k fastest) and its transpose (j fastest) give the same matrix, because the
    generator maps rho^dag to L(rho)^dag and has real entries here.  No typos found.
    """
    gamma = 0.8
    me = CascadeMasterEquation("qubit", gamma=gamma, temperature=temperature)
    h = me.hamiltonian().toarray()
    eye = np.eye(4)
    l_h = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    diss = me.liouvillian().toarray() - l_h
    # paper index (k, j) -> position (k-1) + 4 (j-1); paper label k is our index 4 - k
    perm = np.zeros((16, 16))
    for k, j in itertools.product(range(4), range(4)):
        perm[k + 4 * j, (3 - k) * 4 + (3 - j)] = 1.0
    ours = perm @ diss @ perm.T
    xi = np.tanh(1 / (2 * temperature)) if temperature else 1.0
    assert np.max(np.abs(ours.imag)) == 0
    assert np.max(np.abs(ours.real - gamma / 2 * _paper_k_matrix(xi))) < 1e-14
    # the ordering of eq C2 vs its transpose: identical
    swap = np.zeros((16, 16))
    for k, j in itertools.product(range(4), range(4)):
        swap[k + 4 * j, j + 4 * k] = 1.0
    assert np.array_equal(swap @ _paper_k_matrix(xi) @ swap.T, _paper_k_matrix(xi))


# --- exact propagation ---------------------------------------------------------------------------

@pytest.mark.parametrize("system, n, kw", [
    pytest.param("qubit", 2, {"temperature": 0.7}, id="qubits-n=2"),
    pytest.param("qubit", 2, {"temperature": 0.7, "cascade": False}, id="qubits-n=2-indep"),
    pytest.param("qubit", 3, {"temperature": 0.4, "gamma": 1.7, "omega": 0.6}, id="qubits-n=3"),
    pytest.param("oscillator", 2, {"temperature": 0.5, "cutoff": 4}, id="oscillators-d=4"),
])
def test_evolve_matches_dense_expm(system, n, kw):
    me = CascadeMasterEquation(system, n_systems=n, **kw)
    rho0 = _random_state(np.random.default_rng(11), me.dim)
    times = np.array([0.0, 0.4, 0.41, 1.7, 6.5])
    dense = me.liouvillian().toarray()
    out = me.evolve(rho0, times)
    for k, t in enumerate(times):
        exact = (sla.expm(dense * t) @ _vec(rho0)).reshape(me.dim, me.dim)
        assert np.max(np.abs(out[k] - exact)) < 1e-12, t


@pytest.mark.parametrize("system, kw", [
    pytest.param("qubit", {"temperature": 0.5}, id="qubits"),
    pytest.param("oscillator", {"temperature": 0.5, "cutoff": 5}, id="oscillators"),
])
def test_heat_fluxes_do_not_depend_on_the_time_grid(system, kw):
    me = CascadeMasterEquation(system, **kw)
    rho0 = _pinched(me, _random_state(np.random.default_rng(2), me.dim))
    uniform = np.linspace(0.0, 5.0, 51)
    ref = me.heat_fluxes(rho0, uniform)
    rng = np.random.default_rng(4)
    pick = np.sort(rng.choice(51, size=12, replace=False))
    subsets = [uniform[pick],                                  # irregular, starts > 0
               np.concatenate([[0.0, 0.0], uniform[pick]]),     # repeated times
               uniform[10:40]]                                 # uniform, starting > 0
    for grid in subsets:
        fl = me.heat_fluxes(rho0, grid)
        at = np.searchsorted(uniform, grid)
        for name in FIELDS:
            assert np.max(np.abs(getattr(fl, name) - getattr(ref, name)[at])) < 1e-12, name
    single = me.heat_fluxes(rho0, [uniform[37]])
    assert abs(single.total[0] - ref.total[37]) < 1e-12


# --- chains of three ---------------------------------------------------------------------------

def _trace_last(rho: np.ndarray, d: int) -> np.ndarray:
    m = rho.shape[0] // d
    return np.einsum("ikjk->ij", rho.reshape(m, d, m, d))


@pytest.mark.parametrize("system, kw", [
    pytest.param("qubit", {"temperature": 0.4}, id="qubits"),
    pytest.param("oscillator", {"temperature": 0.5, "cutoff": 3}, id="oscillators"),
])
def test_three_system_chain(system, kw):
    """S1 does not see S2, S3; S2 does not see S3 (causality); energy balance per system."""
    me3 = CascadeMasterEquation(system, n_systems=3, **kw)
    me2 = CascadeMasterEquation(system, n_systems=2, **kw)
    me1_ind = CascadeMasterEquation(system, n_systems=2, cascade=False, **kw)
    d = me3.dims[0]
    rng = np.random.default_rng(9)
    rho12 = _random_state(rng, d * d)
    rho0 = np.kron(rho12, _random_state(rng, d))
    if system == "oscillator":  # keep the test fast: the fluxes only see the m = 0 block
        rho12 = _pinched(me2, rho12)
        rho0 = _pinched(me3, rho0)
    t = np.linspace(0.0, 4.0, 17)
    f3 = me3.heat_fluxes(rho0, t)
    f2 = me2.heat_fluxes(rho12, t)
    f_single = me1_ind.heat_fluxes(rho12, t)  # S1 as if alone
    assert np.max(np.abs(f3.correlated[0])) == 0
    assert np.max(np.abs(f3.J1 - f2.J1)) < 1e-12
    assert np.max(np.abs(f3.J1 - f_single.J1)) < 1e-12
    assert np.max(np.abs(f3.subsystem[1] - f2.subsystem[1])) < 1e-12
    # paper names for n > 2: J2 = sum of downstream local parts, J12 = all correlated parts
    assert np.allclose(f3.J2, f3.local[1] + f3.local[2], atol=0)
    assert np.allclose(f3.total, f3.J1 + f3.J2 + f3.J12, atol=1e-15)
    # energy balance per subsystem, from the Liouvillian
    h = [me3.local_hamiltonian(i).toarray() for i in range(3)]
    for k, rho in enumerate(me3.evolve(rho0, t[::4])):
        drho = _apply(me3, rho)
        per = np.array([-np.trace(hi @ drho).real for hi in h])
        assert np.max(np.abs(per - f3.subsystem[:, 4 * k])) < 1e-12
    # the reduced S1-S2 state of the chain is the two-system solution
    rhos3 = me3.evolve(rho0, [1.3])
    rhos2 = me2.evolve(rho12, [1.3])
    assert np.max(np.abs(_trace_last(rhos3[0], d) - rhos2[0])) < 1e-12


def test_three_qubit_thermal_chain_first_flux_is_exponential():
    """S1's flux is the single-qubit one: omega gamma (p_e(0) - p_e(inf)) e^{-gamma t}."""
    temperature, t_s = 0.8, 3.0
    me = CascadeMasterEquation("qubit", n_systems=3, temperature=temperature)
    one = states.thermal("qubit", t_s)
    t = np.linspace(0.0, 5.0, 21)
    fl = me.heat_fluxes(states.product(one, one, one), t)
    p0 = one[1, 1].real
    p_inf = states.thermal("qubit", temperature)[1, 1].real
    assert np.max(np.abs(fl.J1 - (p0 - p_inf) * np.exp(-t))) < 1e-13
