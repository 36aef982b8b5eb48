"""The model layer: what the user writes (:mod:`collision.models.general`: :class:`CollisionModel`,
:class:`Collision`) and what it implies in the continuum limit (:mod:`collision.models.limit`)."""
