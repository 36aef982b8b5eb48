"""Numba kernels of the Gaussian (covariance-matrix) collision engine.

Pure functions of arrays and scalars that write into caller-allocated arrays; the
driver :mod:`collision.gaussian` validates, allocates and documents the physics.

Layout.  The work array ``cov`` is the covariance matrix of the subsystems *and* the
ancilla modes, quadrature order ``(X1, Y1, ..., Xn, Yn, Xb, Yb, ...)``: mode ``k``
occupies rows/columns ``2k`` and ``2k + 1``.  The kernels address modes by index, so
more than one ancilla can be in flight (e.g. for finite travel times).

One collision ``U = exp(-i theta (a^dag b + a b^dag))`` between mode ``a`` and ancilla
``b`` maps quadratures (Heisenberg picture) by the rotation-symplectic matrix

    X_a -> c X_a + s Y_b        X_b -> c X_b + s Y_a
    Y_a -> c Y_a - s X_b        Y_b -> c Y_b - s X_a          (c = cos theta, s = sin theta)

and the covariance by ``cov -> R cov R^T``.  ``R`` differs from the identity only on the
four quadratures of the two modes, so the update costs O(size) per collision.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit


@njit
def beam_splitter(cov, mode, anc, cos_t, sin_t):
    """Apply one exchange collision to a covariance matrix, in place.

    Parameters
    ----------
    cov : ndarray, shape (2m, 2m), float64
        Symmetric covariance of all modes (overwritten with ``R cov R^T``).
    mode, anc : int
        Indices of the subsystem mode and of the ancilla mode (distinct).
    cos_t, sin_t : float
        ``cos(theta)`` and ``sin(theta)``, ``theta = sqrt(gamma dt)``.
    """
    xa = 2 * mode
    ya = xa + 1
    xb = 2 * anc
    yb = xb + 1
    size = cov.shape[0]
    # cov <- R cov: only the four rows of the two modes change
    for k in range(size):
        ax = cov[xa, k]
        ay = cov[ya, k]
        bx = cov[xb, k]
        by = cov[yb, k]
        cov[xa, k] = cos_t * ax + sin_t * by
        cov[ya, k] = cos_t * ay - sin_t * bx
        cov[xb, k] = cos_t * bx + sin_t * ay
        cov[yb, k] = cos_t * by - sin_t * ax
    # cov <- cov R^T: only the four columns change (outside the 4x4 block this
    # reproduces the row update bit for bit, so the matrix stays exactly symmetric)
    for k in range(size):
        ax = cov[k, xa]
        ay = cov[k, ya]
        bx = cov[k, xb]
        by = cov[k, yb]
        cov[k, xa] = cos_t * ax + sin_t * by
        cov[k, ya] = cos_t * ay - sin_t * bx
        cov[k, xb] = cos_t * bx + sin_t * ay
        cov[k, yb] = cos_t * by - sin_t * ax
    # inside the 4x4 block the two products round differently: symmetrise
    _symmetrise(cov, xa, ya)
    _symmetrise(cov, xa, xb)
    _symmetrise(cov, xa, yb)
    _symmetrise(cov, ya, xb)
    _symmetrise(cov, ya, yb)
    _symmetrise(cov, xb, yb)


@njit
def _symmetrise(cov, p, q):
    """Replace ``cov[p, q]`` and ``cov[q, p]`` by their mean."""
    v = 0.5 * (cov[p, q] + cov[q, p])
    cov[p, q] = v
    cov[q, p] = v


@njit
def reset_mode(cov, mode, variance):
    """Replace ``mode`` by a fresh uncorrelated thermal mode (``variance = N + 1/2``)."""
    x = 2 * mode
    y = x + 1
    for k in range(cov.shape[0]):
        cov[x, k] = 0.0
        cov[k, x] = 0.0
        cov[y, k] = 0.0
        cov[k, y] = 0.0
    cov[x, x] = variance
    cov[y, y] = variance


@njit
def occupation(cov, mode):
    """Mean occupation ``(C_XX + C_YY)/2 - 1/2`` of ``mode`` (zero first moments)."""
    return 0.5 * (cov[2 * mode, 2 * mode] + cov[2 * mode + 1, 2 * mode + 1]) - 0.5


@njit
def run_gaussian_collisions(cov, n_systems, cos_t, sin_t, n_bath, flux_scale, cascade,
                            save_every, step_start, step_stop, out_local, out_corr, out_state,
                            status):
    """Steps ``step_start <= s < step_stop`` of the collision model, recording the heat
    fluxes at the saved steps; resumable (the state lives in ``cov``).

    Every step a fresh thermal ancilla (mode ``n_systems``) collides with S1, S2, ...,
    Sn in turn (``cascade``), or every subsystem meets its own fresh ancilla (not
    ``cascade``).  Step ``s = k save_every`` starts at the saved time ``t_k``; on it the
    fluxes of ``t_k`` are measured:

    * total of S_i: ``flux_scale * (n_i before - n_i after its collision)``;
    * local of S_i: ``flux_scale * sin^2(theta) (n_i - n_bath)``, what S_i hands to a
      fresh thermal ancilla;
    * correlated of S_i: total - local.

    Parameters
    ----------
    cov : ndarray, shape (2n + 2, 2n + 2), float64
        Work array: the subsystem covariance after ``step_start`` steps in the top-left
        ``(2n, 2n)`` block (the ancilla block is overwritten); holds the state after
        ``step_stop`` steps on return.
    n_systems : int
        Number of subsystems n.
    cos_t, sin_t : float
        ``cos(theta)``, ``sin(theta)``.
    n_bath : float
        Thermal occupation N of a fresh ancilla.
    flux_scale : float
        ``omega / dt``: converts an occupation change per step into a flux.
    cascade : bool
        One ancilla for the whole chain (True) or one per subsystem (False).
    save_every : int
        Steps between saved times.
    step_start, step_stop : int
        The steps to run.
    out_local, out_corr : ndarray, shape (n, n_saved)
        Written: local and correlated fluxes at the saved times of these steps.
    out_state : ndarray, shape (2n, 2n)
        Written if the last step (``step_stop - 1``) is a saved step: the subsystem
        covariance at its saved time (before the step).
    status : ndarray of int64, shape (1,)
        Set to ``step_stop`` on return (the number of finished steps).
    """
    anc = n_systems
    variance = n_bath + 0.5
    s2 = sin_t * sin_t
    for s in range(step_start, step_stop):
        save = s % save_every == 0
        k = s // save_every
        if save and s == step_stop - 1:
            for p in range(2 * n_systems):
                for q in range(2 * n_systems):
                    out_state[p, q] = cov[p, q]
        if cascade:
            reset_mode(cov, anc, variance)
        for i in range(n_systems):
            if not cascade:
                reset_mode(cov, anc, variance)
            before = occupation(cov, i)
            beam_splitter(cov, i, anc, cos_t, sin_t)
            if save:
                total = flux_scale * (before - occupation(cov, i))
                local = flux_scale * s2 * (before - n_bath)
                out_local[i, k] = local
                out_corr[i, k] = total - local
    status[0] = step_stop


# --- finite travel time (delay): the run in process ("ancilla") time ----------------------

@njit
def _first_saved(first_step, save_every):
    """``(k, wait)``: the first saved index ``k`` with ``k save_every >= first_step`` and the
    number of steps until it (``first_step`` may be negative)."""
    k = -((-first_step) // save_every)
    return k, k * save_every - first_step


@njit
def run_process_collisions(cov, lo, hi, offsets, cos_t, sin_t, n_bath, flux_scale, save_every,
                           n_saved, record, j_start, j_stop, out_local, out_corr, cum,
                           out_entry, out_exit):
    """Ancillas ``j_start <= j < j_stop`` in process order, each fresh, meeting S_lo..S_hi.

    Ancilla ``j`` collides with S_i at the real step ``j + o_i`` (``offsets[i] = o_i``,
    the arrival of S1's output at S_i in steps).  With ``record``:

    * the fluxes of S_i at its real step ``r = j + o_i`` are written if ``r`` is a saved
      step (``r = k save_every``, ``k < n_saved``), defined as in
      :func:`run_gaussian_collisions`;
    * ``cum[i] +=`` the energy (occupation units) the ancilla has received from
      S_lo..S_i; ``out_entry[l, k]`` gets ``cum[l]`` after ancilla ``k save_every - 1 - o_l``
      (the last to have met S_l before t_k) and ``out_exit[l, k]`` after ancilla
      ``k save_every - 1 - o_{l+1}`` (the last to have met S_{l+1}).

    Saved steps are found by countdowns (no integer division per collision).

    Parameters
    ----------
    cov : ndarray, shape (2n + 2, 2n + 2)
        Work array (subsystems, then the ancilla mode); updated in place.
    lo, hi : int
        The active sub-chain (0-based, inclusive).
    offsets : ndarray of int64, shape (n,)
        ``o_i`` in steps, ``o_0 = 0``, non-decreasing.
    cum : ndarray, shape (n,)
        Running sums of the ancillas' energy gains after S_i (updated).
    out_local, out_corr : ndarray, shape (n, n_saved)
    out_entry, out_exit : ndarray, shape (n - 1, n_saved)
    """
    anc = cov.shape[0] // 2 - 1
    variance = n_bath + 0.5
    s2 = sin_t * sin_t
    n = offsets.size
    # countdowns to the next saved step of each subsystem and of each in-flight request
    k_flux = np.zeros(n, dtype=np.int64)
    wait_flux = np.zeros(n, dtype=np.int64)
    k_req = np.zeros(2 * n, dtype=np.int64)
    wait_req = np.zeros(2 * n, dtype=np.int64)
    for i in range(n):
        k_flux[i], wait_flux[i] = _first_saved(j_start + offsets[i], save_every)
    for q in range(2 * (n - 1)):
        k_req[q], wait_req[q] = _first_saved(j_start + 1 + offsets[q // 2 + q % 2], save_every)
    for _ in range(j_start, j_stop):
        reset_mode(cov, anc, variance)
        gained = 0.0
        for i in range(lo, hi + 1):
            before = occupation(cov, i)
            beam_splitter(cov, i, anc, cos_t, sin_t)
            loss = before - occupation(cov, i)
            gained += loss
            cum[i] += gained
            if not record:
                continue
            if wait_flux[i] == 0:
                k = k_flux[i]
                if k < n_saved:
                    local = flux_scale * s2 * (before - n_bath)
                    out_local[i, k] = local
                    out_corr[i, k] = flux_scale * loss - local
                k_flux[i] = k + 1
                wait_flux[i] = save_every - 1
            else:
                wait_flux[i] -= 1
        if not record:
            continue
        for q in range(2 * (n - 1)):  # q = 2 link + side
            if wait_req[q] == 0:
                k = k_req[q]
                if 0 <= k < n_saved:
                    if q % 2 == 0:
                        out_entry[q // 2, k] = cum[q // 2]
                    else:
                        out_exit[q // 2, k] = cum[q // 2]
                k_req[q] = k + 1
                wait_req[q] = save_every - 1
            else:
                wait_req[q] -= 1


@njit
def run_alone(cov, mode, offsets, cos_t, sin_t, n_bath, flux_scale, save_every, n_saved,
              record, j_start, j_stop, out_local, out_corr, cum, out_entry, out_exit):
    """:func:`run_process_collisions` for a single active subsystem, in closed form.

    With fresh ancillas one collision maps the mode's block ``C_ii -> c^2 C_ii +
    s^2 (N + 1/2) I_2`` and its blocks with every other mode ``C_il -> c C_il`` (the
    collision matrix restricted to the subsystem is ``c I_2``; the ``s`` terms bring in
    the fresh ancilla, uncorrelated with everything).  ``r`` collisions are therefore
    ``C_ii - (N + 1/2) I -> c^{2r} (...)`` and ``C_il -> c^r C_il``, and the occupation
    before the ``p``-th is ``N + c^{2p} (n_i - N)``: the cost does not depend on
    ``j_stop - j_start`` (only on the saved times inside).  S_i's correlated flux is 0.
    """
    steps = j_stop - j_start
    if steps <= 0:
        return
    variance = n_bath + 0.5
    s2 = sin_t * sin_t
    c2 = cos_t * cos_t
    excess = occupation(cov, mode) - n_bath
    if record:
        o = offsets[mode]
        # saved real steps k save_every in [j_start + o, j_stop - 1 + o]
        k_first = max(0, _first_saved(j_start + o, save_every)[0])
        k_last = min(n_saved - 1, (j_stop - 1 + o) // save_every)
        for k in range(k_first, k_last + 1):
            p = k * save_every - o - j_start
            out_local[mode, k] = flux_scale * s2 * c2 ** p * excess
            out_corr[mode, k] = 0.0
        # energy received by the ancillas after j' collisions: excess (1 - c^{2 j'})
        if mode < offsets.size - 1:
            base = cum[mode]
            for side in range(2):
                shift = 1 + offsets[mode + side]
                k_first = max(0, _first_saved(j_start + shift, save_every)[0])
                k_last = min(n_saved - 1, (j_stop - 1 + shift) // save_every)
                for k in range(k_first, k_last + 1):
                    done = k * save_every - shift - j_start + 1  # ancillas of this run
                    value = base + excess * (1.0 - c2 ** done)
                    if side == 0:
                        out_entry[mode, k] = value
                    else:
                        out_exit[mode, k] = value
    cum[mode] += excess * (1.0 - c2 ** steps)
    # the state after `steps` collisions
    x = 2 * mode
    damp = cos_t ** steps
    for q in range(cov.shape[0]):
        if q != x and q != x + 1:
            for a in range(x, x + 2):
                cov[a, q] *= damp
                cov[q, a] *= damp
    decay = c2 ** steps
    for a in range(x, x + 2):
        for b in range(x, x + 2):
            target = variance if a == b else 0.0
            cov[a, b] = target + decay * (cov[a, b] - target)
