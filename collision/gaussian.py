"""Gaussian collision engine: the collision model on covariance matrices, no Fock cutoff.

The reservoir is a stream of fresh thermal bosonic ancillas (covariance
``(N + 1/2) I_2``).  In every step ``dt`` one ancilla collides with S1, then S2, ...,
then Sn, then leaves (``cascade=True``); with ``cascade=False`` every subsystem meets
its own fresh ancilla.  A collision is the exchange unitary
``U_i = exp(-i theta (a_i^dag b + a_i b^dag))``, ``theta = sqrt(gamma dt)``, i.e. a beam
splitter.  In the Heisenberg picture

    a_i -> cos(theta) a_i - i sin(theta) b,      b -> cos(theta) b - i sin(theta) a_i,

and with ``a = (X + iY)/sqrt2``, ``-i sin(theta) b = sin(theta) (Y_b - i X_b)/sqrt2``, so

    X_i -> c X_i + s Y_b,   Y_i -> c Y_i - s X_b,   X_b -> c X_b + s Y_i,   Y_b -> c Y_b - s X_i

(``c = cos theta``, ``s = sin theta``): an orthogonal symplectic matrix ``R`` and
``C -> R C R^T`` on the covariance of (subsystems + ancilla).  The map is exact for any
state's second moments; nothing is truncated.  Only the four rows and columns of S_i and
the ancilla change, so a collision costs O(n) (:mod:`collision._kernels.gaussian`).

Continuum limit.  Expanding one step to first order in ``dt = theta^2 / gamma`` gives
the drift ``-gamma (I/2 + S)`` and the common noise ``gamma (N + 1/2) J`` of
:class:`lindblad.GaussianMasterEquation`; the fluxes converge with error O(dt).

Heat fluxes (units hbar omega gamma, ``J > 0`` = heat into the reservoir), evaluated
with the state at every saved time ``t_k`` from the step that follows it:

* S_i's flux is the energy it hands to the ancilla per unit time,
  ``omega (n_i(before) - n_i(after)) / dt``.  A collision conserves ``n_i + n_b``, so this
  is exactly the energy the ancilla gains.
* The local part is what S_i would hand to a *fresh* thermal ancilla in one collision.
  A fresh ancilla is uncorrelated with S_i, so ``n_i -> c^2 n_i + s^2 N`` and the local
  flux is ``omega sin^2(theta) (n_i - N) / dt``  (-> ``omega gamma (n_i - N)``, paper
  eqs 20-21).
* The correlated part is the rest: the effect of the ancilla having met S1..S_{i-1}
  first (-> ``omega gamma sum_{j<i} (C_XjXi + C_YjYi)``, eq 22).  It vanishes for S1 and
  for ``cascade=False`` (up to rounding).

Frame.  The collisions are resonant, so the engine works in the interaction picture
(frame rotating at ``omega``, like the paper's App. B); ``final_state`` is rotated back to
the lab frame at ``t[-1]`` (:func:`lindblad.gaussian.to_lab_frame`), like the final
states of the Fock-space engines.  Fluxes are frame independent.

Running.  The time loop is a resumable kernel called in chunks
(:func:`collision._loop.run_in_chunks`): a progress bar is updated between chunks, and
Ctrl-C returns the saved times finished so far with ``partial=True``.  The checks of
:mod:`collision.model` apply: time grid and memory (``ValueError``), the time-step error
rule and rounding at tiny dt (``AccuracyWarning``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lindblad._validate import flag
from lindblad.fluxes import HeatFluxes
from lindblad.gaussian import GaussianMasterEquation, to_lab_frame
from lindblad.model import CascadeSpec
from lindblad.states import validate_covariance
from lindblad.thermal import bose_occupation

from ._kernels import gaussian as kernels
from ._loop import MAX_CHUNKS, MIN_CHUNK_WORK, chunk_stops, run_in_chunks
from .model import check_output_memory, check_time_step, time_grid
from .options import GaussianOptions, driver, engine_options


def collision_symplectic(theta: float) -> np.ndarray:
    """The 4x4 matrix ``R`` of one collision on ``(X_i, Y_i, X_b, Y_b)``.

    ``C -> R C R^T``; ``R`` is orthogonal and symplectic.  Provided for inspection and
    tests; the engine applies it row by row without forming it.
    """
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, 0.0, 0.0, s],
                     [0.0, c, -s, 0.0],
                     [0.0, s, c, 0.0],
                     [-s, 0.0, 0.0, c]])


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
    """

    _repr_keys = ("n_systems", "gamma", "omega", "temperature", "cascade")

    def __init__(self, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cascade: bool = True, delay=0.0):
        super().__init__("oscillator", n_systems, gamma, omega, temperature, None, "boson",
                         cascade, delay)
        #: Mean occupation N of an incoming ancilla.
        self.n_bath = bose_occupation(self.temperature, self.omega)


    def master_equation(self) -> GaussianMasterEquation:
        """The exact reference this model converges to as ``dt -> 0``."""
        return GaussianMasterEquation(self.n_systems, self.gamma, self.omega,
                                      self.temperature, self.cascade)

    def saved_times(self, t_max: float, dt: float, save_every: int = 1) -> np.ndarray:
        """Saved times ``k save_every dt``, ``k = 0 .. floor(t_max / (save_every dt))``
        (``t_max`` rounded down to whole steps, with a relative slack of 1e-12 so that
        e.g. ``t_max = 5, dt = 0.1`` gives 50 steps).  Validates the arguments
        (:func:`collision.model.time_grid`) and the memory the fluxes need."""
        dt, _, save_every, steps = time_grid(self.gamma, t_max, dt, save_every)
        check_output_memory(steps, save_every, 8 * (2 + 6 * self.n_systems))
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
            :data:`collision.options.ENGINES`).
        extrapolate : bool
            Run at ``dt`` and ``dt / 2`` and return the Richardson extrapolation
            ``2 J(dt/2) - J(dt)`` (second order in dt), with ``result.dt_error =
            J(dt) - J(dt/2)`` (:mod:`collision.extrapolate`).

        Returns
        -------
        HeatFluxes
            ``local``, ``correlated`` of shape ``(n, n_saved)`` at the saved times
            ``t_k = k save_every dt`` (units hbar omega gamma); ``final_state`` is the
            subsystem covariance at ``t[-1]`` in the lab frame; ``parameters`` records
            the model, ``dt``, ``t_max``, ``theta``, ``save_every``, ``method="gaussian"``
            and ``frame="lab"``.  After Ctrl-C the finished saved times are returned
            with ``partial=True``.

        Raises
        ------
        ValueError
            For an invalid time grid or ``cov0``, or output arrays that would not fit
            in memory (the message suggests ``save_every``).

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
            from .extrapolate import richardson

            return richardson(*(self.run(cov0, t_max, step, every, options=opts)
                                for step, every in ((dt, save_every), (dt / 2, 2 * save_every))))
        plan = self.plan(cov0, t_max, dt, save_every)
        result = driver(method)(self, plan, **opts.as_dict(driver=True))
        result.parameters = {"source": "collision", "method": method, **self.parameters,
                             "options": opts.as_dict(), "dt": plan.dt, "t_max": float(t_max),
                             "theta": plan.theta, "save_every": plan.save_every,
                             "frame": "lab", **result.parameters}
        return result

    def plan(self, cov0, t_max: float, dt: float, save_every: int = 1) -> GaussianPlan:
        """Validate the run parameters (time grid, memory, ``cov0``, size of ``dt``)."""
        times = self.saved_times(t_max, dt, save_every)
        dt, _, save_every, _ = time_grid(self.gamma, t_max, dt, save_every)
        cov0 = validate_covariance(cov0, self.n_systems, name="cov0")
        occupations = (np.diagonal(cov0)[0::2] + np.diagonal(cov0)[1::2]) / 2 - 0.5
        check_time_step(self.gamma, dt, self.n_systems, self.cascade,
                        max(float(occupations.max()), self.n_bath) + 0.5)
        return GaussianPlan(dt=dt, theta=math.sqrt(self.gamma * dt), save_every=save_every,
                            times=times, n_steps=(times.size - 1) * save_every + 1, cov0=cov0)


