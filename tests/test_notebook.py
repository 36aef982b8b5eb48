"""Results in a notebook: ``to_pandas()`` equals the arrays (and the CSV file), the HTML
summary holds the key numbers and is well formed, the text repr is short.

Every result type of the package is produced once (small, deterministic runs) and fed to
the same checks.
"""

from __future__ import annotations

import html.parser
import warnings

import numpy as np
import pandas as pd
import pytest

import collision
import lindblad
from collision import Collision, CollisionModel
from lindblad import _tabular
from lindblad.states import product, thermal

SM = np.array([[0, 1], [0, 0]], dtype=complex)
SZ = np.diag([-1.0, 1.0]).astype(complex)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
RHO0 = product(thermal("qubit", 2.0), thermal("qubit", 2.0))
#: Lines a text repr may have: a head line and at most MAX_ROWS final values + "... more".
MAX_REPR_LINES = 15


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _cascade():
    return collision.CascadeCollisionModel("qubit", temperature=1.0)


def _general():
    h = 0.5 * SZ
    swap = np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T)
    eta = np.diag([0.7, 0.3]).astype(complex)
    return CollisionModel([2, 2], [h, 0.6 * h], {"hot": eta, "cold": np.diag([0.9, 0.1])},
                          [Collision(0, swap, stream="hot"), Collision(1, swap, stream="cold")],
                          stream_hamiltonians={"hot": h, "cold": h})


E_OPS = {"E1": np.kron(0.5 * SZ, np.eye(2)), "sm1": np.kron(SM, np.eye(2))}  # sm1 complex


def _producers():
    """(id, zero-argument producer) of every result with a time axis."""
    cm, gm = _cascade(), _general()
    return [
        ("fluxes-density", lambda: _quiet(cm.run, RHO0, 0.5, 0.05)),
        ("fluxes-trajectories", lambda: _quiet(cm.run, RHO0, 0.5, 0.05, method="trajectories",
                                               n_trajectories=300, seed=3)),
        ("fluxes-extrapolated", lambda: _quiet(cm.run, RHO0, 0.5, 0.05, extrapolate=True)),
        ("fluxes-delay", lambda: _quiet(collision.CascadeCollisionModel(
            "qubit", temperature=1.0, delay=0.2).run, RHO0, 0.5, 0.05)),
        ("fluxes-lindblad", lambda: lindblad.CascadeMasterEquation(
            "qubit", temperature=1.0).heat_fluxes(RHO0, np.linspace(0, 0.5, 6))),
        ("fluxes-gaussian", lambda: _quiet(collision.GaussianCollisionModel(temperature=0.5).run,
            lindblad.states.gaussian_thermal(1.0), 0.5, 0.05)),
        ("result-density", lambda: _quiet(gm.run, RHO0, 0.5, 0.05, e_ops=E_OPS)),
        ("result-trajectories", lambda: _quiet(gm.run, RHO0, 0.5, 0.05, e_ops=E_OPS,
                                               method="trajectories", n_trajectories=200,
                                               seed=4)),
        ("statistics-density", lambda: _quiet(cm.heat_statistics, RHO0, 0.5, 0.05)),
        ("statistics-independent", lambda: _quiet(collision.CascadeCollisionModel(
            "qubit", temperature=1.0, cascade=False).heat_statistics, RHO0, 0.5, 0.05)),
        ("statistics-trajectories", lambda: _quiet(cm.heat_statistics, RHO0, 0.5, 0.05,
                                                   method="trajectories", n_trajectories=300,
                                                   seed=5)),
    ]


PRODUCERS = _producers()


@pytest.fixture(scope="module", params=PRODUCERS, ids=[p[0] for p in PRODUCERS])
def result(request):
    return request.param[1]()


def _file_columns(result) -> dict[str, np.ndarray]:
    return result._csv_columns()


