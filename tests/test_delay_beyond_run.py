"""Delays longer than the run (issue 17, items 4-5): exact, finite, and no memory that
grows with the delay.

A link delay longer than the run delivers nothing from upstream before the last saved
time: the downstream subsystems see only fresh ancillas (fresh input) during the whole
run, whatever the delay's length (1e7 steps, 1e300, ``inf``).  Every model must then give
the answer of the same physics built differently, independent reservoirs
(``cascade=False``), or for chains a shorter chain, to rounding.  Tolerances: the Fock-space
engines apply the local channel by repeated squaring instead of step by step, and a flux is
an energy difference divided by dt = 0.01, so rounding of 1e-16 in the state appears as up
to ~1e-14 in the fluxes (measured 1.6e-14 over 200 steps); 1e-13 leaves a margin of 6 and
is far below any physical effect (the correlated fluxes are 1e-2 to 1e-1).
"""

import math
import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from collision import CascadeCollisionModel, GaussianCollisionModel, sweep
from collision.cli import main
from collision.model import delay_steps
from lindblad import CascadeMasterEquation, GaussianMasterEquation, states

DT, T_MAX = 0.01, 2.0
K = round(T_MAX / DT)  # the last saved step
TIMES = np.linspace(0.0, T_MAX, 11)
LONG = {"1e7-steps": 1e7 * DT, "1e300": 1e300, "inf": math.inf}
TOL = 1e-13


def _random_state(dim: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(2, dim, dim))
    r = (a[0] + 1j * a[1]) @ (a[0] + 1j * a[1]).conj().T
    return r / np.trace(r)


RHO = _random_state(4, 3)  # correlated two-qubit state (coherences between S1 and S2)
COV = states.gaussian_correlated(1.0, 0.5, 0.3)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def _released(local_s1: np.ndarray, every: int = 1) -> np.ndarray:
    """Heat S1 has handed to the reservoir before each saved step, dt sum_{s < k} J1(s):
    with the link cut, all of it is in flight."""
    return np.concatenate([[0.0], np.cumsum(local_s1)[:-1]])[::every] * DT


def _density(delay):
    return CascadeCollisionModel("qubit", temperature=0.5, delay=delay).run(RHO, T_MAX, DT)


def _gaussian(delay):
    return GaussianCollisionModel(temperature=0.5, delay=delay).run(COV, T_MAX, DT)


ENGINES = {
    "density": (_density, lambda: CascadeCollisionModel("qubit", temperature=0.5,
                                                         cascade=False).run(RHO, T_MAX, DT)),
    "gaussian": (_gaussian, lambda: GaussianCollisionModel(temperature=0.5, cascade=False)
                 .run(COV, T_MAX, DT)),
}


@pytest.mark.parametrize("delay", LONG.values(), ids=LONG.keys())
@pytest.mark.parametrize("engine", ENGINES, ids=ENGINES.keys())
def test_collision_engines_beyond_the_run_equal_independent_reservoirs(engine, delay):
    delayed, independent = ENGINES[engine]
    r, ind = delayed(delay), independent()
    assert np.all(np.isfinite(r.local)) and np.all(np.isfinite(r.correlated))
    _close(r.local, ind.local)
    _close(r.correlated, 0.0)
    _close(r.final_state, ind.final_state)
    _close(r.in_flight[0], _released(ind.local[0]))
    # the same run as a delay just beyond it (the plan caps the delay at K + 1 steps)
    just = delayed((K + 1) * DT)
    assert np.array_equal(r.local, just.local) and np.array_equal(r.final_state,
                                                                   just.final_state)
    assert r.parameters["delay"] == delay


