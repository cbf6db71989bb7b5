"""The ``redis`` backend: the task's Redis run lock, the key ``should_lock_run`` uses (``{ClassName}_{unique_id}-run``).

Redis expires the lock ``redis_timeout`` seconds after its last renewal, so a holder that dies frees
it; the holder renews it every ``lock_extend_seconds``.
"""

from __future__ import annotations

import logging
from typing import Any

from gokart.conflict_prevention_lock.redis_lock import RedisClient, set_task_lock
from gokart.conflict_prevention_lock.task_lock import TaskLockParams, make_task_lock_params_for_run
from gokart.errors import RunLockLostError, TaskLockException
from gokart.run_locks.base import RunLock

logger = logging.getLogger('gokart.run_locks')


class RedisRunLock(RunLock):
    def __init__(self, params: TaskLockParams, name: str, task: Any) -> None:
        super().__init__(name, task)
        self.params = params
        self.renew_every = float(params.lock_extend_seconds)
        self._lock: Any = None

    @classmethod
    def of(cls, task: Any, name: str) -> RedisRunLock:
        params = make_task_lock_params_for_run(task)._replace(raise_task_lock_exception_on_collision=False)
        return cls(params, name, task)

    def acquire(self, blocking: bool = True) -> bool:
        try:
            self._lock = set_task_lock(self.params, blocking=False)
            return True
        except TaskLockException:
            if not blocking:
                return False
        logger.info(f'waiting for the run lock of {self.description}: Redis key {self.params.redis_key} is held by another process')
        self._lock = set_task_lock(self.params, blocking=True)
        return True

    def renew(self) -> None:
        try:
            self._lock.extend(self.params.redis_timeout, replace_ttl=True)
        except Exception as e:
            if type(e).__name__ in ('LockNotOwnedError', 'LockError'):
                raise RunLockLostError(
                    f'the Redis run lock of {self.description} expired and may be held by another process now: {e}'
                ) from e
            raise

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            lock.release()
        except Exception:
            pass  # expired meanwhile: another process may hold it now, and that is theirs to release

    def holder(self) -> str | None:
        client = RedisClient(self.params.redis_host, self.params.redis_port).get_redis_client()
        token = client.get(self.params.redis_key)
        return None if token is None else f'the Redis lock token {token!r}'
