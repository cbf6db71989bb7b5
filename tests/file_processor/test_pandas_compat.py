"""Files written here are the bytes gokart 1.12.2's own pandas/pyarrow/numpy/polars calls produce.

gokart's options are read from SPEC §5; no reference installation is needed.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import dill
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compat_cases import pandas_frame, polars_frame  # noqa: E402

from gokart.file_processor import FeatherFileProcessor, ParquetFileProcessor, make_file_processor  # noqa: E402


def ours(path: str, obj: Any, **options: Any) -> bytes:
    buffer = io.BytesIO()
    make_file_processor(path, **options).dump(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(('path', 'sep'), [('x.csv', ','), ('x.tsv', '\t')])
def test_csv_bytes_equal_gokarts_to_csv(tmp_path: Path, path: str, sep: str) -> None:
    frame = pandas_frame()
    frame.to_csv(tmp_path / path, index=False, header=True, sep=sep, encoding='utf-8')
    assert ours(path, frame) == (tmp_path / path).read_bytes()


@pytest.mark.parametrize(('path', 'orient', 'lines'), [('x.json', None, False), ('x.ndjson', 'records', True)])
def test_json_bytes_equal_gokarts_to_json(tmp_path: Path, path: str, orient: str | None, lines: bool) -> None:
    frame = pandas_frame()
    frame.to_json(tmp_path / path, orient=orient, lines=lines)  # type: ignore[call-overload]
    assert ours(path, frame) == (tmp_path / path).read_bytes()


def test_parquet_with_gzip_equals_gokarts_file_and_default_reads_identically(tmp_path: Path) -> None:
    frame = pandas_frame()
    frame.to_parquet(tmp_path / 'gokart.parquet', index=False, engine='pyarrow', compression='gzip')
    buffer = io.BytesIO()
    ParquetFileProcessor(compression='gzip').dump(frame, buffer)
    assert buffer.getvalue() == (tmp_path / 'gokart.parquet').read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(ours('x.parquet', frame))), pd.read_parquet(tmp_path / 'gokart.parquet'))


def test_feather_bytes_equal_gokarts_index_column_layout(tmp_path: Path) -> None:
    frame = pandas_frame()
    with_index = frame.copy()
    with_index['__feather_gokart_index__key'] = frame.index
    with_index.reset_index(drop=True).to_feather(tmp_path / 'gokart.feather')
    assert ours('x.feather', frame) == (tmp_path / 'gokart.feather').read_bytes()
    buffer = io.BytesIO()
    FeatherFileProcessor(store_index_in_feather=False).dump(frame, buffer)
    frame.to_feather(tmp_path / 'plain.feather')
    assert buffer.getvalue() == (tmp_path / 'plain.feather').read_bytes()


def test_npz_reads_as_gokarts_savez_compressed(tmp_path: Path) -> None:
    array = np.arange(20.0).reshape(4, 5)
    np.savez_compressed(tmp_path / 'gokart.npz', data=array)
    with np.load(io.BytesIO(ours('x.npz', array))) as written:
        assert written.files == ['data']
        np.testing.assert_array_equal(written['data'], array)
    with open(tmp_path / 'gokart.npz', 'rb') as file:
        np.testing.assert_array_equal(make_file_processor('x.npz').load(file), array)


def test_pickle_loads_with_gokarts_dill_load_and_back() -> None:
    obj = {'frame': pandas_frame(), 'f': lambda x: -x}
    loaded = dill.loads(ours('x.pkl', obj))
    assert loaded['f'](1) == -1
    pd.testing.assert_frame_equal(loaded['frame'], obj['frame'])
    reloaded = make_file_processor('x.pkl').load(io.BytesIO(dill.dumps(obj, protocol=4)))
    pd.testing.assert_frame_equal(reloaded['frame'], obj['frame'])


@pytest.mark.parametrize(
    ('path', 'write'),
    [
        ('x.csv', lambda frame, file: frame.write_csv(file, separator=',', include_header=True)),
        ('x.tsv', lambda frame, file: frame.write_csv(file, separator='\t', include_header=True)),
        ('x.ndjson', lambda frame, file: frame.write_ndjson(file)),
        ('x.json', lambda frame, file: frame.write_json(file)),
        ('x.feather', lambda frame, file: frame.write_ipc(file)),
        ('x.parquet', lambda frame, file: frame.write_parquet(file, compression='zstd')),
    ],
)
def test_polars_bytes_equal_gokarts_polars_calls(path: str, write: Any) -> None:
    frame = polars_frame()
    expected = io.BytesIO()
    write(frame, expected)
    assert ours(path, frame.lazy(), dataframe_type='polars-lazy') == expected.getvalue()
