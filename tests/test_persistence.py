"""HeatFluxes files: exact round trips (CSV and npz), readable by other tools, clean errors.

Every round trip is checked bit for bit: the CSV writes each number as its shortest
exact ``repr`` and the npz stores the arrays themselves, so nothing is approximate.
"""

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from lindblad import HeatFluxes
from lindblad.fluxes import FluxStandardErrors

PARAMETERS = {"system": "qubit", "dt": 0.1, "n_systems": 3, "cascade": True, "cutoff": None,
              "label": "run #3, first try", "seed_spawn_key": [1, 2]}


def _result(n, stderr=True, partial=False, final_state=None, **parameters):
    """A result with awkward numbers (full 17-digit mantissas, a NaN-free random mix)."""
    rng = np.random.default_rng(7)
    t = np.linspace(0, 0.3, 4)
    local, corr = rng.normal(size=(n, t.size)), rng.normal(size=(n, t.size))
    corr[0] = 0.0
    err = None
    if stderr:
        # standard errors of the sums that are NOT the sums of the parts' errors, as a
        # Monte Carlo run keeps them (correlations between the terms included)
        err = FluxStandardErrors(t, rng.uniform(size=(n, t.size)), rng.uniform(size=(n, t.size)),
                                 sums={"J2": rng.uniform(size=t.size),
                                       "J12": rng.uniform(size=t.size),
                                       "total": rng.uniform(size=t.size),
                                       "subsystem": rng.uniform(size=(n, t.size))})
    return HeatFluxes(t, local, corr, stderr=err,
                      parameters=dict(PARAMETERS, n_systems=n, **parameters),
                      partial=partial, final_state=final_state)


def _assert_same(back, hf):
    for name in ("t", "local", "correlated", "J1", "J2", "J12", "total", "subsystem"):
        np.testing.assert_array_equal(getattr(back, name), getattr(hf, name), err_msg=name)
    assert back.parameters == hf.parameters
    assert back.partial is hf.partial
    assert (back.stderr is None) == (hf.stderr is None)
    if hf.stderr is not None:
        for name in ("local", "correlated", "J1", "J2", "J12", "total", "subsystem"):
            np.testing.assert_array_equal(getattr(back.stderr, name), getattr(hf.stderr, name),
                                          err_msg=f"stderr.{name}")


def _data_lines(path):
    return [ln for ln in Path(path).read_text().splitlines() if not ln.startswith("#")]


@pytest.mark.parametrize("suffix", [".csv", ".npz"], ids=["csv", "npz"])
@pytest.mark.parametrize("stderr", [False, True], ids=["exact", "monte-carlo"])
@pytest.mark.parametrize("n", [2, 3], ids=["n=2", "n=3"])
def test_round_trip_is_exact(tmp_path, suffix, stderr, n):
    hf = _result(n, stderr=stderr)
    _assert_same(HeatFluxes.load(hf.save(tmp_path / f"r{suffix}")), hf)


@pytest.mark.parametrize("suffix", [".csv", ".npz"], ids=["csv", "npz"])
def test_partial_result_round_trip(tmp_path, suffix):
    hf = _result(3, partial=True)
    back = HeatFluxes.load(hf.save(tmp_path / f"r{suffix}"))
    assert back.partial is True
    _assert_same(back, hf)


def test_plain_stderr_is_kept_through_csv(tmp_path):
    """A stderr given as a plain HeatFluxes (no sums) comes back with the same values."""
    hf = _result(3, stderr=False)
    hf.stderr = HeatFluxes(hf.t, np.abs(hf.local) / 10, np.abs(hf.correlated) / 10)
    _assert_same(HeatFluxes.load(hf.save(tmp_path / "r.csv")), hf)


