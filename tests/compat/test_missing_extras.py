"""A missing extra fails the gokart 1.12 way: ``ImportError`` saying ``pip install gokart[s3]`` / ``gokart[gcs]``.

Checked at call time, as 1.12 did: the tests hide a library after gokart was imported (a
``None`` in ``sys.modules`` is how Python marks a module as not importable). No request is made:
each entry point must fail before it reaches the network.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

import pytest

from gokart.file_processor import make_file_processor
from gokart.file_processor.tabular import CsvFileProcessor
from gokart.gcs_config import GCSConfig
from gokart.gcs_obj_metadata_client import GCSObjectMetadataClient
from gokart.gcs_zip_client import GCSZipClient
from gokart.object_storage import ObjectStorage
from gokart.s3_config import S3Config
from gokart.s3_zip_client import S3ZipClient
from gokart.target import make_target

S3_ENTRY_POINTS: list[tuple[str, Callable[[], Any]]] = [
    ('S3Config().get_s3_client()', lambda: S3Config().get_s3_client()),
    ('ObjectStorage.get_object_storage_target', lambda: ObjectStorage.get_object_storage_target('s3://bucket/a.pkl', None)),
    ('ObjectStorage.exists', lambda: ObjectStorage.exists('s3://bucket/a.pkl')),
    ('ObjectStorage.get_timestamp', lambda: ObjectStorage.get_timestamp('s3://bucket/a.pkl')),
    ('ObjectStorage.get_zip_client', lambda: ObjectStorage.get_zip_client('s3://bucket/a.zip', '/tmp/unused')),
    ('S3ZipClient', lambda: S3ZipClient('s3://bucket/a.zip', '/tmp/unused')),
    ('make_target', lambda: make_target('s3://bucket/a.pkl')),
]
GCS_ENTRY_POINTS: list[tuple[str, Callable[[], Any]]] = [
    ('GCSConfig().get_gcs_client()', lambda: GCSConfig().get_gcs_client()),
    ('GCSConfig()._get_gcs_client()', lambda: GCSConfig()._get_gcs_client()),
    ('GCSConfig()._load_oauth_credentials()', lambda: GCSConfig()._load_oauth_credentials()),
    ('ObjectStorage.get_object_storage_target', lambda: ObjectStorage.get_object_storage_target('gs://bucket/a.pkl', None)),
    ('ObjectStorage.exists', lambda: ObjectStorage.exists('gs://bucket/a.pkl')),
    ('ObjectStorage.get_timestamp', lambda: ObjectStorage.get_timestamp('gs://bucket/a.pkl')),
    ('ObjectStorage.get_zip_client', lambda: ObjectStorage.get_zip_client('gs://bucket/a.zip', '/tmp/unused')),
    ('GCSZipClient', lambda: GCSZipClient('gs://bucket/a.zip', '/tmp/unused')),
    (
        'GCSObjectMetadataClient.add_task_state_labels',
        lambda: GCSObjectMetadataClient.add_task_state_labels('gs://bucket/a.pkl', {'a': '1'}),
    ),
    ('make_target', lambda: make_target('gs://bucket/a.pkl')),
]


@pytest.mark.parametrize(('name', 'call'), S3_ENTRY_POINTS, ids=[name for name, _ in S3_ENTRY_POINTS])
def test_every_s3_entry_point_without_boto3_says_pip_install_gokart_s3(
    name: str, call: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, 'boto3', None)
    with pytest.raises(ImportError) as raised:
        call()
    assert 'pip install gokart[s3]' in str(raised.value)


@pytest.mark.parametrize('hidden', ['gcsfs', 'google.auth'])
@pytest.mark.parametrize(('name', 'call'), GCS_ENTRY_POINTS, ids=[name for name, _ in GCS_ENTRY_POINTS])
def test_every_gcs_entry_point_without_the_google_libraries_says_pip_install_gokart_gcs(
    name: str, call: Callable[[], Any], hidden: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)
    with pytest.raises(ImportError) as raised:
        call()
    assert 'pip install gokart[gcs]' in str(raised.value)


def test_gcs_client_without_the_google_api_client_says_pip_install_gokart_gcs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'googleapiclient', None)
    with pytest.raises(ImportError, match=r'pip install gokart\[gcs\]'):
        GCSConfig().get_gcs_client()


def test_the_check_is_made_at_each_call_not_once(monkeypatch: pytest.MonkeyPatch) -> None:
    make_target('s3://bucket/first.pkl')  # boto3 present: fine, and remembered by nothing
    monkeypatch.setitem(sys.modules, 'boto3', None)
    with pytest.raises(ImportError, match=r'pip install gokart\[s3\]'):
        make_target('s3://bucket/second.pkl')


def test_log_records_get_no_labels_and_need_no_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'gcsfs', None)
    assert GCSObjectMetadataClient.add_task_state_labels('gs://bucket/log/task_log/A_1.pkl', {'a': '1'}) is None


def test_is_buffered_reader_is_1_12s_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import luigi.contrib.s3

    reader = luigi.contrib.s3.ReadableS3File.__new__(luigi.contrib.s3.ReadableS3File)
    reader.s3_key = io.BytesIO()  # what its close(), run when it is collected, closes
    with open(__file__, 'rb') as binary, open(__file__) as text:
        for stream in [io.BytesIO(b'x'), binary, text, None, object()]:
            assert ObjectStorage.is_buffered_reader(stream) is True
    assert ObjectStorage.is_buffered_reader(reader) is False
    monkeypatch.setitem(sys.modules, 'boto3', None)
    assert ObjectStorage.is_buffered_reader(reader) is True  # as 1.12: no boto3, no S3 reader


POLARS_MESSAGE = "polars is required for polars-based dataframe types ('polars' or 'polars-lazy'). Install with: pip install polars"


@pytest.mark.parametrize('extension', ['.csv', '.tsv', '.json', '.ndjson', '.parquet', '.feather', '.pkl'])
@pytest.mark.parametrize('dataframe_type', ['polars', 'polars-lazy'])
def test_polars_frames_without_polars_fail_with_1_12s_import_error(
    extension: str, dataframe_type: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, 'polars', None)
    with pytest.raises(ImportError) as raised:
        make_file_processor(f'data{extension}', dataframe_type=dataframe_type)
    assert str(raised.value) == POLARS_MESSAGE


def test_polars_processors_fail_the_same_way_on_load_and_dump_when_polars_goes_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip('polars')
    processor = CsvFileProcessor(dataframe_type='polars')
    monkeypatch.setitem(sys.modules, 'polars', None)
    with pytest.raises(ImportError) as on_load:
        processor.load(io.BytesIO(b'a\n1\n'))
    with pytest.raises(ImportError) as on_dump:
        processor.dump(object(), io.BytesIO())
    assert str(on_load.value) == str(on_dump.value) == POLARS_MESSAGE
