"""Collision-model simulation of cascaded open quantum systems.

The reservoir is a stream of thermal ancillas; each collides with S1, then S2, ...
The engines converge to :class:`lindblad.CascadeMasterEquation` as ``dt -> 0``.
"""

from lindblad.fluxes import HeatFluxes

from ._loop import AccuracyWarning, TruncationWarning
from .gaussian import GaussianCollisionModel
from .model import CascadeCollisionModel, CollisionPlan

__all__ = ["AccuracyWarning", "CascadeCollisionModel", "CollisionPlan", "GaussianCollisionModel",
           "HeatFluxes", "TruncationWarning"]
