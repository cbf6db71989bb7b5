"""Run a planned DAG in this process, or on a pool of forked processes or threads.

Each task runs as luigi's worker runs it: START, ``run()`` (following dynamic requirements that a
generator ``run()`` yields), PROCESSING_TIME, SUCCESS, or FAILURE with the exception, so user event
handlers behave the same. A failed task stops only the tasks that depend on it; independent
branches go on, and every exception is reported.

A task whose run lock another process holds (a concurrent build of an overlapping DAG) is put
aside, not waited for: the worker runs other ready tasks first, and waits for a put-aside task
only when it has nothing else to do. By then the other process has usually finished it, and this
one skips it after one completion check.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import time
import traceback
import types
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import luigi
from luigi.task import getpaths

from gokart.conflict_prevention_lock.file_lock import check_lock_directories
from gokart.core import dag, run_state, stop_requests
from gokart.core.error_messages import describe_task, workspace_error
from gokart.errors import GokartError
from gokart.execution import team_cache, termination, worker_records
from gokart.execution.completion_check import complete_if_checked, completed_before_run
from gokart.execution.plan import Plan, TaskState, make_plan
from gokart.execution.scheduling import BuildOutcome, ExecutionListener, ReadySet
from gokart.records import lineage, main_module
from gokart.records.run_records import resolve_seed_methods
from gokart.run_locks.base import RunLock
from gokart.run_locks.ownership import run_by_executor
from gokart.run_locks.selection import lock_for, refresh_settings
from gokart.runs import cutoff
from gokart.storage import signing
from gokart.utils import flatten

logger = logging.getLogger('gokart.build')

HELD_ELSEWHERE: Final = 'held elsewhere'
"""What running a task gives when another process holds its run lock and this one did not wait."""


@dataclass(frozen=True)
class CutOff:
    """What running a task gives when early cutoff placed an earlier run's outputs instead (``source``: ``Family_<id>`` of that run)."""

    source: str


TaskResult = BaseException | None | CutOff | Literal['held elsewhere']
"""The outcome of running one task: None for success (or skipped as complete), its exception, ``CutOff`` or ``HELD_ELSEWHERE``."""


def execute(roots: list[Any], workers: int = 1, parallel: str = 'process', listener: ExecutionListener | None = None) -> BuildOutcome:
    """Plan the DAG under ``roots`` and run what is not complete, on ``workers`` processes or threads."""
    global _nesting
    nested = _nesting > 0  # the dynamic requirements of a running task: part of the build that runs it
    if not nested:
        worker_records.started(workers)
    _nesting += 1
    # dag.planning() spans the run too: the journal and input() take the requirements the plan collected.
    with fewer_garbage_collections(), signing.key_pinned(), dag.planning():
        try:
            outcome = _plan_and_run(roots, workers, parallel, listener, nested)
        finally:
            _nesting -= 1
            lineage.flush()  # the runs of this build readable on S3/GCS now, not when the process ends
    if not nested:
        worker_records.finished(len(outcome.not_run) + len(outcome.failed), outcome.summary)
    return outcome


_nesting = 0  # how many builds this process is inside (a build of dynamic requirements is inside its task's)


@contextmanager
def fewer_garbage_collections() -> Iterator[None]:
    """Keep Python's cyclic GC from rescanning the whole DAG over and over during a build.

    A big DAG is hundreds of thousands of long-lived objects; each full collection walks all of them,
    which made builds of deep chains quadratic. Planning allocates little but those long-lived tasks,
    so it runs without automatic collection (see ``plan_roots``); the planned tasks are then frozen
    (excluded from collection), and collections while tasks run are triggered less often. All of
    this is undone when the build ends.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _plan_and_run(roots: list[Any], workers: int, parallel: str, listener: ExecutionListener | None, nested: bool = False) -> BuildOutcome:
    lineage.prepare(type(root) for root in roots)  # git answers for the journal while the DAG is planned
    plan = plan_roots(roots)
    stop_requests.raise_if_requested()  # planning records a failing requires() and goes on, a SIGTERM's exception too
    gc.freeze()
    if listener is not None:
        listener.planned(plan)
    _announce(plan, workers, nested)
    outcome = BuildOutcome(plan=plan)
    pending = [i for i, node in enumerate(plan.tasks) if node.state is TaskState.PENDING]
    if not pending:
        return outcome
    # The two-caches check of the tasks of __main__, once for the build and before any fork, so no worker repeats it.
    main_module.warn_before_build([plan.tasks[i].task for i in pending])
    if workers <= 1 or len(pending) == 1:
        runner: _Runner = _SerialRunner()
    elif parallel == 'thread':
        runner = _OnDemandPoolRunner(lambda: _PoolRunner(ThreadPoolExecutor(max_workers=workers), workers, in_process=True), workers)
    else:

        def start_processes() -> _PoolRunner:
            pending_tasks = [plan.tasks[i].task for i in pending]
            _import_before_fork(pending_tasks)
            check_lock_directories(pending_tasks)  # warned once here, not once per worker
            return _PoolRunner(_fork_pool(plan, workers), workers, in_process=False)

        runner = _OnDemandPoolRunner(start_processes, workers)
    try:
        _schedule(plan, outcome, runner, listener)
        runner.close()
    except BaseException:  # SIGTERM (BuildTerminated), Ctrl-C or a bug: stop the running tasks too
        runner.close(interrupt=True)
        raise
    return outcome


_SCHEDULER_STATUS = {
    TaskState.PENDING: 'PENDING',
    TaskState.COMPLETE: 'DONE',
    TaskState.MISSING_EXTERNAL: 'MISSING',
    TaskState.BROKEN: 'UNKNOWN',
}


def _announce(plan: Plan, workers: int, nested: bool) -> None:
    """luigi's scheduling records of the plan (``worker_records.planned``); the tuples are made only if someone listens."""
    if worker_records.quiet():
        return
    nodes = plan.tasks
    worker_records.planned(
        ((n.task, _SCHEDULER_STATUS[n.state], [nodes[r].task for r in n.requirements], n.error) for n in nodes),
        [nodes[i].task for i in plan.roots],
        workers,
        nested,
    )


