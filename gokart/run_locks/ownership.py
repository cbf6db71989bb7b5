"""Which task the executor is running right now in this thread, after checking its completion itself.

The executor owns the run-time completion check (see ``gokart.execution.completion_check``): it
checks under the task's run lock and then calls ``run()``. ``TaskOnKart.run`` still checks by itself
when called any other way (gokart 1.12 behaviour for a direct ``task.run()``), so it asks here
whether the executor already did. ``dump()`` asks here for the run lock held for the task, to make
sure it was not lost before writing. A context variable, so threads of a pool each see their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_running: ContextVar[tuple[Any, Any] | None] = ContextVar('gokart_run_owned_by_executor', default=None)


@contextmanager
def run_by_executor(task: Any, lock: Any) -> Iterator[None]:
    """Within the block, ``task.run()`` is called by the executor, which checked completion and holds ``lock`` (or None)."""
    token = _running.set((task, lock))
    try:
        yield
    finally:
        _running.reset(token)


def checked_by_executor(task: Any) -> bool:
    """True while the executor runs ``task`` after its own completion check."""
    running = _running.get()
    return running is not None and running[0] is task


def check_run_lock_held(task: Any) -> None:
    """Raise ``RunLockLostError`` if the run lock the executor holds for ``task`` was lost (another process took it over)."""
    running = _running.get()
    if running is not None and running[0] is task and running[1] is not None:
        running[1].check_held()
