"""Build small DAGs and print, as JSON, every log record gokart and luigi emitted (issue 30, logs like 1.12's).

Usage: ``python log_records_driver.py MODE LEVEL`` in an empty directory. MODE is ``build``
(``gokart.build(root, log_level=LEVEL)``) or ``run`` (``gokart.run([root, '--local-scheduler', '--no-lock',
'--log-level=LEVEL'])``). Each shape is built in a workspace directory of its own, one after the
other in this process: a chain, a fan-in, a chain whose middle task fails, and the first chain
again (its root cached). The same script runs under our interpreter and under gokart 1.12.2's, so
it uses only their public API. The root logger takes every record (DEBUG), as a pipeline shipping
gokart's records sets it up; a record is (logger, level, message).
"""

from __future__ import annotations

import json
import logging
import os
import sys

import luigi

import gokart

SHAPES = (('chain', 'chain'), ('fan_in', 'fan_in'), ('failing', 'failing'), ('cached', 'chain'))  # (shape, its directory)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.name, record.levelname, record.getMessage()])


class Leaf(gokart.TaskOnKart[str]):
    task_namespace = 'logs'
    i = luigi.IntParameter(default=0)

    def run(self) -> None:
        self.dump(f'leaf {self.i}')


class Middle(gokart.TaskOnKart[str]):
    task_namespace = 'logs'
    fail = luigi.BoolParameter(default=False)

    def requires(self) -> Leaf:
        return Leaf()

    def run(self) -> None:
        if self.fail:
            raise ValueError('the middle task fails')
        self.dump(self.load() + ' middle')


class Chain(gokart.TaskOnKart[str]):
    task_namespace = 'logs'
    fail = luigi.BoolParameter(default=False)

    def requires(self) -> Middle:
        return Middle(fail=self.fail)

    def run(self) -> None:
        self.dump(self.load() + ' chain')


class FanIn(gokart.TaskOnKart[str]):
    task_namespace = 'logs'

    def requires(self) -> list[Leaf]:
        return [Leaf(i=i) for i in range(3)]

    def run(self) -> None:
        self.dump(', '.join(self.load()))


def build(shape: str, level: str) -> str:
    root = {'fan_in': FanIn(), 'failing': Chain(fail=True)}.get(shape, Chain())
    try:
        gokart.build(root, log_level=getattr(logging, level), reset_register=False)
    except Exception as error:
        return type(error).__name__
    return 'ok'


def run(shape: str, level: str) -> str:
    root = {'fan_in': ['logs.FanIn'], 'failing': ['logs.Chain', '--fail']}.get(shape, ['logs.Chain'])
    try:
        gokart.run([*root, '--local-scheduler', '--no-lock', f'--log-level={level}'])  # several runs in one process
    except SystemExit as exit:
        return f'exit {exit.code}'
    return 'returned'


def main(mode: str, level: str) -> None:
    recorder = Recorder()
    root_logger = logging.getLogger()
    root_logger.setLevel(logging.DEBUG)
    root_logger.addHandler(recorder)
    home = os.getcwd()
    found = {}
    for shape, directory in SHAPES:
        os.makedirs(os.path.join(home, directory), exist_ok=True)
        os.chdir(os.path.join(home, directory))
        luigi.task_register.Register.clear_instance_cache()
        recorder.records = []
        outcome = build(shape, level) if mode == 'build' else run(shape, level)
        found[shape] = {'outcome': outcome, 'records': recorder.records}
    root_logger.removeHandler(recorder)
    json.dump(found, sys.stdout)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
