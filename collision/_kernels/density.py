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


# --- the sequential scheme: one collision at a time on the joint state -----------------------
# Layout (built and documented in :class:`collision.density.SequentialStages`): the joint
# (subsystems x ancilla) basis is sorted by its total excitation ``N``; joint block ``N``
# holds ``jb_size[N]`` states, global positions ``jb_off[N] ..``.  A joint operator is
# stored like a system state: dense row-major blocks for the pairs ``(N_ket, N_bra)`` of
# the stored sectors, at ``jpair_off``.  What changes from stage to stage is only the order
# of the states inside each block: in the order of stage ``st`` (the collision with
# subsystem ``i``) the states with the same ``s = n_i + n_anc`` and the same other Fock
# numbers form consecutive *groups* (``s`` major), ordered by ``n_i`` -- exactly the basis
# of block ``s`` of the exchange unitary, which therefore acts as one small dense matrix
# per group.  Per stage (first index ``st``): ``grp_ptr[st, N] .. grp_ptr[st, N + 1]``
# are the groups of block ``N`` (``grp_start`` within the block, ``grp_size``, unitary
# block ``grp_s``); at global position ``g``: ``pos_grp`` (its group), ``anc`` (ancilla
# level), ``sysidx`` (sorted system state) and ``next_pos`` (its position in the order of
# stage ``st + 1``; ``prev_pos`` the inverse); ``rng_lo[st, N, b] .. rng_hi[st, N, b]``
# are the positions of block ``N`` whose group contains a state with ancilla level ``b``
# (``b <= s <= b + d - 1``, contiguous because the order is ``s`` major).


@njit
def _system_pos(block_start, block_size, pair_off, pair_index, x, y, nx, ny):
    """Position of ``rho[x, y]`` (sorted system states in blocks ``nx >= ny``)."""
    return (pair_off[pair_index[nx, ny]] + (x - block_start[nx]) * block_size[ny]
            + y - block_start[ny])


@njit
def _write_block(zt, dst, doff, ck, cb, base_k, base_b, next_pos, diagonal):
    """``dst[next(i), next(j)] = ZT[j, i]`` for a pair block (Hermitian completion of a
    diagonal block from its upper triangle ``i >= j``)."""
    for j in range(cb):
        nj = next_pos[base_b + j]
        if diagonal:
            nj_row = nj * cb
            ni = next_pos[base_k + j]
            dst[doff + ni * cb + nj] = zt[j * ck + j].real
            for i in range(j + 1, ck):
                ni = next_pos[base_k + i]
                v = zt[j * ck + i]
                dst[doff + ni * cb + nj] = v
                dst[doff + nj_row + ni] = np.conj(v)
        else:
            for i in range(ck):
                dst[doff + next_pos[base_k + i] * cb + nj] = zt[j * ck + i]


@njit
def _unitary_rows(src, so, stride, dst, do, orow, lo, hi, ur, s, i, r0, bs, sign):
    """``dst[do + lo:do + hi] = sum_t u[s, i, t] src[so + (r0 + t) * stride + lo:hi]``
    (``sign = -1``) or with ``conj(u)`` (``sign = +1``), as real multiply-adds.

    ``u = ur (-i)^((i - t) % 2)``: the exchange unitary is ``cos(theta G) - i
    sin(theta G)`` with a bipartite ``G``, so its entries are real on even and imaginary
    on odd distances from the diagonal, and ``ur`` holds their real weights.  The even
    and odd terms are summed separately over the interleaved real and imaginary parts
    (contiguous real loops that vectorize) into ``dst`` and ``orow`` (scratch, at least
    ``hi`` long), then ``dst += sign * i * orow``.
    """
    n = 2 * (hi - lo)
    y = dst.view(np.float64)[2 * (do + lo):2 * (do + hi)]
    odd = orow.view(np.float64)[2 * lo:2 * hi]
    sf = src.view(np.float64)
    for c in range(n):
        y[c] = 0.0
        odd[c] = 0.0
    for t in range(bs):
        w = ur[s, i, t]
        if w == 0.0:
            continue
        b = 2 * (so + (r0 + t) * stride + lo)
        x = sf[b:b + n]
        if (i - t) % 2 == 0:
            for c in range(n):
                y[c] += w * x[c]
        else:
            for c in range(n):
                odd[c] += w * x[c]
    _add_i_times(y, odd, sign)


