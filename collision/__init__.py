"""Collision-model simulation of cascaded open quantum systems.

The reservoir is a stream of thermal ancillas; each collides with S1, then S2, ...
The engines converge to :class:`lindblad.CascadeMasterEquation` as ``dt -> 0``.
"""

from lindblad import __version__  # one distribution, one version
from lindblad.counting import HeatStatistics
from lindblad.fluxes import HeatFluxes

from ._loop import AccuracyWarning, TruncationWarning
from .gaussian import GaussianCollisionModel
from .model import CascadeCollisionModel, CollisionPlan
from .options import ENGINES, DensityOptions, GaussianOptions, TrajectoryOptions
from .statistics import TrajectoryStatistics, merge_results

__all__ = ["ENGINES", "AccuracyWarning", "CascadeCollisionModel", "CollisionPlan",
           "DensityOptions", "GaussianCollisionModel", "GaussianOptions", "HeatFluxes",
           "HeatStatistics", "TrajectoryOptions", "TrajectoryStatistics", "TruncationWarning",
           "__version__", "merge_results"]
