"""Sweeps over parameters: local processes by default, a Dask cluster when given, and no
finished point ever lost.

::

    from collision import sweep

    table = sweep.run("fig6a.toml", "results/fig6a")            # every core
    table = sweep.run(spec_dict, "out", workers=1)               # in this process
    table = sweep.run(spec_dict, "out", client=dask_client)      # on a Dask cluster
    with sweep.local_pool(2) as pool:                            # 2 processes, started once
        a = sweep.run(spec_a, "out/a", pool=pool)
        b = sweep.run(spec_b, "out/b", pool=pool)
    table = sweep.load("results/fig6a")                          # pandas DataFrame

Command line: ``collision sweep SPEC.toml --out DIR [--workers N] [--scheduler ADDRESS]``.

* :mod:`.spec`: the specification (TOML, JSON or a dict), its complete validation
  before any work, the points, and each point's id and seed (sha256 of the point's
  canonical definition; ``numpy.random.SeedSequence`` from the sweep seed and that hash);
* :mod:`.point`: a point as plain values and :func:`~.point.execute`, the pure function
  that runs it on any worker;
* :mod:`.backends`: this process, local processes (``forkserver``/``spawn``; one sweep's
  own, or a :func:`local_pool` shared by several sweeps), Dask;
* :mod:`.storage`: the folder, one file per finished point written atomically;
* :mod:`.table`: :func:`load`, the tidy table, and :func:`save_table` (Parquet or CSV);
* :mod:`.runner`: :func:`run`.

Guarantees
----------
* A point's result depends only on its parameters and the sweep seed: the same tables
  from 1 worker, N local processes or a Dask cluster, in any order.
* Resumable: every finished point is written when it finishes; re-running the same
  specification into the folder leaves finished points untouched and computes only the
  missing ones (and retries failed ones); a killed sweep loses only the points (or
  trajectory batches) in progress.  A different specification is refused, with what
  differs; only the execution options ``[run] batches`` and ``n_threads`` may change.
* ``[run] batches = K`` splits a trajectory point into K disjoint ranges of whole leaves
  of 64 trajectories of the point's seed, run as separate tasks and merged with
  :func:`collision.merge_results`: bit for bit the single run.
* A point file is used only if it loads and records its point's id and the digest of
  the folder's specification; a damaged one (cut short, edited, copied from another
  point or sweep) is named in a :class:`DamagedFileWarning`, moved into
  ``out_dir/damaged/`` and computed again (:func:`load` reports it as ``"damaged"``).
* The points are made one at a time, never listed: a sweep of more than ``max_points``
  (10^6 by default) is refused at once, and a large one is checked per value of each
  swept parameter up front and per point just before it runs (:mod:`.spec`).
* A failed point is recorded with its error message and the sweep goes on; Ctrl-C stops
  the sweep, keeping every finished point (``table.attrs["sweep"]["interrupted"]``).
  Local worker processes exit when the process that started them dies (even by
  ``SIGKILL``).
"""

from .backends import LocalPool, local_pool
from .point import MODELS, STATES
from .runner import run
from .spec import MAX_POINTS, SweepSpec, SweepSpecError, validate
from .storage import DamagedFileWarning
from .table import load, save_table

__all__ = ["MAX_POINTS", "MODELS", "STATES", "DamagedFileWarning", "LocalPool", "SweepSpec",
           "SweepSpecError", "load", "local_pool", "run", "save_table", "validate"]
