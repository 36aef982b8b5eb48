"""The studies' model runs as sweeps (collision.studies.sweeps; issue 13, item 7).

Every check is exact: a sweep point runs the same code on the same plain values as the
direct loop the studies used before, and a point file holds its result bit for bit, so
the figures' arrays are *equal* (``assert_array_equal``) whether the runs are direct
calls, points in this process, points in a folder, or points on two local processes.
Settings are shortened (``t_max`` 2, coarse grids) so that every test takes seconds.
"""

import contextlib
import io
from dataclasses import fields, is_dataclass, replace

import numpy as np
import pytest

from collision import CascadeCollisionModel, cli
from collision.studies import delay, delay_report
from collision.studies.paper import FigureSettings, figure_3b
from collision.studies.paper import compute as paper
from collision.studies.paper import report as paper_report
from collision.studies.sweeps import SweepRuns, results_from_table, sweep_spec
from collision.sweep import SweepSpecError, validate
from lindblad import CascadeMasterEquation, states

pytest.importorskip("pandas")

SHORT = replace(FigureSettings.quick(), t_max=2.0)
SHORT_DELAY = replace(delay.DelaySettings.quick(), t_max=2.0, delays=(0.0, 1.0),
                      n_release_delays=6, tail=10.0)


def assert_same(a, b, where="result"):
    """Every array of two results (dataclasses, dicts, lists) equal bit for bit."""
    if is_dataclass(a):
        for f in fields(a):
            if f.name != "runs":
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b or (a != a and b != b), where


def point_files(folder):
    return {p.name: p.stat().st_mtime_ns for p in (folder / "points").glob("*.npz")}


# --- exact references at explicit times ([run] times) --------------------------------------------

def test_reference_at_explicit_times_is_the_models_heat_fluxes():
    times = [0.0, 0.3, 0.999999999, 1.0, 2.5]
    spec = sweep_spec("CascadeMasterEquation", {"system": "qubit", "temperature": 0.0,
                                                "delay": 1.0},
                      {"state": "correlated_qubits", "xi_s": 0.25, "rho23": 0.5},
                      {"times": times}, [{}])
    [result] = SweepRuns().run("ref", spec)
    model = CascadeMasterEquation("qubit", temperature=0.0, delay=1.0)
    expected = model.heat_fluxes(states.correlated_qubits(0.25, 0.5), times)
    np.testing.assert_array_equal(result.t, times)
    for key in ("local", "correlated", "in_flight"):
        np.testing.assert_array_equal(getattr(result, key), getattr(expected, key))


@pytest.mark.parametrize("run, message", [
    ({"times": [0.0, 1.0], "dt": 0.1}, "give it without dt"),
    ({"times": 1.0}, "run.times must be a list"),
    ({"times": [0.0, 2.0, 1.0]}, "run.times must be sorted"),
    ({"times": [-1.0, 1.0]}, "run.times must be finite and >= 0"),
    ({}, "[run] needs t_max and dt (units of 1/gamma), or times"),
], ids=["times-and-dt", "not-a-list", "unsorted", "negative", "missing"])
def test_reference_times_are_validated(run, message):
    spec = sweep_spec("CascadeMasterEquation", {"system": "qubit"},
                      {"state": "thermal", "temperature": 1.0}, run, [{}])
    with pytest.raises(SweepSpecError) as err:
        validate(spec)
    assert message in str(err.value)


def test_times_do_not_apply_to_an_engine():
    spec = sweep_spec("CascadeCollisionModel", {"system": "qubit"},
                      {"state": "thermal", "temperature": 1.0},
                      {"t_max": 1.0, "dt": 0.1, "times": [0.0, 1.0]}, [{}])
    with pytest.raises(SweepSpecError, match="times unknown"):
        validate(spec)


def test_runs_refuse_workers_with_a_client():
    with pytest.raises(ValueError, match="give one or the other"):
        SweepRuns("out", workers=2, client="tcp://localhost:8786")


# --- the figures' arrays are the same, however the runs are computed ---------------------------

def test_fig2_is_the_direct_loop_bit_for_bit(tmp_path):
    """Fig. 2's qubit panel (density engine and master equation, both reservoirs) against
    the loop the figure ran before it was a sweep."""
    fig = paper.compute_figure_2(replace(SHORT, runs=SweepRuns(tmp_path)), t_s=(0.5, 2.0))
    panel = fig.panels["qubits"]
    t_max = paper._engine_grid(SHORT.t_max, SHORT.dt)
    for i, ts in enumerate((0.5, 2.0)):
        rho = states.product(states.thermal("qubit", ts), states.thermal("qubit", ts))
        for cascade, key in ((True, "total"), (False, "independent")):
            model = CascadeCollisionModel("qubit", temperature=1.0, cascade=cascade)
            res = model.run(rho, t_max, SHORT.dt)
            ref = model.master_equation().heat_fluxes(rho, res.t)
            np.testing.assert_array_equal(panel.engine[key][i], res.total)
            np.testing.assert_array_equal(panel.reference[key][i], ref.total)
            if cascade:
                for k in ("J1", "J2", "J12"):
                    np.testing.assert_array_equal(panel.engine[k][i], getattr(res, k))
                    np.testing.assert_array_equal(panel.reference[k][i], getattr(ref, k))
    assert sorted(p.name for p in (tmp_path / "fig2").iterdir()) == [
        "oscillators", "qubits", "qubits-reference"]


