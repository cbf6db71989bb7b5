"""The run-lock interface every backend implements, and holding a lock for a block with renewals.

A lock that can expire (Redis TTLs, workspace leases) says how often it must be renewed
(``renew_every``); ``held()`` then renews it from a daemon thread while the block runs, so a task
running for hours keeps its lock, and a holder that dies stops renewing and loses it after its
lease time.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gokart.core.error_messages import describe_task
from gokart.errors import RunLockLostError

logger = logging.getLogger('gokart.run_locks')


class RunLock(ABC):
    """The run lock of one task; ``name`` is ``{ClassName}_{unique_id}``, the same in every process of every machine."""

    renew_every: float | None = None
    """Seconds between renewals while held; None for locks that never expire (file locks)."""

    def __init__(self, name: str, task: Any = None) -> None:
        self.name = name
        self.task = task

    @property
    def description(self) -> str:
        """The task, for messages (worked out only when a message needs it)."""
        if self.task is None:
            return self.name
        return describe_task(self.task)

    @abstractmethod
    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; with ``blocking``, wait (polling with backoff where needed) until it is taken. True when taken."""

    def renew(self) -> None:
        """Extend a held lock's lease; raises ``RunLockLostError`` when another holder has it now."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up; a lock lost meanwhile is left to its new holder."""

    def holder(self) -> str | None:
        """Who holds the lock now, as far as the backend can tell (None when free or unknown)."""
        return None

    def check_held(self) -> None:
        """Raise ``RunLockLostError`` when this process no longer holds the lock (called before outputs are written)."""

    @contextmanager
    def held(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock for the block, renewed in the background when it can expire; the block gets True.

        With ``blocking``, wait for it. Without, the block gets False and nothing is held when another
        process has the lock (backends that always wait, like file locks, still wait).
        """
        if not self.acquire(blocking=blocking):
            yield False
            return
        renewer = _Renewer(self) if self.renew_every else None
        try:
            yield True
        finally:
            if renewer is not None:
                renewer.stop()
            self.release()


class _Renewer:
    """Renews a held lock every ``renew_every`` seconds until stopped or the lock is lost."""

    def __init__(self, lock: RunLock) -> None:
        self._lock = lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, name=f'gokart-run-lock-{lock.name}', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _renew_until_stopped(self) -> None:
        interval = self._lock.renew_every or 1.0
        while not self._stop.wait(interval):
            try:
                self._lock.renew()
            except RunLockLostError as e:
                logger.error(f'{e}')
                return
            except Exception as e:  # the store did not answer: try again at the next interval, the lease may still hold
                logger.warning(f'could not renew the run lock of {self._lock.description}: {type(e).__name__}: {e}')
