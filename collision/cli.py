"""Command line: ``collision run | converge | figures | statistics | delay | memory |
machines | bench | sweep`` (the studies' commands in :mod:`collision.studies.commands`).

Every subcommand checks its options and its output folder before computing, prints the
files it wrote, and writes nothing when it fails (files are staged in a hidden folder
inside ``--out`` and moved into place at the end).  Bad input ends with one line on
stderr naming the option, and exit status 2; every warning is one line on stderr,
``collision COMMAND: warning: message``.  ``--help`` states each default once
(:mod:`collision._cli_format`); ``collision --version`` prints the package's version.
Long runs show a progress bar; ``--quiet`` silences it.  Ctrl-C during ``run`` keeps
what the engine finished: the files are written, marked partial, and the command says
so.  The model runs of
``figures`` and ``delay`` are sweeps (:mod:`collision.sweep`) in ``OUT/sweeps``: Ctrl-C
or a failure keeps every finished run there, and the same command computes only the
missing ones (``--workers``/``--scheduler`` say where they run, as for ``sweep``).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from lindblad import states
from lindblad.thermal import bose_occupation, qubit_polarisation, thermal_populations

from . import __version__
from ._cli_common import (
    UsageError,
    _common,
    _int_at_least,
    _staged,
    _sweep_execution,
    _writable_folder,
)
from ._cli_format import HelpFormatter, default_is, warning_printer
from .drivers import ENGINES
from .model import CascadeCollisionModel
from .options import engine_options
from .studies.commands import (
    add_delay,
    add_figures,
    add_machines,
    add_memory,
    cmd_delay,
    cmd_figures,
    cmd_machines,
    cmd_memory,
)

#: The automatic Fock cutoff of an oscillator is the smallest for which the top level of
#: the Gibbs state at ``max(T, T_S)`` holds at most this population: the truncation
#: error of the fluxes is then ~1e-3 relative, below the O(dt) error at the default dt.
CUTOFF_TOL = 1e-4
#: Largest joint Fock dimension the automatic cutoff may choose (the density engine's
#: cost grows about as its 3/2 power times the bath cutoff cubed).
MAX_AUTO_DIM = 1600
#: Largest number of the engine's saved times at which the reference is evaluated.
MAX_REFERENCE_POINTS = 2001


# --- option types: messages name the option ------------------------------------------------

def _number(text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a {kind.__name__} number, got {text!r}") \
            from None
    if not np.all(np.isfinite([value])):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _float_at_least(low: float, strict: bool, unit: str = ""):
    def parse(text: str) -> float:
        value = _number(text)
        if value < low or (strict and value == low):
            relation = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"must be a number {relation} {low:g}{unit}, "
                                             f"got {text!r}")
        return value
    return parse


def _finite_complex(text: str) -> complex:
    return _number(text.replace(" ", ""), complex)


def _float_list(text: str) -> list[float]:
    parse = _float_at_least(0.0, strict=True)
    return [parse(x) for x in text.split(",")]


def _delays(text: str) -> float | list[float]:
    parse = _float_at_least(0.0, strict=False, unit=" (1/gamma), or inf")
    values = [float("inf") if x.strip().lower() in ("inf", "infinity") else parse(x)
              for x in text.split(",")]
    return values[0] if len(values) == 1 else values


def _int_list(text: str) -> list[int]:
    parse = _int_at_least(2)
    return [parse(x) for x in text.split(",")]


# --- the run command -------------------------------------------------------------------------

def auto_cutoff(temperatures, n_systems: int, gaussian: bool = False) -> int:
    """Smallest Fock cutoff whose Gibbs state at ``max(temperatures)`` has at most
    ``CUTOFF_TOL`` population in its top level.

    ``gaussian`` says whether the command has ``--method gaussian`` (only ``run`` has):
    the error suggests it only then.

    Raises
    ------
    UsageError
        If ``n_systems`` oscillators with that cutoff exceed ``MAX_AUTO_DIM`` joint states.
    """
    hottest = max(temperatures)
    cutoff = 2
    while thermal_populations("oscillator", hottest, cutoff=cutoff)[-1] > CUTOFF_TOL:
        cutoff += 1
        if cutoff**n_systems > MAX_AUTO_DIM:
            raise UsageError(
                f"--ts/--temperature up to {hottest:g} need a Fock cutoff above {cutoff - 1} "
                f"per oscillator (top level of the Gibbs state at T = {hottest:g} below "
                f"{CUTOFF_TOL:g}); {n_systems} oscillators would have more than "
                f"{MAX_AUTO_DIM} joint states.  "
                + ("Use --method gaussian (exact, no cutoff), or set " if gaussian else "Set ")
                + "--cutoff yourself (the engines warn when population reaches the top "
                "level)")
    return cutoff


def _check_run_options(args) -> None:
    """Refuse options that do not apply to the chosen engine and system."""
    given = {name for name in ("system", "rho23", "cutoff", "bath", "n_trajectories", "seed",
                               "c13", "c24") if getattr(args, name) is not None}
    if args.method == "gaussian":
        wrong = given & {"rho23", "cutoff", "bath"}
        if args.system == "qubit":
            wrong.add("system")
        if wrong:
            names = ", ".join(f"--{w.replace('_', '-')}" for w in sorted(wrong))
            raise UsageError(f"{names} do(es) not apply to --method gaussian, which simulates "
                             "oscillators on covariance matrices (no Fock cutoff, boson bath)")
    elif given & {"c13", "c24"}:
        raise UsageError("--c13/--c24 need --method gaussian (Gaussian correlated oscillators)")
    if args.method != "trajectories" and given & {"n_trajectories", "seed"}:
        raise UsageError("--n-trajectories and --seed apply to --method trajectories only")
    args.system = args.system or ("oscillator" if args.method == "gaussian" else "qubit")
    if args.system == "qubit" and args.cutoff is not None:
        raise UsageError("--cutoff applies to oscillators only (a qubit has 2 levels)")
    if args.rho23 is not None and (args.system != "qubit" or args.n_systems != 2):
        raise UsageError("--rho23 describes two qubits (paper eq 41)")
    if (args.c13 or args.c24) and args.n_systems != 2:
        raise UsageError("--c13/--c24 describe two oscillators (paper eq 31)")
    if args.system == "oscillator" and args.method != "gaussian" and args.cutoff is None:
        args.cutoff = auto_cutoff((args.temperature, args.ts), args.n_systems, gaussian=True)
    if os.sep in args.name or args.name in ("", ".", ".."):
        raise UsageError(f"--name must be a plain file stem, got {args.name!r}")


def _initial_state(args) -> np.ndarray:
    """The initial state asked for on the command line (density or covariance matrix)."""
    if args.method == "gaussian":
        n_s = bose_occupation(args.ts)
        if args.c13 or args.c24:
            return states.gaussian_correlated(n_s, args.c13 or 0.0, args.c24 or 0.0)
        return states.gaussian_thermal(n_s, args.n_systems)
    if args.rho23 is not None:
        return states.correlated_qubits(qubit_polarisation(args.ts), args.rho23)
    one = states.thermal(args.system, args.ts, args.cutoff)
    return states.product(*[one] * args.n_systems)


def _models(args):
    """The collision model and its exact reference for the chosen engine."""
    if args.method == "gaussian":
        from lindblad.gaussian import GaussianMasterEquation

        from .models.gaussian import GaussianCollisionModel

        kw = dict(n_systems=args.n_systems, temperature=args.temperature,
                  cascade=not args.independent, delay=args.delay)
        return GaussianCollisionModel(**kw), GaussianMasterEquation(**kw)
    model = CascadeCollisionModel(args.system, args.n_systems, temperature=args.temperature,
                                  cutoff=args.cutoff, bath=args.bath,
                                  cascade=not args.independent, delay=args.delay)
    return model, model.master_equation()


def _simulate(args, model, state):
    """Run the chosen engine through the table of engines (a Ctrl-C returns the finished
    part, marked partial)."""
    shortcuts = {}
    if args.method == "trajectories":
        shortcuts = {"n_trajectories": args.n_trajectories or 2000, "seed": args.seed or 0}
    options = engine_options(args.method, progress=not args.quiet, **shortcuts)
    return model.run(state, args.t_max, args.dt, method=args.method,
                     save_every=args.save_every, options=options)


def _reference_times(t: np.ndarray) -> np.ndarray:
    """The engine's saved times, thinned to at most ``MAX_REFERENCE_POINTS``."""
    every = max(1, math.ceil((t.size - 1) / (MAX_REFERENCE_POINTS - 1)))
    return t[::every]


