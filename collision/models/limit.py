"""The continuum limit of a collision model, derived.

Write one step's collisions (:mod:`collision.models.general`) as
``U = U_N ... U_1``, ``U_c = exp(-i s_c V_c)``, with ``s_c = sqrt(dt)`` for the
reservoir-type collisions and ``s_c = dt`` for the weak ones.  In powers of
``eps = sqrt(dt)``,

    U = 1 - i eps A - eps^2 (A^2 / 2 + i (W + G)) + O(eps^3),
    A = sum_{c sqrt} V_c,   W = sum_{c dt} V_c,   G = -(i/2) sum_{c > c', both sqrt} [V_c, V_c'],

(``G`` is what the *order* of the collisions adds: ``V_c V_c'`` for ``c`` after ``c'``
minus its symmetric part).  With every ancilla fresh, ``eta = eta_1 x ... x eta_k``, and
the partial trace over the ancillas,

    Phi_dt(rho) = rho - i eps [Abar, rho] + dt L(rho) + O(eps^3),
    Abar = Tr_A[A (1 x eta)]                               (the first moments),
    L(rho) = -i [H + Tr_A[(W + G)(1 x eta)], rho] + Tr_A[A (rho x eta) A] - {M, rho} / 2,
    M = Tr_A[A^2 (1 x eta)].

The limit ``(Phi_dt - 1)/dt -> L`` exists only when ``Abar = 0``; since the streams'
ancillas are independent, this module asks it of every stream separately (the stream's
collisions' first moments add up to zero), and then the cross terms between streams
vanish too.  Diagonalising ``eta_r = sum_k p_k |k><k|`` gives the jump operators,
``L_{r,lk} = sqrt(p_k) <l| A_r |k>`` (an operator on the subsystems; ``A_r`` the part of
``A`` on stream ``r``), so ``Tr_A[A_r (rho x eta_r) A_r] = sum_{lk} L rho L^dag`` and
``sum_{lk} L^dag L = Tr[A_r^2 (1 x eta_r)]``.

For the paper's cascade (``V_i = sqrt(gamma) (a_i^dag b + a_i b^dag)``, thermal ``b``)
``G`` gives exactly the cascade Hamiltonian of DESIGN.md,
``H_c = i (g_dn - g_up)/2 (a_1^dag a_2 - a_2^dag a_1)``.

Order of convergence.  ``Phi_dt = exp(dt L) + dt^{3/2} M_3 + O(dt^2)``: when the
``eps^3`` part ``M_3`` of the step map vanishes (the third moments of the interactions in
the ancilla states do, as for exchange collisions with thermal or squeezed ancillas) the
runs converge at order 1 in dt, otherwise at order 1/2 (the ``dt^{3/2}`` error of each of
``t/dt`` steps adds up to ``sqrt(dt)``).  :func:`continuum_order` decides from ``M_3``
itself, applied to a few fixed random states in the joint space of the subsystems and one
ancilla per stream.

Every operator is handled through its operator-Schmidt form ``V = sum_i S_i x R_i``
(subsystems x ancilla), so the derivation costs D x D products, never the joint space.
"""

from __future__ import annotations

import math

import numpy as np

from .._operators import embed

#: First moments below this, relative to the scale of the interactions, count as zero.
MOMENT_RTOL = 1e-10
#: Largest joint dimension (subsystems x one ancilla per stream) for continuum_order.
ORDER_MAX_DIMENSION = 2048


def schmidt_terms(model, c) -> list[tuple[np.ndarray, np.ndarray]]:
    """``V = sum_i S_i x R_i`` for collision ``c``: ``S_i`` embedded in the subsystems'
    space (D x D), ``R_i`` on the ancilla (d_A x d_A)."""
    d_a = model.stream_dims[c.stream]
    d_s = c.interaction.shape[0] // d_a
    t = c.interaction.reshape(d_s, d_a, d_s, d_a).transpose(0, 2, 1, 3)
    u, s, vh = np.linalg.svd(t.reshape(d_s * d_s, d_a * d_a))
    keep = s > 1e-15 * max(s[0], 1e-300)
    return [(embed((u[:, i] * s[i]).reshape(d_s, d_s), c.subsystems, model.dims),
             vh[i].reshape(d_a, d_a)) for i in np.flatnonzero(keep)]


