"""Helpers shared by the benchmark modules: timing, the rms of a curve, a plain-text table."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


def timed(func: Callable[[], object], repeat: int = 3) -> tuple[float, float, object]:
    """Best wall time of ``repeat`` calls, the CPU time of that call, and its result.

    One untimed call first warms the JIT (or loads its cache) and any set-up caches.
    The CPU time is shown next to the wall time: on a shared machine it is the fairer
    figure.
    """
    out = func()
    best_wall, best_cpu = math.inf, math.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = func()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    return best_wall, best_cpu, out


def rms(x) -> float:
    """Root mean square of ``x`` (a standard error over the time grid, summarised)."""
    return float(np.sqrt(np.mean(np.square(x))))


def format_rows(rows: list[dict]) -> str:
    """A plain-text table of benchmark rows."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    cells = [[_fmt(row.get(k, "")) for k in keys] for row in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
