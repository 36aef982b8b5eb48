"""The benchmark suites: our engines timed, and against the peer (QuTiP) as ratios.

Run with ``collision bench`` (:func:`suites` is the list it runs, in order) or the
scripts in ``benchmarks/``.  Every timing warms the JIT first and reports the best of
``repeat`` runs; QuTiP is imported lazily (the ``bench`` extra) and skipped with a
message when it is missing (:mod:`collision.bench._peers`).  Before a peer is timed its
answer is compared with ours, so the ratio is for the same work.  The problems are
those of DESIGN.md section 6 (:func:`collision.bench.problems`).

Trajectories
------------
:func:`peer_comparison` and :func:`trajectory_throughput` (together
:func:`trajectory_benchmark`; run ``python benchmarks/bench_trajectories.py``, ``--quick``
for a short run) simulate the problems with ``dt = 0.01`` so that the 501 saved times are
the steps of the collision model:

* ``qubits``: 2-qubit cascade, qubit bath at T = 1, thermal start at T_S = 2, t in [0, 5];
* ``oscillators``: 2 oscillators with cutoff 20, N_S = 1, N = 0, t in [0, 5].

Equal error bars
----------------
A Monte Carlo cost only means something at a given standard error.  The figure of merit
is the standard error of the total flux ``J(t)`` on the 501-point grid, summarised by its
root mean square over the grid.  For each problem:

1. the peer runs ``mcsolve`` (serial map, default options) with ``e_ops`` = the flux
   observables of :meth:`lindblad.CascadeMasterEquation.flux_operators` plus their sum
   (the total flux).  ``mcsolve`` stratifies a mixed initial state over its eigenstates,
   so its standard error is computed for that stratified ensemble from the individual
   runs (see :func:`collision.bench._peers.run_mcsolve`; about 5% below
   ``std_expect / sqrt(ntraj)`` here).  The reference counts are 2000 trajectories
   (qubits) and 500 (oscillators).  In ``quick`` mode a smaller calibration run is timed
   and its time and standard error are scaled to the reference count (time x n, standard
   error x n^-1/2; the output says so);
2. a pilot run of ours gives our per-trajectory spread ``sigma = stderr * sqrt(n)``, so
   ``n_equal = (sigma / stderr_peer)^2`` of our trajectories match the peer's standard
   error;
3. we time ``n_equal`` trajectories (best of ``repeat``, JIT warm) on 1 and 2 threads and
   report the ratio of the peer's wall time to ours, and the standard error we actually
   reached.

Wall and CPU times are both reported: on a machine shared with other jobs the CPU time is
the fairer single-thread figure.  A collision is one ancilla meeting one subsystem: a
trajectory of the problems above has 500 steps x 2 collisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numba
import numpy as np

from lindblad import CascadeMasterEquation, states

from ..density import DensityEngine
from ..drivers import driver
from ..model import CascadeCollisionModel
from ..models.gaussian import GaussianCollisionModel
from ..options import DensityOptions, engine_options
from ._general import cascade_kernels, density_vs_loop, trajectories_vs_mcsolve
from ._peers import PEER_MISSING, run_mcsolve, run_mesolve
from ._problems import collision_model, problems, thermal_bath_oscillators
from ._threads import thread_scaling
from ._util import rms, timed

#: Time step of our trajectory runs (the 501 saved times of the problems are its steps).
DT = 0.01
#: The peer's trajectory counts of DESIGN.md section 6.
PEER_TRAJECTORIES = {"qubits": 2000, "oscillators": 500}
#: Calibration counts for ``quick`` mode.
QUICK_PEER_TRAJECTORIES = {"qubits": 100, "oscillators": 400}  # mcsolve needs >= 1 per
# eigenstate of rho0 (400 for the oscillators)



def run_engine(method: str, model, plan, **options):
    """Run engine ``method`` on a prepared plan through the table of engines
    (:data:`collision.drivers.ENGINES`), so that planning is not timed."""
    return driver(method)(model, plan, **engine_options(method, **options).as_dict(driver=True))

def master_equation_engines(repeat: int = 3, dt: float = 0.01) -> list[dict]:
    """The Lindblad reference and the density engine against QuTiP ``mesolve``.

    For each problem of :func:`problems` and for :func:`thermal_bath_oscillators`: wall
    and CPU time of the exact reference (``heat_fluxes``, set-up cached after the
    warm-up), of the density engine at ``dt`` (``run``: planning, set-up and kernel; its
    scheme and time per step), and of ``mesolve`` (whose fluxes are first compared with
    the reference), with the speed-up of each of ours over the peer.  For the T = 1
    problem the density engine's ``kraus`` scheme is timed too (once), for comparison.
    """
    rows = []
    for prob in problems().values():
        rows += problem_rows(prob, repeat, dt)
    return rows + problem_rows(thermal_bath_oscillators(), repeat, dt, schemes=("kraus",))


def problem_rows(prob, repeat: int = 3, dt: float = 0.01, schemes=()) -> list[dict]:
    """The rows of :func:`master_equation_engines` for one problem; ``schemes``: density
    schemes timed (once) besides the automatic choice."""
    ref_wall, ref_cpu, ref = timed(lambda p=prob: p.model.heat_fluxes(p.rho0, p.times),
                                   repeat)
    cm = collision_model(prob)
    t_max = float(prob.times[-1])
    n_steps = cm.plan(prob.rho0, t_max, dt).n_steps
    runs = [("lindblad reference", ref_wall, ref_cpu, ref, None)]
    den = timed(lambda: cm.run(prob.rho0, t_max, dt), repeat)
    runs.append((f"density engine dt={dt:g}", *den, den[2].parameters["scheme"]))
    for scheme in schemes:
        res = timed(lambda s=scheme: cm.run(prob.rho0, t_max, dt, options=DensityOptions(
            scheme=s)), 1)
        runs.append((f"density engine dt={dt:g}", *res, scheme))
    peer = run_mesolve(prob, repeat)
    rows = []
    for engine, wall, cpu, res, scheme in runs:
        row = {"problem": prob.name, "engine": engine, "wall_s": wall, "cpu_s": cpu,
               "max_dJ_vs_ref": float(np.max(np.abs(res.total - np.interp(
                   res.t, ref.t, ref.total))))}
        if scheme is not None:
            row.update({"scheme": scheme, "ms_per_step": 1e3 * wall / n_steps})
        if peer is None:
            row["peer"] = PEER_MISSING
        else:
            p_wall, p_cpu, j, name = peer
            row.update({"peer": name, "peer_wall_s": p_wall, "peer_cpu_s": p_cpu,
                        "speedup_wall": p_wall / wall, "speedup_cpu": p_cpu / cpu})
        rows.append(row)
    if peer is not None:
        j = peer[2]
        diff = max(np.max(np.abs(j[0] - ref.J1)), np.max(np.abs(j[1] - ref.J2)),
                   np.max(np.abs(j[2] - ref.J12)))
        rows.append({"problem": prob.name, "engine": "check: |J_qutip - J_reference|",
                     "max_dJ_vs_ref": float(diff)})
    return rows


def density_throughput(repeat: int = 3) -> list[dict]:
    """Collisions per second of the density engine for two qubits (target >= 5e6/s).

    Cascade, qubit bath at T = 1, thermal start at T_S = 2, dt = 1e-3, save_every = 10;
    end to end (``run``: validation, bath cutoff, Kraus set-up, kernel) and the compiled
    loop alone.  One collision is one ancilla meeting one subsystem (2 per step).
    """
    model = CascadeCollisionModel("qubit", 2, temperature=1.0)
    rho0 = states.product(*[states.thermal("qubit", 2.0)] * 2)
    rows = []
    for t_max in (5.0, 500.0):
        plan = model.plan(rho0, t_max, 1e-3, save_every=10)
        n_coll = 2 * (plan.n_steps - 1)
        wall, _, _ = timed(lambda t=t_max: model.run(rho0, t, 1e-3, save_every=10), repeat)
        engine = DensityEngine(model, plan)
        kernel, _, _ = timed(engine.run, repeat)
        rows.append({"case": f"2 qubits, t_max={t_max:g}", "collisions": n_coll,
                     "run_s": wall, "run_coll_per_s": n_coll / wall,
                     "kernel_coll_per_s": n_coll / kernel, "scheme": engine.scheme})
    return rows


def gaussian_throughput(repeat: int = 3) -> list[dict]:
    """Collisions per second of the Gaussian engine (target >= 1e6/s), and its O(dt)
    error against the exact Gaussian master equation at dt = 1e-3."""
    rows = []
    for n, t_max in ((2, 5.0), (2, 500.0), (8, 100.0)):
        model = GaussianCollisionModel(n, temperature=1.0)
        cov0 = states.gaussian_thermal(1.0, n)
        cov0[0, 2] = cov0[2, 0] = cov0[1, 3] = cov0[3, 1] = 0.5
        n_coll = n * ((model.saved_times(t_max, 1e-3, 10).size - 1) * 10 + 1)
        wall, _, res = timed(lambda m=model, c=cov0, t=t_max: m.run(c, t, 1e-3, 10), repeat)
        row = {"case": f"n={n}, dt=1e-3, t_max={t_max:g}", "collisions": n_coll,
               "run_s": wall, "run_coll_per_s": n_coll / wall}
        if t_max == 5.0:
            ref = model.master_equation().heat_fluxes(cov0, res.t)
            row["max_dJ_vs_exact"] = float(np.max(np.abs(res.total - ref.total)))
        rows.append(row)
    return rows


def trajectory_throughput(n_trajectories: int = 20000, repeat: int = 3) -> list[dict]:
    """Collisions per second of the trajectory engine on the qubit problem with 1 and 2
    threads (target: >= 2e7 on one core, >= 1.7x that on two).

    The 1- and 2-thread runs are interleaved ``repeat`` times and the best of each is
    kept, so that a transient load on a shared machine affects both alike.
    """
    prob = problems()["qubits"]
    model = collision_model(prob)
    plan = model.plan(prob.rho0, float(prob.times[-1]), DT)
    collisions = n_trajectories * (plan.n_steps - 1) * model.n_systems
    counts = [t for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS]
    before = numba.get_num_threads()
    best = {t: (math.inf, math.inf) for t in counts}
    try:
        for threads in counts:
            numba.set_num_threads(threads)
            run_engine("trajectories", model, plan, n_trajectories=256, seed=0)  # warm
        for _ in range(repeat):
            for threads in counts:
                numba.set_num_threads(threads)
                wall, cpu, _ = timed(lambda: run_engine(
                    "trajectories", model, plan, n_trajectories=n_trajectories, seed=0), 1)
                best[threads] = min(best[threads], (wall, cpu))
    finally:
        numba.set_num_threads(before)
    rows = [{"case": f"2 qubits, {n_trajectories} trajectories", "threads": t,
             "wall_s": best[t][0], "cpu_s": best[t][1],
             "collisions_per_s": collisions / best[t][0],
             "collisions_per_cpu_s": collisions / best[t][1]} for t in counts]
    if len(rows) == 2:
        rows[1]["speedup_vs_1_thread"] = rows[0]["wall_s"] / rows[1]["wall_s"]
    return rows


def peer_comparison(quick: bool = False, repeat: int = 3) -> list[dict]:
    """Our trajectories against QuTiP ``mcsolve`` at equal standard error of J(t)."""
    rows = []
    before = numba.get_num_threads()
    try:
        for name, prob in problems().items():
            model = collision_model(prob)
            plan = model.plan(prob.rho0, float(prob.times[-1]), DT)
            per_traj_collisions = (plan.n_steps - 1) * model.n_systems
            n_ref = PEER_TRAJECTORIES[name]

            # the peer, at its reference count (or calibrated and scaled)
            n_peer = QUICK_PEER_TRAJECTORIES[name] if quick else n_ref
            peer = run_mcsolve(prob, n_peer)
            if peer is None:
                rows.append({"problem": name, "peer": PEER_MISSING})
                peer_wall = peer_cpu = peer_se = None
                target = None
            else:
                p_wall, p_cpu, p_se, p_mean, peer_name = peer
                scale = n_ref / n_peer
                peer_wall, peer_cpu = p_wall * scale, p_cpu * scale
                peer_se = p_se / math.sqrt(scale)
                target = peer_se
                note = ("measured" if n_peer == n_ref else
                        f"from {n_peer} trajectories: time x{scale:g}, stderr / sqrt({scale:g})")
                rows.append({"problem": name, "engine": peer_name, "threads": 1,
                             "n_trajectories": n_ref, "wall_s": peer_wall, "cpu_s": peer_cpu,
                             "traj_per_s": n_ref / peer_wall, "rms_stderr_J": peer_se,
                             "note": note})

            # our pilot: per-trajectory spread of the total flux
            numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
            n_pilot = n_ref
            pilot = run_engine("trajectories", model, plan, n_trajectories=n_pilot, seed=1)
            sigma = rms(pilot.stderr.total) * math.sqrt(n_pilot)
            n_equal = n_pilot if target is None else max(2, math.ceil((sigma / target) ** 2))
            if peer is not None:
                lind = prob.model.heat_fluxes(prob.rho0, prob.times).total
                rows.append({"problem": name, "engine": "check: max |J - J_lindblad|",
                             "note": f"ours (n={n_pilot}, dt={DT:g}) "
                                     f"{np.max(np.abs(pilot.total - lind)):.3g}; "
                                     f"mcsolve {np.max(np.abs(p_mean - lind)):.3g}"})

            for threads in (1, 2):
                if threads > numba.config.NUMBA_NUM_THREADS:
                    continue
                numba.set_num_threads(threads)
                run_engine("trajectories", model, plan, n_trajectories=min(n_equal, 256), seed=2)
                wall, cpu, res = timed(lambda n=n_equal, m=model, p=plan: run_engine(
                    "trajectories", m, p, n_trajectories=n, seed=3), repeat)
                row = {"problem": name, "engine": "collision trajectories (ours)",
                       "threads": threads, "n_trajectories": n_equal, "wall_s": wall,
                       "cpu_s": cpu, "traj_per_s": n_equal / wall,
                       "collisions_per_s": n_equal * per_traj_collisions / wall,
                       "rms_stderr_J": rms(res.stderr.total),
                       "note": "n for the peer's stderr" if peer is not None else ""}
                if peer is not None:
                    row["speedup_wall"] = peer_wall / wall
                    row["speedup_cpu"] = peer_cpu / cpu
                rows.append(row)
    finally:
        numba.set_num_threads(before)
    return rows


def trajectory_benchmark(quick: bool = False) -> list[dict]:
    """The trajectory suites: the peer comparison rows, then the throughput rows.

    ``quick`` calibrates the peer with 100 / 400 trajectories instead of 2000 / 500,
    uses 5000 trajectories for the throughput and one repetition per timing.
    """
    repeat = 1 if quick else 3
    return (peer_comparison(quick, repeat)
            + trajectory_throughput(5000 if quick else 20000, repeat))


def delay_cost(repeat: int = 3, quick: bool = False) -> list[dict]:
    """Cost of a travel time between the subsystems: the same run with a delay of 0, 10
    and 1000 steps (10 and 100 for the trajectories), best of ``repeat``; peak memory of
    the Python heap (tracemalloc) of one run.

    2 qubits (eq 41 state, T = 1) for 5,000 steps of dt = 0.01 (density engine) and
    1,000 trajectories of 500 steps; 2 oscillators (cutoff 14, thermal T_S = 0.7,
    T = 0) for 2,000 steps.  The target: a delay of 1000 steps costs about what no
    delay costs, and memory does not grow with it.
    """
    import tracemalloc
    import warnings

    from .._loop import AccuracyWarning

    qubits = states.correlated_qubits(0.3, 0.5)
    osc = states.product(*[states.thermal("oscillator", 0.7, cutoff=14)] * 2)
    cases = [("2 qubits, density", "qubit", None, qubits, 50.0, {}, (0, 10, 1000)),
             ("2 oscillators, density", "oscillator", 14, osc, 20.0, {}, (0, 10, 1000)),
             ("2 qubits, 1000 trajectories", "qubit", None, qubits, 5.0,
              {"method": "trajectories", "n_trajectories": 1000, "seed": 0}, (0, 10, 100))]
    if quick:
        cases = cases[:1]
    rows = []
    for name, system, cutoff, rho0, t_max, kw, delays in cases:
        base = None
        for m in delays:
            model = CascadeCollisionModel(system, temperature=1.0 if cutoff is None else 0.0,
                                          cutoff=cutoff, delay=m * 0.01)

            def run(model=model, rho0=rho0, t_max=t_max, kw=kw):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AccuracyWarning)
                    return model.run(rho0, t_max, 0.01, save_every=10, **kw)

            wall, cpu, _ = timed(run, repeat)
            tracemalloc.start()
            run()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            base = wall if base is None else base
            rows.append({"case": name, "delay_steps": m, "wall_s": wall, "cpu_s": cpu,
                         "ratio_to_no_delay": wall / base, "peak_MB": peak / 1e6})
    return rows


def heat_statistics_cost(repeat: int = 3, quick: bool = False) -> list[dict]:
    """Cost of the heat counting statistics against a plain run of the same problem.

    The problems of DESIGN.md section 6 (:func:`problems`), t in [0, 5] with 501 saved
    times: the density engine at ``dt = 0.01`` (``run`` vs ``heat_statistics``, both
    end to end), the trajectory engine (2000 trajectories, 2 qubits; 500 in ``quick``)
    and the master equation (``heat_fluxes`` vs ``heat_statistics``).  The exact
    counting steps one state per occupied initial excitation number ``N0`` (3 for two
    qubits, 39 for two oscillators with cutoff 20), so its cost is about that many
    runs; the trajectories only add an integer per ancilla and a histogram per batch.
    Best of ``repeat`` after a warm-up; ``quick`` skips the oscillators.
    """
    import warnings

    from .._loop import AccuracyWarning, TruncationWarning

    rows = []
    n_traj = 500 if quick else 2000
    for name, prob in problems().items():
        if quick and name == "oscillators":
            continue
        cm = collision_model(prob)
        args = (prob.rho0, float(prob.times[-1]), DT)
        cases = [("density dt=0.01", partial(cm.run, *args), partial(cm.heat_statistics, *args))]
        if name == "qubits":
            kw = dict(method="trajectories", n_trajectories=n_traj, seed=1)
            cases.append((f"trajectories, {n_traj}", partial(cm.run, *args, **kw),
                          partial(cm.heat_statistics, *args, **kw)))
        cases.append(("master equation", partial(prob.model.heat_fluxes, prob.rho0, prob.times),
                      partial(prob.model.heat_statistics, prob.rho0, prob.times)))
        for engine, plain, counting in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AccuracyWarning)
                warnings.simplefilter("ignore", TruncationWarning)  # the problem's own cutoff
                plain_wall, plain_cpu, _ = timed(plain, repeat)
                count_wall, count_cpu, res = timed(counting, repeat)
            rows.append({"problem": name, "engine": engine, "plain_s": plain_wall,
                         "plain_cpu_s": plain_cpu, "statistics_s": count_wall,
                         "statistics_cpu_s": count_cpu, "ratio": count_wall / plain_wall,
                         "initial_blocks": len(res.parameters.get("initial_blocks", []))
                         or ""})
    return rows


def _sweep_spec(n_points: int, n_trajectories: int | None) -> dict:
    """A sweep of ``n_points`` reservoir temperatures for two qubits (thermal start at
    T_S = 2, t in [0, 5], dt = 0.01): Monte Carlo points of ``n_trajectories`` on one
    numba thread each, or (None) density-engine points of 50 steps, whose cost is mostly
    the sweep's own."""
    run = {"t_max": 5.0, "dt": 0.01, "save_every": 10, "method": "trajectories",
           "n_trajectories": n_trajectories, "n_threads": 1}
    if n_trajectories is None:
        run = {"t_max": 0.5, "dt": 0.01}
    return {"sweep": {"model": "CascadeCollisionModel", "seed": 1},
            "model": {"system": "qubit"},
            "initial": {"state": "thermal", "temperature": 2.0}, "run": run,
            "grid": {"model.temperature": [0.5 + k / n_points for k in range(n_points)]}}


