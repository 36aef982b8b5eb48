"""Collision models with memory: the outgoing ancilla collides with the next incoming one.

A memoryless stream gives Markovian dynamics: every ancilla the subsystems meet is fresh.
The standard way to add memory (Ciccarello, Palma and Giovannetti, PRA 87, 040103 (2013))
is an ancilla-ancilla collision: ``CollisionModel(..., memory={stream: Memory(V_AA, scale,
swap)})`` makes the stream's step

1. the stream's collisions act on its *carried* ancilla ``C`` (at ``t = 0`` fresh, in the
   stream's state ``eta``) instead of a fresh one;
2. after them a fresh ancilla ``F`` (in ``eta``) arrives, and the outgoing ancilla ``C``
   and the incoming ``F`` undergo ``W = SWAP^swap exp(-i s V_AA)`` (``V_AA`` Hermitian on
   outgoing x incoming, the outgoing the most significant factor; ``s = 1, sqrt(dt), dt``
   for ``scale = "none", "sqrt_dt", "dt"``);
3. the outgoing ancilla leaves, and the incoming one is the carried ancilla of the next
   step;

then, as for every model, the subsystems evolve by ``exp(-i H dt)``.  ``W`` is unitary by
construction (``V_AA`` is checked Hermitian).  Heat: per step the ancilla that *leaves*
carries ``Tr[H_A rho_out] - Tr[H_A eta]`` (the energy of the outgoing ancilla relative
to the fresh one that replaced it), divided by ``dt``; the energy stored in the carried
ancilla is not counted until it leaves (its change is at most ``2 ||H_A||`` over a run).

The usual choice is the partial swap (:func:`partial_swap`): ``V_AA = phi SWAP`` with
``scale="none"``, ``W = exp(-i phi SWAP) = cos(phi) 1 - i sin(phi) SWAP``.  ``phi = 0`` is
the memoryless model; ``phi = pi/2`` (a full swap up to a phase) hands the carried state
on untouched: the subsystems meet the same ancilla forever.

The composite picture (pseudomode).  With ``swap=True`` the content that persists from
step to step is the outgoing ancilla's *after* ``exp(-i s V_AA)``, moved by the swap into
the incoming slot, and what leaves is the fresh ancilla's, after the same collision.  So
the model is exactly the memoryless model on subsystems x ``P`` (one *pseudomode* ``P``
per memory stream, dimension ``d_A``, starting in ``eta``) in which

* every collision ``exp(-i s_c V_c)`` of the stream on (subsystems) x (carried) becomes
  a unitary on (subsystems, ``P``): a collision with the stream's fresh ancilla through
  ``V_c x 1_A``, which leaves the ancilla alone;
* right after the stream's last collision, ``P`` collides with the fresh ancilla through
  ``exp(-i s V_AA)`` (``P`` the most significant factor), and the ancilla leaves.

A full swap after a weak exchange, ``W = SWAP exp(-i sqrt(kappa dt) V_ex)``, is therefore
a pseudomode with a leak: ``P`` loses its excitation at rate ``kappa`` to a memoryless
stream.  :meth:`collision.CollisionModel.composite` builds that model (the test suite
checks both routes agree to rounding at every step).

Continuum limit.  In the composite picture the model is memoryless, so the derivation of
:mod:`collision.models.limit` applies unchanged: :meth:`CollisionModel.master_equation`
of a memory model is the generator of its composite model, a
:class:`PseudomodeMasterEquation` on subsystems x pseudomodes.  The limit exists when
(i) every memory has ``swap=True`` (with ``swap=False`` the carried ancilla is replaced
every step and no mode of fixed identity persists: the package knows no Markovian
embedding), (ii) the stream's collisions with the subsystems have ``scale="dt"`` (a
unitary ``exp(-i sqrt(dt) V)`` between the subsystems and a persistent mode at every step
is a Hamiltonian ``V / sqrt(dt)``, which diverges; in the limit the ``dt`` ones are the
Hamiltonian coupling ``V_c`` between subsystems and pseudomode), and (iii) the memory has
``scale="sqrt_dt"`` with ``Tr_2[V_AA (1 x eta)] = 0`` (a Lindblad leak of the pseudomode,
jump operators ``sqrt(p_k) <l| V_AA |k>`` on ``P``) or ``scale="dt"`` (a Hamiltonian
``Tr_2[V_AA (1 x eta)]`` on ``P``).  ``scale="none"`` is a finite unitary per step and
has no limit.

The damped Jaynes-Cummings model (Breuer and Petruccione, Sec. 10.1).  A qubit at
resonance, ``V = g (sigma_+ b + sigma_- b^dag)`` with the carried qubit ancilla,
``scale="dt"``, and ``W = SWAP exp(-i sqrt(kappa dt) V_ex)`` at ``T = 0``: the composite
limit is ``H = g (sigma_+ b + sigma_- b^dag)``, one jump ``sqrt(kappa) b`` on the
pseudomode.  In the one-excitation sector ``c_S' = -i g c_P``, ``c_P' = -i g c_S -
(kappa/2) c_P``, so ``c_S' = -g^2 int_0^t exp(-kappa (t-s)/2) c_S(s) ds``: the
Lorentzian kernel ``f(tau) = (gamma_0 lambda / 2) exp(-lambda tau)`` of the book with

    lambda = kappa / 2,     gamma_0 = 2 g^2 / lambda = 4 g^2 / kappa,

and ``|c_S(t)|^2 = |G(t)|^2``, ``G = exp(-lambda t/2) [cosh(d t/2) + (lambda/d) sinh(d t/2)]``,
``d = sqrt(lambda^2 - 2 gamma_0 lambda) = sqrt(kappa^2/4 - 4 g^2)``; revivals (zeros of
``G``) for ``g > kappa/4``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from lindblad import MasterEquation
from lindblad._validate import choice, describe, real_scalar

from .._operators import hermitian
from ..plans.general import unitary

#: How the strength of the ancilla-ancilla collision scales with the time step.
MEMORY_SCALES = ("none", "sqrt_dt", "dt")


def swap_operator(d: int) -> np.ndarray:
    """``SWAP |a b> = |b a>`` on two ``d``-level systems, shape ``(d^2, d^2)``."""
    out = np.zeros((d * d, d * d), dtype=complex)
    for a in range(d):
        for b in range(d):
            out[b * d + a, a * d + b] = 1.0
    return out


def partial_swap(d: int, phi: float) -> np.ndarray:
    """The generator of a partial swap between two ``d``-level ancillas: ``phi SWAP``.

    ``collision.Memory(partial_swap(d, phi))`` (``scale="none"``) makes the ancilla-ancilla
    collision ``W = exp(-i phi SWAP) = cos(phi) 1 - i sin(phi) SWAP`` (``SWAP^2 = 1``):
    the partial swap of Ciccarello, Palma and Giovannetti, which hands a fraction
    ``sin(phi)^2`` of the outgoing ancilla's state on to the incoming one.  ``phi = 0``:
    no memory; ``phi = pi/2``: a full swap (times the global phase ``-i``).

    Parameters
    ----------
    d : int
        The ancillas' dimension (>= 2).
    phi : float
        The swap angle (radians).

    Returns
    -------
    ndarray, shape (d^2, d^2)
        ``phi SWAP`` (Hermitian), the outgoing ancilla the most significant factor.
    """
    if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"partial_swap d must be an integer >= 2 (the ancillas' dimension), "
                         f"got {describe(d)}")
    return real_scalar(phi, "partial_swap phi") * swap_operator(int(d))


@dataclass(frozen=True)
class Memory:
    """The ancilla-ancilla collision of a stream with memory (module docstring).

    Parameters
    ----------
    interaction : array_like or Qobj, shape (d_A^2, d_A^2)
        Hermitian ``V_AA`` on (outgoing ancilla) x (incoming ancilla), the outgoing the most
        significant factor; dimensionless for ``scale="none"``, units of ``1/sqrt(time)``
        for ``"sqrt_dt"``, ``1/time`` for ``"dt"``.
    scale : {"none", "sqrt_dt", "dt"}
        ``W`` uses ``exp(-i s V_AA)`` with ``s = 1``, ``sqrt(dt)`` or ``dt``.
    swap : bool
        ``W = SWAP exp(-i s V_AA)`` (``True``: after the collision the outgoing and the
        incoming ancilla exchange their states; with a weak ``V_AA`` this is a pseudomode
        with a leak) or ``W = exp(-i s V_AA)`` (``False``).

    The shape against the stream's ancilla is checked by :class:`CollisionModel`.
    """

    interaction: np.ndarray = field(repr=False, compare=False)
    scale: str = "none"
    swap: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", choice(self.scale, "Memory scale", MEMORY_SCALES))
        if not isinstance(self.swap, (bool, np.bool_)):
            raise ValueError(f"Memory swap must be True or False, got {describe(self.swap)}")
        object.__setattr__(self, "swap", bool(self.swap))
        object.__setattr__(self, "interaction", hermitian(
            self.interaction, "Memory interaction (V_AA; W = exp(-i s V_AA) is unitary only "
                              "for a Hermitian V_AA)"))

    def step_scale(self, dt: float) -> float:
        """``s``: 1, ``sqrt(dt)`` or ``dt``."""
        return {"none": 1.0, "sqrt_dt": math.sqrt(dt), "dt": dt}[self.scale]


def carried_unitary(mem: Memory, d: int, dt: float) -> np.ndarray:
    """``SWAP W`` on (carried slot, fresh slot) for the step program
    (:mod:`collision.plans.general`): ``W = SWAP^swap exp(-i s V_AA)`` on outgoing x
    incoming, then the ``SWAP`` that puts the incoming ancilla in the carried slot."""
    w = unitary(mem.interaction, mem.step_scale(dt))
    return w if mem.swap else swap_operator(d) @ w


def carry(state: np.ndarray, e_ops: np.ndarray, etas: list[np.ndarray]):
    """The plan transform of memory: the initial state ``rho0 x eta_1 x ...`` and the
    operators ``O x 1`` on subsystems x carried ancillas."""
    rest = math.prod(e.shape[0] for e in etas)
    for eta in etas:
        state = np.kron(state, eta)
    ops = np.array([np.kron(o, np.eye(rest)) for o in e_ops]) if e_ops.shape[0] else \
        np.zeros((0, state.shape[0], state.shape[0]), dtype=complex)
    return state, ops


def check_memory(memory, streams: Mapping[str, np.ndarray], stream_dims: Mapping[str, int],
                 collision_streams: list[str]) -> dict[str, Memory]:
    """``{stream: Memory}`` checked against the model's streams, or ``ValueError``."""
    if memory is None:
        return {}
    if not isinstance(memory, Mapping):
        raise ValueError("memory must be a dict {stream name: collision.Memory}, got "
                         f"{describe(memory)}")
    out = {}
    for key, mem in memory.items():
        if not isinstance(key, str) or key not in streams:
            raise ValueError(f"memory names stream {key!r}, which does not exist (streams: "
                             f"{sorted(streams)})")
        if not isinstance(mem, Memory):
            raise ValueError(f"memory[{key!r}] must be a collision.Memory, got "
                             f"{describe(mem)}")
        d = stream_dims[key]
        if mem.interaction.shape != (d * d, d * d):
            raise ValueError(f"memory[{key!r}] interaction (V_AA) must be {d * d} x {d * d}: it "
                             f"acts on the outgoing x the incoming ancilla of stream {key!r} "
                             f"({d} x {d}), got shape {mem.interaction.shape}")
        if key not in collision_streams:
            raise ValueError(f"memory[{key!r}]: stream {key!r} takes part in no collision, so "
                             "its carried ancilla would never meet the subsystems")
        out[key] = mem
    # keep the streams' order: the carried ancillas are factors in that order
    return {k: out[k] for k in streams if k in out}


