"""The columns of a cached parquet or feather output, read from its footer: the data itself is never read.

A parquet file ends with its schema (the footer), and so does an Arrow IPC (feather) file: reading a
10-million-row output's columns costs a few kilobytes, not the file. The bytes read are counted, so a
test (and ``gokart plan``'s reader) can see that.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
from dataclasses import dataclass
from typing import IO, Any

from gokart.file_processor import FeatherFileProcessor, ParquetFileProcessor
from gokart.file_processor.base import FEATHER_INDEX_PREFIX  # not pandas_backend: importing gokart must not import pandas
from gokart.storage import filesystem as storage

PARQUET = 'parquet'
FEATHER = 'feather'


@dataclass
class FooterColumns:
    """The columns of a file (name -> kind, as ``gokart.contracts.schema`` names kinds) and the bytes read to learn them."""

    columns: dict[str, str]
    bytes_read: int
    file_size: int


def file_format(target: Any) -> str | None:
    """``'parquet'`` or ``'feather'`` for a target whose processor writes that format; None for any other target."""
    processor = getattr(target, '_processor', None)
    if isinstance(processor, ParquetFileProcessor):
        return PARQUET
    if isinstance(processor, FeatherFileProcessor):
        return FEATHER
    return None


def read_columns(path: str, fmt: str) -> FooterColumns:
    """The columns of the ``fmt`` file at ``path``, from its footer; the index columns pandas and gokart add are left out.

    A parquet file's last 8 bytes give the footer's length: exactly the footer is read, then parsed.
    A feather file is opened as Arrow IPC, whose reader reads its footer and nothing else.
    """
    import pyarrow as pa
    import pyarrow.parquet  # noqa: F401 - loads pyarrow._parquet, whose reader _parquet_schema uses

    with storage.open_read(path) as raw:
        counted = _CountingReader(raw)
        size = counted.size()
        if fmt == PARQUET:
            arrow_schema = _parquet_schema(pa.BufferReader(_parquet_footer(counted, size)))
        else:
            arrow_schema = pa.ipc.open_file(counted).schema
    columns = {field.name: arrow_kind(field.type) for field in arrow_schema if not field.name.startswith(_HIDDEN_PREFIXES)}
    if any(field.name.startswith(_PANDAS_INDEX_PREFIX) for field in arrow_schema):
        for name in _index_columns(arrow_schema):
            columns.pop(name, None)
    return FooterColumns(columns=columns, bytes_read=counted.bytes_read, file_size=size)


def cached_columns(path: str, fmt: str) -> FooterColumns:
    """``read_columns``, remembered for a local file while its size, modification time and inode stay the same.

    A notebook that builds the same DAG again reads no footer twice; a file rewritten (gokart's writes
    replace the file) is read again.
    """
    stamp = _stamp(path)
    if stamp is not None:
        known = _read.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
    found = read_columns(path, fmt)
    if stamp is not None:
        _read[path] = (stamp, found)
    return found


_read: dict[str, tuple[tuple[int, int, int], FooterColumns]] = {}
_HIDDEN_PREFIXES = (FEATHER_INDEX_PREFIX,)
_PANDAS_INDEX_PREFIX = '__index_level_'


def _stamp(path: str) -> tuple[int, int, int] | None:
    if not storage.is_local(path):
        return None
    try:
        found = os.stat(storage.local_path(path))
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino)


def _parquet_schema(source: Any) -> Any:
    """The Arrow schema of a parquet footer: through pyarrow's reader itself, without ``ParquetFile``'s set-up, where it has one."""
    import pyarrow.parquet as pq

    reader_class = getattr(sys.modules.get('pyarrow._parquet'), 'ParquetReader', None)
    if reader_class is None:
        return pq.read_schema(source)
    reader = reader_class()
    reader.open(source)
    return reader.schema_arrow


def _parquet_footer(stream: _CountingReader, size: int) -> bytes:
    """The footer of a parquet file with the magic bytes around it: what a parquet reader needs to read the schema."""
    if size < 12:
        raise ValueError(f'a parquet file has at least 12 bytes; this one has {size}')
    stream.seek(size - 8)
    length, magic = struct.unpack('<I4s', stream.read(8))
    if magic != b'PAR1' or length + 12 > size:
        raise ValueError('the file does not end with a parquet footer (no PAR1 magic, or a footer longer than the file)')
    stream.seek(size - 8 - length)
    return b'PAR1' + stream.read(length + 8)


def arrow_kind(arrow_type: Any) -> str:
    """The kind of an Arrow type (``int64``, ``float32``, ``string``, ``datetime``, ``category``, ...)."""
    found = _kinds.get(arrow_type)
    if found is None:
        found = _kinds[arrow_type] = _arrow_kind(arrow_type)
    return found


_kinds: dict[Any, str] = {}


def _arrow_kind(arrow_type: Any) -> str:
    import pyarrow.types as t

    if t.is_integer(arrow_type):
        return str(arrow_type)
    if t.is_floating(arrow_type):
        return f'float{arrow_type.bit_width}'
    checks = (
        (t.is_boolean, 'bool'),
        (t.is_string, 'string'),
        (t.is_large_string, 'string'),
        (getattr(t, 'is_string_view', lambda _: False), 'string'),
        (t.is_binary, 'binary'),
        (t.is_large_binary, 'binary'),
        (t.is_timestamp, 'datetime'),
        (t.is_date, 'date'),
        (t.is_duration, 'duration'),
        (t.is_time, 'time'),
        (t.is_dictionary, 'category'),
        (t.is_list, 'list'),
        (t.is_large_list, 'list'),
        (t.is_fixed_size_list, 'list'),
        (t.is_struct, 'struct'),
        (t.is_decimal, 'decimal'),
        (t.is_null, 'null'),
    )
    for check, kind in checks:
        if check(arrow_type):
            return kind
    return 'object'


def _index_columns(arrow_schema: Any) -> set[str]:
    """The columns pandas stored its index in (``__index_level_0__``), from the schema's pandas metadata."""
    metadata = arrow_schema.metadata or {}
    raw = metadata.get(b'pandas')
    if not raw:
        return set()
    try:
        index = json.loads(raw).get('index_columns', [])
    except (ValueError, AttributeError):
        return set()
    return {name for name in index if isinstance(name, str)}


class _CountingReader(io.RawIOBase):
    """A read-only, seekable view of a stream that counts the bytes read through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def size(self) -> int:
        here = self._stream.tell()
        end = self._stream.seek(0, io.SEEK_END)
        self._stream.seek(here)
        return end


__all__ = ['FEATHER', 'PARQUET', 'FooterColumns', 'arrow_kind', 'file_format', 'read_columns']
