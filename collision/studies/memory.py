"""What memory in the reservoir does: Markovian decay to revivals, and the cascade.

The reservoir of :mod:`collision.models.memory` with a pseudomode: each step the
subsystems meet the carried ancilla through ``exp(-i g dt V_ex)`` (``V_ex = sigma_+ b +
sigma_- b^dag``, at resonance, ``T = 0``), then the outgoing and a fresh incoming ancilla
undergo ``W = SWAP exp(-i sqrt(kappa dt) V_ex)``: a weak exchange at rate ``kappa`` (the
ancilla-ancilla swap strength) followed by a full swap.  Its continuum limit is a
Lorentzian reservoir of half width ``lambda = kappa/2`` (the damped Jaynes-Cummings
model, Breuer and Petruccione Sec. 10.1), with ``gamma_0 = 4 g^2 / kappa``.  Here
``gamma_0 = 1`` (time in ``1/gamma_0``) and ``g = sqrt(kappa gamma_0)/2``, so ``kappa``
alone moves the reservoir from memoryless (``kappa >> gamma_0``: decay at rate
``gamma_0``) to strong memory (``kappa < 4 gamma_0``: revivals).

1. :func:`decay`: S1 alone starts excited; its excited population (the collision model
   at ``dt``, and ``|G(t)|^2``) and the heat it gives to the reservoir: the energy of the
   ancillas that leave per unit time (``Result.heat``), its integral ``Q_out(t)``, and
   the energy held by the pseudomode ``1 - P_e - Q_out``; the release time ``t_50``
   (``Q_out = 1/2``).
2. :func:`cascade`: S1 -> S2 (the carried ancilla meets S1, then S2, each step) in the
   paper's correlated states (eq 41, ``xi_S = 0.25``, ``Re rho23 = -0.75, 0, 0.75``),
   against the memoryless cascade (``exp(-i sqrt(gamma_0 dt) V_ex)`` with fresh
   ancillas, the paper's model): the heat released ``Q_out(t)``, the release times
   ``t_50``, ``t_90`` and the heat trapped in the subsystems at ``t_max``.

   What it shows (derived here, measured by the study).  With ``scale="dt"`` collisions
   the order S1-then-S2 within a step is an O(dt) effect, so the continuum limit of this
   reservoir is a *common* Lorentzian reservoir, ``H = g (sigma_+ b + h.c.)`` with
   ``sigma = sigma_1 + sigma_2`` and a leak ``kappa`` of ``b``; for ``kappa -> inf`` it
   becomes the collective decay ``gamma_0 L[sigma_1 + sigma_2]``, the paper's cascade
   *without* its cascade Hamiltonian ``H_c``.  The singlet ``(|eg> - |ge>)/sqrt(2)`` is
   then dark: it keeps the energy ``(1 - xi_S^2 - Re rho23) / 4`` (``dark_energy``) for
   ever, at every ``kappa``, while the memoryless cascade releases everything.

Energies in units of ``hbar omega`` (one excitation), time in ``1/gamma_0``.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lindblad import states
from lindblad._tabular import Tabular, concat_frames, fmt, html_table, time_span

from ..models.general import Collision, CollisionModel
from ..models.memory import Memory

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground first
V_EX = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)
GROUND = np.diag([1.0, 0.0]).astype(complex)
EXCITED = np.diag([0.0, 1.0]).astype(complex)
N_A = np.diag([0.0, 1.0])  # the ancilla's energy (units of omega)

#: Ancilla-ancilla exchange rates kappa (units of gamma_0) of the decay study.
KAPPAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 32.0)
#: Those of the cascade (and ``None``: the memoryless cascade).
CASCADE_KAPPAS = (None, 64.0, 8.0, 2.0, 0.5)
#: The paper's correlations of Fig. 3(b) (``Re rho23``) and local polarisation.
RHO23 = (-0.75, 0.0, 0.75)
XI_S = 0.25


def pseudomode_model(kappa: float, n_subsystems: int = 1,
                     gamma0: float = 1.0) -> CollisionModel:
    """The reservoir with memory of the module docstring, met by ``n_subsystems`` qubits in
    order (S1 first)."""
    g = math.sqrt(kappa * gamma0) / 2
    return CollisionModel(
        [2] * n_subsystems, None, GROUND,
        [Collision(i, g * V_EX, scale="dt") for i in range(n_subsystems)],
        stream_hamiltonians={"bath": N_A},
        memory={"bath": Memory(math.sqrt(kappa) * V_EX, "sqrt_dt", swap=True)})


def memoryless_cascade(n_subsystems: int = 2, gamma0: float = 1.0) -> CollisionModel:
    """The paper's cascade at T = 0: fresh ancillas, ``exp(-i sqrt(gamma_0 dt) V_ex)``."""
    return CollisionModel([2] * n_subsystems, None, GROUND,
                          [Collision(i, math.sqrt(gamma0) * V_EX)
                           for i in range(n_subsystems)], stream_hamiltonians={"bath": N_A})


