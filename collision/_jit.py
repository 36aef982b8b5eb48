"""The one numba decorator used by every kernel in this package.

``cache=True`` on purpose: the kernels are pure functions of arrays and scalars with
no globals, so their machine code can be reused across processes; the CLI and the test
suite then pay the compile time once per machine instead of once per run.
``nogil=True`` lets threads run kernels side by side.  ``fastmath`` stays off: the
engines are validated against exact references at 1e-10, and reassociation would
break bit-for-bit reproducibility across thread counts.
"""

from __future__ import annotations

import functools

import numba

njit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False)
"""``numba.njit`` with this project's options (use as ``@njit`` or ``@njit(parallel=True)``)."""

