"""Numba kernels of the averaged ("density") engine.

Pure functions of arrays and scalars; every result goes into caller-allocated arrays.
The layout they share is built and documented in :mod:`collision.density`:

* The joint system basis is sorted by total excitation number ``N``; block ``N`` holds
  ``block_size[N]`` consecutive states starting at ``block_start[N]``.
* The state is a flat complex vector holding, for every stored block pair
  ``(N_ket, N_bra)`` with ``N_ket >= N_bra``, the dense block
  ``rho[N_ket, N_bra]`` (row-major) starting at ``pair_off[p]``.  Blocks with
  ``N_ket < N_bra`` follow by Hermiticity and are never stored.
* A Kraus operator ``q`` is a ``(D, D)`` CSR matrix in the sorted basis (rows
  ``kraus_ptr[q, r] .. kraus_ptr[q, r + 1]`` of the flat ``kraus_col`` / ``kraus_val``)
  that maps block ``N`` to block ``N + kraus_shift[q]``.  The incoming-ancilla weight
  ``sqrt(p_k)`` is already folded in.
* Stage ``s`` of a step applies the Kraus operators ``stage_q[s] .. stage_q[s + 1]``
  (one stage for a cascade, one per subsystem with ``cascade=False``).
"""

from __future__ import annotations

import numpy as np

from .._jit import njit


@njit
def kraus_stage(src, dst, tmp, block_start, block_size, pair_ket, pair_bra, pair_off,
                pair_index, kraus_shift, kraus_ptr, kraus_col, kraus_val, q_lo, q_hi,
                hermitian):
    """``dst = sum_q K_q src K_q^dag`` over the Kraus operators ``q_lo <= q < q_hi``.

    Every stored block pair ``(N_k, N_b)`` of ``src`` is sent by ``K_q`` to the pair
    ``(N_k + s, N_b + s)``, ``s = kraus_shift[q]``, as
    ``K_q[N_k+s <- N_k] rho[N_k, N_b] K_q[N_b+s <- N_b]^dag``, computed as three
    sweeps of contiguous row updates:

    1. ``X = K rho_blk``: each non-zero ``K[i, a]`` adds ``K[i, a] * rho_blk[a, :]`` to
       row ``i`` of ``X`` (shape ``(c_k', c_b)``); ``XT = X^T`` is stored.
    2. ``Z = conj(K) XT`` (shape ``(c_b', c_k')``), again row by row; ``Z = (X K^dag)^T``.
    3. ``dst_blk += Z^T``.

    Cost ``nnz(K_ket) c_b + nnz(K_bra) c_k'`` multiply-adds.  With ``hermitian=True``
    (``src`` is a density matrix) the output blocks of diagonal pairs (``N_k = N_b``,
    sector ``m = 0``) are Hermitian and only their upper triangle is computed in step 2;
    ``hermitian=False`` applies the map to any operator (complex-linear).

    Parameters
    ----------
    src, dst : ndarray of complex128, shape (n_stored,)
        Input and output state vectors (must not alias).
    tmp : ndarray of complex128, shape (2, >= max_block**2)
        Scratch space.
    """
    n_blocks = block_size.size
    xt = tmp[0]
    z = tmp[1]
    dst[:] = 0.0
    for p in range(pair_ket.size):
        nk = pair_ket[p]
        nb = pair_bra[p]
        cb = block_size[nb]
        c0k = block_start[nk]
        c0b = block_start[nb]
        off = pair_off[p]
        diagonal = hermitian and nk == nb
        # skip blocks that are exactly zero (unpopulated excitation numbers; unit
        # vectors when tabulating the map); the scan stops at the first non-zero
        empty = True
        for e in range(off, off + block_size[nk] * cb):
            if src[e] != 0.0:
                empty = False
                break
        if empty:
            continue
        for q in range(q_lo, q_hi):
            s = kraus_shift[q]
            tk = nk + s
            tb = nb + s
            if tk < 0 or tb < 0 or tk >= n_blocks or tb >= n_blocks:
                continue
            r0k = block_start[tk]
            r0b = block_start[tb]
            ck2 = block_size[tk]
            cb2 = block_size[tb]
            if kraus_ptr[q, r0k + ck2] == kraus_ptr[q, r0k]:
                continue  # K_q annihilates block N_k
            if kraus_ptr[q, r0b + cb2] == kraus_ptr[q, r0b]:
                continue  # K_q annihilates block N_b
            # 1. X = K[tk <- nk] @ rho[nk, nb], shape (ck2, cb), built in z, stored as XT
            for i in range(ck2):
                row = i * cb
                for j in range(cb):
                    z[row + j] = 0.0
                for ptr in range(kraus_ptr[q, r0k + i], kraus_ptr[q, r0k + i + 1]):
                    a = off + (kraus_col[ptr] - c0k) * cb
                    kv = kraus_val[ptr]
                    for j in range(cb):
                        z[row + j] += kv * src[a + j]
            for i in range(ck2):
                for b in range(cb):
                    xt[b * ck2 + i] = z[i * cb + b]
            # 2. Z = conj(K[tb <- nb]) @ XT, shape (cb2, ck2)
            for j in range(cb2):
                row = j * ck2
                i0 = j if diagonal else 0
                for i in range(i0, ck2):
                    z[row + i] = 0.0
                for ptr in range(kraus_ptr[q, r0b + j], kraus_ptr[q, r0b + j + 1]):
                    a = (kraus_col[ptr] - c0b) * ck2
                    kv = np.conj(kraus_val[ptr])
                    for i in range(i0, ck2):
                        z[row + i] += kv * xt[a + i]
            # 3. dst[tk, tb] += Z^T
            doff = pair_off[pair_index[tk, tb]]
            if diagonal:
                for j in range(cb2):
                    dst[doff + j * cb2 + j] += z[j * ck2 + j].real
                    for i in range(j + 1, ck2):
                        v = z[j * ck2 + i]
                        dst[doff + i * cb2 + j] += v
                        dst[doff + j * cb2 + i] += np.conj(v)
            else:
                for i in range(ck2):
                    for j in range(cb2):
                        dst[doff + i * cb2 + j] += z[j * ck2 + i]


