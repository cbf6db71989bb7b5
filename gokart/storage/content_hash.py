"""The content hash of an output: BLAKE3 of its bytes, computed while they are written.

A target's dump passes its bytes through ``HashingWriter`` on their way to ``atomic_write``, so the
hash costs no second read of the file. It covers what the format writer produced: a signature
trailer (``storage.signing``) is left out, since it names the file's place, and two outputs with the
same content at two places must have the same hash. Without signing that is the file's bytes as
stored. A writer that seeks back and overwrites what it wrote (zip archives of model targets) cannot
be hashed on the way: that output is read back once after it is published.

This process remembers the hash of every output it wrote or hashed (``known``), with the file's
size and, locally, its modification time, so a later rewrite of the file by anyone else is noticed
(``current``) and the hash computed again. Early cutoff (``gokart.runs.cutoff``) compares these
hashes; the lineage journal records them with each run.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from typing import IO, Any

import blake3

from gokart.storage import filesystem as storage
from gokart.storage import local_target_seam

ALGORITHM = 'blake3'
"""A cryptographic hash (a fetched file can be checked against it) that costs a dump a few percent where SHA-256 cost it more than the write."""
_PREFIX = f'{ALGORITHM}:'
_READ_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Content:
    """What is known of one output: ``digest`` (``'blake3:<hex>'``), the file's ``size`` as stored and, locally, its ``mtime_ns``.

    ``size`` is None where it is not known (a signed output written to an object store).
    """

    digest: str
    size: int | None
    mtime_ns: int | None = None

    def as_record(self) -> dict[str, Any]:
        found: dict[str, Any] = {'hash': self.digest}
        if self.size is not None:
            found['size'] = self.size
        if self.mtime_ns is not None:
            found['mtime_ns'] = self.mtime_ns
        return found

    @staticmethod
    def from_record(value: Any) -> Content | None:
        """The content a journal line recorded, or None for anything malformed (journals are read as untrusted)."""
        if not isinstance(value, dict):
            return None
        digest, size, mtime = value.get('hash'), value.get('size'), value.get('mtime_ns')
        if not is_digest(digest) or size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            return None
        if mtime is not None and (not isinstance(mtime, int) or isinstance(mtime, bool)):
            return None
        return Content(digest=str(digest), size=size, mtime_ns=mtime)


def is_digest(value: Any) -> bool:
    """True for a well-formed ``'blake3:<64 hex digits>'``."""
    if not isinstance(value, str) or not value.startswith(_PREFIX) or len(value) != len(_PREFIX) + 64:
        return False
    try:
        int(value[len(_PREFIX) :], 16)
    except ValueError:
        return False
    return True


class HashingWriter(io.RawIOBase):
    """Passes writes through to ``stream`` and hashes them; a write anywhere but at the end spoils the hash (``sequential``)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = blake3.blake3()
        self._position = 0
        self._end = 0
        self.sequential = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._stream.seekable())

    def write(self, b: Any) -> int:
        view = memoryview(b)
        if self._position != self._end:
            self.sequential = False
        if self.sequential:
            self._hash.update(view)
        self._stream.write(view)  # type: ignore[arg-type]
        self._position += view.nbytes
        self._end = max(self._end, self._position)
        return view.nbytes

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = self._stream.seek(offset, whence)
        return self._position

    def truncate(self, size: int | None = None) -> int:
        size = self._position if size is None else size
        self._stream.truncate(size)
        if size == 0:  # a writer starting again (the pickle fallback to dill): so does the hash
            self._hash = blake3.blake3()
            self.sequential = True
        elif size < self._end:
            self.sequential = False
        self._end = size
        return size

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        # A format writer that closes its stream must not close ours: atomic_write publishes it.
        self.flush()

    @property
    def digest(self) -> str:
        return _PREFIX + self._hash.hexdigest()

    @property
    def size(self) -> int:
        return self._end


_known: dict[str, Content] = {}
_lock = threading.Lock()


def key(path: str) -> str:
    """The form paths are remembered in: local paths absolute (a chdir moves './resources'), URLs as they are."""
    return os.path.abspath(storage.local_path(path)) if storage.is_local(path) else path.rstrip('/')


def note_written(path: str, writer: HashingWriter, signed: bool) -> Content | None:
    """Remember the hash of the output just published at ``path`` through ``writer``; read it back when the writer seeked.

    ``signed``: a signature trailer followed what ``writer`` saw, so the stored size is known only from the file.
    """
    if storage.is_local(path) and local_target_seam.replacement() is not None:
        return None  # local outputs went to a stand-in (a test's in-memory store): there is no file to speak of
    if not writer.sequential:
        return hash_file(path)
    stat = local_stat(path)
    if stat is not None:
        content = Content(writer.digest, stat.st_size, stat.st_mtime_ns)
    else:
        content = Content(writer.digest, None if signed else writer.size)
    remember(path, content)
    return content


def remember(path: str, content: Content) -> None:
    with _lock:
        _known[key(path)] = content


def forget(path: str) -> None:
    with _lock:
        _known.pop(key(path), None)


def known(path: str) -> Content | None:
    """What this process wrote or hashed at ``path``, unchecked (see ``current``)."""
    return _known.get(key(path))


def known_at_key(path_key: str) -> Content | None:
    """``known`` for a path already in ``key``'s form (an absolute, normalized local path, or a URL): no normalizing again.

    The journal asks this for every output path of a wide task's requirements, already made absolute.
    """
    return _known.get(path_key)


def current(path: str) -> Content | None:
    """The content remembered for ``path`` when the file is still the one it was taken from; None when unknown or changed.

    Locally the file's size and modification time must match (one ``stat``); on object stores what this
    process wrote there is trusted (asking would cost a request per input).
    """
    found = known(path)
    if found is None:
        return None
    if found.mtime_ns is None or not storage.is_local(path):
        return found
    try:
        stat = os.stat(storage.local_path(path))
    except OSError:
        forget(path)
        return None
    if (found.size is not None and stat.st_size != found.size) or stat.st_mtime_ns != found.mtime_ns:
        forget(path)
        return None
    return found


def hash_file(path: str) -> Content:
    """Read ``path`` and hash its content (a signature trailer left out), remember it and return it; ``FileNotFoundError`` when missing."""
    from gokart.storage import signing

    stat = local_stat(path)
    digest = blake3.blake3()
    with storage.open_read(path) as stream:
        if stream.seekable():
            stored: int | None = stream.seek(0, io.SEEK_END)
            remaining = (stored or 0) - signing.trailer_length(stream)
            while remaining > 0 and (chunk := stream.read(min(_READ_BYTES, remaining))):
                digest.update(chunk)
                remaining -= len(chunk)
        else:  # pragma: no cover - every store gokart reads from opens seekable streams
            data, _ = signing.split_trailer(stream)
            digest.update(data)
            stored = None
    found = Content(
        _PREFIX + digest.hexdigest(), stat.st_size if stat is not None else stored, stat.st_mtime_ns if stat is not None else None
    )
    remember(path, found)
    return found


def local_stat(path: str) -> os.stat_result | None:
    """The ``os.stat`` of a local output (None on an object store or when it is gone): size and mtime tell a rewrite."""
    if not storage.is_local(path):
        return None
    try:
        return os.stat(storage.local_path(path))
    except OSError:
        return None


__all__ = ['ALGORITHM', 'Content', 'HashingWriter', 'current', 'hash_file', 'is_digest', 'known', 'local_stat', 'note_written', 'remember']
