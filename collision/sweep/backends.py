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
    (results never depend on the thread count).  Every worker also exits as soon as the
    process that started the pool dies, even by ``SIGKILL``: it holds the read end of a
    pipe whose only write end that process keeps, and a thread of the worker waits for
    the end of file (the fork server then exits, as it does when its parent dies, and
    multiprocessing's resource tracker once every worker is gone).  Tasks are submitted
    a few per worker at a time as the earlier ones finish, so a sweep of a million
    points never holds a million pending tasks.  With one worker the tasks run in this
    process, in order.
Shared local processes
    :func:`local_pool` keeps one such pool of processes for several sweeps (a study's
    grids: :class:`collision.studies.sweeps.SweepRuns`), so the processes start, and load
    numba's cached kernels, once instead of for every sweep.  Its processes start on the
    first task and stop when the ``with`` block ends; a sweep stopped early (Ctrl-C, an
    error) stops the pool's running tasks by ending its processes, and the next sweep
    starts new ones.
Dask
    ``client.submit(execute, task, pure=False)`` for every task and
    :func:`distributed.as_completed`; a scheduler address opens (and at the end closes)
    its own :class:`distributed.Client`.  The workers need this package installed; give
    them one thread each (numba's own threads do the parallel work inside a task).
"""

from __future__ import annotations

import itertools
import multiprocessing
import numbers
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

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


#: Tasks in flight per local worker (submitted, not yet finished).
IN_FLIGHT = 2
#: Tasks in flight on a Dask cluster.
DASK_IN_FLIGHT = 1000


def _exit_with_parent(lifeline) -> None:
    """Wait (in a daemon thread) for the end of file of ``lifeline``, the read end of a
    pipe whose write end only the parent holds, and end this process at once when the
    parent has died (``os._exit``: no clean-up that could wait on the dead parent)."""
    def watch():
        try:
            while True:
                lifeline.recv_bytes()  # the parent never writes: returns only on EOF
        except (EOFError, OSError):
            os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_worker(threads: int, lifeline=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if lifeline is not None:
        _exit_with_parent(lifeline)
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def start_method() -> str:
    """``forkserver`` where available, else ``spawn`` (module docstring)."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def check_workers(workers) -> None:
    """Refuse a number of local processes that is not an integer >= 1 or None."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(
            workers, numbers.Integral) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1 or None (every core), got "
                         f"{workers!r}")


class LocalPool:
    """Local worker processes shared by several sweeps (module docstring).

    Create it with :func:`local_pool`; pass it to :func:`collision.sweep.run` as ``pool``.

    Attributes
    ----------
    workers : int
        Number of worker processes (1: the tasks run in this process, in order).
    started : int
        How many times processes were started: 1 for a pool used by any number of sweeps,
        plus one after every sweep stopped early or whose worker died.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.started = 0
        self._executor = None
        self._lifeline = None
        self._closed = False

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._executor else "idle"
        return f"LocalPool(workers={self.workers}, {state})"

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
        """Run the tasks on the pool's processes, yielding ``(task, outcome)`` as they
        finish (a backend: module docstring)."""
        if self._closed:
            raise ValueError("this local pool is closed (its with block has ended)")
        if self.workers == 1:
            yield from in_process(tasks)
            return
        todo = iter(tasks)
        waiting = list(itertools.islice(todo, IN_FLIGHT * self.workers))
        if not waiting:
            return
        pending: dict = {}  # future -> task
        broken = False
        try:
            pool = self._start()
            while True:
                waiting += itertools.islice(todo, IN_FLIGHT * self.workers - len(pending)
                                            - len(waiting))
                if broken and waiting:  # a worker died and broke the pool: a new one
                    self._stop(terminate=True)
                    pool, broken = self._start(), False
                for task in waiting:
                    pending[pool.submit(execute, task)] = task
                waiting = []
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the worker died (killed, out of memory, ...)
                        broken = broken or isinstance(exc, BrokenProcessPool)
                        outcome = Outcome(task.key, "failed",
                                          error=f"{type(exc).__name__}: {exc} (the worker "
                                                "process running this point stopped)")
                    yield task, outcome
        finally:
            for future in pending:
                future.cancel()
            if broken or any(not f.done() for f in pending):
                self._stop(terminate=True)   # stopped early, or a dead worker broke the pool

    def close(self) -> None:
        """Stop the processes (they are idle between sweeps); the pool cannot run again."""
        self._closed = True
        self._stop(terminate=False)

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context(start_method())
            if context.get_start_method() == "forkserver":
                # the server imports the package once; every worker forks from it
                context.set_forkserver_preload(["collision.sweep.point"])
            # the workers' lifeline: they exit when this process (the write end) dies
            self._lifeline = context.Pipe(duplex=False)  # (read end, write end)
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_start_worker,
                initargs=(max(1, cpu_count() // self.workers), self._lifeline[0]))
            self.started += 1
        return self._executor

    def _stop(self, terminate: bool) -> None:
        pool, self._executor = self._executor, None
        if pool is None:
            return
        if terminate:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        for end in self._lifeline or ():
            end.close()
        self._lifeline = None


def local_pool(workers: int | None = None) -> LocalPool:
    """Local worker processes for several sweeps, started once.

    ::

        with sweep.local_pool(2) as pool:
            a = sweep.run(spec_a, "out/a", pool=pool)
            b = sweep.run(spec_b, "out/b", pool=pool)   # the same two processes

    Parameters
    ----------
    workers : int, optional
        Number of processes (default: every core this process may use); 1 runs the tasks
        in this process.  As with ``run(..., workers=N)``, a script needs the
        ``if __name__ == "__main__":`` guard.

    Returns
    -------
    LocalPool
        A context manager; its processes start with the first task and stop at the end
        of the ``with`` block (also on Ctrl-C or an error).

    Raises
    ------
    ValueError
        For ``workers`` not an integer >= 1 or None.
    """
    check_workers(workers)
    return LocalPool(workers or cpu_count())


def local_processes(tasks: Iterable[Task], workers: int) -> Iterator[tuple[Task, Outcome]]:
    """Run the tasks on ``workers`` local processes started for them alone (fewer if
    there are fewer tasks)."""
    todo = iter(tasks)
    first = list(itertools.islice(todo, workers))
    if not first:
        return
    with LocalPool(len(first)) as pool:
        yield from pool.run(itertools.chain(first, todo))


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
    futures = {}  # future -> task, in flight
    try:
        todo = iter(tasks)
        futures = {client.submit(execute, task, pure=False): task
                   for task in itertools.islice(todo, DASK_IN_FLIGHT)}
        running = as_completed(list(futures))
        for future in running:
            task = futures.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # e.g. KilledWorker
                outcome = Outcome(task.key, "failed", error=f"{type(exc).__name__}: {exc}")
            yield task, outcome
            for task in itertools.islice(todo, DASK_IN_FLIGHT - len(futures)):
                new = client.submit(execute, task, pure=False)
                futures[new] = task
                running.add(new)
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)
        if own:
            client.close()
