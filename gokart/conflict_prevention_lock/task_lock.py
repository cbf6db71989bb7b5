"""Redis lock parameters and keys for one cache entry (gokart 1.12 compatible names)."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from gokart.errors import LockConfigurationError, TaskLockException


class TaskLockParams(NamedTuple):
    redis_host: str | None
    redis_port: int | None
    redis_timeout: int | None
    redis_key: str
    should_task_lock: bool
    raise_task_lock_exception_on_collision: bool
    lock_extend_seconds: int


def make_task_lock_key(file_path: str, unique_id: str | None) -> str:
    """``{basename without extension}_{unique_id}``: the main output and the log files of a task share it."""
    basename_without_ext = os.path.splitext(os.path.basename(file_path))[0]
    return f'{basename_without_ext}_{unique_id}'


def make_task_lock_params(
    file_path: str,
    unique_id: str | None,
    redis_host: str | None = None,
    redis_port: int | None = None,
    redis_timeout: int | None = None,
    raise_task_lock_exception_on_collision: bool = False,
    lock_extend_seconds: int = 10,
) -> TaskLockParams:
    should_task_lock = redis_host is not None and redis_port is not None
    # Checked with Redis locking off too: gokart 1.12 failed such a task whatever its lock settings.
    if redis_timeout is not None and redis_timeout <= lock_extend_seconds:
        unused = '' if should_task_lock else ' (checked even without redis_host and redis_port, as gokart 1.12 does)'
        raise LockConfigurationError(
            f'redis_timeout ({redis_timeout}) must be greater than lock_extend_seconds ({lock_extend_seconds}): the lock would expire '
            f'before it is extended{unused}. Set redis_timeout to more than {lock_extend_seconds} seconds.'
        )
    return TaskLockParams(
        redis_host=redis_host,
        redis_port=redis_port,
        redis_timeout=redis_timeout,
        redis_key=make_task_lock_key(file_path, unique_id),
        should_task_lock=should_task_lock,
        raise_task_lock_exception_on_collision=raise_task_lock_exception_on_collision,
        lock_extend_seconds=lock_extend_seconds,
    )


def make_task_lock_params_for_run(task_self: Any, lock_extend_seconds: int = 10) -> TaskLockParams:
    """Lock params for ``should_lock_run``: key ``{ClassName}_{unique_id}-run``, collisions raise."""
    task_path_name = os.path.join(task_self.__module__.replace('.', '/'), f'{type(task_self).__name__}')
    unique_id = task_self.make_unique_id() + '-run'
    return make_task_lock_params(
        file_path=task_path_name,
        unique_id=unique_id,
        redis_host=task_self.redis_host,
        redis_port=task_self.redis_port,
        redis_timeout=task_self.redis_timeout,
        raise_task_lock_exception_on_collision=True,
        lock_extend_seconds=lock_extend_seconds,
    )


def __getattr__(name: str) -> Any:
    # gokart 1.12 imported redis here and users' tests patch 'gokart.conflict_prevention_lock.task_lock.redis.Redis':
    # the name resolves on first access, so that `import gokart` does not import redis.
    if name == 'redis':
        import redis

        return redis
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


# gokart 1.12 exported these from this module; they live with the rest of the Redis code.
from gokart.conflict_prevention_lock.redis_lock import RedisClient, set_lock_scheduler, set_task_lock  # noqa: E402

__all__ = [
    'TaskLockParams',
    'TaskLockException',
    'RedisClient',
    'make_task_lock_key',
    'make_task_lock_params',
    'make_task_lock_params_for_run',
    'set_task_lock',
    'set_lock_scheduler',
]
