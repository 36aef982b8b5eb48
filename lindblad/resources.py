"""Memory a computation needs, checked before any work.

Every array a run allocates that grows with its input (saved times, subsystems, the
dimension ``D``, Monte Carlo batches, counting histograms, ...) is estimated up front
from the parameters; if the estimate exceeds the *memory limit* the run is refused with
a ``ValueError`` that names the parameter responsible, the estimated need and the
limit, instead of running for minutes and then failing with ``MemoryError``.

The limit is ``MEMORY_FRACTION`` (one half) of the memory available when the check is
made: ``MemAvailable`` of ``/proc/meminfo`` where it exists, else the free physical
pages (``os.sysconf``), else ``FALLBACK_MEMORY``.  The environment variable
``CASCADE_MEMORY_LIMIT`` (a number of bytes, e.g. ``4e9``) replaces it, for a machine
whose free memory is not what a job may use (a batch system's allocation), or to
test the checks.

This module is the one definition of the limit; :mod:`collision.resources` estimates
the collision engines' needs and checks them against it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

#: Fraction of the available memory a run may plan to use.
MEMORY_FRACTION = 0.5
#: Assumed available memory (bytes) where the system does not report it.
FALLBACK_MEMORY = 8 * 2**30
#: Environment variable that sets the memory limit (bytes) instead.
MEMORY_LIMIT_ENV = "CASCADE_MEMORY_LIMIT"


def available_memory() -> int:
    """Available physical memory in bytes (``MemAvailable`` of /proc/meminfo, else the
    free pages, else ``FALLBACK_MEMORY``)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY


def memory_limit() -> float:
    """Bytes a run may plan to allocate: ``$CASCADE_MEMORY_LIMIT`` if set, else
    ``MEMORY_FRACTION`` of :func:`available_memory`.

    Raises
    ------
    ValueError
        If ``CASCADE_MEMORY_LIMIT`` is set but is not a number of bytes > 0.
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return MEMORY_FRACTION * available_memory()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the environment variable {MEMORY_LIMIT_ENV} must be a number of "
                         f"bytes > 0 (e.g. 4e9), got {text!r}")
    return value


def limit_description() -> str:
    """How the limit was set, for error messages."""
    if os.environ.get(MEMORY_LIMIT_ENV, "").strip():
        return f"set by {MEMORY_LIMIT_ENV}"
    return (f"{MEMORY_FRACTION:.0%} of the {format_bytes(available_memory())} available; "
            f"{MEMORY_LIMIT_ENV} sets it")


def format_bytes(n: float) -> str:
    """``1.23 GB`` (powers of 1000)."""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if float(f"{n:.3g}") < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def total_bytes(needs: Mapping[str, float]) -> float:
    """Sum of the estimated arrays (bytes); inf if any is inf."""
    return float(sum(float(v) for v in needs.values()))


def check_memory(needs: Mapping[str, float], parameter: str, advice: str = "") -> None:
    """Refuse a computation whose arrays do not fit in :func:`memory_limit`.

    Parameters
    ----------
    needs : mapping of str to float
        Estimated bytes of each array (or group of arrays), by what it is.
    parameter : str
        The parameter(s) that make the arrays this large (named first in the message).
    advice : str
        What to change, appended to the message.

    Raises
    ------
    ValueError
        ``"<parameter>: this needs about <total> of memory (<largest items>), more than
        the limit of <limit> (...); <advice>"``.
    """
    total = total_bytes(needs)
    limit = memory_limit()
    if total <= limit:
        return
    items = sorted(needs.items(), key=lambda kv: -float(kv[1]))
    shown = ", ".join(f"{what} {format_bytes(float(b))}" for what, b in items[:3]
                      if float(b) > 0)
    raise ValueError(f"{parameter}: this needs about {format_bytes(total)} of memory "
                     f"({shown}), more than the limit of {format_bytes(limit)} "
                     f"({limit_description()})" + (f"; {advice}" if advice else ""))