def test_frame_equals_arrays_and_csv_file(result, tmp_path):
    """The frame has the CSV file's columns in its order, with ``t`` a column, each equal
    (exactly) to the arrays; reading the saved CSV with pandas gives the same table."""
    df = result.to_pandas()
    cols = _file_columns(result)
    assert list(df.columns) == list(cols) and df.columns[0] == "t"
    for name, values in cols.items():
        np.testing.assert_array_equal(df[name].to_numpy(), values, err_msg=name)
    np.testing.assert_array_equal(df["t"].to_numpy(), result.t)
    assert df.attrs["parameters"] == result.parameters and df.attrs["partial"] is False
    path = result.save(tmp_path / "r.csv")
    back = pd.read_csv(path, comment="#")
    pd.testing.assert_frame_equal(back, df, check_exact=True, check_dtype=False)


def test_frame_is_a_copy(result):
    """Editing the frame (or its attrs) leaves the result alone."""
    df = result.to_pandas()
    t0 = result.t.copy()
    df["t"] = -1.0
    df.attrs["parameters"]["dt"] = "edited"
    np.testing.assert_array_equal(result.t, t0)
    assert result.parameters.get("dt") != "edited"


def _final_rows(result) -> list[tuple[str, float, float | None]]:
    """(name, final value, its error bar or None) that the summaries must show."""
    if isinstance(result, lindblad.HeatStatistics):
        err = result.stderr.cumulants if result.stderr is not None else None
        if err is None and result.dt_error is not None:
            err = np.abs(result.dt_error.cumulants)
        return [(f"kappa_{k + 1}", result.cumulants[-1, k],
                 None if err is None else err[-1, k]) for k in range(4)]
    if isinstance(result, collision.Result):
        rows = []
        for group in ("expect", "heat"):
            err = None if result.stderr is None else getattr(result.stderr, group)
            rows += [(f"{group}[{k}]", v[-1], None if err is None else err[k][-1])
                     for k, v in getattr(result, group).items()]
        return rows
    err = result.stderr if result.stderr is not None else result.dt_error
    return [(k, getattr(result, k)[-1], None if err is None else abs(getattr(err, k)[-1]))
            for k in lindblad.fluxes.FIELDS]


