"""The command line: files written, numbers consistent with the library, clean errors."""

import csv

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
    ["run", "--engine", "gaussian", "--ts", "1.5", "--c13", "0.3", "--c24", "0.3"],
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
    (["run", "--dt", "-0.1"], "dt must be"),
    (["run", "--dt", "0.9"], "too large"),
    (["run", "--temperature", "-1"], "temperature"),
    (["run", "--rho23", "2"], "eq 42"),
    (["run", "--c13", "0.3"], "--engine gaussian"),
], ids=["negative-dt", "huge-dt", "negative-T", "rho23-out-of-bounds", "c13-needs-gaussian"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
