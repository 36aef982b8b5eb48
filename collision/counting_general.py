"""Heat counting statistics of a general collision model, exact at finite dt.

Definitions (as :mod:`lindblad.counting`, one count per stream): every ancilla of stream
``r`` is measured in its number basis before its first collision of a step and after its
last one (a two-point measurement); ``q_r(t)`` is the net number of quanta the stream's
ancillas have gained by time ``t`` and ``Q_r = omega_r q_r`` the heat into stream ``r``
(``Q_r > 0``: into the reservoir, the sign of ``Result.heat``).  The subsystems are not
measured.

What the models must be (checked by :func:`counting_structure`, a ``ValueError`` naming
the part that fails): every collision conserves excitations, ``[V, N_S + N_A] = 0`` with
``N_S`` the number of excitations of its subsystems (``sum_i n_i``, each subsystem in its
Fock basis, ground first) and ``N_A`` the ancilla's level; the subsystems' Hamiltonian
conserves ``N_S`` too; every stream's state is diagonal in the number basis (thermal
states are) and its Hamiltonian is ``H_r = omega_r N_A + const`` (equally spaced levels,
``omega_r`` the energy of one quantum); no memory, no delay.

Method (exact).  The step is one unitary ``U`` on subsystems x one ancilla per stream
(built densely: the collisions in order, then ``exp(-i H dt)``); its Kraus operators are
``K_{l k} = sqrt(p(k)) <l| U |k>`` for the ancillas in at the levels ``k = (k_1, ..,
k_n)`` and out at ``l``, with ``p(k) = prod_r eta_r[k_r, k_r]``.  ``K_{l k}`` adds ``l_r -
k_r`` to ``q_r`` and, because ``U`` conserves ``N_S + sum_r N_r``, moves the subsystems
from excitation block ``N`` to ``N - sum_r (l_r - k_r)``.  So along every path
``sum_r q_r = N(0) - N(t)``, and the last stream's count follows from the others and the
block the subsystems end in.  The engine therefore carries, for every occupied initial
block ``N0``, the states ``rho_{q_1 .. q_{n-1}}(t)`` resolved by the first ``n - 1``
counts (``n`` streams), started from ``Pi_{N0} rho0 Pi_{N0}`` and stepped with the
superoperators ``S_d = sum_{l - k = d} K_{lk} (.) K_{lk}^dag`` of every shift ``d`` of
those counts; then

    P(q_1, .., q_n, t) = sum_{N0} Tr[ Pi_{N0 - q_1 - .. - q_n} rho^{(N0)}_{q_1 .. q_{n-1}}(t) ].

With one stream this is the cascade's formula (:mod:`collision.counting`).  Nothing is
truncated: after ``s`` steps ``|q_r| <= s (d_r - 1)`` and every reachable count is
carried; coherences of ``rho0`` between different excitation numbers never reach a trace.
Cost per step: (occupied ``N0``) x (window of the first ``n - 1`` counts) x (number of
shifts) products with ``D^2 x D^2`` matrices.  The result grows as the window of all
counts, ``(2 s (d - 1) + 1)^n`` numbers per saved time: use ``save_every``.

The exchange fluctuation theorem, exact at finite dt
----------------------------------------------------
Let the streams be thermal, ``eta_r = exp(-beta_r omega_r N_r) / Z_r``, and the initial
state of the subsystems ``rho0 = exp(-lam N_S) / Z`` (``lam = 0``: the maximally mixed
state; ``lam = beta omega`` for subsystems with ``H = omega N_S`` at inverse temperature
``beta``).  Over ``s`` steps the record ``(n, k) -> (m, l)`` (subsystems in basis state
``n``, ancillas in at ``k``, out at ``l``, subsystems end in ``m``) has the probability
``p0(n) p(k) |<m, l| U_s ... U_1 |n, k>|^2``; the reverse process, ``U_1^dag ..
U_s^dag``, started from ``p0(m)`` with the ancillas in at ``l``, has the same transition
probability, so the ratio is ``p0(n) p(k) / (p0(m) p(l)) = exp(-lam (N(n) - N(m))) exp(sum_r
beta_r omega_r q_r)``, and ``N(n) - N(m) = sum_r q_r``.  Summing over records:

    P_F(q_1, .., q_n; t) = exp( sum_r (beta_r omega_r - lam) q_r ) P_R(-q_1, .., -q_n; t),

exact at every ``dt`` and ``t``.  ``R`` is :meth:`collision.CollisionModel.time_reversed`:
the collisions in the reverse order, ``V -> -V``, ``H -> -H`` (its steps are ``U^dag``
but for one free evolution ``exp(+i H dt)`` moved from the start of the reverse process
to its end, which changes nothing: ``rho0`` commutes with ``H``, and the subsystems are
traced at the end).  Consequences:

* when ``R`` has the statistics of ``F`` -- a palindromic step (the collisions read the
  same backwards) with real ``V``, ``H`` and ``rho0`` (complex conjugation turns ``-V``,
  ``-H`` back into ``V``, ``H``) -- the single-process theorem ``P(q) / P(-q) = exp(sum_r
  (beta_r omega_r - lam) q_r)`` holds exactly at finite dt;
* otherwise the single-process theorem holds asymptotically exactly when ``F`` and ``R``
  have the same scaled cumulant generating function
  (:func:`scaled_cumulant_generating_function`, the log of the leading eigenvalue of the
  tilted step map per dt).  ``R``'s tilted map is the transpose of ``F``'s at the
  fields ``-s - beta omega`` (the same Kraus identity), so the condition is the
  Gallavotti-Cohen symmetry ``Lambda(s) = Lambda(-s - beta omega)`` of ``F`` alone.
  It holds when the reversed step is a cyclic rotation of the forward one up to commuting
  parts: the free evolution commutes with the collisions' counting maps (resonant
  exchange, ``[H + H_r, V] = 0`` with ``H_A``-phases invisible to the counts), or the
  streams' collisions commute (on different subsystems), or a step has only two
  non-commuting parts (``AB`` and ``BA`` share their spectrum).  Measured at ``dt =
  0.1``: to 4e-14 for a qubit between a hot and a cold stream and for a detuned two-qubit
  chain; broken by up to 5e-4 (in ``Lambda``) for a random model of three collisions and
  a coupling Hamiltonian.  Then ``ln[P(q) / P(-q)] = sum_r beta_r omega_r q_r + O(1)`` at long
  times.  With two streams and ``q_h + q_c = -Delta N_S`` bounded, the net number ``q =
  q_c`` of quanta carried from the hot stream to the cold one obeys ``ln[P(q) / P(-q)]
  -> (beta_c omega_c - beta_h omega_h) q``: for ``omega_h = omega_c = omega``
  Jarzynski and Wojcik's ``(beta_c - beta_h) Q`` with ``Q = omega q`` (PRL 92, 230602
  (2004)); with ``omega_h != omega_c`` each quantum also costs the work ``omega_c -
  omega_h`` and each stream's energy is weighed with its own temperature.  The slope
  converges like ``1/t`` (the boundary steps and the initial state add ``O(1)`` to
  ``ln P``).
"""

