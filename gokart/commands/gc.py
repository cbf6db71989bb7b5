"""Find (and delete) what a workspace holds that no task under the given roots can produce or read.

Every output and ``log/`` record of a task carries the task's unique id in its file name
(``{Name}_{uid}.ext``). A file whose name carries an id that no task of the roots' DAGs has is left
over from parameters or code that no longer exist. Files without an id in their name (outputs made
with ``use_unique_id=False``, user files) are never touched: nothing says who owns them.

Besides those, interrupted work leaves garbage of its own: temporary files of writes that never
finished (``*.gokart-tmp``), run-lock leases under ``.gokart-leases/`` whose holder stopped renewing
them, and, on S3, multipart uploads that were never completed (their parts are stored and billed but
no listing of objects shows them). These are collected once they are older than a threshold, so that
work in progress is never disturbed.

The same code serves local and object-store workspaces: each workspace is surveyed with one
recursive listing (paginated, sizes and times included), and deletions go in batches.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from typing import Any

from gokart.conflict_prevention_lock.file_lock import LOCK_DIRECTORY
from gokart.core import dag
from gokart.errors import MissingBucketError, RunLockConfigurationError
from gokart.records import run_records
from gokart.run_locks import settings as run_lock_settings
from gokart.run_locks.lease import LEASE_DIRECTORY
from gokart.storage import filesystem as storage

_ID_IN_NAME = re.compile(r'_([0-9a-f]{32})(?=\.|$)')

# Temporaries and uploads younger than this may belong to a write in progress: kept unless --older-than says otherwise.
IN_FLIGHT_AGE = datetime.timedelta(hours=1)
# A holder rewrites its lease three times per lease time; one unchanged for ten lease times, and at least this
# long, is expired whatever --older-than says (a margin for the store's clock and this machine's to disagree).
LEASE_EXPIRED_AFTER = datetime.timedelta(minutes=10)

UNREACHABLE_OUTPUT, UNREACHABLE_RECORD = 'output', 'log record'
TEMPORARY, STALE_LEASE, INCOMPLETE_UPLOAD = 'temporary', 'stale lease', 'incomplete upload'


@dataclass
class Garbage:
    """One thing to delete: a file (``kind`` says why), or an incomplete multipart upload (``upload_id`` set)."""

    path: str
    size: int
    kind: str = UNREACHABLE_OUTPUT
    modified: datetime.datetime | None = None
    upload_id: str | None = None
    workspace: str = ''  # the workspace directory whose listing found it (the deepest, when one is inside another)


@dataclass
class Survey:
    """What a workspace holds for the roots: the garbage, and how many files belong to the roots' DAGs.

    ``kept == 0`` means no file of the DAGs exists there: the parameters or the directory are likely
    not the ones the workspace was built with, and then every file with an id would look like garbage.
    ``young`` counts garbage left alone because it is younger than the threshold.
    """

    garbage: list[Garbage]
    kept: int
    workspaces: list[str]
    young: int = 0
    named: list[str] = field(default_factory=list)  # the roots' own workspaces: the ones the command line names

    def by_workspace(self) -> dict[str, list[Garbage]]:
        """The garbage grouped by workspace directory, the named workspaces first."""
        groups: dict[str, list[Garbage]] = {}
        for workspace in sorted({g.workspace for g in self.garbage}, key=lambda w: (w not in self.named, w)):
            groups[workspace] = [g for g in self.garbage if g.workspace == workspace]
        return groups

    def in_named_workspaces(self) -> list[Garbage]:
        """What ``--yes`` deletes without ``--all-workspaces``: the garbage of the roots' own workspaces."""
        return [g for g in self.garbage if g.workspace in self.named]

    @property
    def unreachable(self) -> int:
        """How many of ``garbage`` are unreachable outputs and records."""
        return sum(1 for g in self.garbage if g.kind in (UNREACHABLE_OUTPUT, UNREACHABLE_RECORD))


class WorkspaceAccessError(PermissionError):
    """The store refused to list or delete in a workspace; the message names it and the permissions gc needs."""


