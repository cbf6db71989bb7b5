"""Client libraries of remote workspaces: a missing one is reported when a target is made; 1.12's luigi clients."""

from __future__ import annotations

import sys

import pytest

import gokart
from gokart.errors import MissingStorageLibraryError
from gokart.gcs_config import GCSConfig
from gokart.s3_config import S3Config
from gokart.storage import filesystem as storage
from gokart.target import make_target


@pytest.fixture
def unchecked_protocols(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which protocols were found usable, so this test's checks run again."""
    monkeypatch.setattr(storage, '_usable_protocols', {'file', 'memory'})


class OnS3(gokart.TaskOnKart[int]):
    def run(self) -> None:
        self.dump(1)


def test_a_missing_s3_library_is_reported_when_the_target_is_made(monkeypatch: pytest.MonkeyPatch, unchecked_protocols: None) -> None:
    monkeypatch.setitem(sys.modules, 'boto3', None)  # how Python marks a package as not importable
    with pytest.raises(MissingStorageLibraryError, match=r'gokart\[s3\]') as raised:
        make_target('s3://bucket/data/values.pkl')
    assert 's3://bucket/data/values.pkl' in str(raised.value)
    assert isinstance(raised.value, ImportError)
    with pytest.raises(MissingStorageLibraryError, match=r'gokart\[s3\]'):
        OnS3(workspace_directory='s3://bucket/workspace').output()


def test_a_missing_gcs_library_names_the_gcs_extra(monkeypatch: pytest.MonkeyPatch, unchecked_protocols: None) -> None:
    monkeypatch.setitem(sys.modules, 'gcsfs', None)
    with pytest.raises(MissingStorageLibraryError, match=r'gokart\[gcs\]'):
        make_target('gs://bucket/data/values.pkl')


def test_an_unknown_protocol_is_refused_naming_the_path(unchecked_protocols: None) -> None:
    with pytest.raises(ValueError, match='nosuchproto://bucket/x.pkl'):
        make_target('nosuchproto://bucket/x.pkl')


def test_local_and_memory_targets_need_no_library(tmp_path: object) -> None:
    assert make_target(f'{tmp_path}/x.pkl').path().endswith('x.pkl')
    assert make_target('memory://bucket/x.pkl').path() == 'memory://bucket/x.pkl'


def test_s3config_gives_luigis_s3_client_with_the_configured_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    import luigi.contrib.s3

    monkeypatch.setenv('MY_KEY', 'key-id')
    monkeypatch.setenv('MY_SECRET', 'secret')
    monkeypatch.setenv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9')
    config = luigi.configuration.get_config()
    config.add_section('S3Config')
    config.set('S3Config', 'aws_access_key_id_name', 'MY_KEY')
    config.set('S3Config', 'aws_secret_access_key_name', 'MY_SECRET')
    try:
        client = S3Config().get_s3_client()
        assert isinstance(client, luigi.contrib.s3.S3Client)
        assert client is S3Config().get_s3_client()
        assert client._options['aws_access_key_id'] == 'key-id'
        assert client._options['endpoint_url'] == 'http://127.0.0.1:9'
    finally:
        config.remove_section('S3Config')


def test_gcsconfig_gives_luigis_gcs_client_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip('googleapiclient')
    import luigi.contrib.gcs

    monkeypatch.delenv('GCS_CREDENTIAL', raising=False)
    client = GCSConfig().get_gcs_client()
    assert isinstance(client, luigi.contrib.gcs.GCSClient)
    assert client is GCSConfig().get_gcs_client()
    # what thunderbolt uses to read gs:// workspaces
    assert client._path_to_bucket_and_key('gs://bucket/workspace/a.pkl') == ('bucket', 'workspace/a.pkl')
    assert callable(client.client.objects) and callable(client.listdir) and callable(client.download)


def test_s3_without_credentials_says_where_to_set_them(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from gokart.storage.s3_filesystem import S3FileSystem

    for name in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', f'{tmp_path}/none')
    monkeypatch.setenv('AWS_CONFIG_FILE', f'{tmp_path}/none')
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')
    fs = S3FileSystem(endpoint_url='http://127.0.0.1:9', skip_instance_cache=True)
    with pytest.raises(PermissionError, match=r'No AWS credentials for writing s3://bucket/x.bin: set AWS_ACCESS_KEY_ID'):
        fs.pipe_file('bucket/x.bin', b'x')
