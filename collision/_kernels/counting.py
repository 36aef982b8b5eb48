"""Numba kernels of the density engine's heat counting (:mod:`collision.counting`).

The counting-resolved collision map is carried as one state per initial excitation
number ``N0``: ``rho^(j) = Phi^s(Pi_{N0_j} rho0 Pi_{N0_j})``, each stored in the
``m = 0`` layout of :mod:`collision._kernels.density` and stepped with its kernels (so a
step is exactly the density engine's step).  At every saved step the populations of
every excitation block are recorded; the driver turns them into ``P(q, t)``.
"""

from __future__ import annotations

from .._jit import njit
from .density import kraus_step


@njit
def record_block_populations(states, cur, k, diag_pos, block_of, out):
    """``out[k, j, N] = sum of rho^(j)[a, a]`` over the sorted basis states ``a`` of
    block ``N``, for every state ``j`` (``states[j, cur]``)."""
    for j in range(states.shape[0]):
        for n in range(out.shape[2]):
            out[k, j, n] = 0.0
        for a in range(diag_pos.size):
            out[k, j, block_of[a]] += states[j, cur, diag_pos[a]].real


@njit
def run_counting_kraus(states, work, tmp, step_start, step_stop, last_step, save_every,
                       block_start, block_size, pair_ket, pair_bra, pair_off, pair_index,
                       kraus_shift, kraus_ptr, kraus_col, kraus_val, stage_q,
                       diag_pos, block_of, out, status):
    """Steps ``step_start <= s < step_stop`` of every state, with the Kraus blocks.

    Step ``s`` maps ``states[j, s % 2]`` to ``states[j, (s + 1) % 2]``; at
    ``s = k * save_every`` the block populations of saved time ``k`` are recorded first.
    Step ``last_step`` only records (no step is needed after the last saved time).
    ``status[0]`` is set to ``step_stop`` on return.

    Parameters
    ----------
    states : ndarray of complex128, shape (n_init, 2, n_stored)
    work, tmp : scratch arrays of :func:`collision._kernels.density.kraus_step`
    out : ndarray of float64, shape (n_saved, n_init, n_blocks)
    """
    for s in range(step_start, step_stop):
        cur = s % 2
        if s % save_every == 0:
            record_block_populations(states, cur, s // save_every, diag_pos, block_of, out)
        if s == last_step:
            continue
        for j in range(states.shape[0]):
            kraus_step(states[j, cur], states[j, 1 - cur], work, tmp, block_start,
                       block_size, pair_ket, pair_bra, pair_off, pair_index, kraus_shift,
                       kraus_ptr, kraus_col, kraus_val, stage_q, True)
    status[0] = step_stop


@njit
def run_counting_superoperator(states, step_start, step_stop, last_step, save_every, n_sup,
                               sup, diag_pos, block_of, out, status):
    """Same contract as :func:`run_counting_kraus`, with the tabulated step map of the
    ``m = 0`` sector (``sup``, row-major ``(n_sup, n_sup)``; the state vectors hold that
    sector only)."""
    for s in range(step_start, step_stop):
        cur = s % 2
        if s % save_every == 0:
            record_block_populations(states, cur, s // save_every, diag_pos, block_of, out)
        if s == last_step:
            continue
        for j in range(states.shape[0]):
            src = states[j, cur]
            dst = states[j, 1 - cur]
            for r in range(n_sup):
                acc = 0.0j
                row = r * n_sup
                for c in range(n_sup):
                    acc += sup[row + c] * src[c]
                dst[r] = acc
    status[0] = step_stop
