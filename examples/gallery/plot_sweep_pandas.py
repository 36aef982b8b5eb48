"""
A parameter sweep, read back with pandas
========================================

:mod:`collision.sweep` runs a grid of model runs, writes every point to its own file as
it finishes (so an interrupted sweep resumes where it stopped), and returns the results
as one pandas DataFrame: a row per point and saved time, a column per swept name. Seeds
come from each point's definition, so the table is the same from one process, many, or a
Dask cluster.

Here a tiny sweep: two qubits relaxing from ``T_S = 0.5, 2, 4`` into reservoirs at
``T = 0.5, 1, 2`` (nine points), on the density engine, and the same grid on the exact
master equation. pandas then merges the two tables, integrates the flux into the heat
released, ``Q(t) = int_0^t J dt'``, and pivots it into a table. The specification is
the dict form of a TOML file (``collision sweep spec.toml --out DIR`` runs the same from
the command line).
"""

# %%
# Run the sweeps into a temporary folder
# --------------------------------------
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from collision import sweep


def spec(model, run):
    return {"sweep": {"model": model, "seed": 1},
            "model": {"system": "qubit"},
            "initial": {"state": "thermal", "temperature": 2.0},
            "run": run,
            "grid": {"model.temperature": [0.5, 1.0, 2.0],
                     "initial.temperature": [0.5, 2.0, 4.0]}}


folder = Path(tempfile.mkdtemp(prefix="sweep-"))
sweep.run(spec("CascadeCollisionModel", {"t_max": 3.0, "dt": 0.02, "method": "density"}),
          folder / "engine", workers=1, progress=False)
exact = sweep.run(spec("CascadeMasterEquation", {"t_max": 3.0, "dt": 0.02}),
                  folder / "exact", workers=1, progress=False)

# %%
# Read a sweep folder back
# ------------------------
# ``sweep.run`` returns the table; ``sweep.load`` reads it back from the folder at any
# later time (``metadata=True`` adds each point's seed, wall time and version).
engine = sweep.load(folder / "engine", metadata=True)
shutil.rmtree(folder)
columns = ["point", "model.temperature", "initial.temperature", "status", "t", "total"]
print(engine[columns].head().to_string())
print(f"{engine['point'].nunique()} points, {len(engine)} rows; "
      f"wall time per point {engine.groupby('point')['wall_time'].first().mean():.3f} s")

# %%
# Work with the tables
# --------------------
# Join engine and reference on the swept names and the time, then reduce per point.
keys = ["model.temperature", "initial.temperature", "t"]
both = engine[keys + ["total"]].merge(exact[keys + ["total"]], on=keys,
                                      suffixes=("_engine", "_exact"))
both["error"] = (both["total_engine"] - both["total_exact"]).abs()
print(f"largest |J_engine - J_exact| over the sweep: {both['error'].max():.2e}")
both = both.sort_values(keys)
both["Q_engine"] = both.groupby(keys[:2])["total_engine"].transform(
    lambda j: np.concatenate([[0.0], np.cumsum(j.to_numpy()[:-1]) * 0.02]))
final = both.groupby(keys[:2])["Q_engine"].last().unstack()
print("heat released by t = 3 (rows: reservoir T, columns: T_S):")
print(final.round(4))

# %%
# The figure
# ----------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for k, (t_s, group) in enumerate(both[both["model.temperature"] == 1.0]
                                 .groupby("initial.temperature")):
    ax.plot(group["t"], group["total_exact"], color=f"C{k}", label=f"T_S = {t_s:g}")
    ax.plot(group["t"][::8], group["total_engine"][::8], "o", ms=3, color=f"C{k}")
ax.set(xlabel=r"$\gamma t$", ylabel=r"$J^{(c)}$",
       title="reservoir T = 1: lines master equation, markers engine")
ax.legend(fontsize=8)
for k, (t_bath, row) in enumerate(final.iterrows()):
    bx.plot(row.index, row.to_numpy(), "o-", color=f"C{k + 3}", label=f"reservoir T = {t_bath:g}")
bx.axhline(0, color="k", lw=0.5)
bx.set(xlabel="initial temperature T_S", ylabel="heat released by t = 3",
       title="the sweep's table, pivoted with pandas")
bx.legend(fontsize=8)
fig.tight_layout()
plt.show()
