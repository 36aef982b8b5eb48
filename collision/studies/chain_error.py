"""How the time-step error grows with the chain length.

Every engine's error is ``c(n) gamma dt`` at first order, and the constant grows with the
chain: the last subsystem is driven by an ancilla that has met ``n - 1`` others, each
collision adding its own O(dt) error to what the ancilla carries.  :func:`chain_error`
measures it with the Gaussian engine (exact for every ``n``, no cutoff) against the
exact Gaussian master equation: the largest error of any subsystem's own flux over
``t``, relative to the largest reference flux.  The engines' ``AccuracyWarning`` uses
the rule ``(n - 2/3) gamma dt`` (:func:`collision.model.predicted_dt_error`), which
this study checks: the rule is an upper envelope of the measured error for thermal
product states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lindblad import states
from lindblad._tabular import Tabular

from ..model import predicted_dt_error
from ..models.gaussian import GaussianCollisionModel


@dataclass(repr=False)
class ChainError(Tabular):
    """Relative time-step error against the chain length.

    Attributes
    ----------
    n : ndarray of int
        Chain lengths.
    dt : float
        Time step (1/gamma).
    measured, predicted : ndarray
        Largest subsystem-flux error relative to the largest reference flux, and the
        warning's rule ``(n - 2/3) gamma dt``.
    """

    n: np.ndarray
    dt: float
    measured: np.ndarray
    predicted: np.ndarray

    def _frame(self) -> tuple[dict, dict]:
        """Columns ``n_systems``, ``measured``, ``predicted``; parameter ``dt``."""
        return ({"n_systems": self.n, "measured": self.measured,
                 "predicted": self.predicted}, {"dt": self.dt})


def chain_error(n_values=(2, 3, 4, 6, 8, 12, 16, 20, 30), dt: float = 0.01,
                t_max: float = 5.0, n_s: float = 1.0, temperature: float = 0.5) -> ChainError:
    """Measure the relative O(dt) error of chains of ``n_values`` oscillators started in
    thermal states of occupation ``n_s`` (reservoir at ``temperature``)."""
    import warnings

    from .._loop import AccuracyWarning

    measured = []
    for n in n_values:
        model = GaussianCollisionModel(int(n), temperature=temperature)
        cov0 = states.gaussian_thermal(n_s, int(n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AccuracyWarning)
            res = model.run(cov0, t_max, dt, save_every=max(1, int(round(0.05 / dt))))
        ref = model.master_equation().heat_fluxes(cov0, res.t)
        measured.append(np.max(np.abs(res.subsystem - ref.subsystem))
                        / np.max(np.abs(ref.subsystem)))
    n = np.asarray(n_values, dtype=int)
    return ChainError(n, dt, np.array(measured),
                      np.array([predicted_dt_error(dt, int(k), True) for k in n]))
