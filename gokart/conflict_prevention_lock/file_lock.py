"""File locks that keep processes on one machine from running the same task at once, without Redis.

Several processes building overlapping DAGs on one local workspace would otherwise each see an
upstream task as incomplete and run it. The executor runs each task of a local workspace inside
this lock (``gokart.run_locks.file``); the first process runs the task, the others wait, then find
its output complete and skip it. Outputs are written atomically (see ``gokart.storage.filesystem``), so readers
never see a partial file even without a lock. Remote workspaces are shared between machines, where a
file lock cannot help: they get workspace leases or Redis locks (see ``gokart.run_locks``).

On Linux every task of a workspace is locked in one file, ``{workspace}/.gokart-locks/tasks.lock``:
a task holds a one-byte range of it, at an offset derived from its class and unique id, with an
open-file-description lock (``F_OFD_SETLKW``). That costs two system calls a task and creates no
file, where a lock file per task would add a file creation to every run and leave one file per
task behind. Elsewhere each task has its own lock file, ``{ClassName}_{unique_id}.lock``, held
with the ``filelock`` package. Either way the kernel drops a lock when its process dies, so a
killed build never leaves a task locked.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gokart.storage import filesystem as storage
from gokart.storage.local_target_seam import replacement as replaced_local_target

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_DIRECTORY = '.gokart-locks'
SHARED_LOCK_FILE = 'tasks.lock'

# The byte-range locks need Linux's open-file-description locks, which (unlike POSIX record locks)
# exclude threads of one process from each other and survive other descriptors of the file being
# closed. The struct below is ``struct flock`` of 64-bit Linux.
_USE_SHARED_FILE = sys.platform.startswith('linux') and hasattr(fcntl, 'F_OFD_SETLKW') and sys.maxsize > 2**32
_FLOCK_STRUCT = struct.Struct('hhqqi4x')


def lock_name(task: Any) -> str:
    """``{ClassName}_{unique_id}``: the name of a task's run lock in every backend."""
    return f'{type(task).__name__}_{task.make_unique_id()}'


@contextmanager
def named_lock(directory: str, name: str) -> Iterator[None]:
    """The lock of ``name`` in ``directory``; a lock of this process only when the directory cannot hold lock files.

    A read-only workspace (a cache mounted read-only, a directory of another user) must still build
    what it can: with one warning per directory, tasks then exclude each other within this process only.
    """
    if directory not in _unwritable_directories:
        lock = _byte_range_lock(directory, name) if _USE_SHARED_FILE else _lock_file(os.path.join(directory, f'{name}.lock'))
        try:
            lock.__enter__()
        except OSError as e:
            _mark_unwritable(directory, e)
        else:
            try:
                yield
            finally:
                lock.__exit__(None, None, None)
            return
    with _process_lock(name):
        yield


def check_lock_directories(tasks: list[Any]) -> None:
    """Find the workspaces of ``tasks`` whose lock directory is unwritable, warning once for each.

    Called before workers are forked: they inherit the verdict, so a read-only workspace is warned
    about once per build rather than once per worker.
    """
    workspaces = {getattr(task, 'workspace_directory', None) for task in tasks}
    for workspace in workspaces:
        if not isinstance(workspace, str) or not storage.is_local(workspace):
            continue
        directory = os.path.join(storage.local_path(workspace), LOCK_DIRECTORY)
        if directory in _unwritable_directories:
            continue
        lock_file = os.path.join(directory, SHARED_LOCK_FILE)
        try:
            # Through create_in_directory: a remembered directory that is gone (removed, or a relative
            # workspace after a chdir) is made again rather than taken for an unwritable one.
            storage.create_in_directory(lock_file, functools.partial(_touch, lock_file))
        except OSError as e:
            _mark_unwritable(directory, e)


def _touch(path: str) -> None:
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o666))


def _mark_unwritable(directory: str, error: OSError) -> None:
    _unwritable_directories.add(directory)
    warnings.warn(
        f'gokart cannot create its lock files in {directory} ({error.strerror or error}): tasks of this workspace are locked '
        'within this process only, so another process building them at the same time may run them too. '
        'Make the directory writable to share locks between processes.',
        UnwritableLockDirectoryWarning,
        stacklevel=3,
    )


class UnwritableLockDirectoryWarning(UserWarning):
    """The ``.gokart-locks`` directory of a workspace cannot be written: run locks hold within one process only."""


_unwritable_directories: set[str] = set()
_process_locks: dict[str, threading.RLock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(name: str) -> threading.RLock:
    with _process_locks_guard:
        lock = _process_locks.get(name)
        if lock is None:
            lock = _process_locks[name] = threading.RLock()
        return lock


def lock_directory(task: Any) -> str | None:
    """``{workspace}/.gokart-locks`` of a task on a local workspace; None for other tasks and while LocalTarget is replaced."""
    workspace = getattr(task, 'workspace_directory', None)
    if not isinstance(workspace, str) or not storage.is_local(workspace) or not callable(getattr(task, 'make_unique_id', None)):
        return None
    if replaced_local_target() is not None:  # outputs live wherever a test put them (luigi.mock.MockTarget), not on this disk
        return None
    return os.path.join(storage.local_path(workspace), LOCK_DIRECTORY)


@contextmanager
def _byte_range_lock(directory: str, name: str) -> Iterator[None]:
    # 60 bits of md5: two tasks sharing a byte would only wait for each other, and practically never do.
    offset = int(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:15], 16)
    path = os.path.join(directory, SHARED_LOCK_FILE)
    while True:
        lock_file = _shared_lock_file(path)
        fd = lock_file.fd
        fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _FLOCK_STRUCT.pack(fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0))
        if _still_names(lock_file, path):
            break
        # The lock file was deleted or replaced (the workspace was cleaned): a lock on the old file
        # excludes nobody, so open the file now at the path and lock again.
        _forget_shared_lock_file(path)
    try:
        yield
    finally:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _FLOCK_STRUCT.pack(fcntl.F_UNLCK, os.SEEK_SET, offset, 1, 0))


class _LockFile:
    """An open descriptor of the shared lock file, closed when no longer referenced."""

    def __init__(self, path: str) -> None:
        self.fd = storage.create_in_directory(path, lambda: os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o666))
        opened = os.fstat(self.fd)
        self.identity = (opened.st_dev, opened.st_ino)

    def __del__(self) -> None:
        fd = getattr(self, 'fd', None)  # None when opening the file failed
        if fd is None:
            return
        try:
            os.close(fd)
        except OSError:
            pass


class _OpenLockFiles(threading.local):
    """Per thread, since each thread needs its own open file description to exclude the others, and per process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.by_path: dict[str, _LockFile] = {}


_open_lock_files = _OpenLockFiles()


def _shared_lock_file(path: str) -> _LockFile:
    if _open_lock_files.pid != os.getpid():  # a forked child: the inherited descriptors share the parent's locks
        _open_lock_files.pid, _open_lock_files.by_path = os.getpid(), {}
    lock_file = _open_lock_files.by_path.get(path)
    if lock_file is None:
        lock_file = _open_lock_files.by_path[path] = _LockFile(path)
    return lock_file


def _forget_shared_lock_file(path: str) -> None:
    _open_lock_files.by_path.pop(path, None)


def _still_names(lock_file: _LockFile, path: str) -> bool:
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    return (current.st_dev, current.st_ino) == lock_file.identity


@contextmanager
def _lock_file(path: str) -> Iterator[None]:
    from filelock import FileLock

    storage.ensure_directory(os.path.dirname(path))
    with FileLock(path):
        yield
