"""The thermodynamic ledger of a delayed collision model: energy, heat and switching work
with the ancillas in flight.

With travel times between collisions (:mod:`collision.plans.delay`) the engines run the
subsystems at different process steps, so there is no joint state of the subsystems and
the leaving ancillas at equal times before the end of the run, and an ancilla between
two collisions has neither left nor stayed.  What *is* defined at every real time is the
energy: the subsystems' energy is a sum of local terms (a delayed model's Hamiltonian is
local), each read at its own process step, and every ancilla's reduced state between two
of its collisions is the one it left the earlier collision in (nothing else acts on it).

In flight.  Ancilla ``j`` of stream ``r`` meets the stream's collisions ``c_1 .. c_K`` at
real steps ``j + o_1 <= ... <= j + o_K`` (``o_1 = 0``, the offsets of
:mod:`collision.plans.delay`).  At real time ``t = s dt`` it is *in flight* when it has
met ``c_1`` and not yet ``c_K``: between ``c_k`` and ``c_{k+1}`` for
``j + o_k < s <= j + o_{k+1}`` (an ancilla in flight at ``t = 0`` is fresh, as in the
engines).  Its energy is ``Tr[H_r rho_j]`` with ``rho_j`` its state after ``c_k``.

Definitions, per unit time over the step from a saved real time ``t = s dt``:

``in_flight_energy``
    ``F(t) = sum_r sum_{j in flight} (Tr[H_r rho_j] - Tr[H_r eta_r])``: the energy the
    ancillas in flight have taken up from the subsystems (zero at ``t = 0`` and without
    delay; measured from the incoming energy, so that neither the fresh ancillas queued
    at ``t = 0`` nor a delay capped at the run's length change it).
``energy``
    ``E(t) = Tr[H rho_S(t)] + F(t)``: the subsystems' energy at equal times plus the
    energy in flight.
``heat[r]``
    ``Q_r = (Tr[H_r rho_out] - Tr[H_r eta_r]) / dt`` with ``rho_out`` the state of the
    ancilla that leaves stream ``r`` for good in the step (after ``c_K``), the Result's
    ``heat``: heat is counted when the energy leaves, not when an ancilla picks it up.
``work``
    ``W = (E(t + dt) - E(t)) / dt + sum_r Q_r``.  The first law is exact at every step:
    subsystems + all ancillas of the register (fresh, in flight, leaving) are closed but
    for the collisions switched on and off, the free evolution conserves ``H`` and does
    not touch the ancillas, and a fresh ancilla brings exactly ``Tr[H_r eta_r]``, so
    ``W dt`` is the energy the collisions of the step add to subsystems + ancillas,
    ``sum_c Tr[(h_i + H_r)(U_c X U_c^dag - X)]`` over the step's collisions (each in the
    state ``X`` it meets).  Zero, to rounding, when every collision conserves ``h_i +
    H_r``; without the energy in flight ``E`` would miss what the ancillas carry between
    two subsystems and the balance would fail by ``dF/dt``.
``heat_total[r]``, ``work_total``
    Sums over every real step before ``t`` (``work_total = E(t) - E(0) + sum_r
    heat_total[r]``).

Entropies (``entropy``, ``entropy_production`` and its forms, ``relative_entropy``,
``correlations``) are ``None``: they are functions of the joint state of the subsystems
and the ancillas in flight at equal times, which the process-time run never holds (the
register of ancillas in flight grows with the delay), and the entropy of the subsystems
alone is not a sum of local terms.

This module is the transform the delayed engines consume
(:mod:`collision.engines.general`): :func:`energy_ops` are the local energies they
record with the observables, the schedule with probes
(:func:`collision.plans.delay.with_probes`) records every ancilla's energy after each
collision it leaves in flight, :func:`series` turns the records into the ledger's series,
:func:`assemble` (density engine) into the :class:`~collision.thermo.Ledger` and
:func:`trajectory_rows` (trajectories) into per-trajectory columns whose means and
standard errors are the ledger's (:mod:`collision.thermo_trajectories`).  Trajectories
run the process-time segments with one more process step (the energy after the last
saved step), so their ``final_state`` draws differ from a run without the ledger of the
same seed (same distribution).
"""

