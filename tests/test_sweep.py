"""Sweeps (collision.sweep): identical tables on every backend, resume after SIGKILL,
trajectory batches merged bit for bit, complete validation, failures and Ctrl-C.

Every comparison is exact (``check_exact=True`` / ``np.array_equal``): a point is a pure
function of its parameters and seed, so its numbers cannot depend on the backend, the
order of the points or the number of workers.  The Dask tests use one loopback
``LocalCluster`` for the module (2 worker processes, 1 thread each, no dashboard).
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collision import CascadeCollisionModel, TrajectoryOptions, sweep
from collision.cli import main
from collision.sweep import point as point_module
from collision.sweep.storage import SweepFolder
from lindblad import CascadeMasterEquation, states
from lindblad.fluxes import HeatFluxes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "sweeps").glob("*.toml"))


def qubit_spec(**run):
    """The issue's example: 2 x 3 points of two qubits on the density engine."""
    return {"sweep": {"model": "CascadeCollisionModel", "seed": 1},
            "model": {"system": "qubit"},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 1.0, "dt": 0.01, **run},
            "grid": {"model.temperature": [0.5, 1.0],
                     "initial.temperature": [1.5, 2.0, 3.0]}}


def mixed_spec():
    """Density points plus a trajectory point split into 3 batches (300 trajectories:
    leaves 0-1, 2-3 and 4, the last incomplete)."""
    spec = qubit_spec(batches=3, n_threads=1)
    spec["grid"] = {"model.temperature": [0.5, 1.0], "initial.temperature": [1.5, 3.0]}
    spec["points"] = [{"model.temperature": 1.0, "run.method": "trajectories",
                       "run.n_trajectories": 300}]
    return spec


def trajectory_spec(n_points=8, n_trajectories=3000):
    """Trajectory points on one numba thread each (results do not depend on it, and on a
    loaded 2-core machine the parallel kernels were measured 25x slower on 2 threads)."""
    return {"sweep": {"model": "CascadeCollisionModel", "seed": 5},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "thermal"},
            "run": {"t_max": 2.0, "dt": 0.01, "save_every": 10, "method": "trajectories",
                    "n_trajectories": n_trajectories, "n_threads": 1},
            "grid": {"initial.temperature": [0.5 + 0.25 * k for k in range(n_points)]}}


def point_files(out: Path) -> list[Path]:
    """The finished points' files (not the temporary ones of a write in progress)."""
    return sorted(out.glob("points/[!.]*.npz"))


def direct_run(model_kw, ts, seed=None, n_trajectories=None, t_max=1.0):
    """The point computed without the sweep machinery."""
    model = CascadeCollisionModel("qubit", **model_kw)
    rho0 = states.product(*[states.thermal("qubit", ts)] * 2)
    if seed is None:
        return model.run(rho0, t_max, 0.01)
    return model.run(rho0, t_max, 0.01, method="trajectories",
                     options=TrajectoryOptions(n_trajectories=n_trajectories, seed=seed))


def assert_same_fluxes(a: HeatFluxes, b: HeatFluxes) -> None:
    """Bit for bit: means, standard errors of every field and sum, final state."""
    assert np.array_equal(a.t, b.t)
    assert np.array_equal(a.local, b.local) and np.array_equal(a.correlated, b.correlated)
    for name in ("local", "correlated", "J2", "J12", "total", "subsystem"):
        assert np.array_equal(getattr(a.stderr, name), getattr(b.stderr, name)), name
    assert np.array_equal(a.final_state, b.final_state)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


# --- backends ------------------------------------------------------------------------------

def test_one_worker_two_processes_and_dask_give_identical_tables(tmp_path, dask_client):
    spec = mixed_spec()
    one = sweep.run(spec, tmp_path / "one", workers=1, progress=False)
    two = sweep.run(spec, tmp_path / "two", workers=2, progress=False)
    dask = sweep.run(spec, tmp_path / "dask", client=dask_client, progress=False)
    assert one.attrs["sweep"]["ok"] == 5 and not one.attrs["sweep"]["interrupted"]
    assert one["initial.temperature"].dtype == float  # 3.0 stays a float, not 3
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, dask, check_exact=True)
    # the density points are the engine's numbers, exactly
    row = one[(one["model.temperature"] == 0.5) & (one["initial.temperature"] == 3.0)]
    ref = direct_run({"temperature": 0.5}, 3.0)
    assert np.array_equal(row["total"].to_numpy(), ref.total)
    assert np.array_equal(row["t"].to_numpy(), ref.t)


