"""No silent collisions (issue 13, item 5): shared output paths fail at plan time, shared log/ records and
output paths outside the workspace warn once."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import luigi
import pytest

import gokart
from gokart.execution.collisions import LogRecordCollisionWarning, OutputCollisionError, OutsideWorkspaceWarning

ran: list[str] = []


class FixedPath(gokart.TaskOnKart[str]):
    """Writes one fixed file whatever its parameter: two instances collide."""

    day = luigi.Parameter()

    def output(self) -> Any:
        return self.make_target('shared/latest.pkl', use_unique_id=False)

    def run(self) -> None:
        ran.append(self.day)
        self.dump(self.day)


class BothDays(gokart.TaskOnKart[str]):
    def requires(self) -> Any:
        return [FixedPath(day=day, workspace_directory=self.workspace_directory) for day in ('monday', 'tuesday')]

    def run(self) -> None:
        self.dump(' '.join(self.load()))


def test_two_tasks_writing_one_path_fail_at_plan_time_naming_both(tmp_path: Path) -> None:
    ran.clear()
    with pytest.raises(OutputCollisionError) as raised:
        gokart.build(BothDays(workspace_directory=str(tmp_path)), reset_register=False)
    message = str(raised.value)
    monday, tuesday = (
        FixedPath(day='monday', workspace_directory=str(tmp_path)),
        FixedPath(day='tuesday', workspace_directory=str(tmp_path)),
    )
    assert monday.make_unique_id() in message and tuesday.make_unique_id() in message
    assert 'FixedPath' in message and str(tmp_path / 'shared' / 'latest.pkl') in message
    assert ran == []  # refused before anything ran


def same_named_class(module: str) -> type:
    return type('Twin', (gokart.TaskOnKart,), {'__module__': module, 'run': lambda self: self.dump('twin')})


def test_same_named_classes_whose_log_records_collide_warn_once(tmp_path: Path) -> None:
    first, second = same_named_class('pipeline_a'), same_named_class('pipeline_b')

    class Root(gokart.TaskOnKart[str]):
        def requires(self) -> Any:
            return [first(workspace_directory=self.workspace_directory), second(workspace_directory=self.workspace_directory)]

        def run(self) -> None:
            self.dump('root')

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        gokart.build(Root(workspace_directory=str(tmp_path)), reset_register=False)
        gokart.build(Root(workspace_directory=str(tmp_path), rerun=True), reset_register=False)
    found = [w for w in caught if issubclass(w.category, LogRecordCollisionWarning)]
    assert len(found) == 1
    assert 'pipeline_a.Twin' in str(found[0].message) and 'pipeline_b.Twin' in str(found[0].message)
    assert 'Rename one of the classes' in str(found[0].message)


class WritesOutside(gokart.TaskOnKart[str]):
    name = luigi.Parameter()

    def output(self) -> Any:
        return self.make_target('../shared_elsewhere/out.pkl')


class WritesInside(gokart.TaskOnKart[str]):
    def output(self) -> Any:
        return self.make_target('a/../b/out.pkl')


def test_an_output_path_leaving_the_workspace_warns_once_naming_task_and_path(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        WritesOutside(name='x', workspace_directory=str(tmp_path)).output()
        WritesOutside(name='y', workspace_directory=str(tmp_path)).output()
        WritesInside(workspace_directory=str(tmp_path)).output()
    found = [w for w in caught if issubclass(w.category, OutsideWorkspaceWarning)]
    assert len(found) == 1
    assert 'WritesOutside' in str(found[0].message) and '../shared_elsewhere/out.pkl' in str(found[0].message)


def test_an_absolute_output_path_warns(tmp_path: Path) -> None:
    class WritesAbsolute(gokart.TaskOnKart[str]):
        def output(self) -> Any:
            return self.make_target(str(tmp_path / 'elsewhere' / 'out.pkl'))

    with pytest.warns(OutsideWorkspaceWarning, match='WritesAbsolute'):
        WritesAbsolute(workspace_directory=str(tmp_path / 'workspace')).output()
