"""Memory of a collision-model run, estimated before any work.

One estimate, :func:`run_memory`, lists every array a run allocates that grows with its
input, for every engine (density, trajectories, Gaussian; fluxes or heat statistics):

* the plan's tables of the ``D = d^n`` joint basis states (Fock numbers, populations):
  ``8 D (n + 6)`` bytes;
* the saved results, per saved time: the fluxes ``8 (2 + 6 n)``; the Monte Carlo
  statistics ``2 x 8 (3 n + 3)`` per level of the merge tree (``log2`` of the
  trajectories / 64, :mod:`collision.statistics`) and the batch buffer
  ``8 x 2 n B`` for ``B`` trajectories per batch; the heat-statistics histograms,
  ``8 n_q`` per group of trajectories (32 groups), ``n_q = 2 n (d - 1) + 1`` quanta, the
  per-batch quanta ``8 B``, the density engine's block populations ``8 (n (d-1) + 1)^2``
  and, with independent reservoirs, the joint distribution ``8 (2 d - 1)^n``;
* the dense states of the density engine, ``16 D_k^2`` each for the ``D_k`` basis states
  it keeps (four: the initial state, the stored blocks twice, the final state), and
  the trajectory engine's state vectors, ``16 (2 + d_anc) D`` per thread, and its
  trajectory-averaged final state (``D <= 1024``) per merge level.

:func:`check_run_memory` refuses a run whose estimate exceeds the memory limit of
:mod:`lindblad.resources` (half the available memory, or ``$CASCADE_MEMORY_LIMIT``) with a
``ValueError`` naming the parameter that makes it large, the estimate and the limit.
Saved times are checked first (:func:`check_output_memory`), so that the message can
suggest a ``save_every`` that fits.  The estimates are upper bounds within a small factor
of the largest arrays; small fixed-size tables (unitaries, Kraus blocks, capped at
``MAX_SEQUENTIAL_BYTES`` / ``MAX_SUPEROPERATOR_ENTRIES`` in :mod:`collision.density`)
are left out.
"""

from __future__ import annotations

import math

from lindblad.resources import check_memory, format_bytes, limit_description, memory_limit

from .statistics import LEAF

#: Name of the parameter group that sets the number of saved times.
SAVED = "t_max / (dt save_every)"
# The sizes the engines allocate by are defined here, where their memory is estimated,
# and imported by the engines.
#: Largest dimension for which the trajectory engine keeps the averaged final state
#: (``collision.trajectories.MAX_FINAL_STATE_DIM``).
FINAL_STATE_DIM = 1024
#: Groups of trajectories of the heat-statistics histograms (``collision.counting``).
N_GROUPS = 32
#: Smallest batch of the trajectory engine (unless fewer trajectories are asked for).
MIN_BATCH = LEAF
#: Bound on the trajectory engine's per-batch result buffer (bytes).
BATCH_BUFFER_BYTES = 32 * 2**20
#: Threads assumed for per-thread buffers.
THREADS = 2

_ADVICE = {
    "n_systems and cutoff": "use fewer subsystems or a smaller cutoff (the trajectory engine "
                            "needs O(D) from a list of local states or a state vector, the "
                            "density engine D^2)",
    "final_state": "pass options=TrajectoryOptions(final_state=False)",
    "n_systems and cutoff (heat statistics)": "count fewer subsystems or use a smaller cutoff",
}


def n_saved_times(steps: int, save_every: int) -> int:
    """Saved times of a run of ``steps`` steps: ``steps // save_every + 1``."""
    return steps // save_every + 1


