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

The breakdown (ours; gokart 1.12.2 reaches S3 through another client, so its side has only the
totals): `import_seconds` is `import gokart` in the measured process (before the build, not part
of `seconds`); `construct_seconds` constructing the root and its N leaves once more after the
build with luigi's instance cache cleared (what the build spent constructing them);
`until_root_start` / `root_run` / `after_root` split the build at the root's START and
PROCESSING_TIME events; and every S3 call of gokart's client, timed through botocore's events, is
put in one class with its count and summed milliseconds: `listing` (ListObjectsV2 pages),
`records` (keys under `log/`), `lease` (keys under `.gokart-leases/`), `outputs` (the other keys:
completion checks and the root's output), so `requests_<class>` and `ms_<class>` say where
the requests and their waits go. `cpu_seconds` is the CPU time of the build.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

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


REQUEST_CLASSES = ('listing', 'records', 'lease', 'outputs')


CALLS: list[tuple[float, str, str, float]] = []  # (started, operation, key, seconds) of each S3 call, for the printed sequence


def request_timer() -> tuple[dict[str, list[float]], Any]:
    """(class -> durations in seconds, a function that hooks them on gokart's S3 client); ours only."""
    durations: dict[str, list[float]] = {name: [] for name in REQUEST_CLASSES}

    def hook() -> bool:
        try:
            from gokart.storage import filesystem as storage

            events = storage.filesystem_for_protocol('s3').client.meta.events
        except Exception:  # gokart 1.12.2: no such client
            return False

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            context['gokart_bench_started'] = time.perf_counter()
            context['gokart_bench_where'] = str(params.get('url_path', '')) + str(params.get('query_string', ''))
            context['gokart_bench_class'] = _classify(model.name, context['gokart_bench_where'])

        def after(model: Any, context: dict[str, Any], **_: Any) -> None:
            started = context.get('gokart_bench_started')
            if started is not None:
                durations[context['gokart_bench_class']].append(time.perf_counter() - started)
                CALLS.append((started, model.name, context['gokart_bench_where'][-60:], time.perf_counter() - started))

        events.register('before-call.s3', before)
        events.register('after-call.s3', after)
        return True

    return durations, hook


def _classify(operation: str, where: str) -> str:
    if operation == 'ListObjectsV2':
        return 'listing'
    if '.gokart-leases' in where:
        return 'lease'
    if '/log/' in where or 'log%2F' in where:
        return 'records'
    return 'outputs'


def event_times() -> dict[str, float]:
    """When the root's START and PROCESSING_TIME events fired (perf_counter); luigi imported only after `configure`."""
    import luigi

    times: dict[str, float] = {}

    @luigi.Task.event_handler(luigi.Event.START)
    def _start(task: luigi.Task) -> None:
        times.setdefault('start', time.perf_counter())

    @luigi.Task.event_handler(luigi.Event.PROCESSING_TIME)
    def _processed(task: luigi.Task, seconds: float) -> None:
        times.setdefault('processed', time.perf_counter())

    return times


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

            stopwatch = Stopwatch()
            with stopwatch.measure('import_seconds'):
                import gokart
            from _tasks import WideRoot

            started = count_started_tasks()
            times = event_times()
            durations, hook = request_timer()
            timed_requests = hook()
            proxy.reset()
            cpu = time.process_time()
            began = time.perf_counter()
            with stopwatch.measure('seconds'):
                result = gokart.build(WideRoot(n=args.n, tag='plan'))
            ended = time.perf_counter()
            stopwatch.metrics['cpu_seconds'] = time.process_time() - cpu
            requests = proxy.stats()
            if 'start' in times and 'processed' in times:
                stopwatch.metrics['until_root_start'] = times['start'] - began
                stopwatch.metrics['root_run'] = times['processed'] - times['start']
                stopwatch.metrics['after_root'] = ended - times['processed']
            if timed_requests:
                for name, values in durations.items():
                    stopwatch.metrics[f'requests_{name}'] = len(values)
                    stopwatch.metrics[f'ms_{name}'] = sum(values) * 1000
            import luigi

            luigi.task_register.Register.clear_instance_cache()
            with stopwatch.measure('construct_seconds'):
                WideRoot(n=args.n, tag='construct').requires()
            with stopwatch.measure('raw_list'):
                listed = list_keys(proxied, bucket)
        if result != args.n or len(started) != 1:
            raise AssertionError(f'root returned {result!r} and {len(started)} tasks ran; expected {args.n} and only the root')
        metrics = dict(stopwatch.metrics)
        metrics['ms_per_task'] = metrics['seconds'] / args.n * 1000
        metrics['n_requests'] = requests['requests']
        metrics['n_requests_per_task'] = requests['requests'] / (args.n + 1)
        sequence = [f'+{(t - began) * 1000:.0f} ms {op} {where} {seconds * 1000:.0f} ms' for t, op, where, seconds in sorted(CALLS)]
        emit(metrics, calls=sequence, tasks=args.n + 1, ran=len(started), listed_keys=listed, delay_ms=args.delay_ms, requests=requests)


if __name__ == '__main__':
    main(scenario)
