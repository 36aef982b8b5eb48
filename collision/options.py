"""Engine options: one small frozen object per engine.

A run is ``model.run(state, t_max, dt, method=NAME, options=...)``; ``NAME`` is one of
:data:`OPTIONS` and ``options`` the matching options object (or None for the
defaults).  The driver table :data:`collision.drivers.ENGINES` pairs each with its driver
and serves :meth:`collision.CascadeCollisionModel.run`,
:meth:`collision.GaussianCollisionModel.run`, the command line and the benchmarks, so
an engine is added in one place.  Options are frozen dataclasses of plain values: they
are recorded in every result (``result.parameters["options"]``) and rebuilt with
:func:`options_from_dict`, so a result says exactly how it was produced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from lindblad._validate import choice, flag, integer, real_scalar

from .statistics import LEAF, MAX_TRAJECTORY_INDEX


@dataclass(frozen=True)
class EngineOptions:
    """Options every engine takes.

    Attributes
    ----------
    progress : bool
        Show a progress bar (tqdm) while the engine runs.
    """

    method: ClassVar[str] = ""
    progress: bool = False

    def __post_init__(self) -> None:
        self._check("progress", flag)

    def _check(self, name: str, check, *args, optional: bool = False, **kwargs) -> None:
        """Replace field ``name`` by ``check(value, name, *args, **kwargs)`` (a
        :mod:`lindblad._validate` helper: it raises ``ValueError`` or returns the clean
        value); with ``optional``, None passes and the message says so."""
        value = getattr(self, name)
        if optional:
            if value is None:
                return
            kwargs["note"] = " or None" + kwargs.get("note", "")
        object.__setattr__(self, name, check(value, name, *args, **kwargs))

    def as_dict(self, driver: bool = False) -> dict[str, Any]:
        """The options as plain values, with the engine's name under ``"method"`` (or,
        with ``driver=True``, as the keyword arguments of the engine's driver)."""
        if driver:
            return asdict(self)
        return {"method": self.method, **asdict(self)}


@dataclass(frozen=True)
class DensityOptions(EngineOptions):
    """Options of the exact averaged engine (:mod:`collision.density`).

    Attributes
    ----------
    scheme : {"auto", "kraus", "superoperator", "sequential"}
        Kernel: Kraus operators in excitation blocks, the tabulated step map of each
        sector, or the collisions applied one after the other to the joint state of the
        chain and one ancilla; "auto" takes the cheapest.  All give the same numbers to
        rounding.
    """

    method: ClassVar[str] = "density"
    scheme: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check("scheme", choice, ("auto", "kraus", "superoperator", "sequential"))


