"""luigi's worker configured from the ``[gokart_worker]`` section, used by ``gokart.run`` and the luigi path of build.

gokart 1.12 reads its worker options from ``[gokart_worker]`` (luigi's option names) and ignores
luigi's ``[worker]`` section; this keeps that contract on top of luigi's own worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import luigi.worker
from luigi.worker import TaskProcess

from gokart.core import stop_requests
from gokart.execution import team_cache, termination
from gokart.execution.completion_check import completed_before_run
from gokart.parameter import ExplicitBoolParameter
from gokart.records import main_module
from gokart.run_locks.ownership import run_by_executor
from gokart.run_locks.selection import lock_for, refresh_settings
from gokart.runs import cutoff


class gokart_worker(luigi.worker.worker):  # noqa: N801 - the class name is the config section name
    """Worker options of gokart: luigi's ``[worker]`` options under ``[gokart_worker]``."""

    task_completion_check_at_run = ExplicitBoolParameter(
        default=True, description='Check complete() again right before running a task, and skip it when complete.'
    )
    # Opt-in because it changes gokart.run's exit code: 1.12 exits non-zero on every worker but the one
    # that ran a task, and teams' scripts may read that.
    count_work_of_other_workers = ExplicitBoolParameter(
        default=False,
        description="With a central scheduler, count tasks other workers finished as done for gokart.run's exit code.",
    )


class Worker(luigi.worker.Worker):
    """luigi's worker whose options come from ``[gokart_worker]``, or from ``config`` when one is given."""

    def __init__(
        self,
        scheduler: Any = None,
        worker_id: str | None = None,
        worker_processes: int = 1,
        assistant: bool = False,
        config: gokart_worker | None = None,
        **kwargs: Any,
    ) -> None:
        if config is not None:
            # luigi's own set-up (worker id, wait interval, shutdown handler, ...) follows config too.
            kwargs = {**{name: getattr(config, name) for name, _ in luigi.worker.worker.get_params()}, **kwargs}
        super().__init__(scheduler=scheduler, worker_id=worker_id, worker_processes=worker_processes, assistant=assistant, **kwargs)
        refresh_settings()  # [gokart] run_lock as the config says now, for the tasks this worker runs
        self._config = config if config is not None else gokart_worker(**kwargs)

    def _create_task_process(self, task: Any) -> Any:
        """luigi's task process; a forked one exits when the build process dies or is terminated (see ``termination``)."""
        # Checked here, in the build process, for every task scheduled so far: the forked task processes
        # inherit what was checked, so the two-caches warning comes once, not once per task process.
        main_module.warn_before_build([task, *self._scheduled_tasks.values()])
        process = super()._create_task_process(task)
        check = bool(getattr(self._config, 'task_completion_check_at_run', True))
        process._run_get_new_deps = functools.partial(_run_unless_complete, process._run_get_new_deps, task, check)
        process.run = functools.partial(_run_then_push, process.run, task)
        if process.use_multiprocessing:
            process.run = functools.partial(_run_guarded_task_process, process.run, os.getpid())
        return process

    def __enter__(self) -> Worker:
        _records_as_1_12.enter()
        try:
            super().__enter__()
        except BaseException:
            _records_as_1_12.exit()
            raise
        return self

    def __exit__(self, *exc: Any) -> bool:
        try:
            return bool(super().__exit__(*exc))
        finally:
            _records_as_1_12.exit()

    def run(self) -> bool:
        """luigi's run; on Ctrl-C, what was interrupted is kept on the KeyboardInterrupt (``interruption_of``) before it goes on."""
        try:
            return bool(super().run())
        except termination.BuildTerminated:
            raise  # SIGTERM: the build exits 143, as termination says
        except KeyboardInterrupt as e:
            e.gokart_interruption = self._interruption()  # type: ignore[attr-defined]
            raise

    def _get_work(self) -> Any:
        """luigi's request for the next task, unless a SIGTERM or Ctrl-C was swallowed meanwhile (``core.stop_requests``)."""
        stop_requests.raise_if_requested()
        return super()._get_work()

    def _interruption(self) -> Interruption:
        """The tasks running now (interrupted), done, and not run, from what this worker scheduled and heard back."""
        last_status: dict[str, str] = {}
        for task, status, _ in self._add_task_history:
            last_status[task.task_id] = status
        running = [self._scheduled_tasks[i] for i in self._running_tasks if self._scheduled_tasks.get(i) is not None]
        done = sum(1 for task_id in self._scheduled_tasks if last_status.get(task_id) == DONE and task_id not in self._running_tasks)
        return Interruption(interrupted=[str(t) for t in running], done=done, not_run=len(self._scheduled_tasks) - done)

    def _keep_alive(self, get_work_response: Any) -> bool:
        """With ``keep_alive``, also wait while other workers of a central scheduler run tasks this worker needs.

        luigi stops waiting as soon as nothing it needs is PENDING, so with luigid a worker whose last
        tasks were taken by others leaves before the DAG is built and cannot take them over if their
        worker dies. Waiting until they finish lets it exit with the DAG done, or run them itself once
        luigid declares their worker dead and makes them PENDING again.
        """
        if super()._keep_alive(get_work_response):
            return True
        config = self._config
        waits_for_others = config.keep_alive and not self._assistant and not config.count_uniques and not config.count_last_scheduled
        return bool(waits_for_others and get_work_response.n_pending_tasks == 0 and get_work_response.running_tasks)


