"""The general collision model: what the user writes.

A model is a list of subsystems (their dimensions), their Hamiltonian, one or more
*streams* of ancillas (each supplies one fresh ancilla per step in a given state), and the
ordered list of *collisions* that one step applies.  One step of length ``dt``:

1. the collisions in their order, each ``U = exp(-i s V)`` on its subsystems x the current
   ancilla of its stream, with ``s = sqrt(dt)`` (``scale="sqrt_dt"``, a reservoir-type
   collision: the paper's ``theta = sqrt(gamma dt)`` is ``V = sqrt(gamma) (a^dag b +
   a b^dag)``), ``s = dt`` (``scale="dt"``, a weak collision of Hamiltonian type) or
   ``s = 1`` (``scale="none"``, a collision of fixed strength, which has no continuum
   limit);
2. every ancilla leaves (it is traced out) -- except with ``memory``
   (:mod:`collision.models.memory`): a stream's outgoing ancilla then collides with the
   next incoming one, which becomes the ancilla the subsystems meet in the next step;
3. the subsystems evolve by ``exp(-i H dt)``.

Conventions (DESIGN.md section 3): hbar = 1, subsystem 0 (S1) is the most significant
factor of every Kronecker product, and an interaction ``V`` acts on (its subsystems, in
the order given) x (the stream's ancilla), the ancilla least significant.

This module validates the description; :mod:`collision.models.limit` derives its
continuum limit, :mod:`collision.models.memory` that of models with memory (through
their composite, memoryless picture).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from lindblad import MasterEquation
from lindblad._validate import as_matrix, as_real, choice, describe, integer, real_scalar
from lindblad.states import validate_density_matrix

from .._loop import warn
from .._operators import embed, hermitian
from ..counting_general import heat_statistics as _heat_statistics
from ..engines.general import (
    run_density,
    run_density_delayed,
    run_trajectories,
    statistics_result,
)
from ..initial import initial_state, state_digest
from ..options import DensityOptions, TrajectoryOptions, engine_options
from ..plans.delay import is_sum_of_local, schedule, site_of
from ..plans.exchange import delay_steps, time_grid
from ..plans.general import GeneralPlan, compile_step, stream_arrays
from ..resources import check_output_memory
from ..results import Result
from ..statistics import check_disjoint
from ..thermo import check_ledger
from .limit import continuum_limit, continuum_order
from .memory import (
    Memory,
    PseudomodeMasterEquation,
    carried_unitary,
    carry,
    check_memory,
    embedding_problem,
)

#: How a collision's strength scales with the time step.
SCALES = ("sqrt_dt", "dt", "none")
#: The stream a single ancilla state (not a dict) is given the name of.
DEFAULT_STREAM = "bath"
#: Largest joint dimension of the subsystems a general model accepts (its density
#: matrices are dense, 16 D^2 bytes: 256 MiB here).
MAX_DIMENSION = 4096


@dataclass(frozen=True)
class Collision:
    """One collision of a step: ``exp(-i s V)`` on ``subsystems`` x the stream's ancilla.

    Parameters
    ----------
    subsystems : int or tuple of int
        The subsystems the ancilla meets in this collision (0 is S1); ``V`` acts on them
        in the order given.
    interaction : array_like or Qobj, shape (d_S d_A, d_S d_A)
        Hermitian ``V`` on (those subsystems) x (the ancilla), the ancilla the least
        significant factor; units of ``1/sqrt(time)`` for ``scale="sqrt_dt"`` (so
        ``sqrt(dt) V`` is dimensionless), ``1/time`` for ``scale="dt"``.
    stream : str
        The name of the stream whose ancilla takes part (default ``"bath"``).
    scale : {"sqrt_dt", "dt", "none"}
        ``U = exp(-i sqrt(dt) V)`` (reservoir-type; the collision survives the continuum
        limit as dissipation), ``U = exp(-i dt V)`` (a weak collision: in the limit
        only its mean field acts, as a Hamiltonian) or ``U = exp(-i V)`` (fixed strength;
        no continuum limit).

    Shapes against the model's dimensions are checked by :class:`CollisionModel`.
    """

    subsystems: tuple[int, ...]
    interaction: np.ndarray = field(repr=False, compare=False)
    stream: str = DEFAULT_STREAM
    scale: str = "sqrt_dt"

    def __post_init__(self) -> None:
        subs = self.subsystems
        if isinstance(subs, (int, np.integer)) and not isinstance(subs, (bool, np.bool_)):
            subs = (subs,)
        if not isinstance(subs, (tuple, list)) or not subs:
            raise ValueError("Collision subsystems must be a subsystem index or a non-empty "
                             f"tuple of indices, got {describe(self.subsystems)}")
        subs = tuple(integer(s, "Collision subsystems", 0) for s in subs)
        if len(set(subs)) != len(subs):
            raise ValueError(f"Collision subsystems must be distinct, got {subs}")
        if not isinstance(self.stream, str) or not self.stream:
            raise ValueError(f"Collision stream must be a stream's name (a non-empty string), "
                             f"got {describe(self.stream)}")
        object.__setattr__(self, "subsystems", subs)
        object.__setattr__(self, "scale", choice(self.scale, "Collision scale", SCALES))
        object.__setattr__(self, "interaction",
                           hermitian(self.interaction, "Collision interaction"))


def _streams(streams, name: str = "streams") -> dict[str, np.ndarray]:
    """``{name: ancilla state}`` from a dict or a single matrix (one stream, "bath")."""
    if streams is None:
        raise ValueError("streams must give each reservoir's ancilla state: a density matrix "
                         f"(one stream named {DEFAULT_STREAM!r}) or a dict {{name: matrix}}")
    if not isinstance(streams, Mapping):
        streams = {DEFAULT_STREAM: streams}
    if not streams:
        raise ValueError(f"{name} must name at least one stream")
    out = {}
    for key, eta in streams.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name} keys must be non-empty strings, got {describe(key)}")
        out[key] = validate_density_matrix(eta, name=f"the ancilla state of stream {key!r}")
    return out


class CollisionModel:
    """A collision model: subsystems, their Hamiltonian, ancilla streams and collisions.

    Parameters
    ----------
    dims : sequence of int
        Local dimensions of the subsystems (each >= 2), S1 first (most significant).
    hamiltonian : array_like or Qobj, shape (D, D), or a list of local ones, optional
        The subsystems' Hamiltonian (may couple them); a list of ``len(dims)`` local
        ``d_i x d_i`` Hamiltonians means their sum.  Default zero.
    streams : array_like or dict of str to array_like
        The reservoirs: each supplies one fresh ancilla per step in this state (any
        density matrix: thermal, coherent, squeezed, ...).  A single matrix is one stream
        named ``"bath"``.
    collisions : sequence of Collision
        What one step does, in order (module docstring).
    stream_hamiltonians : dict of str to array_like, optional
        Energies of the streams' ancillas (``d_A x d_A`` Hermitian); needed for the heat a
        stream carries away.
    memory : dict of str to Memory, optional
        Streams with memory (:mod:`collision.models.memory`): after the stream's last
        collision of a step, its outgoing ancilla and a fresh incoming one undergo
        ``W = SWAP^swap exp(-i s V_AA)``; the outgoing one leaves and the incoming one is
        the ancilla the subsystems meet in the next step.  The engines then carry
        subsystems x one ancilla per memory stream; ``e_ops``, ``final_state`` and the
        result refer to the subsystems.

    Raises
    ------
    ValueError
        Before any work, for a wrong shape, a non-Hermitian operator, an ancilla state that
        is not a density matrix, a subsystem index out of range, a stream name that does
        not exist, a collision list that is empty, a memory on a stream that does not
        exist or has no collision, a ``V_AA`` of the wrong shape.
    """

    def __init__(self, dims, hamiltonian=None, streams=None, collisions=(),
                 stream_hamiltonians: Mapping | None = None, memory: Mapping | None = None,
                 delay=0.0):
        self.dims = _dims(dims)
        self.dim = math.prod(self.dims)
        self.streams = _streams(streams)
        self.stream_dims = {k: v.shape[0] for k, v in self.streams.items()}
        self.hamiltonian = self._hamiltonian(hamiltonian)
        self.collisions = self._collisions(collisions)
        self.stream_hamiltonians = self._stream_hamiltonians(stream_hamiltonians)
        self.delay, self._links = self._delays(delay)
        self.memory = check_memory(memory, self.streams, self.stream_dims,
                                   [c.stream for c in self.collisions])
        joint = self.dim * math.prod(self.stream_dims[r] for r in self.memory)
        if joint > MAX_DIMENSION:
            raise ValueError(f"memory: the subsystems ({self.dim}) and the carried ancillas "
                             f"give a joint dimension {joint}, above {MAX_DIMENSION}, the "
                             "largest dense state a general model keeps")

    # --- validation --------------------------------------------------------------------
    def _hamiltonian(self, hamiltonian) -> np.ndarray:
        if hamiltonian is None:
            return np.zeros((self.dim, self.dim), dtype=complex)
        if isinstance(hamiltonian, (list, tuple)) and hamiltonian \
                and all(np.ndim(as_matrix(h, "hamiltonian")) == 2 for h in hamiltonian):
            if len(hamiltonian) != len(self.dims):
                raise ValueError(f"hamiltonian as a list needs one local Hamiltonian per "
                                 f"subsystem ({len(self.dims)}), got {len(hamiltonian)}")
            total = np.zeros((self.dim, self.dim), dtype=complex)
            for i, h in enumerate(hamiltonian):
                local = hermitian(h, f"hamiltonian[{i}] (the local Hamiltonian of S{i + 1})",
                                  self.dims[i])
                total += embed(local, (i,), self.dims)
            return total
        return hermitian(hamiltonian, "hamiltonian", self.dim)

    def _collisions(self, collisions) -> tuple[Collision, ...]:
        if isinstance(collisions, Collision):
            collisions = [collisions]
        if not isinstance(collisions, Iterable) or isinstance(collisions, (str, bytes)):
            raise ValueError(f"collisions must be a list of collision.Collision, got "
                             f"{describe(collisions)}")
        out = tuple(collisions)
        if not out:
            raise ValueError("collisions must list at least one collision.Collision (a step "
                             "with none leaves the subsystems closed)")
        for j, c in enumerate(out):
            if not isinstance(c, Collision):
                raise ValueError(f"collisions[{j}] must be a collision.Collision, got "
                                 f"{describe(c)}")
            bad = [s for s in c.subsystems if s >= len(self.dims)]
            if bad:
                raise ValueError(f"collisions[{j}] names subsystem {bad[0]}, but the model has "
                                 f"{len(self.dims)} subsystems (indices 0 .. "
                                 f"{len(self.dims) - 1})")
            if c.stream not in self.streams:
                raise ValueError(f"collisions[{j}] uses stream {c.stream!r}, which does not "
                                 f"exist (streams: {sorted(self.streams)})")
            need = math.prod(self.dims[s] for s in c.subsystems) * self.stream_dims[c.stream]
            if c.interaction.shape != (need, need):
                local = " x ".join(str(self.dims[s]) for s in c.subsystems)
                raise ValueError(f"collisions[{j}] interaction must be {need} x {need} (subsystems "
                                 f"{c.subsystems}: {local}, times the ancilla of stream "
                                 f"{c.stream!r}: {self.stream_dims[c.stream]}), got shape "
                                 f"{c.interaction.shape}")
        return out

    def _stream_hamiltonians(self, given) -> dict[str, np.ndarray | None]:
        out: dict[str, np.ndarray | None] = dict.fromkeys(self.streams)
        if given is None:
            return out
        if not isinstance(given, Mapping):
            raise ValueError("stream_hamiltonians must be a dict {stream name: H_A}, got "
                             f"{describe(given)}")
        for key, h in given.items():
            if key not in self.streams:
                raise ValueError(f"stream_hamiltonians names stream {key!r}, which does not "
                                 f"exist (streams: {sorted(self.streams)})")
            out[key] = hermitian(h, f"stream_hamiltonians[{key!r}]", self.stream_dims[key])
        return out

    def _delays(self, delay) -> tuple[dict[str, tuple[float, ...]], dict[int, float]]:
        """``delay``: one travel time (1/gamma units of the model's time) between
        consecutive collisions of every stream, or ``{stream: one time or one per link}``;
        returns the links per stream and each collision's offset time
        (:mod:`collision.plans.delay`: which models can be delayed, and how)."""
        per_stream = {r: [j for j, c in enumerate(self.collisions) if c.stream == r]
                      for r in self.streams}
        given = delay if isinstance(delay, Mapping) else dict.fromkeys(self.streams, delay)
        out: dict[str, tuple[float, ...]] = {}
        offsets: dict[int, float] = {}
        for r, value in given.items():
            if r not in self.streams:
                raise ValueError(f"delay names stream {r!r}, which does not exist (streams: "
                                 f"{sorted(self.streams)})")
            links = max(len(per_stream[r]) - 1, 0)
            values = list(value) if isinstance(value, (list, tuple, np.ndarray)) \
                else [value] * links
            if len(values) != links:
                raise ValueError(f"delay of stream {r!r} needs one travel time per link "
                                 f"between its {len(per_stream[r])} collisions ({links}), got "
                                 f"{len(values)}")
            times = tuple(_travel_time(v, f"delay of stream {r!r}") for v in values)
            out[r] = times
            total = 0.0
            for k, j in enumerate(per_stream[r]):
                offsets[j] = total
                if k < links:
                    total += times[k]
        if any(t > 0 for times in out.values() for t in times):
            self._check_delayable(offsets)
        return out, offsets

    def _check_delayable(self, offsets: dict[int, float]) -> None:
        """The conditions of :mod:`collision.plans.delay`, or a ValueError naming the one
        that fails."""
        for j, c in enumerate(self.collisions):
            if len(c.subsystems) != 1:
                raise ValueError(f"delay: collisions[{j}] acts on subsystems {c.subsystems}; "
                                 "a delayed model needs every collision on one subsystem")
        if not is_sum_of_local(self.hamiltonian, self.dims):
            raise ValueError("delay: the subsystems' Hamiltonian couples them; a delayed "
                             "model needs a sum of local Hamiltonians (the subsystems then "
                             "interact only through the ancillas)")
        for i in range(len(self.dims)):
            times = {offsets[j] for j, c in enumerate(self.collisions) if c.subsystems[0] == i}
            if len(times) > 1:
                raise ValueError(f"delay: subsystem {i} meets collisions at different travel "
                                 f"times {sorted(times)}; a delayed model needs one per "
                                 "subsystem")

    # --- the record ---------------------------------------------------------------------
    @property
    def parameters(self) -> dict:
        """The model as plain JSON values (every operator as ``{"real": rows, "imag":
        rows}``, exact): :meth:`from_parameters` rebuilds it, so a result's parameters
        re-run it bit for bit."""
        return {"model": type(self).__name__, "dims": list(self.dims),
                "hamiltonian": _matrix_record(self.hamiltonian),
                "streams": {r: _matrix_record(eta) for r, eta in self.streams.items()},
                "stream_hamiltonians": {r: None if h is None else _matrix_record(h)
                                        for r, h in self.stream_hamiltonians.items()},
                "collisions": [{"subsystems": list(c.subsystems),
                                "interaction": _matrix_record(c.interaction),
                                "stream": c.stream, "scale": c.scale}
                               for c in self.collisions],
                "memory": {r: {"interaction": _matrix_record(m.interaction), "scale": m.scale,
                               "swap": bool(m.swap)} for r, m in self.memory.items()},
                "delay": {r: list(times) for r, times in self.delay.items() if times}}

    @classmethod
    def from_parameters(cls, parameters: dict) -> CollisionModel:
        """Rebuild a model from :attr:`parameters` (or a result's ``parameters``)."""
        try:
            energies = {r: _matrix(h) for r, h in parameters["stream_hamiltonians"].items()
                        if h is not None}
            memory = {r: Memory(_matrix(m["interaction"]), m["scale"], m["swap"])
                      for r, m in parameters.get("memory", {}).items()}
            return CollisionModel(
                parameters["dims"], _matrix(parameters["hamiltonian"]),
                {r: _matrix(eta) for r, eta in parameters["streams"].items()},
                [Collision(tuple(c["subsystems"]), _matrix(c["interaction"]), c["stream"],
                           c["scale"]) for c in parameters["collisions"]],
                stream_hamiltonians=energies, memory=memory or None,
                delay=parameters.get("delay") or 0.0)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"these parameters do not describe a CollisionModel (missing or "
                             f"malformed {exc})") from None

    # --- what the model is ------------------------------------------------------------
    @property
    def n_subsystems(self) -> int:
        return len(self.dims)

    @property
    def continuum_order(self) -> float:
        """The order in ``dt`` at which runs converge to :meth:`master_equation`: 1.0 when
        the ``dt^{3/2}`` part of the step map vanishes (e.g. exchange collisions with
        thermal ancillas), 0.5 otherwise (:mod:`collision.models.limit`; for a model
        with memory, that of its :meth:`composite` model)."""
        return continuum_order(self._embedding()) if self.memory else continuum_order(self)

    def composite(self) -> CollisionModel:
        """The same model in the composite picture: memoryless, on subsystems x one
        pseudomode per memory stream (:mod:`collision.models.memory`).

        Every memory must have ``swap=True``.  The pseudomode of stream ``r`` is the
        subsystem after the model's subsystems (in the streams' order), of dimension
        ``d_A``; the stream's collisions ``V_c`` become collisions on (subsystems,
        pseudomode) through ``V_c x 1_A`` (the fresh ancilla is left alone), and
        ``Collision(pseudomode, V_AA, r, scale)`` follows the stream's last collision.
        Start it from ``rho0 x eta_r`` (:meth:`composite_state`); its subsystems' state,
        expectation values and heat equal this model's at every step.

        Raises
        ------
        ValueError
            If the model has no memory, or a memory has ``swap=False``.
        """
        if not self.memory:
            raise ValueError("composite() needs a model with memory (memory={stream: "
                             "collision.Memory(...)}); this one is memoryless already")
        no_swap = [r for r, m in self.memory.items() if not m.swap]
        if no_swap:
            raise ValueError(f"composite(): memory[{no_swap[0]!r}] has swap=False; the "
                             "pseudomode picture (a persistent mode that collides with the "
                             "fresh ancilla through exp(-i s V_AA)) needs swap=True")
        n = len(self.dims)
        modes = {r: n + k for k, r in enumerate(self.memory)}
        dims = list(self.dims) + [self.stream_dims[r] for r in self.memory]
        rest = math.prod(dims[n:])
        last = {c.stream: j for j, c in enumerate(self.collisions)}
        collisions = []
        for j, c in enumerate(self.collisions):
            if c.stream not in self.memory:
                collisions.append(c)
                continue
            d_a = self.stream_dims[c.stream]
            collisions.append(Collision((*c.subsystems, modes[c.stream]),
                                        np.kron(c.interaction, np.eye(d_a)), c.stream,
                                        c.scale))
            if last[c.stream] == j:
                mem = self.memory[c.stream]
                collisions.append(Collision(modes[c.stream], mem.interaction, c.stream,
                                            mem.scale))
        given = {r: h for r, h in self.stream_hamiltonians.items() if h is not None}
        return CollisionModel(dims, np.kron(self.hamiltonian, np.eye(rest)), self.streams,
                              collisions, given)

    def composite_state(self, rho0) -> np.ndarray:
        """``rho0 x eta_r x ...``: an initial state of the subsystems joined by the
        pseudomodes' (the carried ancillas') initial states, for :meth:`composite`."""
        state = initial_state(rho0, self.dims).dense()
        return carry(state, np.zeros((0, self.dim, self.dim), dtype=complex),
                     [self.streams[r] for r in self.memory])[0]

    def _embedding(self) -> CollisionModel:
        """The composite model, or ``ValueError`` if it has no continuum limit."""
        problem = embedding_problem(self.memory, self.streams, self.collisions)
        if problem is not None:
            raise ValueError("the collision model with memory has no Markovian embedding the "
                             f"package knows: {problem}")
        return self.composite()

    def master_equation(self) -> MasterEquation:
        """The Lindblad generator of the ``dt -> 0`` limit of the step map.

        Includes the Hamiltonian that the order of the collisions produces (for the
        paper's cascade, the cascade term) and the mean field of ``scale="dt"``
        collisions; derivation in :mod:`collision.models.limit`.  For a model with memory,
        the generator of its :meth:`composite` model: a
        :class:`collision.models.memory.PseudomodeMasterEquation` on subsystems x
        pseudomodes, whose ``evolve_reduced`` / ``expect_reduced`` give the subsystems'
        state from theirs.

        Raises
        ------
        ValueError
            If a stream's ``sqrt_dt`` collisions have a non-zero first moment in the
            stream's state: the limit does not exist (the message names the collisions
            and how to rescale them); a collision has ``scale="none"``; a model with
            memory has no Markovian embedding the package knows (the message says why).
        """
        if self.memory:
            composite = self._embedding()
            h, jumps = continuum_limit(composite)
            return PseudomodeMasterEquation(h, jumps, list(composite.dims), len(self.dims),
                                            [self.streams[r] for r in self.memory])
        h, jumps = continuum_limit(self)
        return MasterEquation(h, jumps, dims=list(self.dims))

    # --- runs ---------------------------------------------------------------------------
    def plan(self, rho0, t_max: float, dt: float, save_every: int = 1,
             e_ops=None) -> GeneralPlan:
        """Validate a run and compile its step (:class:`collision.plans.general.GeneralPlan`).

        Raises
        ------
        ValueError
            For a bad initial state, time grid or ``e_ops``, or output that would not fit
            in memory.
        """
        state = initial_state(rho0, self.dims).dense()
        dt, t_max, save_every, steps = time_grid(0.0, t_max, dt, save_every)
        names, ops = _e_ops(e_ops, self.dim)
        check_output_memory(steps, save_every, 16 * (len(ops) + len(self.streams)) + 8)
        n_saved = steps // save_every + 1
        order = list(self.streams)
        carried = {order.index(r): carried_unitary(m, self.stream_dims[r], dt)
                   for r, m in self.memory.items()}
        program = compile_step(self.dims, [self.stream_dims[r] for r in order],
                               [(c.subsystems, c.interaction, order.index(c.stream), c.scale)
                                for c in self.collisions], self.hamiltonian, dt, carried)
        etas, probs, vecs, measure, energies, fresh, has = stream_arrays(
            [self.streams[r] for r in order], [self.stream_hamiltonians[r] for r in order])
        delayed = None
        if any(t > 0 for times in self.delay.values() for t in times):
            delayed = self._schedule(order, dt, (n_saved - 1) * save_every + 1,
                                     (n_saved - 1) * save_every, names, ops)
        if self.memory:  # the engines' state: subsystems x carried ancillas
            state, ops = carry(state, ops, [self.streams[r] for r in self.memory])
        return GeneralPlan(program=program, dims=self.dims, dt=dt,
                           n_steps=(n_saved - 1) * save_every + 1, save_every=save_every,
                           times=np.arange(n_saved) * save_every * dt, rho0=state,
                           streams=order, etas=etas, eta_probs=probs, eta_vectors=vecs,
                           measure=measure, stream_energies=energies, fresh_energy=fresh,
                           has_energy=has, e_ops=ops, e_names=names,
                           carried_dims=tuple(self.stream_dims[r] for r in self.memory),
                           delay=delayed, hamiltonian=self.hamiltonian,
                           carried_streams=tuple(order.index(r) for r in self.memory))

    def _schedule(self, order: list[str], dt: float, n_steps: int, last_saved: int,
                  names: list[str], ops: np.ndarray):
        """The process-time run of a delayed model (:mod:`collision.plans.delay`)."""
        if self.memory:
            raise ValueError("delay and memory together are not available: the carried "
                             "ancilla of a memory stream is not in flight")
        sites = []
        for name, op in zip(names, ops, strict=True):
            site = site_of(op, self.dims)
            if site is None:
                raise ValueError(f"with delay, e_ops[{name!r}] must act on one subsystem: the "
                                 "subsystems are at different process steps, and their joint "
                                 "state at equal times is only final_state")
            sites.append(site)
        offsets = [0] * len(self.collisions)
        last = {}
        for r in order:
            mine = [j for j, c in enumerate(self.collisions) if c.stream == r]
            steps = delay_steps(self.delay.get(r, (0.0,) * (len(mine) - 1)), dt, cap=n_steps)
            total = 0
            for k, j in enumerate(mine):
                offsets[j] = min(total, n_steps)
                total += steps[k] if k < len(steps) else 0
            last[r] = offsets[mine[-1]] if mine else 0
        return schedule(self.dims, [self.stream_dims[r] for r in order],
                        [(c.subsystems, c.interaction, order.index(c.stream), c.scale)
                         for c in self.collisions], self.hamiltonian, dt, offsets, n_steps,
                        last_saved, sites, [last[r] for r in order])

    def run(self, rho0, t_max: float, dt: float, method: str = "density", e_ops=None,
            save_every: int = 1, n_trajectories: int | None = None, seed=None,
            target_stderr: float | None = None, progress: bool = False,
            options: DensityOptions | TrajectoryOptions | None = None,
            thermodynamics: bool = False) -> Result:
        """Run the collision model.

        Parameters
        ----------
        rho0 : array_like or Qobj
            Initial state of the subsystems: a ``(D, D)`` density matrix, a list of the
            local density matrices (their product, S1 first) or a state vector.
        t_max, dt : float
            Final time and time step; saved times ``k save_every dt`` up to ``t_max``.
        method : {"density", "trajectories"}
            The exact ensemble average, or Monte Carlo trajectories with standard errors.
        e_ops : dict of str to operator, or list of operators, optional
            Operators ``O`` (``D x D``) whose ``Tr[O rho(t)]`` is saved (QuTiP's
            convention: a list gives keys ``"0", "1", ...``).
        save_every : int
            Save every this many steps.
        n_trajectories, seed, target_stderr
            Monte Carlo shortcuts for the fields of
            :class:`collision.options.TrajectoryOptions` (``target_stderr``: the largest
            standard error of any saved quantity).
        progress : bool
            Show a progress bar; Ctrl-C returns the finished part with ``partial=True``.
        options : DensityOptions or TrajectoryOptions, optional
            The engine's options; the shortcuts override its fields.  ``scheme``,
            ``estimator`` and ``stepper`` choose among the exchange kernels of the
            paper's cascade and must stay ``"auto"`` here, except ``scheme``:
            ``"superoperator"`` (the step's ``D^2 x D^2`` matrix, built once) or
            ``"sequential"`` (the collisions applied to the joint state at every step);
            ``"auto"`` takes the cheaper.
        thermodynamics : bool
            Also compute the thermodynamic ledger (:mod:`collision.thermo`): energy,
            switching work, entropy production (both forms), cumulative sums, in
            ``result.thermodynamics``.  Off by default: it costs two ``D x D`` eigenvalue
            problems per saved time.  Trajectories estimate the expectation values
            (energy, heat, work, their cumulative sums) with standard errors and leave the
            entropies ``None`` (:mod:`collision.thermo_trajectories`); ``target_stderr``
            looks at the other quantities only.  With memory the ledger is that of
            subsystems + carried ancillas.  With delay (either engine): energy with the
            ancillas in flight, heat when an ancilla leaves, work; no entropies
            (:mod:`collision.thermo_delay`).

        Returns
        -------
        collision.results.Result
            ``t``, ``expect``, ``heat`` (streams with a Hamiltonian), ``final_state``,
            ``parameters``; Monte Carlo adds ``stderr`` and ``statistics``.
        """
        if method not in ("density", "trajectories"):
            raise ValueError(f"method must be 'density' or 'trajectories' for a "
                             f"CollisionModel, got {method!r}")
        opts = engine_options(method, options, n_trajectories=n_trajectories, seed=seed,
                              target_stderr=target_stderr, progress=progress or None)
        if getattr(opts, "scheme", "auto") == "kraus":
            raise ValueError("scheme='kraus' is a kernel of the paper's exchange cascade; a "
                             "general CollisionModel offers 'auto', 'superoperator' and "
                             "'sequential'")
        for name in ("estimator", "stepper"):
            if getattr(opts, name, "auto") != "auto":
                raise ValueError(f"{name}={getattr(opts, name)!r} chooses among the exchange "
                                 "kernels of the paper's cascade; a general CollisionModel "
                                 f"runs its own kernels: leave {name}='auto'")
        if not isinstance(thermodynamics, (bool, np.bool_)):
            raise ValueError(f"thermodynamics must be True or False, got {thermodynamics!r}")
        plan = self.plan(rho0, t_max, dt, save_every, e_ops)
        if thermodynamics:
            check_ledger(plan, method)
        if plan.delay is not None and method == "density":
            result = run_density_delayed(plan, progress=opts.progress,
                                         thermodynamics=bool(thermodynamics))
        elif method == "density":
            result = run_density(plan, progress=opts.progress, scheme=opts.scheme,
                                 thermodynamics=bool(thermodynamics))
        else:
            result = run_trajectories(plan, opts.n_trajectories, opts.seed,
                                      opts.first_trajectory, opts.target_stderr,
                                      opts.n_threads, opts.final_state, opts.progress,
                                      thermodynamics=bool(thermodynamics))
        if result.partial:
            warn(f"run interrupted: the result covers t <= {result.t[-1]:g} "
                 "(partial=True)" if result.t.size else "run interrupted before the first "
                 "saved time", UserWarning)
        result.parameters = {"source": "collision", **self.parameters,
                             "initial_state": state_digest(initial_state(rho0, self.dims)),
                             "method": method, "options": opts.as_dict(), "dt": plan.dt,
                             "t_max": float(t_max), "save_every": plan.save_every,
                             "e_ops": {name: _matrix_record(op) for name, op
                                       in zip(plan.e_names, plan.e_ops, strict=True)},
                             **result.parameters}
        return result

    def heat_statistics(self, rho0, t_max: float, dt: float, method: str = "density", *,
                        save_every: int = 1, scheme: str = "auto"):
        """Joint counting statistics of the heat delivered into every stream, exact at
        finite ``dt`` (:mod:`collision.counting_general`).

        ``q_r(t)`` is the net number of quanta the ancillas of stream ``r`` have gained by
        time ``t`` (a two-point measurement of every ancilla in its number basis, before
        and after its collisions of the step), ``Q_r = omega_r q_r`` with ``omega_r`` the
        energy of one quantum of the stream.  The model's collisions and Hamiltonian must
        conserve excitations, its streams be diagonal in the number basis with
        ``H_r = omega_r N_r + const``, and it has no memory and no delay.  For thermal
        streams and ``rho0 = exp(-lam N_S) / Z`` the exchange fluctuation theorem
        ``P(q) = exp(sum_r (beta_r omega_r - lam) q_r) P_R(-q)`` holds exactly at every
        ``dt``, ``R`` being :meth:`time_reversed` (the module docstring derives it and
        says when ``P(q) / P(-q)`` itself obeys it).

        Parameters
        ----------
        rho0 : array_like or Qobj
            Initial state of the subsystems (as in :meth:`run`).
        t_max, dt, save_every
            As in :meth:`run`: saved times ``k save_every dt`` up to ``t_max``.  The joint
            distribution holds ``(2 s (d - 1) + 1)^n`` numbers per saved time after ``s``
            steps (``n`` streams of dimension ``d``): save few times of long runs.
        method : {"density"}
            The exact counting-resolved density map (the only method; keyword or fourth
            argument, as for :meth:`CascadeCollisionModel.heat_statistics`).
        scheme : {"auto", "superoperator", "kraus"}
            How the counting-resolved step is applied: ``D^2 x D^2`` matrices per shift
            of the counts, or the step's Kraus operators; ``"auto"`` takes the cheaper
            (:func:`collision.counting_general.shift_maps`).  Equal to rounding.

        Returns
        -------
        lindblad.counting.HeatStatistics
            One stream: ``P(q, t)`` on ``q = -N_max .. N_max`` (``N_max`` the subsystems'
            largest excitation number).  Several: ``joint[k, i_1, .., i_n]`` is ``P(q_1
            = local_quanta[i_1], ..)`` with the streams in the order of
            ``parameters["joint_streams"]``, and ``probabilities`` is the distribution
            of the total ``sum_r q_r``.  ``parameters["quantum_energies"]`` gives every
            ``omega_r`` (``parameters["omega"]`` too when they are equal).

        Raises
        ------
        ValueError
            Before any work: a model outside the class above (the message names the
            collision, stream or Hamiltonian and what is allowed), a bad initial state or
            time grid, output that would not fit in memory.
        """
        return _heat_statistics(self, rho0, t_max, dt, method, save_every, scheme)

    def time_reversed(self) -> CollisionModel:
        """The model run backwards: the collisions in the reverse order, every interaction
        ``V -> -V`` (so each collision is ``U^dag``) and ``H -> -H``; streams, their
        states and Hamiltonians unchanged.

        Its ``s`` steps are ``(U_step^dag)^s`` but for one ``exp(+i H dt)``, which the
        true reverse process applies first and this model last: it changes nothing for
        an initial state that commutes with ``H`` when the subsystems are traced at the
        end (heat statistics).  The reverse process of the exchange fluctuation theorem
        (:mod:`collision.counting_general`).

        Raises
        ------
        ValueError
            For a model with memory or delay (their reverse is not a model of this kind).
        """
        delay = self.delay
        delayed = any(t > 0 for times in delay.values() for t in times) \
            if isinstance(delay, Mapping) else bool(np.any(np.asarray(delay, float) > 0))
        if self.memory or delayed:
            raise ValueError("time_reversed() needs a memoryless model without delay")
        return CollisionModel(self.dims, -self.hamiltonian, self.streams,
                              [Collision(c.subsystems, -c.interaction, c.stream, c.scale)
                               for c in reversed(self.collisions)],
                              stream_hamiltonians=self.stream_hamiltonians)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {d}" for k, d in self.stream_dims.items())
        mem = f", memory on {list(self.memory)}" if self.memory else ""
        return (f"{type(self).__name__}(dims={list(self.dims)}, streams={{{parts}}}, "
                f"{len(self.collisions)} collisions{mem})")


def _dims(dims) -> tuple[int, ...]:
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, (bool, np.bool_)):
        dims = [dims]
    if not isinstance(dims, (list, tuple, np.ndarray)) or len(dims) == 0:
        raise ValueError(f"dims must be a list of the subsystems' dimensions (each >= 2), got "
                         f"{describe(dims)}")
    out = tuple(integer(d, "dims", 2, note=" (each subsystem's Hilbert-space dimension)")
                for d in dims)
    total = 1
    for d in out:
        total *= d
        if total > MAX_DIMENSION:
            raise ValueError(f"dims {list(out)} give a joint dimension above {MAX_DIMENSION}, "
                             "the largest dense state a general model keeps")
    return out


