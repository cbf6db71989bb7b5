"""The log records of gokart 1.12's worker and luigi's scheduler, emitted by our executor.

gokart 1.12 built through luigi, so a team's log pipeline saw luigi's records: every task announced
to the scheduler, each task running and done (or failed, with its traceback), the scheduler's
housekeeping at DEBUG, and the execution summary. Our executor has no luigi worker, so it emits the
same records itself, under the same logger names and levels and in the same order, at the points of
a build where luigi would have emitted them (tests/compat/test_log_records.py compares the sequence
with gokart 1.12.2's).

Each record is emitted only when its logger is enabled for its level, so a build nobody listens to
formats nothing: a warm build pays a few ``isEnabledFor`` calls.
"""

from __future__ import annotations

import getpass
import logging
import os
import random
import socket
from collections.abc import Iterable
from typing import Any

WORKER = logging.getLogger('gokart.worker')  # gokart 1.12 ran its own copy of luigi's worker, named so
INTERFACE = logging.getLogger('luigi-interface')
SCHEDULER = logging.getLogger('luigi.scheduler')
_DEBUG, _INFO = logging.DEBUG, logging.INFO
_manager = logging.Logger.manager


def quiet() -> bool:
    """Whether every record below ERROR is disabled (``gokart.build``'s default ``log_level``): one attribute read, checked first."""
    return bool(_manager.disable >= logging.WARNING)


class _WorkerName:
    """The worker's name in the records, luigi's shape; made once per build and only when a record needs it."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            try:
                user = getpass.getuser()
            except Exception:  # no user name in this environment (a container without /etc/passwd entry)
                user = str(os.getuid()) if hasattr(os, 'getuid') else 'unknown'
            salt = f'{random.randrange(10**10):09d}'
            self._text = f'Worker(salt={salt}, workers={self._workers}, host={socket.gethostname()}, username={user}, pid={os.getpid()})'
        return self._text


_worker_name = _WorkerName(1)


def started(workers: int) -> None:
    """A top-level build begins: the records of this build name a worker of ``workers`` processes."""
    global _worker_name
    _worker_name = _WorkerName(workers)


def planned(tasks: Iterable[Any], roots: Iterable[Any], workers: int, nested: bool) -> None:
    """The scheduling records of a planned DAG: each completion check, each task announced with its status.

    ``tasks`` are the plan's (task, status, requirements, error) in plan order, roots first.
    """
    if quiet():
        return
    checks = INTERFACE.isEnabledFor(_DEBUG)
    informs = WORKER.isEnabledFor(_INFO)
    if checks or informs or WORKER.isEnabledFor(logging.WARNING):
        checked: set[int] = set()
        if checks:
            for root in roots:
                checked.add(id(root))
                INTERFACE.debug('Checking if %s is complete', root)
        for task, status, requirements, error in tasks:
            if status == 'PENDING' and checks:
                for requirement in requirements:
                    if id(requirement) not in checked:
                        checked.add(id(requirement))
                        INTERFACE.debug('Checking if %s is complete', requirement)
            if status == 'MISSING':
                WORKER.warning(
                    'Data for %s does not exist (yet?). The task is an external data dependency, so it cannot be run from this luigi process.',
                    task,
                )
                status = 'PENDING'
            elif status == 'UNKNOWN':
                WORKER.warning('Will not run %s or any dependencies due to error in complete() or requires(): %r', task, error)
            if informs:
                WORKER.info('Informed scheduler that task   %s   has status   %s', task.task_id, status)
    if not nested:
        INTERFACE.info('Done scheduling tasks')
        WORKER.info('Running Worker with %d processes', workers)


def asking(pending: int) -> None:
    """The worker asks for its next task: ``pending`` tasks are not finished yet."""
    if WORKER.isEnabledFor(_DEBUG):
        WORKER.debug('Asking scheduler for work...')
        SCHEDULER.debug('Starting pruning of task graph')
        SCHEDULER.debug('Done pruning task graph')
        WORKER.debug('Pending tasks: %s', pending)


def running(task: Any) -> None:
    if WORKER.isEnabledFor(_INFO):
        WORKER.info('[pid %s] Worker %s running   %s', os.getpid(), _worker_name, task)


def done(task: Any) -> None:
    if WORKER.isEnabledFor(_INFO):
        WORKER.info('[pid %s] Worker %s done      %s', os.getpid(), _worker_name, task)


def new_requirements(task: Any) -> None:
    if WORKER.isEnabledFor(_INFO):
        WORKER.info('[pid %s] Worker %s new requirements      %s', os.getpid(), _worker_name, task)


def failed(task: Any) -> None:
    """Within the ``except`` of the task's exception: the record carries its traceback."""
    if WORKER.isEnabledFor(logging.ERROR):
        WORKER.exception('[pid %s] Worker %s failed    %s', os.getpid(), _worker_name, task)


def waiting(running_tasks: int) -> None:
    if WORKER.isEnabledFor(_DEBUG):
        WORKER.debug('%d running tasks, waiting for next task to finish', running_tasks)


def informed(task: Any, succeeded: bool) -> None:
    """The main process learnt the outcome of ``task``."""
    if not succeeded and SCHEDULER.isEnabledFor(_DEBUG):
        SCHEDULER.debug('%s failed; gokart.build does not retry a task (luigi retry_count is not used)', task.task_id)
    if WORKER.isEnabledFor(_INFO):
        WORKER.info('Informed scheduler that task   %s   has status   %s', task.task_id, 'DONE' if succeeded else 'FAILED')


def finished(left_pending: int, summary: Any) -> None:
    """The build is over: the worker's last look for work, its stop, and the execution summary (``summary()`` gives its text)."""
    if quiet():
        return
    if WORKER.isEnabledFor(_DEBUG):
        WORKER.debug('Asking scheduler for work...')
        SCHEDULER.debug('Starting pruning of task graph')
        SCHEDULER.debug('Done pruning task graph')
        WORKER.debug('Done')
        WORKER.debug('There are no more tasks to run at this time')
        if left_pending:
            WORKER.debug('There are %s pending tasks possibly being run by other workers', left_pending)
            WORKER.debug('There are %i pending tasks unique to this worker', left_pending)
            WORKER.debug('There are %i pending tasks last scheduled by this worker', left_pending)
    if INTERFACE.isEnabledFor(_INFO):
        INTERFACE.info('Worker %s was stopped. Shutting down Keep-Alive thread', _worker_name)
        INTERFACE.info(summary())


__all__ = ['started', 'planned', 'asking', 'running', 'done', 'new_requirements', 'failed', 'waiting', 'informed', 'finished']