@pytest.mark.parametrize("n", [2, 3], ids=["n=2", "n=3"])
def test_csv_columns(tmp_path, n):
    """The paper's fields first (for existing readers), then every subsystem, any n."""
    path = _result(n).save(tmp_path / "r.csv")
    header = path.read_text().splitlines()[0].split(",")
    per = [f"{name}_{i}" for name in ("local", "correlated") for i in range(1, n + 1)]
    per_err = [f"{name}_{i}_stderr" for name in ("local", "correlated", "subsystem")
               for i in range(1, n + 1)]
    assert header == ["t", "J1", "J2", "J12", "total",
                      "J1_stderr", "J2_stderr", "J12_stderr", "total_stderr", *per, *per_err]
    header_exact = _result(n, stderr=False).save(tmp_path / "e.csv").read_text().split("\n")[0]
    assert header_exact.split(",") == ["t", "J1", "J2", "J12", "total", *per]


def test_csv_comment_lines_hold_the_metadata(tmp_path):
    path = _result(3, partial=True).save(tmp_path / "r.csv")
    lines = path.read_text().splitlines()
    assert lines[1].startswith("# parameters: {") and lines[2].startswith("# partial: ")
    # only comment lines may contain '#': pandas' comment="#" cuts any line there
    assert all("#" not in ln for ln in _data_lines(path))
    assert len(_data_lines(path)) == 1 + 4


@pytest.mark.parametrize("state, system", [
    (None, "qubit"),
    # two qubits: a 4 x 4 density matrix (the loader checks the dimension)
    (np.kron(np.array([[0.7, 0.1 - 0.2j], [0.1 + 0.2j, 0.3]]), np.diag([0.6, 0.4])), "qubit"),
    # two oscillators of a Gaussian model: a real 4 x 4 covariance matrix
    (np.diag([1.5, 1.5, 0.5, 0.5]) + 0.25 * np.eye(4, k=2) + 0.25 * np.eye(4, k=-2),
     "oscillator"),
], ids=["none", "density-matrix", "covariance"])
def test_npz_keeps_final_state(tmp_path, state, system):
    hf = _result(2, final_state=state, system=system)
    back = HeatFluxes.load(hf.save(tmp_path / "r.npz"))
    if state is None:
        assert back.final_state is None
    else:
        assert back.final_state.dtype == state.dtype
        np.testing.assert_array_equal(back.final_state, state)
    # the CSV holds no state (documented): it loads as None
    assert HeatFluxes.load(hf.save(tmp_path / "r.csv")).final_state is None


def test_numpy_genfromtxt_reads_the_csv(tmp_path):
    hf = _result(3, partial=True)
    table = np.genfromtxt(hf.save(tmp_path / "r.csv"), delimiter=",", names=True, comments="#")
    assert table.dtype.names[:5] == ("t", "J1", "J2", "J12", "total")
    assert table.shape == hf.t.shape
    np.testing.assert_array_equal(table["total"], hf.total)
    np.testing.assert_array_equal(table["correlated_3"], hf.correlated[2])
    np.testing.assert_array_equal(table["subsystem_2_stderr"], hf.stderr.subsystem[1])


def test_csv_module_reads_the_csv(tmp_path):
    """The way tests/test_cli.py reads the CLI's files: drop '#' lines, then DictReader."""
    hf = _result(3, partial=True)
    rows = list(csv.DictReader(_data_lines(hf.save(tmp_path / "r.csv"))))
    np.testing.assert_array_equal([float(r["J12"]) for r in rows], hf.J12)
    np.testing.assert_array_equal([float(r["local_2"]) for r in rows], hf.local[1])


def test_pandas_reads_the_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    hf = _result(3, partial=True)
    frame = pd.read_csv(hf.save(tmp_path / "r.csv"), comment="#")
    assert list(frame.columns[:5]) == ["t", "J1", "J2", "J12", "total"]
    assert len(frame) == hf.t.size
    # pandas' default float parser may round the last bit: 1e-15 is ~4 ulp
    np.testing.assert_allclose(frame["total"], hf.total, rtol=1e-15, atol=0)
    np.testing.assert_allclose(frame["local_3_stderr"], hf.stderr.local[2], rtol=1e-15, atol=0)


