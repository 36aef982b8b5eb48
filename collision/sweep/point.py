"""One point of a sweep: its definition, its checks, and its execution on a worker.

A point is a pure function of plain values - the model's name and constructor
arguments, the initial state's constructor and arguments, the run options, the seed and
(for a trajectory batch) the trajectory range - so a :class:`Task` pickles to a few
hundred bytes and runs the same in this process, in a local worker process or on a Dask
worker.  :func:`execute` builds everything inside the worker and never raises for a bad
point: it returns an :class:`Outcome` with the result, or the error message.
"""

from __future__ import annotations

import importlib
import inspect
import math
import numbers
import time
import traceback
import warnings
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..statistics import LEAF

#: The models a sweep can run: name -> ("module:class", kind of state, engines).  Kind
#: "density" takes a density matrix, "covariance" a covariance matrix; a model without
#: engines is an exact reference (``heat_fluxes(state, times)``).
MODELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "CascadeCollisionModel": ("collision.model:CascadeCollisionModel", "density",
                              ("density", "trajectories")),
    "GaussianCollisionModel": ("collision.models.gaussian:GaussianCollisionModel", "covariance",
                               ("gaussian",)),
    "CascadeMasterEquation": ("lindblad.model:CascadeMasterEquation", "density", ()),
    "GaussianMasterEquation": ("lindblad.gaussian:GaussianMasterEquation", "covariance", ()),
}

#: Initial states: name -> (arguments, kinds of state it builds, description).  The
#: subsystem kind, cutoff, frequency and chain length come from the model.
STATES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "thermal": (("temperature",), ("density", "covariance"),
                "product of local thermal states at temperature (one number, or one per "
                "subsystem; hbar omega / k_B)"),
    "correlated_qubits": (("xi_s", "rho23"), ("density",),
                          "two qubits of the paper's eq 41 (lindblad.states.correlated_qubits)"),
    "gaussian_thermal": (("n_s",), ("covariance",),
                         "uncorrelated modes of mean occupation n_s "
                         "(lindblad.states.gaussian_thermal)"),
    "gaussian_correlated": (("n_s", "c13", "c24"), ("covariance",),
                            "two correlated modes of the paper's eq 31 "
                            "(lindblad.states.gaussian_correlated)"),
}

#: Run options that never change a result (left out of a point's id and seed).  They
#: apply to the trajectory points of a sweep; the other points ignore them.
EXECUTION_KEYS = ("batches", "n_threads")
#: Run options of the Fock-space and Gaussian collision models besides the engine's.
RUN_KEYS = ("t_max", "dt", "save_every", "method", "batches")
#: Run options of the exact references: saved times ``k dt <= t_max`` (integers k >= 0), or
#: ``times``, an explicit list of saved times (non-decreasing, finite, >= 0; 1/gamma).
REFERENCE_RUN_KEYS = ("t_max", "dt", "times")
#: Engine options a sweep sets itself.
_SET_BY_SWEEP = ("progress", "seed", "first_trajectory")


@dataclass(frozen=True)
class Definition:
    """What a point computes, as plain values (the ``[model]``, ``[initial]`` and
    ``[run]`` sections with the point's values put in)."""

    model: str
    model_params: dict[str, Any]
    initial: dict[str, Any]
    run: dict[str, Any]

    def identity(self) -> dict[str, Any]:
        """The definition without execution-only options (hashed into id and seed)."""
        return {"model": self.model, "model_params": self.model_params,
                "initial": self.initial,
                "run": {k: v for k, v in self.run.items() if k not in EXECUTION_KEYS}}


@dataclass(frozen=True)
class Task:
    """A unit of work: a point, or one trajectory batch of it (``first``, ``count``)."""

    point_id: str
    definition: Definition
    seed: int
    first: int | None = None
    count: int | None = None

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        """``(point_id, first, count)``: identifies the task."""
        return (self.point_id, self.first, self.count)


