"""Task classes named in text, and tasks recorded as text: what commands and the runs index read back.

A user names a task as ``module:Class`` (or ``module.Class``, or a family luigi has registered) on the
``gokart`` command line and in ``gokart.runs``; a TaskInstanceParameter's recorded value is the JSON of
its family and bz2-compressed parameters. Both are read here, once, for every layer above.
"""

from __future__ import annotations

import bz2
import difflib
import importlib
import json

import luigi

from gokart.errors import TaskNameError


def task_class_named(spec: str) -> type:
    """The luigi task class named ``module:Class``, ``module.Class`` or a bare registered family."""
    module_name, separator, class_name = spec.partition(':')
    if not separator:
        module_name, _, class_name = spec.rpartition('.')
    if module_name:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise TaskNameError(f'{spec}: cannot import {module_name} ({e}); name the task as module:Class, importable from here') from e
        found = getattr(module, class_name, None)
        if found is None:
            tasks = [
                n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, luigi.Task) and v.__module__ == module.__name__
            ]
            close = difflib.get_close_matches(class_name, tasks, n=1, cutoff=0.6)
            hint = (
                f'; did you mean {module_name}:{close[0]}?'
                if close
                else (f'; its task classes are {", ".join(sorted(tasks))}' if tasks else '')
            )
            raise TaskNameError(f'{spec}: {module_name} has no {class_name}{hint}')
    else:
        try:
            found = luigi.task_register.Register.get_task_cls(class_name)
        except luigi.task_register.TaskClassException as e:
            raise TaskNameError(f'{spec}: no task class of that name is registered; name it as module:Class') from e
    if not (isinstance(found, type) and issubclass(found, luigi.Task)):
        raise TaskNameError(f'{spec} is not a luigi task class')
    return found


def decoded_task_instance(value: str | None) -> tuple[str, dict[str, str]] | None:
    """``(family, params)`` of a serialized TaskInstanceParameter value, or None for any other value."""
    if not value or not value.startswith('{'):
        return None
    try:
        data = json.loads(value)
        if not isinstance(data, dict) or set(data) != {'type', 'params'}:
            return None
        params = json.loads(bz2.decompress(bytes.fromhex(data['params'])).decode())
        return str(data['type']), {str(k): str(v) for k, v in params.items()}
    except Exception:  # any other text that starts with "{"
        return None
