"""An independent dense reference for general collision models (used by the tests).

Written from the definition of one step, sharing no code with the package: the joint
state of the subsystems and one fresh ancilla of *every* stream, ``rho x eta_1 x ... x
eta_k``; every collision ``expm(-i s V)`` embedded with explicit tensor transposes; the
partial trace over all ancillas; then ``expm(-i H dt)``.  Heat: the energy each stream's
ancilla carries away in the step, divided by ``dt``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm


def embed_tensor(op: np.ndarray, targets: list[int], dims: list[int]) -> np.ndarray:
    """``op`` on the factors ``targets`` (first most significant) of ``dims``, by einsum on
    the tensor legs (not by Kronecker products)."""
    n = len(dims)
    t_dims = [dims[t] for t in targets]
    op_t = op.reshape(t_dims + t_dims)
    big = math.prod(dims)
    eye = np.eye(big).reshape(dims + dims)
    # out[a_out..., b_in...] = op[a_out[targets], b_in[targets]] * delta(rest)
    letters = "abcdefghijklmnopqrstuvwxyz"
    out_idx = list(letters[:n])
    in_idx = list(letters[n:2 * n])
    op_sub = "".join(out_idx[t] for t in targets) + "".join(letters[2 * n + k]
                                                             for k in range(len(targets)))
    eye_sub = "".join(letters[2 * n + targets.index(i)] if i in targets else out_idx[i]
                      for i in range(n)) + "".join(in_idx)
    res = np.einsum(f"{op_sub},{eye_sub}->{''.join(out_idx)}{''.join(in_idx)}", op_t, eye)
    return res.reshape(big, big)


def dense_run(dims, hamiltonian, streams: dict, collisions: list, stream_hamiltonians: dict,
              rho0, dt: float, n_steps: int, e_ops: dict):
    """Step ``n_steps`` times; returns ``(expect, heat, states)`` at steps ``0 .. n_steps-1``
    (``heat[r][s]`` is over step ``s``; ``states[s]`` the state before step ``s``).

    ``collisions`` holds ``(subsystems, V, stream, scale)`` tuples.
    """
    names = list(streams)
    n = len(dims)
    joint_dims = list(dims) + [streams[r].shape[0] for r in names]
    d = math.prod(dims)
    d_anc = math.prod(joint_dims[n:])
    step = np.eye(d * d_anc, dtype=complex)
    for subs, v, r, scale in collisions:
        s = math.sqrt(dt) if scale == "sqrt_dt" else dt
        u = embed_tensor(expm(-1j * s * np.asarray(v)), [*subs, n + names.index(r)],
                         joint_dims)
        step = u @ step
    eta = np.ones((1, 1), dtype=complex)
    for r in names:
        eta = np.kron(eta, streams[r])
    uh = expm(-1j * dt * np.asarray(hamiltonian))
    h_anc = {r: embed_tensor(stream_hamiltonians[r], [n + names.index(r)], joint_dims)
             for r in names if stream_hamiltonians.get(r) is not None}
    fresh = {r: float(np.real(np.trace(stream_hamiltonians[r] @ streams[r]))) for r in h_anc}
    rho = np.asarray(rho0, dtype=complex)
    expect = {k: [] for k in e_ops}
    heat = {r: [] for r in h_anc}
    states = []
    for _ in range(n_steps):
        states.append(rho)
        for k, op in e_ops.items():
            expect[k].append(np.trace(op @ rho))
        joint = step @ np.kron(rho, eta) @ step.conj().T
        for r, h in h_anc.items():
            heat[r].append((np.real(np.trace(h @ joint)) - fresh[r]) / dt)
        rho = np.einsum("iaja->ij", joint.reshape(d, d_anc, d, d_anc))
        rho = uh @ rho @ uh.conj().T
    return ({k: np.array(v) for k, v in expect.items()}, {r: np.array(v) for r, v in
                                                          heat.items()}, np.array(states))


def random_hermitian(rng, d: int) -> np.ndarray:
    g = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return (g + g.conj().T) / 2


def random_state(rng, d: int, rank: int | None = None) -> np.ndarray:
    g = rng.normal(size=(d, rank or d)) + 1j * rng.normal(size=(d, rank or d))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def without_mean(v: np.ndarray, eta: np.ndarray, d_s: int) -> np.ndarray:
    """``V - Tr_A[V (1 x eta)] x 1``: the interaction with its first moment removed."""
    d_a = eta.shape[0]
    mean = np.einsum("iajb,ba->ij", v.reshape(d_s, d_a, d_s, d_a), eta)
    return v - np.kron(mean, np.eye(d_a))