@njit
def _add_i_times(y, odd, sign):
    """``y += sign * i * odd`` on interleaved (real, imaginary) float arrays."""
    for c in range(0, y.size, 2):
        y[c] -= sign * odd[c + 1]
        y[c + 1] += sign * odd[c]


@njit
def sequential_first(src, dst, yb, zrow, orow, u, ur, u_first, anc_pop,
                     block_start, block_size, pair_off, pair_index,
                     jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                     grp_ptr, grp_start, grp_size, grp_s, pos_grp, next_pos, prev_pos, anc,
                     sysidx, rng_lo, rng_hi):
    """``dst = U (src x tau) U^dag`` on the joint space: the first collision, from the
    packed system state ``src`` and the diagonal ancilla state ``tau = diag(anc_pop)``.

    Per joint pair block (``N_k``, ``N_b``), rows and columns in this stage's order:

    1. ``Y = tau^(1/2) (rho x 1) tau^(1/2) U^dag`` (``yb``): the input is diagonal in the
       ancilla, so the input row of ket state ``(x, b)`` meets one input column per bra
       group -- the group's state with ancilla ``b``, if any: single products, on the
       bra columns ``rng_lo[N_b, b] .. rng_hi[N_b, b]`` only.
    2. ``Z = U Y`` row by row (:func:`_unitary_rows`, each input row over its range),
    3. written at once into the next stage's order (rows and columns moved; ket-major
       throughout, so no transposition; ``prev_pos`` is the inverse of ``next_pos``).

    Cost of step 2: ``sum over ket rows (group size) x (range)`` real-weight
    multiply-adds.  Both triangles of diagonal blocks are computed (writing only one
    and mirroring would scatter the writes).
    """
    yf = yb.view(np.float64)
    for p in range(jpair_ket.size):
        nk = jpair_ket[p]
        nb = jpair_bra[p]
        ck = jb_size[nk]
        cb = jb_size[nb]
        ok = jb_off[nk]
        ob = jb_off[nb]
        doff = jpair_off[p]
        # 1. Y[r, c] = p_b rho[x, y] conj(<c| U |y, b>) for the ket row r = (x, b)
        for r in range(ck):
            b = anc[ok + r]
            pb = anc_pop[b]
            lo = rng_lo[nb, b]
            hi = rng_hi[nb, b]
            if pb == 0.0 or hi <= lo:
                continue
            x = sysidx[ok + r]
            row = r * cb
            for g in range(pos_grp[ob + lo], pos_grp[ob + hi - 1] + 1):
                s = grp_s[g]
                c0 = grp_start[g]
                t = s - b - u_first[s]
                y = sysidx[ob + c0 + t]
                v = pb * src[_system_pos(block_start, block_size, pair_off, pair_index,
                                         x, y, nk - b, nb - b)]
                out = yb[row + c0:row + c0 + grp_size[g]]
                for j in range(out.size):
                    out[j] = v * np.conj(u[s, j, t])
        # 2. Z[r0 + i, :] = sum_t u[i, t] Y[r0 + t, range of its ancilla]; 3. write
        zf = zrow.view(np.float64)[:2 * cb]
        of = orow.view(np.float64)[:2 * cb]
        for g in range(grp_ptr[nk], grp_ptr[nk + 1]):
            s = grp_s[g]
            r0 = grp_start[g]
            bs = grp_size[g]
            for i in range(bs):
                for c in range(zf.size):
                    zf[c] = 0.0
                    of[c] = 0.0
                for t in range(bs):
                    b = anc[ok + r0 + t]
                    w = ur[s, i, t]
                    lo = rng_lo[nb, b]
                    hi = rng_hi[nb, b]
                    if anc_pop[b] == 0.0 or w == 0.0 or hi <= lo:
                        continue
                    srow = 2 * (r0 + t) * cb
                    x = yf[srow + 2 * lo:srow + 2 * hi]
                    y = (zf if (i - t) % 2 == 0 else of)[2 * lo:2 * hi]
                    for c in range(x.size):
                        y[c] += w * x[c]
                _add_i_times(zf, of, -1.0)  # u = ur (-i)^odd
                drow = doff + next_pos[ok + r0 + i] * cb
                out = dst[drow:drow + cb]
                prev = prev_pos[ob:ob + cb]
                for q in range(cb):  # gather: the writes stay in order
                    out[q] = zrow[prev[q]]


