"""The model layer: what the user writes (:mod:`.general`: :class:`CollisionModel`,
:class:`Collision`) and what it implies in the continuum limit (:mod:`.limit`)."""
