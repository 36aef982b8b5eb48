"""A travel time between consecutive collisions of a stream, for general collision models.

With delays, the ancilla of stream ``r`` that leaves its ``k``-th collision reaches the
next one ``m_k`` steps later: ancilla ``j`` meets collision ``c`` at real step
``j + o_c`` (``o_c`` the sum of the delays before ``c`` along its stream; the ancillas in
flight at ``t = 0`` are fresh).  When

* every collision acts on one subsystem,
* the subsystems' Hamiltonian is a sum of local terms, and
* all collisions on one subsystem have the same offset ``sigma_i``,

operations on different subsystems commute except through the ancillas, and the run can
be reordered by ancilla (the *process step* ``p``: ancilla ``p`` meets its collisions in
their order, each subsystem then evolves by its own ``exp(-i H_i dt)``), keeping every
subsystem's and every ancilla's order.  Subsystem ``i`` is active from ``p = -sigma_i``
on; at process step ``p`` it is at real step ``p + sigma_i``.  So a delayed run is the
step program of :mod:`collision.plans.general` on the *active* subsystems, segment by
segment (the active set changes only where a subsystem starts), and a subsystem's
observable at real step ``s`` is read at process step ``s - sigma_i``, the heat a stream
carries away at real step ``s`` from the ancilla that met its last collision there
(process step ``s - o_last``).  The equal-time state at the last saved step ``S``
branches off at ``p = S - max sigma`` and runs the end phases, in which subsystem ``i``
stops at ``p = S - sigma_i`` (the exchange engines do the same for the paper's cascade,
:mod:`collision.delay`).  A delay beyond the run is capped at the run's length: the
subsystems behind it only ever meet fresh ancillas.  The cost grows with the delay only
through the process steps of the start phases, in which the subsystems run alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._operators import embed
from .general import compile_step

#: Tolerance of the locality checks, relative to the operator's largest entry.
LOCAL_RTOL = 1e-12


def local_parts(op: np.ndarray, dims: tuple[int, ...]) -> list[np.ndarray]:
    """``h_i = Tr_{others}(op) / (D / d_i)`` for every subsystem ``i``: the local terms of
    ``op`` when it is a sum of them (up to a multiple of the identity)."""
    n = len(dims)
    t = op.reshape(dims + dims)
    out = []
    for i in range(n):
        keep = [k for k in range(n) if k != i]
        part = np.einsum(t, list(range(n)) + [n + k if k == i else k for k in range(n)],
                         [i, n + i]) if keep else t
        out.append(part * dims[i] / math.prod(dims))
    return out


def is_sum_of_local(op: np.ndarray, dims: tuple[int, ...]) -> bool:
    """Whether ``op`` is a sum of operators on single subsystems (to :data:`LOCAL_RTOL`)."""
    parts = local_parts(op, dims)
    rebuilt = sum(embed(h, (i,), dims) for i, h in enumerate(parts))
    rebuilt = rebuilt - (len(dims) - 1) * np.trace(op) / op.shape[0] * np.eye(op.shape[0])
    scale = max(1.0, float(np.max(np.abs(op))))
    return float(np.max(np.abs(op - rebuilt))) <= LOCAL_RTOL * scale


def site_of(op: np.ndarray, dims: tuple[int, ...]) -> int | None:
    """The subsystem an operator acts on alone (0 for a multiple of the identity), or None."""
    scale = max(1.0, float(np.max(np.abs(op))))
    for i, h in enumerate(local_parts(op, dims)):
        if float(np.max(np.abs(op - embed(h, (i,), dims)))) <= LOCAL_RTOL * scale:
            return i
    return None


@dataclass(frozen=True)
class DelaySchedule:
    """The process-time run of a delayed general model (module docstring).

    Attributes
    ----------
    sigma : ndarray of int64, shape (n,)
        Each subsystem's offset in steps (capped at the run's length).
    p_start, p_end : int
        The process steps of the flux run, ``p_start <= p < p_end``.
    segments : list of (p0, p1, StepProgram)
        The flux run: the program of the subsystems active on ``p0 <= p < p1``.
    branch : int
        Where the equal-time state branches off the flux run.
    end_segments : list of (p0, p1, StepProgram)
        The end phases, from ``branch`` to the equal-time state.
    e_sites : ndarray of int64
        The subsystem of every observable.
    heat_offsets : ndarray of int64
        Every stream's offset of its last collision (its leaving ancilla).
    local_h : list of ndarray
        The local parts ``h_i`` of the subsystems' Hamiltonian (:func:`local_parts`;
        ``H = sum_i h_i - (n - 1) Tr[H] / D``).
    probes : ndarray of int64, shape (n_probes, 4)
        With the ledger (:func:`with_probes`): per ``PROBE`` stage its stream, its output
        column, the offset of the collision it follows and that of the stream's next
        collision (the ancilla is in flight between them); empty otherwise.
    build : dict
        The arguments of :func:`schedule` (to compile the run again with probes).
    """

    sigma: np.ndarray
    p_start: int
    p_end: int
    segments: list
    branch: int
    end_segments: list
    e_sites: np.ndarray
    heat_offsets: np.ndarray
    local_h: list
    probes: np.ndarray
    build: dict

    @property
    def max_size(self) -> int:
        return max(p.max_size for _, _, p in [*self.segments, *self.end_segments])


def _programs(bounds, active_at, dims, stream_dims, collisions, local_h, dt, probes):
    """``[(p0, p1, program)]`` over consecutive ``bounds``, each with the collisions and
    local Hamiltonians of the subsystems ``active_at(p0)`` (``probes``: ``{collision
    index: output column}``)."""
    out, cache = [], {}
    for p0, p1 in zip(bounds[:-1], bounds[1:], strict=True):
        if p1 <= p0:
            continue
        active = tuple(sorted(active_at(p0)))
        if active not in cache:
            kept = [j for j, c in enumerate(collisions) if c[0][0] in active]
            h = sum((embed(local_h[i], (i,), dims) for i in active),
                    np.zeros((math.prod(dims),) * 2, dtype=complex))
            cache[active] = compile_step(dims, stream_dims, [collisions[j] for j in kept], h,
                                         dt, probes={k: probes[j] for k, j in enumerate(kept)
                                                     if j in probes})
        out.append((p0, p1, cache[active]))
    return out


def schedule(dims: tuple[int, ...], stream_dims: list[int], collisions: list[tuple],
             hamiltonian: np.ndarray, dt: float, offsets: list[int], n_steps: int,
             last_saved: int, e_sites: list[int], heat_offsets: list[int],
             probe_column: int | None = None) -> DelaySchedule:
    """The :class:`DelaySchedule` of a run (module docstring).

    ``collisions`` as for :func:`collision.plans.general.compile_step` (each on one
    subsystem), ``offsets`` the offset of each collision in steps, ``n_steps`` the real
    steps of the run and ``last_saved`` the real step of the equal-time state;
    ``probe_column``: compile the ledger's probes (:func:`with_probes`), their output
    columns from this one on.
    """
    build = {"dims": dims, "stream_dims": stream_dims, "collisions": collisions,
             "hamiltonian": hamiltonian, "dt": dt, "offsets": offsets, "n_steps": n_steps,
             "last_saved": last_saved, "e_sites": e_sites, "heat_offsets": heat_offsets}
    n = len(dims)
    sigma = np.zeros(n, dtype=np.int64)
    for (subs, *_), o in zip(collisions, offsets, strict=True):
        sigma[subs[0]] = o
    local_h = local_parts(np.asarray(hamiltonian, dtype=complex), dims)
    probes, rows = {}, []
    if probe_column is not None:  # after every collision that an ancilla leaves in flight
        for j, (_, _, r, _) in enumerate(collisions):
            later = [k for k in range(j + 1, len(collisions)) if collisions[k][2] == r]
            if later and offsets[later[0]] > offsets[j]:
                probes[j] = probe_column + len(rows)
                rows.append((r, probes[j], offsets[j], offsets[later[0]]))
    p_start = -int(sigma.max())
    p_end = n_steps - int(sigma.min())
    starts = sorted({p_start, p_end, *(-int(s) for s in sigma)})
    segments = _programs(starts, lambda p: [i for i in range(n) if p >= -sigma[i]], dims,
                         stream_dims, collisions, local_h, dt, probes)
    branch = last_saved - int(sigma.max())
    stop = last_saved - int(sigma.min())
    stops = sorted({branch, stop, *(p for s in sigma for p in (last_saved - int(s), -int(s))
                                    if branch <= p <= stop)})
    ends = _programs(stops, lambda p: [i for i in range(n) if -sigma[i] <= p < last_saved
                                       - sigma[i]], dims, stream_dims, collisions, local_h,
                     dt, {})
    return DelaySchedule(sigma, p_start, p_end, segments, branch, ends,
                         np.asarray(e_sites, dtype=np.int64),
                         np.asarray(heat_offsets, dtype=np.int64), local_h,
                         np.asarray(rows, dtype=np.int64).reshape(-1, 4), build)


def with_probes(sched: DelaySchedule, first_column: int, extra_steps: int = 0) -> DelaySchedule:
    """The same run with a ``PROBE`` stage after every collision that an ancilla leaves
    in flight (its stream's next collision is at a later offset), recording the ancilla's
    energy in the columns ``first_column, first_column + 1, ...`` of the engine's energy
    output (:mod:`collision.thermo_delay`); ``extra_steps`` more process steps at the end
    (the records after the last one)."""
    build = dict(sched.build, n_steps=sched.build["n_steps"] + extra_steps)
    return schedule(**build, probe_column=first_column)


__all__ = ["DelaySchedule", "is_sum_of_local", "local_parts", "schedule", "site_of",
           "with_probes"]
