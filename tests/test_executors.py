"""gokart.execution.executors: executors chosen by name through one registry; one rule for exit codes."""

from types import SimpleNamespace

import luigi
import pytest

import gokart
from gokart.errors import GokartBuildError, GokartError
from gokart.execution import executors
from gokart.execution.local import plan_roots, run_task
from gokart.execution.scheduling import BuildOutcome, ReadySet


class Recording:
    """Runs ready tasks newest first in this process, and records what it was asked to do."""

    def __init__(self):
        self.calls = []

    def execute(self, roots, listener, options):
        self.calls.append(options.get('workers'))
        plan = plan_roots(roots)
        outcome = BuildOutcome(plan=plan)
        tasks = ReadySet(plan, outcome, listener)
        while tasks.ready:
            index = tasks.ready.pop()
            try:
                run_task(plan.tasks[index].task)
            except Exception as error:
                tasks.finish(index, error)
            else:
                tasks.finish(index, None)
        tasks.settle()
        return outcome


@pytest.fixture
def recording(monkeypatch):
    monkeypatch.setattr(executors, '_executors', dict(executors._executors))
    executor = Recording()
    executors.register_executor('recording', executor)
    return executor


class Leaf(gokart.TaskOnKart[int]):
    n = luigi.IntParameter()

    def run(self):
        self.dump(self.n)


class Fails(gokart.TaskOnKart[int]):
    def run(self):
        raise ValueError('broken on purpose')


class SumOf(gokart.TaskOnKart[int]):
    fail = luigi.BoolParameter(default=False)

    def requires(self):
        return [Leaf(n=1), Leaf(n=2), Fails()] if self.fail else [Leaf(n=1), Leaf(n=2)]

    def run(self):
        self.dump(sum(self.load()))


def test_a_registered_executor_builds_by_name_and_gets_the_builds_options(recording):
    assert gokart.build(SumOf(), executor='recording', workers=3) == 3
    assert recording.calls == [3]


def test_the_environment_names_a_registered_executor_and_failures_raise_as_on_every_executor(recording, monkeypatch):
    monkeypatch.setenv('GOKART_EXECUTOR', 'recording')
    with pytest.raises(GokartBuildError, match='broken on purpose') as raised:
        gokart.build(SumOf(fail=True))
    assert recording.calls == [None]
    assert [type(e) for es in raised.value.raised_exceptions.values() for e in es] == [ValueError]
    assert Leaf(n=1).complete()  # an independent branch still ran


def test_an_unknown_executor_names_the_registered_ones():
    with pytest.raises(GokartError, match=r"no executor is registered as 'nope': use one of dask, gokart, local, luigi"):
        gokart.build(Leaf(n=1), executor='nope')


def test_gokart_run_exits_with_the_same_codes_on_a_registered_executor(recording):
    for root, expected in (('SumOf', 0), ('Fails', 40)):
        with pytest.raises(SystemExit) as exited:
            gokart.run([root, '--local-scheduler', '--executor', 'recording'])
        assert exited.value.code == expected, root
    assert len(recording.calls) == 2


def test_exit_codes_follow_luigis_rule_of_the_largest_code():
    codes = SimpleNamespace(missing_data=20, not_run=30, task_failed=40, already_running=10, scheduling_error=50)  # gokart.run's
    assert executors.exit_code(set(), codes) == 0
    assert executors.exit_code({'failed', 'still_pending_ext'}, codes) == 40
    assert executors.exit_code({'still_pending_ext', 'not_run'}, codes) == 30
    assert executors.exit_code({'run_by_other_worker', 'scheduling_error'}, codes) == 50
