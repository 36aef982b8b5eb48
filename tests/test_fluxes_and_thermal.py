"""HeatFluxes bookkeeping and persistence; temperature conversions."""

import csv
import math

import numpy as np
import pytest

from lindblad import HeatFluxes, thermal


def _example(n=3, nt=7, stderr=True):
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, nt)
    loc, cor = rng.normal(size=(n, nt)), rng.normal(size=(n, nt))
    cor[0] = 0.0
    err = HeatFluxes(t, np.abs(loc) / 10, np.abs(cor) / 10) if stderr else None
    return HeatFluxes(t, loc, cor, stderr=err, parameters={"dt": 0.1, "system": "qubit"})


@pytest.mark.parametrize("n", [2, 3, 5], ids=lambda n: f"n={n}")
def test_paper_fields_add_up(n):
    hf = _example(n)
    np.testing.assert_allclose(hf.total, hf.J1 + hf.J2 + hf.J12, rtol=0, atol=1e-14)
    np.testing.assert_allclose(hf.subsystem.sum(axis=0), hf.total, atol=1e-14)
    np.testing.assert_array_equal(hf.J1, hf.local[0])
    if n == 2:
        np.testing.assert_array_equal(hf.J2, hf.local[1])
        np.testing.assert_array_equal(hf.J12, hf.correlated[1])


def test_npz_round_trip(tmp_path):
    hf = _example()
    back = HeatFluxes.load(hf.save(tmp_path / "r.npz"))
    np.testing.assert_array_equal(back.local, hf.local)
    np.testing.assert_array_equal(back.stderr.correlated, hf.stderr.correlated)
    assert back.parameters == hf.parameters


def test_csv_has_header_parameters_and_stderr(tmp_path):
    hf = _example()
    hf.partial = True
    path = hf.save(tmp_path / "r.csv")
    lines = path.read_text().splitlines()
    # names first: numpy.genfromtxt(names=True) would take them from a leading comment
    assert lines[0].startswith("t,J1,J2,J12,total,")
    assert lines[1].startswith("# parameters:") and '"dt": 0.1' in lines[1]
    assert lines[2].startswith("# partial")
    assert lines[3].startswith("# sha256: ")
    rows = list(csv.DictReader([lines[0], *(s for s in lines[1:] if not s.startswith("#"))]))
    assert len(rows) == hf.t.size
    # numbers are written as their shortest exact repr, so the values come back bit for bit
    np.testing.assert_array_equal([float(r["total"]) for r in rows], hf.total)
    np.testing.assert_array_equal([float(r["J12_stderr"]) for r in rows], hf.stderr.J12)


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.npz"):
        _example().save(tmp_path / "r.txt")


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        HeatFluxes(np.arange(3), np.zeros((2, 3)), np.zeros((2, 4)))


def test_plot_writes_png(tmp_path):
    hf = _example()
    hf.plot(reference=_example(stderr=False), path=tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("temperature", [0.0, 0.3, 1.0, 7.5], ids=lambda t: f"T={t}")
def test_temperature_conversions_invert(temperature):
    n = thermal.bose_occupation(temperature)
    xi = thermal.qubit_polarisation(temperature)
    assert thermal.temperature_from_occupation(n) == pytest.approx(temperature, abs=1e-12)
    assert thermal.temperature_from_polarisation(xi) == pytest.approx(temperature, abs=1e-12)
    # the qubit polarisation is the boson ratio 1/(2N+1) (both are tanh(omega/2T))
    assert xi == pytest.approx(1 / (2 * n + 1), rel=1e-12)


def test_rates_match_the_paper():
    t = 1.0
    n, xi = 1 / math.expm1(1.0), math.tanh(0.5)
    assert thermal.bath_rates("boson", 2.0, t) == pytest.approx((2 * (n + 1), 2 * n))
    assert thermal.bath_rates("qubit", 2.0, t) == pytest.approx((1 + xi, 1 - xi))
    assert thermal.bath_rates("boson", 1.0, 0.0) == (1.0, 0.0)


@pytest.mark.parametrize("bad, match", [
    (dict(temperature=-1.0), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(gamma=0.0), "gamma"),
    (dict(bath="fermion"), "bath"),
], ids=["negative-T", "nan-T", "zero-gamma", "unknown-bath"])
def test_bad_rates_input(bad, match):
    kw = dict(bath="boson", gamma=1.0, temperature=1.0) | bad
    with pytest.raises(ValueError, match=match):
        thermal.bath_rates(**kw)


def test_npz_keeps_standard_errors_of_sums(tmp_path):
    from lindblad.fluxes import FluxStandardErrors

    hf = _example()
    total_err = np.full(hf.t.size, 0.123)  # not the sum of the parts' standard errors
    hf.stderr = FluxStandardErrors(hf.t, hf.stderr.local, hf.stderr.correlated,
                                   sums={"total": total_err})
    back = HeatFluxes.load(hf.save(tmp_path / "r.npz"))
    np.testing.assert_array_equal(back.stderr.total, total_err)
    np.testing.assert_array_equal(back.stderr.J1, hf.stderr.J1)
