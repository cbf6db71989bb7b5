"""The team cache: outputs found in a second, shared workspace, fetched from it, and pushed to it.

``[gokart] shared_workspace`` (or ``GOKART_SHARED_WORKSPACE``) names a workspace every developer
reads and CI writes (``s3://team/cache``, ``gs://...``, a shared disk). It is an ordinary gokart
workspace: the same relative paths and file names as a task's own ``workspace_directory``, so
gokart 1.12 pointed at it reads it as its cache.

One mechanism: an output exists when it is in the task's own workspace *or* at the same relative
path in the shared one (``exists_in_shared``). The planner asks the shared side with the same one
listing per directory as the own side (``existence``), and that answer is kept for the build. An
output found only in the shared workspace is copied into the own workspace when it is first loaded
(``fetch``): streamed into a temporary file beside its final name, checked against its signature
file (``gokart.storage.shared_signatures``), renamed into place; under a file lock, so that several
processes loading it fetch it once. What is refused (tampered, unsigned when trusted keys are set)
counts as absent for the rest of the process, and the task runs locally.

A shared workspace that does not answer (down, no permission, no bucket) is warned about once and
then left alone for the build: tasks run locally.

Pushing (``push_file``) is a conditional create: a push never replaces what is there, and reports
an existing output with different content instead of overwriting it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from gokart.storage import filesystem as storage
from gokart.storage import shared_signatures
from gokart.storage.backends import backend_of, resolve

WORKSPACE_VARIABLE = 'GOKART_SHARED_WORKSPACE'
_CHUNK_BYTES = 1024 * 1024


class SharedWorkspaceWarning(UserWarning):
    """The shared workspace (team cache) could not be used for a file or at all: the task runs locally."""


@dataclass(frozen=True)
class Settings:
    """The team-cache settings of the ``[gokart]`` section (environment variables win)."""

    workspace: str | None = None
    push: bool = False
    signing_key: str | None = None  # path of CI's Ed25519 private key (PEM)
    trusted_keys: tuple[str, ...] = ()  # paths of Ed25519 public keys (PEM)


def read_settings() -> Settings:
    """Read the settings now: ``shared_workspace``, ``shared_push``, ``shared_signing_key``, ``shared_trusted_keys`` (``gokart.core.settings``)."""
    from gokart.core.settings import value

    workspace = value('shared_workspace')
    trusted = value('shared_trusted_keys') or ''
    return Settings(
        workspace=workspace.strip() or None if workspace else None,
        push=bool(value('shared_push')),
        signing_key=value('shared_signing_key'),
        trusted_keys=tuple(path.strip() for path in trusted.split(',') if path.strip()),
    )


class _State:
    """What one build knows of the shared workspace: the settings, the listing's answers, the refused files."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.answers: dict[str, bool] = {}  # shared path -> exists, from the listings of this build
        self.refused: dict[str, str] = {}  # shared path -> why it is not used
        self.unreachable: BaseException | None = None
        self.counterparts: dict[tuple[str, str | None], str | None] = {}  # (own path, workspace) -> shared path
        self.shared_itself: dict[str, bool] = {}  # own workspace -> whether it is the shared workspace
        self.changes = 0  # files refused or gone since listed, or the workspace lost: a plan made before is out of date
        self.trusted: list[Any] | None = None
        self.signer: Any = None
        self.lock = threading.Lock()


_state: _State | None = None


def settings() -> Settings:
    """The settings in force (read on first use, again at ``refresh``)."""
    return _current().settings


def refresh() -> Settings:
    """Read the settings again and forget what was learnt about the shared workspace; called when a build starts."""
    global _state
    _state = _State(read_settings())
    return _state.settings


def enabled() -> bool:
    return _current().settings.workspace is not None


def _current() -> _State:
    global _state
    state = _state
    if state is None:
        state = _state = _State(read_settings())
    return state


# ----- where an output lives in the shared workspace ------------------------------------------
def relative_path(path: str, workspace: str | None) -> str | None:
    """``path`` relative to ``workspace``, '/'-separated; None when it lies outside it."""
    if workspace is None:
        return None
    prefix = os.path.join(workspace, '')
    if not path.startswith(prefix):
        return None
    relative = posixpath.normpath(path[len(prefix) :].replace(os.sep, '/'))
    if relative.startswith('../') or relative in ('.', '..') or relative.startswith('/'):
        return None
    return relative


