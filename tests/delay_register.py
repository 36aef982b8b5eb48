"""Explicit-register reference for the delayed cascade (tests only).

Written from the physics, independent of the package's engines: the joint density
matrix of the subsystems *and of every ancilla in flight* is kept explicitly and
stepped in real time.

Model (``/work/shared`` delay specification).  Chain S1 -> S2 -> ... -> Sn; link ``i``
(from S_i to S_{i+1}) holds a queue of ``m_i`` ancillas, ``m_i`` the link delay in
steps.  At real step ``k`` (state at ``t_k = k dt`` -> ``t_{k+1}``):

1. a fresh thermal ancilla enters and collides with S1;
2. for ``i = 1 .. n-1``: the ancilla that just left S_i joins the back of link ``i``'s
   queue, and the oldest ancilla of that queue collides with S_{i+1} (with ``m_i = 0``
   this is the same ancilla, so the chain reduces to today's zero-delay cascade);
3. the ancilla leaving S_n is traced out (its energy gain is added to ``q_out``).

A collision is ``U = exp(-i theta (a^dag b + a b^dag))``, ``theta = sqrt(gamma dt)``,
built densely here (``expm_multiply`` on the identity; ``scipy.linalg.expm`` is avoided,
see the README).  At ``t = 0`` every queue holds ``m_i`` fresh thermal ancillas,
uncorrelated with everything.  Everything is in the interaction picture of the free
Hamiltonian (the collisions are resonant); rotate states with
``CascadeCollisionModel.to_lab_frame`` to compare with lab-frame results.

A qubit ancilla is exact; a bosonic ancilla is truncated to ``bath_cutoff`` Fock levels
and enters in the Gibbs state of the truncated mode (populations ``~ exp(-n omega/T)``
restricted to the kept levels and renormalised).  Truncation drops the thermal weight
``exp(-bath_cutoff omega / T)`` and every amplitude to lift the ancilla above its top
level (``~ theta^(2j)`` for ``j`` quanta in one collision): the register then describes
the truncated model exactly, the same model as an engine run with the same
``bath_cutoff``, which is what it is compared with.

Energies: oscillator ``omega n``, qubit ``omega (n - 1/2)`` (``H = omega sigma_z / 2``),
both for subsystems and ancillas; only energy differences enter the results.

Cost: the register holds ``n + sum(m_i) + 1`` factors, so it is meant for tiny chains
(qubits with ``n <= 3``, ``sum(m_i) <= 4``; oscillators with cutoff 3 and a 3-4 level bath).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


# --- single-factor ingredients ----------------------------------------------------------
def lowering(d: int) -> np.ndarray:
    """Ladder operator on ``d`` Fock levels, ground first (``d = 2``: ``sigma_-``)."""
    return np.diag(np.sqrt(np.arange(1, d, dtype=float)), 1)


def level_energies(kind: str, d: int, omega: float = 1.0) -> np.ndarray:
    """``omega (n - 1/2)`` for a qubit, ``omega n`` for an oscillator / boson mode."""
    n = np.arange(d, dtype=float)
    return omega * (n - 0.5 if kind == "qubit" else n)


def thermal_ancilla(bath: str, temperature: float, omega: float = 1.0,
                    bath_cutoff: int | None = None) -> np.ndarray:
    """Density matrix of a fresh ancilla: qubit populations ``((1 + xi)/2, (1 - xi)/2)``,
    ``xi = tanh(omega / 2T)``; boson Gibbs state truncated to ``bath_cutoff`` levels."""
    if bath == "qubit":
        xi = 1.0 if temperature == 0 else np.tanh(omega / (2 * temperature))
        return np.diag([(1 + xi) / 2, (1 - xi) / 2]).astype(complex)
    if temperature == 0:
        p = np.zeros(bath_cutoff)
        p[0] = 1.0
    else:
        p = np.exp(-omega * np.arange(bath_cutoff) / temperature)
    return np.diag(p / p.sum()).astype(complex)


def exchange_unitary(d_sys: int, d_anc: int, theta: float) -> np.ndarray:
    """Dense ``exp(-i theta (a^dag b + a b^dag))`` on subsystem x ancilla (subsystem
    most significant)."""
    a = np.kron(lowering(d_sys), np.eye(d_anc))
    b = np.kron(np.eye(d_sys), lowering(d_anc))
    g = a.T @ b + a @ b.T
    return spla.expm_multiply(sp.csc_matrix(-1j * theta * g),
                              np.eye(d_sys * d_anc, dtype=complex))


# --- operations on a tensor rho[ket axes..., bra axes...] -------------------------------
def _collide(rho: np.ndarray, u4: np.ndarray, p: int, q: int) -> np.ndarray:
    """``U rho U^dag`` with ``u4[out_p, out_q, in_p, in_q]`` acting on factors ``p, q``."""
    nax = rho.ndim // 2
    out = np.tensordot(u4, rho, axes=([2, 3], [p, q]))
    out = np.moveaxis(out, [0, 1], [p, q])
    out = np.tensordot(out, u4.conj(), axes=([nax + p, nax + q], [2, 3]))
    return np.moveaxis(out, [-2, -1], [nax + p, nax + q])


def _append(rho: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``rho x factor`` (the new factor last)."""
    nax = rho.ndim // 2
    dims = rho.shape[:nax] + factor.shape[:1]
    dim = int(np.prod(rho.shape[:nax]))
    return np.kron(rho.reshape(dim, dim), factor).reshape(dims + dims)


