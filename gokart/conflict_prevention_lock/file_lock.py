"""File locks that keep processes on one machine from running the same task at once, without Redis.

Several processes building overlapping DAGs on one local workspace would otherwise each see an
upstream task as incomplete and run it. The executor runs each task inside ``task_run_lock(task)``:
a blocking ``filelock.FileLock`` at ``{workspace}/.gokart-locks/{ClassName}_{unique_id}.lock``.
The first process runs the task; the others wait, then find its output complete and skip it.
Outputs are written atomically (see ``gokart.storage``), so readers never see a partial file even
without a lock. Remote workspaces are shared between machines, where a file lock cannot help: use
Redis locks (``redis_host``/``redis_port``, ``should_lock_run``) there.
"""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gokart import storage

LOCK_DIRECTORY = '.gokart-locks'


def task_lock_path(task: Any) -> str | None:
    """Where the run lock of ``task`` lives, or None when file locks do not apply to it."""
    workspace = getattr(task, 'workspace_directory', None)
    make_unique_id = getattr(task, 'make_unique_id', None)
    if not isinstance(workspace, str) or not storage.is_local(workspace) or not callable(make_unique_id):
        return None
    return os.path.join(storage.local_path(workspace), LOCK_DIRECTORY, f'{type(task).__name__}_{make_unique_id()}.lock')


@contextmanager
def task_run_lock(task: Any) -> Iterator[bool]:
    """Hold the file lock of ``task`` for the block; yields True when it must still run.

    It yields False when, once the lock was taken, the task turned out complete (another process ran
    it meanwhile) and ``complete_check_at_run`` allows skipping it. Tasks on remote workspaces and
    plain luigi tasks are not locked and always yield True.
    """
    path = task_lock_path(task)
    if path is None:
        yield True
        return
    with _exclusive_file_lock(path):
        yield not _completed_meanwhile(task)


@contextmanager
def _exclusive_file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing), blocking until it is free.

    On POSIX this is a bare ``flock`` (about 20 us); the filelock package costs about 180 us a lock
    in its bookkeeping, which at one lock per task is most of the overhead of a trivial task. The
    kernel drops the lock when the process dies, so a killed build never leaves a task locked.
    """
    if fcntl is None:  # pragma: no cover - Windows
        from filelock import FileLock

        storage.ensure_directory(os.path.dirname(path))
        with FileLock(path):
            yield
        return
    fd = storage.create_in_directory(path, lambda: os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o666))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _completed_meanwhile(task: Any) -> bool:
    if not getattr(task, 'complete_check_at_run', True):
        return False
    try:
        return bool(task.complete())
    except Exception:
        # Let run() report the problem with its usual events.
        return False
