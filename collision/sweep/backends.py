"""Where the tasks run: this process, local worker processes, or a Dask cluster.

Each backend is a generator ``backend(tasks)`` that yields ``(task, outcome)`` as tasks
finish, in any order, and cleans up in its ``finally`` (also on Ctrl-C or when the
caller stops early): pending tasks are cancelled and running ones stopped.  Results come
back to the calling process, which alone writes files (workers need no shared disk).

Local processes
    :class:`concurrent.futures.ProcessPoolExecutor` with the ``forkserver`` start method
    where the platform has it (else ``spawn``), never ``fork``: a process forked from one
    that has run numba's parallel kernels inherits a threading layer in an undefined
    state.  The fork server imports the package once (it runs no kernel), so a worker
    starts in about a second instead of importing numpy, numba and the package itself.
    Every worker ignores Ctrl-C (the parent stops it), and runs numba on
    ``cpu_count // workers`` threads, so the workers do not oversubscribe the cores
    (results never depend on the thread count).  With one worker the tasks run in this
    process, in order.
Dask
    ``client.submit(execute, task, pure=False)`` for every task and
    :func:`distributed.as_completed`; a scheduler address opens (and at the end closes)
    its own :class:`distributed.Client`.  The workers need this package installed; give
    them one thread each (numba's own threads do the parallel work inside a task).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator

from .point import Outcome, Task, execute


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def in_process(tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
    """Run the tasks one after the other in this process."""
    for task in tasks:
        yield task, execute(task)


def _start_worker(threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def start_method() -> str:
    """``forkserver`` where available, else ``spawn`` (module docstring)."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def local_processes(tasks: Iterable[Task], workers: int) -> Iterator[tuple[Task, Outcome]]:
    """Run the tasks on ``workers`` local processes."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    tasks = list(tasks)
    workers = max(1, min(workers, len(tasks)))
    context = multiprocessing.get_context(start_method())
    if context.get_start_method() == "forkserver":
        # the server imports the package once; every worker forks from it (faster start)
        context.set_forkserver_preload(["collision.sweep.point"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_start_worker,
                               initargs=(max(1, cpu_count() // workers),))
    futures = {}
    try:
        futures = {pool.submit(execute, task): task for task in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died (killed, out of memory, ...)
                    outcome = Outcome(task.key, "failed",
                                      error=f"{type(exc).__name__}: {exc} (the worker "
                                            "process running this point stopped)")
                yield task, outcome
    finally:
        for future in futures:
            future.cancel()
        processes = list(getattr(pool, "_processes", {}).values())
        still_running = any(not f.done() for f in futures)
        if still_running:
            for process in processes:
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def dask_cluster(tasks: Iterable[Task], client) -> Iterator[tuple[Task, Outcome]]:
    """Run the tasks on a Dask cluster (``client``: a ``distributed.Client`` or the
    address of a scheduler)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError("a Dask client or scheduler address needs dask.distributed: "
                         "pip install 'cascade-collisions[dask]'") from None
    own = isinstance(client, str)
    if own:
        try:
            client = Client(client)
        except OSError as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {client!r}: {exc}") from None
    elif not hasattr(client, "submit"):
        raise ValueError(f"client must be a dask.distributed Client or a scheduler address, "
                         f"got {type(client).__name__}")
    futures = {}
    try:
        futures = {client.submit(execute, task, pure=False): task for task in tasks}
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # e.g. KilledWorker
                outcome = Outcome(task.key, "failed", error=f"{type(exc).__name__}: {exc}")
            yield task, outcome
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)
        if own:
            client.close()
