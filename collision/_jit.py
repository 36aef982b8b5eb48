"""The one numba decorator used by every kernel in this package, and where its cache lives.

Options of every kernel: ``nogil=True`` lets threads run kernels side by side;
``fastmath`` stays off, because the engines are validated against exact references at
1e-10 and reassociation would break bit-for-bit reproducibility across thread counts.

The on-disk cache (``cache=True``) is chosen on purpose, by the environment variable
``CASCADE_JIT_CACHE``:

``auto`` (default)
    Cache when the package runs from a source checkout (``pip install -e .`` or
    ``PYTHONPATH``): numba then writes next to the sources, in the git-ignored
    ``__pycache__`` folders, and the test suite and the CLI pay the compile time
    (about 5 s for the density engine, 30-60 s for every kernel) once per machine.
    Do *not* cache when the package is installed into ``site-packages``: numba would
    write its ``.nbi``/``.nbc`` files there, ``pip uninstall`` does not remove them,
    and the left-over ``collision/_kernels/__pycache__`` folder then turns
    ``collision`` into an empty namespace package that shadows a later editable
    install (numba issue 4807 and the same reason numbagg leaves caching off).  The
    exception: if ``NUMBA_CACHE_DIR`` is set, numba writes there, outside the package,
    and caching is on.
``on`` / ``1``
    Always cache (where numba puts it: ``NUMBA_CACHE_DIR`` if set, else next to the
    sources).
``off`` / ``0``
    Never cache: every process compiles the kernels it uses.

The decision is taken once, at import, and reported by :func:`jit_settings`.
Thread count: the parallel kernels (trajectory batches) use numba's threading layer;
set ``NUMBA_NUM_THREADS`` before the first import, or call ``numba.set_num_threads(n)``
at run time (results do not depend on it: see :mod:`collision.trajectories`).

Waiting threads: numba's default threading layer is OpenMP (GNU ``libgomp``), whose
threads *spin* for a while (``GOMP_SPINCOUNT``, 300,000 by default) when they wait for
work or at the end of a parallel region before they sleep.  Next to other busy processes
that spinning takes the CPU the working threads need: with one busy process per core, 2
threads ran the 5,000-trajectory benchmark 0.9-1.1x as fast as 1 thread with the
default policy and 1.3-2.3x as fast with a passive one (``benchmarks/bench_threads.py``).
So this module sets ``OMP_WAIT_POLICY=PASSIVE`` (waiting threads sleep at once) unless
it is set already; the OpenMP runtime reads it when numba first starts its threads, so
it has no effect if another library started OpenMP in this process before.  Set
``OMP_WAIT_POLICY=ACTIVE`` before importing ``collision`` to keep the spinning.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

#: Default of ``OMP_WAIT_POLICY`` (see the module docstring); set before numba starts
#: its threads.
WAIT_POLICY = "PASSIVE"
os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)

import numba  # noqa: E402

CACHE_ENV = "CASCADE_JIT_CACHE"
_CHOICES = {"auto": None, "on": True, "1": True, "true": True, "yes": True,
            "off": False, "0": False, "false": False, "no": False}


def _installed_in_site_packages(path: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in path.resolve().parts)


def _cache_enabled(setting: str | None = None) -> bool:
    """Whether the kernels are cached on disk for the setting of ``CASCADE_JIT_CACHE``."""
    raw = os.environ.get(CACHE_ENV, "auto") if setting is None else setting
    key = raw.strip().lower()
    if key not in _CHOICES:
        raise ValueError(f"environment variable {CACHE_ENV} must be one of auto, on, off "
                         f"(or 1, 0), got {raw!r}")
    choice = _CHOICES[key]
    if choice is not None:
        return choice
    return bool(os.environ.get("NUMBA_CACHE_DIR")) \
        or not _installed_in_site_packages(Path(__file__))


CACHE = _cache_enabled()


def jit_settings() -> dict:
    """The JIT configuration in force: cache on or off, where numba caches, threads and
    the OpenMP wait policy."""
    return {"cache": CACHE, CACHE_ENV: os.environ.get(CACHE_ENV, "auto"),
            "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR") or None,
            "numba_threads": numba.get_num_threads(), "numba": numba.__version__,
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}


njit = functools.partial(numba.njit, cache=CACHE, nogil=True, fastmath=False)
"""``numba.njit`` with this project's options (use as ``@njit`` or ``@njit(parallel=True)``)."""