def test_trajectory_batches_on_two_workers_equal_the_single_run_bit_for_bit(tmp_path):
    spec = mixed_spec()
    spec["grid"] = {"model.temperature": [1.0], "initial.temperature": [2.0]}
    spec["points"][0]["run.n_trajectories"] = 300
    spec_obj = sweep.validate(spec)
    point = spec_obj.points[-1]
    assert point.batches == 3
    assert point_module.batch_ranges(300, 3) == [(0, 64), (64, 128), (192, 108)]
    sweep.run(spec_obj, tmp_path, workers=2, progress=False)
    merged = HeatFluxes.load(tmp_path / "points" / f"{point.id}.npz")
    single = direct_run({"temperature": 1.0}, 2.0, seed=point.seed, n_trajectories=300)
    assert_same_fluxes(merged, single)
    assert merged.parameters["n_trajectories"] == 300
    assert merged.parameters["options"]["n_trajectories"] == 300
    assert not list((tmp_path / "points").glob("*.batch-*"))  # merged batches removed


def _new_children(before: set) -> list:
    """The local processes started since ``before`` (``multiprocessing.active_children``)."""
    return [p for p in multiprocessing.active_children() if p.pid not in before]


def test_a_local_pool_runs_two_sweeps_on_the_same_processes(tmp_path):
    """One pool for two sweeps: its processes start once (``started``), both tables are
    the 1-worker tables exactly, and the processes are gone after the ``with`` block."""
    before = {p.pid for p in multiprocessing.active_children()}
    with sweep.local_pool(2) as pool:
        a = sweep.run(qubit_spec(), tmp_path / "a", pool=pool, progress=False)
        workers = {p.pid for p in _new_children(before)}
        b = sweep.run(mixed_spec(), tmp_path / "b", pool=pool, progress=False)
        assert {p.pid for p in _new_children(before)} == workers and len(workers) == 2
        assert pool.started == 1
    assert not [p for p in _new_children(before) if p.pid in workers]   # all stopped
    for table, spec, name in ((a, qubit_spec(), "a1"), (b, mixed_spec(), "b1")):
        one = sweep.run(spec, tmp_path / name, workers=1, progress=False)
        pd.testing.assert_frame_equal(one, table, check_exact=True)
    with pytest.raises(ValueError, match="closed"):
        sweep.run(qubit_spec(), tmp_path / "c", pool=pool, progress=False)


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError("disk full")],
                         ids=["ctrl-c", "error"])
def test_a_sweep_stopped_early_stops_the_pool_s_processes(tmp_path, monkeypatch, stop):
    """Ctrl-C (or an error writing a point) while points run on a shared pool: the running
    points are stopped with their processes, the finished point is kept, the next sweep
    on the pool starts new processes, and none is left after the ``with`` block."""
    real = sweep.runner._Bookkeeping.finish

    def stop_after_first(self, task, outcome):
        real(self, task, outcome)
        raise stop

    spec = trajectory_spec(n_points=4)
    before = {p.pid for p in multiprocessing.active_children()}
    with sweep.local_pool(2) as pool:
        monkeypatch.setattr(sweep.runner._Bookkeeping, "finish", stop_after_first)
        if stop is KeyboardInterrupt:
            info = sweep.run(spec, tmp_path, pool=pool, progress=False).attrs["sweep"]
            assert info["interrupted"] and info["ok"] == 1
        else:
            with pytest.raises(OSError, match="disk full"):
                sweep.run(spec, tmp_path, pool=pool, progress=False)
        assert len(point_files(tmp_path)) == 1
        assert not [p for p in _new_children(before) if p.is_alive()]
        monkeypatch.setattr(sweep.runner._Bookkeeping, "finish", real)
        info = sweep.run(spec, tmp_path, pool=pool, progress=False).attrs["sweep"]
        assert info["ok"] == 4 and len(info["computed"]) == 3 and pool.started == 2
    assert not [p for p in _new_children(before) if p.is_alive()]


