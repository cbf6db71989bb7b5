"""gokart.storage.backends: one entry per protocol, asked by everything that used to compare protocol names."""

import logging
import re
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem

import gokart
from gokart import object_storage, zip_client
from gokart.errors import MissingStorageLibraryError
from gokart.storage import backends
from gokart.storage import filesystem as storage

ROOT = Path(__file__).resolve().parent.parent


class ToyFileSystem(MemoryFileSystem):
    """An in-memory store of its own, under the protocol toyfs://."""

    protocol = ('toyfs',)
    store: dict = {}
    pseudo_dirs = ['']


@pytest.fixture
def own_table(monkeypatch):
    """Registrations made by the test are undone afterwards."""
    monkeypatch.setattr(backends, '_backends', dict(backends._backends))


class Written(gokart.TaskOnKart[str]):
    def run(self):
        self.dump('hello')


def test_a_registered_protocol_names_its_missing_client_library_and_what_to_install(own_table):
    backends.register_storage_backend(
        backends.StorageBackend(
            protocols=('toyfs',), label='Toy', client_modules=('gokart_toy_client_not_installed',), install='gokart-toy'
        )
    )
    with pytest.raises(MissingStorageLibraryError, match=r'needs gokart_toy_client_not_installed.*Toy support .* pip install gokart-toy'):
        Written(workspace_directory='toyfs://bucket/ws').output()


def test_a_registered_protocol_with_its_own_file_system_builds_there_without_a_lock_warning(own_table, caplog):
    fs = ToyFileSystem()
    backends.register_storage_backend(
        backends.StorageBackend(protocols=('toyfs',), label='Toy', filesystem=lambda **options: fs, in_process=True, rooted_paths=True)
    )
    task = Written(workspace_directory='toyfs://ws')
    with caplog.at_level(logging.WARNING, logger='gokart.run_locks'):
        assert gokart.build(task) == 'hello'
    assert not [r for r in caplog.records if 'without a run lock' in r.getMessage()]
    path = task.output().path()
    assert path.startswith('toyfs://ws/') and fs.exists(fs._strip_protocol(path))
    assert storage.list_files('toyfs://ws') and all(p.startswith('toyfs://') for p in storage.list_files('toyfs://ws'))


def test_model_zip_clients_and_1_12_prefixes_come_from_the_table(tmp_path):
    scratch = str(tmp_path / 'scratch')
    assert type(zip_client.make_zip_client('s3://bucket/model.zip', scratch)) is zip_client.S3ZipClient
    assert type(zip_client.make_zip_client('gs://bucket/model.zip', scratch)) is zip_client.GCSZipClient
    assert type(zip_client.make_zip_client(str(tmp_path / 'model.zip'), scratch)) is zip_client.LocalZipClient
    assert type(zip_client.make_zip_client('memory://model.zip', scratch)) is zip_client.StorageZipClient
    assert object_storage.object_storage_path_prefix == ['s3://', 'gs://']
    assert backends.lease_protocols() == ['s3', 'gs']


def test_copy_within_a_store_that_copies_server_side_goes_through_the_store(own_table):
    copies = []

    class CountingToy(ToyFileSystem):
        def copy(self, path1, path2, **kwargs):
            copies.append((path1, path2))
            return super().copy(path1, path2, **kwargs)

    fs = CountingToy()
    backends.register_storage_backend(
        backends.StorageBackend(protocols=('toyfs',), label='Toy', filesystem=lambda **o: fs, server_side_copy=True, rooted_paths=True)
    )
    storage.write_bytes('toyfs://a/source', b'bytes')
    storage.copy('toyfs://a/source', 'toyfs://b/destination')
    with storage.open_read('toyfs://b/destination') as f:
        assert f.read() == b'bytes'
    assert len(copies) == 1  # one copy inside the store, no download and upload


# Modules that implement one store spell its own scheme (the S3 file system, the GCS metadata client of 1.12).
_ONE_STORE_MODULES = {'storage/backends.py', 'storage/s3_filesystem.py', 'gcs_obj_metadata_client.py'}


def test_protocol_aliases_are_spelled_in_the_table_only():
    """No module keeps its own set of protocols: the aliases s3a, gcs and memory appear in storage/backends.py alone."""
    spelled = []
    for path in sorted((ROOT / 'gokart').rglob('*.py')):
        relative = path.relative_to(ROOT / 'gokart').as_posix()
        if relative not in _ONE_STORE_MODULES and re.search(r"""['"](s3a|gcs|memory)['"]|startswith\(['"](s3|gs)://""", path.read_text()):
            spelled.append(relative)
    assert spelled == []