def cmd_run(args) -> int:
    """``collision run``: one simulation, CSV and PNG with the Lindblad reference."""
    _check_run_options(args)
    out = _writable_folder(args.out)
    model, master = _models(args)
    state = _initial_state(args)
    result = _simulate(args, model, state)
    reference = None
    try:
        reference = master.heat_fluxes(state, _reference_times(result.t))
    except KeyboardInterrupt:
        print("interrupted while computing the Lindblad reference: the engine's result is "
              "written without it")
    stem = args.name
    title = (f"{args.n_systems} {args.system}s, {args.method} engine, T = {args.temperature:g}, "
             f"$T_S$ = {args.ts:g}, dt = {args.dt:g}")
    if any(model.delays):
        title += f", delay = {args.delay if np.ndim(args.delay) == 0 else list(args.delay)}"
    if result.partial:
        title += f"\nPARTIAL: interrupted at t = {result.t[-1]:g} of {args.t_max:g}"
    ylabel = None
    if args.system == "qubit":
        ylabel = r"heat flux  [$\hbar\omega\gamma$; physical, the paper's qubit plots are 2x]"
    with _staged(out) as stage:
        written = _save_with_reference(stage, out, stem, result, reference)
        ax = result.plot(reference=reference, title=title, path=stage / f"{stem}.png",
                         ylabel=ylabel)
        written.append(out / f"{stem}.png")
        import matplotlib.pyplot as plt

        plt.close(ax.figure)
    if reference is not None:
        idx = np.searchsorted(result.t, reference.t)
        err = np.max(np.abs(result.total[idx] - reference.total))
        where = (f"the engine's {reference.t.size} saved times" if idx.size == result.t.size
                 else f"{reference.t.size} of the engine's {result.t.size} saved times")
        print(f"max |J_total - J_total(Lindblad)| = {err:.3e} (hbar omega gamma) at {where}")
    return _report_written(result, args.t_max, written)


