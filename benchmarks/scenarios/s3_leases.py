"""Cold builds on S3 behind a 20 ms-per-request proxy, with workspace leases (`[gokart] run_lock`) on and off.

    python s3_leases.py --kind overhead --n N        # one process: run_lock=none, then run_lock=workspace
    python s3_leases.py --kind processes --n N       # run_lock=workspace: 1 process, then 3 at once

Every build is a child process (`--build`) with its own luigi config, building `RecordedRoot(n=N)`
(N trivial leaves under one root) into a bucket of its own on one moto server, through
`benchmarks/latency_proxy.py`; the proxy counts the requests of each build.

- `overhead`: the same cold build with `run_lock=none` and with `run_lock=workspace`. Reports
  both build times (timed inside the child, around `gokart.build`), the lease overhead per task
  in milliseconds, and requests per task of each, with the difference (`n_extra_requests_per_task`;
  the goal is at most 2: create the lease, delete it).
- `processes`: `run_lock=workspace`, one process building the DAG, then three processes started
  together building the same DAG into a fresh bucket. Wall time from starting the processes until
  the last exits (interpreter start included, alike on both), and the duplicate runs: every task
  body appends a line to a shared file (`$GOKART_BENCH_RUN_LOG`), so a task run twice shows twice.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from typing import Any

from _common import emit, main
from _s3 import ProxyProcess, configure, create_bucket, moto_bucket, slow_endpoint


def build_in_this_process(n: int) -> None:
    """The child: builds the DAG as configured by the environment and prints its build time."""
    import boto3  # noqa: F401 - loaded before timing, as in s3_plan_warm
    from _tasks import RecordedRoot

    import gokart

    started = time.perf_counter()
    result = gokart.build(RecordedRoot(n=n))
    seconds = time.perf_counter() - started
    if result != n:
        raise AssertionError(f'root returned {result!r}, expected {n}')
    print(json.dumps({'build_seconds': seconds}), flush=True)


def start_build(n: int, run_log: str) -> subprocess.Popen[str]:
    """A build process configured by this process's environment (see `configure`)."""
    env = dict(os.environ, GOKART_BENCH_RUN_LOG=run_log)
    return subprocess.Popen([sys.executable, __file__, '--n', str(n), '--build'], env=env, stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> float:
    """Waits for a build process; returns its build time."""
    stdout, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f'a build process failed with status {process.returncode} (its traceback is on stderr)')
    return float(json.loads(stdout.strip().splitlines()[-1])['build_seconds'])


def runs_in(run_log: str) -> tuple[collections.Counter[str], list[int]]:
    """Runs per task name, and the number of task bodies each process ran (largest first)."""
    if not os.path.exists(run_log):
        return collections.Counter(), []
    with open(run_log) as f:
        records = [line.split() for line in f if line.strip()]
    by_process = collections.Counter(pid for _, pid in records)
    return collections.Counter(name for name, _ in records), sorted(by_process.values(), reverse=True)


def measure(n: int, endpoint: str, proxy: ProxyProcess, bucket: str, run_lock: str, processes: int) -> dict[str, Any]:
    """Builds the DAG into `bucket` from `processes` processes at once; wall time, build times, requests, runs."""
    run_log = os.path.abspath(f'runs-{bucket}.log')
    create_bucket(endpoint, bucket)
    # One config file per bucket, written before any child starts (never while one reads it).
    configure(endpoint, bucket, run_lock=run_lock, config_path=os.path.abspath(f'luigi-{bucket}.cfg'))
    proxy.reset()
    started = time.perf_counter()
    children = [start_build(n, run_log) for _ in range(processes)]
    builds = [finish(child) for child in children]
    wall = time.perf_counter() - started
    requests = proxy.stats()['requests']
    runs, by_process = runs_in(run_log)
    if set(runs) != {str(i) for i in range(n)} | {'root'}:
        raise AssertionError(f'{n + 1 - len(runs)} of the {n + 1} tasks never ran in bucket {bucket}')
    return {
        'wall': wall,
        'build': max(builds),
        'requests': requests,
        'runs': sum(runs.values()),
        'duplicates': sum(runs.values()) - len(runs),
        'runs_by_process': by_process,
    }


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--kind', choices=['overhead', 'processes'])
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--processes', type=int, default=3, help='processes building at once (kind processes)')
    parser.add_argument('--delay-ms', type=float, default=20.0, help='delay per request at the proxy')
    parser.add_argument('--build', action='store_true', help='child: build the configured DAG once')
    args = parser.parse_args()
    if args.build:
        build_in_this_process(args.n)
        return
    if args.kind is None:
        parser.error('--kind overhead|processes is required')

    tasks = args.n + 1
    with moto_bucket() as (direct, _), slow_endpoint(direct, args.delay_ms / 1000) as (endpoint, proxy):
        if args.kind == 'overhead':
            off = measure(args.n, endpoint, proxy, 'lock-none', 'none', 1)
            on = measure(args.n, endpoint, proxy, 'lock-workspace', 'workspace', 1)
            metrics = {
                'seconds_lock_none': off['build'],
                'seconds_lock_workspace': on['build'],
                'ms_lease_overhead_per_task': (on['build'] - off['build']) / tasks * 1000,
                'n_requests_per_task_lock_none': off['requests'] / tasks,
                'n_requests_per_task_lock_workspace': on['requests'] / tasks,
                'n_extra_requests_per_task': (on['requests'] - off['requests']) / tasks,
                'n_duplicate_runs': off['duplicates'] + on['duplicates'],
            }
            emit(metrics, tasks=tasks, lock_none=off, lock_workspace=on)
        else:
            one = measure(args.n, endpoint, proxy, 'one-process', 'workspace', 1)
            many = measure(args.n, endpoint, proxy, 'many-processes', 'workspace', args.processes)
            metrics = {
                'seconds_1_process': one['wall'],
                f'seconds_{args.processes}_processes': many['wall'],
                'n_duplicate_runs': many['duplicates'],
                f'n_requests_per_task_{args.processes}_processes': many['requests'] / tasks,
                'n_requests_per_task_1_process': one['requests'] / tasks,
            }
            emit(metrics, tasks=tasks, one_process=one, processes=args.processes, many_processes=many)


if __name__ == '__main__':
    main(scenario)
