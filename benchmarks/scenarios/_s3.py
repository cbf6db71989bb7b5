"""What the S3 scenarios share: moto's server in its own process, the latency proxy, and a user's S3 configuration.

moto runs with `GOKART_BENCH_MOTO_PYTHON` (default: this interpreter) in a separate process, so
the server's CPU time is not counted against the build. The workspace comes from a luigi config
file (`[TaskOnKart] workspace_directory`), the credentials and endpoint from the environment
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`), as a user would set them.
`slow_endpoint` puts `benchmarks/latency_proxy.py` (in a process of its own) in front of the
server, so every request pays a bucket's round trip and is counted.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from latency_proxy import DEFAULT_DELAY_SECONDS, ProxyProcess  # noqa: E402

SERVER = (
    'from moto.server import ThreadedMotoServer; import sys, time; '
    'ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start(); time.sleep(1e9)'
)

# As S3 does, answer over kept-alive HTTP/1.1 connections (werkzeug's server closes each one after one response otherwise).
KEEP_ALIVE_SERVER = 'import werkzeug.serving; werkzeug.serving.WSGIRequestHandler.protocol_version = "HTTP/1.1"; ' + SERVER

CREDENTIALS = {'AWS_ACCESS_KEY_ID': 'bench', 'AWS_SECRET_ACCESS_KEY': 'bench', 'AWS_DEFAULT_REGION': 'us-east-1'}
BUCKET = 'gokart-bench'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('the moto server exited before listening')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError('the moto server did not start within 60 s')


@contextmanager
def moto_bucket(keep_alive: bool = False) -> Iterator[tuple[str, str]]:
    """A moto server in its own process with an empty bucket; yields (endpoint, bucket).

    ``keep_alive``: the server keeps connections open between requests, as S3 does.
    """
    port = free_port()
    moto_python = os.environ.get('GOKART_BENCH_MOTO_PYTHON', sys.executable)
    code = KEEP_ALIVE_SERVER if keep_alive else SERVER
    server = subprocess.Popen([moto_python, '-c', code, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, server)
        endpoint = f'http://127.0.0.1:{port}'
        import boto3

        os.environ.update(CREDENTIALS)
        boto3.client('s3', endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint, BUCKET
    finally:
        server.terminate()
        server.wait()


def configure(endpoint: str, bucket: str, run_lock: str | None = None, config_path: str = 'luigi.cfg') -> None:
    """Point gokart at `s3://bucket/workspace` through a luigi config file and the environment.

    `run_lock` sets `[gokart] run_lock` (ours; gokart 1.12.2 does not read it).
    """
    os.environ.update(CREDENTIALS)
    os.environ['AWS_ENDPOINT_URL'] = endpoint
    with open(config_path, 'w') as f:
        f.write(f'[TaskOnKart]\nworkspace_directory=s3://{bucket}/workspace\n')
        if run_lock is not None:
            f.write(f'[gokart]\nrun_lock={run_lock}\n')
    os.environ['LUIGI_CONFIG_PATH'] = os.path.abspath(config_path)


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    os.environ.update(CREDENTIALS)
    boto3.client('s3', endpoint_url=endpoint).create_bucket(Bucket=bucket)


@contextmanager
def slow_endpoint(endpoint: str, delay: float = DEFAULT_DELAY_SECONDS) -> Iterator[tuple[str, ProxyProcess]]:
    """The latency proxy in front of `endpoint`; yields (the proxy's endpoint, the proxy for its counts)."""
    host, port = endpoint.removeprefix('http://').rsplit(':', 1)
    proxy = ProxyProcess(host, int(port), delay)
    try:
        yield f'http://127.0.0.1:{proxy.port}', proxy
    finally:
        proxy.stop()