def _overhead(wall: float, direct: float, workers: int, n_points: int) -> float | str:
    """Milliseconds per point above the plain loop (one worker only)."""
    return 1e3 * (wall - direct) / n_points if workers == 1 else ""


def sweep_scaling(quick: bool = False) -> list[dict]:
    """Wall time of a 64-point sweep (16 with ``quick``) with 1 and 2 workers, as local
    processes and on a loopback Dask ``LocalCluster``, against calling ``run`` directly in
    a loop; and the per-point overhead of the sweep machinery (validation, one atomic
    file per point, the table) on points that cost almost nothing, in wall time and in
    CPU time of this process (the fairer figure on a shared machine).

    Trajectory points (2000 trajectories, 1000 collisions each, one numba thread) take
    about 0.1 s.  Every sweep writes into a fresh folder.  Local processes start with the
    sweep (their start-up is in the wall time); the Dask cluster is started before the
    timing (``startup_s``) and warmed with a 2-point sweep, as a long-lived cluster would
    be.  Each number is one run (the sweeps are long enough).
    """
    import tempfile
    import time
    from pathlib import Path

    from .. import sweep
    from ..sweep.point import build_model, build_state

    n_points = 16 if quick else 64
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = (Path(tmp) / f"s{k}" for k in range(100))

        def timed_sweep(spec, **kw) -> tuple[float, float]:
            start, cpu = time.perf_counter(), time.process_time()
            sweep.run(spec, next(folders), progress=False, **kw)
            return time.perf_counter() - start, time.process_time() - cpu

        for label, n_traj in (("trajectory points (2000 x 1000 collisions)", 2000),
                              ("near-empty points (density, 50 steps)", None)):
            spec = _sweep_spec(n_points, n_traj)
            points = sweep.validate(spec).points
            timed_sweep(_sweep_spec(2, n_traj), workers=1)  # JIT warm-up in this process
            start, cpu = time.perf_counter(), time.process_time()
            for p in points:  # the same runs without the sweep
                model = build_model(p.definition)
                run = dict(p.definition.run)
                kw = {"method": "trajectories", "options": engine_options(
                    "trajectories", n_trajectories=n_traj, seed=p.seed, n_threads=1)} \
                    if n_traj else {}
                model.run(build_state(model, p.definition), run["t_max"], run["dt"],
                          save_every=run.get("save_every", 1), **kw)
            direct, direct_cpu = time.perf_counter() - start, time.process_time() - cpu
            rows.append({"points": label, "backend": "run() in a loop", "workers": 1,
                         "wall_s": direct, "ms_per_point": 1e3 * direct / n_points,
                         "cpu_s": direct_cpu})
            for workers in (1, 2):
                wall, cpu = timed_sweep(spec, workers=workers)
                rows.append({"points": label, "backend": "local processes" if workers > 1
                             else "sweep, in process", "workers": workers, "wall_s": wall,
                             "ms_per_point": 1e3 * wall / n_points,
                             "cpu_s": cpu if workers == 1 else "",
                             "speedup_vs_loop": direct / wall,
                             "overhead_ms_per_point": _overhead(wall, direct, workers,
                                                                n_points),
                             "overhead_cpu_ms_per_point": _overhead(cpu, direct_cpu, workers,
                                                                    n_points)})
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                rows.append({"points": label, "backend": "Dask LocalCluster",
                             "wall_s": "skipped: pip install '.[dask]'"})
                continue
            for workers in (1, 2):
                start = time.perf_counter()
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
                        Client(cluster) as client:
                    startup = time.perf_counter() - start
                    timed_sweep(_sweep_spec(2, n_traj), client=client)
                    wall = timed_sweep(spec, client=client)[0]
                rows.append({"points": label, "backend": "Dask LocalCluster",
                             "workers": workers, "wall_s": wall,
                             "ms_per_point": 1e3 * wall / n_points,
                             "speedup_vs_loop": direct / wall,
                             "overhead_ms_per_point": _overhead(wall, direct, workers,
                                                                n_points),
                             "startup_s": startup})
    return rows


