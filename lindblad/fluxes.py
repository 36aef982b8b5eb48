"""The heat-flux result type shared by the reference and every engine.

Sign convention: ``J > 0`` means heat flows from the system into the reservoir,
``J = -dU/dt`` (DESIGN.md section 3).  Units: ``hbar omega gamma``.

For a chain S1 -> S2 -> ... -> Sn every subsystem ``i`` has a *local* flux (its own
dissipator ``L_i``, i.e. what it would release to a fresh thermal reservoir) and a
*correlated* flux (the cascade terms ``D_ji``, j < i, i.e. the part due to the reservoir
having met the upstream subsystems first).  S1's correlated flux is zero.  The paper's
two-system quantities are

* ``J1  = local[0]``                         (eq 13 / 16),
* ``J2  = local[1]``  (for n > 2: ``sum(local[1:])``),
* ``J12 = correlated[1]`` (for n > 2: ``sum(correlated)``)  (eq 14),
* ``total = J1 + J2 + J12``                   (eq 12),

so that ``J2 + J12`` is S2's own flux (eq 17).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FIELDS = ("J1", "J2", "J12", "total")


@dataclass
class HeatFluxes:
    """Heat fluxes on a time grid.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times (units of 1/gamma).
    local, correlated : ndarray, shape (n_systems, n_t)
        Per-subsystem local and correlated fluxes (units of hbar omega gamma).
    stderr : HeatFluxes or None
        Standard errors of every field (Monte Carlo results only).
    parameters : dict
        The parameters that produced the result (saved alongside the numbers).
    partial : bool
        True when a run was interrupted and the statistics are incomplete.
    final_state : ndarray or None
        The state at ``t[-1]`` where the producer offers it (density matrix or
        covariance matrix).
    """

    t: np.ndarray
    local: np.ndarray
    correlated: np.ndarray
    stderr: HeatFluxes | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    partial: bool = False
    final_state: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.local = np.atleast_2d(np.asarray(self.local, dtype=float))
        self.correlated = np.atleast_2d(np.asarray(self.correlated, dtype=float))
        if self.local.shape != self.correlated.shape or self.local.shape[1] != self.t.size:
            raise ValueError(
                f"local {self.local.shape} and correlated {self.correlated.shape} must both "
                f"have shape (n_systems, len(t)) = (n, {self.t.size})")

    # the paper's names -------------------------------------------------------
    @property
    def n_systems(self) -> int:
        return self.local.shape[0]

    @property
    def J1(self) -> np.ndarray:  # noqa: N802 (the paper's symbol)
        return self.local[0]

    @property
    def J2(self) -> np.ndarray:  # noqa: N802
        return self.local[1:].sum(axis=0)

    @property
    def J12(self) -> np.ndarray:  # noqa: N802
        return self.correlated.sum(axis=0)

    @property
    def total(self) -> np.ndarray:
        return self.local.sum(axis=0) + self.correlated.sum(axis=0)

    @property
    def subsystem(self) -> np.ndarray:
        """Each subsystem's own flux ``-dU_i/dt``, shape (n_systems, n_t)."""
        return self.local + self.correlated

    def as_dict(self) -> dict[str, np.ndarray]:
        """The four paper fields plus ``t``, as arrays."""
        return {"t": self.t, **{name: getattr(self, name) for name in FIELDS}}

    # persistence ---------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write to ``.csv`` (columns t, J1, J2, J12, total, and *_stderr if present;
        parameters in a ``# `` header line) or ``.npz`` (everything, loadable with
        :meth:`load`)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        params = json.dumps(self.parameters, default=_jsonable, sort_keys=True)
        if path.suffix == ".npz":
            arrays = {"t": self.t, "local": self.local, "correlated": self.correlated,
                      "parameters": np.array(params), "partial": np.array(self.partial)}
            if self.stderr is not None:
                arrays["stderr_local"] = self.stderr.local
                arrays["stderr_correlated"] = self.stderr.correlated
                for key, value in getattr(self.stderr, "sums", {}).items():
                    arrays[f"stderr_sum_{key}"] = value
            np.savez(path, **arrays)
            return path
        if path.suffix != ".csv":
            raise ValueError(f"save() writes .csv or .npz files, got {path.name!r}")
        cols = self.as_dict()
        if self.stderr is not None:
            cols.update({f"{k}_stderr": getattr(self.stderr, k) for k in FIELDS})
        with path.open("w", newline="") as fh:
            fh.write(f"# parameters: {params}\n")
            if self.partial:
                fh.write("# partial: the run was interrupted before it finished\n")
            writer = csv.writer(fh)
            writer.writerow(list(cols))
            for row in zip(*cols.values(), strict=True):
                writer.writerow([f"{v:.12g}" for v in row])
        return path

    @classmethod
    def load(cls, path: str | Path) -> HeatFluxes:
        """Read a result written by :meth:`save` to ``.npz``."""
        with np.load(Path(path)) as z:
            stderr = None
            if "stderr_local" in z:
                sums = {k[len("stderr_sum_"):]: z[k] for k in z.files
                        if k.startswith("stderr_sum_")}
                stderr = FluxStandardErrors(z["t"], z["stderr_local"], z["stderr_correlated"],
                                            sums=sums)
            return cls(z["t"], z["local"], z["correlated"], stderr=stderr,
                       parameters=json.loads(str(z["parameters"])), partial=bool(z["partial"]))

    # plotting ------------------------------------------------------------------
    def plot(self, ax=None, reference: HeatFluxes | None = None, title: str | None = None,
             path: str | Path | None = None, scale: float = 1.0, ylabel: str | None = None):
        """Plot J1, J2, J12 and total (with error bands for Monte Carlo results).

        ``reference`` is drawn as lines and this result as markers.  ``scale``
        multiplies every flux (e.g. 2 to show qubit fluxes in the paper's units).
        Returns the axes; with ``path`` the figure is also saved there.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        colors = {"J1": "C0", "J2": "C1", "J12": "C2", "total": "k"}
        every = max(1, self.t.size // 40)
        for name in FIELDS:
            y = scale * getattr(self, name)
            if reference is not None:
                ax.plot(reference.t, scale * getattr(reference, name), color=colors[name],
                        lw=1.4, label=f"{name} (Lindblad)")
                ax.plot(self.t[::every], y[::every], "o", ms=3.5, mfc="none",
                        color=colors[name], label=f"{name} (collisions)")
            else:
                ax.plot(self.t, y, color=colors[name], label=name)
            if self.stderr is not None:
                e = 2 * scale * getattr(self.stderr, name)
                ax.fill_between(self.t, y - e, y + e, color=colors[name], alpha=0.25, lw=0)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set_xlabel(r"$\gamma t$")
        ax.set_ylabel(ylabel or r"heat flux  [$\hbar\omega\gamma$]")
        if title:
            ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
        if path is not None:
            ax.figure.savefig(path, dpi=130)
        return ax



@dataclass
class FluxStandardErrors(HeatFluxes):
    """Standard errors of a Monte Carlo :class:`HeatFluxes` (same units).

    ``local`` and ``correlated`` hold the standard errors of each subsystem's fluxes.
    ``J2``, ``J12``, ``total`` and ``subsystem`` are the standard errors of those *sums*,
    estimated from the per-trajectory sums (correlations between the terms included),
    not sums of standard errors.
    """

    sums: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def J2(self) -> np.ndarray:  # noqa: N802
        return self.sums["J2"] if "J2" in self.sums else super().J2

    @property
    def J12(self) -> np.ndarray:  # noqa: N802
        return self.sums["J12"] if "J12" in self.sums else super().J12

    @property
    def total(self) -> np.ndarray:
        return self.sums["total"] if "total" in self.sums else super().total

    @property
    def subsystem(self) -> np.ndarray:
        return self.sums["subsystem"] if "subsystem" in self.sums else super().subsystem

def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
