"""The one driver table: which engine runs a plan.

A model validates a run into a plan (:meth:`collision.CascadeCollisionModel.plan`,
:meth:`collision.GaussianCollisionModel.plan`) and hands it, with its engine options, to
``driver(method)(model, plan, **options.as_dict(driver=True))``.  The delay layer
(:mod:`collision.delay`, clock staggering) sits between the table and the Fock-space
engines: a plan with delays runs through it, every other plan on the engine itself.
Engines never import the model layer; the model object they receive is only read.
"""

from __future__ import annotations

from typing import Any

from lindblad.fluxes import HeatFluxes

from .delay import DelayedDensityRun, run_trajectories_delayed
from .density import DensityEngine
from .gaussian import run_gaussian
from .options import DensityOptions, EngineOptions, GaussianOptions, TrajectoryOptions
from .trajectories import run_trajectories as _trajectories_without_delay


def run_density(model, plan, progress: bool = False, scheme: str = "auto") -> HeatFluxes:
    """The exact averaged engine (:mod:`collision.density`), through the delay layer when
    the plan has delays.  Returns the run's :class:`lindblad.fluxes.HeatFluxes`."""
    plan = plan.dense_initial()
    if any(plan.offsets):
        return DelayedDensityRun(model, plan, scheme).run(progress=progress)
    return DensityEngine(model, plan, scheme=scheme).run(progress=progress)


def run_trajectories(model, plan, **options: Any) -> HeatFluxes:
    """The Monte Carlo engine (:mod:`collision.trajectories`), through the delay layer
    when the plan has delays; ``options`` are those of
    :class:`collision.options.TrajectoryOptions`."""
    if any(plan.offsets):
        return run_trajectories_delayed(model, plan.dense_initial(), **options)
    return _trajectories_without_delay(model, plan, **options)


#: Engine name -> (options class, driver).  A driver is called as
#: ``driver(model, plan, **options.as_dict(driver=True))`` with the plan of the model's
#: ``plan`` method and returns a :class:`lindblad.fluxes.HeatFluxes`.
ENGINES: dict[str, tuple[type[EngineOptions], Any]] = {
    "density": (DensityOptions, run_density),
    "trajectories": (TrajectoryOptions, run_trajectories),
    "gaussian": (GaussianOptions, run_gaussian),
}


def driver(method: str):
    """The function that runs engine ``method`` (:data:`ENGINES`)."""
    return ENGINES[method][1]
