"""Tasks that test_dask.py builds on a Dask LocalCluster; importable on the workers (same sys.path).

    python dask_pipeline.py DaskRoot --runs RUNS --executor dask --dask-address tcp://...

DaskRoot needs ``PAIRS`` DaskPair tasks, each needing two DaskLeaf tasks. Every run() first appends
its process id to ``{runs}/{task}.runs`` (O_APPEND: lines of different processes never mix), so a
test counts how often each task ran and where. ``runs`` is a significant parameter: each test has
its own tasks, ids and Dask keys.
"""

from __future__ import annotations

import os
import time

import luigi

import gokart

PAIRS = 3


def record_run(runs: str, name: str) -> None:
    """Append this process's pid to the task's run file before any work, so a started run is visible."""
    fd = os.open(os.path.join(runs, f'{name}.runs'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f'{os.getpid()}\n'.encode())
    finally:
        os.close(fd)


def run_counts(runs: str) -> dict[str, int]:
    """How many times each task's run() started, by task name."""
    counts: dict[str, int] = {}
    for name in os.listdir(runs):
        if name.endswith('.runs'):
            with open(os.path.join(runs, name)) as f:
                counts[name[: -len('.runs')]] = len(f.read().split())
    return counts


class DaskLeaf(gokart.TaskOnKart[int]):
    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()
    i = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.0, significant=False)

    def run(self) -> None:
        record_run(self.runs, f'DaskLeaf_{self.i}')
        time.sleep(self.seconds)
        self.dump(self.i * self.i)


class DaskPair(gokart.TaskOnKart[int]):
    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()
    j = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.0, significant=False)

    def requires(self) -> list[DaskLeaf]:
        return [DaskLeaf(runs=self.runs, i=2 * self.j + k, seconds=self.seconds) for k in (0, 1)]

    def run(self) -> None:
        record_run(self.runs, f'DaskPair_{self.j}')
        self.dump(sum(self.load()))


class DaskSlow(gokart.TaskOnKart[str]):
    """Writes its worker's pid to ``{runs}/slow.pid`` and waits for ``{runs}/release`` (or a minute), so a test can kill it mid-run."""

    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()

    def run(self) -> None:
        record_run(self.runs, 'DaskSlow')
        with open(os.path.join(self.runs, f'slow-{os.getpid()}.pid'), 'w') as f:
            f.write(str(os.getpid()))
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(self.runs, 'release')) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.dump('slow ' + 'x' * 1000)


class DaskFailing(gokart.TaskOnKart[int]):
    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()

    def run(self) -> None:
        record_run(self.runs, 'DaskFailing')
        raise ValueError(f'DaskFailing broke on purpose (pid {os.getpid()})')


class DaskRoot(gokart.TaskOnKart[dict]):
    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()
    seconds = luigi.FloatParameter(default=0.0, significant=False)
    slow = luigi.BoolParameter(default=False)
    failing = luigi.BoolParameter(default=False)

    def requires(self) -> dict[str, gokart.TaskOnKart]:
        needed: dict[str, gokart.TaskOnKart] = {f'pair_{j}': DaskPair(runs=self.runs, j=j, seconds=self.seconds) for j in range(PAIRS)}
        if self.slow:
            needed['slow'] = DaskSlow(runs=self.runs)
        if self.failing:
            needed['failing'] = DaskFailing(runs=self.runs)
        return needed

    def run(self) -> None:
        record_run(self.runs, 'DaskRoot')
        loaded = self.load()
        self.dump({'pairs': [loaded[f'pair_{j}'] for j in range(PAIRS)], 'slow': loaded.get('slow')})


class DaskAfterFailing(gokart.TaskOnKart[int]):
    """Needs only DaskFailing, which has no other dependent: the two form a chain, run in one Dask group."""

    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()

    def requires(self) -> DaskFailing:
        return DaskFailing(runs=self.runs)

    def run(self) -> None:
        record_run(self.runs, 'DaskAfterFailing')
        self.dump(0)


class DaskGroupRoot(gokart.TaskOnKart[list]):
    """Needs ``LEAVES`` leaves, with DaskFailing -> DaskAfterFailing (``failing``) or DaskSlow (``slow``) after the first ``BEFORE`` of them.

    Batched into one Dask group, the leaves run in this order: those before the odd task first.
    """

    __module__ = 'dask_pipeline'
    runs = luigi.Parameter()
    slow = luigi.BoolParameter(default=False)
    failing = luigi.BoolParameter(default=False)

    def requires(self) -> list[gokart.TaskOnKart]:
        leaves: list[gokart.TaskOnKart] = [DaskLeaf(runs=self.runs, i=i) for i in range(GROUP_LEAVES)]
        odd: list[gokart.TaskOnKart] = []
        if self.slow:
            odd.append(DaskSlow(runs=self.runs))
        if self.failing:
            odd.append(DaskAfterFailing(runs=self.runs))
        return leaves[:GROUP_BEFORE] + odd + leaves[GROUP_BEFORE:]

    def run(self) -> None:
        record_run(self.runs, 'DaskGroupRoot')
        self.dump([value for value in self.load() if isinstance(value, int)])


GROUP_LEAVES, GROUP_BEFORE = 6, 4


def expected_pairs() -> list[int]:
    return [(2 * j) ** 2 + (2 * j + 1) ** 2 for j in range(PAIRS)]


def task_names(slow: bool = False) -> list[str]:
    names = [f'DaskLeaf_{i}' for i in range(2 * PAIRS)] + [f'DaskPair_{j}' for j in range(PAIRS)] + ['DaskRoot']
    return names + ['DaskSlow'] if slow else names


if __name__ == '__main__':
    gokart.run()