from __future__ import annotations

import math

import numpy as np

from lindblad._validate import choice
from lindblad.counting import HeatStatistics
from lindblad.resources import format_bytes, limit_description, memory_limit

from ._operators import embed
from .initial import initial_state, state_digest
from .plans.exchange import time_grid
from .plans.general import step_scale, unitary
from .resources import check_output_memory

#: Tolerance of the structure checks (commutators with the number operators, off-diagonal
#: entries of the ancilla states, spacing of the ancillas' levels), relative to
#: ``max(1, max |M_ij|)``.
STRUCTURE_RTOL = 1e-10
#: Largest dimension of subsystems x one ancilla per stream (the dense step unitary).
MAX_STEP_DIMENSION = 1024
#: Largest memory of the step's counting superoperators (bytes).
SUPEROPERATOR_BYTES = 256 * 2**20


def excitations(dims) -> np.ndarray:
    """The number of excitations ``sum_i n_i`` of every basis state of ``dims`` (Fock
    bases, the first factor most significant), shape ``(prod(dims),)``."""
    dims = tuple(int(d) for d in dims)
    return np.indices(dims).reshape(len(dims), -1).sum(axis=0)


def _commutator_with_number(op: np.ndarray, n: np.ndarray) -> float:
    """``max |[op, diag(n)]_{ab}| = max |op_ab (n_b - n_a)|``, relative to ``max(1, |op|)``."""
    scale = max(1.0, float(np.max(np.abs(op))))
    return float(np.max(np.abs(op * (n[None, :] - n[:, None])))) / scale


