"""Does the rate-matched collision angle help a cascade?  (issue 12, optional item)

The collision angle is ``theta = sqrt(gamma dt)`` (:mod:`collision.model`).  The
rate-matched angle ``sin^2(theta) = 1 - exp(-gamma dt)`` makes one step of a single
subsystem exact: its populations relax by ``cos^2(theta) = exp(-gamma dt)`` per step, as in
the master equation.  This script measures, without changing the package, how much it
helps the fluxes of a cascade against the exact master-equation reference.

How the angle is substituted.  The engines use ``gamma`` only through
``theta = sqrt(gamma dt)``: every flux is an energy handed over in one step divided by
``dt`` (``(E - E(Phi(rho))) / dt``, ``omega sin^2(theta) (n_i - N) / dt``, ...), and
``dt``, ``t`` and ``omega`` are absolute.  So a model built with
``gamma' = theta_rm^2 / dt``, ``theta_rm = arcsin(sqrt(1 - exp(-gamma dt)))``, is exactly the
collision model with the rate-matched angle, and its fluxes need no rescaling
(``gamma' / gamma = 1 - gamma dt / 6 + O(dt^2)`` only changes the time-step checks).  The
reference is the master equation of the true ``gamma``.

Even with an exact state the flux of a step is not the instantaneous flux: for one
subsystem the energy handed over in a step divided by ``dt`` is
``gamma (n - N) (1 - exp(-gamma dt)) / (gamma dt)``, low by ``gamma dt / 2``.  The variant
``rate-matched, normalised`` divides the energy of a step by ``sin^2(theta) / gamma``
instead of ``dt`` (every flux multiplied by ``gamma dt / sin^2(theta)``), which makes a
single subsystem's flux exact; ``sqrt, normalised`` is the same normalisation with the
present angle.  The script checks both claims for n = 1 (to 1e-10).

Cases: qubits (qubit bath, density engine, n <= 5, thermal start T_S = 2) and oscillators
(boson bath, Gaussian engine, thermal start N_S = 1), reservoir at T = 0 and T = 1,
n = 1, 2, 3, 5, 10 subsystems, t in [0, 5] saved every 0.04, dt = 0.04, 0.02, 0.01.
Errors are the largest absolute errors over t (units hbar omega gamma) of the total flux
and of ``J_n``, the last subsystem's own flux (``subsystem[-1]``), divided by ``dt``.

Run ``python benchmarks/rate_matched_angle.py`` (under a minute).
"""

import math
import warnings

import numpy as np

from collision import AccuracyWarning, CascadeCollisionModel, GaussianCollisionModel
from collision.bench import format_rows
from lindblad import states

GAMMA = 1.0
T_MAX = 5.0
SAVE_DT = 0.04
DTS = (0.04, 0.02, 0.01)
SIZES = {"qubit": (1, 2, 3, 5), "oscillator": (1, 2, 3, 5, 10)}
TEMPERATURES = (0.0, 1.0)
VARIANTS = ("sqrt", "sqrt, normalised", "rate-matched", "rate-matched, normalised")


def rate_matched_angle(gamma_dt: float) -> float:
    """``theta`` with ``sin^2(theta) = 1 - exp(-gamma dt)``."""
    return math.asin(math.sqrt(-math.expm1(-gamma_dt)))


def build(system: str, n: int, gamma: float, temperature: float):
    """The model and its initial state (for n = 1 a chain of 2, of which S1 is used: S1
    does not feel S2, and the models need n >= 2)."""
    n = max(n, 2)
    if system == "oscillator":
        return GaussianCollisionModel(n, gamma=gamma, temperature=temperature), \
            states.gaussian_thermal(1.0, n)
    return (CascadeCollisionModel("qubit", n, gamma=gamma, temperature=temperature),
            states.product(*[states.thermal("qubit", 2.0)] * n))


def total_and_last(res, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The total flux of the first ``n`` subsystems and ``J_n``."""
    own = res.subsystem[:n]
    return own.sum(axis=0), own[-1]


def fluxes(system: str, n: int, temperature: float, dt: float, variant: str):
    """Total flux and J_n of the collision model with this variant of the angle."""
    theta = (rate_matched_angle(GAMMA * dt) if variant.startswith("rate")
             else math.sqrt(GAMMA * dt))
    model, state = build(system, n, theta**2 / dt, temperature)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        res = model.run(state, T_MAX, dt, save_every=round(SAVE_DT / dt))
    scale = GAMMA * dt / math.sin(theta) ** 2 if variant.endswith("normalised") else 1.0
    total, last = total_and_last(res, n)
    return res.t, scale * total, scale * last


def measure() -> list[dict]:
    rows = []
    for system, sizes in SIZES.items():
        for temperature in TEMPERATURES:
            for n in sizes:
                model, state = build(system, n, GAMMA, temperature)
                t = np.arange(round(T_MAX / SAVE_DT) + 1) * SAVE_DT
                ref_total, ref_last = total_and_last(
                    model.master_equation().heat_fluxes(state, t), n)
                for dt in DTS:
                    row = {"system": system, "T": temperature, "n": n, "dt": dt}
                    for variant in VARIANTS:
                        t_run, total, last = fluxes(system, n, temperature, dt, variant)
                        assert np.allclose(t_run, t, rtol=0, atol=1e-9)
                        if n == 1 and variant != "sqrt":
                            check_single(variant, dt, last, ref_last)
                        row[f"total {variant}"] = np.max(np.abs(total - ref_total)) / dt
                        row[f"J_n {variant}"] = np.max(np.abs(last - ref_last)) / dt
                    rows.append(row)
    return rows


def check_single(variant: str, dt: float, flux: np.ndarray, exact: np.ndarray) -> None:
    """One subsystem: the rate-matched state is exact, so its flux is the exact flux times
    ``(1 - exp(-gamma dt)) / (gamma dt)`` (times 1 once normalised); the present angle
    normalised is not exact."""
    if variant == "sqrt, normalised":
        return
    factor = 1.0 if variant.endswith("normalised") else -math.expm1(-GAMMA * dt) / (GAMMA * dt)
    err = np.max(np.abs(flux - factor * exact))
    assert err < 1e-10, f"{variant}, dt = {dt}: single subsystem off by {err:.2e}"


def summary(rows: list[dict]) -> list[dict]:
    """The coefficients at the smallest dt, with the ratio present / best rate-matched."""
    out = []
    for row in rows:
        if row["dt"] != min(DTS):
            continue
        entry = {k: row[k] for k in ("system", "T", "n")}
        for q in ("total", "J_n"):
            for variant in VARIANTS:
                entry[f"{q} {variant}"] = row[f"{q} {variant}"]
            entry[f"{q} ratio sqrt/rm"] = row[f"{q} sqrt"] / row[f"{q} rate-matched"]
            normalised = row[f"{q} rate-matched, normalised"]
            entry[f"{q} ratio sqrt/rm,norm"] = (row[f"{q} sqrt"] / normalised
                                                if normalised > 1e-6 else "exact")
        out.append(entry)
    return out


if __name__ == "__main__":
    rows = measure()
    print("error / dt (units hbar omega gamma^2), every dt:")
    print(format_rows(rows))
    print(f"\nat dt = {min(DTS)}, ratio = error with sqrt(gamma dt) / error rate-matched:")
    print(format_rows(summary(rows)))