@pytest.mark.parametrize("name", ["compute_figure_3a", "compute_figure_3b", "compute_figure_4a",
                                  "compute_figure_6a"])
def test_figures_via_a_sweep_folder_equal_the_direct_computation(tmp_path, name):
    direct = getattr(paper, name)(SHORT)
    swept = getattr(paper, name)(replace(SHORT, runs=SweepRuns(tmp_path)))
    assert_same(direct, swept)
    assert point_files(tmp_path / f"fig{name.split('_')[-1]}" / ("qubits" if name.endswith(
        "3b") else "oscillators" if name.endswith("3a") else ""))


def test_stationary_check_via_a_sweep_folder(tmp_path):
    direct = paper.stationary_points_check(SHORT, c_sums=(-1.0, 1.0))
    swept = paper.stationary_points_check(replace(SHORT, runs=SweepRuns(tmp_path)),
                                          c_sums=(-1.0, 1.0))
    assert_same(direct, swept)
    assert len(point_files(tmp_path / "eqs35-38")) == 2


@pytest.mark.parametrize("system", delay.SYSTEMS)
def test_delay_study_via_a_sweep_folder_equals_the_direct_loop(tmp_path, system):
    swept = replace(SHORT_DELAY, runs=SweepRuns(tmp_path))
    assert_same(delay.compute_release(system, SHORT_DELAY), delay.compute_release(system, swept))
    panel = delay.compute_fluxes(system, swept)
    # the loop compute_fluxes ran before: engine and reference at the engine's times
    spec = delay._system(system)
    t_max = paper._engine_grid(SHORT_DELAY.t_max, SHORT_DELAY.dt)
    for k, d in enumerate(SHORT_DELAY.delays):
        for i, v in enumerate(spec.flux_values):
            res = spec.engine(d).run(spec.flux_state(v), t_max, SHORT_DELAY.dt)
            ref = spec.reference(d).heat_fluxes(spec.flux_state(v), res.t)
            for key in delay.FLUX_KEYS:
                np.testing.assert_array_equal(panel.engine[key][k, i], getattr(res, key))
                np.testing.assert_array_equal(panel.reference[key][k, i], getattr(ref, key))


# --- resuming -----------------------------------------------------------------------------------

def test_a_removed_point_is_the_only_one_recomputed(tmp_path):
    first = figure_3b(tmp_path, SHORT)
    csv = first.csv.read_bytes()
    folder = tmp_path / "sweeps" / "fig3b" / "qubits"
    before = point_files(folder)
    assert len(before) == 6                       # 3 states x (cascade, independent)
    lost = sorted(before)[2]
    (folder / "points" / lost).unlink()
    again = figure_3b(tmp_path, SHORT)
    after = point_files(folder)
    assert after.keys() == before.keys()
    assert [n for n in after if after[n] != before[n]] == [lost]   # the others untouched
    assert again.csv.read_bytes() == csv
    assert_same(first, again)


def _interrupt_the_third_point(monkeypatch) -> None:
    """Ctrl-C while the third point computed in this process runs."""
    import collision.sweep.point as point

    calls = []
    real = point.compute

    def interrupted_third(task):
        calls.append(task.point_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(point, "compute", interrupted_third)


def test_ctrl_c_keeps_the_finished_points_and_a_rerun_computes_the_rest(tmp_path, monkeypatch):
    settings = replace(SHORT, runs=SweepRuns(tmp_path))
    _interrupt_the_third_point(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        paper.compute_figure_3b(settings)
    folder = tmp_path / "fig3b" / "qubits"
    kept = point_files(folder)
    assert len(kept) == 2
    monkeypatch.undo()  # the real point.compute
    resumed = paper.compute_figure_3b(settings)
    after = point_files(folder)
    assert len(after) == 6 and all(after[n] == kept[n] for n in kept)
    assert_same(paper.compute_figure_3b(SHORT), resumed)


def test_results_from_a_table_with_a_failed_point_are_refused():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"point": ["a"], "status": ["failed"], "t": [np.nan]})
    with pytest.raises(ValueError, match="point a has no result"):
        results_from_table(table)