@pytest.mark.parametrize("delay", LONG.values(), ids=LONG.keys())
def test_trajectories_beyond_the_run_are_the_run_just_beyond_and_exact_downstream(delay):
    model = CascadeCollisionModel("qubit", temperature=0.5, delay=delay)
    r = model.run(RHO, T_MAX, DT, method="trajectories", n_trajectories=400, seed=7)
    just = CascadeCollisionModel("qubit", temperature=0.5, delay=(K + 1) * DT).run(
        RHO, T_MAX, DT, method="trajectories", n_trajectories=400, seed=7)
    for name in ("local", "correlated", "in_flight", "final_state"):
        assert np.array_equal(getattr(r, name), getattr(just, name)), name
    ind = CascadeCollisionModel("qubit", temperature=0.5, cascade=False).run(RHO, T_MAX, DT)
    # S2 never meets a used ancilla: its flux is the exact local one, with no variance
    _close(r.local[1], ind.local[1])
    _close(r.correlated[1], 0.0)
    assert np.all(r.stderr.local[1] == 0)
    # S1 is sampled: within 5 standard errors of the exact answer at every saved time
    # (the largest of 201 normalised deviations exceeds 5 with probability ~1e-4)
    err = r.stderr.local[0][1:]
    assert np.all(np.abs(r.local[0][1:] - ind.local[0][1:]) < 5 * err)


@pytest.mark.parametrize("delay", LONG.values(), ids=LONG.keys())
@pytest.mark.parametrize("kind", ["qubit", "gaussian"])
def test_master_equations_beyond_the_run_equal_independent_reservoirs(kind, delay):
    if kind == "qubit":
        def build(**kw):
            return CascadeMasterEquation("qubit", temperature=0.5, **kw)
        state = RHO
    else:
        def build(**kw):
            return GaussianMasterEquation(temperature=0.5, **kw)
        state = COV
    me, ind = build(delay=delay), build(cascade=False)
    r, i = me.heat_fluxes(state, TIMES), ind.heat_fluxes(state, TIMES)
    assert np.all(np.isfinite(r.local)) and np.all(np.isfinite(r.in_flight))
    _close(r.local, i.local)
    _close(r.correlated, 0.0)
    if kind == "qubit":
        _close(me.evolve(state, TIMES), ind.evolve(state, TIMES))
        # in flight: all the energy S1 has released, U_1(0) - U_1(t)
        u1 = np.real(np.einsum("tij,ji->t", ind.evolve(state, TIMES),
                               np.kron(np.diag([-0.5, 0.5]), np.eye(2))))
        _close(r.in_flight[0], u1[0] - u1)
    else:
        _close(r.final_state, i.final_state)


@pytest.mark.parametrize("delays, cut", [((1e300, 0.05), 0), ((0.05, math.inf), 1)],
                         ids=["first-link-beyond", "second-link-beyond"])
@pytest.mark.parametrize("source", ["density", "master-equation", "gaussian"])
def test_chain_with_one_link_beyond_the_run_splits_in_two(source, delays, cut):
    """Three subsystems, one link beyond the run: the chain splits into independent parts,
    the two-subsystem part a delayed chain of its own (rho0 = product across the cut)."""
    pair = _random_state(4, 11)
    one = states.thermal("qubit", 0.7)
    rho = np.kron(one, pair) if cut == 0 else np.kron(pair, one)
    inner = delays[1 - cut]
    kw = {"temperature": 0.5}
    if source == "gaussian":
        pair, one = COV, states.gaussian_thermal(0.4, 1)
        cov = np.zeros((6, 6))
        blocks = [(0, one), (2, pair)] if cut == 0 else [(0, pair), (4, one)]
        for at, block in blocks:
            cov[at:at + block.shape[0], at:at + block.shape[0]] = block
        r = GaussianCollisionModel(3, delay=delays, **kw).run(cov, T_MAX, DT)
        two = GaussianCollisionModel(delay=inner, **kw).run(pair, T_MAX, DT)
        ind = GaussianCollisionModel(3, cascade=False, **kw).run(cov, T_MAX, DT)
        final = ind.final_state.copy()
        where = slice(2, 6) if cut == 0 else slice(0, 4)
        final[where, where] = two.final_state
    elif source == "density":
        r = CascadeCollisionModel("qubit", 3, delay=delays, **kw).run(rho, T_MAX, DT)
        two = CascadeCollisionModel("qubit", delay=inner, **kw).run(pair, T_MAX, DT)
        ind = CascadeCollisionModel("qubit", 3, cascade=False, **kw).run(rho, T_MAX, DT)
        if cut == 0:
            s1 = ind.final_state.reshape(2, 4, 2, 4).trace(axis1=1, axis2=3)
            final = np.kron(s1, two.final_state)
        else:
            s3 = ind.final_state.reshape(4, 2, 4, 2).trace(axis1=0, axis2=2)
            final = np.kron(two.final_state, s3)
    else:
        r = CascadeMasterEquation("qubit", 3, delay=delays, **kw).heat_fluxes(rho, TIMES)
        two = CascadeMasterEquation("qubit", delay=inner, **kw).heat_fluxes(pair, TIMES)
        ind = CascadeMasterEquation("qubit", 3, cascade=False, **kw).heat_fluxes(rho, TIMES)
        final = None
    alone, chain = (0, [1, 2]) if cut == 0 else (2, [0, 1])
    _close(r.local[alone], ind.local[alone])
    _close(r.correlated[alone], 0.0)
    _close(r.local[chain], two.local)
    _close(r.correlated[chain], two.correlated)
    _close(r.in_flight[1 - cut], two.in_flight[0])
    if final is not None:
        _close(r.final_state, final)


