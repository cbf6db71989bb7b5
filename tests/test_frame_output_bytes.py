"""A task's frame outputs are the bytes the raw library call writes (feather, parquet) or load back as that call's frame (pkl, csv).

Speed work on the frame writers must not change the files: gokart 1.12 and every workspace built
so far read them. The expected bytes come from the raw pandas/pyarrow call on the same frame in
the same process, so the test follows library upgrades and still catches a change in what gokart
adds (feather's index column, parquet's codec and index handling, pickle's protocol).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import luigi
import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pytest

import gokart
from gokart.file_processor.pandas_backend import FEATHER_INDEX_PREFIX


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            'id': np.arange(500, dtype=np.int64),
            'x': rng.random(500),
            'label': np.array(['alpha', 'beta', 'gamma'])[rng.integers(0, 3, 500)],
        },
        index=pd.Index(np.arange(1000, 1500), name='row'),
    )
    return frame


class _DumpFrame(gokart.TaskOnKart[pd.DataFrame]):
    extension = luigi.Parameter()

    def output(self):
        return self.make_target(f'frame/data.{self.extension}')

    def run(self) -> None:
        self.dump(_frame())


def _built(tmp_path: Path, extension: str) -> tuple[bytes, pd.DataFrame]:
    task = _DumpFrame(extension=extension, workspace_directory=str(tmp_path / 'ws'))
    loaded = gokart.build(task)
    return Path(task.output().path()).read_bytes(), loaded


def test_feather_is_the_raw_write_of_the_frame_with_its_index_as_the_last_column(tmp_path: Path) -> None:
    written, loaded = _built(tmp_path, 'feather')
    frame = _frame()
    with_index = frame.copy()
    with_index[f'{FEATHER_INDEX_PREFIX}row'] = frame.index
    expected = io.BytesIO()
    feather.write_feather(with_index.reset_index(drop=True), expected)
    assert written == expected.getvalue()
    pd.testing.assert_frame_equal(loaded, frame)


def test_parquet_is_pandas_to_parquet_without_the_index_with_snappy(tmp_path: Path) -> None:
    written, loaded = _built(tmp_path, 'parquet')
    expected = io.BytesIO()
    _frame().to_parquet(expected, index=False, engine='pyarrow', compression='snappy')
    assert written == expected.getvalue()
    pd.testing.assert_frame_equal(loaded, _frame().reset_index(drop=True))


@pytest.mark.parametrize('extension', ['pkl', 'csv'])
def test_pickle_and_csv_load_back_as_the_raw_library_reads_them(tmp_path: Path, extension: str) -> None:
    written, loaded = _built(tmp_path, extension)
    if extension == 'pkl':
        raw = pickle.loads(written)
        pd.testing.assert_frame_equal(raw, _frame())
        assert written[:2] == b'\x80\x05'  # protocol 5, as gokart has always written
    else:
        raw = pd.read_csv(io.BytesIO(written))
        pd.testing.assert_frame_equal(raw, _frame().reset_index(drop=True))
    pd.testing.assert_frame_equal(loaded, raw if extension == 'csv' else _frame())
