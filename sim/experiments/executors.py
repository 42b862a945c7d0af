"""Where replications run: serially, in a process pool, or on a Dask cluster.

Every executor takes the same tasks and yields ``(task, outcome)`` pairs as they
finish; the experiment sorts outcomes by key before it writes anything, so the
tables do not depend on the executor or the number of workers.
:func:`run_all` reuses what a :class:`~ordercycle.sim.experiments.store.ResultStore`
already holds and stores each new outcome as it arrives.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ordercycle.sim.experiments.store import Outcome, ResultStore

# A task whose worker process died this many times is recorded as failed.
MAX_WORKER_DEATHS = 2


class Task(Protocol):
    """What executors need of a task: a key naming the work done."""

    key: str


class Executor(Protocol):
    """Runs ``function`` on every task; yields pairs as they finish, in any order."""

    workers: int

    def run(self, function: Callable[[Any], Outcome], tasks: list[Any]) -> Iterator[tuple[Any, Outcome]]:
        """Yield ``(task, function(task))`` for every task."""
        ...

    def close(self) -> None:
        """Release workers."""
        ...


def failure(message: str) -> Outcome:
    """The outcome of a task that did not finish."""
    return {"status": "error", "error": message}


class SerialExecutor:
    """In this process, one task after another (debuggable; the reference for the others)."""

    workers = 1

    def run(self, function: Callable[[Any], Outcome], tasks: list[Any]) -> Iterator[tuple[Any, Outcome]]:
        """Yield each task's outcome in turn."""
        for task in tasks:
            yield task, function(task)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """A pool of worker processes on this machine (fork where the platform has it).

    A worker that dies (killed, out of memory) breaks the pool; the tasks it left
    unfinished are resubmitted to a fresh pool, and a task that was running when
    workers died ``MAX_WORKER_DEATHS`` times is recorded as failed.
    """

    def __init__(self, workers: int):
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")

    def run(self, function: Callable[[Any], Outcome], tasks: list[Any]) -> Iterator[tuple[Any, Outcome]]:
        """Run on the pool, yielding outcomes as they complete."""
        pending = list(tasks)
        deaths: dict[str, int] = {}
        while pending:
            pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)
            futures: dict[Future[Outcome], Any] = {pool.submit(function, task): task for task in pending}
            pending = []
            broken = False
            try:
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=lambda f: futures[f].key):
                        task = futures[future]
                        try:
                            outcome = future.result()
                        except BrokenProcessPool:
                            broken = True
                            deaths[task.key] = deaths.get(task.key, 0) + 1
                            if deaths[task.key] >= MAX_WORKER_DEATHS:
                                yield task, failure("worker process died while running this replication")
                            else:
                                pending.append(task)
                            continue
                        except Exception as error:  # pickling problems and the like
                            outcome = failure(f"{type(error).__name__}: {error}")
                        yield task, outcome
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)

    def close(self) -> None:
        """Pools are closed after every batch."""


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler, or a local cluster started here.

    Dask retries a task whose worker died on another worker (``allowed_failures``);
    when it gives up, the task is recorded as failed.
    """

    def __init__(self, workers: int, scheduler: str | None = None):
        from dask.distributed import Client, LocalCluster

        self.workers = workers
        self._cluster = None
        if scheduler:
            self._client = Client(scheduler)
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)

    def run(self, function: Callable[[Any], Outcome], tasks: list[Any]) -> Iterator[tuple[Any, Outcome]]:
        """Submit every task (keyed by its content key) and yield outcomes as they complete."""
        from dask.distributed import as_completed

        futures = {self._client.submit(function, task, key=f"ordercycle-{task.key}", pure=False): task
                   for task in tasks}
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # KilledWorker and friends
                outcome = failure(f"{type(error).__name__}: {error}")
            future.release()
            yield task, outcome

    def close(self) -> None:
        """Close the client, and the local cluster if this executor started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str, workers: int, scheduler: str | None = None) -> Executor:
    """``serial``, ``process`` or ``dask`` (``scheduler`` implies dask)."""
    if scheduler or kind == "dask":
        return DaskExecutor(workers, scheduler)
    if kind == "serial" or workers <= 1:
        return SerialExecutor()
    return ProcessExecutor(workers)


def guarded(function: Callable[[Any], Outcome]) -> Callable[[Any], Outcome]:
    """``function`` with any exception turned into a failed outcome carrying its traceback."""
    return _Guarded(function)


class _Guarded:
    # A class rather than a closure, so that process pools and Dask can pickle it.
    def __init__(self, function: Callable[[Any], Outcome]):
        self.function = function

    def __call__(self, task: Any) -> Outcome:
        try:
            return self.function(task)
        except Exception as error:
            return {"status": "error", "error": f"{type(error).__name__}: {error}",
                    "traceback": traceback.format_exc()}


def run_all(executor: Executor, function: Callable[[Any], Outcome], tasks: Iterable[Any],
            store: ResultStore | None, on_done: Callable[[Any, Outcome], None] | None = None
            ) -> dict[str, Outcome]:
    """Outcomes of every task by key: stored ones reused, the rest run and stored as they finish."""
    outcomes: dict[str, Outcome] = {}
    missing, seen = [], set()
    for task in tasks:
        if task.key in seen:
            continue
        seen.add(task.key)
        cached = store.get(task.key) if store else None
        if cached is not None:
            outcomes[task.key] = cached
            if on_done:
                on_done(task, cached)
        else:
            missing.append(task)
    for task, outcome in executor.run(guarded(function), missing):
        if store:
            store.put(task.key, outcome)
        outcomes[task.key] = outcome
        if on_done:
            on_done(task, outcome)
    return outcomes
