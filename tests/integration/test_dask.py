"""``executor='dask'``: gokart builds on a real Dask LocalCluster of two worker processes.

The cluster is started once for the module; each test's tasks carry their own ``runs`` directory as
a significant parameter, so ids and Dask keys never repeat between tests. Every run() appends its
pid to a run file, so the tests count how often each task ran. The workers inherit the fake AWS
environment and the moto server's endpoint, so the same cluster builds on an S3 workspace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import luigi
import pytest
from dask_pipeline import GROUP_BEFORE, GROUP_LEAVES, DaskGroupRoot, DaskPair, DaskRoot, expected_pairs, run_counts, task_names
from integration_servers import FAKE_AWS_ENVIRONMENT

import gokart
from gokart.errors import GokartBuildError
from gokart.execution.plan import TaskState

distributed = pytest.importorskip('distributed')

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def cluster(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A LocalCluster of two single-threaded worker processes, which can reach the moto S3 server.

    The workers start in a directory of their own: a relative path there is not the test's.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint}.items():
            patch.setenv(name, value)
        patch.chdir(tmp_path_factory.mktemp('dask-workers'))
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=':0') as local:
            yield local


@pytest.fixture
def client(cluster: object) -> Iterator[object]:
    with distributed.Client(cluster) as dask_client:  # type: ignore[arg-type]
        dask_client.wait_for_workers(2)
        yield dask_client


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[str]:
    """A local workspace under ``tmp_path``, named in this process's luigi config only."""
    with _workspace_in_config(str(tmp_path / 'ws')) as path:
        yield path


@contextmanager
def _workspace_in_config(path: str) -> Iterator[str]:
    """``[TaskOnKart] workspace_directory`` set here for the block: requirements constructed on the workers get it from the build."""
    config = luigi.configuration.get_config()
    previous = config.get('TaskOnKart', 'workspace_directory', None)
    config.set('TaskOnKart', 'workspace_directory', path)
    try:
        yield path
    finally:
        if previous is None:
            config.remove_option('TaskOnKart', 'workspace_directory')
        else:
            config.set('TaskOnKart', 'workspace_directory', previous)


@contextmanager
def _batching(value: str) -> Iterator[None]:
    """``[gokart] dask_batch = value`` in this process's luigi config for the block (the client decides the groups)."""
    config = luigi.configuration.get_config()
    if not config.has_section('gokart'):
        config.add_section('gokart')
    previous = config.get('gokart', 'dask_batch', None)
    config.set('gokart', 'dask_batch', value)
    try:
        yield
    finally:
        if previous is None:
            config.remove_option('gokart', 'dask_batch')
        else:
            config.set('gokart', 'dask_batch', previous)


def _runs(tmp_path: Path) -> str:
    runs = tmp_path / 'runs'
    runs.mkdir()
    return str(runs)


