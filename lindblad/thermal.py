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

from ._validate import check_array_size, choice, integer, real_scalar

BATHS = ("qubit", "boson")
SYSTEMS = ("qubit", "oscillator")


def _check_temperature(temperature: float, name: str = "temperature") -> float:
    return real_scalar(temperature, name, minimum=0.0,
                       note=" (in units of hbar omega / k_B)")


def _check_positive(value: float, name: str) -> float:
    return real_scalar(value, name, minimum=0.0, exclusive_minimum=True)


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
    n = real_scalar(n, "n", minimum=0.0, note=" (the mean occupation N)")
    omega = _check_positive(omega, "omega")
    return 0.0 if n == 0.0 else omega / math.log1p(1.0 / n)


def temperature_from_polarisation(xi: float, omega: float = 1.0) -> float:
    """Inverse of :func:`qubit_polarisation`: ``T = omega / (2 artanh(xi))``."""
    xi = real_scalar(xi, "xi", minimum=0.0, maximum=1.0, exclusive_minimum=True,
                     note=" (xi = 0 is infinite temperature)")
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
    bath = choice(bath, "bath", BATHS)
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

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    temperature : float
        In units of hbar omega / k_B, >= 0.
    omega : float
        Transition frequency, > 0.
    cutoff : int, optional
        Number of Fock levels (oscillators only, >= 2).

    Returns
    -------
    ndarray, shape (d,)
        Populations summing to 1.
    """
    temperature = _check_temperature(temperature)
    omega = _check_positive(omega, "omega")
    system = choice(system, "system", SYSTEMS)
    if system == "qubit":
        xi = qubit_polarisation(temperature, omega)
        return np.array([(1.0 + xi) / 2.0, (1.0 - xi) / 2.0])
    if cutoff is None:
        raise ValueError("an oscillator needs an integer Fock cutoff >= 2, got None")
    d = integer(cutoff, "cutoff", 2, note=" (the Fock dimension of an oscillator)")
    check_array_size((d,), 8, f"cutoff = {d}")
    n = np.arange(d)
    if temperature == 0:
        p = (n == 0).astype(float)
    else:
        p = np.exp(-omega * n / temperature)
    return p / p.sum()
