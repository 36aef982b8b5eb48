"""numba kernels of the general engines: a step program (:mod:`collision.plans.general`)
executed on a density matrix or on a state vector.

Plain loops over flat arrays; every output is allocated by the caller.  The joint state of
dimension ``n`` lives in the first ``n * n`` (density) or ``n`` (vector) entries of a
buffer; stages swap two buffers.  A stage's index table ``idx[r * d_loc + l]`` gives the
joint index of local index ``l`` and rest index ``r``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._jit import njit
from . import rng as _rng
from .atomic import fetch_add

TENSOR, UNITARY, TRACE, PROBE = 0, 1, 2, 3


# --- density matrices -----------------------------------------------------------------------

@njit
def _unitary_density(cur, n, idx, off, d_loc, n_rest, u, u_off, tmp, col):
    """``cur <- U cur U^dag`` for the stage's unitary (two gather passes through ``tmp``)."""
    for r in range(n_rest):  # left: tmp = U cur
        base = off + r * d_loc
        for j in range(n):
            for q in range(d_loc):
                acc = 0j
                for m in range(d_loc):
                    acc += u[u_off + q * d_loc + m] * cur[idx[base + m] * n + j]
                col[q] = acc
            for q in range(d_loc):
                tmp[idx[base + q] * n + j] = col[q]
    for r in range(n_rest):  # right: cur = tmp U^dag
        base = off + r * d_loc
        for i in range(n):
            row = i * n
            for q in range(d_loc):
                acc = 0j
                for m in range(d_loc):
                    acc += tmp[row + idx[base + m]] * np.conj(u[u_off + q * d_loc + m])
                col[q] = acc
            for q in range(d_loc):
                cur[row + idx[base + q]] = col[q]


@njit
def _tensor_density(cur, n, eta, d, out):
    """``out <- cur x eta`` (the ancilla the least significant factor)."""
    m = n * d
    for i in range(n):
        for a in range(d):
            row = (i * d + a) * m
            for j in range(n):
                c = cur[i * n + j]
                for b in range(d):
                    out[row + j * d + b] = c * eta[a, b]


@njit
def _trace_density(cur, n, idx, off, d, n_rest, h_anc, out):
    """``out <- Tr_anc cur``; returns ``Tr[H_anc rho_anc]`` (complex: ``cur`` need not be
    Hermitian when the step's superoperator is built column by column)."""
    for r1 in range(n_rest):
        for r2 in range(n_rest):
            acc = 0j
            for a in range(d):
                acc += cur[idx[off + r1 * d + a] * n + idx[off + r2 * d + a]]
            out[r1 * n_rest + r2] = acc
    energy = 0j
    for a in range(d):
        for b in range(d):
            h = h_anc[b, a]
            if h != 0:
                acc = 0j
                for r in range(n_rest):
                    acc += cur[idx[off + r * d + a] * n + idx[off + r * d + b]]
                energy += h * acc
    return energy


#: Bits of ``density_steps(ledger=...)``: the leaving ancillas' states, the subsystems'
#: energy and entropy.
LEDGER_ANCILLAS, LEDGER_SYSTEM = 1, 2


def no_ledger() -> tuple:
    """The ``ledger .. acc`` arguments of :func:`density_steps` that record nothing."""
    return (0, np.zeros((0, 0), dtype=np.complex128), np.zeros((0, 4)),
            np.zeros((0, 0, 0, 0), dtype=np.complex128),
            np.zeros((0, 0, 0, 0), dtype=np.complex128),
            np.zeros((0, 0, 0), dtype=np.complex128))


@njit
def entropy(rho):
    """The von Neumann entropy ``-Tr[rho ln rho]`` (nats) of a Hermitian ``rho``; eigenvalues
    at or below zero (rounding) contribute nothing."""
    total = 0.0
    for p in np.linalg.eigvalsh(rho):
        if p > 0:
            total -= p * math.log(p)
    return total


@njit
def _energy(h, rho):
    """``Re Tr[h rho]``."""
    acc = 0.0
    for i in range(rho.shape[0]):
        for j in range(rho.shape[0]):
            acc += (h[j, i] * rho[i, j]).real
    return acc


