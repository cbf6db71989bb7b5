"""kannon 0.1.4 drives a pipeline of ours as it drives one of gokart 1.12.2.

kannon (gokart's Kubernetes runner) walks the task tree itself, runs plain tasks on the master with
``gokart.build`` and launches each ``kannon.TaskOnBullet`` as a Kubernetes job: it pickles the task
instance with ``gokart.target.make_target(path).dump(task)`` into ``<workspace>/kannon/`` and the
job's child script loads it back and builds it. These tests do what a kannon user does to test a
pipeline: the Kubernetes API is a small in-process fake whose "jobs" run the child script at once,
in this process. kannon's own unit tests also replace ``complete`` on task instances, which the
last test covers.

This file imports nothing from this repository's tests, so it also runs against gokart 1.12.2 (a
venv with gokart==1.12.2, kannon==0.1.4, kubernetes<27 and pytest), where it passes too.
"""

from __future__ import annotations

import datetime
import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import luigi
import pandas as pd
import pytest

import gokart
from gokart.target import make_target

kannon = pytest.importorskip('kannon')
k8s = pytest.importorskip('kubernetes.client')

NAMESPACE = 'ml-pipelines'
JOB_PREFIX = 'kd-test'

# What a kannon user's child script does: load the pickled task named on its command line, build it.
# kannon quotes the path inside the (shell-less) container command, so the script strips the quotes.
CHILD_SCRIPT = """\
import argparse

import gokart
from gokart.target import make_target

parser = argparse.ArgumentParser()
parser.add_argument('--task-pkl-path', required=True)
arguments = parser.parse_args()
gokart.build(make_target(arguments.task_pkl_path.strip("'")).load())
"""

RUNS: list[tuple[str, str]] = []  # (task family, unique id) of every run(), in order


def _record_run(task: gokart.TaskOnKart) -> None:
    RUNS.append((task.get_task_family(), task.make_unique_id()))


class KdEvents(gokart.TaskOnKart):
    """The day's raw events; runs on the master."""

    task_namespace = 'kannon_driver'
    day = luigi.DateParameter()

    def run(self) -> None:
        _record_run(self)
        self.dump(pd.DataFrame({'user': [1, 1, 2, 3], 'clicks': [2, 3, 1, 4], 'views': [10, 5, 7, 1]}))


class KdUserFeatures(kannon.TaskOnBullet):
    """The heavy step kannon launches as a Kubernetes job, with parameters of several kinds."""

    task_namespace = 'kannon_driver'
    events = gokart.TaskInstanceParameter()
    day = luigi.DateParameter()
    window = luigi.IntParameter()
    columns = luigi.ListParameter()
    weights = luigi.DictParameter()

    def run(self) -> None:
        _record_run(self)
        frame = self.load('events')
        score = sum(frame[column] * self.weights[column] for column in self.columns)
        self.dump({int(user): float(value) for user, value in score.groupby(frame['user']).sum().items()})


class KdEventCounts(gokart.TaskOnKart):
    """The cheap branch of the diamond; runs on the master."""

    task_namespace = 'kannon_driver'
    events = gokart.TaskInstanceParameter()

    def run(self) -> None:
        _record_run(self)
        self.dump({int(user): int(count) for user, count in self.load('events')['user'].value_counts().sort_index().items()})


class KdReport(gokart.TaskOnKart):
    """The root: joins both branches of the diamond; runs on the master."""

    task_namespace = 'kannon_driver'
    day = luigi.DateParameter()

    def requires(self) -> dict[str, gokart.TaskOnKart]:
        events = KdEvents(day=self.day)
        features = KdUserFeatures(events=events, day=self.day, window=7, columns=['clicks', 'views'], weights={'clicks': 1.0, 'views': 0.5})
        return {'features': features, 'counts': KdEventCounts(events=events)}

    def run(self) -> None:
        _record_run(self)
        features, counts = self.load('features'), self.load('counts')
        self.dump({user: {'score': features[user], 'events': counts[user]} for user in sorted(counts)})


class KdBroken(gokart.TaskOnKart):
    """A master task whose run() fails."""

    task_namespace = 'kannon_driver'

    def run(self) -> None:
        raise ValueError('broken on purpose')


