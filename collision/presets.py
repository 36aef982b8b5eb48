"""Ready-made collision models.

:func:`cascade` is the paper's model: identical qubits or oscillators dissipating in
cascade into one stream of thermal ancillas (or, ``cascade=False``, each into its own).
It is a :class:`collision.CollisionModel` whose exchange structure the planner uses to
run it on the fast kernels (:class:`collision.CascadeCollisionModel`).
"""

from __future__ import annotations

from .model import CascadeCollisionModel


def cascade(system: str, n_systems: int = 2, temperature: float = 0.0,
            **kwargs) -> CascadeCollisionModel:
    """The paper's cascade S1 -> S2 -> ... as a collision model.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    n_systems : int
        Chain length, >= 2.
    temperature : float
        Reservoir temperature (hbar omega / k_B), >= 0.
    **kwargs
        Every other parameter of :class:`collision.CascadeCollisionModel` (``gamma``,
        ``omega``, ``cutoff``, ``bath``, ``bath_cutoff``, ``cascade``, ``delay``,
        ``phase``, ...).

    Returns
    -------
    CascadeCollisionModel
        A :class:`collision.CollisionModel`; ``model.general()`` gives the same
        description on the general kernels.
    """
    return CascadeCollisionModel(system, n_systems, temperature=temperature, **kwargs)
