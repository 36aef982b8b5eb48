"""The thermal-machines study (collision/studies/machines.py): the chain's steady current
against the derived master equation, the swap refrigerator against its formula and
Carnot, the second and first laws, the cascade's entropy production, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from collision.cli import main
from collision.studies import machines as mach

DTS = (0.04, 0.02)
T_MAX = 25.0  # the slowest relaxation rate of the chain is ~0.4 gamma: e^-10 left


@pytest.fixture(scope="module")
def chain_points():
    # resonant at T_h = 2 and detuned by 0.5 and 1.5
    return {p.parameter + f"={p.x:g}": p
            for p in mach.chain(DTS, t_hots=(2.0,), detunings=(0.5, 1.5), t_max=T_MAX)}


@pytest.fixture(scope="module")
def fridge():
    return mach.refrigerator(DTS, ratios=(0.2, 0.4, 0.45, 0.6), t_max=T_MAX, cycles=60)


def test_stream_current_formula_is_the_dissipators_current():
    """``gamma omega_i (p_e - n_r)`` against ``-Tr[H_i D_r(rho)]`` from the Liouvillian of
    the model with that stream's collisions alone, for a random state."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    model = mach.chain_model(2.0, detuning=0.5)
    for r, (site, w, t) in {"hot": (0, 1.25, 2.0), "cold": (1, 0.75, mach.T_COLD)}.items():
        alone = mach.CollisionModel([2, 2], np.zeros((4, 4)), {r: model.streams[r]},
                                    [mach.Collision(site, mach.V_EX, r)],
                                    stream_hamiltonians={r: model.stream_hamiltonians[r]})
        drho = (alone.master_equation().liouvillian() @ rho.reshape(-1)).reshape(4, 4)
        h_i = w / 2 * mach._local(mach.SZ, site)
        expected = -np.trace(h_i @ drho).real
        got = mach.stream_currents(rho, {r: (site, w, t)})[r]
        assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("dt", DTS, ids=lambda d: f"dt={d:g}")
def test_each_collision_moves_sin2_theta_of_the_population_difference(dt):
    """At finite dt: ``heat[r] dt = omega sin^2(sqrt(dt)) (p_e - n_r)`` at every step."""
    model = mach.chain_model(3.0, detuning=0.5)
    e_ops = {"p1": mach._local(mach.EXCITED, 0), "p2": mach._local(mach.EXCITED, 1)}
    res = model.run(np.kron(mach.thermal(1.25, 0.5), mach.thermal(0.75, 0.5)), 2.0, dt,
                    e_ops=e_ops)
    s2 = math.sin(math.sqrt(dt)) ** 2 / dt
    hot = 1.25 * s2 * (res.expect["p1"].real - mach.excited(1.25, 3.0))
    cold = 0.75 * s2 * (res.expect["p2"].real - mach.excited(0.75, mach.T_COLD))
    np.testing.assert_allclose(res.heat["hot"], hot, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.heat["cold"], cold, rtol=0, atol=1e-12)


# measured ratios of |J_coll - J_ME| between dt = 0.04 and 0.02: 2.15 and 2.04 (detuned:
# O(dt)), 4.03 (resonant: the O(dt) term vanishes, O(dt^2))
@pytest.mark.parametrize("key, low, high", [
    ("detuning=0.5", 1.7, 2.5), ("detuning=1.5", 1.7, 2.5), ("T_h - T_c=1.5", 3.5, 4.5),
], ids=["detuned-0.5", "detuned-1.5", "resonant"])
def test_chain_steady_current_converges_to_the_master_equation(chain_points, key, low, high):
    p = chain_points[key]
    for r in ("hot", "cold"):
        errors = [abs(p.heat[dt][r] - p.continuum[r]) for dt in DTS]
        assert errors[0] <= mach.ERROR_PER_DT * DTS[0], (r, errors)
        if errors[0] > 1e-9:  # the detuned cold current is small: only where it is resolved
            assert low <= errors[0] / errors[1] <= high, (r, errors)


