"""Which run lock a task gets (``[gokart] run_lock``), and what bad settings say.

The locks themselves are tested in test_locks_file.py (file), integration/test_redis_run_once.py
(Redis) and integration/test_workspace_leases.py, test_lease_takeover.py and
test_concurrent_builds.py (workspace leases on a moto S3 server).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import luigi
import pytest

import gokart
from gokart.conflict_prevention_lock.file_lock import LOCK_DIRECTORY
from gokart.errors import RunLockConfigurationError
from gokart.run_locks.file import FileRunLock
from gokart.run_locks.lease import WorkspaceLease
from gokart.run_locks.redis import RedisRunLock
from gokart.run_locks.selection import lock_for, refresh_settings


class Job(gokart.TaskOnKart[int]):
    task_namespace = 'test_run_locks'
    n = luigi.IntParameter(default=1)

    def run(self) -> None:
        self.dump(self.n)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv('GOKART_RUN_LOCK', raising=False)
    monkeypatch.delenv('GOKART_RUN_LOCK_LEASE_SECONDS', raising=False)
    yield
    monkeypatch.undo()
    config = luigi.configuration.get_config()
    for option in ('run_lock', 'run_lock_lease_seconds'):
        if config.has_section('gokart'):
            config.remove_option('gokart', option)
    refresh_settings()  # later tests see their own config, not this test's


def _configure(**options: str) -> None:
    config = luigi.configuration.get_config()
    if not config.has_section('gokart'):
        config.add_section('gokart')
    for name, value in options.items():
        config.set('gokart', name, value)
    refresh_settings()


def test_auto_picks_file_locks_for_local_workspaces_and_leases_for_object_stores(tmp_path: Path) -> None:
    refresh_settings()
    assert isinstance(lock_for(Job(workspace_directory=str(tmp_path))), FileRunLock)
    lease = lock_for(Job(workspace_directory='s3://bucket/ws/'))
    assert isinstance(lease, WorkspaceLease)
    assert lease.path == f's3://bucket/ws/.gokart-leases/Job_{Job().make_unique_id()}.lease'
    assert lease.best_effort  # auto: a store that refuses leases warns and runs unlocked
    assert lock_for(Job(workspace_directory='memory://ws')) is None  # one process: nothing to exclude


def test_auto_picks_redis_when_the_task_has_a_redis_host_unless_should_lock_run_keeps_its_own(tmp_path: Path) -> None:
    refresh_settings()
    assert isinstance(lock_for(Job(workspace_directory=str(tmp_path), redis_host='localhost', redis_port=6379)), RedisRunLock)
    own = Job(workspace_directory=str(tmp_path), redis_host='localhost', redis_port=6379, should_lock_run=True)
    assert isinstance(lock_for(own), FileRunLock)


def test_auto_warns_once_for_a_store_without_run_locks(caplog: pytest.LogCaptureFixture) -> None:
    refresh_settings()
    with caplog.at_level(logging.WARNING, logger='gokart.run_locks'):
        assert lock_for(Job(workspace_directory='hdfs://cluster/ws')) is None
        assert lock_for(Job(n=2, workspace_directory='hdfs://cluster/ws')) is None
    assert [r.getMessage() for r in caplog.records if 'hdfs://' in r.getMessage()].__len__() == 1


def test_none_turns_run_locks_off(tmp_path: Path) -> None:
    _configure(run_lock='none')
    assert lock_for(Job(workspace_directory=str(tmp_path))) is None
    assert gokart.build(Job(n=3, workspace_directory=str(tmp_path)), reset_register=False) == 3
    assert not (tmp_path / LOCK_DIRECTORY).exists()


def test_the_environment_variable_wins_over_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('GOKART_RUN_LOCK', 'none')
    _configure(run_lock='file')
    assert lock_for(Job(workspace_directory=str(tmp_path))) is None


def test_a_bad_value_names_the_option_and_the_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RunLockConfigurationError, match=r"\[gokart\] run_lock .*'leases'.*auto, file, redis, workspace, none"):
        _configure(run_lock='leases')
    with pytest.raises(RunLockConfigurationError, match=r'\[gokart\] run_lock'):
        gokart.build(Job(workspace_directory=str(tmp_path)), reset_register=False)
    monkeypatch.setenv('GOKART_RUN_LOCK', 'redlock')
    with pytest.raises(RunLockConfigurationError, match='GOKART_RUN_LOCK'):
        refresh_settings()


def test_a_bad_lease_time_names_the_option() -> None:
    with pytest.raises(RunLockConfigurationError, match=r'run_lock_lease_seconds .*at least 1'):
        _configure(run_lock='workspace', run_lock_lease_seconds='0.1')
    with pytest.raises(RunLockConfigurationError, match='run_lock_lease_seconds'):
        _configure(run_lock='workspace', run_lock_lease_seconds='a minute')
    _configure(run_lock='workspace', run_lock_lease_seconds='7.5')
    lease = lock_for(Job(workspace_directory='s3://bucket/ws'))
    assert isinstance(lease, WorkspaceLease)
    assert (lease.lease_seconds, lease.renew_every, lease.best_effort) == (7.5, 2.5, False)


def test_an_explicit_backend_that_cannot_lock_the_workspace_names_the_task(tmp_path: Path) -> None:
    _configure(run_lock='file')
    with pytest.raises(RunLockConfigurationError, match=r'Job\[.*run_lock = file .*s3://bucket/ws'):
        lock_for(Job(workspace_directory='s3://bucket/ws'))
    _configure(run_lock='workspace')
    with pytest.raises(RunLockConfigurationError, match='workspace leases need s3:// or gs://'):
        lock_for(Job(workspace_directory=str(tmp_path)))
    _configure(run_lock='redis')
    with pytest.raises(RunLockConfigurationError, match='redis_host and redis_port'):
        lock_for(Job(workspace_directory=str(tmp_path)))


def test_run_called_directly_still_checks_completion_itself(tmp_path: Path) -> None:
    ran: list[int] = []

    class Counted(Job):
        def run(self) -> None:
            ran.append(self.n)
            super().run()

    task = Counted(workspace_directory=str(tmp_path))
    task.run()
    task.run()  # gokart 1.12: complete_check_at_run skips a complete task when run() is called by hand
    assert ran == [1]


def test_gcs_workspaces_get_leases_through_gcsfs_generations() -> None:
    # What can be checked without a GCS server: the backend, the lease path and the object it names.
    pytest.importorskip('gcsfs')
    from gokart.run_locks.gcs_leases import GcsLeaseStore

    config = luigi.configuration.get_config()
    config.add_section('fsspec.gs')
    config.set('fsspec.gs', 'token', 'anon')  # no credential lookup
    refresh_settings()
    lease = lock_for(Job(workspace_directory='gs://bucket/ws'))
    assert isinstance(lease, WorkspaceLease) and isinstance(lease.store, GcsLeaseStore)
    assert lease.store._where(lease.path) == ('bucket', f'ws/.gokart-leases/Job_{Job().make_unique_id()}.lease')
