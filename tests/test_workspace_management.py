"""delete_local_unnecessary_outputs on a local workspace, including the default ``./resources/``."""

from __future__ import annotations

import os

import luigi

import gokart
from gokart.workspace_management import delete_local_unnecessary_outputs, unnecessary_outputs


class Part(gokart.TaskOnKart[int]):
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class Whole(gokart.TaskOnKart[int]):
    part = gokart.TaskInstanceParameter()

    def run(self) -> None:
        self.dump(self.load(self.part) + 1)


def test_default_workspace_keeps_the_dag_outputs_and_logs() -> None:
    whole = Whole(part=Part(i=1))
    gokart.build(whole)
    stale = Part(i=2)
    gokart.build(stale)
    with open('./resources/notes.txt', 'w') as f:
        f.write('unrelated')
    assert sorted(os.path.normpath(p) for p in unnecessary_outputs(whole)) == sorted(
        [os.path.normpath(stale.output().path()), os.path.normpath('./resources/notes.txt')]
    )
    delete_local_unnecessary_outputs(whole)
    assert whole.output().exists() and Part(i=1).output().exists()
    assert not stale.output().exists()
    assert os.path.exists(f'./resources/log/task_params/Part_{stale.make_unique_id()}.pkl')


def test_nothing_to_delete_is_fine() -> None:
    task = Part(i=5, workspace_directory='ws')
    gokart.build(task)
    delete_local_unnecessary_outputs(task)
    assert task.output().exists()
