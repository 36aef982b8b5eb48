"""The studies' subcommands of :mod:`collision.cli`: ``figures``, ``delay``, ``memory``
and ``machines`` (each computes a study of :mod:`collision.studies` into ``--out``)."""

from __future__ import annotations

import argparse
import sys

from .._cli_common import (
    _common,
    _kept_runs,
    _staged,
    _study_execution,
    _study_options,
    _writable_folder,
)


def cmd_figures(args) -> int:
    from .paper import make_all

    workers, scheduler = _study_execution(args)
    out = _writable_folder(args.out)
    try:
        report = make_all(out, quick=args.quick, progress=not args.quiet, workers=workers,
                          client=scheduler, keep_sweeps=args.keep_sweeps)
    except KeyboardInterrupt:
        print(f"collision figures: interrupted; the finished figures and a partial report "
              f"are in {out / 'REPORT.md'}", file=sys.stderr)
        _kept_runs("figures", out / "sweeps")
        return 130
    for path in report.files:
        print(f"wrote {path}")
    print(f"paper figures done in {report.seconds['total']:.1f} s; numbers in {report.path}")
    for name, message in report.failures.items():
        print(f"collision figures: {name} failed: {message}", file=sys.stderr)
    if args.keep_sweeps and report.ok:
        print(f"kept the model runs in {out / 'sweeps'} (collision.sweep.load reads each)")
    elif not report.ok:
        _kept_runs("figures", out / "sweeps")
    return 0 if report.ok else 1


def cmd_delay(args) -> int:
    from .delay_report import run_study

    workers, scheduler = _study_execution(args)
    out = _writable_folder(args.out)
    sweeps = out / "sweeps"
    try:
        with _staged(out) as stage:
            study = run_study(stage, quick=args.quick, progress=not args.quiet,
                              workers=workers, client=scheduler, sweeps=sweeps,
                              keep_sweeps=args.keep_sweeps)
    except KeyboardInterrupt:
        print("collision delay: interrupted; no file of the study was written",
              file=sys.stderr)
        _kept_runs("delay", sweeps)
        return 130
    except RuntimeError as exc:  # a model run failed (the sweep records it)
        print(f"collision delay: error: {exc}", file=sys.stderr)
        _kept_runs("delay", sweeps)
        return 1
    for path in study.files:
        print(f"wrote {out / path.name}")
    print(f"delay study done in {study.seconds['total']:.1f} s; numbers in "
          f"{out / 'REPORT.md'}")
    if args.keep_sweeps:
        print(f"kept the model runs in {sweeps} (collision.sweep.load reads each)")
    return 0


def cmd_memory(args) -> int:
    from .memory import run_study

    out = _writable_folder(args.out)
    with _staged(out) as stage:
        study = run_study(stage, quick=args.quick)
    for path in study.files:
        print(f"wrote {out / path.name}")
    print(f"memory study done in {study.seconds:.1f} s; numbers in {out / 'REPORT.md'}")
    return 0


def cmd_machines(args) -> int:
    from .machines import run_study

    out = _writable_folder(args.out)
    with _staged(out) as stage:
        study = run_study(stage, quick=args.quick)
    for path in study.files:
        print(f"wrote {out / path.name}")
    failed = [c for c in study.checks if not c.ok]
    print(f"machines study done in {study.seconds:.1f} s; {len(study.checks) - len(failed)} "
          f"of {len(study.checks)} checks passed; numbers in {out / 'machines.txt'}")
    for check in failed:
        print(f"collision machines: check failed: {check.line()}", file=sys.stderr)
    return 1 if failed else 0


def add_figures(sub, fmt) -> argparse.ArgumentParser:
    """The ``figures`` subcommand's parser (``collision.cli`` sets its handler)."""
    figs = sub.add_parser("figures", formatter_class=fmt,
                          help="the paper's Figs 2-7: collision engines (markers) vs the exact "
                               "reference (lines), CSV + PNG + REPORT.md")
    figs.add_argument("--quick", action="store_true",
                      help="coarse grids and dt = 0.02 instead of 0.01")
    _study_options(figs)
    _common(figs)
    return figs


def add_delay(sub, fmt) -> argparse.ArgumentParser:
    """The ``delay`` subcommand's parser (``collision.cli`` sets its handler)."""
    dly = sub.add_parser("delay", formatter_class=fmt,
                         help="the paper's Figs 3, 4a and 6a with a travel time from S1 to S2: "
                              "J^(c)(t) and release times against the delay, where the "
                              "correlations stop mattering; CSV + PNG + REPORT.md")
    dly.add_argument("--quick", action="store_true",
                     help="coarse grids and dt = 0.025 instead of 0.01 (a few seconds)")
    _study_options(dly)
    _common(dly)
    return dly


def add_memory(sub, fmt) -> argparse.ArgumentParser:
    """The ``memory`` subcommand's parser (``collision.cli`` sets its handler)."""
    mem = sub.add_parser("memory", formatter_class=fmt,
                         help="a reservoir with memory (ancilla-ancilla collisions): S1's "
                              "decay and heat from Markovian to revivals, and the cascade "
                              "S1 -> S2 in it; CSV + PNG + REPORT.md")
    mem.add_argument("--quick", action="store_true", help="dt = 0.02 instead of 0.005")
    _common(mem, progress_bar=False)
    return mem


def add_machines(sub, fmt) -> argparse.ArgumentParser:
    """The ``machines`` subcommand's parser (``collision.cli`` sets its handler)."""
    mach = sub.add_parser("machines", formatter_class=fmt,
                          help="thermal machines as collision models: a two-qubit chain "
                               "between a hot and a cold stream, a swap refrigerator, the "
                               "cascade's entropy production; each point checked against the "
                               "master equation and the second law; CSV + PNG + machines.txt")
    mach.add_argument("--quick", action="store_true",
                      help="fewer points, dt = 0.04 and 0.02 instead of 0.02 and 0.01")
    _common(mach, progress_bar=False)
    return mach
