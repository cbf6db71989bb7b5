"""What code fingerprints cost a warm plan: 2,000 tasks of 10 classes with ``code_fingerprint_check``. Ours only.

    python code_fingerprint.py --n 2000 --classes 10

The classes are made in ``__main__`` (as in a notebook) and call a helper and read a constant.
The DAG is built once; then, in one process:
- warm_plan: ``gokart.build`` of a new root over the 2,000 cached tasks (only the root runs);
- fingerprint_2000: ``code_fingerprint`` of each of the 2,000 tasks' classes, after the build has
  fingerprinted them once (the memo: a few identity checks each);
- refresh: ``code_fingerprint.refresh()``, which every build and every kernel cell makes first.
The goal (issue 24): fingerprint_2000 under 5 % of warm_plan; ``fingerprint_share`` is the ratio.
"""

from __future__ import annotations

import argparse
import time

import luigi
from _common import Stopwatch, emit, main

import gokart
from gokart.ids import code_fingerprint

FACTOR = 3


def helper(value: int) -> int:
    return value * FACTOR


def _make_class(number: int) -> type:
    def run(self: gokart.TaskOnKart) -> None:
        self.dump(helper(self.i))

    return type(f'Fingerprinted{number}', (gokart.TaskOnKart,), {'__module__': '__main__', 'i': luigi.IntParameter(), 'run': run})


class Root(gokart.TaskOnKart):
    n = luigi.IntParameter()
    classes = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def requires(self):  # type: ignore[no-untyped-def]
        return [CLASSES[i % self.classes](i=i, code_fingerprint_check=True) for i in range(self.n)]

    def run(self) -> None:
        self.dump(len(self.load()))


CLASSES: list[type] = []


def scenario() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--n', type=int, default=2000)
    parser.add_argument('--classes', type=int, default=10)
    args = parser.parse_args()
    CLASSES.extend(_make_class(k) for k in range(args.classes))
    gokart.build(Root(n=args.n, classes=args.classes, tag='setup', code_fingerprint_check=True), progress=False)
    stopwatch = Stopwatch()
    root = Root(n=args.n, classes=args.classes, tag='measured', code_fingerprint_check=True)
    with stopwatch.measure('warm_plan'):
        gokart.build(root, progress=False)
    tasks = root.requires()
    with stopwatch.measure('fingerprint_2000'):
        for task in tasks:
            code_fingerprint.code_fingerprint(type(task))
    started = time.perf_counter()
    code_fingerprint.refresh()
    stopwatch.metrics['refresh'] = time.perf_counter() - started
    emit(
        stopwatch.metrics,
        tasks=args.n,
        classes=args.classes,
        fingerprint_share=stopwatch.metrics['fingerprint_2000'] / stopwatch.metrics['warm_plan'],
    )


if __name__ == '__main__':
    main(scenario)
