"""gokart 1.12's pandas-only tabular processors: the tabular processors with ``dataframe_type='pandas'``.

They write and read the same files as ``CsvFileProcessor`` & co. built for pandas, because they
are those processors. pandas itself is imported on first use, not with this module.
"""

from __future__ import annotations

from typing import Any

from luigi.format import TextFormat

from gokart.file_processor.base import FileProcessor
from gokart.file_processor.tabular import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor

__all__ = [
    'CsvFileProcessorPandas',
    'FeatherFileProcessorPandas',
    'FileProcessor',
    'JsonFileProcessorPandas',
    'ParquetFileProcessorPandas',
    'TextFormat',
]


class CsvFileProcessorPandas(CsvFileProcessor):
    """CSV/TSV of a pandas DataFrame, without the index."""

    def __init__(self, sep: str = ',', encoding: str = 'utf-8') -> None:
        super().__init__(sep=sep, encoding=encoding, dataframe_type='pandas')


class JsonFileProcessorPandas(JsonFileProcessor):
    """JSON of a pandas DataFrame; ``orient='records'`` writes JSON lines."""

    def __init__(self, orient: str | None = None, lines: bool | None = None) -> None:
        super().__init__(orient=orient, dataframe_type='pandas', lines=lines)


class ParquetFileProcessorPandas(ParquetFileProcessor):
    """Parquet of a pandas DataFrame, without the index."""

    def __init__(self, engine: str = 'pyarrow', compression: str | None = None) -> None:
        super().__init__(engine=engine, compression=compression, dataframe_type='pandas')


class FeatherFileProcessorPandas(FeatherFileProcessor):
    """Feather of a pandas DataFrame, keeping its index when ``store_index_in_feather``."""

    def __init__(self, store_index_in_feather: bool) -> None:
        super().__init__(store_index_in_feather, dataframe_type='pandas')


def __getattr__(name: str) -> Any:
    """``ObjectStorage``, which 1.12 imported here, is looked up on use: ``gokart.object_storage`` imports
    the file processors (through signing) and an import here would be circular."""
    if name == 'ObjectStorage':
        from gokart.object_storage import ObjectStorage

        return ObjectStorage
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