@pytest.mark.parametrize("suffix", [".csv", ".npz"], ids=["csv", "npz"])
def test_parameters_come_back_as_plain_python(tmp_path, suffix):
    hf = _result(2, stderr=False)
    hf.parameters = {"gamma": np.float64(0.5), "steps": np.int64(7), "flag": np.bool_(True),
                     "grid": np.array([0.0, 0.5]), "pair": (1, 2), "z": 0.3 + 0.1j,
                     "out": Path("a/b"), "bad": float("nan"), "inf": math.inf,
                     "nested": {np.int64(3): np.float32(0.25)}}
    back = HeatFluxes.load(hf.save(tmp_path / f"r{suffix}")).parameters
    bad = back.pop("bad")  # written as json's NaN token, read back as a float NaN
    assert isinstance(bad, float) and math.isnan(bad)
    assert back == {"gamma": 0.5, "steps": 7, "flag": True, "grid": [0.0, 0.5],
                    "pair": [1, 2], "z": "(0.3+0.1j)", "out": "a/b", "inf": math.inf,
                    "nested": {"3": 0.25}}
    assert [type(back[k]) for k in ("gamma", "steps", "flag")] == [float, int, bool]


def test_plot_creates_the_folder(tmp_path):
    from matplotlib.figure import Figure  # Agg canvas, no display (as collision.studies.paper)

    ax = Figure().subplots()
    path = tmp_path / "new" / "deeper" / "p.png"
    _result(3).plot(ax=ax, path=path)
    assert path.stat().st_size > 1000


def test_save_names_the_allowed_suffixes(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.npz.*'r\.txt'"):
        _result(2).save(tmp_path / "new" / "r.txt")
    assert not (tmp_path / "new").exists()


_FOREIGN = {
    "other-columns": "n_trajectories,max_stderr,max_error\n10,0.1,0.2\n",
    "not-numbers": "t,J1,J2,J12,total,local_1,local_2,correlated_1,correlated_2\n0,a,0,0,0,0,0,0,0\n",
    "ragged": "t,J1,J2,J12,total,local_1,local_2,correlated_1,correlated_2\n0,0,0\n",
    "missing-correlated": "t,J1,J2,J12,total,local_1,local_2\n0,0,0,0,0,0,0\n",
    "only-comments": "# parameters: {}\n",
    "bad-json": "t,local_1,correlated_1\n# parameters: {nope\n0,0,0\n",
}


@pytest.mark.parametrize("content", list(_FOREIGN.values()), ids=list(_FOREIGN))
def test_load_rejects_a_foreign_csv(tmp_path, content):
    path = tmp_path / "foreign.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        HeatFluxes.load(path)


@pytest.mark.parametrize("kind", ["garbage", "npy", "other-arrays", "binary-csv", "suffix"])
def test_load_rejects_a_foreign_binary(tmp_path, kind):
    path = tmp_path / {"binary-csv": "r.csv", "suffix": "r.txt"}.get(kind, "r.npz")
    if kind == "npy":
        with path.open("wb") as fh:
            np.save(fh, np.zeros(3))
    elif kind == "other-arrays":
        np.savez(path, x=np.zeros(3))
    else:
        path.write_bytes(b"\xff\xfe\x00\x01 not a result")
    with pytest.raises(ValueError, match=re.escape(str(path) if kind != "suffix" else "r.txt")):
        HeatFluxes.load(path)


def test_results_compare_by_identity(tmp_path):
    """Results hold arrays: ``==`` is identity and never raises NumPy's ambiguity error."""
    hf = _result(2)
    back = HeatFluxes.load(hf.save(tmp_path / "r.npz"))
    assert hf == hf and hf != back and len({hf, back}) == 2
    _assert_same(back, hf)
