"""A warning for the script that is also a module: ``python mypipe.py`` and ``import mypipe`` write two caches.

A task's default output goes under ``{workspace}/{module}/``. A class defined in the script that
Python runs belongs to the module ``__main__``, so ``python mypipe.py`` writes to
``resources/__main__/`` while a notebook or another script that does ``import mypipe`` writes the very
same tasks to ``resources/mypipe/``: each way recomputes everything the other cached. gokart 1.12
does the same, and ids and paths must stay its own, so nothing is moved; instead, the first time a
task of ``__main__`` starts in a local workspace that already holds outputs of its class under the
script's module name, one warning says so and what to do.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import luigi

from gokart.storage import filesystem as storage

_warned: set[tuple[str, str]] = set()


class TwoCachesWarning(UserWarning):
    """The same task class has outputs under ``__main__/`` and under its module's name in one workspace."""


def register(task_class: Any) -> None:
    """Check each task of ``__main__`` as it starts (luigi's START event; once per class and workspace)."""
    task_class.event_handler(luigi.Event.START)(warn_about_two_caches)


def warn_about_two_caches(task: Any) -> None:
    cls = type(task)
    if cls.__module__ != '__main__':
        return
    workspace = getattr(task, 'workspace_directory', None)
    key = (str(workspace), cls.__name__)
    if key in _warned:  # checked once per class and workspace
        return
    _warned.add(key)
    module = script_module_name()
    if not isinstance(workspace, str) or module is None or not storage.is_local(workspace):
        return
    other = os.path.join(storage.local_path(workspace), *module.split('.'))
    try:
        names = os.listdir(other)
    except OSError:
        return
    if any(name.startswith(f'{cls.__name__}_') for name in names):
        warnings.warn(
            f'{cls.__name__} runs as __main__.{cls.__name__} (the script was started directly), so its outputs go to '
            f'{os.path.join(workspace, "__main__")}/, but {other}/ already holds outputs of {module}.{cls.__name__} '
            f'from runs that imported the module {module}. These are two separate caches (as in gokart 1.12): start the '
            f'pipeline the same way each time, or define the tasks in a module that the script imports.',
            TwoCachesWarning,
            stacklevel=1,
        )


def script_module_name() -> str | None:
    """The name the ``__main__`` script has when imported: ``pkg.mod`` under ``python -m``, else the file's stem."""
    main = sys.modules.get('__main__')
    spec = getattr(main, '__spec__', None)
    if spec is not None and getattr(spec, 'name', None) and spec.name != '__main__':
        return str(spec.name)
    path = getattr(main, '__file__', None)
    if not isinstance(path, str):
        return None  # an interactive session or a notebook: nothing else to collide with
    return os.path.splitext(os.path.basename(path))[0]


__all__ = ['TwoCachesWarning', 'register', 'script_module_name', 'warn_about_two_caches']