def _run_unless_complete(run_get_new_deps: Callable[[], Any], task: Any, check: bool) -> Any:
    """The task's run under its run lock, after the completion check (see ``execution.completion_check``).

    luigi's task process fires START before and SUCCESS after this, as gokart 1.12's worker does for a skipped task.
    """
    lock = lock_for(task)
    with lock.held() if lock is not None else contextlib.nullcontext():
        if completed_before_run(task, enabled=check):
            return None
        with run_by_executor(task, lock):
            if cutoff.cut_off(task) is not None:  # early cutoff (opt-in): an earlier run's outputs placed here, run() not called
                return None
            return run_get_new_deps()


class _WorkerLogger:
    """Stands for luigi.worker's module logger while one of our workers runs: its records go to ``gokart.worker``.

    gokart 1.12 ran a copy of luigi's worker whose records came from ``gokart.worker``, except the
    completion checks and the keep-alive thread's, which it left to luigi (``luigi-interface``).
    Pipelines filter on those names, so each call is sent to the logger 1.12 used, told apart by
    the luigi function that logs.
    """

    def __init__(self, luigi_logger: logging.Logger) -> None:
        self._luigi = luigi_logger
        self._gokart = logging.getLogger('gokart.worker')
        self._luigi_callers = {luigi.worker.check_complete.__code__, luigi.worker.KeepAliveThread.run.__code__}

    def __getattr__(self, name: str) -> Any:
        chosen = self._luigi if sys._getframe(1).f_code in self._luigi_callers else self._gokart
        return getattr(chosen, name)


class _RecordsAs112:
    """Puts ``_WorkerLogger`` in luigi.worker for as long as any of our workers is open (they nest), then puts luigi's back."""

    def __init__(self) -> None:
        self._open = 0
        self._luigi_logger: Any = None

    def enter(self) -> None:
        if self._open == 0:
            self._luigi_logger = luigi.worker.logger
            luigi.worker.logger = _WorkerLogger(self._luigi_logger)  # type: ignore[assignment]
        self._open += 1

    def exit(self) -> None:
        self._open -= 1
        if self._open == 0:
            luigi.worker.logger = self._luigi_logger


_records_as_1_12 = _RecordsAs112()


def _run_then_push(run: Callable[[], None], task: Any) -> None:
    """luigi's task process, then, with ``[gokart] shared_push = true``, the push of what it wrote (after SUCCESS wrote the records)."""
    run()
    team_cache.push_after_run(task)


@dataclasses.dataclass
class Interruption:
    """What a Ctrl-C stopped: the tasks that were running, and how many tasks of the build were done and not run."""

    interrupted: list[str]
    done: int
    not_run: int

    def lines(self) -> list[str]:
        """One line per interrupted task, then the count and how to resume, as ``gokart.run`` prints them."""
        return [f'interrupted {task}' for task in self.interrupted] + [
            f'interrupted: {self.done} tasks done, {self.not_run} not run; run the same command to resume'
        ]


def interruption_of(error: BaseException) -> Interruption | None:
    """The ``Interruption`` a worker kept on the KeyboardInterrupt that stopped it, if any."""
    found = getattr(error, 'gokart_interruption', None)
    return found if isinstance(found, Interruption) else None


# Whether a forked task process stopped by Ctrl-C leaves without its traceback (the terminal sends
# SIGINT to every process of the group, so each worker would print one). Set by gokart.run before it
# forks, unless --log-level=DEBUG asks for everything.
quiet_interrupts = False


def _run_guarded_task_process(run: Callable[[], None], parent_pid: int) -> None:
    termination.guard_worker(parent_pid)
    try:
        termination.run_guarded(run)
    except termination.BuildTerminated:
        raise
    except KeyboardInterrupt:
        if not quiet_interrupts:
            raise
        # The build process reports the interruption; the task's locks and temporaries were released
        # while the exception unwound. SystemExit ends a multiprocessing process without a traceback.
        raise SystemExit(INTERRUPTED_EXIT_STATUS) from None


INTERRUPTED_EXIT_STATUS = 128 + signal.SIGINT


__all__ = ['Interruption', 'Worker', 'gokart_worker', 'TaskProcess', 'interruption_of']


# gokart 1.12 carried its own copy of luigi's worker module, so luigi's worker names were reachable
# from gokart.worker. Our Worker is luigi's, so these are luigi's own objects: the task and worker
# states the scheduler reports, the task process classes and the reply of get_work.
ContextManagedTaskProcess = luigi.worker.ContextManagedTaskProcess
GetWorkResponse = luigi.worker.GetWorkResponse
fork_lock = luigi.worker.fork_lock
PENDING: str = luigi.worker.PENDING
RUNNING: str = luigi.worker.RUNNING
DONE: str = luigi.worker.DONE
FAILED: str = luigi.worker.FAILED
DISABLED: str = luigi.worker.DISABLED
UNKNOWN: str = luigi.worker.UNKNOWN
WORKER_STATE_ACTIVE: str = luigi.worker.WORKER_STATE_ACTIVE
WORKER_STATE_DISABLED: str = luigi.worker.WORKER_STATE_DISABLED
DynamicRequirements = luigi.worker.DynamicRequirements
Event = luigi.worker.Event
RetryPolicy = luigi.worker.RetryPolicy
Scheduler = luigi.worker.Scheduler
Target = luigi.worker.Target
Task = luigi.worker.Task
TaskClassException = luigi.worker.TaskClassException
flatten = luigi.worker.flatten
load_task = luigi.worker.load_task