def _save_with_reference(stage: Path, out: Path, stem: str, result, reference) -> list[Path]:
    """Save ``stem.csv`` (and ``stem_reference.csv``) in the staging folder; returns the
    paths they will have in ``out``."""
    result.save(stage / f"{stem}.csv")
    written = [out / f"{stem}.csv"]
    if reference is not None:
        reference.save(stage / f"{stem}_reference.csv")
        written.append(out / f"{stem}_reference.csv")
    return written


def _report_written(result, t_max: float, written) -> int:
    """Say whether the result is partial (Ctrl-C) and which files were written; exit 0."""
    if result.partial:
        print(f"partial result: interrupted at t = {result.t[-1]:g} of t_max = {t_max:g}; "
              "the files hold the finished part")
    for path in written:
        print(f"wrote {path}")
    return 0


# --- the other commands ----------------------------------------------------------------------

def cmd_converge(args) -> int:
    """``collision converge``: error against dt and against the number of trajectories."""
    from .studies.convergence import dt_convergence, trajectory_convergence

    if len(set(args.dts)) != len(args.dts) or len(args.dts) < 2:
        raise UsageError(f"--dts needs at least two distinct time steps, got "
                         f"{','.join(f'{d:g}' for d in args.dts)}")
    if args.model is not None:
        return _converge_model(args)
    if args.system == "qubit" and args.cutoff is not None:
        raise UsageError("--cutoff applies to oscillators only (a qubit has 2 levels)")
    if args.system == "oscillator" and args.cutoff is None:
        args.cutoff = auto_cutoff((args.temperature, args.ts), 2)
    out = _writable_folder(args.out)
    model = CascadeCollisionModel(args.system, 2, temperature=args.temperature, cutoff=args.cutoff)
    one = states.thermal(args.system, args.ts, args.cutoff)
    rho0 = states.product(one, one)
    conv = dt_convergence(model, rho0, args.dts, t_max=args.t_max, progress=not args.quiet)
    tc = None
    if args.trajectories:
        tc = trajectory_convergence(model, rho0, args.t_max, max(args.dts), args.trajectories,
                                    seed=args.seed)
    import matplotlib.pyplot as plt

    with _staged(out) as stage:
        rows = np.column_stack([conv.dts, *conv.errors.values(), conv.state_errors])
        np.savetxt(stage / "converge_dt.csv", rows, delimiter=",",
                   header="dt,J1,J2,J12,total,trace_distance", comments="")
        plt.close(conv.plot(stage / "converge_dt.png",
                            title=f"2 {args.system}s, T = {args.temperature:g}, "
                                  f"$T_S$ = {args.ts:g}"))
        written = [out / "converge_dt.csv", out / "converge_dt.png"]
        if tc is not None:
            np.savetxt(stage / "converge_trajectories.csv",
                       np.column_stack([tc.n, tc.stderr, tc.error]), delimiter=",",
                       header="n_trajectories,max_stderr,max_error", comments="")
            plt.close(tc.plot(stage / "converge_trajectories.png"))
            written += [out / "converge_trajectories.csv", out / "converge_trajectories.png"]
    print(conv.table())
    if tc is not None:
        print(tc.table())
    for path in written:
        print(f"wrote {path}")
    return 0


