"""Where bytes live: the local file system directly, anything else through fsspec.

Every write is atomic: a local output is written to a hidden temporary file in the same directory
and renamed over the final name, so a crash or kill mid-write never leaves a partial file under the
final name. A remote output is first written to a local spool (memory, then a temporary file past
``_SPOOL_IN_MEMORY_BYTES``) and uploaded only when the writer finished without error; object stores
publish an object only when its upload completes, so there too an output exists whole or not at all.
Spooling also gives every format writer a seekable stream (zip-based formats such as ``.npz`` and
model targets seek while writing), which the object-store streams are not.

Options for each protocol (credentials, endpoints) come from ``gokart.storage.options``.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from gokart.errors import MissingBucketError, MissingStorageLibraryError, StorageUnavailableError
from gokart.storage import backends, local_target_seam
from gokart.storage.local_target_seam import replacement as _replaced_local_target
from gokart.storage.options import storage_options_for

# Remote writes stay in memory up to this size, then spill to a local temporary file.
_SPOOL_IN_MEMORY_BYTES = 32 * 1024 * 1024
_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024
# Asking about this many paths of one remote directory costs more than listing it once.
_LIST_DIRECTORY_FROM = 4
# ... and about this many local paths of one directory cost more than one scan of it.
_SCAN_LOCAL_DIRECTORY_FROM = 256

T = TypeVar('T')

_known_directories: set[str] = set()
_known_existence = threading.local()


def is_local(path: str) -> bool:
    """True for plain paths and ``file://`` URLs."""
    return '://' not in path or path.startswith('file://')


def is_object_storage(path: str) -> bool:
    """True for remote workspaces such as ``s3://``, ``gs://`` and ``memory://``."""
    return not is_local(path)


def local_path(path: str) -> str:
    return path[len('file://') :] if path.startswith('file://') else path


def protocol_of(path: str) -> str:
    """``s3`` for ``s3://bucket/key``; ``file`` for a local path."""
    return path.split('://', 1)[0] if '://' in path else 'file'


_usable_protocols: set[str] = set()  # undeclared protocols fsspec was found to reach, once per process


def require_client_library(path: str) -> None:
    """Raise ``MissingStorageLibraryError`` now if ``path``'s protocol needs a library that is not installed.

    Targets call this when they are made, so a missing ``gokart[s3]`` shows when the pipeline is
    defined, naming the extra, instead of on the first request in the client library's own words.
    A protocol of ``storage.backends`` is checked at every call; any other fsspec protocol once per process.
    """
    protocol = protocol_of(path)
    if backends.declared(protocol):
        backends.require_client(protocol, path)
        return
    if protocol in _usable_protocols:
        return
    import fsspec

    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError as error:
        raise MissingStorageLibraryError(f'{path} needs a library fsspec uses for {protocol}://: {error}') from error
    except ValueError as error:
        raise ValueError(f'{path}: {protocol}:// is not a storage protocol fsspec knows ({error})') from error
    _usable_protocols.add(protocol)


def filesystem(path: str) -> tuple[Any, str]:
    """The fsspec file system and the path within it, for a remote path."""
    protocol = protocol_of(path)
    fs = filesystem_for_protocol(protocol)
    return fs, fs._strip_protocol(path)


def filesystem_for_protocol(protocol: str) -> Any:
    """The fsspec file system for ``protocol``: its backend's class (``storage.backends``) or fsspec's, with ``storage.options``.

    fsspec keeps one instance per distinct set of options, so this is cheap to call per path, and a
    change of credentials or endpoint (config, environment, ``set_storage_options``) takes effect.
    """
    backend = backends.backend_of(protocol)
    backend.require_client(f'{protocol}:// storage')
    if backend.filesystem is not None:
        return backends.resolve(backend.filesystem)(**storage_options_for(protocol))
    import fsspec

    return fsspec.filesystem(protocol, **storage_options_for(protocol))


def url_of(protocol: str, fs_path: str) -> str:
    """The inverse of ``filesystem``: a full URL for a path inside ``protocol``'s file system."""
    if backends.backend_of(protocol).rooted_paths:
        return f'{protocol}://{fs_path}'
    return f'{protocol}://{fs_path.lstrip("/")}'


