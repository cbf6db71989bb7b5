"""A pipeline that several processes build at once in the concurrency tests.

    python concurrent_pipeline.py ROOT_INDEX COUNTER_DIRECTORY [CLOCK_OFFSET_SECONDS]

Root(k) needs Mid(k) .. Mid(k+3), and Mid(j) needs Base(j) and Base(j+1), so the DAGs of different
roots overlap. Every run() appends one line to ``{COUNTER_DIRECTORY}/{task}.runs`` (O_APPEND, so
lines from different processes never mix) and sleeps a little to widen the window for collisions.
The workspace and any Redis settings come from the luigi config file in ``LUIGI_CONFIG_PATH``.
With a clock offset, ``time.time`` of the process is that far off, as on a machine with a wrong clock.
"""

from __future__ import annotations

import os
import sys
import time

import luigi

import gokart

COUNTER_DIRECTORY = ''


def record_run(name: str) -> None:
    fd = os.open(os.path.join(COUNTER_DIRECTORY, f'{name}.runs'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f'{os.getpid()}\n'.encode())
    finally:
        os.close(fd)
    time.sleep(0.2)


class Base(gokart.TaskOnKart[int]):
    __module__ = 'concurrent_pipeline'
    j = luigi.IntParameter()

    def run(self) -> None:
        record_run(f'Base_{self.j}')
        self.dump(self.j)


class Mid(gokart.TaskOnKart[int]):
    __module__ = 'concurrent_pipeline'
    j = luigi.IntParameter()

    def requires(self) -> list[Base]:
        return [Base(j=self.j), Base(j=self.j + 1)]

    def run(self) -> None:
        record_run(f'Mid_{self.j}')
        self.dump(sum(self.load()))


class Root(gokart.TaskOnKart[int]):
    __module__ = 'concurrent_pipeline'
    k = luigi.IntParameter()

    def requires(self) -> list[Mid]:
        return [Mid(j=j) for j in range(self.k, self.k + 4)]

    def run(self) -> None:
        record_run(f'Root_{self.k}')
        self.dump(sum(self.load()))


def expected_root_value(k: int) -> int:
    return sum(j + (j + 1) for j in range(k, k + 4))


def set_clock_off_by(seconds: float) -> None:
    true_time = time.time
    time.time = lambda: true_time() + seconds


if __name__ == '__main__':
    COUNTER_DIRECTORY = sys.argv[2]
    if len(sys.argv) > 3:
        set_clock_off_by(float(sys.argv[3]))
    k = int(sys.argv[1])
    value = gokart.build(Root(k=k), task_lock_exception_max_tries=30)
    assert value == expected_root_value(k), value
