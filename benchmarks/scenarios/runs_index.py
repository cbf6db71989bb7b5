"""The runs index (issue 25): sync and queries over many recorded runs, on a local disk and on S3, and the journal's cost.

    python runs_index.py --kind local --n 100000
    python runs_index.py --kind s3 --n 10000 [--delay-ms 20]
    python runs_index.py --kind overhead --n 2000 [--rounds 3]

``local`` and ``s3`` make the records of N runs of ``Train`` (and N/1000 ``Data`` leaves, each used by
1,000 of them) with a fast writer, as builds would leave them: a ``log/task_params`` record and a
metrics output per run, and the lineage journal in chunks of 2,000 lines. No task runs. Then:

- ``first_sync``: the first sync, with no index yet; ``nothing_new_sync``: a sync with nothing new;
- ``runs_where``: ``gokart.runs(Train, where="c > 0.5 and model == 'svm' and accuracy > 0.99")``
  (sync included) and ``runs_where_nosync`` without it;
- ``lineage_down``: ``gokart.lineage(<a leaf's output>, direction='down')`` (1,000 consumers);
- ``pandas_loop``: what a user writes today: read every ``task_params`` pickle of the family and each
  run's output, build a frame, filter it (local only).

``s3`` writes the records straight to moto's server, then syncs through the 20 ms latency proxy and
reports the requests. ``overhead`` times a cold local build of N leaves under one root, in fresh
processes, with the journal on and off (``GOKART_LINEAGE=0``), alternately, ``--rounds`` times each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import Stopwatch, emit, main

MODELS = ('svm', 'rf', 'lr', 'knn')
CHUNK = 2000
WHERE = "c > 0.5 and model == 'svm' and accuracy > 0.99"


def define_tasks():  # imported late: luigi reads LUIGI_CONFIG_PATH when imported
    import luigi

    import gokart

    class Data(gokart.TaskOnKart):
        part = luigi.IntParameter()

    class Train(gokart.TaskOnKart):
        c = luigi.FloatParameter()
        model = luigi.Parameter()
        seed = luigi.IntParameter()
        part = luigi.IntParameter()

    return Data, Train


def uid(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def make_records(n: int, workspace: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(path, bytes) of every file N recorded runs leave, and the leaves' output paths."""
    files: list[tuple[str, bytes]] = []
    leaves = max(1, n // 1000)
    leaf_paths = []
    lines: list[bytes] = []
    now = time.time()
    for part in range(leaves):
        leaf_id = uid(f'data{part}')
        path = f'{workspace}/bench/Data_{leaf_id}.pkl'
        leaf_paths.append(path)
        files.append((f'{workspace}/log/task_params/Data_{leaf_id}.pkl', pickle.dumps({'part': str(part)})))
        files.append((path, pickle.dumps(part)))
        lines.append(_line('Data', leaf_id, {'part': str(part)}, [], [path], None, now, len(lines)))
    for i in range(n):
        part = i % leaves
        params = {'c': str(round((i % 97) / 96, 4)), 'model': MODELS[i % 4], 'seed': str(i), 'part': str(part)}
        run_id = uid(json.dumps(params))
        path = f'{workspace}/bench/Train_{run_id}.pkl'
        metrics = {'accuracy': round(0.5 + (i * 7919 % 1000) / 2000, 4), 'loss': round((i % 13) / 13, 4)}
        requires = [{'class': 'Data', 'family': 'Data', 'id': uid(f'data{part}'), 'outputs': [leaf_paths[part]]}]
        files.append((f'{workspace}/log/task_params/Train_{run_id}.pkl', pickle.dumps(params)))
        if '://' not in workspace:  # outputs only locally: a sync on S3 reads none
            files.append((path, pickle.dumps(metrics)))
        lines.append(_line('Train', run_id, params, requires, [path], metrics, now + i * 1e-3, len(lines)))
    for start in range(0, len(lines), CHUNK):
        files.append((f'{workspace}/.gokart/lineage/bench-1-000000-{start // CHUNK:05d}.jsonl', b''.join(lines[start : start + CHUNK])))
    return files, leaf_paths


def _line(cls, run_id, params, requires, outputs, metrics, start, seq) -> bytes:
    record = {
        'stream': 'bench-1-000000',
        'seq': seq,
        'v': 1,
        'class': cls,
        'family': cls,
        'module': '__main__',
        'id': run_id,
        'scheme': 1,
        'params': params,
        'requires': requires,
        'outputs': outputs,
        'metrics': metrics,
        'host': 'bench',
        'user': 'bench',
        'start': start,
        'end': start + 0.5,
        'processing_time': 0.5,
        'state': 'SUCCESS',
    }
    return (json.dumps(record, separators=(',', ':')) + '\n').encode()


def write_local(files: list[tuple[str, bytes]]) -> None:
    made = set()
    for path, data in files:
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, 'wb') as f:
            f.write(data)