@njit
def _probe_density(cur, n, idx, off, d, n_rest, h_anc):
    """``Tr[H_anc rho_anc]`` of the factor a ``PROBE`` stage looks at (``cur`` unchanged;
    complex, as :func:`_trace_density`)."""
    energy = 0j
    for a in range(d):
        for b in range(d):
            h = h_anc[b, a]
            if h != 0:
                acc = 0j
                for r in range(n_rest):
                    acc += cur[idx[off + r * d + a] * n + idx[off + r * d + b]]
                energy += h * acc
    return energy


@njit
def _marginal(cur, n, idx, off, d, n_rest, acc, out):
    """The reduced state ``Tr_rest cur`` of the factor a ``TRACE`` stage removes: added to
    ``acc`` and, if ``out`` is not empty, written to ``out`` (both ``d x d`` or larger)."""
    for a in range(d):
        for b in range(d):
            v = 0j
            for r in range(n_rest):
                v += cur[idx[off + r * d + a] * n + idx[off + r * d + b]]
            acc[a, b] += v
            if out.shape[0]:
                out[a, b] = v


@njit
def density_steps(rho, step_first, step_stop, save_every, n_saved, kind, stream, d_loc,
                  n_rest, size, idx_offset, u_offset, idx, unitaries, etas, stream_energies,
                  e_ops, out_expect, out_energy, out_state, buf_a, buf_b, tmp, col,
                  ledger, h_sys, out_system, out_anc, out_cum, anc_sum):
    """Run steps ``step_first .. step_stop - 1`` of the density engine on ``rho`` in place.

    At every saved step ``s = k save_every`` (``k < n_saved``) it writes, before the step,
    ``out_expect[k, o] = Tr[e_ops[o] rho]`` and, during it, ``out_energy[k, r]`` the
    energy ``Tr[H_r rho_anc]`` of stream ``r``'s outgoing ancilla (complex arrays); at the
    last saved step
    ``out_state`` receives ``rho``.  A ``PROBE`` stage writes the energy of its stream's
    ancilla in play to ``out_energy[k, u_offset[st]]`` at saved steps.

    The thermodynamic ledger (:mod:`collision.thermo`), ``ledger`` a bit mask:
    ``LEDGER_ANCILLAS`` writes at saved step ``k`` the reduced state of stream ``r``'s
    leaving ancilla, ``out_anc[k, r]`` (``d_A x d_A``, zero-padded), and their sum over
    every step before it, ``out_cum[k, r]`` (kept across calls in ``anc_sum``);
    ``LEDGER_SYSTEM`` writes ``out_system[k] = (Tr[h_sys rho], S(rho), Tr[h_sys rho'],
    S(rho'))`` with ``rho`` the state before and ``rho'`` after the step (von Neumann
    entropies in nats).
    """
    dim = rho.shape[0]
    n_ops = e_ops.shape[0]
    for s in range(step_first, step_stop):
        k = s // save_every
        saving = s % save_every == 0 and k < n_saved
        if saving:
            for o in range(n_ops):
                acc = 0j
                for i in range(dim):
                    for j in range(dim):
                        acc += e_ops[o, j, i] * rho[i, j]
                out_expect[k, o] = acc
            if k == n_saved - 1:
                out_state[:, :] = rho
            if ledger & LEDGER_SYSTEM:
                out_system[k, 0] = _energy(h_sys, rho)
                out_system[k, 1] = entropy(rho)
            if ledger & LEDGER_ANCILLAS:
                out_cum[k] = anc_sum
        cur, nxt = buf_a, buf_b
        for i in range(dim):
            for j in range(dim):
                cur[i * dim + j] = rho[i, j]
        n = dim
        for st in range(kind.size):
            if kind[st] == TENSOR:
                d = d_loc[st]
                _tensor_density(cur, n, etas[stream[st]], d, nxt)
                n *= d
                cur, nxt = nxt, cur
            elif kind[st] == UNITARY:
                _unitary_density(cur, n, idx, idx_offset[st], d_loc[st], n_rest[st],
                                 unitaries, u_offset[st], tmp, col)
            elif kind[st] == PROBE:
                if saving:
                    out_energy[k, u_offset[st]] = _probe_density(
                        cur, n, idx, idx_offset[st], d_loc[st], n_rest[st],
                        stream_energies[stream[st]])
            else:
                e = _trace_density(cur, n, idx, idx_offset[st], d_loc[st], n_rest[st],
                                   stream_energies[stream[st]], nxt)
                if saving:
                    out_energy[k, stream[st]] = e
                if ledger & LEDGER_ANCILLAS:
                    r = stream[st]
                    _marginal(cur, n, idx, idx_offset[st], d_loc[st], n_rest[st],
                              anc_sum[r], out_anc[k, r] if saving else anc_sum[r, :0, :0])
                n = n_rest[st]
                cur, nxt = nxt, cur
        for i in range(dim):
            for j in range(dim):
                rho[i, j] = cur[i * dim + j]
        if saving and ledger & LEDGER_SYSTEM:
            out_system[k, 2] = _energy(h_sys, rho)
            out_system[k, 3] = entropy(rho)


