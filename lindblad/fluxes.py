"""The heat-flux result type shared by the reference and every engine.

Sign convention: ``J > 0`` means heat flows from the system into the reservoir,
``J = -dU/dt`` (DESIGN.md section 3).  Units: ``hbar omega gamma``.

For a chain S1 -> S2 -> ... -> Sn every subsystem ``i`` has a *local* flux (its own
dissipator ``L_i``, i.e. what it would release to a fresh thermal reservoir) and a
*correlated* flux (the cascade terms ``D_ji``, j < i, i.e. the part due to the reservoir
having met the upstream subsystems first).  S1's correlated flux is zero.  The paper's
two-system quantities are

* ``J1  = local[0]``                         (eq 13 / 16),
* ``J2  = local[1]``  (for n > 2: ``sum(local[1:])``),
* ``J12 = correlated[1]`` (for n > 2: ``sum(correlated)``)  (eq 14),
* ``total = J1 + J2 + J12``                   (eq 12),

so that ``J2 + J12`` is S2's own flux (eq 17).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._files import (
    as_array,
    check_final_state,
    check_numbers,
    check_row_count,
    check_times,
    file_error,
    npz_partial,
    read_csv_table,
    read_npz_arrays,
    recorded_int,
    warn_unverified,
    write_csv_table,
    write_npz,
)
from ._files import not_ours as _not_ours
from ._files import parse_parameters as _parse_parameters
from ._tabular import (
    TimeTable,
    fmt,
    key_parameters,
    time_span,
)

FIELDS = ("J1", "J2", "J12", "total")
SUFFIXES = (".csv", ".npz")


@dataclass(eq=False, repr=False)
class HeatFluxes(TimeTable):
    """Heat fluxes on a time grid.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times (units of 1/gamma).
    local, correlated : ndarray, shape (n_systems, n_t)
        Per-subsystem local and correlated fluxes (units of hbar omega gamma).
    stderr : HeatFluxes or None
        Standard errors of every field (Monte Carlo results only; a
        :class:`FluxStandardErrors`).
    parameters : dict
        The parameters that produced the result (saved alongside the numbers).  Where a
        producer sets it, ``parameters["frame"]`` names the frame of ``final_state``
        (``"lab"``).
    partial : bool
        True when a run was interrupted and the statistics are incomplete.
    statistics : collision.statistics.TrajectoryStatistics or None
        Monte Carlo results: the mergeable statistics of the run's trajectories
        (:func:`collision.merge_results`); not saved to files.
    in_flight : ndarray, shape (n_systems - 1, n_t), or None
        Models with a travel time between subsystems (``delay``): the energy (units
        hbar omega, relative to the reservoir's thermal energy) carried by the reservoir
        between S_i and S_{i+1} at every time, so that ``U_S(0) - U_S(t)`` = heat that
        has left the chain + ``in_flight.sum(axis=0)``.  None without delay.
    dt_error : HeatFluxes or None
        Results extrapolated in the time step (``run(..., extrapolate=True)``): the
        difference ``J(dt) - J(dt/2)`` of every field, an estimate of the error of the
        ``dt/2`` run against the continuum limit and a conservative error bar of the
        extrapolated result (:mod:`collision.extrapolate`); not saved to files.
    final_state : ndarray or None
        The equal-time state at ``t[-1]`` in the lab frame (not the frame rotating at ``omega``),
        for every producer that offers one: a complex density matrix of shape (D, D)
        (basis of :mod:`lindblad.operators`), or a real covariance matrix of shape
        (2n, 2n) (quadratures X1, Y1, X2, Y2, ...) from the Gaussian models; else None.

    Notes
    -----
    Results hold arrays, so ``==`` is identity (as for NumPy-holding objects generally);
    compare numbers with ``numpy.allclose`` on the fields.

    Files written by :meth:`save` and read back by :meth:`load`:

    ``.csv`` (text, one layout for every chain length; no ``final_state``: save a
    ``.npz`` for that):

    1. One row of comma-separated column names, in this order:

       * ``t, J1, J2, J12, total``: the paper's fields (:data:`FIELDS`), always first;
       * ``J1_stderr, J2_stderr, J12_stderr, total_stderr``, when ``stderr`` is set
         (Monte Carlo results);
       * ``local_1 .. local_n, correlated_1 .. correlated_n``: every subsystem, written
         for every ``n`` (one layout; for ``n = 2`` they repeat ``J1``, ``J2``, ``J12``
         and ``correlated_1 = 0``);
       * ``local_i_stderr, correlated_i_stderr, subsystem_i_stderr`` (i = 1 .. n), when
         ``stderr`` is set;
       * ``in_flight_1 .. in_flight_{n-1}`` (hbar omega), when :attr:`in_flight` is set.

       The ``*_stderr`` of ``J2``, ``J12``, ``total`` and ``subsystem`` are the standard
       errors of those sums (:class:`FluxStandardErrors`).
    2. ``# parameters: {...}``: :attr:`parameters` as one line of JSON (sorted keys;
       numpy scalars and arrays as numbers and lists, other objects as their ``str``;
       non-finite floats as ``NaN`` / ``Infinity``, which Python's :mod:`json` reads).
    3. ``# partial: ...``, only when the run was interrupted.
    4. One row per time: ``t`` in 1/gamma, every flux and standard error in
       hbar omega gamma, each number its shortest exact ``repr`` (the round trip is
       exact; ``nan`` for a missing value).

    The names come first because ``numpy.genfromtxt(names=True)`` takes them from the
    first line even when it is a comment.  Readers: :meth:`load`,
    ``pandas.read_csv(path, comment="#")``,
    ``numpy.genfromtxt(path, delimiter=",", names=True, comments="#")``, or
    :class:`csv.DictReader` over the lines that do not start with ``#``.

    ``.npz`` (everything): arrays ``t``, ``local``, ``correlated``, ``parameters`` (the
    JSON string), ``partial``, and where present ``stderr_local``,
    ``stderr_correlated``, ``stderr_sum_<name>`` (:attr:`FluxStandardErrors.sums`),
    ``in_flight`` and ``final_state``.
    """

    t: np.ndarray
    local: np.ndarray
    correlated: np.ndarray
    stderr: HeatFluxes | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    partial: bool = False
    final_state: np.ndarray | None = field(default=None, repr=False)
    statistics: Any = field(default=None, repr=False, compare=False)
    in_flight: np.ndarray | None = field(default=None, repr=False)
    dt_error: HeatFluxes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.local = np.atleast_2d(np.asarray(self.local, dtype=float))
        self.correlated = np.atleast_2d(np.asarray(self.correlated, dtype=float))
        if self.local.shape != self.correlated.shape or self.local.shape[1] != self.t.size:
            raise ValueError(
                f"local {self.local.shape} and correlated {self.correlated.shape} must both "
                f"have shape (n_systems, len(t)) = (n, {self.t.size})")
        if self.in_flight is not None:
            self.in_flight = np.atleast_2d(np.asarray(self.in_flight, dtype=float))
            if self.in_flight.shape != (self.n_systems - 1, self.t.size):
                raise ValueError(f"in_flight {self.in_flight.shape} must have shape "
                                 f"(n_systems - 1, len(t)) = ({self.n_systems - 1}, "
                                 f"{self.t.size})")

    # the paper's names -------------------------------------------------------
    @property
    def n_systems(self) -> int:
        """Number of subsystems in the chain."""
        return self.local.shape[0]

    @property
    def J1(self) -> np.ndarray:  # noqa: N802 (the paper's symbol)
        """Local flux of S1, shape (n_t,) (hbar omega gamma; > 0 into the reservoir)."""
        return self.local[0]

    @property
    def J2(self) -> np.ndarray:  # noqa: N802
        """Local (L2) part of the downstream subsystems' flux, summed over S2, S3, ...,
        shape (n_t,)."""
        return self.local[1:].sum(axis=0)

    @property
    def J12(self) -> np.ndarray:  # noqa: N802
        """Correlated part of the flux (the D_ij terms summed), shape (n_t,)."""
        return self.correlated.sum(axis=0)

    @property
    def total(self) -> np.ndarray:
        """Total flux ``J1 + J2 + J12``, shape (n_t,)."""
        return self.local.sum(axis=0) + self.correlated.sum(axis=0)

    @property
    def subsystem(self) -> np.ndarray:
        """Each subsystem's own flux ``-dU_i/dt``, shape (n_systems, n_t)."""
        return self.local + self.correlated

    def as_dict(self) -> dict[str, np.ndarray]:
        """The four paper fields plus ``t``, as arrays."""
        return {"t": self.t, **{name: getattr(self, name) for name in FIELDS}}

    # persistence ---------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the result to a ``.csv`` or ``.npz`` file (layouts in the class Notes).

        Parameters
        ----------
        path : str or Path
            Ends in ``.csv`` (text; everything but ``final_state``) or ``.npz``
            (everything).  Missing parent folders are created.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        ValueError
            For any other suffix.
        """
        path = Path(path)
        if path.suffix not in SUFFIXES:
            raise ValueError(f"save() writes .csv or .npz files, got {path.name!r} "
                             f"(suffix {path.suffix!r})")
        path.parent.mkdir(parents=True, exist_ok=True)
        params = json.dumps(_plain(self.parameters), sort_keys=True)
        if path.suffix == ".npz":
            arrays = {"t": self.t, "local": self.local, "correlated": self.correlated,
                      "parameters": np.array(params), "partial": np.array(self.partial)}
            if self.stderr is not None:
                arrays["stderr_local"] = self.stderr.local
                arrays["stderr_correlated"] = self.stderr.correlated
                for key, value in getattr(self.stderr, "sums", {}).items():
                    arrays[f"stderr_sum_{key}"] = value
            if self.final_state is not None:
                arrays["final_state"] = np.asarray(self.final_state)
            if self.in_flight is not None:
                arrays["in_flight"] = self.in_flight
            return write_npz(path, arrays)
        return write_csv_table(path, self._csv_columns(), params, self.partial)

    def _csv_columns(self) -> dict[str, np.ndarray]:
        """The CSV columns in file order (class Notes)."""
        def numbered(name: str, rows: np.ndarray, suffix: str = "") -> dict[str, np.ndarray]:
            return {f"{name}_{i}{suffix}": row for i, row in enumerate(rows, start=1)}

        cols = self.as_dict()
        err = self.stderr
        if err is not None:
            cols.update({f"{k}_stderr": getattr(err, k) for k in FIELDS})
        cols.update(numbered("local", self.local) | numbered("correlated", self.correlated))
        if err is not None:
            for name in ("local", "correlated", "subsystem"):
                cols.update(numbered(name, getattr(err, name), "_stderr"))
        if self.in_flight is not None:
            cols.update(numbered("in_flight", self.in_flight))
        return cols

    # notebooks ------------------------------------------------------------------
    def _summary(self) -> tuple[list[tuple[str, str]], list[list[str]]]:
        """Summary pairs and the final values ``(field, value, error)`` of the reprs."""
        kind = "Monte Carlo" if self.stderr is not None else "exact"
        if isinstance(self, FluxStandardErrors):
            kind = "standard errors"
        if self.dt_error is not None:
            kind += ", extrapolated in dt"
        pairs = [("kind", kind), ("t", time_span(self.t)), ("n_systems", str(self.n_systems))]
        pairs += [p for p in key_parameters(self.parameters) if p[0] != "n_systems"]
        if self.partial:
            pairs.append(("partial", "True (interrupted)"))
        rows = []
        if self.t.size:
            errors = self.stderr if self.stderr is not None else self.dt_error
            for name in FIELDS:
                err = None if errors is None else abs(getattr(errors, name)[-1])
                rows.append([name, fmt(getattr(self, name)[-1]),
                             "" if err is None else fmt(err)])
        return pairs, rows

    @classmethod
    def load(cls, path: str | Path) -> HeatFluxes:
        """Read a result written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            A ``.csv`` or ``.npz`` file.  From a CSV, ``final_state`` is None.

        Returns
        -------
        HeatFluxes
            Equal to the saved one: the same numbers bit for bit, ``parameters`` as the
            plain Python types of their JSON, ``partial``, and ``stderr`` as a
            :class:`FluxStandardErrors` (a CSV keeps the standard errors of every sum).

        Raises
        ------
        ValueError
            If the suffix is not ``.csv`` or ``.npz``, or the file is not a result
            written by :meth:`save` (the message names the file and what is missing).
        """
        path = Path(path)
        if path.suffix == ".csv":
            return cls._load_csv(path)
        if path.suffix != ".npz":
            raise ValueError(f"load() reads .csv or .npz files written by save(), got "
                             f"{path.name!r} (suffix {path.suffix!r})")
        arrays, verified = read_npz_arrays(
            path, "HeatFluxes", ("t", "local", "correlated", "parameters", "partial"))
        parameters = _parse_parameters(str(arrays["parameters"]), path)
        partial = npz_partial(arrays["partial"], path)
        errors = {k: v for k, v in arrays.items() if k.startswith("stderr_")}
        _check_file(path, arrays["t"], arrays["local"], arrays["correlated"], errors,
                    arrays.get("in_flight"), arrays.get("final_state"), parameters, partial)
        stderr = None
        if "stderr_local" in arrays:
            sums = {k[len("stderr_sum_"):]: v for k, v in arrays.items()
                    if k.startswith("stderr_sum_")}
            stderr = FluxStandardErrors(arrays["t"], arrays["stderr_local"],
                                        arrays["stderr_correlated"], sums=sums)
        result = cls(arrays["t"], arrays["local"], arrays["correlated"], stderr=stderr,
                     parameters=parameters, partial=partial,
                     final_state=arrays.get("final_state"), in_flight=arrays.get("in_flight"))
        if not verified:
            warn_unverified(path)
        return result

    @classmethod
    def _load_csv(cls, path: Path) -> HeatFluxes:
        """Read the CSV layout of the class Notes (comment lines may stand anywhere)."""
        not_ours = _not_ours(path, "HeatFluxes")
        header, column, parameters, partial, verified = read_csv_table(path, "HeatFluxes")

        n = sum(1 for name in header if re.fullmatch(r"local_\d+", name))
        expected = ["t", *(f"{name}_{i}" for name in ("local", "correlated")
                           for i in range(1, n + 1))]
        err_names = [f"{k}_stderr" for k in FIELDS[1:]] + [
            f"{name}_{i}_stderr" for name in ("local", "correlated", "subsystem")
            for i in range(1, n + 1)]
        has_stderr = any(name.endswith("_stderr") for name in header)
        missing = [k for k in expected + (err_names if has_stderr else []) if k not in column]
        if n == 0 or missing:
            names = ", ".join(missing) or "local_1, correlated_1, ..."
            raise not_ours(f"missing column(s) {names} (it has {', '.join(header)})")

        def stack(name: str, suffix: str = "") -> np.ndarray:
            return np.array([column[f"{name}_{i}{suffix}"] for i in range(1, n + 1)])

        stderr = None
        if has_stderr:
            sums = {k: column[f"{k}_stderr"] for k in FIELDS[1:]}
            sums["subsystem"] = stack("subsystem", "_stderr")
            stderr = FluxStandardErrors(column["t"], stack("local", "_stderr"),
                                        stack("correlated", "_stderr"), sums=sums)
        in_flight = None
        if any(name.startswith("in_flight_") for name in header):
            absent = [f"in_flight_{i}" for i in range(1, n) if f"in_flight_{i}" not in column]
            if absent:
                raise not_ours(f"missing column(s) {', '.join(absent)}")
            in_flight = np.array([column[f"in_flight_{i}"] for i in range(1, n)]
                                 ).reshape(n - 1, column["t"].size)
        errors = {} if stderr is None else {
            "stderr_local": stderr.local, "stderr_correlated": stderr.correlated,
            **{f"stderr_sum_{k}": v for k, v in stderr.sums.items()}}
        _check_file(path, column["t"], stack("local"), stack("correlated"), errors,
                    in_flight, None, parameters, partial)
        result = cls(column["t"], stack("local"), stack("correlated"), stderr=stderr,
                     parameters=parameters, partial=partial, in_flight=in_flight)
        if not verified:
            warn_unverified(path)
        return result

    # plotting ------------------------------------------------------------------
    def plot(self, ax=None, reference: HeatFluxes | None = None, title: str | None = None,
             path: str | Path | None = None, scale: float = 1.0, ylabel: str | None = None):
        """Plot J1, J2, J12 and total (with error bands for Monte Carlo results).

        ``reference`` is drawn as lines and this result as markers.  ``scale``
        multiplies every flux (e.g. 2 to show qubit fluxes in the paper's units).
        Returns the axes; with ``path`` the figure is also saved there (missing parent
        folders are created).
        """
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        colors = {"J1": "C0", "J2": "C1", "J12": "C2", "total": "k"}
        every = max(1, self.t.size // 40)
        for name in FIELDS:
            y = scale * getattr(self, name)
            if reference is not None:
                ax.plot(reference.t, scale * getattr(reference, name), color=colors[name],
                        lw=1.4, label=f"{name} (Lindblad)")
                ax.plot(self.t[::every], y[::every], "o", ms=3.5, mfc="none",
                        color=colors[name], label=f"{name} (collisions)")
            else:
                ax.plot(self.t, y, color=colors[name], label=name)
            if self.stderr is not None:
                e = 2 * scale * getattr(self.stderr, name)
                ax.fill_between(self.t, y - e, y + e, color=colors[name], alpha=0.25, lw=0)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set_xlabel(r"$\gamma t$")
        ax.set_ylabel(ylabel or r"heat flux  [$\hbar\omega\gamma$]")
        if title:
            ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            ax.figure.savefig(path, dpi=130)
        return ax


@dataclass(eq=False, repr=False)
class FluxStandardErrors(HeatFluxes):
    """Standard errors of a Monte Carlo :class:`HeatFluxes` (same units).

    ``local`` and ``correlated`` hold the standard errors of each subsystem's fluxes.
    ``J2``, ``J12``, ``total`` and ``subsystem`` are the standard errors of those *sums*,
    estimated from the per-trajectory sums (correlations between the terms included),
    not sums of standard errors: ``sums`` maps ``"J2"``, ``"J12"``, ``"total"`` and
    ``"subsystem"`` to them; a missing key falls back to the sum of the parts' errors.
    """

    sums: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def J2(self) -> np.ndarray:  # noqa: N802
        """Standard error of ``J2``."""
        return self.sums["J2"] if "J2" in self.sums else super().J2

    @property
    def J12(self) -> np.ndarray:  # noqa: N802
        """Standard error of ``J12``."""
        return self.sums["J12"] if "J12" in self.sums else super().J12

    @property
    def total(self) -> np.ndarray:
        """Standard error of the total flux."""
        return self.sums["total"] if "total" in self.sums else super().total

    @property
    def subsystem(self) -> np.ndarray:
        """Standard error of each subsystem's own flux."""
        return self.sums["subsystem"] if "subsystem" in self.sums else super().subsystem


def _check_file(path: Path, t: Any, local: Any, correlated: Any, errors: dict[str, Any],
                in_flight: Any, final_state: Any, parameters: dict[str, Any],
                partial: bool) -> None:
    """Everything a saved :class:`HeatFluxes` must satisfy, checked before it is built.

    Times finite, >= 0 and strictly increasing; ``local`` and ``correlated`` 2-D of shape
    (n_systems, n_t) (``parameters["n_systems"]`` when recorded) and finite; standard
    errors (``errors``: ``stderr_local``, ``stderr_correlated``, ``stderr_sum_*``) of the
    shapes of what they qualify, >= 0 or NaN; ``in_flight`` (n_systems - 1, n_t) and
    finite; ``final_state`` square of the recorded dimension; as many times as a finished
    engine run saves.  Raises ``ValueError`` naming ``path`` and the problem.
    """
    t = as_array(t, "t", 1, path)
    check_times(t, path)
    local = as_array(local, "local", 2, path)
    correlated = as_array(correlated, "correlated", 2, path)
    n = local.shape[0]
    shape = (n, t.size)
    for name, arr in (("local", local), ("correlated", correlated)):
        if arr.shape != shape:
            raise file_error(path, f"'{name}' has shape {arr.shape}, but local has {n} "
                                   f"rows and there are {t.size} times: expected {shape}")
        check_numbers(arr, name, path)
    recorded = recorded_int(parameters, "n_systems")
    if recorded is not None and recorded != n:
        raise file_error(path, f"it holds {n} subsystems, but its parameters record "
                               f"n_systems = {recorded}")
    if errors and not {"stderr_local", "stderr_correlated"} <= set(errors):
        raise file_error(path, "standard errors need both stderr_local and "
                               "stderr_correlated")
    for name, arr in errors.items():
        arr = np.asarray(arr)
        want = (t.size,) if name in ("stderr_sum_J2", "stderr_sum_J12",
                                     "stderr_sum_total") else shape
        if arr.dtype.kind not in "fiu" or arr.shape != want:
            raise file_error(path, f"'{name}' must be a real array of shape {want}, got "
                                   f"dtype {arr.dtype} and shape {arr.shape}")
        check_numbers(arr.astype(float), name, path, stderr=True)
    if in_flight is not None:
        in_flight = as_array(np.asarray(in_flight), "in_flight", 2, path)
        if in_flight.shape != (n - 1, t.size):
            raise file_error(path, f"'in_flight' has shape {in_flight.shape}, expected "
                                   f"(n_systems - 1, n_t) = ({n - 1}, {t.size})")
        check_numbers(in_flight, "in_flight", path)
    if final_state is not None:
        check_final_state(np.asarray(final_state), parameters, path)
    check_row_count(t.size, parameters, partial, path)


def _plain(obj: Any) -> Any:
    """``obj`` in plain JSON types: numpy scalars and arrays as Python numbers and lists,
    tuples as lists, mapping keys as strings, anything else (complex numbers, paths,
    ...) as its ``str``."""
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else str(_plain(k)): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)
