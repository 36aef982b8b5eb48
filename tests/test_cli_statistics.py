"""``collision statistics``: files, numbers consistent with the library, clean errors."""

import re

import numpy as np
import pytest

from collision.cli import main
from lindblad.counting import HeatStatistics

pytestmark = pytest.mark.filterwarnings("ignore::collision.AccuracyWarning",
                                        "ignore::collision.TruncationWarning")


def test_statistics_writes_csv_png_and_checks_the_theorem(tmp_path, capsys):
    argv = ["statistics", "--t-max", "2", "--dt", "0.02", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for name in ("statistics.csv", "statistics_reference.csv", "statistics.png"):
        assert f"wrote {tmp_path / name}" in out and (tmp_path / name).stat().st_size > 0
    res = HeatStatistics.load(tmp_path / "statistics.csv")
    ref = HeatStatistics.load(tmp_path / "statistics_reference.csv")
    np.testing.assert_allclose(res.probabilities.sum(axis=1), 1.0, atol=1e-13)
    idx = np.searchsorted(res.t, ref.t)
    # O(dt) agreement with the master equation (measured 2.4e-3 at dt = 0.02)
    assert np.max(np.abs(res.probabilities[idx] - ref.probabilities)) < 5e-3
    dev = float(re.search(r"fluctuation theorem: max .* = (\S+)", out).group(1))
    assert dev < 1e-10


@pytest.mark.parametrize("argv", [
    ["--independent"],
    ["--method", "trajectories", "--n-trajectories", "64", "--seed", "2"],
    ["--system", "oscillator", "--cutoff", "4", "--ts", "0.5", "--log"],
    ["--rho23", "0.5", "--times", "0.2,0.5"],
], ids=["independent", "trajectories", "oscillators", "eq41"])
def test_statistics_variants(tmp_path, argv):
    assert main(["statistics", *argv, "--quick", "--t-max", "0.5", "--out", str(tmp_path),
                 "--quiet"]) == 0
    res = HeatStatistics.load(tmp_path / "statistics.csv")
    assert res.t[-1] == pytest.approx(0.5)
    if "--independent" in argv:
        assert res.joint is not None and res.joint.shape == (res.t.size, 3, 3)


@pytest.mark.parametrize("argv, message", [
    (["--seed", "3"], "--method trajectories"),
    (["--times", "9"], "after --t-max"),
    (["--cutoff", "4"], "oscillators only"),
    (["--method", "gaussian"], "invalid choice"),
    (["--rho23", "0.5", "--n-systems", "3"], "eq 41"),
], ids=["seed-for-density", "late-time", "cutoff-for-qubits", "gaussian", "rho23-chain"])
def test_statistics_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main(["statistics", *argv, "--t-max", "1", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
