"""Heat counting statistics: the result type shared by the master equation and the engines.

Definitions
-----------
The heat delivered to the reservoir by time ``t`` is ``Q(t) = hbar omega q(t)``, with
``q`` the net number of quanta gained by the reservoir's ancillas: a two-point
measurement of every ancilla's energy, once before it meets the chain and once after it
has left it (one ancilla per step passes the whole cascade; with independent reservoirs,
``cascade=False``, every subsystem has its own ancillas and its heat ``q_i`` is counted
separately).  ``Q > 0`` is heat *into* the reservoir, the sign of the fluxes
(``<Q(t)> = integral of J_total``).  Every collision conserves excitations, so ``q`` is
an integer, and it is bounded: the chain can only give away the quanta it holds and hold
the ones it takes, so ``|q| <= n_systems (d - 1)`` (``|q_i| <= d - 1`` for one subsystem
with its own reservoir), with ``d`` the Fock dimension of a subsystem.  No counting window
is ever truncated.

The subsystems are *not* measured: coherences of the initial state between states of
equal excitation number (e.g. the ``rho23`` of eq 41, or the beam-splitter correlations
``C13 = C24`` of eq 31) change ``P(q, t)``; coherences between different excitation
numbers do not (every Kraus operator of a step shifts the ket's and the bra's excitation
number alike, so they never reach a trace).

:class:`HeatStatistics` holds ``P(q, t)`` on the integer grid ``quanta`` and its first
four cumulants, in units of ``hbar omega`` (the cumulants of ``q``; those of ``Q`` are
``(hbar omega)^k kappa_k``).  Monte Carlo results carry standard errors
(:class:`CountingErrors`).  For independent reservoirs ``joint`` holds the joint
distribution of the subsystems' heats (layout in :class:`HeatStatistics`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._files import (
    as_array,
    check_numbers,
    check_row_count,
    check_times,
    file_error,
    local_dimension,
    not_ours,
    npz_partial,
    parse_parameters,
    read_csv_table,
    read_npz_arrays,
    recorded_int,
    warn_unverified,
    write_csv_table,
    write_npz,
)
from ._tabular import (
    TimeTable,
    fmt,
    key_parameters,
    time_span,
)
from .fluxes import _plain

SUFFIXES = (".csv", ".npz")
#: Tolerance of the probabilities in a file: each in [-tol, 1 + tol], each row (and each
#: joint distribution) summing to 1 within tol, with ``tol = min(TOL + TOL_PER_STEP *
#: steps, 1e-6)`` and ``steps = t_max / dt`` of an engine run (0 for the master equation).
#: Rounding accumulates step by step in the engines: measured 2.0e-11 after 5e4 steps and
#: 1.0e-9 after 4e6 steps of two qubits (density engine, ~1.1 eps per step; a fixed 1e-9
#: refused that run's file), 1.9e-12 after 2e4 steps of two oscillators; ~1e-15 for the
#: master equation and Monte Carlo histograms.  16 eps per step leaves a margin of 10.
TOL = 1e-9
TOL_PER_STEP = 16 * np.finfo(float).eps
#: Relative tolerance of the cumulants against those recomputed from the probabilities
#: (absolute below 1 quantum^k); every producer computes them from P, to ~1e-15.
CUMULANT_RTOL = 1e-8
#: Names of the cumulant columns (``kappa_1`` = mean, ``kappa_2`` = variance, ...).
CUMULANTS = ("kappa_1", "kappa_2", "kappa_3", "kappa_4")


def _token(q: int) -> str:
    """``-2 -> "m2"``, ``3 -> "3"``: an integer as a column-name token."""
    return f"m{-q}" if q < 0 else str(q)


def _untoken(text: str) -> int:
    return -int(text[1:]) if text.startswith("m") else int(text)


def cumulants(quanta, probabilities) -> np.ndarray:
    """First four cumulants of distributions on the integer grid ``quanta``.

    Parameters
    ----------
    quanta : array_like of int, shape (n_q,)
    probabilities : array_like, shape (..., n_q)
        Distributions (normalised by their sum, so a histogram of counts works too).

    Returns
    -------
    ndarray, shape (..., 4)
        ``kappa_1`` (mean), ``kappa_2`` (variance), ``kappa_3`` (third central moment)
        and ``kappa_4 = mu_4 - 3 mu_2^2``, from central moments (no cancellation of raw
        moments).
    """
    q = np.asarray(quanta, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    norm = p.sum(axis=-1)
    mean = (p @ q) / norm
    dev = q - mean[..., None]
    mu = [np.sum(p * dev**k, axis=-1) / norm for k in (2, 3, 4)]
    return np.stack([mean, mu[0], mu[1], mu[2] - 3 * mu[0] ** 2], axis=-1)


def independent_joint(populations: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """Joint heat distribution of subsystems with independent reservoirs.

    With ``cascade=False`` every subsystem exchanges quanta with its own ancillas only,
    so its excitation number changes by exactly minus its heat, ``n_i(t) = n_i(0) - q_i``,
    and the joint populations evolve with one transition matrix per subsystem.  Then

        P(q_1, ..., q_n) = sum_{m} p(m) prod_i T(m_i - q_i <- m_i).

    Parameters
    ----------
    populations : ndarray, shape (d,) * n
        Initial joint populations ``p(m_1, ..., m_n)`` (S1 first).
    transition : ndarray, shape (n_t, d, d)
        ``T[k, a, b]``: probability that one subsystem goes from level ``b`` to ``a`` by
        the ``k``-th time.

    Returns
    -------
    ndarray, shape (n_t,) + (2 d - 1,) * n
        ``P`` with axis ``i + 1`` the heat ``q_i = -(d - 1) .. d - 1`` of subsystem ``i``.
    """
    n_t, d = transition.shape[0], transition.shape[1]
    n = populations.ndim
    q = np.arange(-(d - 1), d)
    src = np.arange(d)
    tgt = src[None, :] - q[:, None]  # (2d-1, d): level after, from level src and heat q
    ok = (tgt >= 0) & (tgt < d)
    # A[k, q, m] = T[k, m - q, m]
    a = np.where(ok[None], transition[:, np.clip(tgt, 0, d - 1), src[None, :]], 0.0)
    out = np.broadcast_to(populations, (n_t,) + populations.shape).copy()
    for axis in range(n):  # the initial level of subsystem `axis` -> its heat
        out = _contract(out, a, axis + 1)
    return out


def _contract(x: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """``y[k, .., q, ..] = sum_m a[k, q, m] x[k, .., m, ..]`` along ``axis``."""
    moved = np.moveaxis(x, axis, -1)  # (n_t, ..., m)
    shape = moved.shape
    flat = moved.reshape(shape[0], -1, shape[-1])  # (n_t, rest, m)
    y = np.einsum("krm,kqm->krq", flat, a)
    return np.moveaxis(y.reshape(shape[:-1] + (a.shape[1],)), -1, axis)


def total_from_joint(joint: np.ndarray, local_quanta: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The distribution of the total heat ``q = sum_i q_i`` from the joint one.

    Returns ``(quanta, probabilities)`` with ``quanta = n min(local) .. n max(local)``.
    """
    n = joint.ndim - 1
    lo = int(local_quanta[0])
    m = local_quanta.size
    grids = np.meshgrid(*[np.arange(m)] * n, indexing="ij")
    index = sum(grids)  # position of q - n lo
    n_q = n * (m - 1) + 1
    flat = joint.reshape(joint.shape[0], -1)
    out = np.zeros((joint.shape[0], n_q))
    for k in range(n_q):
        out[:, k] = flat[:, (index == k).ravel()].sum(axis=1)
    return np.arange(n * lo, n * lo + n_q), out


