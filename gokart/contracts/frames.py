"""The columns a frame (or a file's footer) holds, and how they differ from a Schema.

Only column names and dtypes are looked at, never values: a check costs the same for a frame of ten
rows and one of ten million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gokart.contracts.schema import Schema, compatible, kind_of_name


@dataclass
class Mismatch:
    """How a frame's columns differ from a schema: missing columns, extra ones (strict schemas only), other dtypes."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong_dtype: list[tuple[str, str, str]] = field(default_factory=list)  # (column, declared, found)

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.wrong_dtype)

    def describe(self) -> str:
        """``missing columns 'a', 'b'; column 'c' is float64, declared int64``: every difference, in one line."""
        parts = []
        if self.missing:
            parts.append(f'missing column{"s" if len(self.missing) > 1 else ""} ' + ', '.join(repr(c) for c in self.missing))
        if self.extra:
            parts.append(
                f'extra column{"s" if len(self.extra) > 1 else ""} ' + ', '.join(repr(c) for c in self.extra) + ' (the schema is strict)'
            )
        parts.extend(f'column {column!r} is {found}, declared {declared}' for column, declared, found in self.wrong_dtype)
        return '; '.join(parts)


def frame_columns(frame: Any) -> dict[str, str] | None:
    """The columns of a pandas or polars frame (a LazyFrame's from its plan) and their dtype names; None for any other object."""
    module = type(frame).__module__.split('.', 1)[0]
    if module == 'pandas':
        import pandas as pd

        if isinstance(frame, pd.DataFrame):
            return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}
        return None
    if module == 'polars':
        import polars as pl

        if isinstance(frame, pl.DataFrame):
            return {name: str(dtype) for name, dtype in frame.schema.items()}
        if isinstance(frame, pl.LazyFrame):
            return {name: str(dtype) for name, dtype in frame.collect_schema().items()}
    return None


def compare(schema: Schema, columns: dict[str, str]) -> Mismatch:
    """How ``columns`` (name -> dtype name, or an Arrow type's kind) differ from ``schema``."""
    mismatch = Mismatch()
    for column in schema:
        found = columns.get(column)
        if found is None:
            mismatch.missing.append(column)
            continue
        expected = schema.kind(column)
        if not compatible(expected, kind_of_name(found) or found):
            mismatch.wrong_dtype.append((column, str(schema[column]), found))
    if schema.strict:
        mismatch.extra = [column for column in columns if column not in schema]
    return mismatch


__all__ = ['Mismatch', 'compare', 'frame_columns']