def shared_path(path: str, workspace: str | None) -> str | None:
    """The shared workspace's counterpart of the own output ``path`` (None: no shared workspace, or not below ``workspace``)."""
    state = _current()
    key = (path, workspace)
    try:
        return state.counterparts[key]  # a plan asks for each output several times
    except KeyError:
        pass
    shared = state.settings.workspace
    found = None
    if shared is not None and workspace is not None and not _is_shared_itself(state, shared, workspace):
        relative = relative_path(path, workspace)
        found = None if relative is None else join(shared, relative)
    state.counterparts[key] = found
    return found


def _is_shared_itself(state: _State, shared: str, workspace: str) -> bool:
    known = state.shared_itself.get(workspace)
    if known is None:
        known = state.shared_itself[workspace] = same_place(shared, workspace)
    return known


def join(workspace: str, relative: str) -> str:
    if storage.is_local(workspace):
        return os.path.join(storage.local_path(workspace), *relative.split('/'))
    return workspace.rstrip('/') + '/' + relative


def same_place(a: str, b: str) -> bool:
    """Whether two workspace locations name the same place (a relative and an absolute path of one directory do)."""
    if storage.is_local(a) and storage.is_local(b):
        return os.path.abspath(storage.local_path(a)) == os.path.abspath(storage.local_path(b))
    return a.rstrip('/') == b.rstrip('/')


# ----- existence ------------------------------------------------------------------------------
def existence(outputs: Iterable[tuple[str, str | None]]) -> None:
    """Learn which of these own outputs (path, workspace) are in the shared workspace, by one listing per shared directory.

    Signature files are asked about in the same listing. Afterwards ``exists_in_shared`` answers
    for them without a request. A shared workspace that does not answer is warned about once.
    """
    state = _current()
    if state.settings.workspace is None or state.unreachable is not None:
        return
    wanted: list[str] = []
    for path, workspace in outputs:
        shared = shared_path(path, workspace)
        if shared is not None and shared not in state.answers:
            wanted.append(shared)
            wanted.append(shared_signatures.signature_path(shared))
    if not wanted:
        return
    try:
        answers = storage.exists_many(wanted)
        found = {path: answers[path] for path in wanted}  # an endpoint that failed raises here
    except Exception as error:
        _unreachable(state, error)
        return
    state.answers.update(found)


def exists_in_shared(path: str, workspace: str | None) -> bool:
    """Whether the own output ``path`` can be had from the shared workspace (and, with trusted keys, is signed)."""
    state = _current()
    if state.settings.workspace is None:
        return False
    shared = shared_path(path, workspace)
    if shared is None or state.unreachable is not None or shared in state.refused:
        return False
    if not _shared_exists(state, shared):
        return False
    if state.settings.trusted_keys:
        if not _shared_exists(state, shared_signatures.signature_path(shared)):
            _refuse(state, shared, 'unsigned (no signature file beside it)')
            return False
        if not _deferred_verification:
            # Asked outside a plan that prefetches (luigi's worker, a user's complete()): only a
            # verified copy is an answer, so fetch it now.
            return fetch(path, workspace)
    return state.unreachable is None


_deferred_verification = 0


@contextmanager
def verification_deferred() -> Iterator[None]:
    """Within the block, a signed shared hit counts from the listing alone; the planner verifies by prefetching after."""
    global _deferred_verification
    _deferred_verification += 1
    try:
        yield
    finally:
        _deferred_verification -= 1


def refusal_note(path: str, workspace: str | None) -> str:
    """A sentence for a missing-output message when the shared workspace has the file but it was refused ('' otherwise)."""
    shared = shared_path(path, workspace)
    reason = _current().refused.get(shared) if shared is not None else None
    return f' The shared workspace has {shared}, which was not used: {reason}.' if reason else ''


def _shared_exists(state: _State, shared: str) -> bool:
    known = state.answers.get(shared)
    if known is not None:
        return known
    try:
        found = storage.exists(shared)
    except Exception as error:
        _unreachable(state, error)
        return False
    state.answers[shared] = found
    return found


def changes() -> int:
    """How often what this build learnt of the shared workspace was taken back (a refusal, a vanished file, the workspace lost)."""
    return _current().changes


def refused() -> dict[str, str]:
    """The shared files not used in this build, with the reason of each."""
    return dict(_current().refused)


