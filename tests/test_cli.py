"""The command line: files written, numbers consistent with the library, clean errors."""

import argparse
import csv
import re
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


# --- issue 17 item 10: help, warnings and version ------------------------------------------

def _parsers():
    """(name, parser) of the top-level command and of every subcommand."""
    from collision.cli import build_parser

    top = build_parser()
    subs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return [("collision", top),
            *((f"collision {name}", parser) for name, parser in subs.choices.items())]


_PARSERS = _parsers()
_IDS = [name.replace(" ", "-") for name, _ in _PARSERS]


def test_every_subcommand_is_covered():
    assert {name for name, _ in _PARSERS} == {
        "collision", *(f"collision {c}" for c in (
            "run", "converge", "figures", "statistics", "delay", "memory", "machines", "bench",
            "sweep"))}


@pytest.mark.parametrize("name, parser", _PARSERS, ids=_IDS)
def test_help_states_each_default_once_through_one_mechanism(name, parser):
    formatter = parser._get_formatter()
    for action in parser._actions:
        # one mechanism: the help texts never state a default, the formatter adds it
        assert "default" not in (action.help or "").lower(), (name, action.option_strings)
        entry = formatter._expand_help(action) if action.help else ""
        assert entry.lower().count("default") <= 1, (name, entry)
        assert "(default: None)" not in entry and "(default: False)" not in entry
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert "(default: " in entry, (name, action.option_strings)
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text


@pytest.mark.parametrize("name, parser", _PARSERS, ids=_IDS)
def test_help_mentions_only_options_and_values_the_command_accepts(name, parser):
    text = " ".join(parser.format_help().split())
    options = {s: a for a in parser._actions for s in a.option_strings}
    for flag in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)):
        assert flag in options, f"{name} --help mentions {flag}, which it does not accept"
    # a value of any command's choices named after a flag must be one of that flag's
    # (e.g. no "--method gaussian" in the help of a command whose --method lacks it)
    values = {str(c) for _, p in _PARSERS for a in p._actions for c in (a.choices or ())
              if not isinstance(a, argparse._SubParsersAction)}
    for flag, value in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*) ([a-z]+)\b", text):
        choices = options[flag].choices
        if value in values and value not in (choices or ()):
            pytest.fail(f"{name} --help mentions {flag} {value}; its choices are {choices}")


