"""What the S3 scenarios share: moto's server in its own process, and a user's S3 configuration.

moto runs with `GOKART_BENCH_MOTO_PYTHON` (default: this interpreter) in a separate process, so
the server's CPU time is not counted against the build. The workspace comes from a luigi config
file (`[TaskOnKart] workspace_directory`), the credentials and endpoint from the environment
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`), as a user would set them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = (
    'from moto.server import ThreadedMotoServer; import sys, time; '
    'ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start(); time.sleep(1e9)'
)

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
def moto_bucket() -> Iterator[tuple[str, str]]:
    """A moto server in its own process with an empty bucket; yields (endpoint, bucket)."""
    port = free_port()
    moto_python = os.environ.get('GOKART_BENCH_MOTO_PYTHON', sys.executable)
    server = subprocess.Popen([moto_python, '-c', SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def configure(endpoint: str, bucket: str) -> None:
    """Point gokart at `s3://bucket/workspace` through a luigi config file and the environment."""
    os.environ.update(CREDENTIALS)
    os.environ['AWS_ENDPOINT_URL'] = endpoint
    with open('luigi.cfg', 'w') as f:
        f.write(f'[TaskOnKart]\nworkspace_directory=s3://{bucket}/workspace\n')
    os.environ['LUIGI_CONFIG_PATH'] = os.path.abspath('luigi.cfg')
