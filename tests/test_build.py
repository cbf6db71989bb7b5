"""gokart.build: return values, failures with every exception, parallel workers, deep chains."""

import os
import time

import luigi
import pytest

import gokart
from gokart.errors import DependencyCycleError, GokartBuildError


class Value(gokart.TaskOnKart[int]):
    n = luigi.IntParameter()

    def run(self):
        self.dump(self.n * 10)


class Fail(gokart.TaskOnKart):
    message = luigi.Parameter()

    def run(self):
        raise ValueError(self.message)


class Gather(gokart.TaskOnKart):
    tasks = gokart.ListTaskInstanceParameter()

    def run(self):
        self.dump(self.load('tasks'))


@pytest.mark.parametrize('workers', [1, 2])
def test_every_failure_is_reported_with_its_task_id(workers):
    failing = [Fail(message='one'), Fail(message='two')]
    with pytest.raises(GokartBuildError) as info:
        gokart.build(Gather(tasks=[*failing, Value(n=1)]), workers=workers)
    raised = info.value.raised_exceptions
    assert set(raised) == {t.make_unique_id() for t in failing}
    assert sorted(str(e) for es in raised.values() for e in es) == ['one', 'two']
    assert 'Fail' in str(info.value)
    # The independent branch still ran.
    assert Value(n=1).complete()


def test_luigi_path_reports_the_failure_too():
    with pytest.raises(GokartBuildError) as info:
        gokart.build(Fail(message='boom'), executor='luigi')
    assert [str(e) for e in info.value.raised_exceptions[Fail(message='boom').make_unique_id()]] == ['boom']


@pytest.mark.parametrize('parallel', ['process', 'thread'])
def test_workers_give_the_same_results_as_one_worker(parallel):
    root = Gather(tasks=[Value(n=i) for i in range(20)])
    assert gokart.build(root, workers=3, parallel=parallel) == [i * 10 for i in range(20)]
    luigi.task_register.Register.clear_instance_cache()
    assert gokart.build(Gather(tasks=[Value(n=i) for i in range(20)]), workers=1) == [i * 10 for i in range(20)]


def test_independent_tasks_run_concurrently_on_processes(tmp_path):
    # Each task signs in and waits (up to 20 s) until a second process has signed in too, so two
    # tasks overlap however slowly a loaded machine forks the workers; a serial build would wait
    # out the deadline and show a single process.
    sign_in = tmp_path / 'sign-in'
    sign_in.mkdir()

    class Overlapping(gokart.TaskOnKart):
        i = luigi.IntParameter()

        def run(self):
            (sign_in / str(os.getpid())).touch()
            deadline = time.monotonic() + 20
            while len(list(sign_in.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.dump(os.getpid())

    results = gokart.build(Gather(tasks=[Overlapping(i=i) for i in range(4)]), workers=4)
    assert len(set(results)) > 1


class PidLink(gokart.TaskOnKart[list]):
    """Link ``n`` of a chain: returns the pid of the process that ran each link, bottom first."""

    n = luigi.IntParameter()

    def requires(self):
        return PidLink(n=self.n - 1) if self.n > 0 else []

    def run(self):
        below = self.load() if self.n > 0 else []
        self.dump([*below, os.getpid()])


class PidOf(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self):
        self.dump(os.getpid())


def test_a_chain_on_workers_runs_here_as_with_one_worker():
    # A chain never has two tasks ready at once: worker processes would only add forks and pipe round trips.
    assert gokart.build(PidLink(n=4), workers=2) == [os.getpid()] * 5


def test_tasks_ready_together_go_to_the_worker_processes():
    pids = gokart.build(Gather(tasks=[PidOf(i=i) for i in range(3)]), workers=2)
    assert os.getpid() not in pids


def test_already_complete_task_is_loaded_not_run():
    runs = []

    class Once(gokart.TaskOnKart):
        def run(self):
            runs.append(1)
            self.dump('x')

    assert gokart.build(Once()) == 'x'
    luigi.task_register.Register.clear_instance_cache()
    assert gokart.build(Once()) == 'x'
    assert runs == [1]


def test_return_value_false_returns_none():
    assert gokart.build(Value(n=1), return_value=False) is None
    assert Value(n=1).complete()


def test_a_chain_10000_deep_builds():
    class Chain(gokart.TaskOnKart):
        n = luigi.IntParameter()

        def requires(self):
            return Chain(n=self.n - 1, should_dump_supplementary_log_files=False) if self.n > 0 else []

        def run(self):
            self.dump(self.load() + 1 if self.n > 0 else 0)

    assert gokart.build(Chain(n=10_000, should_dump_supplementary_log_files=False)) == 10_000


def test_dependency_cycle_is_reported():
    class Cycle(gokart.TaskOnKart):
        n = luigi.IntParameter()

        def requires(self):
            return Cycle(n=(self.n + 1) % 3)

    with pytest.raises((DependencyCycleError, GokartBuildError, RecursionError)) as info:
        gokart.build(Cycle(n=0))
    assert 'Cycle' in str(info.value)


def test_failing_requires_is_reported():
    class BadRequires(gokart.TaskOnKart):
        def requires(self):
            raise KeyError('no such thing')

    with pytest.raises(Exception) as info:
        gokart.build(BadRequires())
    assert 'requires() of BadRequires' in str(info.value) or 'no such thing' in str(info.value)


def test_missing_external_data_raises_on_load():
    class External(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget('nowhere.txt')

    class NeedsExternal(gokart.TaskOnKart):
        def requires(self):
            return External()

        def run(self):
            self.dump(1)

    with pytest.raises(FileNotFoundError):
        gokart.build(NeedsExternal())


def test_luigi_events_fire_on_our_executor():
    seen = []

    class Evented(gokart.TaskOnKart):
        def run(self):
            self.dump(1)

    @Evented.event_handler(luigi.Event.START)
    def on_start(task):
        seen.append(('start', type(task).__name__))

    @Evented.event_handler(luigi.Event.SUCCESS)
    def on_success(task):
        seen.append(('success', type(task).__name__))

    @Evented.event_handler(luigi.Event.PROCESSING_TIME)
    def on_time(task, seconds):
        seen.append(('time', seconds >= 0))

    gokart.build(Evented())
    assert seen == [('start', 'Evented'), ('time', True), ('success', 'Evented')]


def test_reset_register_keeps_the_latest_class_definition():
    def define():
        class Redefined(gokart.TaskOnKart):
            def run(self):
                self.dump(1)

        return Redefined

    define()
    latest = define()
    gokart.build(latest())
    assert luigi.task_register.Register.get_task_cls('Redefined') is latest