def _converge_model(args) -> int:
    """``collision converge --model FILE.py``: any collision model against its limit."""
    from .studies.model_convergence import load_setup, model_convergence

    setup = load_setup(args.model)
    out = _writable_folder(args.out)
    conv = model_convergence(setup["model"], setup["rho0"], setup.get("e_ops"), args.dts,
                             t_max=args.t_max)
    import matplotlib.pyplot as plt

    with _staged(out) as stage:
        rows = np.column_stack([conv.dts, *conv.errors.values(), conv.state_errors])
        np.savetxt(stage / "converge_model.csv", rows, delimiter=",", comments="",
                   header=",".join(["dt", *conv.errors, "trace_distance"]))
        plt.close(conv.plot(stage / "converge_model.png", title=Path(args.model).name))
    print(conv.table())
    for name in ("converge_model.csv", "converge_model.png"):
        print(f"wrote {out / name}")
    return 0


def cmd_bench(args) -> int:
    """``collision bench``: the benchmarks and the peer comparison."""
    from .bench import format_rows, suites

    out = _writable_folder(args.out)
    text = []
    for title, func in suites(quick=args.quick):
        print(f"== {title}", flush=True)
        rows = func()
        table = format_rows(rows)
        print(table, flush=True)
        text.append(f"== {title}\n{table}\n")
    path = out / "bench.txt"
    path.write_text("\n".join(text))
    print(f"wrote {path}")
    return 0


def _check_statistics_options(args) -> None:
    """Refuse options that do not apply; pick the oscillator cutoff and the --quick
    settings."""
    if args.method != "trajectories" and (args.n_trajectories is not None
                                          or args.seed is not None):
        raise UsageError("--n-trajectories and --seed apply to --method trajectories only")
    if args.system == "qubit" and args.cutoff is not None:
        raise UsageError("--cutoff applies to oscillators only (a qubit has 2 levels)")
    if args.rho23 is not None and (args.system != "qubit" or args.n_systems != 2):
        raise UsageError("--rho23 describes two qubits (paper eq 41)")
    if args.system == "oscillator" and args.cutoff is None:
        args.cutoff = auto_cutoff((args.temperature, args.ts), args.n_systems)
    if os.sep in args.name or args.name in ("", ".", ".."):
        raise UsageError(f"--name must be a plain file stem, got {args.name!r}")
    if args.quick:
        args.dt = args.dt if args.dt_given else 0.05
        args.n_trajectories = args.n_trajectories or 500
    if args.times is None:
        args.times = [args.t_max * f for f in (0.1, 0.25, 0.5, 1.0)]
    late = [x for x in args.times if x > args.t_max]
    if late:
        raise UsageError(f"--times {','.join(f'{x:g}' for x in late)}: after --t-max "
                         f"{args.t_max:g}")


