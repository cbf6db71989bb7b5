"""The ``workspace`` backend: a lease object per task under ``{workspace}/.gokart-leases/``, kept with conditional writes.

The object store is the lock service; no other server is needed. A lease is the object
``{workspace}/.gokart-leases/{ClassName}_{unique_id}.lease``, a small JSON document naming its
holder and its lease time. Every change is a conditional request, so two processes can never both
believe they won:

- acquire: create the object only if absent (S3 ``If-None-Match: *``, GCS ``ifGenerationMatch=0``);
- renew (every third of the lease time, from a background thread): overwrite it only if it still
  has the version we wrote (S3 ``If-Match: <etag>``, GCS ``ifGenerationMatch=<generation>``);
- release: delete it only if it still has our version;
- take over an expired lease: overwrite it only if it still has the expired version, so of two
  processes taking over at once exactly one succeeds.

When is a lease expired? Not by comparing timestamps: the clocks of the machines (and of the store)
may disagree by minutes. A waiting process notes the version it sees and when it first saw it, by
its own monotonic clock; a version unchanged for a whole lease time has not been renewed by its
holder, which renews three times per lease time, so the holder is dead or cut off. The holder
counts the other way: it considers its lease safe only for a lease time after its last successful
write (which the waiter can only have seen later), and checks again before writing an output once
that has run low. Local clock offsets do not enter either side; only clock rates would, and they
differ by parts per million.

A holder that fails to renew (its lease was taken over) logs an error and refuses to dump: its
task fails with ``RunLockLostError`` rather than overwrite the output of the process that took over.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any, Protocol

from gokart.errors import RunLockLostError
from gokart.run_locks.base import RunLock

logger = logging.getLogger('gokart.run_locks')

LEASE_DIRECTORY = '.gokart-leases'
LEASE_SUFFIX = '.lease'

_FIRST_POLL_SECONDS = 0.05
_MAX_POLL_SECONDS = 2.0
_BACKOFF = 1.5


class LeaseStore(Protocol):
    """Conditional object writes of one store; a version is an S3 ETag or a GCS generation, as text."""

    def create(self, path: str, body: bytes) -> str | None:
        """Write ``path`` only if no object is there; its new version, or None when one exists."""

    def replace(self, path: str, body: bytes, version: str) -> str | None:
        """Overwrite ``path`` only if it still has ``version``; its new version, or None when it changed or is gone."""

    def version(self, path: str) -> str | None:
        """The current version of ``path``, or None when there is no object."""

    def read(self, path: str) -> bytes | None:
        """The content of ``path``, or None when there is no object."""

    def delete(self, path: str, version: str) -> None:
        """Delete ``path`` if it still has ``version`` (as far as the store can make deletes conditional)."""


def lease_path(workspace: str, name: str) -> str:
    """Where the lease of the task whose lock is named ``name`` lives; the same path for every process of every machine."""
    return f'{workspace.rstrip("/")}/{LEASE_DIRECTORY}/{name}{LEASE_SUFFIX}'


class WorkspaceLease(RunLock):
    def __init__(self, store: LeaseStore, path: str, name: str, task: Any, lease_seconds: float, best_effort: bool = False) -> None:
        super().__init__(name, task)
        # best_effort: when the store refuses leases (no conditional writes, no permission), warn once and run unlocked.
        self.best_effort = best_effort
        self._unlocked = False
        self.store = store
        self.path = path
        self.lease_seconds = lease_seconds
        self.renew_every = lease_seconds / 3
        self._holder = f'{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}'
        self._version: str | None = None
        self._written_at = 0.0  # monotonic time of our last successful write
        self._renewals = 0
        self._lost: str | None = None
        self._guard = threading.Lock()  # renewals (background thread) and the check before dump (task thread)

    def _body(self) -> bytes:
        # The renewal count changes the content, hence the ETag, at every renewal.
        document = {'holder': self._holder, 'task': self.description, 'lease_seconds': self.lease_seconds, 'renewals': self._renewals}
        return json.dumps(document, sort_keys=True).encode()

    def acquire(self, blocking: bool = True) -> bool:
        try:
            return self._acquire(blocking)
        except Exception as e:
            if not self.best_effort:
                raise
            _warn_unlocked(self.path, e)
            self._unlocked = True
            return True

    def _acquire(self, blocking: bool) -> bool:
        seen: str | None = None  # the version of someone else's lease we are watching
        seen_since = 0.0
        delay = _FIRST_POLL_SECONDS
        announced = False
        vanished = 0
        while True:
            started = time.monotonic()
            version = self.store.create(self.path, self._body())
            if version is not None:
                self._took(version, started)
                return True
            current = self.store.version(self.path)
            if current is None:  # released between the two requests: try to create it again, at once the first time
                vanished += 1
                if vanished > 1:
                    time.sleep(_FIRST_POLL_SECONDS)
                continue
            vanished = 0
            now = time.monotonic()
            if current != seen:
                seen, seen_since = current, now
            elif now - seen_since >= self.lease_seconds:
                started = time.monotonic()
                version = self.store.replace(self.path, self._body(), current)
                if version is not None:
                    logger.warning(
                        f'took over the run lock of {self.description}: its lease {self.path} was not renewed for '
                        f'{self.lease_seconds:g} s (its holder died or lost the store)'
                    )
                    self._took(version, started)
                    return True
                seen = None  # another process took it over first, or it was released: watch afresh
                continue
            if not blocking:
                return False
            if not announced:
                logger.info(f'waiting for the run lock of {self.description}, held by {self.holder() or "another process"} ({self.path})')
                announced = True
            time.sleep(delay)
            delay = min(delay * _BACKOFF, _MAX_POLL_SECONDS, self.lease_seconds / 4)

    def _took(self, version: str, started: float) -> None:
        # The lease is safe for a lease time from when the write was *sent*: a waiter cannot have seen it earlier.
        self._version, self._written_at, self._lost = version, started, None

    def renew(self) -> None:
        if self._unlocked:
            return
        with self._guard:
            self._renew()

    def _renew(self) -> None:
        if self._lost is not None:
            raise RunLockLostError(self._lost)
        assert self._version is not None, 'renew() before acquire()'
        started = time.monotonic()
        self._renewals += 1
        version = self.store.replace(self.path, self._body(), self._version)
        if version is None:
            self._lost = (
                f'the run lock of {self.description} was lost: its lease {self.path} was taken over by {self.holder() or "another process"} '
                f'(not renewed within {self.lease_seconds:g} s: the process was stalled or cut off from the store). '
                'This run does not write its outputs; the process holding the lease runs the task.'
            )
            raise RunLockLostError(self._lost)
        self._version, self._written_at = version, started

    def check_held(self) -> None:
        """Raise unless the lease is surely ours; renews first when over half of the lease time has passed since our last write."""
        if self._unlocked:
            return
        with self._guard:
            if self._lost is not None:
                raise RunLockLostError(self._lost)
            if time.monotonic() - self._written_at > self.lease_seconds / 2:
                self._renew()

    def release(self) -> None:
        if self._unlocked:
            self._unlocked = False
            return
        with self._guard:
            version, self._version = self._version, None
            if version is None or self._lost is not None:
                return  # never taken, or lost: the lease is its new holder's
            try:
                self.store.delete(self.path, version)
            except Exception as e:  # it expires anyway; another process takes it over after the lease time
                logger.warning(f'could not delete the lease {self.path} of {self.description}: {type(e).__name__}: {e}')

    def holder(self) -> str | None:
        try:
            content = self.store.read(self.path)
        except Exception:
            return None
        if content is None:
            return None
        try:
            return str(json.loads(content)['holder'])
        except (ValueError, KeyError, TypeError):
            return None


_warned_workspaces: set[str] = set()


def _warn_unlocked(path: str, error: Exception) -> None:
    workspace = path.rsplit(f'/{LEASE_DIRECTORY}/', 1)[0]
    if workspace in _warned_workspaces:
        return
    _warned_workspaces.add(workspace)
    logger.warning(
        f'gokart cannot keep run leases in {workspace}/{LEASE_DIRECTORY} ({type(error).__name__}: {error}): tasks of this workspace run '
        'without a run lock, so another process building them at the same time may run them too. Give write access there, use a '
        'store with conditional writes, or choose [gokart] run_lock = redis or none.'
    )
