"""With redis_host and redis_port set, processes on any machine run each task once, by default (issue 13, item 4).

The 3-process build on the moto S3 workspace is in test_concurrent_builds.py; these tests hold the
run lock as "another machine" would and watch what a build does meanwhile.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import luigi

import gokart
from gokart.conflict_prevention_lock.task_lock import make_task_lock_params_for_run, set_task_lock

ran: list[str] = []


class Once(gokart.TaskOnKart[str]):
    name = luigi.Parameter()

    def run(self) -> None:
        ran.append(self.name)
        self.dump(f'ran {self.name}')


class Twice(Once):
    redis_run_once = False


class _SignalsWaiting(logging.Handler):
    """Sets ``event`` when the executor says it waits for a task's run lock."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__(logging.INFO)
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        if 'waiting for the run lock' in record.getMessage():
            self.event.set()


def build_while_another_machine_holds_the_run_lock(task: Once, finish_elsewhere: bool) -> tuple[threading.Thread, Any]:
    """Hold the task's run lock, start a build in a thread and wait until it waits for the lock or starts the task."""
    other_machine = set_task_lock(make_task_lock_params_for_run(task)._replace(raise_task_lock_exception_on_collision=False))
    starting = threading.Event()

    @Once.event_handler(luigi.Event.START)
    def _started(started: Any) -> None:
        starting.set()

    run_locks_logger = logging.getLogger('gokart.run_locks')
    handler, level = _SignalsWaiting(starting), run_locks_logger.level
    run_locks_logger.addHandler(handler)
    run_locks_logger.setLevel(logging.INFO)
    thread = threading.Thread(target=gokart.build, args=(task,), kwargs={'reset_register': False, 'log_level': logging.INFO})
    thread.start()
    try:
        assert starting.wait(60)
    finally:
        Once.remove_event_handler(luigi.Event.START, _started)
        run_locks_logger.removeHandler(handler)
        run_locks_logger.setLevel(level)
    if finish_elsewhere:
        task.output().dump('made by the other machine')
    return thread, other_machine


def test_a_task_being_run_by_another_process_is_waited_for_and_then_skipped(redis_address: tuple[str, int], tmp_path: Any) -> None:
    host, port = redis_address
    task = Once(name='waits', redis_host=host, redis_port=port, workspace_directory=str(tmp_path))
    ran.clear()
    thread, other_machine = build_while_another_machine_holds_the_run_lock(task, finish_elsewhere=True)
    other_machine.release()
    thread.join(60)
    assert not thread.is_alive()
    assert ran == []
    assert task.output().load() == 'made by the other machine'


def test_redis_run_once_false_opts_out(redis_address: tuple[str, int], tmp_path: Any) -> None:
    host, port = redis_address
    task = Twice(name='opted out', redis_host=host, redis_port=port, workspace_directory=str(tmp_path))
    ran.clear()
    thread, other_machine = build_while_another_machine_holds_the_run_lock(task, finish_elsewhere=False)
    thread.join(60)  # the build does not wait for the lock
    assert not thread.is_alive()
    other_machine.release()
    assert ran == ['opted out']
