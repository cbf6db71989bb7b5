"""Objects written and read by both this package and gokart 1.12.2 in the compatibility tests.

Imported by the tests and by a script running in the reference gokart's virtualenv, so it uses
only pandas, numpy, polars and the standard library.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def pandas_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            'int': [1, 2, 3],
            'float': [0.5, None, -1.25],
            'text': ['a', 'ünïcödé ✓', None],
            'flag': [True, False, True],
            'when': pd.to_datetime(['2024-01-01 00:00', '2024-02-29 12:30', None]),
        },
        index=pd.Index([10, 20, 30], name='key'),
    )


def polars_frame() -> Any:
    import polars as pl

    return pl.DataFrame(
        {'int': [1, 2, None], 'float': [0.5, None, -1.25], 'text': ['a', 'ünïcödé ✓', None], 'day': [dt.date(2024, 1, 1)] * 3}
    )


def xml_tree() -> ET.ElementTree:
    root = ET.Element('root', attrib={'lang': 'ja'})
    ET.SubElement(root, 'item').text = 'ünïcödé'
    return ET.ElementTree(root)


def _with_function() -> dict[str, Any]:
    return {'double': lambda x: x * 2, 'frame': pandas_frame()}


# (case name, extension, dataframe_type, builder). gokart 1.12.2 cannot dump .xml (a bug we fix).
CASES: list[tuple[str, str, str, Callable[[], Any]]] = [
    ('pickle_frame', '.pkl', 'pandas', pandas_frame),
    ('pickle_plain', '.pkl', 'pandas', lambda: {'a': [1, 2.5, 'x', None, (1, 2)], 'b': {1, 2}, 'c': b'\x00\xff'}),
    ('pickle_lambda', '.pkl', 'pandas', _with_function),
    ('text_list', '.txt', 'pandas', lambda: ['first line', 'ünïcödé  ', 3, '']),
    ('text_str', '.ini', 'pandas', lambda: '[core]\nkey = value\n'),
    ('gzip_list', '.gz', 'pandas', lambda: ['x', 'ünïcödé', 'a\rb ']),
    ('csv_pandas', '.csv', 'pandas', pandas_frame),
    ('tsv_pandas', '.tsv', 'pandas', pandas_frame),
    ('csv_series', '.csv', 'pandas', lambda: pd.Series([1, 2, 3], name='s')),
    ('json_pandas', '.json', 'pandas', lambda: pandas_frame().drop(columns=['when'])),
    ('json_dict', '.json', 'pandas', lambda: {'a': [1, 2], 'b': ['x', 'y']}),
    ('ndjson_pandas', '.ndjson', 'pandas', lambda: pandas_frame().drop(columns=['when'])),
    ('parquet_pandas', '.parquet', 'pandas', pandas_frame),
    ('feather_pandas', '.feather', 'pandas', pandas_frame),
    ('feather_unnamed_index', '.feather', 'pandas', lambda: pandas_frame().rename_axis(None)),
    ('npz', '.npz', 'pandas', lambda: np.arange(12, dtype=np.float32).reshape(3, 4)),
    ('png', '.png', 'pandas', lambda: b'\x89PNG\r\n\x1a\n\x00binary'),
    ('jpg', '.jpg', 'pandas', lambda: b'\xff\xd8\xff\xe0jpeg'),
    ('xml', '.xml', 'pandas', xml_tree),
    ('csv_polars', '.csv', 'polars', polars_frame),
    ('tsv_polars_lazy', '.tsv', 'polars-lazy', lambda: polars_frame().lazy()),
    ('json_polars', '.json', 'polars', lambda: polars_frame().drop('day')),
    ('ndjson_polars_lazy', '.ndjson', 'polars-lazy', lambda: polars_frame().lazy()),
    ('parquet_polars', '.parquet', 'polars', polars_frame),
    ('parquet_polars_lazy', '.parquet', 'polars-lazy', lambda: polars_frame().lazy()),
    ('feather_polars', '.feather', 'polars', polars_frame),
    ('feather_polars_lazy', '.feather', 'polars-lazy', lambda: polars_frame().lazy()),
]

GOKART_CANNOT_DUMP = {'xml'}


def normalize(obj: Any) -> Any:
    """A picklable, comparable stand-in for a loaded object (frames stay frames)."""
    if isinstance(obj, ET.ElementTree):
        root = obj.getroot()
        return ('xml', None if root is None else ET.tostring(root))
    if type(obj).__name__ == 'LazyFrame':
        return ('lazy', obj.collect())
    if isinstance(obj, dict):
        return {key: normalize(value) for key, value in obj.items()}
    if callable(obj):
        return ('function', obj(21))
    return obj


def assert_same(left: Any, right: Any) -> None:
    """Equality that understands frames and arrays."""
    assert type(left) is type(right), (type(left), type(right))
    if isinstance(left, pd.DataFrame | pd.Series):
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right)
        else:
            pd.testing.assert_series_equal(left, right)
    elif isinstance(left, np.ndarray):
        np.testing.assert_array_equal(left, right)
    elif type(left).__name__ == 'DataFrame':  # polars
        assert left.equals(right), (left, right)
    elif isinstance(left, tuple | list):
        assert len(left) == len(right), (left, right)
        for a, b in zip(left, right, strict=True):
            assert_same(a, b)
    elif isinstance(left, dict):
        assert left.keys() == right.keys()
        for key in left:
            assert_same(left[key], right[key])
    else:
        assert left == right, (left, right)
