"""Merging Monte Carlo runs: only runs of one definition merge (issue 17, item 2).

``merge_results`` (flux runs) and ``merge_statistics`` (heat counting runs) share one
check, :func:`collision.statistics.check_same_run` over :data:`SAME_RUN`.  One test feeds
it every kind of difference (model parameters, the initial state in each of its forms,
the time grid, the estimator, the seed, overlapping ranges) for both merges and asserts
that the ``ValueError`` names the key that differs with both values; the positive side is
that a run split at multiples of 64 trajectories merges bit for bit, from every form of
the initial state, from parameters that went through JSON (files, sweep batches), and
whatever the options that do not define a run.
"""

import copy
import json
from functools import cache

import numpy as np
import pytest

from collision import CascadeCollisionModel, TrajectoryOptions, merge_results
from collision.counting import merge_statistics
from collision.initial import initial_state, state_digest
from collision.statistics import SAME_RUN
from lindblad import states
from lindblad.fluxes import _plain

THERMAL = states.thermal("qubit", 1.0)
COLD = states.thermal("qubit", 0.3)
PLUS = np.full((2, 2), 0.5)
STATES = {
    "eq41": lambda n: states.correlated_qubits(0.4, 0.5),
    "eq41-other": lambda n: states.correlated_qubits(0.4, 0.3),
    "kron": lambda n: states.product(*[THERMAL] * n),
    "list": lambda n: [THERMAL] * n,
    "list-other": lambda n: [THERMAL] * (n - 1) + [COLD],
    "list-coherent": lambda n: [PLUS] + [THERMAL] * (n - 1),
    "vector": lambda n: np.eye(2**n)[1],
    "vector-other": lambda n: np.eye(2**n)[:, 1:3].sum(axis=1) / np.sqrt(2),
}
MERGES = {"run": merge_results, "heat_statistics": merge_statistics}


@cache
def _run(kind: str, state: str = "eq41", model: tuple = (), t_max: float = 0.2,
         dt: float = 0.02, save_every: int = 1, options: tuple = ()):
    """One small qubit run (64 trajectories, seed 3 unless ``options`` say otherwise) of
    ``run`` or ``heat_statistics``; cached, callers must not modify it."""
    cm = CascadeCollisionModel("qubit", **{"temperature": 1.0, **dict(model)})
    opts = TrajectoryOptions(**{"n_trajectories": 64, "seed": 3, **dict(options)})
    call = cm.run if kind == "run" else cm.heat_statistics
    return call(STATES[state](cm.n_systems), t_max, dt, method="trajectories",
                save_every=save_every, options=opts)


SECOND = (("first_trajectory", 64),)
#: (id, first run, second run, what the error names): each second run takes trajectories
#: 64.. unless it overlaps on purpose.
DIFFER = [
    ("initial-matrix", {}, {"state": "eq41-other"}, "initial_state ("),
    ("initial-list", {"state": "list"}, {"state": "list-other"}, "initial_state ("),
    ("initial-list-coherent", {"state": "list"}, {"state": "list-coherent"},
     "initial_state ("),
    ("initial-vector", {"state": "vector"}, {"state": "vector-other"}, "initial_state ("),
    ("initial-same-state-other-form", {"state": "kron"}, {"state": "list"},
     "initial_state (matrix "),
    ("dt", {}, {"dt": 0.01}, "dt (0.02 vs 0.01)"),
    ("t_max", {}, {"t_max": 0.3}, "t_max (0.2 vs 0.3)"),
    ("save_every", {}, {"save_every": 2}, "save_every (1 vs 2)"),
    ("estimator", {"options": (("estimator", "conditional"),)},
     {"options": (("estimator", "collision"),)}, "trajectory_method ("),
    ("stepper", {"options": (("stepper", "matrices"),)},
     {"options": (("stepper", "collisions"),)}, "trajectory_method ("),
    ("seed", {}, {"options": (("seed", 4),)}, "seed_entropy (3 vs 4)"),
    ("temperature", {}, {"model": (("temperature", 0.5),)}, "temperature (1.0 vs 0.5)"),
    ("gamma", {}, {"model": (("gamma", 0.5),)}, "gamma (1.0 vs 0.5)"),
    ("n_systems", {"state": "list"}, {"state": "list", "model": (("n_systems", 3),)},
     "n_systems (2 vs 3)"),
    ("cascade", {}, {"model": (("cascade", False),)}, "cascade (True vs False)"),
    ("phase", {}, {"model": (("phase", 0.3),)}, "phase (0.0 vs 0.3)"),
    # delayed trajectory runs keep no mergeable statistics (collision.delay): the key is
    # checked on a result whose parameters say so, as a file could
    ("delay", {}, {"edit": {"delay": 0.04}}, "delay (0.0 vs 0.04)"),
    ("bath_cutoff", {}, {"edit": {"bath_cutoff": 3}}, "bath_cutoff (2 vs 3)"),
    ("overlap-same-range", {}, {"first": 0}, "overlap"),
    ("overlap-partial", {"options": (("n_trajectories", 128),)}, {}, "overlap"),
]


