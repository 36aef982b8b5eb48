"""The thermodynamic ledger estimated by Monte Carlo trajectories.

The trajectory engine (:mod:`collision.engines.general`) estimates the ledger's
quantities that are expectation values (:mod:`collision.thermo`): the energy ``E(t) =
<H>``, the heat ``Q_r`` into each stream, the switching work ``W`` and the cumulative
sums ``Q_r(t)``, ``W(t)``.  The entropies are functions of the density matrix, not means
over trajectories, and are not estimated (their :class:`~collision.thermo.Ledger` fields
are ``None``).

Per trajectory, with ``psi`` its state before the step from a saved time and ``psi'``
after it (the leaving ancillas measured, the state collapsed), the kernel
(:func:`collision._kernels.general.trajectory`) records ``<psi|H|psi>``, ``<psi'|H|psi'>``
and, for every stream, the energy its ancillas carried away in expectation over the
measurement over every step before (the same unbiased estimator as the heat).  Averaged
over the measurement outcomes and the drawn ancilla levels, ``<psi'|H|psi'>`` is
``Tr[H rho']`` with ``rho'`` the density engine's state after the step, so every
per-trajectory value below is an unbiased estimator of the density ledger's:

    work       = (<psi'|H|psi'> - <psi|H|psi>) / dt + sum_r q_r
    work_total = <psi(t)|H|psi(t)> - <psi(0)|H|psi(0)> + sum_r q_r(t)

(``q_r`` the trajectory's heat into stream ``r`` over the step, ``q_r(t)`` its sum over
the steps before ``t``).  They are formed per trajectory before the statistics, so their
standard errors include every correlation between the terms.

This module is the transform the engine consumes: :func:`ledger_hamiltonian` is the
energy operator on the engine's state, :func:`ledger_rows` turns the kernel's records
into per-trajectory quantities, :func:`ledger_from_moments` the means and standard
errors into a :class:`~collision.thermo.Ledger`; :func:`ledger_layout` is the record of
the columns kept in a result's ``parameters["thermodynamics"]`` (so merged results
rebuild their ledger).
"""

from __future__ import annotations

import numpy as np

from .plans.general import GeneralPlan
from .thermo import Ledger, LedgerErrors, engine_hamiltonian, thermal_beta, traced_streams


def ledger_hamiltonian(plan: GeneralPlan) -> np.ndarray:
    """The energy operator on the trajectory engine's state, ``(D, D)`` complex
    (:func:`collision.thermo.engine_hamiltonian`: with memory, the carried ancillas'
    energy included)."""
    return engine_hamiltonian(plan)


def ledger_layout(plan: GeneralPlan) -> dict:
    """The ledger's columns for ``parameters["thermodynamics"]`` (JSON-plain).

    Keys: ``"heat_streams"`` (streams with a Hamiltonian, the Result's ``heat``),
    ``"traced"`` (their subset whose ancillas leave in a step: the first law's sum),
    ``"work"`` (every leaving stream has a Hamiltonian), ``"beta"`` (each leaving
    stream's inverse temperature, :func:`collision.thermo.thermal_beta`, or ``None``),
    ``"in_flight"`` (with delay: the energy in flight is the last column,
    :mod:`collision.thermo_delay`).
    """
    heat_streams = [r for r, has in zip(plan.streams, plan.has_energy, strict=True) if has]
    traced, beta, work = [], {}, True
    for r, d in traced_streams(plan):
        name = plan.streams[r]
        has = bool(plan.has_energy[r])
        work &= has
        beta[name] = thermal_beta(plan.etas[r, :d, :d], plan.stream_energies[r, :d, :d]
                                  if has else None)
        if has:
            traced.append(name)
    return {"heat_streams": heat_streams, "traced": traced, "work": bool(work),
            "beta": beta, "in_flight": plan.delay is not None}


def n_columns(layout: dict) -> int:
    """Statistics quantities the ledger adds: energy, heat_total per heat stream, and
    work, work_total when defined; with delay the energy in flight last
    (:func:`collision.thermo_delay.trajectory_rows`)."""
    return (1 + len(layout["heat_streams"]) + (2 if layout["work"] else 0)
            + (1 if layout.get("in_flight") else 0))


def ledger_rows(layout: dict, streams: list[str], dt: float, energy: np.ndarray,
                records: np.ndarray) -> np.ndarray:
    """Per-trajectory ledger quantities, shape ``(b, n_columns, n_saved)``.

    Parameters
    ----------
    layout : dict
        :func:`ledger_layout`.
    streams : list of str
        All stream names, in the kernel's order.
    dt : float
    energy : ndarray, shape (b, n_saved, n_streams)
        Each trajectory's energy into each stream over the step from a saved time.
    records : ndarray, shape (b, n_saved, 2 + n_streams)
        The kernel's ledger records (module docstring).
    """
    before, after = records[:, :, 0], records[:, :, 1]
    cum = {r: records[:, :, 2 + streams.index(r)] for r in layout["heat_streams"]}
    cols = [before]
    if layout["work"]:
        q = sum((energy[:, :, streams.index(r)] for r in layout["traced"]),
                np.zeros_like(before))
        total = sum((cum[r] for r in layout["traced"]), np.zeros_like(before))
        cols += [(after - before + q) / dt, before - before[:, :1] + total]
    cols += [cum[r] for r in layout["heat_streams"]]
    return np.stack(cols, axis=1)


def ledger_from_moments(layout: dict, mean: np.ndarray, err: np.ndarray,
                        heat: dict[str, np.ndarray],
                        heat_err: dict[str, np.ndarray]) -> Ledger:
    """The :class:`Ledger` (entropies ``None``) from the means and standard errors of the
    :func:`ledger_rows` columns, each ``(n_columns, n_saved)``; ``heat``, ``heat_err``
    are the Result's heat and its standard errors."""
    def split(values):
        out = {"energy": values[0].copy(), "work": None, "work_total": None}
        k = 1
        if layout["work"]:
            out["work"], out["work_total"] = values[1].copy(), values[2].copy()
            k = 3
        out["heat_total"] = {r: values[k + j].copy()
                             for j, r in enumerate(layout["heat_streams"])}
        out["in_flight"] = values[-1].copy() if layout.get("in_flight") else None
        return out

    m, e = split(mean), split(err)
    return Ledger(energy=m["energy"], entropy=None, work=m["work"],
                  entropy_production=None, entropy_production_clausius=None,
                  relative_entropy=None, correlations=None, beta=dict(layout["beta"]),
                  heat_total=m["heat_total"], work_total=m["work_total"],
                  entropy_production_total=None,
                  heat={r: q.copy() for r, q in heat.items()},
                  stderr=LedgerErrors(energy=e["energy"],
                                      heat={r: q.copy() for r, q in heat_err.items()},
                                      work=e["work"], heat_total=e["heat_total"],
                                      work_total=e["work_total"],
                                      in_flight_energy=e["in_flight"]),
                  in_flight_energy=m["in_flight"])
