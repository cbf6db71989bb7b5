"""The ``file`` backend: a task's byte-range lock in ``{workspace}/.gokart-locks`` (see ``file_lock``).

The kernel drops the lock when its process dies, so it never needs renewing, and it always waits.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from gokart.conflict_prevention_lock.file_lock import named_lock
from gokart.run_locks.base import RunLock


class FileRunLock(RunLock):
    def __init__(self, directory: str, name: str, task: Any) -> None:
        super().__init__(name, task)
        self.directory = directory
        self._held: AbstractContextManager[None] | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Wait for the lock: file locks always block (the kernel queues the waiters)."""
        held = named_lock(self.directory, self.name)
        held.__enter__()
        self._held = held
        return True

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(None, None, None)

    def holder(self) -> str | None:
        return 'a process on this machine' if self._held is not None else None
