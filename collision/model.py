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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lindblad.fluxes import HeatFluxes
from lindblad.model import CascadeMasterEquation, CascadeSpec
from lindblad.operators import excitations, local_dimension
from lindblad.states import validate_density_matrix
from lindblad.thermal import thermal_populations

from .ancilla import DEFAULT_BATH_TOL, ancilla_populations, choose_bath_cutoff
from .unitaries import BlockUnitary, exchange_unitary

#: Largest ``gamma * dt`` accepted: beyond it one collision swaps a large fraction of an
#: excitation (``sin^2(theta) > 0.42``) and the stream of collisions no longer describes
#: a weakly coupled reservoir.
MAX_GAMMA_DT = 0.5

METHODS = ("density", "trajectories")


@dataclass(frozen=True)
class CollisionPlan:
    """Everything an engine needs for one run, as plain arrays and scalars.

    Attributes
    ----------
    dt, theta : float
        Time step (1/gamma) and collision angle ``sqrt(gamma dt)``.
    n_steps : int
        Steps to simulate: ``(n_saved - 1) * save_every + 1`` (one step past the last
        saved time, because a flux at ``t_k`` needs the step that follows it).
    save_every : int
        Steps between saved times.
    times : ndarray, shape (n_saved,)
        Saved times ``k * save_every * dt``.
    d_sys, d_anc : int
        Subsystem and ancilla dimensions.
    bath_leak : float
        Per-step probability bound of needing an ancilla level beyond ``d_anc``.
    anc_pop : ndarray, shape (d_anc,)
        Populations of an incoming ancilla.
    unitary : BlockUnitary
        The exchange unitary of one collision.
    levels : ndarray, shape (d_sys,)
        Energies ``e_n`` of a subsystem's Fock levels (``omega n`` or ``omega (n - 1/2)``).
    local_flux : ndarray, shape (d_sys,)
        ``o(n)``: flux a subsystem in level ``n`` hands to a fresh ancilla.
    fock : ndarray of int64, shape (D, n_systems)
        Fock numbers of every joint basis state (S1 most significant).
    rho0 : ndarray, shape (D, D)
        Validated initial state.
    """

    dt: float
    theta: float
    n_steps: int
    save_every: int
    times: np.ndarray
    d_sys: int
    d_anc: int
    bath_leak: float
    anc_pop: np.ndarray
    unitary: BlockUnitary
    levels: np.ndarray
    local_flux: np.ndarray
    fock: np.ndarray
    rho0: np.ndarray


def local_flux_levels(unitary: BlockUnitary, anc_pop: np.ndarray, levels: np.ndarray,
                      dt: float) -> np.ndarray:
    """``o(n)``: energy per unit time a subsystem in Fock level ``n`` hands to one fresh
    ancilla, ``(e_n - sum_{k,l} p_k |<n + k - l, l| U |n, k>|^2 e_{n+k-l}) / dt``."""
    d_sys = levels.size
    out = np.zeros(d_sys)
    for n in range(d_sys):
        after = 0.0
        for k, p in enumerate(anc_pop):
            s = n + k
            lo = unitary.first[s]
            col = np.abs(unitary.u[s, :unitary.size[s], n - lo]) ** 2
            after += p * np.dot(col, levels[lo:lo + unitary.size[s]])
        out[n] = (levels[n] - after) / dt
    return out