def _statistics_entry(args) -> int:
    args.dt_given = args.dt is not None
    if args.dt is None:
        args.dt = 0.01
    return cmd_statistics(args)


def cmd_statistics(args) -> int:
    """Heat counting statistics: P(q, t) and the cumulants, collisions against the master
    equation's limit (lindblad.tilted), CSV + PNG."""
    _check_statistics_options(args)
    out = _writable_folder(args.out)
    model = CascadeCollisionModel(args.system, args.n_systems, temperature=args.temperature,
                                  cutoff=args.cutoff, bath=args.bath,
                                  cascade=not args.independent)
    state = _initial_state(args)
    shortcuts = {}
    if args.method == "trajectories":
        shortcuts = {"n_trajectories": args.n_trajectories or 2000, "seed": args.seed or 0}
    options = engine_options(args.method, progress=not args.quiet, **shortcuts)
    result = model.heat_statistics(state, args.t_max, args.dt, method=args.method,
                                   save_every=args.save_every, options=options)
    reference = None
    try:
        reference = model.master_equation().heat_statistics(state,
                                                            _reference_times(result.t))
    except KeyboardInterrupt:
        print("interrupted while computing the master-equation limit: the engine's result "
              "is written without it")
    stem = args.name
    start = "eq 41, rho23 = " + f"{args.rho23:g}" if args.rho23 is not None else \
        f"thermal at T_S = {args.ts:g}"
    title = (f"heat to the reservoir: {args.n_systems} {args.system}s"
             f"{' (independent reservoirs)' if args.independent else ''}, {start}, "
             f"T = {args.temperature:g}; {args.method} engine at dt = {args.dt:g} "
             "(stems, markers), master equation (bars, lines)")
    if result.partial:
        title += f"\nPARTIAL: interrupted at t = {result.t[-1]:g} of {args.t_max:g}"
    with _staged(out) as stage:
        written = _save_with_reference(stage, out, stem, result, reference)
        ax_p, _ = result.plot(reference=reference, times=args.times, title=title,
                              path=stage / f"{stem}.png", log=args.log)
        written.append(out / f"{stem}.png")
        import matplotlib.pyplot as plt

        plt.close(ax_p.figure)
    if reference is not None:
        idx = np.searchsorted(result.t, reference.t)
        err = np.max(np.abs(result.probabilities[idx] - reference.probabilities))
        print(f"max |P(q, t) - P_master_equation(q, t)| = {err:.3e} at {reference.t.size} "
              "saved times")
    if args.rho23 is None and args.temperature > 0 and args.ts > 0 and args.method == "density":
        slope = (1 / args.temperature - 1 / args.ts) * model.omega
        q, ratio = result.log_ratio()
        dev = np.nanmax(np.abs(ratio[1:] - slope * q)) if result.t.size > 1 else 0.0
        print(f"exchange fluctuation theorem: max |ln[P(q)/P(-q)] - (1/T - 1/T_S) q| = "
              f"{dev:.1e} (thermal product start: exact at every dt)")
    return _report_written(result, args.t_max, written)


