"""The paper's figures (collision.studies.paper): files written, and the numbers behind them.

``make_all(quick=True)`` runs once per module (dt = 0.02, coarse grids).  Every check is on
the arrays behind a figure, not on pixels.

Tolerances for engine-vs-reference agreement are O(dt) and were measured at dt = 0.02
(quick settings), then set at about twice the measured value:

* fluxes (Figs 2, 3a, 3b): ``max_t |J - J_ref| / (dt * max_t |J_ref^(c)|)`` is at most
  1.27 over every curve and quantity (J12 of Fig. 3a; 0.83 for every J(c)) -> 2.6;
* release times (Figs 4a, 6a): ``|tau_engine - tau_closed_form| / dt`` is at most 1.37
  (qubits, p = 90) -> 2.8;
* eq 37: ``|J_engine(t1) - J(t1)| / dt`` is at most 0.09 -> 0.2; the engine's extrema of
  J(c) lie within 1.17 dt of eq 35 -> 2.5 dt.
"""

import csv

import numpy as np
import pytest

from collision.studies import paper as figures
from collision.studies.paper import (
    FLUX_KEYS,
    P_VALUES,
    ClassRangeFigure,
    DensityMapFigure,
    DomainFigure,
    FluxFigure,
    ReleaseTimeFigure,
    make_all,
    physical_mask,
    release_times_from_flux,
)
from collision.studies.paper import report as paper_report
from lindblad import closed_form as cf
from lindblad import correlations, states

FLUX_TOL = 2.6       # x dt x peak |J(c)|
TAU_TOL = 2.8        # x dt
EQ37_TOL = 0.2       # x dt
EXTREMUM_TOL = 2.5   # x dt
NAMES = ("fig2", "fig3a", "fig3b", "fig4a", "fig4b", "fig4c", "fig5a", "fig5b", "fig5c",
         "fig6a", "fig6b", "fig7")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return make_all(tmp_path_factory.mktemp("figures"), quick=True, progress=False)


@pytest.fixture(scope="module")
def dt(report):
    return report.settings.dt


# --- files -------------------------------------------------------------------------------

def test_every_png_and_csv_written(report):
    assert report.failures == {} and report.interrupted is None and report.ok
    assert set(report.figures) == set(NAMES)
    for name in NAMES:
        fig = report.figures[name]
        assert fig.png == report.out_dir / f"{name}.png"
        assert fig.csv == report.out_dir / f"{name}.csv"
        assert fig.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert fig.png.stat().st_size > 5000
        with fig.csv.open() as fh:
            rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    assert report.path.exists() and report.path in report.files
    assert len(report.files) == 2 * len(NAMES) + 1


def read_csv(path):
    """Columns of a figure CSV (comment lines start with '#'), as lists of strings."""
    with path.open() as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    return {name: [r[k] for r in rows[1:]] for k, name in enumerate(rows[0])}


def test_csv_holds_the_numbers_of_the_result(report):
    fig = report.figures["fig4a"]
    cols = read_csv(fig.csv)
    source = np.array(cols["source"])
    x = np.array(cols["C13+C24"], dtype=float)
    tau90 = np.array(cols["tau_p90"], dtype=float)
    np.testing.assert_allclose(x[source == "reference"], fig.x, rtol=1e-9)
    np.testing.assert_allclose(tau90[source == "engine"], fig.tau_engine[P_VALUES.index(90.0)],
                               rtol=1e-9)
    fig2 = report.figures["fig2"]
    cols = read_csv(fig2.csv)
    panel = fig2.panels["qubits"]
    np.testing.assert_allclose(np.array(cols["t"], dtype=float), panel.t, atol=1e-12)
    np.testing.assert_allclose(np.array(cols["qubits[T_S=2].J12.engine"], dtype=float),
                               panel.engine["J12"][2], rtol=1e-9, atol=1e-15)