@pytest.mark.parametrize("kwargs, message", [
    ({"workers": 2}, "give no client or workers"),
    ({"client": "tcp://localhost:8786"}, "give no client or workers"),
], ids=["pool-and-workers", "pool-and-client"])
def test_a_pool_excludes_workers_and_a_client(tmp_path, kwargs, message):
    with sweep.local_pool(2) as pool, pytest.raises(ValueError, match=message):
        sweep.run(qubit_spec(), tmp_path, pool=pool, progress=False, **kwargs)
    with pytest.raises(ValueError, match="must be a collision.sweep.local_pool"):
        sweep.run(qubit_spec(), tmp_path, pool=object(), progress=False)
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        sweep.local_pool(0)


def test_dask_scheduler_address_runs_the_same_points(tmp_path, dask_client):
    spec = qubit_spec()
    spec["grid"]["initial.temperature"] = [2.0]
    local = sweep.run(spec, tmp_path / "local", workers=1, progress=False)
    remote = sweep.run(spec, tmp_path / "remote", client=dask_client.scheduler.address,
                       progress=False)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)


# --- seeds and ids -------------------------------------------------------------------------

def test_seeds_and_ids_depend_on_the_point_not_its_position():
    spec = trajectory_spec(n_points=3)
    forward = sweep.validate(spec)
    spec["grid"]["initial.temperature"].reverse()
    backward = sweep.validate(spec)
    by_id = {p.id: p.seed for p in forward.points}
    assert by_id == {p.id: p.seed for p in backward.points}
    assert len(set(by_id.values())) == 3
    # 1 and 1.0 are the same value; the execution options do not enter
    a = sweep.validate(trajectory_spec(n_points=1)).points[0]
    spec = trajectory_spec(n_points=1)
    spec["run"].update(t_max=2, n_threads=2)
    b = sweep.validate(spec).points[0]
    assert (a.id, a.seed) == (b.id, b.seed)
    # pinned: stable across Python processes and machines (sha256, never hash())
    assert (a.id, a.seed) == ("45fe9babc553ff61", 2527926572201104982)
    spec["sweep"]["seed"] = 6
    assert sweep.validate(spec).points[0].seed != a.seed


# --- resume -------------------------------------------------------------------------------

KILL_SCRIPT = """
import sys
from collision import sweep
sweep.run(sys.argv[1], sys.argv[2], workers=1, progress=False)
"""


def test_sigkill_midway_then_resume_computes_only_the_missing_points(tmp_path):
    spec = trajectory_spec()
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(spec_file), str(out)],
                            env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    try:
        while not point_files(out):
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in point_files(out)}
    assert 1 <= len(finished) < 8, "kill the sweep midway"
    for name in finished:  # complete files only
        HeatFluxes.load(out / "points" / name)

    resumed = sweep.run(spec_file, out, workers=1, progress=False)
    info = resumed.attrs["sweep"]
    assert set(info["computed"]) == {p.id for p in sweep.validate(spec).points} \
        - {name[:-4] for name in finished}
    assert info["ok"] == 8 and not list(out.glob("points/.tmp-*"))
    for name, (mtime, data) in finished.items():  # untouched
        path = out / "points" / name
        assert path.stat().st_mtime_ns == mtime and path.read_bytes() == data
    reference = sweep.run(spec, tmp_path / "reference", workers=1, progress=False)
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_saved_batches_are_not_recomputed(tmp_path, monkeypatch):
    spec = trajectory_spec(n_points=1, n_trajectories=300)
    spec["run"]["batches"] = 3
    point = sweep.validate(spec).points[0]
    folder = SweepFolder.open(tmp_path, sweep.validate(spec))
    for first, count in [(0, 64), (192, 108)]:  # two of the three batches, saved earlier
        task = point_module.Task(point.id, point.definition, point.seed, first, count)
        outcome = point_module.execute(task)
        outcome.result.parameters["sweep_batch"] = {"wall_time": 0.0, "warnings": []}
        folder.write_batch(point.id, first, count, outcome.result)
    folder.close()
    ran = []
    real = point_module.execute
    monkeypatch.setattr("collision.sweep.backends.execute",
                        lambda task: ran.append(task.key) or real(task))
    sweep.run(spec, tmp_path, workers=1, progress=False)
    assert ran == [(point.id, 64, 128)]
    merged = HeatFluxes.load(tmp_path / "points" / f"{point.id}.npz")
    model = CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(*[states.thermal("qubit", 0.5)] * 2)
    single = model.run(rho0, 2.0, 0.01, save_every=10, method="trajectories",
                       options=TrajectoryOptions(n_trajectories=300, seed=point.seed))
    assert_same_fluxes(merged, single)