def run_memory(model, method: str, steps: int, save_every: int, *,
               n_trajectories: int | None = None, counting: bool = False,
               final_state: bool = True, dense_dim: int | None = None,
               copies: int = 1) -> dict[str, tuple[float, str]]:
    """Estimated bytes of every array of a run that grows with its input.

    Parameters
    ----------
    model : CascadeCollisionModel or GaussianCollisionModel
    method : {"density", "trajectories", "gaussian"}
    steps, save_every : int
        The run's steps and steps between saved times.
    n_trajectories : int, optional
        Monte Carlo trajectories (default 1000).
    counting : bool
        Heat statistics instead of fluxes.
    final_state : bool
        The trajectory engine keeps the averaged final state.
    dense_dim : int, optional
        Basis states the density engine keeps (known once the plan has found them);
        None leaves its dense states out.
    copies : int
        Results held at once (3 for ``extrapolate=True``: two runs and their
        extrapolation).

    Returns
    -------
    dict of str to (bytes, parameter)
        What each array is, its estimated size and the parameter that makes it large
        (:data:`SAVED` for the arrays that grow with the saved times).
    """
    n = model.n_systems
    n_saved = n_saved_times(steps, save_every)
    out: dict[str, tuple[float, str]] = {}
    if method == "gaussian":
        delayed = any(getattr(model, "delays", ()))
        out["saved fluxes"] = (copies * n_saved * 8.0 * (2 + 6 * n + (3 * (n - 1) if delayed
                                                                       else 0)), SAVED)
        return out
    d = model.d_sys
    dim = float(d) ** n
    size = "n_systems and cutoff"
    out["basis tables"] = (8.0 * dim * (n + 6), size)
    if not counting:
        out["saved fluxes"] = (copies * n_saved * 8.0 * (2 + 6 * n), SAVED)
    n_q = 2 * n * (d - 1) + 1
    joint = 8.0 * (2 * d - 1) ** n if not model.cascade else 0.0
    if method == "density":
        if counting:
            n_init = n * (d - 1) + 1
            out["heat statistics"] = (copies * n_saved * (8.0 * (3 * n_q + n_init**2)
                                                          + 3 * joint), SAVED)
        if dense_dim is not None:
            out["dense states"] = (4 * 16.0 * float(dense_dim) ** 2, size)
        return out
    n_traj = 1000 if n_trajectories is None else int(n_trajectories)
    batch = min(MIN_BATCH, n_traj)
    row = 8.0 * 2 * n * n_saved
    buffer = max(batch * row, min(BATCH_BUFFER_BYTES, row * 1024))
    levels = math.ceil(math.log2(max(n_traj / LEAF, 1.0))) + 2
    out["trajectory batch buffer"] = (buffer, SAVED)
    out["state vectors"] = (16.0 * (2 + _ancilla_levels(model)) * dim * THREADS
                            + 8.0 * 4 * n * dim, size)
    if counting:
        out["heat-statistics histograms"] = (n_saved * (8.0 * (N_GROUPS + 6) * n_q
                                                        + 8.0 * 4 * batch
                                                        + 3 * joint), SAVED)
        return out
    out["Monte Carlo statistics"] = (copies * levels * n_saved * 2 * 8.0 * (3 * n + 3), SAVED)
    if final_state and dim <= FINAL_STATE_DIM:
        out["averaged final states"] = ((levels + 2) * 16.0 * dim**2 + batch * 16.0 * dim,
                                        "final_state")
    return out


def _ancilla_levels(model) -> int:
    """Ancilla levels of a run (the bath cutoff is chosen per run; bounded here by the
    given ``bath_cutoff`` or the subsystems' cutoff)."""
    if getattr(model, "bath", "qubit") == "qubit":
        return 2
    return int(model.bath_cutoff or model.d_sys)


def check_run_memory(model, method: str, steps: int, save_every: int, **options) -> None:
    """Refuse a run whose arrays (:func:`run_memory`, same arguments) exceed the memory
    limit, before anything is allocated.

    Raises
    ------
    ValueError
        Naming the parameter that makes the largest array large (``n_systems`` and
        ``cutoff``, ``final_state``), the estimate and the limit; or,
        when the saved times do not fit, :func:`check_output_memory`'s message with a
        ``save_every`` that fits.
    """
    needs = run_memory(model, method, steps, save_every, **options)
    fixed = {what: b for what, (b, p) in needs.items() if p != SAVED}
    fixed_total = sum(fixed.values())
    if fixed_total > memory_limit():
        largest = max(fixed, key=fixed.get)
        parameter = needs[largest][1]
        if parameter == "n_systems and cutoff":
            parameter = (f"n_systems = {model.n_systems}, "
                         f"{'cutoff' if model.system == 'oscillator' else 'qubits'} "
                         f"(D = {model.d_sys}^{model.n_systems})")
        check_memory(fixed, parameter, _ADVICE.get(needs[largest][1], ""))
    per_saved = sum(b for b, p in needs.values() if p == SAVED) / n_saved_times(steps, save_every)
    check_output_memory(steps, save_every, per_saved, fixed=fixed_total)


def check_output_memory(steps: int, save_every: int, bytes_per_saved: float,
                        what: str = "the output arrays", fixed: float = 0.0) -> None:
    """Raise a ``ValueError`` before allocating arrays that grow with the number of saved
    times, ``steps // save_every + 1``, at ``bytes_per_saved`` bytes each, when they
    need more than the memory limit (:func:`lindblad.resources.memory_limit`) less
    ``fixed`` bytes used by the run's other arrays.  The message says how much they
    need, what fits and which ``save_every`` makes them fit."""
    n_saved = n_saved_times(steps, save_every)
    need = n_saved * float(bytes_per_saved)
    total = memory_limit()
    limit = total - fixed
    if need <= limit:
        return
    n_fit = int(max(limit, 0.0) // bytes_per_saved) if bytes_per_saved > 0 else 0
    others = f", less {format_bytes(fixed)} for the run's other arrays" if fixed else ""
    hint = (f"use save_every >= {math.ceil(steps / (n_fit - 1)):d} (at most {n_fit - 1:d} "
            "intervals between saved times fit)" if n_fit >= 2 else
            "free memory first")
    raise ValueError(f"t_max / (dt save_every): {what} of this run would need "
                     f"{format_bytes(need)} for {n_saved:.4g} saved times ({steps:.4g} steps, "
                     f"save_every = {save_every}), but only {format_bytes(total)} fit "
                     f"({limit_description()}{others}); {hint}, or lower t_max")