@dataclass(frozen=True)
class TrajectoryOptions(EngineOptions):
    """Options of the Monte Carlo engine (:mod:`collision.trajectories`).

    Attributes
    ----------
    n_trajectories : int, optional
        Trajectories to run (>= 2); with ``target_stderr`` the upper limit.  Default
        1000, or 100,000 as a limit when only ``target_stderr`` is given.
    seed : int, optional
        Root of the random streams: trajectory ``j`` uses child ``j`` of
        ``numpy.random.SeedSequence(seed)``.  None draws fresh entropy (recorded).
    first_trajectory : int
        Index of the first trajectory, a multiple of 64: a run over ``first_trajectory
        .. first_trajectory + n_trajectories - 1`` uses exactly those streams, so runs over
        disjoint ranges of one seed merge exactly (:mod:`collision.statistics`).
    target_stderr : float, optional
        Stop once the largest standard error of the total flux is at most this
        (units hbar omega gamma).
    estimator : {"auto", "conditional", "replay", "collision"}
        Flux estimator (see :mod:`collision.trajectories`).
    stepper : {"auto", "matrices", "collisions"}
        How a step is applied to a state vector.
    n_threads : int, optional
        numba threads for this run (default: numba's setting).  Results do not depend
        on it.
    final_state : bool
        Return the trajectory average of ``|psi><psi|`` at the last saved time
        (``D <= 1024`` only).  False skips it: fluxes only, as QuTiP's ``mcsolve``
        returns with ``e_ops``, and about 10 ms less per run at ``D = 1024``.
    """

    method: ClassVar[str] = "trajectories"
    n_trajectories: int | None = None
    seed: int | None = None
    first_trajectory: int = 0
    target_stderr: float | None = None
    estimator: str = "auto"
    stepper: str = "auto"
    n_threads: int | None = None
    final_state: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check("final_state", flag)
        self._check("n_trajectories", integer, 2, optional=True)
        self._check("first_trajectory", integer, 0)
        if self.first_trajectory % LEAF:
            raise ValueError(f"first_trajectory must be a multiple of {LEAF} (runs are merged "
                             f"exactly in leaves of {LEAF} trajectories), got "
                             f"{self.first_trajectory}")
        n_traj = self.n_trajectories if self.n_trajectories is not None else 0
        if self.first_trajectory + n_traj > MAX_TRAJECTORY_INDEX:
            raise ValueError(f"n_trajectories + first_trajectory must be at most 2**62 = "
                             f"{MAX_TRAJECTORY_INDEX:.3e} (trajectory indices are 64-bit "
                             f"integers in the kernels), got n_trajectories = "
                             f"{self.n_trajectories}, first_trajectory = {self.first_trajectory}")
        self._check("n_threads", integer, 1, optional=True)
        self._check("estimator", choice, ("auto", "conditional", "replay", "collision"))
        self._check("stepper", choice, ("auto", "matrices", "collisions"))
        self._check("target_stderr", real_scalar, optional=True, minimum=0.0,
                    exclusive_minimum=True, note=" (a standard error of the total heat "
                    "flux, units hbar omega gamma)")


@dataclass(frozen=True)
class GaussianOptions(EngineOptions):
    """Options of the covariance-matrix engine (:mod:`collision.gaussian`)."""

    method: ClassVar[str] = "gaussian"


#: Engine name -> its options class.  The drivers are in the one driver table,
#: :data:`collision.drivers.ENGINES` (engine name -> (options class, driver)).
OPTIONS: dict[str, type[EngineOptions]] = {
    "density": DensityOptions,
    "trajectories": TrajectoryOptions,
    "gaussian": GaussianOptions,
}


def engine_options(method: str, options: EngineOptions | None = None,
                   **overrides) -> EngineOptions:
    """The options object of engine ``method``.

    Parameters
    ----------
    method : str
        One of :data:`OPTIONS`.
    options : EngineOptions, optional
        Options to start from (must belong to ``method``); default: the defaults.
    **overrides
        Fields to set; ``None`` values are ignored (so loose keyword arguments of
        ``run`` can be passed through).

    Raises
    ------
    ValueError
        For an unknown method, options of another engine, or a field the engine does
        not have (e.g. ``seed`` for ``method="density"``).
    """
    if method not in OPTIONS:
        raise ValueError(f"method must be one of {tuple(OPTIONS)}, got {method!r}")
    cls = OPTIONS[method]
    if options is None:
        options = cls()
    elif type(options) is not cls:
        raise ValueError(f"options must be a {cls.__name__} for method={method!r}, got "
                         f"{type(options).__name__}")
    given = {k: v for k, v in overrides.items() if v is not None}
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(given) - known)
    if unknown:
        owners = [m for m, c in OPTIONS.items() if set(unknown) <= {f.name for f in fields(c)}]
        hint = f": they apply to method={owners[0]!r} only" if owners else ""
        raise ValueError(f"{', '.join(unknown)} do(es) not apply to method={method!r}{hint}")
    if not given:
        return options
    return cls(**{**asdict(options), **given})


def options_from_dict(record: dict[str, Any]) -> EngineOptions:
    """Rebuild the options recorded by :meth:`EngineOptions.as_dict`."""
    record = dict(record)
    method = record.pop("method", None)
    if method not in OPTIONS:
        raise ValueError(f"the record's method must be one of {tuple(OPTIONS)}, got {method!r}")
    return OPTIONS[method](**record)
