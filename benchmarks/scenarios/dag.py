"""Builds a wide or a chain DAG of N trivial tasks plus one root, cold or warm.

    python dag.py --shape wide|chain --n N --mode cold|warm [--floor]

- cold: empty workspace, every task runs. Measures construction of the root plus `gokart.build`.
- warm: every upstream output already exists and only the root (a new `tag`) is missing, so the
  build must check N outputs and run one task. The upstream outputs are written first by a child
  process (`--setup`), so the measured process starts with empty caches, like a real rerun.

- --floor: after the build, the bare loop writing the same number of tasks' six files (gokart
  1.12's file set: a small pickle each, through a temporary file renamed into place), timed in
  the same process on the same disk; `ratio_floor` is the build's time over the floor's.

The workspace is the current directory's `./resources/` (the harness runs each scenario in a new
temporary directory).
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys

import luigi
from _common import Stopwatch, emit, main
from _tasks import Chain, ChainRoot, Leaf, WideRoot

import gokart

started: list[str] = []


@luigi.Task.event_handler(luigi.Event.START)
def _count_start(task: luigi.Task) -> None:
    started.append(task.get_task_family())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--shape', choices=['wide', 'chain'], required=True)
    parser.add_argument('--n', type=int, required=True)
    parser.add_argument('--mode', choices=['cold', 'warm'], default='cold')
    parser.add_argument('--setup', action='store_true', help='only write the upstream outputs (used by warm mode)')
    parser.add_argument('--id-scheme', type=int, choices=[1, 2], help='ours only: the unique-id scheme (GOKART_ID_SCHEME)')
    parser.add_argument('--floor', action='store_true', help='also time the bare loop writing the same files (floor_seconds, ratio_floor)')
    return parser.parse_args()


def write_upstream_outputs(shape: str, n: int) -> None:
    """Dumps every non-root output directly; bottom-up, so no unique id needs deep recursion."""
    for i in range(n):
        task = Leaf(i=i) if shape == 'wide' else Chain(n=i)
        task.dump(i)


def write_floor(n: int, folder: str) -> None:
    """The disk's floor for a cold build of ``n`` tasks: gokart 1.12's six files a task, and nothing else.

    Each file is a small pickle written to a temporary file beside its final name and renamed
    into place (what any crash-safe writer does), in the folders gokart uses: the output, and the
    task_params, module_versions, random_seed, processing_time and task_log records.
    """
    kinds = ('task_params', 'module_versions', 'random_seed', 'processing_time', 'task_log')
    folders = [os.path.join(folder, '__main__')] + [os.path.join(folder, 'log', kind) for kind in kinds]
    for path in folders:
        os.makedirs(path, exist_ok=True)
    for i in range(n):
        name = f'Leaf_{i:032x}.pkl'
        for path, obj in zip(folders, (i, {'i': str(i)}, 'numpy==2.0', {'seed': i}, 0.001, {'file_path': [name]}), strict=True):
            final = os.path.join(path, name)
            temporary = f'{final}.tmp{os.getpid()}'
            with open(temporary, 'wb') as f:
                f.write(pickle.dumps(obj))
            os.replace(temporary, final)


def scenario() -> None:
    args = parse_args()
    if args.id_scheme is not None:  # before any task exists; the setup process inherits it
        os.environ['GOKART_ID_SCHEME'] = str(args.id_scheme)
    if args.setup:
        write_upstream_outputs(args.shape, args.n)
        return
    if args.mode == 'warm':
        subprocess.run([sys.executable, __file__, '--shape', args.shape, '--n', str(args.n), '--setup'], check=True)
    root_class = WideRoot if args.shape == 'wide' else ChainRoot
    stopwatch = Stopwatch()
    with stopwatch.measure('seconds', cpu=True):
        result = gokart.build(root_class(n=args.n, tag=args.mode))
    if result != args.n:
        raise AssertionError(f'root returned {result!r}, expected {args.n}')
    if args.floor:  # same process, same disk, right after the build: the ratios are what to read
        os.sync()
        with stopwatch.measure('floor_seconds', cpu=True):
            write_floor(args.n + 1, os.path.join(os.getcwd(), 'floor'))
        metrics = stopwatch.metrics
        metrics['ratio_floor'] = metrics['seconds'] / metrics['floor_seconds']
        # On a loaded machine wall times swing by several times; CPU times far less.
        metrics['ratio_floor_cpu'] = metrics['cpu_seconds'] / metrics['cpu_floor_seconds']
    emit(stopwatch.metrics, tasks=args.n + 1, ran=len(started))


if __name__ == '__main__':
    main(scenario)