def _scale(model) -> float:
    return max(1.0, *(float(np.max(np.abs(c.interaction))) for c in model.collisions))


def first_moments(model) -> dict[str, np.ndarray]:
    """``Tr_A[sum_c V_c (1 x eta_r)]`` over each stream's ``sqrt_dt`` collisions (D x D)."""
    out = {r: np.zeros((model.dim, model.dim), dtype=complex) for r in model.streams}
    for c in model.collisions:
        if c.scale == "sqrt_dt":
            eta = model.streams[c.stream]
            for s_op, r_op in schmidt_terms(model, c):
                out[c.stream] += s_op * np.trace(r_op @ eta)
    return out


def check_first_moments(model) -> None:
    """``ValueError`` unless every stream's ``sqrt_dt`` collisions have zero first moment
    (and no collision has ``scale="none"``, a unitary of fixed strength per step)."""
    fixed = [j for j, c in enumerate(model.collisions) if c.scale == "none"]
    if fixed:
        raise ValueError(f"the collision model has no continuum limit: collisions[{fixed[0]}] "
                         "has scale='none', a unitary of fixed strength at every step, which "
                         "does not vanish as dt -> 0; give it scale='sqrt_dt' or 'dt'")
    tol = MOMENT_RTOL * _scale(model)
    for r, moment in first_moments(model).items():
        size = float(np.max(np.abs(moment)))
        if size <= tol:
            continue
        culprits = []
        for j, c in enumerate(model.collisions):
            if c.stream == r and c.scale == "sqrt_dt":
                mean = sum(s * np.trace(ro @ model.streams[r]) for s, ro in
                           schmidt_terms(model, c))
                if np.max(np.abs(mean)) > tol:
                    culprits.append(f"collisions[{j}]")
        raise ValueError(
            f"the collision model has no continuum limit: on stream {r!r} the interaction of "
            f"{' and '.join(culprits) or 'the collisions'} has a non-zero first moment in the "
            f"stream's state, Tr_A[V (1 x eta)] (largest entry {size:.3g}), so one step moves "
            "the subsystems by O(sqrt(dt)) and (Phi_dt - 1)/dt diverges as dt -> 0. Rescale: "
            "give that collision scale='dt' (a weak collision whose mean field acts as a "
            "Hamiltonian), or subtract its mean field from V (V - Tr_A[V (1 x eta)] x 1 has "
            "zero first moment) and add what the mean field should do as a Hamiltonian")


def continuum_limit(model) -> tuple[np.ndarray, list[np.ndarray]]:
    """The generator of the dt -> 0 limit as ``(H, jump_operators)`` (module docstring).

    Returns
    -------
    hamiltonian : ndarray, shape (D, D)
        ``H + Tr_A[(W + G)(1 x eta)]``: the subsystems' Hamiltonian, the mean field of the
        ``scale="dt"`` collisions and the Hamiltonian the collisions' order produces.
    jump_operators : list of ndarray, shape (D, D)
        ``sqrt(p_k) <l| A_r |k>`` for every stream ``r`` and ancilla levels ``k, l``
        (rates folded in; operators that vanish are left out).

    Raises
    ------
    ValueError
        If a stream's collisions have a non-zero first moment (:func:`check_first_moments`).
    """
    check_first_moments(model)
    terms = [schmidt_terms(model, c) for c in model.collisions]
    etas = [model.streams[c.stream] for c in model.collisions]
    h = model.hamiltonian.copy()
    for j, c in enumerate(model.collisions):  # mean field of the weak collisions
        if c.scale == "dt":
            h += sum(s * np.trace(r @ etas[j]) for s, r in terms[j])
    sqrt = [j for j, c in enumerate(model.collisions) if c.scale == "sqrt_dt"]
    order = np.zeros_like(h)  # Tr_A[[V_c, V_c'] (1 x eta)] summed over c after c'
    for a, c in enumerate(sqrt):
        for cp in sqrt[:a]:
            same = model.collisions[c].stream == model.collisions[cp].stream
            for s1, r1 in terms[c]:
                for s2, r2 in terms[cp]:
                    if same:
                        eta = etas[c]
                        order += (s1 @ s2 * np.trace(r1 @ r2 @ eta)
                                  - s2 @ s1 * np.trace(r2 @ r1 @ eta))
                    else:
                        order += (s1 @ s2 - s2 @ s1) * (np.trace(r1 @ etas[c])
                                                        * np.trace(r2 @ etas[cp]))
    h += -0.5j * order
    h = (h + h.conj().T) / 2  # Hermitian by construction; remove the rounding
    jumps = []
    scale = _scale(model)
    for r, eta in model.streams.items():
        mine = [terms[j] for j in sqrt if model.collisions[j].stream == r]
        if not mine:
            continue
        p, vecs = np.linalg.eigh(eta)
        for k in range(len(p)):
            if p[k] <= 0:
                continue
            for ell in range(len(p)):
                op = sum(s * (vecs[:, ell].conj() @ rr @ vecs[:, k])
                         for term in mine for s, rr in term)
                op = math.sqrt(p[k]) * np.asarray(op)
                if np.max(np.abs(op)) > 1e-14 * scale:
                    jumps.append(op)
    return h, jumps


