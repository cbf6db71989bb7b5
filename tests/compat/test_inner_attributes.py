"""Targets and processors keep the inner attributes of gokart 1.12.2 that users' tests read or patch.

Teams moving from 1.12 have tests that look inside targets (``target._target.path``,
``model_target._zip_client.path``, ``processor._dataframe_type``) and that replace
``SingleFileTarget.dump`` by a function of 1.12's signature to watch every dump of a run.
"""

from __future__ import annotations

import os
from typing import Any

import luigi
import pandas as pd
import pytest

import gokart
from gokart.file_processor import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor
from gokart.file_processor.polars import CsvFileProcessorPolars
from gokart.target import SingleFileTarget, make_model_target, make_target
from gokart.tree.task_info import dump_task_info_table, dump_task_info_tree
from gokart.zip_client import LocalZipClient


def test_single_file_target_wraps_a_luigi_target_at_the_output_path(tmp_path: Any) -> None:
    target = make_target(os.path.join(tmp_path, 'out', 'data.pkl'), unique_id='abc')
    assert isinstance(target._target, luigi.LocalTarget)
    assert target._target.path == target.path() == os.path.join(tmp_path, 'out', 'data_abc.pkl')
    assert target._target.format is target._processor.format()
    target.dump({'a': 1})
    assert target._target.exists()  # the wrapped target sees the file the dump wrote


def test_single_file_target_of_a_remote_path_wraps_a_luigi_file_system_target() -> None:
    target = make_target('memory://bucket/out/data.pkl')
    assert isinstance(target._target, luigi.target.FileSystemTarget)
    assert target._target.path == 'memory://bucket/out/data.pkl'


def test_model_target_has_the_zip_client_of_its_archive(tmp_path: Any) -> None:
    target = make_model_target(
        os.path.join(tmp_path, 'model.zip'),
        temporary_directory=os.path.join(tmp_path, 'tmp'),
        save_function=lambda obj, path: pd.to_pickle(obj, path),
        load_function=pd.read_pickle,
        unique_id='u1',
    )
    assert isinstance(target._zip_client, LocalZipClient)
    assert target._zip_client.path == target.path() == os.path.join(tmp_path, 'model_u1.zip')
    target.dump({'weights': [1, 2]})
    assert target._zip_client.exists()


@pytest.mark.parametrize(
    ('processor', 'dataframe_type'),
    [
        (CsvFileProcessor(sep=','), 'pandas'),
        (JsonFileProcessor(orient='records'), 'pandas'),
        (ParquetFileProcessor(), 'pandas'),
        (FeatherFileProcessor(store_index_in_feather=False), 'pandas'),
        (CsvFileProcessor(sep=',', dataframe_type='polars'), 'polars'),
        (CsvFileProcessorPolars(lazy=True), 'polars-lazy'),
    ],
)
def test_tabular_processors_name_their_dataframe_type(processor: Any, dataframe_type: str) -> None:
    assert processor._dataframe_type == dataframe_type
    assert hasattr(processor._impl, 'load') and hasattr(processor._impl, 'dump')


def test_the_per_library_processor_does_the_work(tmp_path: Any) -> None:
    processor = CsvFileProcessor(sep='\t')
    path = os.path.join(tmp_path, 'frame.tsv')
    with open(path, 'wb') as file:
        processor._impl.dump(pd.DataFrame({'a': [1, 2]}), file)
    with open(path, 'rb') as file:
        assert processor.load(file)['a'].tolist() == [1, 2]


class InnerUpstream(gokart.TaskOnKart[dict[str, int]]):
    def run(self) -> None:
        self.dump({'a': 1})


class InnerDownstream(gokart.TaskOnKart[int]):
    def requires(self) -> Any:
        return InnerUpstream()

    def output(self) -> Any:
        return {'x': self.make_target('inner/x.pkl'), 'y': self.make_target('inner/y.txt')}

    def run(self) -> None:
        self.dump(1, 'x')
        self.dump('text', 'y')


def test_a_replaced_dump_of_1_12s_signature_sees_every_dump_with_lock_at_dump(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    calls: list[tuple[str, bool]] = []
    original = SingleFileTarget.dump

    # lock_at_dump without a default: 1.12 always passes it, from task.dump, the log records and the task-info dumps.
    def dump(
        self: Any, obj: Any, lock_at_dump: bool, task_params: Any = None, custom_labels: Any = None, required_task_outputs: Any = None
    ) -> None:
        calls.append((os.path.relpath(self.path(), tmp_path), lock_at_dump))
        original(self, obj, lock_at_dump=lock_at_dump, task_params=task_params, custom_labels=custom_labels)

    monkeypatch.setattr(SingleFileTarget, 'dump', dump)
    task = InnerDownstream(workspace_directory=str(tmp_path))
    gokart.build(task, reset_register=False)
    records = sorted(os.path.basename(os.path.dirname(path)) for path, _ in calls if f'log{os.sep}' in path)
    outputs = sorted(os.path.basename(path).split('_')[0] for path, _ in calls if f'log{os.sep}' not in path)
    # 1.12 dumps, for each of the two tasks: random_seed, task_params, module_versions, the outputs, processing_time, task_log.
    assert records == sorted(['module_versions', 'processing_time', 'random_seed', 'task_log', 'task_params'] * 2)
    assert outputs == ['InnerUpstream', 'x', 'y']
    assert all(lock for _, lock in calls)

    calls.clear()
    dump_task_info_tree(task, os.path.join(tmp_path, 'info', 'tree.pkl'))
    dump_task_info_table(task, os.path.join(tmp_path, 'info', 'table.csv'))
    assert [lock for _, lock in calls] == [False, False]  # as 1.12: the task-info dumps take no lock
    assert gokart.build(task, reset_register=False) == {'x': 1, 'y': ['text']}