def large_chain(n_trajectories: int = 1000, sizes=(16, 20)) -> list[dict]:
    """Long qubit chains from a list of local states (issue targets: 16 qubits, 1000
    trajectories under 2 GB; 20 qubits at all): T = 1, T_S = 2, dt = 0.01, t in [0, 2].

    Wall time of one run and the peak resident memory of the process after it
    (``resource.getrusage``; includes the interpreter and numba, about 0.3 GB), next to
    the trajectory engine's memory formula: per thread two state vectors and one joint
    (systems x ancilla) vector, ``16 (2 + d_anc) D`` bytes, plus the batch buffer
    ``B n_saved 2 n 8`` and the tables ``~ 8 D n``.
    """
    import resource
    import warnings

    from .._loop import AccuracyWarning

    rows = []
    for n in sizes:
        model = CascadeCollisionModel("qubit", n, temperature=1.0)
        local = [states.thermal("qubit", 2.0)] * n
        traj = n_trajectories if n <= 16 else max(2, n_trajectories // 50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AccuracyWarning)
            wall, cpu, res = timed(lambda m=model, loc=local, k=traj: m.run(
                loc, 2.0, 0.01, save_every=10, method="trajectories", n_trajectories=k,
                seed=0), 1)
        dim = 2**n
        formula = 16 * 4 * dim * 2 + 8 * res.parameters["batch_size"] * 21 * 2 * n \
            + 8 * dim * n
        rows.append({"case": f"{n} qubits", "n_trajectories": traj, "wall_s": wall,
                     "cpu_s": cpu, "s_per_trajectory": wall / traj,
                     "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                     "formula_GB": formula / 1e9,
                     "J1(0)": float(res.J1[0]), "stderr": float(res.stderr.J1[0])})
    return rows


#: Our time steps in :func:`chain_peer_comparison` (t in [0, 2] saved every 0.1).
CHAIN_DTS = (0.01, 0.02, 0.025)


def chain_peer_comparison(n: int = 10, n_peer: int = 100, repeat: int = 2,
                          dts=CHAIN_DTS) -> list[dict]:
    """Our trajectories against QuTiP ``mcsolve`` for a chain of ``n`` qubits at equal
    standard error of the total flux, with our O(dt) bias below that standard error.

    T = 1 (qubit bath), S1 excited and the rest in the ground state (a pure state, so
    ``mcsolve`` samples it without strata), t in [0, 2] at 21 points.

    * Peer: ``mcsolve`` with its default options (serial map, one core), ``n_peer``
      trajectories, ``e_ops`` = the total flux operator; its standard error is
      ``std_expect / sqrt(n_peer)``, summarised by the rms over the 21 times.  Best of
      ``repeat`` runs after a warm-up run, like ours.
    * Ours, for every ``dt`` in ``dts`` (``save_every = 0.1 / dt``): the bias is the
      largest ``|J - J_exact|`` over the times between the density engine at that ``dt``
      (the exact mean of our trajectories) and the Lindblad reference; a pilot of 256
      trajectories gives the per-trajectory spread ``sigma``, and ``n_equal = (sigma /
      stderr_peer)^2`` trajectories are timed on one thread from the list of local states
      (best of ``repeat`` after a warm-up run; the estimator is "auto": "replay" at 10
      qubits, "conditional" for short chains).  Like the peer (``mcsolve`` with
      ``e_ops`` keeps no state), the timed runs return fluxes only
      (``final_state=False``); ``wall_s_with_final_state`` is the same run returning the
      trajectory-averaged final state too (best of ``repeat``).

    Rows: the peer, then ours at every ``dt`` with its bias, the standard error reached,
    whether the bias is below the peer's standard error (the issue's condition; the
    largest such ``dt`` is marked in ``note``) and the speed-up in wall and CPU time (the
    machine may be shared: CPU is the fairer figure).
    """
    import warnings

    from .._loop import AccuracyWarning

    me = CascadeMasterEquation("qubit", n, temperature=1.0)
    excited, ground = np.diag([0.0, 1.0]).astype(complex), np.diag([1.0, 0.0]).astype(complex)
    local = [excited] + [ground] * (n - 1)
    times = np.linspace(0.0, 2.0, 21)
    model = CascadeCollisionModel("qubit", n, temperature=1.0)

    def ours(dt: float, k: int, seed: int, method: str = "trajectories", final: bool = False):
        options = engine_options(method, n_trajectories=k, seed=seed, n_threads=1,
                                 final_state=final) if method == "trajectories" else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AccuracyWarning)  # dt = 0.01 is coarse at n = 10
            return model.run(local, 2.0, dt, save_every=round(0.1 / dt), method=method,
                             options=options)

    try:
        import qutip

        from ._peers import qutip_model
    except ImportError:
        return [{"problem": f"{n} qubits", "peer": PEER_MISSING}]
    h, c_ops, e_ops = qutip_model(me)
    psi = qutip.basis(list(me.dims), [1] + [0] * (n - 1))
    peer_wall, peer_cpu, res = timed(lambda: qutip.mcsolve(
        h, psi, times, c_ops, e_ops=[e_ops[0] + e_ops[1] + e_ops[2]], ntraj=n_peer,
        options={"progress_bar": False}, seeds=1), repeat)
    peer_se = rms(np.asarray(res.std_expect[0]) / math.sqrt(n_peer))
    rows = [{"problem": f"{n} qubits", "engine": f"qutip {qutip.__version__} mcsolve "
             "(serial)", "dt": "", "n_trajectories": n_peer, "wall_s": peer_wall,
             "cpu_s": peer_cpu, "rms_stderr_total": peer_se}]
    exact = me.heat_fluxes(np.asarray(states.product(*local)), times).total
    for dt in dts:
        bias = float(np.max(np.abs(ours(dt, 0, 0, "density").total - exact)))
        pilot = ours(dt, 256, 1)
        sigma = rms(pilot.stderr.total) * math.sqrt(256)
        n_equal = max(2, math.ceil((sigma / peer_se) ** 2))
        wall, cpu, mine = timed(lambda dt=dt, k=n_equal: ours(dt, k, 3), repeat)
        with_state, _, _ = timed(lambda dt=dt, k=n_equal: ours(dt, k, 3, final=True), repeat)
        rows.append({"problem": f"{n} qubits",
                     "engine": f"ours, {mine.parameters['trajectory_method']}", "dt": dt,
                     "n_trajectories": n_equal, "wall_s": wall, "cpu_s": cpu,
                     "rms_stderr_total": rms(mine.stderr.total), "max_bias": bias,
                     "bias_below_peer_stderr": bias < peer_se,
                     "speedup_wall": peer_wall / wall, "speedup_cpu": peer_cpu / cpu,
                     "wall_s_with_final_state": with_state, "note": ""})
    below = [row for row in rows[1:] if row["bias_below_peer_stderr"]]
    if below:
        max(below, key=lambda row: row["dt"])["note"] = "largest dt with bias < peer stderr"
    return rows


