"""Coercion and checking of user input: one place for every parameter type.

Each helper takes the value and the parameter's name and either returns a clean Python or
numpy value or raises ``ValueError`` naming the parameter, saying what was wrong and what
is allowed.  Decisions made here apply to the whole package:

* **Real parameters** (rates, frequencies, temperatures, occupations, times, ...) accept
  Python and numpy integers and floats, 0-d arrays and other :class:`numbers.Real`
  (e.g. ``Fraction``).  Rejected: complex numbers of any kind, *even with a zero
  imaginary part* (``float(np.complex128(z))`` would silently drop ``z.imag``), ``bool``
  (``True`` is not a rate), strings (also ``"1.0"``), ``None`` and sequences or arrays
  with more than one element.
* **Integer parameters** (``n_systems``, ``cutoff``, ...) accept Python and numpy
  integers and integral floats such as ``2.0`` (exactly representable, so nothing is
  lost); ``bool``, non-integral, non-finite and complex values are rejected.
* **Flags** (``cascade``, ``paper_units``) accept only ``bool`` and ``numpy.bool_``:
  ``bool("no")`` is ``True``, so anything else is a likely mistake.
* **Matrices** (density matrices, covariance matrices) accept array-likes, QuTiP
  ``Qobj`` (anything with a ``.full()`` method) and scipy sparse matrices, converted to
  dense numpy arrays.  Ragged lists, strings, ``None``, object and ``bool`` arrays are
  rejected.
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import numpy as np
import scipy.sparse as sp

from .resources import format_bytes, limit_description, memory_limit


def describe(value) -> str:
    """``repr`` of a rejected value, with a hint when the type is the problem."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(value, (bool, np.bool_)):
        return f"{text} (a bool, not a number)"
    if isinstance(value, (complex, np.complexfloating)):
        return f"{text} (complex: its imaginary part would be dropped)"
    if isinstance(value, (str, bytes)):
        return f"{text} (a string)"
    if isinstance(value, np.ndarray):
        return f"{text} (an array of shape {value.shape} and dtype {value.dtype})"
    if value is None or isinstance(value, numbers.Number):
        return text
    return f"{text} (of type {type(value).__name__})"


def as_real(value, name: str, note: str = "") -> float:
    """``value`` as a Python float; non-finite values pass (callers check the range).

    Raises ``ValueError`` for complex numbers, bools, strings, ``None`` and arrays of
    more than one element (see the module docstring for the rules).
    """
    scalar = value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        scalar = value[()]
    if isinstance(scalar, (bool, np.bool_)) or not isinstance(scalar, numbers.Real):
        raise ValueError(f"{name} must be a real number{note}, got {describe(value)}")
    return float(scalar)


def real_scalar(value, name: str, *, minimum: float | None = None,
                maximum: float | None = None, exclusive_minimum: bool = False,
                exclusive_maximum: bool = False, note: str = "") -> float:
    """A finite real number in an optional range, as a Python float.

    Parameters
    ----------
    value
        The user's value.
    name : str
        Parameter name used in the message.
    minimum, maximum : float, optional
        Bounds; inclusive unless ``exclusive_minimum`` / ``exclusive_maximum``.
    note : str
        Appended to the requirement, e.g. ``" (in units of hbar omega / k_B)"``.

    Raises
    ------
    ValueError
        ``"<name> must be a finite number > 0<note>, got ..."`` (one bound) or
        ``"<name> must lie in [0, 1]<note>, got ..."`` (two bounds).
    """
    v = as_real(value, name, note)
    below = minimum is not None and (v <= minimum if exclusive_minimum else v < minimum)
    above = maximum is not None and (v >= maximum if exclusive_maximum else v > maximum)
    if math.isfinite(v) and not below and not above:
        return v
    if minimum is not None and maximum is not None:
        lo, hi = "(" if exclusive_minimum else "[", ")" if exclusive_maximum else "]"
        requirement = f"must lie in {lo}{minimum:g}, {maximum:g}{hi}"
    elif minimum is not None:
        requirement = f"must be a finite number {'>' if exclusive_minimum else '>='} {minimum:g}"
    elif maximum is not None:
        requirement = f"must be a finite number {'<' if exclusive_maximum else '<='} {maximum:g}"
    else:
        requirement = "must be a finite real number"
    raise ValueError(f"{name} {requirement}{note}, got {describe(value)}")


