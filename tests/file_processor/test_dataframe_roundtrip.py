"""Property tests: DataFrames of mixed dtypes, nulls, unicode and zero rows survive every format."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gokart.file_processor import make_file_processor

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_text = st.text(max_size=8)
_COLUMNS: dict[str, Any] = {
    'int': st.integers(-(2**62), 2**62),
    'float': st.floats(allow_nan=False, allow_infinity=True),
    'text': _text,
    'flag': st.booleans(),
    'when': st.datetimes(min_value=pd.Timestamp('1900-01-01').to_pydatetime(), max_value=pd.Timestamp('2200-01-01').to_pydatetime()),
}


@st.composite
def pandas_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 6))
    names = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), unique=True, max_size=len(_COLUMNS)))
    data: dict[str, Any] = {}
    for name in names:
        values = draw(
            st.lists(st.one_of(st.none(), _COLUMNS[name]) if name in {'float', 'text'} else _COLUMNS[name], min_size=rows, max_size=rows)
        )
        data[name] = pd.Series(values, dtype={'int': 'int64', 'float': 'float64', 'flag': 'bool', 'when': 'datetime64[ns]'}.get(name))
    index = pd.Index(draw(st.lists(_text, min_size=rows, max_size=rows)), name=draw(st.one_of(st.none(), st.sampled_from(['key', 'ключ']))))
    frame = pd.DataFrame(data, index=pd.RangeIndex(rows))
    frame.index = index  # set afterwards: passing it to the constructor would realign the columns
    return frame


@st.composite
def polars_frames(draw: st.DrawFn) -> pl.DataFrame:
    rows = draw(st.integers(0, 6))
    columns = {
        'int': (pl.Int64, st.integers(-(2**62), 2**62)),
        'float': (pl.Float64, st.floats(allow_nan=False, allow_infinity=False)),  # JSON has no inf
        'text': (pl.String, _text),
        'flag': (pl.Boolean, st.booleans()),
    }
    names = draw(st.lists(st.sampled_from(sorted(columns)), unique=True, min_size=1, max_size=len(columns)))
    return pl.DataFrame(
        {
            name: pl.Series(
                name, draw(st.lists(st.one_of(st.none(), columns[name][1]), min_size=rows, max_size=rows)), dtype=columns[name][0]
            )
            for name in names
        }
    )


def round_trip(path: str, obj: Any, **options: Any) -> Any:
    processor = make_file_processor(path, **options)
    buffer = io.BytesIO()
    processor.dump(obj, buffer)
    buffer.seek(0)
    return processor.load(buffer)


@SETTINGS
@given(frame=pandas_frames())
def test_pickle_and_feather_keep_everything(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(round_trip('x.pkl', frame), frame)
    pd.testing.assert_frame_equal(round_trip('x.xz', frame), frame)
    pd.testing.assert_frame_equal(round_trip('x.feather', frame), frame, check_index_type=False, check_column_type=False)


@SETTINGS
@given(frame=pandas_frames())
def test_parquet_keeps_columns_and_drops_the_index(frame: pd.DataFrame) -> None:
    loaded = round_trip('x.parquet', frame)
    pd.testing.assert_frame_equal(loaded, pd.read_parquet(io.BytesIO(frame.to_parquet(index=False))))
    if len(frame.columns):  # a frame without columns has no row count in parquet
        pd.testing.assert_frame_equal(loaded, frame.reset_index(drop=True))


@SETTINGS
@given(frame=pandas_frames())
@pytest.mark.parametrize(
    ('path', 'orient', 'lines'), [('x.json', None, False), ('x.ndjson', 'records', True), ('x.jsonl', 'records', True)]
)
def test_json_reads_what_pandas_reads(path: str, orient: str | None, lines: bool, frame: pd.DataFrame) -> None:
    frame = frame.reset_index(drop=True)  # pandas' json needs unique index labels
    expected = pd.read_json(io.StringIO(frame.to_json(orient=orient, lines=lines)), orient=orient, lines=lines)  # type: ignore[call-overload]
    pd.testing.assert_frame_equal(round_trip(path, frame), expected)


@SETTINGS
@given(frame=pandas_frames())
@pytest.mark.parametrize(('path', 'sep'), [('x.csv', ','), ('x.tsv', '\t')])
def test_csv_reads_what_pandas_reads(path: str, sep: str, frame: pd.DataFrame) -> None:
    text = frame.to_csv(index=False, sep=sep)
    try:
        expected = pd.read_csv(io.StringIO(text), sep=sep)
    except pd.errors.EmptyDataError:
        expected = pd.DataFrame()
    pd.testing.assert_frame_equal(round_trip(path, frame), expected)


@SETTINGS
@given(frame=polars_frames())
@pytest.mark.parametrize('path', ['x.parquet', 'x.feather', 'x.ndjson', 'x.json', 'x.pkl'])
def test_polars_frames_survive_binary_and_json_formats(path: str, frame: pl.DataFrame) -> None:
    eager = round_trip(path, frame, dataframe_type='polars')
    lazy = round_trip(path, frame.lazy(), dataframe_type='polars-lazy')
    if path == 'x.pkl':
        lazy = lazy.collect()
    else:
        assert isinstance(lazy, pl.LazyFrame)
        lazy = lazy.collect()
    if frame.height == 0 and path in ('x.ndjson', 'x.json'):
        return  # JSON without rows carries no column names or types
    assert eager.equals(frame) and lazy.equals(frame), (frame, eager)


@SETTINGS
@given(frame=polars_frames())
def test_polars_csv_reads_what_polars_reads(frame: pl.DataFrame) -> None:
    text = io.BytesIO()
    frame.write_csv(text)
    expected = pl.read_csv(io.BytesIO(text.getvalue())) if text.getvalue().strip() else pl.DataFrame()
    assert round_trip('x.csv', frame, dataframe_type='polars').equals(expected)
    assert round_trip('x.csv', frame.lazy(), dataframe_type='polars-lazy').collect().equals(expected)


def test_large_frame_pickle_round_trip() -> None:
    frame = pd.DataFrame({'a': np.arange(200_000), 'b': np.random.default_rng(0).random(200_000)})
    pd.testing.assert_frame_equal(round_trip('x.pkl', frame), frame)