@njit
def kraus_step(src, dst, work, tmp, block_start, block_size, pair_ket, pair_bra, pair_off,
               pair_index, kraus_shift, kraus_ptr, kraus_col, kraus_val, stage_q, hermitian):
    """One averaged step ``dst = Phi(src)``: the stages applied in order.

    ``work`` (shape ``(2, n_stored)``) holds the intermediate states between stages;
    ``hermitian`` as in :func:`kraus_stage`.
    """
    n_stages = stage_q.size - 1
    cur = src
    for st in range(n_stages):
        out = dst if st == n_stages - 1 else work[st % 2]
        kraus_stage(cur, out, tmp, block_start, block_size, pair_ket, pair_bra, pair_off,
                    pair_index, kraus_shift, kraus_ptr, kraus_col, kraus_val,
                    stage_q[st], stage_q[st + 1], hermitian)
        cur = out


@njit
def record_fluxes(before, after, k, inv_dt, diag_pos, fock, levels, local_flux,
                  out_own, out_local):
    """Fluxes at saved time ``k`` from the states before and after one step.

    ``out_own[k, i] = (E_i(before) - E_i(after)) / dt`` and
    ``out_local[k, i] = sum_n P_i(n) local_flux[n]`` with ``P_i`` the populations of
    subsystem ``i`` in ``before``.  ``diag_pos[a]`` is the position of ``rho[a, a]``
    in the state vector and ``fock[a, i]`` the Fock number of subsystem ``i`` in sorted
    basis state ``a``.
    """
    n_sys = fock.shape[1]
    for i in range(n_sys):
        out_own[k, i] = 0.0
        out_local[k, i] = 0.0
    for a in range(diag_pos.size):
        p0 = before[diag_pos[a]].real
        dp = p0 - after[diag_pos[a]].real
        for i in range(n_sys):
            n = fock[a, i]
            out_own[k, i] += dp * levels[n]
            out_local[k, i] += p0 * local_flux[n]
    for i in range(n_sys):
        out_own[k, i] *= inv_dt