def pandas_loop(workspace: str, leaf_count: int) -> int:
    """The loop a user writes today: every task_params record of the family, and each run's output, into a frame."""
    import glob

    import pandas as pd

    rows = []
    for record in glob.glob(f'{workspace}/log/task_params/Train_*.pkl'):
        with open(record, 'rb') as f:
            params = pickle.load(f)
        run_id = os.path.basename(record)[len('Train_') : -len('.pkl')]
        with open(f'{workspace}/bench/Train_{run_id}.pkl', 'rb') as f:
            params.update(pickle.load(f))
        params['unique_id'] = run_id
        rows.append(params)
    frame = pd.DataFrame(rows)
    frame['c'] = frame['c'].astype(float)
    return len(frame[(frame['c'] > 0.5) & (frame['model'] == 'svm') & (frame['accuracy'] > 0.99)])


def local(n: int) -> None:
    workspace = os.path.abspath('resources')
    stopwatch = Stopwatch()
    with stopwatch.measure('write_records'):
        files, leaves = make_records(n, workspace)
        write_local(files)
    Data, Train = define_tasks()
    import gokart

    with stopwatch.measure('first_sync'):
        first = gokart.runs.sync(workspace)
    with stopwatch.measure('nothing_new_sync'):
        again = gokart.runs.sync(workspace)
    gokart.runs(Train, workspace=workspace, where=WHERE)  # warm the imports (pandas) out of the figure
    with stopwatch.measure('runs_where'):
        selected = gokart.runs(Train, workspace=workspace, where=WHERE)
    with stopwatch.measure('runs_where_nosync'):
        gokart.runs(Train, workspace=workspace, where=WHERE, sync=False)
    with stopwatch.measure('lineage_down'):
        consumers = gokart.lineage(leaves[0], direction='down', workspace=workspace)
    with stopwatch.measure('lineage_down_nosync'):
        gokart.lineage(leaves[0], direction='down', workspace=workspace, sync=False)
    with stopwatch.measure('pandas_loop'):
        expected = pandas_loop(workspace, len(leaves))
    if len(selected) != expected or len(consumers) != min(n, 1000) or first.journal_records != n + len(leaves) or again.files_read:
        raise AssertionError(f'runs_where {len(selected)} (loop: {expected}), lineage {len(consumers)}, first sync {first}, second {again}')
    metrics = dict(stopwatch.metrics)
    metrics['pandas_loop_over_runs_where'] = metrics['pandas_loop'] / metrics['runs_where']
    emit(metrics, runs=n, leaves=len(leaves), selected=len(selected))


