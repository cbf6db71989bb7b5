"""Trivial tasks on two workers: our local executor, Dask (a LocalCluster) and luigid, one engine per run.

    python engines.py --engine local|dask|luigid --n N

The DAG is FanOutRoot over N trivial leaves (N + 1 tasks), on a local workspace of its own.
- local: ``gokart.build(root, workers=2)`` in this process.
- dask: ``gokart.build(root, executor='dask', dask_client=client)`` on a LocalCluster of two
  single-threaded worker processes, run by a helper process so that the scheduler's memory is its
  own; ``scheduler_peak_mb`` is that process's peak RSS (scheduler and nannies), and
  ``dask_alone_seconds`` the time of the same DAG shape of functions doing nothing on that cluster
  (Dask's own share of the time).
- luigid: a luigid on a loopback port and one ``gokart.run ... --workers 2`` process against it;
  the time is taken inside that process, around ``gokart.run`` (its imports excluded).
Starting the cluster or luigid is not timed, nor the workers' first imports of gokart and the tasks. ``ms_per_task`` is ``seconds / (N + 1)`` in ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import Stopwatch, emit, main

HERE = os.path.dirname(os.path.abspath(__file__))

CLUSTER = (
    'import sys; from distributed import LocalCluster\n'
    'cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")\n'
    'print(cluster.scheduler_address, flush=True)\n'
    'sys.stdin.read()\n'
    'cluster.close()\n'
)

LUIGID_WORKER = (
    'import sys, time, _tasks, gokart\n'
    'started = time.perf_counter()\n'
    'try:\n'
    '    gokart.run()\n'
    'finally:\n'
    "    open('luigid_seconds', 'w').write(str(time.perf_counter() - started))\n"
)


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--engine', choices=['local', 'dask', 'luigid'], required=True)
    parser.add_argument('--n', type=int, required=True)
    args = parser.parse_args()
    workspace = os.path.abspath('ws')
    config = os.path.abspath('bench.cfg')
    with open(config, 'w') as f:
        f.write(f'[TaskOnKart]\nworkspace_directory = {workspace}\n')
    os.environ['LUIGI_CONFIG_PATH'] = config
    metrics: dict[str, float] = {}
    if args.engine == 'luigid':
        metrics['seconds'] = _run_on_luigid(args.n, config)
    else:
        metrics.update(_build_here(args.engine, args.n))
    metrics['ms_per_task'] = metrics['seconds'] / (args.n + 1) * 1000
    emit(metrics, tasks=args.n + 1, engine=args.engine)


def _build_here(engine: str, n: int) -> dict[str, float]:
    from _tasks import FanOutRoot

    import gokart

    stopwatch = Stopwatch()
    if engine == 'local':
        with stopwatch.measure('seconds'):
            result = gokart.build(FanOutRoot(kind='leaf', n=n), workers=2)
    else:
        from distributed import Client

        with _local_cluster() as address, Client(address) as client:
            client.wait_for_workers(2)
            client.run(_import_on_worker)  # as on a long-lived cluster: not part of any build's time
            with stopwatch.measure('seconds'):
                result = gokart.build(FanOutRoot(kind='leaf', n=n), executor='dask', dask_client=client)
            stopwatch.metrics['scheduler_peak_mb'] = client.run_on_scheduler(_peak_rss_mb)
            with stopwatch.measure('dask_alone_seconds'):
                _noop_graph(client, n)
    if result != n:
        raise AssertionError(f'root returned {result!r}, expected {n}')
    return stopwatch.metrics


def _import_on_worker() -> None:
    import _tasks  # noqa: F401

    import gokart.execution.dask_worker  # noqa: F401


def _noop_graph(client: Any, n: int) -> None:
    """Dask's own cost for the same DAG shape: n functions doing nothing under one more, on the same cluster."""
    from distributed import wait

    leaves = [client.submit(_nothing, i, key=f'noop-leaf-{i}') for i in range(n)]
    wait(client.submit(_nothing, *leaves, key='noop-root'))


def _nothing(*args: Any) -> None:
    return None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _local_cluster() -> Iterator[str]:
    """A LocalCluster in a helper process (its workers import ``_tasks`` from here); yields the scheduler address."""
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')])}
    helper = subprocess.Popen(
        [sys.executable, '-c', CLUSTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    assert helper.stdout is not None and helper.stdin is not None
    try:
        yield helper.stdout.readline().strip()
    finally:
        helper.stdin.close()
        try:
            helper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            helper.kill()


def _run_on_luigid(n: int, config: str) -> float:
    port = _free_port()
    state = os.path.abspath('luigid-state')
    os.makedirs(state, exist_ok=True)
    luigid = subprocess.Popen(
        [sys.executable, '-c', 'from luigi.cmdline import luigid; luigid()', '--address', '127.0.0.1', '--port', str(port)]
        + ['--logdir', state, '--state-path', os.path.join(state, 'state.pickle')],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        environment = {**os.environ, 'LUIGI_CONFIG_PATH': config, 'PYTHONPATH': os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')])}
        command = [sys.executable, '-c', LUIGID_WORKER, 'FanOutRoot', '--kind', 'leaf', '--n', str(n)]
        command += ['--scheduler-host', '127.0.0.1', '--scheduler-port', str(port), '--workers', '2', '--no-lock']
        finished = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if finished.returncode != 0:
            raise RuntimeError(f'gokart.run against luigid exited {finished.returncode}: {finished.stderr.strip()[-300:]}')
        with open('luigid_seconds') as f:
            return float(f.read())
    finally:
        luigid.terminate()
        luigid.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f'luigid did not listen on port {port} within a minute')


if __name__ == '__main__':
    main(scenario)
