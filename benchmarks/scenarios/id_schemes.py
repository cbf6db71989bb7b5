"""Id scheme 2 (Merkle) on the DAG shapes that scheme 1 cannot hash, and `gokart rekey`. Ours only.

    python id_schemes.py --kind tip_chain --n N --mode cold|warm     chain of task-instance parameters, scheme 2
    python id_schemes.py --kind lattice --depth D --scheme 2          construct + ids of a lattice of diamonds
    python id_schemes.py --kind lattice --scheme 1 --budget S         deepest lattice scheme 1 hashes within S seconds
    python id_schemes.py --kind rekey --n N                           rekey a workspace of N + 1 built tasks to scheme 2

The lattice has two tasks a level, each holding both tasks of the level below in a
ListTaskInstanceParameter: scheme 1's hash input doubles at every level.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import luigi
from _common import Stopwatch, emit, main

import gokart
from gokart.ids import id_scheme


class Link(gokart.TaskOnKart[int]):
    """A chain link holding the previous link (or the first leaf) in a TaskInstanceParameter."""

    previous = gokart.TaskInstanceParameter()
    n = luigi.IntParameter(default=0)

    def run(self) -> None:
        self.dump(self.n)


class ChainTop(gokart.TaskOnKart[int]):
    top = gokart.TaskInstanceParameter()
    tag = luigi.Parameter(default='')

    def run(self) -> None:
        self.dump(self.load('top'))


class Node(gokart.TaskOnKart[int]):
    """A lattice node: `side` of level `level`, holding both nodes of the level below."""

    level = luigi.IntParameter()
    side = luigi.IntParameter()
    below = gokart.ListTaskInstanceParameter(default=[])


class Leaf(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class Wide(gokart.TaskOnKart[int]):
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(i=i) for i in range(self.n)]

    def run(self) -> None:
        self.dump(self.n)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--kind', choices=['tip_chain', 'lattice', 'rekey'], required=True)
    parser.add_argument('--n', type=int, default=10_000)
    parser.add_argument('--mode', choices=['cold', 'warm'], default='cold')
    parser.add_argument('--depth', type=int, default=1000)
    parser.add_argument('--scheme', type=int, choices=[1, 2], default=2)
    parser.add_argument('--budget', type=float, default=60.0)
    parser.add_argument('--setup', action='store_true', help='only build what the measured run finds (warm, rekey)')
    return parser.parse_args()


def chain(n: int, tag: str) -> ChainTop:
    link: gokart.TaskOnKart[int] = Leaf(i=0)
    for i in range(1, n):
        link = Link(previous=link, n=i)
    return ChainTop(top=link, tag=tag)


def lattice(depth: int) -> list[Node]:
    level = [Node(level=0, side=0), Node(level=0, side=1)]
    for i in range(1, depth + 1):
        level = [Node(level=i, side=0, below=level), Node(level=i, side=1, below=level)]
    return level


def setup(args: argparse.Namespace) -> None:
    if args.kind == 'tip_chain':
        with id_scheme.use(2):
            gokart.build(chain(args.n, 'setup'))
    else:
        with id_scheme.use(1):
            gokart.build(Wide(n=args.n))


def run_tip_chain(args: argparse.Namespace, stopwatch: Stopwatch) -> dict:
    if args.mode == 'warm':
        subprocess.run([sys.executable, __file__, '--kind', 'tip_chain', '--n', str(args.n), '--setup'], check=True)
    with id_scheme.use(2), stopwatch.measure('seconds'):
        result = gokart.build(chain(args.n, args.mode))
    if result != args.n - 1:
        raise AssertionError(f'the chain returned {result!r}')
    return {'tasks': args.n + 1}


def run_lattice(args: argparse.Namespace, stopwatch: Stopwatch) -> dict:
    if args.scheme == 2:
        with id_scheme.use(2), stopwatch.measure('seconds'):
            ids = [node.make_unique_id() for node in lattice(args.depth)]
        return {'tasks': 2 * (args.depth + 1), 'top_ids': ids}
    # Scheme 1: deeper and deeper lattices until the next one would not fit in the budget (its time doubles).
    spent, reached, last = 0.0, 0, 0.0
    with id_scheme.use(1):
        for depth in range(1, 64):
            if last * 2.2 > args.budget - spent:
                break
            luigi.task_register.Register.clear_instance_cache()
            start = time.perf_counter()
            for node in lattice(depth):
                node.make_unique_id()
            last = time.perf_counter() - start
            spent += last
            reached = depth
    stopwatch.metrics['seconds'] = last
    return {'depth': reached, 'tasks': 2 * (reached + 1), 'budget': args.budget}


def run_rekey(args: argparse.Namespace, stopwatch: Stopwatch) -> dict:
    from gokart.commands.rekey import MOVED, rekey

    subprocess.run([sys.executable, __file__, '--kind', 'rekey', '--n', str(args.n), '--setup'], check=True)
    with stopwatch.measure('seconds'):
        report = rekey(Wide(n=args.n), to_scheme=2)
        with open(os.devnull, 'w') as sink:
            for line in report.table():
                print(line, file=sink)
    return {'tasks': args.n + 1, 'moved': report.count(MOVED)}


def scenario() -> None:
    args = parse_args()
    if args.setup:
        setup(args)
        return
    stopwatch = Stopwatch()
    run = {'tip_chain': run_tip_chain, 'lattice': run_lattice, 'rekey': run_rekey}[args.kind]
    info = run(args, stopwatch)
    info.pop('top_ids', None)
    emit(stopwatch.metrics, **info)


if __name__ == '__main__':
    main(scenario)
