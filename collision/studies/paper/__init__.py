"""The paper's figures (Figs 2-7), reproduced by the collision engines.

Every ``figure_*`` function computes the numbers behind one figure of the paper, writes a
PNG and a CSV of those numbers into an output folder, and returns a small typed result
(a dataclass holding the arrays).  :func:`make_all` runs all of them and writes
``REPORT.md``, the numbers that tie the figures to the paper's text; a figure that fails
does not stop the others, and the report names it with its error (``Report.failures``).

Modules
-------
* :mod:`.analysis`: the figures' parameters and pure helpers (release times, the physical
  states of eqs 31 and 41 in closed form, local extrema).
* :mod:`.settings`: :class:`FigureSettings` (time step and grids).
* :mod:`.results`: the typed results.
* :mod:`.compute`: the numbers of each figure (engine runs, references; writes nothing).
* :mod:`.plots`: drawing each kind of figure (the only module that uses matplotlib).
* :mod:`.files`: the CSV files.
* :mod:`.figures`: ``figure_2`` ... ``figure_7``, each computing, plotting and writing one
  figure.
* :mod:`.report`: :func:`make_all`, :data:`FIGURES` and ``REPORT.md``.

What is drawn
-------------
* **Lines** are the exact reference: the paper's closed forms (:mod:`lindblad.closed_form`)
  where they exist (oscillators at any temperature, qubits at T = 0), otherwise
  :class:`lindblad.CascadeMasterEquation` (qubits at T > 0).
* **Markers** are the collision engines: the Gaussian collision engine
  (:class:`collision.GaussianCollisionModel`, exact on covariance matrices, no
  Fock cutoff) for oscillators and the averaged ``density`` engine of
  :class:`collision.CascadeCollisionModel` for qubits, at the time step ``dt`` of
  :class:`FigureSettings` (0.01 by default; their error is O(dt)).
* Correlation measures (Figs 4b, 4c, 5, 6b) are properties of initial states, computed
  with :mod:`lindblad.correlations`: the logarithmic negativity ``E_N`` in nats (eq F12),
  the Gaussian discord ``D_G`` and the qubit discord ``D_Z`` in bits (eqs F1-F8).

Conventions (DESIGN.md section 3): hbar = k_B = 1, time in 1/gamma, flux in
hbar omega gamma, ``J > 0`` when heat flows into the reservoir.  **Qubit fluxes are
physical** (``H = (omega/2) sigma_z``): the paper's Sec. VI qubit curves are twice these;
every qubit flux plot says so.  ``rho23`` is the paper's symbol of eq 41 (4x the matrix
element).

Choices the paper leaves open
-----------------------------
* Fig. 2: the reservoir is at ``T = 1`` (the paper's value); the initial temperatures
  ``T_S`` are not listed, we use ``T_S = 0.25, 0.5, 2, 4`` (two below, two above ``T``).
* Fig. 5: the caption has (a) = ``D_G``, (b) = ``E_N`` (the text says the opposite); we
  follow the caption.
* Fig. 6: the caption's ``xi_S = 0.25`` (the text says ``xi_S = 0``).
* Fig. 7: ``N_S = 0.1, 0.5, 1, 5``.
* Boundaries of the physical states (eq D2 for eq 31, eq 42 for eq 41) come from closed
  forms (:func:`lowest_uncertainty_eigenvalue`, :func:`class_half_width`), never from
  bisecting a numerical check.  Sampled class members (Figs 4b, 4c, 6b) lie
  :data:`BOUNDARY_RTOL` x scale inside; the only states exactly on a boundary are those the
  paper puts there (``|C13 + C24| = 2 N_S``, ``|rho23| = 1 - xi_S^2`` with ``Im rho23 = 0``),
  whose lowest eigenvalue is exactly 0 with exactly representable entries.
* Release times ``tau_p`` from an engine: the engine's flux at ``t_k`` is the energy
  released during the step ``[t_k, t_k + dt]`` divided by ``dt``, so its exact running
  integral is the step sum ``Q(t_k) = dt sum_{j<k} J_j = U(0) - U(t_k)``.  That is the
  default (``rule="step"``); the trapezoid rule on the same samples is biased by
  ``J(0) dt / 2``, which becomes a large ``tau_p`` error where ``J`` is small (both are
  reported in REPORT.md).  ``Q(inf)`` is eq 11.
"""

from .analysis import (
    BOUNDARY_RTOL,
    FIG2_T,
    FIG2_T_S,
    FIG3A_C,
    FIG3B_RHO23,
    FIG7_N_S,
    N_S,
    P_VALUES,
    QUBIT_SCALE_NOTE,
    STATIONARY_C_SUMS,
    XI_S,
    class_half_width,
    cov31,
    cov31_scale,
    local_extrema,
    lowest_uncertainty_eigenvalue,
    physical_mask,
    qubit_class_half_width,
    release_times_from_flux,
)
from .compute import stationary_points_check
from .figures import (
    figure_2,
    figure_3a,
    figure_3b,
    figure_4a,
    figure_4b,
    figure_4c,
    figure_5a,
    figure_5b,
    figure_5c,
    figure_6a,
    figure_6b,
    figure_7,
)
from .report import FIGURES, STATIONARY_STEP, Report, make_all
from .results import (
    FLUX_KEYS,
    ClassRangeFigure,
    DensityMapFigure,
    DomainFigure,
    FigureResult,
    FluxFigure,
    FluxPanel,
    ReleaseTimeFigure,
    StationaryCheck,
)
from .settings import FigureSettings

__all__ = [
    "BOUNDARY_RTOL",
    "FIG2_T",
    "FIG2_T_S",
    "FIG3A_C",
    "FIG3B_RHO23",
    "FIG7_N_S",
    "FIGURES",
    "FLUX_KEYS",
    "N_S",
    "P_VALUES",
    "QUBIT_SCALE_NOTE",
    "STATIONARY_C_SUMS",
    "STATIONARY_STEP",
    "XI_S",
    "ClassRangeFigure",
    "DensityMapFigure",
    "DomainFigure",
    "FigureResult",
    "FigureSettings",
    "FluxFigure",
    "FluxPanel",
    "ReleaseTimeFigure",
    "Report",
    "StationaryCheck",
    "class_half_width",
    "cov31",
    "cov31_scale",
    "figure_2",
    "figure_3a",
    "figure_3b",
    "figure_4a",
    "figure_4b",
    "figure_4c",
    "figure_5a",
    "figure_5b",
    "figure_5c",
    "figure_6a",
    "figure_6b",
    "figure_7",
    "local_extrema",
    "lowest_uncertainty_eigenvalue",
    "make_all",
    "physical_mask",
    "qubit_class_half_width",
    "release_times_from_flux",
    "stationary_points_check",
]
