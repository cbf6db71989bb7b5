"""Tasks on two workers, engine by engine in one run and on one cluster, so their ratios are side by side.

    python engines.py --n N [--kind leaf|sleep] [--engines local,dask,dask_unbatched,dask_noop,luigid] [--rounds R]

The DAG is FanOutRoot over N leaves of ``kind`` (N + 1 tasks), each engine on a new local workspace.
- local: ``gokart.build(root, workers=2)`` in this process.
- dask: ``gokart.build(root, executor='dask', dask_client=client)`` on a LocalCluster of two
  single-threaded worker processes with ``[gokart] dask_batch = auto`` (groups of tasks);
  dask_unbatched: the same with ``dask_batch = off`` (one Dask task per gokart task);
  dask_noop: the same DAG shape of functions doing nothing (Dask's own cost per task).
  The cluster runs in a helper process so that the scheduler's memory is its own;
  ``scheduler_peak_mb`` is that process's peak RSS (scheduler and nannies) at the end.
- luigid: a luigid on a loopback port and one ``gokart.run ... --workers 2`` process against it;
  the time is taken inside that process, around ``gokart.run`` (its imports excluded).
The engines run in turn, R rounds; each metric is the median of its rounds (``{engine}_spread``:
max - min). ``{engine}_ms_per_task`` is ``seconds / (N + 1)`` in ms; ``{engine}_vs_local`` the ratio.
Starting the cluster or luigid is not timed, nor the workers' first imports of gokart and the tasks.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import luigi
from _common import emit, main

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


ENGINES = ('local', 'dask', 'dask_unbatched', 'dask_noop', 'luigid')


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--kind', choices=['leaf', 'sleep'], default='leaf')
    parser.add_argument('--engines', default=','.join(ENGINES))
    parser.add_argument('--rounds', type=int, default=1)
    args = parser.parse_args()
    engines = [e for e in args.engines.split(',') if e]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        raise SystemExit(f'unknown engine(s) {sorted(unknown)}; choose from {ENGINES}')
    config = os.path.abspath('bench.cfg')
    with open(config, 'w') as f:
        f.write(f'[TaskOnKart]\nworkspace_directory = {os.path.abspath("ws")}\n')
    os.environ['LUIGI_CONFIG_PATH'] = config
    times: dict[str, list[float]] = {engine: [] for engine in engines}
    metrics: dict[str, float] = {}
    with _cluster_if(any(e.startswith('dask') for e in engines)) as client:
        for round_ in range(args.rounds):
            for engine in engines:
                workspace = os.path.abspath(f'ws-{engine}-{round_}')
                times[engine].append(_one(engine, args.n, args.kind, workspace, client))
        if client is not None:
            metrics['scheduler_peak_mb'] = client.run_on_scheduler(_peak_rss_mb)
    for engine, values in times.items():
        metrics[f'{engine}_seconds'] = statistics.median(values)
        metrics[f'{engine}_ms_per_task'] = metrics[f'{engine}_seconds'] / (args.n + 1) * 1000
        if len(values) > 1:
            metrics[f'{engine}_spread'] = max(values) - min(values)
    if 'local' in times:
        for engine in engines:
            if engine != 'local':
                metrics[f'{engine}_vs_local'] = metrics[f'{engine}_seconds'] / metrics['local_seconds']
    if 'dask' in times and 'dask_unbatched' in times:
        metrics['dask_vs_unbatched'] = metrics['dask_seconds'] / metrics['dask_unbatched_seconds']
    emit(metrics, tasks=args.n + 1, kind=args.kind, engines=engines, rounds=args.rounds, load=os.getloadavg()[0])


@contextmanager
def _cluster_if(wanted: bool) -> Iterator[Any]:
    if not wanted:
        yield None
        return
    from distributed import Client

    with _local_cluster() as address, Client(address) as client:
        client.wait_for_workers(2)
        client.run(_import_on_worker)  # as on a long-lived cluster: not part of any build's time
        yield client


def _one(engine: str, n: int, kind: str, workspace: str, client: Any) -> float:
    """Seconds of one build of FanOutRoot(kind, n) by ``engine`` on a new workspace."""
    if engine == 'luigid':
        config = os.path.abspath(f'{workspace}.cfg')
        with open(config, 'w') as f:
            f.write(f'[TaskOnKart]\nworkspace_directory = {workspace}\n')
        return _run_on_luigid(n, kind, config)
    if engine == 'dask_noop':
        started = time.perf_counter()
        _noop_graph(client, n, os.path.basename(workspace))
        return time.perf_counter() - started
    from _tasks import FanOutRoot

    import gokart

    config = luigi.configuration.get_config()
    config.set('TaskOnKart', 'workspace_directory', workspace)
    if not config.has_section('gokart'):
        config.add_section('gokart')
    config.set('gokart', 'dask_batch', 'off' if engine == 'dask_unbatched' else 'auto')
    luigi.task_register.Register.clear_instance_cache()  # else luigi hands back the tasks made for the last workspace
    started = time.perf_counter()
    if engine == 'local':
        result = gokart.build(FanOutRoot(kind=kind, n=n), workers=2)
    else:
        result = gokart.build(FanOutRoot(kind=kind, n=n), executor='dask', dask_client=client)
    seconds = time.perf_counter() - started
    if result != n:
        raise AssertionError(f'{engine}: root returned {result!r}, expected {n}')
    return seconds


def _import_on_worker() -> None:
    import _tasks  # noqa: F401

    import gokart.execution.dask_worker  # noqa: F401


def _noop_graph(client: Any, n: int, tag: str) -> None:
    """Dask's own cost for the same DAG shape: n functions doing nothing under one more, on the same cluster."""
    from distributed import wait

    leaves = [client.submit(_nothing, i, key=f'noop-leaf-{tag}-{i}') for i in range(n)]
    root = client.submit(_nothing, *leaves, key=f'noop-root-{tag}')
    wait(root)
    del leaves, root


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


def _run_on_luigid(n: int, kind: str, config: str) -> float:
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
        command = [sys.executable, '-c', LUIGID_WORKER, 'FanOutRoot', '--kind', kind, '--n', str(n)]
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
