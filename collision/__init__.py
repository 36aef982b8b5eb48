"""Collision-model simulation of cascaded open quantum systems.

The reservoir is a stream of thermal ancillas; each collides with S1, then S2, ...
The engines converge to :class:`lindblad.CascadeMasterEquation` as ``dt -> 0``.
"""

from lindblad.fluxes import HeatFluxes

from .gaussian import GaussianCollisionModel
from .model import CascadeCollisionModel, CollisionPlan

__all__ = ["CascadeCollisionModel", "CollisionPlan", "GaussianCollisionModel", "HeatFluxes"]
