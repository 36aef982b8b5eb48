"""The compiled step of a general collision model: a program of stages over index tables.

One step (:mod:`collision.models.general`) becomes a list of *stages* acting on the joint
state of the subsystems and the ancillas in play, stored as flat arrays that the numba
kernels of :mod:`collision._kernels.general` execute with plain loops:

``TENSOR r``
    a fresh ancilla of stream ``r`` joins as the least significant factor (just before the
    stream's first collision of the step);
``UNITARY u``
    unitary ``u`` acts on some factors: a collision ``exp(-i s V)`` on (its subsystems) x
    (its stream's ancilla), or ``exp(-i H dt)`` on all subsystems at the end of the step;
``TRACE r``
    the ancilla of stream ``r`` leaves (just after the stream's last collision of the
    step): the density engine traces it out, the trajectory engine measures it;
``PROBE r``
    the energy ``Tr[H_r rho_anc]`` of stream ``r``'s ancilla in play, recorded in column
    ``u_offset`` of the engine's energy output; the state is left alone (compiled only
    for the thermodynamic ledger of delayed models, :mod:`collision.thermo_delay`: the
    energy an ancilla carries between two collisions).

An ancilla is in play only between its stream's first and last collision of the step, so
the joint dimension stays as small as the order of the collisions allows.

Memory (:mod:`collision.models.memory`).  A stream with memory has a *carried* ancilla,
a persistent factor of the state after the subsystems (one per memory stream, in the
streams' order): the engines' state is subsystems x carried ancillas.  Its collisions act
on the carried factor (no ``TENSOR`` before them); after its last collision a fresh
ancilla joins (``TENSOR``), ``SWAP W`` acts on (carried, fresh) (``W`` on outgoing x
incoming; the ``SWAP`` moves the incoming ancilla into the carried slot and the outgoing
one into the fresh slot), and the fresh slot leaves (``TRACE``).  So the layout of the
persistent factors is the same at the start of every step, and the kernels need nothing
new.  The final ``exp(-i H dt)`` acts on the subsystems' factors only.

Index tables.  A stage on the factors ``targets`` of a joint state with factor dimensions
``layout`` has a table ``idx`` of shape ``(n_rest, d_loc)``: ``idx[r, l]`` is the joint
index of local index ``l`` (over ``targets``, the first the most significant) and rest
index ``r`` (over the other factors, in their order).  For ``TRACE`` the rest index is the
joint index after the ancilla has left; ``PROBE`` has the table ``TRACE`` would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

TENSOR, UNITARY, TRACE, PROBE = 0, 1, 2, 3
_KIND_NAMES = {TENSOR: "tensor", UNITARY: "unitary", TRACE: "trace", PROBE: "probe"}


def unitary(generator: np.ndarray, s: float) -> np.ndarray:
    """``exp(-i s G)`` for a Hermitian ``G``: Taylor series of degree 18 after scaling by
    ``2^-k`` (``|s G| 2^-k <= 1/2``, truncation below 1e-22), then ``k`` squarings.

    As accurate as scipy's Pade ``expm`` (a few 1e-17 per entry for the unit-scale
    matrices of a step, where a unitary from ``eigh`` is off by ~5e-16) and fast on a busy
    machine, where ``expm`` was measured at 15 ms for a 4 x 4 matrix.
    """
    x = -1j * s * np.asarray(generator, dtype=complex)
    norm = float(np.max(np.sum(np.abs(x), axis=1))) if x.size else 0.0
    k = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    x = x / 2**k
    eye = np.eye(x.shape[0], dtype=complex)
    out = eye.copy()
    for degree in range(18, 0, -1):  # Horner: 1 + x/1 (1 + x/2 (1 + ... ))
        out = eye + (x @ out) / degree
    for _ in range(k):
        out = out @ out
    return out


def index_table(layout: list[int], targets: list[int]) -> np.ndarray:
    """``idx`` of shape ``(n_rest, d_loc)`` for ``targets`` of ``layout`` (module docstring)."""
    n = len(layout)
    joint = np.arange(math.prod(layout), dtype=np.int64).reshape(layout)
    moved = np.moveaxis(joint, targets, list(range(len(targets))))
    d_loc = math.prod(layout[t] for t in targets)
    return np.ascontiguousarray(moved.reshape(d_loc, -1).T) if n else joint.reshape(1, 1)


@dataclass(frozen=True)
class StepProgram:
    """The stages of one step as flat arrays (module docstring).

    Attributes
    ----------
    kind, stream, d_loc, n_rest, size, idx_offset, u_offset : ndarray of int64, (n_stages,)
        Per stage: its kind, the stream (``TENSOR``/``TRACE``; -1 otherwise), the local
        dimension, the number of rest indices, the joint dimension *before* the stage,
        and offsets into ``idx`` and ``unitaries`` (``PROBE``: ``u_offset`` is the output
        column).
    idx : ndarray of int64
        The stages' index tables, concatenated (row-major ``(n_rest, d_loc)`` each).
    unitaries : ndarray of complex128
        The ``UNITARY`` stages' matrices ``(d_loc, d_loc)``, flattened and concatenated.
    max_size : int
        The largest joint dimension of the step.
    """

    kind: np.ndarray
    stream: np.ndarray
    d_loc: np.ndarray
    n_rest: np.ndarray
    size: np.ndarray
    idx_offset: np.ndarray
    u_offset: np.ndarray
    idx: np.ndarray
    unitaries: np.ndarray
    max_size: int

    def describe(self) -> list[str]:
        """One line per stage, for debugging and docs."""
        return [f"{_KIND_NAMES[int(k)]} stream={int(s)} d_loc={int(d)} size={int(n)}"
                for k, s, d, n in zip(self.kind, self.stream, self.d_loc, self.size,
                                      strict=True)]


def step_scale(scale: str, dt: float) -> float:
    """``s`` of a collision ``exp(-i s V)``: ``sqrt(dt)``, ``dt`` or 1 (``"none"``)."""
    return {"sqrt_dt": math.sqrt(dt), "dt": dt, "none": 1.0}[scale]


def compile_step(dims: tuple[int, ...], stream_dims: list[int], collisions: list[tuple],
                 hamiltonian: np.ndarray, dt: float,
                 carried: dict[int, np.ndarray] | None = None,
                 probes: dict[int, int] | None = None) -> StepProgram:
    """The :class:`StepProgram` of one step of length ``dt``.

    Parameters
    ----------
    dims : tuple of int
        The subsystems' dimensions.
    stream_dims : list of int
        Ancilla dimension of each stream (streams by index).
    collisions : list of (subsystems, interaction, stream index, scale)
        In the order of the step; ``scale`` is ``"sqrt_dt"`` or ``"dt"``.
    hamiltonian : ndarray, shape (D, D)
        The subsystems' Hamiltonian (``exp(-i H dt)`` ends the step; skipped if zero).
    dt : float
        The time step.
    carried : dict of int to ndarray, optional
        Streams with memory (by index): the unitary ``SWAP W`` on (carried, fresh), shape
        ``(d_A^2, d_A^2)`` (module docstring).  Their carried ancillas are persistent
        factors after the subsystems, in increasing stream index.
    probes : dict of int to int, optional
        ``{j: column}``: a ``PROBE`` stage after collision ``j`` (not a stream's last),
        recording its ancilla's energy in ``column`` (module docstring).
    """
    carried = dict(sorted((carried or {}).items()))
    probes = probes or {}
    first = {}
    last = {}
    for j, (_, _, r, _) in enumerate(collisions):
        first.setdefault(r, j)
        last[r] = j
    rows: list[tuple[int, int, int, int, int, np.ndarray | None, np.ndarray | int | None]] = []
    layout = list(dims) + [stream_dims[r] for r in carried]
    # the stream of each factor (-1: a subsystem; -2: a memory stream's fresh ancilla)
    owners: list[int] = [-1] * len(dims) + list(carried)
    for j, (subs, v, r, scale) in enumerate(collisions):
        size = math.prod(layout)
        if first[r] == j and r not in carried:
            rows.append((TENSOR, r, stream_dims[r], size, 1, None, None))
            layout.append(stream_dims[r])
            owners.append(r)
            size = math.prod(layout)
        targets = [*subs, owners.index(r)]
        table = index_table(layout, targets)
        rows.append((UNITARY, -1, table.shape[1], size, table.shape[0], table,
                     unitary(np.asarray(v, dtype=complex), step_scale(scale, dt))))
        if j in probes and last[r] != j:
            table = index_table(layout, [owners.index(r)])
            rows.append((PROBE, r, stream_dims[r], size, table.shape[0], table,
                         int(probes[j])))
        if last[r] == j and r in carried:  # fresh joins, SWAP W, the outgoing one leaves
            rows.append((TENSOR, r, stream_dims[r], size, 1, None, None))
            layout.append(stream_dims[r])
            owners.append(-2)
            size = math.prod(layout)
            table = index_table(layout, [owners.index(r), len(layout) - 1])
            rows.append((UNITARY, -1, table.shape[1], size, table.shape[0], table,
                         np.asarray(carried[r], dtype=complex)))
            table = index_table(layout, [len(layout) - 1])
            rows.append((TRACE, r, stream_dims[r], size, table.shape[0], table, None))
            layout.pop()
            owners.pop()
        elif last[r] == j:
            table = index_table(layout, [owners.index(r)])
            rows.append((TRACE, r, stream_dims[r], size, table.shape[0], table, None))
            del layout[owners.index(r)]
            owners.remove(r)
    if np.any(hamiltonian):
        size = math.prod(layout)
        table = np.arange(size, dtype=np.int64)[None, :] if not carried else \
            index_table(layout, list(range(len(dims))))
        rows.append((UNITARY, -1, table.shape[1], size, table.shape[0], table,
                     unitary(np.asarray(hamiltonian, dtype=complex), dt)))
    idx_parts, u_parts = [], []
    idx_offset, u_offset = [], []
    n_idx = n_u = 0
    for kind, _, _, _, _, table, u in rows:
        idx_offset.append(n_idx)
        u_offset.append(u if kind == PROBE else n_u)
        if table is not None:
            idx_parts.append(table.ravel())
            n_idx += table.size
        if u is not None and kind != PROBE:
            u_parts.append(np.ascontiguousarray(u).ravel())
            n_u += u.size
    sizes = [row[3] for row in rows]
    return StepProgram(
        kind=np.array([row[0] for row in rows], dtype=np.int64),
        stream=np.array([row[1] for row in rows], dtype=np.int64),
        d_loc=np.array([row[2] for row in rows], dtype=np.int64),
        n_rest=np.array([row[4] for row in rows], dtype=np.int64),
        size=np.array(sizes, dtype=np.int64),
        idx_offset=np.array(idx_offset, dtype=np.int64),
        u_offset=np.array(u_offset, dtype=np.int64),
        idx=np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64),
        unitaries=np.concatenate(u_parts) if u_parts else np.zeros(0, dtype=complex),
        max_size=max([*sizes, math.prod(dims)]))


@dataclass(frozen=True)
class GeneralPlan:
    """Everything a general engine needs for one run, as plain arrays.

    Attributes
    ----------
    program : StepProgram
    dims : tuple of int
    dt : float
    n_steps : int
        Steps run: ``(n_saved - 1) * save_every + 1`` (the last saved time's step gives its
        heat).
    save_every : int
    times : ndarray, shape (n_saved,)
    rho0 : ndarray, shape (D, D)
        The initial state.
    streams : list of str
        Stream names, by index.
    etas : ndarray, shape (n_streams, d_max, d_max)
        Ancilla states, zero-padded to the largest stream dimension.
    eta_probs, eta_vectors : ndarray, shapes (n_streams, d_max), (n_streams, d_max, d_max)
        Their eigen-decompositions (columns are eigenvectors; padded entries zero).
    measure : ndarray, shape (n_streams, d_max, d_max)
        The basis (columns) in which the trajectory engine measures each outgoing ancilla:
        the eigenbasis of the stream's Hamiltonian, or the computational basis.
    stream_energies : ndarray, shape (n_streams, d_max, d_max)
        The streams' Hamiltonians (zero where not given).
    fresh_energy : ndarray, shape (n_streams,)
        ``Tr[H_A eta]``: the energy a fresh ancilla brings.
    has_energy : ndarray of bool, shape (n_streams,)
    e_ops : ndarray, shape (n_ops, D, D)
    e_names : list of str
    carried_dims : tuple of int
        Dimensions of the carried ancillas of the streams with memory (empty without
        memory).  Then ``rho0`` and ``e_ops`` live on subsystems x carried ancillas
        (``D`` is that joint dimension, ``e_ops`` are ``O x 1``), and the drivers reduce
        the final state to the subsystems (:meth:`reduce`).
    delay : collision.plans.delay.DelaySchedule or None
        With travel times between collisions: the process-time run that replaces
        ``program`` (:mod:`collision.plans.delay`).
    hamiltonian : ndarray, shape (D, D), or None
        The subsystems' Hamiltonian (the thermodynamic ledger's energy,
        :mod:`collision.thermo`).
    carried_streams : tuple of int
        The stream (index into ``streams``) of every carried ancilla, in the order of
        ``carried_dims`` (the ledger's energy of the carried ancillas).
    """

    program: StepProgram
    dims: tuple[int, ...]
    dt: float
    n_steps: int
    save_every: int
    times: np.ndarray
    rho0: np.ndarray
    streams: list[str]
    etas: np.ndarray
    eta_probs: np.ndarray
    eta_vectors: np.ndarray
    measure: np.ndarray
    stream_energies: np.ndarray
    fresh_energy: np.ndarray
    has_energy: np.ndarray
    e_ops: np.ndarray
    e_names: list[str]
    carried_dims: tuple[int, ...] = ()
    delay: Any = None
    hamiltonian: np.ndarray | None = None
    carried_streams: tuple[int, ...] = ()

    @property
    def dim(self) -> int:
        """The dimension of the engines' state (subsystems x carried ancillas)."""
        return int(self.rho0.shape[0])

    @property
    def system_dim(self) -> int:
        """The subsystems' dimension ``D``."""
        return self.dim // math.prod(self.carried_dims)

    def reduce(self, state: np.ndarray | None) -> np.ndarray | None:
        """The engines' final state traced over the carried ancillas (``None`` stays)."""
        if state is None or not self.carried_dims:
            return state
        d, rest = self.system_dim, math.prod(self.carried_dims)
        return np.einsum("iaja->ij", state.reshape(d, rest, d, rest))


def stream_arrays(etas: list[np.ndarray], energies: list[np.ndarray | None]):
    """Padded ancilla states, their eigen-decompositions, measurement bases, Hamiltonians
    and fresh energies (the stream fields of :class:`GeneralPlan`)."""
    k = len(etas)
    d_max = max(e.shape[0] for e in etas)
    pad = np.zeros((k, d_max, d_max), dtype=complex)
    probs = np.zeros((k, d_max))
    vecs = np.zeros((k, d_max, d_max), dtype=complex)
    measure = np.zeros((k, d_max, d_max), dtype=complex)
    h_pad = np.zeros((k, d_max, d_max), dtype=complex)
    fresh = np.zeros(k)
    for r, (eta, h) in enumerate(zip(etas, energies, strict=True)):
        d = eta.shape[0]
        pad[r, :d, :d] = eta
        p, v = np.linalg.eigh((eta + eta.conj().T) / 2)
        p = np.clip(p, 0.0, None)
        probs[r, :d] = p / p.sum()
        vecs[r, :d, :d] = v
        if h is None:
            measure[r, :d, :d] = np.eye(d)
        else:
            h_pad[r, :d, :d] = h
            measure[r, :d, :d] = np.linalg.eigh((h + h.conj().T) / 2)[1]
            fresh[r] = float(np.real(np.trace(h @ eta)))
    has = np.array([h is not None for h in energies], dtype=bool)
    return pad, probs, vecs, measure, h_pad, fresh, has
