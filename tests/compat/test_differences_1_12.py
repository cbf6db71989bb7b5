"""Behaviours where gokart 1.12.2 and this gokart once differed, pinned to 1.12's behaviour."""

from __future__ import annotations

from unittest import mock

import luigi
import pytest
from luigi.cmdline_parser import CmdlineParser
from luigi.parameter import MissingParameterException

import gokart
from gokart.errors import GokartBuildError, GokartError, LockConfigurationError


@pytest.fixture(params=['gokart', 'luigi'])
def executor(request, monkeypatch):
    monkeypatch.setenv('GOKART_EXECUTOR', request.param)
    return request.param


# ----- ExplicitBoolParameter without a default is required -------------------------------------
class CompatNeedsFlag(gokart.TaskOnKart):
    flag = gokart.ExplicitBoolParameter()


def test_explicit_bool_parameter_without_default_is_required_by_the_constructor():
    with pytest.raises(MissingParameterException, match='flag'):
        CompatNeedsFlag()
    assert CompatNeedsFlag(flag=False).flag is False
    assert CompatNeedsFlag(flag=True).flag is True


def test_explicit_bool_parameter_without_default_is_required_on_the_command_line():
    with pytest.raises(MissingParameterException, match='flag'):
        with CmdlineParser.global_instance(['CompatNeedsFlag']) as parser:
            parser.get_task_obj()
    with CmdlineParser.global_instance(['CompatNeedsFlag', '--flag', 'true']) as parser:
        assert parser.get_task_obj().flag is True


def test_explicit_bool_parameter_keeps_a_given_default():
    class CompatDefaultsTrue(gokart.TaskOnKart):
        flag = gokart.ExplicitBoolParameter(default=True)

    assert CompatDefaultsTrue().flag is True


# ----- task-instance parameters refuse a non-class expected type --------------------------------
@pytest.mark.parametrize('expected', ['TaskOnKart', 1, gokart.TaskOnKart[int]])
def test_task_instance_parameters_refuse_an_expected_type_that_is_not_a_class(expected):
    with pytest.raises(TypeError, match='expected_type'):
        gokart.TaskInstanceParameter(expected_type=expected)
    with pytest.raises(TypeError, match='expected_elements_type'):
        gokart.ListTaskInstanceParameter(expected_elements_type=expected)


def test_task_instance_parameters_accept_a_class_or_none():
    class CompatUpstream(gokart.TaskOnKart):
        pass

    assert gokart.TaskInstanceParameter(expected_type=CompatUpstream).expected_type is CompatUpstream
    assert gokart.ListTaskInstanceParameter(expected_elements_type=None).expected_elements_type is gokart.TaskOnKart


# ----- lock configuration errors are AssertionErrors, as gokart 1.12 raised ------------------------
class CompatLocked(gokart.TaskOnKart):
    def output(self):
        return self.make_target('locked.pkl')


@pytest.mark.parametrize(
    ('kwargs', 'named'),
    [
        ({'should_lock_run': True}, 'redis_host and redis_port are not set'),
        ({'should_lock_run': True, 'redis_host': 'localhost'}, 'redis_port is not set'),
    ],
)
def test_should_lock_run_without_redis_is_an_assertion_error_naming_the_setting(kwargs, named):
    with pytest.raises(AssertionError, match=named) as raised:
        CompatLocked(**kwargs)
    assert isinstance(raised.value, GokartError)
    assert isinstance(raised.value, LockConfigurationError)
    assert 'CompatLocked[' in str(raised.value)


def test_too_short_redis_timeout_is_an_assertion_error_from_output_and_make_target():
    task = CompatLocked(redis_host='localhost', redis_port=6379, redis_timeout=5)
    with pytest.raises(AssertionError, match='redis_timeout') as raised:
        task.output()
    assert isinstance(raised.value, GokartError)
    with pytest.raises(LockConfigurationError, match='redis_timeout'):
        task.make_target('other.pkl')
    with pytest.raises(LockConfigurationError, match='redis_timeout'):
        CompatLocked(should_lock_run=True, redis_host='localhost', redis_port=6379, redis_timeout=5)


