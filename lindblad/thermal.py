"""Temperatures, occupations and reservoir rates (hbar = k_B = 1).

Conventions (DESIGN.md section 3):

* bosons: ``N = 1 / (exp(omega / T) - 1)``;
* qubits: ``xi = tanh(omega / (2 T))``;
* ``T = 0`` is allowed and gives ``N = 0`` and ``xi = 1``.

The reservoir acts on every subsystem through a pair of rates ``(g_dn, g_up)``
(emission and absorption):

* boson bath (paper eq 4): ``g_dn = gamma (N + 1)``, ``g_up = gamma N``;
* qubit bath (paper eq 7): ``g_dn = gamma (1 + xi) / 2``, ``g_up = gamma (1 - xi) / 2``.
"""

from __future__ import annotations

import math

import numpy as np

BATHS = ("qubit", "boson")
SYSTEMS = ("qubit", "oscillator")


def _check_temperature(temperature: float, name: str = "temperature") -> float:
    t = float(temperature)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (in units of hbar omega / k_B), "
                         f"got {temperature!r}")
    return t


def _check_positive(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def bose_occupation(temperature: float, omega: float = 1.0) -> float:
    """Mean thermal occupation ``N = 1 / (exp(omega/T) - 1)``; 0 at ``T = 0``."""
    t = _check_temperature(temperature)
    omega = _check_positive(omega, "omega")
    if t == 0.0:
        return 0.0
    return 1.0 / math.expm1(omega / t)


def qubit_polarisation(temperature: float, omega: float = 1.0) -> float:
    """Thermal polarisation ``xi = tanh(omega / (2T))``; 1 at ``T = 0``."""
    t = _check_temperature(temperature)
    omega = _check_positive(omega, "omega")
    if t == 0.0:
        return 1.0
    return math.tanh(omega / (2.0 * t))


def temperature_from_occupation(n: float, omega: float = 1.0) -> float:
    """Inverse of :func:`bose_occupation`: ``T = omega / log(1 + 1/N)``."""
    n = float(n)
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"the occupation N must be a finite number >= 0, got {n!r}")
    omega = _check_positive(omega, "omega")
    return 0.0 if n == 0.0 else omega / math.log1p(1.0 / n)


def temperature_from_polarisation(xi: float, omega: float = 1.0) -> float:
    """Inverse of :func:`qubit_polarisation`: ``T = omega / (2 artanh(xi))``."""
    xi = float(xi)
    if not (0.0 < xi <= 1.0):
        raise ValueError(f"xi must lie in (0, 1] (xi = 0 is infinite temperature), got {xi!r}")
    omega = _check_positive(omega, "omega")
    return 0.0 if xi == 1.0 else omega / (2.0 * math.atanh(xi))


def bath_rates(bath: str, gamma: float, temperature: float,
               omega: float = 1.0) -> tuple[float, float]:
    """Emission and absorption rates ``(g_dn, g_up)`` of one subsystem.

    Parameters
    ----------
    bath : {"qubit", "boson"}
        Nature of the reservoir ancillas.
    gamma : float
        Relaxation rate (units of the inverse time unit).
    temperature : float
        Reservoir temperature (hbar omega / k_B), >= 0.
    omega : float
        Transition frequency.

    Returns
    -------
    (g_dn, g_up) : tuple of float
        Rates multiplying ``L[sigma_-]`` / ``L[a]`` and ``L[sigma_+]`` / ``L[a^dag]``.
    """
    if bath not in BATHS:
        raise ValueError(f"bath must be one of {BATHS}, got {bath!r}")
    gamma = _check_positive(gamma, "gamma")
    if bath == "boson":
        n = bose_occupation(temperature, omega)
        return gamma * (n + 1.0), gamma * n
    xi = qubit_polarisation(temperature, omega)
    return gamma * (1.0 + xi) / 2.0, gamma * (1.0 - xi) / 2.0


def thermal_populations(system: str, temperature: float, omega: float = 1.0,
                        cutoff: int | None = None) -> np.ndarray:
    """Fock populations of one thermal subsystem, ground state first.

    For an oscillator the Gibbs distribution is truncated to ``cutoff`` levels and
    renormalised (the exact Gibbs state of the truncated Hamiltonian).
    """
    _check_temperature(temperature)
    if system == "qubit":
        xi = qubit_polarisation(temperature, omega)
        return np.array([(1.0 + xi) / 2.0, (1.0 - xi) / 2.0])
    if system != "oscillator":
        raise ValueError(f"system must be one of {SYSTEMS}, got {system!r}")
    if cutoff is None or int(cutoff) != cutoff or cutoff < 2:
        raise ValueError(f"an oscillator needs an integer Fock cutoff >= 2, got {cutoff!r}")
    n = np.arange(int(cutoff))
    if temperature == 0:
        p = (n == 0).astype(float)
    else:
        p = np.exp(-omega * n / float(temperature))
    return p / p.sum()
