"""Thermal machines as collision models, each checked against its continuum limit and the
second law (``collision machines``).

Units: hbar = k_B = 1, time in ``1/gamma`` (every stream collision is ``exp(-i sqrt(gamma
dt) V_ex)``, ``V_ex = sigma_+ b + sigma_- b^dag``, ``gamma = 1``), energies in the reference
frequency ``omega = 1``.  Heat is the Ledger's (:mod:`collision.thermo`): positive *into*
a stream's ancillas; ``W`` is the switching work, positive when done on subsystems +
ancillas.  ``n(omega, T) = 1 / (exp(omega/T) + 1)`` is the excited population of a
qubit of frequency ``omega`` in equilibrium at ``T``.

(a) :func:`chain`: qubits 1 (frequency ``omega_1``) and 2 (``omega_2``) coupled by ``g
    (sigma_+^1 sigma_-^2 + h.c.)`` in ``H``; qubit 1 meets a hot stream, qubit 2 a cold one,
    each stream's ancillas resonant with their qubit.  The heat current into stream ``r``
    (met by qubit ``i``) in the continuum limit is, with ``D_r = gamma (1 - n_r) L[sigma_-^i]
    + gamma n_r L[sigma_+^i]`` the stream's dissipator of ``model.master_equation()``,

        J_r = -Tr[H_i D_r(rho)] = gamma omega_i (<sigma_+ sigma_->_i - n_r),

    (``H_i = omega_i sigma_z^i / 2``: the collision conserves ``H_i + H_r``, so the energy
    the ancilla gains is the energy qubit ``i`` loses to the collision; ``-Tr[H_i
    L[sigma_-]rho] = omega_i p_e``, ``-Tr[H_i L[sigma_+]rho] = -omega_i p_g``).  At a
    finite step the same argument is exact per collision: ``J_r dt = omega_i sin^2(sqrt(
    gamma dt)) (p_e - n_r)``.  The steady current is ``J_r`` at the steady state
    ``rho_ss`` of the master equation; the collision model's is ``heat[r]`` after the
    relaxation (``T_MAX``).  With detuning the coupling does not commute with the bare
    energies, the collisions do work (the local-master-equation work of De Chiara et al.,
    New J. Phys. 20, 113024 (2018)) and ``J_h + J_c = W``.  Second law at the steady
    state: ``Sigma = beta_h J_h + beta_c J_c >= 0``.
(b) :func:`refrigerator`: a cold qubit ``omega_c`` meeting the cold stream and a hot qubit
    ``omega_h > omega_c`` meeting the hot stream, with an excitation swap between them as
    the work stroke (a collision with a "drive" stream whose ancilla is ``1/2`` with no
    Hamiltonian: it exchanges no heat, so its energy is work).  Every unitary conserves
    the number of excitations, so each quantum the swap moves from the cold qubit to the
    hot one takes ``omega_c`` from the cold stream, gives ``omega_h`` to the hot one and
    costs ``W = omega_h - omega_c``.  In the ideal swap refrigerator (full swap, each qubit
    then fully rethermalised: a full swap with its resonant thermal ancilla) the net
    number of quanta moved per cycle is ``p_c (1 - p_h) - p_h (1 - p_c) = p_c - p_h`` with
    ``p_c = n(omega_c, T_c)``, ``p_h = n(omega_h, T_h)``, so

        Q_c = omega_c (p_c - p_h),   W = (omega_h - omega_c)(p_c - p_h),
        COP = Q_c / W = omega_c / (omega_h - omega_c).

    It cools (``Q_c > 0``) iff ``p_c > p_h``, i.e. ``beta_c omega_c < beta_h omega_h``:
    ``omega_c / omega_h < T_c / T_h = beta_h / beta_c``.  Inside that window ``COP <
    T_c / (T_h - T_c)`` (Carnot; equality at the edge, where the power vanishes); outside
    it the machine runs backwards as an engine of efficiency ``1 - omega_c / omega_h``
    (Otto), again below Carnot ``1 - T_c / T_h``.  Because every step conserves the
    excitations, the steady COP equals the formula for every coupling and ``dt``; what the
    swap limit changes is the cooling power: with stroke collisions of angle ``theta``
    (``scale="none"``, one cycle per unit time) the cooling per cycle approaches ``omega_c
    (p_c - p_h)`` as ``theta -> pi/2``.  The continuous version (weak swap ``g dt``,
    reservoir collisions ``sqrt(dt)``) has the continuum limit ``-Tr[H_c D_c(rho_ss)]``
    as in (a).
(c) :func:`cascade`: the paper's cascade S1 -> S2 (``presets.cascade("qubit", 2,
    temperature=T_CASCADE).general()``) from the correlated states of eq 41 (``xi_S =
    0.25``; Fig. 3(b): ``rho23 = -0.75, 0, 0.75``; Fig. 5(c): complex ``rho23`` on the
    disc).  ``Sigma(t)`` (Ledger, cumulative) against the master equation's ``S(t) - S(0)
    + beta (E(0) - E(t))`` (no work: the collisions conserve energy).  Writing ``S(S1 S2) =
    S(S1) + S(S2) - I(S1:S2)``, ``Sigma(t) = [Delta S(S1) + Delta S(S2) + beta Q(t)] + [I(0) -
    I(t)]``: the second bracket is the share carried by the S1-S2 correlations, the
    mutual information consumed (negative when the dynamics builds correlations).
    ``T_CASCADE > 0`` because at ``T = 0`` the stream is not of full rank and ``Sigma =
    +inf`` (:mod:`collision.thermo`).

Every point is checked (:func:`checks`): collisions against the continuum limit (with the
error's ratio between ``dt`` and ``dt / 2``, ~2 for O(dt)), ``Sigma >= 0``, ``COP <=
Carnot``, the first law per step.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lindblad import states

from .. import presets
from ..models.general import Collision, CollisionModel

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground first
SZ = np.diag([-1.0, 1.0]).astype(complex)
I2 = np.eye(2, dtype=complex)
EXCITED = np.diag([0.0, 1.0]).astype(complex)
V_EX = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)  # sigma_+ x sigma_- + h.c.
PAULI = {"x": np.array([[0, 1], [1, 0]], dtype=complex),
         "y": np.array([[0, -1j], [1j, 0]]), "z": SZ}

#: Relaxation time of the steady-state runs (1/gamma).
T_MAX = 40.0
#: Cold temperature and coupling of the chain; hot temperatures of the T_h sweep.
T_COLD, G_CHAIN = 0.5, 0.5
T_HOTS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
#: Detunings omega_1 - omega_2 (omega_{1,2} = 1 +- delta/2) at T_h = 2.
DETUNINGS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
T_HOT_DETUNED = 2.0
#: Refrigerator: temperatures, omega_h = 1, omega_c / omega_h, swap rate, stroke angles.
FRIDGE_T = (1.0, 0.5)  # (T_h, T_c): cooling window omega_c / omega_h < 0.5
RATIOS = (0.1, 0.2, 0.3, 0.4, 0.45, 0.6, 0.8)
G_SWAP = 0.5
THETAS = (math.pi / 8, math.pi / 4, 3 * math.pi / 8, math.pi / 2)
STROKE_CYCLES = 200
#: Cascade: stream temperature, local polarisation and the paper's rho23 (Figs 3b, 5c).
T_CASCADE, XI_S, T_CASCADE_MAX = 1.0, 0.25, 8.0
RHO23 = {"fig3b": (-0.75, 0.0, 0.75), "fig5c": (0.75j, 0.5 + 0.5j, -0.5 - 0.5j)}
#: Tolerances of the checks: second law (``Sigma dt``, nats per step: the entropies are
#: exact to ~1e-14, which ``/ dt`` would amplify), first law per step (energy per unit
#: time).
SECOND_LAW_TOL, FIRST_LAW_TOL = 1e-12, 1e-12
#: Continuum checks: ``|J_coll - J_ME| <= ERROR_PER_DT * dt`` (hbar omega gamma; measured
#: at most 2e-3 dt), the error ratio between dt and dt/2 at least MIN_RATIO where the
#: error is above ROUNDING.
ERROR_PER_DT, MIN_RATIO, ROUNDING = 0.01, 1.6, 1e-10


def excited(omega: float, temperature: float) -> float:
    """``n = 1 / (exp(omega / T) + 1)``, the excited population at ``T`` (0 at ``T = 0``)."""
    return 0.0 if temperature == 0 else 1.0 / (math.exp(omega / temperature) + 1.0)


def thermal(omega: float, temperature: float) -> np.ndarray:
    """The Gibbs state of ``omega sigma_z / 2`` at ``T`` (ground first)."""
    p = excited(omega, temperature)
    return np.diag([1 - p, p]).astype(complex)


def _local(op: np.ndarray, site: int) -> np.ndarray:
    return np.kron(op, I2) if site == 0 else np.kron(I2, op)


# --- (a) the chain ------------------------------------------------------------------------

def chain_model(t_hot: float, t_cold: float = T_COLD, detuning: float = 0.0,
                g: float = G_CHAIN) -> CollisionModel:
    """The two-qubit chain of (a): qubit 1 at ``1 + detuning/2`` meets the hot stream,
    qubit 2 at ``1 - detuning/2`` the cold one."""
    w1, w2 = 1 + detuning / 2, 1 - detuning / 2
    h = w1 / 2 * _local(SZ, 0) + w2 / 2 * _local(SZ, 1) + g * V_EX
    return CollisionModel(
        [2, 2], h, {"hot": thermal(w1, t_hot), "cold": thermal(w2, t_cold)},
        [Collision(0, V_EX, "hot"), Collision(1, V_EX, "cold")],
        stream_hamiltonians={"hot": w1 / 2 * SZ, "cold": w2 / 2 * SZ})


def stream_currents(rho: np.ndarray, sites: dict, gamma: float = 1.0) -> dict:
    """``J_r = gamma omega_i (<sigma_+ sigma_->_i - n_r)`` for ``sites[r] = (i, omega_i,
    T_r)`` (module docstring): the current into stream ``r`` of the continuum limit."""
    return {r: gamma * w * (float(np.trace(_local(EXCITED, i) @ rho).real) - excited(w, t))
            for r, (i, w, t) in sites.items()}


@dataclass
class Point:
    """One steady point: collision currents at each dt, the continuum's, and the ledger
    (``extra``: ``sigma_steady[dt]``, Sigma per unit time at ``t_max``; ``machine[dt]``,
    the refrigerator's numbers of :func:`_machine_numbers`; ``ideal``, :func:`ideal_swap`)."""

    part: str
    parameter: str
    x: float
    heat: dict  # dt -> {stream: heat per unit time at t_max}
    continuum: dict  # stream -> current of the master equation's steady state
    work: dict  # dt -> W per unit time at t_max
    sigma: dict  # dt -> min over every step of Sigma dt (nats per step)
    sigma_continuum: float
    first_law: float  # largest |dE + sum Q - W| per step over the run (per unit time)
    extra: dict = field(default_factory=dict)


def _first_law(res, step: float) -> float:
    """Largest first-law residual per unit time between consecutive saved steps."""
    led = res.thermodynamics
    de = np.diff(led.energy) / step
    q = sum(res.heat[r][:-1] for r in res.heat)
    return float(np.max(np.abs(de + q - led.work[:-1]))) if de.size else 0.0


def _steady_point(part, parameter, x, model, sites, betas, dts, t_max) -> Point:
    me = model.master_equation()
    rho_ss = me.steady_state()
    cont = stream_currents(rho_ss, sites)
    point = Point(part, parameter, x, {}, cont, {}, {},
                  sum(betas[r] * cont[r] for r in cont), 0.0)
    rho0 = np.kron(*[thermal(w, t) for _, w, t in sorted(sites.values())])
    for dt in dts:
        res = model.run(rho0, t_max, dt, thermodynamics=True)
        led = res.thermodynamics
        point.heat[dt] = {r: float(res.heat[r][-1]) for r in sites}
        point.work[dt] = float(led.work[-1])
        point.sigma[dt] = float(np.min(led.entropy_production)) * dt  # nats per step
        point.extra.setdefault("sigma_steady", {})[dt] = float(led.entropy_production[-1])
        point.first_law = max(point.first_law, _first_law(res, dt))
        point.extra.setdefault("machine", {})[dt] = _machine_numbers(res, dt)
    return point


def chain(dts=(0.02, 0.01), t_hots=T_HOTS, detunings=DETUNINGS, t_max: float = T_MAX):
    """The steady currents of (a) against ``T_h`` (resonant) and against the detuning."""
    points = []
    for th in t_hots:
        sites = {"hot": (0, 1.0, th), "cold": (1, 1.0, T_COLD)}
        points.append(_steady_point("chain", "T_h - T_c", th - T_COLD, chain_model(th),
                                    sites, {"hot": 1 / th, "cold": 1 / T_COLD}, dts, t_max))
    for d in detunings:
        sites = {"hot": (0, 1 + d / 2, T_HOT_DETUNED), "cold": (1, 1 - d / 2, T_COLD)}
        points.append(_steady_point("chain", "detuning", d, chain_model(T_HOT_DETUNED,
                                                                          detuning=d),
                                    sites, {"hot": 1 / T_HOT_DETUNED, "cold": 1 / T_COLD},
                                    dts, t_max))
    return points


# --- (b) the swap refrigerator --------------------------------------------------------------

def refrigerator_model(omega_c: float, omega_h: float = 1.0, temperatures=FRIDGE_T,
                       g: float = G_SWAP, theta: float | None = None) -> CollisionModel:
    """The swap refrigerator of (b): S1 the cold qubit, S2 the hot one.

    ``theta=None``: continuous (reservoir collisions ``exp(-i sqrt(dt) V_ex)``, swap
    ``exp(-i g dt V_ex)``; continuum limit exists).  ``theta``: strokes, one cycle per
    step, ``exp(-i theta V_ex)`` with each stream, then the full swap ``exp(-i pi/2
    V_ex)`` (``theta = pi/2``: the ideal swap refrigerator)."""
    t_h, t_c = temperatures
    swap = np.kron(V_EX, I2)  # the drive ancilla is a spectator
    if theta is None:
        cols = [Collision(0, V_EX, "cold"), Collision(1, V_EX, "hot"),
                Collision((0, 1), g * swap, "drive", scale="dt")]
    else:
        cols = [Collision(0, theta * V_EX, "cold", scale="none"),
                Collision(1, theta * V_EX, "hot", scale="none"),
                Collision((0, 1), math.pi / 2 * swap, "drive", scale="none")]
    h = omega_c / 2 * _local(SZ, 0) + omega_h / 2 * _local(SZ, 1)
    return CollisionModel(
        [2, 2], h, {"cold": thermal(omega_c, t_c), "hot": thermal(omega_h, t_h),
                    "drive": I2 / 2},
        cols, stream_hamiltonians={"cold": omega_c / 2 * SZ, "hot": omega_h / 2 * SZ,
                                   "drive": np.zeros((2, 2))})


def ideal_swap(omega_c: float, omega_h: float = 1.0, temperatures=FRIDGE_T) -> dict:
    """The ideal swap refrigerator per cycle (module docstring): ``Q_c``, ``W``, COP,
    Carnot bound and whether it cools."""
    t_h, t_c = temperatures
    moved = excited(omega_c, t_c) - excited(omega_h, t_h)
    return {"Q_c": omega_c * moved, "W": (omega_h - omega_c) * moved,
            "cop": omega_c / (omega_h - omega_c), "carnot": t_c / (t_h - t_c),
            "efficiency": 1 - omega_c / omega_h, "carnot_engine": 1 - t_c / t_h,
            "cools": omega_c / omega_h < t_c / t_h}


def _machine_numbers(res, step: float) -> dict:
    """Steady (last step) and cumulative cooling, work and COP from the Ledger's fields."""
    led = res.thermodynamics
    if "cold" not in res.heat:  # the chain: not a machine
        return {}
    q_c, w = -float(res.heat["cold"][-1]), float(led.work[-1])
    q_tot, w_tot = -float(led.heat_total["cold"][-1]), float(led.work_total[-1])
    q_h = float(res.heat["hot"][-1])
    return {"Q_c": q_c, "W": w, "Q_h": q_h, "cop": q_c / w if w else math.nan,
            "cop_cumulative": q_tot / w_tot if w_tot else math.nan,
            "sigma_min": float(np.min(led.entropy_production)) * step,
            "clausius_gap": float(np.max(np.abs(led.entropy_production
                                                - led.entropy_production_clausius)))}


def refrigerator(dts=(0.02, 0.01), ratios=RATIOS, thetas=THETAS, t_max: float = T_MAX,
                 cycles: int = STROKE_CYCLES):
    """Steady points of (b): the continuous machine against ``omega_c / omega_h`` at each
    ``dt`` (with its continuum limit), and the stroke machine against ``theta``."""
    t_h, t_c = FRIDGE_T
    points = []
    for r in ratios:
        model = refrigerator_model(r)
        sites = {"cold": (0, r, t_c), "hot": (1, 1.0, t_h)}
        p = _steady_point("refrigerator", "omega_c/omega_h", r, model, sites,
                          {"cold": 1 / t_c, "hot": 1 / t_h}, dts, t_max)
        p.extra["ideal"] = ideal_swap(r)
        cont = p.continuum
        p.extra["cop_continuum"] = -cont["cold"] / (cont["cold"] + cont["hot"])
        points.append(p)
    stroke = []
    r = 0.3
    rho0 = np.kron(thermal(r, t_c), thermal(1.0, t_h))
    for theta in thetas:
        res = refrigerator_model(r, theta=theta).run(rho0, float(cycles), 1.0,
                                                     thermodynamics=True)
        numbers = _machine_numbers(res, 1.0)
        numbers.update(theta=theta, first_law=_first_law(res, 1.0),
                       ideal=ideal_swap(r))
        stroke.append(numbers)
    return points, stroke


# --- (c) the cascade --------------------------------------------------------------------------

def _reduced_entropy(rho: np.ndarray, site: int) -> float:
    r = rho.reshape(2, 2, 2, 2)
    red = np.einsum("ijkj->ik", r) if site == 0 else np.einsum("ijil->jl", r)
    return _entropy(red)


def _entropy(rho: np.ndarray) -> float:
    p = np.linalg.eigvalsh((rho + rho.conj().T) / 2)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def _bloch_entropy(x, y, z) -> np.ndarray:
    """Entropy of a qubit state from its Bloch vector (arrays)."""
    r = np.minimum(np.sqrt(x**2 + y**2 + z**2), 1.0)
    out = np.zeros_like(r)
    for s in (1 + r, 1 - r):
        p = s / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            out -= np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
    return out


@dataclass
class CascadeRun:
    label: str
    rho23: complex
    t: np.ndarray
    sigma: np.ndarray  # cumulative Sigma(t), collisions (nats)
    sigma_me: np.ndarray  # the master equation's S(t) - S(0) + beta (E(0) - E(t))
    mutual: np.ndarray  # I(S1:S2)(t), collisions
    mutual_me: np.ndarray
    sigma_rate_min: float  # min Sigma dt over the saved steps (nats per step)
    clausius_gap: float
    work_max: float  # largest |W(t)| (zero: energy-conserving collisions)


def cascade(dt: float = 0.01, t_max: float = T_CASCADE_MAX, rho23s=RHO23,
            save_every: int = 10) -> list[CascadeRun]:
    """Sigma and I(S1:S2) of (c) for each correlated initial state."""
    model = presets.cascade("qubit", 2, temperature=T_CASCADE).general()
    me = model.master_equation()
    beta = 1 / T_CASCADE
    h0 = 0.5 * (_local(SZ, 0) + _local(SZ, 1))
    e_ops = {f"{a}{i}": _local(p, i) for a, p in PAULI.items() for i in (0, 1)}
    out = []
    for label, values in rho23s.items():
        for rho23 in values:
            rho0 = states.correlated_qubits(XI_S, complex(rho23))
            res = model.run(rho0, t_max, dt, e_ops=e_ops, save_every=save_every,
                            thermodynamics=True)
            led = res.thermodynamics
            local = sum(_bloch_entropy(*(res.expect[f"{a}{i}"].real for a in "xyz"))
                        for i in (0, 1))
            rhos = me.evolve(rho0, res.t)
            s = np.array([_entropy(r) for r in rhos])
            e = np.array([np.trace(h0 @ r).real for r in rhos])
            local_me = np.array([_reduced_entropy(r, 0) + _reduced_entropy(r, 1)
                                 for r in rhos])
            w_gap = float(np.max(np.abs(led.work_total))) if led.work_total is not None \
                else math.nan
            out.append(CascadeRun(label, complex(rho23), res.t,
                                  led.entropy_production_total, s - s[0] + beta * (e[0] - e),
                                  local - led.entropy, local_me - s,
                                  float(np.min(led.entropy_production)) * dt,
                                  float(np.max(np.abs(led.entropy_production
                                                      - led.entropy_production_clausius))),
                                  w_gap))
    return out


# --- checks, files -----------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    value: float
    bound: float
    ok: bool

    def line(self) -> str:
        return (f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.value:.3g} "
                f"(bound {self.bound:.3g})")


