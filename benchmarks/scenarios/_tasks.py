"""The task classes the scenarios build. Public gokart API only, so they run on both gokarts."""

from __future__ import annotations

import os
import time

import luigi

# Tasks seed numpy before run() (gokart's default fix_random_seed_methods), so the first task
# imports numpy; gokart 1.12.2 imports it with `import gokart`. Importing it here, before any
# stopwatch starts, keeps that one-off import (measured by the `import` scenario) out of the DAG
# timings of both implementations alike; an ML pipeline has numpy loaded anyway.
import numpy  # noqa: F401

import gokart

# Iterations of `burn` taking roughly 0.5 s of pure-Python CPU (CPython 3.11 on the project's
# benchmark machine); a fixed count, so both implementations do exactly the same work.
BURN_ITERATIONS = 8_000_000


def burn(iterations: int) -> int:
    """Pure-Python CPU work that holds the GIL the whole time."""
    total = 0
    for i in range(iterations):
        total += i % 7
    return total


class Leaf(gokart.TaskOnKart[int]):
    """A trivial task with one int parameter: the unit of the wide DAG."""

    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class WideRoot(gokart.TaskOnKart[int]):
    """Requires `n` leaves; `tag` lets a new root sit on top of already-built leaves."""

    n = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def requires(self):
        return [Leaf(i=i) for i in range(self.n)]

    def run(self) -> None:
        self.dump(self.n)


class Chain(gokart.TaskOnKart[int]):
    """Link `n` of a chain that requires link `n - 1`, down to 0: a DAG as deep as it is long."""

    n = luigi.IntParameter()

    def requires(self):
        return Chain(n=self.n - 1) if self.n > 0 else []

    def run(self) -> None:
        self.dump(self.n)


class ChainRoot(gokart.TaskOnKart[int]):
    """Sits on top of links `n - 1 .. 0`; `tag` makes a new root over an existing chain."""

    n = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def requires(self):
        return Chain(n=self.n - 1) if self.n > 0 else []

    def run(self) -> None:
        self.dump(self.n)


class Sleep(gokart.TaskOnKart[int]):
    """Waits without using CPU: parallel workers should overlap these."""

    i = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.5)

    def run(self) -> None:
        time.sleep(self.seconds)
        self.dump(self.i)


class Burn(gokart.TaskOnKart[int]):
    """Burns CPU in Python: only separate processes (not threads) can overlap these."""

    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(burn(BURN_ITERATIONS) + self.i)


class FanOutRoot(gokart.TaskOnKart[int]):
    """Requires `n` independent tasks of kind `kind` (leaf, sleep or burn)."""

    kind = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        unit = {'leaf': Leaf, 'sleep': Sleep, 'burn': Burn}[self.kind]
        return [unit(i=i) for i in range(self.n)]

    def run(self) -> None:
        self.dump(self.n)


class RecordedLeaf(gokart.TaskOnKart[int]):
    """A trivial task that appends `<i> <pid>` to the file named by `$GOKART_BENCH_RUN_LOG` each time it runs.

    Appends of one short line are atomic, so processes building the same DAG can share the file
    and a duplicate run shows as a repeated `i`.
    """

    i = luigi.IntParameter()

    def run(self) -> None:
        record_run(str(self.i))
        self.dump(self.i)


class RecordedRoot(gokart.TaskOnKart[int]):
    """Requires `n` recorded leaves; records its own run as `root`."""

    n = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def requires(self):
        return [RecordedLeaf(i=i) for i in range(self.n)]

    def run(self) -> None:
        record_run('root')
        self.dump(self.n)


def record_run(name: str) -> None:
    path = os.environ.get('GOKART_BENCH_RUN_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(f'{name} {os.getpid()}\n')
