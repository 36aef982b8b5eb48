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


# --- issue 17 item 10: the integer distribution is drawn at the integers; clean warnings ----

def _stats(method):
    from collision import CascadeCollisionModel
    from lindblad import states

    model = CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.product(*[states.thermal("qubit", 2.0)] * 2)
    kw = dict(n_trajectories=200, seed=3) if method == "trajectories" else {}
    res = model.heat_statistics(rho0, 1.0, 0.05, method=method, save_every=2, **kw)
    return res, model.master_equation().heat_statistics(rho0, res.t)


def _draw_statistics(method, reference, log):
    res, ref = _stats(method)
    ax_p, _ = res.plot(reference=ref if reference else None, log=log)
    return ax_p, res, reference


def _draw_study(method, reference, log):
    from collision.studies.heat_statistics import CorrelationPanel
    from collision.studies.heat_statistics_plots import plot_correlations

    res, ref = _stats(method)
    panel = CorrelationPanel("qubit", "Re rho23", np.array([0.0, 0.5]), [res, res], [ref, ref])
    return plot_correlations(panel).axes[3], res, True


@pytest.mark.parametrize("draw, method, reference, log", [
    (_draw_statistics, "density", True, False),
    (_draw_statistics, "trajectories", True, True),
    (_draw_statistics, "density", False, False),
    (_draw_study, "density", True, False),
], ids=["statistics-density", "statistics-trajectories-log", "statistics-no-reference",
        "study-correlations"])
def test_integer_distribution_is_drawn_as_bars_and_stems_at_integers(draw, method, reference,
                                                                    log):
    from matplotlib.container import BarContainer, StemContainer

    ax, res, has_reference = draw(method, reference, log)
    ax.figure.canvas.draw()
    ticks = ax.get_xticks()
    assert ticks.size >= 2 and np.all(ticks == np.round(ticks)), ticks
    stems = [c for c in ax.containers if isinstance(c, StemContainer)]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert stems and (len(bars) == len(stems) if has_reference else not bars)
    # every point sits in the group of width 0.8 around its integer q, one per quantum
    xs = [np.asarray(s.markerline.get_xdata(), float) for s in stems]
    xs += [np.array([r.get_x() + r.get_width() / 2 for r in b]) for b in bars]
    for x in xs:
        assert np.all(np.abs(x - np.round(x)) < 0.4)
        np.testing.assert_array_equal(np.round(x), res.quanta)
    # nothing joins the probabilities of different q by a line
    assert all(line.get_linestyle() in ("None", "") or len(line.get_xdata()) <= 2
               for line in ax.lines)


def test_statistics_command_prints_warnings_without_a_source_path(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    argv = [sys.executable, "-m", "collision", "statistics", "--quick", "--t-max", "0.5",
            "--out", str(tmp_path), "--quiet"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    # --quick's dt = 0.05 is coarse: the engine's AccuracyWarning, in the CLI's format
    assert [ln for ln in lines if "warning:" in ln] == [
        ln for ln in lines if ln.startswith("collision statistics: warning: gamma * dt = 0.05")]
    assert any("warning:" in ln for ln in lines)
    assert not [ln for ln in lines if ".py:" in ln or "<frozen" in ln or "Warning:" in ln]
