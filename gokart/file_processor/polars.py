"""gokart 1.12's polars tabular processors: the tabular processors with ``dataframe_type='polars'``.

``lazy=True`` loads a ``LazyFrame`` (``dataframe_type='polars-lazy'``). Building one without polars
installed raises ImportError saying how to install it; importing this module never imports polars.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from luigi.format import TextFormat

from gokart.file_processor.base import DataFrameType, FileProcessor
from gokart.file_processor.tabular import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor

__all__ = [
    'HAS_POLARS',
    'CsvFileProcessorPolars',
    'FeatherFileProcessorPolars',
    'FileProcessor',
    'JsonFileProcessorPolars',
    'ParquetFileProcessorPolars',
    'TextFormat',
]

HAS_POLARS: bool = importlib.util.find_spec('polars') is not None
"""Whether polars is installed (found without importing it: it is heavy)."""


def _dataframe_type(lazy: bool) -> DataFrameType:
    return 'polars-lazy' if lazy else 'polars'


class CsvFileProcessorPolars(CsvFileProcessor):
    """CSV/TSV of a polars DataFrame or LazyFrame."""

    def __init__(self, sep: str = ',', encoding: str = 'utf-8', lazy: bool = False) -> None:
        super().__init__(sep=sep, encoding=encoding, dataframe_type=_dataframe_type(lazy))


class JsonFileProcessorPolars(JsonFileProcessor):
    """JSON of a polars frame; ``orient='records'`` writes JSON lines."""

    def __init__(self, orient: str | None = None, lazy: bool = False, lines: bool | None = None) -> None:
        super().__init__(orient=orient, dataframe_type=_dataframe_type(lazy), lines=lines)


class ParquetFileProcessorPolars(ParquetFileProcessor):
    """Parquet of a polars frame; ``engine`` is accepted for 1.12's signature (polars has its own writer)."""

    def __init__(self, engine: str = 'pyarrow', compression: str | None = None, lazy: bool = False) -> None:
        super().__init__(engine=engine, compression=compression, dataframe_type=_dataframe_type(lazy))


class FeatherFileProcessorPolars(FeatherFileProcessor):
    """Arrow IPC of a polars frame; polars frames have no index, so ``store_index_in_feather`` changes nothing."""

    def __init__(self, store_index_in_feather: bool, lazy: bool = False) -> None:
        super().__init__(store_index_in_feather, dataframe_type=_dataframe_type(lazy))


def __getattr__(name: str) -> Any:
    """``ObjectStorage``, which 1.12 imported here, is looked up on use: ``gokart.object_storage`` imports
    the file processors (through signing) and an import here would be circular."""
    if name == 'ObjectStorage':
        from gokart.object_storage import ObjectStorage

        return ObjectStorage
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