def _joint_operators(model):
    """Every collision's interaction and the ancilla states in the joint space
    subsystems x (one ancilla per stream, in the streams' order)."""
    names = list(model.streams)
    dims = list(model.dims) + [model.stream_dims[r] for r in names]
    n = len(model.dims)
    ops = [embed(c.interaction, (*c.subsystems, n + names.index(c.stream)), dims)
           for c in model.collisions]
    eta = np.ones((1, 1), dtype=complex)
    for r in names:
        eta = np.kron(eta, model.streams[r])
    return ops, eta, math.prod(model.stream_dims[r] for r in names)


def third_order_map(model, rho: np.ndarray) -> np.ndarray:
    """The ``dt^{3/2}`` part ``M_3(rho)`` of the step map (module docstring), D x D."""
    ops, eta, d_anc = _joint_operators(model)
    size = ops[0].shape[0]
    # U = sum_k eps^k U_k to k = 3, collision by collision (the first applied rightmost)
    u = [np.eye(size, dtype=complex)] + [np.zeros((size, size), dtype=complex)] * 3
    for c, v in zip(model.collisions, ops, strict=True):
        p = 1 if c.scale == "sqrt_dt" else 2
        step = [np.eye(size, dtype=complex)] + [np.zeros((size, size), dtype=complex)] * 3
        power = np.eye(size, dtype=complex)
        for m in range(1, 4):
            if m * p > 3:
                break
            power = power @ (-1j * v) / m
            step[m * p] = step[m * p] + power
        u = [sum(step[i] @ u[k - i] for i in range(k + 1)) for k in range(4)]
    joint = np.kron(rho, eta)
    out = (u[3] @ joint + u[2] @ joint @ u[1].conj().T + u[1] @ joint @ u[2].conj().T
           + joint @ u[3].conj().T)
    d = model.dim
    return np.einsum("iaja->ij", out.reshape(d, d_anc, d, d_anc))


def continuum_order(model) -> float:
    """1.0 when the ``dt^{3/2}`` part of the step map vanishes, else 0.5 (module docstring).

    Decided from ``M_3`` applied to three fixed random states; a non-zero linear map is
    non-zero on a random state with probability one.

    Raises
    ------
    ValueError
        If the model has no continuum limit, or the joint space of the subsystems and one
        ancilla per stream exceeds :data:`ORDER_MAX_DIMENSION`.
    """
    check_first_moments(model)
    size = model.dim * math.prod(model.stream_dims.values())
    if size > ORDER_MAX_DIMENSION:
        raise ValueError(f"continuum_order needs the joint space of the subsystems and one "
                         f"ancilla per stream, dimension {size} here, above "
                         f"{ORDER_MAX_DIMENSION}")
    rng = np.random.default_rng(20261204)
    tol = MOMENT_RTOL * _scale(model) ** 3
    for _ in range(3):
        g = rng.normal(size=(model.dim, model.dim)) + 1j * rng.normal(size=(model.dim,
                                                                           model.dim))
        rho = g @ g.conj().T
        rho /= np.trace(rho).real
        if np.max(np.abs(third_order_map(model, rho))) > tol:
            return 0.5
    return 1.0