def _error_checks(points, dts, label) -> list[Check]:
    """Per point and stream: ``|J_coll - J_ME| <= ERROR_PER_DT dt`` at the larger ``dt``,
    and the error at least ``MIN_RATIO`` times smaller at the smaller one (O(dt) or
    better) where it is above rounding."""
    out = []
    big, small = max(dts), min(dts)
    for p in points:
        for r in p.continuum:
            e_big = abs(p.heat[big][r] - p.continuum[r])
            e_small = abs(p.heat[small][r] - p.continuum[r])
            tag = f"{label} {p.parameter}={p.x:g} {r}"
            out.append(Check(f"{tag}: |J_coll - J_ME| at dt={big:g}", e_big,
                             ERROR_PER_DT * big, e_big <= ERROR_PER_DT * big))
            if e_big > ROUNDING:
                ratio = e_big / max(e_small, 1e-300)
                out.append(Check(f"{tag}: error ratio dt={big:g} / dt={small:g} "
                                 f"(2: O(dt), 4: O(dt^2))", ratio, MIN_RATIO,
                                 ratio >= MIN_RATIO))
    return out


def checks(chain_points, fridge_points, stroke, cascade_runs, dts) -> list[Check]:
    """One check per point: continuum limit, second law, COP <= Carnot, first law."""
    out = _error_checks(chain_points, dts, "chain")
    out += _error_checks(fridge_points, dts, "fridge")
    for p in chain_points + fridge_points:
        s = min(p.sigma.values())
        out.append(Check(f"{p.part} {p.parameter}={p.x:g}: min Sigma dt (collisions, nats "
                         "per step)", s, -SECOND_LAW_TOL, s >= -SECOND_LAW_TOL))
        out.append(Check(f"{p.part} {p.parameter}={p.x:g}: Sigma of the ME steady state",
                         p.sigma_continuum, -SECOND_LAW_TOL,
                         p.sigma_continuum >= -SECOND_LAW_TOL))
        out.append(Check(f"{p.part} {p.parameter}={p.x:g}: first law per step",
                         p.first_law, FIRST_LAW_TOL, p.first_law <= FIRST_LAW_TOL))
    for p in fridge_points:
        ideal = p.extra["ideal"]
        for dt, m in p.extra["machine"].items():
            if ideal["cools"]:
                out.append(Check(f"fridge ratio={p.x:g} dt={dt:g}: COP <= Carnot "
                                 f"{ideal['carnot']:.3g} (formula {ideal['cop']:.4g})",
                                 m["cop"], ideal["carnot"], m["cop"] <= ideal["carnot"]))
            else:
                eff = m["W"] / m["Q_h"]  # work out / heat taken from the hot stream
                out.append(Check(f"engine ratio={p.x:g} dt={dt:g}: efficiency <= Carnot "
                                 f"{ideal['carnot_engine']:.3g} (Otto "
                                 f"{ideal['efficiency']:.4g})", eff, ideal["carnot_engine"],
                                 eff <= ideal["carnot_engine"]))
            gap = abs(m["cop"] - ideal["cop"]) / ideal["cop"]
            out.append(Check(f"fridge ratio={p.x:g} dt={dt:g}: |COP/formula - 1|", gap, 1e-6,
                             gap <= 1e-6))
    for m in stroke:
        out.append(Check(f"stroke theta={m['theta']:.3f}: COP <= Carnot", m["cop"],
                         m["ideal"]["carnot"], m["cop"] <= m["ideal"]["carnot"]))
        out.append(Check(f"stroke theta={m['theta']:.3f}: min Sigma per cycle", m["sigma_min"],
                         -SECOND_LAW_TOL, m["sigma_min"] >= -SECOND_LAW_TOL))
        out.append(Check(f"stroke theta={m['theta']:.3f}: first law per step",
                         m["first_law"], FIRST_LAW_TOL, m["first_law"] <= FIRST_LAW_TOL))
    ideal = stroke[-1]
    gap = abs(ideal["Q_c"] - ideal["ideal"]["Q_c"])
    out.append(Check("stroke theta=pi/2: |Q_c per cycle - omega_c (p_c - p_h)|", gap, 1e-12,
                     gap <= 1e-12))
    for c in cascade_runs:
        tag = f"cascade {c.label} rho23={_complex(c.rho23)}"
        out.append(Check(f"{tag}: min Sigma dt (nats per step)", c.sigma_rate_min,
                         -SECOND_LAW_TOL, c.sigma_rate_min >= -SECOND_LAW_TOL))
        err = float(np.max(np.abs(c.sigma - c.sigma_me)))
        out.append(Check(f"{tag}: max |Sigma_coll(t) - Sigma_ME(t)|", err, 0.05, err <= 0.05))
        out.append(Check(f"{tag}: Clausius = information form", c.clausius_gap, 1e-10,
                         c.clausius_gap <= 1e-10))
        out.append(Check(f"{tag}: work W(t) (energy-conserving)", c.work_max, 1e-10,
                         c.work_max <= 1e-10))
    return out


