"""The tabular processors users name in ``make_target(..., processor=...)``.

Each picks its pandas or polars backend from ``dataframe_type`` when it is built.
"""

from __future__ import annotations

from typing import IO, Any

from . import polars_backend
from .base import BinaryFormatProcessor, DataFrameType, FileProcessor, check_dataframe_type

DEFAULT_PARQUET_COMPRESSION = {'pandas': 'snappy', 'polars': 'zstd', 'polars-lazy': 'zstd'}
"""Each library's own default, so a dump costs what the raw call costs. gokart wrote gzip, ~50x slower
to write; snappy and zstd files still load in gokart 1.12.2."""

_UNCOMPRESSED = frozenset({'none', 'uncompressed'})


class _FrontProcessor(BinaryFormatProcessor):
    """Delegates to the backend chosen at construction."""

    _backend: FileProcessor
    _dataframe_type: DataFrameType
    """Which library loads and dumps: 'pandas', 'polars' or 'polars-lazy' (gokart 1.12's attribute)."""

    @property
    def _impl(self) -> FileProcessor:
        """gokart 1.12's name for the per-library processor this one delegates to."""
        return self._backend

    def load(self, file: IO[bytes]) -> Any:
        return self._backend.load(file)

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        self._backend.dump(obj, file)


class CsvFileProcessor(_FrontProcessor):
    """CSV (``sep=','``) or TSV (``sep='\\t'``) with a header and without the index."""

    def __init__(self, sep: str = ',', encoding: str = 'utf-8', dataframe_type: DataFrameType = 'pandas') -> None:
        self._sep = sep
        self._encoding = encoding
        self._dataframe_type = check_dataframe_type(dataframe_type)
        if dataframe_type == 'pandas':
            self._backend = _pandas_backend().PandasCsv(sep, encoding)
        else:
            self._backend = polars_backend.PolarsCsv(sep, encoding, lazy=dataframe_type == 'polars-lazy')


class JsonFileProcessor(_FrontProcessor):
    """JSON; ``orient='records'`` writes JSON lines (``.ndjson``/``.jsonl``).

    ``lines`` says it outright, as gokart releases after 1.12.2 accept: ``True`` is JSON lines (one
    record per line, ``orient='records'``), ``False`` one JSON document (with ``orient='records'``, an
    array of records); ``None`` keeps 1.12's rule, JSON lines exactly when ``orient='records'``.
    """

    def __init__(self, orient: str | None = None, dataframe_type: DataFrameType = 'pandas', lines: bool | None = None) -> None:
        json_lines = orient == 'records' if lines is None else bool(lines)
        if json_lines and orient not in (None, 'records'):
            raise ValueError(
                f"JsonFileProcessor(lines=True) writes one record per line, which needs orient='records', but orient={orient!r} is passed."
            )
        if json_lines:
            orient = 'records'
        self._orient = orient
        self._lines = json_lines
        self._dataframe_type = check_dataframe_type(dataframe_type)
        if dataframe_type == 'pandas':
            self._backend = _pandas_backend().PandasJson(orient, lines=json_lines)
        else:
            self._backend = polars_backend.PolarsJson(lines=json_lines, lazy=dataframe_type == 'polars-lazy')


class ParquetFileProcessor(_FrontProcessor):
    """Parquet without the pandas index.

    ``compression=None`` means ``DEFAULT_PARQUET_COMPRESSION`` (snappy for pandas, zstd for polars,
    each library's default); pass ``'gzip'`` for
    gokart's files, ``'zstd'`` for smaller ones, or ``'none'`` for no compression.
    """

    def __init__(self, engine: str = 'pyarrow', compression: str | None = None, dataframe_type: DataFrameType = 'pandas') -> None:
        self._engine = engine
        self._compression = compression
        codec = compression or DEFAULT_PARQUET_COMPRESSION[check_dataframe_type(dataframe_type)]
        uncompressed = codec.lower() in _UNCOMPRESSED
        self._dataframe_type = check_dataframe_type(dataframe_type)
        if dataframe_type == 'pandas':
            self._backend = _pandas_backend().PandasParquet(engine, None if uncompressed else codec)
        else:
            self._backend = polars_backend.PolarsParquet('uncompressed' if uncompressed else codec, lazy=dataframe_type == 'polars-lazy')


class FeatherFileProcessor(_FrontProcessor):
    """Feather (Arrow IPC); pandas frames keep their index when ``store_index_in_feather``."""

    def __init__(self, store_index_in_feather: bool, dataframe_type: DataFrameType = 'pandas') -> None:
        self._store_index_in_feather = store_index_in_feather
        self._dataframe_type = check_dataframe_type(dataframe_type)
        if dataframe_type == 'pandas':
            self._backend = _pandas_backend().PandasFeather(store_index_in_feather)
        else:
            self._backend = polars_backend.PolarsFeather(lazy=dataframe_type == 'polars-lazy')


def _pandas_backend() -> Any:
    # pandas takes about half a second to import: only tasks that write frames pay for it.
    from . import pandas_backend

    return pandas_backend
