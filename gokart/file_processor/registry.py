"""Choosing a processor from a file's extension, and letting users add extensions.

The extension is ``os.path.splitext(path)[1]``, case-sensitive, as in gokart.
"""

from __future__ import annotations

import lzma
import os
from collections.abc import Callable

from . import polars_backend
from .base import DataFrameType, FileProcessor, check_dataframe_type
from .binary import BinaryFileProcessor, NpzFileProcessor
from .errors import UnsupportedFormatError
from .pickling import LzmaPickleFileProcessor, PickleFileProcessor
from .tabular import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor
from .text import GzipFileProcessor, TextFileProcessor, XmlFileProcessor

ProcessorFactory = Callable[[str, bool, DataFrameType], FileProcessor]
"""Builds a processor from ``(file_path, store_index_in_feather, dataframe_type)``."""

_factories: dict[str, ProcessorFactory] = {}


def make_file_processor(
    file_path: str | os.PathLike[str], store_index_in_feather: bool = True, *, dataframe_type: DataFrameType = 'pandas'
) -> FileProcessor:
    """The processor for ``file_path``'s extension.

    Raises ``UnsupportedFormatError`` (an ``AssertionError``) listing the known extensions.
    """
    path = os.fspath(file_path)
    if check_dataframe_type(dataframe_type) != 'pandas':
        # As 1.12: asking for polars frames without polars fails here, whatever the extension.
        polars_backend.import_polars()
    extension = os.path.splitext(path)[1]
    factory = _factories.get(extension)
    if factory is None:
        raise UnsupportedFormatError(extension, known_extensions(), path)
    return factory(path, store_index_in_feather, dataframe_type)


def register_file_processor(extension: str, factory: ProcessorFactory) -> ProcessorFactory | None:
    """Use ``factory`` for files ending in ``extension`` (e.g. ``'.yaml'``); returns the factory it replaced.

    ``factory(file_path, store_index_in_feather, dataframe_type)`` is called once per target, so
    it can read options from the path. A built-in extension may be overridden, for example to
    write ``.parquet`` with gzip: ``register_file_processor('.parquet', lambda *_: ParquetFileProcessor(compression='gzip'))``.
    """
    if not extension.startswith('.') or extension == '.' or os.sep in extension:
        raise ValueError(f"An extension starts with '.', like '.yaml', but {extension!r} is passed.")
    previous = _factories.get(extension)
    _factories[extension] = factory
    return previous


def unregister_file_processor(extension: str) -> ProcessorFactory | None:
    """Forget ``extension``; returns its factory, or None when it was not registered."""
    return _factories.pop(extension, None)


def known_extensions() -> list[str]:
    """Registered extensions, gokart's own first in gokart's order."""
    return list(_factories)


def _register_builtins() -> None:
    # Order matters only for the error message: gokart's list first, then the additions.
    builtins: list[tuple[str, ProcessorFactory]] = [
        ('.txt', lambda path, store_index, dataframe_type: TextFileProcessor()),
        ('.ini', lambda path, store_index, dataframe_type: TextFileProcessor()),
        ('.csv', lambda path, store_index, dataframe_type: CsvFileProcessor(sep=',', dataframe_type=dataframe_type)),
        ('.tsv', lambda path, store_index, dataframe_type: CsvFileProcessor(sep='\t', dataframe_type=dataframe_type)),
        ('.pkl', lambda path, store_index, dataframe_type: PickleFileProcessor()),
        ('.gz', lambda path, store_index, dataframe_type: GzipFileProcessor()),
        ('.json', lambda path, store_index, dataframe_type: JsonFileProcessor(orient=None, dataframe_type=dataframe_type)),
        ('.ndjson', lambda path, store_index, dataframe_type: JsonFileProcessor(orient='records', dataframe_type=dataframe_type)),
        ('.xml', lambda path, store_index, dataframe_type: XmlFileProcessor()),
        ('.npz', lambda path, store_index, dataframe_type: NpzFileProcessor()),
        ('.parquet', lambda path, store_index, dataframe_type: ParquetFileProcessor(dataframe_type=dataframe_type)),
        ('.feather', lambda path, store_index, dataframe_type: FeatherFileProcessor(store_index, dataframe_type=dataframe_type)),
        ('.png', lambda path, store_index, dataframe_type: BinaryFileProcessor()),
        ('.jpg', lambda path, store_index, dataframe_type: BinaryFileProcessor()),
        ('.jsonl', lambda path, store_index, dataframe_type: JsonFileProcessor(orient='records', dataframe_type=dataframe_type)),
        ('.xz', lambda path, store_index, dataframe_type: LzmaPickleFileProcessor(lzma.FORMAT_XZ)),
        ('.lzma', lambda path, store_index, dataframe_type: LzmaPickleFileProcessor(lzma.FORMAT_ALONE)),
    ]
    for extension, factory in builtins:
        register_file_processor(extension, factory)


_register_builtins()