@pytest.mark.parametrize("command", ["converge", "statistics"])
def test_errors_of_commands_without_gaussian_do_not_suggest_it(tmp_path, capsys, command):
    argv = [command, "--system", "oscillator", "--ts", "10", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--cutoff" in err and "--method gaussian" not in err


_WARNINGS = [(UserWarning, "plain"), (RuntimeWarning, "numpy-like"),
             ("AccuracyWarning", "engine"), ("TruncationWarning", "engine cutoff")]
_COMMANDS = [("run", "cmd_run", []), ("converge", "cmd_converge", []),
             ("figures", "cmd_figures", []), ("statistics", "cmd_statistics", []),
             ("delay", "cmd_delay", []), ("memory", "cmd_memory", []),
             ("machines", "cmd_machines", []),
             ("bench", "cmd_bench", []),
             ("sweep", "cmd_sweep", ["spec.toml"])]


@pytest.mark.parametrize("command, func, extra", _COMMANDS, ids=[c[0] for c in _COMMANDS])
@pytest.mark.parametrize("category, text", _WARNINGS, ids=[w[1] for w in _WARNINGS])
def test_every_command_prints_warnings_in_one_clean_format(monkeypatch, capsys, command,
                                                           func, extra, category, text):
    import warnings

    import collision
    import collision.cli as cli

    category = getattr(collision, category) if isinstance(category, str) else category

    def warns(args):
        warnings.warn(f"{text} 50% off", category, stacklevel=2)
        return 0

    monkeypatch.setattr(cli, func, warns)
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main([command, *extra]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"collision {command}: warning: {text} 50% off\n"
    assert ".py:" not in captured.err + captured.out and "<frozen" not in captured.err
    assert warnings.showwarning is before  # the format is the CLI's, not left behind


@pytest.mark.parametrize("argv, prefix", [
    ([], "collision: error: "),
    (["bogus"], "collision: error: "),
    (["--bogus"], "collision: error: "),
    (["run", "--bogus"], "collision run: error: "),
], ids=["no-command", "unknown-command", "unknown-option", "unknown-run-option"])
def test_errors_name_the_command_only_when_there_is_one(capsys, argv, prefix):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(prefix) and err.count("\n") == 1


def test_version_of_both_packages_and_of_the_command(capsys):
    from importlib.metadata import version

    import collision
    import lindblad

    assert collision.__version__ == lindblad.__version__ == version("cascade-collisions")
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"collision {collision.__version__}"


@pytest.mark.parametrize("pyproject, expected", [
    ("[project]\nname = \"cascade-collisions\"\nversion = \"9.8.7\"\n", "9.8.7"),
    ("\ufeff[build-system]\nrequires = []\n[project]\nname = \"cascade-collisions\"\n"
     "version = \"1.2\"\n[tool.x]\nversion = \"0\"\n", "1.2"),
    ("[project]\nname = \"other-package\"\nversion = \"3.0\"\n", None),
    ("[project]\nname = \"cascade-collisions\"\ndynamic = [\"version\"]\n", None),
    (None, None),
], ids=["checkout", "bom-and-other-tables", "other-distribution", "dynamic", "no-file"])
def test_version_of_a_source_checkout_without_metadata(tmp_path, monkeypatch, pyproject,
                                                       expected):
    from importlib.metadata import PackageNotFoundError

    from lindblad import _version

    path = tmp_path / "pyproject.toml"
    if pyproject is not None:
        path.write_text(pyproject, encoding="utf-8")
    assert _version.source_version(path) == expected

    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(_version, "version", not_installed)
    monkeypatch.setattr(_version, "__file__", str(tmp_path / "lindblad" / "_version.py"))
    assert _version.package_version() == (expected or _version.UNKNOWN)


# --- figure labels: a quantity with a unit shows its unit --------------------------------------

def _legend_texts(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend() is not None
            for t in ax.get_legend().get_texts()]


def _release_figure(monkeypatch, tmp_path):
    from collision.studies.paper import plots
    from collision.studies.paper.results import ReleaseTimeFigure

    monkeypatch.setattr(plots, "_save", lambda fig, path: fig)
    p = np.array([25.0, 50.0, 95.0])
    x = np.linspace(-1, 1, 5)
    tau = np.outer(p / 50, 1 + x**2)
    result = ReleaseTimeFigure(name="fig4a", parameter="C13 + C24", p=p, x=x,
                               tau_reference=tau, x_engine=x, tau_engine=tau,
                               tau_engine_trapezoid=tau, tau_reference_at_engine=tau, dt=0.1)
    return plots.plot_release_times(result, tmp_path / "f.png", "x", "title")


def _delay_release(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    from collision.studies import delay_plots

    delays, p, x = np.array([0.0, 1.0, 2.0]), np.array([25.0, 75.0]), np.array([-1, 0, 1.0])
    times = SimpleNamespace(reference=np.ones((3, 2, 3)), engine=np.ones((3, 2, 3)),
                            exact_threshold=np.array([np.nan, 1.0]))
    panel = SimpleNamespace(times={"released": times}, x=x, p=p, delays=delays,
                            engine_delays=delays)
    fig = Figure()
    ax = fig.subplots()
    delay_plots._release_axis(ax, panel, "released", ["C0", "C1"])
    ax.legend()
    return fig


def _flux_grid(monkeypatch, tmp_path):
    from collision.studies.paper import plots
    from collision.studies.paper.results import FLUX_KEYS, FluxFigure, FluxPanel

    monkeypatch.setattr(plots, "_save", lambda fig, path: fig)
    t = np.linspace(0, 1, 11)
    curves = {k: np.ones((2, t.size)) for k in FLUX_KEYS}
    panels = {key: FluxPanel(system=key[:-1], parameter="T_S", values=np.array([0.5, 2.0]),
                             t=t, engine=curves, reference=curves, engine_name="density",
                             reference_name="Lindblad", dt=0.1)
              for key in ("oscillators", "qubits")}
    return plots.plot_flux_grid(FluxFigure(name="fig2", panels=panels), tmp_path / "f.png")


@pytest.mark.parametrize("draw, pattern", [
    (_release_figure, r"^p = \d+%$"),
    (_delay_release, r"^p = \d+%$"),
    (_flux_grid, r"^\$k_BT_S/\\hbar\\omega\$ = [\d.]+$"),
], ids=["fig4a-release-percent", "delay-release-percent", "fig2-temperature-unit"])
def test_legends_carry_their_units(monkeypatch, tmp_path, draw, pattern):
    texts = _legend_texts(draw(monkeypatch, tmp_path))
    assert texts and all(re.match(pattern, t) for t in texts), texts