@dataclass
class Outcome:
    """What :func:`execute` returns.

    Attributes
    ----------
    status : {"ok", "failed", "interrupted"}
    result : HeatFluxes or None
        With ``statistics`` for trajectory runs.
    error, traceback : str
        For a failed point: ``"ValueError: ..."`` and the worker's traceback.
    wall_time : float
        Seconds spent in :func:`execute`.
    warnings : list of str
        Every warning the run raised (``"AccuracyWarning: ..."``), once each.
    """

    key: tuple[str, int | None, int | None]
    status: str
    result: Any = None
    error: str = ""
    traceback: str = ""
    wall_time: float = 0.0
    warnings: list[str] = field(default_factory=list)


# --- models, states, run options ---------------------------------------------------------------

def model_class(name: str):
    """The class of model ``name`` (imported on first use)."""
    module, cls = MODELS[name][0].split(":")
    return getattr(importlib.import_module(module), cls)


def model_arguments(name: str) -> list[str]:
    """Constructor arguments of model ``name``."""
    return [p for p in inspect.signature(model_class(name).__init__).parameters if p != "self"]


def state_arguments(state: str) -> tuple[str, ...] | None:
    """Arguments of initial state ``state`` (None for an unknown state)."""
    return STATES[state][0] if state in STATES else None


def _run_checks(definition: Definition) -> tuple[dict[str, Any], list[str]]:
    """The run options resolved (``method`` filled in, engine fields separated), and the
    problems found without building the model."""
    from ..drivers import ENGINES
    from ..options import engine_options

    run = dict(definition.run)
    engines = MODELS[definition.model][2]
    problems: list[str] = []
    if not engines:
        return _reference_run_checks(definition.model, run)
    missing = [k for k in ("t_max", "dt") if k not in run]
    if missing:
        problems.append(f"[run] needs {' and '.join(missing)} (units of 1/gamma)")
    method = run.pop("method", engines[0])
    if method not in engines:
        problems.append(f"run.method must be one of {', '.join(engines)} for "
                        f"{definition.model}, got {method!r}")
        method = engines[0]
    every_engine = {f.name for cls, _ in ENGINES.values() for f in fields(cls)}
    options = {k: v for k, v in run.items() if k not in RUN_KEYS}
    if method != "trajectories":  # execution options of the trajectory points only
        options = {k: v for k, v in options.items() if k not in EXECUTION_KEYS}
    unknown = sorted(k for k in options if k not in every_engine or k in _SET_BY_SWEEP)
    allowed = [f.name for f in fields(ENGINES[method][0]) if f.name not in _SET_BY_SWEEP]
    if unknown:
        problems.append(f"run option(s) {', '.join(unknown)} unknown; allowed: "
                        f"{', '.join(RUN_KEYS)}" + (f", and for method={method!r}: "
                                                    f"{', '.join(allowed)}" if allowed else ""))
    options = {k: v for k, v in options.items() if k not in unknown}
    try:
        engine_options(method, **options)
    except (ValueError, TypeError) as exc:
        problems.append(str(exc))
    n_batches = run.get("batches", 1)
    if isinstance(n_batches, bool) or not isinstance(n_batches, numbers.Integral) or n_batches < 1:
        problems.append(f"run.batches must be an integer >= 1, got {n_batches!r}")
        n_batches = 1
    elif n_batches > 1 and method != "trajectories":
        n_batches = 1  # points of the other engines run whole
    elif n_batches > 1:
        n = options.get("n_trajectories")
        if options.get("target_stderr") is not None:
            problems.append("run.batches > 1 cannot be combined with target_stderr (each "
                            "batch would stop on its own); give n_trajectories")
        elif not isinstance(n, numbers.Integral) or isinstance(n, bool):
            problems.append(f"run.batches = {n_batches} needs n_trajectories (the total, "
                            f"split into batches of whole leaves of {LEAF})")
        elif math.ceil(n / LEAF) < n_batches:
            problems.append(f"run.batches = {n_batches} is more than the {math.ceil(n / LEAF)} "
                            f"leaves of {LEAF} trajectories in n_trajectories = {n}: every batch "
                            "needs at least one leaf")
    save_every = run.get("save_every", 1)
    return {"method": method, "t_max": run.get("t_max"), "dt": run.get("dt"),
            "save_every": save_every, "batches": int(n_batches), "options": options}, problems