from __future__ import annotations

import numpy as np

from ._operators import embed
from .plans.general import GeneralPlan
from .thermo import Ledger, thermal_beta, traced_streams


def energy_ops(plan: GeneralPlan) -> np.ndarray:
    """``(n, D, D)``: subsystem ``i``'s local energy ``h_i`` on the joint space
    (:attr:`collision.plans.delay.DelaySchedule.local_h`), read at its own process step."""
    sched = plan.delay
    return np.array([embed(h, (i,), plan.dims) for i, h in enumerate(sched.local_h)],
                    dtype=np.complex128).reshape(len(plan.dims), plan.dim, plan.dim)


def energy_offset(plan: GeneralPlan) -> float:
    """``Tr[H rho] - sum_i Tr[h_i rho_i]`` for every state: ``-(n - 1) Tr[H] / D``."""
    if plan.hamiltonian is None:
        return 0.0
    n = len(plan.dims)
    return -(n - 1) * float(np.real(np.trace(plan.hamiltonian))) / plan.dim


def n_complete(sched, real: np.ndarray, done: int, finished: bool) -> int:
    """How many saved real steps ``real`` have every record the ledger reads (process
    steps ``< done``; the state after the last one when ``finished``)."""
    last_row = sched.p_end if finished else done - 1
    ok = real + 1 - int(sched.sigma.min()) <= last_row
    return int(np.argmin(ok)) if not ok.all() else real.size


def _along(x: np.ndarray) -> np.ndarray:
    """``[0, x_0, x_0 + x_1, ...]`` along the last axis."""
    return np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)


def series(plan: GeneralPlan, sched, local: np.ndarray, leaving: np.ndarray,
           probed: np.ndarray, n_saved: int, streams: list[int]) -> dict:
    """The ledger's series at the first ``n_saved`` saved times from per-process-step
    records (row ``p - p_start``), with any leading axes (trajectories).

    Parameters
    ----------
    local : ndarray, shape (..., n_rows, n)
        ``Tr[h_i rho]`` before every process step (and after the last).
    leaving : ndarray, shape (..., n_rows, n_streams)
        The energy gain of every stream's leaving ancilla over a fresh one.
    probed : ndarray, shape (..., n_rows, n_probes)
        The energy gain of every probe's ancilla (zero where the probe did not run).
    streams : list of int
        The streams whose heat the first law sums (and whose ``heat_total`` is given).

    Returns
    -------
    dict
        ``energy``, ``in_flight_energy``, ``work``, ``work_total`` (shape ``(...,
        n_saved)``) and ``heat_total`` (stream index to such an array).
    """
    origin = sched.p_start
    real = np.arange(n_saved) * plan.save_every
    steps = np.arange(int(real[-1]) + 2 if n_saved else 0)  # real steps 0 .. last + 1
    lead = local.shape[:-2]
    energy = np.full(lead + (steps.size,), energy_offset(plan))
    for i, sigma in enumerate(sched.sigma):
        energy = energy + local[..., steps - sigma - origin, i]
    flight = np.zeros(lead + (steps.size,))
    for q, (_, _, o_k, o_next) in enumerate(sched.probes):
        cum = _along(probed[..., q])
        flight = flight + cum[..., steps - o_k - origin] - cum[..., steps - o_next - origin]
    energy = energy + flight
    heat_steps = {r: leaving[..., steps[:-1] - sched.heat_offsets[r] - origin, r]
                  for r in streams}
    heat_total = {r: _along(q)[..., real] for r, q in heat_steps.items()}
    q_sum = sum(heat_steps.values(), np.zeros(lead + (max(steps.size - 1, 0),)))
    return {"energy": energy[..., real], "in_flight_energy": flight[..., real],
            "work": (energy[..., real + 1] - energy[..., real] + q_sum[..., real]) / plan.dt,
            "work_total": energy[..., real] - energy[..., :1]
            + sum(heat_total.values(), np.zeros(lead + (n_saved,))),
            "heat_total": heat_total}