def g_of_t(t: np.ndarray, kappa: float, gamma0: float = 1.0) -> np.ndarray:
    """``G(t)`` of Breuer and Petruccione eq. (10.39), ``lambda = kappa/2``."""
    lam = kappa / 2
    d = np.sqrt(complex(lam**2 - 2 * gamma0 * lam))
    if abs(d) < 1e-9 * lam:  # critical damping, kappa = 4 gamma_0: the limit d -> 0
        return np.exp(-lam * t / 2) * (1 + lam * t / 2)
    return np.exp(-lam * t / 2) * (np.cosh(d * t / 2) + lam / d * np.sinh(d * t / 2))


def first_passage(t: np.ndarray, q: np.ndarray, level: float) -> float:
    """The first time ``q`` reaches ``level`` (linear interpolation), NaN if never."""
    above = np.flatnonzero(q >= level)
    if above.size == 0:
        return math.nan
    k = int(above[0])
    if k == 0:
        return float(t[0])
    return float(t[k - 1] + (level - q[k - 1]) * (t[k] - t[k - 1]) / (q[k] - q[k - 1]))


def _released(res, step: float) -> np.ndarray:
    """``Q_out(t)``: the heat of the ancillas that left before ``t`` (the heat over the
    step starting at each saved time, summed; saved every step)."""
    flow = res.heat["bath"]
    return np.concatenate([[0.0], np.cumsum(flow[:-1]) * step])


@dataclass(repr=False)
class Decay(Tabular):
    """S1 alone in the reservoir with memory, per ``kappa`` (:func:`decay`).

    ``to_pandas()``: the columns of ``memory_decay.csv`` (``t``, then ``P_e_<kappa>``,
    ``exact_<kappa>``, ``heat_<kappa>``, ``Q_out_<kappa>`` per ``kappa``); the reprs show
    :attr:`summary`.
    """

    t: np.ndarray
    kappas: tuple
    population: dict = field(default_factory=dict)  # kappa -> P_e(t), collision model
    exact: dict = field(default_factory=dict)  # kappa -> |G(t)|^2
    heat: dict = field(default_factory=dict)  # kappa -> heat flow (omega gamma_0)
    released: dict = field(default_factory=dict)  # kappa -> Q_out(t)
    summary: list = field(default_factory=list)  # rows of :data:`DECAY_COLUMNS`

    def _frame(self) -> tuple[dict, dict]:
        cols = {"t": self.t}
        for x in self.kappas:
            cols.update({f"{k}_{x:g}": a[x] for k, a in
                         (("P_e", self.population), ("exact", self.exact),
                          ("heat", self.heat), ("Q_out", self.released))})
        return cols, {"kappas": list(self.kappas)}

    def _display(self):
        return ([("t", time_span(self.t)), ("kappas", fmt(list(self.kappas)))],
                list(DECAY_COLUMNS), [[fmt(r[c]) for c in DECAY_COLUMNS] for r in self.summary])


DECAY_COLUMNS = ("kappa", "g", "strong_coupling", "first_minimum", "t_min",
                 "revival_peak", "t_50", "peak_heat_flow", "max_stored", "error_vs_exact")


