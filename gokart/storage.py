"""Where bytes live: the local file system directly, anything else through fsspec.

Every write is atomic: a local output is written to a hidden temporary file in the same directory
and renamed over the final name, so a crash or kill mid-write never leaves a partial file under the
final name. Object stores (s3, gs, ...) publish an object only when its upload completes, and a
failed upload is discarded, so there too an output exists whole or not at all.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

# Object stores publish a key atomically when the upload is closed, so they need no rename.
_ATOMIC_ON_CLOSE = frozenset({'s3', 's3a', 'gs', 'gcs', 'az', 'abfs', 'abfss', 'adl', 'memory', 'oss'})

_UMASK = os.umask(0)
os.umask(_UMASK)

_known_directories: set[str] = set()


def is_local(path: str) -> bool:
    """True for plain paths and ``file://`` URLs."""
    return '://' not in path or path.startswith('file://')


def is_object_storage(path: str) -> bool:
    """True for remote workspaces such as ``s3://`` and ``gs://``."""
    return not is_local(path)


def local_path(path: str) -> str:
    return path[len('file://') :] if path.startswith('file://') else path


def filesystem(path: str) -> tuple[Any, str]:
    """The fsspec file system and the path within it, for a remote path."""
    import fsspec.core

    from gokart.storage_options import storage_options_for

    protocol = path.split('://', 1)[0]
    return fsspec.core.url_to_fs(path, **storage_options_for(protocol))


def exists(path: str) -> bool:
    if is_local(path):
        return os.path.exists(local_path(path))
    fs, fs_path = filesystem(path)
    return bool(fs.exists(fs_path))


def open_read(path: str) -> IO[bytes]:
    """A seekable binary stream over the file; the caller closes it."""
    if is_local(path):
        return open(local_path(path), 'rb')
    fs, fs_path = filesystem(path)
    return fs.open(fs_path, 'rb')  # type: ignore[no-any-return]


@contextmanager
def atomic_write(path: str) -> Iterator[IO[bytes]]:
    """Yield a binary stream; the file appears under ``path`` whole when the block ends without error."""
    if is_local(path):
        with _atomic_local_write(local_path(path)) as f:
            yield f
        return
    fs, fs_path = filesystem(path)
    protocol = path.split('://', 1)[0]
    if protocol in _ATOMIC_ON_CLOSE:
        f = fs.open(fs_path, 'wb')
        try:
            yield f
        except BaseException:
            _discard(f)
            raise
        f.close()
        return
    temporary = f'{fs_path}.gokart-tmp-{os.getpid()}-{next(tempfile._get_candidate_names())}'  # type: ignore[attr-defined]
    try:
        with fs.open(temporary, 'wb') as f:
            yield f
        fs.mv(temporary, fs_path)
    finally:
        if fs.exists(temporary):
            fs.rm(temporary)


def remove(path: str) -> None:
    """Delete a file (or a directory tree); a missing path is not an error."""
    if is_local(path):
        target = local_path(path)
        if os.path.isdir(target):
            import shutil

            shutil.rmtree(target, ignore_errors=True)
        elif os.path.exists(target):
            os.remove(target)
        return
    fs, fs_path = filesystem(path)
    if fs.exists(fs_path):
        fs.rm(fs_path, recursive=True)


def modification_time(path: str) -> datetime.datetime:
    """Last modification time as an aware UTC datetime; ``FileNotFoundError`` when missing."""
    if is_local(path):
        return datetime.datetime.fromtimestamp(os.path.getmtime(local_path(path)), tz=datetime.timezone.utc)
    fs, fs_path = filesystem(path)
    value = fs.modified(fs_path)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value  # type: ignore[no-any-return]


def size(path: str) -> int:
    if is_local(path):
        return os.path.getsize(local_path(path))
    fs, fs_path = filesystem(path)
    return int(fs.size(fs_path))


def list_files(directory: str) -> list[str]:
    """Every file below ``directory``, recursively, as paths in the same form as ``directory``."""
    if is_local(directory):
        root = local_path(directory)
        found = []
        for dirpath, _, filenames in os.walk(root):
            found.extend(os.path.join(dirpath, name) for name in filenames)
        return found
    fs, fs_path = filesystem(directory)
    protocol = directory.split('://', 1)[0]
    return [f'{protocol}://{p}' for p in fs.find(fs_path)]


def ensure_directory(directory: str) -> None:
    if directory and directory not in _known_directories:
        os.makedirs(directory, exist_ok=True)
        _known_directories.add(directory)


@contextmanager
def _atomic_local_write(path: str) -> Iterator[IO[bytes]]:
    directory = os.path.dirname(path) or '.'
    try:
        ensure_directory(directory)
    except FileNotFoundError:
        _known_directories.discard(directory)
        raise
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f'.{os.path.basename(path)}.', suffix='.gokart-tmp')
    except FileNotFoundError:
        # The directory was removed since we created it (another process cleaned the workspace).
        _known_directories.discard(directory)
        ensure_directory(directory)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f'.{os.path.basename(path)}.', suffix='.gokart-tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            yield f
        # mkstemp creates 0600 files; outputs get the permissions any other file would get.
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _discard(f: Any) -> None:
    discard = getattr(f, 'discard', None)
    if callable(discard):
        discard()
    else:  # pragma: no cover - file systems without discard publish nothing until close
        try:
            f.close()
        except Exception:
            pass
