"""pandas readers and writers behind the tabular processors (CSV, JSON, Parquet, Feather).

Each writer makes the same pandas call gokart 1.12.2 made, so the files are the same bytes;
the differences (Parquet compression, index-column checks) are noted where they happen.
"""

from __future__ import annotations

from typing import IO, Any

import pandas as pd

from .base import FEATHER_INDEX_PREFIX, BinaryFormatProcessor, require_type


class PandasCsv(BinaryFormatProcessor):
    """``to_csv(index=False)``: the index is dropped, as in gokart."""

    def __init__(self, sep: str, encoding: str) -> None:
        self._sep = sep
        self._encoding = encoding

    def load(self, file: IO[bytes]) -> pd.DataFrame:
        try:
            return pd.read_csv(file, sep=self._sep, encoding=self._encoding)
        except pd.errors.EmptyDataError:
            return pd.DataFrame()

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        require_type(obj, (pd.DataFrame, pd.Series), 'pd.DataFrame or pd.Series')
        obj.to_csv(file, index=False, header=True, sep=self._sep, encoding=self._encoding)


class PandasJson(BinaryFormatProcessor):
    """``to_json(orient, lines)``: with ``lines``, JSON lines (one object per row; orient is 'records')."""

    def __init__(self, orient: str | None, lines: bool) -> None:
        self._orient = orient
        self._lines = lines

    def load(self, file: IO[bytes]) -> pd.DataFrame:
        return pd.read_json(file, orient=self._orient, lines=self._lines)  # type: ignore[arg-type,call-overload,no-any-return]

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        if isinstance(obj, dict):
            obj = pd.DataFrame.from_dict(obj)
        require_type(obj, (pd.DataFrame, pd.Series), 'pd.DataFrame or pd.Series or dict')
        obj.to_json(file, orient=self._orient, lines=self._lines)


class PandasParquet(BinaryFormatProcessor):
    """``to_parquet(index=False)`` with the given engine and codec (``None`` = uncompressed)."""

    def __init__(self, engine: str, compression: str | None) -> None:
        self._engine = engine
        self._compression = compression

    def load(self, file: IO[bytes]) -> pd.DataFrame:
        return pd.read_parquet(file, engine=self._engine)  # type: ignore[call-overload,no-any-return]

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        require_type(obj, pd.DataFrame, 'pd.DataFrame')
        obj.to_parquet(file, index=False, engine=self._engine, compression=self._compression)  # type: ignore[arg-type]


class PandasFeather(BinaryFormatProcessor):
    """Feather (Arrow IPC) with gokart's index column, so any index survives the round trip.

    With ``store_index_in_feather`` the index is written as the last column, named
    ``FEATHER_INDEX_PREFIX + str(index.name)`` (``'None'`` for an unnamed index). On load the
    last column with the prefix becomes the index again, whichever flag wrote the file.
    """

    def __init__(self, store_index_in_feather: bool) -> None:
        self._store_index_in_feather = store_index_in_feather

    def load(self, file: IO[bytes]) -> pd.DataFrame:
        frame = pd.read_feather(file)
        index_columns = [column for column in frame.columns if isinstance(column, str) and column.startswith(FEATHER_INDEX_PREFIX)]
        if not index_columns:
            return frame
        index_column = index_columns[-1]
        frame = frame.set_index(index_column)
        name = index_column[len(FEATHER_INDEX_PREFIX) :]
        frame.index.name = None if name == 'None' else name
        return frame

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        require_type(obj, pd.DataFrame, 'pd.DataFrame')
        if self._store_index_in_feather:
            obj = _with_index_as_column(obj)
        obj.to_feather(file)


def _with_index_as_column(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose index is its last column and whose own index is a RangeIndex."""
    index_column = f'{FEATHER_INDEX_PREFIX}{frame.index.name}'
    if index_column in frame.columns:
        raise AssertionError(f'column name {index_column} already exists in the DataFrame.')
    if frame.index.name == 'None':
        raise AssertionError("An index named 'None' cannot be stored in feather: it would load back unnamed.")
    with_index = frame.copy(deep=False)  # the caller's frame must not grow a column
    with_index[index_column] = frame.index
    return with_index.reset_index(drop=True)
