"""lindblad.MasterEquation: the general Lindblad master equation.

Checked against references written here: the Liouvillian from the textbook
column-stacking kron formula, the optical Bloch equations (driven, damped two-level
atom), the damped harmonic oscillator's <n>(t), the cascade of lindblad.model, and
QuTiP's mesolve when QuTiP is installed.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

import lindblad
from lindblad import MasterEquation, states

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground first
SZ = np.diag([-1.0, 1.0]).astype(complex)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
P_E = np.diag([0.0, 1.0]).astype(complex)


def _rand(rng: np.random.Generator, d: int) -> np.ndarray:
    return rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))


def _random_model(seed: int, d: int, n_jumps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    g = _rand(rng, d)
    return (g + g.conj().T) / 2, [_rand(rng, d) / np.sqrt(d) for _ in range(n_jumps)]


def _random_state(seed: int, d: int) -> np.ndarray:
    g = _rand(np.random.default_rng(seed), d)
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def _reference_liouvillian(h: np.ndarray, jumps: list[np.ndarray]) -> np.ndarray:
    """Column-stacking vec_c(A rho B) = (B^T kron A) vec_c(rho), then permuted to the
    package's row-major vec(rho)[k D + l] = rho[k, l]."""
    d = h.shape[0]
    eye = np.eye(d)
    lc = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for c in jumps:
        cdc = c.conj().T @ c
        lc += np.kron(c.conj(), c) - 0.5 * np.kron(eye, cdc) - 0.5 * np.kron(cdc.T, eye)
    col = np.arange(d * d).reshape(d, d).T.ravel()  # row-major index -> column-major index
    return lc[np.ix_(col, col)]


class FakeQobj:
    """The part of qutip.Qobj the package relies on: .full() and .dims."""

    def __init__(self, matrix, dims):
        self._m = np.array(matrix)
        self.dims = [list(dims), list(dims)]

    def full(self) -> np.ndarray:
        return self._m.copy()


# --- the generator ------------------------------------------------------------------------

