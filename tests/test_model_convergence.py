"""``collision converge --model``: any collision model against its derived master
equation, with the fitted order compared with ``model.continuum_order``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from collision import cli
from collision.studies.model_convergence import load_setup, model_convergence

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "models"


@pytest.mark.parametrize("name", ["dephasing", "detuned_cascade", "two_reservoirs"])
def test_examples_converge_at_the_announced_order(name):
    """Fitted orders within 0.1 of 1 (measured 1.00-1.01) on dt = 0.04, 0.02, 0.01."""
    setup = load_setup(EXAMPLES / f"{name}.py")
    conv = model_convergence(setup["model"], setup["rho0"], setup.get("e_ops"),
                             dts=(0.04, 0.02, 0.01), t_max=2.0)
    assert conv.expected_order == 1.0
    for key, order in conv.orders.items():
        assert order == pytest.approx(1.0, abs=0.1), key


def test_cli_writes_the_table_and_plot(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["converge", "--model", str(EXAMPLES / "dephasing.py"), "--dts",
                           "0.04,0.02", "--t-max", "1", "--out", str(tmp_path)])
    assert status == 0
    assert "expected order (model.continuum_order): 1" in out.getvalue()
    data = np.genfromtxt(tmp_path / "converge_model.csv", delimiter=",", names=True)
    assert data["dt"].tolist() == [0.04, 0.02]
    assert (tmp_path / "converge_model.png").stat().st_size > 5000


@pytest.mark.parametrize("text, message", [
    ("x = 1\n", "must define a function setup"),
    ("def setup():\n    return {'rho0': 1}\n", "must return a dict with 'model'"),
])
def test_bad_model_files_are_refused(tmp_path, text, message):
    path = tmp_path / "m.py"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_setup(path)
    with pytest.raises(ValueError, match="no such file"):
        load_setup(tmp_path / "missing.py")