def test_report_states_the_choices_and_numbers(report):
    text = report.path.read_text()
    assert "dt = 0.02" in text
    assert "T_S = 0.25, 0.5, 2, 4" in text
    assert "the paper's Sec. VI qubit curves are 2x these" in text
    assert "eq 37" in text and "gamma tau_p" in text
    for c in report.stationary:   # every eq 37 value is printed
        assert f"{c.jt1_eq37:.5f}" in text and f"{c.jt1_engine:.5f}" in text


# --- Figs 2 and 3: fluxes --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fig2", "fig3a", "fig3b"])
def test_engine_markers_match_reference_lines(report, dt, name):
    fig = report.figures[name]
    assert isinstance(fig, FluxFigure)
    for panel in fig.panels.values():
        assert panel.dt == dt
        peak = np.max(np.abs(panel.reference["total"]), axis=1)
        for key, err in panel.errors().items():
            assert np.all(err <= FLUX_TOL * dt * peak), (name, panel.system, key, err / dt / peak)
        # the decomposition J(c) = J1 + J2 + J12 holds for both sources
        for src in (panel.engine, panel.reference):
            np.testing.assert_allclose(src["total"], src["J1"] + src["J2"] + src["J12"],
                                       atol=1e-12)


def test_fig2_choices_and_signs(report):
    fig = report.figures["fig2"]
    for panel in fig.panels.values():
        np.testing.assert_array_equal(panel.values, figures.FIG2_T_S)
        hot = panel.values > figures.FIG2_T
        # J1 > 0 when S is hotter than the reservoir (heat into it), J12 has the opposite sign
        assert np.all(panel.reference["J1"][hot, 0] > 0)
        assert np.all(panel.reference["J1"][~hot, 0] < 0)
        t1 = np.argmin(np.abs(panel.t - 1.0))
        assert np.all(np.sign(panel.reference["J12"][:, t1]) == -np.sign(
            panel.reference["J1"][:, t1]))
    osc = fig.panels["oscillators"]   # eq 30: J(ind) = 2 J1
    np.testing.assert_allclose(osc.reference["independent"], 2 * osc.reference["J1"])
    np.testing.assert_allclose(osc.engine["independent"], 2 * osc.engine["J1"], atol=1e-12)


def test_fig3a_independent_flux_does_not_depend_on_c13(report):
    panel = report.figures["fig3a"].panels["oscillators"]
    np.testing.assert_array_equal(panel.values, [-0.7, 0.0, 0.7])
    ind = panel.engine["independent"]
    assert np.max(np.abs(ind - ind[1])) <= 1e-12 * np.max(np.abs(ind))
    assert np.max(np.abs(panel.engine["total"][0] - panel.engine["total"][2])) > 0.5
    np.testing.assert_allclose(panel.reference["independent"],
                               cf.oscillator_independent_flux(panel.t, 1.0)[None].repeat(3, 0))


def test_fig3b_matches_closed_forms_in_physical_units(report):
    panel = report.figures["fig3b"].panels["qubits"]
    for i, r in enumerate(panel.values):
        np.testing.assert_allclose(panel.reference["total"][i],
                                   cf.qubit_total_flux(panel.t, 0.25, r), atol=1e-14)
        # the paper's curves are twice these
        np.testing.assert_allclose(2 * panel.reference["total"][i],
                                   cf.qubit_total_flux(panel.t, 0.25, r, paper_units=True))
    ind = panel.engine["independent"]
    assert np.max(np.abs(ind - ind[1])) <= 1e-12


# --- eqs 35-38 --------------------------------------------------------------------------------

