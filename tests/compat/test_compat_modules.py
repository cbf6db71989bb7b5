"""The gokart 1.12 modules kept for compatibility do their job, not only exist."""

from __future__ import annotations

import io
import logging
import os
import zipfile
from datetime import datetime

import pandas as pd
import pytest

import gokart
from gokart.file_processor import CsvFileProcessor, FeatherFileProcessor, JsonFileProcessor, ParquetFileProcessor
from gokart.file_processor.pandas import (
    CsvFileProcessorPandas,
    FeatherFileProcessorPandas,
    JsonFileProcessorPandas,
    ParquetFileProcessorPandas,
)
from gokart.in_memory.data import InMemoryData
from gokart.in_memory.repository import InMemoryCacheRepository
from gokart.task_complete_check import task_complete_check_wrapper
from gokart.zip_client_util import LocalZipClient, make_zip_client

FRAME = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']}, index=pd.Index([10, 20, 30], name='id'))


def dumped(processor: object, frame: object) -> bytes:
    buffer = io.BytesIO()
    processor.dump(frame, buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def test_zip_client_archives_a_directory_and_unpacks_it_elsewhere(tmp_path: str) -> None:
    source = os.path.join(tmp_path, 'work', 'model')
    os.makedirs(os.path.join(source, 'weights'))
    with open(os.path.join(source, 'weights', 'w.txt'), 'w') as file:
        file.write('0.5')
    archive = os.path.join(tmp_path, 'not', 'yet', 'model.zip')
    client = make_zip_client(archive, source)
    assert isinstance(client, LocalZipClient)
    assert client.path == archive
    assert not client.exists()

    client.make_archive()  # creates the archive's directories, as 1.12 does

    assert client.exists()
    assert sorted(zipfile.ZipFile(archive).namelist()) == ['weights/', 'weights/w.txt']
    assert sorted(os.listdir(os.path.dirname(source))) == ['model']  # no scratch archive left behind
    target = os.path.join(tmp_path, 'unpacked')
    make_zip_client(archive, target).unpack_archive()
    with open(os.path.join(target, 'weights', 'w.txt')) as file:
        assert file.read() == '0.5'
    client.remove()
    assert not client.exists()


@pytest.mark.parametrize(
    ('compat', 'ours'),
    [
        (CsvFileProcessorPandas(sep='\t'), CsvFileProcessor(sep='\t')),
        (JsonFileProcessorPandas(orient='records'), JsonFileProcessor(orient='records')),
        (ParquetFileProcessorPandas(), ParquetFileProcessor()),
        (FeatherFileProcessorPandas(store_index_in_feather=True), FeatherFileProcessor(store_index_in_feather=True)),
    ],
    ids=['csv', 'json', 'parquet', 'feather'],
)
def test_pandas_processors_write_what_the_tabular_processors_write(compat: object, ours: object) -> None:
    data = dumped(compat, FRAME)
    assert data == dumped(ours, FRAME)
    pd.testing.assert_frame_equal(compat.load(io.BytesIO(data)), ours.load(io.BytesIO(data)))  # type: ignore[attr-defined]


def test_polars_processors_round_trip_eager_and_lazy_frames() -> None:
    pl = pytest.importorskip('polars')
    from gokart.file_processor.polars import HAS_POLARS, CsvFileProcessorPolars, FeatherFileProcessorPolars, ParquetFileProcessorPolars

    assert HAS_POLARS
    frame = pl.DataFrame({'a': [1, 2], 'b': ['x', 'y']})
    for processor in [CsvFileProcessorPolars(), ParquetFileProcessorPolars(), FeatherFileProcessorPolars(store_index_in_feather=True)]:
        assert processor.load(io.BytesIO(dumped(processor, frame))).equals(frame)
    lazy = ParquetFileProcessorPolars(lazy=True)
    loaded = lazy.load(io.BytesIO(dumped(lazy, frame.lazy())))
    assert isinstance(loaded, pl.LazyFrame)
    assert loaded.collect().equals(frame)


def test_task_complete_check_wrapper_skips_run_when_complete(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def run(value: int) -> int:
        calls.append(value)
        return value * 2

    assert task_complete_check_wrapper(run, lambda: False)(3) == 6
    with caplog.at_level(logging.WARNING, logger='gokart.task_complete_check'):
        assert task_complete_check_wrapper(run, lambda: True)(4) is None
    assert calls == [3]
    assert 'run is skipped because the task is already completed.' in caplog.text
    assert task_complete_check_wrapper(run, lambda: True).__name__ == 'run'


def test_in_memory_repository_stamps_values_with_in_memory_data() -> None:
    repository = InMemoryCacheRepository()
    before = datetime.now()
    repository.set_value('compat-key', [1, 2])
    try:
        assert repository.get_value('compat-key') == [1, 2]
        assert before <= repository.get_last_modification_time('compat-key') <= datetime.now()
    finally:
        repository.remove('compat-key')
    data = InMemoryData.create_data('v')
    assert data.value == 'v' and isinstance(data.last_modification_time, datetime)


def test_file_processor_base_names_are_the_processors() -> None:
    from gokart.file_processor import base

    assert base.PickleFileProcessor is gokart.file_processor.PickleFileProcessor
    assert base.XmlFileProcessor is gokart.file_processor.XmlFileProcessor
    assert base.load_dill_with_pandas_backward_compatibility is gokart.utils.load_dill_with_pandas_backward_compatibility
    with pytest.raises(AttributeError, match='NoSuchProcessor'):
        base.NoSuchProcessor  # noqa: B018


def test_worker_takes_its_options_from_a_config_object() -> None:
    from gokart.worker import Worker, gokart_worker

    config = gokart_worker(id='compat-worker', wait_interval=2.5, task_completion_check_at_run=False)
    with Worker(config=config) as worker:
        assert worker._config is config
        assert worker._id == 'compat-worker'  # luigi's own set-up follows the config too
    with Worker() as default_worker:
        assert default_worker._config.task_completion_check_at_run is True


def test_luigi_path_builds_run_on_a_worker_of_the_build_protocol() -> None:
    import luigi.scheduler

    from gokart.build import TaskLockExceptionRaisedFlag, WorkerProtocol, WorkerSchedulerFactory

    class Echo(gokart.TaskOnKart[str]):
        task_namespace = 'compat_modules'

        def run(self) -> None:
            self.dump('done')

    worker: WorkerProtocol = WorkerSchedulerFactory().create_worker(luigi.scheduler.Scheduler(), worker_processes=1)
    assert worker.add(Echo())
    assert worker.run()
    assert Echo().output().load() == 'done'
    assert TaskLockExceptionRaisedFlag().flag is False  # a build sets it when a task met a Redis lock held elsewhere