def plan_roots(roots: list[Any]) -> Plan:
    """The plan of the DAG below ``roots``, made with the cyclic GC off; every executor plans through it."""
    # Collections during planning find next to no garbage but walk every task made so far: with
    # 100,000 tasks they cost about a seventh of the plan.
    refresh_settings()  # [gokart] run_lock as the config says now, read once for the whole build
    # With a shared workspace, the shared inputs the plan loads are fetched before anything runs.
    return team_cache.planned_with_inputs_fetched(lambda: _plan_without_collections(roots))


def _plan_without_collections(roots: list[Any]) -> Plan:
    collecting = gc.isenabled()
    gc.disable()
    try:
        return make_plan(roots)
    finally:
        if collecting:
            gc.enable()


def run_task(task: Any, wait_for_lock: bool = True) -> bool:
    """Run one task as luigi's worker does, firing its events; re-raise its exception after FAILURE.

    The task runs under its run lock (``gokart.run_locks``: file locks on a local workspace, leases
    on S3/GCS, Redis when configured), so processes building overlapping DAGs run it once: a process
    that waited for the lock finds the task complete and skips it, without events. The completion
    check before ``run()`` is made here, under the lock (see ``completion_check``). Without
    ``wait_for_lock``, a lock held by another process returns False at once, the task not run.
    """
    try:
        lock = lock_for(task)
        if lock is None:
            _run_task_with_events(task, None, checked=False)
            return True
        with lock.held(blocking=wait_for_lock) as taken:
            if not taken:
                return False
            complete = complete_if_checked(task)
            if complete:
                return True
            _run_task_with_events(task, lock, checked=complete is False)
            return True
    except OSError as e:  # e.g. the lock directory cannot be created: say which task and workspace
        clearer = workspace_error(task, e)
        if clearer is e:
            raise
        raise clearer from e


def _run_task_with_events(task: Any, lock: RunLock | None, checked: bool) -> None:
    worker_records.running(task)
    try:
        task.trigger_event(luigi.Event.START, task)
        started = time.time()
        # Skipped as gokart 1.12's worker skips it: its events fire, run() is not called.
        if checked or not completed_before_run(task):
            with run_by_executor(task, lock):
                # Early cutoff (opt-in): an earlier run's outputs placed here instead of calling run(); its events fire as for a run.
                if cutoff.cut_off(task) is None:
                    result = task.run()
                    if isinstance(result, types.GeneratorType):
                        _follow_dynamic_requirements(task, result)
        task.trigger_event(luigi.Event.PROCESSING_TIME, task, time.time() - started)
        worker_records.done(task)
        task.trigger_event(luigi.Event.SUCCESS, task)
        stop_requests.raise_if_requested()  # a plain luigi.Task's dispatch swallowed it (TaskOnKart's raises it itself)
        team_cache.push_after_run(task)  # with [gokart] shared_push = true: outputs and records, once they are all written
    except Exception as e:
        worker_records.failed(task)  # with the traceback
        task.trigger_event(luigi.Event.FAILURE, task, e)
        raise


