"""Cache-hit check of a wide DAG whose workspace is on S3 (moto's server in a separate process).

    python s3_cache_hit.py --n N

Every one of the N leaves is already in `s3://<bucket>/workspace` and only the root (a new `tag`)
is missing, so the build must learn that N outputs exist and run one task. This is done twice in
one process: `seconds_first_build` includes the one-time costs of a fresh process (importing pandas
and s3fs, the first connection); `seconds` is the second build, with new task instances, and
`ms_per_task` is `seconds / N` in milliseconds: the cost of a cache-hit check per task.

moto runs in its own process, started with `GOKART_BENCH_MOTO_PYTHON` (default: this interpreter),
so the server's CPU time is not counted against the build. The workspace comes from a luigi config
file (`[TaskOnKart] workspace_directory`), the credentials and endpoint from the environment
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`), as a user would set them.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

from _common import Stopwatch, emit, main

SERVER = (
    'from moto.server import ThreadedMotoServer; import sys, time; '
    'ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start(); time.sleep(1e9)'
)

CREDENTIALS = {'AWS_ACCESS_KEY_ID': 'bench', 'AWS_SECRET_ACCESS_KEY': 'bench', 'AWS_DEFAULT_REGION': 'us-east-1'}


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


def configure(endpoint: str, bucket: str) -> None:
    os.environ.update(CREDENTIALS)
    os.environ['AWS_ENDPOINT_URL'] = endpoint
    with open('luigi.cfg', 'w') as f:
        f.write(f'[TaskOnKart]\nworkspace_directory=s3://{bucket}/workspace\n')
    os.environ['LUIGI_CONFIG_PATH'] = os.path.abspath('luigi.cfg')


def write_leaves(n: int) -> None:
    from _tasks import Leaf

    for i in range(n):
        Leaf(i=i).dump(i)


def scenario() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--setup', nargs=2, metavar=('ENDPOINT', 'BUCKET'), help='only write the leaves (child process)')
    args = parser.parse_args()
    if args.setup:
        configure(*args.setup)
        write_leaves(args.n)
        return

    port = free_port()
    moto_python = os.environ.get('GOKART_BENCH_MOTO_PYTHON', sys.executable)
    server = subprocess.Popen([moto_python, '-c', SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, server)
        endpoint, bucket = f'http://127.0.0.1:{port}', 'gokart-bench'
        import boto3

        os.environ.update(CREDENTIALS)
        boto3.client('s3', endpoint_url=endpoint).create_bucket(Bucket=bucket)
        subprocess.run([sys.executable, __file__, '--n', str(args.n), '--setup', endpoint, bucket], check=True)
        configure(endpoint, bucket)

        import luigi
        from _tasks import WideRoot

        import gokart

        stopwatch = Stopwatch()
        for tag, metric in (('first', 'seconds_first_build'), ('second', 'seconds')):
            luigi.task_register.Register.clear_instance_cache()
            with stopwatch.measure(metric):
                result = gokart.build(WideRoot(n=args.n, tag=tag))
            if result != args.n:
                raise AssertionError(f'root returned {result!r}, expected {args.n}')
        stopwatch.metrics['ms_per_task'] = stopwatch.metrics['seconds'] / args.n * 1000
        emit(stopwatch.metrics, tasks=args.n + 1)
    finally:
        server.terminate()
        server.wait()


if __name__ == '__main__':
    main(scenario)