def decay(kappas=KAPPAS, dt: float = 0.005, t_max: float = 12.0) -> Decay:
    """Run S1's decay for every ``kappa`` (density engine, saved every step)."""
    out = None
    for kappa in kappas:
        res = pseudomode_model(kappa).run(EXCITED, t_max, dt, e_ops={"e": EXCITED})
        if out is None:
            out = Decay(res.t, tuple(kappas))
        p = res.expect["e"]
        exact = np.abs(g_of_t(res.t, kappa)) ** 2
        q = _released(res, dt)
        out.population[kappa], out.exact[kappa] = p, exact
        out.heat[kappa], out.released[kappa] = res.heat["bath"], q
        rising = np.flatnonzero(np.diff(p) > 1e-12)
        k_min = int(rising[0]) if rising.size else p.size - 1
        out.summary.append({
            "kappa": kappa, "g": math.sqrt(kappa) / 2, "strong_coupling": kappa < 4,
            "first_minimum": float(p[k_min]) if rising.size else math.nan,
            "t_min": float(res.t[k_min]) if rising.size else math.nan,
            "revival_peak": float(p[k_min:].max()) if rising.size else 0.0,
            "t_50": first_passage(res.t, q, 0.5),
            "peak_heat_flow": float(res.heat["bath"].max()),
            "max_stored": float(np.max(1 - p - q)),
            "error_vs_exact": float(np.max(np.abs(p - exact)))})
    return out


@dataclass(repr=False)
class Cascade(Tabular):
    """S1 -> S2 in the paper's correlated states, per reservoir (:func:`cascade`).

    ``to_pandas()``: the columns of ``memory_cascade.csv`` (``t``, then
    ``Q_out_kappa=<kappa>_rho23=<rho23>`` and ``heat_kappa=..`` per reservoir and state,
    ``kappa=none`` the memoryless reservoir); the reprs show :attr:`summary`.
    """

    t: np.ndarray
    released: dict = field(default_factory=dict)  # (kappa, rho23) -> Q_out(t)
    flux: dict = field(default_factory=dict)  # (kappa, rho23) -> heat flow
    summary: list = field(default_factory=list)  # rows of :data:`CASCADE_COLUMNS`

    def _frame(self) -> tuple[dict, dict]:
        cols = {"t": self.t}
        for x, r in self.released:
            name = f"kappa={'none' if x is None else f'{x:g}'}_rho23={r:g}"
            cols[f"Q_out_{name}"] = self.released[(x, r)]
            cols[f"heat_{name}"] = self.flux[(x, r)]
        return cols, {}

    def _display(self):
        return ([("t", time_span(self.t)), ("states", str(len(self.released)))],
                list(CASCADE_COLUMNS),
                [[fmt(r[c]) for c in CASCADE_COLUMNS] for r in self.summary])


CASCADE_COLUMNS = ("reservoir", "kappa", "rho23", "energy_0", "t_50", "t_90",
                   "released_at_t_max", "trapped_at_t_max", "dark_energy",
                   "correlation_effect")


def cascade(kappas=CASCADE_KAPPAS, rho23s=RHO23, dt: float = 0.005,
            t_max: float = 16.0) -> Cascade:
    """Run the cascade for every reservoir and correlation.  ``correlation_effect`` is
    ``int |J(t; rho23) - J(t; 0)| dt / U_S(0)`` (the paper's eta, with the heat flow of
    the leaving ancillas as ``J``)."""
    out = None
    energy = np.kron(EXCITED, np.eye(2)) + np.kron(np.eye(2), EXCITED)
    for kappa in kappas:
        model = memoryless_cascade() if kappa is None else pseudomode_model(kappa, 2)
        base = None
        for rho23 in rho23s:
            rho0 = states.correlated_qubits(XI_S, rho23)
            res = model.run(rho0, t_max, dt, e_ops={"U": energy})
            if out is None:
                out = Cascade(res.t)
            u0 = float(res.expect["U"][0])
            q = _released(res, dt)
            out.released[(kappa, rho23)], out.flux[(kappa, rho23)] = q, res.heat["bath"]
            if rho23 == 0.0:
                base = res.heat["bath"]
            out.summary.append({
                "reservoir": "memoryless" if kappa is None else "memory",
                "kappa": math.inf if kappa is None else kappa, "rho23": rho23,
                "energy_0": u0, "t_50": first_passage(res.t, q, 0.5 * u0),
                "t_90": first_passage(res.t, q, 0.9 * u0),
                "released_at_t_max": float(q[-1]),
                "trapped_at_t_max": float(res.expect["U"][-1]),
                "dark_energy": (1 - XI_S**2 - rho23) / 4, "correlation_effect": None})
        for row in out.summary[-len(rho23s):]:
            flux = out.flux[(kappa, row["rho23"])]
            row["correlation_effect"] = float(np.sum(np.abs(flux - base)) * dt
                                              / row["energy_0"]) if base is not None else None
    return out