def _e_ops(e_ops, dim: int) -> tuple[list[str], np.ndarray]:
    """Names and a ``(n, D, D)`` stack of the operators to save (QuTiP's convention)."""
    if e_ops is None:
        return [], np.zeros((0, dim, dim), dtype=complex)
    if isinstance(e_ops, Mapping):
        items = list(e_ops.items())
    elif isinstance(e_ops, (list, tuple)):
        items = [(str(k), op) for k, op in enumerate(e_ops)]
    else:
        raise ValueError(f"e_ops must be a dict {{name: operator}} or a list of operators, "
                         f"got {describe(e_ops)}")
    names, ops = [], []
    for key, op in items:
        if not isinstance(key, str) or not key:
            raise ValueError(f"e_ops keys must be non-empty strings, got {describe(key)}")
        arr = as_matrix(op, f"e_ops[{key!r}]")
        if arr.shape != (dim, dim):
            raise ValueError(f"e_ops[{key!r}] must be a {dim} x {dim} operator on the "
                             f"subsystems, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"e_ops[{key!r}] has non-finite entries")
        names.append(key)
        ops.append(arr.astype(complex))
    stack = np.array(ops) if ops else np.zeros((0, dim, dim), dtype=complex)
    return names, stack


def _matrix_record(m: np.ndarray) -> dict:
    m = np.asarray(m, dtype=complex)
    return {"real": m.real.tolist(), "imag": m.imag.tolist()}


def _matrix(record: dict) -> np.ndarray:
    return np.array(record["real"], dtype=float) + 1j * np.array(record["imag"], dtype=float)


#: Parameters of a general trajectory run that do not define it (how many trajectories
#: ran, which, on how many threads): two runs that agree on everything else merge.
NOT_DEFINING = ("n_trajectories", "ranges", "first_trajectory", "final_state", "options")
#: Options that do not define a trajectory run.
NOT_DEFINING_OPTIONS = ("n_trajectories", "first_trajectory", "target_stderr", "n_threads",
                        "final_state", "progress")


def merge_general(first: Result, second: Result) -> Result:
    """Merge two trajectory results of one general collision model over disjoint
    trajectory ranges of one seed: equal bit for bit to one run over both (split at
    multiples of 64 trajectories).

    Raises
    ------
    ValueError
        If either result has no statistics, the runs differ in anything that defines them
        (the model, the initial state, the time grid, ``e_ops``, the seed lineage: every
        parameter but :data:`NOT_DEFINING`; the message names them), or their ranges
        overlap.
    """
    for res in (first, second):
        if getattr(res, "statistics", None) is None:
            raise ValueError("merging needs results of method='trajectories' that carry their "
                             "statistics (result.statistics)")
    pa, pb = first.parameters, second.parameters
    differ = sorted(k for k in set(pa) | set(pb) if k not in NOT_DEFINING
                    and _plain(pa.get(k)) != _plain(pb.get(k)))
    oa, ob = ({k: v for k, v in p.get("options", {}).items() if k not in NOT_DEFINING_OPTIONS}
              for p in (pa, pb))
    if oa != ob:
        differ.append("options")
    if differ:
        raise ValueError(f"cannot merge: the runs differ in {', '.join(differ)}; only runs of "
                         "one model, initial state, time grid, e_ops and seed over disjoint "
                         "trajectory ranges can be merged")
    check_disjoint(first, second)
    stats = first.statistics.merge(second.statistics)
    out = statistics_result(stats, first.t, list(pa["e_ops"]), pa["hermitian"],
                            pa["stream_order"], pa["heat_streams"], pa["dt"],
                            pa["system_dim"], pa.get("thermodynamics"))
    out.parameters = {**pa, **out.parameters, "first_trajectory": stats.ranges()[0][0]}
    out.partial = first.partial or second.partial
    return out


def _plain(value):
    """JSON-normal form, so that parameters read from files compare with those in memory."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _travel_time(value, name: str) -> float:
    """A delay: a real number >= 0, or ``inf`` (never arrives)."""
    if as_real(value, name) == math.inf:
        return math.inf
    return real_scalar(value, name, minimum=0.0, note=" (a travel time, or inf: never arrives)")
