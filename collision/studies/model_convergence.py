"""Convergence of any collision model to the master equation it derives.

:func:`model_convergence` runs a :class:`collision.CollisionModel` with the density engine
at a sequence of time steps and measures, against ``model.master_equation()`` (exact
propagation), the largest error of every expectation value over the run and the trace
distance of the final state.  The fitted orders are compared with the order the model
announces (``model.continuum_order``: 1 when the ``dt^{3/2}`` part of the step map
vanishes, 1/2 otherwise).

A model for the command line (``collision converge --model FILE.py``) is a Python file
with a function ``setup()`` returning a dict with ``model``, ``rho0`` and optionally
``e_ops`` (the worked examples in ``examples/models`` have one).
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lindblad._tabular import Tabular

from ..initial import initial_state
from ..models.general import CollisionModel
from .convergence import fit_order, trace_distance


@dataclass(repr=False)
class ModelConvergence(Tabular):
    """Errors of a collision model against its derived master equation.

    Attributes
    ----------
    dts : ndarray, shape (n,)
        Time steps, decreasing.
    errors : dict of str to ndarray, shape (n,)
        ``max_t |<O>_dt(t) - <O>_limit(t)|`` for every observable.
    state_errors : ndarray, shape (n,)
        Trace distance of the final states.
    expected_order : float
        ``model.continuum_order``.
    t_max : float
    """

    dts: np.ndarray
    errors: dict[str, np.ndarray]
    state_errors: np.ndarray
    expected_order: float
    t_max: float

    @property
    def orders(self) -> dict[str, float]:
        """Fitted order of every error (and of the final state's, ``"state"``)."""
        out = {k: fit_order(self.dts, v) for k, v in self.errors.items() if np.all(v > 0)}
        if np.all(self.state_errors > 0):
            out["state"] = fit_order(self.dts, self.state_errors)
        return out

    def _frame(self) -> tuple[dict, dict]:
        """Columns ``dt``, ``<observable>_error``, ``state_error``; parameters
        ``expected_order``, ``t_max``, ``order_<observable>`` (and ``order_state``)."""
        cols = {"dt": self.dts, **{f"{k}_error": v for k, v in self.errors.items()},
                "state_error": self.state_errors}
        return cols, {"expected_order": self.expected_order, "t_max": self.t_max,
                      **{f"order_{k}": v for k, v in self.orders.items()}}

    def table(self) -> str:
        names = [*self.errors, "state"]
        lines = ["dt        " + "  ".join(f"{n:>12s}" for n in names)]
        for i, dt in enumerate(self.dts):
            row = [self.errors[n][i] for n in self.errors] + [self.state_errors[i]]
            lines.append(f"{dt:<9.4g} " + "  ".join(f"{v:12.3e}" for v in row))
        orders = self.orders
        lines.append("order     " + "  ".join(f"{orders.get(n, np.nan):12.2f}" for n in names))
        lines.append(f"expected order (model.continuum_order): {self.expected_order:g}")
        return "\n".join(lines)

    def plot(self, path=None, title: str | None = None):
        """Errors against dt on log axes, with a line of the expected order."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, err in self.errors.items():
            ax.loglog(self.dts, err, "o-", label=f"max |<{name}> - limit|")
        ax.loglog(self.dts, self.state_errors, "s--", label="trace distance at t_max")
        ref = self.state_errors[0] * (self.dts / self.dts[0]) ** self.expected_order
        ax.loglog(self.dts, ref, "k:", label=f"dt^{self.expected_order:g}")
        ax.set(xlabel="dt", ylabel="error against the derived master equation",
               title=title or f"convergence to the continuum limit, t_max = {self.t_max:g}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def model_convergence(model: CollisionModel, rho0, e_ops=None, dts=(0.04, 0.02, 0.01, 0.005),
                      t_max: float = 2.0, progress: bool = False) -> ModelConvergence:
    """Errors of the density engine against ``model.master_equation()`` for each ``dt``.

    Each ``dt`` must divide ``t_max`` into whole steps (saved times are compared where the
    runs have them).

    Raises
    ------
    ValueError
        If the model has no continuum limit (the message of ``master_equation()``), or for
        fewer than two time steps.
    """
    dts = np.sort(np.asarray(dts, dtype=float))[::-1]
    if dts.size < 2 or len(set(dts)) != dts.size:
        raise ValueError(f"dts needs at least two distinct time steps, got {list(dts)}")
    limit = model.master_equation()
    order = model.continuum_order
    start = initial_state(rho0, model.dims).dense()
    ops = _ops(e_ops)
    errors: dict[str, list[float]] = {}
    state_errors = []
    for dt in dts:
        res = model.run(start, t_max, float(dt), e_ops=e_ops, progress=progress)
        ref = limit.expect(ops, start, res.t) if ops else {}
        for name, values in res.expect.items():
            errors.setdefault(name, []).append(float(np.max(np.abs(values - ref[name]))))
        final_ref = limit.evolve(start, [float(res.t[-1])])[-1]
        state_errors.append(trace_distance(res.final_state, final_ref))
    return ModelConvergence(dts, {k: np.array(v) for k, v in errors.items()},
                            np.array(state_errors), order, float(t_max))


def _ops(e_ops) -> dict:
    if e_ops is None:
        return {}
    if isinstance(e_ops, dict):
        return dict(e_ops)
    return {str(k): op for k, op in enumerate(e_ops)}


def load_setup(path) -> dict:
    """``setup()`` of a model file: a dict with ``model``, ``rho0`` and optional ``e_ops``.

    Raises
    ------
    ValueError
        For a missing file, no ``setup`` function, or a result without a
        :class:`collision.CollisionModel` under ``"model"``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--model {path}: no such file")
    namespace = runpy.run_path(str(path), run_name="collision_model_file")
    setup = namespace.get("setup")
    if not callable(setup):
        raise ValueError(f"--model {path} must define a function setup() returning "
                         "{'model': CollisionModel, 'rho0': ..., 'e_ops': {...}}")
    out = setup()
    if not isinstance(out, dict) or not isinstance(out.get("model"), CollisionModel) \
            or "rho0" not in out:
        raise ValueError(f"setup() of {path} must return a dict with 'model' (a "
                         "collision.CollisionModel) and 'rho0'")
    return out