@njit
def sequential_middle(src, dst, xt, zt, orow, ur, hermitian,
                      jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                      grp_ptr, grp_start, grp_size, grp_s, next_pos):
    """``dst = U src U^dag`` for a collision that is neither the first nor the last:
    ``X = U src`` (group rows of the ket), ``ZT = conj(U) X^T`` (group rows of the bra;
    upper triangle of diagonal Hermitian blocks), ``dst = ZT^T`` in the next stage's
    order.  Cost ``c_k c_b (group size)`` per step and block pair (half in step 2 for
    diagonal blocks), as real-weight multiply-adds (:func:`_unitary_rows`)."""
    for p in range(jpair_ket.size):
        nk = jpair_ket[p]
        nb = jpair_bra[p]
        ck = jb_size[nk]
        cb = jb_size[nb]
        off = jpair_off[p]
        diagonal = hermitian and nk == nb
        # 1. X = U_ket src (rows), built in zt, stored transposed in xt
        for g in range(grp_ptr[nk], grp_ptr[nk + 1]):
            r0 = grp_start[g]
            for i in range(grp_size[g]):
                _unitary_rows(src, off, cb, zt, (r0 + i) * cb, orow, 0, cb, ur, grp_s[g], i,
                              r0, grp_size[g], -1.0)
        for r in range(ck):
            for c in range(cb):
                xt[c * ck + r] = zt[r * cb + c]
        # 2. ZT = conj(U_bra) XT
        for g in range(grp_ptr[nb], grp_ptr[nb + 1]):
            r0 = grp_start[g]
            for j in range(grp_size[g]):
                _unitary_rows(xt, 0, ck, zt, (r0 + j) * ck, orow, r0 + j if diagonal else 0,
                              ck, ur, grp_s[g], j, r0, grp_size[g], 1.0)
        _write_block(zt, dst, off, ck, cb, jb_off[nk], jb_off[nb], next_pos, diagonal)


@njit
def sequential_last(src, dst, zt, orow, u, ur, u_first, hermitian,
                    block_start, block_size, pair_ket, pair_bra, pair_off, pair_index,
                    jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                    grp_ptr, grp_start, grp_size, grp_s, pos_grp, anc, sysidx,
                    rng_lo, rng_hi):
    """``dst = Tr_anc[U src U^dag]``: the last collision and the trace over the ancilla,
    into the packed system state ``dst``.

    Only entries with equal ancilla levels on both sides survive the trace, so for a ket
    row with ancilla ``a``: ``X = U src`` is needed only on the bra columns whose group
    holds a state with ancilla ``a`` (``rng_lo .. rng_hi``), and then one dot product
    with a row of ``conj(U)`` per such group.  For diagonal blocks of a Hermitian state
    only the upper triangle of the output is computed, then mirrored.
    """
    dst[:] = 0.0
    for p in range(jpair_ket.size):
        nk = jpair_ket[p]
        nb = jpair_bra[p]
        cb = jb_size[nb]
        ok = jb_off[nk]
        ob = jb_off[nb]
        off = jpair_off[p]
        diagonal = hermitian and nk == nb
        for g in range(grp_ptr[nk], grp_ptr[nk + 1]):
            s = grp_s[g]
            r0 = grp_start[g]
            bs = grp_size[g]
            for i in range(bs):
                a = anc[ok + r0 + i]
                lo = rng_lo[nb, a]
                hi = rng_hi[nb, a]
                if hi <= lo:
                    continue
                # 1. X[r, lo:hi] = sum_t U[i, t] src[r0 + t, lo:hi]
                _unitary_rows(src, off, cb, zt, 0, orow, lo, hi, ur, s, i, r0, bs, -1.0)
                # 2. one bra state with ancilla a per group: Tr_anc
                x = sysidx[ok + r0 + i]
                nx = nk - a
                ny = nb - a
                for g2 in range(pos_grp[ob + lo], pos_grp[ob + hi - 1] + 1):
                    s2 = grp_s[g2]
                    c0 = grp_start[g2]
                    tj = s2 - a - u_first[s2]
                    y = sysidx[ob + c0 + tj]
                    if diagonal and y < x:
                        continue
                    acc = 0.0j
                    for t in range(grp_size[g2]):
                        acc += zt[c0 + t] * np.conj(u[s2, tj, t])
                    dst[_system_pos(block_start, block_size, pair_off, pair_index,
                                    x, y, nx, ny)] += acc
    if hermitian:
        _mirror_diagonal_blocks(dst, block_size, pair_ket, pair_bra, pair_off)