def cmd_sweep(args) -> int:
    """``collision sweep``: a parameter sweep from a specification file."""
    from .sweep import run, validate
    from .sweep.spec import MAX_POINTS

    workers, scheduler = _sweep_execution(args, default_workers=None)
    if importlib.util.find_spec("pandas") is None:
        raise UsageError("collision sweep writes a pandas table: pip install "
                         "'cascade-collisions[sweep]'")
    if args.out is not None and not args.out.strip():
        raise UsageError(f"--out must name the sweep's folder, got {args.out!r} (empty); "
                         "leave it out for results/<name of SPEC>")
    max_points = MAX_POINTS if args.max_points is None else args.max_points or None
    spec = validate(args.spec, max_points=max_points)  # every problem, before any file
    out = _writable_folder(args.out if args.out is not None
                           else str(Path("results") / Path(args.spec).stem))
    table = args.table
    if table == "auto":
        table = "parquet" if importlib.util.find_spec("pyarrow") else "csv"
    result = run(spec, out, client=scheduler, workers=workers, progress=not args.quiet,
                 table=None if table == "none" else table, max_points=max_points)
    info = result.attrs["sweep"]
    print(f"{info['ok']} of {info['points']} points finished ({len(info['computed'])} computed "
          f"now), {info['failed']} failed, {info['missing']} missing; "
          f"{len(info['warned'])} warned")
    if info["failed"]:
        failed = result[result["status"] == "failed"]
        for _, row in failed.head(10).iterrows():
            print(f"collision sweep: point {row['point']} failed: {row['error']}",
                  file=sys.stderr)
        if len(failed) > 10:
            print(f"collision sweep: ... and {len(failed) - 10} more failed points",
                  file=sys.stderr)
    for path in info["set_aside"]:
        print(f"collision sweep: a damaged file was set aside to {path} and its point "
              "computed again", file=sys.stderr)
    print(f"wrote {out} (collision.sweep.load reads it)")
    if table != "none":
        print(f"wrote {out / f'table.{table}'}")
    if info["interrupted"]:
        print(f"collision sweep: interrupted; the finished points are kept, run the same "
              f"command again to compute the {info['missing']} missing", file=sys.stderr)
        return 130
    return 1 if info["failed"] else 0


# --- parser ----------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Raises :class:`UsageError` instead of exiting, so ``main`` returns 2."""

    def error(self, message: str):
        raise UsageError(message)


def _physics(p: argparse.ArgumentParser, system_default, methods=()) -> None:
    """The options every model-running command shares; ``methods`` are the values of the
    command's ``--method`` (none: it has no such option), so the help names only those."""
    nonneg = _float_at_least(0.0, strict=False, unit=" (units of hbar omega / k_B)")
    system = p.add_argument("--system", choices=("qubit", "oscillator"), default=system_default,
                            help="kind of subsystem")
    if system_default is None:
        default_is(system, "qubit" + (", or oscillator with --method gaussian"
                                       if "gaussian" in methods else ""))
    p.add_argument("--temperature", type=nonneg, default=1.0,
                   help="reservoir temperature T (hbar omega / k_B)")
    p.add_argument("--ts", type=nonneg, default=2.0,
                   help="initial temperature T_S of every subsystem (hbar omega / k_B)")
    default_is(p.add_argument("--cutoff", type=_int_at_least(2), default=None,
                               help="Fock dimension per oscillator"),
                f"the smallest whose Gibbs state at max(T, T_S) has top-level population "
                f"<= {CUTOFF_TOL:g}")
    p.add_argument("--t-max", type=_float_at_least(0.0, strict=True, unit=" (1/gamma)"),
                   default=5.0, help="final time (1/gamma)")


