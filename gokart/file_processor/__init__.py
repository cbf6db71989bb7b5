"""How Python objects become files and back: one processor per format, chosen by file extension.

Everything gokart 1.12.2 exported from ``gokart.file_processor`` is here under the same names,
plus ``register_file_processor``/``known_extensions`` for user formats and lzma pickles
(``.xz``, ``.lzma``). See docs/formats.md.
"""

from .base import DataFrameType, FileProcessor
from .binary import BinaryFileProcessor, NpzFileProcessor
from .errors import FileLoadError, UnsupportedFormatError
from .pickling import LzmaPickleFileProcessor, PickleFileProcessor
from .registry import ProcessorFactory, known_extensions, make_file_processor, register_file_processor, unregister_file_processor
from .tabular import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor
from .text import GzipFileProcessor, TextFileProcessor, XmlFileProcessor

__all__ = [
    'BinaryFileProcessor',
    'CsvFileProcessor',
    'DataFrameType',
    'FeatherFileProcessor',
    'FileLoadError',
    'FileProcessor',
    'GzipFileProcessor',
    'JsonFileProcessor',
    'LzmaPickleFileProcessor',
    'NpzFileProcessor',
    'ParquetFileProcessor',
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
