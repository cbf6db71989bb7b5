"""Wrap dump/load/remove/run of one cache entry in its lock.

Without Redis (``should_task_lock`` false) the wrappers call straight through; local workspaces are
protected by file locks at the execution layer instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from gokart.conflict_prevention_lock.redis_lock import held_lock
from gokart.conflict_prevention_lock.task_lock import TaskLockParams, set_lock_scheduler, set_task_lock

__all__ = [
    'set_lock_scheduler',
    'set_task_lock',
    'wrap_dump_with_lock',
    'wrap_load_with_lock',
    'wrap_remove_with_lock',
    'wrap_run_with_lock',
]

R = TypeVar('R')


def wrap_dump_with_lock(
    func: Callable[..., R], task_lock_params: TaskLockParams, exist_check: Callable[[], bool]
) -> Callable[..., R | None]:
    """Dump under the lock, skipping the dump when another worker already wrote the output."""
    if not task_lock_params.should_task_lock:
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R | None:
        with held_lock(task_lock_params, blocking=True):
            if exist_check():
                return None
            return func(*args, **kwargs)

    return wrapper


def wrap_load_with_lock(func: Callable[..., R], task_lock_params: TaskLockParams) -> Callable[..., R]:
    """Wait out any writer holding the lock, then load without holding it (readers never queue behind each other)."""
    if not task_lock_params.should_task_lock:
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        with held_lock(task_lock_params, blocking=True):
            pass
        return func(*args, **kwargs)

    return wrapper


def wrap_remove_with_lock(func: Callable[..., R], task_lock_params: TaskLockParams) -> Callable[..., R]:
    if not task_lock_params.should_task_lock:
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        with held_lock(task_lock_params, blocking=True):
            return func(*args, **kwargs)

    return wrapper


def wrap_run_with_lock(run_func: Callable[..., R], task_lock_params: TaskLockParams) -> Callable[..., R]:
    """Hold the run lock for the whole run; a collision raises ``TaskLockException`` at once."""
    if not task_lock_params.should_task_lock:
        return run_func

    @functools.wraps(run_func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        with held_lock(task_lock_params, blocking=False):
            return run_func(*args, **kwargs)

    return wrapper
