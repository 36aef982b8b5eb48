"""Exact references: the cascaded master equation (paper eqs 1-8) and the general
Lindblad master equation (:class:`MasterEquation`).

Units: hbar = k_B = 1; time in 1/gamma, temperature in hbar omega / k_B, heat flux in
hbar omega gamma, with ``J > 0`` meaning heat flows from the system into the reservoir.
"""

from . import closed_form, correlations, states, thermal
from ._version import __version__
from .closed_form import release_time
from .correlations import (
    concurrence,
    gaussian_discord,
    log_negativity,
    quantum_discord,
    trace_distance_discord,
)
from .counting import HeatStatistics
from .fluxes import FluxStandardErrors, HeatFluxes
from .gaussian import GaussianMasterEquation
from .master import MasterEquation
from .model import CascadeMasterEquation
from .thermal import (
    bath_rates,
    bose_occupation,
    qubit_polarisation,
    temperature_from_occupation,
    temperature_from_polarisation,
)

__all__ = [
    "CascadeMasterEquation",
    "FluxStandardErrors",
    "GaussianMasterEquation",
    "HeatFluxes",
    "HeatStatistics",
    "MasterEquation",
    "bath_rates",
    "bose_occupation",
    "closed_form",
    "concurrence",
    "correlations",
    "gaussian_discord",
    "log_negativity",
    "quantum_discord",
    "trace_distance_discord",
    "__version__",
    "qubit_polarisation",
    "release_time",
    "states",
    "temperature_from_occupation",
    "temperature_from_polarisation",
    "thermal",
]
