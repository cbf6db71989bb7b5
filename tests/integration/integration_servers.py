"""Real servers for integration tests: moto's S3 server and redis-server, each on a free loopback port.

Both are plain context managers, so the pytest fixtures in ``conftest.py`` and the benchmark scenario
can use them alike.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

# moto accepts any credentials; these keep boto3 from looking for real ones.
FAKE_AWS_ENVIRONMENT = {
    'AWS_ACCESS_KEY_ID': 'testing',
    'AWS_SECRET_ACCESS_KEY': 'testing',
    'AWS_DEFAULT_REGION': 'us-east-1',
}


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Start moto's standalone server in a thread of this process; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f'http://{host}:{port}'
    finally:
        server.stop()


def find_redis_server() -> str | None:
    """The redis-server binary: on PATH (Debian's package) or shipped by the ``redis-server`` wheel."""
    found = shutil.which('redis-server')
    if found:
        return found
    try:
        import redis_server  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = getattr(redis_server, 'REDIS_SERVER_PATH', None)
    return str(path) if path and os.path.exists(path) else None


@contextmanager
def redis_server(binary: str) -> Iterator[tuple[str, int]]:
    """Start a throw-away redis-server (no persistence) on a free loopback port; yield (host, port)."""
    port = free_port()
    directory = tempfile.mkdtemp(prefix='gokart-redis-')
    process = subprocess.Popen(
        [binary, '--port', str(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield '127.0.0.1', port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'redis-server exited with status {process.returncode} before listening on {port}')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f'redis-server did not listen on {port} within {timeout} s')


def python_of_reference_gokart() -> str | None:
    """The interpreter of the gokart 1.12.2 environment used for interchange tests, if present."""
    from reference_python import reference_python

    return reference_python()


__all__ = ['FAKE_AWS_ENVIRONMENT', 'moto_s3_server', 'find_redis_server', 'redis_server', 'free_port', 'python_of_reference_gokart']