DAY = datetime.date(2024, 3, 1)
EXPECTED_REPORT = {
    1: {'score': 2.0 + 3.0 + 0.5 * (10 + 5), 'events': 2},
    2: {'score': 1.0 + 0.5 * 7, 'events': 1},
    3: {'score': 4.0 + 0.5 * 1, 'events': 1},
}


@dataclass
class FakeJob:
    namespace: str
    command: list[str]
    env: dict[str, str]
    status_reads: int = 0


class FakeCluster:
    """The part of Kubernetes kannon talks to: creating a job runs its child script now, in this process.

    ``read_namespaced_job_status`` answers "running" the first time a job is asked about and
    "succeeded" afterwards, so kannon's wait-for-the-job branch runs too.
    """

    def __init__(self) -> None:
        self.jobs: dict[str, FakeJob] = {}
        self.api = mock.create_autospec(k8s.BatchV1Api, instance=True)
        self.api.create_namespaced_job.side_effect = self._create
        self.api.read_namespaced_job_status.side_effect = self._read_status

    def _create(self, namespace: str, body: Any, **_: Any) -> Any:
        container = body.spec.template.spec.containers[0]
        env = {item['name']: item['value'] for item in container.env or []}
        job = FakeJob(namespace=namespace, command=list(container.command), env=env)
        self.jobs[body.metadata.name] = job
        _python, script, *arguments = job.command
        with mock.patch.object(sys, 'argv', [script, *arguments]), mock.patch.dict(os.environ, env):
            runpy.run_path(script, run_name='__main__')
        return k8s.V1Job(metadata=body.metadata, status=k8s.V1JobStatus(active=1))

    def _read_status(self, name: str, namespace: str, **_: Any) -> Any:
        job = self.jobs[name]
        assert job.namespace == namespace, f'job {name} was created in {job.namespace}, asked about in {namespace}'
        job.status_reads += 1
        status = k8s.V1JobStatus(active=1) if job.status_reads == 1 else k8s.V1JobStatus(succeeded=1)
        return k8s.V1Job(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace), status=status)


