"""Benchmarks of the general collision model against what a user would otherwise write.

Two problems of the general-model issue:

(a) ``detuned``: two qubits with frequencies 1 and 1.2, each colliding through
    ``sqrt(gamma) sigma_x x sigma_x`` with a thermal qubit ancilla (T = 1), S1 first;
(b) ``squeezed``: a driven qutrit, ``H = 0.2 n + 0.5 (a + a^dag)``, exchanging
    (``sqrt(gamma) (a^dag b + a b^dag)``) with a squeezed-vacuum ancilla (r = 0.3, eight Fock
    levels).

The peers: the loop a user writes in QuTiP (``tensor``, ``U * rho * U.dag()``,
``ptrace`` per step, the unitaries built once), and QuTiP's ``mcsolve`` on the master
equation the package derives, at the standard error of our trajectories.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.linalg import expm

from lindblad import states

from .. import presets
from ..model import CascadeCollisionModel
from ..models.general import Collision, CollisionModel
from ..models.limit import continuum_limit
from ._peers import PEER_MISSING, _import_qutip
from ._util import rms, timed

DT = 0.01
T_MAX = 5.0


def _ladder(d: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, d)), 1).astype(complex)


def squeezed_vacuum(r: float, d: int) -> np.ndarray:
    """``S(r)|0><0|S(r)^dag`` on Fock levels ``0 .. d-1``, renormalised (the weight left out
    is ``< 1e-5`` for ``r = 0.3, d = 8``)."""
    psi = np.zeros(d, dtype=complex)
    for m in range(d // 2 + d % 2):
        if 2 * m < d:
            psi[2 * m] = ((-math.tanh(r)) ** m * math.sqrt(math.factorial(2 * m))
                          / (2**m * math.factorial(m)))
    psi /= np.linalg.norm(psi)
    return np.outer(psi, psi.conj())


def problems() -> dict[str, dict]:
    """The two problems: model, initial state, observables."""
    sx = np.array([[0, 1], [1, 0]], dtype=complex)
    sz = np.diag([-1.0, 1.0]).astype(complex)
    xi = math.tanh(0.5)
    bath = np.diag([(1 + xi) / 2, (1 - xi) / 2]).astype(complex)
    detuned = CollisionModel(
        [2, 2], [0.5 * sz, 0.6 * sz], bath,
        [Collision(0, np.kron(sx, sx)), Collision(1, np.kron(sx, sx))],
        stream_hamiltonians={"bath": 0.5 * sz})
    a3, b8 = _ladder(3), _ladder(8)
    squeezed = CollisionModel(
        [3], 0.2 * a3.conj().T @ a3 + 0.5 * (a3 + a3.conj().T), squeezed_vacuum(0.3, 8),
        [Collision(0, np.kron(a3.conj().T, b8) + np.kron(a3, b8.conj().T))],
        stream_hamiltonians={"bath": b8.conj().T @ b8})
    up, down = np.diag([0.0, 1.0]).astype(complex), np.diag([1.0, 0.0]).astype(complex)
    return {  # pure initial states: mcsolve then needs no stratification
        "detuned": {"model": detuned, "rho0": np.kron(up, down),
                    "e_ops": {"E1": np.kron(0.5 * sz, np.eye(2)),
                              "E2": np.kron(np.eye(2), 0.6 * sz)}},
        "squeezed": {"model": squeezed, "rho0": np.diag([1.0, 0, 0]).astype(complex),
                     "e_ops": {"n": a3.conj().T @ a3}},
    }


def qutip_loop(prob: dict, n_steps: int, dt: float = DT):
    """The collision model as a QuTiP user writes it: per step ``tensor`` with the fresh
    ancilla, every collision ``U * rho * U.dag()``, ``ptrace``, then ``exp(-i H dt)``;
    ``qutip.expect`` at every step.  Returns the expectation values, shape (n_steps,
    n_ops)."""
    qutip = _import_qutip()
    model: CollisionModel = prob["model"]
    (eta,) = model.streams.values()
    dims_s = list(model.dims)
    d_a = eta.shape[0]
    joint = [dims_s + [d_a], dims_s + [d_a]]
    units = []
    for c in model.collisions:  # every collision here acts on one subsystem x the ancilla
        (i,) = c.subsystems
        u = expm(-1j * math.sqrt(dt) * c.interaction)
        units.append(qutip.Qobj(_on_site(u, i, dims_s, d_a), dims=joint))
    uh = qutip.Qobj(expm(-1j * dt * model.hamiltonian), dims=[dims_s, dims_s])
    eta_q = qutip.Qobj(eta)
    ops = [qutip.Qobj(o, dims=[dims_s, dims_s]) for o in prob["e_ops"].values()]
    rho = qutip.Qobj(prob["rho0"], dims=[dims_s, dims_s])
    out = np.zeros((n_steps, len(ops)))
    keep = list(range(len(dims_s)))
    for s in range(n_steps):
        out[s] = [qutip.expect(o, rho) for o in ops]
        total = qutip.tensor(rho, eta_q)
        for u in units:
            total = u * total * u.dag()
        rho = total.ptrace(keep)
        rho = uh * rho * uh.dag()
    return out


def _on_site(u: np.ndarray, i: int, dims_s: list[int], d_a: int) -> np.ndarray:
    """``u`` on (subsystem i) x ancilla, embedded in subsystems x ancilla."""
    n = len(dims_s)
    layout = dims_s + [d_a]
    d_i = dims_s[i]
    full = np.kron(u, np.eye(math.prod(layout) // (d_i * d_a)))  # (i, anc, rest...)
    order = [i, n] + [j for j in range(n) if j != i]
    t = full.reshape([layout[k] for k in order] * 2)
    perm = [order.index(k) for k in range(n + 1)]
    t = t.transpose(perm + [p + n + 1 for p in perm])
    size = math.prod(layout)
    return t.reshape(size, size)


def density_vs_loop(quick: bool = False, repeat: int = 3) -> list[dict]:
    """Our density engine against the QuTiP loop on both problems."""
    rows = []
    n_steps = 50 if quick else int(round(T_MAX / DT))
    for name, prob in problems().items():
        model = prob["model"]
        t_max = (n_steps - 1) * DT
        wall, cpu, res = timed(lambda m=model, p=prob, t=t_max: m.run(
            p["rho0"], t, DT, e_ops=p["e_ops"]), repeat)
        rows.append({"problem": name, "engine": f"density, {res.parameters['scheme']} "
                     "(ours)", "steps": n_steps, "wall_s": wall, "cpu_s": cpu})
        try:
            _import_qutip()
        except ImportError:
            rows.append({"problem": name, "engine": PEER_MISSING})
            continue
        p_wall, p_cpu, loop = timed(lambda p=prob: qutip_loop(p, n_steps), 1)
        ours = np.stack(list(res.expect.values()), axis=1)
        rows.append({"problem": name, "engine": "QuTiP loop (tensor, U rho U^dag, ptrace)",
                     "steps": n_steps, "wall_s": p_wall, "cpu_s": p_cpu,
                     "speedup_wall": p_wall / wall,
                     "note": f"max |difference| {np.max(np.abs(ours - loop)):.2g}"})
    return rows


def trajectories_vs_mcsolve(quick: bool = False, repeat: int = 3) -> list[dict]:
    """Our trajectories against ``mcsolve`` on the derived master equation, at equal rms
    standard error of the first observable (problem ``detuned``)."""
    prob = problems()["detuned"]
    model: CollisionModel = prob["model"]
    n_peer = 100 if quick else 500
    try:
        qutip = _import_qutip()
    except ImportError:
        return [{"problem": "detuned", "engine": PEER_MISSING}]
    h, jumps = continuum_limit(model)
    dims = [list(model.dims), list(model.dims)]
    times = np.arange(int(round(T_MAX / DT)) + 1) * DT
    op = next(iter(prob["e_ops"].values()))
    w0, c0 = time.perf_counter(), time.process_time()
    peer = qutip.mcsolve(qutip.Qobj(h, dims=dims), qutip.Qobj(prob["rho0"], dims=dims), times,
                         [qutip.Qobj(j, dims=dims) for j in jumps],
                         e_ops=[qutip.Qobj(op, dims=dims)], ntraj=n_peer,
                         options={"progress_bar": False}, seeds=1)
    p_wall, p_cpu = time.perf_counter() - w0, time.process_time() - c0
    p_err = rms(np.asarray(peer.std_expect[0]) / math.sqrt(n_peer))
    pilot = model.run(prob["rho0"], T_MAX, DT, method="trajectories", e_ops={"o": op},
                      n_trajectories=512, seed=1)
    sigma = rms(pilot.stderr.expect["o"]) * math.sqrt(512)
    n_equal = max(64, math.ceil((sigma / p_err) ** 2))
    wall, cpu, res = timed(lambda: model.run(prob["rho0"], T_MAX, DT, method="trajectories",
                                             e_ops={"o": op}, n_trajectories=n_equal,
                                             seed=2), repeat)
    return [
        {"problem": "detuned", "engine": f"qutip {qutip.__version__} mcsolve (derived master "
         "equation)", "n_trajectories": n_peer, "wall_s": p_wall, "cpu_s": p_cpu,
         "rms_stderr": p_err},
        {"problem": "detuned", "engine": "collision trajectories (ours)",
         "n_trajectories": n_equal, "wall_s": wall, "cpu_s": cpu,
         "rms_stderr": rms(res.stderr.expect["o"]), "speedup_wall": p_wall / wall,
         "speedup_cpu": p_cpu / cpu},
    ]


def cascade_kernels(quick: bool = False, repeat: int = 3) -> list[dict]:
    """The paper's model three ways: ``presets.cascade`` and today's
    ``CascadeCollisionModel`` (the same class and kernels: the ratio shows the noise) and
    the same description on the general kernels (``model.general()``), for the density
    engine and for 2,000 trajectories (2 qubits, T = 1, T_S = 2, t in [0, 5], dt = 0.01)."""
    t_max = 1.0 if quick else T_MAX
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 2.0))
    preset = presets.cascade("qubit", 2, temperature=1.0)
    today = CascadeCollisionModel("qubit", 2, temperature=1.0)
    general = preset.general()
    rows = []
    for method, kw in (("density", {}), ("trajectories", {"n_trajectories": 2000, "seed": 1})):
        times = {}
        for name, model in (("CascadeCollisionModel", today), ("presets.cascade", preset),
                            ("general kernels", general)):
            wall, cpu, _ = timed(lambda m=model, k=kw, how=method: m.run(
                rho0, t_max, DT, method=how, **k), repeat)
            times[name] = wall
            rows.append({"problem": "cascade, 2 qubits", "engine": f"{method}: {name}",
                         "wall_s": wall, "cpu_s": cpu,
                         "vs_today": wall / times["CascadeCollisionModel"]})
    return rows
