"""The peer, QuTiP: the same cascade as QuTiP operators, and timed ``mesolve``/``mcsolve``.

QuTiP is the ``bench`` extra (``pip install '.[bench]'``) and is imported only when a
peer is built or run.  :func:`qutip_model` raises an :class:`ImportError` saying so when
it is missing; :func:`run_mesolve` and :func:`run_mcsolve` return ``None`` instead, and
the suites print :data:`PEER_MISSING` in place of the peer's numbers.
"""

from __future__ import annotations

import math
import time

import numpy as np

from lindblad import CascadeMasterEquation

from ._problems import Problem
from ._util import rms, timed

#: QuTiP solver options used for every peer ``mesolve`` run (tight tolerances, no stored
#: states).
QUTIP_OPTIONS = {"atol": 1e-10, "rtol": 1e-8, "store_states": False}
#: Shown in a suite's rows in place of the peer's numbers when QuTiP is missing.
PEER_MISSING = "qutip not installed (pip install '.[bench]')"


def _import_qutip():
    """The ``qutip`` module, or an :class:`ImportError` that says how to install it."""
    try:
        import qutip
    except ImportError as exc:
        raise ImportError("the QuTiP peer needs the 'bench' extra: "
                          "pip install '.[bench]' (or pip install qutip)") from exc
    return qutip


def qutip_model(model: CascadeMasterEquation):
    """QuTiP operators for the same cascade, in the Lindblad form of DESIGN.md section 3.

    ``L1 + L2 + D12 = g_dn L[a1 + a2] + g_up L[a1^dag + a2^dag] - i[H_c, .]`` with
    ``H_c = i (g_dn - g_up)/2 (a1^dag a2 - a2^dag a1)`` (n = 2; for chains the sum of
    that over every pair i < j, with ``a1 + a2 -> sum_i a_i``).  Returns ``(H, c_ops,
    e_ops)`` with ``e_ops`` the flux observables J1, J2 and J12 (sums over S2..Sn) of
    :meth:`CascadeMasterEquation.flux_operators`.
    """
    qutip = _import_qutip()

    if not model.cascade or any(model.delays):
        raise ValueError("the QuTiP peer model is written for the cascade without delay")
    g_dn, g_up = model.rates
    a = [model.lowering_operator(i) for i in range(model.n_systems)]
    dims = [list(model.dims), list(model.dims)]

    def q(m):  # sparse operators keep QuTiP in its CSR data layer
        return qutip.Qobj(m.tocsr(), dims=dims)

    # chains: the pairwise form, H_c = i (g_dn - g_up)/2 sum_{i<j} (a_i^dag a_j - h.c.)
    h = model.hamiltonian()
    for j in range(len(a)):
        for i in range(j):
            h = h + 0.5j * (g_dn - g_up) * (a[i].conj().T @ a[j] - a[j].conj().T @ a[i])
    collective = sum(a[1:], a[0])
    c_ops = [q(math.sqrt(g_dn) * collective)]
    if g_up > 0:
        c_ops.append(q(math.sqrt(g_up) * collective.conj().T))
    local, correlated = model.flux_operators()
    e_ops = [q(local[0]), q(sum(local[1:])), q(sum(correlated[1:]))]
    return q(h), c_ops, e_ops


def run_mesolve(prob: Problem, repeat: int):
    """QuTiP ``mesolve`` on a problem: (wall, cpu, fluxes J1, J2, J12, name), or None.

    Best of ``repeat`` runs for the quick qubit problem; the oscillator problem (seconds
    per run) is timed once after its warm-up run.
    """
    try:
        qutip = _import_qutip()
    except ImportError:
        return None
    h, c_ops, e_ops = qutip_model(prob.model)
    rho = qutip.Qobj(prob.rho0, dims=h.dims)

    def peer():
        return qutip.mesolve(h, rho, prob.times, c_ops, e_ops=e_ops, options=QUTIP_OPTIONS)

    wall, cpu, res = timed(peer, repeat=repeat if prob.name == "qubits" else 1)
    return wall, cpu, np.real(np.array(res.expect)), f"qutip {qutip.__version__} mesolve"


def run_mcsolve(prob: Problem, n_traj: int, seed: int = 1):
    """QuTiP mcsolve on a problem: (wall, cpu, rms stderr of the total flux, mean total
    flux, name), or None without QuTiP.

    For a mixed initial state ``mcsolve`` splits the trajectories deterministically over
    the eigenstates of ``rho0`` (stratified sampling, each stratum weighted by its
    probability), and its ``std_expect / sqrt(ntraj)`` ignores that stratification.  The
    standard error used here is the stratified one, ``sum_s p_s^2 var_s / n_s`` from the
    individual runs (a stratum with a single trajectory is given the overall variance,
    which overestimates its share), never larger than QuTiP's own figure.
    """
    try:
        qutip = _import_qutip()
    except ImportError:
        return None
    h, c_ops, e_ops = qutip_model(prob.model)
    total = e_ops[0] + e_ops[1] + e_ops[2]
    rho = qutip.Qobj(prob.rho0, dims=h.dims)
    w0, c0 = time.perf_counter(), time.process_time()
    res = qutip.mcsolve(h, rho, prob.times, c_ops, e_ops=[*e_ops, total], ntraj=n_traj,
                        options={"progress_bar": False, "keep_runs_results": True},
                        seeds=seed)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    runs = np.real(np.asarray(res.runs_expect[3]))  # (ntraj, n_t)
    weights = np.asarray(res.runs_weights)  # p_s / n_s for a trajectory of stratum s
    overall = np.asarray(res.std_expect[3]) ** 2
    var = np.zeros(runs.shape[1])
    start = 0
    for count in res.ntraj_per_initial_state:
        seg = slice(start, start + count)
        p_s = weights[start] * count
        within = runs[seg].var(axis=0, ddof=1) if count > 1 else overall
        var += p_s**2 * within / count
        start += count
    stderr = np.minimum(np.sqrt(var), np.sqrt(overall / res.num_trajectories))
    return (wall, cpu, rms(stderr), np.real(np.asarray(res.average_expect[3])),
            f"qutip {qutip.__version__} mcsolve")