def suites(quick: bool = False) -> list[tuple[str, Callable[[], list[dict]]]]:
    """The benchmark suites ``collision bench`` runs, in order."""
    repeat = 1 if quick else 3
    return [
        ("Lindblad reference and density engine vs QuTiP mesolve (DESIGN.md section 6, and "
         "the oscillators with a T = 1 boson bath)",
         lambda: master_equation_engines(repeat)),
        ("density engine throughput, 2 qubits (target >= 5e6 collisions/s)",
         lambda: density_throughput(repeat)),
        ("Gaussian engine throughput (target >= 1e6 collisions/s)",
         lambda: gaussian_throughput(repeat)),
        ("trajectory engine vs QuTiP mcsolve at equal standard error of J(t)",
         lambda: peer_comparison(quick, repeat)),
        ("trajectory engine throughput, 2 qubits (targets >= 2e7 collisions/s on one core, "
         ">= 1.7x on two)",
         lambda: trajectory_throughput(5000 if quick else 20000, 2 if quick else 5)),
        ("trajectory engine on 1 and 2 threads, quiet and with one busy process per core "
         "(targets: speedup >= 1.8 quiet, >= 0.9 loaded)",
         lambda: thread_scaling((5000,) if quick else (5000, 50000), 3 if quick else 5)),
        ("cost of a delay between the subsystems (target: independent of the delay)",
         lambda: delay_cost(repeat, quick)),
        ("cost of the heat counting statistics against a plain run of the same problem",
         lambda: heat_statistics_cost(repeat, quick)),

        ("10-qubit chain: trajectories vs QuTiP mcsolve at equal standard error (target "
         ">= 100x)", lambda: chain_peer_comparison(6 if quick else 10, 20 if quick else 100)),
        ("long chains from a list of local states (targets: 16 qubits, 1000 trajectories, "
         "< 2 GB; 20 qubits at all)",
         lambda: large_chain(64 if quick else 1000, (12,) if quick else (16, 20))),
        ("sweeps: 64 points on 1 and 2 workers (local processes, Dask LocalCluster) vs "
         "run() in a loop", lambda: sweep_scaling(quick)),
        ("general collision models: the density engine vs the loop a QuTiP user writes "
         "(target >= 50x)", lambda: density_vs_loop(quick, repeat)),
        ("general collision models: trajectories vs QuTiP mcsolve on the derived master "
         "equation at equal standard error (target >= 20x)",
         lambda: trajectories_vs_mcsolve(quick, repeat)),
        ("the paper's cascade: preset and CascadeCollisionModel (same kernels, within 10%) "
         "and the general kernels on the same description", lambda: cascade_kernels(quick,
                                                                                    repeat)),
    ]