# --- state vectors --------------------------------------------------------------------------

@njit
def _unitary_vector(cur, idx, off, d_loc, n_rest, u, u_off, col):
    for r in range(n_rest):
        base = off + r * d_loc
        for q in range(d_loc):
            acc = 0j
            for m in range(d_loc):
                acc += u[u_off + q * d_loc + m] * cur[idx[base + m]]
            col[q] = acc
        for q in range(d_loc):
            cur[idx[base + q]] = col[q]


@njit
def _draw(probs, d, x):
    """The index ``k < d`` with ``sum(probs[:k]) <= x < sum(probs[:k+1])`` (the last
    non-zero one when rounding leaves ``x`` above the total)."""
    acc = 0.0
    last = 0
    for k in range(d):
        if probs[k] > 0:
            last = k
            acc += probs[k]
            if x < acc:
                return k
    return last


@njit
def trajectory(psi0, state, n_steps, save_every, n_saved, kind, stream, d_loc, n_rest,
               idx_offset, u_offset, idx, unitaries, eta_probs, eta_vectors, measure,
               stream_energies, e_ops, out_expect, out_energy, final_psi, buf_a, buf_b, col,
               drawn, outcome, h_ledger, out_ledger, heat_acc):
    """One trajectory of ``n_steps`` steps from ``psi0`` with random stream ``state``.

    A joining ancilla is drawn from its state's eigen-decomposition; a leaving one is
    measured in ``measure`` (Born rule) and the subsystems' state collapsed.  At saved
    step ``k`` it writes ``out_expect[k, o] = <psi|e_ops[o]|psi>`` (before the step) and
    ``out_energy[k, r]``: the energy of stream ``r``'s outgoing ancilla in expectation
    over the measurement, ``<Psi|H_r|Psi>`` just before it, minus the energy of the level
    drawn for it (an unbiased estimator of the density engine's energy flow).  Returns
    the state after the last step (a view of ``buf_a`` or ``buf_b``).

    The ledger (:mod:`collision.thermo_trajectories`), on when ``h_ledger`` is not empty
    (``dim x dim``, the energy of the engine's state): at saved step ``k`` it writes
    ``out_ledger[k] = (<psi|h|psi> before the step, <psi'|h|psi'> after it (the
    collapsed state), then for every stream the energy its ancillas carried away over
    every step before, as above)``; ``heat_acc`` (``n_streams``) is its running sum.
    A ``PROBE`` stage writes at saved steps the energy of its stream's ancilla in play
    minus that of the level drawn for it (the same estimator) to
    ``out_energy[k, u_offset[st]]``.
    """
    dim = psi0.size
    n_ops = e_ops.shape[0]
    ledger = h_ledger.shape[0] > 0
    cur, nxt = buf_a, buf_b
    for i in range(dim):
        cur[i] = psi0[i]
    heat_acc[:] = 0.0
    for s in range(n_steps):
        k = s // save_every
        saving = s % save_every == 0 and k < n_saved
        if saving and ledger:
            out_ledger[k, 0] = _vector_energy(h_ledger, cur, dim)
            for r in range(heat_acc.size):
                out_ledger[k, 2 + r] = heat_acc[r]
        if saving:
            for o in range(n_ops):
                acc = 0j
                for i in range(dim):
                    v = 0j
                    for j in range(dim):
                        v += e_ops[o, i, j] * cur[j]
                    acc += np.conj(cur[i]) * v
                out_expect[k, o] = acc
            if k == n_saved - 1:
                for i in range(dim):
                    final_psi[i] = cur[i]
        n = dim
        for st in range(kind.size):
            r = stream[st]
            if kind[st] == TENSOR:
                d = d_loc[st]
                lev = _draw(eta_probs[r], d, _rng.uniform(state))
                drawn[r] = lev
                for i in range(n):
                    c = cur[i]
                    for a in range(d):
                        nxt[i * d + a] = c * eta_vectors[r, a, lev]
                n *= d
                cur, nxt = nxt, cur
            elif kind[st] == UNITARY:
                _unitary_vector(cur, idx, idx_offset[st], d_loc[st], n_rest[st], unitaries,
                                u_offset[st], col)
            elif kind[st] == PROBE:
                if saving:
                    out_energy[k, u_offset[st]] = _vector_excess(
                        cur, idx, idx_offset[st], d_loc[st], n_rest[st], stream_energies[r],
                        eta_vectors[r], drawn[r])
            else:
                d = d_loc[st]
                off = idx_offset[st]
                m = n_rest[st]
                if saving or ledger:
                    h = stream_energies[r]
                    e = 0.0
                    for q in range(m):
                        for a in range(d):
                            ca = np.conj(cur[idx[off + q * d + a]])
                            for b in range(d):
                                e += (ca * h[a, b] * cur[idx[off + q * d + b]]).real
                    lev = drawn[r]
                    e0 = 0.0
                    for a in range(d):
                        for b in range(d):
                            e0 += (np.conj(eta_vectors[r, a, lev]) * h[a, b]
                                   * eta_vectors[r, b, lev]).real
                    if saving:
                        out_energy[k, r] = e - e0
                    heat_acc[r] += e - e0
                total = 0.0
                for b in range(d):  # outcome b: amplitudes sum_a conj(B[a, b]) psi[q, a]
                    p = 0.0
                    for q in range(m):
                        v = 0j
                        for a in range(d):
                            v += np.conj(measure[r, a, b]) * cur[idx[off + q * d + a]]
                        p += v.real * v.real + v.imag * v.imag
                    outcome[b] = p
                    total += p
                b = _draw(outcome, d, _rng.uniform(state) * total)
                norm = 1.0 / math.sqrt(outcome[b])
                for q in range(m):
                    v = 0j
                    for a in range(d):
                        v += np.conj(measure[r, a, b]) * cur[idx[off + q * d + a]]
                    nxt[q] = v * norm
                n = m
                cur, nxt = nxt, cur
        if saving and ledger:
            out_ledger[k, 1] = _vector_energy(h_ledger, cur, dim)
    return cur[:dim]


