"""How Python objects become files and back: one processor per format, chosen by file extension.

Everything gokart 1.12.2 exported from ``gokart.file_processor`` is here under the same names,
and the per-library classes of ``gokart.file_processor.pandas``/``.polars``,
plus ``register_file_processor``/``known_extensions`` for user formats and lzma pickles
(``.xz``, ``.lzma``). See docs/formats.md.
"""

from .base import DataFrameType, FileProcessor
from .binary import BinaryFileProcessor, NpzFileProcessor
from .errors import FileLoadError, UnsupportedFormatError
from .pandas import CsvFileProcessorPandas, FeatherFileProcessorPandas, JsonFileProcessorPandas, ParquetFileProcessorPandas
from .pickling import LzmaPickleFileProcessor, PickleFileProcessor
from .polars import CsvFileProcessorPolars, FeatherFileProcessorPolars, JsonFileProcessorPolars, ParquetFileProcessorPolars
from .registry import ProcessorFactory, known_extensions, make_file_processor, register_file_processor, unregister_file_processor
from .tabular import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor
from .text import GzipFileProcessor, TextFileProcessor, XmlFileProcessor

__all__ = [
    'BinaryFileProcessor',
    'CsvFileProcessor',
    'CsvFileProcessorPandas',
    'CsvFileProcessorPolars',
    'DataFrameType',
    'FeatherFileProcessor',
    'FeatherFileProcessorPandas',
    'FeatherFileProcessorPolars',
    'FileLoadError',
    'FileProcessor',
    'GzipFileProcessor',
    'JsonFileProcessor',
    'JsonFileProcessorPandas',
    'JsonFileProcessorPolars',
    'LzmaPickleFileProcessor',
    'NpzFileProcessor',
    'ParquetFileProcessor',
    'ParquetFileProcessorPandas',
    'ParquetFileProcessorPolars',
    'PickleFileProcessor',
    'ProcessorFactory',
    'TextFileProcessor',
    'UnsupportedFormatError',
    'XmlFileProcessor',
    'known_extensions',
    'make_file_processor',
    'register_file_processor',
    'unregister_file_processor',
]
