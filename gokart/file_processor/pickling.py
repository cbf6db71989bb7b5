"""Pickle files (``.pkl``) and lzma-compressed pickle files (``.xz``, ``.lzma``).

gokart 1.12.2 pickled everything with dill, whose pure-Python pickler is several times slower
than the standard one. Here the C pickler (protocol 5) writes whatever it can hold by reference,
and dill is used only for what it cannot: lambdas, local classes, and classes or functions
defined in ``__main__`` (dill stores those by value, so a script's objects still load elsewhere).
dill reads standard pickles, so files written here load in gokart 1.12.2, and the reader below
accepts dill pickles and pickles from old pandas versions.
"""

from __future__ import annotations

import io
import logging
import lzma
import pickle
import types
from collections.abc import Callable
from typing import IO, Any

from . import base
from .base import BinaryFormatProcessor
from .errors import FileLoadError

PICKLE_PROTOCOL = 5
"""Readable by Python >= 3.8; keeps large buffers (numpy, arrow) out of extra copies."""

WRITE_CHUNK_BYTES = 1 << 30
"""Largest single ``write()``: macOS fails writes of 2 GiB and more, as gokart found."""

StreamWrapper = Callable[[IO[bytes]], IO[bytes]]

# gokart 1.12 logged each pickle it wrote from its chunked writer, in file_processor.base; pipelines
# that ship gokart's records count on them (issue 30).
_write_log = logging.getLogger('gokart.file_processor.base')


class PickleFileProcessor(BinaryFormatProcessor):
    """Any picklable object; the default format of a task's output."""

    def load(self, file: IO[bytes]) -> Any:
        return load_pickle(file, chunked=True)

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        dump_pickle(obj, file)


class LzmaPickleFileProcessor(BinaryFormatProcessor):
    """A pickle compressed with lzma: much smaller files for much slower writes.

    ``lzma_format`` is ``lzma.FORMAT_XZ`` for ``.xz`` and ``lzma.FORMAT_ALONE`` for ``.lzma``, the
    containers the command-line ``xz``/``unlzma`` tools expect. Loading detects either.
    """

    def __init__(self, lzma_format: int = lzma.FORMAT_XZ, preset: int | None = None) -> None:
        self._lzma_format = lzma_format
        self._preset = preset

    def load(self, file: IO[bytes]) -> Any:
        return load_pickle(file, lambda raw: lzma.LZMAFile(raw, 'rb'))  # type: ignore[return-value]

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        dump_pickle(obj, file, lambda raw: lzma.LZMAFile(raw, 'wb', format=self._lzma_format, preset=self._preset))  # type: ignore[return-value]


def dump_pickle(obj: Any, file: IO[bytes], compress: StreamWrapper | None = None) -> None:
    """Pickle ``obj`` into ``file``, with the C pickler when it can and dill when it cannot.

    A failed first attempt must leave no bytes behind, so the fallback rewinds a seekable file;
    a stream that cannot rewind (an upload) gets the pickle built in memory first.
    """
    if not _can_rewind(file):
        buffer = io.BytesIO()
        _pickle_into(obj, buffer, compress)
        written = _ChunkedWriter(file).write(buffer.getbuffer())
    else:
        written = _pickle_into(obj, file, compress)
    if compress is None:  # gokart 1.12 had no compressed pickles, hence no records of them
        _log_written(written)


def _pickle_into(obj: Any, file: IO[bytes], compress: StreamWrapper | None) -> int:
    """Pickle ``obj`` into the rewindable ``file``; the number of bytes the pickler wrote."""
    start = file.tell()
    try:
        return _write(obj, file, compress, _PlainPickler)
    except OSError:
        raise
    except Exception:
        file.seek(start)
        file.truncate()
        return _write(obj, file, compress, _dill_pickler())


