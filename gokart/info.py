"""``tree_info``: the holder of ``--tree-info-mode`` / ``--tree-info-output-path``, and ``make_tree_info``."""

from __future__ import annotations

from typing import Any

import luigi

from gokart.task import TaskOnKart
from gokart.tree.task_info import make_task_info_as_tree_str


def make_tree_info(
    task: TaskOnKart[Any],
    indent: str = '',
    last: bool = True,
    details: bool = False,
    abbr: bool = True,
    visited_tasks: set[str] | None = None,
    ignore_task_names: list[str] | None = None,
) -> str:
    """Old name of ``make_task_info_as_tree_str``; ``indent``, ``last`` and ``visited_tasks`` are ignored."""
    return make_task_info_as_tree_str(task=task, details=details, abbr=abbr, ignore_task_names=ignore_task_names)


class tree_info(TaskOnKart[Any]):  # noqa: N801 - the name is the command-line prefix --tree-info-*
    mode: str = luigi.Parameter(default='', description='simple or all')  # type: ignore[assignment]
    output_path: str = luigi.Parameter(default='tree.txt', description='output file path')  # type: ignore[assignment]

    def output(self) -> Any:
        return self.make_target(self.output_path, use_unique_id=False)
