"""Frame contracts on S3 (moto's server): cached outputs are checked from their footers with ranged reads, never downloaded."""

from __future__ import annotations

import luigi
import numpy as np
import pandas as pd
import pytest

import gokart
from gokart.contracts import footer
from gokart.errors import SchemaContractError


def _features(schema: gokart.Schema, frame: pd.DataFrame) -> type:
    class S3Features(gokart.TaskOnKart[pd.DataFrame]):
        part = luigi.IntParameter()
        output_schema = schema

        def output(self):
            return self.make_target('features.parquet')

        def run(self):
            self.dump(frame)

    return S3Features


def test_a_stale_cached_output_on_s3_is_found_from_its_footer(s3_workspace):
    rows = 200_000
    frame = pd.DataFrame({'age': np.arange(rows), 'income': np.random.default_rng(0).random(rows)})
    Features = _features(gokart.Schema(age='int64', income='float64'), frame)

    class Train(gokart.TaskOnKart[int]):
        def requires(self):
            return {f'part{i}': Features(part=i) for i in range(4)}

        input_schema = {f'part{i}': gokart.Schema(age='int64') for i in range(4)}

        def run(self):
            self.dump(len(self.load()))

    for i in range(4):
        gokart.build(Features(part=i), return_value=False)
    path = Features(part=0).output().path()
    assert path.startswith('s3://')
    read = footer.read_columns(path, footer.PARQUET)
    assert read.columns == {'age': 'int64', 'income': 'float64'}
    assert read.bytes_read < 8 * 1024 < read.file_size // 100  # the footer only, of a file of megabytes

    Features = _features(gokart.Schema(age='int64', income='float64', city='string'), frame)  # the schema grew a column
    luigi.task_register.Register.clear_instance_cache()
    with pytest.raises(SchemaContractError) as raised:
        gokart.build(Train())
    message = str(raised.value)
    assert message.count("missing column 'city'") == 4 and 'rerun=True' in message
    assert message.startswith('4 frame contracts are broken')
