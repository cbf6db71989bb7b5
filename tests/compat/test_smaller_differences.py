"""Smaller differences from gokart 1.12.2 that differential runs found, each pinned (issue 30)."""

from __future__ import annotations

import io
import json

import pandas as pd
import polars as pl
import pytest

from gokart.file_processor import JsonFileProcessor, JsonFileProcessorPandas, JsonFileProcessorPolars

FRAME = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})


# ----- JsonFileProcessor(lines=...), as gokart releases after 1.12.2 accept ---------------------
def _written(processor: JsonFileProcessor, frame: object) -> bytes:
    buffer = io.BytesIO()
    processor.dump(frame, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize('make', [lambda **kw: JsonFileProcessor(**kw), lambda **kw: JsonFileProcessorPandas(**kw)])
def test_lines_true_writes_one_record_per_line_and_reads_it_back(make) -> None:
    processor = make(lines=True)
    data = _written(processor, FRAME)
    assert [json.loads(line) for line in data.decode().splitlines()] == [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    pd.testing.assert_frame_equal(processor.load(io.BytesIO(data)), FRAME)


def test_lines_false_with_records_writes_one_json_array() -> None:
    processor = JsonFileProcessor(orient='records', lines=False)
    data = _written(processor, FRAME)
    assert json.loads(data) == [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    pd.testing.assert_frame_equal(processor.load(io.BytesIO(data)), FRAME)


def test_lines_unset_keeps_1_12s_rule() -> None:
    assert _written(JsonFileProcessor(orient='records'), FRAME) == _written(JsonFileProcessor(lines=True), FRAME)
    assert json.loads(_written(JsonFileProcessor(), FRAME)) == {'a': {'0': 1, '1': 2}, 'b': {'0': 'x', '1': 'y'}}


def test_lines_with_another_orient_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"lines=True.*orient='records'.*orient='index'"):
        JsonFileProcessor(orient='index', lines=True)


@pytest.mark.parametrize('lines', [True, False])
def test_polars_frames_take_lines_too(lines: bool) -> None:
    processor = JsonFileProcessorPolars(lines=lines)
    frame = pl.DataFrame({'a': [1, 2], 'b': ['x', 'y']})
    data = _written(processor, frame)
    assert (len(data.decode().splitlines()) == 2) is lines
    assert processor.load(io.BytesIO(data)).equals(frame)


# ----- pandas on Python 3.14 --------------------------------------------------------------------
def test_pandas_is_at_least_2_3_3_on_python_3_14() -> None:
    tomllib = pytest.importorskip('tomllib')  # Python 3.11+
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).parents[2] / 'pyproject.toml').read_text())
    pandas = [Requirement(line) for line in pyproject['project']['dependencies'] if Requirement(line).name == 'pandas']

    def allowed(version: str, python: str) -> bool:
        environment = {'python_version': python, 'python_full_version': f'{python}.0'}
        return all(r.specifier.contains(version) for r in pandas if r.marker is None or r.marker.evaluate(environment))

    assert not allowed('2.3.2', '3.14') and allowed('2.3.3', '3.14')
    assert allowed('2.0.0', '3.13') and allowed('2.2.3', '3.12')
