"""s3fs-style options users already set reach gokart's boto3 client: ``set_storage_options`` and ``[fsspec.s3]`` (real moto server)."""

from __future__ import annotations

from collections.abc import Iterator

import luigi
import pytest

from gokart.storage import filesystem as storage
from gokart.storage.options import clear_storage_options, set_storage_options

pytestmark = pytest.mark.integration


@pytest.fixture
def no_endpoint_in_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ('AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        monkeypatch.delenv(name, raising=False)
    yield
    clear_storage_options('s3')


def test_options_set_from_code_with_s3fs_names(s3_bucket: str, s3_endpoint: str, no_endpoint_in_environment: None) -> None:
    set_storage_options('s3', key='testing', secret='testing', endpoint_url=s3_endpoint, client_kwargs={'region_name': 'us-east-1'})
    path = f's3://{s3_bucket}/from-code/value.bin'
    storage.write_bytes(path, b'through set_storage_options')
    with storage.open_read(path) as f:
        assert f.read() == b'through set_storage_options'
    client = storage.filesystem_for_protocol('s3').client
    assert client.meta.endpoint_url == s3_endpoint and client.meta.region_name == 'us-east-1'


def test_options_from_the_fsspec_s3_section(s3_bucket: str, s3_endpoint: str, no_endpoint_in_environment: None) -> None:
    config = luigi.configuration.get_config()
    config.add_section('fsspec.s3')
    config.set('fsspec.s3', 'endpoint_url', s3_endpoint)
    config.set('fsspec.s3', 'key', 'testing')
    config.set('fsspec.s3', 'secret', 'testing')
    config.set('fsspec.s3', 'config_kwargs', '{"read_timeout": 7}')
    try:
        path = f's3://{s3_bucket}/from-config/value.bin'
        storage.write_bytes(path, b'through [fsspec.s3]')
        assert storage.exists(path) and storage.size(path) == len(b'through [fsspec.s3]')
        assert storage.filesystem_for_protocol('s3').client.meta.config.read_timeout == 7
    finally:
        config.remove_section('fsspec.s3')