class LocalStore:
    """Files on this machine's disk, written by a rename of a temporary file beside them."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def open_read(self, path: str) -> IO[bytes]:
        return open(path, 'rb')

    def atomic_write(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return _atomic_local_write(path)

    def write_bytes(self, path: str, data: bytes | memoryview) -> None:
        _publish_local_bytes(path, data)

    def remove(self, path: str) -> None:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.remove(path)

    def modification_time(self, path: str) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(os.path.getmtime(path), tz=datetime.timezone.utc)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def list_files(self, directory: str) -> list[str]:
        found: list[str] = []
        for dirpath, _, filenames in os.walk(directory):
            found.extend(os.path.join(dirpath, name) for name in filenames)
        return found

    def list_entries(self, directory: str) -> list[FileEntry]:
        found: list[FileEntry] = []
        for dirpath, _, filenames in os.walk(directory):
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                except OSError:  # removed meanwhile
                    continue
                modified = datetime.datetime.fromtimestamp(stat.st_mtime, tz=datetime.timezone.utc)
                found.append(FileEntry(path=path, size=stat.st_size, modified=modified))
        return found


class ReplacedLocalStore(LocalStore):
    """Local outputs through what a test put in place of ``luigi.LocalTarget`` (``storage.local_target_seam``)."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory

    def exists(self, path: str) -> bool:
        return local_target_seam.exists(self.factory, path)

    def open_read(self, path: str) -> IO[bytes]:
        return local_target_seam.open_read(self.factory, path)

    def atomic_write(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return local_target_seam.atomic_write(self.factory, path)

    def write_bytes(self, path: str, data: bytes | memoryview) -> None:
        local_target_seam.write_bytes(self.factory, path, data)

    def remove(self, path: str) -> None:
        local_target_seam.remove(self.factory, path)

    def modification_time(self, path: str) -> datetime.datetime:
        return local_target_seam.modification_time(self.factory, path)


class FsspecStore:
    """A remote store, through the fsspec file system of its protocol; paths are full URLs."""

    def exists(self, path: str) -> bool:
        fs, fs_path = filesystem(path)
        return bool(fs.exists(fs_path))

    def open_read(self, path: str) -> IO[bytes]:
        fs, fs_path = filesystem(path)
        return fs.open(fs_path, 'rb')  # type: ignore[no-any-return]

    def atomic_write(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return _spooled_remote_write(path)

    def write_bytes(self, path: str, data: bytes | memoryview) -> None:
        fs, fs_path = filesystem(path)
        fs.pipe_file(fs_path, bytes(data))  # one upload: the object appears whole or not at all

    def remove(self, path: str) -> None:
        fs, fs_path = filesystem(path)
        if fs.exists(fs_path):
            fs.rm(fs_path, recursive=True)

    def modification_time(self, path: str) -> datetime.datetime:
        fs, fs_path = filesystem(path)
        value = fs.modified(fs_path)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value  # type: ignore[no-any-return]

    def size(self, path: str) -> int:
        fs, fs_path = filesystem(path)
        return int(fs.size(fs_path))

    def list_files(self, directory: str) -> list[str]:
        fs, fs_path = filesystem(directory)
        protocol = protocol_of(directory)
        return [url_of(protocol, p) for p in fs.find(fs_path)]

    def list_entries(self, directory: str) -> list[FileEntry]:
        fs, fs_path = filesystem(directory)
        protocol = protocol_of(directory)
        try:
            listed = fs.find(fs_path, detail=True)
        except MissingBucketError:
            raise
        except FileNotFoundError:  # a missing prefix, for file systems that say so
            return []
        return [
            FileEntry(path=url_of(protocol, name), size=int(info.get('size') or 0), modified=_listed_time(info))
            for name, info in listed.items()
        ]


_LOCAL_STORE = LocalStore()
_REMOTE_STORE = FsspecStore()


def store_of(path: str) -> tuple[LocalStore | FsspecStore, str]:
    """The store ``path`` lives in and the path as that store takes it: the one choice of local disk, test stand-in or fsspec."""
    if '://' not in path:
        replaced = _replaced_local_target()
        return (_LOCAL_STORE if replaced is None else ReplacedLocalStore(replaced)), path
    if path.startswith('file://'):
        replaced = _replaced_local_target()
        return (_LOCAL_STORE if replaced is None else ReplacedLocalStore(replaced)), path[len('file://') :]
    return _REMOTE_STORE, path


def exists(path: str) -> bool:
    known = getattr(_known_existence, 'answers', None)
    if known is not None:
        try:
            return bool(known[path])  # an unreachable endpoint's error is raised here (see ExistenceAnswers)
        except KeyError:
            pass
    store, where = store_of(path)
    return store.exists(where)


class ExistenceAnswers(dict[str, bool]):
    """What ``exists_many`` found; looking up a path whose endpoint did not answer raises that endpoint's error.

    So a dead endpoint costs one failed request for a whole level of the plan, and each task whose
    output lies there still fails with an error of its own.
    """

    def __init__(self) -> None:
        super().__init__()
        self.unavailable: dict[str, StorageUnavailableError] = {}

    def __missing__(self, path: str) -> bool:
        error = self.unavailable.get(path)
        if error is None:
            raise KeyError(path)
        raise StorageUnavailableError(str(error), error.endpoint, error.path) from error.__cause__


def exists_many(paths: Iterable[str]) -> ExistenceAnswers:
    """Whether each path exists, with one listing per directory where that is cheaper than asking per path.

    A cache-hit check of a wide DAG asks about hundreds of outputs in the same directory; on an
    object store one ``ls`` of that directory answers all of them, and on a local disk one
    directory scan costs less than thousands of ``stat`` calls. Once a remote endpoint failed to
    answer, its remaining paths are not asked about: looking them up raises its error.
    """
    answers = ExistenceAnswers()
    if _replaced_local_target() is not None:
        answers.update((path, exists(path)) for path in paths)
        return answers
    by_directory: dict[str, list[str]] = {}
    unavailable: dict[str, StorageUnavailableError] = {}  # by protocol: endpoints not to ask again
    for path in paths:
        directory = os.path.dirname(local_path(path)) if is_local(path) else path.rsplit('/', 1)[0]
        by_directory.setdefault(directory, []).append(path)
    for directory, members in by_directory.items():
        if is_local(members[0]):
            listed = _local_names(directory or '.', len(members)) if len(members) >= _SCAN_LOCAL_DIRECTORY_FROM else None
            if listed is None:
                answers.update((path, os.path.exists(local_path(path))) for path in members)
            else:
                answers.update((path, os.path.basename(path) in listed) for path in members)
            continue
        failed = unavailable.get(protocol_of(directory))
        if failed is not None:
            answers.unavailable.update((path, failed) for path in members)
            continue
        try:
            answers.update(_remote_existence(directory, members))
        except StorageUnavailableError as error:
            unavailable[protocol_of(directory)] = error
            answers.unavailable.update((path, error) for path in members)
    return answers


def _remote_existence(directory: str, members: list[str]) -> list[tuple[str, bool]]:
    """Whether each of ``members`` (paths in the remote ``directory``) exists: asked one by one, or by one listing.

    The answers are those ``exists`` gives path by path: a listing names objects and "subdirectories"
    (prefixes), and ``exists`` is true for both. A listing stops once it has cost as many pages as
    asking path by path would cost requests (a directory holding far more than asked about); what it
    has not seen by then is asked about path by path.
    """
    if len(members) < _LIST_DIRECTORY_FROM or directory.endswith('/'):  # 'x//y': no listing names it as it is spelled
        return [(path, exists(path)) for path in members]
    fs, fs_directory = filesystem(directory)
    pages = getattr(fs, 'ls_pages', None)
    listed_paths: set[str] = set()
    complete = True
    try:
        if pages is None:
            listed_paths.update(str(p).rstrip('/') for p in fs.ls(fs_directory, detail=False))
        else:
            for count, (page, more) in enumerate(pages(fs_directory), start=1):
                listed_paths.update(page)
                if more and count >= len(members):
                    complete = False
                    break
    except (FileNotFoundError, NotADirectoryError):
        listed_paths = set()
    answers = []
    for path in members:
        found = fs._strip_protocol(path).rstrip('/') in listed_paths
        answers.append((path, found if found or complete else exists(path)))
    return answers


def _local_names(directory: str, asked: int) -> set[str] | None:
    """The names in a local directory, or None when it holds so many more than ``asked`` that ``stat`` is cheaper."""
    limit = 4 * asked + 1000
    names: set[str] = set()
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                names.add(entry.name)
                if len(names) > limit:
                    return None
    except (FileNotFoundError, NotADirectoryError):
        return set()
    return names


@contextmanager
def known_existence(answers: dict[str, bool]) -> Iterator[None]:
    """Within the block, ``exists`` in this thread answers for these paths from ``answers`` (see ``exists_many``).

    The planner lists each output directory once, then checks completion in threads that each use
    the listing instead of one request per output. Only the calling thread is affected, and only for
    the block, so the answers cannot go stale elsewhere.
    """
    previous = getattr(_known_existence, 'answers', None)
    _known_existence.answers = answers
    try:
        yield
    finally:
        _known_existence.answers = previous


def open_read(path: str) -> IO[bytes]:
    """A seekable binary stream over the file; the caller closes it."""
    store, where = store_of(path)
    return store.open_read(where)


@contextmanager
def atomic_write(path: str) -> Iterator[IO[bytes]]:
    """Yield a binary stream; the file appears under ``path`` whole when the block ends without error."""
    _forget_existence(path)
    store, where = store_of(path)
    with store.atomic_write(where) as f:
        yield f


def write_bytes(path: str, data: bytes | memoryview) -> None:
    """Publish ``data`` at ``path`` in one atomic write: the short path for small files built in memory."""
    _forget_existence(path)
    store, where = store_of(path)
    store.write_bytes(where, data)


def write_many(files: Iterable[tuple[str, bytes | memoryview]]) -> None:
    """Publish several small files, each as ``write_bytes`` does; those on remote stores at once.

    On S3 or GCS each write is a round trip: a task's run records, written together, then cost one
    round trip instead of one each. Every write is waited for; the first error is raised after.
    """
    files = list(files)
    remote = [f for f in files if not is_local(f[0])]
    if len(remote) < 2:
        for path, data in files:
            write_bytes(path, data)
        return
    # A pool per call: a few threads cost far less than a round trip, and a pool kept across calls
    # would not survive the fork of a worker process.
    with ThreadPoolExecutor(max_workers=len(remote), thread_name_prefix='gokart-write') as pool:
        pending = [pool.submit(write_bytes, path, data) for path, data in remote]
        for path, data in files:
            if is_local(path):
                write_bytes(path, data)
    for future in pending:
        future.result()


def remove(path: str) -> None:
    """Delete a file (or a directory tree); a missing path is not an error."""
    _forget_existence(path)
    store, where = store_of(path)
    store.remove(where)


def modification_time(path: str) -> datetime.datetime:
    """Last modification time as an aware UTC datetime; ``FileNotFoundError`` when missing."""
    store, where = store_of(path)
    return store.modification_time(where)


def size(path: str) -> int:
    store, where = store_of(path)
    return store.size(where)


def list_files(directory: str) -> list[str]:
    """Every file below ``directory``, recursively, as paths in the same form as ``directory``."""
    store, where = store_of(directory)
    return store.list_files(where)


@dataclass(frozen=True)
class FileEntry:
    """A file found by ``list_entries``: its path (in the form of the listed directory), size and last change."""

    path: str
    size: int
    modified: datetime.datetime | None  # aware UTC; None when the store does not say


def list_entries(directory: str) -> list[FileEntry]:
    """Every file below ``directory``, recursively, with its size and modification time.

    On an object store this is one paginated listing of the prefix: sizes and times come with the
    listing, not one request per file, so surveying a workspace of 100,000 objects costs 100 requests.
    """
    store, where = store_of(directory)
    return store.list_entries(where)


def _listed_time(info: dict[str, Any]) -> datetime.datetime | None:
    """The modification time in an fsspec listing entry, whichever key the file system uses (S3, GCS, memory)."""
    for key in ('LastModified', 'updated', 'mtime', 'created'):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)):
            return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
            except ValueError:
                continue
        if isinstance(value, datetime.datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)
    return None


