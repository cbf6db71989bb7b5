"""Run locks on a local workspace: where they live, that they exclude other processes and threads,
and that a waiting process skips a task finished meanwhile."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import luigi
import pytest

import gokart
from gokart.conflict_prevention_lock import file_lock
from gokart.conflict_prevention_lock.file_lock import LOCK_DIRECTORY
from gokart.execution.completion_check import complete_if_checked
from gokart.run_locks.file import FileRunLock
from gokart.run_locks.selection import lock_for
from gokart.workspace_management import delete_local_unnecessary_outputs


class Step(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


@pytest.fixture(params=['shared-file', 'file-per-task'], autouse=True)
def lock_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with the Linux shared lock file and with the portable lock file per task."""
    if request.param == 'shared-file' and not file_lock._USE_SHARED_FILE:
        pytest.skip('the shared lock file is Linux only')
    monkeypatch.setattr(file_lock, '_USE_SHARED_FILE', request.param == 'shared-file')
    return str(request.param)


@contextmanager
def task_run_lock(task: Step) -> Iterator[bool]:
    """What the executor does around a task on a local workspace: hold its file run lock; True when it must still run."""
    lock = lock_for(task)
    assert isinstance(lock, FileRunLock)
    with lock.held():
        yield not complete_if_checked(task)


def _lock_files(workspace: Path) -> list[str]:
    directory = workspace / LOCK_DIRECTORY
    return sorted(os.listdir(directory)) if directory.exists() else []


def test_a_build_leaves_one_lock_file_however_many_tasks_ran(tmp_path: Path, lock_kind: str) -> None:
    for i in range(5):
        gokart.build(Step(i=i, workspace_directory=str(tmp_path)))
    if lock_kind == 'shared-file':
        assert _lock_files(tmp_path) == [file_lock.SHARED_LOCK_FILE]
    else:
        assert len(_lock_files(tmp_path)) == 5
    assert not isinstance(lock_for(Step(i=0, workspace_directory='s3://bucket/ws')), FileRunLock)  # remote workspaces are not file-locked


def test_run_lock_says_whether_the_task_still_has_to_run(tmp_path: Path) -> None:
    task = Step(i=2, workspace_directory=str(tmp_path))
    with task_run_lock(task) as must_run:
        assert must_run
        task.run()
    with task_run_lock(task) as must_run:
        assert not must_run  # another process finished it while we waited
    unchecked = Step(i=2, workspace_directory=str(tmp_path), complete_check_at_run=False)
    with task_run_lock(unchecked) as must_run:
        assert must_run


def _hold_lock(
    workspace: str, i: int, shared_file: bool, locked: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:
    file_lock._USE_SHARED_FILE = shared_file
    with task_run_lock(Step(i=i, workspace_directory=workspace)):
        locked.set()
        release.wait(30)


def _acquired_within(workspace: str, i: int, seconds: float, thread: ThreadPoolExecutor | None = None) -> bool:
    """Try to take the lock of Step(i) on another thread (by default a new one); True when it got it in time."""
    acquired = threading.Event()

    def take() -> None:
        with task_run_lock(Step(i=i, workspace_directory=workspace)):
            acquired.set()

    pool = thread or ThreadPoolExecutor(max_workers=1)
    pool.submit(take)
    got_it = acquired.wait(seconds)
    if thread is None:
        pool.shutdown(wait=False)
    return got_it


@contextmanager
def _held_by_another_process(workspace: Path, i: int) -> Iterator[None]:
    """Within the block, a spawned process holds the run lock of Step(i) on ``workspace``."""
    context = multiprocessing.get_context('spawn')
    locked, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(workspace), i, file_lock._USE_SHARED_FILE, locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        yield
    finally:
        release.set()
        holder.join(30)


def test_lock_held_by_another_process_blocks_the_same_task_only(tmp_path: Path) -> None:
    with _held_by_another_process(tmp_path, 1):
        assert _acquired_within(str(tmp_path), 2, 5.0), 'another task must not wait for this lock'
        assert not _acquired_within(str(tmp_path), 1, 0.5), 'the same task must wait while the other process holds its lock'
    assert _acquired_within(str(tmp_path), 1, 5.0)


def test_lock_excludes_threads_of_one_process(tmp_path: Path) -> None:
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def enter() -> None:
        nonlocal inside, most_inside
        with task_run_lock(Step(i=7, workspace_directory=str(tmp_path), complete_check_at_run=False)):
            with guard:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.05)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=enter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most_inside == 1


def test_deleted_lock_file_is_made_again_and_still_excludes(tmp_path: Path, lock_kind: str) -> None:
    if lock_kind != 'shared-file':
        pytest.skip('only the shared lock file is kept open between tasks')
    thread = ThreadPoolExecutor(max_workers=1)  # the thread that keeps the lock file open
    thread.submit(gokart.build, Step(i=1, workspace_directory=str(tmp_path))).result()
    (tmp_path / LOCK_DIRECTORY / file_lock.SHARED_LOCK_FILE).unlink()
    try:
        with _held_by_another_process(tmp_path, 3):
            # This process still has the deleted file open; it must notice and lock the new one.
            assert not _acquired_within(str(tmp_path), 3, 0.5, thread)
    finally:
        thread.shutdown(wait=True)


def test_cleanup_keeps_lock_files(tmp_path: Path) -> None:
    gokart.build(Step(i=3, workspace_directory=str(tmp_path)))
    before = _lock_files(tmp_path)
    assert before
    delete_local_unnecessary_outputs(Step(i=4, workspace_directory=str(tmp_path)))
    assert _lock_files(tmp_path) == before


class _CountsCompletionChecks(gokart.TaskOnKart[int]):
    checks: list[str] = []

    def complete(self) -> bool:
        _CountsCompletionChecks.checks.append(self.workspace_directory)
        return super().complete()

    def run(self) -> None:
        self.dump(1)


def test_a_task_found_incomplete_under_its_lock_is_not_checked_again_by_run(tmp_path: Path) -> None:
    _CountsCompletionChecks.checks = []
    task = _CountsCompletionChecks(workspace_directory=str(tmp_path))
    gokart.build(task)
    assert len(_CountsCompletionChecks.checks) == 2  # once by the planner, once under the lock; not again in run()
    _CountsCompletionChecks.checks = []
    task.run()  # outside the executor, run() still checks and skips the complete task
    assert len(_CountsCompletionChecks.checks) == 1


class _Pair(gokart.TaskOnKart[int]):
    task_namespace = 'test_locks_file_chdir'
    n = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.n)


class _PairRoot(gokart.TaskOnKart[int]):
    task_namespace = 'test_locks_file_chdir'

    def requires(self):
        return [_Pair(n=1), _Pair(n=2)]

    def run(self) -> None:
        self.dump(sum(self.load()))


def test_a_relative_workspace_in_a_new_directory_is_not_taken_for_an_unwritable_one(tmp_path: Path, monkeypatch) -> None:
    # A notebook that changes directory between builds: './resources/.gokart-locks' was made in the
    # first directory, and must be made again in the second rather than reported unwritable.
    for name in ('first', 'second'):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        with warnings.catch_warnings():
            warnings.simplefilter('error', file_lock.UnwritableLockDirectoryWarning)
            assert gokart.build(_PairRoot(), workers=2) == 3
        assert (tmp_path / name / 'resources' / LOCK_DIRECTORY).is_dir()
