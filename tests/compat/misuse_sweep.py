"""A new user's mistakes at gokart's public entry points, and what each one raises.

Run by either interpreter (ours, or the one with gokart 1.12.2 installed), it tries every case in one
process and prints one JSON object: for each case the exception's class, the classes it derives
from, and its message (or ``null`` when the call succeeds). ``test_misuse_1_12.py`` compares the two.

    python tests/compat/misuse_sweep.py [CASE ...]

It must only use names gokart 1.12.2 has, so the same file runs against both.
"""

from __future__ import annotations

import datetime
import enum
import json
import logging
import os
import pathlib
import signal
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import luigi

import gokart


class Color(enum.Enum):
    RED = 1


class Leaf(gokart.TaskOnKart):
    task_namespace = 'misuse'

    def run(self):
        self.dump(1)


class OtherLeaf(gokart.TaskOnKart):
    task_namespace = 'misuse'

    def run(self):
        self.dump(2)


class PlainLuigi(luigi.Task):
    task_namespace = 'misuse'


class HoldsTask(gokart.TaskOnKart):
    task_namespace = 'misuse'
    upstream = gokart.TaskInstanceParameter()


class HoldsLeaf(gokart.TaskOnKart):
    task_namespace = 'misuse'
    upstream = gokart.TaskInstanceParameter(expected_type=Leaf)


class HoldsTasks(gokart.TaskOnKart):
    task_namespace = 'misuse'
    upstreams = gokart.ListTaskInstanceParameter()


class Needs(gokart.TaskOnKart):
    task_namespace = 'misuse'
    size = luigi.IntParameter()


def _task_with(parameter: luigi.Parameter) -> type:
    return type(f'With{type(parameter).__name__}', (gokart.TaskOnKart,), {'task_namespace': 'misuse', 'value': parameter})


WITH = {
    'int': _task_with(luigi.IntParameter(default=1)),
    'float': _task_with(luigi.FloatParameter(default=1.0)),
    'bool': _task_with(luigi.BoolParameter(default=False)),
    'date': _task_with(luigi.DateParameter(default=datetime.date(2020, 1, 1))),
    'dict': _task_with(luigi.DictParameter(default={})),
    'list': _task_with(luigi.ListParameter(default=[])),
    'tuple': _task_with(luigi.TupleParameter(default=())),
    'enum': _task_with(luigi.EnumParameter(enum=Color, default=Color.RED)),
    'choice': _task_with(luigi.ChoiceParameter(choices=['a', 'b'], default='a')),
    'numerical': _task_with(luigi.NumericalParameter(var_type=int, min_value=0, max_value=10, default=1)),
    'path': _task_with(luigi.PathParameter(default='.')),
}

# A value of the wrong kind for each parameter kind (a string that does not parse, None, a container, a number).
WRONG_VALUES: dict[str, list[Any]] = {
    'int': ['abc', None, [1], 1.5],
    'float': ['abc', None, [1.0]],
    'bool': ['yes', None, [True]],
    'date': ['2020-01-01', None, 20200101],
    'dict': ['{"a": 1}', None, [1], 1],
    'list': ['abc', None, 1],
    'tuple': ['abc', None, 1],
    'enum': ['RED', None, 1],
    'choice': ['c', None, 1],
    'numerical': [11, 'abc', None],
    'path': [None, 1],
}


def _build(task: Any, **kwargs: Any) -> Any:
    return gokart.build(task, reset_register=False, log_level=logging.CRITICAL, **kwargs)


