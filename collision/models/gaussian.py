"""The Gaussian collision model of the paper's oscillators: validation, the plan, and the
run through the driver table.  The engine (beam-splitter collisions on the covariance
matrix, delays, the fluxes) is :mod:`collision.gaussian`, whose docstring has the physics.
"""

from __future__ import annotations

import math

import numpy as np

from lindblad._validate import flag
from lindblad.fluxes import HeatFluxes
from lindblad.gaussian import GaussianMasterEquation, turn_modes
from lindblad.model import CascadeSpec
from lindblad.states import validate_covariance
from lindblad.thermal import bose_occupation

from ..drivers import driver
from ..extrapolate import richardson
from ..gaussian import GaussianPlan
from ..options import GaussianOptions, engine_options
from ..plans.exchange import check_time_step, delay_steps, time_grid
from ..resources import check_run_memory


class GaussianCollisionModel(CascadeSpec):
    """Collision model of a cascade of oscillators on covariance matrices (exact, no cutoff).

    Parameters
    ----------
    n_systems : int
        Chain length n >= 2.
    gamma : float
        Relaxation rate (> 0); time in units of 1/gamma.
    omega : float
        Oscillator frequency (> 0); energy in units of hbar omega.
    temperature : float
        Reservoir (ancilla) temperature in hbar omega / k_B, >= 0.
    cascade : bool
        True: each ancilla meets S1, S2, ..., Sn in turn.  False: every subsystem meets
        its own fresh ancilla (independent reservoirs).
    delay : float or sequence of float
        Travel time of the reservoir between consecutive subsystems (1/gamma), one number
        for every link or one per link; each must be a whole number of time steps ``dt``
        of the run (:func:`delay_steps`).  Default 0.
    """

    _repr_keys = ("n_systems", "gamma", "omega", "temperature", "cascade")

    def __init__(self, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cascade: bool = True, delay=0.0, phase=0.0):
        super().__init__("oscillator", n_systems, gamma, omega, temperature, None, "boson",
                         cascade, delay, phase)
        #: Mean occupation N of an incoming ancilla.
        self.n_bath = bose_occupation(self.temperature, self.omega)

    def master_equation(self) -> GaussianMasterEquation:
        """The exact reference this model converges to as ``dt -> 0`` (same delays)."""
        return GaussianMasterEquation(self.n_systems, self.gamma, self.omega,
                                      self.temperature, self.cascade, self.delay, self.phase)

    def saved_times(self, t_max: float, dt: float, save_every: int = 1) -> np.ndarray:
        """Saved times ``k save_every dt``, ``k = 0 .. floor(t_max / (save_every dt))``
        (``t_max`` rounded down to whole steps, with a relative slack of 1e-12 so that
        e.g. ``t_max = 5, dt = 0.1`` gives 50 steps).  Validates the arguments
        (:func:`collision.model.time_grid`) and the memory the fluxes need."""
        dt, _, save_every, steps = time_grid(self.gamma, t_max, dt, save_every)
        check_run_memory(self, "gaussian", steps, save_every)
        return np.arange(steps // save_every + 1) * (save_every * dt)

    def run(self, cov0, t_max: float, dt: float, save_every: int = 1,
            progress: bool = False, options: GaussianOptions | None = None,
            method: str = "gaussian", extrapolate: bool = False) -> HeatFluxes:
        """Run the collision model and return the heat fluxes.

        Parameters
        ----------
        cov0 : array_like, shape (2n, 2n)
            Initial covariance of the subsystems, order ``(X1, Y1, X2, Y2, ...)``, zero
            first moments (validated: symmetric, ``C + i Omega/2 >= 0``).
        t_max : float
            Final time (1/gamma), >= dt; the last saved time is the largest multiple of
            ``save_every * dt`` not above it.
        dt : float
            Time step (1/gamma) between ancillas; ``gamma * dt <= 0.5``.
        save_every : int
            Save the fluxes every this many steps (at most the number of steps).
        progress : bool
            Show a progress bar (updated between chunks of the run).
        options : GaussianOptions, optional
            The engine's options (:mod:`collision.options`); ``progress=True`` overrides.
        method : {"gaussian"}
            The engine (the only one for covariance matrices; the name of
            :data:`collision.ENGINES`).
        extrapolate : bool
            Run at ``dt`` and ``dt / 2`` and return the Richardson extrapolation
            ``2 J(dt/2) - J(dt)`` (second order in dt), with ``result.dt_error =
            J(dt) - J(dt/2)`` (:mod:`collision.extrapolate`).

        Returns
        -------
        HeatFluxes
            ``local``, ``correlated`` of shape ``(n, n_saved)`` at the saved times
            ``t_k = k save_every dt`` (units hbar omega gamma); ``final_state`` is the
            subsystem covariance at ``t[-1]`` in the lab frame (with ``delay``: the
            equal-time state, every subsystem at ``t[-1]``; None after an interruption);
            with ``delay``, ``in_flight`` of shape ``(n - 1, n_saved)`` is the energy
            (hbar omega, relative to thermal) the ancillas carry between consecutive
            subsystems (module docstring); ``parameters`` records
            the model, ``dt``, ``t_max``, ``theta``, ``save_every``, ``method="gaussian"``
            and ``frame="lab"``.  After Ctrl-C the finished saved times are returned
            with ``partial=True``.

        Raises
        ------
        ValueError
            For an invalid time grid or ``cov0``, a ``delay`` that is not a whole number
            of steps ``dt``, or output arrays that would not fit in memory (the message
            suggests ``save_every``).

        Warns
        -----
        AccuracyWarning
            If ``dt`` is too large for the chain length (estimated error above 5 %) or
            so small that rounding spoils the fluxes (rules in :mod:`collision.model`).
        """
        if method != "gaussian":
            raise ValueError(f"method must be 'gaussian' for GaussianCollisionModel (the "
                             f"Fock-space engines belong to CascadeCollisionModel), got "
                             f"{method!r}")
        opts = engine_options(method, options, progress=progress or None)
        if flag(extrapolate, "extrapolate"):
            # both runs and their extrapolation are held at once: check before the first
            half = time_grid(self.gamma, t_max, dt / 2, 2 * save_every)[3]
            check_run_memory(self, method, half, 2 * save_every, copies=3)
            return richardson(*(self.run(cov0, t_max, step, every, options=opts)
                                for step, every in ((dt, save_every), (dt / 2, 2 * save_every))))
        angles = self.frame_angles
        if any(self.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
            cov0 = turn_modes(validate_covariance(cov0, self.n_systems, name="cov0"), angles,
                              inverse=True)
        plan = self.plan(cov0, t_max, dt, save_every)
        result = driver(method)(self, plan, **opts.as_dict(driver=True))
        if any(self.phases) and result.final_state is not None:
            result.final_state = turn_modes(result.final_state, angles)
        result.parameters = {"source": "collision", "method": method, **self.parameters,
                             "options": opts.as_dict(), "dt": plan.dt, "t_max": float(t_max),
                             "theta": plan.theta, "save_every": plan.save_every,
                             "frame": "lab", **result.parameters}
        return result

    def plan(self, cov0, t_max: float, dt: float, save_every: int = 1) -> GaussianPlan:
        """Validate the run parameters (time grid, memory, ``cov0``, size of ``dt``, the
        delays in steps)."""
        times = self.saved_times(t_max, dt, save_every)
        dt, _, save_every, _ = time_grid(self.gamma, t_max, dt, save_every)
        n_steps = (times.size - 1) * save_every + 1
        steps = delay_steps(self.delays, dt, n_steps)  # beyond the run: capped, same run
        cov0 = validate_covariance(cov0, self.n_systems, name="cov0")
        occupations = (np.diagonal(cov0)[0::2] + np.diagonal(cov0)[1::2]) / 2 - 0.5
        check_time_step(self.gamma, dt, self.n_systems, self.cascade,
                        max(float(occupations.max()), self.n_bath) + 0.5)
        return GaussianPlan(dt=dt, theta=math.sqrt(self.gamma * dt), save_every=save_every,
                            times=times, n_steps=n_steps, cov0=cov0,
                            delay_steps=steps)