def s3(n: int, delay_ms: float) -> None:
    from _s3 import configure, moto_bucket, slow_endpoint

    with moto_bucket() as (endpoint, bucket):
        import boto3

        workspace = f's3://{bucket}/workspace'
        files, leaves = make_records(n, workspace)
        client = boto3.client('s3', endpoint_url=endpoint)
        prefix = f's3://{bucket}/'

        def put(item: tuple[str, bytes]) -> None:
            client.put_object(Bucket=bucket, Key=item[0][len(prefix) :], Body=item[1])

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, files))
        with slow_endpoint(endpoint, delay_ms / 1000) as (proxied, proxy):
            configure(proxied, bucket)
            os.environ['GOKART_CACHE_DIR'] = os.path.abspath('cache')
            Data, Train = define_tasks()
            import gokart

            stopwatch = Stopwatch()
            proxy.reset()
            with stopwatch.measure('first_sync'):
                first = gokart.runs.sync(workspace)
            first_requests = proxy.stats()['requests']
            proxy.reset()
            with stopwatch.measure('nothing_new_sync'):
                again = gokart.runs.sync(workspace)
            again_requests = proxy.stats()['requests']
            with stopwatch.measure('runs_where_nosync'):
                selected = gokart.runs(Train, workspace=workspace, where=WHERE, sync=False)
            # The floor of any sync that must notice a record written without a journal: one plain boto3
            # listing of the task_params records through the proxy (moto's listing is slow and grows with the keys).
            with stopwatch.measure('raw_list_task_params'):
                pages = boto3.client('s3', endpoint_url=proxied).get_paginator('list_objects_v2')
                listed = sum(page.get('KeyCount', 0) for page in pages.paginate(Bucket=bucket, Prefix='workspace/log/task_params/'))
    if first.journal_records != n + len(leaves) or again.files_read:
        raise AssertionError(f'first sync {first}, second {again}')
    metrics = dict(stopwatch.metrics)
    metrics['first_sync_requests'] = first_requests
    metrics['nothing_new_sync_requests'] = again_requests
    emit(metrics, runs=n, selected=len(selected), delay_ms=delay_ms, listed=listed)


BUILD = """
import sys, luigi, gokart
class Leaf(gokart.TaskOnKart):
    i = luigi.IntParameter()
    def run(self): self.dump(self.i)
class Root(gokart.TaskOnKart):
    n = luigi.IntParameter()
    def requires(self): return [Leaf(i=i) for i in range(self.n)]
    def run(self): self.dump(self.n)
import time
started = time.perf_counter()
gokart.build(Root(n=int(sys.argv[1])), log_level=40)
print(time.perf_counter() - started)
"""


def overhead(n: int, rounds: int) -> None:
    times: dict[str, list[float]] = {'on': [], 'off': []}
    for round_number in range(rounds):
        for mode in ('off', 'on') if round_number % 2 == 0 else ('on', 'off'):
            folder = os.path.abspath(f'{mode}-{round_number}')
            os.makedirs(folder)
            env = {**os.environ, 'GOKART_LINEAGE': '1' if mode == 'on' else '0'}
            result = subprocess.run([sys.executable, '-c', BUILD, str(n)], cwd=folder, env=env, capture_output=True, text=True, check=True)
            times[mode].append(float(result.stdout.strip().splitlines()[-1]))
            journal = os.path.join(folder, 'resources', '.gokart', 'lineage')
            if (mode == 'on') != os.path.isdir(journal):
                raise AssertionError(f'journal directory {"missing" if mode == "on" else "present"} with the journal {mode}')
    on, off = statistics.median(times['on']), statistics.median(times['off'])
    emit(
        {'cold_build_journal_on': on, 'cold_build_journal_off': off, 'overhead_pct': (on / off - 1) * 100},
        tasks=n + 1,
        rounds=rounds,
        times=times,
    )


def scenario() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--kind', choices=('local', 's3', 'overhead'), required=True)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--delay-ms', type=float, default=20.0)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    if args.kind == 'local':
        local(args.n)
    elif args.kind == 's3':
        s3(args.n, args.delay_ms)
    else:
        overhead(args.n, args.rounds)


if __name__ == '__main__':
    main(scenario)
