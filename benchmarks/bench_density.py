"""Throughput of the density engine, and the oscillator problem against the peers.

Run ``python benchmarks/bench_density.py`` (``--quick`` skips QuTiP and repeats).

1. Two qubits (cascade, qubit bath at T = 1, thermal start at T_S = 2): collisions per
   second (one collision = one ancilla meeting one subsystem, so 2 per step) for
   dt = 1e-3, t_max = 5, save_every = 10, and for a 100x longer run.  Reported both
   end to end (``model.run``: validation, bath cutoff, Kraus set-up, kernel) and for
   the compiled time loop alone.  Target (DESIGN.md section 6): >= 5e6 collisions/s.
2. Two oscillators, cutoff 20, N_S = 1 (T_S = 1/ln 2), reservoir N = 0, dt = 0.01,
   t in [0, 5], 501 points: wall time of the density engine, of the exact Lindblad
   reference (``CascadeMasterEquation.heat_fluxes``, including its set-up) and of
   QuTiP ``mesolve`` on the same problem, after checking that QuTiP's occupations agree
   with the reference.  Target: the density engine faster than ``mesolve``.

Every timing but QuTiP's is the best of several runs after a warm-up run (so the JIT
compile is never timed).  The CPU time of this process is printed next to wall times
of the oscillator problem: on a shared machine it is the fairer figure.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from collision import CascadeCollisionModel
from collision.density import DensityEngine
from lindblad import CascadeMasterEquation, states
from lindblad.operators import excitations


def best_of(func, repeat):
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def timed(func, repeat):
    """``(best wall time, best CPU time, result)`` of ``repeat`` calls."""
    wall, cpu, out = math.inf, math.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = func()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


# --- qubits ---------------------------------------------------------------------------------
def bench_qubits(repeat):
    model = CascadeCollisionModel("qubit", 2, temperature=1.0)
    rho0 = states.product(*[states.thermal("qubit", 2.0)] * 2)
    model.run(rho0, 0.1, 1e-3)  # warm the JIT
    print("2 qubits, cascade, qubit bath T = 1, thermal start T_S = 2, dt = 1e-3, "
          "save_every = 10")
    print(f"  {'t_max':>6} {'collisions':>11} {'end-to-end':>12} {'coll/s':>9} "
          f"{'kernel only':>12} {'coll/s':>9}  scheme")
    for t_max in (5.0, 500.0):
        reps = repeat if t_max < 50 else max(2, repeat // 2)
        plan = model.plan(rho0, t_max, 1e-3, save_every=10)
        n_coll = 2 * (plan.n_steps - 1)  # the extra step past the last saved time is free
        wall, _ = best_of(lambda t=t_max: model.run(rho0, t, 1e-3, save_every=10), reps)
        engine = DensityEngine(model, plan)
        kern, _ = best_of(engine.run, reps)
        print(f"  {t_max:>6g} {n_coll:>11d} {wall * 1e3:>10.2f}ms {n_coll / wall:>9.2e} "
              f"{kern * 1e3:>10.2f}ms {n_coll / kern:>9.2e}  {engine.scheme}")
    print("  target: >= 5e6 collisions/s")


# --- oscillators -----------------------------------------------------------------------------
def reference_occupations(me, rho0, times):
    """<n_i>(t) from the reference, propagating only the m = 0 block (cheap)."""
    sec = me.sector(0)
    v = sec.propagate(rho0[sec.ket, sec.bra], times)
    diag = sec.ket == sec.bra
    fock = excitations(me.dims)[sec.ket[diag]]
    return np.real(v[:, diag]) @ fock  # shape (n_t, n_systems)


def qutip_problem(me, rho0):
    """H, c_ops and the number operators in the Lindblad form of DESIGN.md section 3:
    H = H_c = i (g_dn - g_up)/2 (a1^dag a2 - a2^dag a1) in the rotating frame,
    c_ops sqrt(g_dn) (a1 + a2) and sqrt(g_up) (a1^dag + a2^dag)."""
    import qutip

    d = me.cutoff
    a1 = qutip.tensor(qutip.destroy(d), qutip.qeye(d))
    a2 = qutip.tensor(qutip.qeye(d), qutip.destroy(d))
    g_dn, g_up = me.rates
    h = 0.5j * (g_dn - g_up) * (a1.dag() * a2 - a2.dag() * a1)
    c_ops = [math.sqrt(g_dn) * (a1 + a2)]
    if g_up > 0:
        c_ops.append(math.sqrt(g_up) * (a1.dag() + a2.dag()))
    rho = qutip.Qobj(rho0, dims=h.dims)
    return h, rho, c_ops, [a1.dag() * a1, a2.dag() * a2]


def bench_oscillators(repeat, with_qutip):
    cutoff, dt, t_max = 20, 0.01, 5.0
    t_s = 1.0 / math.log(2.0)  # N_S = 1
    rho0 = states.product(*[states.thermal("oscillator", t_s, cutoff)] * 2)
    times = np.linspace(0.0, t_max, 501)
    model = CascadeCollisionModel("oscillator", 2, cutoff=cutoff, temperature=0.0)
    model.run(rho0, 0.05, dt)  # warm the JIT
    print(f"\n2 oscillators, cutoff {cutoff}, N_S = 1, N = 0, t in [0, 5], 501 points "
          "(wall time, CPU time)")
    ours, ours_cpu, res = timed(lambda: model.run(rho0, t_max, dt), repeat)
    print(f"  density engine (dt = {dt}, bath cutoff {res.parameters['bath_cutoff']}, "
          f"{res.parameters['n_kraus']} Kraus operators, scheme {res.parameters['scheme']}, "
          f"{res.parameters['stored_entries']} stored entries): {ours:.3f} s ({ours_cpu:.3f} s)")

    def reference():
        me = CascadeMasterEquation("oscillator", 2, cutoff=cutoff, temperature=0.0)
        return me, me.heat_fluxes(rho0, times)

    ref_time, ref_cpu, (me, ref) = timed(reference, max(1, repeat // 3))
    cached, cached_cpu, _ = timed(lambda: me.heat_fluxes(rho0, times), max(1, repeat // 3))
    err = max(np.max(np.abs(getattr(res, f) - getattr(ref, f))) for f in ("J1", "J2", "J12"))
    print(f"  Lindblad reference heat_fluxes: {ref_time:.3f} s ({ref_cpu:.3f} s) with set-up, "
          f"{cached:.3f} s ({cached_cpu:.3f} s) cached")
    print(f"  density engine vs reference: max |dJ| = {err:.2e} (the O(dt) error at dt = {dt})")
    print(f"  ratio reference (with set-up) / density engine: {ref_time / ours:.1f}x wall, "
          f"{ref_cpu / ours_cpu:.1f}x CPU")
    if not with_qutip:
        return
    try:
        import qutip
    except ImportError:
        print("  qutip not installed: peer comparison skipped")
        return
    h, rho, c_ops, e_ops = qutip_problem(me, rho0)
    n_ref = reference_occupations(me, rho0, times)
    peer, peer_cpu, out = timed(lambda: qutip.mesolve(h, rho, times, c_ops, e_ops=e_ops), 1)
    n_qutip = np.real(np.array(out.expect)).T
    diff = np.max(np.abs(n_qutip - n_ref))
    print(f"  QuTiP {qutip.__version__} mesolve (default tolerances): {peer:.3f} s "
          f"({peer_cpu:.3f} s); max |<n_i>_qutip - <n_i>_reference| = {diff:.1e}")
    if diff > 1e-4:
        print("  WARNING: QuTiP and the reference disagree; the timing is not comparable")
    print(f"  ratio QuTiP / density engine: {peer / ours:.1f}x wall, {peer_cpu / ours_cpu:.1f}x "
          f"CPU;  QuTiP / reference: {peer / ref_time:.1f}x wall")
    print("  target: density engine faster than QuTiP mesolve")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, no QuTiP")
    args = parser.parse_args()
    repeat = 1 if args.quick else 5
    bench_qubits(repeat)
    bench_oscillators(repeat, with_qutip=not args.quick)


if __name__ == "__main__":
    main()
