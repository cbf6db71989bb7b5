"""Builds a wide or a chain DAG of N trivial tasks plus one root, cold or warm.

    python dag.py --shape wide|chain --n N --mode cold|warm

- cold: empty workspace, every task runs. Measures construction of the root plus `gokart.build`.
- warm: every upstream output already exists and only the root (a new `tag`) is missing, so the
  build must check N outputs and run one task. The upstream outputs are written first by a child
  process (`--setup`), so the measured process starts with empty caches, like a real rerun.

The workspace is the current directory's `./resources/` (the harness runs each scenario in a new
temporary directory).
"""

from __future__ import annotations

import argparse
import os
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
    return parser.parse_args()


def write_upstream_outputs(shape: str, n: int) -> None:
    """Dumps every non-root output directly; bottom-up, so no unique id needs deep recursion."""
    for i in range(n):
        task = Leaf(i=i) if shape == 'wide' else Chain(n=i)
        task.dump(i)


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
    emit(stopwatch.metrics, tasks=args.n + 1, ran=len(started))


if __name__ == '__main__':
    main(scenario)