def embedding_problem(memory: Mapping[str, Memory], streams: Mapping[str, np.ndarray],
                      collisions) -> str | None:
    """Why the memory model has no Markovian embedding the package knows (module
    docstring, conditions i-iii), or ``None`` when the composite picture has a limit."""
    for key, mem in memory.items():
        if not mem.swap:
            return (f"memory[{key!r}] has swap=False: the carried ancilla leaves every step and "
                    "no mode of fixed identity persists; the package knows a Markovian "
                    "embedding (a pseudomode) only for swap=True")
        bad = [j for j, c in enumerate(collisions) if c.stream == key and c.scale != "dt"]
        if bad:
            return (f"collisions[{bad[0]}] of memory stream {key!r} has scale="
                    f"{collisions[bad[0]].scale!r}: with memory it is a unitary between the "
                    "subsystems and a persistent mode at every step, which has no limit "
                    "unless scale='dt' (a Hamiltonian coupling to the pseudomode)")
        if mem.scale == "none":
            return (f"memory[{key!r}] has scale='none': a finite ancilla-ancilla collision "
                    "per step has no dt -> 0 limit; use scale='sqrt_dt' (a leak of the "
                    "pseudomode) or 'dt' (a Hamiltonian on it)")
        if mem.scale == "sqrt_dt":
            d = streams[key].shape[0]
            mean = np.einsum("iajb,ba->ij", mem.interaction.reshape(d, d, d, d), streams[key])
            size = float(np.max(np.abs(mean)))
            if size > 1e-10 * max(1.0, float(np.max(np.abs(mem.interaction)))):
                return (f"memory[{key!r}] (scale='sqrt_dt') has a non-zero first moment in "
                        f"the stream's state, Tr_2[V_AA (1 x eta)] (largest entry "
                        f"{size:.3g}): the pseudomode would move by O(sqrt(dt)) per step")
    return None