def _write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow([row[c] for c in columns] if isinstance(row, dict) else row)


def _fmt(x) -> str:
    return "never" if isinstance(x, float) and math.isnan(x) else \
        ("inf" if isinstance(x, float) and math.isinf(x) else f"{x:.3g}")


def report(dec: Decay, cas: Cascade, dt: float, seconds: float) -> str:
    """REPORT.md: the two summary tables and what they show."""
    lines = ["# Memory in the reservoir", "",
             "Reservoir: carried ancilla met through exp(-i g dt V_ex), then "
             "W = SWAP exp(-i sqrt(kappa dt) V_ex) between the outgoing and a fresh ancilla "
             f"(T = 0, gamma_0 = 4 g^2 / kappa = 1, dt = {dt:g}); "
             f"computed in {seconds:.1f} s.", "",
             "## S1 alone: decay against the ancilla-ancilla swap strength kappa", "",
             "| kappa | g | strong | first minimum of P_e | t_min | revival peak | t_50 (Q_out) | "
             "peak heat flow | max stored in pseudomode | max abs(P_e - abs(G)^2) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in dec.summary:
        lines.append("| " + " | ".join(_fmt(r[c]) if not isinstance(r[c], bool)
                                       else ("yes" if r[c] else "no")
                                       for c in DECAY_COLUMNS) + " |")
    lines += ["", "Markovian reference: t_50 = ln 2 = 0.693 and peak heat flow 1 (rate "
              "gamma_0).", "", "## Cascade S1 -> S2, paper's states (xi_S = 0.25)", "",
              "| reservoir | kappa | Re rho23 | U_S(0) | t_50 | t_90 | Q_out(t_max) | "
              "U_S(t_max) | singlet energy | eta |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in cas.summary:
        lines.append("| " + " | ".join(r[c] if isinstance(r[c], str) else _fmt(r[c])
                                       for c in CASCADE_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


@dataclass(repr=False)
class Study:
    """What :func:`run_study` computed and wrote: :class:`Decay`, :class:`Cascade`, the
    files, the wall time (s)."""

    decay: Decay
    cascade: Cascade
    files: list
    seconds: float

    def to_pandas(self):
        """Both parts' frames stacked, with a first column ``part`` (``"decay"``,
        ``"cascade"``)."""
        return concat_frames({"decay": self.decay.to_pandas(),
                              "cascade": self.cascade.to_pandas()})

    def _repr_html_(self) -> str:
        return "\n".join([html_table("memory Study", [("seconds", fmt(self.seconds)),
                                                        ("files", str(len(self.files)))]),
                          self.decay._repr_html_(), self.cascade._repr_html_()])

    def __repr__(self) -> str:
        return (f"Study(seconds={fmt(self.seconds)}, files={len(self.files)}, "
                f"kappas={fmt(list(self.decay.kappas))}, cascade states="
                f"{len(self.cascade.released)})")


def run_study(out: Path, quick: bool = False) -> Study:
    """Compute both parts and write ``memory_decay.csv``, ``memory_decay_summary.csv``,
    ``memory_cascade.csv``, ``memory_cascade_summary.csv``, ``memory.png`` and
    ``REPORT.md`` into ``out``."""
    from .memory_plots import plot_memory

    start = time.perf_counter()
    dt = 0.02 if quick else 0.005
    dec = decay(dt=dt)
    cas = cascade(dt=dt)
    seconds = time.perf_counter() - start
    out = Path(out)
    files = []
    for part, name, summary_columns in ((dec, "decay", DECAY_COLUMNS),
                                        (cas, "cascade", CASCADE_COLUMNS)):
        cols = part._frame()[0]
        files.append(out / f"memory_{name}.csv")
        _write_csv(files[-1], list(cols), np.column_stack(list(cols.values())).tolist())
        files.append(out / f"memory_{name}_summary.csv")
        _write_csv(files[-1], summary_columns, part.summary)
    files.append(out / "memory.png")
    plot_memory(dec, cas, files[-1])
    files.append(out / "REPORT.md")
    files[-1].write_text(report(dec, cas, dt, seconds))
    return Study(dec, cas, files, seconds)
