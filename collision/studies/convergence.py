"""Continuum-limit and Monte Carlo convergence studies.

* :func:`dt_convergence`: the error of a collision engine against the exact Lindblad
  reference for a sequence of time steps, the fitted order (expected 1: one collision
  step reproduces ``exp(L dt)`` up to O(dt^2), so O(dt) after ``t/dt`` steps), and the
  Richardson extrapolation ``2 J(dt/2) - J(dt)``, which cancels the O(dt) term (expected
  order 2).
* :func:`trajectory_convergence`: the standard error and the actual error of the Monte
  Carlo mean against the exact averaged engine as the number of trajectories grows
  (expected exponent -1/2).

Both return typed results with a ``plot`` method (drawn by
:mod:`collision.studies.convergence_plots`; this module does not import matplotlib) and
are what ``collision converge`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lindblad._tabular import Tabular
from lindblad.fluxes import FIELDS, HeatFluxes

from ..model import CascadeCollisionModel


def fit_order(x: np.ndarray, y: np.ndarray) -> float:
    """Slope of the least-squares line through ``(log x, log y)``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("fit_order needs at least two points with positive x and y")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b||_1 / 2`` for Hermitian matrices."""
    return 0.5 * float(np.sum(np.abs(np.linalg.eigvalsh(a - b))))


def flux_errors(result: HeatFluxes, reference: HeatFluxes) -> dict[str, float]:
    """``max_t |J - J_ref|`` for J1, J2, J12 and total on the result's time grid.

    The reference must contain the result's times (it is matched to 1e-9).
    """
    idx = np.searchsorted(reference.t, result.t - 1e-9)
    if np.any(idx >= reference.t.size) or np.any(np.abs(reference.t[idx] - result.t) > 1e-9):
        raise ValueError("the reference does not contain the result's times")
    return {name: float(np.max(np.abs(getattr(result, name) - getattr(reference, name)[idx])))
            for name in FIELDS}


@dataclass(repr=False)
class DtConvergence(Tabular):
    """Errors against the Lindblad reference for a sequence of time steps.

    Attributes
    ----------
    dts : ndarray, shape (n,)
        Time steps, decreasing.
    errors : dict of str to ndarray
        ``max_t |J - J_ref|`` per field (J1, J2, J12, total).
    state_errors : ndarray
        Trace distance between engine and reference states at ``t_state``.
    richardson : dict of str to ndarray
        Errors of ``2 J(dt/2) - J(dt)`` (one fewer entry than ``dts``, at ``dts[:-1]``),
        available when there are at least three steps and consecutive ones halve.
    orders, richardson_orders : dict of str to float
        Fitted log-log slopes.
    """

    dts: np.ndarray
    errors: dict[str, np.ndarray]
    state_errors: np.ndarray
    t_max: float
    t_state: float
    richardson: dict[str, np.ndarray] = field(default_factory=dict)
    orders: dict[str, float] = field(default_factory=dict)
    state_order: float = float("nan")
    richardson_orders: dict[str, float] = field(default_factory=dict)

    def _frame(self) -> tuple[dict, dict]:
        """Columns ``dt``, ``<field>_error`` (J1, J2, J12, total), ``state_error``, and
        with Richardson errors ``<field>_richardson_error`` (NaN at the smallest ``dt``);
        parameters ``t_max``, ``t_state``, ``order_<field>``, ``state_order``,
        ``richardson_order_<field>``."""
        cols = {"dt": self.dts, **{f"{k}_error": self.errors[k] for k in FIELDS},
                "state_error": self.state_errors}
        for k, v in self.richardson.items():
            cols[f"{k}_richardson_error"] = np.append(v, np.nan)
        params = {"t_max": self.t_max, "t_state": self.t_state,
                  **{f"order_{k}": v for k, v in self.orders.items()},
                  "state_order": self.state_order,
                  **{f"richardson_order_{k}": v for k, v in self.richardson_orders.items()}}
        return cols, params

    def table(self) -> str:
        """Plain-text table of the errors and fitted orders."""
        lines = ["dt        " + "".join(f"{k:>12s}" for k in FIELDS) + "  trace dist"]
        for i, dt in enumerate(self.dts):
            lines.append(f"{dt:<10.4g}" + "".join(f"{self.errors[k][i]:12.3e}" for k in FIELDS)
                         + f"  {self.state_errors[i]:10.3e}")
        lines.append("order     " + "".join(f"{self.orders[k]:12.3f}" for k in FIELDS)
                     + f"  {self.state_order:10.3f}")
        if self.richardson_orders:
            lines.append("Richardson" + "".join(f"{self.richardson_orders[k]:12.3f}"
                                                for k in FIELDS))
        return "\n".join(lines)

    def plot(self, path=None, title: str | None = None):
        """Log-log plot of error vs dt with the fitted orders; returns the figure.

        Delegates to :func:`collision.studies.convergence_plots.plot_dt_convergence`.
        """
        from .convergence_plots import plot_dt_convergence

        return plot_dt_convergence(self, path, title)


def dt_convergence(model: CascadeCollisionModel, rho0, dts, t_max: float = 5.0,
                   t_state: float = 2.0, progress: bool = False) -> DtConvergence:
    """Run the density engine for every ``dt`` and compare with the reference.

    Parameters
    ----------
    model : CascadeCollisionModel
    rho0 : array_like, shape (D, D)
    dts : sequence of float
        Time steps; each must divide ``t_max`` and ``t_state`` (checked).  Use a
        halving sequence to get the Richardson extrapolation.
    t_max : float
        Fluxes are compared on ``[0, t_max]``.
    t_state : float
        The state is compared at this time (trace distance).
    """
    dts = np.sort(np.asarray(dts, dtype=float).ravel())[::-1]
    if not np.all(np.isfinite(dts)) or np.any(dts <= 0):
        raise ValueError(f"dts must be finite time steps > 0, got {dts.tolist()}")
    if np.unique(dts).size != dts.size:
        raise ValueError(f"dts has repeated values {dts.tolist()}: a convergence order needs "
                         "distinct time steps")
    if dts.size < 2:
        raise ValueError(f"dts must hold at least two distinct time steps to fit an order, "
                         f"got {dts.tolist()}")
    for dt in dts:
        for t in (t_max, t_state):
            if abs(t / dt - round(t / dt)) > 1e-9:
                raise ValueError(f"dt = {dt:g} does not divide t = {t:g}; choose steps such that "
                                 "t_max and t_state are whole multiples")
    ref_model = model.master_equation()
    fine = np.arange(int(round(t_max / dts[-1])) + 1) * dts[-1]
    ref = ref_model.heat_fluxes(rho0, fine)
    ref_state = ref_model.evolve(rho0, [t_state])[0]
    results, errors, state_errors = [], {k: [] for k in FIELDS}, []
    for dt in dts:
        res = model.run(rho0, t_max, dt, progress=progress)
        results.append(res)
        for k, v in flux_errors(res, ref).items():
            errors[k].append(v)
        state = model.run(rho0, t_state, dt).final_state
        state_errors.append(trace_distance(state, ref_state))
    out = DtConvergence(dts, {k: np.array(v) for k, v in errors.items()},
                        np.array(state_errors), t_max, t_state)
    out.orders = {k: fit_order(dts, v) for k, v in out.errors.items()}
    out.state_order = fit_order(dts, out.state_errors)
    if dts.size >= 3 and np.allclose(dts[:-1] / dts[1:], 2.0):
        rich = {k: [] for k in FIELDS}
        for coarse, finer in zip(results[:-1], results[1:], strict=True):
            extrapolated = HeatFluxes(coarse.t, 2 * finer.local[:, ::2] - coarse.local,
                                      2 * finer.correlated[:, ::2] - coarse.correlated)
            for k, v in flux_errors(extrapolated, ref).items():
                rich[k].append(v)
        out.richardson = {k: np.array(v) for k, v in rich.items()}
        out.richardson_orders = {k: fit_order(dts[:-1], v) for k, v in out.richardson.items()}
    return out


@dataclass(repr=False)
class TrajectoryConvergence(Tabular):
    """Monte Carlo error vs number of trajectories (total flux).

    ``stderr[i]`` is the largest standard error over saved times with ``n[i]``
    trajectories; ``error[i]`` the largest ``|mean - exact|``; ``exponent`` the fitted
    slope of ``stderr`` against ``n`` (expected -1/2).
    """

    n: np.ndarray
    stderr: np.ndarray
    error: np.ndarray
    exponent: float

    def _frame(self) -> tuple[dict, dict]:
        """Columns ``n_trajectories``, ``stderr``, ``error``; parameter ``exponent``."""
        return ({"n_trajectories": self.n, "stderr": self.stderr, "error": self.error},
                {"exponent": self.exponent})

    def table(self) -> str:
        lines = ["n_traj     max stderr   max |mean - exact|"]
        lines += [f"{n:<10d} {s:11.3e}   {e:11.3e}"
                  for n, s, e in zip(self.n, self.stderr, self.error, strict=True)]
        lines.append(f"fitted exponent of stderr vs n: {self.exponent:.3f}")
        return "\n".join(lines)

    def plot(self, path=None):
        """Log-log plot of the errors vs the number of trajectories; returns the figure.

        Delegates to :func:`collision.studies.convergence_plots.plot_trajectory_convergence`.
        """
        from .convergence_plots import plot_trajectory_convergence

        return plot_trajectory_convergence(self, path)


def trajectory_convergence(model: CascadeCollisionModel, rho0, t_max: float, dt: float,
                           n_values, seed: int = 0,
                           progress: bool = False) -> TrajectoryConvergence:
    """Standard error and error of the trajectory mean against the density engine."""
    n_values = np.asarray(sorted(int(n) for n in n_values))
    exact = model.run(rho0, t_max, dt)
    stderr, error = [], []
    for k, n in enumerate(n_values):
        res = model.run(rho0, t_max, dt, method="trajectories", n_trajectories=int(n),
                        seed=seed + k, progress=progress)
        stderr.append(float(np.max(res.stderr.total)))
        error.append(float(np.max(np.abs(res.total - exact.total))))
    stderr_arr = np.array(stderr)
    return TrajectoryConvergence(n_values, stderr_arr, np.array(error),
                                 fit_order(n_values, stderr_arr))