def _turn(rho: np.ndarray, p: int, phi: float) -> np.ndarray:
    """``R rho R^dag`` with ``R = exp(-i phi n)`` on factor ``p``."""
    nax = rho.ndim // 2
    d = rho.shape[p]
    phase = np.exp(-1j * phi * np.arange(d))
    shape_ket = [1] * rho.ndim
    shape_ket[p] = d
    shape_bra = [1] * rho.ndim
    shape_bra[nax + p] = d
    return rho * phase.reshape(shape_ket) * phase.conj().reshape(shape_bra)


def _trace_out(rho: np.ndarray, p: int) -> np.ndarray:
    return np.trace(rho, axis1=p, axis2=rho.ndim // 2 + p)


def _reduced(rho: np.ndarray, keep: list[int]) -> np.ndarray:
    """Reduced density matrix of the factors ``keep`` (in that order), as a matrix."""
    nax = rho.ndim // 2
    bra = [nax + j if j in keep else j for j in range(nax)]
    out = np.einsum(rho, list(range(nax)) + bra, list(keep) + [nax + j for j in keep])
    dim = int(np.prod([rho.shape[j] for j in keep]))
    return out.reshape(dim, dim)


def _energy(rho: np.ndarray, p: int, levels: np.ndarray) -> float:
    return float(np.real(np.diagonal(_reduced(rho, [p]))) @ levels)


def fresh_collision(rho: np.ndarray, dims: tuple[int, ...], i: int, unitary: np.ndarray,
                    ancilla: np.ndarray) -> np.ndarray:
    """``Phi_i``: subsystem ``i`` (0-based) of the joint state ``rho`` (matrix, factors
    ``dims``) collides with one fresh ancilla, which is then traced out."""
    d_anc = ancilla.shape[0]
    t = _append(np.asarray(rho, dtype=complex).reshape(dims + dims), ancilla)
    u4 = unitary.reshape(dims[i], d_anc, dims[i], d_anc)
    t = _trace_out(_collide(t, u4, i, len(dims)), len(dims))
    return t.reshape(rho.shape)


# --- the register -----------------------------------------------------------------------
@dataclass
class RegisterResult:
    """Results at real steps ``k = 0 .. n_steps`` (``t = k dt``).

    Fluxes (hbar omega gamma) at ``t_k`` come from the collisions of step ``k -> k+1``;
    ``local``/``correlated`` have shape (n, n_t), ``in_flight`` (n - 1, n_t) (hbar omega,
    energy gained relative to thermal by the ancillas in each link's queue), ``energies``
    (n, n_t) the subsystem energies ``Tr[rho H_i]``, ``q_out`` (n_t,) the energy gained by
    the ancillas that have left S_n before ``t_k``, ``states`` (n_t, D, D) the equal-time
    joint state of the subsystems (interaction picture).
    """

    t: np.ndarray
    local: np.ndarray
    correlated: np.ndarray
    in_flight: np.ndarray
    energies: np.ndarray
    q_out: np.ndarray
    states: np.ndarray


def register_run(system: str, n_systems: int, temperature: float, cutoff: int | None,
                 bath: str, bath_cutoff: int | None, delays_steps, rho0: np.ndarray,
                 dt: float, n_steps: int, gamma: float = 1.0,
                 omega: float = 1.0, phases=None) -> RegisterResult:
    """Step the delayed cascade with an explicit register of the ancillas in flight.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
    n_systems : int
    temperature : float
        Reservoir temperature (hbar omega / k_B).
    cutoff : int or None
        Fock dimension of an oscillator (ignored for qubits).
    bath : {"qubit", "boson"}
    bath_cutoff : int or None
        Fock dimension of a boson ancilla (ignored for a qubit bath).
    delays_steps : int or sequence of int
        Link delays in steps, one number for all links or one per link.
    rho0 : ndarray, shape (D, D)
        Initial joint state of the subsystems (S1 most significant).
    dt : float
        Time step (1/gamma); ``theta = sqrt(gamma dt)``.
    n_steps : int
        Last saved step; ``n_steps + 1`` steps are simulated.
    phases : sequence of float, optional
        Propagation phase of each link: an ancilla entering link i is turned by
        ``exp(-i phi_i b^dag b)``.
    """
    n = n_systems
    d_sys = 2 if system == "qubit" else int(cutoff)
    d_anc = 2 if bath == "qubit" else int(bath_cutoff)
    m = [int(delays_steps)] * (n - 1) if np.ndim(delays_steps) == 0 else list(delays_steps)
    assert len(m) == n - 1 and all(x >= 0 for x in m)
    sys_levels = level_energies(system, d_sys, omega)
    anc_levels = level_energies(bath, d_anc, omega)
    tau = thermal_ancilla(bath, temperature, omega, d_anc)
    e_thermal = float(np.real(np.diagonal(tau)) @ anc_levels)
    unitary = exchange_unitary(d_sys, d_anc, np.sqrt(gamma * dt))
    u4 = unitary.reshape(d_sys, d_anc, d_sys, d_anc)

    dims = (d_sys,) * n
    rho = np.asarray(rho0, dtype=complex).reshape(dims + dims)
    labels: list = list(range(n))  # factor p holds subsystem labels[p] or an ancilla id
    queues: list[deque] = []
    next_id = 0
    for m_i in m:  # ancillas in flight at t = 0: fresh and uncorrelated
        queues.append(deque(range(next_id, next_id + m_i)))
        for _ in range(m_i):
            rho = _append(rho, tau)
            labels.append(("anc", next_id))
            next_id += 1

    def excess(anc_id) -> float:
        return _energy(rho, labels.index(("anc", anc_id)), anc_levels) - e_thermal

    def local_flux(p: int) -> float:
        r = _reduced(rho, [p])
        after = fresh_collision(r, (d_sys,), 0, unitary, tau)
        return float(np.real(np.diagonal(r - after)) @ sys_levels) / dt

    n_t = n_steps + 1
    out = RegisterResult(t=np.arange(n_t) * dt, local=np.zeros((n, n_t)),
                         correlated=np.zeros((n, n_t)), in_flight=np.zeros((n - 1, n_t)),
                         energies=np.zeros((n, n_t)), q_out=np.zeros(n_t),
                         states=np.zeros((n_t, d_sys**n, d_sys**n), dtype=complex))
    q_out = 0.0
    for k in range(n_t):
        before = np.array([_energy(rho, i, sys_levels) for i in range(n)])
        out.energies[:, k] = before
        out.states[k] = _reduced(rho, list(range(n)))
        out.in_flight[:, k] = [sum(excess(j) for j in q) for q in queues]
        out.q_out[k] = q_out
        out.local[:, k] = [local_flux(i) for i in range(n)]
        # one real step
        rho = _append(rho, tau)
        carrier = ("anc", next_id)
        labels.append(carrier)
        next_id += 1
        for i in range(n):
            rho = _collide(rho, u4, i, labels.index(carrier))
            if i < n - 1:
                if phases is not None and phases[i]:
                    rho = _turn(rho, labels.index(carrier), phases[i])
                queues[i].append(carrier[1])
                carrier = ("anc", queues[i].popleft())
        q_out += excess(carrier[1])
        p = labels.index(carrier)
        rho = _trace_out(rho, p)
        del labels[p]
        after = np.array([_energy(rho, i, sys_levels) for i in range(n)])
        out.correlated[:, k] = (before - after) / dt - out.local[:, k]
    return out
