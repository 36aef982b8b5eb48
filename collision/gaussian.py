"""Gaussian collision engine: the collision model on covariance matrices, no Fock cutoff.

The reservoir is a stream of fresh thermal bosonic ancillas (covariance
``(N + 1/2) I_2``).  In every step ``dt`` one ancilla collides with S1, then S2, ...,
then Sn, then leaves (``cascade=True``); with ``cascade=False`` every subsystem meets
its own fresh ancilla.  A collision is the exchange unitary
``U_i = exp(-i theta (a_i^dag b + a_i b^dag))``, ``theta = sqrt(gamma dt)``, i.e. a beam
splitter.  In the Heisenberg picture

    a_i -> cos(theta) a_i - i sin(theta) b,      b -> cos(theta) b - i sin(theta) a_i,

and with ``a = (X + iY)/sqrt2``, ``-i sin(theta) b = sin(theta) (Y_b - i X_b)/sqrt2``, so

    X_i -> c X_i + s Y_b,   Y_i -> c Y_i - s X_b,   X_b -> c X_b + s Y_i,   Y_b -> c Y_b - s X_i

(``c = cos theta``, ``s = sin theta``): an orthogonal symplectic matrix ``R`` and
``C -> R C R^T`` on the covariance of (subsystems + ancilla).  The map is exact for any
state's second moments; nothing is truncated.  Only the four rows and columns of S_i and
the ancilla change, so a collision costs O(n) (:mod:`collision._kernels.gaussian`).

Continuum limit.  Expanding one step to first order in ``dt = theta^2 / gamma`` gives
the drift ``-gamma (I/2 + S)`` and the common noise ``gamma (N + 1/2) J`` of
:class:`lindblad.GaussianMasterEquation`; the fluxes converge with error O(dt).

Heat fluxes (units hbar omega gamma, ``J > 0`` = heat into the reservoir), evaluated
with the state at every saved time ``t_k`` from the step that follows it:

* S_i's flux is the energy it hands to the ancilla per unit time,
  ``omega (n_i(before) - n_i(after)) / dt``.  A collision conserves ``n_i + n_b``, so this
  is exactly the energy the ancilla gains.
* The local part is what S_i would hand to a *fresh* thermal ancilla in one collision.
  A fresh ancilla is uncorrelated with S_i, so ``n_i -> c^2 n_i + s^2 N`` and the local
  flux is ``omega sin^2(theta) (n_i - N) / dt``  (-> ``omega gamma (n_i - N)``, paper
  eqs 20-21).
* The correlated part is the rest: the effect of the ancilla having met S1..S_{i-1}
  first (-> ``omega gamma sum_{j<i} (C_XjXi + C_YjYi)``, eq 22).  It vanishes for S1 and
  for ``cascade=False`` (up to rounding).

Frame.  The collisions are resonant, so the engine works in the interaction picture
(frame rotating at ``omega``, like the paper's App. B); ``final_state`` is rotated back to
the lab frame at ``t[-1]`` (:func:`lindblad.gaussian.to_lab_frame`), like the final
states of the Fock-space engines.  Fluxes are frame independent.

Finite travel time (``delay``).  With link delays of ``m_1, ..., m_{n-1}`` steps
(``o_i = m_1 + ... + m_{i-1}``, :func:`delay_steps`) ancilla ``j`` meets S_i at the real
step ``j + o_i``; ancillas that would have met an upstream subsystem before t = 0 are
fresh when they reach the first subsystem they meet at or after t = 0.  Collisions of
different (subsystem, ancilla) pairs commute, so the engine runs the same collisions in
*process* (ancilla) order, one ancilla at a time: ancilla ``j`` meets the subsystems
``{i : -j <= o_i <= K - j}`` (``K`` the last saved step) in turn.  That set is a
contiguous sub-chain that changes only ``2 (n - 1)`` times: S_n alone for ``m_{n-1}``
ancillas, then S_{n-1} -> S_n for ``m_{n-2}``, ..., the whole chain, and at the end the
prefixes (S1 alone last).  Every subsystem still meets exactly one ancilla per real step,
so a run does the ``n (K + 1)`` collisions of a run without delay, whatever the delays;
a stretch with one subsystem alone is a closed-form power
(:func:`collision._kernels.gaussian.run_alone`) and costs nothing per step.  A delay beyond
the run (``1e300``, ``inf``) is capped at the run's number of steps (:func:`delay_steps`):
the downstream subsystem sees only fresh ancillas either way.  S_i's flux at real step k is
recorded at its collision with ancilla ``k - o_i``.

The equal-time ``final_state`` (every subsystem at ``t[-1] = K dt``) needs every S_i to
have met ancillas up to ``K - 1 - o_i``: a copy of the state taken before ancilla
``K - o_n`` (until then the two orders agree) is completed with the prefixes S1..S_{n-1},
..., S1 alone.  For n > 2 the prefixes of two or more subsystems are stepped, so this
last part costs ``O(n (m_2 + ... + m_{n-1}))`` collisions (the inner delays); all else
is independent of the delays.

``in_flight[l]`` at ``t_k`` is the energy (relative to thermal) of the ancillas that
have met S_{l+1} but not S_{l+2} (those ``j`` with ``j + o_{l+1} <= k - 1 < j + o_{l+2}``
in 1-based subsystem names): with ``cum_l(J)`` the energy that ancillas ``<= J`` received
from S_1..S_{l+1}, it is ``cum_l(k - 1 - o_{l+1}) - cum_l(k - 1 - o_{l+2})``, read off
during the run.  ``U_S(0) - U_S(t_k) = Q_out(t_k) + sum_l in_flight[l](t_k)`` holds to
rounding (``Q_out``: energy of the ancillas that have passed S_n).

Running.  The time loop is a resumable kernel called in chunks
(:func:`collision._loop.run_in_chunks`): a progress bar is updated between chunks, and
Ctrl-C returns the saved times finished so far with ``partial=True``.  The checks of
:mod:`collision.model` apply: time grid and memory (``ValueError``), the time-step error
rule and rounding at tiny dt (``AccuracyWarning``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lindblad.fluxes import HeatFluxes
from lindblad.gaussian import to_lab_frame

from ._kernels import gaussian as kernels
from ._loop import MAX_CHUNKS, MIN_CHUNK_WORK, chunk_stops, run_in_chunks


def collision_symplectic(theta: float) -> np.ndarray:
    """The 4x4 matrix ``R`` of one collision on ``(X_i, Y_i, X_b, Y_b)``.

    ``C -> R C R^T``; ``R`` is orthogonal and symplectic.  Provided for inspection and
    tests; the engine applies it row by row without forming it.
    """
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, 0.0, 0.0, s],
                     [0.0, c, -s, 0.0],
                     [0.0, s, c, 0.0],
                     [-s, 0.0, 0.0, c]])


@dataclass(frozen=True)
class GaussianPlan:
    """What the Gaussian engine needs for one run (from :meth:`GaussianCollisionModel.plan`).

    Attributes
    ----------
    dt, theta : float
        Time step (1/gamma) and collision angle ``sqrt(gamma dt)``.
    save_every, n_steps : int
        Steps between saved times; steps to run (one past the last saved time).
    times : ndarray, shape (n_saved,)
        Saved times.
    cov0 : ndarray, shape (2n, 2n)
        Validated initial covariance.
    delay_steps : tuple of int
        Each link's delay in steps, at most ``n_steps`` (:func:`delay_steps`: a delay
        beyond the run gives the same run as one of ``n_steps``); empty or all zero: no
        delay.
    """

    dt: float
    theta: float
    save_every: int
    n_steps: int
    times: np.ndarray
    cov0: np.ndarray
    delay_steps: tuple[int, ...] = ()


def run_gaussian(model, plan: GaussianPlan,
                 progress: bool = False) -> HeatFluxes:
    """The Gaussian engine's driver: run ``plan`` chunk by chunk.

    Returns the fluxes at the saved times and the lab-frame covariance at ``t[-1]``;
    after Ctrl-C the finished saved times with ``partial=True``.  With delays the run
    goes through :func:`_run_delayed`.
    """
    if any(plan.delay_steps):
        return _run_delayed(model, plan, progress)
    n, save_every, n_steps, times = model.n_systems, plan.save_every, plan.n_steps, plan.times
    n_saved = times.size
    work = np.zeros((2 * n + 2, 2 * n + 2))
    work[:2 * n, :2 * n] = plan.cov0
    local = np.zeros((n, n_saved))
    corr = np.zeros((n, n_saved))
    final = np.zeros((2 * n, 2 * n))
    status = np.zeros(1, dtype=np.int64)
    constants = (n, math.cos(plan.theta), math.sin(plan.theta), model.n_bath,
                 model.omega / plan.dt, model.cascade, save_every)

    def advance(start: int, stop: int) -> None:
        kernels.run_gaussian_collisions(work, *constants, start, stop, local, corr, final,
                                        status)

    # a step: n collisions and up to n ancilla resets, each O(2n + 2) rows and columns
    stops = chunk_stops(n_saved, save_every, n_steps, 16.0 * n * (2 * n + 2),
                        MAX_CHUNKS, MIN_CHUNK_WORK)
    done, interrupted = run_in_chunks(advance, stops, lambda: int(status[0]),
                                      progress=progress, desc="Gaussian engine")
    if done == 0:
        raise KeyboardInterrupt
    # chunks end just after saved steps: `final` is the state at the last finished one
    n_done = (done - 1) // save_every + 1
    return HeatFluxes(times[:n_done], local[:, :n_done], corr[:, :n_done],
                      partial=interrupted and done < n_steps,
                      final_state=to_lab_frame(final, times[n_done - 1], model.omega))


def _process_segments(offsets: np.ndarray, start: int, stop: int, last_step: int
                      ) -> list[tuple[int, int, int, int]]:
    """The stretches of process order where the active sub-chain is constant.

    Ancilla ``j`` meets the subsystems ``i`` with ``-j <= o_i <= last_step - j`` (real steps
    0 .. ``last_step`` only), a contiguous range because ``o`` is non-decreasing.

    Returns
    -------
    list of (j_start, j_stop, lo, hi)
        Consecutive stretches covering ``start <= j < stop``, empty ones left out.
    """
    cuts = {start, stop} | {int(c) for c in -offsets} | {int(c) for c in last_step + 1 - offsets}
    cuts = sorted(c for c in cuts if start <= c <= stop)
    segments = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        active = np.flatnonzero((offsets >= -a) & (offsets <= last_step - a))
        if active.size:
            segments.append((a, b, int(active[0]), int(active[-1])))
    return segments


def _run_delayed(model, plan: GaussianPlan,
                 progress: bool = False) -> HeatFluxes:
    """The driver with delays: the run in process order (module docstring).

    Process step ``p`` is ancilla ``j = p - o_n``; saved time ``k`` is complete once
    ancilla ``k save_every`` is done (S1, the last to reach a real step in this order).
    """
    n, save_every, times = model.n_systems, plan.save_every, plan.times
    n_saved, last = times.size, plan.n_steps - 1
    offsets = np.concatenate([[0], np.cumsum(plan.delay_steps)]).astype(np.int64)
    first, snapshot_at = -int(offsets[-1]), last - int(offsets[-1])
    work = np.zeros((2 * n + 2, 2 * n + 2))
    work[:2 * n, :2 * n] = plan.cov0
    local, corr = np.zeros((n, n_saved)), np.zeros((n, n_saved))
    entry, leave = np.zeros((n - 1, n_saved)), np.zeros((n - 1, n_saved))
    cum = np.zeros(n)
    status = np.zeros(1, dtype=np.int64)
    snapshot: list[np.ndarray] = []
    constants = (offsets, math.cos(plan.theta), math.sin(plan.theta), model.n_bath,
                 model.omega / plan.dt, save_every, n_saved)
    # cut the stretches at the snapshot point, so that a piece starts there
    segments = [piece for a, b, lo, hi in _process_segments(offsets, first, last + 1, last)
                for piece in ((a, min(b, snapshot_at), lo, hi), (max(a, snapshot_at), b, lo, hi))
                if piece[0] < piece[1]]

    def run_segments(cov, pieces, record, out_cum):
        for a, b, lo, hi in pieces:
            kernel = kernels.run_alone if lo == hi else kernels.run_process_collisions
            args = (lo,) if lo == hi else (lo, hi)
            kernel(cov, *args, *constants, record, a, b, local, corr, out_cum, entry, leave)

    def advance(start: int, stop: int) -> None:
        for a, b, lo, hi in segments:
            a, b = max(a, first + start), min(b, first + stop)
            if a >= b:
                continue
            if a == snapshot_at and not snapshot:
                snapshot.append(work.copy())
            run_segments(work, [(a, b, lo, hi)], True, cum)
            status[0] = b - first
        status[0] = stop  # ancillas that meet no subsystem (gaps) are done too

    total = last + 1 - first
    stops = chunk_stops(total, 1, total, 8.0 * n * (2 * n + 2), MAX_CHUNKS, MIN_CHUNK_WORK)
    done, interrupted = run_in_chunks(advance, stops, lambda: int(status[0]),
                                      progress=progress, desc="Gaussian engine (delay)")
    finished = first + done - 1  # the last finished ancilla
    n_done = min(n_saved, finished // save_every + 1) if finished >= 0 else 0
    if n_done == 0:
        raise KeyboardInterrupt
    final = None
    if done == total:
        # equal-time state at t[-1]: S_i has met the ancillas up to last - 1 - o_i
        state = snapshot[0]
        run_segments(state, _process_segments(offsets, snapshot_at, last, last - 1), False,
                     np.zeros(n))
        final = to_lab_frame(state[:2 * n, :2 * n], times[-1], model.omega)
    in_flight = model.omega * (entry - leave)
    return HeatFluxes(times[:n_done], local[:, :n_done], corr[:, :n_done],
                      partial=interrupted and done < total, final_state=final,
                      in_flight=in_flight[:, :n_done])
