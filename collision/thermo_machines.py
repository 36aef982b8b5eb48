"""A collision model as a thermal machine: efficiency and coefficient of performance from
its thermodynamic ledger (:mod:`collision.thermo`), and their Carnot bounds.

Sign conventions (the README's table): ``heat[r] > 0`` is energy INTO stream ``r``'s
ancillas, ``work > 0`` is work done ON subsystems + ancillas by switching the collisions.
So a machine between a hot and a cold stream, with ``Q_h``, ``Q_c`` the heats into them
and ``W`` the work (per unit time over a step, or summed over a run), is

* a heat engine when it takes heat from the hot stream, ``-Q_h > 0``, and delivers work,
  ``W < 0``; its efficiency is ``eta = -W / (-Q_h) = W / Q_h``, at most ``eta_C = 1 -
  T_c / T_h = 1 - beta_h / beta_c``;
* a refrigerator when it takes heat from the cold stream, ``-Q_c > 0``, and consumes
  work, ``W > 0``; its coefficient of performance is ``COP = -Q_c / W``, at most
  ``COP_C = T_c / (T_h - T_c) = beta_h / (beta_c - beta_h)``.

``over="steady"`` uses the rates of the last saved step (the step that starts at
``t[-1]``: the steady state once the run has reached it); ``over="total"`` the cumulative
sums over ``[0, t[-1])`` (``heat_total``, ``work_total``: transients included).  A
quantity within :data:`ZERO` of zero (relative to the largest energy flow) counts as
zero, so a machine that does nothing is refused rather than given a ratio of roundings.
"""

from __future__ import annotations

import numpy as np

#: Relative size below which a work or heat counts as zero (rounding).
ZERO = 1e-10
#: Accepted values of ``over``.
OVER = ("steady", "total")


def _flows(ledger, over: str) -> tuple[float, dict[str, float]]:
    """``(W, {stream: Q_r})`` of the last step (``over="steady"``) or of the whole run
    (``over="total"``)."""
    if over not in OVER:
        raise ValueError(f"over must be 'steady' (the last saved step's rates) or 'total' "
                         f"(the cumulative sums), got {over!r}")
    work = ledger.work if over == "steady" else ledger.work_total
    heat = ledger.heat if over == "steady" else ledger.heat_total
    if work is None:
        raise ValueError("the ledger has no work (a stream with a collision has no "
                         "Hamiltonian): efficiency and coefficient of performance need it")
    if np.asarray(work).size == 0:
        raise ValueError("the ledger has no saved time: efficiency and coefficient of "
                         "performance need at least one step")
    if over == "total" and np.asarray(work).size < 2:
        raise ValueError("over='total' needs at least two saved times (the cumulative sums "
                         "at t = 0 are zero)")
    return float(work[-1]), {r: float(q[-1]) for r, q in heat.items()}


def _stream(heat: dict[str, float], name, role: str) -> float:
    if not isinstance(name, str) or name not in heat:
        raise ValueError(f"{role} must be the name of a stream with a Hamiltonian (one of "
                         f"{sorted(heat)}), got {name!r}")
    return heat[name]


def _scale(work: float, heat: dict[str, float]) -> float:
    return ZERO * max([abs(work), *map(abs, heat.values()), 1e-300])


def efficiency(ledger, hot: str, cold: str, over: str = "steady") -> float:
    """Heat-engine efficiency ``-W / (-Q_hot)`` (module docstring).

    Raises
    ------
    ValueError
        If ``hot`` or ``cold`` is not a stream with a Hamiltonian, they are the same,
        the ledger has no work, or the model does not run as an engine there: no work
        delivered (``W >= 0``) or no heat taken from the hot stream (``Q_hot >= 0``).
    """
    work, heat = _flows(ledger, over)
    q_h = _stream(heat, hot, "hot")
    _stream(heat, cold, "cold")
    if hot == cold:
        raise ValueError(f"hot and cold must be different streams, got {hot!r} for both")
    tiny = _scale(work, heat)
    if work >= -tiny:
        raise ValueError(f"not a heat engine ({over}): the work W = {work:.6g} is not "
                         "negative (no work is delivered; W > 0 is work done on the "
                         "model)")
    if q_h >= -tiny:
        raise ValueError(f"not a heat engine ({over}): the heat into the hot stream "
                         f"{hot!r} is Q = {q_h:.6g} >= 0 (no heat is taken from it)")
    return work / q_h


def coefficient_of_performance(ledger, cold: str, over: str = "steady") -> float:
    """Refrigerator coefficient of performance ``-Q_cold / W`` (module docstring).

    Raises
    ------
    ValueError
        If ``cold`` is not a stream with a Hamiltonian, the ledger has no work, or the
        model does not run as a refrigerator: no work consumed (``W <= 0``) or no heat
        taken from the cold stream (``Q_cold >= 0``).
    """
    work, heat = _flows(ledger, over)
    q_c = _stream(heat, cold, "cold")
    tiny = _scale(work, heat)
    if work <= tiny:
        raise ValueError(f"not a refrigerator ({over}): the work W = {work:.6g} is not "
                         "positive (no work is consumed)")
    if q_c >= -tiny:
        raise ValueError(f"not a refrigerator ({over}): the heat into the cold stream "
                         f"{cold!r} is Q = {q_c:.6g} >= 0 (no heat is taken from it)")
    return -q_c / work


def _betas(ledger, hot: str, cold: str) -> tuple[float, float]:
    out = []
    for name, role in ((hot, "hot"), (cold, "cold")):
        if not isinstance(name, str) or name not in ledger.beta:
            raise ValueError(f"{role} must be the name of a stream with a collision (one of "
                             f"{sorted(ledger.beta)}), got {name!r}")
        if ledger.beta[name] is None:
            raise ValueError(f"{role} stream {name!r} is not thermal (no temperature): the "
                             "Carnot bound needs eta = exp(-beta H) / Z")
        out.append(float(ledger.beta[name]))
    b_h, b_c = out
    if not 0.0 <= b_h < b_c:
        raise ValueError(f"the Carnot bound needs 0 <= beta_hot < beta_cold, got beta_hot = "
                         f"{b_h:.6g} ({hot!r}), beta_cold = {b_c:.6g} ({cold!r})")
    return b_h, b_c


def carnot_efficiency(ledger, hot: str, cold: str) -> float:
    """``1 - T_c / T_h = 1 - beta_h / beta_c`` from the streams' ``beta``.

    Raises
    ------
    ValueError
        If a stream is unknown or not thermal, or not ``0 <= beta_hot < beta_cold``.
    """
    b_h, b_c = _betas(ledger, hot, cold)
    return 1.0 - b_h / b_c


def carnot_cop(ledger, hot: str, cold: str) -> float:
    """``T_c / (T_h - T_c) = beta_h / (beta_c - beta_h)`` from the streams' ``beta``.

    Raises
    ------
    ValueError
        As :func:`carnot_efficiency`.
    """
    b_h, b_c = _betas(ledger, hot, cold)
    return b_h / (b_c - b_h)