def test_detuned_chain_does_switching_work_the_resonant_one_none(chain_points):
    """First law at the steady state: ``J_h + J_c = W``; ``W = 0`` at resonance."""
    for key, p in chain_points.items():
        for dt in DTS:
            assert p.heat[dt]["hot"] + p.heat[dt]["cold"] == pytest.approx(p.work[dt],
                                                                           abs=1e-9)
        if key.startswith("T_h"):
            assert abs(p.work[DTS[1]]) < 1e-9
        else:
            assert abs(p.work[DTS[1]]) > 1e-3


def test_refrigerator_cop_is_below_carnot_and_is_the_swap_formula(fridge):
    points, _ = fridge
    for p in points:
        ideal = p.extra["ideal"]
        for dt in DTS:
            m = p.extra["machine"][dt]
            assert m["cop"] == pytest.approx(ideal["cop"], rel=1e-6)  # steady COP: the formula
            if ideal["cools"]:
                assert m["cop_cumulative"] < ideal["cop"]  # the start-up costs extra work
                assert m["Q_c"] > 0 and m["W"] > 0
                assert m["cop"] <= ideal["carnot"]
            else:  # omega_c / omega_h > T_c / T_h: an engine below Carnot
                assert m["Q_c"] < 0 and m["W"] < 0
                assert m["W"] / m["Q_h"] <= ideal["carnot_engine"]
                assert m["W"] / m["Q_h"] == pytest.approx(ideal["efficiency"], rel=1e-6)


def test_stroke_refrigerator_reaches_the_ideal_swap_refrigerator(fridge):
    _, stroke = fridge
    cooling = [m["Q_c"] for m in stroke]
    assert np.all(np.diff(cooling) > 0)  # more cooling per cycle as theta -> pi/2
    ideal = stroke[-1]
    assert ideal["theta"] == pytest.approx(math.pi / 2)
    assert ideal["Q_c"] == pytest.approx(ideal["ideal"]["Q_c"], abs=1e-12)
    assert ideal["W"] == pytest.approx(ideal["ideal"]["W"], abs=1e-12)
    for m in stroke:
        assert m["cop"] <= m["ideal"]["carnot"]
        assert m["first_law"] <= 1e-12


def test_every_point_obeys_the_second_and_first_laws(chain_points, fridge):
    points = list(chain_points.values()) + fridge[0]
    for p in points:
        for dt in DTS:
            assert p.extra["sigma_steady"][dt] >= -1e-12
            assert p.sigma[dt] >= -1e-12 * dt  # min over every step of Sigma dt
        assert p.sigma_continuum >= -1e-12
        assert p.first_law <= 1e-12
    for m in fridge[1]:
        assert m["sigma_min"] >= -1e-12


def test_cascade_entropy_production_and_correlation_share():
    runs = mach.cascade(dt=0.02, t_max=2.0, rho23s={"fig3b": (-0.75, 0.0)}, save_every=5)
    for c in runs:
        assert c.sigma_rate_min >= -1e-12
        assert c.clausius_gap <= 1e-10
        assert c.work_max <= 1e-10
        # O(dt) against the master equation (measured 1.5e-3 and 3e-4 at dt = 0.02)
        assert np.max(np.abs(c.sigma - c.sigma_me)) <= 0.01
        assert np.max(np.abs(c.mutual - c.mutual_me)) <= 0.01
    correlated, product = runs
    assert correlated.mutual[0] > 0.1 and correlated.mutual[-1] < correlated.mutual[0]
    assert product.mutual[0] == pytest.approx(0.0, abs=1e-12)
    assert product.mutual[-1] > 0  # the cascade builds correlations from a product state


def test_cli_quick_run_writes_its_files(tmp_path, capsys):
    assert main(["machines", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("machines.csv", "machines.png", "machines.txt"):
        assert (tmp_path / name).stat().st_size > 0
        assert f"wrote {tmp_path / name}" in out
    text = (tmp_path / "machines.txt").read_text()
    assert "FAIL" not in text and "PASS" in text
    header = (tmp_path / "machines.csv").read_text().splitlines()[0]
    assert header == ",".join(mach.COLUMNS)
