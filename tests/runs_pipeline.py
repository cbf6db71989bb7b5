"""A small grid of models for the runs and lineage tests (imported by name from subprocesses too)."""

from __future__ import annotations

import os
import sys

import luigi
import pandas as pd

import gokart


class Data(gokart.TaskOnKart[pd.DataFrame]):
    rows = luigi.IntParameter(default=10)

    def run(self) -> None:
        self.dump(pd.DataFrame({'x': [float(i) for i in range(self.rows)], 'y': [i % 2 for i in range(self.rows)]}))


class Train(gokart.TaskOnKart[dict]):
    c = luigi.FloatParameter(default=1.0)
    model = luigi.Parameter(default='svm')
    data = gokart.TaskInstanceParameter(default=Data())

    def requires(self) -> Data:
        return self.data

    def run(self) -> None:
        frame = self.load()
        self.dump({'accuracy': round(1 - abs(self.c - 0.5) / 2, 4), 'rows': float(len(frame))})


class Leaf(gokart.TaskOnKart[int]):
    index = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.index)


class Wide(gokart.TaskOnKart[int]):
    size = luigi.IntParameter()
    tag = luigi.Parameter(default='a')

    def requires(self) -> list[Leaf]:
        return [Leaf(index=i) for i in range(self.size)]

    def run(self) -> None:
        self.dump(self.size)


class Chosen(gokart.TaskOnKart[list]):
    names = luigi.ListParameter(default=['a'])

    def run(self) -> None:
        self.dump(list(self.names))


class Crashing(gokart.TaskOnKart[int]):
    """Kills its process (no exit handler runs) after the tasks before it finished."""

    def requires(self) -> list[Leaf]:
        return [Leaf(index=i) for i in range(3)]

    def run(self) -> None:
        sys.stdout.flush()
        os._exit(9)


class SlowLeaf(gokart.TaskOnKart[int]):
    """Takes a while, so that a sync can happen while it runs."""

    def run(self) -> None:
        import time

        time.sleep(float(os.environ.get('SLOW_LEAF_SECONDS', '3')))
        self.dump(1)


class CrashingAfterSlow(gokart.TaskOnKart[int]):
    def requires(self) -> SlowLeaf:
        return SlowLeaf()

    def run(self) -> None:
        sys.stdout.flush()
        os._exit(9)


class DumpsThenDies(gokart.TaskOnKart[int]):
    """Killed after its output is written, before its run() returns: no task_log record, no journal line."""

    size = luigi.IntParameter(default=1)

    def run(self) -> None:
        self.dump(self.size)
        sys.stdout.flush()
        os._exit(9)


if __name__ == '__main__':  # python runs_pipeline.py build SIZE TAG WORKERS
    if sys.argv[1] == 'build':
        gokart.build(Wide(size=int(sys.argv[2]), tag=sys.argv[3]), workers=int(sys.argv[4]), log_level=40)
    elif sys.argv[1] == 'crash':
        gokart.build(Crashing(), log_level=40)
