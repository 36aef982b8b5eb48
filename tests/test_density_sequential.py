"""The density engine's ``sequential`` scheme against its ``kraus`` scheme.

Both apply the same exact step map (:mod:`collision.density`): the Kraus form sums
``K_lk rho K_lk^dag`` over the ancilla's (in, out) levels, the sequential form applies
the collisions one after the other to the joint state ``rho x tau`` and traces the
ancilla out at the end (or, with ``cascade=False``, applies each subsystem's channel).
They differ only by rounding: the sequential kernels use the exchange unitary's exact
real/imaginary checkerboard (:func:`collision.density.unitary_weights`) and a different
order of summation.  Tolerance: 1e-12 relative to the scale of what is compared: the
largest flux (the correlated flux is the difference ``own - local`` of fluxes of that
size, so its rounding is relative to them) or the largest entry of the state; the
measured differences after 30 steps are at most 1.2e-13 (correlated flux, independent
qubits), 4e-14 for the energy in flight and 1.6e-14 for the state.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import collision.density as density_module
from collision import CascadeCollisionModel
from collision.delay import DelayedDensityRun
from collision.density import DensityEngine, KrausStages, kraus_cost_estimate
from lindblad import states

RTOL = 1e-12
T_MAX, DT = 0.3, 0.01


def _random_state(dim: int, seed: int) -> np.ndarray:
    """A full-rank density matrix with coherences between every pair of excitation
    numbers (every sector m occupied)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def _thermal(system: str, n: int, cutoff: int | None, temperature: float) -> np.ndarray:
    return states.product(*[states.thermal(system, temperature, cutoff)] * n)


def _few_quanta(d: int, amplitudes: dict) -> np.ndarray:
    """A pure state of two subsystems (Fock numbers -> amplitude), normalised."""
    psi = np.zeros(d * d, dtype=complex)
    for (n1, n2), amp in amplitudes.items():
        psi[n1 * d + n2] = amp
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


CASES = {
    # name: (model keyword arguments, initial state)
    "qubits-n2-T1": (dict(system="qubit", n_systems=2, temperature=1.0),
                     _thermal("qubit", 2, None, 2.0)),
    "qubits-n2-T1-independent": (dict(system="qubit", n_systems=2, temperature=1.0,
                                      cascade=False), _thermal("qubit", 2, None, 2.0)),
    "qubits-n3-T1-coherent": (dict(system="qubit", n_systems=3, temperature=1.0),
                              _random_state(8, 1)),
    "oscillators-n2-T0-coherent": (dict(system="oscillator", n_systems=2, cutoff=4),
                                   _random_state(16, 2)),
    "qubits-n3-T0-restricted": (dict(system="qubit", n_systems=3),
                                np.diag([0, 0, 0, 0, 1.0, 0, 0, 0]).astype(complex)),
    "oscillators-n2-T0-restricted": (dict(system="oscillator", n_systems=2, cutoff=4),
                                     _few_quanta(4, {(0, 0): 0.5, (1, 0): 0.6, (0, 1): 0.3j,
                                                     (1, 1): 0.4})),
    "oscillators-n2-T0.7": (dict(system="oscillator", n_systems=2, cutoff=5, temperature=0.7),
                            _thermal("oscillator", 2, 5, 0.5)),
    "oscillators-n2-T0.7-coherent": (dict(system="oscillator", n_systems=2, cutoff=4,
                                          temperature=0.7), _random_state(16, 3)),
    "oscillators-n2-T0.7-independent": (dict(system="oscillator", n_systems=2, cutoff=4,
                                             temperature=0.7, cascade=False),
                                        _random_state(16, 4)),
    "oscillators-n3-T0.5": (dict(system="oscillator", n_systems=3, cutoff=3, temperature=0.5),
                            _random_state(27, 5)),
    "oscillators-n3-T0.5-independent": (dict(system="oscillator", n_systems=3, cutoff=3,
                                             temperature=0.5, cascade=False),
                                        _thermal("oscillator", 3, 3, 1.5)),
}


def _model(name: str, **extra) -> CascadeCollisionModel:
    kw = dict(CASES[name][0])
    return CascadeCollisionModel(kw.pop("system"), **kw, **extra)


def _plan(model, rho0):
    with warnings.catch_warnings():  # small cutoffs: truncation warnings are expected
        warnings.simplefilter("ignore")
        plan = model.plan(rho0, T_MAX, DT)
    return plan.dense_initial() if plan.basis is None else plan


def _assert_close(a, b, scale=None):
    scale = np.max(np.abs(b)) if scale is None else scale
    assert np.max(np.abs(a - b)) <= RTOL * scale


def _assert_same_fluxes(seq, kraus):
    scale = max(np.max(np.abs(kraus.local)), np.max(np.abs(kraus.local + kraus.correlated)))
    _assert_close(seq.local, kraus.local, scale)
    _assert_close(seq.correlated, kraus.correlated, scale)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_sequential_equals_kraus(name):
    model = _model(name)
    plan = _plan(model, CASES[name][1])
    assert (plan.basis is not None) == name.endswith("restricted")
    kraus = DensityEngine(model, plan, scheme="kraus").run()
    seq_engine = DensityEngine(model, plan, scheme="sequential")
    seq = seq_engine.run()
    assert seq.parameters["scheme"] == "sequential"
    _assert_same_fluxes(seq, kraus)
    _assert_close(seq.final_state, kraus.final_state)
    # one step of a Hermitian operator through step() as well
    _assert_close(seq_engine.step(plan.rho0), DensityEngine(model, plan, "kraus").step(plan.rho0))