def _follow_dynamic_requirements(task: Any, generator: types.GeneratorType[Any, Any, Any]) -> None:
    """Build what a generator ``run()`` yields, then send it the outputs, until it returns."""
    to_send = None
    while True:
        try:
            requirements = generator.send(to_send)
        except StopIteration:
            return
        worker_records.new_requirements(task)
        outcome = execute(flatten(requirements), workers=1)
        if not outcome.ok or outcome.not_run or outcome.missing_external:
            failures = outcome.exceptions_by_task()
            detail = '; '.join(f'{describe_task(t)}: {type(e).__name__}: {e}' for t, e in failures.items()) or 'a requirement could not run'
            raise GokartError(f'dynamic requirements yielded by {describe_task(task)} failed: {detail}')
        to_send = getpaths(requirements)


class _Runner(Protocol):
    capacity: int

    def batch_size(self, ready: int) -> int: ...

    def submit(self, batch: list[int], tasks: list[Any], put_aside_before: bool) -> Future[Any]: ...

    def close(self, interrupt: bool = False) -> None: ...


def _schedule(plan: Plan, outcome: BuildOutcome, runner: _Runner, listener: ExecutionListener | None) -> None:
    nodes = plan.tasks
    tasks = ReadySet(plan, outcome, listener)
    ready = tasks.ready
    put_aside: deque[int] = deque()  # ready, but another process held the run lock when last tried
    running: dict[Future[Any], list[int]] = {}

    while ready or running or put_aside:
        stop_requests.raise_if_requested()
        while (ready or put_aside) and len(running) < runner.capacity:
            # A task put aside is waited for only when nothing else is ready, one per free worker.
            retrying = not ready
            batch = [put_aside.popleft()] if retrying else [ready.pop() for _ in range(runner.batch_size(len(ready)))]
            worker_records.asking(tasks.pending - len(tasks.finished))
            tasks.start(batch)
            running[runner.submit(batch, [nodes[i].task for i in batch], retrying)] = batch
        if running:
            worker_records.waiting(len(running))
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                batch = running.pop(future)
                for index, result in zip(batch, _results_of(future, [nodes[i].task for i in batch]), strict=True):
                    if isinstance(result, CutOff):
                        outcome.cut_off[index] = result.source
                        result = None
                    if result == HELD_ELSEWHERE:
                        put_aside.append(index)
                        tasks.put_aside(index)
                    else:
                        worker_records.informed(nodes[index].task, result is None)
                        tasks.finish(index, result)  # type: ignore[arg-type]
    tasks.settle()


def _results_of(future: Future[Any], tasks: list[Any]) -> list[TaskResult]:
    """The outcome of each task of a batch: None for success, its exception, or ``HELD_ELSEWHERE``."""
    try:
        results = future.result()
    except BrokenProcessPool as e:
        return [GokartError(f'the worker process running {describe_task(t)} died (killed, out of memory or crashed): {e}') for t in tasks]
    except BaseException as e:
        return [e for _ in tasks]
    return [r.exception() if isinstance(r, _ChildFailure) else r for r in results]


def _run_batch(tasks: list[Any], put_aside_before: bool) -> list[TaskResult]:
    results: list[TaskResult] = []
    for task in tasks:
        try:
            results.append(_run_one(task, put_aside_before))
        except Exception as e:
            results.append(e)
    return results


def _run_one(task: Any, put_aside_before: bool) -> None | CutOff | Literal['held elsewhere']:
    result = _run_one_task(task, put_aside_before)
    noted = run_state.peek(task) if result is None else None
    source = noted.cutoff_from if noted is not None else None
    return CutOff(f'{source.get("family")}_{source.get("id")}') if isinstance(source, dict) else result


def _run_one_task(task: Any, put_aside_before: bool) -> None | Literal['held elsewhere']:
    """Run ``task`` unless another process holds its run lock; a task put aside before is waited for.

    A task put aside was most likely finished meanwhile by the process that held it: one completion
    check without the lock (a request on S3/GCS) spares the three of taking, checking and freeing it.
    """
    if put_aside_before:
        if complete_if_checked(task):
            return None
        run_task(task)
        return None
    return None if run_task(task, wait_for_lock=False) else HELD_ELSEWHERE


class _SerialRunner:
    capacity = 1

    def batch_size(self, ready: int) -> int:
        return 1

    def submit(self, batch: list[int], tasks: list[Any], put_aside_before: bool) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(_run_batch(tasks, put_aside_before))
        return future

    def close(self, interrupt: bool = False) -> None:
        pass


