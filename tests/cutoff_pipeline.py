"""Tasks for the early cutoff tests (tests/test_early_cutoff.py): a chain and a diamond whose first task reruns.

``First.level`` and ``Base.label`` change the upstream ids but not what is written; ``Base.value``
changes what one branch of the diamond writes. ``RUNS`` counts the ``run()`` calls of this process.
"""

from __future__ import annotations

import luigi

import gokart

RUNS: list[str] = []


class First(gokart.TaskOnKart):
    level = luigi.IntParameter(default=1)  # a logging level, say: the output does not depend on it

    def run(self):
        RUNS.append(type(self).__name__)
        self.dump([1, 2, 3])


class Link(gokart.TaskOnKart):
    n = luigi.IntParameter()

    def requires(self):
        return First() if self.n == 0 else Link(n=self.n - 1)

    def run(self):
        RUNS.append(f'{type(self).__name__}{self.n}')
        self.dump(self.load() + [self.n])


class Base(gokart.TaskOnKart):
    label = luigi.Parameter(default='a')  # no effect on the output
    value = luigi.IntParameter(default=1)

    def run(self):
        RUNS.append('Base')
        self.dump({'a': 1, 'b': self.value})


class Left(gokart.TaskOnKart):
    """Reads the part of Base that does not change."""

    def requires(self):
        return Base()

    def run(self):
        RUNS.append('Left')
        self.dump(self.load()['a'])


class Right(gokart.TaskOnKart):
    def requires(self):
        return Base()

    def run(self):
        RUNS.append('Right')
        self.dump(self.load()['b'])


class BelowLeft(gokart.TaskOnKart):
    def requires(self):
        return Left()

    def run(self):
        RUNS.append('BelowLeft')
        self.dump(self.load() * 10)


class Top(gokart.TaskOnKart):
    def requires(self):
        return {'left': BelowLeft(), 'right': Right()}

    def run(self):
        RUNS.append('Top')
        self.dump(self.load('left') + self.load('right'))


class Stage(gokart.TaskOnKart):
    """A link of a chain whose upstream is a parameter (``chain(k, level)``): nothing is read from the config."""

    n = luigi.IntParameter()
    upstream = gokart.TaskInstanceParameter()

    def requires(self):
        return self.upstream

    def run(self):
        RUNS.append(f'{type(self).__name__}{self.n}')
        self.dump(self.load() + [self.n])


def chain(length: int, level: int) -> Stage:
    task: gokart.TaskOnKart = First(level=level)
    for n in range(length):
        task = Stage(n=n, upstream=task)
    return task