# --- the commands ---------------------------------------------------------------------------------

def _figures(tmp_path, monkeypatch, *options):
    """``collision figures --quick`` restricted to Fig. 3(b) and the eqs 35-38 check."""
    monkeypatch.setattr(paper_report, "FIGURES", {"fig3b": figure_3b})
    out = tmp_path / "_".join(options or ("default",)).replace("-", "")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = cli.main(["figures", "--quick", "--quiet", "--out", str(out), *options])
    return status, out, buf.getvalue()


@pytest.fixture
def pools_started(monkeypatch):
    """The pools of local processes started (a list that grows by one per pool)."""
    from collision.sweep import backends

    started = []

    class Counted(backends.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            started.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(backends, "ProcessPoolExecutor", Counted)
    return started


def test_figures_on_two_workers_write_the_same_csv(tmp_path, monkeypatch, pools_started):
    status, one, _ = _figures(tmp_path, monkeypatch, "--workers", "1")
    assert status == 0 and not (one / "sweeps").exists()     # removed once all is written
    assert pools_started == []
    status, two, stdout = _figures(tmp_path, monkeypatch, "--workers", "2", "--keep-sweeps")
    assert status == 0
    assert pools_started == [2]             # one pool for the sweeps of fig3b and eqs 35-38
    assert len(list((two / "sweeps").rglob("sweep.json"))) == 2
    assert (two / "fig3b.csv").read_bytes() == (one / "fig3b.csv").read_bytes()
    assert len(point_files(two / "sweeps" / "fig3b" / "qubits")) == 6
    assert f"kept the model runs in {two / 'sweeps'}" in stdout


def test_delay_study_on_a_shared_pool_writes_the_same_files(tmp_path, pools_started):
    """Every sweep of the delay study on one pool of 2 processes: the CSV files are those
    of 1 worker byte for byte, and the pool is started once for its 8 sweeps."""
    one = delay_report.run_study(tmp_path / "one", settings=SHORT_DELAY)
    two = delay_report.run_study(tmp_path / "two", settings=replace(SHORT_DELAY, runs=SweepRuns(
        tmp_path / "sweeps", workers=2)), keep_sweeps=True)
    assert pools_started == [2]
    assert len(list((tmp_path / "sweeps").rglob("sweep.json"))) == len(delay_report.SWEEPS) * 2
    assert two.settings.runs.pool is None                        # the closed pool is not kept
    csv = sorted(p.name for p in one.files if p.suffix == ".csv")
    assert csv == sorted(p.name for p in two.files if p.suffix == ".csv") and len(csv) == 6
    for name in csv:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


@pytest.mark.parametrize("options, message", [
    (["--workers", "2", "--scheduler", "tcp://localhost:8786"], "give one or the other"),
    (["--workers", "0"], "must be an integer >= 1"),
], ids=["workers-and-scheduler", "no-workers"])
@pytest.mark.parametrize("command", ["figures", "delay"])
def test_study_commands_refuse_bad_execution_options(tmp_path, capsys, command, options,
                                                     message):
    assert cli.main([command, "--quick", "--out", str(tmp_path / "out"), *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_delay_ctrl_c_keeps_the_finished_runs(tmp_path, monkeypatch, capsys):
    _interrupt_the_third_point(monkeypatch)
    assert cli.main(["delay", "--quick", "--quiet", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "no file of the study was written" in err
    assert f"the finished model runs are kept in {tmp_path / 'sweeps'}" in err
    assert [p.name for p in tmp_path.iterdir()] == ["sweeps"]
    assert len(point_files(tmp_path / "sweeps" / "fluxes-oscillator" / "engine")) == 2


def test_delay_ctrl_c_on_two_workers_stops_the_shared_pool(tmp_path, monkeypatch, capsys):
    """Ctrl-C during the third point of the delay study on 2 local processes: the finished
    points are kept and no process of the pool is left."""
    import multiprocessing

    from collision.sweep import runner

    real = runner._Bookkeeping.finish
    finished = []

    def interrupted_third(self, task, outcome):
        if len(finished) == 2:
            raise KeyboardInterrupt
        finished.append(task.point_id)
        real(self, task, outcome)

    monkeypatch.setattr(runner._Bookkeeping, "finish", interrupted_third)
    before = {p.pid for p in multiprocessing.active_children()}
    assert cli.main(["delay", "--quick", "--quiet", "--workers", "2",
                     "--out", str(tmp_path)]) == 130
    assert "no file of the study was written" in capsys.readouterr().err
    assert len(point_files(tmp_path / "sweeps" / "fluxes-oscillator" / "engine")) == 2
    assert not [p for p in multiprocessing.active_children()
                if p.pid not in before and p.is_alive()]
