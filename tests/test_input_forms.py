"""Initial states in every form (issue 17, item 9): a density matrix, a state vector or
the local states of a product, as numpy arrays or nested Python lists, are read the same
by the collision model and the master equation (one definition:
``lindblad.states.state_form``), and a shape that is none of them is refused saying
which forms are allowed.

Tolerance 1e-13: the forms differ only in how the same dense state is built (a
Kronecker product, an outer product or a copy), exact up to a few roundings of numbers
of order 1, and the fluxes are of order 0.1.
"""

import numpy as np
import pytest

import collision
import lindblad
from lindblad import states

TOL = 1e-13


def _rotated_thermal(temperature: float, angle: float) -> np.ndarray:
    """A qubit thermal state rotated about y: a local state with coherences."""
    c, s = np.cos(angle), np.sin(angle)
    u = np.array([[c, -s], [s, c]])
    return u @ states.thermal("qubit", temperature) @ u.T


LOCAL = (_rotated_thermal(1.0, 0.4), _rotated_thermal(0.5, -0.2))
PRODUCT = states.product(*LOCAL)
PSI = np.array([0.1, 0.6, 0.7j, 0.0])
PSI = PSI / np.linalg.norm(PSI)
PURE = np.outer(PSI, PSI.conj())

FORMS = {
    "matrix-array": (PRODUCT, PRODUCT),
    "matrix-nested-list": (PRODUCT.tolist(), PRODUCT),
    "local-list-of-arrays": (list(LOCAL), PRODUCT),
    "local-tuple": (LOCAL, PRODUCT),
    "local-nested-list": ([r.tolist() for r in LOCAL], PRODUCT),
    "vector-array": (PSI, PURE),
    "vector-list": (PSI.tolist(), PURE),
    "pure-matrix-nested-list": (PURE.tolist(), PURE),
}
TIMES = np.linspace(0.0, 0.5, 11)


@pytest.mark.parametrize("form, dense", FORMS.values(), ids=FORMS.keys())
def test_every_form_gives_the_dense_result_in_both_models(form, dense):
    me = lindblad.CascadeMasterEquation("qubit", temperature=0.7)
    ref = me.heat_fluxes(dense, TIMES)
    got = me.heat_fluxes(form, TIMES)
    np.testing.assert_allclose(got.local, ref.local, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.correlated, ref.correlated, rtol=0, atol=TOL)
    np.testing.assert_allclose(me.evolve(form, TIMES[-2:]), me.evolve(dense, TIMES[-2:]),
                               rtol=0, atol=TOL)
    stats = me.heat_statistics(form, TIMES[-2:])
    np.testing.assert_allclose(stats.probabilities,
                               me.heat_statistics(dense, TIMES[-2:]).probabilities,
                               rtol=0, atol=TOL)
    cm = collision.CascadeCollisionModel("qubit", temperature=0.7)
    ref_c = cm.run(dense, 0.5, 0.02)
    got_c = cm.run(form, 0.5, 0.02)
    np.testing.assert_allclose(got_c.local, ref_c.local, rtol=0, atol=TOL)
    np.testing.assert_allclose(got_c.correlated, ref_c.correlated, rtol=0, atol=TOL)
    np.testing.assert_allclose(got_c.final_state, ref_c.final_state, rtol=0, atol=TOL)


def test_delayed_master_equation_takes_the_forms():
    me = lindblad.CascadeMasterEquation("qubit", temperature=0.7, delay=0.2)
    for form, dense in ((list(LOCAL), PRODUCT), (PSI.tolist(), PURE)):
        np.testing.assert_allclose(me.heat_fluxes(form, TIMES).local,
                                   me.heat_fluxes(dense, TIMES).local, rtol=0, atol=TOL)


BAD = {
    "local-matrix-as-chain": ([[1.0, 0.0], [0.0, 0.0]], r"read as a matrix of shape \(2, 2\), "
                              r"but a density matrix of these subsystems is \(4, 4\)"),
    "4d-array": (np.zeros((2, 2, 2, 2)), r"read as an array of shape \(2, 2, 2, 2\); it must "
                 r"be a \(D, D\) density matrix, a state vector"),
    "three-local-states": ([LOCAL[0]] * 3, "one local state per subsystem: 2"),
    "row-vector": ([[0.0, 1.0, 0.0, 0.0]], r"shape \(1, 4\)"),
    "ragged-not-matrices": ([[1.0, 0.0], [1.0]], "could not be read as a rectangular array"),
    "local-wrong-dimension": ([LOCAL[0], np.eye(3) / 3], r"rho0\[1\] has dimension 3"),
    "vector-not-normalised": ([1.0, 1.0, 0.0, 0.0], "must be normalised"),
    "matrix-not-a-state": ((2 * PRODUCT).tolist(), "unit trace"),
    "scalar": (0.5, r"shape \(\)"),
    "local-states-as-one-3d-array": (np.array(LOCAL), r"one array of shape \(2, 2, 2\); local "
                                     r"states of a product are passed as a list or tuple"),
}


@pytest.mark.parametrize("rho0, message", BAD.values(), ids=BAD.keys())
def test_invalid_forms_are_refused_alike(rho0, message):
    me = lindblad.CascadeMasterEquation("qubit", temperature=0.7)
    cm = collision.CascadeCollisionModel("qubit", temperature=0.7)
    for call in (lambda: me.heat_fluxes(rho0, TIMES), lambda: cm.run(rho0, 0.5, 0.02),
                 lambda: cm.run(rho0, 0.5, 0.02, method="trajectories", seed=1)):
        with pytest.raises(ValueError, match=message):
            call()