@pytest.mark.filterwarnings('ignore::gokart.errors.NothingDumpedWarning')  # CompatLocked has no run()
def test_too_short_redis_timeout_fails_the_build_without_redis_locking_too(executor):
    # gokart 1.12 checks redis_timeout whether or not redis_host and redis_port are set.
    task = CompatLocked(redis_timeout=5)
    with pytest.raises(AssertionError, match=r'redis_timeout \(5\) must be greater .* even without redis_host and redis_port'):
        task.output()
    with pytest.raises(GokartBuildError):
        gokart.build(task, reset_register=False, log_level=luigi.interface.logging.CRITICAL)
    assert gokart.build(CompatLocked(redis_timeout=11), reset_register=False, return_value=False) is None


# ----- a replaced parameter attribute applies to new instances --------------------------------------
def test_replacing_a_parameter_after_first_use_applies_to_new_instances_and_subclasses():
    class CompatReplacedBase(gokart.TaskOnKart):
        size = luigi.IntParameter(default=1)

    class CompatReplacedChild(CompatReplacedBase):
        pass

    first_id = CompatReplacedBase().make_unique_id()
    assert (CompatReplacedBase().size, CompatReplacedChild().size) == (1, 1)

    CompatReplacedBase.size = luigi.IntParameter(default=2)
    assert (CompatReplacedBase().size, CompatReplacedChild().size) == (2, 2)
    assert CompatReplacedBase().make_unique_id() != first_id

    CompatReplacedBase.extra = luigi.Parameter(default='x')
    assert CompatReplacedChild().extra == 'x'
    assert CompatReplacedBase().to_str_params()['extra'] == 'x'

    del CompatReplacedBase.extra
    assert 'extra' not in CompatReplacedBase().param_kwargs

    with mock.patch.object(CompatReplacedBase, 'size', luigi.IntParameter(default=3)):
        assert CompatReplacedChild().size == 3
    assert CompatReplacedChild().size == 2

    CompatReplacedBase.size = luigi.IntParameter()
    with pytest.raises(MissingParameterException, match='size'):
        CompatReplacedBase()


# ----- [gokart_worker] task_completion_check_at_run, on both executors ----------------------------
_ran: list[str] = []


class CompatWritesLateOutput(gokart.TaskOnKart):
    def run(self):
        # The downstream task's output appears after the DAG was planned.
        CompatLateOutput(complete_check_at_run=False).output().dump('written upstream')
        self.dump('upstream')


class CompatLateOutput(gokart.TaskOnKart):
    def requires(self):
        return CompatWritesLateOutput()

    def run(self):
        _ran.append('CompatLateOutput')
        self.dump('downstream')


def _events_of(task_class: type) -> list[str]:
    seen: list[str] = []
    for event in (luigi.Event.START, luigi.Event.SUCCESS):
        task_class.event_handler(event)(lambda task, *args, event=event: seen.append(event))
    return seen


def test_a_task_whose_output_appeared_after_planning_is_not_run_again(executor):
    _ran.clear()
    assert gokart.build(CompatLateOutput(complete_check_at_run=False), reset_register=False) == 'written upstream'
    assert _ran == []


def test_task_completion_check_at_run_false_runs_it_anyway(executor):
    _ran.clear()
    luigi.configuration.get_config().set('gokart_worker', 'task_completion_check_at_run', 'false')
    assert gokart.build(CompatLateOutput(complete_check_at_run=False), reset_register=False) == 'downstream'
    assert _ran == ['CompatLateOutput']


def test_a_skipped_task_still_fires_start_and_success():
    class CompatWatched(CompatLateOutput):
        pass

    seen = _events_of(CompatWatched)
    _ran.clear()
    task = CompatWatched(complete_check_at_run=False)
    task.output().dump('already there')
    from gokart.execution.local import run_task

    run_task(task)
    assert _ran == []
    assert seen == [luigi.Event.START, luigi.Event.SUCCESS]


# ----- complete_check_at_run binds complete() at construction ------------------------------------
def test_replacing_complete_on_an_instance_does_not_change_what_run_does():
    class CompatCounts(gokart.TaskOnKart):
        def run(self):
            _ran.append('CompatCounts')
            self.dump(1)

    _ran.clear()
    task = CompatCounts()
    task.complete = mock.MagicMock(return_value=True)  # a test driving its own loop, as kannon's do
    task.run()
    assert _ran == ['CompatCounts']
    task.complete.assert_not_called()
