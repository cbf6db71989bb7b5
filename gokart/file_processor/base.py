"""The processor interface: how one Python object becomes the bytes of one file and back."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import IO, Any, Literal, get_args

import luigi.format

from gokart.utils import load_dill_with_pandas_backward_compatibility as load_dill_with_pandas_backward_compatibility  # as in 1.12

DataFrameType = Literal['pandas', 'polars', 'polars-lazy']
"""Which DataFrame library a tabular processor reads into and accepts for writing."""

DATAFRAME_TYPES: tuple[str, ...] = get_args(DataFrameType)

FEATHER_INDEX_PREFIX = '__feather_gokart_index__'
"""Column-name prefix under which a feather file keeps the DataFrame index (gokart's layout)."""


class FileProcessor(ABC):
    """Reads and writes one kind of file.

    The target opens the file with the luigi format that ``format()`` returns. Every built-in
    processor returns ``luigi.format.Nop`` and therefore works on binary file objects: ``dump``
    gets a writable binary file (a local temporary file or a remote fsspec file, so ``.name``
    must not be relied on) and ``load`` gets a readable, seekable binary file.
    """

    @abstractmethod
    def format(self) -> Any:
        """The luigi format the target opens the file with."""

    @abstractmethod
    def load(self, file: Any) -> Any:
        """Read the object stored in ``file``."""

    @abstractmethod
    def dump(self, obj: Any, file: Any) -> None:
        """Write ``obj`` to ``file``."""


class BinaryFormatProcessor(FileProcessor, ABC):
    """Base of the built-in processors: they all handle raw bytes themselves."""

    def format(self) -> Any:
        return luigi.format.Nop


def check_dataframe_type(dataframe_type: str) -> DataFrameType:
    """Reject a misspelt ``dataframe_type`` early, where the mistake was made."""
    if dataframe_type not in DATAFRAME_TYPES:
        raise ValueError(f'dataframe_type must be one of {list(DATAFRAME_TYPES)}, but {dataframe_type!r} is passed.')
    return dataframe_type  # type: ignore[return-value]


def require_type(obj: Any, expected: type | tuple[type, ...], description: str) -> None:
    """Raise gokart's ``TypeError('requires X, but <class Y> is passed.')`` when ``obj`` has the wrong type."""
    if not isinstance(obj, expected):
        raise TypeError(f'requires {description}, but {type(obj)} is passed.')


def read_all(file: IO[bytes]) -> bytes:
    """The whole content of ``file`` as bytes (readers that need a buffer, not a stream)."""
    data = file.read()
    return bytes(data) if not isinstance(data, bytes) else data


class _ChunkedLargeFileReader:
    """A binary reader that asks the file for at most ``_CHUNK_BYTES`` per call (gokart 1.12's class).

    Some platforms (macOS) fail a single ``read`` of 2 GiB or more; unpickling a large object through
    this wrapper reads it in pieces instead. ``read(-1)`` reads the rest.
    """

    _CHUNK_BYTES = 1 << 30

    def __init__(self, file: Any) -> None:
        self._file = file

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        remaining = n
        while remaining != 0:
            size = self._CHUNK_BYTES if remaining < 0 else min(remaining, self._CHUNK_BYTES)
            part = self._file.read(size)
            if not part:
                break
            parts.append(part)
            if remaining > 0:
                remaining -= len(part)
        return b''.join(parts)

    def readinto(self, buffer: Any) -> int:
        # Not in 1.12's class: without it the unpickler reads each large buffer (a numpy array, a frame's
        # column) as bytes and copies it, twice as slow as reading it into place.
        view = memoryview(buffer).cast('B')
        read_into = getattr(self._file, 'readinto', None)
        total = 0
        while total < len(view):
            end = min(len(view), total + self._CHUNK_BYTES)
            if read_into is not None:
                count = read_into(view[total:end]) or 0
            else:
                part = self._file.read(end - total)
                count = len(part)
                view[total : total + count] = part
            if not count:
                break
            total += count
        return total

    def readline(self) -> bytes:
        line: bytes = self._file.readline()
        return line

    def seek(self, offset: int) -> None:
        self._file.seek(offset)

    def seekable(self) -> bool:
        return bool(self._file.seekable())


_LATER_HOMES = {
    'BinaryFileProcessor': 'binary',
    'NpzFileProcessor': 'binary',
    'PickleFileProcessor': 'pickling',
    'GzipFileProcessor': 'text',
    'TextFileProcessor': 'text',
    'XmlFileProcessor': 'text',
}


def __getattr__(name: str) -> Any:
    """gokart 1.12 defined every processor here; they now live in a module per family, which imports this one.

    Resolved on access so that ``from gokart.file_processor.base import PickleFileProcessor`` keeps working
    without an import cycle.
    """
    if name in _LATER_HOMES:
        module = importlib.import_module(f'{__package__}.{_LATER_HOMES[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
