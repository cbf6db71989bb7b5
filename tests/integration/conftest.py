"""Fixtures starting real servers once per session: moto's S3 server and redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT, find_redis_server, free_port, moto_s3_server, redis_server


@pytest.fixture(scope='session')
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on a loopback port, for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        with moto_s3_server() as endpoint:
            yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server; gokart reaches it through ``AWS_ENDPOINT_URL`` as a user would set it."""
    import boto3

    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv('AWS_ENDPOINT_URL', s3_endpoint)
    name = f'gokart-test-{uuid.uuid4().hex[:12]}'
    boto3.client('s3', endpoint_url=s3_endpoint, region_name='us-east-1').create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_workspace(s3_bucket: str) -> Iterator[str]:
    """A fresh bucket that every task's workspace_directory points into (``s3://BUCKET/ws/``), through the
    [TaskOnKart] config section as users set it; yields the bucket's name."""
    import luigi

    config = luigi.configuration.get_config()
    if not config.has_section('TaskOnKart'):
        config.add_section('TaskOnKart')
    config.set('TaskOnKart', 'workspace_directory', f's3://{s3_bucket}/ws/')
    yield s3_bucket
    config.remove_section('TaskOnKart')


@pytest.fixture(scope='session')
def redis_address() -> Iterator[tuple[str, int]]:
    """(host, port) of a real redis-server for the session; skipped only when no binary can be found."""
    binary = find_redis_server()
    if binary is None:
        pytest.skip("no redis-server binary: install Debian's redis-server package (make system-deps does) or put one on PATH")
    with redis_server(binary) as address:
        yield address


@pytest.fixture(scope='module')
def gcs_bucket() -> Iterator[str]:
    """A bucket on an in-memory GCS emulator (one per test module); gs:// goes to it through gcsfs's plain client."""
    pytest.importorskip('gcsfs', reason='pip install "gokart[gcs]"')
    pytest.importorskip('gcp_storage_emulator', reason='pip install gcp-storage-emulator (in the test extra)')
    import fsspec
    import gcsfs.core
    from gcp_storage_emulator.server import create_server

    from gokart.storage.options import clear_storage_options, set_storage_options

    port = free_port()
    name = f'gokart-gcs-{uuid.uuid4().hex[:8]}'
    server = create_server('127.0.0.1', port, in_memory=True, default_bucket=name)
    server.start()
    # gcsfs's default class first asks Google's control plane (gRPC) what kind of bucket this is, which
    # an emulator cannot answer: use the plain JSON-API client.
    previous = {protocol: fsspec.get_filesystem_class(protocol) for protocol in ('gs', 'gcs')}
    for protocol in previous:
        fsspec.register_implementation(protocol, gcsfs.core.GCSFileSystem, clobber=True)
    set_storage_options('gs', token='anon', project='test', endpoint_url=f'http://127.0.0.1:{port}')
    try:
        yield name
    finally:
        clear_storage_options('gs')
        for protocol, cls in previous.items():
            fsspec.register_implementation(protocol, cls, clobber=True)
        server.stop()