@dataclass(frozen=True)
class GaussianPlan:
    """What the Gaussian engine needs for one run (from :meth:`GaussianCollisionModel.plan`).

    Attributes
    ----------
    dt, theta : float
        Time step (1/gamma) and collision angle ``sqrt(gamma dt)``.
    save_every, n_steps : int
        Steps between saved times; steps to run (one past the last saved time).
    times : ndarray, shape (n_saved,)
        Saved times.
    cov0 : ndarray, shape (2n, 2n)
        Validated initial covariance.
    """

    dt: float
    theta: float
    save_every: int
    n_steps: int
    times: np.ndarray
    cov0: np.ndarray


def run_gaussian(model: GaussianCollisionModel, plan: GaussianPlan,
                 progress: bool = False) -> HeatFluxes:
    """The Gaussian engine's driver: run ``plan`` chunk by chunk.

    Returns the fluxes at the saved times and the lab-frame covariance at ``t[-1]``;
    after Ctrl-C the finished saved times with ``partial=True``.
    """
    n, save_every, n_steps, times = model.n_systems, plan.save_every, plan.n_steps, plan.times
    n_saved = times.size
    work = np.zeros((2 * n + 2, 2 * n + 2))
    work[:2 * n, :2 * n] = plan.cov0
    local = np.zeros((n, n_saved))
    corr = np.zeros((n, n_saved))
    final = np.zeros((2 * n, 2 * n))
    status = np.zeros(1, dtype=np.int64)
    constants = (n, math.cos(plan.theta), math.sin(plan.theta), model.n_bath,
                 model.omega / plan.dt, model.cascade, save_every)

    def advance(start: int, stop: int) -> None:
        kernels.run_gaussian_collisions(work, *constants, start, stop, local, corr, final,
                                        status)

    # a step: n collisions and up to n ancilla resets, each O(2n + 2) rows and columns
    stops = chunk_stops(n_saved, save_every, n_steps, 16.0 * n * (2 * n + 2),
                        MAX_CHUNKS, MIN_CHUNK_WORK)
    done, interrupted = run_in_chunks(advance, stops, lambda: int(status[0]),
                                      progress=progress, desc="Gaussian engine")
    if done == 0:
        raise KeyboardInterrupt
    # chunks end just after saved steps: `final` is the state at the last finished one
    n_done = (done - 1) // save_every + 1
    return HeatFluxes(times[:n_done], local[:, :n_done], corr[:, :n_done],
                      partial=interrupted and done < n_steps,
                      final_state=to_lab_frame(final, times[n_done - 1], model.omega))
