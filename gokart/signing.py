"""Opt-in HMAC-SHA256 signatures on outputs that are unpickled when loaded.

Unpickling runs code chosen by whoever wrote the file, so a workspace that others can write to
(a shared bucket, a shared disk) lets any writer run code in every reader. With a key set, every
pickle output (``.pkl``, ``.xz``, ``.lzma``, and the zips of model and large-DataFrame targets)
is written with a signature, and loading refuses, before unpickling a single byte, any such
output whose signature is missing or wrong.

The key comes from the environment variable ``GOKART_PICKLE_SIGNING_KEY`` or, when that is not
set, from ``pickle_signing_key`` in the ``[gokart]`` section of the luigi config. Without a key
nothing changes: files are byte-for-byte what gokart 1.12 writes and reads.

On-disk format: the file as gokart writes it, followed by a trailer of ``TRAILER_MAGIC`` and the
32-byte HMAC-SHA256 of (``DOMAIN``, the file's base name, the content). Unpicklers stop at the
pickle's end, lzma skips trailing data and zip finds its directory from the end, so a signed file
still loads without a key and in gokart 1.12. Binding the base name (which holds the unique id)
stops a signed output of one task from being passed off as another task's. See docs/safety.md
for what this does not protect against.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from gokart.errors import UnsignedOutputError
from gokart.file_processor.pickling import LzmaPickleFileProcessor, PickleFileProcessor

ENVIRONMENT_VARIABLE = 'GOKART_PICKLE_SIGNING_KEY'
CONFIG_SECTION = 'gokart'
CONFIG_OPTION = 'pickle_signing_key'

TRAILER_MAGIC = b'\n#gokart-hmac-sha256-v1:'
"""Marks a signed file; the digest follows it and ends the file."""

DIGEST_BYTES = hashlib.sha256().digest_size
TRAILER_BYTES = len(TRAILER_MAGIC) + DIGEST_BYTES
DOMAIN = b'gokart pickle signature v1\x00'


_UNPINNED = object()
_pinned_key: Any = _UNPINNED


def signing_key() -> bytes | None:
    """The signing key (UTF-8 bytes of the setting), or None when signing is off."""
    if _pinned_key is not _UNPINNED:
        return _pinned_key  # type: ignore[no-any-return]
    value = os.environ.get(ENVIRONMENT_VARIABLE)
    if not value:
        value = _config_value()
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


@contextmanager
def signed(stream: IO[bytes], path: str, applies: bool = True) -> Iterator[IO[bytes]]:
    """Yield a stream to write the content of ``path`` to; with a key, the signature trailer is appended at the end.

    ``stream`` itself is yielded when signing is off or does not ``apply`` to this output. The
    signed stream cannot seek: writers that need to rewind (the pickle fallback to dill) then build
    their bytes in memory first.
    """
    key = signing_key() if applies else None
    if key is None:
        yield stream
        return
    signer = _SigningStream(stream, _new_mac(key, path))
    yield signer  # type: ignore[misc]
    stream.write(TRAILER_MAGIC + signer.mac.digest())


def verified(stream: IO[bytes], path: str, applies: bool = True) -> IO[bytes]:
    """The content of ``path`` read from ``stream``, checked against its signature when a key is set.

    Raises ``UnsignedOutputError`` when the signature is missing or does not match, without
    handing any of the content to a reader. The whole file is read into memory first, so that it
    cannot change between the check and the load.
    """
    key = signing_key() if applies else None
    if key is None:
        return stream
    content, trailer = _split_trailer(stream)
    if trailer is None or trailer[: len(TRAILER_MAGIC)] != TRAILER_MAGIC:
        raise UnsignedOutputError(_refusal(path, 'it has no signature'))
    mac = _new_mac(key, path)
    mac.update(content)
    if not hmac.compare_digest(mac.digest(), trailer[len(TRAILER_MAGIC) :]):
        raise UnsignedOutputError(_refusal(path, 'its signature does not match its content'))
    return io.BytesIO(content)  # shares the bytes: no copy of a large output


def _split_trailer(stream: IO[bytes]) -> tuple[bytes, bytes | None]:
    """(content, trailer) of a file, or (everything, None) when it is too short to hold a trailer."""
    if stream.seekable():
        size = stream.seek(0, io.SEEK_END)
        if size < TRAILER_BYTES:
            stream.seek(0)
            return stream.read(), None
        stream.seek(size - TRAILER_BYTES)
        trailer = stream.read()
        stream.seek(0)
        return stream.read(size - TRAILER_BYTES), trailer
    data = stream.read()
    if len(data) < TRAILER_BYTES:
        return data, None
    return data[:-TRAILER_BYTES], data[-TRAILER_BYTES:]


def _new_mac(key: bytes, path: str) -> hmac.HMAC:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    name = os.path.basename(path.rstrip('/')).encode()
    mac.update(DOMAIN + len(name).to_bytes(4, 'big') + name)
    return mac


def _refusal(path: str, reason: str) -> str:
    return (
        f'refusing to load {path}: pickle signing is on ({ENVIRONMENT_VARIABLE} or [{CONFIG_SECTION}] {CONFIG_OPTION}) and {reason}. '
        'It was written without the key, with another key, or changed since it was written; unpickling it could run code '
        'chosen by whoever wrote it. If the file is yours, rerun the task that writes it (rerun=True) or delete the file.'
    )


def _config_value() -> str | None:
    from gokart.utils import config_section

    value = (config_section(CONFIG_SECTION) or {}).get(CONFIG_OPTION)
    return str(value) if value else None


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


__all__ = ['ENVIRONMENT_VARIABLE', 'CONFIG_SECTION', 'CONFIG_OPTION', 'signing_key', 'covers', 'signed', 'verified']
