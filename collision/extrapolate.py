"""Richardson extrapolation in the time step: second order in dt for the deterministic
engines.

Every engine's error is first order, ``J(dt) = J + c dt + O(dt^2)`` with the same
``c`` at every saved time (the tests fit the order).  Two runs, at ``dt`` and at
``dt / 2`` (twice the steps between saved times, so the saved times coincide), give

* ``J_R = 2 J(dt/2) - J(dt) = J + O(dt^2)``, the extrapolated result, and
* ``J(dt) - J(dt/2) = c dt / 2 + O(dt^2)``, an estimate of the error of ``J(dt/2)``;
  the extrapolated result is a further order smaller, so this is a conservative error
  bar against the continuum limit (the tests check it bounds the true error).

Cost: the ``dt / 2`` run plus the ``dt`` run, 1.5x the cost of the ``dt / 2`` run
alone.  Everything linear in the state extrapolates the same way (fluxes, energy in
flight, ``final_state``), but ``2 rho(dt/2) - rho(dt)`` is not a completely positive
map of ``rho0``: the extrapolated state is Hermitian with unit trace and may have
eigenvalues below zero of order ``dt^2``.  The same holds for the heat counting
statistics (:func:`richardson_statistics`): ``2 P(q, t; dt/2) - P(q, t; dt)`` sums to 1
at every time but may dip below zero by ``O(dt^2)`` where ``P`` is close to 0; its
cumulants are computed from it (second order as well).  Monte Carlo results are not extrapolated
(their statistical error is usually larger than the bias, and the difference of two
runs would double the variance).
"""

from __future__ import annotations

import numpy as np

from lindblad.counting import HeatStatistics
from lindblad.fluxes import HeatFluxes


def _check_times(coarse_t: np.ndarray, fine_t: np.ndarray) -> int:
    """The number of coarse saved times, after checking the fine run has them."""
    n = coarse_t.size
    if fine_t.size < n or not np.allclose(fine_t[:n], coarse_t, rtol=0, atol=1e-9):
        raise ValueError("the dt/2 run does not contain the saved times of the dt run")
    return n


def _extrapolated_parameters(coarse, fine) -> dict:
    return {**fine.parameters, "extrapolate": True, "dt": coarse.parameters.get("dt"),
            "save_every": coarse.parameters.get("save_every"),
            "extrapolation": "Richardson 2 X(dt/2) - X(dt)"}


def richardson(coarse: HeatFluxes, fine: HeatFluxes) -> HeatFluxes:
    """``2 fine - coarse`` on the coarse run's saved times, with ``dt_error`` =
    ``coarse - fine`` (module docstring).

    Parameters
    ----------
    coarse, fine : HeatFluxes
        Runs at ``dt`` and ``dt / 2`` whose saved times agree (the fine run may have
        more of them at the end).
    """
    n = _check_times(coarse.t, fine.t)

    def combine(a, b):
        return None if a is None or b is None else 2 * b - a

    in_flight = combine(coarse.in_flight, None if fine.in_flight is None
                        else fine.in_flight[:, :n])
    final = None
    if coarse.final_state is not None and fine.final_state is not None and fine.t.size == n:
        final = combine(coarse.final_state, fine.final_state)
    out = HeatFluxes(coarse.t, 2 * fine.local[:, :n] - coarse.local,
                     2 * fine.correlated[:, :n] - coarse.correlated, in_flight=in_flight,
                     partial=coarse.partial or fine.partial, final_state=final,
                     parameters=_extrapolated_parameters(coarse, fine))
    out.dt_error = HeatFluxes(coarse.t, coarse.local - fine.local[:, :n],
                              coarse.correlated - fine.correlated[:, :n])
    return out


def richardson_statistics(coarse: HeatStatistics, fine: HeatStatistics) -> HeatStatistics:
    """``2 fine - coarse`` of the counting statistics on the coarse run's saved times:
    the probabilities (and the joint distribution of independent reservoirs), with the
    cumulants computed from them; ``dt_error`` = ``coarse - fine`` of the probabilities,
    the cumulants and the joint distribution (module docstring).

    Parameters
    ----------
    coarse, fine : HeatStatistics
        Density-engine runs at ``dt`` and ``dt / 2`` on the same quanta grid whose saved
        times agree (the fine run may have more of them at the end).
    """
    n = _check_times(coarse.t, fine.t)
    joint = error_joint = None
    if coarse.joint is not None:
        joint = 2 * fine.joint[:n] - coarse.joint
        error_joint = coarse.joint - fine.joint[:n]
    out = HeatStatistics(coarse.t, coarse.quanta,
                         2 * fine.probabilities[:n] - coarse.probabilities, joint=joint,
                         local_quanta=coarse.local_quanta,
                         partial=coarse.partial or fine.partial,
                         parameters=_extrapolated_parameters(coarse, fine))
    out.dt_error = HeatStatistics(coarse.t, coarse.quanta,
                                  coarse.probabilities - fine.probabilities[:n],
                                  cumulants=coarse.cumulants - fine.cumulants[:n],
                                  joint=error_joint, local_quanta=coarse.local_quanta)
    return out
