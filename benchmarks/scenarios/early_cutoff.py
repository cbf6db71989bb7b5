"""A chain of N tasks whose first task reruns with an unchanged output: rebuilt with and without early cutoff (ours only).

    python early_cutoff.py --n 100 --work 0.3

Each task's ``run()`` stands for real work (``--work`` seconds of sleep, read from the environment
so ids do not depend on it). Setup builds the chain with no work in two workspaces, so both rebuilds
start from the same outputs and journal. Then ``[First] level`` changes (a new id for
every task, the same output of the first) and the chain is rebuilt:

- ``full_rebuild``: without early cutoff, as gokart 1.12 does: every task runs (``ran_full`` = N);
- ``cutoff_rebuild``: with ``GOKART_EARLY_CUTOFF=true``: the first task runs, the N - 1 below it
  are cut off (``ran_cutoff`` = 1); ``ratio`` is cutoff_rebuild / full_rebuild (goal: at most 5 %).
"""

from __future__ import annotations

import argparse
import os
import time

import luigi
from _common import Stopwatch, emit, main

import gokart

RAN: list[str] = []


def _work() -> None:
    RAN.append('run')
    time.sleep(float(os.environ.get('CUTOFF_BENCH_WORK', '0')))


class First(gokart.TaskOnKart):
    level = luigi.IntParameter(default=1)

    def run(self):
        _work()
        self.dump(list(range(100)))


class Step(gokart.TaskOnKart):
    n = luigi.IntParameter()

    def requires(self):
        return First() if self.n == 0 else Step(n=self.n - 1)

    def run(self):
        _work()
        self.dump(self.load()[1:] + [self.n])


def rebuild(directory: str, n: int, cutoff: bool) -> tuple[float, int]:
    os.chdir(directory)
    os.environ['GOKART_EARLY_CUTOFF'] = 'true' if cutoff else 'false'
    luigi.configuration.get_config().set('First', 'level', '2')
    luigi.task_register.Register.clear_instance_cache()
    RAN.clear()
    stopwatch = Stopwatch()
    with stopwatch.measure('seconds'):
        gokart.build(Step(n=n - 2), log_level=40)
    return stopwatch.metrics['seconds'], len(RAN)


def scenario() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument('--n', type=int, default=100)
    parser.add_argument('--work', type=float, default=0.3)
    args = parser.parse_args()
    base = os.getcwd()
    for directory in ('full', 'cutoff'):  # the same cold build in each (a journal names absolute paths: a copy would not do)
        os.makedirs(directory)
        os.chdir(directory)
        gokart.build(Step(n=args.n - 2), log_level=40)  # First and n - 1 steps: n tasks
        os.chdir(base)
    os.environ['CUTOFF_BENCH_WORK'] = str(args.work)
    full, ran_full = rebuild(os.path.join(base, 'full'), args.n, cutoff=False)
    cut, ran_cut = rebuild(os.path.join(base, 'cutoff'), args.n, cutoff=True)
    if ran_full != args.n or ran_cut != 1:
        raise AssertionError(f'{ran_full} tasks ran without cutoff (expected {args.n}), {ran_cut} with it (expected 1)')
    emit(
        {'full_rebuild': full, 'cutoff_rebuild': cut, 'ratio': cut / full, 'cutoff_per_task_ms': (cut - args.work) / (args.n - 1) * 1000},
        tasks=args.n,
        work_seconds=args.work,
        ran_full=ran_full,
        ran_cutoff=ran_cut,
    )


if __name__ == '__main__':
    main(scenario)