@njit
def run_kraus(state, work, tmp, step_start, step_stop, save_every, inv_dt,
              block_start, block_size, pair_ket, pair_bra, pair_off, pair_index,
              kraus_shift, kraus_ptr, kraus_col, kraus_val, stage_q,
              diag_pos, fock, levels, local_flux, out_own, out_local, status):
    """Steps ``step_start <= s < step_stop`` with the Kraus blocks.

    Step ``s`` maps ``state[s % 2]`` to ``state[(s + 1) % 2]``; at ``s = k * save_every``
    the fluxes of saved time ``k`` are recorded.  ``status[0]`` is set to ``step_stop``
    on return (the number of finished steps).
    """
    countdown = (save_every - step_start % save_every) % save_every
    k = (step_start + save_every - 1) // save_every
    for s in range(step_start, step_stop):
        src = state[s % 2]
        dst = state[(s + 1) % 2]
        kraus_step(src, dst, work, tmp, block_start, block_size, pair_ket, pair_bra,
                   pair_off, pair_index, kraus_shift, kraus_ptr, kraus_col, kraus_val, stage_q,
                   True)
        if countdown == 0:
            record_fluxes(src, dst, k, inv_dt, diag_pos, fock, levels, local_flux,
                          out_own, out_local)
            k += 1
            countdown = save_every
        countdown -= 1
    status[0] = step_stop


@njit
def build_superoperator(sec_start, sec_size, sup_off, sup, src, dst, work, tmp,
                        block_start, block_size, pair_ket, pair_bra, pair_off, pair_index,
                        kraus_shift, kraus_ptr, kraus_col, kraus_val, stage_q):
    """The step map as one dense matrix per excitation-difference sector.

    Column ``c`` of sector ``m`` is the image of the unit vector at
    ``sec_start[m] + c`` under :func:`kraus_step`; the sector's matrix is stored
    row-major at ``sup[sup_off[m]:]``.
    """
    for m in range(sec_start.size):
        n = sec_size[m]
        for c in range(n):
            src[:] = 0.0
            src[sec_start[m] + c] = 1.0
            kraus_step(src, dst, work, tmp, block_start, block_size, pair_ket, pair_bra,
                       pair_off, pair_index, kraus_shift, kraus_ptr, kraus_col, kraus_val,
                       stage_q, False)
            for r in range(n):
                sup[sup_off[m] + r * n + c] = dst[sec_start[m] + r]


@njit
def run_superoperator(state, step_start, step_stop, save_every, inv_dt,
                      sec_start, sec_size, sup_off, sup,
                      diag_pos, fock, levels, local_flux, out_own, out_local, status):
    """Same contract as :func:`run_kraus`, with the precomputed sector matrices
    (for small problems, where a dense matrix-vector product beats the block loop)."""
    countdown = (save_every - step_start % save_every) % save_every
    k = (step_start + save_every - 1) // save_every
    for s in range(step_start, step_stop):
        src = state[s % 2]
        dst = state[(s + 1) % 2]
        for m in range(sec_start.size):
            n = sec_size[m]
            v0 = sec_start[m]
            base = sup_off[m]
            for r in range(n):
                acc = 0.0j
                row = base + r * n
                for c in range(n):
                    acc += sup[row + c] * src[v0 + c]
                dst[v0 + r] = acc
        if countdown == 0:
            record_fluxes(src, dst, k, inv_dt, diag_pos, fock, levels, local_flux,
                          out_own, out_local)
            k += 1
            countdown = save_every
        countdown -= 1
    status[0] = step_stop