@njit
def _vector_excess(cur, idx, off, d, m, h, vectors, lev):
    """``<Psi|H_anc|Psi>`` of the ancilla factor (table ``idx`` from ``off``, ``m`` rest
    indices) minus the energy of its drawn level ``vectors[:, lev]``."""
    e = 0.0
    for q in range(m):
        for a in range(d):
            ca = np.conj(cur[idx[off + q * d + a]])
            for b in range(d):
                e += (ca * h[a, b] * cur[idx[off + q * d + b]]).real
    for a in range(d):
        for b in range(d):
            e -= (np.conj(vectors[a, lev]) * h[a, b] * vectors[b, lev]).real
    return e


@njit
def _vector_energy(h, psi, dim):
    """``Re <psi|h|psi>`` over the first ``dim`` entries of ``psi``."""
    acc = 0.0
    for i in range(dim):
        v = 0j
        for j in range(dim):
            v += h[i, j] * psi[j]
        acc += (np.conj(psi[i]) * v).real
    return acc


def no_trajectory_ledger(n_traj: int) -> tuple:
    """The ``h_ledger, out_ledger`` arguments of :func:`trajectory_batch` that record
    nothing for ``n_traj`` trajectories."""
    return (np.zeros((0, 0), dtype=np.complex128), np.zeros((n_traj, 0, 0)))


