"""gokart's control flow where a test or a command line tells it apart: run by ours or by gokart 1.12.2.

    python tests/compat/flow_cases.py command-line     # what gokart.run raises or exits with, per command line
    python tests/compat/flow_cases.py luigi-build      # how gokart.build calls a replaced luigi.build, and what it makes of each status
    python tests/compat/flow_cases.py script ARGS...   # gokart.run(ARGS) as a script's main, for its exit code

Prints one JSON object; ``test_flow_1_12.py`` compares ours with 1.12's. Only names gokart 1.12.2 has are used.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from typing import Any
from unittest import mock

import luigi
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode

import gokart


class Count(gokart.TaskOnKart):
    x = luigi.IntParameter(default=1)

    def run(self):
        self.dump(self.x)


class Needs(gokart.TaskOnKart):
    y = luigi.IntParameter()
    day = luigi.DateParameter(default=None)

    def run(self):
        self.dump(self.y)


class Up(gokart.TaskOnKart):
    z = luigi.IntParameter()

    def run(self):
        self.dump(self.z)


class Down(gokart.TaskOnKart):
    def requires(self):
        return Up()

    def run(self):
        self.dump(self.load())


class WritesNothing(gokart.TaskOnKart):
    def run(self):
        pass


class HasNoRun(gokart.TaskOnKart):
    pass


COMMAND_LINES = {
    'root bad value --x': ['Count', '--x', 'abc'],
    'root bad value --Count-x': ['Count', '--Count-x', 'abc'],
    'root bad date': ['Needs', '--y', '1', '--day', 'notadate'],
    'root missing parameter': ['Needs'],
    'upstream missing parameter': ['Down'],
    'upstream bad value': ['Down', '--Up-z', 'q'],
    'bad value of a task not built': ['Count', '--Up-z', 'q'],
    'unknown task': ['NoSuchTask'],
    'unknown flag': ['Count', '--no-such-flag', '1'],
    'run() writes nothing': ['WritesNothing'],
    'no run()': ['HasNoRun'],
    'run() writes nothing, 2 workers': ['WritesNothing', '--workers', '2'],
}


def _kinds(error: BaseException) -> list[str]:
    return [f'{k.__module__}.{k.__qualname__}' for k in type(error).__mro__ if k not in (BaseException, object)]


def command_line_outcomes() -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    for name, args in COMMAND_LINES.items():
        try:
            gokart.run([*args, '--local-scheduler', '--no-lock'])
            outcomes[name] = {'returned': True}
        except SystemExit as e:
            outcomes[name] = {'exit': e.code}
        except Exception as e:
            outcomes[name] = {'type': _kinds(e)[0], 'bases': _kinds(e), 'message': str(e)}
    return outcomes


def _fake_luigi_build(status: LuigiStatusCode, calls: list[Any]) -> Any:
    def fake_build(*args: Any, **kwargs: Any) -> Any:
        shown = {k: type(v).__name__ if k == 'worker_scheduler_factory' else v for k, v in kwargs.items()}
        calls.append({'args': [[type(t).__name__ for t in a] for a in args], 'kwargs': list(shown.items())})
        result = mock.MagicMock(spec=LuigiRunResult)
        result.status = status
        result.summary_text = f'summary: {status.name}'
        return result

    return fake_build


def luigi_build_outcomes() -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    extras: dict[str, dict[str, Any]] = {
        '': {},
        'workers=2': {'workers': 2},
        'log_level=INFO, return_value=False': {'log_level': logging.INFO, 'return_value': False},
    }
    for status in LuigiStatusCode:
        for label, extra in extras.items():
            calls: list[Any] = []
            with mock.patch('luigi.build', side_effect=_fake_luigi_build(status, calls)):
                try:
                    returned = gokart.build(Count(x=7), reset_register=False, **extra)
                    outcome: dict[str, Any] = {'returned': repr(returned)}
                except Exception as e:
                    outcome = {'type': _kinds(e)[0], 'bases': _kinds(e)}
            outcome['calls'] = calls
            outcomes[f'{status.name} {label}'.strip()] = outcome
    return outcomes


def main(argv: list[str]) -> None:
    os.chdir(tempfile.mkdtemp(prefix='flow-'))
    if argv[0] == 'script':
        gokart.run(argv[1:])
    elif argv[0] == 'command-line':
        print(json.dumps(command_line_outcomes(), indent=1, sort_keys=True))
    elif argv[0] == 'luigi-build':
        print(json.dumps(luigi_build_outcomes(), indent=1, sort_keys=True))
    else:
        raise SystemExit(f'unknown mode {argv[0]!r}')


if __name__ == '__main__':
    main(sys.argv[1:])