def counting_structure(model) -> list[float]:
    """Check that ``model`` has countable heat (module docstring) and return the energy
    ``omega_r`` of one quantum of every stream, in the order of ``model.streams``.

    Raises
    ------
    ValueError
        Naming what fails and what is allowed: memory, delay, a collision or Hamiltonian
        that does not conserve excitations, a stream state that is not diagonal in the
        number basis, a stream without Hamiltonian or with levels not equally spaced.
    """
    if model.memory:
        raise ValueError(f"heat_statistics: memory on streams {sorted(model.memory)} is not "
                         "supported (the carried ancilla is measured only when it leaves, "
                         "so its quanta are not a two-point measurement of fresh ancillas); "
                         "allowed: memoryless models")
    if any(t > 0 for times in model.delay.values() for t in times):
        raise ValueError("heat_statistics with a delay between collisions is not "
                         "implemented: use delay=0")
    n_sys = excitations(model.dims)
    off = _commutator_with_number(model.hamiltonian, n_sys)
    if off > STRUCTURE_RTOL:
        raise ValueError(f"heat_statistics: the hamiltonian does not conserve the number of "
                         f"excitations of the subsystems (max |[H, N_S]| = {off:.3g}, relative); "
                         "the counting follows excitation blocks and needs [H, N_S] = 0 "
                         "(e.g. omega a^dag a, sigma_z, exchange couplings)")
    for j, c in enumerate(model.collisions):
        local = [model.dims[s] for s in c.subsystems] + [model.stream_dims[c.stream]]
        off = _commutator_with_number(c.interaction, excitations(local))
        if off > STRUCTURE_RTOL:
            raise ValueError(f"heat_statistics: collisions[{j}] (subsystems {c.subsystems}, "
                             f"stream {c.stream!r}) does not conserve excitations (max |[V, "
                             f"N_S + N_A]| = {off:.3g}, relative); allowed: interactions that "
                             "commute with the number of excitations of their subsystems plus "
                             "the ancilla's level (exchange a^dag b + a b^dag, functions of the "
                             "numbers), not e.g. sigma_x x sigma_x")
    omegas = []
    for r, eta in model.streams.items():
        d = eta.shape[0]
        scale = max(1.0, float(np.max(np.abs(eta))))
        off = float(np.max(np.abs(eta - np.diag(np.diag(eta))))) / scale
        if off > STRUCTURE_RTOL:
            raise ValueError(f"heat_statistics: the state of stream {r!r} is not diagonal in "
                             f"the number basis (largest off-diagonal entry {off:.3g}); the "
                             "first measurement of a two-point scheme would change it: "
                             "allowed are diagonal states (thermal states, Fock states, "
                             "mixtures of them)")
        h = model.stream_hamiltonians.get(r)
        if h is None:
            raise ValueError(f"heat_statistics: stream {r!r} has no Hamiltonian; give "
                             f"stream_hamiltonians={{{r!r}: omega * N}} (levels equally "
                             "spaced) so that its quanta are heat")
        levels = np.real(np.diag(h))
        omega = float(levels[1] - levels[0]) if d > 1 else 0.0
        scale = max(1.0, float(np.max(np.abs(h))))
        off = float(np.max(np.abs(h - np.diag(levels[0] + omega * np.arange(d))))) / scale
        if off > STRUCTURE_RTOL:
            raise ValueError(f"heat_statistics: the Hamiltonian of stream {r!r} is not "
                             f"omega N + const in the number basis (largest deviation "
                             f"{off:.3g}); allowed: diagonal, equally spaced levels, so that "
                             "every quantum carries the same energy omega")
        omegas.append(omega)
    return omegas


def step_unitary(model, dt: float) -> np.ndarray:
    """One step as a unitary on subsystems x one ancilla per stream (the streams in the
    order of ``model.streams``, each after the subsystems): the collisions in order, then
    ``exp(-i H dt)``."""
    order = list(model.streams)
    n = len(model.dims)
    dims = list(model.dims) + [model.stream_dims[r] for r in order]
    total = math.prod(dims)
    if total > MAX_STEP_DIMENSION:
        raise ValueError(f"heat_statistics: subsystems x one ancilla per stream have dimension "
                         f"{total}, above {MAX_STEP_DIMENSION}, the largest step unitary it "
                         "builds densely")
    u = np.eye(total, dtype=complex)
    for c in model.collisions:
        local = unitary(c.interaction, step_scale(c.scale, dt))
        u = embed(local, [*c.subsystems, n + order.index(c.stream)], dims) @ u
    if np.any(model.hamiltonian):
        u = embed(unitary(model.hamiltonian, dt), list(range(n)), dims) @ u
    return u