def _log_written(total: int) -> None:
    """gokart 1.12's records of one pickle written: its size, each chunk of at most WRITE_CHUNK_BYTES, done.

    Emitted once the bytes are written (the size is known only then, as the pickle streams to the
    file), and only when someone listens at INFO.
    """
    if not _write_log.isEnabledFor(logging.INFO):
        return
    _write_log.info(f'writing a file with total_bytes={total}...')
    for start in range(0, total, WRITE_CHUNK_BYTES):
        _write_log.info(f'writing bytes [{start}, {min(start + WRITE_CHUNK_BYTES, total)})')
    _write_log.info('done')


def load_pickle(file: IO[bytes], decompress: StreamWrapper | None = None, chunked: bool = False) -> Any:
    """Unpickle ``file``: the C unpickler, then dill, then pandas' reader for old pandas pickles.

    With ``chunked`` the unpicklers read through ``gokart.file_processor.base._ChunkedLargeFileReader``,
    looked up there at each load (gokart 1.12 read ``.pkl`` files through it, and users' tests wrap or
    replace it there). Raises ``FileLoadError`` (with the first reader's exception as cause) when all
    fail, so a truncated or corrupt file never passes silently.
    """
    if not file.seekable():
        file = io.BytesIO(file.read())
    start = file.tell()
    view: Any = base._ChunkedLargeFileReader(file) if chunked else file
    errors: list[Exception] = []
    for reader in _READERS:
        file.seek(start)
        if decompress:
            stream = decompress(file)
        else:
            stream = file if reader is _read_with_pandas else view  # pandas wants a whole file object
        try:
            loaded = reader(stream)
            if decompress:
                # The pickle ends before the container does; reading on checks the integrity trailer.
                stream.read()
            return loaded
        except Exception as error:  # each reader fails in its own way; the next one may succeed
            errors.append(error)
    raise FileLoadError(f'The file is not a readable pickle: {errors[0]!r}') from errors[0]


def _read_with_pandas(stream: IO[bytes]) -> Any:
    import pandas as pd  # only needed for pickles written by old pandas versions

    return pd.read_pickle(stream)


def _read_with_dill(stream: IO[bytes]) -> Any:
    import dill

    return dill.load(stream)


_READERS: tuple[Callable[[IO[bytes]], Any], ...] = (pickle.load, _read_with_dill, _read_with_pandas)


class _NeedsDill(pickle.PicklingError):
    """The standard pickler would store this object by a reference that may not resolve later."""


class _PlainPickler(pickle.Pickler):
    """The C pickler, refusing names from ``__main__`` that only dill can store by value."""

    def reducer_override(self, obj: Any) -> Any:
        # Only called for non-trivial objects (not for ints, strs, lists...), so it costs little.
        if isinstance(obj, type | types.FunctionType) and getattr(obj, '__module__', None) == '__main__':
            raise _NeedsDill(f'{obj!r} is defined in __main__')
        return NotImplemented


def _dill_pickler() -> type[pickle.Pickler]:
    import dill

    return dill.Pickler  # type: ignore[no-any-return]


def _write(obj: Any, file: IO[bytes], compress: StreamWrapper | None, pickler_class: type[pickle.Pickler]) -> int:
    stream = compress(file) if compress else file
    writer = _ChunkedWriter(stream)
    try:
        pickler_class(writer, protocol=PICKLE_PROTOCOL).dump(obj)
        return writer.written
    finally:
        if compress:
            stream.close()  # flushes the compressor; the raw file stays open


def _can_rewind(file: IO[bytes]) -> bool:
    try:
        return bool(file.seekable()) and hasattr(file, 'truncate')
    except (AttributeError, ValueError):
        return False


class _ChunkedWriter:
    """A write-only view of a binary file that never passes more than WRITE_CHUNK_BYTES at once."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.written = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast('B')
        for start in range(0, len(view), WRITE_CHUNK_BYTES):
            self._file.write(view[start : start + WRITE_CHUNK_BYTES])
        self.written += len(view)
        return len(view)
