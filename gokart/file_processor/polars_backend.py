"""polars readers and writers behind the tabular processors.

polars is optional: it is imported when a polars processor is built, never at package import.
A ``LazyFrame`` is collected before writing. Lazy loads read the file eagerly and return
``.lazy()``: the file object is closed once ``load`` returns (and may be remote), so a lazy scan
of its path, as gokart did, could not be relied on.
"""

from __future__ import annotations

import io
from types import ModuleType
from typing import IO, Any

from .base import BinaryFormatProcessor, read_all

POLARS_MISSING_MESSAGE = "polars is required for polars-based dataframe types ('polars' or 'polars-lazy'). Install with: pip install polars"


def import_polars() -> ModuleType:
    """The polars module, or gokart's ImportError telling how to install it."""
    try:
        import polars
    except ImportError as error:
        raise ImportError(POLARS_MISSING_MESSAGE) from error
    return polars


class _PolarsBackend(BinaryFormatProcessor):
    """Shared by the polars formats: type check and collect on dump, empty file and lazy on load."""

    def __init__(self, lazy: bool) -> None:
        import_polars()  # fail when the processor is built, not at the first dump
        self._lazy = lazy

    @property
    def _pl(self) -> Any:
        # Looked up on use rather than stored: processors must stay picklable for worker processes.
        return import_polars()

    def load(self, file: IO[bytes]) -> Any:
        data = read_all(file)
        # gokart returned an empty frame for 'empty'/'no data' errors; only a truly empty file
        # qualifies here, so a corrupt file still raises.
        frame = self._pl.DataFrame() if not data.strip() else self._read(io.BytesIO(data))
        return frame.lazy() if self._lazy else frame

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        if isinstance(obj, self._pl.LazyFrame):
            obj = obj.collect()
        if not isinstance(obj, self._pl.DataFrame):
            raise TypeError(f'requires pl.DataFrame or pl.LazyFrame, but {type(obj)} is passed.')
        self._write(obj, file)

    def _read(self, buffer: io.BytesIO) -> Any:
        raise NotImplementedError

    def _write(self, frame: Any, file: IO[bytes]) -> None:
        raise NotImplementedError


class PolarsCsv(_PolarsBackend):
    """``write_csv`` always writes UTF-8; other encodings are read lossily, exactly like gokart."""

    def __init__(self, sep: str, encoding: str, lazy: bool) -> None:
        super().__init__(lazy)
        self._sep = sep
        self._encoding = 'utf8' if encoding.lower().replace('-', '') == 'utf8' else 'utf8-lossy'

    def _read(self, buffer: io.BytesIO) -> Any:
        return self._pl.read_csv(buffer, separator=self._sep, encoding=self._encoding)

    def _write(self, frame: Any, file: IO[bytes]) -> None:
        frame.write_csv(file, separator=self._sep, include_header=True)


class PolarsJson(_PolarsBackend):
    """With ``lines``, JSON lines; otherwise polars' row-list JSON (not pandas' layout)."""

    def __init__(self, lines: bool, lazy: bool) -> None:
        super().__init__(lazy)
        self._lines = lines

    def _read(self, buffer: io.BytesIO) -> Any:
        return self._pl.read_ndjson(buffer) if self._lines else self._pl.read_json(buffer)

    def _write(self, frame: Any, file: IO[bytes]) -> None:
        if self._lines:
            frame.write_ndjson(file)
        else:
            frame.write_json(file)


class PolarsParquet(_PolarsBackend):
    """``write_parquet`` with the given codec (``'uncompressed'`` for none)."""

    def __init__(self, compression: str, lazy: bool) -> None:
        super().__init__(lazy)
        self._compression = compression

    def _read(self, buffer: io.BytesIO) -> Any:
        return self._pl.read_parquet(buffer)

    def _write(self, frame: Any, file: IO[bytes]) -> None:
        frame.write_parquet(file, compression=self._compression)


class PolarsFeather(_PolarsBackend):
    """Arrow IPC via ``write_ipc``/``read_ipc``; polars has no index, so none is stored."""

    def _read(self, buffer: io.BytesIO) -> Any:
        return self._pl.read_ipc(buffer)

    def _write(self, frame: Any, file: IO[bytes]) -> None:
        frame.write_ipc(file)
