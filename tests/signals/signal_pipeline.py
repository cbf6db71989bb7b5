"""A pipeline whose tasks hang in the middle of a dump, for the signal tests.

    python signal_pipeline.py MODE MARKER_DIRECTORY

MODE is ``build`` (gokart.build with 3 forked workers), ``serial`` (gokart.build in this process),
``luigi`` (gokart.build through luigi's worker), ``run`` (gokart.run's command line with 3 workers) or
``run2`` (gokart.run with 2 workers and the arguments that follow MARKER_DIRECTORY). The workspace comes from the luigi config in
``LUIGI_CONFIG_PATH``. With ``SIGNAL_TEST_HANG=1`` each Slow task writes ``{MARKER_DIRECTORY}/{i}``
and then hangs while its output is being written (a temporary file is open), until it is killed.
"""

from __future__ import annotations

import os
import sys
import time

import luigi

import gokart

MARKERS = ''


class Hanging:
    """Pickling it announces itself, then hangs: the task is stuck in the middle of dump()."""

    def __init__(self, i: int) -> None:
        self.i = i

    def __reduce__(self) -> tuple[type, tuple[str]]:
        with open(os.path.join(MARKERS, str(self.i)), 'w') as f:
            f.write(str(os.getpid()))
        for _ in range(1200):
            time.sleep(0.1)
        return (str, ('never',))


class Slow(gokart.TaskOnKart[str]):
    __module__ = 'signal_pipeline'
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(Hanging(self.i) if os.environ.get('SIGNAL_TEST_HANG') == '1' else f'value {self.i}')


class Root(gokart.TaskOnKart[str]):
    __module__ = 'signal_pipeline'

    def requires(self) -> list[Slow]:
        return [Slow(i=i) for i in range(4)]

    def run(self) -> None:
        self.dump(', '.join(self.load()))


if __name__ == '__main__':
    mode, MARKERS = sys.argv[1], sys.argv[2]
    if mode == 'run':
        gokart.run(['Root', '--local-scheduler', '--workers=3', '--no-lock'])
    if mode == 'run2':  # gokart.run with 2 workers and any further arguments given after the markers' directory
        gokart.run(['Root', '--local-scheduler', '--workers=2', '--no-lock', *sys.argv[3:]])
    options = {'serial': {'workers': 1}, 'luigi': {'workers': 3, 'executor': 'luigi'}}.get(mode, {'workers': 3})
    value = gokart.build(Root(), **options)
    assert value == 'value 0, value 1, value 2, value 3', value