def test_rerun_leaves_finished_points_and_a_changed_spec_is_refused(tmp_path):
    spec = trajectory_spec(n_points=2, n_trajectories=128)
    first = sweep.run(spec, tmp_path, workers=1, progress=False)
    spec["run"].update(n_threads=2, batches=2)  # execution options may change
    again = sweep.run(spec, tmp_path, workers=1, progress=False)
    assert again.attrs["sweep"]["computed"] == [] and len(first.attrs["sweep"]["computed"]) == 2
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    spec["run"]["dt"] = 0.02
    spec["grid"]["initial.temperature"] = [0.5, 0.7]
    with pytest.raises(ValueError, match="holds a different sweep") as err:
        sweep.run(spec, tmp_path, workers=1, progress=False)
    assert "run.dt: the folder's sweep has 0.01, this one 0.02" in str(err.value)
    assert "grid.initial.temperature: the folder's sweep has [0.5, 0.75], this one [0.5, 0.7]" \
        in str(err.value)


def test_a_folder_in_use_is_refused(tmp_path):
    spec = sweep.validate(qubit_spec())
    folder = SweepFolder.open(tmp_path, spec)
    try:
        with pytest.raises(ValueError, match="another sweep is running"):
            sweep.run(spec, tmp_path, workers=1, progress=False)
    finally:
        folder.close()


# --- failures, Ctrl-C ----------------------------------------------------------------------

def test_a_failed_point_is_recorded_the_sweep_goes_on_and_a_rerun_retries_it(tmp_path,
                                                                             monkeypatch):
    real = point_module.compute

    def flaky(task):
        if task.definition.model_params["temperature"] == 1.0 \
                and task.definition.initial["temperature"] == 2.0:
            raise RuntimeError("disk on fire")
        return real(task)

    monkeypatch.setattr(point_module, "compute", flaky)
    table = sweep.run(qubit_spec(), tmp_path, workers=1, progress=False)
    info = table.attrs["sweep"]
    assert (info["ok"], info["failed"]) == (5, 1)
    bad = table[table["status"] == "failed"]
    assert len(bad) == 1 and bad["error"].item() == "RuntimeError: disk on fire"
    assert np.isnan(bad["t"].item())
    record = json.loads(next((tmp_path / "points").glob("*.failed.json")).read_text())
    assert "disk on fire" in record["traceback"] and record["seed"] > 0
    monkeypatch.setattr(point_module, "compute", real)
    table = sweep.run(qubit_spec(), tmp_path, workers=1, progress=False)
    assert table.attrs["sweep"]["ok"] == 6 and len(table.attrs["sweep"]["computed"]) == 1
    assert not list((tmp_path / "points").glob("*.failed.json"))


def test_ctrl_c_stops_cleanly_keeping_every_finished_point(tmp_path, monkeypatch):
    real = point_module.execute
    calls = []

    def interrupted_third(task):
        calls.append(task)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr("collision.sweep.backends.execute", interrupted_third)
    table = sweep.run(qubit_spec(), tmp_path, workers=1, progress=False)
    info = table.attrs["sweep"]
    assert info["interrupted"] and (info["ok"], info["missing"]) == (2, 4)
    assert len(point_files(tmp_path)) == 2
    monkeypatch.setattr("collision.sweep.backends.execute", real)
    table = sweep.run(qubit_spec(), tmp_path, workers=1, progress=False)
    assert table.attrs["sweep"]["ok"] == 6 and len(table.attrs["sweep"]["computed"]) == 4


def test_a_partial_result_of_an_engine_stopped_by_ctrl_c_is_not_kept(tmp_path, monkeypatch):
    """In this process Ctrl-C reaches the engine, which returns its finished part with
    partial=True: the sweep stops there and does not save it as a finished point."""
    real = point_module.compute
    calls = []

    def partial_second(task):
        calls.append(task)
        result = real(task)
        result.partial = len(calls) == 2
        return result

    monkeypatch.setattr(point_module, "compute", partial_second)
    table = sweep.run(qubit_spec(), tmp_path, workers=1, progress=False)
    info = table.attrs["sweep"]
    assert info["interrupted"] and (info["ok"], info["missing"]) == (1, 5)
    assert len(calls) == 2 and len(point_files(tmp_path)) == 1


