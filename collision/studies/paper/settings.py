"""Time step and grid sizes of the paper's figures, and where their runs are computed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sweeps import SweepRuns

__all__ = ["FigureSettings", "settings_or_full"]


@dataclass(frozen=True, kw_only=True)
class FigureSettings:
    """Time step and grid sizes of every figure.

    Attributes
    ----------
    dt : float
        Collision time step (1/gamma) of every engine run.
    t_max : float
        End of the time axis of Figs 2 and 3.
    n_release : int
        Points of the closed-form ``gamma tau_p`` curves (Figs 4a, 6a).
    n_release_engine : int
        Engine markers on those curves (odd: includes the uncorrelated state).
    n_classes, n_line : int
        Classes ``C13 + C24 = const`` (Figs 4b, 4c) and points sampled along each (odd).
    n_plane : int
        Grid per axis of the (C13, C24) plane (Figs 5a, 5b; odd).
    n_disc : int
        Grid per axis of the (Re rho23, Im rho23) square around the disc (Fig. 5c; odd).
    n_rho_classes, n_im : int
        Values of Re rho23 (Fig. 6b) and of Im rho23 sampled in each class (odd).
    n_domain : int
        Grid per axis of Fig. 7 (odd).
    runs : SweepRuns or None
        Where and how the engine and reference runs are computed
        (:class:`collision.studies.sweeps.SweepRuns`: the sweeps' folder, local processes
        or a Dask cluster).  None: the ``compute_*`` functions run them in this process
        without files, the ``figure_*`` functions into ``out_dir/sweeps``.  Execution
        only: it never changes a number and is left out of comparisons.
    """

    dt: float = 0.01
    t_max: float = 6.0
    n_release: int = 81
    n_release_engine: int = 9
    n_classes: int = 41
    n_line: int = 41
    n_plane: int = 101
    n_disc: int = 21
    n_rho_classes: int = 15
    n_im: int = 9
    n_domain: int = 201
    runs: SweepRuns | None = field(default=None, compare=False)

    @classmethod
    def full(cls) -> FigureSettings:
        """The settings of ``make_all(quick=False)``."""
        return cls()

    @classmethod
    def quick(cls) -> FigureSettings:
        """Coarse grids and ``dt = 0.02`` (tests and CI)."""
        return cls(dt=0.02, t_max=6.0, n_release=17, n_release_engine=5, n_classes=9,
                   n_line=11, n_plane=21, n_disc=7, n_rho_classes=5, n_im=3, n_domain=41)


def settings_or_full(settings: FigureSettings | None) -> FigureSettings:
    """``settings``, or :meth:`FigureSettings.full` when it is None (the figures' default)."""
    return FigureSettings.full() if settings is None else settings
