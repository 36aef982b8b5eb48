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
