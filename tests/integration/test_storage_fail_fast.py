"""A build on an S3 workspace whose endpoint dies fails fast, naming the endpoint and the task; a stall it rides out.

moto's S3 server runs in its own process here, so the tests can kill it or pause it (SIGSTOP) and
resume it (SIGCONT). Requests are counted with a botocore event hook on gokart's own S3 client:
the number of attempts is what bounds how long a dead endpoint can hold a build.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import luigi
import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT, free_port

import gokart
from gokart.errors import GokartBuildError, StorageUnavailableError
from gokart.storage import filesystem as storage

pytestmark = pytest.mark.integration

_SERVER = (
    'from moto.server import ThreadedMotoServer; import sys, time; '
    'ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start(); time.sleep(1e9)'
)


class Server:
    """A moto S3 server in a child process, which a test may kill or pause."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f'http://127.0.0.1:{self.port}'
        self.process = subprocess.Popen(
            [sys.executable, '-c', _SERVER, str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = boto3.client('s3', endpoint_url=self.endpoint, region_name='us-east-1')
        for _ in range(600):  # the server imports moto first: wait until it answers
            try:
                client.list_buckets()
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError('the moto server exited before answering') from None
                time.sleep(0.1)
        raise RuntimeError('the moto server did not answer')

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    started = Server()
    monkeypatch.setenv('AWS_ENDPOINT_URL', started.endpoint)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.resume()
            started.kill()


@pytest.fixture
def workspace(server: Server) -> str:
    bucket = f'fail-fast-{uuid.uuid4().hex[:12]}'
    boto3.client('s3', endpoint_url=server.endpoint, region_name='us-east-1').create_bucket(Bucket=bucket)
    return f's3://{bucket}/workspace'


def _set_retries(retries: int, timeout: float) -> None:
    config = luigi.configuration.get_config()
    if not config.has_section('gokart'):
        config.add_section('gokart')
    config.set('gokart', 'storage_retries', str(retries))
    config.set('gokart', 'storage_timeout', str(timeout))


@pytest.fixture(autouse=True)
def _forget_retry_settings() -> Iterator[None]:
    yield
    config = luigi.configuration.get_config()
    for name in ('storage_retries', 'storage_timeout'):
        if config.has_option('gokart', name):
            config.remove_option('gokart', name)


def _count_sends() -> list[str]:
    """Every HTTP request gokart's S3 client sends from now on (retries included), by operation."""
    sent: list[str] = []
    client = storage.filesystem_for_protocol('s3').client
    client.meta.events.register('before-send.s3', lambda request, **_: sent.append(request.method))
    return sent


class Leaf(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class Sum(gokart.TaskOnKart[int]):
    n = luigi.IntParameter()
    leaf_workspace = luigi.Parameter(default='')  # the leaves' workspace when not the task's own

    def requires(self) -> Any:
        return [Leaf(i=i, workspace_directory=self.leaf_workspace or self.workspace_directory) for i in range(self.n)]

    def run(self) -> None:
        self.dump(sum(self.load()))


def test_a_dead_endpoint_fails_the_build_naming_the_endpoint_and_the_task(server: Server, workspace: str) -> None:
    _set_retries(retries=2, timeout=1)
    sent = _count_sends()
    server.kill()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(Sum(n=1, workspace_directory=workspace))
    message = str(raised.value)
    assert server.endpoint in message
    assert 'Sum[' in message
    assert 'storage_retries' in message  # says what to change
    failures = [e for errors in raised.value.raised_exceptions.values() for e in errors]
    assert any(isinstance(e, StorageUnavailableError) and e.endpoint == server.endpoint for e in failures)
    assert len(sent) == 3, 'one request, tried storage_retries + 1 times, and the build stops'


def test_a_dead_endpoint_stops_a_wide_build_after_one_failed_request(server: Server, workspace: str, tmp_path: Any) -> None:
    """The root is local and incomplete; its 40 requirements on the dead S3 endpoint are checked together."""
    _set_retries(retries=1, timeout=1)
    sent = _count_sends()
    server.kill()
    with pytest.raises((GokartBuildError, StorageUnavailableError)) as raised:
        gokart.build(Sum(n=40, workspace_directory=str(tmp_path), leaf_workspace=workspace))
    assert isinstance(raised.value, GokartBuildError), 'each task whose output is on the dead endpoint fails, by name'
    assert server.endpoint in str(raised.value)
    assert 'Leaf[' in str(raised.value)
    assert len(sent) <= 2 * 4, f'{len(sent)} requests: the build kept asking a dead endpoint'


def test_a_paused_endpoint_that_comes_back_within_the_retries_finishes_the_build(server: Server, workspace: str) -> None:
    _set_retries(retries=6, timeout=1)
    gokart.build(Leaf(i=0, workspace_directory=workspace))  # the client and the connection exist before the stall
    sent = _count_sends()
    server.pause()
    resume = threading.Timer(2.5, server.resume)
    resume.start()
    try:
        assert gokart.build(Sum(n=3, workspace_directory=workspace)) == 3
    finally:
        resume.join()
    assert storage.exists(Sum(n=3, workspace_directory=workspace).output().path())
    assert len(sent) > 1


def test_retry_settings_reach_the_client_and_bad_ones_are_refused(server: Server) -> None:
    _set_retries(retries=5, timeout=2.5)
    config = storage.filesystem_for_protocol('s3').client.meta.config
    assert config.connect_timeout == 2.5 and config.read_timeout == 2.5
    assert config.retries['total_max_attempts'] == 6
    luigi.configuration.get_config().set('gokart', 'storage_retries', 'many')
    with pytest.raises(ValueError, match=r'\[gokart\] storage_retries'):
        storage.filesystem_for_protocol('s3')
