"""Redis locks that stay alive while held: extended in the background to a fresh TTL.

Names and behaviour follow gokart 1.12 (``RedisClient``, ``set_task_lock``, ``set_lock_scheduler``),
with a plain thread instead of an APScheduler job to keep the lock alive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gokart.errors import TaskLockException

if TYPE_CHECKING:
    from gokart.conflict_prevention_lock.task_lock import TaskLockParams


class RedisClient:
    """One redis connection per (host, port); a missing host or port means localhost:6379."""

    _instances: dict[tuple[str | None, int | None], RedisClient] = {}
    _guard = threading.Lock()
    _redis_client: Any

    def __new__(cls, host: str | None, port: int | None) -> RedisClient:
        key = (host, port)
        with cls._guard:
            if key not in cls._instances:
                instance = super().__new__(cls)
                instance._redis_client = redis_module().Redis(host=host or 'localhost', port=int(port or 6379))
                cls._instances[key] = instance
            return cls._instances[key]

    def get_redis_client(self) -> Any:
        return self._redis_client


def redis_module() -> Any:
    """The ``redis`` module, or what a test patched in as ``gokart.conflict_prevention_lock.task_lock.redis``.

    gokart 1.12 imported redis in ``task_lock``, so users' tests patch that path (``...task_lock.redis.Redis``
    or the whole ``...task_lock.redis``); redis itself is only imported once a lock is used.
    """
    from gokart.conflict_prevention_lock import task_lock

    patched = vars(task_lock).get('redis')
    if patched is not None:
        return patched
    import redis

    return redis


class LockExtender:
    """Keeps a held lock alive: every ``lock_extend_seconds`` its TTL is reset to ``redis_timeout``."""

    def __init__(self, task_lock: Any, task_lock_params: TaskLockParams) -> None:
        self._lock = task_lock
        self._params = task_lock_params
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_extending, name=f'gokart-lock-{task_lock_params.redis_key}', daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop extending; the lock then expires after its TTL unless released."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _keep_extending(self) -> None:
        while not self._stop.wait(self._params.lock_extend_seconds):
            try:
                self._lock.extend(self._params.redis_timeout, replace_ttl=True)
            except Exception:
                return  # the lock was lost (expired or released): nothing left to extend


def set_task_lock(task_lock_params: TaskLockParams, blocking: bool | None = None) -> Any:
    """Acquire the Redis lock of a cache entry and return it.

    By default it blocks, except for locks that raise on collision (``should_lock_run``), which give up
    at once with ``TaskLockException``.
    """
    if blocking is None:
        blocking = not task_lock_params.raise_task_lock_exception_on_collision
    client = RedisClient(task_lock_params.redis_host, task_lock_params.redis_port).get_redis_client()
    lock = client.lock(name=task_lock_params.redis_key, timeout=task_lock_params.redis_timeout, thread_local=False)
    if not lock.acquire(blocking=blocking):
        raise TaskLockException('Lock already taken by other task.')
    return lock


def set_lock_scheduler(task_lock: Any, task_lock_params: TaskLockParams) -> LockExtender:
    """Start keeping ``task_lock`` alive; call ``shutdown()`` on the result before releasing the lock."""
    return LockExtender(task_lock, task_lock_params)


@contextmanager
def held_lock(params: TaskLockParams, blocking: bool) -> Iterator[None]:
    """Hold the lock of ``params`` for the block, kept alive in the background; released on any exit."""
    lock = set_task_lock(params, blocking=blocking)
    extender = set_lock_scheduler(lock, params)
    try:
        yield
    finally:
        extender.shutdown()
        try:
            lock.release()
        except Exception:
            pass  # expired meanwhile: someone else may hold it now, and that is theirs to release


__all__ = ['RedisClient', 'LockExtender', 'set_task_lock', 'set_lock_scheduler', 'held_lock']