@njit
def _mirror_diagonal_blocks(dst, block_size, pair_ket, pair_bra, pair_off):
    """Complete the diagonal blocks (``N_ket = N_bra``) of a Hermitian state from their
    upper triangles."""
    for p in range(pair_ket.size):
        if pair_ket[p] != pair_bra[p]:
            continue
        c = block_size[pair_ket[p]]
        _mirror_block(dst[pair_off[p]:pair_off[p] + c * c], c)


@njit(inline="always")
def _mirror_block(out, c):
    """Complete the row-major ``c x c`` block ``out`` of a Hermitian state from its upper
    triangle (real diagonal)."""
    for i in range(c):
        out[i * c + i] = out[i * c + i].real
        for j in range(i + 1, c):
            out[j * c + i] = np.conj(out[i * c + j])


@njit
def local_channel_stage(src, dst, chan, shifted, site_fock, hermitian,
                        block_start, block_size, pair_ket, pair_bra, pair_off, pair_index):
    """``dst = (id x E x id)(src)``: one collision with a fresh ancilla, traced out at
    once, as the channel ``E`` of that subsystem alone.

    ``E`` is phase covariant: ``rho'[x', y'] = sum_delta chan[x'_i, y'_i, delta]
    rho[x' + delta e_i, y' + delta e_i]`` (``delta`` index shifted by ``d - 1``);
    ``shifted[a, delta]`` is the sorted state ``a`` with ``delta`` more quanta in the
    subsystem (``-1`` outside the basis) and ``site_fock[a]`` its Fock number.  Cost
    ``<= (2 d - 1)`` multiply-adds per stored entry.
    """
    n_del = chan.shape[2]
    half = (n_del - 1) // 2
    for p in range(pair_ket.size):
        nk = pair_ket[p]
        nb = pair_bra[p]
        ck = block_size[nk]
        cb = block_size[nb]
        out = dst[pair_off[p]:pair_off[p] + ck * cb]
        out[:] = 0.0
        diagonal = hermitian and nk == nb
        for e in range(n_del):
            sk = nk + e - half  # the source pair (N_k + delta, N_b + delta)
            sb = nb + e - half
            if sk < 0 or sb < 0 or sk >= block_size.size or sb >= block_size.size:
                continue
            soff = pair_off[pair_index[sk, sb]]
            scb = block_size[sb]
            tb_all = shifted[block_start[nb]:block_start[nb] + cb, e]
            for i in range(ck):
                ta = shifted[block_start[nk] + i, e]
                if ta < 0:
                    continue
                w_row = chan[site_fock[block_start[nk] + i], :, e]
                a0 = soff + (ta - block_start[sk]) * scb
                srow = src[a0:a0 + scb]
                orow = out[i * cb:(i + 1) * cb]
                for j in range(i if diagonal else 0, cb):
                    tb = tb_all[j]
                    if tb >= 0:
                        orow[j] += w_row[site_fock[block_start[nb] + j]] \
                            * srow[tb - block_start[sb]]
        if diagonal:
            _mirror_block(out, ck)


