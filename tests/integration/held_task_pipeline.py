"""A slow task held by one process while another builds a DAG around it, for the put-aside test.

    python held_task_pipeline.py SIGNAL_DIRECTORY

Run as a script, ``Slow`` writes ``SIGNAL_DIRECTORY/slow-started`` from inside ``run()`` (its
lease held), then waits until the other process has run every ``Quick`` task (each leaves a
``quick-{i}`` file there), at most ``PATIENCE_SECONDS``, and dumps whether they all came.
"""

from __future__ import annotations

import os
import sys
import time

import luigi

import gokart

QUICK_TASKS = 3
PATIENCE_SECONDS = 20.0


class Slow(gokart.TaskOnKart[str]):
    __module__ = 'held_task_pipeline'
    signal_directory = luigi.Parameter(significant=False)

    def run(self) -> None:
        with open(os.path.join(self.signal_directory, 'slow-started'), 'w') as f:
            f.write(str(os.getpid()))
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not all(os.path.exists(os.path.join(self.signal_directory, f'quick-{i}')) for i in range(QUICK_TASKS)):
            if time.monotonic() > deadline:
                self.dump('the other process did not run the quick tasks meanwhile')
                return
            time.sleep(0.05)
        self.dump('the quick tasks ran while this one was held')


class Quick(gokart.TaskOnKart[int]):
    __module__ = 'held_task_pipeline'
    i = luigi.IntParameter()
    signal_directory = luigi.Parameter(significant=False)

    def run(self) -> None:
        with open(os.path.join(self.signal_directory, f'quick-{self.i}'), 'w') as f:
            f.write(str(os.getpid()))
        self.dump(self.i)


class Around(gokart.TaskOnKart[list]):
    """Needs ``Slow`` and the quick tasks, ``Slow`` first or last in ``requires()``."""

    __module__ = 'held_task_pipeline'
    signal_directory = luigi.Parameter(significant=False)
    slow_first = luigi.BoolParameter()

    def requires(self) -> list[gokart.TaskOnKart]:
        shared = {'signal_directory': self.signal_directory, 'workspace_directory': self.workspace_directory}
        quick: list[gokart.TaskOnKart] = [Quick(i=i, **shared) for i in range(QUICK_TASKS)]
        slow = Slow(**shared)
        return [slow, *quick] if self.slow_first else [*quick, slow]

    def run(self) -> None:
        self.dump(self.load())


if __name__ == '__main__':
    gokart.build(Slow(signal_directory=sys.argv[1]))