@njit(parallel=True)
def trajectory_batch(psi_init, init_probs, states, n_steps, save_every, n_saved, kind,
                     stream, d_loc, n_rest, idx_offset, u_offset, idx, unitaries, eta_probs,
                     eta_vectors, measure, stream_energies, e_ops, out_expect, out_energy,
                     final_psi, max_size, n_workers, h_ledger, out_ledger):
    """``states.shape[0]`` trajectories in one parallel region: one worker per thread takes
    trajectories from a shared counter (self-scheduling, as :mod:`.batch`).  Each draws its
    initial state (column ``k`` of ``psi_init`` with probability ``init_probs[k]``, using
    its own stream's first draw) and runs every step; outputs have a leading trajectory
    axis, so which thread ran a trajectory changes nothing.  ``h_ledger``, ``out_ledger``
    (leading trajectory axis): the ledger of :func:`trajectory` (empty: off)."""
    n_traj = states.shape[0]
    n_streams = eta_probs.shape[0]
    dim = psi_init.shape[0]
    counter = np.zeros(1, dtype=np.int64)
    for _ in numba.prange(max(min(n_workers, n_traj), 1)):
        buf_a = np.empty(max_size, dtype=np.complex128)
        buf_b = np.empty(max_size, dtype=np.complex128)
        col = np.empty(max_size, dtype=np.complex128)
        drawn = np.zeros(max(n_streams, 1), dtype=np.int64)
        outcome = np.empty(eta_probs.shape[1], dtype=np.float64)
        psi0 = np.empty(dim, dtype=np.complex128)
        heat_acc = np.zeros(n_streams, dtype=np.float64)
        t = fetch_add(counter, 1)
        while t < n_traj:
            k0 = _draw(init_probs, init_probs.size, _rng.uniform(states[t]))
            for i in range(dim):
                psi0[i] = psi_init[i, k0]
            trajectory(psi0, states[t], n_steps, save_every, n_saved, kind, stream, d_loc,
                       n_rest, idx_offset, u_offset, idx, unitaries, eta_probs, eta_vectors,
                       measure, stream_energies, e_ops, out_expect[t], out_energy[t],
                       final_psi[t], buf_a, buf_b, col, drawn, outcome, h_ledger,
                       out_ledger[t], heat_acc)
            t = fetch_add(counter, 1)


@njit
def _segment(psi, state, n_steps, n_saved, q0, q1, kind, stream, d_loc, n_rest, idx_offset,
             u_offset, idx, unitaries, eta_probs, eta_vectors, measure, stream_energies, e_ops,
             out_expect, out_energy, scratch, buf_a, buf_b, col, drawn, outcome):
    """``psi <- `` ``n_steps`` steps of the program whose stages are ``q0:q1`` of the
    concatenated stage arrays, recording ``n_saved`` of them (every step, or none); no
    ledger."""
    h_none = np.zeros((0, 0), dtype=np.complex128)
    ledger_none = np.zeros((0, 0))
    heat_none = np.zeros(drawn.size)
    after = trajectory(psi, state, n_steps, 1, n_saved, kind[q0:q1], stream[q0:q1],
                       d_loc[q0:q1], n_rest[q0:q1], idx_offset[q0:q1], u_offset[q0:q1], idx,
                       unitaries, eta_probs, eta_vectors, measure, stream_energies, e_ops,
                       out_expect, out_energy, scratch, buf_a, buf_b, col, drawn, outcome,
                       h_none, ledger_none, heat_none)
    for i in range(psi.size):
        psi[i] = after[i]


