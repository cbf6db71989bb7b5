"""gokart.core.dag: the one place that follows requires(): checked requirements and a walk over the DAG."""

from __future__ import annotations

import luigi
import pytest

import gokart
from gokart.core import dag
from gokart.errors import RequiresError
from gokart.execution import make_plan


class DagCountedLeaf(gokart.TaskOnKart[str]):
    """A leaf that counts how often requires() is asked."""

    task_namespace = 'test_dag'
    name = luigi.Parameter()
    calls: dict[str, int] = {}

    def requires(self):  # type: ignore[no-untyped-def]
        DagCountedLeaf.calls[self.name] = DagCountedLeaf.calls.get(self.name, 0) + 1
        return []

    def run(self) -> None:
        self.dump(self.name)


class DagCountedRoot(gokart.TaskOnKart[str]):
    task_namespace = 'test_dag'
    calls = 0

    def requires(self):  # type: ignore[no-untyped-def]
        DagCountedRoot.calls += 1
        return {'a': DagCountedLeaf(name='a'), 'b': [DagCountedLeaf(name='b'), DagCountedLeaf(name='a')]}

    def run(self) -> None:
        self.dump('root')


class DagBrokenRequires(gokart.TaskOnKart[str]):
    task_namespace = 'test_dag'

    def requires(self):  # type: ignore[no-untyped-def]
        raise KeyError('missing')


class DagNotATask(gokart.TaskOnKart[str]):
    task_namespace = 'test_dag'

    def requires(self):  # type: ignore[no-untyped-def]
        return ['not a task']


def test_planning_a_build_asks_requires_of_the_root_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The unique id computed during planning lists the requirements; the planner takes that list."""
    DagCountedRoot.calls = 0
    root = DagCountedRoot(workspace_directory=str(tmp_path))
    plan = make_plan([root])
    assert DagCountedRoot.calls == 1
    assert len(plan.tasks) == 3  # root and the two distinct leaves


def test_walk_yields_each_task_once_root_first_in_requires_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = DagCountedRoot(workspace_directory=str(tmp_path))
    walked = list(dag.walk([root]))
    assert walked[0] is root
    assert [t.name for t in walked[1:]] == ['a', 'b']


def test_walk_with_include_neither_yields_nor_follows_excluded_tasks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = DagCountedRoot(workspace_directory=str(tmp_path))
    assert list(dag.walk([root], include=lambda t: t is root)) == [root]


def test_requirements_name_the_task_whose_requires_fails() -> None:
    with pytest.raises(RequiresError, match=r'requires\(\) of DagBrokenRequires.*KeyError'):
        dag.requirements(DagBrokenRequires())


def test_requirements_reject_what_is_not_a_task() -> None:
    with pytest.raises(RequiresError, match='DagNotATask'):
        dag.requirements(DagNotATask())
