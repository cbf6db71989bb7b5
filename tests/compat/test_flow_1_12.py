"""gokart 1.12's control flow is kept where ours says more: exception types, exit codes, build outcomes, call arguments.

The tests without the reference pin what a user relies on; the cross-checks run ``flow_cases.py`` and
``misuse_sweep.py`` under gokart 1.12.2 too (skipped without it, see tests/reference_python.py) and
require ours to raise 1.12's exception type or a subclass of it in every case.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode
from luigi.worker import TaskException

import gokart
from gokart.errors import GokartBuildError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from reference_python import reference_python  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.dirname(os.path.dirname(HERE))


class FlowLeaf(gokart.TaskOnKart[int]):
    def run(self):
        self.dump(1)


class FlowHolder(gokart.TaskOnKart[int]):
    upstream = gokart.TaskInstanceParameter()


# ----- a replaced luigi.build is called, and its status read, as gokart 1.12 does -----------------
def _fake_build(status: LuigiStatusCode) -> mock.MagicMock:
    result = mock.MagicMock(spec=LuigiRunResult)
    result.status = status
    result.summary_text = f'the simulated summary: {status.name}'
    return mock.MagicMock(return_value=result)


@pytest.mark.parametrize(
    'status', [LuigiStatusCode.FAILED, LuigiStatusCode.SCHEDULING_FAILED, LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED]
)
def test_a_replaced_luigi_build_reporting_failure_fails_the_build(status):
    fake = _fake_build(status)
    with mock.patch('luigi.build', fake):
        with pytest.raises(GokartBuildError, match=f'the simulated summary: {status.name}'):
            gokart.build(FlowLeaf(), reset_register=False)
    assert not FlowLeaf().complete()  # the simulated scheduler ran nothing
    (tasks,), arguments = fake.call_args
    assert [type(t) for t in tasks] == [FlowLeaf]
    assert list(arguments) == ['worker_scheduler_factory', 'local_scheduler', 'detailed_summary', 'log_level']
    assert isinstance(arguments['worker_scheduler_factory'], gokart.WorkerSchedulerFactory)
    assert (arguments['local_scheduler'], arguments['detailed_summary'], arguments['log_level']) == (True, True, 'ERROR')


@pytest.mark.parametrize('status', [LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY])
def test_a_replaced_luigi_build_reporting_success_returns_the_output(status):
    gokart.build(FlowLeaf(), reset_register=False)  # the real build writes the output the simulated one then returns
    fake = _fake_build(status)
    with mock.patch('luigi.build', fake):
        assert gokart.build(FlowLeaf(), reset_register=False, workers=2, log_level=logging.INFO) == 1
        assert gokart.build(FlowLeaf(), reset_register=False, return_value=False) is None
    first, second = fake.call_args_list
    assert (first.kwargs['workers'], first.kwargs['log_level']) == (2, 'INFO')
    assert 'workers' not in second.kwargs and second.kwargs['log_level'] == 'ERROR'


def test_luigi_build_put_back_runs_our_executor_again():
    with mock.patch('luigi.build', _fake_build(LuigiStatusCode.FAILED)):
        pass
    assert gokart.build(FlowLeaf(), reset_register=False) == 1


# ----- misuse raises 1.12's exception type, with a message naming the mistake and the fix ------------
@pytest.mark.parametrize(
    ('given', 'named'),
    [
        (FlowLeaf, r'got the class FlowLeaf: pass FlowLeaf\(\.\.\.\) instead'),
        ([FlowLeaf()], r'builds one task, but got a list .*requires\(\) returns them'),
        (None, r'needs a task instance, but got None'),
    ],
)
def test_build_of_something_else_than_a_task_raises_luigis_task_exception(given, named):
    with pytest.raises(TaskException, match=named):
        gokart.build(given, reset_register=False)


@pytest.mark.parametrize('given', [None, FlowLeaf, 'FlowLeaf', [FlowLeaf()]])
def test_a_task_instance_parameter_refuses_what_is_not_a_task_with_a_type_error(given):
    # A class is named with the call that makes an instance of it (issue 31); anything else is told to pass one.
    expected_advice = r'pass FlowLeaf\(\.\.\.\)' if given is FlowLeaf else 'pass a task instance'
    with pytest.raises(TypeError, match=rf"FlowHolder: the parameter 'upstream' cannot take .*{expected_advice}"):
        FlowHolder(upstream=given)


def test_make_target_refuses_a_path_that_is_no_text_with_a_type_error_and_takes_a_pathlib_path():
    import pathlib

    with pytest.raises(TypeError, match=r'make_target\(\) needs the output path .* got 1 \(a int\)'):
        FlowLeaf().make_target(1)
    assert FlowLeaf().make_target(pathlib.Path('sub/x.pkl')).path() == FlowLeaf().make_target('sub/x.pkl').path()


# ----- the same calls under gokart 1.12.2 -------------------------------------------------------------
def _run(python: str, script: str, *args: str, ours: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    if ours:
        env['PYTHONPATH'] = OURS
    done = subprocess.run([python, os.path.join(HERE, script), *args], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _name(kind: str) -> str:
    # gokart 1.12 defined some of its errors where it raised them (gokart.build.GokartBuildError); ours live in gokart.errors.
    return 'gokart.' + kind.rsplit('.', 1)[-1] if kind.startswith('gokart.') else kind


def _differences(reference: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    found = []
    for case, expected in reference.items():
        got = ours.get(case)
        if expected is None or got is None:
            if expected != got:
                found.append(f'{case}: 1.12 {expected}, ours {got}')
            continue
        if 'type' in expected and ('type' not in got or _name(expected['type']) not in {_name(k) for k in got['bases']}):
            found.append(f'{case}: 1.12 raised {expected["type"]}, ours {got.get("type", got)}')
        rest = {k: v for k, v in expected.items() if k not in ('type', 'bases', 'message')}
        if rest != {k: v for k, v in got.items() if k not in ('type', 'bases', 'message')}:
            found.append(f'{case}: 1.12 {rest}, ours {got}')
    return found


@pytest.fixture(scope='module')
def reference() -> str:
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    return python


@pytest.mark.parametrize(
    ('script', 'mode'), [('misuse_sweep.py', None), ('flow_cases.py', 'command-line'), ('flow_cases.py', 'luigi-build')]
)
def test_ours_raises_what_gokart_1_12_raises(reference, script, mode):
    args = [mode] if mode else []
    expected = _run(reference, script, *args, ours=False)
    got = _run(sys.executable, script, *args, ours=True)
    assert _differences(expected, got) == []
