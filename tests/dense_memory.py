"""An independent dense reference for collision models with memory (used by the tests).

Written from the definition of one step (issue 19), sharing no code with the package: the
register holds the subsystems and one carried ancilla per memory stream.  Per step the
joint state is register x (one fresh ancilla of *every* stream); each collision acts on
its subsystems x (the carried ancilla for a memory stream, the fresh one otherwise), by
``expm``; then, for every memory stream, ``W = SWAP^swap expm(-i s V_AA)`` on (the
carried = outgoing ancilla) x (the fresh = incoming one), with the SWAP written as a
permutation of tensor legs; the outgoing ancillas and the memoryless streams' ancillas are
traced out and the incoming ones become the carried ancillas; then ``expm(-i H dt)`` on
the subsystems.  Heat: the energy of each stream's leaving ancilla minus a fresh one's,
divided by ``dt``.  Unlike the package, the ancilla-ancilla collisions come after *all*
the collisions of the step (the package puts each right after its stream's last
collision; the two commute).
"""

from __future__ import annotations

import math

import numpy as np
from dense_collision import embed_tensor
from scipy.linalg import expm

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def partial_trace(rho: np.ndarray, dims: list[int], keep: list[int]) -> np.ndarray:
    """The state of the factors ``keep`` (in that order) of ``rho`` on ``dims``."""
    n = len(dims)
    t = rho.reshape(dims + dims)
    left = list(LETTERS[:n])
    right = [LETTERS[n + i] if i in keep else left[i] for i in range(n)]
    out = "".join(left[i] for i in keep) + "".join(right[i] for i in keep)
    res = np.einsum(f"{''.join(left)}{''.join(right)}->{out}", t)
    d = math.prod(dims[i] for i in keep)
    return res.reshape(d, d)


def swap_legs(d: int) -> np.ndarray:
    """SWAP on two ``d``-level factors, as the transposition of the legs of the identity."""
    return np.eye(d * d).reshape(d, d, d, d).transpose(1, 0, 2, 3).reshape(d * d, d * d)


def scale_of(scale: str, dt: float) -> float:
    return {"sqrt_dt": math.sqrt(dt), "dt": dt, "none": 1.0}[scale]


def dense_memory_run(dims, hamiltonian, streams: dict, collisions: list, energies: dict,
                     memory: dict, rho0, dt: float, n_steps: int, e_ops: dict,
                     ledger: bool = False):
    """``(expect, heat, states)`` at steps ``0 .. n_steps - 1`` (``states[s]`` the
    subsystems' state before step ``s``; ``heat[r][s]`` over step ``s``).

    ``collisions`` holds ``(subsystems, V, stream, scale)``; ``memory`` maps a stream to
    ``(V_AA, scale, swap)``.  ``ledger=True`` adds a fourth element, the thermodynamic
    ledger of the register (subsystems + carried ancillas) per step: ``"energy"`` and
    ``"energy_after"``, ``Tr[(H x 1 + sum_r 1 x H_r) reg]`` before and after the step,
    and ``"sigma"``, ``[I(reg' : leaving) + D(rho_leaving || eta_leaving)] / dt`` from the
    joint state after the collisions (the leaving ancillas jointly; NaN unless every
    ``eta`` has full rank).
    """
    names = list(streams)
    mem = [r for r in names if r in memory]
    n, k = len(dims), len(mem)
    reg_dims = list(dims) + [streams[r].shape[0] for r in mem]
    joint_dims = reg_dims + [streams[r].shape[0] for r in names]
    carried = {r: n + i for i, r in enumerate(mem)}
    fresh = {r: n + k + i for i, r in enumerate(names)}
    step = np.eye(math.prod(joint_dims), dtype=complex)
    for subs, v, r, scale in collisions:
        slot = carried[r] if r in memory else fresh[r]
        step = embed_tensor(expm(-1j * scale_of(scale, dt) * np.asarray(v)),
                            [*subs, slot], joint_dims) @ step
    for r in mem:
        v_aa, scale, swap = memory[r]
        d = streams[r].shape[0]
        w = expm(-1j * scale_of(scale, dt) * np.asarray(v_aa))
        if swap:
            w = swap_legs(d) @ w
        step = embed_tensor(w, [carried[r], fresh[r]], joint_dims) @ step
    leaving = {r: (carried[r] if r in memory else fresh[r]) for r in names}
    keep = list(range(n)) + [fresh[r] for r in mem]  # the incoming ones become carried
    eta = np.ones((1, 1), dtype=complex)
    for r in names:
        eta = np.kron(eta, streams[r])
    uh = np.kron(expm(-1j * dt * np.asarray(hamiltonian)),
                 np.eye(math.prod(reg_dims[n:])))
    reg = np.asarray(rho0, dtype=complex)
    for r in mem:
        reg = np.kron(reg, streams[r])
    expect = {key: [] for key in e_ops}
    heat = {r: [] for r in names if energies.get(r) is not None}
    h_reg = np.kron(np.asarray(hamiltonian, dtype=complex), np.eye(math.prod(reg_dims[n:])))
    for i, r in enumerate(mem):
        if energies.get(r) is not None:
            h_reg = h_reg + embed_tensor(energies[r], [n + i], reg_dims)
    eta_out = np.ones((1, 1), dtype=complex)
    for r in names:
        eta_out = np.kron(eta_out, streams[r])
    book = {"energy": [], "energy_after": [], "sigma": []}
    states = []
    for _ in range(n_steps):
        rho_s = partial_trace(reg, reg_dims, list(range(n)))
        states.append(rho_s)
        for key, op in e_ops.items():
            expect[key].append(np.trace(op @ rho_s))
        joint = step @ np.kron(reg, eta) @ step.conj().T
        for r in heat:
            out = partial_trace(joint, joint_dims, [leaving[r]])
            heat[r].append(np.real(np.trace(energies[r] @ (out - streams[r]))) / dt)
        book["energy"].append(np.real(np.trace(h_reg @ reg)))
        after = partial_trace(joint, joint_dims, keep)
        p, v = np.linalg.eigh(eta_out)
        if ledger and p.min() <= 0:  # not of full rank: ln eta undefined here
            book["sigma"].append(np.nan)
        elif ledger:
            out = partial_trace(joint, joint_dims, [leaving[r] for r in names])
            log_eta = (v * np.log(p)) @ v.conj().T
            mutual = _entropy(after) + _entropy(out) - _entropy(joint)
            relative = -_entropy(out) - np.real(np.trace(out @ log_eta))
            book["sigma"].append((mutual + relative) / dt)
        reg = uh @ after @ uh.conj().T
        book["energy_after"].append(np.real(np.trace(h_reg @ reg)))
    out = ({key: np.array(v) for key, v in expect.items()},
           {r: np.array(v) for r, v in heat.items()}, np.array(states))
    return (*out, {k: np.array(v) for k, v in book.items()}) if ledger else out


def _entropy(rho: np.ndarray) -> float:
    p = np.linalg.eigvalsh(rho)
    p = p[p > 1e-300]
    return float(-np.sum(p * np.log(p)))
