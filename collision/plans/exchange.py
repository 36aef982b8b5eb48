"""The plan of a run of the paper's cascade on the exchange kernels: the time grid, the
checks every engine shares (time step, memory, delays in whole steps), and
:class:`CollisionPlan`, the compiled run the density and trajectory engines take.

The rules behind the checks are stated in :mod:`collision.model` (module docstring).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .._loop import AccuracyWarning, warn
from ..initial import MAX_DENSE_DIM, InitialState
from ..unitaries import BlockUnitary

#: Default ``cutoff_tol``: largest population of an oscillator's top Fock level accepted
#: without a :class:`TruncationWarning`.
DEFAULT_CUTOFF_TOL = 1e-6
#: Largest ``gamma * dt`` accepted: beyond it one collision swaps a large fraction of an
#: excitation (``sin^2(theta) > 0.42``) and the stream of collisions no longer describes
#: a weakly coupled reservoir.
MAX_GAMMA_DT = 0.5


#: Largest predicted relative flux error of the time step accepted without an
#: :class:`AccuracyWarning` (rule in the module docstring).
DT_ERROR_TOL = 0.05
#: Largest rounding error of a flux (units hbar omega gamma) accepted at tiny dt.
ROUNDING_TOL = 1e-6
#: Most steps a run may have (float64 counts them exactly up to here).
MAX_STEPS = 2**53


# --- checks shared by the engines ---------------------------------------------------------
def time_grid(gamma: float, t_max, dt, save_every) -> tuple[float, float, int, int]:
    """Validate the time grid of a run.

    Returns
    -------
    (dt, t_max, save_every, steps)
        ``steps = floor(t_max / dt)`` (with a relative slack of 1e-12, so that e.g.
        ``t_max = 5, dt = 0.1`` gives 50 steps); the saved times are
        ``k save_every dt`` for ``k = 0 .. steps // save_every``.

    Raises
    ------
    ValueError
        For ``dt`` not finite and > 0 or with ``gamma dt > MAX_GAMMA_DT``, ``t_max`` not
        finite and >= dt, ``save_every`` not a positive integer or more than the steps
        of the run, or more than ``MAX_STEPS`` steps.
    """
    for name, value in (("dt", dt), ("t_max", t_max)):
        if isinstance(value, (bool, str, bytes)) or np.iscomplexobj(value) \
                or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a real number (units of 1/gamma), got {value!r}")
    try:
        dt, t_max = float(dt), float(t_max)
    except (TypeError, ValueError):
        raise ValueError(f"dt and t_max must be numbers, got dt={dt!r}, t_max={t_max!r}") \
            from None
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a finite number > 0 (units of 1/gamma), got {dt!r}")
    if gamma * dt > MAX_GAMMA_DT:
        raise ValueError(f"gamma * dt = {gamma * dt:.3g} is too large: the collision model "
                         "describes the reservoir only for weak collisions, theta = "
                         "sqrt(gamma dt) << 1, and its error is O(gamma dt); allowed: "
                         f"gamma * dt <= {MAX_GAMMA_DT} (take dt <= {MAX_GAMMA_DT / gamma:.3g})")
    if not math.isfinite(t_max) or t_max < dt:
        raise ValueError(f"t_max must be finite and >= dt = {dt:g} (at least one step), "
                         f"got {t_max!r}")
    try:
        integral = not isinstance(save_every, bool) and int(save_every) == save_every
    except (TypeError, ValueError, OverflowError):
        integral = False
    if not integral or save_every < 1:
        raise ValueError(f"save_every must be a positive integer (steps between saved "
                         f"times), got {save_every!r}")
    save_every = int(save_every)
    steps = int(math.floor(t_max / dt * (1 + 1e-12)))
    if steps > MAX_STEPS:
        raise ValueError(f"t_max / dt = {t_max / dt:.3g} steps is more than a run can take "
                         f"(at most 2**53 = {MAX_STEPS:.2e}); raise dt or lower t_max")
    if save_every > steps:
        raise ValueError(f"save_every = {save_every} is more than the {steps} steps of the "
                         f"run (t_max / dt = {t_max:g} / {dt:g}): nothing after t = 0 would "
                         f"be saved; use save_every <= {steps}")
    return dt, t_max, save_every, steps


def predicted_dt_error(gamma_dt: float, n_systems: int, cascade: bool) -> float:
    """Predicted largest relative flux error of the time step: ``(n - 2/3) gamma dt``
    for a cascade of ``n``, ``gamma dt / 3`` for independent reservoirs (measured
    constants, module docstring)."""
    return ((n_systems - 2 / 3) if cascade else 1 / 3) * gamma_dt


def check_time_step(gamma: float, dt: float, n_systems: int, cascade: bool,
                    energy_scale: float) -> None:
    """Warn (:class:`AccuracyWarning`) when ``dt`` is too large for the chain, or so small
    that rounding spoils the fluxes.

    Parameters
    ----------
    gamma, dt : float
        Rate and time step.
    n_systems : int
        Chain length.
    cascade : bool
        One reservoir for the chain (True) or one per subsystem.
    energy_scale : float
        Largest subsystem energy the fluxes are computed from, in units of hbar omega.
    """
    err = predicted_dt_error(gamma * dt, n_systems, cascade)
    if err > DT_ERROR_TOL:
        rule = "(n - 2/3) gamma dt" if cascade else "gamma dt / 3"
        dt_max = DT_ERROR_TOL / predicted_dt_error(gamma, n_systems, cascade)
        warn(f"gamma * dt = {gamma * dt:.3g} gives an estimated time-step error of "
             f"{err:.0%} of the largest flux for a chain of {n_systems} ({rule}, measured "
             f"against the Lindblad reference); take dt <= {dt_max:.3g} for "
             f"{DT_ERROR_TOL:.0%}, or extrapolate in dt", AccuracyWarning)
    eps = float(np.finfo(float).eps)
    rounding = eps * energy_scale / (gamma * dt)
    if rounding > ROUNDING_TOL:
        warn(f"dt = {dt:.3g} is so small that rounding spoils the fluxes: a flux is a "
             f"difference of energies (up to {energy_scale:.3g} hbar omega) divided by dt, "
             f"so its rounding error is about eps * E / (gamma dt) = {rounding:.1e} hbar "
             f"omega gamma, above {ROUNDING_TOL:.0e}; take gamma * dt >= "
             f"{eps * energy_scale / ROUNDING_TOL:.2g}", AccuracyWarning)


def needed_cutoff(occupation: float, tol: float) -> int:
    """Smallest Fock dimension ``c`` with ``r^(c - 1) <= tol``, ``r = n / (n + 1)``: the
    weight a thermal distribution of mean occupation ``n`` puts on levels >= c - 1."""
    if occupation <= 0:
        return 2
    r = occupation / (occupation + 1)
    return max(2, 1 + math.ceil(math.log(tol) / math.log(r)))


class TopLevelMonitor:
    """Running maxima of each oscillator's top-level population and mean occupation.

    Parameters
    ----------
    fock : ndarray of int, shape (D, n)
        Fock numbers of the joint basis states, in the order of the populations given
        to :meth:`add`.
    d_sys : int
        Fock dimension (the top level is ``d_sys - 1``).
    """

    def __init__(self, fock: np.ndarray, d_sys: int):
        self._top = (np.asarray(fock) == d_sys - 1).astype(float)
        self._n = np.asarray(fock, dtype=float)
        self.top = np.zeros(self._n.shape[1])
        self.occupation = np.zeros(self._n.shape[1])

    def add(self, populations: np.ndarray) -> None:
        """Include one state, given by its joint populations (shape (D,))."""
        p = np.real(np.asarray(populations))
        self.top = np.maximum(self.top, p @ self._top)
        self.occupation = np.maximum(self.occupation, p @ self._n)

    @property
    def parameters(self) -> dict:
        """Largest top-level population and occupation seen, as lists (for the result's
        ``parameters``)."""
        return {"max_top_level_population": self.top.tolist(),
                "max_occupation": self.occupation.tolist()}


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
    rho0 : ndarray, shape (D, D), or None
        Validated initial state as a density matrix (None when it was given as a list
        of local states or a state vector).
    cutoff_tol : float
        Largest accepted population of an oscillator's top Fock level.
    watch_top_level : bool
        True when the engines' record of the top-level populations must be checked
        after the run (oscillators at ``T > 0`` whose cutoff was not already reported
        too small before it).
    offsets : tuple of int
        ``o_i = T_i / dt``: the steps after which S1's output reaches S_i (all 0 without
        delay; :mod:`collision.delay`), each link's delay capped at ``n_steps``
        (:func:`delay_steps`: a longer one gives the same run).
    initial : InitialState
        The validated initial state in the form it was given (:mod:`collision.initial`);
        ``rho0`` is its dense matrix when it was given as one, else None
        (:meth:`dense_initial` builds it).
    basis : ndarray of int64 or None
        The basis states the run can reach, when that is fewer than all: with a
        reservoir at ``T = 0`` no excitation enters, so a run never leaves the blocks of
        at most the initial state's largest number of excitations (for ``S1`` excited
        and the rest in the ground state, ``n + 1`` states instead of ``2^n``).  The
        density engine then works on those states only and its ``rho0`` is the initial
        state restricted to them (:meth:`dense_initial`).
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
    cutoff_tol: float = DEFAULT_CUTOFF_TOL
    watch_top_level: bool = False
    offsets: tuple[int, ...] = ()
    initial: InitialState | None = None
    basis: np.ndarray | None = None

    def dense_initial(self) -> CollisionPlan:
        """This plan with ``rho0`` as a dense matrix, built from ``initial`` if needed (on
        the kept ``basis`` when there is one)."""
        if self.rho0 is not None:
            return self
        rho0 = self.initial.dense() if self.basis is None else self.initial.restricted(self.basis)
        return dataclasses.replace(self, rho0=rho0)

    def embed(self, rho: np.ndarray) -> np.ndarray | None:
        """A state on the kept ``basis`` as a full ``(D, D)`` matrix (None if too large)."""
        dim = self.fock.shape[0]
        if dim > MAX_DENSE_DIM:
            return None
        out = np.zeros((dim, dim), dtype=complex)
        out[np.ix_(self.basis, self.basis)] = rho
        return out


def delay_steps(delays, dt: float, cap: int | None = None) -> tuple[int, ...]:
    """Each link delay as a whole number of time steps ``m_l = delay_l / dt`` (a relative
    slack of 1e-9 absorbs rounding, so that ``delay = 0.3, dt = 0.1`` gives 3 steps).

    With ``cap`` (the run's number of steps ``n_steps``, one past the last saved step)
    every ``m_l`` is at most ``cap``: a link whose delay reaches beyond the run delivers
    nothing from upstream before the last saved time (the first ancilla that has met
    S_l meets S_{l+1} at real step ``m_l``), so the downstream subsystem sees only fresh
    ancillas whatever the delay's length, and ``m_l = cap`` gives the same run exactly.
    ``delay = inf`` (never arrives) gives ``cap`` (and is refused without one); a finite
    delay whose step count overflows (``1e300 / 1e-10``) is a whole number of steps.

    Raises
    ------
    ValueError
        If a finite delay is not a whole number of steps, naming it and the two nearest
        allowed values.
    """
    steps = []
    for k, tau in enumerate(delays):
        name = "delay" if len(set(delays)) == 1 else f"delay[{k}]"
        q = tau / dt
        if math.isinf(q):  # inf, or a finite delay beyond every float step count
            if cap is None:
                raise ValueError(f"{name} = {tau!r} is longer than any run; only a run "
                                 "(whose number of steps caps it) can use it")
            steps.append(int(cap))
            continue
        m = round(q)
        if abs(q - m) > 1e-9 * max(1.0, q):
            lo, hi = math.floor(q), math.ceil(q)
            raise ValueError(f"{name} = {tau!r} must be a whole number of time steps dt = "
                             f"{dt:g} (the collision model moves the reservoir one ancilla per "
                             f"step), but it is {q:.6g} steps; nearest allowed values: "
                             f"{lo * dt:.12g} ({lo} steps) or {hi * dt:.12g} ({hi} steps), or "
                             f"choose dt dividing {tau:g}")
        steps.append(int(m) if cap is None else min(int(m), int(cap)))
    return tuple(steps)


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