class CascadeCollisionModel(CascadeSpec):
    """Microscopic collision model of a cascade of identical subsystems.

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
    """

    def __init__(self, system: str, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cutoff: int | None = None, bath: str | None = None,
                 bath_cutoff: int | None = None, cascade: bool = True,
                 bath_tol: float = DEFAULT_BATH_TOL):
        super().__init__(system, n_systems, gamma, omega, temperature, cutoff, bath, cascade)
        self.d_sys = local_dimension(system, cutoff)
        self.cutoff = self.d_sys if system == "oscillator" else None
        self.dims = (self.d_sys,) * self.n_systems
        self.dim = self.d_sys**self.n_systems
        self.bath_cutoff = bath_cutoff
        self.bath_tol = float(bath_tol)
        if self.bath == "qubit" and bath_cutoff not in (None, 2):
            raise ValueError(f"a qubit bath has 2 levels; bath_cutoff must be None or 2, "
                             f"got {bath_cutoff!r}")

    _repr_keys = (*CascadeSpec._repr_keys, "bath_cutoff")

    @property
    def parameters(self) -> dict:
        return {**super().parameters, "bath_cutoff": self.bath_cutoff}

    def master_equation(self) -> CascadeMasterEquation:
        """The Lindblad reference this model converges to as ``dt -> 0``."""
        return CascadeMasterEquation(self.system, self.n_systems, self.gamma, self.omega,
                                     self.temperature, self.cutoff, self.bath, self.cascade)

    def level_energies(self) -> np.ndarray:
        """Energies of one subsystem's levels: ``omega n`` (oscillator) or
        ``omega (n - 1/2)`` (qubit, ``H = omega sigma_z / 2``)."""
        n = np.arange(self.d_sys, dtype=float)
        return self.omega * (n - 0.5 if self.system == "qubit" else n)

    # --- validation and planning ----------------------------------------------------
    def plan(self, rho0, t_max: float, dt: float, save_every: int = 1) -> CollisionPlan:
        """Validate the run parameters and precompute what the engines need."""
        rho0 = validate_density_matrix(rho0, self.dim, name="rho0")
        dt = float(dt)
        if not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be a finite number > 0 (units of 1/gamma), got {dt!r}")
        if self.gamma * dt > MAX_GAMMA_DT:
            raise ValueError(f"gamma * dt = {self.gamma * dt:.3g} is too large: a collision "
                             f"model needs theta = sqrt(gamma dt) << 1 (allowed gamma*dt <= "
                             f"{MAX_GAMMA_DT})")
        t_max = float(t_max)
        if not math.isfinite(t_max) or t_max < dt:
            raise ValueError(f"t_max must be finite and >= dt = {dt:g}, got {t_max!r}")
        if isinstance(save_every, bool) or int(save_every) != save_every or save_every < 1:
            raise ValueError(f"save_every must be a positive integer, got {save_every!r}")
        save_every = int(save_every)
        steps_total = int(math.floor(t_max / dt * (1 + 1e-12)))
        n_saved = steps_total // save_every + 1
        times = np.arange(n_saved) * save_every * dt
        theta = math.sqrt(self.gamma * dt)
        fock = excitations(self.dims)
        pops = np.real(np.diagonal(rho0))
        sys_pop = thermal_populations(self.system, self.temperature, self.omega, self.cutoff)
        for i in range(self.n_systems):
            reduced = np.bincount(fock[:, i], weights=pops, minlength=self.d_sys)
            sys_pop = np.maximum(sys_pop, reduced)
        d_anc, leak = choose_bath_cutoff(self.bath, theta, self.temperature, self.omega, sys_pop,
                                         self.n_systems, self.bath_cutoff, self.bath_tol)
        anc_pop = ancilla_populations(self.bath, self.temperature, self.omega, d_anc)
        unitary = exchange_unitary(self.d_sys, d_anc, theta)
        levels = self.level_energies()
        return CollisionPlan(dt=dt, theta=theta, n_steps=(n_saved - 1) * save_every + 1,
                             save_every=save_every, times=times, d_sys=self.d_sys, d_anc=d_anc,
                             bath_leak=leak, anc_pop=anc_pop, unitary=unitary, levels=levels,
                             local_flux=local_flux_levels(unitary, anc_pop, levels, dt),
                             fock=fock, rho0=rho0)

    def to_lab_frame(self, rho: np.ndarray, t: float) -> np.ndarray:
        """Rotate an interaction-picture state at time ``t`` to the lab frame."""
        n = excitations(self.dims).sum(axis=1)
        phase = np.exp(-1j * self.omega * t * (n[:, None] - n[None, :]))
        return rho * phase

    # --- running ----------------------------------------------------------------------
    def run(self, rho0, t_max: float, dt: float, method: str = "density",
            n_trajectories: int | None = None, seed=None, save_every: int = 1,
            progress: bool = False, target_stderr: float | None = None) -> HeatFluxes:
        """Simulate the collisions and return the heat fluxes.

        Parameters
        ----------
        rho0 : array_like, shape (D, D)
            Initial state of the subsystems (basis of :mod:`lindblad.operators`).
        t_max : float
            Final time (1/gamma); the last saved time is the largest multiple of
            ``save_every * dt`` not above it.
        dt : float
            Collision time step (1/gamma); ``theta = sqrt(gamma dt)``.
        method : {"density", "trajectories"}
            Exact ensemble average, or Monte Carlo trajectories with standard errors.
        n_trajectories, seed, target_stderr
            Monte Carlo options (``method="trajectories"`` only).
        save_every : int
            Save fluxes every this many steps.
        progress : bool
            Show a progress bar.

        Returns
        -------
        HeatFluxes
            Fluxes at the saved times; ``final_state`` is the state at the last saved
            time (lab frame); ``parameters`` records the run, including the bath cutoff
            and its leak bound.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        plan = self.plan(rho0, t_max, dt, save_every)
        if method == "density":
            if n_trajectories is not None or seed is not None or target_stderr is not None:
                raise ValueError("n_trajectories, seed and target_stderr apply to "
                                 "method='trajectories' only")
            from .density import run_density

            result = run_density(self, plan, progress=progress)
        else:
            from .trajectories import run_trajectories

            result = run_trajectories(self, plan, n_trajectories=n_trajectories, seed=seed,
                                      progress=progress, target_stderr=target_stderr)
        result.parameters = {"source": "collision", "method": method, **self.parameters,
                             "dt": plan.dt, "t_max": float(t_max), "theta": plan.theta,
                             "save_every": plan.save_every, "bath_cutoff": plan.d_anc,
                             "bath_leak_per_step": plan.bath_leak, **result.parameters}
        return result