def test_ctrl_c_on_the_command_line_stops_the_worker_processes(tmp_path):
    spec = trajectory_spec(n_points=10, n_trajectories=8000)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "collision", "sweep", str(spec_file), "--out", str(out),
         "--workers", "2", "--quiet"], env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    deadline = time.monotonic() + 120
    try:
        while not point_files(out):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; the finished points are kept" in err
    table = sweep.load(out)
    kept = table.drop_duplicates("point")["status"].value_counts()
    assert 1 <= kept["ok"] < 10 and kept["ok"] + kept["missing"] == 10
    assert len(point_files(out)) == kept["ok"]


# --- validation ----------------------------------------------------------------------------

def test_an_invalid_spec_fails_before_any_work_with_every_problem_listed(tmp_path):
    spec = {"sweep": {"model": "CascadeCollisionModel", "seed": -1, "colour": "red"},
            "model": {"system": "qubit", "temprature": 1.0},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 1.0, "dt": 0.01, "n_trajectories": 100, "seed": 3},
            "grid": {"model.temperature": [-1.0, 1.0], "initial.temperature": [],
                     "model.cutof": [3]},
            "plots": {}}
    with pytest.raises(sweep.SweepSpecError) as err:
        sweep.run(spec, tmp_path / "out", workers=1)
    problems = err.value.problems
    expected = ["unknown section(s) plots", "[sweep] has unknown key(s) colour",
                "[sweep] seed must be an integer >= 0", "'initial.temperature' is empty",
                "model.cutof: CascadeCollisionModel has no parameter 'cutof'",
                "has no parameter(s) temprature", "[run] seed cannot be set",
                "all 2 points: n_trajectories do(es) not apply to method='density'",
                "point (model.temperature = -1.0, model.cutof = 3): temperature must be"]
    for text, problem in zip(expected, problems, strict=True):
        assert text in problem
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change, message", [
    ({"sweep": {"model": "Lindblad"}}, "[sweep] model must be one of"),
    ({"initial": {"state": "correlated_qubits", "xi_s": 0.25, "rho23": 0.95},
      "grid": {"model.temperature": [1.0]}}, "exceeds the positivity bound of eq 42"),
    ({"initial": {"state": "correlated_qubits", "xi_s": 0.25, "rho23": 0.1}},
     "takes xi_s, rho23; unknown temperature"),
    ({"initial": {"state": "gaussian_thermal", "n_s": 1.0}}, "is not a density matrix"),
    ({"run": {"t_max": 1.0, "dt": 0.9}}, "gamma * dt = 0.9 is too large"),
    ({"run": {"dt": 0.01}}, "[run] needs t_max"),
    ({"run": {"t_max": 1.0, "dt": 0.01, "method": "trajectories", "n_trajectories": 100,
              "batches": 3}}, "run.batches = 3 is more than the 2 leaves"),
    ({"run": {"t_max": 1.0, "dt": 0.01, "batches": 2}}, "apply to trajectory points, but no point"),
    ({"run": {"t_max": 1.0, "dt": 0.01, "method": "gaussian"}}, "run.method must be one of"),
    ({"run": {"t_max": 1.0, "dt": 0.01, "n_trajectory": 5}}, "n_trajectory unknown"),
    ({"grid": {"run.batches": [1, 2]}}, "run.batches cannot be swept"),
    ({"grid": {"model.temperature": 1.0}}, "must be a list of values"),
    ({"grid": {"model.temperature": [1.0, 1]}}, "points 0 and 1 are the same point"),
    ({"grid": {"temperature": [1.0]}}, "must be 'model.NAME'"),
    ({"grid": {"model.temperature": [float("nan")]}}, "must be finite"),
], ids=["unknown-model", "unphysical-state", "swept-argument-not-taken", "state-of-other-kind", "dt-too-large",
        "no-t-max", "too-many-batches", "batches-without-trajectories", "wrong-engine",
        "unknown-option", "swept-execution-option", "grid-not-a-list", "duplicate-points",
        "undotted-name", "nan"])
def test_invalid_specs_are_refused_with_a_clear_message(change, message):
    spec = qubit_spec()
    for section, value in change.items():
        spec[section] = {**spec[section], **value} if section == "sweep" else value
    with pytest.raises(sweep.SweepSpecError) as err:
        sweep.validate(spec)
    assert any(message in p for p in err.value.problems), err.value.problems