def _peak_bytes(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("steps", [10, 1e3, 1e5, 1e7], ids=["10", "1e3", "1e5", "1e7"])
def test_delayed_density_memory_does_not_grow_with_the_delay(steps):
    """200 steps of two qubits: the run holds a few arrays of 2 n (K + 1) numbers, tens
    of kB (measured 60-70 kB at every delay); before the fix the record held every
    process step of the delay (measured 9.3 MB at 1e5 steps, linear in the delay).
    2 MB leaves room for numpy's temporaries."""
    model = CascadeCollisionModel("qubit", temperature=0.5, delay=steps * DT)
    _density(DT)  # compile and warm caches outside the measurement
    assert _peak_bytes(lambda: model.run(RHO, T_MAX, DT)) < 2 * 2**20


@pytest.mark.parametrize("delay, dt, match", [
    (1000.25, 0.5, r"delay = 1000.25 must be a whole number of time steps dt = 0.5 .*"
                   r"2000.5 steps.*1000 \(2000 steps\) or 1000.5 \(2001 steps\)"),
    (2.005, 0.01, r"delay = 2.005 must be a whole number of time steps.*200.5 steps.*"
                  r"2 \(200 steps\) or 2.01 \(201 steps\)"),
], ids=["far-beyond-the-run", "just-beyond-the-run"])
@pytest.mark.filterwarnings("ignore::collision.AccuracyWarning")  # dt = 0.5 is coarse
def test_a_delay_that_is_not_whole_steps_is_refused_even_beyond_the_run(delay, dt, match):
    with pytest.raises(ValueError, match=match):
        CascadeCollisionModel("qubit", delay=delay).run(RHO, T_MAX, dt)


def test_delay_steps_is_overflow_safe_and_caps_at_the_run():
    assert delay_steps((1e300, math.inf, 0.3, 5.0), 1e-10, cap=1000) == (1000, 1000, 1000,
                                                                       1000)
    assert delay_steps((1e300, 0.05), 0.01, cap=201) == (201, 5)
    assert delay_steps((1e300,), 0.01) == (round(1e302),)  # exact, as a Python int
    for tau, dt in ((math.inf, 0.01), (1e300, 1e-10)):  # no step count without a run
        with pytest.raises(ValueError, match=re.escape(f"delay = {tau!r} is longer than")):
            delay_steps((tau,), dt)


def test_cli_run_with_a_delay_beyond_the_run(tmp_path):
    for delay in ("1e300", "inf"):
        out = tmp_path / delay
        assert main(["run", "--t-max", "0.5", "--delay", delay, "--out", str(out),
                     "--quiet"]) == 0
        table = pd.read_csv(out / "run.csv", comment="#")
        assert np.all(np.isfinite(table["J12"])) and np.all(table["J12"] == 0)


def test_sweep_point_with_a_delay_beyond_the_run(tmp_path):
    spec = {"sweep": {"model": "CascadeCollisionModel", "seed": 1},
            "model": {"system": "qubit", "temperature": 0.5},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 0.5, "dt": 0.01},
            "grid": {"model.delay": [0.05, 1e300]}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sweep.run(spec, tmp_path / "s", workers=1, progress=False)
    rho = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    for delay in (0.05, 1e300):
        rows = table[table["model.delay"] == delay]
        assert (rows["status"] == "ok").all()
        direct = CascadeCollisionModel("qubit", temperature=0.5, delay=delay).run(rho, 0.5,
                                                                                  0.01)
        np.testing.assert_array_equal(rows["J2"].to_numpy(), direct.J2)
