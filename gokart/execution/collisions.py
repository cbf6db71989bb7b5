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
import warnings
from collections.abc import Iterable
from typing import Any

from gokart.core.error_messages import describe_task
from gokart.core.task_protocol import is_kart_class
from gokart.errors import GokartError
from gokart.storage.output_path import OutsideWorkspaceWarning as OutsideWorkspaceWarning  # re-exported: its earlier home
from gokart.storage.output_path import warn_if_outside_workspace as warn_if_outside_workspace  # re-exported, likewise
from gokart.target import TargetOnKart
from gokart.utils import flatten

logger = logging.getLogger(__name__)


class OutputCollisionError(GokartError):
    """Two different tasks of one build would write the same output path."""


class LogRecordCollisionWarning(UserWarning):
    """Two task classes of the same name would write the same ``log/`` records."""


_warned_log_collisions: set[tuple[str, str, str]] = set()


def check_collisions(tasks: Iterable[Any]) -> None:
    """Raise ``OutputCollisionError`` if two of ``tasks`` have an output path in common; warn about shared log records."""
    writer_of: dict[str, Any] = {}
    class_of_record: dict[tuple[str, str], type] = {}
    # isinstance against an ABC (luigi's task metaclass, TargetOnKart) is slow: ask once per class.
    task_classes: dict[type, bool] = {}
    target_classes: dict[type, bool] = {}
    for task in tasks:
        cls = type(task)
        is_kart = task_classes.get(cls)
        if is_kart is None:
            is_kart = task_classes[cls] = is_kart_class(cls)
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
