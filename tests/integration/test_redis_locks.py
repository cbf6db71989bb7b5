"""Redis locks against a real redis-server, with gokart's parameters (redis_host, redis_port, redis_timeout, should_lock_run)."""

from __future__ import annotations

import threading
import time

import luigi
import pytest
import redis

import gokart
from gokart.conflict_prevention_lock.redis_lock import held_lock
from gokart.conflict_prevention_lock.task_lock import make_task_lock_params, make_task_lock_params_for_run, set_task_lock
from gokart.errors import HasLockedTaskException, TaskLockException
from gokart.in_memory import make_in_memory_target

ran: list[str] = []


class Locked(gokart.TaskOnKart[str]):
    name = luigi.Parameter(default='x')

    def run(self) -> None:
        ran.append(self.name)
        self.dump(self.name)


def test_build_with_redis_locks_releases_every_lock(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    assert gokart.build(Locked(name='a', redis_host=host, redis_port=port, should_lock_run=True)) == 'a'
    assert redis.Redis(host=host, port=port).keys('Locked_*') == []


def test_a_task_locked_by_another_worker_is_retried_later(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    task = Locked(name='b', redis_host=host, redis_port=port, should_lock_run=True)
    other_worker = set_task_lock(make_task_lock_params_for_run(task))
    ran.clear()
    with pytest.raises(HasLockedTaskException):
        gokart.build(task, task_lock_exception_max_tries=1)
    assert ran == []
    other_worker.release()
    assert gokart.build(task) == 'b'
    assert ran == ['b']


def test_run_lock_collision_raises_at_once(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    params = make_task_lock_params(file_path='ws/A.pkl', unique_id='1', redis_host=host, redis_port=port, redis_timeout=30)
    with held_lock(params, blocking=True):
        with pytest.raises(TaskLockException, match='Lock already taken by other task.'):
            set_task_lock(params, blocking=False)


def test_a_dump_is_skipped_when_another_worker_already_wrote_the_output(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    target = Locked(name='c', redis_host=host, redis_port=port).output()
    target.dump('first')
    target.dump('second')
    assert target.load() == 'first'


def test_readers_wait_for_a_writer_but_not_for_each_other(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    target = Locked(name='d', redis_host=host, redis_port=port).output()
    target.dump('value')
    loaded: list[str] = []
    writer = set_task_lock(target._get_task_lock_params())
    readers = [threading.Thread(target=lambda: loaded.append(target.load())) for _ in range(3)]
    for reader in readers:
        reader.start()
    readers[0].join(0.3)
    assert loaded == []  # every reader waits while the writer holds the lock
    writer.release()
    for reader in readers:
        reader.join(10)
    assert loaded == ['value'] * 3
    assert target.load() == 'value'  # and with no writer, a load does not wait


def test_a_held_lock_is_kept_alive_past_its_timeout(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    params = make_task_lock_params(
        file_path='ws/B.pkl', unique_id='2', redis_host=host, redis_port=port, redis_timeout=2, lock_extend_seconds=1
    )
    client = redis.Redis(host=host, port=port)
    with held_lock(params, blocking=True):
        time.sleep(3)
        assert client.exists(params.redis_key)
    assert not client.exists(params.redis_key)


def test_in_memory_target_refuses_redis_locks(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    params = make_task_lock_params(file_path='k', unique_id=None, redis_host=host, redis_port=port)
    with pytest.raises(ValueError, match='Redis with `InMemoryTarget` is not currently supported.'):
        make_in_memory_target('k', params)
