"""gokart 1.12's storage helpers kept working: ObjectStorage, zip clients and GCS object labels."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import luigi.format

from gokart.gcs_obj_metadata_client import MAX_METADATA_BYTES, merge_task_state_labels, task_state_labels
from gokart.object_storage import ObjectStorage
from gokart.required_task_output import RequiredTaskOutput
from gokart.s3_zip_client import S3ZipClient
from gokart.zip_client import LocalZipClient, make_zip_client


def test_zip_client_round_trips_a_directory(tmp_path: Path) -> None:
    for location in (str(tmp_path / 'archive.zip'), f'memory://zip-{uuid.uuid4().hex}/archive.zip'):
        scratch = tmp_path / 'scratch'
        scratch.mkdir()
        (scratch / 'model.pkl').write_bytes(b'weights')
        client = ObjectStorage.get_zip_client(location, str(scratch))
        client.make_archive()
        assert client.exists() and client.path == location
        (scratch / 'model.pkl').unlink()
        client.unpack_archive()
        assert (scratch / 'model.pkl').read_bytes() == b'weights'
        client.remove()
        assert not client.exists()
        (scratch / 'model.pkl').unlink()
        scratch.rmdir()


def test_zip_client_kind_follows_the_path() -> None:
    assert isinstance(make_zip_client('s3://b/x.zip', '/tmp/x'), S3ZipClient)
    assert isinstance(make_zip_client('x.zip', '/tmp/x'), LocalZipClient)


def test_object_storage_target_reads_and_writes_with_a_luigi_format(tmp_path: Path) -> None:
    path = f'memory://objects-{uuid.uuid4().hex}/a.txt'
    assert ObjectStorage.if_object_storage_path(path) and not ObjectStorage.if_object_storage_path('resources/a.txt')
    target = ObjectStorage.get_object_storage_target(path, luigi.format.UTF8)
    with target.open('w') as f:
        f.write('héllo')
    assert ObjectStorage.exists(path)
    with target.open('r') as f:
        assert f.read() == 'héllo'
    assert ObjectStorage.get_timestamp(path).tzinfo is not None


def test_labels_merge_in_priority_order_and_skip_empty_values() -> None:
    labels = task_state_labels(
        task_params={'a': 'from-params', 'b': '2', 'empty': ''},
        custom_labels={'a': 'custom', 3: 4},
        required_task_outputs={'x': RequiredTaskOutput('Up', 'gs://b/up.pkl')},
    )
    assert list(labels) == ['a', '3', 'b', '__required_task_outputs']
    assert labels['a'] == 'custom' and labels['3'] == '4'
    assert json.loads(labels['__required_task_outputs']) == {'x': {'__gokart_task_name': 'Up', '__gokart_output_path': 'gs://b/up.pkl'}}


def test_labels_are_laid_over_existing_metadata_and_unchanged_metadata_is_not_patched() -> None:
    existing = {'a': 'old', 'keep': 'me'}
    assert merge_task_state_labels(existing, {'a': 'new'}, None, None) == {'a': 'new', 'keep': 'me'}
    assert merge_task_state_labels({'a': 'new'}, {'a': 'new'}, None, None) is None


def test_labels_are_dropped_from_the_end_until_the_metadata_fits_8_kib() -> None:
    big = 'v' * 3000
    merged = merge_task_state_labels({}, {'p1': big, 'p2': big, 'p3': big}, None, None)
    assert merged == {'p1': big, 'p2': big}
    assert sum(len(k) + len(v) for k, v in merged.items()) <= MAX_METADATA_BYTES