def remove_many(paths: list[str]) -> None:
    """Delete many files; on an object store in batched requests (1,000 keys each on S3), not one per file."""
    remote: dict[str, list[str]] = {}
    for path in paths:
        _forget_existence(path)
        if is_local(path):
            remove(path)
        else:
            remote.setdefault(protocol_of(path), []).append(path)
    for protocol, members in remote.items():
        fs = filesystem_for_protocol(protocol)
        try:
            fs.rm([fs._strip_protocol(path) for path in members])
        except FileNotFoundError:  # some file systems refuse a batch naming a file already gone
            for path in members:
                remove(path)


def upload(local_file: str, path: str) -> None:
    """Copy a local file to ``path`` (any location), atomically."""
    with open(local_file, 'rb') as source, atomic_write(path) as destination:
        shutil.copyfileobj(source, destination, _UPLOAD_CHUNK_BYTES)


def download(path: str, local_file: str) -> None:
    """Copy ``path`` (any location) to a local file."""
    directory = os.path.dirname(local_file)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open_read(path) as source, open(local_file, 'wb') as destination:
        shutil.copyfileobj(source, destination, _UPLOAD_CHUNK_BYTES)


def copy(source: str, destination: str) -> None:
    """Copy a file to ``destination`` (same or another store); the copy appears whole or not at all."""
    _forget_existence(destination)
    protocol = protocol_of(source)
    if protocol == protocol_of(destination) and backends.backend_of(protocol).server_side_copy:
        fs, fs_source = filesystem(source)
        fs.copy(fs_source, fs._strip_protocol(destination))  # within the store: no bytes pass through this process
        return
    with open_read(source) as reader, atomic_write(destination) as writer:  # atomic_write makes the directory
        shutil.copyfileobj(reader, writer, _UPLOAD_CHUNK_BYTES)


