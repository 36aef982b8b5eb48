"""The delay study (collision.studies.delay, ``collision delay``): files, and the physics.

``collision delay --quick`` runs once per module (dt = 0.025, release grid of 11 delays in
[0, 5], references sampled every h = 0.05).  Every check is against something exact:

* delay 0 against the paper's Fig. 3 computation (same engine runs; closed forms);
* the engines against the exact references with the same delay, O(dt): the package's own
  estimate of the time-step error, ``(n - 2/3) gamma dt`` x the largest flux
  (:func:`collision.model.predicted_dt_error`), bounds them, and halving dt halves them;
* identities that hold exactly at any delay (and at any dt for the engines): S1's flux
  does not depend on the delay, ``J^(c) = J^(ind)`` before S1's output arrives, and the
  correlation effect is the zero-delay one delayed and damped by ``e^{-gamma tau/2}``
  (``cos(sqrt(gamma dt))^m`` in the collision model); these hold to round-off;
* the oscillators' delayed reference against the closed form from the quantum Langevin
  equations (T = 0, below);
* the total heat and the release-time thresholds.
"""

import contextlib
import csv
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest

from collision import cli
from collision.model import predicted_dt_error
from collision.studies import delay, delay_report
from collision.studies.paper import FigureSettings, release_times_from_flux
from collision.studies.paper.compute import compute_figure_3a, compute_figure_3b
from lindblad import GaussianMasterEquation, states
from lindblad import closed_form as cf

