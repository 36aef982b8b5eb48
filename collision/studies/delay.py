"""The paper's question with the subsystems apart: a travel time ``tau`` from S1 to S2.

How do initial correlations speed up or slow down the heat release (the paper's Figs 3,
4a, 6a) when S1's output reaches S2 only a time ``tau`` (units 1/gamma) after leaving S1?
This module computes (and :func:`.delay_report.run_study` writes, with :mod:`.delay_plots`
drawing)

* :func:`compute_fluxes`: ``J^(c)(t)`` (with ``J1``, ``J2``, ``J12``) for the correlated
  states of Fig. 3(a) (oscillators, ``C13 = C24 = -0.7, 0, 0.7`` x ``N_S``) and Fig. 3(b)
  (qubits, ``Re rho23 = -0.75, 0, 0.75``) at the delays :data:`FLUX_DELAYS`;
* :func:`compute_release`: the release times ``gamma tau_p`` of Figs 4(a) and 6(a) on a
  grid of delays from 0 to :data:`MAX_DELAY`, over each figure's whole class range of the
  correlation parameter, their spread over that range, the integrated correlation effect
  ``eta`` and the delays beyond which the correlations stop mattering (:func:`thresholds`).

What is drawn.  **Lines** are the exact references with the same delay:
:class:`lindblad.GaussianMasterEquation` (oscillators, exact covariances) and
:class:`lindblad.CascadeMasterEquation` (qubits).  **Markers** are the collision engines
at the time step of :class:`DelaySettings` (0.01 by default): the Gaussian collision
engine (oscillators) and the averaged ``density`` engine (qubits).  Both systems start in
the paper's states at T = 0 (``N = 0``, ``xi = 1``): ``N_S = 1`` and ``xi_S = 0.25``.
Qubit fluxes are physical (``H = (omega/2) sigma_z``; the paper's Sec. VI curves are 2x).

The physics (derived in the README section "A travel time between subsystems", checked
by the tests).  Collisions of different (subsystem, ancilla) pairs commute, so a delayed
cascade is S2 relaxing *alone* for ``tau`` (with fresh ancillas), followed by the
zero-delay cascade with S1's clock started ``tau`` earlier than S2's.  Hence, exactly:

1. ``J^(c)(t) = J^(ind)(t)`` (two independent reservoirs) for ``t < tau``: before S1's
   output arrives each subsystem only relaxes locally, and a local flux depends on the
   subsystem's own state, not on the correlations.
2. S1's flux does not depend on the delay (nothing flows back upstream).
3. The correlation effect ``Delta J(t) = J^(c)(t; x) - J^(c)(t; 0)`` (same marginals, with
   and without the correlations ``x``) is the zero-delay effect, delayed and damped:
   ``Delta J_tau(t) = e^{-gamma tau / 2} Delta J_0(t - tau)`` for ``t >= tau``, 0 before.
   The correlations of eqs 31 and 41 are one-quantum coherences of S2 (``<a1^dag a2>``,
   ``<a1 a2>``; ``|eg><ge|``), and S2's local relaxation damps them by ``e^{-gamma tau/2}``
   (its amplitude decay) before S1's output meets S2.  The fluxes are linear in the
   initial state, so the rest follows.  In the collision model the damping is
   ``cos(sqrt(gamma dt))^m`` for a delay of ``m`` steps (one collision with a fresh
   ancilla maps ``a2 -> cos(theta) a2 - i sin(theta) b``), exactly at any ``dt``
   (:func:`correlation_damping`).
4. The total heat ``Q(inf)`` (eq 11) does not depend on the delay: the energies of the
   initial and final (ground) states do not.

The heat comes back.  When S1's output arrives S2 has already relaxed and absorbs part
of it: ``J^(c)`` jumps at ``t = tau`` (the cascade terms switch on) and turns negative, so
the paper's ``Q(t) = int_0^t J^(c) = U_S(0) - U_S(t)`` (heat that has left the subsystems)
is no longer monotonic, and its first-passage times ``tau_p`` jump where a correlation
moves a maximum of ``Q`` across p%.  The heat that has left the chain (past S2),
``Q_out = Q - in_flight``, is monotonic at T = 0; both are computed (:data:`HEATS`).

Where the correlations stop mattering (:func:`thresholds`).  By 1, ``Q(t)`` is the
independent-reservoir release for ``t < tau``, so as soon as ``tau >= tau_p^(ind)`` (the
release time with independent reservoirs, :func:`independent_release_times`;
``-ln(1 - p/100)/gamma`` at T = 0) the fraction p is released before S1's output
reaches S2 and ``tau_p`` is *exactly* the same for every member of the class: the spread
``max_x tau_p - min_x tau_p`` vanishes from ``tau*_p = tau_p^(ind)`` on.  ``Q_out`` holds
only S2's share (here 1/2) before ``t = tau``: the same happens for ``p < 50%`` from
``-ln(1 - 2p/100)/gamma`` on, while for ``p >= 50%`` the spread decays like ``Delta J``
and never vanishes.  For the flux: by 3,
``eta(tau) = max_x int |Delta J_tau| dt / Q(inf) = eta(0) e^{-gamma tau/2}``, which falls
below a tolerance ``eps`` (:data:`ETA_TOLERANCES`) beyond
``tau_eta = (2/gamma) ln(eta(0)/eps)``; a spread of ``tau_p`` at most
:data:`SPREAD_TOLERANCE` counts as none for the thresholds read off the grid.

Model runs are sweeps.  Every grid of model runs is one sweep (:mod:`collision.sweep`),
written here as a specification and run by ``settings.runs``
(:class:`~collision.studies.sweeps.SweepRuns`; in this process without files when it is
None, into ``<out>/sweeps/<name>`` for :func:`.delay_report.run_study`), one per system:
``fluxes-<system>/engine`` and ``fluxes-<system>/reference`` (every delay of
``settings.delays`` and every Fig. 3 state, the references at the engine's times),
``release-<system>/reference`` (every delay of the release grid at both ends of the class,
each at the times of :func:`_reference_times`) and ``release-<system>/engine`` (the engine
delays at both ends and for the uncorrelated state).  What is not a model run stays a
plain evaluation: the closed form of ``J^(ind)``, the integrals of ``Q(t)``, the release
times of the class members in between (affine combinations of the two ends) and the
thresholds.

Conventions (DESIGN.md section 3): hbar = k_B = 1, time in 1/gamma, flux in
hbar omega gamma, ``J > 0`` when heat flows into the reservoir.  Only
:mod:`.delay_plots` uses matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lindblad import closed_form as cf
from lindblad._tabular import Tabular, fmt, time_span
from lindblad.fluxes import FIELDS, HeatFluxes

from ..sweep.point import model_class
from .paper.analysis import (
    FIG3A_C,
    FIG3B_RHO23,
    N_S,
    P_VALUES,
    QUBIT_SCALE_NOTE,
    XI_S,
    _cumulative_steps,
    _cumulative_trapezoid,
    release_times_from_flux,
)
from .paper.compute import _engine_grid
from .sweeps import SweepRuns, point_state, sweep_spec

__all__ = [
    "ETA_TOLERANCES",
    "FLUX_DELAYS",
    "FLUX_KEYS",
    "HEATS",
    "MAX_DELAY",
    "SPREAD_TOLERANCE",
    "SYSTEMS",
    "DelayFluxPanel",
    "DelayReleasePanel",
    "DelaySettings",
    "ReleaseTimes",
    "Thresholds",
    "compute_fluxes",
    "compute_release",
    "correlation_damping",
    "delayed_effect",
    "independent_release_times",
    "release_times_from_heat",
    "thresholds",
]

#: Delays (1/gamma) of the flux panels (the Fig. 3 analogues) and of the engine markers.
FLUX_DELAYS = (0.0, 0.5, 1.0, 2.0, 5.0)
#: Largest delay (1/gamma) of the release-time grid.
MAX_DELAY = 5.0
#: A spread of ``tau_p`` over the class at most this (1/gamma) counts as "no effect" for
#: the grid estimate of the threshold: the engines' time step at the default ``dt = 0.01``,
#: finer than their release times are resolved (O(dt) errors).
SPREAD_TOLERANCE = 0.01
#: Tolerances ``eps`` of the integrated correlation effect ``eta`` (fractions of Q(inf)).
ETA_TOLERANCES = (0.05, 0.01)
#: The two systems of the study, in the order of the files.
SYSTEMS = ("oscillator", "qubit")
#: The flux quantities kept for every curve (:data:`lindblad.fluxes.FIELDS`).
FLUX_KEYS = FIELDS


# --- settings ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DelaySettings:
    """Time step and grids of the study.

    Attributes
    ----------
    dt : float
        Collision time step (1/gamma) of the engines; every delay must be a whole number
        of steps.
    t_max : float
        End of the time axis of the flux panels (1/gamma).
    delays : tuple of float
        Delays of the flux panels and of the engine markers of the release times.
    n_release_delays : int
        Points of the delay grid ``linspace(0, MAX_DELAY, n)`` of the release times (it
        must contain ``delays``).
    n_x : int
        Members of each class range (odd: the uncorrelated state is one of them).
    h : float
        Sample spacing (1/gamma) of the references of the release times: ``Q`` by the
        trapezoid rule with its end correction (error O(h^4)), crossings interpolated
        linearly (``tau_p`` error O(h^2), 3e-4 at h = 0.025).
    tail : float
        The release runs end at ``MAX_DELAY + tail`` (1/gamma): the flux left after it
        is below 1e-4 of Q(inf) (``Delta J_0`` and the cascade decay as ``t^2 e^{-gamma t}``).
    runs : SweepRuns or None
        Where and how the model runs are computed
        (:class:`collision.studies.sweeps.SweepRuns`: the sweeps' folder, local processes or
        a Dask cluster); None: in this process, without files.  Execution only: it never
        changes a number and is left out of comparisons.
    """

    dt: float = 0.01
    t_max: float = 12.0
    delays: tuple[float, ...] = FLUX_DELAYS
    n_release_delays: int = 51
    n_x: int = 41
    h: float = 0.025
    tail: float = 15.0
    runs: SweepRuns | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        grid = self.release_delays
        for d in self.delays:
            if not np.any(np.isclose(grid, d, rtol=0.0, atol=1e-12)):
                raise ValueError(f"delays: {d:g} is not on the release grid "
                                 f"linspace(0, {MAX_DELAY:g}, {self.n_release_delays})")
        if self.n_x < 3 or self.n_x % 2 == 0:
            raise ValueError(f"n_x must be odd and >= 3, got {self.n_x}")

    @property
    def release_delays(self) -> np.ndarray:
        """The delay grid of the release times, shape (n_release_delays,)."""
        return np.linspace(0.0, MAX_DELAY, self.n_release_delays)

    @property
    def t_release(self) -> float:
        """End time of every release run (1/gamma)."""
        return MAX_DELAY + self.tail

    @classmethod
    def full(cls) -> DelaySettings:
        """The settings of ``collision delay``."""
        return cls()

    @classmethod
    def quick(cls) -> DelaySettings:
        """Coarse grids and ``dt = 0.025`` (tests and CI; a few seconds)."""
        return cls(dt=0.025, n_release_delays=11, n_x=9, h=0.05)


# --- the two systems ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _System:
    """What the study needs to know about one system (oscillators or qubits): the models
    and initial states as the plain values of a sweep specification."""

    name: str
    flux_parameter: str            # label of the flux panels' curves (Fig. 3)
    flux_values: tuple[float, ...]
    release_parameter: str         # the class parameter x of Figs 4a / 6a
    x_max: float                   # the class range is [-x_max, x_max]
    engine_model: str              # collision model (collision.sweep.MODELS)
    reference_model: str           # its exact reference
    model_params: dict[str, Any]   # their arguments besides the delay
    initial: dict[str, Any]        # [initial] of every state: the constructor and fixed args
    member: Callable[[float], dict]     # dotted initial values of the class member x
    curve: Callable[[float], dict]      # dotted initial values of a flux curve
    independent: Callable[[np.ndarray], np.ndarray]  # J^(ind)(t), closed form
    q_inf: float
    engine_name: str
    reference_name: str
    notes: str

    def engine(self, delay: float):
        """The collision model with this delay."""
        return model_class(self.engine_model)(**self.model_params, delay=delay)

    def reference(self, delay: float):
        """The exact model with this delay."""
        return model_class(self.reference_model)(**self.model_params, delay=delay)

    def state(self, x: float) -> np.ndarray:
        """The initial state of the class member ``x``."""
        return self._state(self.member(x))

    def flux_state(self, value: float) -> np.ndarray:
        """The initial state of the flux curve ``value``."""
        return self._state(self.curve(value))

    def _state(self, values: dict) -> np.ndarray:
        initial = {**self.initial, **{k.split(".", 1)[1]: v for k, v in values.items()}}
        return point_state(self.reference_model, self.model_params, initial)

    def spec(self, engine: bool, run: dict, points: list[dict]) -> dict:
        """The sweep of the engine (or the reference) over ``points``."""
        return sweep_spec(self.engine_model if engine else self.reference_model,
                          self.model_params, self.initial, run, points)


def _system(name: str) -> _System:
    if name == "oscillator":
        return _System(
            name, "C13 = C24", tuple(f * N_S for f in FIG3A_C), "C13 + C24", 2.0 * N_S,
            "GaussianCollisionModel", "GaussianMasterEquation", {"temperature": 0.0},
            {"state": "gaussian_correlated", "n_s": N_S},
            lambda x: {"initial.c13": x / 2, "initial.c24": x / 2},
            lambda c: {"initial.c13": c, "initial.c24": c},
            lambda t: cf.oscillator_independent_flux(t, N_S, 0.0),
            cf.oscillator_total_heat(N_S), "Gaussian collision engine",
            "GaussianMasterEquation (exact)",
            f"N_S = {N_S:g}, N = 0 (T = 0); states of eq 31 with C13 = C24; "
            f"Q(inf) = 2 N_S (eq 11)")
    if name == "qubit":
        return _System(
            name, "Re rho23", tuple(FIG3B_RHO23), "Re rho23", 1.0 - XI_S**2,
            "CascadeCollisionModel", "CascadeMasterEquation",
            {"system": "qubit", "temperature": 0.0}, {"state": "correlated_qubits", "xi_s": XI_S},
            lambda x: {"initial.rho23": x}, lambda r: {"initial.rho23": r},
            lambda t: cf.qubit_independent_flux(t, XI_S),
            cf.qubit_total_heat(XI_S), "density engine", "CascadeMasterEquation (exact)",
            f"xi_S = {XI_S:g}, xi = 1 (T = 0); states of eq 41 (the paper's rho23 symbol); "
            f"Q(inf) = omega (1 - xi_S) (eq 11); {QUBIT_SCALE_NOTE}")
    raise ValueError(f"system must be one of {SYSTEMS}, got {name!r}")


def _runs(settings: DelaySettings) -> SweepRuns:
    """``settings.runs``, or runs in this process without files."""
    return settings.runs if settings.runs is not None else SweepRuns()


# --- the exact structure ------------------------------------------------------------------------

def correlation_damping(delay: float, dt: float | None = None, gamma: float = 1.0) -> float:
    """Factor by which S2's local relaxation during the delay damps the correlation effect.

    Parameters
    ----------
    delay : float
        Travel time ``tau`` from S1 to S2 (1/gamma), >= 0.
    dt : float, optional
        Collision time step (1/gamma); None for the master equation.
    gamma : float
        Coupling rate.

    Returns
    -------
    float
        ``exp(-gamma tau / 2)`` (master equation), or ``cos(sqrt(gamma dt))^m`` with
        ``m = tau/dt`` collisions (collision model: one collision with a fresh ancilla maps
        ``a2 -> cos(theta) a2 - i sin(theta) b``, and ``sigma_-`` likewise for qubits).
    """
    if not (math.isfinite(delay) and delay >= 0):
        raise ValueError(f"delay must be a finite number >= 0 (1/gamma), got {delay!r}")
    if dt is None:
        return math.exp(-gamma * delay / 2)
    m = round(delay / dt)
    if abs(m * dt - delay) > 1e-9 * max(1.0, delay):
        raise ValueError(f"delay {delay:g} is not a whole number of steps dt = {dt:g}")
    return math.cos(math.sqrt(gamma * dt)) ** m


def delayed_effect(effect0: np.ndarray, steps: int, damping: float) -> np.ndarray:
    """``damping x Delta J_0(t - tau)``: the zero-delay correlation effect sampled at
    ``t_k = k h`` shifted by ``steps = tau/h`` samples (0 before) and damped."""
    out = np.zeros_like(effect0)
    if steps < effect0.shape[-1]:
        out[..., steps:] = damping * effect0[..., :effect0.shape[-1] - steps]
    return out


def independent_release_times(p=P_VALUES, share: float = 1.0, gamma: float = 1.0) -> np.ndarray:
    """``gamma tau_p`` of heat relaxing as ``share x Q(inf) (1 - e^{-gamma t})``.

    At T = 0 the energy of an oscillator (``N_S e^{-gamma t}``) and of a qubit (its excited
    population) relaxes as ``e^{-gamma t}`` in its own reservoir, whatever the
    correlations.  ``share = 1``: both subsystems with independent reservoirs,
    ``-ln(1 - p/100)``; with a delay ``tau`` the cascade releases exactly that much until
    ``t = tau``, so from ``tau >= tau_p^(ind)`` on the paper's ``tau_p`` is the same for every
    correlated state.  ``share = 1/2``: S2 alone (half of the energy in the states of the
    study), ``-ln(1 - 2 p/100)``, the same threshold for the heat that has left the chain.

    Parameters
    ----------
    p : array_like
        Percentages in (0, 100).
    share : float
        Fraction of Q(inf) that relaxes, in (0, 1].
    gamma : float

    Returns
    -------
    ndarray
        Same shape as ``p``; NaN where ``p/100 >= share`` (never reached).
    """
    p = np.asarray(p, dtype=float)
    if np.any((p <= 0) | (p >= 100)):
        raise ValueError(f"p must lie in (0, 100) (percent), got {p}")
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share!r}")
    frac = p / 100.0 / share
    out = np.full(p.shape, np.nan)
    reached = frac < 1.0
    out[reached] = -np.log1p(-frac[reached]) / gamma
    return out


# --- flux panels (Fig. 3 with a delay) ---------------------------------------------------------

@dataclass(kw_only=True, repr=False)
class DelayFluxPanel(Tabular):
    """``J^(c)(t)`` and its parts for the Fig. 3 states at several delays.

    Attributes
    ----------
    system : {"oscillator", "qubit"}
    parameter : str
        What distinguishes the curves (``"C13 = C24"``, ``"Re rho23"``).
    values : ndarray, shape (n_curves,)
    delays : ndarray, shape (n_delays,)
        Travel times (1/gamma).
    t : ndarray, shape (n_t,)
        Times ``k dt`` (1/gamma) shared by engine and reference.
    engine, reference : dict of str to ndarray, shape (n_delays, n_curves, n_t)
        ``J1, J2, J12, total`` (hbar omega gamma, physical units).
    independent : ndarray, shape (n_t,)
        ``J^(ind)`` (two independent reservoirs, closed form; no delay enters it).
    engine_name, reference_name, notes : str
    dt : float
    """

    system: str
    parameter: str
    values: np.ndarray
    delays: np.ndarray
    t: np.ndarray
    engine: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    independent: np.ndarray
    engine_name: str
    reference_name: str
    notes: str
    dt: float

    def _frame(self) -> tuple[dict, dict]:
        """The columns of the study's flux CSV: ``t``, ``J_independent.reference``, then
        ``delay=<d>[<parameter>=<v>].<field>.<engine|reference>``."""
        cols = {"t": self.t, "J_independent.reference": self.independent}
        for k, d in enumerate(self.delays):
            for i, v in enumerate(self.values):
                for q in FLUX_KEYS:
                    for src, data in (("engine", self.engine), ("reference", self.reference)):
                        cols[f"delay={d:g}[{self.parameter}={v:g}].{q}.{src}"] = data[q][k, i]
        return cols, {"system": self.system, "parameter": self.parameter, "dt": self.dt,
                      "engine": self.engine_name, "reference": self.reference_name}

    def _display(self):
        pairs = [("system", self.system), ("t", time_span(self.t)), ("dt", fmt(self.dt)),
                 ("engine", self.engine_name), ("reference", self.reference_name)]
        err = self.errors()
        rows = [[fmt(d), fmt(v), fmt(err[k, i])] for k, d in enumerate(self.delays)
                for i, v in enumerate(self.values)]
        return pairs, ["delay", self.parameter, "max |J engine - J reference| (total)"], rows

    def errors(self, key: str = "total") -> np.ndarray:
        """``max_t |J_engine - J_reference|`` of ``key``, shape (n_delays, n_curves)."""
        return np.max(np.abs(self.engine[key] - self.reference[key]), axis=-1)

    def effect(self, source: str = "reference") -> np.ndarray:
        """``Delta J = J^(c)(x) - J^(c)(0)`` of every curve, shape (n_delays, n_curves, n_t)
        (the uncorrelated curve is the one with value 0)."""
        j = (self.reference if source == "reference" else self.engine)["total"]
        zero = int(np.flatnonzero(self.values == 0)[0])
        return j - j[:, zero:zero + 1]

    def before_arrival_errors(self) -> np.ndarray:
        """``max |J^(c)_reference(t) - J^(ind)(t)|`` over ``t < delay`` and the curves, per
        delay, shape (n_delays,) (0 for a zero delay): rule 1 of the module docstring."""
        out = np.zeros(self.delays.size)
        for k, d in enumerate(self.delays):
            before = self.t < d - 0.5 * self.dt
            if before.any():
                out[k] = np.max(np.abs(self.reference["total"][k][:, before]
                                       - self.independent[before]))
        return out

    def law_errors(self, source: str = "reference") -> np.ndarray:
        """``max_t |Delta J_tau(t) - damping x Delta J_0(t - tau)|`` per delay, shape
        (n_delays,): rule 3 of the module docstring (``damping`` from
        :func:`correlation_damping`, for the engine at its ``dt``)."""
        eff = self.effect(source)
        out = np.zeros(self.delays.size)
        for k, d in enumerate(self.delays):
            steps = round(d / self.dt)
            damp = correlation_damping(d, None if source == "reference" else self.dt)
            out[k] = np.max(np.abs(eff[k] - delayed_effect(eff[0], steps, damp)))
        return out


def compute_fluxes(system: str, settings: DelaySettings | None = None) -> DelayFluxPanel:
    """``J^(c)(t)`` of the Fig. 3 states of ``system`` at ``settings.delays`` (writes nothing).

    Parameters
    ----------
    system : {"oscillator", "qubit"}
        Fig. 3(a) (oscillators, ``C13 = C24 = FIG3A_C x N_S``) or 3(b) (qubits,
        ``Re rho23 = FIG3B_RHO23``).
    settings : DelaySettings, optional
        Default :meth:`DelaySettings.full`.

    Returns
    -------
    DelayFluxPanel
        Engine at ``settings.dt`` and the exact reference at the engine's times.
    """
    s = settings or DelaySettings.full()
    spec = _system(system)
    run = {"t_max": _engine_grid(s.t_max, s.dt), "dt": s.dt}   # references: the same times
    points = [{"model.delay": float(d), **spec.curve(v)} for d in s.delays
              for v in spec.flux_values]
    runs = _runs(s)
    results = {source: runs.run(f"fluxes-{system}/{source}",
                                spec.spec(source == "engine", run, points))
               for source in ("engine", "reference")}
    n_d, n_v = len(s.delays), len(spec.flux_values)
    engine, reference = ({k: np.array([getattr(r, k) for r in results[source]]).reshape(
        n_d, n_v, -1) for k in FLUX_KEYS} for source in ("engine", "reference"))
    t = results["engine"][0].t
    return DelayFluxPanel(
        system=system, parameter=spec.flux_parameter, values=np.array(spec.flux_values),
        delays=np.array(s.delays, dtype=float), t=t, engine=engine, reference=reference,
        independent=spec.independent(t), engine_name=spec.engine_name,
        reference_name=spec.reference_name, dt=s.dt,
        notes=f"{spec.notes}; engine at dt = {s.dt:g}")


# --- release times against the delay (Figs 4a and 6a with a delay) ---------------------------

#: The two heats whose release times are computed: ``"released"``, the paper's
#: ``Q(t) = int_0^t J^(c) = U_S(0) - U_S(t)`` (heat that has left the subsystems), and
#: ``"out"``, ``Q_out(t) = Q(t) - in_flight(t)`` (heat that has left the chain, past S2).
HEATS = ("released", "out")


@dataclass(kw_only=True)
class ReleaseTimes:
    """``gamma tau_p`` of one heat (:data:`HEATS`) on the delay grid and at the engine markers.

    Attributes
    ----------
    heat : {"released", "out"}
    reference : ndarray, shape (n_d, n_p, n_x)
        Exact release times at every delay of the grid and class member.
    engine : ndarray, shape (n_e, n_p, 3)
        Engine release times at the engine delays for ``x = -x_max, 0, x_max``.
    reference_at_engine : ndarray, shape (n_e, n_p, 3)
        ``reference`` at the same points.
    exact_threshold : ndarray, shape (n_p,)
        The delay from which ``tau_p`` is exactly the same for every class member
        (:func:`independent_release_times`; NaN where there is none).
    """

    heat: str
    reference: np.ndarray
    engine: np.ndarray
    reference_at_engine: np.ndarray
    exact_threshold: np.ndarray

    @property
    def spread(self) -> np.ndarray:
        """``max_x tau_p - min_x tau_p`` over the class, shape (n_d, n_p) (1/gamma)."""
        return self.reference.max(axis=2) - self.reference.min(axis=2)

    def engine_errors(self) -> np.ndarray:
        """``max |tau_p(engine) - tau_p(reference)|`` per engine delay, shape (n_e,)."""
        return np.max(np.abs(self.engine - self.reference_at_engine), axis=(1, 2))


@dataclass(kw_only=True, repr=False)
class DelayReleasePanel(Tabular):
    """Release times against the delay over a whole class range of the correlations.

    Attributes
    ----------
    system : {"oscillator", "qubit"}
    parameter : str
        The class parameter ``x`` (``"C13 + C24"`` with ``C13 = C24``, or ``"Re rho23"``).
    p : ndarray, shape (n_p,)
        Percentages (:data:`.paper.analysis.P_VALUES`).
    delays : ndarray, shape (n_d,)
        The delay grid (1/gamma).
    x : ndarray, shape (n_x,)
        Class members, ``-x_max .. x_max`` (the paper's ranges: ``|C13 + C24| <= 2 N_S``,
        ``|Re rho23| <= 1 - xi_S^2``).  The fluxes are affine in ``x`` (the state is, the
        dynamics is linear): the references run at ``x = -x_max`` and ``x_max`` and the
        other members are exact affine combinations.
    engine_delays : ndarray, shape (n_e,)
    x_engine : ndarray, shape (3,)
        ``-x_max, 0, x_max``.
    times : dict of str to ReleaseTimes
        ``"released"`` (the paper's ``tau_p``) and ``"out"`` (:data:`HEATS`).
    eta : ndarray, shape (n_d,)
        ``int |J^(c)(x_max) - J^(c)(0)| dt / Q(inf)`` of the reference: the integrated
        correlation effect of the most correlated member (linear in ``|x|``).
    q_reference : ndarray, shape (n_d, 3)
        ``Q(t_end)`` of the reference at ``x = -x_max, 0, x_max``.
    q_engine : ndarray, shape (n_e, 3)
        The engine's step sum ``dt sum_k J_k`` up to ``t_end`` (its exact energy balance).
    q_inf : float
        Total heat, eq 11 (hbar omega).
    t_end, h, dt : float
        End of the runs, reference sampling and engine time step (1/gamma).
    engine_name, reference_name, notes : str
    """

    system: str
    parameter: str
    p: np.ndarray
    delays: np.ndarray
    x: np.ndarray
    engine_delays: np.ndarray
    x_engine: np.ndarray
    times: dict[str, ReleaseTimes]
    eta: np.ndarray
    q_reference: np.ndarray
    q_engine: np.ndarray
    q_inf: float
    t_end: float
    h: float
    dt: float
    engine_name: str
    reference_name: str
    notes: str

    def _frame(self) -> tuple[dict, dict]:
        """The columns of the study's release CSV: ``source``, ``delay``, the class
        parameter, ``tau_p<p>.<heat>`` (one row per delay and class member)."""
        nd, nx, ne = self.delays.size, self.x.size, self.engine_delays.size
        cols = {"source": np.array(["reference"] * (nd * nx) + ["engine"] * (ne * 3)),
                "delay": np.concatenate([np.repeat(self.delays, nx),
                                         np.repeat(self.engine_delays, 3)]),
                self.parameter.replace(" ", ""): np.concatenate([np.tile(self.x, nd),
                                                                 np.tile(self.x_engine, ne)])}
        for heat, times in self.times.items():
            for k, pc in enumerate(self.p):
                cols[f"tau_p{pc:g}.{heat}"] = np.concatenate(
                    [times.reference[:, k, :].ravel(), times.engine[:, k, :].ravel()])
        return cols, {"system": self.system, "parameter": self.parameter, "q_inf": self.q_inf,
                      "t_end": self.t_end, "dt": self.dt, "engine": self.engine_name,
                      "reference": self.reference_name}

    def _display(self):
        pairs = [("system", self.system), ("parameter", self.parameter),
                 ("delays", f"{fmt(self.delays[0])} .. {fmt(self.delays[-1])} "
                            f"({self.delays.size})" if self.delays.size else "none"),
                 ("engine", self.engine_name), ("reference", self.reference_name)]
        rows = [[heat, fmt(d), fmt(e)] for heat, times in self.times.items()
                for d, e in zip(self.engine_delays, times.engine_errors(), strict=True)]
        return pairs, ["heat", "engine delay", "max |tau engine - tau reference|"], rows


def _reference_times(t_end: float, h: float, delay: float) -> np.ndarray:
    """Samples ``k h`` up to ``t_end`` and ``delay - 1e-9``: ``J^(c)`` jumps at ``t = delay``
    (S1's output arrives), so the trapezoid rule gets both one-sided limits there."""
    t = np.arange(round(t_end / h) + 1) * h
    if delay > 0:
        below = delay - 1e-9 * max(1.0, delay)
        t = np.union1d(t[(t <= below) | (t >= delay)], [below, delay])
    return t


def _cumulative_heat(t: np.ndarray, j: np.ndarray, delay: float) -> np.ndarray:
    """``Q(t_k) = int_0^t_k J dt`` of a reference sampled by :func:`_reference_times`.

    ``J`` is smooth on ``[0, delay)`` and on ``[delay, t_end]`` (it jumps at ``delay``).  On
    each piece, of spacing ``h``, the trapezoid rule with its Euler-Maclaurin end correction
    ``-(h^2/12) (J'(t_k) - J'(t_start))`` (``J'`` by second-order differences) is exact to
    O(h^4); ``Q`` is continuous across the jump.
    """
    cut = int(np.searchsorted(t, delay)) if delay > 0 else 0
    q = np.zeros_like(j)
    start = 0.0
    for piece in (slice(0, cut), slice(cut, t.size)):
        tp, jp = t[piece], j[..., piece]
        if tp.size == 0:
            continue
        qp = _cumulative_trapezoid(tp, jp)
        if tp.size >= 3:
            h = float(np.median(np.diff(tp)))
            slope = np.gradient(jp, tp, axis=-1, edge_order=2)
            qp -= h**2 / 12.0 * (slope - slope[..., :1])
        q[..., piece] = start + qp
        start = q[..., piece][..., -1:]
    return q


def release_times_from_heat(t: np.ndarray, q: np.ndarray, q_inf: float, p=P_VALUES) -> np.ndarray:
    """First times ``Q(t) = (p/100) Q(inf)`` of a sampled heat ``Q`` (linear in between).

    :func:`.paper.analysis.release_times_from_flux` with ``rule="step"`` applied to the
    flux whose step sums are exactly ``Q`` at the samples.
    """
    flux = np.append(np.diff(q) / np.diff(t), 0.0)
    return release_times_from_flux(t, flux, q_inf, p, rule="step")


def compute_release(system: str, settings: DelaySettings | None = None) -> DelayReleasePanel:
    """Release times of Fig. 4(a) (oscillators) or 6(a) (qubits) against the delay.

    For every delay of ``settings.release_delays`` the reference runs to ``t_end`` at the
    two ends of the class (the other members are affine combinations); ``Q(t)`` is the
    integral of its ``J^(c)`` (:func:`_cumulative_heat`) and ``Q_out = Q - in_flight``.  The
    engine runs at ``settings.delays`` at both ends and for the uncorrelated state; its
    ``Q`` is its exact step sum.

    Parameters
    ----------
    system : {"oscillator", "qubit"}
    settings : DelaySettings, optional
        Default :meth:`DelaySettings.full`.

    Returns
    -------
    DelayReleasePanel
    """
    s = settings or DelaySettings.full()
    spec = _system(system)
    p = np.array(P_VALUES)
    x_ends = np.array([-spec.x_max, 0.0, spec.x_max])
    x = np.linspace(-spec.x_max, spec.x_max, s.n_x)
    x[s.n_x // 2] = 0.0
    delays = s.release_delays
    runs = _runs(s)
    references = runs.run(f"release-{system}/reference", spec.spec(False, {}, [
        {"model.delay": float(d), "run.times": _reference_times(s.t_release, s.h, d).tolist(),
         **spec.member(float(v))} for d in delays for v in (x_ends[0], x_ends[2])]))
    tau_ref = {h: np.zeros((delays.size, p.size, x.size)) for h in HEATS}
    eta = np.zeros(delays.size)
    q_ref = np.zeros((delays.size, 3))
    for k, d in enumerate(delays):
        res = references[2 * k:2 * k + 2]
        t = res[0].t
        j = np.array([r.total for r in res])
        j = np.array([j[0], 0.5 * (j[0] + j[1]), j[1]])   # x = -x_max, 0, x_max (affine)
        q = _cumulative_heat(t, j, float(d))
        flight = _in_flight(res[0])   # S1's output: the same for every member
        for i, xi in enumerate(x):
            q_x = q[1] + xi * (q[2] - q[0]) / (2 * spec.x_max)
            tau_ref["released"][k, :, i] = release_times_from_heat(t, q_x, spec.q_inf, p)
            tau_ref["out"][k, :, i] = release_times_from_heat(t, q_x - flight, spec.q_inf, p)
        eta[k] = _cumulative_trapezoid(t, np.abs(j[2] - j[1]))[-1] / spec.q_inf
        q_ref[k] = q[:, -1]
    engine_delays = np.array(s.delays, dtype=float)
    t_max = _engine_grid(s.t_release, s.dt)
    tau_eng = {h: np.zeros((engine_delays.size, p.size, 3)) for h in HEATS}
    q_eng = np.zeros((engine_delays.size, 3))
    engine = runs.run(f"release-{system}/engine", spec.spec(True, {"t_max": t_max, "dt": s.dt}, [
        {"model.delay": float(d), **spec.member(float(v))} for d in engine_delays
        for v in x_ends]))
    for k in range(engine_delays.size):
        for i in range(3):
            res = engine[3 * k + i]
            q = _cumulative_steps(res.t, res.total)
            tau_eng["released"][k, :, i] = release_times_from_heat(res.t, q, spec.q_inf, p)
            tau_eng["out"][k, :, i] = release_times_from_heat(res.t, q - _in_flight(res),
                                                              spec.q_inf, p)
            q_eng[k, i] = q[-1]
    on_grid = [int(np.argmin(np.abs(delays - d))) for d in engine_delays]
    members = [0, s.n_x // 2, s.n_x - 1]
    exact = {"released": independent_release_times(p),
             "out": independent_release_times(p, share=0.5)}
    times = {h: ReleaseTimes(heat=h, reference=tau_ref[h], engine=tau_eng[h],
                             reference_at_engine=tau_ref[h][on_grid][:, :, members],
                             exact_threshold=exact[h]) for h in HEATS}
    return DelayReleasePanel(
        system=system, parameter=spec.release_parameter, p=p, delays=delays, x=x,
        engine_delays=engine_delays, x_engine=x_ends, times=times, eta=eta,
        q_reference=q_ref, q_engine=q_eng, q_inf=spec.q_inf, t_end=s.t_release, h=s.h,
        dt=s.dt, engine_name=spec.engine_name, reference_name=spec.reference_name,
        notes=f"{spec.notes}; reference sampled every h = {s.h:g} to t = {s.t_release:g} "
              f"(corrected trapezoid rule); engine at dt = {s.dt:g} (step rule)")


def _in_flight(res: HeatFluxes) -> np.ndarray:
    """Energy in flight between S1 and S2 (zeros without delay)."""
    return np.zeros_like(res.t) if res.in_flight is None else res.in_flight[0]


# --- where the correlations stop mattering -------------------------------------------------

@dataclass(kw_only=True, repr=False)
class Thresholds(Tabular):
    """The delays beyond which the initial correlations stop mattering.

    Attributes
    ----------
    p : ndarray, shape (n_p,)
    exact : dict of str to ndarray, shape (n_p,)
        Per heat (:data:`HEATS`): the delay from which ``tau_p`` is exactly the same for
        every member of the class (:attr:`ReleaseTimes.exact_threshold`; NaN: none).
    grid : dict of str to ndarray, shape (n_p,)
        Per heat: the smallest delay of the grid from which on the spread of ``tau_p``
        stays ``<= tolerance`` (NaN if it does not on the grid).
    extrapolated : dict of str to ndarray, shape (n_p,)
        Where ``grid`` is NaN: ``tau_last + 2 ln(spread(tau_last) / tolerance)``, the delay
        at which the spread, decaying as ``e^{-gamma tau/2}`` like ``Delta J``, reaches the
        tolerance (NaN elsewhere).
    tolerance : float
        Spread (1/gamma) that counts as no effect (:data:`SPREAD_TOLERANCE`).
    eta0 : float
        ``eta(0)``: the integrated correlation effect at zero delay (fraction of Q(inf)).
    decay : float
        ``max |eta(tau) e^{gamma tau/2} / eta(0) - 1|`` over the grid: how closely the
        computed ``eta`` follows ``e^{-gamma tau/2}`` (exact up to the trapezoid rule).
    eta_delays : dict of float to float
        ``eps -> tau_eta = (2/gamma) ln(eta(0)/eps)`` for every ``eps`` of
        :data:`ETA_TOLERANCES` (0 if ``eta(0) <= eps``).
    """

    p: np.ndarray
    exact: dict[str, np.ndarray]
    grid: dict[str, np.ndarray]
    extrapolated: dict[str, np.ndarray]
    tolerance: float
    eta0: float
    decay: float
    eta_delays: dict[float, float] = field(default_factory=dict)

    def _frame(self) -> tuple[dict, dict]:
        """One row per heat and percentage: ``heat``, ``p``, ``exact``, ``grid``,
        ``extrapolated`` (1/gamma, NaN: none); parameters ``tolerance``, ``eta0``,
        ``decay``, ``tau_eta[<eps>]``."""
        heats = list(self.exact)
        cols = {"heat": np.repeat(np.array(heats), self.p.size),
                "p": np.tile(self.p, len(heats))}
        for name in ("exact", "grid", "extrapolated"):
            cols[name] = np.concatenate([getattr(self, name)[h] for h in heats])
        return cols, {"tolerance": self.tolerance, "eta0": self.eta0, "decay": self.decay,
                      **{f"tau_eta[{e:g}]": v for e, v in self.eta_delays.items()}}


def thresholds(panel: DelayReleasePanel, tolerance: float = SPREAD_TOLERANCE,
               eta_tolerances=ETA_TOLERANCES) -> Thresholds:
    """The threshold delays of one release panel (see :class:`Thresholds`).

    Parameters
    ----------
    panel : DelayReleasePanel
    tolerance : float
        Spread of ``tau_p`` (1/gamma) that counts as no effect, > 0.
    eta_tolerances : sequence of float
        Tolerances of ``eta`` (fractions of Q(inf)), each in (0, 1).
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0 (1/gamma), got {tolerance!r}")
    grid, extrapolated = {}, {}
    for heat, times in panel.times.items():
        spread = times.spread
        grid[heat] = np.full(panel.p.size, np.nan)
        extrapolated[heat] = np.full(panel.p.size, np.nan)
        for k in range(panel.p.size):
            above = np.flatnonzero(spread[:, k] > tolerance)
            first = 0 if above.size == 0 else above[-1] + 1
            if first < panel.delays.size:
                grid[heat][k] = panel.delays[first]
            else:
                extrapolated[heat][k] = (panel.delays[-1]
                                         + 2.0 * math.log(spread[-1, k] / tolerance))
    eta0 = float(panel.eta[0])
    decay = float(np.max(np.abs(panel.eta * np.exp(panel.delays / 2) / eta0 - 1.0)))
    eta_delays = {}
    for eps in eta_tolerances:
        if not 0 < eps < 1:
            raise ValueError(f"eta tolerances must lie in (0, 1), got {eps!r}")
        eta_delays[float(eps)] = max(0.0, 2.0 * math.log(eta0 / eps))
    return Thresholds(p=panel.p, exact={h: t.exact_threshold for h, t in panel.times.items()},
                      grid=grid, extrapolated=extrapolated, tolerance=tolerance, eta0=eta0,
                      decay=decay, eta_delays=eta_delays)
