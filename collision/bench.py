"""Benchmarks against the peer (QuTiP), measured in one run and reported as ratios.

Run with ``collision bench`` (or the scripts in ``benchmarks/``).  Every timing warms
the JIT first and reports the best of ``repeat`` runs; QuTiP is imported lazily (the
``bench`` extra) and skipped with a message when it is missing.  Before a peer is timed
its answer is compared with ours, so the ratio is for the same work.

The problems are those of DESIGN.md section 6:

* ``qubits``: 2-qubit cascade, qubit bath at T = 1, thermal start at T_S = 2,
  t in [0, 5], 501 points;
* ``oscillators``: 2 oscillators with cutoff 20, N_S = 1, N = 0, t in [0, 5], 501 points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lindblad import CascadeMasterEquation, states

#: QuTiP solver options used for every peer run (tight tolerances, no stored states).
QUTIP_OPTIONS = {"atol": 1e-10, "rtol": 1e-8, "store_states": False}


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: a reference model and its initial state."""

    name: str
    model: CascadeMasterEquation
    rho0: np.ndarray
    times: np.ndarray


def problems() -> dict[str, Problem]:
    """The two problems of DESIGN.md section 6."""
    t = np.linspace(0.0, 5.0, 501)
    qb = CascadeMasterEquation("qubit", temperature=1.0)
    rho_q = states.product(*[states.thermal("qubit", 2.0)] * 2)
    osc = CascadeMasterEquation("oscillator", cutoff=20, temperature=0.0)
    t_s = 1.0 / math.log(2.0)  # N_S = 1
    rho_o = states.product(*[states.thermal("oscillator", t_s, 20)] * 2)
    return {"qubits": Problem("qubits", qb, rho_q, t),
            "oscillators": Problem("oscillators", osc, rho_o, t)}


def best_time(func: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (after one untimed warm-up call)."""
    out = func()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def qutip_model(model: CascadeMasterEquation):
    """QuTiP operators for the same cascade, in the Lindblad form of DESIGN.md section 3.

    ``L1 + L2 + D12 = g_dn L[a1 + a2] + g_up L[a1^dag + a2^dag] - i[H_c, .]`` with
    ``H_c = i (g_dn - g_up)/2 (a1^dag a2 - a2^dag a1)`` (n = 2).  Returns
    ``(H, c_ops, e_ops)`` with ``e_ops`` the flux observables (local[0], local[1],
    correlated[1]) of :meth:`CascadeMasterEquation.flux_operators`.
    """
    import qutip

    if model.n_systems != 2 or not model.cascade:
        raise ValueError("the QuTiP peer model is written for the 2-system cascade")
    g_dn, g_up = model.rates
    a1, a2 = (model.lowering_operator(i) for i in range(2))
    dims = [list(model.dims), list(model.dims)]

    def q(m):  # sparse operators keep QuTiP in its CSR data layer
        return qutip.Qobj(m.tocsr(), dims=dims)

    h = model.hamiltonian() + 0.5j * (g_dn - g_up) * (a1.conj().T @ a2 - a2.conj().T @ a1)
    c_ops = [q(math.sqrt(g_dn) * (a1 + a2))]
    if g_up > 0:
        c_ops.append(q(math.sqrt(g_up) * (a1 + a2).conj().T))
    local, correlated = model.flux_operators()
    e_ops = [q(local[0]), q(local[1]), q(correlated[1])]
    return q(h), c_ops, e_ops


def lindblad_vs_qutip(repeat: int = 3) -> list[dict]:
    """Time the exact reference against QuTiP ``mesolve`` on both problems.

    Returns one row per problem: our time, QuTiP's, the ratio and the largest flux
    difference between the two answers.
    """
    rows = []
    for prob in problems().values():
        ours, hf = best_time(lambda p=prob: p.model.heat_fluxes(p.rho0, p.times), repeat)
        row = {"problem": prob.name, "engine": "lindblad reference", "seconds": ours}
        try:
            import qutip
        except ImportError:
            row["peer"] = "qutip not installed (pip install '.[bench]')"
            rows.append(row)
            continue
        h, c_ops, e_ops = qutip_model(prob.model)
        rho = qutip.Qobj(prob.rho0, dims=h.dims)

        def peer(h=h, rho=rho, c_ops=c_ops, e_ops=e_ops, t=prob.times):
            return qutip.mesolve(h, rho, t, c_ops, e_ops=e_ops, options=QUTIP_OPTIONS)

        theirs, res = best_time(peer, repeat=1 if prob.name == "oscillators" else repeat)
        j = np.real(np.array(res.expect))
        diff = max(np.max(np.abs(j[0] - hf.J1)), np.max(np.abs(j[1] - hf.J2)),
                   np.max(np.abs(j[2] - hf.J12)))
        row.update({"peer": f"qutip {qutip.__version__} mesolve", "peer_seconds": theirs,
                    "speedup": theirs / ours, "max_flux_difference": diff})
        rows.append(row)
    return rows


def format_rows(rows: list[dict]) -> str:
    """A plain-text table of benchmark rows."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    cells = [[_fmt(row.get(k, "")) for k in keys] for row in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def suites(quick: bool = False) -> list[tuple[str, Callable[[], list[dict]]]]:
    """The benchmark suites ``collision bench`` runs, in order."""
    repeat = 1 if quick else 3
    return [("Lindblad reference vs QuTiP mesolve (DESIGN.md section 6 problems)",
             lambda: lindblad_vs_qutip(repeat))]