def kraus_terms(model, u: np.ndarray):
    """The step's Kraus operators with their counts: yields ``(p(k), l - k, K)`` for every
    pair of ancilla levels in ``k`` and out ``l`` (one entry per stream, in the order of
    ``model.streams``) with ``p(k) > 0`` and ``K = <l| U |k>`` (``D x D``) not zero; the
    step map is ``rho -> sum p(k) K rho K^dag``."""
    order = list(model.streams)
    d_sys = model.dim
    a_dims = [model.stream_dims[r] for r in order]
    a = math.prod(a_dims)
    probs = np.ones(1)
    for r in order:
        probs = np.kron(probs, np.real(np.diag(model.streams[r])).clip(0.0, None))
    levels = np.indices(a_dims).reshape(len(a_dims), -1)  # (n_streams, A)
    blocks = u.reshape(d_sys, a, d_sys, a)
    for k_in in range(a):
        if probs[k_in] == 0:
            continue
        for l_out in range(a):
            k = blocks[:, l_out, :, k_in]
            if np.any(k):
                yield probs[k_in], levels[:, l_out] - levels[:, k_in], k


#: The ways :func:`heat_statistics` applies the counting-resolved step.
SCHEMES = ("auto", "superoperator", "kraus")


def shift_maps(model, u: np.ndarray, scheme: str = "auto"
               ) -> tuple[str, dict[tuple[int, ...], object]]:
    """The step resolved by the shift ``d = l - k`` of the counts of the first ``n - 1``
    streams (summed over the last stream's levels).

    ``"superoperator"``: ``{d: S_d^T}`` with ``S_d = sum p(k) K_lk x K_lk^*`` (row-major
    ``vec``, ``(D^2, D^2)``; ``D^4`` per shift and state); ``"kraus"``: ``{d: stack of
    sqrt(p(k)) K_lk}`` (``4 D^3`` per operator and state); ``"auto"`` takes the cheaper
    whose matrices fit :data:`SUPEROPERATOR_BYTES`.  Returns ``(scheme, maps)``.
    """
    d_sys = model.dim
    terms = list(kraus_terms(model, u))
    kraus: dict[tuple[int, ...], list[np.ndarray]] = {}
    for p, shift, k in terms:
        kraus.setdefault(tuple(int(x) for x in shift[:-1]), []).append(math.sqrt(p) * k)
    sup_bytes = 16.0 * len(kraus) * d_sys**4
    if scheme == "auto":
        cheaper = len(kraus) * d_sys**4 <= 4 * len(terms) * d_sys**3
        scheme = "superoperator" if cheaper and sup_bytes <= SUPEROPERATOR_BYTES else "kraus"
    if scheme == "kraus":
        return scheme, {key: np.array(ops) for key, ops in kraus.items()}
    if sup_bytes > SUPEROPERATOR_BYTES:
        raise ValueError(f"heat_statistics: scheme='superoperator' needs {len(kraus)} "
                         f"matrices of {d_sys**2} x {d_sys**2}, {sup_bytes / 2**20:.0f} MiB, "
                         f"above {SUPEROPERATOR_BYTES / 2**20:.0f} MiB; use scheme='kraus' "
                         "or 'auto'")
    return scheme, {key: np.ascontiguousarray(sum(np.kron(k, k.conj()) for k in ops).T)
                    for key, ops in kraus.items()}