def _reference_run_checks(model: str, run: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The run options of an exact reference: ``t_max`` and ``dt``, or ``times``."""
    problems: list[str] = []
    extra = sorted(set(run) - set(REFERENCE_RUN_KEYS))
    if extra:
        problems.append(f"run option(s) {', '.join(extra)} do(es) not apply to {model}, an "
                        "exact reference: its run options are t_max and dt (the spacing of "
                        "the saved times), or times (the saved times themselves)")
    if "times" in run:
        given = [k for k in ("t_max", "dt") if k in run]
        if given:
            problems.append(f"run.times lists the saved times of {model}: give it without "
                            f"{' and '.join(given)}")
        times = run["times"]
        if not isinstance(times, (list, tuple, np.ndarray)) or isinstance(times, str):
            problems.append(f"run.times must be a list of times (1/gamma), got {times!r}")
            times = None
        return {"t_max": None, "dt": None, "times": times}, problems
    missing = [k for k in ("t_max", "dt") if k not in run]
    if missing:
        problems.append(f"[run] needs {' and '.join(missing)} (units of 1/gamma), or times "
                        f"(the saved times of {model})")
    return {"t_max": run.get("t_max"), "dt": run.get("dt"), "times": None}, problems


def engine(definition: Definition) -> str | None:
    """The engine a point runs on (None for an exact reference)."""
    return _run_checks(definition)[0].get("method")


def batches(definition: Definition) -> int:
    """Trajectory batches the point runs in: ``[run] batches`` for a trajectory point of a
    valid definition, else 1."""
    run, problems = _run_checks(definition)
    return 1 if problems or run.get("method") != "trajectories" else run["batches"]


def batch_ranges(n_trajectories: int, batches: int) -> list[tuple[int, int]]:
    """``(first, count)`` of each batch: whole leaves of :data:`collision.statistics.LEAF`
    (64) trajectories, as even as possible."""
    leaves = math.ceil(n_trajectories / LEAF)
    cuts = [k * leaves // batches * LEAF for k in range(batches)] + [n_trajectories]
    return [(a, min(b, n_trajectories) - a) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def build_model(definition: Definition):
    """The model of a point."""
    return model_class(definition.model)(**definition.model_params)


def build_state(model, definition: Definition):
    """The initial state of a point: a covariance or density matrix, or for
    :class:`collision.CascadeCollisionModel` a thermal product as the list of its local
    states (no ``D x D`` matrix for long chains)."""
    from lindblad import states
    from lindblad.thermal import bose_occupation

    initial = dict(definition.initial)
    kind = MODELS[definition.model][1]
    name = initial.pop("state", None)
    if name not in STATES:
        raise ValueError(f"initial.state must be one of {', '.join(STATES)}, got {name!r}")
    names, kinds, _ = STATES[name]
    if kind not in kinds:
        fits = [s for s, (_, k, _) in STATES.items() if kind in k]
        raise ValueError(f"initial state {name!r} is not a {kind} matrix, which "
                         f"{definition.model} needs; use one of {', '.join(fits)}")
    unknown = sorted(set(initial) - set(names))
    missing = [k for k in names if k not in initial]
    if unknown or missing:
        raise ValueError(f"initial state {name!r} takes {', '.join(names)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    n = model.n_systems
    if name == "thermal":
        temps = initial["temperature"]
        if isinstance(temps, (list, tuple)):
            if len(temps) != n:
                raise ValueError(f"initial.temperature must be one number or {n} (one per "
                                 f"subsystem), got {len(temps)}")
        else:
            temps = [temps] * n
        if kind == "covariance":
            occupations = [bose_occupation(t, model.omega) for t in temps]
            return np.diag(np.repeat(np.array(occupations) + 0.5, 2))
        local = [states.thermal(model.system, t, model.cutoff, model.omega) for t in temps]
        if definition.model == "CascadeCollisionModel":
            return local  # their product, never built as a D x D matrix (collision.initial)
        return states.product(*local)
    if name in ("correlated_qubits", "gaussian_correlated") and n != 2:
        raise ValueError(f"initial state {name!r} describes two subsystems, but the model "
                         f"has n_systems = {n}")
    if name == "correlated_qubits":
        if model.system != "qubit":
            raise ValueError("initial state 'correlated_qubits' needs system = 'qubit'")
        rho23 = initial["rho23"]
        if isinstance(rho23, str):
            try:
                rho23 = complex(rho23.replace(" ", ""))
            except ValueError:
                raise ValueError(f"initial.rho23 must be a number or a complex number "
                                 f"written like '0.3+0.1j', got {rho23!r}") from None
        return states.correlated_qubits(initial["xi_s"], rho23)
    if name == "gaussian_thermal":
        return states.gaussian_thermal(initial["n_s"], n)
    return states.gaussian_correlated(initial["n_s"], initial["c13"], initial["c24"])


def check_state(model, state, definition: Definition):
    """``state`` validated against ``model`` (dimension, physics)."""
    from lindblad.states import validate_covariance, validate_density_matrix

    if MODELS[definition.model][1] == "covariance":
        return validate_covariance(state, model.n_systems, name="initial state")
    if definition.model == "CascadeCollisionModel":
        from ..initial import initial_state

        return initial_state(state, model.dims, name="initial state")
    return validate_density_matrix(state, model.dim, name="initial state")


def reference_times(model, t_max, dt, times=None) -> np.ndarray:
    """Saved times of an exact reference: ``times`` as given, or ``k dt <= t_max``
    (checked like the engines' grid, without the bound on ``gamma dt``, which only
    concerns collisions); both checked by the model (non-decreasing, finite, >= 0, not
    after its relaxation)."""
    from ..plans.exchange import time_grid
    from ..resources import check_output_memory

    if times is not None:
        t = model._check_times(times, "run.times")
        check_output_memory(t.size - 1, 1, 8 * (1 + 2 * model.n_systems))
        return t
    steps = time_grid(0.0, t_max, dt, 1)[3]
    check_output_memory(steps, 1, 8 * (1 + 2 * model.n_systems))
    return model._check_times(np.arange(steps + 1) * float(dt))


#: Largest Hilbert-space dimension of a :class:`collision.CascadeCollisionModel` point
#: whose run is checked by the model's :meth:`~collision.CascadeCollisionModel.plan` at
#: validation (it builds arrays of that size: a larger point is planned by its own run,
#: just before it computes).
PLAN_CHECK_DIM = 2**10


def check_run(model, state, definition: Definition, run: dict[str, Any]) -> None:
    """The model's own checks of a point's run, without running it: raises
    ``ValueError`` for what the run would refuse (time grid, memory of the output,
    delays that are not whole numbers of steps, ...).

    The Gaussian models and the Fock-space ones of dimension up to
    :data:`PLAN_CHECK_DIM` are planned (their ``plan``, which their ``run`` calls first);
    a larger Fock-space model has its time grid and delays checked
    (:func:`collision.model.time_grid`, :func:`collision.model.delay_steps`, as its plan
    does), and the rest by its run.  The exact references check their saved times.
    """
    from ..plans.exchange import delay_steps, time_grid

    if not MODELS[definition.model][2]:
        reference_times(model, run["t_max"], run["dt"], run["times"])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # accuracy warnings belong to the run
        if MODELS[definition.model][1] == "covariance" or model.dim <= PLAN_CHECK_DIM:
            # the engine and its trajectories, where the plan takes them (its memory check)
            wanted = {"method": run["method"],
                      "n_trajectories": run["options"].get("n_trajectories")}
            takes = inspect.signature(model.plan).parameters
            model.plan(state, run["t_max"], run["dt"], run["save_every"],
                       **{k: v for k, v in wanted.items() if k in takes})
            return
        dt = time_grid(model.gamma, run["t_max"], run["dt"], run["save_every"])[0]
        delay_steps(getattr(model, "delays", ()), dt)


def check_definition(definition: Definition, with_run: bool = True) -> list[str]:
    """Every problem of a point, without running it (empty if it is valid): the sweep's
    checks, the model's and the initial state's, and (``with_run``) the run's
    (:func:`check_run`; :func:`compute` leaves them to the run itself, which makes them
    first)."""
    run, problems = _run_checks(definition)
    try:
        model = build_model(definition)
    except (ValueError, TypeError) as exc:
        return [*problems, str(exc)]
    state = None
    try:
        built = build_state(model, definition)
        check_state(model, built, definition)
        state = built
    except (ValueError, TypeError) as exc:
        problems.append(str(exc))
    if not problems and batches(definition) > 1 and any(getattr(model, "delays", ())):
        problems.append("run.batches > 1 merges the batches' statistics, which the trajectory "
                        "engine with a delay does not keep (collision.delay); run delayed "
                        "trajectory points whole (batches = 1)")
    if (run["t_max"] is None or run["dt"] is None) and run.get("times") is None:
        return problems
    try:
        if state is None or problems or not with_run:  # the time grid alone
            from ..plans.exchange import time_grid

            if MODELS[definition.model][2]:
                time_grid(model.gamma, run["t_max"], run["dt"], run["save_every"])
            else:
                reference_times(model, run["t_max"], run["dt"], run["times"])
        else:
            check_run(model, state, definition, run)
    except (ValueError, TypeError) as exc:
        problems.append(str(exc))
    return problems


# --- execution ---------------------------------------------------------------------------------

def compute(task: Task):
    """Run a task and return its :class:`lindblad.fluxes.HeatFluxes` (raises on error)."""
    from ..options import engine_options

    definition = task.definition
    problems = check_definition(definition, with_run=False)  # the run checks the rest
    if problems:
        raise ValueError("; ".join(problems))
    run = _run_checks(definition)[0]
    model = build_model(definition)
    state = build_state(model, definition)
    if not MODELS[definition.model][2]:
        return model.heat_fluxes(state, reference_times(model, run["t_max"], run["dt"],
                                                        run["times"]))
    method, options = run["method"], dict(run["options"])
    if method == "trajectories":
        options["seed"] = task.seed
        if task.first is not None:
            options.update(first_trajectory=task.first, n_trajectories=task.count)
    opts = engine_options(method, **options)
    return model.run(state, run["t_max"], run["dt"], method=method,
                     save_every=run["save_every"], options=opts)


def execute(task: Task) -> Outcome:
    """Run a task; never raises for a bad point (a ``KeyboardInterrupt`` passes through).

    Warnings are recorded in the outcome, not shown.  A result the engine returned
    ``partial`` (Ctrl-C reached it) is reported as ``"interrupted"`` and not kept.
    """
    start = time.perf_counter()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = compute(task)
    except Exception as exc:  # a failed point is recorded, the sweep goes on
        return Outcome(task.key, "failed", error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc(), wall_time=time.perf_counter() - start,
                       warnings=_messages(caught))
    status = "interrupted" if result.partial else "ok"
    return Outcome(task.key, status, result=None if result.partial else result,
                   wall_time=time.perf_counter() - start, warnings=_messages(caught))


def _messages(caught) -> list[str]:
    out: list[str] = []
    for w in caught or []:
        text = f"{w.category.__name__}: {w.message}"
        if text not in out:
            out.append(text)
    return out