def test_a_long_chain_is_validated_without_a_dense_state():
    """20 qubits: the thermal product stays a list of local states (its D x D matrix
    would take 16 TB), so validation takes little time and memory."""
    import tracemalloc

    spec = {"sweep": {"model": "CascadeCollisionModel"},
            "model": {"system": "qubit", "n_systems": 20, "temperature": 1.0},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 0.05, "dt": 0.001, "method": "trajectories",
                    "n_trajectories": 64},
            "grid": {"model.gamma": [1.0, 0.5]}}
    tracemalloc.start()
    try:
        points = sweep.validate(spec).points
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(points) == 2 and peak < 50e6
    model = point_module.build_model(points[0].definition)
    state = point_module.build_state(model, points[0].definition)
    assert len(state) == 20 and state[0].shape == (2, 2)


# --- table, models, CLI, examples ----------------------------------------------------------

def test_table_metadata_and_formats(tmp_path):
    spec = trajectory_spec(n_points=2, n_trajectories=64)
    table = sweep.run(spec, tmp_path, workers=1, progress=False, table="csv")
    full = sweep.load(tmp_path, metadata=True)
    points = sweep.validate(spec).points
    first = full.drop_duplicates("point")
    assert first["seed"].tolist() == [p.seed for p in points]
    assert (first["wall_time"] > 0).all() and first["version"].notna().all()
    assert json.loads(first["options"].iloc[0])["method"] == "trajectories"
    assert list(table.columns[:4]) == ["point", "initial.temperature", "status", "t"]
    assert "total_stderr" in table.columns
    csv = pd.read_csv(tmp_path / "table.csv", keep_default_na=False)
    assert np.array_equal(csv["total"].to_numpy(), table["total"].to_numpy())
    pytest.importorskip("pyarrow")
    path = sweep.save_table(full, tmp_path / "table.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), full, check_exact=True)


def test_master_equation_sweeps_give_the_reference(tmp_path):
    spec = {"sweep": {"model": "CascadeMasterEquation"},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "correlated_qubits", "xi_s": 0.25},
            "run": {"t_max": 2.0, "dt": 0.5},
            "grid": {"initial.rho23": [-0.5, "0.3+0.2j"]}}
    table = sweep.run(spec, tmp_path, workers=1, progress=False)
    assert table["initial.rho23"].unique().tolist() == [-0.5, "0.3+0.2j"]
    row = table[table["initial.rho23"] == "0.3+0.2j"]
    me = CascadeMasterEquation("qubit", temperature=1.0)
    ref = me.heat_fluxes(states.correlated_qubits(0.25, 0.3 + 0.2j), [0, 0.5, 1.0, 1.5, 2.0])
    assert np.array_equal(row["J12"].to_numpy(), ref.J12)


def test_cli_sweep(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[sweep]\nmodel = "GaussianCollisionModel"\nseed = 1\n'
                    '[initial]\nstate = "thermal"\ntemperature = 1.0\n'
                    '[run]\nt_max = 1.0\ndt = 0.01\nsave_every = 10\n'
                    '[grid]\n"model.temperature" = [0.0, 0.5]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet",
                 "--table", "csv"]) == 0
    text = capsys.readouterr().out
    assert "2 of 2 points finished (2 computed now), 0 failed" in text
    assert pd.read_csv(out / "table.csv")["status"].eq("ok").all()
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "give one or the other" in capsys.readouterr().err
    spec.write_text(spec.read_text().replace("[0.0, 0.5]", "[-1.0]").replace("seed = 1",
                                                                            "seed = 1.5"))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err and "seed must be an integer" in err and "temperature" in err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_specs_are_valid(path):
    spec = sweep.validate(path)
    assert len(spec.points) >= 5


def test_the_fig6a_example_runs_and_gives_the_engine_s_numbers(tmp_path):
    path = ROOT / "examples" / "sweeps" / "fig6a.toml"
    table = sweep.run(path, tmp_path, workers=1, progress=False)
    assert table.attrs["sweep"]["ok"] == 9
    row = table[table["initial.rho23"] == 0.46875]
    model = CascadeCollisionModel("qubit", temperature=0.0)
    ref = model.run(states.correlated_qubits(0.25, 0.46875), 10.0, 0.01, save_every=10)
    assert np.array_equal(row["J12"].to_numpy(), ref.J12)
    assert np.array_equal(row["total"].to_numpy(), ref.total)