class PseudomodeMasterEquation(MasterEquation):
    """The master equation of a memory model on subsystems x pseudomodes.

    A :class:`lindblad.MasterEquation` on the joint space (``dims`` = the subsystems'
    dimensions, then one pseudomode per memory stream, in the streams' order), with the
    embedding of the subsystems' state and the reduction back:

    * :meth:`full_state` ``rho_S -> rho_S x eta_1 x ...`` (the pseudomodes start in their
      streams' states);
    * :meth:`reduce` the partial trace over the pseudomodes;
    * :meth:`evolve_reduced` and :meth:`expect_reduced`, which take and give the
      subsystems' state and operators, as :meth:`CollisionModel.run` does.

    ``evolve``, ``expect``, ``liouvillian``, ``steady_state`` and ``to_qutip`` act on the
    joint space, as for every ``MasterEquation``.
    """

    def __init__(self, hamiltonian, jump_operators, dims, n_subsystems: int,
                 pseudomode_states: list[np.ndarray]):
        super().__init__(hamiltonian, jump_operators, dims=dims)
        self.n_subsystems = int(n_subsystems)
        self.subsystem_dims = tuple(self.dims[:self.n_subsystems])
        self.subsystem_dim = math.prod(self.subsystem_dims)
        self.pseudomode_states = [np.array(e, dtype=complex) for e in pseudomode_states]

    def full_state(self, rho0) -> np.ndarray:
        """``rho0 x eta_1 x ...``: the subsystems' state (matrix or vector) joined by the
        pseudomodes' initial states, shape ``(D_joint, D_joint)``."""
        arr = np.asarray(rho0, dtype=complex)
        if arr.ndim == 1:
            arr = np.outer(arr, arr.conj())
        if arr.shape != (self.subsystem_dim, self.subsystem_dim):
            raise ValueError(f"rho0 must be a state of the subsystems ({self.subsystem_dim} x "
                             f"{self.subsystem_dim}, or a vector of that length), got shape "
                             f"{np.shape(rho0)}")
        for eta in self.pseudomode_states:
            arr = np.kron(arr, eta)
        return arr

    def reduce(self, states: np.ndarray) -> np.ndarray:
        """The partial trace over the pseudomodes of ``(..., D_joint, D_joint)`` states."""
        d = self.subsystem_dim
        rest = self.dim // d
        arr = np.asarray(states)
        shape = arr.shape[:-2]
        arr = arr.reshape(*shape, d, rest, d, rest)
        return np.einsum("...iaja->...ij", arr)

    def evolve_reduced(self, rho0, times) -> np.ndarray:
        """The subsystems' state at ``times`` from theirs at 0, shape ``(n_t, D, D)``."""
        return self.reduce(self.evolve(self.full_state(rho0), times))

    def expect_reduced(self, operators, rho0, times):
        """``Tr[O rho_S(t)]`` for operators on the subsystems (a dict or a list, as
        :meth:`lindblad.MasterEquation.expect`)."""
        d = self.subsystem_dim
        rest = self.dim // d
        if isinstance(operators, Mapping):
            lifted = {k: np.kron(np.asarray(o, dtype=complex), np.eye(rest))
                      for k, o in operators.items()}
        else:
            lifted = [np.kron(np.asarray(o, dtype=complex), np.eye(rest)) for o in operators]
        return self.expect(lifted, self.full_state(rho0), times)