CASES = {  # name: (dims, number of jumps, how the operators are passed)
    "qubit-2jumps": ([2], 2, "dense"),
    "qutrit-nojumps": ([3], 0, "dense"),
    "2x3-3jumps": ([2, 3], 3, "dense"),
    "2x2x2-1jump-sparse": ([2, 2, 2], 1, "sparse"),
    "3x2-2jumps-qobj": ([3, 2], 2, "qobj"),
    "1-dim": ([1], 1, "dense"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_liouvillian_matches_column_stacking_kron_formula(name):
    dims, n_jumps, kind = CASES[name]
    d = int(np.prod(dims))
    h, jumps = _random_model(len(name), d, n_jumps)
    wrap = {"dense": lambda m: m, "sparse": sp.csr_matrix,
            "qobj": lambda m: FakeQobj(m, dims)}[kind]
    me = MasterEquation(wrap(h), [wrap(c) for c in jumps], dims=dims)
    lv = me.liouvillian()
    assert sp.isspmatrix_csr(lv) and lv.shape == (d * d, d * d)
    ref = _reference_liouvillian(h, jumps)
    assert np.max(np.abs(lv.toarray() - ref)) <= 1e-12 * max(1.0, np.max(np.abs(ref)))
    assert me.dims == tuple(dims)
    np.testing.assert_array_equal(me.hamiltonian, h)  # complex entries kept exactly


def test_trace_preserving_and_row_major_action():
    """L^dag vec(I) = 0, and L vec(rho) is the right-hand side of the master equation."""
    h, jumps = _random_model(7, 4, 2)
    lv = MasterEquation(h, jumps).liouvillian()
    eye = np.eye(4).reshape(-1)
    assert np.max(np.abs(lv.conj().T @ eye)) < 1e-13
    rho = _random_state(8, 4)
    rhs = -1j * (h @ rho - rho @ h)
    for c in jumps:
        cdc = c.conj().T @ c
        rhs += c @ rho @ c.conj().T - 0.5 * (cdc @ rho + rho @ cdc)
    np.testing.assert_allclose((lv @ rho.reshape(-1)).reshape(4, 4), rhs, atol=1e-13)


# --- closed forms -------------------------------------------------------------------------

def _two_level(omega_r: float, delta: float, gamma: float) -> MasterEquation:
    """Rotating-frame two-level atom: H = delta/2 sigma_z + omega_r/2 sigma_x, decay gamma."""
    return MasterEquation(delta / 2 * SZ + omega_r / 2 * SX, [np.sqrt(gamma) * SM])


@pytest.mark.parametrize("omega_r, delta, gamma", [(1.0, 0.0, 1.0), (2.5, 0.7, 0.4),
                                                   (0.3, -1.2, 2.0)],
                         ids=["resonant", "detuned-strong", "detuned-weak"])
@pytest.mark.parametrize("path", ["svd", "sparse"])
def test_optical_bloch_steady_state(omega_r, delta, gamma, path, monkeypatch):
    """rho_ee = (W^2/4) / (delta^2 + gamma^2/4 + W^2/2) and
    <sigma_-> = i (W/2) <sigma_z> / (gamma/2 + i delta)."""
    if path == "sparse":
        monkeypatch.setattr(lindblad.master, "STEADY_DENSE_MAX", 0)
    rho = _two_level(omega_r, delta, gamma).steady_state()
    p_e = (omega_r**2 / 4) / (delta**2 + gamma**2 / 4 + omega_r**2 / 2)
    coherence = 0.5j * omega_r * (2 * p_e - 1) / (gamma / 2 + 1j * delta)
    assert abs(rho[1, 1] - p_e) < 1e-10
    assert abs(rho[1, 0] - coherence) < 1e-10  # <sigma_-> = Tr[rho sigma_-] = rho_eg
    assert abs(np.trace(rho) - 1) < 1e-12


@pytest.mark.parametrize("omega_r, gamma", [(1.0, 0.5), (3.0, 1.0)], ids=["W1-g0.5", "W3-g1"])
def test_damped_rabi_oscillation(omega_r, gamma):
    """Resonant drive from the ground state (Torrey): rho_ee(t) = W^2/(gamma^2 + 2W^2)
    [1 - e^{-3 gamma t/4} (cos mu t + 3 gamma/(4 mu) sin mu t)], mu^2 = W^2 - gamma^2/16."""
    t = np.linspace(0.0, 12.0, 97)
    psi_g = np.array([1.0, 0.0])
    p_e = _two_level(omega_r, 0.0, gamma).expect([P_E], psi_g, t)[0]
    mu = np.sqrt(omega_r**2 - gamma**2 / 16)
    exact = omega_r**2 / (gamma**2 + 2 * omega_r**2) * (
        1 - np.exp(-0.75 * gamma * t) * (np.cos(mu * t) + 0.75 * gamma / mu * np.sin(mu * t)))
    assert p_e.dtype == float
    assert np.max(np.abs(p_e - exact)) < 1e-10


@pytest.mark.parametrize("n0, occupation", [(2, 0.0), (1, 0.3), (3, 0.15)],
                         ids=["fock2-T0", "fock1-N0.3", "fock3-N0.15"])
def test_damped_oscillator_occupation(n0, occupation):
    """<n>(t) = n0 e^{-gamma t} + N (1 - e^{-gamma t}) for gamma (N+1) L[a] + gamma N L[a^dag],
    and the steady state is the Gibbs state with ratio N/(N+1) (exact also when truncated:
    detailed balance of the birth-death chain).

    Cutoff 40 (D^2 = 1600: the expm_multiply path and the sparse steady-state path): from a
    Fock state the occupations stay below a geometric tail of ratio N/(N+1) <= 0.23 beyond
    n0, so the top level holds < 1e-23 and the truncation error is far below the 1e-10
    tolerance.
    """
    cutoff, gamma = 40, 0.7
    a = np.diag(np.sqrt(np.arange(1, cutoff)), 1).astype(complex)
    number = a.conj().T @ a
    jumps = [np.sqrt(gamma * (occupation + 1)) * a, np.sqrt(gamma * occupation) * a.conj().T]
    me = MasterEquation(1.3 * number, jumps)
    t = np.linspace(0.0, 6.0, 31)
    rho0 = np.zeros((cutoff, cutoff))
    rho0[n0, n0] = 1.0
    n_t = me.expect({"n": number}, rho0, t)["n"]
    decay = np.exp(-gamma * t)
    assert np.max(np.abs(n_t - (n0 * decay + occupation * (1 - decay)))) < 1e-10
    gibbs = states.thermal("oscillator", lindblad.temperature_from_occupation(occupation),
                           cutoff, omega=1.0)
    assert np.max(np.abs(me.steady_state() - gibbs)) < 1e-12


# --- propagation --------------------------------------------------------------------------

@pytest.mark.parametrize("grid", ["uniform", "nonuniform"])
def test_dense_and_expm_multiply_paths_agree(grid, monkeypatch):
    h, jumps = _random_model(11, 6, 3)  # D^2 = 36: dense propagators by default
    me = MasterEquation(h, jumps, dims=[2, 3])
    rho0 = _random_state(12, 6)
    t = np.linspace(0.0, 3.0, 13) if grid == "uniform" else np.array([0.2, 0.5, 0.5, 1.7, 3.0])
    dense = me.evolve(rho0, t)
    monkeypatch.setattr(lindblad._propagate, "DENSE_SECTOR_MAX", 0)
    krylov = me.evolve(rho0, t)
    assert np.max(np.abs(dense - krylov)) < 1e-12  # measured 3e-16
    if grid == "uniform":
        np.testing.assert_array_equal(dense[0], rho0)  # t = 0 is rho0 itself
    else:
        np.testing.assert_array_equal(dense[1], dense[2])  # a repeated time
    assert np.max(np.abs(np.trace(dense, axis1=1, axis2=2) - 1)) < 1e-12


def test_state_vector_and_density_matrix_give_the_same_evolution():
    h, jumps = _random_model(21, 4, 1)
    me = MasterEquation(h, jumps)
    psi = _rand(np.random.default_rng(22), 4)[:, 0]
    psi /= np.linalg.norm(psi)
    t = [0.0, 0.4, 1.0]
    expected = me.evolve(np.outer(psi, psi.conj()), t)
    for form in (psi, psi[:, None], FakeQobj(psi[:, None], [4])):
        np.testing.assert_array_equal(me.evolve(form, t), expected)


def test_expect_follows_qutip_conventions():
    h, jumps = _random_model(31, 3, 2)
    me = MasterEquation(h, jumps)
    rho0, t = _random_state(32, 3), np.linspace(0, 2, 5)
    herm, _ = _random_model(33, 3, 0)
    lower = np.diag([1.0, np.sqrt(2)], 1)
    rhos = me.evolve(rho0, t)
    exact = [np.array([np.trace(r @ op) for r in rhos]) for op in (herm, lower)]
    as_list = me.expect([herm, sp.csr_matrix(lower)], rho0, t)
    as_dict = me.expect({"h": herm, "a": lower}, rho0, t)
    assert isinstance(as_list, list) and list(as_dict) == ["h", "a"]
    assert as_list[0].dtype == float and np.iscomplexobj(as_list[1])
    for got in (as_list, [as_dict["h"], as_dict["a"]]):
        for value, ref in zip(got, exact, strict=True):
            assert np.max(np.abs(value - ref)) < 1e-13


# --- steady state -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["svd", "sparse"])
@pytest.mark.parametrize("seed, dims", [(41, [2]), (42, [2, 3]), (43, [3, 3])],
                         ids=["2", "2x3", "3x3"])
def test_steady_state_is_the_null_vector_and_the_long_time_limit(seed, dims, path,
                                                                    monkeypatch):
    if path == "sparse":
        monkeypatch.setattr(lindblad.master, "STEADY_DENSE_MAX", 0)
    d = int(np.prod(dims))
    h, jumps = _random_model(seed, d, 2)
    me = MasterEquation(h, jumps, dims=dims)
    rho = me.steady_state()
    lv = me.liouvillian()
    scale = abs(lv).sum(axis=1).max()
    assert np.linalg.norm(lv @ rho.reshape(-1)) < 1e-12 * scale
    states.validate_density_matrix(rho, d)  # Hermitian, PSD, unit trace
    late = me.evolve(_random_state(seed + 100, d), np.linspace(0.0, 40.0, 5))[-1]
    assert np.max(np.abs(late - rho)) < 1e-10


@pytest.mark.parametrize("path", ["svd", "sparse"])
@pytest.mark.parametrize("case", ["unitary", "dephasing", "decoupled-qubit", "zero"])
def test_degenerate_steady_state_is_refused(case, path, monkeypatch):
    if path == "sparse":
        monkeypatch.setattr(lindblad.master, "STEADY_DENSE_MAX", 0)
    h = np.kron(SZ, np.eye(2)) + 0.5 * np.kron(SX, SX)
    me = {"unitary": MasterEquation(h, []),
          "dephasing": MasterEquation(SZ, [SZ]),
          "decoupled-qubit": MasterEquation(np.kron(SZ, SZ), [np.kron(SM, np.eye(2))]),
          "zero": MasterEquation(np.zeros((2, 2)), [])}[case]
    with pytest.raises(ValueError, match="not unique"):
        me.steady_state()


@pytest.mark.parametrize("path", ["svd", "sparse"])
def test_slow_but_unique_relaxation_is_accepted(path, monkeypatch):
    """A decay 1e-5 times the Hamiltonian's scale: the gap is ~1e-5 ||L||, far above the
    1e-9 ||L|| of a degenerate kernel, so the (Gibbs-like) ground state is returned."""
    if path == "sparse":
        monkeypatch.setattr(lindblad.master, "STEADY_DENSE_MAX", 0)
    rho = MasterEquation(SZ / 2, [np.sqrt(1e-5) * SM]).steady_state()
    assert np.max(np.abs(rho - np.diag([1.0, 0.0]))) < 1e-12


# --- the cascade as one instance ----------------------------------------------------------

CASCADES = [(s, n, t, c, b) for s in ("qubit", "oscillator") for n in (2, 3)
            for t in (0.0, 0.8) for c in (True, False)
            for b in ((None, "boson") if s == "qubit" else (None, "qubit"))]


@pytest.mark.parametrize("system, n, temperature, cascade, bath", CASCADES,
                         ids=[f"{s}-n{n}-T{t}-{'cascade' if c else 'independent'}-{b or 'default'}"
                              for s, n, t, c, b in CASCADES])
def test_cascade_lindblad_form_has_the_cascade_liouvillian(system, n, temperature, cascade,
                                                            bath):
    cme = lindblad.CascadeMasterEquation(system, n, gamma=1.3, omega=0.8,
                                         temperature=temperature,
                                         cutoff=None if system == "qubit" else 5 - n,
                                         cascade=cascade, bath=bath)
    me = cme.to_master_equation()
    ref = cme.liouvillian()
    assert me.dims == cme.dims
    assert abs(me.liouvillian() - ref).max() <= 1e-12 * abs(ref).max()


def test_cascade_lindblad_form_steady_state_and_phases():
    """The general form's steady state is the cascade's product of thermal states, and with
    propagation phases it generates the cascade's evolve()."""
    cme = lindblad.CascadeMasterEquation("qubit", 3, temperature=0.9, phase=[0.4, -1.1])
    me = cme.to_master_equation()
    assert np.max(np.abs(me.steady_state() - cme.thermal_state())) < 1e-12
    rho0 = _random_state(51, 8)
    t = np.linspace(0, 2, 5)
    assert np.max(np.abs(me.evolve(rho0, t) - cme.evolve(rho0, t))) < 1e-12


def test_cascade_with_delay_has_no_lindblad_form():
    with pytest.raises(ValueError, match="delay"):
        lindblad.CascadeMasterEquation("qubit", 2, delay=0.5).to_master_equation()


# --- QuTiP -----------------------------------------------------------------------------

def test_from_qutip_duck_typing():
    h, jumps = _random_model(61, 4, 2)
    me = MasterEquation.from_qutip(FakeQobj(h, [2, 2]), [FakeQobj(c, [2, 2]) for c in jumps])
    assert me.dims == (2, 2)
    np.testing.assert_array_equal(me.liouvillian().toarray(),
                                  MasterEquation(h, jumps).liouvillian().toarray())
    assert repr(me) == "MasterEquation(dims=[2, 2], 2 jump operators)"


def test_to_qutip_without_qutip_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "qutip", None)  # makes "import qutip" fail
    with pytest.raises(ImportError, match="needs QuTiP"):
        MasterEquation(SZ, []).to_qutip()


def test_to_qutip_runs_in_mesolve():
    qutip = pytest.importorskip("qutip")
    h, jumps = _random_model(71, 4, 2)
    me = MasterEquation(h, jumps, dims=[2, 2])
    qh, c_ops = me.to_qutip()
    assert qh.dims == [[2, 2], [2, 2]] and len(c_ops) == 2
    rho0, t = _random_state(72, 4), np.linspace(0, 1, 6)
    opts = {"atol": 1e-12, "rtol": 1e-10}
    result = qutip.mesolve(qh, qutip.Qobj(rho0, dims=qh.dims), t, c_ops, options=opts)
    ours = me.evolve(rho0, t)
    # mesolve integrates with an adaptive ODE solver at the tolerances above
    assert max(np.max(np.abs(s.full() - r)) for s, r in zip(result.states, ours, strict=True)) \
        < 1e-8
    again = MasterEquation.from_qutip(qh, c_ops)
    assert again.dims == (2, 2)
    assert abs(again.liouvillian() - me.liouvillian()).max() == 0


# --- validation ---------------------------------------------------------------------------

GOOD_H = np.diag([0.0, 1.0])
BAD_MODELS = {
    "h-not-square": (lambda: MasterEquation(np.zeros((2, 3)), []), "hamiltonian.*square"),
    "h-vector": (lambda: MasterEquation(np.zeros(3), []), "hamiltonian.*square"),
    "h-not-hermitian": (lambda: MasterEquation(SM, []), "hamiltonian is not Hermitian"),
    "h-nan": (lambda: MasterEquation(np.array([[np.nan, 0], [0, 1]]), []),
              "hamiltonian has non-finite"),
    "h-string": (lambda: MasterEquation("H", []), "hamiltonian must be numeric"),
    "h-bool-sparse": (lambda: MasterEquation(sp.identity(2, dtype=bool), []),
                      "hamiltonian must be numeric"),
    "jump-wrong-dimension": (lambda: MasterEquation(GOOD_H, [np.eye(3)]),
                             r"jump_operators\[0\] has shape \(3, 3\)"),
    "jump-inf": (lambda: MasterEquation(GOOD_H, [SM, np.array([[np.inf, 0], [0, 0]])]),
                 r"jump_operators\[1\] has non-finite"),
    "jump-single-matrix": (lambda: MasterEquation(GOOD_H, SM), "put a single jump operator"),
    "jump-none": (lambda: MasterEquation(GOOD_H, None), "jump_operators must be a list"),
    "dims-product": (lambda: MasterEquation(np.eye(4), [], dims=[2, 3]), "product is D = 4"),
    "dims-scalar": (lambda: MasterEquation(np.eye(4), [], dims=4), "dims must be a list"),
    "dims-zero": (lambda: MasterEquation(np.eye(4), [], dims=[4, 0]), r"dims\[1\]"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_bad_model_raises(case):
    build, message = BAD_MODELS[case]
    with pytest.raises(ValueError, match=message):
        build()


QUBIT = MasterEquation(SZ / 2, [SM])
BAD_CALLS = {
    "rho0-trace-2": (lambda: QUBIT.evolve(2 * P_E, [1.0]), "unit trace"),
    "rho0-not-psd": (lambda: QUBIT.evolve(np.diag([1.5, -0.5]), [1.0]), "positive"),
    "rho0-not-hermitian": (lambda: QUBIT.evolve(np.array([[0.5, 0.5], [0, 0.5]]), [1.0]),
                           "Hermitian"),
    "rho0-wrong-dimension": (lambda: QUBIT.evolve(np.eye(3) / 3, [1.0]), "dimension"),
    "psi-not-normalised": (lambda: QUBIT.evolve(np.array([1.0, 1.0]), [1.0]), "norm"),
    "psi-wrong-length": (lambda: QUBIT.evolve(np.array([1.0, 0, 0]), [1.0]), "length 3"),
    "times-negative": (lambda: QUBIT.evolve(P_E, [-1.0, 1.0]), "times must be finite and >= 0"),
    "times-unsorted": (lambda: QUBIT.evolve(P_E, [1.0, 0.5]), "sorted"),
    "times-complex": (lambda: QUBIT.evolve(P_E, [1j]), "complex"),
    "operators-single-matrix": (lambda: QUBIT.expect(SZ, P_E, [1.0]), "put a single operator"),
    "operator-wrong-shape": (lambda: QUBIT.expect({"x": np.eye(3)}, P_E, [1.0]),
                             r"operators\['x'\] has shape"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_call_raises(case):
    call, message = BAD_CALLS[case]
    with pytest.raises(ValueError, match=message):
        call()
