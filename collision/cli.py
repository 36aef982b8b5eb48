"""Command line: ``collision run | converge | figures | bench``.

Every subcommand prints the files it wrote.  Long runs show a progress bar;
``--quiet`` silences it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lindblad import states
from lindblad.thermal import bose_occupation, qubit_polarisation

from .model import CascadeCollisionModel

ENGINES = ("density", "trajectories", "gaussian")


def _initial_state(args) -> np.ndarray:
    """The initial state asked for on the command line (density or covariance matrix)."""
    if args.engine == "gaussian":
        n_s = bose_occupation(args.ts)
        if args.c13 or args.c24:
            if args.n_systems != 2:
                raise ValueError("--c13/--c24 describe two oscillators (paper eq 31)")
            return states.gaussian_correlated(n_s, args.c13, args.c24)
        return states.gaussian_thermal(n_s, args.n_systems)
    if args.c13 or args.c24:
        raise ValueError("--c13/--c24 need --engine gaussian (Gaussian correlated oscillators)")
    if args.rho23 is not None:
        if args.system != "qubit" or args.n_systems != 2:
            raise ValueError("--rho23 describes two qubits (paper eq 41)")
        return states.correlated_qubits(qubit_polarisation(args.ts), complex(args.rho23))
    one = states.thermal(args.system, args.ts, args.cutoff)
    return states.product(*[one] * args.n_systems)


def _simulate(args):
    """Run the chosen engine and the matching exact reference."""
    rho0 = _initial_state(args)
    if args.engine == "gaussian":
        from lindblad.gaussian import GaussianMasterEquation

        from .gaussian import GaussianCollisionModel

        kw = dict(n_systems=args.n_systems, temperature=args.temperature,
                  cascade=not args.independent)
        result = GaussianCollisionModel(**kw).run(rho0, args.t_max, args.dt,
                                                  save_every=args.save_every)
        reference = GaussianMasterEquation(**kw).heat_fluxes(rho0, _fine(result.t))
        return result, reference
    model = CascadeCollisionModel(args.system, args.n_systems, temperature=args.temperature,
                                  cutoff=args.cutoff, bath=args.bath,
                                  cascade=not args.independent)
    extra = {}
    if args.engine == "trajectories":
        extra = {"n_trajectories": args.n_trajectories, "seed": args.seed}
    result = model.run(rho0, args.t_max, args.dt, method=args.engine,
                       save_every=args.save_every, progress=not args.quiet, **extra)
    reference = model.master_equation().heat_fluxes(rho0, _fine(result.t))
    return result, reference


def _fine(t: np.ndarray) -> np.ndarray:
    return np.linspace(0.0, t[-1], 401)


def cmd_run(args) -> int:
    result, reference = _simulate(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = args.name
    written = [result.save(out / f"{stem}.csv"), reference.save(out / f"{stem}_reference.csv")]
    title = (f"{args.n_systems} {args.system}s, {args.engine} engine, T = {args.temperature:g}, "
             f"$T_S$ = {args.ts:g}, dt = {args.dt:g}")
    ylabel = None
    if args.system == "qubit" and args.engine != "gaussian":
        ylabel = r"heat flux  [$\hbar\omega\gamma$; physical, the paper's qubit plots are 2x]"
    result.plot(reference=reference, title=title, path=out / f"{stem}.png", ylabel=ylabel)
    written.append(out / f"{stem}.png")
    err = np.max(np.abs(result.total - np.interp(result.t, reference.t, reference.total)))
    print(f"max |J_total - J_total(Lindblad)| = {err:.3e} (hbar omega gamma)")
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_converge(args) -> int:
    from .convergence import dt_convergence, trajectory_convergence

    model = CascadeCollisionModel(args.system, 2, temperature=args.temperature, cutoff=args.cutoff)
    one = states.thermal(args.system, args.ts, args.cutoff)
    rho0 = states.product(one, one)
    dts = [float(x) for x in args.dts.split(",")]
    conv = dt_convergence(model, rho0, dts, t_max=args.t_max, progress=not args.quiet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(conv.table())
    rows = np.column_stack([conv.dts, *conv.errors.values(), conv.state_errors])
    np.savetxt(out / "converge_dt.csv", rows, delimiter=",",
               header="dt,J1,J2,J12,total,trace_distance", comments="")
    conv.plot(out / "converge_dt.png",
              title=f"2 {args.system}s, T = {args.temperature:g}, $T_S$ = {args.ts:g}")
    written = [out / "converge_dt.csv", out / "converge_dt.png"]
    if args.trajectories:
        ns = [int(x) for x in args.trajectories.split(",")]
        tc = trajectory_convergence(model, rho0, args.t_max, max(dts), ns, seed=args.seed)
        print(tc.table())
        np.savetxt(out / "converge_trajectories.csv",
                   np.column_stack([tc.n, tc.stderr, tc.error]), delimiter=",",
                   header="n_trajectories,max_stderr,max_error", comments="")
        tc.plot(out / "converge_trajectories.png")
        written += [out / "converge_trajectories.csv", out / "converge_trajectories.png"]
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_figures(args) -> int:
    from .figures import make_all

    report = make_all(args.out, quick=args.quick, progress=not args.quiet)
    for path in report.files:
        print(f"wrote {path}")
    print(f"paper figures done in {report.seconds['total']:.1f} s; numbers in {report.path}")
    return 0


def cmd_bench(args) -> int:
    from . import bench

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = []
    for title, func in bench.suites(quick=args.quick):
        print(f"== {title}", flush=True)
        rows = func()
        table = bench.format_rows(rows)
        print(table, flush=True)
        text.append(f"== {title}\n{table}\n")
    path = out / "bench.txt"
    path.write_text("\n".join(text))
    print(f"wrote {path}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collision",
        description="Collision-model simulations of cascaded open quantum systems "
                    "(units: hbar = k_B = 1, time 1/gamma, flux hbar omega gamma).")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one simulation with the Lindblad reference overlaid "
                                     "(default: the paper's Fig. 2 qubit case)")
    run.add_argument("--system", choices=("qubit", "oscillator"), default="qubit")
    run.add_argument("--n-systems", type=int, default=2)
    run.add_argument("--temperature", type=float, default=1.0,
                     help="reservoir temperature T (default 1)")
    run.add_argument("--ts", type=float, default=2.0,
                     help="initial temperature T_S of every subsystem (default 2)")
    run.add_argument("--rho23", type=complex, default=None,
                     help="qubits: start in the correlated state of eq 41 with this rho23 "
                          "(paper's symbol, |rho23| <= 1 - xi_S^2)")
    run.add_argument("--c13", type=float, default=0.0, help="Gaussian engine: C13(0) (eq 31)")
    run.add_argument("--c24", type=float, default=0.0, help="Gaussian engine: C24(0) (eq 31)")
    run.add_argument("--cutoff", type=int, default=None,
                     help="Fock dimension per oscillator (default 12 for oscillators)")
    run.add_argument("--bath", choices=("qubit", "boson"), default=None)
    run.add_argument("--independent", action="store_true",
                     help="independent reservoirs instead of the cascade (Fig. 1b)")
    run.add_argument("--engine", choices=ENGINES, default="density")
    run.add_argument("--dt", type=float, default=0.01)
    run.add_argument("--t-max", type=float, default=5.0)
    run.add_argument("--save-every", type=int, default=1)
    run.add_argument("--n-trajectories", type=int, default=2000)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--name", default="run", help="file stem (default: run)")
    _common(run)
    run.set_defaults(func=cmd_run)

    conv = sub.add_parser("converge", help="error vs dt (fitted order, Richardson) and "
                                           "optionally vs number of trajectories")
    conv.add_argument("--system", choices=("qubit", "oscillator"), default="qubit")
    conv.add_argument("--temperature", type=float, default=1.0)
    conv.add_argument("--ts", type=float, default=2.0)
    conv.add_argument("--cutoff", type=int, default=None)
    conv.add_argument("--dts", default="0.1,0.05,0.025,0.0125,0.00625",
                      help="comma-separated time steps (halving gives Richardson)")
    conv.add_argument("--t-max", type=float, default=5.0)
    conv.add_argument("--trajectories", default="",
                      help="comma-separated trajectory counts, e.g. 250,1000,4000")
    conv.add_argument("--seed", type=int, default=0)
    _common(conv)
    conv.set_defaults(func=cmd_converge)

    figs = sub.add_parser("figures", help="the paper's Figs 2-7: collision engines (markers) vs "
                                          "the exact reference (lines), CSV + PNG + REPORT.md")
    figs.add_argument("--quick", action="store_true", help="coarse grids and dt = 0.02")
    _common(figs)
    figs.set_defaults(func=cmd_figures)

    bench = sub.add_parser("bench", help="throughput and the QuTiP comparison (needs the "
                                         "'bench' extra for the peer)")
    bench.add_argument("--quick", action="store_true", help="smaller problems")
    _common(bench)
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "system", None) == "oscillator" and args.cutoff is None:
        args.cutoff = 12
    try:
        return args.func(args)
    except ValueError as exc:  # bad input: one clear line, no traceback
        print(f"collision {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

