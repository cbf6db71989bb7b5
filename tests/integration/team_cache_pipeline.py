"""A small pipeline that developers, CI and gokart 1.12.2 build against one shared workspace in the team-cache tests.

    python team_cache_pipeline.py RUNS_FILE [SIZE [OFFSET [luigi]]]

Uses only the public API that gokart 1.12.2 shares with ours, so either interpreter runs it. Each
``run()`` appends its task's name to RUNS_FILE; the workspace and the ``[gokart]`` settings come
from ``LUIGI_CONFIG_PATH``. Prints the root's output. With ``luigi`` it builds through ``gokart.run``.
"""

from __future__ import annotations

import sys

import luigi
import pandas as pd

import gokart

RUNS_FILE = ''


def record(name: str) -> None:
    if RUNS_FILE:
        with open(RUNS_FILE, 'a') as f:
            f.write(name + '\n')


class Numbers(gokart.TaskOnKart):
    __module__ = 'team_cache_pipeline'
    size = luigi.IntParameter()

    def run(self):
        record('Numbers')
        self.dump(list(range(self.size)))


class Squares(gokart.TaskOnKart):
    __module__ = 'team_cache_pipeline'
    numbers = gokart.TaskInstanceParameter()

    def run(self):
        record('Squares')
        self.dump([x * x for x in self.load('numbers')])


class Frame(gokart.TaskOnKart):
    __module__ = 'team_cache_pipeline'
    numbers = gokart.TaskInstanceParameter()

    def output(self):
        return self.make_target('frames/numbers.csv')

    def run(self):
        record('Frame')
        self.dump(pd.DataFrame({'x': self.load('numbers')}))


class Total(gokart.TaskOnKart):
    __module__ = 'team_cache_pipeline'
    size = luigi.IntParameter(default=10)
    offset = luigi.IntParameter(default=0)

    def requires(self):
        numbers = Numbers(size=self.size)
        return {'squares': Squares(numbers=numbers), 'frame': Frame(numbers=numbers)}

    def run(self):
        record('Total')
        self.dump(sum(self.load('squares')) + int(self.load('frame')['x'].sum()) + self.offset)


def main(argv: list[str]) -> None:
    global RUNS_FILE
    RUNS_FILE = argv[0]
    size = int(argv[1]) if len(argv) > 1 else 10
    offset = int(argv[2]) if len(argv) > 2 else 0
    if len(argv) > 3 and argv[3] == 'luigi':  # through gokart.run: luigi's scheduler and worker
        arguments = ['Total', '--size', str(size), '--offset', str(offset), '--local-scheduler', '--module', 'team_cache_pipeline']
        try:
            gokart.run(arguments)
        except SystemExit as e:
            if e.code:
                raise
        print(Total(size=size, offset=offset).output().load())
        return
    print(gokart.build(Total(size=size, offset=offset), log_level=40))


if __name__ == '__main__':
    sys.modules['team_cache_pipeline'] = sys.modules['__main__']
    main(sys.argv[1:])
