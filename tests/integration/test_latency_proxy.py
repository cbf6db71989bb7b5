"""benchmarks/latency_proxy.py: the S3 benchmarks' latency proxy forwards bytes unchanged and counts requests.

The delay itself is not asserted (no timed assertions); the benchmarks show it.
"""

from __future__ import annotations

import http.client
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

PROXY_FILE = Path(__file__).resolve().parents[2] / 'benchmarks' / 'latency_proxy.py'


def load_proxy_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location('bench_latency_proxy', PROXY_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


latency_proxy = load_proxy_module()


def endpoint_address(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.removeprefix('http://').rsplit(':', 1)
    return host, int(port)


def test_s3_requests_through_the_proxy_get_the_same_bytes_back_and_are_counted_by_method(s3_endpoint: str, s3_bucket: str) -> None:
    import boto3

    body = os.urandom(3 * 1024 * 1024 + 7)  # larger than one read of the proxy, so it crosses in pieces
    with latency_proxy.running_proxy(*endpoint_address(s3_endpoint), delay=0.001) as proxy:
        client = boto3.client('s3', endpoint_url=f'http://127.0.0.1:{proxy.port}', region_name='us-east-1')
        client.put_object(Bucket=s3_bucket, Key='data/blob.bin', Body=body)
        for _ in range(3):
            client.head_object(Bucket=s3_bucket, Key='data/blob.bin')
        assert client.get_object(Bucket=s3_bucket, Key='data/blob.bin')['Body'].read() == body
        listed = client.list_objects_v2(Bucket=s3_bucket, Prefix='data/')
        assert [item['Key'] for item in listed['Contents']] == ['data/blob.bin']
        stats = proxy.stats()
        assert stats['methods'] == {'PUT': 1, 'HEAD': 3, 'GET': 2}
        assert stats['requests'] == 6
        proxy.reset()
        assert proxy.stats()['requests'] == 0


def test_gokart_dump_and_load_on_s3_work_through_the_proxy(s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import gokart

    class ProxiedFrame(gokart.TaskOnKart[dict[str, int]]):
        workspace_directory = f's3://{s3_bucket}/workspace'

        def run(self) -> None:
            self.dump({'answer': 42})

    with latency_proxy.running_proxy(*endpoint_address(s3_endpoint), delay=0.0) as proxy:
        monkeypatch.setenv('AWS_ENDPOINT_URL', f'http://127.0.0.1:{proxy.port}')
        assert gokart.build(ProxiedFrame()) == {'answer': 42}
        assert proxy.stats()['methods'].get('PUT', 0) >= 1


def test_small_puts_to_s3_take_one_round_trip_and_large_ones_wait_for_the_go_ahead(
    s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn is a round trip: botocore's ``Expect: 100-continue`` would make every PUT two."""
    import gokart
    from gokart.storage import filesystem as storage

    class SmallOnS3(gokart.TaskOnKart[int]):
        workspace_directory = f's3://{s3_bucket}/round-trips'

        def run(self) -> None:
            self.dump(1)

    with latency_proxy.running_proxy(*endpoint_address(s3_endpoint), delay=0.0) as proxy:
        monkeypatch.setenv('AWS_ENDPOINT_URL', f'http://127.0.0.1:{proxy.port}')
        storage.write_bytes(f's3://{s3_bucket}/warm-up', b'')  # the connection is open before counting
        proxy.reset()
        assert gokart.build(SmallOnS3()) == 1  # its output, five log/ records and its lease: all small
        stats = proxy.stats()
        assert stats['methods'].get('PUT', 0) >= 7 and stats['turns'] == stats['requests'], stats
        proxy.reset()
        # A large body still asks for the go-ahead. How many turns its body then takes depends on when
        # the server sends 100 Continue (moto's, when it starts reading), so the header itself is checked.
        fs, _ = storage.filesystem(f's3://{s3_bucket}/large.bin')
        expect_headers: list[object] = []
        fs.client.meta.events.register(
            'before-send.s3.PutObject', lambda request, **_: expect_headers.append(request.headers.get('Expect'))
        )
        storage.write_bytes(f's3://{s3_bucket}/large.bin', b'x' * (2 * 1024 * 1024))
        stats = proxy.stats()
        assert expect_headers == [b'100-continue'], expect_headers
        assert stats['methods'] == {'PUT': 1} and stats['turns'] >= 2, stats


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive: several requests on one connection

    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def keep_alive_server() -> Iterator[tuple[str, int]]:
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield '127.0.0.1', int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_every_request_on_a_keep_alive_connection_is_counted(keep_alive_server: tuple[str, int]) -> None:
    with latency_proxy.running_proxy(*keep_alive_server, delay=0.001) as proxy:
        connection = http.client.HTTPConnection('127.0.0.1', proxy.port, timeout=10)
        for path in ('/one', '/two', '/three'):
            connection.request('GET', path)
            assert connection.getresponse().read() == path.encode()
        connection.close()
        stats = proxy.stats()
    assert stats['connections'] == 1
    assert stats['methods'] == {'GET': 3}
    assert stats['turns'] == 3


def test_the_proxy_process_reports_and_resets_its_counts(keep_alive_server: tuple[str, int]) -> None:
    process = latency_proxy.ProxyProcess(*keep_alive_server, delay=0.0)
    try:
        connection = http.client.HTTPConnection('127.0.0.1', process.port, timeout=10)
        connection.request('GET', '/x')
        assert connection.getresponse().read() == b'/x'
        connection.close()
        assert process.stats()['methods'] == {'GET': 1}
        process.reset()
        assert process.stats()['requests'] == 0
    finally:
        process.stop()


def test_a_malformed_upstream_is_refused_with_the_expected_form() -> None:
    result = subprocess.run([sys.executable, str(PROXY_FILE), '--upstream', 'localhost'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert '--upstream takes HOST:PORT' in result.stderr