@njit(parallel=True)
def delayed_trajectory_batch(psi_init, init_probs, states, seg_bounds, seg_prog, end_bounds,
                             end_prog, branch, stage_start, kind, stream, d_loc, n_rest,
                             idx_offset, u_offset, idx, unitaries, eta_probs, eta_vectors,
                             measure, stream_energies, e_ops, out_expect, out_energy,
                             final_psi, max_size, n_workers):
    """Trajectories of a delayed general model (:mod:`collision.plans.delay`): each runs
    the process-time segments ``seg_bounds[g] = (p0, p1)`` (process steps counted from the
    first) with program ``seg_prog[g]`` (its stages ``stage_start[q]:stage_start[q + 1]``
    of the concatenated stage arrays), recording every process step; at process step
    ``branch`` a copy continues through the end phases to the equal-time state
    (``final_psi``).  Self-scheduled workers, as :func:`trajectory_batch`."""
    n_traj = states.shape[0]
    n_streams = eta_probs.shape[0]
    dim = psi_init.shape[0]
    counter = np.zeros(1, dtype=np.int64)
    for _ in numba.prange(max(min(n_workers, n_traj), 1)):
        buf_a = np.empty(max_size, dtype=np.complex128)
        buf_b = np.empty(max_size, dtype=np.complex128)
        col = np.empty(max_size, dtype=np.complex128)
        drawn = np.zeros(max(n_streams, 1), dtype=np.int64)
        outcome = np.empty(eta_probs.shape[1], dtype=np.float64)
        psi = np.empty(dim, dtype=np.complex128)
        at_branch = np.empty(dim, dtype=np.complex128)
        scratch = np.empty(dim, dtype=np.complex128)
        t = fetch_add(counter, 1)
        while t < n_traj:
            k0 = _draw(init_probs, init_probs.size, _rng.uniform(states[t]))
            for i in range(dim):
                psi[i] = psi_init[i, k0]
                at_branch[i] = psi[i]
            for g in range(seg_bounds.shape[0]):
                a, b = seg_bounds[g, 0], seg_bounds[g, 1]
                if a == branch:
                    for i in range(dim):
                        at_branch[i] = psi[i]
                _segment(psi, states[t], b - a, b - a, stage_start[seg_prog[g]],
                         stage_start[seg_prog[g] + 1], kind, stream, d_loc, n_rest,
                         idx_offset, u_offset, idx, unitaries, eta_probs, eta_vectors, measure,
                         stream_energies, e_ops, out_expect[t, a:b], out_energy[t, a:b],
                         scratch, buf_a, buf_b, col, drawn, outcome)
            for g in range(end_bounds.shape[0]):
                a, b = end_bounds[g, 0], end_bounds[g, 1]
                _segment(at_branch, states[t], b - a, 0, stage_start[end_prog[g]],
                         stage_start[end_prog[g] + 1], kind, stream, d_loc, n_rest,
                         idx_offset, u_offset, idx, unitaries, eta_probs, eta_vectors, measure,
                         stream_energies, e_ops, out_expect[t, 0:0], out_energy[t, 0:0],
                         scratch, buf_a, buf_b, col, drawn, outcome)
            for i in range(dim):
                final_psi[t, i] = at_branch[i]
            t = fetch_add(counter, 1)


# --- the step as a superoperator ----------------------------------------------------------

@njit
def superoperator_steps(vec, saved_first, saved_stop, n_saved, jump, e_rows, energy_rows,
                        out_expect, out_energy, out_final, tmp):
    """Saved times ``saved_first .. saved_stop - 1`` from ``vec`` (row-major ``vec(rho)``
    at ``saved_first``), jumping between them with ``jump`` (the step superoperator to the
    power ``save_every``).

    At saved time ``k`` it writes ``out_expect[k, o] = e_rows[o] . vec`` (``e_rows[o] =
    vec(O^T)``, so the product is ``Tr[O rho]``) and ``out_energy[k, r] = energy_rows[r] .
    vec`` (the energy of stream ``r``'s outgoing ancilla in the step that starts there);
    at the last saved time ``out_final`` receives ``vec``.
    """
    n = vec.size
    for k in range(saved_first, saved_stop):
        for o in range(e_rows.shape[0]):
            acc = 0j
            for i in range(n):
                acc += e_rows[o, i] * vec[i]
            out_expect[k, o] = acc
        for r in range(energy_rows.shape[0]):
            acc = 0j
            for i in range(n):
                acc += energy_rows[r, i] * vec[i]
            out_energy[k, r] = acc
        if k == n_saved - 1:
            for i in range(n):
                out_final[i] = vec[i]
            continue
        for i in range(n):
            acc = 0j
            for j in range(n):
                acc += jump[i, j] * vec[j]
            tmp[i] = acc
        for i in range(n):
            vec[i] = tmp[i]
