"""The worked examples of examples/models run, write their plot, and agree with the
master equation the package derives (or a closed form) to the O(dt) error of dt = 0.01
(bounds set at about twice the measured differences)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "models"

# measured (dt = 0.01): 9.8e-4, 6.2e-4, 3.8e-4, 2.7e-7, 2.3e-3
BOUNDS = {"detuned_cascade": 2e-3, "dephasing": 1.5e-3, "squeezed_reservoir": 1e-3,
          "two_reservoirs": 1e-5, "direct_coupling": 5e-3}


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_example_runs_and_agrees(name, tmp_path):
    out = load(name).main(tmp_path)
    assert out["path"].stat().st_size > 10_000
    assert out["error"] < BOUNDS[name]


def test_dephasing_exchanges_no_heat(tmp_path):
    out = load("dephasing").main(tmp_path)
    assert out["heat"] < 1e-12
    assert out["limit_error"] < 1e-10


def test_detuning_lowers_what_s2_absorbs(tmp_path):
    peaks = load("detuned_cascade").main(tmp_path)["peaks"]
    assert peaks[0.0] > peaks[0.5] > peaks[1.0] > peaks[2.0]


def test_heat_flows_from_hot_to_cold(tmp_path):
    currents = load("two_reservoirs").main(tmp_path)["currents"]
    assert currents[0] == pytest.approx(0.0, abs=1e-10)  # T_h = T_c: no current
    assert all(b > a for a, b in zip(currents, currents[1:], strict=False))