def test_eq37_and_stationary_times_against_engine(report, dt):
    checks = {c.c_sum: c for c in report.stationary}
    assert set(checks) >= {-2.0, -1.4, 0.0, 1.4, 2.0}
    for c in report.stationary:
        assert c.jt1_eq37 == pytest.approx((2.0 - c.c_sum) * np.exp(-2.0), abs=1e-14)
        assert abs(c.jt1_engine - c.jt1_eq37) <= EQ37_TOL * dt
        assert c.t1 == 2.0 and c.t2 == pytest.approx(2.0 * (1.0 + c.c_sum / 2.0))
        if c.c_sum > 0:      # minimum at t1, maximum at t2
            assert abs(c.engine_t_min - c.t1) <= EXTREMUM_TOL * dt
            assert abs(c.engine_t_max - c.t2) <= EXTREMUM_TOL * dt
        elif -2.0 < c.c_sum < 0:
            assert abs(c.engine_t_min - c.t2) <= EXTREMUM_TOL * dt
            assert abs(c.engine_t_max - c.t1) <= EXTREMUM_TOL * dt
    assert np.isnan(checks[0.0].engine_t_min) and np.isnan(checks[0.0].engine_t_max)


# --- Figs 4a and 6a: release times ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["fig4a", "fig6a"])
def test_release_times_engine_vs_closed_form(report, dt, name):
    fig = report.figures[name]
    assert isinstance(fig, ReleaseTimeFigure)
    np.testing.assert_array_equal(fig.p, P_VALUES)
    assert np.all(fig.errors() <= TAU_TOL * dt), fig.errors() / dt
    # both decrease with the correlation parameter (slowest release at the negative end)
    assert np.all(np.diff(fig.tau_reference, axis=1) < 0)
    assert np.all(np.diff(fig.tau_engine, axis=1) < 0)
    # the step rule beats the trapezoid rule on the engine's flux
    trap = np.max(np.abs(fig.tau_engine_trapezoid - fig.tau_reference_at_engine))
    assert trap > 3 * np.max(fig.errors())


def test_fig4a_uncorrelated_point_is_the_closed_form(report, dt):
    fig = report.figures["fig4a"]
    k = int(np.flatnonzero(fig.x == 0.0)[0])
    np.testing.assert_allclose(fig.tau_reference[:, k],
                               cf.release_time(P_VALUES, "oscillator", n_s=1.0, c_sum=0.0),
                               rtol=1e-12)
    assert fig.tau_reference[1, k] == pytest.approx(1.319074, abs=1e-6)
    m = int(np.flatnonzero(fig.x_engine == 0.0)[0])
    assert np.all(np.abs(fig.tau_engine[:, m] - fig.tau_reference[:, k]) <= TAU_TOL * dt)