#: What ``--rho23`` defaults to (a product state, not eq 41).
_PRODUCT_START = "a product of thermal states at T_S"
#: What ``--bath`` defaults to.
_BATH_DEFAULT = "qubit for qubits, boson for oscillators"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``collision`` command and its subcommands."""
    fmt = HelpFormatter
    parser = _Parser(
        prog="collision", formatter_class=fmt,
        description="Collision-model simulations of cascaded open quantum systems "
                    "(units: hbar = k_B = 1, time 1/gamma, flux hbar omega gamma).  "
                    "'collision COMMAND --help' lists a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version of the package and exit")
    sub = parser.add_subparsers(title="commands", dest="command", required=True,
                                parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser("run", formatter_class=fmt,
                         help="one simulation with the Lindblad reference overlaid; with no "
                              "options, the paper's Fig. 2 qubit case at T_S = 2")
    methods = tuple(ENGINES)
    _physics(run, None, methods)
    run.add_argument("--n-systems", type=_int_at_least(2), default=2,
                     help="number of subsystems in the chain")
    default_is(run.add_argument(
        "--rho23", type=_finite_complex, default=None,
        help="qubits: start in the correlated state of eq 41 with this rho23 (paper's "
             "symbol, |rho23| <= 1 - xi_S^2; e.g. 0.3+0.1j)"), _PRODUCT_START)
    default_is(run.add_argument("--c13", type=_number, default=None,
                                 help="--method gaussian: C13(0) of eq 31"), "0")
    default_is(run.add_argument("--c24", type=_number, default=None,
                                 help="--method gaussian: C24(0) of eq 31"), "0")
    default_is(run.add_argument("--bath", choices=("qubit", "boson"), default=None,
                                 help="reservoir ancillas"), _BATH_DEFAULT)
    run.add_argument("--independent", action="store_true",
                     help="independent reservoirs instead of the cascade (Fig. 1b)")
    run.add_argument("--delay", type=_delays, default=0.0,
                     help="travel time between consecutive subsystems (1/gamma): one value, "
                          "or one per link separated by commas; a whole number of --dt "
                          "steps, or inf (never arrives; any delay beyond --t-max gives the "
                          "same run)")
    run.add_argument("--method", "--engine", dest="method", choices=methods,
                     default="density",
                     help="engine: exact average, Monte Carlo, or covariance matrices "
                          "(collision.drivers.ENGINES; --engine is an alias)")
    run.add_argument("--dt", type=_float_at_least(0.0, strict=True, unit=" (1/gamma)"),
                     default=0.01, help="collision time step (1/gamma)")
    run.add_argument("--save-every", type=_int_at_least(1), default=1,
                     help="save the fluxes every this many steps")
    default_is(run.add_argument("--n-trajectories", type=_int_at_least(2), default=None,
                                 help="--method trajectories: number of trajectories"),
                "2000")
    default_is(run.add_argument("--seed", type=_int_at_least(0), default=None,
                                 help="--method trajectories: random seed"), "0")
    run.add_argument("--name", default="run", help="file stem of the outputs")
    _common(run)
    run.set_defaults(func=cmd_run)

    conv = sub.add_parser("converge", formatter_class=fmt,
                          help="error vs dt (fitted order, Richardson) and optionally vs "
                               "number of trajectories")
    _physics(conv, "qubit")
    conv.add_argument("--dts", type=_float_list, default="0.1,0.05,0.025,0.0125,0.00625",
                      help="comma-separated time steps (1/gamma) of the density engine "
                           "(halving gives Richardson)")
    default_is(conv.add_argument(
        "--trajectories", type=_int_list, default=None,
        help="comma-separated trajectory counts, e.g. 250,1000,4000: also the Monte Carlo "
             "error against the number of trajectories, at the largest of --dts"),
        "none: the dt study only")
    conv.add_argument("--seed", type=_int_at_least(0), default=0,
                      help="random seed of the --trajectories study")
    default_is(conv.add_argument(
        "--model", default=None,
        help="a Python file whose setup() returns {'model': CollisionModel, 'rho0': ..., "
             "'e_ops': {...}} (e.g. examples/models/dephasing.py): that model's error "
             "against its derived master equation instead of the cascade's"),
        "none: the paper's two-subsystem cascade")
    _common(conv)
    conv.set_defaults(func=cmd_converge)

    add_figures(sub, fmt).set_defaults(func=cmd_figures)

    stat = sub.add_parser("statistics", formatter_class=fmt,
                          help="heat counting statistics P(q, t) and the cumulants of the "
                               "heat, collisions against the master-equation limit")
    stat_methods = ("density", "trajectories")
    _physics(stat, "qubit", stat_methods)
    stat.add_argument("--n-systems", type=_int_at_least(2), default=2,
                      help="number of subsystems in the chain")
    default_is(stat.add_argument(
        "--rho23", type=_finite_complex, default=None,
        help="qubits: start in the correlated state of eq 41 with this rho23 (paper's "
             "symbol, |rho23| <= 1 - xi_S^2; e.g. 0.3+0.1j)"), _PRODUCT_START)
    default_is(stat.add_argument("--bath", choices=("qubit", "boson"), default=None,
                                  help="reservoir ancillas"), _BATH_DEFAULT)
    stat.add_argument("--independent", action="store_true",
                      help="independent reservoirs (each subsystem's heat counted "
                           "separately; the CSV holds their joint distribution)")
    stat.add_argument("--method", choices=stat_methods, default="density",
                      help="exact at finite dt, or Monte Carlo histograms")
    default_is(stat.add_argument(
        "--dt", type=_float_at_least(0.0, strict=True, unit=" (1/gamma)"), default=None,
        help="collision time step (1/gamma)"), "0.01, or 0.05 with --quick")
    stat.add_argument("--save-every", type=_int_at_least(1), default=10,
                      help="save the statistics every this many steps")
    default_is(stat.add_argument("--n-trajectories", type=_int_at_least(2), default=None,
                                  help="--method trajectories: number of trajectories"),
                "2000, or 500 with --quick")
    default_is(stat.add_argument("--seed", type=_int_at_least(0), default=None,
                                  help="--method trajectories: random seed"), "0")
    default_is(stat.add_argument(
        "--times", type=_float_list, default=None,
        help="times (1/gamma) of the P(q, t) panel, comma-separated, each <= --t-max"),
        "0.1, 0.25, 0.5 and 1 times --t-max")
    stat.add_argument("--log", action="store_true", help="logarithmic probability axis")
    stat.add_argument("--quick", action="store_true",
                      help="--dt 0.05 and --n-trajectories 500 unless they are given")
    stat.add_argument("--name", default="statistics", help="file stem of the outputs")
    _common(stat)
    stat.set_defaults(func=_statistics_entry)

    add_delay(sub, fmt).set_defaults(func=cmd_delay)

    add_memory(sub, fmt).set_defaults(func=cmd_memory)
    add_machines(sub, fmt).set_defaults(func=cmd_machines)

    bench = sub.add_parser("bench", formatter_class=fmt,
                           help="throughput and the QuTiP comparison (needs the 'bench' extra "
                                "for the peer)")
    bench.add_argument("--quick", action="store_true", help="smaller problems")
    _common(bench, progress_bar=False)
    bench.set_defaults(func=cmd_bench)

    swp = sub.add_parser("sweep", formatter_class=fmt,
                         help="run a parameter sweep from a TOML specification into a folder "
                              "(resumable; local processes or a Dask cluster)")
    swp.add_argument("spec", help="the sweep specification (.toml or .json; see README, "
                                  "Sweeps)")
    default_is(swp.add_argument("--out", default=None,
                                 help="the sweep's folder; a folder of the same sweep is "
                                      "continued"), "results/<file stem of SPEC>")
    default_is(swp.add_argument("--workers", type=_int_at_least(1), default=None,
                                 help="local processes (1 runs in this process)"),
                "every core")
    swp.add_argument("--scheduler", default=None,
                     help="address of a Dask scheduler (e.g. tcp://10.0.0.5:8786) to run on "
                          "instead of local processes (needs the 'dask' extra)")
    swp.add_argument("--table", choices=("auto", "parquet", "csv", "none"), default="auto",
                     help="also write the table: auto = Parquet with pyarrow, else CSV")
    default_is(swp.add_argument(
        "--max-points", type=_int_at_least(0), default=None,
        help="refuse a sweep of more points, before any work (0: no limit)"),
        "1000000, collision.sweep.spec.MAX_POINTS")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    swp.set_defaults(func=cmd_sweep)
    for command in sub._choices_actions:  # each command's --help starts with what it does
        sub.choices[command.dest].description = command.help
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed figures or sweep
    points, 2 bad input, 130 interrupted).

    Errors and warnings print as one line each, ``collision COMMAND: error: ...`` and
    ``collision COMMAND: warning: ...``, whatever raised them; the warning format is
    installed here for the duration of the command and restored afterwards.
    """
    parser = build_parser()
    command = (argv if argv is not None else sys.argv[1:])[:1]
    commands = next(a.choices for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction))
    name = f"collision {command[0]}" if command and command[0] in commands else "collision"
    with warnings.catch_warnings():
        warnings.showwarning = warning_printer(name)
        return _main(parser, argv, name)


def _main(parser: argparse.ArgumentParser, argv: list[str] | None, name: str) -> int:
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except (UsageError, ValueError) as exc:  # bad input: one clear line, no traceback
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted before any result was finished; nothing written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
