"""With Redis configured, processes on any number of machines run each task once, by default.

gokart 1.12 locked a task's run in Redis only with ``should_lock_run=True``, and then a second process
failed the task with ``TaskLockException`` and retried the whole build later. Without it, every
process that found a task incomplete ran it: three processes building one 14-task DAG ran 9 to 12
tasks twice. Here, when ``redis_host`` and ``redis_port`` are set, ``run()`` waits for the task's run
lock (the key ``should_lock_run`` uses, ``{ClassName}_{unique_id}-run``), then checks completion again
under it, so a process that waited skips the task another process has just finished, as the local
file locks do on one machine. Set ``redis_run_once = False`` on a task class to let processes run it
at once, as 1.12 did.

gokart's executor takes this same lock itself before its completion check (``gokart.run_locks``,
backend ``redis``), and calls ``run()`` marked as checked; this wrapper then steps aside. It waits
for the lock when ``run()`` is called any other way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from gokart.conflict_prevention_lock.redis_lock import held_lock
from gokart.conflict_prevention_lock.task_lock import make_task_lock_params_for_run
from gokart.run_locks.ownership import checked_by_executor

R = TypeVar('R')


def wrap_run_once(task: Any, run: Callable[[], R]) -> Callable[[], R]:
    """``run`` holding the task's Redis run lock, waiting for it when another process holds it."""

    @functools.wraps(run)
    def run_once() -> R:
        if checked_by_executor(task):  # the executor holds the task's run lock already (gokart.run_locks)
            return run()
        params = make_task_lock_params_for_run(task)._replace(raise_task_lock_exception_on_collision=False)
        with held_lock(params, blocking=True):
            return run()

    return run_once


__all__ = ['wrap_run_once']