@pytest.mark.parametrize("name", ["qubits-n2-T1", "oscillators-n2-T0.7",
                                  "qubits-n3-T1-coherent"],
                         ids=["qubits", "oscillators", "3-qubits"])
def test_delayed_run_sequential_equals_kraus(name):
    """A delay of 3 steps per link: the phases with two or more subsystems active go
    through the density engine with the chosen scheme (for 3 qubits also on part of the
    chain, S2 -> S3 and S1 -> S2)."""
    model = _model(name, delay=3 * DT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = model.plan(CASES[name][1], T_MAX, DT).dense_initial()
    kraus = DelayedDensityRun(model, plan, "kraus").run()
    seq = DelayedDensityRun(model, plan, "sequential").run()
    _assert_same_fluxes(seq, kraus)
    _assert_close(seq.in_flight, kraus.in_flight)
    _assert_close(seq.final_state, kraus.final_state)


@pytest.mark.parametrize("name", ["qubits-n3-T1-coherent", "oscillators-n2-T0.7",
                                  "oscillators-n3-T0.5-independent"],
                         ids=["qubits-cascade", "oscillators-cascade", "independent"])
def test_kraus_cost_estimate_equals_the_built_operators_cost(name):
    """The structural count of the Kraus non-zeros (used by scheme='auto' without
    building the operators) equals the count of the built operators (no amplitude of
    these exchange unitaries vanishes by accident)."""
    model = _model(name)
    plan = _plan(model, CASES[name][1])
    engine = DensityEngine(model, plan, scheme="sequential")
    kraus = KrausStages.build(plan.unitary, plan.anc_pop, plan.fock, engine.layout.order,
                              model.cascade)
    assert kraus_cost_estimate(plan, engine.layout, model.cascade) == \
        kraus.step_cost(engine.layout)


def test_auto_takes_sequential_for_oscillators_with_a_thermal_boson_bath():
    """The benchmark problem of issue 12 (19 ancilla levels): the sequential scheme is
    estimated (and measured) several times cheaper; choosing it builds no Kraus set."""
    model = CascadeCollisionModel("oscillator", 2, cutoff=20, temperature=1.0)
    rho0 = _thermal("oscillator", 2, 20, 1.0 / np.log(2.0))
    plan = model.plan(rho0, 0.05, DT)
    engine = DensityEngine(model, plan)
    assert plan.d_anc == 19
    assert engine.scheme == "sequential"
    assert "kraus" not in vars(engine)  # the cached property was never built


def test_auto_keeps_the_tabulated_map_for_two_qubits():
    model = _model("qubits-n2-T1")
    assert DensityEngine(model, _plan(model, CASES["qubits-n2-T1"][1])).scheme \
        == "superoperator"


def test_sequential_beyond_its_memory_limit_is_a_clear_error(monkeypatch):
    model = _model("oscillators-n2-T0.7")
    plan = _plan(model, CASES["oscillators-n2-T0.7"][1])
    monkeypatch.setattr(density_module, "MAX_SEQUENTIAL_BYTES", 1000)
    with pytest.raises(ValueError, match="scheme='sequential' needs .* GB"):
        DensityEngine(model, plan, scheme="sequential")
    assert DensityEngine(model, plan).scheme != "sequential"  # auto falls back


def test_unknown_scheme_names_the_choices():
    model = _model("qubits-n2-T1")
    plan = _plan(model, CASES["qubits-n2-T1"][1])
    with pytest.raises(ValueError, match="sequential"):
        DensityEngine(model, plan, scheme="fast")


def test_the_scheme_is_a_run_option():
    """``DensityOptions(scheme="sequential")`` reaches the engine and gives the Kraus
    scheme's numbers."""
    from collision.options import DensityOptions

    model = _model("oscillators-n2-T0.7")
    rho0 = CASES["oscillators-n2-T0.7"][1]
    runs = {s: model.run(rho0, T_MAX, DT, options=DensityOptions(scheme=s))
            for s in ("sequential", "kraus")}
    assert runs["sequential"].parameters["scheme"] == "sequential"
    scale = np.max(np.abs(runs["kraus"].local))
    np.testing.assert_allclose(runs["sequential"].correlated, runs["kraus"].correlated,
                               rtol=0, atol=RTOL * scale)


def test_heat_statistics_never_run_the_sequential_scheme():
    """The counting statistics follow every excitation block, which only the Kraus and
    tabulated kernels do: "auto" never picks "sequential" for them (the record names
    the scheme that ran), and asking for it is a clear error."""
    from collision.options import DensityOptions

    model = CascadeCollisionModel("oscillator", 2, cutoff=20, temperature=1.0)
    rho0 = _thermal("oscillator", 2, 20, 1.0 / np.log(2.0))
    stats = model.heat_statistics(rho0, 0.02, DT)
    assert stats.parameters["scheme"] in ("kraus", "superoperator")
    with pytest.raises(ValueError, match="heat statistics run .*'kraus' or 'superoperator'"):
        model.heat_statistics(rho0, 0.02, DT, options=DensityOptions(scheme="sequential"))
