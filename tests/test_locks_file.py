"""File locks on a local workspace: where they live, and that a waiting process skips a task finished meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import luigi

import gokart
from gokart.conflict_prevention_lock.file_lock import task_lock_path, task_run_lock
from gokart.workspace_management import delete_local_unnecessary_outputs


class Step(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


def test_lock_file_is_named_after_the_task_in_the_workspace(tmp_path: Path) -> None:
    task = Step(i=1, workspace_directory=str(tmp_path))
    assert task_lock_path(task) == os.path.join(str(tmp_path), '.gokart-locks', f'Step_{task.make_unique_id()}.lock')
    assert task_lock_path(Step(i=1, workspace_directory='s3://bucket/ws')) is None


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


def test_cleanup_keeps_lock_files(tmp_path: Path) -> None:
    task = Step(i=3, workspace_directory=str(tmp_path))
    gokart.build(task)
    lock = task_lock_path(task)
    assert lock is not None and os.path.exists(lock)
    delete_local_unnecessary_outputs(Step(i=4, workspace_directory=str(tmp_path)))
    assert os.path.exists(lock)