@pytest.fixture
def workspace(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh workspace, set as ``[TaskOnKart] workspace_directory`` and in TASK_WORKSPACE_DIRECTORY (kannon passes it to jobs)."""
    monkeypatch.chdir(tmp_path)
    path = str(tmp_path / 'resources')
    monkeypatch.setenv('TASK_WORKSPACE_DIRECTORY', path)
    config = luigi.configuration.get_config()
    had_section = config.has_section('TaskOnKart')
    previous = config.get('TaskOnKart', 'workspace_directory', None)
    config.set('TaskOnKart', 'workspace_directory', path)
    luigi.task_register.Register.clear_instance_cache()
    RUNS.clear()
    yield path
    if previous is not None:
        config.set('TaskOnKart', 'workspace_directory', previous)
    elif had_section:
        config.remove_option('TaskOnKart', 'workspace_directory')
    else:
        config.remove_section('TaskOnKart')
    luigi.task_register.Register.clear_instance_cache()
    RUNS.clear()


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    fake = FakeCluster()
    with mock.patch('kannon.master.sleep'):  # kannon waits a second before each task; not here
        yield fake


def _master(cluster: FakeCluster, tmp_path: Any) -> Any:
    script = tmp_path / 'run_child.py'
    script.write_text(CHILD_SCRIPT)
    template = k8s.V1Job(
        api_version='batch/v1',
        kind='Job',
        metadata=k8s.V1ObjectMeta(name='template', namespace=NAMESPACE),
        spec=k8s.V1JobSpec(
            template=k8s.V1PodTemplateSpec(
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name='job', image='pipeline:latest')], restart_policy='Never')
            )
        ),
    )
    return kannon.Kannon(api_instance=cluster.api, template_job=template, job_prefix=JOB_PREFIX, path_child_script=str(script))


def test_kannon_builds_a_diamond_running_each_task_once(workspace: str, cluster: FakeCluster, tmp_path: Any) -> None:
    root = KdReport(day=DAY)
    features = root.requires()['features']

    _master(cluster, tmp_path).build(root)

    families = [family for family, _ in RUNS]
    assert sorted(families) == sorted(f'kannon_driver.{name}' for name in ('KdEvents', 'KdUserFeatures', 'KdEventCounts', 'KdReport'))
    assert len(set(RUNS)) == len(RUNS) == 4
    assert families[0] == 'kannon_driver.KdEvents' and families[-1] == 'kannon_driver.KdReport'
    # The job ran the bullet task; kannon waited for it before running the root on the master.
    assert RUNS.index(('kannon_driver.KdUserFeatures', features.make_unique_id())) < families.index('kannon_driver.KdReport')

    assert root.complete() and features.complete()
    assert root.output().load() == EXPECTED_REPORT
    assert make_target(features.output().path()).load() == {user: value['score'] for user, value in EXPECTED_REPORT.items()}
    assert features.output().path().startswith(workspace + os.sep)
    # Built again, the pipeline is complete: nothing runs a second time.
    assert gokart.build(KdReport(day=DAY)) == EXPECTED_REPORT
    assert len(RUNS) == 4


def test_kannon_launches_one_job_for_the_bullet_task_with_its_parameters(workspace: str, cluster: FakeCluster, tmp_path: Any) -> None:
    root = KdReport(day=DAY)
    features = root.requires()['features']

    _master(cluster, tmp_path).build(root)

    assert cluster.api.create_namespaced_job.call_count == 1
    ((name, job),) = cluster.jobs.items()
    assert name.startswith(f'{JOB_PREFIX}-') and len(name) <= 50 and name == name.lower()
    assert job.namespace == NAMESPACE
    pickle_path = os.path.join(workspace, 'kannon', f'task_obj_{features.make_unique_id()}.pkl')
    assert job.command == ['python', str(tmp_path / 'run_child.py'), '--task-pkl-path', f"'{pickle_path}'"]
    assert job.env == {'TASK_WORKSPACE_DIRECTORY': workspace}
    assert job.status_reads >= 2  # kannon waited while the job was "running"
    cluster.api.read_namespaced_job_status.assert_called_with(name=name, namespace=NAMESPACE)

    # The job received the task itself: same class, parameters, unique id and output.
    shipped = make_target(pickle_path).load()
    assert type(shipped) is KdUserFeatures
    assert shipped.make_unique_id() == features.make_unique_id()
    assert shipped.to_str_params() == features.to_str_params()
    assert (shipped.day, shipped.window, list(shipped.columns), dict(shipped.weights)) == (
        DAY,
        7,
        ['clicks', 'views'],
        {'clicks': 1.0, 'views': 0.5},
    )
    assert shipped.events.make_unique_id() == KdEvents(day=DAY).make_unique_id()
    assert shipped.output().path() == features.output().path()


def test_a_failing_master_task_stops_kannon_with_the_task_named(workspace: str, cluster: FakeCluster, tmp_path: Any) -> None:
    with pytest.raises(RuntimeError, match=r'kannon_driver\.KdBroken_\w+ on job master has failed'):
        _master(cluster, tmp_path).build(KdBroken())
    assert not cluster.jobs


def test_complete_replaced_on_an_instance_is_what_kannon_and_gokart_build_call(workspace: str, cluster: FakeCluster, tmp_path: Any) -> None:
    root = KdReport(day=DAY)
    unique_id, output_path = root.make_unique_id(), root.output().path()
    root.complete = mock.MagicMock(return_value=False)  # type: ignore[method-assign]

    _master(cluster, tmp_path).build(root)

    # kannon's loop asked once; gokart.build's scheduling asked the same replacement again.
    assert root.complete.call_count >= 2
    # The replacement changes neither the task's identity nor what its run() does.
    assert (root.make_unique_id(), root.output().path()) == (unique_id, output_path)
    assert [family for family, _ in RUNS].count('kannon_driver.KdReport') == 1
    assert make_target(output_path).load() == EXPECTED_REPORT
    # It belongs to that instance alone: another instance of the class checks its output as usual.
    assert KdReport(day=DAY + datetime.timedelta(days=1)).complete() is False
    assert type(root).complete(root) is True