def _refuse(state: _State, shared: str, reason: str) -> None:
    with state.lock:
        if shared in state.refused:
            return
        state.refused[shared] = reason
        state.changes += 1
    warnings.warn(
        f'not using {shared} from the shared workspace: {reason}. The task that writes it runs locally instead.',
        SharedWorkspaceWarning,
        stacklevel=3,
    )


def unreachable() -> bool:
    """Whether the shared workspace failed to answer in this build (it is then left alone until the next)."""
    return _current().unreachable is not None


def mark_unreachable(error: BaseException) -> None:
    """Note that the shared workspace failed (``error``): warned about once, then not asked again in this build."""
    _unreachable(_current(), error)


def _unreachable(state: _State, error: BaseException) -> None:
    with state.lock:
        if state.unreachable is not None:
            return
        state.unreachable = error
        state.changes += 1
    warnings.warn(
        f'the shared workspace {state.settings.workspace} cannot be used ({type(error).__name__}: {error}); '
        'building from the own workspace only, tasks not found there run locally.',
        SharedWorkspaceWarning,
        stacklevel=3,
    )


# ----- fetching -------------------------------------------------------------------------------
class RefusedSharedOutput(Exception):
    """A fetched shared output did not pass its checks (the reason is the message)."""


def fetch(path: str, workspace: str | None) -> bool:
    """Copy the shared counterpart of the own output ``path`` into place; True when ``path`` exists afterwards.

    The copy is streamed into a temporary file beside ``path``, hashed on the way, checked against
    its signature file and renamed into place only then: a kill mid-fetch leaves no file under
    ``path``. Processes fetching the same file wait for each other (a file lock in the workspace's
    ``.gokart-locks``) and the second finds it there. A refused file is remembered and warned about;
    False is returned and the file counts as absent from the shared workspace.
    """
    state = _current()
    shared = shared_path(path, workspace)
    if shared is None or shared in state.refused or state.unreachable is not None:
        return False
    assert workspace is not None
    relative = relative_path(path, workspace)
    assert relative is not None
    if not storage.is_local(path):
        return _fetch_once(state, shared, path, relative)
    from gokart.conflict_prevention_lock.file_lock import LOCK_DIRECTORY, named_lock

    with named_lock(os.path.join(storage.local_path(workspace), LOCK_DIRECTORY), f'shared-fetch:{relative}'):
        if os.path.exists(storage.local_path(path)):
            return True
        return _fetch_once(state, shared, path, relative)


def _fetch_once(state: _State, shared: str, path: str, relative: str) -> bool:
    signature_path = shared_signatures.signature_path(shared)
    try:
        signature = _read_if_exists(state, signature_path)
        with storage.atomic_write(path) as out, _SharedReader(shared) as source:
            digest = hashlib.sha256()
            size = 0
            while chunk := source.read(_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)  # an error of the own workspace (a full disk) is the build's, raised as it is
            facts = shared_signatures.SignedFacts(
                path=relative, unique_id=shared_signatures.unique_id_in(relative), sha256=digest.hexdigest(), size=size
            )
            reason = shared_signatures.refusal(signature, facts, trusted_keys(), signature_required=bool(state.settings.trusted_keys))
            if reason is not None:
                raise RefusedSharedOutput(reason)  # atomic_write removes the temporary file
    except RefusedSharedOutput as refusal:
        _refuse(state, shared, str(refusal))
        return False
    except _SharedReadError as failed:
        if isinstance(failed.error, FileNotFoundError):  # gone from the shared workspace since it was listed
            with state.lock:
                state.answers[shared] = False
                state.changes += 1
            return False
        _unreachable(state, failed.error)
        return False
    return True


class _SharedReadError(Exception):
    """Reading the shared workspace failed with ``error`` (told apart from errors of writing the own workspace)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _SharedReader:
    """A shared file opened for reading; its errors come out as ``_SharedReadError``."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stream: Any = None

    def __enter__(self) -> _SharedReader:
        try:
            self._stream = storage.open_read(self._path)
        except Exception as error:
            raise _SharedReadError(error) from error
        return self

    def read(self, size: int) -> bytes:
        try:
            return bytes(self._stream.read(size))
        except Exception as error:
            raise _SharedReadError(error) from error

    def __exit__(self, *exc: object) -> None:
        try:
            self._stream.close()
        except Exception:
            pass


