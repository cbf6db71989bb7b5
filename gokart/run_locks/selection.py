"""Which run lock a task gets: ``[gokart] run_lock = auto|file|redis|workspace|none``.

``auto`` (the default) picks, per task:

1. ``redis`` when the task has ``redis_host`` and ``redis_port`` (and neither opted out with
   ``redis_run_once = False`` nor asked for gokart 1.12's failing ``should_lock_run``, which keeps
   its own Redis lock inside ``run()``);
2. ``file`` for a local workspace;
3. ``workspace`` leases on ``s3://`` and ``gs://``, falling back to no lock (with one warning per
   workspace) when the store refuses them;
4. no lock otherwise (``memory://`` lives in one process and needs none), with one warning per protocol.

An explicit choice is strict: a backend that cannot lock a task's workspace raises
``RunLockConfigurationError`` naming the task and the option.
"""

from __future__ import annotations

import logging
from typing import Any

from gokart.conflict_prevention_lock.file_lock import lock_directory, lock_name
from gokart.core.error_messages import describe_task
from gokart.errors import RunLockConfigurationError
from gokart.run_locks import settings
from gokart.run_locks.base import RunLock
from gokart.run_locks.file import FileRunLock
from gokart.run_locks.lease import WorkspaceLease, lease_path
from gokart.run_locks.redis import RedisRunLock
from gokart.storage import backends
from gokart.storage import filesystem as storage

logger = logging.getLogger('gokart.run_locks')


def refresh_settings() -> None:
    """Read ``run_lock`` and ``run_lock_lease_seconds`` again; every build calls this when it starts."""
    settings.refresh()


def lock_for(task: Any) -> RunLock | None:
    """The run lock the executor takes for ``task``, or None when it runs unlocked."""
    workspace = getattr(task, 'workspace_directory', None)
    if not isinstance(workspace, str) or not callable(getattr(task, 'make_unique_id', None)):
        return None  # a plain luigi task: nothing identifies its run across processes
    current = settings.current()
    mode = current.mode
    best_effort = mode == 'auto'
    if best_effort:
        mode = _automatic_mode(task, workspace)
    if mode == 'file':
        directory = lock_directory(task)
        if directory is None:
            if storage.is_local(workspace):
                return None  # LocalTarget is replaced by a test's mock: outputs are not on this disk
            raise _mismatch(task, 'file', f'file locks only lock local workspaces, and its workspace is {workspace}')
        return FileRunLock(directory, lock_name(task), task)
    if mode == 'workspace':
        return _workspace_lease(task, workspace, current.lease_seconds, best_effort)
    if mode == 'redis':
        if getattr(task, 'redis_host', None) is None or getattr(task, 'redis_port', None) is None:
            raise _mismatch(task, 'redis', 'it has no redis_host and redis_port')
        return RedisRunLock.of(task, lock_name(task))
    return None


def _automatic_mode(task: Any, workspace: str) -> str:
    if (
        getattr(task, 'redis_host', None) is not None
        and getattr(task, 'redis_port', None) is not None
        and getattr(task, 'redis_run_once', False)
        and not getattr(task, 'should_lock_run', False)
    ):
        return 'redis'
    if storage.is_local(workspace):
        return 'file'
    protocol = storage.protocol_of(workspace)
    backend = backends.backend_of(protocol)
    if backend.lease_store is not None:
        return 'workspace'
    if not backend.in_process and protocol not in _warned_protocols:
        _warned_protocols.add(protocol)
        logger.warning(
            f'tasks on {protocol}:// workspaces run without a run lock: gokart has no lock for this store, so processes building '
            'the same tasks at once may each run them. Set redis_host/redis_port for Redis locks, or [gokart] run_lock = none to silence this.'
        )
    return 'none'


_warned_protocols: set[str] = set()


def _workspace_lease(task: Any, workspace: str, lease_seconds: float, best_effort: bool) -> RunLock:
    protocol = storage.protocol_of(workspace)
    if backends.backend_of(protocol).lease_store is None:
        stores = ' or '.join(f'{name}://' for name in backends.lease_protocols())
        raise _mismatch(task, 'workspace', f'workspace leases need {stores}, and its workspace is {workspace}')
    name = lock_name(task)
    path = lease_path(workspace, name)
    return WorkspaceLease(_lease_store(protocol), path, name, task, lease_seconds, best_effort=best_effort)


def _lease_store(protocol: str) -> Any:
    fs = storage.filesystem_for_protocol(protocol)  # first: a missing client library is named before the store's module loads it
    # The store's module loads boto3 or gcsfs: imported only once a lease is wanted on such a workspace.
    make_store = backends.resolve(backends.backend_of(protocol).lease_store)  # type: ignore[arg-type]
    return make_store(fs)


def _mismatch(task: Any, mode: str, why: str) -> RunLockConfigurationError:
    return RunLockConfigurationError(
        f'{describe_task(task)}: [gokart] run_lock = {mode} cannot lock this task: {why}. '
        'Choose another backend (auto picks one per workspace) or none.'
    )
