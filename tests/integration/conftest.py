"""Fixtures starting real servers once per session: moto's S3 server and redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT, find_redis_server, moto_s3_server, redis_server


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


@pytest.fixture(scope='session')
def redis_address() -> Iterator[tuple[str, int]]:
    """(host, port) of a real redis-server for the session; skipped only when no binary can be found."""
    binary = find_redis_server()
    if binary is None:
        pytest.skip("no redis-server binary: install Debian's redis-server package (make system-deps does) or put one on PATH")
    with redis_server(binary) as address:
        yield address