def test_fig6a_uses_caption_values(report):
    fig = report.figures["fig6a"]
    b = 1 - 0.25**2
    assert fig.x[0] == pytest.approx(-b) and fig.x[-1] == pytest.approx(b)
    for k in (0, fig.x.size // 2, fig.x.size - 1):
        np.testing.assert_allclose(fig.tau_reference[:, k],
                                   cf.qubit_release_time(P_VALUES, 0.25, fig.x[k]), rtol=1e-12)


def test_release_times_from_flux_rules():
    # A flux that is constant over each step, as the collision engines report it: the energy
    # released in [t_j, t_j + h] over h, for Q(t) = 1 - e^-t (tau_p = -ln(1 - p/100)).
    h = 1e-3
    t = np.arange(0.0, 8.0 + h / 2, h)
    u = np.exp(-t)
    flux = np.append((u[:-1] - u[1:]) / h, 0.0)
    exact = -np.log(1 - np.array(P_VALUES) / 100)
    step = release_times_from_flux(t, flux, 1.0, rule="step")
    np.testing.assert_allclose(step, exact, atol=1e-6)      # exact up to the interpolation
    trap = release_times_from_flux(t, flux, 1.0, rule="trapezoid")
    # Q is low by (h/2) (J(0) - J(tau_p)), so tau_p is late by (h/2) (1/J(tau_p) - 1),
    # with J(tau_p) = 1 - p/100: 0.0095 at p = 95 (the step rule: < 1e-6)
    frac = np.array(P_VALUES) / 100
    np.testing.assert_allclose(trap - exact, 0.5 * h * frac / (1 - frac), rtol=0.05)
    with pytest.raises(ValueError, match="run longer"):
        release_times_from_flux(t[:10], flux[:10], 1.0)
    with pytest.raises(ValueError, match="rule"):
        release_times_from_flux(t, flux, 1.0, rule="simpson")


# --- Figs 4b, 4c, 6b: ranges within a class --------------------------------------------------------

def test_fig4b_log_negativity_zero_on_diagonal_and_ranges(report):
    fig = report.figures["fig4b"]
    assert isinstance(fig, ClassRangeFigure)
    np.testing.assert_array_equal(fig.diagonal, 0.0)      # C13 = C24 is never entangled
    assert np.all(fig.minimum <= fig.diagonal) and np.all(fig.diagonal <= fig.maximum)
    k0 = int(np.argmin(np.abs(fig.classes)))
    # the most entangled state of class 0 is the two-mode squeezed vacuum
    # C13 = -C24 = sqrt(N_S (N_S + 1)): E_N = arccosh(2 N_S + 1)
    assert fig.maximum[k0] == pytest.approx(np.arccosh(3.0), abs=1e-6)
    assert abs(fig.argmax[k0]) == pytest.approx(2 * np.sqrt(2.0), abs=1e-9)
    # the extreme classes C13 + C24 = +-2 N_S are single, separable states (closed form: width 0)
    assert fig.half_width[0] == 0.0 and fig.half_width[-1] == 0.0
    assert fig.maximum[0] == 0.0 and fig.maximum[-1] == 0.0


def test_fig4c_gaussian_discord_ranges(report):
    fig = report.figures["fig4c"]
    assert np.all(fig.minimum <= fig.diagonal + 1e-12)
    assert np.all(fig.diagonal <= fig.maximum + 1e-12)
    k0 = int(np.argmin(np.abs(fig.classes)))
    assert fig.diagonal[k0] == pytest.approx(0.0, abs=1e-12)   # the product state
    assert fig.maximum[k0] == pytest.approx(2.0, abs=1e-6)  # EPR-like pure state: f(3) bits
    assert np.all(fig.minimum[np.abs(fig.classes) > 1e-12] > 0)
    # the extremes +-2 N_S (fastest / slowest release) are single discordant states
    assert fig.minimum[0] == pytest.approx(fig.maximum[0]) and fig.minimum[0] > 0.5


def test_fig6b_discord_range(report):
    fig = report.figures["fig6b"]
    b = 1 - 0.25**2
    dz_max = correlations.quantum_discord(states.correlated_qubits(0.25, b))
    np.testing.assert_allclose(fig.maximum, dz_max, atol=1e-6)   # |rho23| = b in every class
    np.testing.assert_allclose(fig.minimum, fig.diagonal, atol=1e-9)   # Im rho23 = 0
    np.testing.assert_allclose(fig.argmin, 0.0, atol=1e-12)
    k0 = int(np.argmin(np.abs(fig.classes)))
    assert fig.minimum[k0] == pytest.approx(0.0, abs=1e-9)


# --- Fig. 5: density maps -----------------------------------------------------------------

def test_fig5ab_mask_and_values(report):
    a, b = report.figures["fig5a"], report.figures["fig5b"]
    assert isinstance(a, DensityMapFigure) and a.measure == "D_G" and b.measure == "E_N"
    np.testing.assert_array_equal(a.physical, b.physical)
    assert np.all(np.isnan(a.values[~a.physical])) and np.all(np.isfinite(a.values[a.physical]))
    # the vectorised mask agrees with lindblad.correlations.is_physical_covariance
    for j in range(a.y.size):
        for i in range(a.x.size):
            cov = np.diag([1.5] * 4)
            cov[0, 2] = cov[2, 0] = a.x[i]
            cov[1, 3] = cov[3, 1] = a.y[j]
            assert a.physical[j, i] == correlations.is_physical_covariance(cov)
    diag = np.diagonal(b.values)        # C13 = C24: no entanglement
    np.testing.assert_array_equal(diag[np.isfinite(diag)], 0.0)
    # D_G vanishes only at the origin
    zero = np.argwhere(a.values < 1e-12)
    mid = a.x.size // 2
    assert zero.tolist() == [[mid, mid]]
    # both maps are symmetric under C13 <-> C24 and (C13, C24) -> (-C13, -C24)
    for m in (a, b):
        np.testing.assert_allclose(m.values, m.values.T, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(m.values, m.values[::-1, ::-1], atol=1e-9, equal_nan=True)


def test_fig5c_discord_depends_only_on_modulus(report):
    fig = report.figures["fig5c"]
    re, im = np.meshgrid(fig.x, fig.y)
    radius = np.round(np.hypot(re, im), 12)
    vals = fig.values
    inside = fig.physical
    assert np.all(np.isfinite(vals[inside])) and np.all(np.isnan(vals[~inside]))
    groups = {}
    for r, v in zip(radius[inside], vals[inside], strict=True):
        groups.setdefault(r, []).append(v)
    assert sum(len(g) > 1 for g in groups.values()) >= 3
    for r, g in groups.items():
        assert np.ptp(g) <= 1e-6, (r, g)
    radii = np.array(sorted(groups))
    means = np.array([np.mean(groups[r]) for r in radii])
    assert means[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(means) > 0)     # D_Z grows with |rho23|


# --- Fig. 7 ---------------------------------------------------------------------------------

def test_fig7_domain_symmetry_and_diagonal(report):
    fig = report.figures["fig7"]
    assert isinstance(fig, DomainFigure)
    for k, n_s in enumerate(fig.n_s):
        m = fig.physical[k]
        np.testing.assert_array_equal(m, m.T)               # across C13 = C24
        np.testing.assert_array_equal(m, m[::-1, ::-1])     # across C13 = -C24
        assert fig.diagonal_extent[k] == pytest.approx(n_s, abs=1e-9)   # eq D5
        u_diag = fig.u[np.abs(np.abs(fig.u) - n_s / (n_s + 0.5)) > 1e-9]
        idx = np.searchsorted(fig.u, u_diag)
        expected = np.abs(u_diag) <= n_s / (n_s + 0.5)
        np.testing.assert_array_equal(m[idx, idx], expected)
    assert np.all(np.diff(fig.area_fraction) > 0)             # grows with N_S


def test_physical_mask_and_class_width():
    # on C13 = C24 the bound is |C13| <= N_S (eq D5): the boundary state itself is physical
    assert physical_mask(1.0, 1.0, 1.0) and not physical_mask(1.0, 1.0 + 1e-6, 1.0 + 1e-6)
    # at |C13 + C24| = 2 N_S the class is the single state C13 = C24 (closed form: width 0)
    assert figures.class_half_width(1.0, 2.0) == 0.0
    assert figures.class_half_width(1.0, -2.0, margin=1e-12) == 0.0
    assert np.isnan(figures.class_half_width(1.0, 2.1))
    # class 0 reaches the two-mode squeezed vacuum C13 = -C24 = sqrt(2)
    assert figures.class_half_width(1.0, 0.0) == pytest.approx(2 * np.sqrt(2.0), abs=1e-9)
    for bad in ({"n_s": -1.0}, {"c_sum": np.nan}, {"margin": -1e-12}):
        kw = {"n_s": 1.0, "c_sum": 0.0} | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            figures.class_half_width(**kw)


OMEGA2 = np.kron(np.eye(2), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def lowest_eigvalsh(n_s, c13, c24):
    """Lowest eigenvalue of C + i Omega/2 for eq 31 from numpy (independent of the closed form)."""
    cov = states.gaussian_thermal(n_s)
    cov[0, 2] = cov[2, 0] = c13
    cov[1, 3] = cov[3, 1] = c24
    return np.linalg.eigvalsh(cov + 0.5j * OMEGA2)[0]


@pytest.mark.parametrize("n_s", [0.0, 0.1, 1.0, 5.0], ids=["N_S=0", "N_S=0.1", "N_S=1", "N_S=5"])
def test_lowest_uncertainty_eigenvalue_closed_form(n_s):
    # 4x4 eigensolvers agree with the closed form to round-off, ~5e-16 of the scale 2 N_S + 1
    # (measured); tolerance 1e-13 of the scale
    rng = np.random.default_rng(7)
    a = n_s + 0.5
    c13, c24 = rng.uniform(-a, a, (2, 200))
    scale = figures.cov31_scale(n_s)
    exact = figures.lowest_uncertainty_eigenvalue(n_s, c13, c24)
    numeric = np.array([lowest_eigvalsh(n_s, x, y) for x, y in zip(c13, c24, strict=True)])
    np.testing.assert_allclose(exact, numeric, rtol=0, atol=1e-13 * scale)
    # the mask is the package's criterion wherever the state is not within 1e-9 of the scale
    # of the boundary (the two tolerances differ there by design)
    far = np.abs(exact) > 1e-9 * scale
    assert far.sum() > 150
    assert all(physical_mask(n_s, x, y) == correlations.is_physical_covariance(
        states.gaussian_thermal(n_s) + np.array([[0, 0, x, 0], [0, 0, 0, y], [x, 0, 0, 0],
                                                 [0, y, 0, 0]]))
        for x, y in zip(c13[far], c24[far], strict=True))


CLASSES = [(1.0, 0.0), (1.0, -1.5), (1.0, 1.9), (0.1, 0.1), (5.0, -7.0)]


@pytest.mark.parametrize("n_s, c_sum", CLASSES, ids=[f"N_S={n}, C13+C24={c}" for n, c in CLASSES])
def test_class_half_width_is_the_boundary(n_s, c_sum):
    # The ends d = +-w of the class are on the boundary of eq D2: numpy's lowest eigenvalue of
    # C + i Omega/2 is 0 to round-off (tolerance 1e-13 of the scale), clearly positive a
    # relative 1e-6 inside and clearly negative 1e-6 outside (>= 1e-9 of the scale, 10x the
    # validation tolerance: no decision at the threshold).
    scale = figures.cov31_scale(n_s)
    w = figures.class_half_width(n_s, c_sum)
    assert w > 0.1
    for d in (-w, w):
        c13, c24 = (c_sum + d) / 2, (c_sum - d) / 2
        assert abs(lowest_eigvalsh(n_s, c13, c24)) <= 1e-13 * scale
        for f, sign in ((1 - 1e-6, 1), (1 + 1e-6, -1)):
            c13, c24 = (c_sum + f * d) / 2, (c_sum - f * d) / 2
            assert sign * lowest_eigvalsh(n_s, c13, c24) >= 1e-9 * scale
            assert physical_mask(n_s, c13, c24) == (sign > 0)
    # with a margin, the segment ends where the lowest eigenvalue equals the margin
    margin = figures.BOUNDARY_RTOL * scale
    wm = figures.class_half_width(n_s, c_sum, margin=margin)
    assert 0 < w - wm < 1e-9 * scale
    lam = figures.lowest_uncertainty_eigenvalue(n_s, (c_sum + wm) / 2, (c_sum - wm) / 2)
    assert lam == pytest.approx(margin, rel=1e-3)


def test_every_sampled_class_member_is_physical_with_a_margin(report):
    # Every state behind Figs 4b, 4c and 6b is rebuilt from the result's positions and must
    # (i) pass the package's validation (constructors and validators, default tolerance),
    # (ii) lie inside the physical set by the sampling margin (closed form: lowest eigenvalue
    # >= 0.99 BOUNDARY_RTOL x scale), except the single-state end classes, which lie on the
    # boundary with eigenvalue exactly 0, and (iii) have numpy's lowest eigenvalue >= -1e-13 of
    # the scale, 1000x inside the validation tolerance (1e-10 of the scale).
    margin = figures.BOUNDARY_RTOL
    n_s, scale = figures.N_S, figures.cov31_scale(figures.N_S)
    for name in ("fig4b", "fig4c"):
        fig = report.figures[name]
        for c, row, w in zip(fig.classes, fig.positions, fig.half_width, strict=True):
            assert np.all(np.abs(row) <= w)
            lam0 = figures.lowest_uncertainty_eigenvalue(n_s, c / 2, c / 2)
            for d in row:
                c13, c24 = (c + d) / 2, (c - d) / 2
                states.validate_covariance(states.gaussian_correlated(n_s, c13, c24))
                lam = figures.lowest_uncertainty_eigenvalue(n_s, c13, c24)
                assert lam >= 0.99 * min(margin * scale, lam0) and lam >= 0.0
                assert lowest_eigvalsh(n_s, c13, c24) >= -1e-13 * scale
        assert fig.half_width[0] == 0.0 and figures.lowest_uncertainty_eigenvalue(
            n_s, fig.classes[0] / 2, fig.classes[0] / 2) == 0.0
    fig = report.figures["fig6b"]
    b = 1 - figures.XI_S**2
    for r, row, w in zip(fig.classes, fig.positions, fig.half_width, strict=True):
        assert np.all(np.abs(row) <= w)
        lam0 = (b - abs(r)) / 4           # lowest eigenvalue of eq 41 at Im rho23 = 0
        for y in row:
            rho = states.correlated_qubits(figures.XI_S, complex(r, y))
            states.validate_density_matrix(rho)
            assert (b - abs(complex(r, y))) / 4 >= 0.99 * min(margin, lam0)
            assert np.linalg.eigvalsh(rho)[0] >= -1e-13


def test_flux_keys_are_complete(report):
    for name in ("fig2", "fig3a", "fig3b"):
        for panel in report.figures[name].panels.values():
            assert tuple(panel.engine) == FLUX_KEYS == tuple(panel.reference)


# --- make_all goes on past a failing figure ----------------------------------------------------

def _raise(exc):
    def figure(out_dir, settings=None):
        raise exc
    return figure


def test_make_all_reports_a_failing_figure_and_writes_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(paper_report, "FIGURES", {
        "fig4b": _raise(ValueError("covariance matrix violates eq D2")),
        "fig7": figures.figure_7})
    monkeypatch.setattr(paper_report, "stationary_points_check", _raise(RuntimeError("no engine")))
    rep = make_all(tmp_path, quick=True, progress=False)
    assert not rep.ok and rep.interrupted is None
    assert rep.failures == {"fig4b": "ValueError: covariance matrix violates eq D2",
                            figures.STATIONARY_STEP: "RuntimeError: no engine"}
    assert "Traceback" in rep.tracebacks["fig4b"]
    assert set(rep.figures) == {"fig7"}
    assert rep.files == [tmp_path / "fig7.png", tmp_path / "fig7.csv", rep.path]
    assert all(p.exists() for p in rep.files) and not (tmp_path / "fig4b.png").exists()
    text = rep.path.read_text()
    assert "2 step(s) failed: fig4b, eqs 35-38" in text
    assert "ValueError: covariance matrix violates eq D2" in text
    assert "RuntimeError: no engine" in text
    assert "Not available: fig4b failed" in text and "fig4c was not run" in text
    assert "| 5 | 5.0000000000 | 5 |" in text          # fig7's table is still there


def test_make_all_interrupted_writes_a_partial_report_and_reraises(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(paper_report, "FIGURES", {
        "fig7": figures.figure_7, "fig4b": _raise(KeyboardInterrupt()),
        "fig6b": lambda out_dir, settings=None: ran.append("fig6b")})
    monkeypatch.setattr(paper_report, "stationary_points_check", lambda settings: ran.append("eqs"))
    with pytest.raises(KeyboardInterrupt):
        make_all(tmp_path, quick=True, progress=False)
    assert ran == []                                   # nothing after the interrupt ran
    text = (tmp_path / "REPORT.md").read_text()
    assert "**Interrupted** (KeyboardInterrupt) during fig4b; not run: fig6b, eqs 35-38" in text
    assert "failed" not in text.split("## Choices")[0]   # an interrupt is not a failure
    assert (tmp_path / "fig7.png").exists() and "`fig7.png`, `fig7.csv`" in text
