"""The task tree as text, the task table as a DataFrame, and dumps of both."""

from __future__ import annotations

import os
from typing import Any

from gokart.target import make_target
from gokart.task import TaskOnKart
from gokart.tree.task_info_formatter import make_task_info_tree, make_tree_info, make_tree_info_table_list


def make_task_info_as_tree_str(
    task: TaskOnKart[Any], details: bool = False, abbr: bool = True, ignore_task_names: list[str] | None = None
) -> str:
    """The dependency tree as text; ``abbr`` prints a repeated subtree once, ``details`` adds parameters, outputs and times."""
    task_info = make_task_info_tree(task, ignore_task_names=ignore_task_names)
    return make_tree_info(task_info, indent='', last=True, details=details, abbr=abbr, visited_tasks=set())


def make_task_info_as_table(task: TaskOnKart[Any], ignore_task_names: list[str] | None = None) -> Any:
    """One row per distinct task: name, unique_id, output_paths, params, processing_time, is_complete, task_log, requires."""
    import pandas as pd

    task_info = make_task_info_tree(task, ignore_task_names=ignore_task_names)
    return pd.DataFrame(make_tree_info_table_list(task_info=task_info, visited_tasks=set()))


def dump_task_info_table(task: TaskOnKart[Any], task_info_dump_path: str, ignore_task_names: list[str] | None = None) -> None:
    """Write the table to ``task_info_dump_path`` with the root's unique id inserted; the format follows the extension."""
    table = make_task_info_as_table(task=task, ignore_task_names=ignore_task_names)
    make_target(file_path=task_info_dump_path, unique_id=task.make_unique_id()).dump(obj=table, lock_at_dump=False)


def dump_task_info_tree(
    task: TaskOnKart[Any], task_info_dump_path: str, ignore_task_names: list[str] | None = None, use_unique_id: bool = True
) -> None:
    """Pickle the TaskInfo tree to ``task_info_dump_path`` (which must end in ``.pkl``)."""
    extension = os.path.splitext(task_info_dump_path)[1]
    if extension != '.pkl':
        raise AssertionError(f'File extention must be `.pkl`, not `{extension}`.')
    task_info = make_task_info_tree(task, ignore_task_names=ignore_task_names)
    unique_id = task.make_unique_id() if use_unique_id else None
    make_target(file_path=task_info_dump_path, unique_id=unique_id).dump(obj=task_info, lock_at_dump=False)


__all__ = ['make_task_info_as_tree_str', 'make_task_info_as_table', 'dump_task_info_table', 'dump_task_info_tree']
