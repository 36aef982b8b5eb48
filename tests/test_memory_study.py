"""The ``collision memory`` study: its files and the physics its report states."""

from __future__ import annotations

import csv
import math

import numpy as np

from collision.cli import main
from collision.studies.memory import XI_S, cascade, decay, g_of_t


def test_decay_goes_from_revivals_to_markovian():
    """Revivals only below kappa = 4 gamma_0; t_50 falls towards the Markovian ln 2 as
    kappa grows; the collision model follows |G(t)|^2 (dt = 0.02: measured 4.3e-4, 1.6e-3
    and 0.040 at kappa = 0.5, 2, 32; the error grows with kappa dt = 0.64 at the last)."""
    dec = decay(kappas=(0.5, 2.0, 32.0), dt=0.02, t_max=12.0)
    rows = {r["kappa"]: r for r in dec.summary}
    assert rows[0.5]["revival_peak"] > 0.05 and rows[2.0]["revival_peak"] > 1e-3
    assert math.isnan(rows[32.0]["t_min"]) and rows[32.0]["revival_peak"] == 0.0
    t50 = [rows[k]["t_50"] for k in (0.5, 2.0, 32.0)]
    assert t50[0] > t50[1] > t50[2] > math.log(2)
    assert rows[0.5]["error_vs_exact"] < 4e-3 and rows[2.0]["error_vs_exact"] < 4e-3
    assert rows[32.0]["error_vs_exact"] < 0.05
    np.testing.assert_allclose(np.abs(g_of_t(np.array([0.0]), 4.0)) ** 2, 1.0)


def test_cascade_with_memory_traps_the_singlet():
    """With the common pseudomode the singlet is dark: S1 and S2 keep (1 - xi_S^2 -
    Re rho23)/4 (to 2e-3 at dt = 0.02, kappa = 2); the memoryless cascade releases all."""
    cas = cascade(kappas=(None, 2.0), rho23s=(-0.75, 0.0, 0.75), dt=0.02, t_max=16.0)
    for row in cas.summary:
        if row["reservoir"] == "memoryless":
            assert row["trapped_at_t_max"] < 1e-3
        else:
            assert abs(row["trapped_at_t_max"] - (1 - XI_S**2 - row["rho23"]) / 4) < 2e-3


def test_command_writes_its_files(tmp_path, capsys):
    assert main(["memory", "--quick", "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"memory_decay.csv", "memory_decay_summary.csv", "memory_cascade.csv",
                     "memory_cascade_summary.csv", "memory.png", "REPORT.md"}
    with open(tmp_path / "memory_cascade_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15 and "dark_energy" in rows[0]
    assert "wrote" in capsys.readouterr().out
    assert "## Cascade" in (tmp_path / "REPORT.md").read_text()