def place_copy(source: str, destination: str) -> None:
    """Make ``destination`` a copy of ``source`` that appears whole or not at all, moving no bytes through this process where the store allows.

    Locally a hard link made beside ``destination`` and renamed over it (a plain copy where links
    cannot be made: another device, a file system without them); on one object store a server-side
    copy where the store's backend offers one (S3 CopyObject, GCS rewrite); else a copy through a local spool.
    """
    _forget_existence(destination)
    if is_local(source) and is_local(destination):
        if _replaced_local_target() is None:
            target = local_path(destination)
            try:
                create_in_directory(target, functools.partial(_link_into_place, local_path(source), target))
                return
            except FileNotFoundError:
                raise
            except OSError:  # no hard links here: copy the bytes instead
                pass
    copy(source, destination)  # server-side where the store's backend can (storage.backends)


def _link_into_place(source: str, target: str) -> None:
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f'.{name[:_LONGEST_TEMPORARY_STEM]}.{_process_tag}-{next(_temporary_counter)}{TEMPORARY_SUFFIX}')
    try:
        os.link(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        _remove_quietly(temporary)
        raise


def move(source: str, destination: str) -> None:
    """Move a file: an atomic rename on a local disk, a copy then a delete elsewhere.

    An object-store move cut short leaves the file at both names with the same content; moving
    again (or deleting the source) finishes it.
    """
    _forget_existence(source)
    _forget_existence(destination)
    if is_local(source) and is_local(destination):
        target = local_path(destination)
        create_in_directory(target, functools.partial(os.replace, local_path(source), target))
        return
    copy(source, destination)
    remove(source)


def ensure_directory(directory: str) -> None:
    if directory and directory not in _known_directories:
        os.makedirs(directory, exist_ok=True)
        _known_directories.add(directory)


def create_in_directory(path: str, create: Callable[[], T]) -> T:
    """Run ``create`` (which makes a local file at ``path``) once ``path``'s directory exists.

    Directories made once are remembered; if one was removed since (another process cleaned the
    workspace), it is made again and ``create`` retried once.
    """
    directory = os.path.dirname(path) or '.'
    ensure_directory(directory)
    try:
        return create()
    except FileNotFoundError:
        _known_directories.discard(directory)
        ensure_directory(directory)
        return create()


def _forget_existence(path: str) -> None:
    known = getattr(_known_existence, 'answers', None)
    if known is not None:
        known.pop(path, None)


@contextmanager
def _atomic_local_write(path: str) -> Iterator[IO[bytes]]:
    with _atomic_local_descriptor(path) as fd, open(fd, 'wb', closefd=False) as f:
        yield f


@contextmanager
def _atomic_local_descriptor(path: str) -> Iterator[int]:
    """The descriptor of a new temporary file beside ``path``, renamed to ``path`` when the block ends without error."""
    # The name is known before the file exists, so an interrupt (Ctrl-C, SIGTERM to a worker) that lands
    # just after it is created, before this function holds it, still removes it.
    created: list[str] = []
    try:
        fd, temporary = create_in_directory(path, lambda: _create_temporary_beside(path, created))
        try:
            yield fd
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        for name in created:
            _remove_quietly(name)
        raise


def _publish_local_bytes(path: str, data: bytes | memoryview) -> None:
    """``_atomic_local_descriptor`` written out for one buffer: the run records' five small files a task skip two context managers."""
    # Raw descriptor calls: a buffered file object would cost more than writing a small file.
    created: list[str] = []
    try:
        fd, temporary = create_in_directory(path, lambda: _create_temporary_beside(path, created))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        for name in created:
            _remove_quietly(name)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


_temporary_counter = itertools.count()  # next() on it is atomic, so threads never share a name
_process_tag = str(os.getpid())


def _renew_process_tag() -> None:
    global _process_tag
    _process_tag = str(os.getpid())


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_renew_process_tag)