def assemble(plan: GeneralPlan, sched, rec_energy_ops: np.ndarray, rec_energy: np.ndarray,
             n_saved: int) -> Ledger:
    """The :class:`Ledger` of a delayed density run at its first ``n_saved`` saved times.

    Parameters
    ----------
    plan : GeneralPlan
    sched : collision.plans.delay.DelaySchedule
        The schedule with probes that ran.
    rec_energy_ops : ndarray, shape (n_proc + 1, n)
        ``Tr[h_i rho_p]`` before every process step ``p`` (row ``p - p_start``) and after
        the last.
    rec_energy : ndarray, shape (n_proc + 1, n_streams + n_probes)
        The leaving ancilla's energy of every stream, then every probe's ancilla energy
        (the incoming energy where the probe's collision did not run), per process step.
    """
    n_streams = len(plan.streams)
    beta, heat_streams, all_energy = {}, [], True
    for r, d in traced_streams(plan):
        has = bool(plan.has_energy[r])
        all_energy &= has
        beta[plan.streams[r]] = thermal_beta(plan.etas[r, :d, :d], plan.stream_energies[
            r, :d, :d] if has else None)
        if has:
            heat_streams.append(r)
    probe_fresh = plan.fresh_energy[sched.probes[:, 0]]
    out = series(plan, sched, rec_energy_ops.real,
                 rec_energy[:, :n_streams].real - plan.fresh_energy[None, :],
                 rec_energy[:, n_streams:].real - probe_fresh[None, :], n_saved, heat_streams)
    return Ledger(energy=out["energy"], entropy=None,
                  work=out["work"] if all_energy else None, entropy_production=None,
                  entropy_production_clausius=None, relative_entropy=None,
                  correlations=None, beta=beta,
                  heat_total={plan.streams[r]: q for r, q in out["heat_total"].items()},
                  work_total=out["work_total"] if all_energy else None,
                  entropy_production_total=None, in_flight_energy=out["in_flight_energy"])


def trajectory_rows(layout: dict, plan: GeneralPlan, sched, local: np.ndarray,
                    energy: np.ndarray) -> np.ndarray:
    """Per-trajectory ledger quantities of a delayed run, shape ``(b, n_columns,
    n_saved)``, in the columns of :func:`collision.thermo_trajectories.ledger_rows`
    followed by ``in_flight_energy``.

    ``local`` ``(b, n_rows, n)``: each trajectory's ``<psi|h_i|psi>`` per process step;
    ``energy`` ``(b, n_rows, n_streams + n_probes)``: the energy gain, over the level
    drawn for it, of every stream's leaving ancilla and every probe's ancilla (the
    kernel's unbiased estimators).  Every column is linear in these records, so it is an
    unbiased estimator of the density ledger's."""
    n_streams = len(plan.streams)
    names = list(plan.streams)
    heat_streams = [names.index(r) for r in layout["heat_streams"]]  # a stream without
    out = series(plan, sched, local.real, energy[:, :, :n_streams],  # collisions: no heat
                 energy[:, :, n_streams:], plan.times.size, heat_streams)
    cols = [out["energy"]]
    if layout["work"]:
        cols += [out["work"], out["work_total"]]
    cols += [out["heat_total"][r] for r in heat_streams]
    cols.append(out["in_flight_energy"])
    return np.stack(cols, axis=1)


__all__ = ["assemble", "energy_ops", "energy_offset", "n_complete", "series",
           "trajectory_rows"]