@njit
def sequential_step(src, dst, swork, jwork, xt, zt, orow, u, ur, u_first, anc_pop,
                    joint_mode, hermitian, system, joint, local):
    """One averaged step ``dst = Phi(src)`` with the sequential scheme.

    ``joint_mode`` (a cascade of two or more collisions): the first collision builds the
    joint state from ``src x tau`` in ``jwork[0]``, the middle ones alternate between
    ``jwork[0]`` and ``jwork[1]`` and the last one traces the ancilla out into ``dst``.
    Otherwise (``cascade=False``, or a single collision) each collision is the local
    channel of its subsystem, with ``swork`` (shape ``(2, n_stored)``) between stages.

    ``system = (block_start, block_size, pair_ket, pair_bra, pair_off, pair_index)``,
    ``joint = (jb_off, jb_size, jpair_ket, jpair_bra, jpair_off, grp_ptr, grp_start,
    grp_size, grp_s, pos_grp, next_pos, prev_pos, anc, sysidx, rng_lo, rng_hi)`` (per-stage arrays
    with the stage as first index) and ``local = (chan, shifted, site_fock)`` (the last
    two per stage), as in :class:`collision.density.SequentialStages`.
    """
    block_start, block_size, pair_ket, pair_bra, pair_off, pair_index = system
    (jb_off, jb_size, jpair_ket, jpair_bra, jpair_off, grp_ptr, grp_start, grp_size, grp_s,
     pos_grp, next_pos, prev_pos, anc, sysidx, rng_lo, rng_hi) = joint
    chan, shifted, site_fock = local
    if joint_mode:
        n_stages = grp_ptr.shape[0]
        sequential_first(src, jwork[0], xt, zt, orow, u, ur, u_first, anc_pop,
                         block_start, block_size, pair_off, pair_index,
                         jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                         grp_ptr[0], grp_start[0], grp_size[0], grp_s[0], pos_grp[0],
                         next_pos[0], prev_pos[0], anc[0], sysidx[0], rng_lo[0], rng_hi[0])
        for st in range(1, n_stages - 1):
            sequential_middle(jwork[(st - 1) % 2], jwork[st % 2], xt, zt, orow, ur, hermitian,
                              jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                              grp_ptr[st], grp_start[st], grp_size[st], grp_s[st],
                              next_pos[st])
        last = n_stages - 1
        sequential_last(jwork[(last - 1) % 2], dst, zt, orow, u, ur, u_first, hermitian,
                        block_start, block_size, pair_ket, pair_bra, pair_off, pair_index,
                        jb_off, jb_size, jpair_ket, jpair_bra, jpair_off,
                        grp_ptr[last], grp_start[last], grp_size[last], grp_s[last],
                        pos_grp[last], anc[last], sysidx[last], rng_lo[last], rng_hi[last])
    else:
        n_stages = shifted.shape[0]
        cur = src
        for st in range(n_stages):
            out = dst if st == n_stages - 1 else swork[st % 2]
            local_channel_stage(cur, out, chan, shifted[st], site_fock[st], hermitian,
                                block_start, block_size, pair_ket, pair_bra, pair_off,
                                pair_index)
            cur = out


@njit
def run_sequential(state, swork, jwork, xt, zt, orow, step_start, step_stop, save_every,
                   inv_dt, u, ur, u_first, anc_pop, joint_mode, system, joint, local,
                   diag_pos, fock, levels, local_flux, out_own, out_local, status):
    """Same contract as :func:`run_kraus`, one :func:`sequential_step` per step."""
    countdown = (save_every - step_start % save_every) % save_every
    k = (step_start + save_every - 1) // save_every
    for s in range(step_start, step_stop):
        src = state[s % 2]
        dst = state[(s + 1) % 2]
        sequential_step(src, dst, swork, jwork, xt, zt, orow, u, ur, u_first, anc_pop,
                        joint_mode, True, system, joint, local)
        if countdown == 0:
            record_fluxes(src, dst, k, inv_dt, diag_pos, fock, levels, local_flux,
                          out_own, out_local)
            k += 1
            countdown = save_every
        countdown -= 1
    status[0] = step_stop
