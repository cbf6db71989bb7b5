"""Opt-in HMAC-SHA256 signatures on outputs that are unpickled when loaded.

Unpickling runs code chosen by whoever wrote the file, so a workspace that others can write to
(a shared bucket, a shared disk) lets any writer run code in every reader. With a key set, every
pickle output (``.pkl``, ``.xz``, ``.lzma``, and the zips of model and large-DataFrame targets)
is written with a signature, and loading refuses, before unpickling a single byte, any such
output whose signature is missing, wrong, or made for another location.

The key comes from the environment variable ``GOKART_PICKLE_SIGNING_KEY`` or, when that is not
set, from ``pickle_signing_key`` in the ``[gokart]`` section of the luigi config. Without a key
nothing changes: files are byte-for-byte what gokart 1.12 writes and reads.

On-disk format (v2): the file as gokart writes it, then ``TRAILER_MAGIC``, the name the file was
signed under (UTF-8), that name's length (2 bytes, big-endian) and the 32-byte HMAC-SHA256 of
(``DOMAIN``, the name, the content). The name is the output's path relative to its task's
workspace, which holds the unique id where the output has one, so a signed file moved or copied
to any other output's place (another directory, another task, another log record) is refused.
Readers that do not know the workspace (``gokart.target.make_target`` on a full path, zip
clients) accept a name their path ends with. Unpicklers stop at the pickle's end, lzma skips
trailing data and zip finds its directory from the end, so a signed file still loads without a
key and in gokart 1.12. Files signed by the v1 format (base name only) are refused with the
command that re-signs them (``gokart.resign``). See docs/safety.md for the limits.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, NamedTuple

from gokart.core import settings
from gokart.errors import UnsignedOutputError
from gokart.file_processor.pickling import LzmaPickleFileProcessor, PickleFileProcessor

CONFIG_SECTION = settings.SECTION
CONFIG_OPTION = 'pickle_signing_key'
ENVIRONMENT_VARIABLE = settings.setting(CONFIG_OPTION).environment_variable

TRAILER_MAGIC = b'\n#gokart-hmac-sha256-v2:'
"""Marks a signed file; the signed name, its length and the digest follow it and end the file."""

DIGEST_BYTES = hashlib.sha256().digest_size
NAME_LENGTH_BYTES = 2
DOMAIN = b'gokart pickle signature v2\x00'

LEGACY_TRAILER_MAGIC = b'\n#gokart-hmac-sha256-v1:'
"""The v1 trailer (magic and digest only; the digest bound the base name): refused, re-signed by ``gokart.resign``."""
LEGACY_DOMAIN = b'gokart pickle signature v1\x00'
LEGACY_TRAILER_BYTES = len(LEGACY_TRAILER_MAGIC) + DIGEST_BYTES

COVERED_EXTENSIONS = ('.pkl', '.xz', '.lzma')
"""Extensions whose default processor unpickles: the files an archive vouches for (see ``vouch_for``)."""

RESIGN_COMMAND = 'python -m gokart.resign WORKSPACE_DIRECTORY'

_UNPINNED = object()
_pinned_key: Any = _UNPINNED


def signing_key() -> bytes | None:
    """The signing key (UTF-8 bytes of the setting), or None when signing is off."""
    if _pinned_key is not _UNPINNED:
        return _pinned_key  # type: ignore[no-any-return]
    value = settings.value(CONFIG_OPTION)
    return value.encode() if value else None


@contextmanager
def key_pinned() -> Iterator[None]:
    """Within the block, ``signing_key()`` answers with the key in effect when the block began.

    A build writes six files per task, each asking for the key (the environment and the luigi
    config); a build reads it once instead, so the key of a build is the one it started with.
    """
    global _pinned_key
    previous = _pinned_key
    _pinned_key = signing_key()
    try:
        yield
    finally:
        _pinned_key = previous


def covers(processor: Any) -> bool:
    """True for processors whose load unpickles, the outputs signing protects."""
    return isinstance(processor, (PickleFileProcessor, LzmaPickleFileProcessor))


def signed_name(path: str, workspace: str | None = None) -> str:
    """The name ``path`` is signed under: relative to ``workspace`` when it lies there, else the whole path; normalized."""
    if workspace is not None:
        prefix = os.path.join(workspace, '')
        if path.startswith(prefix):
            path = path[len(prefix) :]
    scheme, separator, rest = path.rpartition('://')
    return scheme + separator + posixpath.normpath(rest.replace(os.sep, '/'))


@contextmanager
def signed(stream: IO[bytes], path: str, applies: bool = True, workspace: str | None = None) -> Iterator[IO[bytes]]:
    """Yield a stream to write the content of ``path`` to; with a key, the signature trailer is appended at the end.

    ``workspace`` is the directory of the task the output belongs to (None when unknown): the
    signature binds the path relative to it. ``stream`` itself is yielded when signing is off or
    does not ``apply`` to this output. The signed stream cannot seek: writers that need to rewind
    (the pickle fallback to dill) then build their bytes in memory first.
    """
    key = signing_key() if applies else None
    if key is None:
        yield stream
        return
    name = _encode_name(signed_name(path, workspace), path)
    signer = _SigningStream(stream, _new_mac(key, name))
    yield signer  # type: ignore[misc]
    stream.write(trailer(name, signer.mac.digest()))


def verified(stream: IO[bytes], path: str, applies: bool = True, workspace: str | None = None) -> IO[bytes]:
    """The content of ``path`` read from ``stream``, checked against its signature when a key is set.

    Raises ``UnsignedOutputError`` when the signature is missing, does not match, or was made for
    another location, without handing any of the content to a reader. With ``workspace`` (the
    output's task workspace) the signed name must equal the path relative to it; without, the path
    must end with the signed name. The whole file is read into memory first, so that it cannot
    change between the check and the load. A file without a signature passes only when a signed
    archive just vouched for these very bytes at this path (``vouch_for``).
    """
    key = signing_key() if applies else None
    if key is None:
        return stream
    content, found = _split(stream)
    if found is None:
        if _is_vouched(key, path, content):
            return io.BytesIO(content)
        raise UnsignedOutputError(_refusal(path, 'it has no signature'))
    _check(key, found, content, path, workspace)
    return io.BytesIO(content)  # shares the bytes: no copy of a large output


def verified_if_signed(stream: IO[bytes], path: str) -> tuple[IO[bytes], bool]:
    """(content, True) when a key is set and ``stream`` carries a valid signature for ``path``; (content, False) when it carries none.

    For readers of archives that need not be gokart outputs (zip clients): an unsigned archive is
    no error there, but a signed one that fails its check is (``UnsignedOutputError``).
    """
    key = signing_key()
    if key is None:
        return stream, False
    content, found = _split(stream)
    if found is None:
        return io.BytesIO(content), False
    _check(key, found, content, path, None)
    return io.BytesIO(content), True


_vouched: dict[str, tuple[bytes, bytes]] = {}


def vouch_for(path: str, content: bytes) -> None:
    """Remember that the local file ``path`` was extracted with ``content`` from an archive whose signature checked out.

    The pickles inside a signed model zip carry no signature of their own (the zip's covers them),
    yet clients such as thunderbolt extract the zip with a zip client and then load
    ``load_function.pkl`` with ``make_target(...).load()``. The zip client vouches for what it
    extracted, and ``verified`` accepts exactly those bytes at exactly that path, in this process,
    under the same key.
    """
    key = signing_key()
    if key is not None:
        _vouched[os.path.abspath(path)] = (key, hashlib.sha256(content).digest())


def trailer(name: bytes, digest: bytes) -> bytes:
    """The v2 trailer for a file signed under ``name`` with ``digest``."""
    return TRAILER_MAGIC + name + len(name).to_bytes(NAME_LENGTH_BYTES, 'big') + digest


def new_mac(key: bytes, name: str) -> hmac.HMAC:
    """A v2 MAC primed with ``name``; feed it the content. For tools that sign files themselves (``gokart.resign``)."""
    return _new_mac(key, _encode_name(name, name))


class Trailer(NamedTuple):
    """A trailer found at the end of a file: its format ``version`` (1 or 2), signed ``name`` (empty for v1), ``digest`` and total ``size``."""

    version: int
    name: bytes
    digest: bytes
    size: int


def split_trailer(stream: IO[bytes]) -> tuple[bytes, Trailer | None]:
    """(content, trailer) of a file; (everything, None) when it ends with no trailer."""
    return _split(stream)


def trailer_length(stream: IO[bytes]) -> int:
    """How many bytes at the end of the seekable ``stream`` a signature trailer takes (0 without one); the stream is left at 0."""
    _, found = _trailer_of_seekable(stream)
    return found.size if found is not None else 0


def _split(stream: IO[bytes]) -> tuple[bytes, Trailer | None]:
    if stream.seekable():
        size, found = _trailer_of_seekable(stream)
        return stream.read(size - found.size if found else size), found
    data = stream.read()
    found = _find_trailer(lambda offset, count: data[offset : offset + count], len(data))
    return (data[: -found.size] if found else data), found


def _trailer_of_seekable(stream: IO[bytes]) -> tuple[int, Trailer | None]:
    """(size, trailer) of a seekable stream, read from its end only; the stream is left at 0."""
    size = stream.seek(0, io.SEEK_END)

    def read_at(offset: int, count: int) -> bytes:
        stream.seek(offset)
        return stream.read(count)

    found = _find_trailer(read_at, size)
    stream.seek(0)
    return size, found


def _find_trailer(read_at: Callable[[int, int], bytes], size: int) -> Trailer | None:
    fixed = len(TRAILER_MAGIC) + NAME_LENGTH_BYTES + DIGEST_BYTES
    if size >= fixed:
        name_length = int.from_bytes(read_at(size - DIGEST_BYTES - NAME_LENGTH_BYTES, NAME_LENGTH_BYTES), 'big')
        length = fixed + name_length
        if size >= length:
            head = read_at(size - length, len(TRAILER_MAGIC) + name_length)
            if head[: len(TRAILER_MAGIC)] == TRAILER_MAGIC:
                return Trailer(2, head[len(TRAILER_MAGIC) :], read_at(size - DIGEST_BYTES, DIGEST_BYTES), length)
    if size >= LEGACY_TRAILER_BYTES and read_at(size - LEGACY_TRAILER_BYTES, len(LEGACY_TRAILER_MAGIC)) == LEGACY_TRAILER_MAGIC:
        return Trailer(1, b'', read_at(size - DIGEST_BYTES, DIGEST_BYTES), LEGACY_TRAILER_BYTES)
    return None


def _check(key: bytes, found: Trailer, content: bytes, path: str, workspace: str | None) -> None:
    if found.version == 1:
        raise UnsignedOutputError(
            f'refusing to load {path}: it was signed by an older gokart (signature format v1, which binds only the base name, '
            f'so a signed file could be swapped with another of the same name). Re-sign the workspace once with `{RESIGN_COMMAND}` '
            '(it checks each v1 signature first), or rerun the task that writes it (rerun=True).'
        )
    mac = _new_mac(key, found.name)
    mac.update(content)
    if not hmac.compare_digest(mac.digest(), found.digest):
        raise UnsignedOutputError(_refusal(path, 'its signature does not match its content'))
    name = found.name.decode('utf-8', 'surrogateescape')
    location = signed_name(path, workspace)
    if not (name == location or (workspace is None and location.endswith('/' + name))):
        raise UnsignedOutputError(
            _refusal(path, f'it was signed as the output {name!r}, not {location!r}: a signed file was copied or moved here')
        )


def _is_vouched(key: bytes, path: str, content: bytes) -> bool:
    entry = _vouched.get(os.path.abspath(path))
    return entry is not None and hmac.compare_digest(entry[0], key) and hmac.compare_digest(entry[1], hashlib.sha256(content).digest())


def _encode_name(name: str, path: str) -> bytes:
    encoded = name.encode('utf-8', 'surrogateescape')
    if len(encoded) >= 1 << (8 * NAME_LENGTH_BYTES):
        raise ValueError(f'cannot sign {path}: its path is longer than {(1 << (8 * NAME_LENGTH_BYTES)) - 1} bytes')
    return encoded


def _new_mac(key: bytes, name: bytes) -> hmac.HMAC:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(DOMAIN + len(name).to_bytes(4, 'big') + name)
    return mac


def _refusal(path: str, reason: str) -> str:
    return (
        f'refusing to load {path}: pickle signing is on ({ENVIRONMENT_VARIABLE} or [{CONFIG_SECTION}] {CONFIG_OPTION}) and {reason}. '
        'It was written without the key, with another key, for another output, or changed since it was written; unpickling it '
        'could run code chosen by whoever wrote it. If the file is yours, rerun the task that writes it (rerun=True) or delete the file.'
    )


class _SigningStream(io.RawIOBase):
    """Passes writes through to a stream while feeding them to the MAC; cannot seek."""

    def __init__(self, stream: IO[bytes], mac: hmac.HMAC) -> None:
        self._stream = stream
        self.mac = mac

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        view = memoryview(b)
        self.mac.update(view)
        self._stream.write(view)  # type: ignore[arg-type]
        return view.nbytes

    def flush(self) -> None:
        self._stream.flush()


__all__ = [
    'ENVIRONMENT_VARIABLE',
    'CONFIG_SECTION',
    'CONFIG_OPTION',
    'signing_key',
    'covers',
    'signed_name',
    'signed',
    'verified',
    'verified_if_signed',
    'vouch_for',
]
