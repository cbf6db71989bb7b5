"""A pipeline that several worker processes build together through one ``luigid`` in test_luigid.py.

    python luigid_pipeline.py DistributedRoot --scheduler-host 127.0.0.1 --scheduler-port PORT [--slow]

DistributedRoot needs three DistributedPair tasks, each needing two DistributedLeaf tasks (10 tasks);
with ``--slow`` it also needs DistributedSlow, whose run() takes a few seconds so a test can kill the
worker running it. Every run() first appends this process's pid to ``{GOKART_TEST_RUNS}/{task}.runs``
(O_APPEND: lines of different processes never mix), so the test sees who ran what and how often.
The workspace and the worker options come from the luigi config file in ``LUIGI_CONFIG_PATH``.
"""

from __future__ import annotations

import os
import time

import luigi

import gokart

LEAVES = 6
PAIRS = 3
SLOW_SECONDS = 3.0


def record_run(name: str) -> None:
    """Append this process's pid to the task's run file, before any work, so a started run is visible."""
    fd = os.open(os.path.join(os.environ['GOKART_TEST_RUNS'], f'{name}.runs'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f'{os.getpid()}\n'.encode())
    finally:
        os.close(fd)


class DistributedLeaf(gokart.TaskOnKart[int]):
    __module__ = 'luigid_pipeline'
    i = luigi.IntParameter()

    def run(self) -> None:
        record_run(f'DistributedLeaf_{self.i}')
        time.sleep(0.4)  # long enough that workers overlap and luigid must keep them apart
        self.dump(self.i * self.i)


class DistributedPair(gokart.TaskOnKart[int]):
    __module__ = 'luigid_pipeline'
    j = luigi.IntParameter()

    def requires(self) -> list[DistributedLeaf]:
        return [DistributedLeaf(i=2 * self.j), DistributedLeaf(i=2 * self.j + 1)]

    def run(self) -> None:
        record_run(f'DistributedPair_{self.j}')
        time.sleep(0.2)
        self.dump(sum(self.load()))


class DistributedSlow(gokart.TaskOnKart[str]):
    __module__ = 'luigid_pipeline'

    def run(self) -> None:
        record_run('DistributedSlow')
        time.sleep(SLOW_SECONDS)
        self.dump('slow ' + 'x' * 1000)


class DistributedRoot(gokart.TaskOnKart[dict]):
    __module__ = 'luigid_pipeline'
    slow = luigi.BoolParameter(default=False)

    def requires(self) -> dict[str, gokart.TaskOnKart]:
        needed: dict[str, gokart.TaskOnKart] = {f'pair_{j}': DistributedPair(j=j) for j in range(PAIRS)}
        if self.slow:
            needed['slow'] = DistributedSlow()
        return needed

    def run(self) -> None:
        record_run('DistributedRoot')
        loaded = self.load()
        self.dump({'pairs': [loaded[f'pair_{j}'] for j in range(PAIRS)], 'slow': loaded.get('slow')})


def task_names(slow: bool) -> list[str]:
    """Every task of DistributedRoot(slow=slow), as named in the run files."""
    names = [f'DistributedLeaf_{i}' for i in range(LEAVES)] + [f'DistributedPair_{j}' for j in range(PAIRS)] + ['DistributedRoot']
    return names + ['DistributedSlow'] if slow else names


def expected_root_value(slow: bool) -> dict:
    return {
        'pairs': [(2 * j) ** 2 + (2 * j + 1) ** 2 for j in range(PAIRS)],
        'slow': 'slow ' + 'x' * 1000 if slow else None,
    }


if __name__ == '__main__':
    gokart.run()