def _cases() -> dict[str, Callable[[], Any]]:
    cases: dict[str, Callable[[], Any]] = {
        # gokart.build given something else than a task instance
        'build(class)': lambda: _build(Leaf),
        'build([task])': lambda: _build([Leaf()]),
        'build((task,))': lambda: _build((Leaf(),)),
        'build({key: task})': lambda: _build({'a': Leaf()}),
        'build(None)': lambda: _build(None),
        'build(str)': lambda: _build('Leaf'),
        'build(int)': lambda: _build(1),
        'build(class, return_value=False)': lambda: _build(Leaf, return_value=False),
        'build([task], return_value=False)': lambda: _build([Leaf()], return_value=False),
        # task-instance parameters given something else than a task
        'TaskInstanceParameter=None': lambda: HoldsTask(upstream=None),
        'TaskInstanceParameter=class': lambda: HoldsTask(upstream=Leaf),
        'TaskInstanceParameter=str': lambda: HoldsTask(upstream='Leaf'),
        'TaskInstanceParameter=int': lambda: HoldsTask(upstream=1),
        'TaskInstanceParameter=[task]': lambda: HoldsTask(upstream=[Leaf()]),
        'TaskInstanceParameter=plain luigi task': lambda: HoldsTask(upstream=PlainLuigi()),
        'TaskInstanceParameter=wrong task type': lambda: HoldsLeaf(upstream=OtherLeaf()),
        'TaskInstanceParameter missing': lambda: HoldsTask(),
        'ListTaskInstanceParameter=None': lambda: HoldsTasks(upstreams=None),
        'ListTaskInstanceParameter=task': lambda: HoldsTasks(upstreams=Leaf()),
        'ListTaskInstanceParameter=[class]': lambda: HoldsTasks(upstreams=[Leaf]),
        'ListTaskInstanceParameter=[None]': lambda: HoldsTasks(upstreams=[None]),
        'ListTaskInstanceParameter=[str]': lambda: HoldsTasks(upstreams=['Leaf']),
        'ListTaskInstanceParameter=str': lambda: HoldsTasks(upstreams='Leaf'),
        'ListTaskInstanceParameter=int': lambda: HoldsTasks(upstreams=1),
        # construction
        'missing required parameter': lambda: Needs(),
        'unknown keyword': lambda: Leaf(sise=1),
        # the tree and workspace helpers given a class or None
        'make_task_info_as_tree_str(class)': lambda: gokart.make_task_info_as_tree_str(Leaf),
        'make_task_info_as_tree_str(None)': lambda: gokart.make_task_info_as_tree_str(None),
        'make_task_info_as_tree_str([task])': lambda: gokart.make_task_info_as_tree_str([Leaf()]),
        'make_tree_info(class)': lambda: gokart.make_tree_info(Leaf),
        'delete_local_unnecessary_outputs(class)': lambda: gokart.delete_local_unnecessary_outputs(Leaf),
        'delete_local_unnecessary_outputs(None)': lambda: gokart.delete_local_unnecessary_outputs(None),
        'add_config(missing file)': lambda: gokart.add_config('no_such_config.ini'),
        # targets
        'make_target(None)': lambda: Leaf().make_target(None),
        'make_target(int)': lambda: Leaf().make_target(1),
        'make_target(bytes)': lambda: Leaf().make_target(b'x.pkl'),
        'make_target(Path)': lambda: Leaf().make_target(pathlib.Path('x.pkl')).path(),
        'make_target(unknown extension)': lambda: Leaf().make_target('x.unknownext'),
        'load() without requires': lambda: Leaf().load(),
        'load(class)': lambda: Leaf().load(Leaf),
    }
    for kind, values in WRONG_VALUES.items():
        for value in values:
            cases[f'{kind} parameter={value!r}'] = lambda kind=kind, value=value: WITH[kind](value=value).make_unique_id()
    return cases


def _outcome(call: Callable[[], Any]) -> dict[str, Any] | None:
    def hang(*_: Any) -> None:
        raise TimeoutError('no answer within 60 s')

    signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        call()
    except BaseException as e:  # SystemExit too: it is an answer
        kinds = [f'{k.__module__}.{k.__qualname__}' for k in type(e).__mro__ if k not in (BaseException, object)]
        return {'type': kinds[0], 'bases': kinds, 'message': str(e)}
    finally:
        signal.alarm(0)
    return None


def main(names: list[str]) -> None:
    os.chdir(tempfile.mkdtemp(prefix='misuse-'))
    logging.disable(logging.CRITICAL)
    cases = _cases()
    selected = names or list(cases)
    print(json.dumps({name: _outcome(cases[name]) for name in selected}, indent=1, sort_keys=True))


if __name__ == '__main__':
    main(sys.argv[1:])