@pytest.mark.parametrize("kind", list(MERGES))
@pytest.mark.parametrize("first, second, named", [c[1:] for c in DIFFER],
                         ids=[c[0] for c in DIFFER])
def test_merge_refuses_runs_that_differ_and_names_the_difference(kind, first, second,
                                                                 named):
    second = dict(second)
    start, edit = second.pop("first", 64), second.pop("edit", {})
    second["options"] = tuple(dict(second.get("options", ()),
                                   first_trajectory=start).items())
    a, b = _run(kind, **first), copy.copy(_run(kind, **second))
    b.parameters = {**b.parameters, **edit}
    with pytest.raises(ValueError, match="cannot merge") as err:
        MERGES[kind](a, b)
    assert named in str(err.value), str(err.value)


@pytest.mark.parametrize("kind", list(MERGES))
def test_merge_of_a_result_with_itself_is_refused(kind):
    a = _run(kind)
    with pytest.raises(ValueError, match="overlap .*trajectories 0 to 63 are in both"):
        MERGES[kind](a, a)


def test_the_error_lists_every_difference_with_both_values():
    a = _run("run")
    b = _run("run", state="eq41-other", dt=0.01, options=(("first_trajectory", 64),))
    with pytest.raises(ValueError) as err:
        merge_results(a, b)
    msg = str(err.value)
    da, db = a.parameters["initial_state"], b.parameters["initial_state"]
    assert f"initial_state (matrix {da[14:22]}.. vs matrix {db[14:22]}..)" in msg, msg
    assert "dt (0.02 vs 0.01)" in msg and "t_max" not in msg, msg


# --- what merges --------------------------------------------------------------------------

def _assert_same(kind, merged, whole):
    if kind == "run":
        for name in ("local", "correlated"):
            np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
            np.testing.assert_array_equal(getattr(merged.stderr, name),
                                          getattr(whole.stderr, name))
    else:
        np.testing.assert_array_equal(merged.counts, whole.counts)
        np.testing.assert_array_equal(merged.stderr.cumulants, whole.stderr.cumulants)
    assert merged.parameters["n_trajectories"] == whole.parameters["n_trajectories"]
    assert merged.parameters["initial_state"] == whole.parameters["initial_state"]


@pytest.mark.parametrize("kind", list(MERGES))
@pytest.mark.parametrize("state, model", [
    ("eq41", ()), ("list", ()), ("list-coherent", ()), ("vector", ()),
    ("eq41", (("phase", 0.3),)), ("list", (("phase", 0.3),))],
    ids=["matrix", "list", "list-coherent", "vector", "matrix-phase", "list-phase"])
def test_a_run_split_at_64_merges_bit_for_bit(kind, state, model):
    whole = _run(kind, state, model, options=(("n_trajectories", 192),))
    a = _run(kind, state, model, options=(("n_trajectories", 128),))
    b = _run(kind, state, model, options=(("first_trajectory", 128),))
    _assert_same(kind, MERGES[kind](b, a), whole)


def _from_file(result):
    """A copy of ``result`` whose parameters are as a file holds them (JSON types)."""
    out = copy.copy(result)
    out.parameters = json.loads(json.dumps(_plain(result.parameters)))
    return out


@pytest.mark.parametrize("kind", list(MERGES))
def test_merge_checks_parameters_that_went_through_json(kind):
    """Results read back from files and sweep batches carry JSON types (lists for
    tuples, no numpy scalars): they merge as before, and differences are still seen."""
    merge = MERGES[kind]
    whole = _run(kind, options=(("n_trajectories", 192),))
    a = _from_file(_run(kind))
    b = _from_file(_run(kind, options=(("n_trajectories", 128), ("first_trajectory", 64))))
    _assert_same(kind, merge(a, b), whole)
    _assert_same(kind, merge(_run(kind), b), whole)  # one from a file, one in memory
    other = _from_file(_run(kind, dt=0.01, options=(("first_trajectory", 192),)))
    with pytest.raises(ValueError, match=r"dt \(0.02 vs 0.01\)"):
        merge(merge(a, b), other)