@dataclass(eq=False)
class CountingErrors:
    """Standard errors of a Monte Carlo :class:`HeatStatistics` (same shapes and units).

    Attributes
    ----------
    probabilities : ndarray, shape (n_t, n_q)
        ``sqrt(P (1 - P) / (n - 1))`` of every estimated probability (the standard error
        of a mean of ``n`` indicators).
    cumulants : ndarray, shape (n_t, 4)
        Delete-a-group jackknife over fixed groups of trajectories (see
        :mod:`collision.counting`).
    joint : ndarray or None
        As ``probabilities``, for the joint distribution of independent reservoirs.
    """

    probabilities: np.ndarray
    cumulants: np.ndarray
    joint: np.ndarray | None = None


@dataclass(eq=False, repr=False)
class HeatStatistics(TimeTable):
    """Full counting statistics of the heat delivered to the reservoir.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times (1/gamma).
    quanta : ndarray of int64, shape (n_q,)
        The integer grid of net quanta ``q`` gained by the reservoir (``Q = hbar omega q``),
        ``-q_max .. q_max`` with ``q_max = n_systems (d - 1)`` (the exact bound, module
        docstring).
    probabilities : ndarray, shape (n_t, n_q)
        ``P(q, t)``; every row sums to 1 (to rounding; Monte Carlo: exactly the
        histogram over the trajectories).
    cumulants : ndarray, shape (n_t, 4)
        ``kappa_1 .. kappa_4`` of ``q``, i.e. of ``Q`` in units of ``hbar omega``
        (``kappa_1`` the mean heat, ``kappa_2`` its variance, ...).  Computed from
        ``probabilities`` when not given.
    stderr : CountingErrors or None
        Standard errors (Monte Carlo results only).
    joint : ndarray or None
        Independent reservoirs (``cascade=False``) only: the joint distribution of the
        subsystems' heats, shape ``(n_t,) + (m,) * n_systems``, axis ``i + 1`` being the
        heat ``q_i`` of subsystem ``i`` (S1 first) on the grid ``local_quanta``:
        ``joint[k, a, b]`` is ``P(q_1 = local_quanta[a], q_2 = local_quanta[b], t_k)``.
        ``probabilities`` is then the distribution of the total ``q = sum_i q_i``.
        For a general collision model with several streams
        (:meth:`collision.CollisionModel.heat_statistics`) axis ``i + 1`` is stream
        ``parameters["joint_streams"][i]`` instead, on one grid ``-L .. L`` for all.
    local_quanta : ndarray of int64 or None
        ``-(d - 1) .. d - 1``, the grid of one subsystem's heat (with ``joint``; for
        streams ``-L .. L``, ``L`` the largest count of non-zero probability).
    parameters : dict
        What produced the result (saved with it); ``parameters["omega"]`` converts
        quanta to energy.
    partial : bool
        True when a run was interrupted and the result covers the finished part.
    counts : ndarray of int64 or None
        Monte Carlo: the histograms behind the result, shape ``(n_groups, n_t, n_q)``
        (trajectory ``j`` in group ``j % n_groups``), exact integers (``.npz`` only).
    dt_error : HeatStatistics or None
        Results extrapolated in the time step (``extrapolate=True``): ``X(dt) - X(dt/2)``
        of the probabilities, cumulants and joint distribution, an estimate of the error
        of the ``dt/2`` run and a conservative error bar of the extrapolated result
        (:mod:`collision.extrapolate`); not saved to files.

    Notes
    -----
    Files (:meth:`save`, :meth:`load`), in the conventions of
    :class:`lindblad.fluxes.HeatFluxes`:

    ``.csv``: one row of column names, ``# parameters: {...}`` (JSON), ``# partial: ...``
    if interrupted, then one row per time, every number its exact ``repr``.  Columns:
    ``t``; ``kappa_1 .. kappa_4``; ``kappa_1_stderr ..`` (Monte Carlo); ``P_<q>`` for
    every ``q`` of ``quanta``, with ``<q>`` written ``m2`` for -2 and ``3`` for 3;
    ``P_<q>_stderr`` (Monte Carlo); for independent reservoirs ``Pjoint_<q_1>_<q_2>..``
    for every point of the joint grid (last subsystem fastest) and, for Monte Carlo,
    ``Pjoint_..._stderr``.  Read it with :meth:`load`, ``pandas.read_csv(path,
    comment="#")`` or ``numpy.genfromtxt(path, delimiter=",", names=True,
    comments="#")``.

    ``.npz``: arrays ``t``, ``quanta``, ``probabilities``, ``cumulants``, ``parameters``
    (JSON), ``partial`` and where present ``stderr_probabilities``,
    ``stderr_cumulants``, ``joint``, ``local_quanta``, ``stderr_joint``, ``counts``.
    """

    t: np.ndarray
    quanta: np.ndarray
    probabilities: np.ndarray
    cumulants: np.ndarray | None = None
    stderr: CountingErrors | None = None
    joint: np.ndarray | None = field(default=None, repr=False)
    local_quanta: np.ndarray | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    partial: bool = False
    counts: np.ndarray | None = field(default=None, repr=False, compare=False)
    dt_error: HeatStatistics | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.quanta = np.asarray(self.quanta, dtype=np.int64)
        self.probabilities = np.asarray(self.probabilities, dtype=float)
        if self.probabilities.shape != (self.t.size, self.quanta.size):
            raise ValueError(f"probabilities {self.probabilities.shape} must have shape "
                             f"(len(t), len(quanta)) = ({self.t.size}, {self.quanta.size})")
        if self.cumulants is None:
            self.cumulants = cumulants(self.quanta, self.probabilities)
        self.cumulants = np.asarray(self.cumulants, dtype=float)
        if self.cumulants.shape != (self.t.size, 4):
            raise ValueError(f"cumulants {self.cumulants.shape} must have shape "
                             f"(len(t), 4) = ({self.t.size}, 4)")
        if self.joint is not None:
            self.joint = np.asarray(self.joint, dtype=float)
            self.local_quanta = np.asarray(self.local_quanta, dtype=np.int64)
            m = self.local_quanta.size
            if self.joint.ndim < 2 or self.joint.shape != (self.t.size,) + (m,) * \
                    (self.joint.ndim - 1):
                raise ValueError(f"joint {self.joint.shape} must have shape (len(t), m, ..., m) "
                                 f"with m = len(local_quanta) = {m}")

    # --- derived quantities ---------------------------------------------------------
    @property
    def mean(self) -> np.ndarray:
        """``<q>(t)`` (units hbar omega)."""
        return self.cumulants[:, 0]

    @property
    def variance(self) -> np.ndarray:
        """``kappa_2(t)`` (units (hbar omega)^2)."""
        return self.cumulants[:, 1]

    @property
    def skewness(self) -> np.ndarray:
        """``kappa_3 / kappa_2^(3/2)`` (dimensionless; NaN where the variance is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.variance > 0, self.cumulants[:, 2]
                            / np.abs(self.variance) ** 1.5, np.nan)

    @property
    def excess_kurtosis(self) -> np.ndarray:
        """``kappa_4 / kappa_2^2`` (dimensionless; NaN where the variance is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.variance > 0, self.cumulants[:, 3] / self.variance**2,
                            np.nan)

    @property
    def heat(self) -> np.ndarray:
        """The grid of heats ``Q = omega q`` (units hbar omega times ``parameters["omega"]``,
        i.e. energy units of the model)."""
        return self.parameters.get("omega", 1.0) * self.quanta

    def marginal(self, axis: int | str) -> np.ndarray:
        """The distribution of one axis of ``joint`` (a subsystem's or a stream's count,
        by index or by its name in ``parameters["joint_streams"]``) on ``local_quanta``,
        shape ``(n_t, len(local_quanta))``.

        Raises
        ------
        ValueError
            Without a joint distribution, or for an axis or name it does not have.
        """
        if self.joint is None:
            raise ValueError("marginal() needs a joint distribution (independent reservoirs "
                             "or several streams); this result has only the total")
        names = list(self.parameters.get("joint_streams") or [])
        n = self.joint.ndim - 1
        if isinstance(axis, str):
            if axis not in names:
                raise ValueError(f"marginal(): no stream {axis!r} in this result (streams: "
                                 f"{names})")
            axis = names.index(axis)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
                or not 0 <= axis < n:
            raise ValueError(f"marginal(): axis must be an integer 0 .. {n - 1} or a stream "
                             f"name, got {axis!r}")
        others = tuple(a + 1 for a in range(n) if a != axis)
        return self.joint.sum(axis=others)

    def probability(self, q: int) -> np.ndarray:
        """``P(q, t)`` for one integer ``q`` (zeros outside the grid)."""
        hit = np.flatnonzero(self.quanta == q)
        return self.probabilities[:, hit[0]] if hit.size else np.zeros(self.t.size)

    def log_ratio(self) -> tuple[np.ndarray, np.ndarray]:
        """``ln[P(q, t) / P(-q, t)]`` for ``q = 1 .. q_max``: the exchange fluctuation
        theorem's left-hand side.

        Returns
        -------
        (q, ratio) : ndarray of int (n,), ndarray (n_t, n)
            NaN where either probability is not positive.
        """
        q = self.quanta[self.quanta > 0]
        pos = np.array([self.probability(int(x)) for x in q]).T.reshape(self.t.size, q.size)
        neg = np.array([self.probability(int(-x)) for x in q]).T.reshape(self.t.size, q.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where((pos > 0) & (neg > 0), np.log(np.where(pos > 0, pos, 1.0))
                           - np.log(np.where(neg > 0, neg, 1.0)), np.nan)
        return q, out

    # --- files --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the result to a ``.csv`` or ``.npz`` file (layouts in the class Notes).

        Missing parent folders are created; any other suffix raises ``ValueError``.
        """
        path = Path(path)
        if path.suffix not in SUFFIXES:
            raise ValueError(f"save() writes .csv or .npz files, got {path.name!r} "
                             f"(suffix {path.suffix!r})")
        path.parent.mkdir(parents=True, exist_ok=True)
        params = _json(self.parameters)
        if path.suffix == ".npz":
            arrays = {"t": self.t, "quanta": self.quanta, "probabilities": self.probabilities,
                      "cumulants": self.cumulants, "parameters": np.array(params),
                      "partial": np.array(self.partial)}
            if self.stderr is not None:
                arrays["stderr_probabilities"] = self.stderr.probabilities
                arrays["stderr_cumulants"] = self.stderr.cumulants
                if self.stderr.joint is not None:
                    arrays["stderr_joint"] = self.stderr.joint
            if self.joint is not None:
                arrays["joint"] = self.joint
                arrays["local_quanta"] = self.local_quanta
            if self.counts is not None:
                arrays["counts"] = self.counts
            return write_npz(path, arrays)
        return write_csv_table(path, self._csv_columns(), params, self.partial)

    def _csv_columns(self) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {"t": self.t}
        err = self.stderr
        cols.update({name: self.cumulants[:, i] for i, name in enumerate(CUMULANTS)})
        if err is not None:
            cols.update({f"{name}_stderr": err.cumulants[:, i]
                         for i, name in enumerate(CUMULANTS)})
        cols.update({f"P_{_token(int(q))}": self.probabilities[:, j]
                     for j, q in enumerate(self.quanta)})
        if err is not None:
            cols.update({f"P_{_token(int(q))}_stderr": err.probabilities[:, j]
                         for j, q in enumerate(self.quanta)})
        if self.joint is not None:
            flat = self.joint.reshape(self.t.size, -1)
            names = self._joint_names()
            cols.update({name: flat[:, j] for j, name in enumerate(names)})
            if err is not None and err.joint is not None:
                eflat = err.joint.reshape(self.t.size, -1)
                cols.update({f"{name}_stderr": eflat[:, j] for j, name in enumerate(names)})
        return cols

    def _joint_names(self) -> list[str]:
        n = self.joint.ndim - 1
        grid = np.stack(np.meshgrid(*[self.local_quanta] * n, indexing="ij"), axis=-1)
        return ["Pjoint_" + "_".join(_token(int(x)) for x in point)
                for point in grid.reshape(-1, n)]

    # --- notebooks -----------------------------------------------------------------
    _value_header = "cumulant of q"

    def _summary(self) -> tuple[list[tuple[str, str]], list[list[str]]]:
        """Summary pairs and the final cumulants ``(name, value, error)`` of the reprs."""
        kind = "Monte Carlo" if self.stderr is not None else "exact"
        if self.dt_error is not None:
            kind += ", extrapolated in dt"
        pairs = [("kind", kind), ("t", time_span(self.t)),
                 ("quanta", f"{int(self.quanta[0])} .. {int(self.quanta[-1])}"
                  if self.quanta.size else "none")]
        if self.joint is not None:
            pairs.append(("joint", f"shape {self.joint.shape}"))
        pairs += key_parameters(self.parameters)
        if self.partial:
            pairs.append(("partial", "True (interrupted)"))
        rows = []
        if self.t.size:
            errors = (self.stderr.cumulants if self.stderr is not None else
                      None if self.dt_error is None else np.abs(self.dt_error.cumulants))
            for k in range(4):
                rows.append([f"kappa_{k + 1}", fmt(self.cumulants[-1, k]),
                             "" if errors is None else fmt(errors[-1, k])])
        return pairs, rows

    @classmethod
    def load(cls, path: str | Path) -> HeatStatistics:
        """Read a result written by :meth:`save` (the numbers bit for bit).

        Raises
        ------
        ValueError
            If the suffix is not ``.csv`` or ``.npz`` or the file was not written by
            :meth:`save` (the message names the file and what is missing).
        """
        path = Path(path)
        if path.suffix == ".csv":
            return cls._load_csv(path)
        if path.suffix != ".npz":
            raise ValueError(f"load() reads .csv or .npz files written by save(), got "
                             f"{path.name!r} (suffix {path.suffix!r})")
        arrays, verified = read_npz_arrays(
            path, "HeatStatistics",
            ("t", "quanta", "probabilities", "cumulants", "parameters", "partial"))
        parameters = parse_parameters(str(arrays["parameters"]), path)
        partial = npz_partial(arrays["partial"], path)
        if arrays["quanta"].dtype.kind not in "iu":
            raise file_error(path, f"'quanta' must be integers, got dtype "
                                   f"{arrays['quanta'].dtype}")
        if ("joint" in arrays) != ("local_quanta" in arrays):
            raise file_error(path, "'joint' and 'local_quanta' come together")
        stderr = None
        if "stderr_probabilities" in arrays or "stderr_cumulants" in arrays:
            absent = [k for k in ("stderr_probabilities", "stderr_cumulants")
                      if k not in arrays]
            if absent:
                raise file_error(path, f"standard errors lack {', '.join(absent)}")
            stderr = CountingErrors(arrays["stderr_probabilities"], arrays["stderr_cumulants"],
                                    arrays.get("stderr_joint"))
        _check_file(path, arrays["t"], arrays["quanta"], arrays["probabilities"],
                    arrays["cumulants"], stderr, arrays.get("joint"),
                    arrays.get("local_quanta"), parameters, partial)
        result = cls(arrays["t"], arrays["quanta"], arrays["probabilities"],
                     arrays["cumulants"], stderr=stderr, joint=arrays.get("joint"),
                     local_quanta=arrays.get("local_quanta"), parameters=parameters,
                     partial=partial, counts=arrays.get("counts"))
        if not verified:
            warn_unverified(path)
        return result

    @classmethod
    def _load_csv(cls, path: Path) -> HeatStatistics:
        error = not_ours(path, "HeatStatistics")
        header, column, parameters, partial, verified = read_csv_table(path, "HeatStatistics")
        missing = [k for k in ("t", *CUMULANTS) if k not in column]
        if missing:
            raise error(f"missing column(s) {', '.join(missing)} (it has {', '.join(header)})")
        n_rows = column["t"].size
        quanta = [_untoken(m.group(1)) for name in header
                  if (m := re.fullmatch(r"P_(m?\d+)", name))]
        if not quanta:
            raise error(f"it has no P_<q> column (it has {', '.join(header)})")
        q_max = max(abs(q) for q in quanta)
        expected = [f"P_{_token(q)}" for q in range(-q_max, q_max + 1)]
        names = [f"P_{_token(q)}" for q in quanta]
        if names != expected:
            absent = [k for k in expected if k not in column]
            raise error(f"its P columns must be P_{_token(-q_max)} .. P_{q_max}, one per "
                        f"integer in order; got {', '.join(names)}"
                        + (f" (missing {', '.join(absent)})" if absent else ""))
        has_err = any(name.endswith("_stderr") for name in header)
        err_names = [f"{k}_stderr" for k in CUMULANTS] + [f"{k}_stderr" for k in names]
        joint_names = [name for name in header
                       if re.fullmatch(r"Pjoint_(m?\d+_)*m?\d+", name)]
        joint = local = joint_err = None
        if joint_names:
            points = [[_untoken(x) for x in name[len("Pjoint_"):].split("_")]
                      for name in joint_names]
            n = len(points[0])
            d1 = max(abs(x) for p in points for x in p)
            local = np.arange(-d1, d1 + 1, dtype=np.int64)
            grid = np.stack(np.meshgrid(*[local] * n, indexing="ij"), axis=-1).reshape(-1, n)
            full = ["Pjoint_" + "_".join(_token(int(x)) for x in point) for point in grid]
            if joint_names != full:
                absent = [k for k in full if k not in column]
                raise error(f"its Pjoint columns must be the full grid of {n} subsystems "
                            f"over {_token(-d1)} .. {d1} in order ({len(full)} columns); "
                            + (f"missing {', '.join(absent[:5])}" if absent else
                               f"got {len(joint_names)} in another order or with other names"))
            shape = (n_rows,) + (local.size,) * n
            joint = np.array([column[name] for name in full]).T.reshape(shape)
            if has_err:
                err_names += [f"{name}_stderr" for name in full]
                joint_err = np.array([column.get(f"{name}_stderr", np.zeros(n_rows))
                                      for name in full]).T.reshape(shape)
        absent = [k for k in err_names if k not in column] if has_err else []
        if absent:
            raise error(f"missing standard-error column(s) {', '.join(absent[:5])}")
        probs = np.array([column[k] for k in names]).T.reshape(n_rows, len(names))
        cums = np.array([column[k] for k in CUMULANTS]).T.reshape(n_rows, 4)
        stderr = None
        if has_err:
            stderr = CountingErrors(
                np.array([column[f"{k}_stderr"] for k in names]).T.reshape(n_rows, -1),
                np.array([column[f"{k}_stderr"] for k in CUMULANTS]).T.reshape(n_rows, 4),
                joint_err)
        quanta = np.array(quanta, dtype=np.int64)
        _check_file(path, column["t"], quanta, probs, cums, stderr, joint, local,
                    parameters, partial)
        result = cls(column["t"], quanta, probs, cums, stderr=stderr, joint=joint,
                     local_quanta=local, parameters=parameters, partial=partial)
        if not verified:
            warn_unverified(path)
        return result

    # --- plotting ---------------------------------------------------------------------------
    def plot(self, axes=None, reference: HeatStatistics | None = None, times=None,
             title: str | None = None, path: str | Path | None = None, log: bool = False):
        """P(q, t) at a few times (left) and the cumulants against t (right).

        ``q`` is an integer, so P(q, t) is drawn at the integers only, with integer ticks:
        one group of width 0.8 centred on each integer, one slot per time in it; this
        result as stems (with error bars of two standard errors for Monte Carlo), the
        reference as light bars filling the same slots.

        Parameters
        ----------
        axes : pair of matplotlib axes, optional
            Where to draw (default: a new figure with two panels).
        reference : HeatStatistics, optional
            Drawn as bars in the left panel and lines in the right one (e.g. the
            master-equation limit); this result as stems and markers.
        times : sequence of float, optional
            Times of the left panel (the nearest saved times are used); default four
            times spread over the run.
        title : str, optional
        path : str or Path, optional
            Save the figure there (parent folders are created).
        log : bool
            Logarithmic probability axis (shows the tails).

        Returns
        -------
        (ax_p, ax_k) : the two axes.
        """
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2), constrained_layout=True)
        ax_p, ax_k = axes
        if times is None:
            times = self.t[np.unique(np.linspace(0, self.t.size - 1, 5).round().astype(int))[1:]]
        times = np.atleast_1d(times)
        width = 0.8 / times.size  # one slot per time in each integer's group
        for c, tau in enumerate(times):
            k = int(np.argmin(np.abs(self.t - tau)))
            color = f"C{c}"
            x = self.quanta + (c - (times.size - 1) / 2) * width
            if reference is not None:
                kr = int(np.argmin(np.abs(reference.t - self.t[k])))
                ax_p.bar(x, reference.probabilities[kr], width=width, color=color, alpha=0.3,
                         lw=0, label=f"t = {reference.t[kr]:.3g} (limit)")
            stems = ax_p.stem(x, self.probabilities[k], linefmt=color, markerfmt="o",
                              basefmt=" ", label=f"t = {self.t[k]:.3g}")
            stems.markerline.set(color=color, markerfacecolor="none", markersize=4)
            if self.stderr is not None:
                ax_p.errorbar(x, self.probabilities[k], yerr=2 * self.stderr.probabilities[k],
                              fmt="none", color=color, capsize=2)
        ax_p.set_xlabel(r"net quanta to the reservoir  $q = Q/\hbar\omega$")
        ax_p.set_ylabel(r"$P(q, t)$")
        ax_p.xaxis.get_major_locator().set_params(integer=True)  # q is an integer
        if log:
            ax_p.set_yscale("log")
        ax_p.legend(fontsize=7)
        every = max(1, self.t.size // 40)
        labels = (r"$\kappa_1$ (mean)", r"$\kappa_2$ (variance)", r"$\kappa_3$", r"$\kappa_4$")
        for i, label in enumerate(labels):
            color = f"C{i}"
            if reference is not None:
                ax_k.plot(reference.t, reference.cumulants[:, i], "-", color=color, lw=1.2)
            y = self.cumulants[::every, i]
            err = None if self.stderr is None else 2 * self.stderr.cumulants[::every, i]
            ax_k.errorbar(self.t[::every], y, yerr=err, fmt="o", ms=3, mfc="none",
                          color=color, label=label, capsize=1.5)
        ax_k.axhline(0, color="0.7", lw=0.6)
        ax_k.set_xlabel(r"$\gamma t$")
        ax_k.set_ylabel(r"cumulants of $Q$  [$(\hbar\omega)^k$]")
        ax_k.legend(fontsize=7, title="markers: this result; lines: reference"
                    if reference is not None else None, title_fontsize=7)
        if title:
            ax_p.figure.suptitle(title, fontsize=9)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            ax_p.figure.savefig(path, dpi=130)
        return ax_p, ax_k


def _check_grid(quanta: np.ndarray, name: str, q_max: int | None, path: Path) -> None:
    """``quanta`` is the contiguous integer range ``-m .. m`` (``m = q_max`` if given)."""
    m = (quanta.size - 1) // 2
    if quanta.ndim != 1 or quanta.size % 2 == 0 or \
            not np.array_equal(quanta, np.arange(-m, m + 1)):
        raise file_error(path, f"'{name}' must be the integers -m .. m in order, got "
                               f"{quanta.tolist()[:12]}")
    if q_max is not None and m != q_max:
        raise file_error(path, f"'{name}' spans -{m} .. {m}, but the parameters imply "
                               f"-{q_max} .. {q_max}")


def _tolerance(parameters: dict[str, Any]) -> float:
    """The tolerance of a file's probabilities (:data:`TOL`): grows with the steps of the
    run the parameters record."""
    t_max, dt = parameters.get("t_max"), parameters.get("dt")
    steps = 0.0
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
           and v > 0 for v in (t_max, dt)):
        steps = t_max / dt
    return min(TOL + TOL_PER_STEP * steps, 1e-6)


def _check_distribution(p: np.ndarray, name: str, signed: bool, path: Path,
                        tol: float = TOL) -> None:
    """Probabilities finite, in [-tol, 1 + tol] (``signed``: extrapolated results, whose
    entries may dip below 0 by the extrapolation's error), every row summing to 1 within
    ``tol`` (:data:`TOL`)."""
    check_numbers(p, name, path)
    flat = p.reshape(p.shape[0], -1)
    low = -tol if not signed else np.minimum(flat.min(axis=1, keepdims=True), 0) - tol
    high = 1 + tol - (0 if not signed else np.minimum(flat.min(axis=1, keepdims=True), 0))
    bad = (flat < low) | (flat > high)
    if np.any(bad):
        k, j = (int(i) for i in np.argwhere(bad)[0])
        raise file_error(path, f"'{name}' must lie in [0, 1], got {float(flat[k, j])!r} "
                               f"(time index {k})")
    sums = flat.sum(axis=1)
    off = np.abs(sums - 1) > tol
    if np.any(off):
        k = int(np.argmax(off))
        raise file_error(path, f"'{name}' must sum to 1 at every time (within {tol:g}), got "
                               f"{float(sums[k])!r} at time index {k}")


def _check_file(path: Path, t: Any, quanta: np.ndarray, probabilities: Any, cums: Any,
                stderr: CountingErrors | None, joint: Any, local_quanta: Any,
                parameters: dict[str, Any], partial: bool) -> None:
    """Everything a saved :class:`HeatStatistics` must satisfy, checked before it is built.

    Times finite, >= 0 and strictly increasing; ``quanta`` the range ``-q_max .. q_max``
    with ``q_max = n_systems (d - 1)`` when the parameters record them; probabilities of
    shape (n_t, n_q), in [0, 1] within :data:`TOL` (below 0 allowed for extrapolated
    results) and normalised; cumulants equal to those of the probabilities
    (:data:`CUMULANT_RTOL`); standard errors of matching shapes, >= 0 or NaN; the joint
    distribution of independent reservoirs on ``-(d - 1) .. d - 1`` per subsystem,
    normalised, its total equal to ``probabilities``; as many times as a finished engine
    run saves.  Raises ``ValueError`` naming ``path`` and the problem.
    """
    t = as_array(t, "t", 1, path)
    check_times(t, path)
    n, d = recorded_int(parameters, "n_systems"), local_dimension(parameters)
    _check_grid(np.asarray(quanta), "quanta", None if n is None or d is None
                else n * (d - 1), path)
    p = as_array(probabilities, "probabilities", 2, path)
    if p.shape != (t.size, quanta.size):
        raise file_error(path, f"'probabilities' has shape {p.shape}, expected (n_t, n_q) "
                               f"= ({t.size}, {quanta.size})")
    signed = bool(parameters.get("extrapolate"))
    tol = _tolerance(parameters)
    _check_distribution(p, "probabilities", signed, path, tol)
    k = as_array(cums, "cumulants", 2, path)
    if k.shape != (t.size, 4):
        raise file_error(path, f"'cumulants' has shape {k.shape}, expected ({t.size}, 4)")
    check_numbers(k, "cumulants", path)
    again = cumulants(quanta, p)
    off = np.abs(k - again) > CUMULANT_RTOL * np.maximum(np.abs(again), 1.0)
    if np.any(off):
        i, j = (int(x) for x in np.argwhere(off)[0])
        raise file_error(path, f"'{CUMULANTS[j]}' = {float(k[i, j])!r} at time index {i} is not "
                               f"the cumulant of the saved probabilities ({float(again[i, j])!r})")
    if stderr is not None:
        for name, arr, want in (("stderr_probabilities", stderr.probabilities, p.shape),
                                ("stderr_cumulants", stderr.cumulants, k.shape)):
            arr = np.asarray(arr)
            if arr.dtype.kind not in "fiu" or arr.shape != want:
                raise file_error(path, f"'{name}' must be a real array of shape {want}, "
                                       f"got dtype {arr.dtype} and shape {arr.shape}")
            check_numbers(arr.astype(float), name, path, stderr=True)
    if joint is not None:
        local = np.asarray(local_quanta)
        if local.dtype.kind not in "iu":
            raise file_error(path, f"'local_quanta' must be integers, got dtype {local.dtype}")
        _check_grid(local, "local_quanta", None if d is None else d - 1, path)
        joint = np.asarray(joint)
        if joint.dtype.kind not in "fiu" or joint.ndim < 2 or \
                joint.shape != (t.size,) + (local.size,) * (joint.ndim - 1):
            raise file_error(path, f"'joint' has shape {joint.shape}, expected (n_t, m, ..., m) "
                                   f"with n_t = {t.size}, m = {local.size}")
        if n is not None and joint.ndim - 1 != n:
            raise file_error(path, f"'joint' holds {joint.ndim - 1} subsystems, but the "
                                   f"parameters record n_systems = {n}")
        joint = joint.astype(float)
        _check_distribution(joint, "joint", signed, path, tol)
        total_q, total_p = total_from_joint(joint, local)
        if not np.array_equal(total_q, quanta) or np.any(np.abs(total_p - p) > tol):
            raise file_error(path, "'probabilities' is not the distribution of the total "
                                   "heat of 'joint'")
        if stderr is not None and stderr.joint is not None:
            arr = np.asarray(stderr.joint)
            if arr.dtype.kind not in "fiu" or arr.shape != joint.shape:
                raise file_error(path, f"'stderr_joint' must have shape {joint.shape}, "
                                       f"got {arr.shape}")
            check_numbers(arr.astype(float), "stderr_joint", path, stderr=True)
    check_row_count(t.size, parameters, partial, path)


def _json(parameters: dict) -> str:
    return json.dumps(_plain(parameters), sort_keys=True)
