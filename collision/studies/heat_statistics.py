"""Heat fluctuations and initial correlations: a study with the counting statistics.

The paper asks how initial correlations between S1 and S2 change the *mean* heat flux
(Figs 3a, 3b).  The counting statistics (:mod:`collision.counting`,
:mod:`lindblad.tilted`) answer the same question for the whole distribution of the heat
``Q = hbar omega q`` delivered to the reservoir.  Two parts:

1. **Variance and skewness against correlations** (:func:`correlation_study`): the
   initial states of Fig. 3, the reservoir at ``T = 0`` as in the figure.

   * qubits, eq 41 with ``xi_S = 0.25`` and ``Re rho23 = -0.75, 0, 0.75``;
   * oscillators, eq 31 with ``N_S = 1`` and ``C13 = C24 = -0.7, 0, 0.7``
     (:func:`correlated_oscillators`: excitation-conserving, beam-splitter-type
     correlations ``<a_1^dag a_2> = C13``; a Fock cutoff, with the truncated weight
     reported).

   Density engine at ``dt`` (markers) and the master equation (lines).  At ``T = 0`` all
   quanta end in the reservoir, so ``P(q, infinity)`` is the distribution of the initial
   excitation number: for eq 41 it does not depend on ``rho23`` (the correlations only
   reshape the transient), while the oscillators' beam-splitter correlations make the
   total excitation number a sum of two thermal numbers with ``N_S +/- C13``, so the
   final variance is ``2 N_S (N_S + 1) + 2 C13^2`` for either sign.

2. **The exchange fluctuation theorem** (:func:`fluctuation_theorem_study`).  For a
   thermal product start at ``beta_S`` and a reservoir at ``beta``,

       P(q, t) / P(-q, t) = exp((beta - beta_S) hbar omega q)

   (Jarzynski & Wojcik, PRL 92, 230602 (2004)) holds *exactly at every dt and t* in
   the collision model: every collision conserves ``n_i + n_b`` and is symmetric in the
   Fock basis (``U^T = U``), so the transposed step sequence is the cascade run
   backwards (Sn first), which for identical subsystems in a symmetric product state has
   the same statistics.  Initial correlations break it.  What restores it, exactly:
   following the same steps for any ``rho0`` (only its excitation-number blocks
   matter) gives

       P(q, t; rho0) = e^{(beta - beta_S) omega q} Tr[R~ Phi_{-q,t}(gamma_S)],
       R = sum_N Pi_N rho0 Pi_N / g_N,     R~ = V R^* V,

   with ``gamma_S`` the thermal product at ``beta_S``, ``g_N`` its weight on one state
   of excitation number ``N``, ``V`` the permutation reversing the chain, and
   ``Phi_{q',t}(gamma_S)`` the (unnormalised) state of the uncorrelated thermal process
   conditioned on ``q'`` quanta.  Hence

       ln[P(q)/P(-q)] = (beta - beta_S) omega q + ln[r(-q, t) / r(q, t)],
       r(q', t) = <R~>_{gamma_S, q', t},

   the expectation of the *correlation observable* ``R~`` (``= 1`` for ``rho0 =
   gamma_S``) in the thermal process given the heat ``q'``: the correlations enter the
   theorem only through how strongly the uncorrelated process, conditioned on the heat,
   builds up the same correlations.  Measuring the local energies at ``t = 0`` (the
   usual two-point scheme on the subsystems too) erases the coherence of eq 41 and
   restores the plain theorem, since eq 41's populations are those of ``gamma_S``.  This
   is our derivation for the collision model; fluctuation theorems for correlated
   initial states are discussed by Jevtic, Rudolph, Jennings, Hirono, Nakamura & Kim,
   "Exchange fluctuation theorem for correlated quantum systems" (arXiv:1204.3571, PRE
   92, 042113 (2015)), for energy exchange between correlated thermal systems, and by
   Micadei, Landi & Lutz, "Quantum fluctuation theorems beyond two-point measurements"
   (arXiv:1909.12189), who keep correlations and coherence with dynamic Bayesian
   networks.

Run ``python -m collision.studies.heat_statistics --out results/heat_statistics``
(``--quick`` for coarse settings); it writes CSV files, PNGs
(:mod:`collision.studies.heat_statistics_plots`) and ``HEAT_STATISTICS.md``.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lindblad import states
from lindblad._tabular import concat_frames, fmt, html_table, text_grid, time_span
from lindblad.counting import HeatStatistics
from lindblad.operators import excitations
from lindblad.thermal import temperature_from_polarisation, thermal_populations
from lindblad.tilted import _propagate_columns

from .._cli_format import warning_printer
from .._loop import AccuracyWarning
from ..density import DensityEngine
from ..model import CascadeCollisionModel
from .paper.analysis import FIG3A_C, FIG3B_RHO23, N_S, XI_S

__all__ = ["CorrelationPanel", "StudySettings", "TheoremStudy", "correlated_oscillators",
           "correlation_correction", "correlation_study", "fluctuation_theorem_study",
           "make_study", "ratio_operator"]

#: Reservoir temperature of the fluctuation-theorem part (the Fig. 3 reservoir is at
#: ``T = 0``, where ``P(-q)`` vanishes and the theorem is empty).
XFT_TEMPERATURE = 1.0


@dataclass(frozen=True)
class StudySettings:
    """Time step, time axis and oscillator cutoff of the study."""

    dt: float = 0.01
    t_max: float = 6.0
    save_every: int = 10
    cutoff: int = 24

    @classmethod
    def quick(cls) -> StudySettings:
        return cls(dt=0.02, t_max=6.0, save_every=10, cutoff=10)


# --- initial states ---------------------------------------------------------------------

def correlated_oscillators(n_s: float, c: float, cutoff: int) -> tuple[np.ndarray, float]:
    """Eq 31 with ``C13 = C24 = c`` as a Fock-space density matrix.

    ``X1 X2 + Y1 Y2 = a_1^dag a_2 + a_1 a_2^dag``, so ``C13 = C24 = c`` (no other
    correlation) is the Gaussian state with ``<a_1^dag a_2> = c``: thermal states of the
    modes ``b_+/- = (a_1 +/- a_2)/sqrt 2`` with occupations ``N_S +/- c``, i.e.
    ``U (rho_+ x rho_-) U^dag`` with ``rho_+/-`` thermal at ``N_S +/- c`` and the 50:50
    beam splitter ``U = exp((pi/4)(a_2^dag a_1 - a_1^dag a_2))`` (``U^dag a_1 U =
    (a_1 - a_2)/sqrt 2``, which gives ``<a_1^dag a_2> = c``).  ``U`` conserves
    ``n_1 + n_2``, so it is applied exactly in each block ``n_1 + n_2 = N`` (untruncated
    there); the result is cut to ``cutoff`` levels per mode and renormalised.

    Returns
    -------
    (rho, truncated) : ndarray (cutoff^2, cutoff^2), float
        The state and the weight the cut removed.
    """
    if not abs(c) < n_s + 0.5 or n_s < 0:
        raise ValueError(f"need |c| < N_S + 1/2 for a physical state, got N_S = {n_s}, c = {c}")
    thermal = []
    for x in (n_s + c, n_s - c):  # the factors' populations on 0 .. 2 cutoff - 2
        x = max(x, 0.0)
        thermal.append((x / (x + 1)) ** np.arange(2 * cutoff - 1) / (x + 1) if x > 0
                       else np.eye(2 * cutoff - 1)[0])
    d = cutoff
    rho = np.zeros((d * d, d * d), dtype=complex)
    for big_n in range(2 * d - 1):  # U conserves n_1 + n_2: one block at a time
        n1 = np.arange(big_n + 1)
        # <n1 -/+ 1| a_2^dag a_1 - a_1^dag a_2 |n1> in the block (n2 = N - n1)
        up = np.sqrt(n1[1:] * (big_n - n1[1:] + 1.0))
        gen = np.diag(up, 1) - np.diag(up, -1)
        w, v = np.linalg.eigh(1j * gen)
        u = (v * np.exp(-1j * math.pi / 4 * w)) @ v.conj().T
        block = (u * (thermal[0][n1] * thermal[1][big_n - n1])) @ u.conj().T
        inside = n1[(n1 < d) & (big_n - n1 < d)]
        idx = inside * d + (big_n - inside)
        rho[np.ix_(idx, idx)] = block[np.ix_(inside, inside)]
    kept = float(np.trace(rho).real)
    rho = (rho + rho.conj().T) / 2 / kept
    return rho, 1.0 - kept


# --- the corrected fluctuation theorem -------------------------------------------------

def ratio_operator(model, rho0: np.ndarray, temperature_s: float) -> np.ndarray:
    """``R~ = V R^* V`` with ``R = sum_N Pi_N rho0 Pi_N / g_N`` (module docstring).

    ``g_N`` is the weight of the thermal product at ``temperature_s`` on one basis state
    of excitation number ``N`` (the same for all of them: identical subsystems);
    ``V`` reverses the order of the subsystems.
    """
    if not temperature_s > 0:
        raise ValueError("temperature_s must be > 0 (the reference thermal state must "
                         f"give every state a weight), got {temperature_s!r}")
    dims = model.dims
    fock = excitations(dims)
    n_exc = fock.sum(axis=1)
    one = thermal_populations(model.system, temperature_s, model.omega, model.cutoff)
    g = np.prod(one[fock], axis=1)
    same = n_exc[:, None] == n_exc[None, :]
    r = np.where(same, rho0 / g[:, None], 0.0)
    rev = np.ravel_multi_index(tuple(fock[:, ::-1].T), dims)
    return r.conj()[np.ix_(rev, rev)]


def correlation_correction(model, rho0, temperature_s: float, t_max: float, dt: float,
                           save_every: int = 1, master_equation: bool = False,
                           times=None):
    """``c(q', t) = Tr[R~ Phi_{q',t}(gamma_S)]`` and the thermal ``P_gamma(q', t)``.

    Then ``P(q, t; rho0) = e^{(beta - beta_S) omega q} c(-q, t)`` exactly, and
    ``r = c / P_gamma`` is the correction of the fluctuation theorem (module docstring).

    Parameters
    ----------
    model : CascadeCollisionModel
    rho0 : ndarray, shape (D, D)
    temperature_s : float
        Temperature of the reference thermal product ``gamma_S`` (> 0).
    t_max, dt, save_every
        The collision run (as in ``heat_statistics``).
    master_equation : bool
        Use the master equation (``dt -> 0``) at ``times`` instead of the collisions.

    Returns
    -------
    (t, quanta, c, p_thermal) : ndarrays, ``c`` and ``p_thermal`` of shape (n_t, n_q)
    """
    rho0 = np.asarray(rho0, dtype=complex)
    rt = ratio_operator(model, rho0, temperature_s)
    one = states.thermal(model.system, temperature_s, model.cutoff, model.omega)
    gamma = states.product(*[one] * model.n_systems)
    n_exc = excitations(model.dims).sum(axis=1)
    n_blocks = int(n_exc.max()) + 1
    q_max = n_blocks - 1
    proj = [n_exc == n for n in range(n_blocks)]

    def reduce(states_by_n0):
        """c and P_gamma at one time from the evolved block-projected thermal parts."""
        c = np.zeros(2 * q_max + 1, dtype=complex)
        p = np.zeros(2 * q_max + 1)
        for n0, rho in enumerate(states_by_n0):
            for n in range(n_blocks):
                sub = np.ix_(proj[n], proj[n])
                c[n0 - n + q_max] += np.trace(rt[sub] @ rho[sub])
                p[n0 - n + q_max] += np.trace(rho[sub]).real
        return c, p

    parts = [np.where(np.outer(m, m), gamma, 0.0) for m in proj]
    cs, ps = [], []
    if master_equation:
        me = model.master_equation()
        t = np.asarray(times, dtype=float)
        sec = me.sector(0)
        cols = np.stack([r[sec.ket, sec.bra] for r in parts], axis=1)
        for _, v in _propagate_columns(sec, cols, t):
            evolved = []
            for j in range(n_blocks):
                rho = np.zeros_like(gamma)
                rho[sec.ket, sec.bra] = v[:, j]
                evolved.append(rho)
            c, p = reduce(evolved)
            cs.append(c)
            ps.append(p)
    else:
        plan = model.plan(gamma, t_max, dt, save_every)
        engine = DensityEngine(model, plan, scheme="kraus", sectors=[0])
        t = plan.times
        for s in range((t.size - 1) * plan.save_every + 1):
            if s % plan.save_every == 0:
                c, p = reduce(parts)
                cs.append(c)
                ps.append(p)
            if s < (t.size - 1) * plan.save_every:
                parts = [engine.step(r) for r in parts]
    c = np.array(cs)
    if np.max(np.abs(c.imag)) > 1e-10 * max(1.0, np.max(np.abs(c.real))):
        raise RuntimeError("Tr[R~ Phi(gamma)] has an imaginary part: R~ is not Hermitian")
    return t, np.arange(-q_max, q_max + 1), c.real, np.array(ps)


# --- part 1: variance and skewness against correlations -------------------------------------

@dataclass(repr=False)
class CorrelationPanel:
    """Counting statistics of one family of initial states of Fig. 3.

    Attributes
    ----------
    system : str
    parameter : str
        ``"Re rho23"`` or ``"C13 = C24"``.
    values : ndarray
    engine, reference : list of HeatStatistics
        Density engine at ``dt`` and the master equation, one per value.
    notes : str
    """

    system: str
    parameter: str
    values: np.ndarray
    engine: list[HeatStatistics]
    reference: list[HeatStatistics]
    notes: str = ""

    def to_pandas(self):
        """Every :class:`HeatStatistics` frame stacked (tidy), with first columns
        ``source`` (``"engine"``, ``"reference"``) and ``value`` (of :attr:`parameter`);
        ``attrs["parameters"]``: ``system``, ``parameter``."""
        return _stacked(self.values, self.engine, self.reference,
                        {"system": self.system, "parameter": self.parameter})

    def _summary(self):
        pairs = [("system", self.system), ("parameter", self.parameter),
                 ("t", time_span(self.engine[0].t) if self.engine else "none")]
        return pairs, _final_means(self.parameter, self.values, self.engine, self.reference)

    def _repr_html_(self) -> str:
        pairs, (header, rows) = self._summary()
        return html_table("CorrelationPanel", pairs, header, rows)

    def __repr__(self) -> str:
        pairs, (header, rows) = self._summary()
        return text_grid("CorrelationPanel", pairs, header, rows)


def _stacked(values, engine, reference, parameters):
    """The frames of ``engine`` and ``reference`` (one per value) as one tidy frame."""
    parts = {}
    for source, stats in (("engine", engine), ("reference", reference)):
        for v, st in zip(values, stats, strict=True):
            parts[(source, float(v))] = st.to_pandas()
    return concat_frames(parts, ("source", "value"), parameters)


def _final_means(parameter, values, engine, reference):
    """Header and rows: each value's mean and variance of ``q`` at the last time."""
    header = [parameter, "t", "mean (engine)", "mean (reference)", "variance (engine)",
              "variance (reference)"]
    rows = [[fmt(v), fmt(e.t[-1]), fmt(e.mean[-1]), fmt(r.mean[-1]), fmt(e.variance[-1]),
             fmt(r.variance[-1])]
            for v, e, r in zip(values, engine, reference, strict=True) if e.t.size]
    return header, rows


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        return func(*args, **kwargs)


def correlation_study(settings: StudySettings | None = None) -> list[CorrelationPanel]:
    """The heat statistics of the Fig. 3 states (reservoir at ``T = 0``)."""
    s = settings or StudySettings()
    ref_t = np.linspace(0.0, s.t_max, 121)
    panels = []
    qub = CascadeCollisionModel("qubit", temperature=0.0)
    eng, ref = [], []
    for r23 in FIG3B_RHO23:
        rho = states.correlated_qubits(XI_S, r23)
        eng.append(_quiet(qub.heat_statistics, rho, s.t_max, s.dt, save_every=s.save_every))
        ref.append(qub.master_equation().heat_statistics(rho, ref_t))
    panels.append(CorrelationPanel("qubit", "Re rho23", np.array(FIG3B_RHO23), eng, ref,
                                   f"eq 41, xi_S = {XI_S:g}, T = 0, dt = {s.dt:g}"))
    osc = CascadeCollisionModel("oscillator", temperature=0.0, cutoff=s.cutoff)
    eng, ref, cut, high = [], [], [], []
    n_exc = excitations(osc.dims).sum(axis=1)
    for f in FIG3A_C:
        rho, lost = correlated_oscillators(N_S, f * N_S, s.cutoff)
        cut.append(lost)
        high.append(float(np.diag(rho).real[n_exc >= s.cutoff].sum()))
        eng.append(_quiet(osc.heat_statistics, rho, s.t_max, s.dt, save_every=s.save_every))
        ref.append(osc.master_equation().heat_statistics(rho, ref_t))
    panels.append(CorrelationPanel(
        "oscillator", "C13 = C24", np.array(FIG3A_C) * N_S, eng, ref,
        f"eq 31, N_S = {N_S:g}, T = 0, Fock cutoff {s.cutoff} (weight cut from the "
        f"Gaussian state up to {max(cut):.1e}; weight on {s.cutoff} or more quanta, which "
        f"can pile up above the top level, up to {max(high):.1e}), dt = {s.dt:g}"))
    return panels


# --- part 2: the exchange fluctuation theorem -----------------------------------------------

@dataclass(repr=False)
class TheoremStudy:
    """The exchange fluctuation theorem for eq 41 qubits at ``XFT_TEMPERATURE``.

    Attributes
    ----------
    rho23 : ndarray
        The paper's ``Re rho23`` of every state (0: the thermal product).
    slope : float
        ``(beta - beta_S) omega``.
    engine, reference : list of HeatStatistics
        Collisions at ``dt`` and the master equation.
    corrected, corrected_reference : list of ndarray, shape (n_t, q_max)
        ``ln[P(q)/P(-q)] - ln[r(-q)/r(q)]`` for ``q = 1 .. q_max`` (should be
        ``slope q``).
    identity_error : float
        Largest ``|P(q, t) - e^{slope q} c(-q, t)|`` over states, ``q``, ``t`` (both
        engines): the exactness of the corrected theorem.
    dephased_error : float
        Largest deviation from the plain theorem after a local energy measurement at
        ``t = 0``.
    """

    rho23: np.ndarray
    temperature: float
    temperature_s: float
    slope: float
    engine: list[HeatStatistics]
    reference: list[HeatStatistics]
    corrected: list[np.ndarray] = field(default_factory=list)
    corrected_reference: list[np.ndarray] = field(default_factory=list)
    identity_error: float = 0.0
    dephased_error: float = 0.0

    def _parameters(self) -> dict:
        return {"temperature": self.temperature, "temperature_s": self.temperature_s,
                "slope": self.slope, "identity_error": self.identity_error,
                "dephased_error": self.dephased_error}

    def to_pandas(self):
        """Every :class:`HeatStatistics` frame stacked (tidy), with first columns
        ``source`` (``"engine"``, ``"reference"``) and ``value`` (``Re rho23``);
        ``attrs["parameters"]``: temperatures, ``slope``, ``identity_error``,
        ``dephased_error``."""
        return _stacked(self.rho23, self.engine, self.reference, self._parameters())

    def _summary(self):
        pairs = [(k, fmt(v)) for k, v in self._parameters().items()]
        return pairs, _final_means("Re rho23", self.rho23, self.engine, self.reference)

    def _repr_html_(self) -> str:
        pairs, (header, rows) = self._summary()
        return html_table("TheoremStudy", pairs, header, rows)

    def __repr__(self) -> str:
        pairs, (header, rows) = self._summary()
        return text_grid("TheoremStudy", pairs, header, rows)


def _corrected_log_ratio(stats: HeatStatistics, c: np.ndarray, p_thermal: np.ndarray
                         ) -> np.ndarray:
    q, lr = stats.log_ratio()
    q_max = (c.shape[1] - 1) // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r = c / p_thermal
        corr = np.log(r[:, q_max - q] / r[:, q_max + q])
    return lr - corr


def fluctuation_theorem_study(settings: StudySettings | None = None) -> TheoremStudy:
    """Thermal product vs eq 41 correlations at reservoir ``T = XFT_TEMPERATURE``."""
    s = settings or StudySettings()
    t_s = temperature_from_polarisation(XI_S)
    model = CascadeCollisionModel("qubit", temperature=XFT_TEMPERATURE)
    me = model.master_equation()
    slope = (1 / XFT_TEMPERATURE - 1 / t_s) * model.omega
    ref_t = np.linspace(0.0, s.t_max, 61)
    out = TheoremStudy(np.array(FIG3B_RHO23), XFT_TEMPERATURE, t_s, slope, [], [])
    worst = 0.0
    for r23 in FIG3B_RHO23:
        rho = states.correlated_qubits(XI_S, r23)
        eng = _quiet(model.heat_statistics, rho, s.t_max, s.dt, save_every=s.save_every)
        ref = me.heat_statistics(rho, ref_t)
        out.engine.append(eng)
        out.reference.append(ref)
        for res, kw in ((eng, {}), (ref, {"master_equation": True, "times": ref_t})):
            _, quanta, c, p_th = _quiet(correlation_correction, model, rho, t_s, s.t_max,
                                        s.dt, s.save_every, **kw)
            predicted = np.exp(slope * quanta) * c[:, ::-1]
            worst = max(worst, float(np.max(np.abs(predicted - res.probabilities))))
            (out.corrected if res is eng else out.corrected_reference).append(
                _corrected_log_ratio(res, c, p_th))
    out.identity_error = worst
    dephased = np.diag(np.diag(states.correlated_qubits(XI_S, FIG3B_RHO23[-1])))
    res = _quiet(model.heat_statistics, dephased, s.t_max, s.dt, save_every=s.save_every)
    q, lr = res.log_ratio()
    out.dephased_error = float(np.nanmax(np.abs(lr[1:] - slope * q)))
    return out


# --- files and the report ---------------------------------------------------------------------

def _at(stats: HeatStatistics, tau: float) -> int:
    return int(np.argmin(np.abs(stats.t - tau)))


def make_study(out_dir, quick: bool = False) -> Path:
    """Run both parts, write CSV files, PNGs and ``HEAT_STATISTICS.md``; return the report's
    path."""
    from . import heat_statistics_plots as plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = StudySettings.quick() if quick else StudySettings()
    start = time.perf_counter()
    panels = correlation_study(s)
    theorem = fluctuation_theorem_study(s)
    seconds = time.perf_counter() - start
    lines = ["# Heat statistics and initial correlations", "",
             f"Settings: dt = {s.dt:g}, t in [0, {s.t_max:g}], oscillator cutoff {s.cutoff}; "
             f"computed in {seconds:.1f} s. Heat in units of hbar omega (net quanta to the "
             "reservoir); markers: density engine, lines: master equation.", "",
             "## Variance and skewness against the correlations of Fig. 3 (T = 0)", ""]
    for panel in panels:
        stem = f"correlations_{panel.system}"
        for v, eng in zip(panel.values, panel.engine, strict=True):
            eng.save(out / f"{stem}_{panel.parameter.split()[0]}={v:g}.csv")
        plots.plot_correlations(panel, out / f"{stem}.png")
        lines += [f"### {panel.system}s ({panel.notes})", "",
                  f"| {panel.parameter} | t | mean | variance | skewness | "
                  "max abs(P - P_ME) |", "| --- | --- | --- | --- | --- | --- |"]
        for v, eng, ref in zip(panel.values, panel.engine, panel.reference, strict=True):
            for tau in (1.0, 3.0, s.t_max):
                k, kr = _at(eng, tau), _at(ref, tau)
                gap = np.max(np.abs(eng.probabilities[k] - ref.probabilities[kr]))
                lines.append(f"| {v:g} | {eng.t[k]:g} | {eng.mean[k]:.4f} | "
                             f"{eng.variance[k]:.4f} | {eng.skewness[k]:.4f} | {gap:.1e} |")
        lines.append("")
    th = theorem
    for rho23, eng in zip(th.rho23, th.engine, strict=True):
        eng.save(out / f"theorem_rho23={rho23:g}.csv")
    plots.plot_theorem(th, out / "fluctuation_theorem.png")
    lines += ["## The exchange fluctuation theorem (qubits, eq 41)", "",
              f"Reservoir T = {th.temperature:g}, local T_S = {th.temperature_s:.4f} "
              f"(xi_S = {XI_S:g}); (beta - beta_S) omega = {th.slope:.6f}.", "",
              "| Re rho23 | max abs(ln[P(q)/P(-q)] - (beta - beta_S) omega q) | "
              "after the correction |", "| --- | --- | --- |"]
    for rho23, eng, cor in zip(th.rho23, th.engine, th.corrected, strict=True):
        q, lr = eng.log_ratio()
        dev = np.nanmax(np.abs(lr[1:] - th.slope * q))
        fixed = np.nanmax(np.abs(cor[1:] - th.slope * q))
        lines.append(f"| {rho23:g} | {dev:.3e} | {fixed:.1e} |")
    lines += ["", f"Exactness of P(q) = e^((beta - beta_S) omega q) Tr[R~ Phi_(-q)(gamma_S)] "
              f"(collisions and master equation): {th.identity_error:.1e}.",
              f"After a local energy measurement at t = 0 (eq 41 with Re rho23 = "
              f"{th.rho23[-1]:g} dephased): plain theorem to {th.dephased_error:.1e}.", ""]
    path = out / "HEAT_STATISTICS.md"
    path.write_text("\n".join(lines))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collision.studies.heat_statistics",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/heat_statistics")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():  # one line per warning, as on the command line
        warnings.showwarning = warning_printer(parser.prog)
        path = make_study(args.out, quick=args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
