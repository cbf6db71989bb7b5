"""gokart.storage.filesystem and gokart.storage.options: locations, atomic writes, batched existence, fsspec options."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import luigi
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from gokart.gcs_config import GCSConfig, parse_gcs_credential
from gokart.storage import filesystem as storage
from gokart.storage.options import clear_storage_options, set_storage_options, storage_options_for


@pytest.fixture
def memory_directory() -> str:
    return f'memory://storage-test-{uuid.uuid4().hex}'


def test_local_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = str(tmp_path / 'out' / 'x.bin')
    with pytest.raises(RuntimeError):
        with storage.atomic_write(path) as f:
            f.write(b'partial')
            raise RuntimeError('crash mid-write')
    assert not storage.exists(path)
    assert storage.list_files(str(tmp_path)) == []
    with storage.atomic_write(path) as f:
        f.write(b'whole')
    assert storage.open_read(path).read() == b'whole'


def test_remote_write_publishes_nothing_on_error(memory_directory: str) -> None:
    path = f'{memory_directory}/x.bin'
    with pytest.raises(RuntimeError):
        with storage.atomic_write(path) as f:
            f.write(b'partial')
            raise RuntimeError('crash mid-write')
    assert not storage.exists(path)
    with storage.atomic_write(path) as f:
        f.write(b'whole')
        f.seek(0)  # format writers may seek: the spool allows it
        f.write(b'W')
    with storage.open_read(path) as f:
        assert f.read() == b'Whole'


def test_exists_many_answers_with_one_listing_per_directory(memory_directory: str) -> None:
    present = [f'{memory_directory}/d/{i}.pkl' for i in range(5)]
    for path in present:
        with storage.atomic_write(path) as f:
            f.write(b'1')
    missing = [f'{memory_directory}/d/missing.pkl', f'{memory_directory}/nowhere/a.pkl']
    answers = storage.exists_many(present + missing)
    assert answers == {**dict.fromkeys(present, True), **dict.fromkeys(missing, False)}


@pytest.mark.parametrize('extra_files', [0, 5000], ids=['scanned', 'directory-too-big-to-scan'])
def test_exists_many_on_a_local_directory(tmp_path: Path, extra_files: int) -> None:
    outputs = tmp_path / 'outputs'
    outputs.mkdir()
    for i in range(extra_files):
        (outputs / f'other_{i}.pkl').touch()
    present = [str(outputs / f'{i}.pkl') for i in range(0, storage._SCAN_LOCAL_DIRECTORY_FROM, 2)]
    for path in present:
        Path(path).write_bytes(b'1')
    missing = [str(outputs / f'{i}.pkl') for i in range(1, storage._SCAN_LOCAL_DIRECTORY_FROM, 2)]
    elsewhere = [str(tmp_path / 'nowhere' / f'{i}.pkl') for i in range(storage._SCAN_LOCAL_DIRECTORY_FROM)]
    answers = storage.exists_many(present + missing + elsewhere + ['relative-missing.pkl'])
    assert answers == {**dict.fromkeys(present, True), **dict.fromkeys(missing + elsewhere + ['relative-missing.pkl'], False)}


def test_known_existence_answers_only_in_its_block_and_forgets_written_paths(memory_directory: str) -> None:
    path = f'{memory_directory}/k.pkl'
    with storage.known_existence({path: True}):
        assert storage.exists(path)
        with storage.atomic_write(path) as f:
            f.write(b'1')
        storage.remove(path)
        assert not storage.exists(path)
    assert not storage.exists(path)


def test_list_files_returns_urls_in_the_form_given(memory_directory: str, tmp_path: Path) -> None:
    with storage.atomic_write(f'{memory_directory}/a/b.txt') as f:
        f.write(b'1')
    assert [storage.filesystem(p)[1] for p in storage.list_files(memory_directory)] == [
        storage.filesystem(f'{memory_directory}/a/b.txt')[1]
    ]


def test_upload_and_download_copy_whole_files(memory_directory: str, tmp_path: Path) -> None:
    source = tmp_path / 'source.bin'
    source.write_bytes(b'payload')
    storage.upload(str(source), f'{memory_directory}/copy.bin')
    storage.download(f'{memory_directory}/copy.bin', str(tmp_path / 'back' / 'copy.bin'))
    assert (tmp_path / 'back' / 'copy.bin').read_bytes() == b'payload'


def test_s3_options_come_from_the_variables_s3config_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('MY_KEY', 'k')
    monkeypatch.setenv('MY_SECRET', 's')
    monkeypatch.setenv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9')
    config = luigi.configuration.get_config()
    config.add_section('S3Config')
    config.set('S3Config', 'aws_access_key_id_name', 'MY_KEY')
    config.set('S3Config', 'aws_secret_access_key_name', 'MY_SECRET')
    options = storage_options_for('s3')
    assert options['key'] == 'k' and options['secret'] == 's'
    assert options['endpoint_url'] == 'http://127.0.0.1:9'
    assert options['use_listings_cache'] is False


def test_fsspec_section_and_code_override_in_that_order() -> None:
    config = luigi.configuration.get_config()
    config.add_section('fsspec.s3')
    config.set('fsspec.s3', 'endpoint_url', 'http://from-config')
    config.set('fsspec.s3', 'client_kwargs', '{"region_name": "eu-west-1"}')
    assert storage_options_for('s3')['client_kwargs'] == {'region_name': 'eu-west-1'}
    assert storage_options_for('s3')['endpoint_url'] == 'http://from-config'
    set_storage_options('s3', endpoint_url='http://from-code')
    try:
        assert storage_options_for('s3')['endpoint_url'] == 'http://from-code'
    finally:
        clear_storage_options('s3')


def test_gcs_credential_is_a_path_or_json_text(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_gcs_credential('') is None
    assert parse_gcs_credential('/secrets/sa.json') == '/secrets/sa.json'
    info = {'type': 'service_account', 'project_id': 'p'}
    assert parse_gcs_credential(json.dumps(info)) == info
    monkeypatch.setenv('GCS_CREDENTIAL', json.dumps(info))
    assert GCSConfig().get_gcs_token() == info
    assert storage_options_for('gs')['token'] == info


class _RendezvousFileSystem(MemoryFileSystem):
    """An in-memory store whose writes each wait until ``PARTIES`` writes are in progress at once."""

    protocol = ('rendezvous',)
    PARTIES = 3
    meeting: threading.Barrier | None = None

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return MemoryFileSystem._strip_protocol(path.removeprefix('rendezvous://'))

    def pipe_file(self, path: str, value: bytes, *args: object, **kwargs: object) -> None:
        if 'refused' in path:
            raise PermissionError(f'{path}: refused by the store')
        assert self.meeting is not None
        self.meeting.wait(timeout=10)  # raises BrokenBarrierError if the writes came one after another
        super().pipe_file(path, value, *args, **kwargs)


@pytest.fixture
def rendezvous_store() -> Iterator[str]:
    fsspec.register_implementation('rendezvous', _RendezvousFileSystem, clobber=True)
    _RendezvousFileSystem.meeting = threading.Barrier(_RendezvousFileSystem.PARTIES)
    yield f'rendezvous://many-{uuid.uuid4().hex}'
    _RendezvousFileSystem.meeting = None


def test_write_many_writes_remote_files_at_once(rendezvous_store: str, tmp_path: Path) -> None:
    files = [(f'{rendezvous_store}/record-{i}.pkl', f'record {i}'.encode()) for i in range(3)]
    storage.write_many([*files, (str(tmp_path / 'local.txt'), b'local')])  # a local file among them is written too
    for path, data in files:
        with storage.open_read(path) as f:
            assert f.read() == data
    assert (tmp_path / 'local.txt').read_bytes() == b'local'


def test_write_many_finishes_every_write_then_raises_the_first_error(rendezvous_store: str) -> None:
    _RendezvousFileSystem.meeting = threading.Barrier(2)
    with pytest.raises(PermissionError, match='refused by the store'):
        storage.write_many([(f'{rendezvous_store}/refused.pkl', b'no'), *[(f'{rendezvous_store}/ok-{i}.pkl', b'yes') for i in range(2)]])
    assert all(storage.exists(f'{rendezvous_store}/ok-{i}.pkl') for i in range(2))
    assert not storage.exists(f'{rendezvous_store}/refused.pkl')