def integer(value, name: str, minimum: int | None = None, note: str = "") -> int:
    """An integer ``>= minimum`` as a Python int (integral floats such as 2.0 accepted).

    Raises ``ValueError`` ``"<name> must be an integer >= <minimum><note>, got ..."``.
    """
    scalar = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
    ok = (not isinstance(scalar, (bool, np.bool_)) and isinstance(scalar, numbers.Real)
          and math.isfinite(scalar) and float(scalar).is_integer()
          and (minimum is None or scalar >= minimum))
    if not ok:
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be an integer{bound}{note}, got {describe(value)}")
    return int(scalar)


def flag(value, name: str) -> bool:
    """``True`` or ``False`` (Python or numpy bool), as a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def choice(value, name: str, options: tuple[str, ...], note: str = "") -> str:
    """One of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}{note}, got {describe(value)}")
    return str(value)


def complex_scalar(value, name: str) -> complex:
    """A finite (real or complex) number as a Python complex."""
    scalar = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
    if isinstance(scalar, (bool, np.bool_)) or not isinstance(scalar, numbers.Number):
        raise ValueError(f"{name} must be a (complex) number, got {describe(value)}")
    z = complex(scalar)
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        raise ValueError(f"{name} must be finite, got {describe(value)}")
    return z


def _as_numeric_array(value, name: str, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be {what}; it could not be read as a rectangular "
                         f"array ({exc})") from None
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        shown = describe(value) if arr.ndim == 0 else f"an array of dtype {arr.dtype}"
        raise ValueError(f"{name} must be {what}, got {shown}")
    return arr


def as_matrix(value, name: str) -> np.ndarray:
    """A numeric numpy array from an array-like, a QuTiP ``Qobj`` or a sparse matrix.

    ``Qobj`` (anything with a callable ``.full()``) and scipy sparse matrices are
    converted to dense arrays; shape checks are left to the caller.
    """
    if sp.issparse(value):
        value = value.toarray()
    elif not isinstance(value, np.ndarray) and callable(getattr(value, "full", None)):
        value = value.full()
    return _as_numeric_array(value, name, "numeric (a matrix of numbers)")


def as_real_array(value, name: str) -> np.ndarray:
    """A float array from a real number or an array-like of real numbers.

    Complex input is rejected even with zero imaginary parts (see :func:`as_real`); so are
    strings, bools, ``None``, object arrays and ragged lists.
    """
    what = "a real number or an array of real numbers"
    arr = _as_numeric_array(value, name, what)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be {what}, got complex values (their imaginary parts "
                         "would be dropped)")
    return arr.astype(float)


def check_array_size(shape: tuple[int, ...], itemsize: int, what: str, hint: str = "") -> None:
    """Raise ``ValueError`` if an array of ``shape`` would not fit in the memory limit
    (:func:`lindblad.resources.memory_limit`: half the available memory).

    Called before allocating, so that a parameter too large for memory gives a message
    naming it instead of a ``MemoryError``.
    """
    size = math.prod(int(s) for s in shape) * itemsize
    limit = memory_limit()
    if size > limit:
        raise ValueError(f"{what} would need an array of shape {tuple(shape)}, "
                         f"{size / 2**30:.3g} GiB ({format_bytes(size)}), above the limit "
                         f"of {format_bytes(limit)} ({limit_description()}){hint}")


#: Which subsystem of a bipartite state a one-sided measure measures.
Side = Literal["A", "B"]


def check_side(measured: str) -> str:
    """``"A"`` or ``"B"`` (which subsystem a one-sided correlation measure measures)."""
    if measured not in ("A", "B"):
        raise ValueError(f"measured must be 'A' (measure S1, D(B|A)) or 'B' (measure S2, D(A|B)), "
                         f"got {measured!r}")
    return measured


def clip_roundoff(value: float, tol: float = 1e-9) -> float:
    """Map round-off negatives (> -tol) of a non-negative quantity to 0; keep larger ones
    visible (they would signal a bug rather than round-off)."""
    return 0.0 if -tol < value < 0.0 else float(value)