def test_dag_on_a_local_workspace_runs_each_task_once_on_the_workers(
    tmp_path: Path, workspace: str, client: object, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _runs(tmp_path)
    root = DaskRoot(runs=runs)

    value = gokart.build(root, dask_client=client)  # a client alone selects Dask

    assert value == {'pairs': expected_pairs(), 'slow': None}
    assert run_counts(runs) == {name: 1 for name in task_names()}
    assert os.getpid() not in _pids_of(runs)  # the tasks ran in the workers, not here
    assert 'gokart: building on Dask scheduler tcp://' in capsys.readouterr().err
    assert len(list(Path(workspace, 'log', 'processing_time').iterdir())) == len(task_names())  # run records as locally
    # Built: a second build submits nothing and runs nothing.
    assert gokart.build(DaskRoot(runs=runs), executor='dask', dask_client=client) == value
    assert run_counts(runs) == {name: 1 for name in task_names()}


def test_dag_on_an_s3_workspace(tmp_path: Path, client: object, s3_bucket: str) -> None:
    runs = _runs(tmp_path)
    with _workspace_in_config(f's3://{s3_bucket}/pipeline'):
        value = gokart.build(DaskRoot(runs=runs), executor='dask', dask_client=client)

    assert value == {'pairs': expected_pairs(), 'slow': None}
    assert run_counts(runs) == {name: 1 for name in task_names()}


def test_a_failing_task_fails_the_build_and_independent_branches_finish(tmp_path: Path, workspace: str, client: object) -> None:
    runs = _runs(tmp_path)
    root = DaskRoot(runs=runs, failing=True)

    with pytest.raises(GokartBuildError) as raised:
        gokart.build(root, executor='dask', dask_client=client)

    errors = [e for es in raised.value.raised_exceptions.values() for e in es]
    assert len(errors) == 1 and isinstance(errors[0], ValueError) and 'broke on purpose' in str(errors[0])
    counts = run_counts(runs)
    assert counts.pop('DaskFailing') == 1 and 'DaskRoot' not in counts  # the root, behind the failure, never ran
    assert counts == {name: 1 for name in task_names() if name != 'DaskRoot'}


def test_a_worker_killed_mid_task_is_replaced_and_the_task_runs_again(tmp_path: Path, workspace: str, client: object) -> None:
    runs = _runs(tmp_path)
    root = DaskRoot(runs=runs, slow=True)
    killer = threading.Thread(target=_kill_first_slow_run_then_release, args=(Path(runs),), daemon=True)
    killer.start()

    value = gokart.build(root, executor='dask', dask_client=client)
    killer.join(timeout=60)

    assert value == {'pairs': expected_pairs(), 'slow': 'slow ' + 'x' * 1000}
    counts = run_counts(runs)
    assert counts.pop('DaskSlow') == 2  # the killed run and the retry on a live worker
    assert counts == {name: 1 for name in task_names()}


@pytest.mark.parametrize('batch', ['4', 'off'])
def test_two_clients_submitting_one_dag_share_its_tasks(tmp_path: Path, cluster: object, batch: str) -> None:
    """Two separate processes (``gokart.run --executor dask``) build one DAG on one scheduler: each task runs once, batched or not."""
    runs = _runs(tmp_path)
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    config = tmp_path / 'client.cfg'
    config.write_text(f'[TaskOnKart]\nworkspace_directory = {tmp_path / "ws"}\n[gokart]\ndask_batch = {batch}\n')
    environment = {**os.environ, 'LUIGI_CONFIG_PATH': str(config), 'PYTHONPATH': os.pathsep.join([str(HERE), *sys.path])}
    # The module is imported (not run as __main__), so workers find the same classes under the same name.
    command = [sys.executable, '-c', 'import dask_pipeline, gokart; gokart.run()', 'DaskRoot', '--runs', runs, '--seconds', '0.5']
    command += ['--executor', 'dask', '--dask-address', address]
    processes = [
        subprocess.Popen(command, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].decode(errors='replace') for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    assert run_counts(runs) == {name: 1 for name in task_names()}


def _pid_of(runs: str, name: str) -> list[int]:
    return [int(line) for line in Path(runs, f'{name}.runs').read_text().split()]


def test_a_failure_inside_a_group_stops_only_its_dependents_and_the_rest_of_the_group_runs(
    tmp_path: Path, workspace: str, client: object
) -> None:
    runs = _runs(tmp_path)
    with _batching('100'), pytest.raises(GokartBuildError) as raised:
        gokart.build(DaskGroupRoot(runs=runs, failing=True), dask_client=client)

    errors = [e for es in raised.value.raised_exceptions.values() for e in es]
    assert len(errors) == 1 and isinstance(errors[0], ValueError) and 'broke on purpose' in str(errors[0])
    counts = run_counts(runs)
    # DaskAfterFailing (chained to DaskFailing in the group) and the root never ran; every leaf did.
    assert counts == {'DaskFailing': 1, **{f'DaskLeaf_{i}': 1 for i in range(GROUP_LEAVES)}}
    # One group: the leaves and the failing task ran in one worker, one after the other.
    assert {pid for i in range(GROUP_LEAVES) for pid in _pid_of(runs, f'DaskLeaf_{i}')} == set(_pid_of(runs, 'DaskFailing'))


def test_a_worker_killed_mid_group_reruns_only_the_unfinished_tasks_elsewhere(tmp_path: Path, workspace: str, client: object) -> None:
    runs = _runs(tmp_path)
    killer = threading.Thread(target=_kill_first_slow_run_then_release, args=(Path(runs),), daemon=True)
    killer.start()

    with _batching('100'):
        value = gokart.build(DaskGroupRoot(runs=runs, slow=True), dask_client=client)
    killer.join(timeout=60)

    assert value == [i * i for i in range(GROUP_LEAVES)]
    killed = int(sorted(Path(runs).glob('slow-*.pid'), key=lambda p: p.stat().st_mtime)[0].read_text())
    # The leaves before DaskSlow ran in the killed worker, in its group, and were skipped when the group ran again.
    assert all(_pid_of(runs, f'DaskLeaf_{i}') == [killed] for i in range(GROUP_BEFORE))
    counts = run_counts(runs)
    assert counts.pop('DaskSlow') == 2  # the killed run and the rerun on a live worker
    assert counts == {**{f'DaskLeaf_{i}': 1 for i in range(GROUP_LEAVES)}, 'DaskGroupRoot': 1}
    assert all(_pid_of(runs, f'DaskLeaf_{i}') != [killed] for i in range(GROUP_BEFORE, GROUP_LEAVES))


@pytest.mark.parametrize(
    ('batch', 'expected'),
    [
        ('100', {'DaskLeaf_x6', 'DaskPair_x3', 'DaskRoot'}),  # groups named by their families and counts
        ('off', {'DaskLeaf', 'DaskPair', 'DaskRoot'}),  # one Dask task per gokart task, keyed {family}-{unique_id}
    ],
)
def test_the_task_stream_names_groups_by_families_and_counts_and_batching_off_submits_each_task(
    tmp_path: Path, workspace: str, client: object, batch: str, expected: set[str]
) -> None:
    from dask.utils import key_split

    runs = _runs(tmp_path)
    root = DaskRoot(runs=runs)
    with _batching(batch), distributed.get_task_stream(client) as stream:
        assert gokart.build(root, dask_client=client) == {'pairs': expected_pairs(), 'slow': None}

    keys = [str(record['key']) for record in stream.data if not str(record['key']).startswith('gokart-config-')]
    assert {key_split(key) for key in keys} == expected
    assert f'DaskRoot-{root.make_unique_id()}' in keys
    assert len(keys) == (3 if batch != 'off' else len(task_names()))
    assert run_counts(runs) == {name: 1 for name in task_names()}


def test_a_worker_that_cannot_import_the_task_module_is_named_and_upload_file_fixes_it(tmp_path: Path, client: object) -> None:
    module = tmp_path / 'only_on_the_client.py'
    module.write_text('import gokart\n\nclass OnlyHere(gokart.TaskOnKart[str]):\n    def run(self) -> None:\n        self.dump("here")\n')
    sys.path.insert(0, str(tmp_path))
    try:
        from only_on_the_client import OnlyHere  # type: ignore[import-not-found]

        task = OnlyHere(workspace_directory=str(tmp_path / 'ws'))
        with pytest.raises(GokartBuildError) as raised:
            gokart.build(task, executor='dask', dask_client=client)
        message = str(raised.value)
        assert "cannot import module 'only_on_the_client'" in message and 'tcp://' in message and 'upload_file' in message

        client.upload_file(str(module))  # type: ignore[attr-defined]
        from only_on_the_client import OnlyHere as Uploaded  # upload_file imports the module here again too

        assert gokart.build(Uploaded(workspace_directory=str(tmp_path / 'ws')), executor='dask', dask_client=client) == 'here'
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop('only_on_the_client', None)


def test_without_a_scheduler_the_error_says_how_to_name_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('GOKART_DASK_ADDRESS', raising=False)
    with pytest.raises(gokart.errors.GokartError, match='dask_address'):
        gokart.build(DaskRoot(runs=_runs(tmp_path), workspace_directory=str(tmp_path / 'ws')), executor='dask')


def _pids_of(runs: str) -> set[int]:
    return {int(line) for name in os.listdir(runs) if name.endswith('.runs') for line in Path(runs, name).read_text().split()}


def _kill_first_slow_run_then_release(runs: Path) -> None:
    """SIGKILL the worker process running DaskSlow; once the task has started again elsewhere, let it finish."""
    first = _wait_for_pid_files(runs, 1)[0]
    os.kill(int(first.read_text()), signal.SIGKILL)
    _wait_for_pid_files(runs, 2)
    (runs / 'release').touch()


def _wait_for_pid_files(runs: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted(runs.glob('slow-*.pid'), key=lambda p: p.stat().st_mtime)
        if len(found) >= count and all(p.read_text() for p in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f'DaskSlow did not start {count} time(s) within a minute; runs: {sorted(p.name for p in runs.iterdir())}')


def test_the_environment_selects_dask_and_the_progress_listener_follows_the_futures(
    tmp_path: Path, workspace: str, cluster: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gokart.execution.dask_executor import execute_on_dask

    monkeypatch.setenv('GOKART_EXECUTOR', 'dask')
    monkeypatch.setenv('GOKART_DASK_ADDRESS', cluster.scheduler_address)  # type: ignore[attr-defined]
    runs = _runs(tmp_path)
    assert gokart.build(DaskPair(runs=runs, j=0)) == 0 + 1
    assert run_counts(runs) == {'DaskLeaf_0': 1, 'DaskLeaf_1': 1, 'DaskPair_0': 1}

    listener = _RecordingListener()
    outcome = execute_on_dask([DaskRoot(runs=runs)], listener=listener)
    # Planned: the root, three pairs (one built above, whose leaves are not looked at) and four new leaves.
    assert (listener.total, listener.cached) == (8, 1)
    assert sorted(listener.began) == sorted(listener.ended) and len(listener.ended) == 7
    assert listener.ended[-1] == 'DaskRoot' and outcome.ok and not outcome.not_run


class _RecordingListener:
    """An ExecutionListener that remembers what it was told, by task family."""

    def __init__(self) -> None:
        self.total = self.cached = 0
        self.began: list[str] = []
        self.ended: list[str] = []

    def planned(self, plan: Any) -> None:
        self.total = len(plan.tasks)
        self.cached = plan.count(TaskState.COMPLETE)

    def started(self, task: Any) -> None:
        self.began.append(task.get_task_family())

    def finished(self, task: Any, succeeded: bool) -> None:
        assert succeeded
        self.ended.append(task.get_task_family())


def test_workers_name_outputs_under_the_id_scheme_of_the_client(tmp_path: Path, workspace: str, client: object) -> None:
    from gokart.ids import id_scheme

    runs = _runs(tmp_path)
    with id_scheme.use(2):
        root = DaskRoot(runs=runs)
        gokart.build(root, dask_client=client)
        records = [name.rsplit('_', 1)[1].split('.')[0] for name in os.listdir(Path(workspace, 'log', 'processing_time'))]
        assert len(records) == len(task_names()) and all(id_scheme.is_scheme2_id(uid) for uid in records)
        assert root.make_unique_id() in records
        assert gokart.build(DaskRoot(runs=runs), dask_client=client) is not None
    assert run_counts(runs) == {name: 1 for name in task_names()}


def test_early_cutoff_on_dask_workers(tmp_path: Path, workspace: str, client: object) -> None:
    """A chain whose first task reruns with the same output: on the workers too only the first runs, the rest are cut off."""
    import json

    from cutoff_pipeline import chain

    config = luigi.configuration.get_config()
    if not config.has_section('gokart'):
        config.add_section('gokart')
    config.set('gokart', 'early_cutoff', 'true')  # the client's config reaches the workers
    try:
        assert gokart.build(chain(5, level=1), executor='dask', dask_client=client) == [1, 2, 3, *range(5)]
        assert gokart.build(chain(5, level=2), executor='dask', dask_client=client) == [1, 2, 3, *range(5)]
    finally:
        config.remove_option('gokart', 'early_cutoff')
    lines = [json.loads(line) for journal in Path(workspace, '.gokart', 'lineage').iterdir() for line in journal.read_text().splitlines()]
    ran = [r['class'] for r in lines if 'class' in r and not r.get('cutoff_from')]
    assert sorted(ran) == ['First', 'First', *['Stage'] * 5]  # the first build ran all six, the second only First
    assert len([r for r in lines if r.get('cutoff_from')]) == 5
