"""The command line: files written, numbers consistent with the library, clean errors."""

import csv
from pathlib import Path

import numpy as np
import pytest

from collision.cli import main


def _read(path):
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def test_run_writes_csv_png_and_matches_reference(tmp_path, capsys):
    assert main(["run", "--t-max", "1", "--dt", "0.01", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    for name in ("run.csv", "run_reference.csv", "run.png"):
        assert (tmp_path / name).exists() and f"wrote {tmp_path / name}" in out
    run, ref = _read(tmp_path / "run.csv"), _read(tmp_path / "run_reference.csv")
    np.testing.assert_allclose(run["total"], run["J1"] + run["J2"] + run["J12"], atol=1e-12)
    # O(dt) agreement with the Lindblad reference (measured 1.8e-3 at dt = 0.01 over [0, 5])
    interp = np.interp(run["t"], ref["t"], ref["total"])
    assert np.max(np.abs(run["total"] - interp)) < 5e-3


@pytest.mark.parametrize("argv", [
    ["run", "--system", "oscillator", "--cutoff", "6", "--temperature", "0", "--ts", "0.8"],
    ["run", "--rho23", "0.3+0.1j", "--temperature", "0", "--ts", "0.5"],
    ["run", "--independent", "--n-systems", "3"],
    ["run", "--engine", "trajectories", "--n-trajectories", "64", "--seed", "3"],
    ["run", "--method", "gaussian", "--ts", "1.5", "--c13", "0.3", "--c24", "0.3"],
], ids=["oscillators", "correlated-qubits", "independent-chain", "trajectories", "gaussian"])
def test_run_variants(tmp_path, argv):
    assert main([*argv, "--t-max", "0.5", "--dt", "0.05", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "run.png").stat().st_size > 0


def test_converge_reports_first_order(tmp_path, capsys):
    argv = ["converge", "--dts", "0.1,0.05,0.025", "--t-max", "2", "--out", str(tmp_path),
            "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "converge_dt.png").exists()
    data = np.loadtxt(tmp_path / "converge_dt.csv", delimiter=",", skiprows=1)
    slope = np.polyfit(np.log(data[:, 0]), np.log(data[:, 4]), 1)[0]
    assert 0.9 < slope < 1.1
    assert "Richardson" in out


def test_converge_with_trajectories_fits_inverse_square_root(tmp_path, capsys):
    argv = ["converge", "--dts", "0.1,0.05", "--t-max", "1", "--trajectories", "250,1000,4000",
            "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    data = np.loadtxt(tmp_path / "converge_trajectories.csv", delimiter=",", skiprows=1)
    slope = np.polyfit(np.log(data[:, 0]), np.log(data[:, 1]), 1)[0]
    assert -0.6 < slope < -0.4  # n^-1/2 (fixed seeds; the engine's own tests fit it tighter)


@pytest.mark.parametrize("argv, message", [
    (["run", "--dt", "-0.1"], "argument --dt: must be a number > 0"),
    (["run", "--dt", "0.9"], "too large"),
    (["run", "--temperature", "-1"], "temperature"),
    (["run", "--rho23", "2"], "eq 42"),
    (["run", "--c13", "0.3"], "--method gaussian"),
], ids=["negative-dt", "huge-dt", "negative-T", "rho23-out-of-bounds", "c13-needs-gaussian"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# --- issue: trustworthy CLI ------------------------------------------------------------------

def test_printed_error_is_measured_at_the_engines_own_times(tmp_path, capsys):
    assert main(["run", "--t-max", "1", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    run, ref = _read(tmp_path / "run.csv"), _read(tmp_path / "run_reference.csv")
    np.testing.assert_array_equal(run["t"], ref["t"])  # reference at the engine's times
    printed = float(out.split("= ")[1].split()[0])
    assert printed == pytest.approx(np.max(np.abs(run["total"] - ref["total"])), rel=1e-3)
    assert "at the engine's 101 saved times" in out


@pytest.mark.parametrize("argv, message", [
    (["run", "--engine", "gaussian", "--system", "qubit"], "--system do(es) not apply"),
    (["run", "--engine", "gaussian", "--rho23", "0.1"], "--rho23 do(es) not apply"),
    (["run", "--engine", "gaussian", "--cutoff", "8"], "--cutoff do(es) not apply"),
    (["run", "--engine", "gaussian", "--bath", "boson"], "--bath do(es) not apply"),
    (["run", "--n-trajectories", "100"], "--method trajectories only"),
    (["run", "--seed", "4"], "--method trajectories only"),
    (["run", "--cutoff", "4"], "--cutoff applies to oscillators only"),
    (["run", "--ts", "-1"], "argument --ts: must be a number >= 0"),
    (["run", "--ts", "nan"], "argument --ts: must be finite"),
    (["run", "--dt", "abc"], "argument --dt: expected a float"),
    (["run", "--rho23", "1+nanj"], "argument --rho23: must be finite"),
    (["run", "--name", "a/b"], "--name must be a plain file stem"),
    (["converge", "--dts", "0.1,0.1"], "--dts needs at least two distinct time steps"),
    (["converge", "--dts", "0.1"], "--dts needs at least two distinct time steps"),
    (["converge", "--dts", "0.1,abc"], "argument --dts: expected a float number, got 'abc'"),
    (["converge", "--trajectories", "1,10"], "argument --trajectories: must be an integer >= 2"),
    (["run", "--system", "oscillator", "--ts", "10"], "--method gaussian"),
], ids=["gaussian-qubit", "gaussian-rho23", "gaussian-cutoff", "gaussian-bath",
        "ntraj-density", "seed-density", "cutoff-qubit", "negative-ts", "nan-ts", "dt-text",
        "rho23-nan", "name-path", "repeated-dts", "one-dt", "dts-text", "one-trajectory",
        "hot-oscillators-need-gaussian"])
def test_options_that_do_not_apply_are_refused(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_oscillator_cutoff_is_chosen_for_the_hottest_temperature(tmp_path):
    from collision.cli import CUTOFF_TOL, auto_cutoff
    from lindblad.thermal import thermal_populations

    d = auto_cutoff((1.0, 3.0), 2)
    assert thermal_populations("oscillator", 3.0, cutoff=d)[-1] <= CUTOFF_TOL
    assert thermal_populations("oscillator", 3.0, cutoff=d - 1)[-1] > CUTOFF_TOL
    assert main(["run", "--system", "oscillator", "--ts", "3", "--temperature", "0",
                 "--t-max", "0.2", "--dt", "0.05", "--out", str(tmp_path), "--quiet"]) == 0
    header = [ln for ln in (tmp_path / "run.csv").read_text().splitlines()
              if ln.startswith("# parameters")]
    assert f'"cutoff": {d}' in header[0]


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_output_folder_is_checked_before_computing(tmp_path, capsys, monkeypatch, kind):
    import collision.cli as cli

    monkeypatch.setattr(cli, "_simulate", lambda *a: pytest.fail("computed before the check"))
    if kind == "file":
        out = tmp_path / "taken"
        out.write_text("")
        expected = "exists and is not a folder"
    else:
        out = Path("/proc/no-such-folder/results")
        expected = "cannot write there"
    assert main(["run", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and expected in err


def test_failed_command_leaves_no_partial_outputs(tmp_path, monkeypatch):
    from lindblad.fluxes import HeatFluxes

    def broken_plot(self, *a, **k):
        raise ValueError("plot failed")

    monkeypatch.setattr(HeatFluxes, "plot", broken_plot)
    assert main(["run", "--t-max", "0.5", "--out", str(tmp_path), "--quiet"]) == 2
    assert list(tmp_path.iterdir()) == []  # neither run.csv nor the staging folder


def test_ctrl_c_in_the_engine_writes_the_finished_part_marked_partial(tmp_path, capsys,
                                                                      monkeypatch):
    from collision import density as density_module

    calls = []

    def interrupted(real_kernel):
        def kernel(*args):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            real_kernel(*args)
        return kernel

    for name in ("run_kraus", "run_superoperator", "run_sequential"):
        monkeypatch.setattr(density_module.kernels, name,
                            interrupted(getattr(density_module.kernels, name)))
    monkeypatch.setattr(density_module, "MIN_CHUNK_WORK", 1)
    argv = ["run", "--system", "oscillator", "--cutoff", "3", "--temperature", "0",
            "--t-max", "1", "--dt", "0.01", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "partial result: interrupted at t = " in out
    text = (tmp_path / "run.csv").read_text()
    assert "# partial" in text
    assert 2 < len(_read(tmp_path / "run.csv")["t"]) < 101


def test_ctrl_c_in_the_reference_keeps_the_engine_result(tmp_path, capsys, monkeypatch):
    from lindblad import CascadeMasterEquation

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(CascadeMasterEquation, "heat_fluxes", interrupted)
    assert main(["run", "--t-max", "0.5", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "interrupted while computing the Lindblad reference" in out
    assert (tmp_path / "run.csv").exists() and (tmp_path / "run.png").exists()
    assert not (tmp_path / "run_reference.csv").exists()


def test_ctrl_c_before_any_result_writes_nothing(tmp_path, capsys, monkeypatch):
    import collision.cli as cli

    def interrupted(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_simulate", interrupted)
    assert main(["run", "--out", str(tmp_path), "--quiet"]) == 130
    assert "nothing written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "converge", "figures", "bench"])
def test_help_lists_every_option_with_its_default(command):
    from collision.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices[command]
    text = sub.format_help()
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, f"{command} {action.option_strings} has no help text"
    if command == "run":
        assert "(default: 0.01)" in text and "(default: results)" in text


def test_figures_exit_non_zero_when_a_figure_fails(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    import collision.studies.paper as figures

    report = SimpleNamespace(files=[], seconds={"total": 0.0}, path=tmp_path / "REPORT.md",
                             failures={"fig4b": "ValueError: boom"}, ok=False)
    monkeypatch.setattr(figures, "make_all", lambda *a, **k: report)
    assert main(["figures", "--out", str(tmp_path), "--quiet"]) == 1
    assert "fig4b failed: ValueError: boom" in capsys.readouterr().err


@pytest.mark.parametrize("dts, message", [
    ([0.1, 0.1], "repeated values"),
    ([0.1], "at least two distinct"),
    ([0.1, -0.05], "finite time steps > 0"),
    ([0.1, float("nan")], "finite time steps > 0"),
], ids=["repeated", "single", "negative", "nan"])
def test_dt_convergence_refuses_steps_that_cannot_give_an_order(dts, message):
    from collision import CascadeCollisionModel
    from collision.studies.convergence import dt_convergence
    from lindblad import states

    model = CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    with pytest.raises(ValueError, match=message):
        dt_convergence(model, rho0, dts, t_max=1.0, t_state=1.0)
