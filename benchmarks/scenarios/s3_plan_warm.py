"""Warm plan of a wide DAG on S3 behind a 20 ms-per-request proxy: what a rerun costs against a real bucket.

    python s3_plan_warm.py --n N [--delay-ms 20] [--setup-processes 4]

Every one of the N leaves is already in `s3://<bucket>/workspace` and only the root (a new `tag`)
is missing, so the build must learn that N outputs exist and run one task. The leaves are written
first, straight to moto's server (no proxy) by `--setup-processes` child processes of the same
implementation, so the measured process starts with no caches, like a real rerun. The measured
build goes through `benchmarks/latency_proxy.py`, which delays each request by `--delay-ms`.

Metrics: `seconds` (the build, in a process that has imported gokart and boto3 but made no request
yet), `ms_per_task` (`seconds` over N), `n_requests` (HTTP requests the proxy saw during the build)
and `n_requests_per_task` (over the N + 1 tasks). With one request per task, 2,000 tasks cost
40 s of round trips alone at 20 ms. `raw_list` is a plain boto3 listing of the whole workspace
through the proxy after the build: the floor of any listing-based check on this server (moto's
listing is much slower than S3's, and grows with the number of keys in the bucket).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import Stopwatch, emit, main
from _s3 import configure, moto_bucket, slow_endpoint


def count_started_tasks() -> list[str]:
    """A list that grows by each task luigi starts.

    luigi reads `LUIGI_CONFIG_PATH` when it is imported, so it is imported only here, after `configure`.
    """
    import luigi

    started: list[str] = []

    @luigi.Task.event_handler(luigi.Event.START)
    def _count_start(task: luigi.Task) -> None:
        started.append(task.get_task_family())

    return started


def write_leaves(start: int, stop: int) -> None:
    from _tasks import Leaf

    for i in range(start, stop):
        Leaf(i=i).dump(i)


def write_all_leaves(n: int, endpoint: str, bucket: str, processes: int) -> None:
    """Dumps the N leaves from `processes` child processes, each a contiguous slice.

    The configuration is written here, once: children writing one config file each at the same
    time could read another's half-written file and dump to a local workspace instead.
    """
    configure(endpoint, bucket)
    bounds = [n * k // processes for k in range(processes + 1)]
    children = [
        subprocess.Popen([sys.executable, __file__, '--n', str(n), '--setup', str(bounds[k]), str(bounds[k + 1])]) for k in range(processes)
    ]
    failed = sum(child.wait() != 0 for child in children)
    if failed:
        raise RuntimeError(f'writing the leaves failed in {failed} of {processes} setup processes (their tracebacks are on stderr)')


def list_keys(endpoint: str, bucket: str) -> int:
    """Lists the workspace with boto3's paginator: what the server and the latency cost any listing-based check."""
    import boto3

    client = boto3.client('s3', endpoint_url=endpoint)
    pages = client.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix='workspace/')
    return sum(page.get('KeyCount', 0) for page in pages)


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--delay-ms', type=float, default=20.0, help='delay per request at the proxy')
    parser.add_argument('--setup-processes', type=int, default=4, help='child processes writing the leaves')
    parser.add_argument('--setup', nargs=2, type=int, metavar=('START', 'STOP'), help='only write leaves START..STOP-1 (child)')
    args = parser.parse_args()
    if args.setup:
        write_leaves(*args.setup)
        return

    with moto_bucket() as (endpoint, bucket):
        write_all_leaves(args.n, endpoint, bucket, args.setup_processes)
        with slow_endpoint(endpoint, args.delay_ms / 1000) as (proxied, proxy):
            configure(proxied, bucket)

            import boto3  # noqa: F401 - loaded before the stopwatch on both sides: an S3 user's process has it
            from _tasks import WideRoot

            import gokart

            started = count_started_tasks()
            stopwatch = Stopwatch()
            proxy.reset()
            with stopwatch.measure('seconds'):
                result = gokart.build(WideRoot(n=args.n, tag='plan'))
            requests = proxy.stats()
            with stopwatch.measure('raw_list'):
                listed = list_keys(proxied, bucket)
        if result != args.n or len(started) != 1:
            raise AssertionError(f'root returned {result!r} and {len(started)} tasks ran; expected {args.n} and only the root')
        metrics = dict(stopwatch.metrics)
        metrics['ms_per_task'] = metrics['seconds'] / args.n * 1000
        metrics['n_requests'] = requests['requests']
        metrics['n_requests_per_task'] = requests['requests'] / (args.n + 1)
        emit(metrics, tasks=args.n + 1, ran=len(started), listed_keys=listed, delay_ms=args.delay_ms, requests=requests)


if __name__ == '__main__':
    main(scenario)
