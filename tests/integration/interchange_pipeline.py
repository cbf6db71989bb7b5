"""A pipeline built by gokart 1.12.2 and by this gokart on one S3 workspace in the interchange test.

    python interchange_pipeline.py COUNTER_FILE

Runs in either interpreter, so it uses only the public API both share. Each run() appends its task
name to COUNTER_FILE; the workspace comes from ``LUIGI_CONFIG_PATH``.
"""

from __future__ import annotations

import sys

import luigi
import pandas as pd

import gokart

COUNTER_FILE = ''


def record(name: str) -> None:
    if COUNTER_FILE:
        with open(COUNTER_FILE, 'a') as f:
            f.write(name + '\n')


class Frame(gokart.TaskOnKart):
    __module__ = 'interchange_pipeline'
    extension = luigi.Parameter()

    def output(self):
        return self.make_target(f'frames/frame{self.extension}')

    def run(self):
        record(f'Frame{self.extension}')
        self.dump(pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']}))


class Text(gokart.TaskOnKart):
    __module__ = 'interchange_pipeline'

    def output(self):
        return self.make_target('text/lines.txt')

    def run(self):
        record('Text')
        self.dump(['one', 'two'])


class Summary(gokart.TaskOnKart):
    __module__ = 'interchange_pipeline'

    def requires(self):
        return dict(pkl=Frame(extension='.pkl'), csv=Frame(extension='.csv'), parquet=Frame(extension='.parquet'), text=Text())

    def run(self):
        record('Summary')
        frames = self.load()
        self.dump({name: len(value) for name, value in frames.items()})


EXPECTED = {'pkl': 3, 'csv': 3, 'parquet': 3, 'text': 2}

if __name__ == '__main__':
    COUNTER_FILE = sys.argv[1]
    result = gokart.build(Summary(), reset_register=False)
    assert result == EXPECTED, result
    for key, task in Summary().requires().items():  # every output loads, whoever wrote it
        assert len(task.output().load()) == EXPECTED[key], key