def scaled_cumulant_generating_function(model, dt: float, fields) -> float:
    """``Lambda(s) = ln(rho(T_s)) / dt``: the growth rate of ``<exp(sum_r s_r q_r)>`` at
    long times, exact at finite ``dt``, with ``T_s = sum p(k) e^{s.(l - k)} K x K^*`` the
    tilted step map and ``rho`` its spectral radius (the leading eigenvalue of a positive
    map).  ``dLambda/ds_r`` at ``s = 0`` is the steady rate of quanta into stream ``r``;
    the asymptotic exchange fluctuation theorem for the model alone is the symmetry
    ``Lambda(s) = Lambda(-s - beta omega)`` (module docstring), which holds exactly when
    the model and its :meth:`~collision.CollisionModel.time_reversed` share it.

    Parameters
    ----------
    model : CollisionModel
        A model with countable heat (:func:`counting_structure`).
    dt : float
        The time step.
    fields : sequence of float
        ``s_r``, one per stream in the order of ``model.streams`` (dimensionless, per
        quantum).

    Raises
    ------
    ValueError
        For a model without countable heat, or ``fields`` of the wrong length or not
        finite.
    """
    counting_structure(model)
    dt = time_grid(0.0, dt, dt, 1)[0]
    try:
        s = np.asarray(fields, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        s = np.zeros(0)
    if s.size != len(model.streams) or not np.all(np.isfinite(s)):
        raise ValueError(f"fields must be {len(model.streams)} finite numbers (one per stream, "
                         f"in the order {list(model.streams)}), got {fields!r}")
    d2 = model.dim**2
    if 16.0 * d2 * d2 > SUPEROPERATOR_BYTES:
        raise ValueError(f"the tilted step map of dimension {d2} is too large")
    tilted = np.zeros((d2, d2), dtype=complex)
    for p, shift, k in kraus_terms(model, step_unitary(model, dt)):
        tilted += p * math.exp(float(s @ shift)) * np.kron(k, k.conj())
    return math.log(float(np.max(np.abs(np.linalg.eigvals(tilted))))) / dt


def heat_statistics(model, rho0, t_max: float, dt: float, method: str = "density",
                    save_every: int = 1, scheme: str = "auto") -> HeatStatistics:
    """See :meth:`collision.CollisionModel.heat_statistics`; ``scheme`` chooses how the
    step is applied (:func:`shift_maps`; the result is the same to rounding)."""
    choice(method, "method", ("density",), note=" for the heat statistics of a general "
           "CollisionModel (the exact counting-resolved density map; Monte Carlo counting "
           "exists for the cascade only, CascadeCollisionModel.heat_statistics)")
    omegas = counting_structure(model)
    given = initial_state(rho0, model.dims)
    rho = given.dense()
    dt, t_max, save_every, steps = time_grid(0.0, t_max, dt, save_every)
    n_saved = steps // save_every + 1
    last = (n_saved - 1) * save_every
    order = list(model.streams)
    a_dims = [model.stream_dims[r] for r in order]
    n_streams = len(order)
    reach = [last * (d - 1) for d in a_dims]  # |q_r| <= reach[r]
    widths = [2 * x + 1 for x in reach]
    per_saved = 8.0 * math.prod(widths)
    if 2 * per_saved > memory_limit():
        raise ValueError(f"t_max: after {last} steps the counts of the {n_streams} streams "
                         f"reach +-{max(reach)}, and one saved joint distribution would need "
                         f"{format_bytes(per_saved)} ({limit_description()}); lower t_max "
                         "or raise dt")
    check_output_memory(steps, save_every, per_saved,
                        what="the joint distribution of the streams' counts")
    choice(scheme, "scheme", SCHEMES)
    scheme, maps = shift_maps(model, step_unitary(model, dt), scheme)
    n_exc = excitations(model.dims)
    n_max = int(n_exc.max())
    d_sys = model.dim
    blocks = [int(b) for b in range(n_max + 1)
              if np.any(rho[np.ix_(n_exc == b, n_exc == b)] != 0)]
    inner = widths[:-1]
    n_b0 = len(blocks)
    d2 = d_sys * d_sys
    # the counts of the first n - 1 streams lead, so that a window of them is one
    # contiguous (rows, D^2) matrix for the products (with two streams)
    states = np.zeros((*inner, n_b0, d2), dtype=complex)
    centre = tuple(reach[:-1])
    for j, b in enumerate(blocks):
        mask = (n_exc == b)
        states[(*centre, j)] = np.where(np.outer(mask, mask), rho, 0.0).ravel()
    diag = np.arange(d_sys) * (d_sys + 1)
    onehot = (n_exc[:, None] == np.arange(n_max + 1)[None, :]).astype(float)
    grids = np.meshgrid(*[np.arange(-x, x + 1) for x in reach[:-1]], indexing="ij")
    inner_sum = sum(g.ravel() for g in grids) if grids else np.zeros(1, dtype=np.int64)
    n_inner = int(inner_sum.size)
    w_last = widths[-1]
    joint = np.zeros((n_saved, n_inner * w_last))
    total = np.zeros((n_saved, 2 * n_max + 1))

    def record(k: int) -> None:
        pops = states[..., diag].real.reshape(n_inner, n_b0, d_sys) @ onehot
        for j, b0 in enumerate(blocks):
            for n_b in range(n_max + 1):
                column = pops[:, j, n_b]
                total[k, b0 - n_b + n_max] += column.sum()
                q_last = b0 - n_b - inner_sum
                ok = np.abs(q_last) <= reach[-1]
                flat = np.flatnonzero(ok) * w_last + q_last[ok] + reach[-1]
                joint[k, flat] += column[ok]

    def window(s: int, shift=None) -> tuple[slice, ...]:
        """The counts reachable after ``s`` steps (``|q_r| <= s (d_r - 1)``), shifted."""
        shift = shift or (0,) * len(centre)
        return tuple(slice(c - s * (d - 1) + x, c + s * (d - 1) + x + 1)
                     for c, d, x in zip(centre, a_dims, shift, strict=False))

    spare = np.zeros_like(states)
    for s in range(last + 1):
        if s % save_every == 0:
            record(s // save_every)
        if s == last:
            break
        spare[window(s + 1)] = 0.0
        src = states[window(s)]
        if scheme == "superoperator":
            rows = src.reshape(-1, d2)
            for shift, m in maps.items():
                spare[window(s, shift)] += (rows @ m).reshape(src.shape)
        else:
            mats = src.reshape(-1, d_sys, d_sys)
            for shift, ops in maps.items():
                acc = np.zeros_like(mats)
                for k in ops:
                    acc += k @ mats @ k.conj().T
                spare[window(s, shift)] += acc.reshape(src.shape)
        states, spare = spare, states
    joint = joint.reshape((n_saved, *widths))
    parameters = {"source": "collision", "method": method,
                  "counting": "two-point measurement of every ancilla (net quanta gained "
                              "per stream)", **model.parameters,
                  "initial_state": state_digest(given), "dt": dt, "t_max": float(t_max),
                  "save_every": save_every, "engine": "general counting",
                  "scheme": scheme,
                  "joint_streams": order,
                  "quantum_energies": dict(zip(order, omegas, strict=True)),
                  "initial_blocks": blocks}
    if len(set(omegas)) == 1:
        parameters["omega"] = omegas[0]
    times = np.arange(n_saved) * save_every * dt
    if n_streams == 1:
        return HeatStatistics(times, np.arange(-n_max, n_max + 1), total,
                              parameters=parameters)
    return _joint_result(times, joint, total, n_max, parameters)


def _joint_result(times: np.ndarray, joint: np.ndarray, total: np.ndarray, n_max: int,
                  parameters: dict) -> HeatStatistics:
    """A :class:`HeatStatistics` with the joint distribution on one grid ``-L .. L`` for
    every stream, ``L`` the largest ``|q_r|`` of non-zero probability (unreachable counts
    are exact zeros), and the total ``q = sum_r q_r`` on ``-n L .. n L``."""
    n = joint.ndim - 1
    reach = [(w - 1) // 2 for w in joint.shape[1:]]
    occupied = 0
    for axis in range(n):
        others = tuple(a for a in range(joint.ndim) if a != axis + 1)
        hit = np.flatnonzero(np.any(joint != 0, axis=others))
        if hit.size:
            occupied = max(occupied, int(np.max(np.abs(hit - reach[axis]))))
    grid = np.zeros((joint.shape[0],) + (2 * occupied + 1,) * n)
    src = tuple(slice(r - min(r, occupied), r + min(r, occupied) + 1) for r in reach)
    dst = tuple(slice(occupied - min(r, occupied), occupied + min(r, occupied) + 1)
                for r in reach)
    grid[(slice(None), *dst)] = joint[(slice(None), *src)]
    span = n * occupied
    probabilities = np.zeros((joint.shape[0], 2 * span + 1))
    keep = min(span, n_max)
    probabilities[:, span - keep:span + keep + 1] = total[:, n_max - keep:n_max + keep + 1]
    return HeatStatistics(times, np.arange(-span, span + 1), probabilities, joint=grid,
                          local_quanta=np.arange(-occupied, occupied + 1),
                          parameters=parameters)
