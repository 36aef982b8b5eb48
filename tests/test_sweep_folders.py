"""Sweeps that meet other people's files, huge grids and dying parents (issue 17,
items 3, 6 and 7): damaged or foreign point files are set aside and recomputed, grids
are never listed and are refused above ``max_points``, each value of a large grid is
checked once, and local workers exit when the process that started them dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from collision import CascadeCollisionModel, sweep  # noqa: E402
from collision.cli import main  # noqa: E402
from collision.sweep import point as point_module  # noqa: E402
from collision.sweep import spec as spec_module  # noqa: E402
from collision.sweep.storage import DamagedFileWarning, SweepFolder  # noqa: E402
from lindblad import states  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def gaussian_spec(seed=1, n=3):
    """``n`` cheap Gaussian points (exact engine, 50 steps)."""
    return {"sweep": {"model": "GaussianCollisionModel", "seed": seed},
            "initial": {"state": "thermal", "temperature": 1.0},
            "run": {"t_max": 0.5, "dt": 0.01, "save_every": 5},
            "grid": {"model.temperature": [0.25 * k for k in range(n)]}}


def qubit_spec(grid):
    return {"sweep": {"model": "CascadeCollisionModel"},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 0.1, "dt": 0.01}, "grid": grid}


# --- damaged, foreign and edited point files -------------------------------------------------

def _truncate(path, other):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_byte(path, other):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_point(path, other):
    shutil.copyfile(other["point"], path)


def _other_sweep(path, other):  # the same point of a sweep with another seed
    shutil.copyfile(other["sweep"], path)


def _edited_id(path, other):
    from lindblad.fluxes import HeatFluxes

    result = HeatFluxes.load(path)
    result.parameters["sweep"]["id"] = "0123456789abcdef"
    result.save(path)


DAMAGE = {"truncated": _truncate, "empty": lambda p, o: p.write_bytes(b""),
          "garbage": lambda p, o: p.write_bytes(np.random.default_rng(0).bytes(999)),
          "flipped-byte": _flip_byte, "copied-from-another-point": _other_point,
          "copied-from-another-sweep": _other_sweep, "edited-id": _edited_id}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_point_file_is_reported_set_aside_and_recomputed(tmp_path, damage):
    spec = gaussian_spec()
    reference = sweep.run(spec, tmp_path / "reference", workers=1, progress=False)
    out = tmp_path / "out"
    sweep.run(spec, out, workers=1, progress=False)
    other_seed = tmp_path / "other"
    sweep.run(gaussian_spec(seed=2), other_seed, workers=1, progress=False)
    points = list(sweep.validate(spec).points)
    victim = out / "points" / f"{points[1].id}.npz"
    damage(victim, {"point": out / "points" / f"{points[0].id}.npz",
                    "sweep": other_seed / "points" / victim.name})

    with pytest.warns(DamagedFileWarning, match=victim.name):
        table = sweep.load(out)  # reported, not a traceback
    status = table.drop_duplicates("point").set_index("point")["status"]
    assert status.to_dict() == {points[0].id: "ok", points[1].id: "damaged",
                                points[2].id: "ok"}
    assert victim.name in table.loc[table["point"] == points[1].id, "error"].iloc[0]

    with pytest.warns(DamagedFileWarning, match=victim.name):
        resumed = sweep.run(spec, out, workers=1, progress=False)
    info = resumed.attrs["sweep"]
    assert info["computed"] == [points[1].id] and info["ok"] == 3
    aside = list((out / "damaged").iterdir())
    assert [str(p) for p in aside] == info["set_aside"] and aside[0].name.endswith(victim.name)
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_a_damaged_or_foreign_batch_is_set_aside_and_recomputed(tmp_path):
    spec = {"sweep": {"model": "CascadeCollisionModel", "seed": 5},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "thermal", "temperature": 0.5},
            "run": {"t_max": 0.5, "dt": 0.01, "save_every": 10, "method": "trajectories",
                    "n_trajectories": 300, "n_threads": 1, "batches": 3},
            "grid": {"model.gamma": [1.0]}}
    point = sweep.validate(spec).points[0]
    folder = SweepFolder.open(tmp_path, sweep.validate(spec))
    for first, count in [(0, 64), (64, 128), (192, 108)]:
        task = point_module.Task(point.id, point.definition, point.seed, first, count)
        folder.write_batch(point.id, first, count, point_module.execute(task).result)
    folder.close()
    batches = tmp_path / "points"
    _truncate(batches / f"{point.id}.batch-0-64.npz", None)
    shutil.copyfile(batches / f"{point.id}.batch-192-108.npz",  # the wrong range
                    batches / f"{point.id}.batch-64-128.npz")
    ran = []
    real = point_module.execute
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("collision.sweep.backends.execute",
                   lambda task: ran.append(task.key) or real(task))
        with pytest.warns(DamagedFileWarning) as caught:
            table = sweep.run(spec, tmp_path, workers=1, progress=False)
    assert sorted(ran) == [(point.id, 0, 64), (point.id, 64, 128)]
    assert [str(w.message).split(" cannot be read")[0].split(" holds trajectories")[0]
            for w in caught] == [str(batches / f"{point.id}.batch-{r}.npz")
                                 for r in ("0-64", "64-128")]
    assert len(list((tmp_path / "damaged").iterdir())) == 2
    model = CascadeCollisionModel("qubit", temperature=1.0)
    single = model.run([states.thermal("qubit", 0.5)] * 2, 0.5, 0.01, save_every=10,
                       method="trajectories", n_trajectories=300, seed=point.seed)
    assert np.array_equal(table["total"].to_numpy(), single.total)


@pytest.mark.parametrize("out", ["", "   "], ids=["empty", "blank"])
def test_an_empty_out_dir_is_refused(tmp_path, monkeypatch, capsys, out):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="out_dir must name the sweep's folder"):
        sweep.run(gaussian_spec(), out, workers=1, progress=False)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(gaussian_spec()))
    assert main(["sweep", str(spec), "--out", out, "--workers", "1", "--quiet"]) == 2
    assert "--out must name the sweep's folder" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["spec.json"]


# --- lazy grids, the point limit, checks per value --------------------------------------------

def test_points_are_made_on_demand_in_grid_order():
    spec = qubit_spec({"model.temperature": [0.5, 1.0, 2.0], "initial.temperature": [1.0, 3.0]})
    spec["points"] = [{"model.temperature": 4.0}]
    points = sweep.validate(spec).points
    listed = list(points)
    assert len(points) == len(listed) == 7
    assert [p.values for p in listed[:6]] == [
        {"model.temperature": t, "initial.temperature": s}
        for t in (0.5, 1.0, 2.0) for s in (1.0, 3.0)]
    assert [(p.index, p.id, p.seed) for p in listed] == \
        [(p.index, p.id, p.seed) for p in (points[k] for k in range(-7, 0))]
    assert points[2:4] == listed[2:4]
    with pytest.raises(IndexError):
        points[7]


@pytest.mark.parametrize("grid, explicit, message", [
    ({"model.temperature": [0.5, 1.0], "initial.temperature": [1.0, 3, 3.0]}, [],
     "points 1 and 2 are the same point"),
    ({"model.temperature": [0.5, 1.0], "initial.temperature": [1.0, 3.0]},
     [{"model.temperature": 1, "initial.temperature": 3}], "points 3 and 4 are the same point"),
    ({"model.temperature": [0.5]}, [{"model.temperature": 1.0}, {"model.temperature": 1}],
     "points 1 and 2 are the same point"),
], ids=["repeated-grid-value", "explicit-equals-grid", "explicit-twice"])
def test_duplicate_points_are_found_without_listing_the_grid(grid, explicit, message):
    spec = qubit_spec(grid)
    spec["points"] = explicit
    with pytest.raises(sweep.SweepSpecError) as err:
        sweep.validate(spec)
    assert any(message in p for p in err.value.problems), err.value.problems


def test_a_grid_of_a_billion_points_is_refused_with_its_count_and_the_limit(capsys, tmp_path):
    axis = [1.0 + k / 1000 for k in range(1000)]
    spec = qubit_spec({"model.temperature": axis, "model.gamma": axis,
                       "initial.temperature": axis})
    tracemalloc.start()
    try:
        with pytest.raises(sweep.SweepSpecError) as err:
            sweep.validate(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "1,000,000,000 points (1000 x 1000 x 1000 grid), more than max_points = " \
           "1,000,000" in str(err.value)
    assert peak < 20e6  # the points are counted, never listed
    small = qubit_spec({"model.temperature": [0.5, 1.0, 2.0], "model.gamma": [1.0, 0.5, 0.25]})
    with pytest.raises(sweep.SweepSpecError, match="9 points .* max_points = 8"):
        sweep.run(small, tmp_path / "small", workers=1, progress=False, max_points=8)
    assert not (tmp_path / "small").exists()
    assert len(sweep.validate(small, max_points=9).points) == 9
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small))
    assert main(["sweep", str(path), "--out", str(tmp_path / "small"), "--max-points", "8"]) == 2
    assert "more than max_points = 8" in capsys.readouterr().err


def test_a_million_point_grid_checks_each_value_once(monkeypatch):
    axis = [1.0 + k / 100 for k in range(100)]
    spec = qubit_spec({"model.temperature": axis, "model.gamma": axis,
                       "initial.temperature": axis})
    checked = []
    real = spec_module.check_definition
    monkeypatch.setattr(spec_module, "check_definition",
                        lambda d: checked.append(d) or real(d))
    points = sweep.validate(spec).points
    assert len(points) == 10**6
    assert len(checked) == 1 + 3 * 99  # the first point, then every other value once
    for name, values in spec["grid"].items():  # every value of every name was checked
        section, key = name.split(".")
        field = {"model": "model_params", "initial": "initial"}[section]
        assert {getattr(d, field)[key] for d in checked} == set(values)
    assert points[-1].values == {"model.temperature": 1.99, "model.gamma": 1.99,
                                 "initial.temperature": 1.99}

    spec["grid"]["model.temperature"] = [*axis[:57], -1.0, *axis[58:]]
    with pytest.raises(sweep.SweepSpecError) as err:
        sweep.validate(spec)
    assert "point of the 298 checked" in str(err.value) and "model.temperature = -1.0" \
        in str(err.value) and "temperature must be" in str(err.value)


def test_a_point_of_a_large_sweep_failing_a_combined_check_is_never_computed(
        tmp_path, monkeypatch):
    """Above CHECK_EVERY points, a problem of a combination of values that the checks
    per value did not meet is found just before that point runs: it is recorded as
    failed and never computed."""
    monkeypatch.setattr(spec_module, "CHECK_EVERY", 2)
    spec = qubit_spec({"run.t_max": [0.05, 0.015], "run.dt": [0.01, 0.02]})
    computed = []
    real = CascadeCollisionModel.run
    monkeypatch.setattr(CascadeCollisionModel, "run",
                        lambda self, *a, **k: computed.append(a[1:3]) or real(self, *a, **k))
    table = sweep.run(spec, tmp_path, workers=1, progress=False)
    rows = table.drop_duplicates("point")
    failed = rows[rows["status"] == "failed"]
    assert failed[["run.t_max", "run.dt"]].values.tolist() == [[0.015, 0.02]]
    assert "t_max must be finite and >= dt" in failed["error"].iloc[0]
    assert sorted(computed) == [(0.015, 0.01), (0.05, 0.01), (0.05, 0.02)]


@pytest.mark.parametrize("model, extra", [
    ("CascadeCollisionModel", {"system": "qubit"}), ("GaussianCollisionModel", {})],
    ids=["cascade", "gaussian"])
def test_the_points_are_checked_by_the_model_s_own_run_validation(monkeypatch, model, extra):
    """A delay that is not a whole number of steps is refused at validation, and so is
    anything the model's plan (which its run calls first) refuses."""
    spec = {"sweep": {"model": model}, "model": {**extra, "temperature": 1.0},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": {"t_max": 0.1, "dt": 0.01}, "grid": {"model.delay": [0.02, 0.015]}}
    with pytest.raises(sweep.SweepSpecError) as err:
        sweep.validate(spec)
    assert "point (model.delay = 0.015): delay = 0.015 must be a whole number of time " \
           "steps" in str(err.value)
    cls = point_module.model_class(model)
    monkeypatch.setattr(cls, "plan", lambda self, *a, **k: (_ for _ in ()).throw(
        ValueError("the plan's own check")))
    spec["grid"]["model.delay"] = [0.02]
    with pytest.raises(sweep.SweepSpecError, match="the plan's own check"):
        sweep.validate(spec)


# --- workers exit with their parent -------------------------------------------------------------

PARENT_SCRIPT = """
import sys
from collision import sweep
sweep.run(sys.argv[1], sys.argv[2], workers=2, progress=False)
"""


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: parent ids)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_parent_of_a_two_worker_sweep_ends_every_process_it_started(tmp_path):
    spec = {"sweep": {"model": "CascadeCollisionModel", "seed": 5},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "thermal"},
            "run": {"t_max": 20.0, "dt": 0.01, "method": "trajectories",
                    "n_trajectories": 100000, "n_threads": 1},  # minutes per point
            "grid": {"initial.temperature": [0.5, 1.0, 1.5, 2.0]}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.Popen([sys.executable, "-c", PARENT_SCRIPT, str(path),
                             str(tmp_path / "out")], env={**os.environ, "PYTHONPATH": str(ROOT)})
    started = set()
    try:
        deadline = time.monotonic() + 120
        while True:  # the fork server, the resource tracker and the two workers
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, f"workers not started: {started}"
            started = _descendants(proc.pid)
            if len(started - set(_children(proc.pid))) >= 2:  # grandchildren: workers
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30  # they exit in well under a second; 30 s on a busy machine
    while any(_alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in started if _alive(p)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running after their parent died: {left}"


def _children(pid: int) -> list[int]:
    return [p for p in _descendants(pid) if _parent(p) == pid]


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_batches_that_cannot_be_merged_are_set_aside_and_the_point_recomputed(tmp_path):
    """Batches that load but refuse to merge (written by a version that recorded no
    initial-state digest, say) fail the point with a message, are moved to damaged/, and
    the next run computes the point anew; no traceback."""
    spec = {"sweep": {"model": "CascadeCollisionModel", "seed": 5},
            "model": {"system": "qubit", "temperature": 1.0},
            "initial": {"state": "thermal", "temperature": 0.5},
            "run": {"t_max": 0.3, "dt": 0.01, "save_every": 10, "method": "trajectories",
                    "n_trajectories": 128, "n_threads": 1, "batches": 2},
            "grid": {"model.gamma": [1.0]}}

    def refuse(first, second):
        raise ValueError("cannot merge: the results do not both record initial_state")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("collision.sweep.runner.merge_results", refuse)
        with pytest.warns(DamagedFileWarning):
            table = sweep.run(spec, tmp_path, workers=1, progress=False)
    assert list(table["status"]) == ["failed"]
    assert len(list((tmp_path / "damaged").iterdir())) == 2
    again = sweep.run(spec, tmp_path, workers=1, progress=False)
    assert set(again["status"]) == {"ok"}  # one row per saved time


def test_a_spec_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_bytes(b"[sweep]\nmodel = \"\xff\xfe\"\n")
    with pytest.raises(ValueError, match=r"spec\.toml is not UTF-8 text"):
        sweep.validate(str(path))
