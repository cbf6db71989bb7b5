"""Workspace leases on a real moto S3 server over HTTP: the conditional writes that make them a lock.

Two processes (here: two lease objects with their own holders) contend for one task's lease; the
store decides who wins through ``If-None-Match: *`` / ``If-Match: <etag>``. Multi-process builds
and a killed holder are in test_concurrent_builds.py and test_lease_takeover.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import luigi
import pytest

import gokart
from gokart.errors import RunLockLostError
from gokart.execution.local import run_task
from gokart.run_locks.lease import LEASE_DIRECTORY, WorkspaceLease, lease_path
from gokart.run_locks.s3_leases import S3LeaseStore
from gokart.storage import filesystem as storage

pytestmark = pytest.mark.integration

LEASE_SECONDS = 1.0


def _lease(workspace: str, holder_name: str = 'Task_0123', lease_seconds: float = LEASE_SECONDS) -> WorkspaceLease:
    store = S3LeaseStore(storage.filesystem_for_protocol('s3'))
    return WorkspaceLease(store, lease_path(workspace, holder_name), holder_name, None, lease_seconds)


def _object(workspace: str, name: str = 'Task_0123') -> dict[str, Any] | None:
    fs = storage.filesystem_for_protocol('s3')
    path = lease_path(workspace, name)
    if not fs.exists(path):
        return None
    document = json.loads(fs.cat_file(path))
    assert isinstance(document, dict)
    return document


@pytest.fixture
def workspace(s3_bucket: str) -> str:
    return f's3://{s3_bucket}/ws'


def test_of_two_acquirers_one_wins_and_release_deletes_the_lease(workspace: str) -> None:
    first, second = _lease(workspace), _lease(workspace)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)
    document = _object(workspace)
    assert document is not None
    assert document['holder'] == first.holder() == second.holder()  # anyone can read who holds it
    assert document['lease_seconds'] == LEASE_SECONDS
    assert lease_path(workspace, 'Task_0123') == f'{workspace}/{LEASE_DIRECTORY}/Task_0123.lease'
    first.release()
    assert _object(workspace) is None
    assert second.acquire(blocking=False)
    second.release()


def test_renewing_keeps_the_lease_past_its_lease_time(workspace: str) -> None:
    holder, waiter = _lease(workspace), _lease(workspace)
    with holder.held():  # renewed every third of the lease time in the background
        deadline = time.monotonic() + 3 * LEASE_SECONDS
        while time.monotonic() < deadline:  # the waiter watches for three lease times: never expired
            assert not waiter.acquire(blocking=False)
            time.sleep(0.1)
        holder.check_held()
    assert waiter.acquire(blocking=False)
    waiter.release()


def test_an_expired_lease_is_taken_over_by_exactly_one_of_two_takers(workspace: str) -> None:
    dead = _lease(workspace)
    assert dead.acquire(blocking=False)  # and never renewed: its holder "died"
    stale = S3LeaseStore(storage.filesystem_for_protocol('s3')).version(lease_path(workspace, 'Task_0123'))
    assert stale is not None
    store = S3LeaseStore(storage.filesystem_for_protocol('s3'))
    barrier = threading.Barrier(2)
    won: list[str | None] = [None, None]

    def take(i: int) -> None:
        barrier.wait()
        won[i] = store.replace(lease_path(workspace, 'Task_0123'), f'taker {i}'.encode(), stale)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(1 for w in won if w is not None) == 1


def test_a_waiter_takes_over_a_lease_not_renewed_for_its_lease_time_and_the_old_holder_knows(workspace: str) -> None:
    dead = _lease(workspace)
    assert dead.acquire(blocking=False)
    taker, late = _lease(workspace), _lease(workspace)
    assert taker.acquire(blocking=True)  # watches the unchanged lease for LEASE_SECONDS, then overwrites it conditionally
    assert not late.acquire(blocking=False)
    assert _object(workspace)['holder'] == taker.holder()  # type: ignore[index]
    with pytest.raises(RunLockLostError, match='taken over'):
        dead.renew()
    with pytest.raises(RunLockLostError):
        dead.check_held()
    dead.release()  # leaves the new holder's lease alone
    assert _object(workspace)['holder'] == taker.holder()  # type: ignore[index]
    taker.release()
    assert _object(workspace) is None


class _Stalls(gokart.TaskOnKart[str]):
    """Loses its lease while running: the test overwrites the lease object as a process taking over would."""

    task_namespace = 'test_workspace_leases'

    def run(self) -> None:
        fs = storage.filesystem_for_protocol('s3')
        fs.pipe_file(lease_path(self.workspace_directory, f'{type(self).__name__}_{self.make_unique_id()}'), b'{"holder": "another"}')
        time.sleep(LEASE_SECONDS)  # past half the lease time: dump() asks the store before writing
        self.dump('too late')


def test_a_task_whose_lease_was_taken_over_does_not_write_its_output(workspace: str) -> None:
    from gokart.run_locks.selection import refresh_settings

    task = _Stalls(workspace_directory=workspace)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('GOKART_RUN_LOCK', 'workspace')
        patch.setenv('GOKART_RUN_LOCK_LEASE_SECONDS', str(LEASE_SECONDS))
        refresh_settings()
        with pytest.raises(RunLockLostError, match='_Stalls'):
            run_task(task)
    refresh_settings()
    assert not task.complete()


_holders_seen: list[str | None] = []


class _Step(gokart.TaskOnKart[int]):
    task_namespace = 'test_workspace_leases'
    i = luigi.IntParameter()

    def run(self) -> None:
        _holders_seen.append((_object(self.workspace_directory, f'{type(self).__name__}_{self.make_unique_id()}') or {}).get('holder'))
        self.dump(self.i)


@pytest.mark.parametrize('executor', ['gokart', 'luigi'])
def test_a_build_on_s3_holds_leases_and_leaves_none_behind(workspace: str, executor: str) -> None:
    _holders_seen.clear()
    built = [gokart.build(_Step(i=i, workspace_directory=workspace), reset_register=False, executor=executor) for i in range(3)]
    assert built == [0, 1, 2]
    assert len(_holders_seen) == 3 and all(_holders_seen)  # each ran holding its lease
    fs = storage.filesystem_for_protocol('s3')
    assert not fs.exists(f'{workspace}/{LEASE_DIRECTORY}')
