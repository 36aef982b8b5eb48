"""Collision-model simulation of open quantum systems.

Any collision model (:class:`CollisionModel`: subsystems, their Hamiltonian, ancilla
streams and the ordered collisions of one step) runs on the density and trajectory
engines and converges, as ``dt -> 0``, to the master equation it derives
(:meth:`CollisionModel.master_equation`).  The paper's cascade (a stream of thermal
ancillas colliding with S1, then S2, ...) has its own fast exchange kernels
(:class:`CascadeCollisionModel`, :class:`GaussianCollisionModel`) and converges to
:class:`lindblad.CascadeMasterEquation`.
"""

from lindblad import __version__  # one distribution, one version
from lindblad.counting import HeatStatistics
from lindblad.fluxes import HeatFluxes

from . import presets
from ._loop import AccuracyWarning, TruncationWarning
from .drivers import ENGINES
from .model import CascadeCollisionModel, CollisionPlan, merge_results
from .models.gaussian import GaussianCollisionModel
from .models.general import Collision, CollisionModel
from .models.memory import Memory, PseudomodeMasterEquation, partial_swap
from .options import DensityOptions, GaussianOptions, TrajectoryOptions
from .results import Result, ResultErrors
from .statistics import TrajectoryStatistics

__all__ = ["ENGINES", "AccuracyWarning", "CascadeCollisionModel", "Collision",
           "CollisionModel", "CollisionPlan", "DensityOptions", "GaussianCollisionModel",
           "GaussianOptions", "HeatFluxes", "HeatStatistics", "Memory",
           "PseudomodeMasterEquation", "Result", "ResultErrors", "TrajectoryOptions",
           "TrajectoryStatistics", "TruncationWarning", "__version__", "merge_results",
           "partial_swap", "presets"]
