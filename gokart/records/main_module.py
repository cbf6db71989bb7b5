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
import re
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
    """The check of one starting task, for builds that did not check their tasks up front (``warn_before_build``)."""
    warn_before_build([task])


def warn_before_build(tasks: list[Any]) -> None:
    """One warning for all the tasks of ``__main__`` among ``tasks`` whose class also has outputs under the script's module name.

    Called by a build before it forks its workers, so they inherit which classes were checked and none
    of them warns again: one warning per build, not one per worker or per class.
    """
    module: str | None = None
    module_known = False  # asked only once a task of __main__ needs it: every task's START event calls this
    found: dict[str, list[str]] = {}  # workspace -> class names with outputs under the module's directory
    for task in tasks:
        cls = type(task)
        if cls.__module__ != '__main__':
            continue
        workspace = getattr(task, 'workspace_directory', None)
        key = (str(workspace), cls.__name__)
        if key in _warned:  # checked once per class and workspace
            continue
        _warned.add(key)
        if not module_known:
            module, module_known = script_module_name(), True
        if not isinstance(workspace, str) or module is None or not storage.is_local(workspace):
            continue
        if _has_outputs(os.path.join(storage.local_path(workspace), *module.split('.')), cls.__name__):
            found.setdefault(workspace, []).append(cls.__name__)
    for workspace, names in found.items():
        warnings.warn(two_caches_message(names, workspace, str(module)), TwoCachesWarning, stacklevel=2)


def two_caches_message(names: list[str], workspace: str, module: str, planned_as_module: bool = False) -> str:
    """The warning's text for all the classes concerned: the two directories, and what to do."""
    classes = ', '.join(names)
    other = os.path.join(workspace, *module.split('.'))
    main = os.path.join(workspace, '__main__')
    if planned_as_module:  # gokart plan imports the module; the script started directly writes elsewhere
        return (
            f'{classes} of {module} are planned here under their module name (outputs in {other}/), but {module} is a script '
            f'that runs gokart.run(): started directly (python {module.replace(".", "/")}.py ...) it runs them as __main__, '
            f'whose outputs go to {main}/, a second cache (as in gokart 1.12); start the pipeline the same way each time, '
            'or define the tasks in a module that the script imports.'
        )
    return (
        f'{classes} run as __main__ (the script was started directly), so their outputs go to {main}/, but {other}/ already '
        f'holds outputs of the same classes from runs that imported the module {module}; these are two separate caches (as in '
        'gokart 1.12): start the pipeline the same way each time, or define the tasks in a module that the script imports.'
    )


def _has_outputs(directory: str, class_name: str) -> bool:
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(name.startswith(f'{class_name}_') for name in names)


def plan_warning(tasks: list[Any]) -> str | None:
    """What ``gokart plan`` says when the planned tasks' module is a script that runs ``gokart.run()`` when started directly.

    The plan imports the module, so it looks at the outputs under the module's name; ``python script.py``
    would run the same classes as ``__main__`` and use ``__main__/``. Said when a workspace holds outputs
    of those classes in either directory, so the two caches are real.
    """
    by_module: dict[tuple[str, str], list[str]] = {}
    for task in tasks:
        cls = type(task)
        workspace = getattr(task, 'workspace_directory', None)
        if cls.__module__ == '__main__' or not isinstance(workspace, str) or not storage.is_local(workspace):
            continue
        if not _runs_as_script(cls.__module__):
            continue
        names = by_module.setdefault((cls.__module__, workspace), [])
        if cls.__name__ not in names:
            names.append(cls.__name__)
    for (module, workspace), names in sorted(by_module.items()):
        root = storage.local_path(workspace)
        directories = (os.path.join(root, '__main__'), os.path.join(root, *module.split('.')))
        if any(_has_outputs(directory, name) for directory in directories for name in names):
            return two_caches_message(names, workspace, module, planned_as_module=True)
    return None


_MAIN_GUARD = re.compile(r"""if\s+__name__\s*==\s*['"]__main__['"]\s*:""")


def _runs_as_script(module_name: str) -> bool:
    """Whether the module's file calls ``run(`` (``gokart.run()``) under ``if __name__ == '__main__'``."""
    path = getattr(sys.modules.get(module_name), '__file__', None)
    if not isinstance(path, str) or not path.endswith('.py'):
        return False
    try:
        with open(path, encoding='utf-8') as f:
            source = f.read()
    except (OSError, UnicodeDecodeError):
        return False
    guard = _MAIN_GUARD.search(source)
    return guard is not None and re.search(r'\brun\(', source[guard.end() :]) is not None


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


__all__ = [
    'TwoCachesWarning',
    'plan_warning',
    'register',
    'script_module_name',
    'two_caches_message',
    'warn_about_two_caches',
    'warn_before_build',
]
