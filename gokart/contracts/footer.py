"""The columns of a cached parquet or feather output, read from its footer: the data itself is never read.

A parquet file ends with its schema (the footer), and so does an Arrow IPC (feather) file: reading a
10-million-row output's columns costs a few kilobytes, not the file. The bytes read are counted, so a
test (and ``gokart plan``'s reader) can see that.
"""

from __future__ import annotations

import io
import json
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
    """The columns of the ``fmt`` file at ``path``, from its footer; the index columns pandas and gokart add are left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with storage.open_read(path) as raw:
        counted = _CountingReader(raw)
        if fmt == PARQUET:
            arrow_schema = pq.read_schema(counted)
        else:
            arrow_schema = pa.ipc.open_file(counted).schema
        size = counted.size()
    hidden = _index_columns(arrow_schema)
    columns = {
        field.name: arrow_kind(field.type)
        for field in arrow_schema
        if field.name not in hidden and not field.name.startswith(FEATHER_INDEX_PREFIX)
    }
    return FooterColumns(columns=columns, bytes_read=counted.bytes_read, file_size=size)


def arrow_kind(arrow_type: Any) -> str:
    """The kind of an Arrow type (``int64``, ``float32``, ``string``, ``datetime``, ``category``, ...)."""
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