def find_garbage(roots: list[Any]) -> list[Garbage]:
    """Files under the roots' workspaces whose unique id belongs to no task of the roots' DAGs, with sizes, by path."""
    return survey(roots).garbage


def survey(roots: list[Any], older_than: datetime.timedelta | None = None, now: datetime.datetime | None = None) -> Survey:
    """The garbage of the roots' workspaces and the count of files that the roots' DAGs do reach.

    With ``older_than``, anything changed more recently than that is kept; temporaries and uploads are
    kept for ``IN_FLIGHT_AGE`` when it is not given, and leases for at least ``lease_expired_after()``.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    reachable, workspaces = _reachable_ids(roots)
    named = sorted({r.workspace_directory for r in roots if isinstance(getattr(r, 'workspace_directory', None), str)})
    result = Survey(garbage=[], kept=0, workspaces=sorted(workspaces), named=named)
    found: dict[str, Garbage] = {}
    seen: set[str] = set()
    # The deepest workspace first: a file of a workspace inside another one is counted in the inner one.
    for workspace in sorted(workspaces, key=lambda w: (-len(w), w)):
        if storage.is_local(workspace) and not os.path.isdir(storage.local_path(workspace)):
            continue
        for entry in _guarded(workspace, 'list', _listing, workspace):
            if entry.path in seen:  # a workspace inside another one
                continue
            seen.add(entry.path)
            kind = _kind(workspace, entry.path, reachable)
            if kind is None:
                continue
            if kind == 'kept':
                result.kept += 1
                continue
            if not _old_enough(kind, entry.modified, now, older_than):
                result.young += 1
                continue
            found[entry.path] = Garbage(path=entry.path, size=entry.size, kind=kind, modified=entry.modified, workspace=workspace)
        for upload in _incomplete_uploads(workspace):
            if _old_enough(INCOMPLETE_UPLOAD, upload.modified, now, older_than):
                upload.workspace = workspace
                found.setdefault(f'{upload.path}#{upload.upload_id}', upload)
            else:
                result.young += 1
    result.garbage = sorted(found.values(), key=lambda g: (g.path, g.upload_id or ''))
    return result


def delete_garbage(garbage: list[Garbage]) -> None:
    """Remove what ``survey`` found: files in batches, incomplete uploads by aborting them."""
    files = [item.path for item in garbage if item.upload_id is None]
    if files:
        _guarded(files[0], 'delete', storage.remove_many, files)
    for item in garbage:
        if item.upload_id is not None:
            fs, fs_path = storage.filesystem(item.path)
            _guarded(item.path, 'abort an upload', fs.abort_upload, fs_path, item.upload_id)


def _kind(workspace: str, path: str, reachable: set[str]) -> str | None:
    """Why ``path`` is garbage (one of the kinds above), ``'kept'`` for a file of the DAGs, None for files gc leaves alone."""
    relative = _relative(workspace, path)
    parts = relative.split('/')
    if parts[0] == LOCK_DIRECTORY:
        return None  # local run locks: held through the open file, never garbage
    if parts[0] == LEASE_DIRECTORY:
        return STALE_LEASE
    if any(part.endswith(storage.TEMPORARY_SUFFIX) or part.startswith(storage.TEMPORARY_SUFFIX) for part in parts):
        return TEMPORARY
    match = _ID_IN_NAME.search(parts[-1])
    if match is None:
        return None
    if match.group(1) in reachable:
        return 'kept'
    log_directory = _relative(workspace, run_records.log_directory(workspace))
    return UNREACHABLE_RECORD if relative.startswith(log_directory + '/') else UNREACHABLE_OUTPUT


def _relative(workspace: str, path: str) -> str:
    if storage.is_local(workspace):
        return os.path.relpath(storage.local_path(path), storage.local_path(workspace)).replace(os.sep, '/')
    prefix = workspace.rstrip('/') + '/'
    return path[len(prefix) :] if path.startswith(prefix) else path


def _old_enough(kind: str, modified: datetime.datetime | None, now: datetime.datetime, older_than: datetime.timedelta | None) -> bool:
    threshold = older_than
    if kind in (TEMPORARY, INCOMPLETE_UPLOAD) and threshold is None:
        threshold = IN_FLIGHT_AGE
    if kind == STALE_LEASE:
        threshold = max(threshold or datetime.timedelta(0), lease_expired_after())
    if threshold is None:
        return True
    if modified is None:
        return False  # the store does not say how old it is: keep it rather than guess
    return now - modified >= threshold


def _listing(workspace: str) -> list[storage.FileEntry]:
    """The files of ``workspace``; an empty listing of a bucket that does not exist is an error, not a clean workspace."""
    entries = storage.list_entries(workspace)
    if not entries and not storage.is_local(workspace):
        fs, fs_path = storage.filesystem(workspace)
        bucket = fs_path.strip('/').split('/', 1)[0]
        if bucket and not fs.exists(bucket):
            raise MissingBucketError(
                f'The bucket {bucket!r} of the workspace {workspace} does not exist (or these credentials cannot see it): '
                'check workspace_directory, the endpoint and the credentials.'
            )
    return entries


def lease_expired_after() -> datetime.timedelta:
    """How long a lease object must have stayed unchanged for gc to delete it: ten lease times, at least ``LEASE_EXPIRED_AFTER``."""
    try:  # the lease time of the run locks ([gokart] run_lock_lease_seconds)
        seconds = run_lock_settings.read().lease_seconds
    except RunLockConfigurationError:  # a bad setting is the build's to report; gc assumes the default
        seconds = run_lock_settings.DEFAULT_LEASE_SECONDS
    return max(LEASE_EXPIRED_AFTER, datetime.timedelta(seconds=10 * seconds))


def _incomplete_uploads(workspace: str) -> list[Garbage]:
    """The workspace's incomplete multipart uploads, where the store has them (S3); none elsewhere."""
    if storage.is_local(workspace):
        return []
    fs, fs_path = storage.filesystem(workspace)
    listing = getattr(fs, 'incomplete_uploads', None)
    if listing is None:
        return []
    protocol = storage.protocol_of(workspace)
    return [
        Garbage(
            path=storage.url_of(protocol, upload['name']),
            size=upload['size'],
            kind=INCOMPLETE_UPLOAD,
            modified=upload['initiated'],
            upload_id=upload['upload_id'],
        )
        for upload in _guarded(workspace, 'list the multipart uploads of', listing, fs_path)
    ]