def _complex(z: complex) -> str:
    return f"{z.real:g}" if z.imag == 0 else f"{z.real:g}{z.imag:+g}i"


COLUMNS = ("part", "parameter", "x", "dt", "quantity", "collision", "continuum")


def rows(chain_points, fridge_points, stroke, cascade_runs) -> list[dict]:
    """The long table of machines.csv (one value per row)."""
    out = []
    for p in chain_points + fridge_points:
        for dt in p.heat:
            for r in p.continuum:
                out.append(dict(part=p.part, parameter=p.parameter, x=p.x, dt=dt,
                                quantity=f"heat_{r}", collision=p.heat[dt][r],
                                continuum=p.continuum[r]))
            out.append(dict(part=p.part, parameter=p.parameter, x=p.x, dt=dt,
                            quantity="work", collision=p.work[dt],
                            continuum=sum(p.continuum.values())))
            out.append(dict(part=p.part, parameter=p.parameter, x=p.x, dt=dt,
                            quantity="sigma", collision=p.extra["sigma_steady"][dt],
                            continuum=p.sigma_continuum))
            if p.part == "refrigerator":
                m = p.extra["machine"][dt]
                out.append(dict(part=p.part, parameter=p.parameter, x=p.x, dt=dt,
                                quantity="cop", collision=m["cop"],
                                continuum=p.extra["cop_continuum"]))
                out.append(dict(part=p.part, parameter=p.parameter, x=p.x, dt=dt,
                                quantity="carnot", collision=p.extra["ideal"]["carnot"],
                                continuum=p.extra["ideal"]["carnot"]))
    for m in stroke:
        for q in ("Q_c", "W", "cop"):
            out.append(dict(part="stroke", parameter="theta", x=m["theta"], dt=1.0,
                            quantity=q, collision=m[q], continuum=m["ideal"][q]))
    for c in cascade_runs:
        for k in range(0, len(c.t), max(1, len(c.t) // 40)):
            for q, a, b in (("sigma_total", c.sigma, c.sigma_me),
                            ("mutual_information", c.mutual, c.mutual_me)):
                out.append(dict(part="cascade", parameter=f"{c.label} rho23="
                                f"{_complex(c.rho23)}", x=float(c.t[k]), dt=float(
                                    c.t[1] - c.t[0]), quantity=q, collision=float(a[k]),
                                continuum=float(b[k])))
    return out


@dataclass
class Study:
    chain: list
    refrigerator: list
    stroke: list
    cascade: list
    checks: list
    files: list
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def report(study: Study, dts) -> str:
    """machines.txt: the measured numbers and one line per check."""
    big, small = max(dts), min(dts)
    lines = [f"Thermal machines as collision models (dt = {big:g} and {small:g}; "
             f"computed in {study.seconds:.1f} s)", "",
             f"(a) chain, T_c = {T_COLD:g}, g = {G_CHAIN:g}: steady heat into the cold "
             "stream, collisions at two dt vs master equation"]
    for p in study.chain:
        lines.append(f"  {p.parameter} = {p.x:<5g} J_c: {p.heat[big]['cold']:.6f} "
                     f"(dt={big:g}), {p.heat[small]['cold']:.6f} (dt={small:g}), ME "
                     f"{p.continuum['cold']:.6f}; W = {p.work[small]:.4g}")
    t_h, t_c = FRIDGE_T
    lines += ["", f"(b) swap refrigerator, T_h = {t_h:g}, T_c = {t_c:g}, omega_h = 1, "
              f"g = {G_SWAP:g}: COP = omega_c/(omega_h - omega_c) for omega_c/omega_h < "
              f"{t_c / t_h:g}, Carnot {t_c / (t_h - t_c):g}"]
    for p in study.refrigerator:
        m, i = p.extra["machine"][small], p.extra["ideal"]
        lines.append(f"  omega_c = {p.x:<5g} cooling {m['Q_c']:+.6f} (ME "
                     f"{-p.continuum['cold']:+.6f}), W {m['W']:+.6f}, COP {m['cop']:.6g} "
                     f"(formula {i['cop']:.6g}, {'cools' if i['cools'] else 'engine'})")
    for m in study.stroke:
        lines.append(f"  stroke theta = {m['theta']:.4f}: cooling per cycle {m['Q_c']:.6f} "
                     f"(ideal {m['ideal']['Q_c']:.6f}), COP {m['cop']:.6g}, cumulative "
                     f"{m['cop_cumulative']:.6g}")
    lines += ["", f"(c) cascade, T = {T_CASCADE:g}, xi_S = {XI_S:g}, t = {T_CASCADE_MAX:g}: "
              "Sigma(t) and the share I(0) - I(t) carried by S1-S2 correlations"]
    for c in study.cascade:
        share = (c.mutual[0] - c.mutual[-1]) / c.sigma[-1]
        lines.append(f"  {c.label} rho23 = {_complex(c.rho23):<10} Sigma = {c.sigma[-1]:.5f} "
                     f"(ME {c.sigma_me[-1]:.5f}), I(0) = {c.mutual[0]:.5f}, I(t) = "
                     f"{c.mutual[-1]:.5f}, share {share:+.3f}")
    n_fail = sum(not c.ok for c in study.checks)
    lines += ["", f"checks: {len(study.checks) - n_fail} passed, {n_fail} failed"]
    lines += [c.line() for c in study.checks]
    return "\n".join(lines) + "\n"


def run_study(out: Path, quick: bool = False) -> Study:
    """Compute (a)-(c), check them and write ``machines.csv``, ``machines.png`` and
    ``machines.txt`` into ``out``.  ``quick``: fewer points, ``dt = 0.04, 0.02``."""
    from .machines_plots import plot_machines

    start = time.perf_counter()
    dts = (0.04, 0.02) if quick else (0.02, 0.01)
    kw = dict(t_hots=T_HOTS[::2], detunings=DETUNINGS[::2], t_max=25.0) if quick else {}
    ch = chain(dts, **kw)
    fr, st = refrigerator(dts, ratios=(0.2, 0.4, 0.6) if quick else RATIOS,
                          t_max=25.0 if quick else T_MAX,
                          cycles=60 if quick else STROKE_CYCLES)
    ca = cascade(dt=min(dts), t_max=4.0 if quick else T_CASCADE_MAX)
    study = Study(ch, fr, st, ca, checks(ch, fr, st, ca, dts), [], 0.0)
    study.seconds = time.perf_counter() - start
    out = Path(out)
    path = out / "machines.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        w.writerows(rows(ch, fr, st, ca))
    study.files.append(path)
    path = out / "machines.png"
    plot_machines(study, dts, path)
    study.files.append(path)
    path = out / "machines.txt"
    path.write_text(report(study, dts))
    study.files.append(path)
    return study