def test_counting_runs_saved_to_npz_merge_and_flux_files_are_refused(tmp_path):
    """What a file can merge today: a HeatStatistics .npz keeps its histograms, so it
    merges (with one in memory too); a HeatFluxes file keeps no statistics and is
    refused with a message that says so."""
    from collision import HeatFluxes, HeatStatistics

    whole = _run("heat_statistics", options=(("n_trajectories", 192),))
    a = _run("heat_statistics")
    b = _run("heat_statistics", options=(("n_trajectories", 128), ("first_trajectory", 64)))
    a_back = HeatStatistics.load(a.save(tmp_path / "a.npz"))
    b_back = HeatStatistics.load(b.save(tmp_path / "b.npz"))
    _assert_same("heat_statistics", merge_statistics(a_back, b_back), whole)
    _assert_same("heat_statistics", merge_statistics(b_back, a), whole)
    other = HeatStatistics.load(_run("heat_statistics", state="list", options=(
        ("first_trajectory", 192),)).save(tmp_path / "c.npz"))
    with pytest.raises(ValueError, match=r"initial_state \(matrix .* vs product "):
        merge_statistics(merge_statistics(a_back, b_back), other)
    flux = HeatFluxes.load(_run("run").save(tmp_path / "a.csv"))
    with pytest.raises(ValueError, match="statistics"):
        merge_results(flux, _run("run", options=(("first_trajectory", 64),)))


@pytest.mark.parametrize("kind", list(MERGES))
def test_merge_refuses_results_that_do_not_record_their_initial_state(kind):
    a, b = _run(kind), copy.copy(_run(kind, options=(("first_trajectory", 64),)))
    b.parameters = {k: v for k, v in b.parameters.items() if k != "initial_state"}
    with pytest.raises(ValueError, match="do not both record initial_state"):
        MERGES[kind](a, b)


@pytest.mark.parametrize("kind", list(MERGES))
@pytest.mark.parametrize("first, second", [
    ((("estimator", "auto"),), (("estimator", "conditional"),)),
    ((("n_threads", 1),), (("n_threads", 2),)),
    ((("final_state", False),), ()),
], ids=["auto-and-its-choice", "threads", "final-state"])
def test_options_that_do_not_define_a_run_do_not_stop_a_merge(kind, first, second):
    whole = _run(kind, options=(("n_trajectories", 128),))
    a = _run(kind, options=first)
    b = _run(kind, options=second + (("first_trajectory", 64),))
    _assert_same(kind, MERGES[kind](a, b), whole)


def test_a_merge_of_non_contiguous_ranges_keeps_its_ranges():
    """merge_statistics used first_trajectory + n_trajectories of a merged result as its
    range: [0, 64) + [128, 192) then took [64, 128) for an overlap."""
    whole = _run("heat_statistics", options=(("n_trajectories", 192),))
    outer = merge_statistics(_run("heat_statistics"), _run(
        "heat_statistics", options=(("first_trajectory", 128),)))
    assert outer.parameters["ranges"] == [(0, 64), (128, 64)]
    merged = merge_statistics(outer, _run("heat_statistics",
                                          options=(("first_trajectory", 64),)))
    assert merged.parameters["ranges"] == [(0, 192)]
    _assert_same("heat_statistics", merged, whole)


# --- the digest ---------------------------------------------------------------------------

def test_state_digest_depends_on_the_numbers_and_form_not_the_container():
    rho = states.correlated_qubits(0.4, 0.5)
    dims = (2, 2)

    def digest(x):
        return state_digest(initial_state(x, dims))

    signed = rho.copy()
    signed.imag[signed.imag == 0] = -0.0
    same = [rho, rho.real.copy(), np.asfortranarray(rho), signed]
    assert len({digest(x) for x in same}) == 1
    assert digest([THERMAL, THERMAL]) == digest((THERMAL, THERMAL))
    forms = {digest(states.product(THERMAL, THERMAL)), digest([THERMAL, THERMAL]),
             digest(np.eye(4)[1]), digest(np.diag(np.eye(4)[1]))}
    assert len(forms) == 4  # one state in two forms digests differently (documented)
    assert digest(rho).startswith("matrix:sha256:") and len(digest(rho)) == 14 + 64
    assert digest([THERMAL, COLD]) != digest([COLD, THERMAL])


def test_every_run_records_its_initial_state_and_the_keys_that_define_it():
    for kind in MERGES:
        p = _run(kind).parameters
        missing = [k for k in SAME_RUN if k not in p and k != {"run": "n_groups"}.get(kind)]
        assert not missing, (kind, missing)
    density = CascadeCollisionModel("qubit").run(STATES["eq41"](2), 0.2, 0.02)
    assert density.parameters["initial_state"] == _run("run").parameters["initial_state"]