_REFUSALS = frozenset({'AccessDenied', 'AllAccessDisabled', 'Forbidden', '403', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'})


def _guarded(where: str, action: str, call: Any, *args: Any) -> Any:
    """``call(*args)``; a refusal by the store becomes ``WorkspaceAccessError`` naming ``where`` and the permissions to grant."""
    try:
        return call(*args)
    except Exception as error:
        response = getattr(error, 'response', None)
        code = response.get('Error', {}).get('Code') if isinstance(response, dict) else None
        if code not in _REFUSALS:
            raise
        raise WorkspaceAccessError(
            f'gokart gc could not {action} {where}: the store refused ({code or error}). '
            'Use credentials that may list the workspace (s3:ListBucket and s3:ListBucketMultipartUploads on S3, '
            'storage.objects.list on GCS) and, to delete with --yes, delete objects and abort uploads '
            '(s3:DeleteObject, s3:AbortMultipartUpload; storage.objects.delete).'
        ) from error


def _reachable_ids(roots: list[Any]) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    workspaces: set[str] = set()
    # A plain luigi task (no unique id) has no files here, and neither is it followed.
    for task in dag.walk(roots, key=lambda t: t.make_unique_id(), include=lambda t: hasattr(t, 'make_unique_id')):
        ids.add(task.make_unique_id())
        workspace = getattr(task, 'workspace_directory', None)
        if isinstance(workspace, str):
            workspaces.add(workspace)
    return ids, workspaces


__all__ = [
    'INCOMPLETE_UPLOAD',
    'STALE_LEASE',
    'TEMPORARY',
    'UNREACHABLE_OUTPUT',
    'UNREACHABLE_RECORD',
    'Garbage',
    'Survey',
    'WorkspaceAccessError',
    'delete_garbage',
    'find_garbage',
    'survey',
]
