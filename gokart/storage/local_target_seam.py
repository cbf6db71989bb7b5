"""Local outputs through ``luigi.LocalTarget`` while a test has replaced it, for example by ``luigi.mock.MockTarget``.

gokart 1.12 read and wrote local outputs through ``luigi.LocalTarget``, so teams test pipelines in
memory with ``mock.patch('luigi.LocalTarget', new=lambda path, **kwargs: MockTarget(path, **kwargs))``.
``gokart.storage.filesystem`` works on the file system directly; while ``luigi.LocalTarget`` is not luigi's own
class it sends local reads, writes, existence checks and deletions through whatever replaced it.
Finding out costs one identity comparison, so the default path pays nothing measurable.
"""

from __future__ import annotations

import datetime
import errno
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import luigi
import luigi.format

_LUIGI_LOCAL_TARGET = luigi.LocalTarget


def replacement() -> Any | None:
    """What ``luigi.LocalTarget`` was replaced by, or None while it is luigi's own class."""
    current = luigi.LocalTarget
    return None if current is _LUIGI_LOCAL_TARGET else current


def exists(factory: Any, path: str) -> bool:
    return bool(_target(factory, path).exists())


def open_read(factory: Any, path: str) -> IO[bytes]:
    """The file's bytes as a seekable stream; ``FileNotFoundError`` when the target does not exist.

    One request when the file is there: its existence is asked only when opening it failed, to tell
    a missing file (whatever the replacement raises for it) from another error.
    """
    target = _target(factory, path)
    try:
        with target.open('r') as stream:
            return io.BytesIO(stream.read())
    except Exception:
        if not target.exists():
            raise FileNotFoundError(errno.ENOENT, 'No such file (luigi.LocalTarget is replaced)', path) from None
        raise


@contextmanager
def atomic_write(factory: Any, path: str) -> Iterator[IO[bytes]]:
    """Collect the bytes, then write them through the target in one go when the block ends without error."""
    buffer = io.BytesIO()
    yield buffer
    write_bytes(factory, path, buffer.getbuffer())


def write_bytes(factory: Any, path: str, data: bytes | memoryview) -> None:
    with _target(factory, path).open('w') as stream:
        stream.write(bytes(data))


def remove(factory: Any, path: str) -> None:
    target = _target(factory, path)
    if target.exists():
        target.remove()


def modification_time(factory: Any, path: str) -> datetime.datetime:
    """When the output was last written; in-memory targets keep no time, so an existing one counts as written now."""
    target = _target(factory, path)
    if not target.exists():
        raise FileNotFoundError(errno.ENOENT, 'No such file (luigi.LocalTarget is replaced)', path)
    getmtime = getattr(getattr(target, 'fs', None), 'getmtime', None)
    if callable(getmtime):
        return datetime.datetime.fromtimestamp(getmtime(path), tz=datetime.timezone.utc)
    return datetime.datetime.now(tz=datetime.timezone.utc)


def _target(factory: Any, path: str) -> Any:
    # Bytes in and out: gokart's file processors do the formatting.
    return factory(path, format=luigi.format.Nop)