class _OnDemandPoolRunner:
    """Runs tasks here, one at a time, until two are ready at once; only then starts the pool of workers.

    A build whose ready set never holds two tasks (a chain, a small DAG built mostly already) gains
    nothing from workers, and forking them, sending each task down a pipe and its outcome back
    costs more than its tasks: with ``workers=N`` it then costs what a build with one worker costs.
    """

    def __init__(self, start: Callable[[], _PoolRunner], workers: int) -> None:
        self._start = start
        self._pool: _PoolRunner | None = None
        self._here = _SerialRunner()
        self.capacity = workers

    def batch_size(self, ready: int) -> int:
        # Called with the number of ready tasks before each submission: the moment to decide.
        if self._pool is None and ready >= 2:
            self._pool = self._start()
        return self._pool.batch_size(ready) if self._pool is not None else 1

    def submit(self, batch: list[int], tasks: list[Any], put_aside_before: bool) -> Future[Any]:
        if self._pool is None:
            return self._here.submit(batch, tasks, put_aside_before)
        return self._pool.submit(batch, tasks, put_aside_before)

    def close(self, interrupt: bool = False) -> None:
        if self._pool is not None:
            self._pool.close(interrupt)


class _PoolRunner:
    def __init__(self, pool: Any, workers: int, in_process: bool) -> None:
        self._pool = pool
        self.capacity = workers
        self._in_process = in_process

    def batch_size(self, ready: int) -> int:
        # Each message to a forked worker costs a pipe round trip; when many tasks are ready at once
        # (a wide DAG), hand them out in small batches, keeping enough batches to balance the workers.
        if self._in_process:
            return 1
        return max(1, min(32, ready // (4 * self.capacity)))

    def submit(self, batch: list[int], tasks: list[Any], put_aside_before: bool) -> Future[Any]:
        if self._in_process:
            return self._pool.submit(_run_batch, tasks, put_aside_before)  # type: ignore[no-any-return]
        return self._pool.submit(_run_batch_in_child, batch, put_aside_before)  # type: ignore[no-any-return]

    def close(self, interrupt: bool = False) -> None:
        """Wait for the running tasks; with ``interrupt``, stop the worker processes first (threads cannot be stopped)."""
        if interrupt and not self._in_process:
            _stop_workers(list((self._pool._processes or {}).values()))
            self._pool.shutdown(wait=False, cancel_futures=True)
            return
        self._pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(processes: list[Any]) -> None:
    """SIGTERM every worker (each interrupts its task, cleans up and exits), then wait for them; SIGKILL what is left after 1 s.

    A build told to stop ends within 2 s: a worker that has not unwound by then is stuck (in a long
    call that holds the interpreter), and its outputs stay whole or absent when it is killed.
    """
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + _WORKER_STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


_WORKER_STOP_SECONDS = 1.0


# Forked workers find their task by index in the plan they inherited at fork time, so tasks never
# need to be picklable; only the index goes down the pipe and only the outcome comes back.
_forked_plan: Plan | None = None


def _fork_pool(plan: Plan, workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    global _forked_plan
    _forked_plan = plan
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context('fork'), initializer=_start_worker, initargs=(os.getpid(),)
    )


def _import_before_fork(tasks: list[Any]) -> None:
    """Import the seeding modules (numpy, ...) once here rather than once in every forked worker."""
    methods = {method for task in tasks for method in getattr(task, 'fix_random_seed_methods', ())}
    resolve_seed_methods(sorted(methods))


def _start_worker(parent_pid: int) -> None:
    # A worker exits when the build process dies or is terminated (see termination.guard_worker).
    termination.guard_worker(parent_pid)
    # luigi reseeds each forked child; the seed is fixed again at START anyway.
    import random

    random.seed(os.getpid() ^ time.time_ns())


@dataclass
class _ChildFailure:
    payload: bytes | None
    description: str

    def exception(self) -> BaseException:
        return restore_exception(self.payload, self.description)


def portable_exception(error: BaseException) -> tuple[bytes | None, str]:
    """``error`` made to cross a process boundary: its pickle where it pickles, and always a description with the traceback."""
    try:
        payload: bytes | None = pickle.dumps(error)
    except Exception:
        payload = None
    return payload, f'{type(error).__name__}: {error}\n{traceback.format_exc()}'


def restore_exception(payload: bytes | None, description: str) -> BaseException:
    """The exception ``portable_exception`` carried over, or a GokartError with its description when it does not unpickle here."""
    if payload is not None:
        try:
            return pickle.loads(payload)  # type: ignore[no-any-return]
        except Exception:
            pass
    return GokartError(description)


def _run_batch_in_child(indices: list[int], put_aside_before: bool) -> list[_ChildFailure | CutOff | str | None]:
    return termination.run_guarded(_run_indices, indices, put_aside_before)


def _run_indices(indices: list[int], put_aside_before: bool) -> list[_ChildFailure | CutOff | str | None]:
    assert _forked_plan is not None
    results: list[_ChildFailure | CutOff | str | None] = []
    for index in indices:
        try:
            results.append(_run_one(_forked_plan.tasks[index].task, put_aside_before))
        except Exception as e:
            results.append(_ChildFailure(*portable_exception(e)))
    return results