_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0)


TEMPORARY_SUFFIX = '.gokart-tmp'
"""The end of the name of a local write in progress (``.{name}.{pid}-{n}.gokart-tmp``), renamed into place when whole."""

_LONGEST_TEMPORARY_STEM = 200  # of 255 bytes: room for '.', the pid, a counter and TEMPORARY_SUFFIX


def _create_temporary_beside(path: str, created: list[str] | None = None) -> tuple[int, str]:
    """A new hidden file next to ``path``, unique to this process and call; created with the usual umask.

    Each name tried is appended to ``created`` before the file is made.
    """
    directory, name = os.path.split(path)
    if len(name.encode()) > _LONGEST_TEMPORARY_STEM:  # keep the temporary name within NAME_MAX when the output's name is
        name = name.encode()[:_LONGEST_TEMPORARY_STEM].decode(errors='ignore')
    while True:
        temporary = os.path.join(directory, f'.{name}.{_process_tag}-{next(_temporary_counter)}{TEMPORARY_SUFFIX}')
        if created is not None:
            created.append(temporary)
        try:
            return os.open(temporary, _TEMPORARY_FLAGS, 0o666), temporary
        except FileExistsError:  # left behind by a killed process whose pid was reused
            continue


@contextmanager
def _spooled_remote_write(path: str) -> Iterator[IO[bytes]]:
    # Nothing reaches the remote path until the writer is done, so a failed dump publishes nothing.
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES, mode='w+b')
    with spool:
        yield spool  # type: ignore[misc]
        fs, fs_path = filesystem(path)
        spool.seek(0)
        if not spool._rolled:  # type: ignore[attr-defined]
            fs.pipe_file(fs_path, spool.read())
            return
        upload_fileobj = getattr(fs, 'upload_fileobj', None)
        if upload_fileobj is not None:  # S3: a multipart upload, published only when complete
            upload_fileobj(spool, fs_path)
            return
        remote = fs.open(fs_path, 'wb')
        try:
            shutil.copyfileobj(spool, remote, _UPLOAD_CHUNK_BYTES)
        except BaseException:
            _discard(remote)
            raise
        remote.close()


def _discard(f: Any) -> None:
    discard = getattr(f, 'discard', None)
    if callable(discard):
        discard()
    else:  # pragma: no cover - file systems without discard publish nothing until close
        try:
            f.close()
        except Exception:
            pass
