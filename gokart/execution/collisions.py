"""No silent collisions: outputs two tasks would share, log/ records two classes would share.

gokart 1.12 lets two different tasks of one DAG resolve to the same output path (a fixed
``make_target`` path with ``use_unique_id=False``, or upstream tasks left out of the id with
``significant=False``): the second then silently reuses or overwrites the first's output. A build
refuses that at plan time, naming both tasks and the path. ``log/`` records are named
``{ClassName}_{unique_id}`` without the module, so two classes of the same name in different modules
or namespaces, with the same parameters, overwrite each other's records: that is a warning, once.

One pass over the planned tasks; each task's targets are cached, so it costs a few dict operations
per output.
"""

from __future__ import annotations

import logging
import os
import posixpath
import warnings
from collections.abc import Iterable
from typing import Any

from gokart.errors import GokartError, describe_task
from gokart.utils import flatten

logger = logging.getLogger(__name__)


class OutputCollisionError(GokartError):
    """Two different tasks of one build would write the same output path."""


class LogRecordCollisionWarning(UserWarning):
    """Two task classes of the same name would write the same ``log/`` records."""


_warned_log_collisions: set[tuple[str, str, str]] = set()


def check_collisions(tasks: Iterable[Any]) -> None:
    """Raise ``OutputCollisionError`` if two of ``tasks`` have an output path in common; warn about shared log records."""
    from gokart.target import TargetOnKart
    from gokart.task import TaskOnKart

    writer_of: dict[str, Any] = {}
    class_of_record: dict[tuple[str, str], type] = {}
    # isinstance against an ABC (luigi's task metaclass, TargetOnKart) is slow: ask once per class.
    task_classes: dict[type, bool] = {}
    target_classes: dict[type, bool] = {}
    for task in tasks:
        cls = type(task)
        is_kart = task_classes.get(cls)
        if is_kart is None:
            is_kart = task_classes[cls] = issubclass(cls, TaskOnKart)
        if not is_kart:
            continue
        try:
            outputs = task.output()
            unique_id = task.make_unique_id()
        except Exception:
            continue  # planning reports a task whose output() fails
        for target in flatten(outputs) if type(outputs) in (list, tuple, dict) else (outputs,):
            target_type = type(target)
            is_target = target_classes.get(target_type)
            if is_target is None:
                is_target = target_classes[target_type] = issubclass(target_type, TargetOnKart)
            if is_target:
                path = target.path()
                writer = writer_of.setdefault(path, task)
                if writer is not task:
                    raise OutputCollisionError(_collision_message(writer, task, path))
        seen = class_of_record.setdefault((cls.__name__, unique_id), cls)
        if seen is not cls and task.should_dump_supplementary_log_files:
            _warn_log_collision(seen, cls, unique_id)


class OutsideWorkspaceWarning(UserWarning):
    """A task's output path leaves its workspace."""


_warned_outside: set[tuple[str, str]] = set()


def warn_if_outside_workspace(task: Any, relative_path: str, workspace: str) -> None:
    """Warn once when ``make_target(relative_path)`` of ``task`` resolves outside ``workspace`` (``..`` or an absolute path).

    gokart 1.12 allows it and some pipelines write to shared paths on purpose, so it stays allowed;
    but such an output is shared by every workspace, and workspace cleaning never sees it.
    """
    if _inside(relative_path, workspace):
        return
    resolved = os.path.join(workspace, relative_path)
    key = (type(task).__name__, relative_path)
    if key in _warned_outside:
        return
    _warned_outside.add(key)
    warnings.warn(
        f'{describe_task(task)} writes {relative_path}, which resolves to {resolved}, outside its workspace {workspace}. '
        'Every workspace shares that file and workspace cleaning never sees it; use a path inside the workspace unless that is the point.',
        OutsideWorkspaceWarning,
        stacklevel=4,
    )


def _inside(relative_path: str, workspace: str) -> bool:
    if not os.path.isabs(relative_path) and '..' not in relative_path.replace('\\', '/').split('/'):
        return True  # the common case, decided without normalizing anything
    if '://' in workspace:
        workspace = workspace.split('://', 1)[1]
        joined, root = posixpath.normpath(posixpath.join(workspace, relative_path)), posixpath.normpath(workspace)
        return joined == root or joined.startswith(root.rstrip('/') + '/')
    joined, root = os.path.normpath(os.path.join(workspace, relative_path)), os.path.normpath(workspace)
    return joined == root or joined.startswith(root.rstrip(os.sep) + os.sep)


def _collision_message(first: Any, second: Any, path: str) -> str:
    return (
        f'{describe_task(first)} and {describe_task(second)} both write {path}: the second would overwrite or reuse the '
        "first's output. Give each its own path: keep the unique id in the file name (make_target's use_unique_id=True), "
        'or make the parameters that tell them apart significant.'
    )


def _warn_log_collision(first: type, second: type, unique_id: str) -> None:
    key = (_qualified(first), _qualified(second), unique_id)
    if key in _warned_log_collisions:
        return
    _warned_log_collisions.add(key)
    warnings.warn(
        f'{_qualified(first)} and {_qualified(second)} have the same class name and unique id {unique_id}, so their log/ records '
        f'(log/*/{first.__name__}_{unique_id}.*) overwrite each other. Rename one of the classes.',
        LogRecordCollisionWarning,
        stacklevel=2,
    )


def _qualified(cls: type) -> str:
    family = getattr(cls, 'get_task_family', None)
    name = family() if callable(family) else cls.__name__
    return f'{cls.__module__}.{cls.__qualname__} ({name})' if name != cls.__name__ else f'{cls.__module__}.{cls.__qualname__}'


__all__ = ['OutputCollisionError', 'LogRecordCollisionWarning', 'OutsideWorkspaceWarning', 'check_collisions', 'warn_if_outside_workspace']
