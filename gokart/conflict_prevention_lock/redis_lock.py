"""Redis locks that stay alive while held: extended in the background to a fresh TTL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gokart.conflict_prevention_lock.task_lock import TaskLockParams
from gokart.errors import TaskLockException


class RedisClient:
    """One redis connection per (host, port); a missing host or port means localhost:6379."""

    _instances: dict[tuple[str | None, int | None], RedisClient] = {}
    _guard = threading.Lock()

    def __new__(cls, host: str | None, port: int | None) -> RedisClient:
        key = (host, port)
        with cls._guard:
            if key not in cls._instances:
                instance = super().__new__(cls)
                import redis

                instance._redis_client = redis.Redis(host=host or 'localhost', port=int(port or 6379))
                cls._instances[key] = instance
            return cls._instances[key]

    def get_redis_client(self) -> Any:
        return self._redis_client  # type: ignore[attr-defined]


@contextmanager
def held_lock(params: TaskLockParams, blocking: bool) -> Iterator[None]:
    client = RedisClient(params.redis_host, params.redis_port).get_redis_client()
    lock = client.lock(name=params.redis_key, timeout=params.redis_timeout, thread_local=False)
    if not lock.acquire(blocking=blocking):
        raise TaskLockException('Lock already taken by other task.')
    stop = threading.Event()

    def keep_extending() -> None:
        while not stop.wait(params.lock_extend_seconds):
            try:
                lock.extend(params.redis_timeout, replace_ttl=True)
            except Exception:
                return

    extender = threading.Thread(target=keep_extending, name=f'gokart-lock-{params.redis_key}', daemon=True)
    extender.start()
    try:
        yield
    finally:
        stop.set()
        extender.join()
        try:
            lock.release()
        except Exception:
            pass
