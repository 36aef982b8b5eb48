"""Bad input to the lindblad layer raises a ValueError naming the parameter.

Rules under test (lindblad/_validate.py): real parameters reject complex numbers (even
with a zero imaginary part), bools, strings, None and arrays; integer parameters accept
integral floats (2.0) but not bools; flags accept only True/False; matrices accept
array-likes, QuTiP Qobj (``.full()``) and scipy sparse matrices; physical checks use
tolerances relative to the matrix scale.  The collision models inherit the parameter
checks from CascadeSpec, so a few cases go through them too.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from lindblad import closed_form as cf
from lindblad import correlations as cr
from lindblad import states, thermal
from lindblad.gaussian import GaussianMasterEquation, to_lab_frame
from lindblad.model import (
    MAX_N_SYSTEMS,
    MAX_RELAXATION_TIMES,
    CascadeMasterEquation,
    check_times,
)
from lindblad.operators import MAX_DIMENSION, local_dimension, paper_qubit_order

QUBITS = CascadeMasterEquation("qubit")
RHO_2Q = states.product(states.thermal("qubit", 1.0), states.thermal("qubit", 1.0))
VAC = np.eye(4) / 2  # two-mode vacuum covariance


class QobjLike:
    """Stand-in for qutip.Qobj (not installed here): only ``.full()`` matters."""

    def __init__(self, arr):
        self._arr = np.asarray(arr, dtype=complex)

    def full(self) -> np.ndarray:
        return self._arr.copy()


def tmsv(r: float) -> np.ndarray:
    """Two-mode squeezed vacuum: pure, both symplectic eigenvalues exactly 1/2."""
    c, s = np.cosh(2 * r) / 2, np.sinh(2 * r) / 2
    return np.array([[c, 0, s, 0], [0, c, 0, -s], [s, 0, c, 0], [0, -s, 0, c]])


# --- real scalar parameters ---------------------------------------------------------------

# (id, call taking the value, parameter name as it appears in the message)
REAL_PARAMETERS = [
    ("bose_occupation-T", lambda v: thermal.bose_occupation(v), "temperature"),
    ("bose_occupation-omega", lambda v: thermal.bose_occupation(1.0, v), "omega"),
    ("bath_rates-gamma", lambda v: thermal.bath_rates("boson", v, 1.0), "gamma"),
    ("T_from_occupation-n", lambda v: thermal.temperature_from_occupation(v), "n"),
    ("thermal-T", lambda v: states.thermal("qubit", v), "temperature"),
    ("thermal-osc-omega", lambda v: states.thermal("oscillator", 1.0, 4, omega=v), "omega"),
    ("correlated_qubits-xi_s", lambda v: states.correlated_qubits(v, 0.0), "xi_s"),
    ("gaussian_thermal-n_s", lambda v: states.gaussian_thermal(v), "n_s"),
    ("gaussian_correlated-c13", lambda v: states.gaussian_correlated(1.0, v, 0.0), "c13"),
    ("gaussian_correlated-c24", lambda v: states.gaussian_correlated(1.0, 0.0, v), "c24"),
    ("CME-gamma", lambda v: CascadeMasterEquation("qubit", gamma=v), "gamma"),
    ("CME-omega", lambda v: CascadeMasterEquation("qubit", omega=v), "omega"),
    ("CME-temperature", lambda v: CascadeMasterEquation("qubit", temperature=v), "temperature"),
    ("GME-temperature", lambda v: GaussianMasterEquation(temperature=v), "temperature"),
    ("closed_form-n_s", lambda v: cf.oscillator_j1(1.0, v), "n_s"),
    ("closed_form-gamma", lambda v: cf.qubit_j1(1.0, 0.5, gamma=v), "gamma"),
    ("entropy-base", lambda v: cr.von_neumann_entropy(np.eye(2) / 2, v), "base"),
    ("tdd-flux-gamma", lambda v: cr.correlated_heat_flux_from_tdd(np.eye(4) / 4, 0.5, v),
     "gamma"),
]

NOT_REAL = [
    (np.complex128(0.5 + 2j), r"must be a real number.*imaginary part would be dropped"),
    (0.5 + 2j, r"must be a real number.*imaginary part would be dropped"),
    (np.complex128(0.5 + 0j), r"must be a real number.*imaginary part would be dropped"),
    ("0.5", r"must be a real number.*a string"),
    ("abc", r"must be a real number.*a string"),
    (None, r"must be a real number.*got None"),
    (True, r"must be a real number.*a bool"),
    (np.array([0.5]), r"must be a real number.*an array of shape \(1,\)"),
    ([0.5], r"must be a real number.*of type list"),
]
NOT_REAL_IDS = ["np.complex128", "complex", "complex-zero-imag", "str-number", "str", "None",
                "bool", "array-1", "list-1"]


@pytest.mark.parametrize("call, name", [pytest.param(c, n, id=i) for i, c, n in REAL_PARAMETERS])
@pytest.mark.parametrize("value, match", NOT_REAL, ids=NOT_REAL_IDS)
def test_real_parameters_reject_non_real_values(call, name, value, match):
    with pytest.raises(ValueError, match=re.escape(name) + " " + match):
        call(value)


@pytest.mark.parametrize("call, name", [pytest.param(c, n, id=i) for i, c, n in REAL_PARAMETERS])
@pytest.mark.parametrize("value", [np.float32(0.5), np.array(0.5), Fraction(1, 2)],
                         ids=["float32", "0-d-array", "Fraction"])
def test_real_parameters_accept_numpy_and_fractions(call, name, value):
    """0.5 in any real type gives exactly the result of the Python float 0.5."""
    expected, got = call(0.5), call(value)
    if isinstance(expected, (CascadeMasterEquation, GaussianMasterEquation)):
        expected, got = expected.parameters, got.parameters
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


@pytest.mark.parametrize("call, match", [
    (lambda: states.thermal("oscillator", 1.0, 4, omega=-1.0), "omega must be a finite number > 0"),
    (lambda: states.thermal("oscillator", 0.0, 4, omega=0.0), "omega must be a finite number > 0"),
    (lambda: thermal.thermal_populations("oscillator", 1.0, np.nan, 4), "omega must be a finite"),
    (lambda: states.correlated_qubits(np.nan, 0.0), r"xi_s must lie in \[0, 1\], got nan"),
    (lambda: states.correlated_qubits(0.5, np.nan), "rho23 must be finite"),
    (lambda: states.correlated_qubits(0.5, complex(0, np.inf)), "rho23 must be finite"),
    (lambda: states.correlated_qubits(0.5, "0.1"), r"rho23 must be a \(complex\) number"),
    (lambda: states.correlated_qubits(0.5, True), r"rho23 must be a \(complex\) number"),
    (lambda: CascadeMasterEquation("qubit", temperature=np.inf), "temperature must be a finite"),
    (lambda: thermal.temperature_from_polarisation(0.0), r"xi must lie in \(0, 1\]"),
    (lambda: cr.von_neumann_entropy(np.eye(2) / 2, 1.0), "base must be a positive number != 1"),
], ids=["thermal-omega<0", "thermal-omega=0-at-T=0", "populations-omega-nan", "xi_s-nan",
        "rho23-nan", "rho23-inf-imag", "rho23-str", "rho23-bool", "T-inf", "xi=0", "base=1"])
def test_range_violations(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rho23_keeps_its_imaginary_part():
    rho23 = 0.1 - 0.2j
    for value in (rho23, np.complex64(rho23), np.array(rho23)):
        rho = states.correlated_qubits(0.5, value)
        assert rho[2, 1] == pytest.approx(rho23 / 4, abs=1e-8)  # complex64 holds ~7 digits
        assert rho[1, 2] == np.conj(rho[2, 1])


# --- flags, choices, integers -----------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda v: CascadeMasterEquation("qubit", cascade=v),
    lambda v: GaussianMasterEquation(cascade=v),
    lambda v: cf.oscillator_fluxes([0.0, 1.0], 1.0, cascade=v),
    lambda v: cf.qubit_fluxes([0.0, 1.0], 0.5, cascade=v),
], ids=["CME", "GME", "closed-form-oscillator", "closed-form-qubit"])
@pytest.mark.parametrize("value", ["no", 0.5, None, 0, 1, []],
                         ids=["str-no", "float", "None", "int-0", "int-1", "list"])
def test_cascade_must_be_a_bool(make, value):
    with pytest.raises(ValueError, match="cascade must be True or False"):
        make(value)


def test_cascade_accepts_numpy_bool():
    assert CascadeMasterEquation("qubit", cascade=np.bool_(False)).cascade is False
    with pytest.raises(ValueError, match="paper_units must be True or False"):
        cf.qubit_j1(1.0, 0.5, paper_units="yes")


@pytest.mark.parametrize("value, match", [
    ("oscillator", "'oscillator' \\(a string\\)"), ("2", "'2'"), (2.5, "2.5"),
    (True, "True \\(a bool"), (np.nan, "nan"), (np.inf, "inf"), (2 + 0j, "\\(2\\+0j\\) \\(complex"),
    (None, "None"), ([2], r"\[2\]"), (1, "1$"),
], ids=["system-name", "str", "fraction", "bool", "nan", "inf", "complex", "None", "list", "1"])
def test_n_systems_must_be_an_integer(value, match):
    with pytest.raises(ValueError, match=r"n_systems must be an integer >= 2 .*got " + match):
        CascadeMasterEquation("qubit", n_systems=value)


@pytest.mark.parametrize("cls_name", ["GaussianMasterEquation", "GaussianCollisionModel"])
def test_system_name_passed_as_n_systems_is_explained(cls_name):
    import collision
    import lindblad

    cls = getattr(lindblad, cls_name, None) or getattr(collision, cls_name)
    with pytest.raises(ValueError) as err:
        cls("oscillator")
    msg = str(err.value)
    assert msg.startswith("n_systems must be an integer >= 2") and "'oscillator'" in msg
    assert f"{cls_name} takes no system argument" in msg


def test_integral_floats_are_integers():
    me = CascadeMasterEquation("oscillator", n_systems=2.0, cutoff=np.float64(3.0))
    assert me.n_systems == 2 and type(me.n_systems) is int and me.cutoff == 3
    assert states.gaussian_thermal(0.5, 3.0).shape == (6, 6)


@pytest.mark.parametrize("call, match", [
    (lambda: CascadeMasterEquation("oscillator", cutoff=True), "cutoff must be an integer >= 2"),
    (lambda: CascadeMasterEquation("oscillator", cutoff="4"), "cutoff must be an integer >= 2"),
    (lambda: CascadeMasterEquation("oscillator", cutoff=np.nan), "cutoff must be an integer"),
    (lambda: local_dimension("qubit", True), "a qubit has dimension 2"),
    (lambda: CascadeMasterEquation("qubit", n_systems=13),
     r"D = 2\*\*13 = 8192.*handles D <= 4096.*at most 12 qubits"),
    (lambda: CascadeMasterEquation("qubit", n_systems=1000), r"D = 2\*\*1000 = ~1e301"),
    (lambda: CascadeMasterEquation("oscillator", cutoff=10**6),
     "2 oscillators need cutoff <= 64"),
    (lambda: CascadeMasterEquation("oscillator", n_systems=3, cutoff=20),
     "3 oscillators need cutoff <= 16, or at most 2 oscillators with cutoff = 20"),
    (lambda: GaussianMasterEquation(MAX_N_SYSTEMS + 1), f"n_systems must be <= {MAX_N_SYSTEMS}"),
    (lambda: states.thermal("oscillator", 1.0, MAX_DIMENSION + 1), "cutoff = 4097 exceeds"),
    (lambda: states.gaussian_thermal(1.0, 10**12), r"n_systems = 10\*\*12|GiB"),
    (lambda: paper_qubit_order(0), "n_systems must be an integer >= 1"),
    (lambda: CascadeMasterEquation("qubit", bath=1), r"bath must be one of \('qubit', 'boson'\)"),
    (lambda: CascadeMasterEquation("qubit", bath=np.array(["qubit"])), "bath must be one of"),
    (lambda: CascadeMasterEquation(["qubit"]), "system must be one of"),
    (lambda: thermal.bath_rates(None, 1.0, 1.0), "bath must be one of"),
], ids=["cutoff-bool", "cutoff-str", "cutoff-nan", "qubit-cutoff-bool", "13-qubits",
        "1000-qubits", "cutoff-1e6", "3-osc-cutoff-20", "gaussian-too-long",
        "thermal-cutoff-huge", "gaussian_thermal-huge", "paper_order-0", "bath-int",
        "bath-array", "system-list", "bath_rates-None"])
def test_integers_sizes_and_choices(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_subsystem_index():
    np.testing.assert_array_equal(QUBITS.lowering_operator(-1).toarray(),
                                  QUBITS.lowering_operator(1).toarray())
    for bad in (2, -3, 0.5, "0"):
        with pytest.raises(ValueError, match=r"i must be an integer >= -2 and < 2"):
            QUBITS.local_hamiltonian(bad)


# --- matrices ----------------------------------------------------------------------------------

NOT_MATRICES = [
    (np.zeros((0, 0)), "shape \\(0, 0\\)"),
    ([[1.0], [0.0, 0.0]], "could not be read as a rectangular array"),
    (np.array([[0.5, None], [None, 0.5]], dtype=object), "must be numeric.*dtype object"),
    ("abc", "must be numeric.*'abc' \\(a string\\)"),
    (None, "must be numeric.*got None"),
    (np.eye(2, dtype=bool), "must be numeric.*dtype bool"),
    (np.ones((2, 2, 2)) / 2, "shape \\(2, 2, 2\\)"),
]
NOT_MATRIX_IDS = ["0x0", "ragged", "object", "str", "None", "bool", "3-d"]


@pytest.mark.parametrize("value, match", NOT_MATRICES, ids=NOT_MATRIX_IDS)
@pytest.mark.parametrize("check, name", [
    (lambda v: states.validate_density_matrix(v), "rho"),
    (lambda v: QUBITS.heat_fluxes(v, [0.0, 1.0]), "rho0"),
    (lambda v: states.validate_covariance(v), "covariance matrix"),
    (lambda v: GaussianMasterEquation().evolve(v, [0.0]), "cov0"),
    (lambda v: cr.concurrence(v), "rho"),
    (lambda v: cr.gaussian_discord(v), "covariance matrix"),
], ids=["density", "CME-rho0", "covariance", "GME-cov0", "concurrence", "gaussian-discord"])
def test_non_matrices_are_rejected_by_name(check, name, value, match):
    with pytest.raises(ValueError, match=re.escape(name) + " .*" + match):
        check(value)


@pytest.mark.parametrize("convert", [QobjLike, sp.csr_matrix, lambda a: a.tolist()],
                         ids=["Qobj", "sparse", "list"])
def test_qobj_and_sparse_inputs_are_converted(convert):
    np.testing.assert_array_equal(states.validate_density_matrix(convert(RHO_2Q)), RHO_2Q)
    np.testing.assert_array_equal(states.validate_covariance(convert(tmsv(0.3))), tmsv(0.3))
    t = [0.0, 0.5]
    np.testing.assert_array_equal(QUBITS.evolve(convert(RHO_2Q), t), QUBITS.evolve(RHO_2Q, t))
    g = GaussianMasterEquation()
    np.testing.assert_array_equal(g.evolve(convert(VAC), t), g.evolve(VAC, t))
    assert cr.concurrence(convert(RHO_2Q)) == cr.concurrence(RHO_2Q)
    np.testing.assert_array_equal(states.product(convert(np.eye(2) / 2), np.eye(2) / 2),
                                  np.eye(4) / 4)


def test_density_tolerances_are_relative_and_positivity_is_checked():
    # a pure state of dimension 512: rounding in the outer product and eigvalsh only
    v = np.exp(0.37j * np.arange(512)) / np.sqrt(512)
    states.validate_density_matrix(np.outer(v, v.conj()))
    with pytest.raises(ValueError, match=r"lowest eigenvalue -1e-06 < -tolerance = -1e-10"):
        states.validate_density_matrix(np.diag([1.0 + 1e-6, -1e-6]))
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        states.validate_density_matrix(RHO_2Q, atol=-1.0)


# --- the uncertainty principle (eq D2) and eqs D4/D5 on their boundary -------------------------

BOUNDARY_STATES = [
    ("vacuum", VAC),
    ("tmsv-r=1", tmsv(1.0)),
    ("tmsv-r=5", tmsv(5.0)),        # C_ij up to 5.5e3: eigensolver error ~1e-12 x scale
    ("D5-Ns=1/3", states.gaussian_thermal(1 / 3) + np.diag([1 / 3, 1 / 3], 2)
     + np.diag([1 / 3, 1 / 3], -2)),
    ("D5-Ns=1e6", states.gaussian_thermal(1e6) + 1e6 * (np.eye(4, k=2) + np.eye(4, k=-2))),
]


@pytest.mark.parametrize("cov", [c for _, c in BOUNDARY_STATES],
                         ids=[i for i, _ in BOUNDARY_STATES])
def test_states_on_and_inside_the_boundary_are_accepted(cov):
    """Exactly on the boundary (nu_min = 1/2 in exact arithmetic) and 1e-9 inside."""
    states.validate_covariance(cov)
    states.validate_covariance(cov + 1e-9 * np.eye(4))


OUTSIDE = [BOUNDARY_STATES[i] for i in (0, 1, 3)]


@pytest.mark.parametrize("cov", [c for _, c in OUTSIDE], ids=[i for i, _ in OUTSIDE])
def test_states_outside_the_boundary_quote_their_deficit(cov):
    """Boundary states shrunk by 1e-6 have nu_min = (1 - 1e-6)/2: the message gives the
    deficit 1/2 - nu_min = 5e-7 and the negative eigenvalue of C + i Omega/2 consistently."""
    with pytest.raises(ValueError) as err:
        states.validate_covariance((1 - 1e-6) * cov)
    msg = str(err.value)
    assert "uncertainty principle" in msg and "negative eigenvalue -" in msg
    deficit = float(re.search(r"1/2 - nu_min = (\S+)", msg).group(1))
    assert deficit == pytest.approx(5e-7, rel=1e-3)


def test_uncertainty_tolerance_is_a_distance_in_matrix_norm():
    """The criterion is the lowest eigenvalue mu of C + i Omega/2 (computed to ~1e-16 x
    scale), not nu_min (computed to ~1e-16 x cond(C), ill-conditioned for squeezed
    states).  Shrinking a two-mode squeezed vacuum (r = 5, scale 5.5e3) by s gives, in the
    modes (X1 +- X2)/sqrt2, 2x2 blocks [[(1-s) e^2r/2, i/2], [-i/2, (1-s) e^-2r/2]], so
    mu = -s (2 - s) / (2 ((1-s) cosh 2r + sqrt((1-s)^2 sinh^2 2r + 1))): s = 1e-6 is
    ~5e-11 in matrix norm from a physical state, within atol x scale = 5.5e-7, and
    accepted; s = 0.1 (mu = -4.8e-6) is not."""
    cov = tmsv(5.0)
    sigma = 0.5j * np.kron(np.eye(2), [[0, 1], [-1, 0]])
    for s, accepted in ((1e-6, True), (0.1, False)):
        mu = np.linalg.eigvalsh((1 - s) * cov + sigma)[0]
        exact = -s * (2 - s) / (2 * ((1 - s) * np.cosh(10.0)
                                     + np.sqrt((1 - s) ** 2 * np.sinh(10.0) ** 2 + 1)))
        assert mu == pytest.approx(exact, abs=1e-11)  # eigvalsh error <~ 1e-15 x scale 5.5e3
        if accepted:
            states.validate_covariance((1 - s) * cov)
        else:
            with pytest.raises(ValueError, match="uncertainty principle"):
                states.validate_covariance((1 - s) * cov)


def test_gaussian_correlated_boundary_is_relative():
    for n_s in (1 / 3, 1.0, 1e6):
        states.gaussian_correlated(n_s, n_s, n_s)  # eq D5 with equality
    with pytest.raises(ValueError, match=r"1/2 - nu_min = .*\(eq D4\).*\(eq D5\)"):
        states.gaussian_correlated(1.0, 1.0 + 1e-6, 1.0 + 1e-6)


def test_closed_form_eq_d5_bound_is_relative():
    """c_sum = C13 + C24 of a state on the D5 boundary carries rounding ~ eps N_S; with
    N_S = 1e6 that used to be rejected as '2e+06 exceeds 2 N_S = 2e+06'."""
    n_s = 1e6 + 1 / 3
    cf.oscillator_j2(1.0, n_s, 0.0, c_sum=2 * n_s * (1 + 4e-16))
    with pytest.raises(ValueError, match=r"= 2.000001 exceeds 2 N_S = 2 by 1e-06.*eq D5"):
        cf.oscillator_j2(1.0, 1.0, 0.0, c_sum=2.0 + 1e-6)


def test_complex_covariance_tolerance_is_relative():
    states.validate_covariance(1e6 * VAC * (1 + 1e-15j))  # |Im C| = 5e-10 << 1e-10 x 5e5
    with pytest.raises(ValueError, match=r"must be real .*max \|Im C\| = 0.001"):
        states.validate_covariance(VAC + 1e-3j)
    with pytest.raises(ValueError, match="cov must be real"):
        states.symplectic_eigenvalues(VAC + 1e-3j)


@pytest.mark.parametrize("call, match", [
    (lambda: states.symplectic_eigenvalues(np.eye(3)), "cov must be a square matrix of even"),
    (lambda: states.gaussian_mean_occupations("abc"), "cov must be numeric"),
    (lambda: states.fock_moments(np.eye(4) / 4, (2.5, 2)), "dims entry must be an integer"),
    (lambda: states.fock_moments(np.eye(4) / 4, 4), "dims must be a tuple"),
    (lambda: cr.partial_trace(np.eye(4) / 4, 0, (2.5, 2)), r"dims\[0\] must be an integer"),
    (lambda: cr.quantum_discord(np.eye(4) / 4, "A", (3.7, 48)), r"grid\[0\] \(n_theta\)"),
    (lambda: cr.is_x_state("abc"), "rho must be numeric"),
    (lambda: QUBITS.energies(np.eye(3) / 3), r"rho must be a \(4, 4\) matrix"),
    (lambda: GaussianMasterEquation().flux_components(np.eye(6) / 2), r"\(\.\.\., 4, 4\)"),
    (lambda: to_lab_frame(np.eye(3), 1.0), "cov must have shape"),
    (lambda: to_lab_frame(VAC, 1.0, 1 + 1j), "omega must be a real number"),
    (lambda: cf.qubit_fluxes_from_state(np.eye(4) / 4, np.complex128(0.5 + 1j)), "xi must be a"),
    (lambda: cr.partial_trace(np.eye(4) / 4, True), "keep must be 0 .* or 1 .*, got True"),
    (lambda: cr.is_x_state(np.eye(4) / 4, "x"), "atol must be a real number"),
    (lambda: QUBITS.sector(0.5), "m must be an integer, got 0.5"),
], ids=["symplectic-odd", "occupations-str", "fock-dims-float", "fock-dims-int",
        "partial-trace-dims", "discord-grid", "x-state-str", "energies-shape",
        "flux-components-shape", "lab-frame-shape", "lab-frame-omega", "tdd-xi-complex",
        "partial-trace-keep-bool", "x-state-atol-str", "sector-m-float"])
def test_helpers_check_their_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- time grids -------------------------------------------------------------------------------

BAD_TIMES = [
    ([0.0, np.nan], "finite and >= 0"),
    ([-1.0, 0.0], "finite and >= 0"),
    ([1.0, 0.5], "sorted in increasing order"),
    (np.zeros((2, 2)), "non-empty 1-d array"),
    ([], "non-empty 1-d array"),
    ("abc", "must be a real number or an array of real numbers, got 'abc'"),
    (["0", "1"], "got an array of dtype <U1"),
    ([0.0, 1 + 1j], "got complex values"),
    (np.array([0.0, 1.0], dtype=complex), "got complex values"),
    ([False, True], "dtype bool"),
    (None, "got None"),
    ([[0.0], [1.0, 2.0]], "rectangular array"),
]
BAD_TIME_IDS = ["nan", "negative", "unsorted", "2-d", "empty", "str", "str-list", "complex",
                "complex-zero-imag", "bool", "None", "ragged"]


@pytest.mark.parametrize("times, match", BAD_TIMES, ids=BAD_TIME_IDS)
@pytest.mark.parametrize("call", [
    check_times,
    lambda t: QUBITS.heat_fluxes(RHO_2Q, t),
    lambda t: GaussianMasterEquation().evolve(VAC, t),
], ids=["check_times", "CME", "GME"])
def test_bad_time_grids(call, times, match):
    with pytest.raises(ValueError, match="times .*" + match):
        call(times)


HOT_QUBITS = CascadeMasterEquation("qubit", temperature=1.0)


@pytest.mark.parametrize("model, call, t_cap", [
    (QUBITS, lambda t: QUBITS.heat_fluxes(RHO_2Q, [0.0, t]), MAX_RELAXATION_TIMES * 4.0),
    (HOT_QUBITS, lambda t: HOT_QUBITS.evolve(RHO_2Q, [t]),
     MAX_RELAXATION_TIMES * 4.0 / np.tanh(0.5)),  # qubit bath: g_dn - g_up = gamma xi
    (GaussianMasterEquation(3, gamma=2.0),
     lambda t: GaussianMasterEquation(3, gamma=2.0).propagator([t]), MAX_RELAXATION_TIMES * 3.0),
], ids=["qubits-T=0", "qubits-T=1", "gaussian-3-gamma=2"])
def test_times_beyond_the_steady_state_are_refused(model, call, t_cap):
    """Cap: MAX_RELAXATION_TIMES x 2 n / (g_dn - g_up); 1e300 used to give NaN or hang."""
    for t in (1.01 * t_cap, 1e300):
        with pytest.raises(ValueError, match=r"times must be <= .*relaxation times.*"
                                             r"use steady_state\(\)"):
            call(t)
    model._check_times([0.0, 0.99 * t_cap])  # (propagating that far takes seconds)


def test_results_too_large_for_memory_are_refused():
    osc = CascadeMasterEquation("oscillator", cutoff=20)
    rho0 = states.product(*2 * [states.thermal("oscillator", 0.5, 20)])
    with pytest.raises(ValueError, match=r"evolve\(\) with 100000 times in dimension D = 400 "
                                         r"would need .* GiB.*use heat_fluxes\(\)"):
        osc.evolve(rho0, np.linspace(0.0, 1.0, 100_000))
    with pytest.raises(ValueError, match=r"evolve\(\) with 10000 times for n_systems = 200"):
        GaussianMasterEquation(200).evolve(np.eye(400) / 2, np.linspace(0.0, 1.0, 10_000))


def test_closed_form_times_and_flags():
    with pytest.raises(ValueError, match="t must be a real number or an array of real numbers"):
        cf.oscillator_j1(np.array([1.0], dtype=complex), 1.0)
    with pytest.raises(ValueError, match="p must be a percentage.*got complex values"):
        cf.release_time(np.complex128(50 + 1j))


# --- a silent wrong result found by the audit: long Gaussian chains at long times -------------

def _exact_damped_entry(d: int, x: int) -> float:
    """``e^{-x/2} exp(-x S)_{i, i-d}`` in exact rational arithmetic (50 digits for the exp):
    ``sum_{k=1}^{d} (-x)^k binom(d-1, k-1) / k!`` (``(S^k)_{i, i-d} = binom(d-1, k-1)``)."""
    from decimal import Decimal, localcontext
    from math import comb, factorial

    with localcontext() as ctx:
        ctx.prec = 50
        damping = (Decimal(-x) / 2).exp()
        if d == 0:
            return float(damping)
        f = factorial(d)
        num = sum((-x) ** k * comb(d - 1, k - 1) * (f // factorial(k)) for k in range(1, d + 1))
        return float(Decimal(num) / Decimal(f) * damping)


def test_long_gaussian_chain_propagator_is_exact_past_exp_underflow():
    """n = 400 at gamma t = 1600: e^{-x/2} underflows and L_{d-1}^{(1)}(x) overflows, but
    their product is of order 0.1; the propagator used to be NaN there (inf * 0).  Compared
    with exact rational arithmetic; the scaled recurrence (400 steps) errs by <= 3e-14."""
    times = np.array([1.0, 50.0, 400.0, 1600.0, 3000.0])
    e = GaussianMasterEquation(400).propagator(times)
    assert np.all(np.isfinite(e))
    for d in (0, 1, 10, 100, 250, 399):
        for k, x in enumerate(times):
            exact = _exact_damped_entry(d, int(x))
            assert e[k, 399, 399 - d] == pytest.approx(exact, rel=1e-10, abs=1e-12), (d, x)