class _Balance(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        self.ok = self.ok and bool(self.stack) and self.stack.pop() == tag


def _balanced(text: str) -> bool:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    return parser.ok and not parser.stack


def test_summaries_show_the_final_values(result):
    """HTML and text repr hold every final value (and error bar) as formatted, the time
    grid, the engine; the HTML is balanced, the repr short."""
    page, text = result._repr_html_(), repr(result)
    assert _balanced(page), page
    assert len(text.splitlines()) <= MAX_REPR_LINES, text
    for name, value, err in _final_rows(result):
        for shown in (page, text):
            assert name in shown and _tabular.fmt(value) in shown, (name, shown)
            if err is not None:
                assert _tabular.fmt(err) in shown, (name, shown)
    span = _tabular.time_span(result.t)
    assert span in page and span in text
    engine = result.parameters.get("engine", result.parameters.get("method"))
    if engine is not None:
        assert str(engine) in page


def test_partial_and_escaping(result):
    """``partial`` is shown; parameters that look like markup are escaped."""
    original = (result.partial, dict(result.parameters))
    try:
        result.partial = True
        result.parameters["method"] = "<b>&"
        page = result._repr_html_()
        assert "partial" in page and "partial" in repr(result)
        assert "&lt;b&gt;&amp;" in page and "<b>&" not in page
    finally:
        result.partial, result.parameters = original[0], original[1]


def test_to_pandas_without_pandas_says_how_to_get_it(result, monkeypatch):
    monkeypatch.setattr(_tabular, "_pd", None)
    with pytest.raises(ImportError, match="to_pandas needs pandas: pip install pandas"):
        result.to_pandas()


# --- the thermodynamic ledger -------------------------------------------------------------
@pytest.fixture(scope="module")
def ledger_run():
    h = 0.5 * SZ
    model = CollisionModel([2], h, {"hot": np.diag([0.6, 0.4]), "cold": np.diag([0.9, 0.1])},
                           [Collision([0], np.kron(SX, SX), "hot"),
                            Collision([0], 0.6 * np.kron(SX, SX), "cold")],
                           stream_hamiltonians={"hot": h, "cold": h})
    return model.run(np.diag([0.2, 0.8]), 0.5, 0.05, thermodynamics=True)


def test_ledger_frame_and_summaries(ledger_run):
    led = ledger_run.thermodynamics
    df = led.to_pandas(ledger_run.t)
    expected = ["t", "energy", "entropy", "heat[hot]", "heat[cold]", "work",
                "entropy_production",
                "entropy_production_clausius", "relative_entropy[hot]",
                "relative_entropy[cold]", "correlations", "heat_total[hot]",
                "heat_total[cold]", "work_total", "entropy_production_total"]
    assert list(df.columns) == expected
    np.testing.assert_array_equal(df["t"], ledger_run.t)
    for name in expected[1:]:
        if "[" in name:
            field, stream = name[:-1].split("[")
            values = getattr(led, field)[stream]
        else:
            values = getattr(led, name)
        np.testing.assert_array_equal(df[name].to_numpy(), values, err_msg=name)
    assert df.attrs["parameters"]["beta"] == led.beta
    assert list(led.to_pandas().columns) == expected[1:]
    page, text = led._repr_html_(), repr(led)
    assert _balanced(page) and len(text.splitlines()) <= MAX_REPR_LINES
    for shown in (page, text):
        assert _tabular.fmt(led.entropy_production_total[-1]) in shown
        assert _tabular.fmt(led.work_total[-1]) in shown


def test_trajectory_ledger_frame_has_standard_errors():
    """A trajectory ledger: the entropies are None (left out), every expectation value is
    followed by its standard error column, equal to the ledger's ``stderr`` arrays."""
    h = 0.5 * SZ
    model = CollisionModel([2], h, np.diag([0.6, 0.4]), [Collision([0], np.kron(SX, SX))],
                           stream_hamiltonians={"bath": h})
    run = model.run(np.diag([0.2, 0.8]), 0.3, 0.05, method="trajectories",
                    n_trajectories=64, seed=3, thermodynamics=True)
    led = run.thermodynamics
    df = led.to_pandas(run.t)
    assert list(df.columns) == ["t", "energy", "energy_stderr", "heat[bath]",
                                "heat[bath]_stderr", "work", "work_stderr",
                                "heat_total[bath]", "heat_total[bath]_stderr", "work_total",
                                "work_total_stderr"]
    np.testing.assert_array_equal(df["work_stderr"].to_numpy(), led.stderr.work)
    np.testing.assert_array_equal(df["heat[bath]_stderr"].to_numpy(), led.stderr.heat["bath"])


def test_ledger_refuses_a_wrong_time_axis(ledger_run):
    with pytest.raises(ValueError, match="t must have one entry per saved time"):
        ledger_run.thermodynamics.to_pandas(ledger_run.t[:-1])


# --- studies and Monte Carlo statistics ----------------------------------------------------
def _studies():
    """(id, producer, key numbers the summaries must show, expected frame columns)."""
    from collision.studies import chain_error, convergence, heat_statistics, memory
    from collision.studies import model_convergence as mc

    cm = _cascade()

    def dt_conv():
        r = _quiet(convergence.dt_convergence, cm, RHO0, [0.1, 0.05, 0.025], t_max=0.5,
                   t_state=0.5)
        return r, [r.errors["total"][-1], r.state_errors[0], r.orders["total"]], \
            ["dt", "J1_error", "J2_error", "J12_error", "total_error", "state_error",
             "J1_richardson_error", "J2_richardson_error", "J12_richardson_error",
             "total_richardson_error"]

    def traj_conv():
        r = _quiet(convergence.trajectory_convergence, cm, RHO0, 0.5, 0.05, [100, 400],
                   seed=2)
        return r, [r.stderr[0], r.error[-1], r.exponent], ["n_trajectories", "stderr", "error"]

    def model_conv():
        gm = _general()
        r = _quiet(mc.model_convergence, gm, RHO0, {"E1": E_OPS["E1"]}, dts=(0.1, 0.05),
                   t_max=0.5)
        return r, [r.errors["E1"][0], r.state_errors[-1]], ["dt", "E1_error", "state_error"]

    def chain():
        r = _quiet(chain_error.chain_error, (2, 3), dt=0.05, t_max=1.0)
        return r, [r.measured[-1], r.predicted[0]], ["n_systems", "measured", "predicted"]

    def trajectory_statistics():
        run = _quiet(cm.run, RHO0, 0.5, 0.05, method="trajectories", n_trajectories=300,
                     seed=3)
        r = run.statistics
        return r, [r.count], ["level", "first_trajectory", "count"]

    def decay():
        r = _quiet(memory.decay, kappas=(0.5, 8.0), dt=0.05, t_max=2.0)
        return r, [r.summary[0]["peak_heat_flow"], r.summary[-1]["error_vs_exact"]], \
            ["t"] + [f"{k}_{x:g}" for x in (0.5, 8.0) for k in ("P_e", "exact", "heat",
                                                                  "Q_out")]

    def memory_cascade():
        r = _quiet(memory.cascade, kappas=(None, 2.0), rho23s=(0.0, 0.5), dt=0.05, t_max=2.0)
        names = [f"kappa={x}_rho23={y:g}" for x in ("none", "2") for y in (0.0, 0.5)]
        return r, [r.summary[0]["t_50"], r.summary[-1]["released_at_t_max"]], \
            ["t"] + [f"{k}_{n}" for n in names for k in ("Q_out", "heat")]

    def correlation_panel():
        stats = _quiet(cm.heat_statistics, RHO0, 0.5, 0.05)
        limit = cm.master_equation().heat_statistics(RHO0, stats.t)
        r = heat_statistics.CorrelationPanel(system="qubit", parameter="Re rho23",
                                             values=np.array([0.0]), engine=[stats],
                                             reference=[limit])
        return r, [stats.mean[-1], limit.mean[-1]], \
            ["source", "value"] + list(stats.to_pandas().columns)

    def theorem():
        stats = [_quiet(cm.heat_statistics, RHO0, 0.5, 0.05) for _ in range(2)]
        limit = [cm.master_equation().heat_statistics(RHO0, s.t) for s in stats]
        r = heat_statistics.TheoremStudy(rho23=np.array([0.0, 0.1]), temperature=1.0,
                                         temperature_s=2.0, slope=0.25, engine=stats,
                                         reference=limit, identity_error=3e-15,
                                         dephased_error=0.125)
        return r, [r.slope, r.identity_error, stats[0].mean[-1], limit[1].variance[-1]], \
            ["source", "value"] + list(stats[0].to_pandas().columns)

    return [("dt-convergence", dt_conv), ("trajectory-convergence", traj_conv),
            ("model-convergence", model_conv), ("chain-error", chain),
            ("trajectory-statistics", trajectory_statistics), ("memory-decay", decay),
            ("memory-cascade", memory_cascade), ("correlation-panel", correlation_panel),
            ("fluctuation-theorem", theorem)]


STUDIES = _studies()


@pytest.fixture(scope="module", params=STUDIES, ids=[s[0] for s in STUDIES])
def study(request):
    return request.param[1]()


def test_study_frame_and_summaries(study):
    """The frame has the documented columns (one row per point); the summaries show the
    key numbers, the HTML is balanced and the repr short."""
    result, numbers, columns = study
    df = result.to_pandas()
    assert list(df.columns) == columns
    assert isinstance(df.attrs["parameters"], dict)
    page, text = result._repr_html_(), repr(result)
    assert _balanced(page), page
    assert len(text.splitlines()) <= MAX_REPR_LINES, text
    for value in numbers:
        assert _tabular.fmt(value) in page, (value, page)
        assert _tabular.fmt(value) in text, (value, text)


def test_study_frame_values_equal_the_arrays():
    """Exact equality of the frames with the arrays they show (one of each kind)."""
    result, _, _ = dict(STUDIES)["dt-convergence"]()
    df = result.to_pandas()
    np.testing.assert_array_equal(df["dt"], result.dts)
    for k in lindblad.fluxes.FIELDS:
        np.testing.assert_array_equal(df[f"{k}_error"], result.errors[k])
        np.testing.assert_array_equal(df[f"{k}_richardson_error"][:-1], result.richardson[k])
        assert np.isnan(df[f"{k}_richardson_error"].iloc[-1])
        assert df.attrs["parameters"][f"order_{k}"] == result.orders[k]
    theorem, _, _ = dict(STUDIES)["fluctuation-theorem"]()
    df = theorem.to_pandas()
    for source, stats in (("engine", theorem.engine), ("reference", theorem.reference)):
        for value, st in zip(theorem.rho23, stats, strict=True):
            part = df[(df["source"] == source) & (df["value"] == value)]
            np.testing.assert_array_equal(part["t"], st.t)
            np.testing.assert_array_equal(part["kappa_2"], st.cumulants[:, 1])


@pytest.fixture(scope="module")
def delay_study(tmp_path_factory):
    from collision.studies import delay_report

    out = tmp_path_factory.mktemp("delay")
    return out, _quiet(delay_report.run_study, out, quick=True)


def test_delay_study_frames_are_its_csv_files(delay_study):
    """The panels' frames have the columns of the CSV files the study wrote, and their
    numbers to the files' 10 significant digits; the study's own frame is the thresholds."""
    out, study = delay_study
    for panel, stem in [(study.fluxes["qubit"], "delay_fig3b"),
                        (study.release["oscillator"], "delay_fig4a")]:
        df = panel.to_pandas()
        back = pd.read_csv(out / f"{stem}.csv", comment="#")
        assert list(df.columns) == list(back.columns)
        numeric = [c for c in df.columns if c != "source"]
        np.testing.assert_allclose(back[numeric].to_numpy(float), df[numeric].to_numpy(float),
                                   rtol=1e-9, atol=0)  # %.10g in the files
        page = panel._repr_html_()
        assert _balanced(page) and panel.system in page
        assert len(repr(panel).splitlines()) <= MAX_REPR_LINES
    df = study.to_pandas()
    assert list(df.columns) == ["system", "heat", "p", "exact", "grid", "extrapolated"]
    thr = study.thresholds["qubit"]
    part = df[(df["system"] == "qubit") & (df["heat"] == "released")]
    np.testing.assert_array_equal(part["p"], thr.p)
    np.testing.assert_array_equal(part["grid"], thr.grid["released"])
    page, text = study._repr_html_(), repr(study)
    assert _balanced(page) and len(text.splitlines()) <= MAX_REPR_LINES
    assert _tabular.fmt(thr.exact["released"][0]) in page


def test_memory_study_frame_stacks_its_parts():
    from collision.studies import memory

    dec = _quiet(memory.decay, kappas=(2.0,), dt=0.1, t_max=1.0)
    cas = _quiet(memory.cascade, kappas=(None,), rho23s=(0.0,), dt=0.1, t_max=1.0)
    study = memory.Study(dec, cas, [], 1.5)
    df = study.to_pandas()
    assert list(df["part"].unique()) == ["decay", "cascade"]
    np.testing.assert_array_equal(df[df["part"] == "decay"]["P_e_2"], dec.population[2.0])
    page = study._repr_html_()
    assert _balanced(page) and "Decay" in page and "Cascade" in page
    assert len(repr(study).splitlines()) <= MAX_REPR_LINES


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    from collision.studies.paper import make_all

    return _quiet(make_all, tmp_path_factory.mktemp("paper"), quick=True, progress=False)


def test_paper_figures_frames_are_their_csv_files(paper):
    """Every figure's frame has its CSV file's columns and numbers (10 digits in the file);
    every figure, the stationary check and the report display themselves."""
    assert paper.ok
    for name, fig in paper.figures.items():
        df = fig.to_pandas()
        back = pd.read_csv(fig.csv, comment="#")
        assert list(df.columns) == list(back.columns), name
        numeric = [c for c in df.columns if c != "source"]
        np.testing.assert_allclose(back[numeric].to_numpy(float), df[numeric].to_numpy(float),
                                   rtol=1e-9, atol=1e-300, err_msg=name)  # %.10g in the files
        page, text = fig._repr_html_(), repr(fig)
        assert _balanced(page) and name in page and name in text, name
        assert len(text.splitlines()) <= MAX_REPR_LINES, text
    check = paper.stationary[0]
    assert check.to_pandas()["jt1_engine"].iloc[0] == check.jt1_engine
    assert _balanced(check._repr_html_())
    df = paper.to_pandas()
    assert list(df["figure"]) == list(paper.figures)
    assert _balanced(paper._repr_html_()) and len(repr(paper).splitlines()) <= MAX_REPR_LINES
