"""Properties of unique ids over generated parameter values.

- The id of a task is the same in another process (with another hash seed), so caches are shared.
- A task restored from its run record (``TaskOnKart.restore``) has the same id and parameters.
- Two tasks whose significant parameters differ never share an output path.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from typing import Any

import luigi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gokart

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(gokart.__file__)))


class Upstream(gokart.TaskOnKart[int]):
    task_namespace = 'test_identity_properties'
    seed = luigi.IntParameter(default=0)

    def run(self) -> None:
        self.dump(self.seed)


class Configured(gokart.TaskOnKart[str]):
    task_namespace = 'test_identity_properties'
    number = luigi.IntParameter(default=0)
    ratio = luigi.FloatParameter(default=0.0)
    name = luigi.Parameter(default='')
    flag = luigi.BoolParameter(default=False)
    day = luigi.DateParameter(default=datetime.date(2020, 1, 1))
    values = luigi.ListParameter(default=[])
    options = luigi.DictParameter(default={})
    upstream = gokart.TaskInstanceParameter(default=Upstream())
    note = luigi.Parameter(default='', significant=False)

    def run(self) -> None:
        self.dump(self.name)


# The same definitions, for the other process.
_CHILD = """
import datetime, json, sys
import luigi, gokart

class Upstream(gokart.TaskOnKart):
    task_namespace = 'test_identity_properties'
    seed = luigi.IntParameter(default=0)

class Configured(gokart.TaskOnKart):
    task_namespace = 'test_identity_properties'
    number = luigi.IntParameter(default=0)
    ratio = luigi.FloatParameter(default=0.0)
    name = luigi.Parameter(default='')
    flag = luigi.BoolParameter(default=False)
    day = luigi.DateParameter(default=datetime.date(2020, 1, 1))
    values = luigi.ListParameter(default=[])
    options = luigi.DictParameter(default={})
    upstream = gokart.TaskInstanceParameter(default=Upstream())
    note = luigi.Parameter(default='', significant=False)

for line in sys.stdin:
    kwargs = json.loads(line)
    kwargs['day'] = datetime.date.fromisoformat(kwargs['day'])
    kwargs['upstream'] = Upstream(seed=kwargs.pop('upstream_seed'))
    print(Configured(**kwargs).make_unique_id(), flush=True)
"""

_text = st.text(st.characters(blacklist_categories=('Cs',)), max_size=20)
_json_scalar = st.one_of(st.integers(-(10**6), 10**6), _text, st.booleans())

parameter_values = st.fixed_dictionaries(
    {
        'number': st.integers(-(2**40), 2**40),
        'ratio': st.floats(allow_nan=False, allow_infinity=False, width=64),
        'name': _text,
        'flag': st.booleans(),
        'day': st.dates(datetime.date(1900, 1, 1), datetime.date(2200, 1, 1)),
        'values': st.lists(st.integers(-1000, 1000), max_size=5),
        'options': st.dictionaries(_text, _json_scalar, max_size=4),
        'upstream_seed': st.integers(0, 3),
        'note': _text,
    }
)


def _task(values: dict[str, Any]) -> Configured:
    kwargs = dict(values)
    kwargs['upstream'] = Upstream(seed=kwargs.pop('upstream_seed'))
    return Configured(**kwargs)


def _significant(values: dict[str, Any]) -> dict[str, Any]:
    significant = {k: v for k, v in values.items() if k != 'note'}
    significant['ratio'] = significant['ratio'] + 0.0  # -0.0 == 0.0 is the same value
    # Like luigi (and gokart 1.12), a dict parameter is serialized in its key order.
    significant['options'] = list(significant['options'].items())
    return significant


@pytest.fixture(scope='module')
def other_process():
    child = subprocess.Popen(
        [sys.executable, '-c', _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, 'PYTHONPATH': REPOSITORY, 'PYTHONHASHSEED': '12345'},
    )
    yield child
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=60)


def _id_in(child: subprocess.Popen[str], values: dict[str, Any]) -> str:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps({**values, 'day': values['day'].isoformat()}) + '\n')
    child.stdin.flush()
    return child.stdout.readline().strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=parameter_values)
def test_the_unique_id_is_the_same_in_another_process(other_process, values):
    assert _id_in(other_process, values) == _task(values).make_unique_id()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=parameter_values)
def test_a_restored_task_has_the_same_id_and_parameters(values):
    task = _task(values)
    gokart.build(task, reset_register=False)
    restored = Configured.restore(task.make_unique_id())
    assert restored.make_unique_id() == task.make_unique_id()
    assert restored.output().path() == task.output().path()
    assert restored.to_str_params(only_significant=True) == task.to_str_params(only_significant=True)


@settings(max_examples=300, deadline=None)
@given(first=parameter_values, second=parameter_values)
def test_different_significant_parameters_never_share_an_output_path(first, second):
    same_significant = _significant(first) == _significant(second)
    assert (_task(first).output().path() == _task(second).output().path()) == same_significant


@settings(max_examples=100, deadline=None)
@given(values=parameter_values, note=_text)
def test_insignificant_parameters_do_not_change_the_output_path(values, note):
    assert _task(values).output().path() == _task({**values, 'note': note}).output().path()