SYSTEMS = list(delay.SYSTEMS)
#: Identities that hold exactly, checked relative to the largest flux: a few hundred steps
#: of round-off (measured <= 4e-14 at dt = 0.01).
EXACT = 1e-11


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``collision delay --quick --quiet`` once, keeping the study it computed."""
    out = tmp_path_factory.mktemp("delay")
    kept = {}
    real = delay_report.run_study

    def keep(*args, **kwargs):
        kept["study"] = real(*args, **kwargs)
        return kept["study"]

    buf = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(buf):
        mp.setattr(delay_report, "run_study", keep)
        status = cli.main(["delay", "--quick", "--quiet", "--out", str(out)])
    return SimpleNamespace(out=out, status=status, stdout=buf.getvalue(), study=kept["study"])


def _read_csv(path):
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


# --- the command and its files ------------------------------------------------------------------

EXPECTED_FILES = ["delay_fig3a.csv", "delay_fig3a.png", "delay_fig3b.csv", "delay_fig3b.png",
                  "delay_fig4a.csv", "delay_fig4a_spread.csv", "delay_fig4a.png",
                  "delay_fig6a.csv", "delay_fig6a_spread.csv", "delay_fig6a.png", "REPORT.md"]


def test_quick_study_writes_and_names_its_files(quick):
    assert quick.status == 0
    assert sorted(p.name for p in quick.out.iterdir()) == sorted(EXPECTED_FILES)  # no stage
    for name in EXPECTED_FILES:
        assert (quick.out / name).stat().st_size > 0
        assert f"wrote {quick.out / name}" in quick.stdout
    report = (quick.out / "REPORT.md").read_text()
    for heading in ("## What changes with the delay, and why", "## Engines against the references",
                    "## Release times", "## Where the correlations stop mattering"):
        assert heading in report


def test_csv_files_hold_the_panels(quick):
    study = quick.study
    panel = study.fluxes["qubit"]
    rows = _read_csv(quick.out / "delay_fig3b.csv")
    assert len(rows) == panel.t.size
    col = [float(r["delay=2[Re rho23=0.75].total.engine"]) for r in rows]
    k = list(panel.delays).index(2.0)
    np.testing.assert_allclose(col, panel.engine["total"][k, 2], rtol=1e-9, atol=1e-15)
    rel = study.release["oscillator"]
    rows = _read_csv(quick.out / "delay_fig4a.csv")
    assert len(rows) == rel.delays.size * rel.x.size + rel.engine_delays.size * 3
    spread = _read_csv(quick.out / "delay_fig4a_spread.csv")
    np.testing.assert_allclose([float(r["eta"]) for r in spread], rel.eta, rtol=1e-9)


def test_bad_out_is_refused_before_computing(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("")
    assert cli.main(["delay", "--quick", "--out", str(target)]) == 2
    assert "--out" in capsys.readouterr().err


# --- delay 0 is the paper's Fig. 3 ------------------------------------------------------------

@pytest.mark.parametrize("system, compute", [("oscillator", compute_figure_3a),
                                             ("qubit", compute_figure_3b)],
                         ids=["fig3a-oscillators", "fig3b-qubits"])
def test_zero_delay_reproduces_fig3(quick, system, compute):
    s = quick.study.settings
    panel = quick.study.fluxes[system]
    fig = compute(FigureSettings(dt=s.dt, t_max=s.t_max))
    paper = next(iter(fig.panels.values()))
    np.testing.assert_array_equal(panel.values, paper.values)
    np.testing.assert_allclose(panel.t, paper.t, rtol=0, atol=1e-12)
    assert panel.delays[0] == 0.0
    scale = np.max(np.abs(paper.reference["total"]))
    for key in delay.FLUX_KEYS:
        # the same engine runs: equal up to round-off
        np.testing.assert_allclose(panel.engine[key][0], paper.engine[key], rtol=0,
                                   atol=EXACT * scale)
        # exact master equations against the paper's closed forms
        np.testing.assert_allclose(panel.reference[key][0], paper.reference[key], rtol=0,
                                   atol=1e-9 * scale)
    np.testing.assert_allclose(panel.independent, paper.reference["independent"][0], rtol=0,
                               atol=1e-12 * scale)


@pytest.mark.parametrize("system", SYSTEMS)
def test_zero_delay_release_times_are_figs_4a_6a(quick, system):
    rel = quick.study.release[system]
    closed = (lambda x: cf.oscillator_release_time(rel.p, 1.0, x)) if system == "oscillator" \
        else (lambda x: cf.qubit_release_time(rel.p, 0.25, x))
    expected = np.array([closed(x) for x in rel.x]).T
    # crossings interpolated linearly between samples h = 0.05 apart: |Delta tau_p| ~
    # (h^2/8) |J'| / J, 3e-4 .. 3e-3 (J'/J up to ~10 at the earliest crossings); measured
    # <= 1.3e-3 (Q itself is exact to O(h^4))
    np.testing.assert_allclose(rel.times["released"].reference[0], expected, rtol=0, atol=3e-3)
    np.testing.assert_array_equal(rel.times["out"].reference[0], rel.times["released"].reference[0])


# --- engines against the references -------------------------------------------------------------

@pytest.mark.parametrize("system", SYSTEMS)
def test_engine_markers_agree_at_order_dt(quick, system):
    panel = quick.study.fluxes[system]
    bound = predicted_dt_error(panel.dt, 2, True) * np.max(np.abs(panel.reference["total"]))
    assert np.max(panel.errors()) <= bound
    rel = quick.study.release[system]
    # release times: the step rule is the engine's exact energy balance, so tau_p inherits
    # the O(dt) flux error: measured <= 1.14 dt (quick) and 1.28 dt (dt = 0.01).  (A crossing
    # where Q(t) only just reaches p% would amplify it; none at the engine's delays.)
    for times in rel.times.values():
        assert np.max(times.engine_errors()) <= 2.5 * rel.dt


@pytest.mark.parametrize("system", SYSTEMS)
def test_halving_dt_halves_the_engine_error(system):
    spec = delay._system(system)
    d, x = 1.0, spec.flux_values[-1]
    state = spec.flux_state(x)
    errs = []
    for dt in (0.025, 0.0125):
        res = spec.engine(d).run(state, 4.0, dt)
        ref = spec.reference(d).heat_fluxes(state, res.t)
        errs.append(np.max(np.abs(res.total - ref.total)))
    assert 1.7 < errs[0] / errs[1] < 2.3   # first order in dt


# --- exact identities at any delay ---------------------------------------------------------------

@pytest.mark.parametrize("source", ["reference", "engine"])
@pytest.mark.parametrize("system", SYSTEMS)
def test_s1_flux_does_not_depend_on_the_delay(quick, system, source):
    panel = quick.study.fluxes[system]
    j1 = getattr(panel, source)["J1"]
    assert np.max(np.abs(j1 - j1[0])) <= EXACT * np.max(np.abs(j1))


@pytest.mark.parametrize("system", SYSTEMS)
def test_flux_is_independent_reservoirs_until_s1_output_arrives(quick, system):
    panel = quick.study.fluxes[system]
    assert np.max(panel.before_arrival_errors()) <= EXACT * np.max(panel.independent)


@pytest.mark.parametrize("source", ["reference", "engine"])
@pytest.mark.parametrize("system", SYSTEMS)
def test_correlation_effect_is_delayed_and_damped(quick, system, source):
    panel = quick.study.fluxes[system]
    scale = np.max(np.abs(panel.effect(source)))
    assert np.max(panel.law_errors(source)) <= EXACT * scale
    # the effect itself is not small: the law is a real constraint
    assert scale > 0.3


def test_correlation_damping():
    assert delay.correlation_damping(2.0) == pytest.approx(math.exp(-1.0), rel=1e-15)
    assert delay.correlation_damping(0.5, dt=0.01) == pytest.approx(math.cos(0.1) ** 50,
                                                                    rel=1e-14)
    with pytest.raises(ValueError, match="whole number of steps"):
        delay.correlation_damping(0.505, dt=0.01)
    with pytest.raises(ValueError, match="delay"):
        delay.correlation_damping(-1.0)


def _langevin_total_flux(t, n_s, c_sum, tau):
    """``J^(c)`` of two oscillators at T = 0 with delay ``tau`` (gamma = 1), from the quantum
    Langevin equations ``a1(t) = a1 e^{-t/2} + noise``,
    ``a2(t) = a2 e^{-t/2} - a1 s e^{-s/2} + noise`` (``s = t - tau > 0``):
    ``U = 2 N_S e^{-t} + (N_S s^2 - c' s) e^{-s}`` with ``c' = (C13 + C24) e^{-tau/2}``."""
    s = t - tau
    c = c_sum * math.exp(-tau / 2)
    late = np.where(s >= 0, (n_s * s**2 - 2 * n_s * s - c * s + c) * np.exp(-np.abs(s)), 0.0)
    return 2 * n_s * np.exp(-t) + late


@pytest.mark.parametrize("tau", [0.0, 0.7, 3.0], ids=["tau0", "tau0.7", "tau3"])
@pytest.mark.parametrize("c_sum", [-1.4, 0.0, 2.0], ids=["c-1.4", "c0", "c2"])
def test_oscillator_reference_matches_langevin_closed_form(c_sum, tau):
    t = np.linspace(0.0, 8.0, 161)
    ref = GaussianMasterEquation(temperature=0.0, delay=tau).heat_fluxes(
        states.gaussian_correlated(1.0, c_sum / 2, c_sum / 2), t)
    np.testing.assert_allclose(ref.total, _langevin_total_flux(t, 1.0, c_sum, tau), rtol=0,
                               atol=1e-9)


# --- total heat and release times ----------------------------------------------------------------

@pytest.mark.parametrize("system", SYSTEMS)
def test_total_heat_does_not_depend_on_the_delay(quick, system):
    rel = quick.study.release[system]
    # Q(t_end) misses the energy left at t_end = 20: at delay 5, S2's energy at s = 15 after
    # S1's output arrived, (N_S s^2 + |C13 + C24| e^{-tau/2} s) e^{-s} <= 7e-5 = 3.5e-5 Q(inf)
    # (oscillators, Langevin form above; qubits alike).  The reference's integral is exact
    # to O(h^4) (~1e-6 Q(inf) at h = 0.05), the engine's step sum is its exact energy
    # balance U(0) - U(t_end); measured 3.4e-5 and 3.3e-5 Q(inf).
    assert np.max(np.abs(rel.q_reference - rel.q_inf)) <= 1e-4 * rel.q_inf
    assert np.max(np.abs(rel.q_engine - rel.q_inf)) <= 1e-4 * rel.q_inf
    # and the delay changes nothing beyond that: same Q(t_end) within the tail
    assert np.ptp(rel.q_reference[:, 1]) <= 1e-4 * rel.q_inf


@pytest.mark.parametrize("system", SYSTEMS)
def test_heat_released_comes_back_but_heat_out_of_the_chain_does_not(system):
    """At T = 0, Q(t) = U_S(0) - U_S(t) dips when S1's output reaches the relaxed S2, while
    the heat past S2, Q - in_flight, never decreases (an outgoing ancilla's energy is >= 0)."""
    spec = delay._system(system)
    tau = 2.0
    t = delay._reference_times(12.0, 0.01, tau)
    for x in (-spec.x_max, spec.x_max):
        res = spec.reference(tau).heat_fluxes(spec.state(x), t)
        q = delay._cumulative_heat(t, res.total, tau)
        assert np.min(res.total) < -0.05 * spec.q_inf and np.min(np.diff(q)) < 0
        # O(h^4) integration error, ~1e-9 of Q(inf) per step
        assert np.min(np.diff(q - res.in_flight[0])) >= -1e-8 * spec.q_inf


def test_independent_release_times():
    t = np.linspace(0.0, 12.0, 24001)
    q_inf = cf.qubit_total_heat(0.25)
    from_flux = release_times_from_flux(t, cf.qubit_independent_flux(t, 0.25), q_inf,
                                        rule="trapezoid")
    np.testing.assert_allclose(delay.independent_release_times(), from_flux, atol=1e-6)
    half = delay.independent_release_times([25.0, 50.0, 75.0], share=0.5)
    assert half[0] == pytest.approx(math.log(2.0)) and np.isnan(half[1:]).all()
    with pytest.raises(ValueError, match="p must lie"):
        delay.independent_release_times([0.0])


@pytest.mark.parametrize("system", SYSTEMS)
def test_correlation_effect_on_release_times_shrinks_with_the_delay(quick, system):
    rel = quick.study.release[system]
    thr = quick.study.thresholds[system]
    released, out = rel.times["released"], rel.times["out"]
    # the paper's tau_p: exactly the same for every member from tau*_p = tau_p^(ind) on
    # (round-off of the crossing interpolation: 1e-9), and correlated at zero delay
    for k in range(rel.p.size):
        beyond = rel.delays >= thr.exact["released"][k]
        assert np.max(released.spread[beyond, k]) <= 1e-9
        assert released.spread[0, k] > 0.1
        # the grid estimate is the first grid delay at or past the exact threshold
        assert thr.grid["released"][k] == rel.delays[np.argmax(beyond)]
    # the heat that has left the chain: exactly the same beyond -ln(1 - 2p) for p < 50%,
    # and for p >= 50% the spread decays like Delta J (e^{-5/2} = 0.082; measured ratios
    # spread(5) / spread(0) <= 0.079)
    for k in range(rel.p.size):
        star = thr.exact["out"][k]
        if np.isfinite(star):
            assert np.max(out.spread[rel.delays >= star, k]) <= 1e-9
        else:
            assert out.spread[-1, k] <= 0.15 * out.spread[0, k]
    # the integrated flux effect decays exactly as e^{-gamma tau/2}: only the tail cut at
    # t_end differs, Delta J_0 ~ (1 - s) e^{-s}: 15 e^{-15} / (2/e) = 6.2e-6 (measured)
    assert thr.decay <= 1e-5
    if system == "oscillator":   # from the closed form above: int |(1 - t) e^{-t}| dt = 2/e
        assert thr.eta0 == pytest.approx(2 / math.e, rel=1e-3)
    assert thr.eta_delays[0.01] == pytest.approx(2 * math.log(thr.eta0 / 0.01))
