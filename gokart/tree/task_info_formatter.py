"""Collect what is known about each task of a DAG and format it as gokart 1.12's text tree.

Both the collection and the formatting walk the DAG with explicit stacks, so a chain of any depth
works, and identical subtrees are collected once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import luigi

from gokart.core import dag
from gokart.task import TaskOnKart
from gokart.utils import flatten, map_flattenable_items


class RequiredTask(NamedTuple):
    name: str
    unique_id: str


@dataclass
class TaskInfo:
    name: str
    unique_id: str
    output_paths: list[str]
    params: dict[str, str]
    processing_time: str
    is_complete: str
    task_log: dict[str, Any]
    requires: Any
    children_task_infos: list[TaskInfo] = field(default_factory=list)

    def get_task_id(self) -> str:
        return f'{self.name}_{self.unique_id}'

    def get_task_title(self) -> str:
        return f'({self.is_complete}) {self.name}[{self.unique_id}]'

    def get_task_detail(self) -> str:
        return f'(parameter={self.params}, output={self.output_paths}, time={self.processing_time}, task_log={self.task_log})'

    def task_info_dict(self) -> dict[str, Any]:
        return dict(
            name=self.name,
            unique_id=self.unique_id,
            output_paths=self.output_paths,
            params=self.params,
            processing_time=self.processing_time,
            is_complete=self.is_complete,
            task_log=self.task_log,
            requires=self.requires,
        )


def make_task_info_tree(
    task: TaskOnKart[Any], ignore_task_names: list[str] | None = None, cache: dict[str, TaskInfo] | None = None
) -> TaskInfo:
    """The TaskInfo tree of ``task``; children whose class name is in ``ignore_task_names`` are left out."""
    cache = {} if cache is None else cache
    ignored = set(ignore_task_names or ())
    # Post-order with an explicit stack; `first_child` marks where a task's children start in `results`.
    results: list[TaskInfo] = []
    stack: list[tuple[Any, TaskInfo | None, int]] = [(task, None, 0)]
    while stack:
        current, info, first_child = stack.pop()
        if info is not None:
            info.children_task_infos = results[first_child:]
            del results[first_child:]
            results.append(info)
            continue
        info, is_cached = _collect(current, cache)
        if is_cached:
            results.append(info)
            continue
        stack.append((current, info, len(results)))
        children = [c for c in dag.requirements(current) if type(c).__name__ not in ignored]
        stack.extend((child, None, 0) for child in reversed(children))
    return results[0]


def _make_requires_info(requires: Any) -> Any:
    """gokart 1.12's helper: what ``requires()`` returned, each task as its ``RequiredTask`` (name, unique id).

    Dicts keep their keys; lists, tuples and other iterables become lists. Anything else is a
    ``TypeError`` naming its type, as in 1.12.
    """
    if isinstance(requires, luigi.Task):
        make_unique_id = getattr(requires, 'make_unique_id', None)
        unique_id = make_unique_id() if callable(make_unique_id) else requires.task_id
        return RequiredTask(name=type(requires).__name__, unique_id=unique_id)
    if isinstance(requires, dict):
        return {key: _make_requires_info(value) for key, value in requires.items()}
    if isinstance(requires, Iterable) and not isinstance(requires, (str, bytes)):
        return [_make_requires_info(item) for item in requires]
    raise TypeError(
        f'`requires` has unexpected type {type(requires)}. Must be `TaskOnKart`, `Iterable[TaskOnKart]`, or `Dict[str, TaskOnKart]`: '
        'return tasks, lists or dicts of tasks from requires().'
    )


def _collect(task: Any, cache: dict[str, TaskInfo]) -> tuple[TaskInfo, bool]:
    is_complete = 'COMPLETE' if task.complete() else 'PENDING'
    name = type(task).__name__
    unique_id = task.make_unique_id()
    key = f'{name}_{unique_id}_{is_complete}'
    if key in cache:
        return cache[key], True
    processing_time = task.get_processing_time() if hasattr(task, 'get_processing_time') else 'unknown'
    info = TaskInfo(
        name=name,
        unique_id=unique_id,
        output_paths=[t.path() for t in flatten(task.output())],
        params=task.get_info(only_significant=True),
        processing_time=f'{processing_time}s' if isinstance(processing_time, float) else 'unknown',
        is_complete=is_complete,
        task_log=task.get_task_log(),
        requires=map_flattenable_items(lambda t: RequiredTask(name=type(t).__name__, unique_id=t.make_unique_id()), task.requires()),
    )
    cache[key] = info
    return info, False


def make_tree_info(
    task_info: TaskInfo,
    indent: str = '',
    last: bool = True,
    details: bool = False,
    abbr: bool = True,
    visited_tasks: set[str] | None = None,
    ignore_task_names: list[str] | None = None,
) -> str:
    """The text tree: one line per task, ``└─-`` for the last child and ``|--`` otherwise."""
    visited = set() if visited_tasks is None else visited_tasks
    pieces: list[str] = []
    stack: list[tuple[TaskInfo, str, bool]] = [(task_info, indent, last)]
    while stack:
        info, line_indent, is_last = stack.pop()
        child_indent = line_indent + ('   ' if is_last else '|  ')
        pieces.append('\n' + line_indent + ('└─-' if is_last else '|--') + info.get_task_title())
        if details:
            pieces.append(info.get_task_detail())
        if abbr:
            task_id = info.get_task_id()
            if task_id in visited:
                pieces.append('\n' + child_indent + '└─- ...')
                continue
            visited.add(task_id)
        children = info.children_task_infos
        for position in range(len(children) - 1, -1, -1):
            stack.append((children[position], child_indent, position == len(children) - 1))
    return ''.join(pieces)


def make_tree_info_table_list(task_info: TaskInfo, visited_tasks: set[str] | None = None) -> list[dict[str, Any]]:
    """One row per distinct task, in depth-first preorder."""
    visited = set() if visited_tasks is None else visited_tasks
    rows: list[dict[str, Any]] = []
    stack = [task_info]
    while stack:
        info = stack.pop()
        task_id = info.get_task_id()
        if task_id in visited:
            continue
        visited.add(task_id)
        rows.append(info.task_info_dict())
        stack.extend(reversed(info.children_task_infos))
    return rows
