"""The collision model: validation, the per-run plan, and dispatch to the engines.

The reservoir is a stream of fresh thermal ancillas.  In every time step ``dt`` one
ancilla collides with S1, then S2, ..., then leaves (``cascade=True``); with
``cascade=False`` every subsystem meets its own fresh ancilla.  A collision is the exact
exchange unitary ``exp(-i theta (a_i^dag b + a_i b^dag))`` with ``theta = sqrt(gamma dt)``
(:mod:`collision.unitaries`).  As ``dt -> 0`` the averaged dynamics converges to the
cascaded master equation of :class:`lindblad.CascadeMasterEquation` with error O(dt).

Frames.  The collisions are resonant, so the free Hamiltonian commutes with the
averaged step and the engines work in its interaction picture; ``final_state`` is
rotated back to the lab frame exactly (``rho_kl -> rho_kl exp(-i (E_k - E_l) t)``).

Heat fluxes from the collisions (units hbar omega gamma, ``J > 0`` = heat into the
reservoir), evaluated with the state ``rho(t_k)`` at every saved time:

* S_i's own flux is the energy it hands to the ancillas in the next step,
  ``(E_i(rho(t_k)) - E_i(Phi(rho(t_k)))) / dt``, with ``Phi`` one averaged step.  Each
  collision conserves ``n_i + n_b``, so this equals the energy the ancilla gains from
  S_i (the tests check it).
* The local part ``J_i`` is what S_i would hand to a *fresh* thermal ancilla:
  ``sum_n P_i(n) o(n)`` with ``P_i`` S_i's populations and
  ``o(n) = (e_n - sum_{k,l} p_k |<n', l|U|n, k>|^2 e_n') / dt`` (see :func:`local_flux_levels`).
* The correlated part is the rest; it vanishes for S1 and for ``cascade=False``.

As ``dt -> 0`` these become eqs 13-17: ``J_i -> -Tr[H_i L_i rho]`` and the correlated
part ``-> -sum_{j<i} Tr[H_i D_ji rho]``.

Checks of a run (all engines)
-----------------------------
* Time step (:func:`check_time_step`).  The fluxes converge with error O(gamma dt).
  Measured against :meth:`lindblad.CascadeMasterEquation.heat_fluxes` (qubits and
  oscillators, n = 2..8, product and correlated initial states, T = 0..2), the largest
  error of a subsystem's flux relative to the largest reference flux is at most
  ``(n - 2/3) gamma dt`` with ``cascade=True`` (1.33, 2.33, 3.33 gamma dt for
  n = 2, 3, 4 at small dt, reached by thermal product states; less at gamma dt -> 0.5)
  and ``gamma dt / 3`` with ``cascade=False``.  An :class:`AccuracyWarning` is raised
  when this predicted error exceeds ``DT_ERROR_TOL`` = 5 %.  At tiny dt the flux, a
  difference of energies divided by dt, loses digits: rounding of energies up to
  ``E_max`` gives an error of about ``eps E_max / dt`` (measured within a factor 3 of
  it at dt = 1e-12); a warning is raised when it exceeds ``ROUNDING_TOL`` = 1e-6 in
  units of hbar omega gamma.
* Fock cutoff of oscillators (``cutoff_tol``, default 1e-6).  A truncated oscillator
  cannot hold what the dynamics would put above its top level, and the Lindblad
  reference with the same cutoff shares the error, so it does not reveal it.  Before
  the run a :class:`TruncationWarning` is raised when the top level's population
  exceeds ``cutoff_tol`` in ``rho0`` or in the thermal state the reservoir drives the
  oscillators to; at ``T = 0`` no quantum enters, and the exact criterion is the weight
  of ``rho0`` on total excitation numbers >= cutoff (none of it: the truncation is
  exact).  During the run the engines record the largest top-level population they
  see (``parameters["max_top_level_population"]``) and the warning is raised after the
  run if it exceeds ``cutoff_tol``.  The suggested cutoff is that of a thermal
  distribution at the largest occupation seen (reservoir or subsystems).
* Memory: every array the run allocates that grows with its input (saved times,
  ``D = d^n``, trajectory batches, histograms, dense states) is estimated before any
  work (:mod:`collision.resources`) and must fit in half of the available memory
  (:mod:`lindblad.resources`), else a ``ValueError`` names the parameter, the estimate
  and the limit (for the saved times, it suggests ``save_every``).
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import scipy.sparse as sp

from lindblad._validate import flag, integer, real_scalar
from lindblad.fluxes import HeatFluxes
from lindblad.model import CascadeMasterEquation, CascadeSpec
from lindblad.operators import (
    MAX_DIMENSION,
    check_dimension,
    embed,
    excitations,
    local_dimension,
    lowering,
    turn_subsystems,
)
from lindblad.thermal import thermal_populations

from ._loop import TruncationWarning, warn
from .ancilla import DEFAULT_BATH_TOL, ancilla_populations, choose_bath_cutoff
from .counting import heat_statistics
from .drivers import driver
from .extrapolate import richardson
from .initial import MAX_DENSE_DIM, initial_state, reduced_populations, state_digest
from .models.gaussian import GaussianCollisionModel
from .models.general import MAX_DIMENSION as GENERAL_MAX_DIMENSION
from .models.general import Collision, CollisionModel, merge_general
from .options import EngineOptions, engine_options
from .plans.exchange import (  # noqa: F401 (time_grid, DT_ERROR_TOL, ... re-exported)
    DEFAULT_CUTOFF_TOL,
    DT_ERROR_TOL,
    MAX_GAMMA_DT,
    MAX_STEPS,
    ROUNDING_TOL,
    CollisionPlan,
    TopLevelMonitor,
    check_time_step,
    delay_steps,
    local_flux_levels,
    needed_cutoff,
    predicted_dt_error,
    time_grid,
)
from .resources import check_output_memory, check_run_memory
from .results import Result
from .statistics import check_disjoint, check_same_run, fluxes_from_moments
from .unitaries import exchange_unitary

METHODS = ("density", "trajectories")



class CascadeCollisionModel(CascadeSpec, CollisionModel):
    """Microscopic collision model of a cascade of identical subsystems.

    The paper's model as one instance of :class:`collision.CollisionModel` (what
    :func:`collision.presets.cascade` returns): subsystems ``dims = (d,) * n`` with
    ``H = sum_i H_i``, one stream of thermal ancillas (``"bath"``; ``cascade=False``: one
    stream per subsystem, ``"bath1"``, ``"bath2"``, ...) and the exchange collisions
    ``V_i = sqrt(gamma) (a_i^dag b + a_i b^dag)``, S1 first.  Its exchange structure lets
    the planner use the fast kernels (:meth:`plan`: blocks of conserved excitation
    number, the delay layer, counting, the Gaussian engine for covariance matrices),
    and :meth:`run` returns :class:`lindblad.fluxes.HeatFluxes` with the paper's flux
    decomposition.  The same description runs on the general kernels through
    :meth:`general` (a plain :class:`collision.CollisionModel`, whose ``run`` returns a
    :class:`collision.Result`).

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    n_systems : int
        Chain length, >= 2.
    gamma, omega : float
        Relaxation rate and transition frequency (units: time 1/gamma, energy hbar omega).
    temperature : float
        Reservoir temperature (hbar omega / k_B), >= 0.
    cutoff : int, optional
        Fock dimension per oscillator (required for oscillators).
    bath : {"qubit", "boson"}, optional
        Ancilla type; default "qubit" for qubits, "boson" for oscillators.
    bath_cutoff : int, optional
        Fock dimension of a bosonic ancilla; chosen per run from ``bath_tol`` when None
        (see :mod:`collision.ancilla`).
    cascade : bool
        False gives every subsystem its own fresh ancilla (independent reservoirs).
    bath_tol : float
        Bound on the per-step probability that the ancilla would need a level above the
        cutoff.
    cutoff_tol : float
        Largest population of an oscillator's top Fock level accepted without a
        :class:`TruncationWarning` (in ``rho0``, in the thermal state the reservoir
        drives to, or reached during the run; see the module docstring).
    """

    def __init__(self, system: str, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cutoff: int | None = None, bath: str | None = None,
                 bath_cutoff: int | None = None, cascade: bool = True,
                 bath_tol: float = DEFAULT_BATH_TOL, cutoff_tol: float = DEFAULT_CUTOFF_TOL,
                 delay=0.0, phase=0.0):
        super().__init__(system, n_systems, gamma, omega, temperature, cutoff, bath, cascade,
                         delay, phase)
        real = isinstance(cutoff_tol, numbers.Real) and not isinstance(cutoff_tol, bool)
        tol = float(cutoff_tol) if real else math.nan
        if not 0 < tol < 1:
            raise ValueError(f"cutoff_tol must be a number in (0, 1) (the largest accepted "
                             f"population of an oscillator's top Fock level), got "
                             f"{cutoff_tol!r}")
        self.cutoff_tol = tol
        self.d_sys = local_dimension(system, cutoff)
        self.cutoff = self.d_sys if system == "oscillator" else None
        self.dims = (self.d_sys,) * self.n_systems
        self.dim = self.d_sys**self.n_systems
        self.bath_cutoff = bath_cutoff
        self.bath_tol = real_scalar(bath_tol, "bath_tol", minimum=0.0, maximum=1.0,
                                    exclusive_minimum=True, exclusive_maximum=True,
                                    note=" (the per-step probability bound of the bath cutoff)")
        if self.bath == "qubit" and bath_cutoff not in (None, 2):
            raise ValueError(f"a qubit bath has 2 levels; bath_cutoff must be None or 2, "
                             f"got {bath_cutoff!r}")
        if bath_cutoff is not None:
            self.bath_cutoff = integer(bath_cutoff, "bath_cutoff", 2,
                                       note=" (the Fock dimension of a bosonic ancilla) or None")
            check_dimension("oscillator", self.bath_cutoff, 1, MAX_DIMENSION, "bath_cutoff")

    _repr_keys = (*CascadeSpec._repr_keys, "bath_cutoff")

    @property
    def parameters(self) -> dict:
        return {**super().parameters, "bath_cutoff": self.bath_cutoff,
                "bath_tol": self.bath_tol, "cutoff_tol": self.cutoff_tol}

    # --- the general description (collision.CollisionModel) -----------------------------
    @functools.cached_property
    def _description(self) -> dict:
        """dims, Hamiltonian, streams, collisions and stream Hamiltonians (class docstring).

        A bosonic ancilla keeps ``bath_cutoff`` levels, or those the exchange plan would
        choose at ``dt = 0.01`` (:func:`collision.ancilla.choose_bath_cutoff`).
        """
        if self.dim > GENERAL_MAX_DIMENSION:
            raise ValueError(f"the general description of this cascade needs dense {self.dim} x "
                             f"{self.dim} operators, above {GENERAL_MAX_DIMENSION}; the exchange "
                             "kernels (run) do not")
        if any(self.delays) or any(self.phases):
            raise ValueError("the general description has no delay or phase (they are "
                             "transforms of the exchange plan): use run()")
        n, d = self.n_systems, self.d_sys
        sys_pop = thermal_populations(self.system, self.temperature, self.omega, self.cutoff)
        d_b, _ = choose_bath_cutoff(self.bath, math.sqrt(self.gamma * 0.01), self.temperature,
                                    self.omega, sys_pop, n, self.bath_cutoff, self.bath_tol,
                                    (np.zeros(0), np.zeros((0, n), dtype=np.int64)))
        eta = np.diag(ancilla_populations(self.bath, self.temperature, self.omega, d_b))
        a = lowering(d).toarray()
        b = lowering(d_b).toarray()
        v = math.sqrt(self.gamma) * (np.kron(a.conj().T, b) + np.kron(a, b.conj().T))
        h_local = np.diag(self.level_energies()).astype(complex)
        levels_b = np.arange(d_b) - (0.5 if self.bath == "qubit" else 0.0)
        h_bath = np.diag(self.omega * levels_b).astype(complex)
        names = ["bath"] if self.cascade else [f"bath{i + 1}" for i in range(n)]
        hamiltonian = sum(embed(sp.csr_matrix(h_local), i, self.dims) for i in range(n))
        return {"hamiltonian": hamiltonian.toarray(),
                "streams": {r: eta.astype(complex) for r in names},
                "stream_hamiltonians": {r: h_bath for r in names},
                "collisions": tuple(Collision(i, v, names[0] if self.cascade else names[i])
                                    for i in range(n))}

    hamiltonian = property(lambda self: self._description["hamiltonian"])
    streams = property(lambda self: self._description["streams"])
    stream_hamiltonians = property(lambda self: self._description["stream_hamiltonians"])
    collisions = property(lambda self: self._description["collisions"])
    stream_dims = property(lambda self: {k: v.shape[0] for k, v in self.streams.items()})
    memory = property(lambda self: {})  # the paper's reservoir has no memory

    @property
    def continuum_order(self) -> float:
        """1.0: exchange collisions with thermal ancillas have no ``dt^{3/2}`` terms (their
        odd moments vanish), so every engine converges at order 1 in dt."""
        return 1.0

    def gaussian(self) -> GaussianCollisionModel:
        """The same cascade on the covariance-matrix engine
        (:class:`collision.GaussianCollisionModel`: oscillators, boson bath, no cutoffs)."""
        if self.system != "oscillator" or self.bath != "boson":
            raise ValueError("the Gaussian engine runs oscillators with a boson bath; this "
                             f"model has system={self.system!r}, bath={self.bath!r}")
        return GaussianCollisionModel(self.n_systems, self.gamma, self.omega, self.temperature,
                                      self.cascade, self.delay, self.phase)

    def general(self) -> CollisionModel:
        """This model's description as a plain :class:`collision.CollisionModel`: the same
        physics on the general kernels (its ``run`` returns a :class:`collision.Result`;
        no delay or phase; its ``heat_statistics`` is the general one,
        :mod:`collision.counting_general`)."""
        return CollisionModel(self.dims, self.hamiltonian, self.streams, self.collisions,
                              stream_hamiltonians=self.stream_hamiltonians)

    def master_equation(self) -> CascadeMasterEquation:
        """The Lindblad reference this model converges to as ``dt -> 0``."""
        return CascadeMasterEquation(self.system, self.n_systems, self.gamma, self.omega,
                                     self.temperature, self.cutoff, self.bath, self.cascade,
                                     self.delay, self.phase)

    def level_energies(self) -> np.ndarray:
        """Energies of one subsystem's levels: ``omega n`` (oscillator) or
        ``omega (n - 1/2)`` (qubit, ``H = omega sigma_z / 2``)."""
        n = np.arange(self.d_sys, dtype=float)
        return self.omega * (n - 0.5 if self.system == "qubit" else n)

    # --- validation and planning ----------------------------------------------------
    def plan(self, rho0, t_max: float, dt: float, save_every: int = 1, *,
             method: str = "density", n_trajectories: int | None = None,
             counting: bool = False, final_state: bool = True,
             bytes_per_saved: float | None = None) -> CollisionPlan:
        """Validate the run parameters and precompute what the engines need.

        The memory of the run of engine ``method`` (with ``n_trajectories``; heat
        statistics with ``counting``; the trajectory-averaged ``final_state``) is
        estimated first (:func:`collision.resources.check_run_memory`): a run that
        would not fit raises a ``ValueError`` before anything is allocated;
        ``bytes_per_saved`` adds an engine's own need per saved time.  Warns
        (:class:`AccuracyWarning`) about a ``dt`` too large for the chain or too small
        for rounding, and (:class:`TruncationWarning`) about an oscillator cutoff too
        small for ``rho0`` or the reservoir's thermal state (module docstring).
        """
        state = initial_state(rho0, self.dims)
        dt, t_max, save_every, steps_total = time_grid(self.gamma, t_max, dt, save_every)
        n = self.n_systems
        needs = {"n_trajectories": n_trajectories, "counting": counting,
                 "final_state": final_state}
        check_run_memory(self, method, steps_total, save_every, **needs)
        if bytes_per_saved is not None:
            check_output_memory(steps_total, save_every, bytes_per_saved)
        levels = self.level_energies()
        check_time_step(self.gamma, dt, n, self.cascade, float(np.max(np.abs(levels))) /
                        self.omega)
        n_saved = steps_total // save_every + 1
        times = np.arange(n_saved) * save_every * dt
        theta = math.sqrt(self.gamma * dt)
        fock = excitations(self.dims)
        pops = state.populations()
        watch = self._check_cutoff_before_run(pops, fock)
        sys_pop = thermal_populations(self.system, self.temperature, self.omega, self.cutoff)
        for reduced in reduced_populations(state, fock):
            sys_pop = np.maximum(sys_pop, reduced)
        # joint populations above the product bound (correlated states; see ancilla.py)
        excess = pops - np.prod(sys_pop[fock], axis=1)
        beyond = np.flatnonzero(excess > 1e-12 * pops)
        d_anc, leak = choose_bath_cutoff(self.bath, theta, self.temperature, self.omega, sys_pop,
                                         n, self.bath_cutoff, self.bath_tol,
                                         (excess[beyond], fock[beyond]))
        anc_pop = ancilla_populations(self.bath, self.temperature, self.omega, d_anc)
        unitary = exchange_unitary(self.d_sys, d_anc, theta)
        n_steps = (n_saved - 1) * save_every + 1
        offsets = tuple(int(o) for o in np.cumsum((0, *delay_steps(self.delays, dt, n_steps))))
        rho_dense, basis = state.matrix, None
        n_exc = fock.sum(axis=1)
        reach = int(n_exc[pops > 0].max())
        if not np.any(anc_pop[1:]) and reach < n_exc.max() and not any(offsets):
            basis = np.flatnonzero(n_exc <= reach)
            # a list or vector is restricted when the density engine needs it (dense_initial)
            rho_dense = state.restricted(basis) if state.kind == "matrix" else None
        kept = self.dim if basis is None else basis.size
        if method == "density" and kept <= MAX_DENSE_DIM:  # beyond, the engine refuses
            check_run_memory(self, method, steps_total, save_every, dense_dim=kept, **needs)
        return CollisionPlan(dt=dt, theta=theta, n_steps=n_steps,
                             save_every=save_every, times=times, d_sys=self.d_sys, d_anc=d_anc,
                             bath_leak=leak, anc_pop=anc_pop, unitary=unitary, levels=levels,
                             local_flux=local_flux_levels(unitary, anc_pop, levels, dt),
                             fock=fock, rho0=rho_dense, cutoff_tol=self.cutoff_tol,
                             watch_top_level=watch, offsets=offsets, initial=state,
                             basis=basis)

    # --- the Fock cutoff of the subsystems ------------------------------------------------
    def top_level_monitor(self, fock: np.ndarray) -> TopLevelMonitor | None:
        """A :class:`TopLevelMonitor` for states on the basis ``fock`` (None for qubits)."""
        return TopLevelMonitor(fock, self.d_sys) if self.system == "oscillator" else None

    def _check_cutoff_before_run(self, pops: np.ndarray, fock: np.ndarray) -> bool:
        """Warn if the cutoff is already too small before the run; return whether the
        top-level populations must be watched during the run."""
        if self.system != "oscillator":
            return False
        d, tol = self.d_sys, self.cutoff_tol
        monitor = self.top_level_monitor(fock)
        monitor.add(pops)
        if self.temperature == 0:
            # no quantum enters: only states with >= d quanta in all can need level d
            n_tot = fock.sum(axis=1)
            weight = np.array([pops[n_tot >= m].sum() for m in range(n_tot.max() + 2)])
            if weight[d] > tol:
                need = int(np.flatnonzero(weight <= tol)[0])
                self._warn_cutoff(
                    f"at T = 0 it is exact for states with fewer than {d} quanta in all, but "
                    f"rho0 has weight {weight[d]:.3g} (above cutoff_tol = {tol:.1e}) on more, "
                    "and quanta travelling down the chain can pile up above the top level "
                    f"n = {d - 1}", f"cutoff >= {need} (rho0's weight on {need} or more quanta "
                    "is below cutoff_tol)")
            return False
        top = monitor.top
        thermal_top = thermal_populations("oscillator", self.temperature, self.omega, d)[-1]
        if top.max() > tol or thermal_top > tol:
            reasons = []
            if top.max() > tol:
                reasons.append(f"it is {_listed(top)} in rho0")
            if thermal_top > tol:
                reasons.append(f"{thermal_top:.3g} in the thermal state the reservoir at "
                               f"T = {self.temperature:g} drives every oscillator to")
            self._warn_cutoff(self._top_level_problem(" and ".join(reasons)),
                              self._cutoff_advice(monitor.occupation))
            return False
        return True

    def check_cutoff_after_run(self, plan: CollisionPlan, parameters: dict) -> None:
        """Warn if the top-level population an engine recorded exceeds ``cutoff_tol``."""
        top = parameters.get("max_top_level_population")
        if not plan.watch_top_level or top is None or max(top) <= plan.cutoff_tol:
            return
        self._warn_cutoff(self._top_level_problem(f"it reached {_listed(np.array(top))} "
                                                  "during the run"),
                          self._cutoff_advice(np.array(parameters["max_occupation"])))

    def _cutoff_advice(self, occupation: np.ndarray) -> str:
        """The cutoff a thermal distribution at the largest occupation needs."""
        n_bath = 0.0 if self.temperature == 0 else 1 / math.expm1(self.omega / self.temperature)
        n_max = max(n_bath, float(occupation.max()))
        need = max(needed_cutoff(n_max, self.cutoff_tol), self.d_sys + 1)
        return (f"cutoff >= {need} (estimated from a thermal distribution at occupation "
                f"{n_max:.3g}, the largest of the reservoir's and the subsystems')")

    def _top_level_problem(self, reason: str) -> str:
        return (f"the population of the top Fock level n = {self.d_sys - 1} should stay below "
                f"cutoff_tol = {self.cutoff_tol:.1e}, but {reason}")

    def _warn_cutoff(self, problem: str, advice: str) -> None:
        warn(f"oscillator cutoff {self.d_sys} is too small: {problem}. The truncation "
             "changes the dynamics (fluxes can be off by far more than that weight), and the "
             "Lindblad reference with the same cutoff shares the error. Use "
             f"{advice}, or for Gaussian states GaussianCollisionModel (no cutoff)",
             TruncationWarning)

    def to_lab_frame(self, rho: np.ndarray, t: float) -> np.ndarray:
        """Rotate an interaction-picture state at time ``t`` to the lab frame."""
        # rho_ab exp(-i omega t (n_a - n_b)) = u_a rho_ab conj(u_b): D exponentials, not D^2
        u = np.exp(-1j * self.omega * t * excitations(self.dims).sum(axis=1))
        out = rho * u.conj()[None, :]
        out *= u[:, None]
        return out

    # --- running ----------------------------------------------------------------------
    def run(self, rho0, t_max: float, dt: float, method: str = "density",
            n_trajectories: int | None = None, seed=None, save_every: int = 1,
            progress: bool = False, target_stderr: float | None = None,
            options: EngineOptions | None = None, extrapolate: bool = False) -> HeatFluxes:
        """Simulate the collisions and return the heat fluxes.

        Parameters
        ----------
        rho0 : array_like, shape (D, D)
            Initial state of the subsystems (basis of :mod:`lindblad.operators`); for
            ``method="gaussian"`` the covariance matrix of the oscillators.
        t_max : float
            Final time (1/gamma); the last saved time is the largest multiple of
            ``save_every * dt`` not above it.
        dt : float
            Collision time step (1/gamma); ``theta = sqrt(gamma dt)``.
        method : {"density", "trajectories", "gaussian"}
            Exact ensemble average, Monte Carlo trajectories with standard errors, or
            (oscillators with a boson bath) the covariance-matrix engine of
            :meth:`gaussian`, with no Fock cutoff.
        n_trajectories, seed, target_stderr
            Monte Carlo options (``method="trajectories"`` only); shortcuts for the
            fields of :class:`collision.options.TrajectoryOptions`.
        save_every : int
            Save fluxes every this many steps.
        progress : bool
            Show a progress bar.
        options : DensityOptions or TrajectoryOptions, optional
            Every option of the engine (:mod:`collision.options`); the keyword
            shortcuts above override its fields.  Recorded in
            ``result.parameters["options"]``.
        extrapolate : bool
            Density engine: run at ``dt`` and ``dt / 2`` and return the Richardson
            extrapolation ``2 J(dt/2) - J(dt)`` (second order in dt), with
            ``result.dt_error = J(dt) - J(dt/2)`` (:mod:`collision.extrapolate`).

        Returns
        -------
        HeatFluxes
            Fluxes at the saved times; ``final_state`` is the state at the last saved
            time ``t[-1]`` in the lab frame (``parameters["frame"] = "lab"``);
            ``parameters`` records the run, including the bath cutoff and its leak bound,
            ``cutoff_tol``, a digest of ``rho0`` (``initial_state``,
            :func:`collision.initial.state_digest`) and, for oscillators, the largest
            top-level population and mean occupation of each subsystem the engine saw
            (``max_top_level_population``, ``max_occupation``; None for qubits).

        Raises
        ------
        ValueError
            For invalid arguments, or output arrays that would not fit in memory (the
            message suggests ``save_every``).

        Warns
        -----
        AccuracyWarning
            If ``dt`` is too large for the chain length or too small for rounding.
        TruncationWarning
            If the oscillator cutoff is too small for the populations of ``rho0``, the
            reservoir's thermal state or the dynamics; if a user-given ``bath_cutoff``
            is too small.
        """
        if method == "gaussian":
            if self.system != "oscillator" or self.bath != "boson":
                raise ValueError(f"method must be one of {METHODS} for this model: the "
                                 "Gaussian engine runs oscillators with a boson bath (this "
                                 f"model has system={self.system!r}, bath={self.bath!r})")
            return self.gaussian().run(rho0, t_max, dt, save_every, progress, options,
                                       extrapolate=extrapolate)
        if method not in METHODS:
            raise ValueError(f"method must be one of {(*METHODS, 'gaussian')} for "
                             f"{type(self).__name__}, got {method!r}")
        opts = engine_options(method, options, n_trajectories=n_trajectories, seed=seed,
                              target_stderr=target_stderr, progress=progress or None)
        if flag(extrapolate, "extrapolate"):
            if method != "density":
                raise ValueError("extrapolate=True applies to method='density' (Monte Carlo "
                                 "results are not extrapolated: collision.extrapolate)")
            # both runs and their extrapolation are held at once: check before the first
            half = time_grid(self.gamma, t_max, dt / 2, 2 * save_every)[3]
            check_run_memory(self, method, half, 2 * save_every, copies=3)
            return richardson(*(self.run(rho0, t_max, step, method, save_every=every,
                                         options=opts)
                                for step, every in ((dt, save_every), (dt / 2, 2 * save_every))))
        given = None
        if any(self.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
            given = initial_state(rho0, self.dims)
            rho0 = turn_subsystems(given.dense(), self.dims, self.frame_angles, inverse=True)
        traj = method == "trajectories"
        plan = self.plan(rho0, t_max, dt, save_every, method=method,
                         n_trajectories=opts.n_trajectories if traj else None,
                         final_state=opts.final_state if traj else True)
        result = driver(method)(self, plan, **opts.as_dict(driver=True))
        if any(self.phases) and result.final_state is not None:
            result.final_state = turn_subsystems(result.final_state, self.dims,
                                                 self.frame_angles)
        result.parameters = {"source": "collision", "method": method, **self.parameters,
                             "options": opts.as_dict(),
                             "initial_state": state_digest(given or plan.initial),
                             "dt": plan.dt, "t_max": float(t_max), "theta": plan.theta,
                             "save_every": plan.save_every, "bath_cutoff": plan.d_anc,
                             "bath_leak_per_step": plan.bath_leak,
                             "cutoff_tol": plan.cutoff_tol, "frame": "lab",
                             "max_top_level_population": None, **result.parameters}
        self.check_cutoff_after_run(plan, result.parameters)
        return result


    def heat_statistics(self, rho0, t_max: float, dt: float, method: str = "density",
                        n_trajectories: int | None = None, seed=None, save_every: int = 1,
                        progress: bool = False, options: EngineOptions | None = None,
                        extrapolate: bool = False):
        """Full counting statistics of the heat delivered to the reservoir.

        ``Q(t) = hbar omega q(t)``, ``q`` the net number of quanta the ancillas have
        gained (a two-point measurement of every ancilla's energy; with
        ``cascade=False`` every subsystem's heat is counted separately).  Definitions in
        :mod:`lindblad.counting`, the engines in :mod:`collision.counting`.

        Parameters
        ----------
        rho0 : array_like, shape (D, D)
            Initial state of the subsystems.
        t_max, dt, save_every
            As in :meth:`run`: saved times ``k save_every dt`` up to ``t_max``.
        method : {"density", "trajectories"}
            Exact at finite ``dt`` (the counting-resolved density engine), or Monte Carlo
            histograms of the trajectories' quanta with standard errors.
        n_trajectories, seed
            Monte Carlo options (shortcuts for :class:`collision.options.TrajectoryOptions`,
            whose ``first_trajectory``, ``stepper`` and ``n_threads`` apply too;
            ``target_stderr`` does not).
        progress : bool
            Show a progress bar; Ctrl-C returns the finished part with ``partial=True``.
        options : DensityOptions or TrajectoryOptions, optional
        extrapolate : bool
            ``method="density"``: run at ``dt`` and ``dt / 2`` and return the Richardson
            extrapolation ``2 P(dt/2) - P(dt)`` (second order in dt; cumulants from it),
            with ``result.dt_error = X(dt) - X(dt/2)`` (:mod:`collision.extrapolate`).

        Returns
        -------
        lindblad.counting.HeatStatistics
            ``P(q, t)`` on ``q = -n (d - 1) .. n (d - 1)`` and the cumulants
            ``kappa_1 .. kappa_4`` in units of ``hbar omega``; standard errors for Monte
            Carlo; the joint distribution of the subsystems' heats for ``cascade=False``.

        Raises
        ------
        ValueError
            For a method that cannot count (only "density" and "trajectories" can), a
            delay, ``target_stderr``, and every bad input :meth:`run` refuses.
        """
        return heat_statistics(self, rho0, t_max, dt, method, n_trajectories, seed,
                               save_every, progress, options, extrapolate)


def _listed(values: np.ndarray) -> str:
    """``"0.1 (S2; S1: 0.02)"``: the largest value, which subsystem, and the others."""
    i = int(np.argmax(values))
    others = "; ".join(f"S{j + 1}: {v:.3g}" for j, v in enumerate(values) if j != i)
    return f"{values[i]:.3g} (S{i + 1}" + (f"; {others})" if others else ")")


def merge_results(first, second):
    """Merge two trajectory results over disjoint trajectory ranges of one seed.

    Parameters
    ----------
    first, second : HeatFluxes or collision.Result
        Results of ``method="trajectories"`` runs of the same model, initial state,
        time grid and seed, with different ``first_trajectory`` ranges.  Results of a
        general :class:`collision.CollisionModel` merge through
        :func:`collision.models.general.merge_general`.

    Returns
    -------
    HeatFluxes or collision.Result
        Equal bit for bit to the result of one run over both ranges (when they split at
        multiples of :data:`LEAF`), with ``parameters["n_trajectories"]`` the total and
        ``parameters["ranges"]`` the trajectory ranges covered.

    Raises
    ------
    ValueError
        If either result carries no statistics, the runs differ in anything that defines
        a run (:data:`SAME_RUN`: the message names every key that differs, with both
        values), or they share trajectories (a result merged with itself, overlapping
        ranges).
    """
    if isinstance(first, Result) or isinstance(second, Result):
        return merge_general(first, second)
    for res in (first, second):
        if getattr(res, "statistics", None) is None:
            raise ValueError("merge_results needs results of method='trajectories' that carry "
                             "their statistics (result.statistics)")
    check_same_run(first, second)
    check_disjoint(first, second)
    pa = first.parameters
    stats = first.statistics.merge(second.statistics)
    total = stats.total()
    out = fluxes_from_moments(total, first.t)
    out.statistics = stats
    out.partial = first.partial or second.partial
    out.parameters = {**pa, "n_trajectories": total.count, "ranges": stats.ranges(),
                      "first_trajectory": stats.ranges()[0][0]}
    if total.rho_sum.size:  # as run() returns it: lab frame, then the phases' frame turn
        model = CascadeCollisionModel.from_parameters(pa)
        state = model.to_lab_frame(total.rho_sum / total.count, float(first.t[-1]))
        if any(model.phases):
            state = turn_subsystems(state, model.dims, model.frame_angles)
        out.final_state = state
    return out
