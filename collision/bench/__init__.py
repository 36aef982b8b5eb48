"""Benchmarks of the engines, and against the peer (QuTiP), reported as ratios.

Run with ``collision bench`` (or the scripts in ``benchmarks/``).  The names below are
the API; one concept per module, imports flowing one way (``_suites`` -> ``_peers`` ->
``_problems``, and ``_suites``, ``_peers`` -> ``_util``; only this file imports
``_suites``):

* ``_problems``: the problems of DESIGN.md section 6 (:class:`Problem`, :func:`problems`,
  :func:`collision_model`) and :func:`thermal_bath_oscillators`;
* ``_peers``: QuTiP, imported lazily (the ``bench`` extra): :func:`qutip_model` and the
  timed ``mesolve`` / ``mcsolve`` runs;
* ``_suites``: the suites and :func:`suites`, the list ``collision bench`` runs (its
  module docstring explains the trajectory comparison at equal error bars);
* ``_threads``: :func:`thread_scaling`, 1 against 2 threads, quiet and next to busy
  processes;
* ``_general``: the general collision model against a QuTiP loop and ``mcsolve``, and
  the paper's cascade on the exchange and the general kernels;
* ``_util``: :func:`timed` (JIT warmed, best of ``repeat``), :func:`format_rows`.

The modules are private so that ``collision.bench.problems`` and
``collision.bench.suites`` are the functions, never shadowed by a module of that name.
"""

from ._peers import QUTIP_OPTIONS, qutip_model
from ._problems import Problem, collision_model, problems, thermal_bath_oscillators
from ._suites import (
    DT,
    PEER_TRAJECTORIES,
    QUICK_PEER_TRAJECTORIES,
    chain_peer_comparison,
    delay_cost,
    density_throughput,
    gaussian_throughput,
    heat_statistics_cost,
    large_chain,
    master_equation_engines,
    peer_comparison,
    problem_rows,
    suites,
    sweep_scaling,
    trajectory_benchmark,
    trajectory_throughput,
)
from ._threads import thread_scaling
from ._util import format_rows, timed

__all__ = [
    "DT",
    "PEER_TRAJECTORIES",
    "QUICK_PEER_TRAJECTORIES",
    "QUTIP_OPTIONS",
    "chain_peer_comparison",
    "Problem",
    "collision_model",
    "delay_cost",
    "density_throughput",
    "format_rows",
    "gaussian_throughput",
    "heat_statistics_cost",
    "large_chain",
    "master_equation_engines",
    "peer_comparison",
    "problem_rows",
    "problems",
    "qutip_model",
    "suites",
    "sweep_scaling",
    "thermal_bath_oscillators",
    "thread_scaling",
    "timed",
    "trajectory_benchmark",
    "trajectory_throughput",
]