def _read_if_exists(state: _State, path: str) -> bytes | None:
    if state.answers.get(path) is False:
        return None
    try:
        with storage.open_read(path) as f:
            return f.read()
    except FileNotFoundError:
        return None
    except Exception as error:
        raise _SharedReadError(error) from error


def trusted_keys() -> list[Any]:
    """The public keys of ``[gokart] shared_trusted_keys``, loaded once per build."""
    state = _current()
    if state.trusted is None:
        state.trusted = [shared_signatures.load_public_key(p, '[gokart] shared_trusted_keys') for p in state.settings.trusted_keys]
    return state.trusted


def signer() -> Any:
    """The private key of ``[gokart] shared_signing_key`` (None when not set), loaded once per build."""
    state = _current()
    if state.signer is None and state.settings.signing_key is not None:
        state.signer = shared_signatures.load_private_key(state.settings.signing_key, '[gokart] shared_signing_key')
    return state.signer


# ----- pushing --------------------------------------------------------------------------------
PushOutcome = Literal['pushed', 'already shared', 'differs', 'missing']


def push_file(path: str, workspace: str, unique_id: str | None = None, code_fingerprint: str | None = None) -> PushOutcome:
    """Upload the own file ``path`` to its place in the shared workspace unless something is there; sign it beside it.

    Never overwrites: the upload is a conditional create (S3 ``If-None-Match: *``, GCS
    ``ifGenerationMatch=0``, a hard link on a disk). A file already there with the same content is
    ``already shared`` (its signature file is added when missing); with other content ``differs``
    and is left as it is. Errors of the shared workspace are raised.
    """
    shared = shared_path(path, workspace)
    relative = relative_path(path, workspace)
    if shared is None or relative is None:
        raise ValueError(f'{path} has no place in the shared workspace (no shared_workspace set, or the file is outside {workspace})')
    try:
        with storage.open_read(path) as f:
            content = f.read()
    except FileNotFoundError:
        return 'missing'
    digest = hashlib.sha256(content).hexdigest()
    facts = shared_signatures.SignedFacts(
        path=relative,
        unique_id=unique_id or shared_signatures.unique_id_in(relative),
        sha256=digest,
        size=len(content),
        code_fingerprint=code_fingerprint,
    )
    signature = shared_signatures.signature_file(facts, signer())
    state = _current()
    outcome: PushOutcome = 'pushed'
    # Asked first (from the listing when the build has one): a large output is then not uploaded only to be refused.
    # The conditional create still decides when two pushers race.
    if (state.answers.get(shared) or storage.exists(shared)) or not create(shared, content):
        try:
            with storage.open_read(shared) as f:
                existing = f.read()
        except FileNotFoundError:
            existing = None
        if existing is None or hashlib.sha256(existing).hexdigest() != digest:
            return 'differs'
        outcome = 'already shared'
    signature_path = shared_signatures.signature_path(shared)
    if not create(signature_path, signature) and outcome == 'pushed':
        pass  # a signature file without its output (a push killed in between): it names the same content or is refused on fetch
    state.answers[shared] = True
    state.answers[signature_path] = True
    return outcome


def create(path: str, content: bytes) -> bool:
    """Write ``content`` at ``path`` only if nothing is there; True when this call created it.

    Object stores decide with a conditional request, so of two writers exactly one wins; a local
    directory with a hard link of a complete temporary file, which fails when the name exists.
    Stores without conditional writes get a check then a write (a race may let both write).
    """
    if storage.is_local(path):
        return _create_local(storage.local_path(path), content)
    protocol = storage.protocol_of(path)
    lease_store = backend_of(protocol).lease_store  # the backend's conditional writes (S3 If-None-Match, GCS generation 0)
    if lease_store is not None:
        store = resolve(lease_store)(storage.filesystem_for_protocol(protocol))
        return store.create(storage.filesystem(path)[1], content) is not None
    if storage.exists(path):
        return False
    storage.write_bytes(path, content)
    return True


def _create_local(path: str, content: bytes) -> bool:
    directory = os.path.dirname(path) or '.'
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix='.', suffix=storage.TEMPORARY_SUFFIX)
    try:
        with open(fd, 'wb') as f:
            f.write(content)
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create then copy (visible while written)
            try:
                with open(path, 'xb') as out, open(temporary, 'rb') as source:
                    shutil.copyfileobj(source, out)
            except FileExistsError:
                return False
        return True
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
