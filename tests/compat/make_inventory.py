"""Write the inventory of gokart 1.12.2's modules and public names (gokart_1_12_2_names.json).

Run it with the reference interpreter, from a directory outside the repository so that the
installed gokart 1.12.2 is imported and not ours:

    cd /tmp && /work/main/.venv-ref/bin/python -m pip install --target /tmp/mypy_deps mypy
    cd /tmp && PYTHONPATH=/tmp/mypy_deps /work/main/.venv-ref/bin/python /work/main/tests/compat/make_inventory.py

(gokart.mypy needs mypy, which the reference venv does not install.)

For every module file of the installed package it records the public names (no leading
underscore) that a user could import from it, each with its kind: ``class``, ``function``,
``module`` (a gokart submodule reachable as an attribute) or ``constant``. Names bound to
stdlib or third-party modules are left out (``import os`` in a module is no API), and so are
typing helpers re-exported by accident (``Any``, ``Optional``, ...). It also records which
submodules are attributes of the package right after ``import gokart``.

The private surface that users' tests and tools touch is recorded too:
``private_module_names`` (module-level underscore names, filtered as the public ones),
``class_attributes`` (``dir()`` of every class gokart defines, at its defining module, less what
``object`` has) and ``instance_attributes`` (``vars()`` of a built task, its targets, processors,
zip client and in-memory repository, made by ``sample_instances``).
"""

from __future__ import annotations
import __future__

import argparse
import importlib
import importlib.metadata
import inspect
import json
import logging
import os
import sys
import types
import typing

TYPING_OBJECTS = {id(value) for value in vars(typing).values() if not isinstance(value, (bool, int, str, type(None)))}
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gokart_1_12_2_names.json')
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kind_of(value: object) -> str:
    """The kind of a public name, as the compatibility test checks it."""
    if isinstance(value, types.ModuleType):
        return 'module'
    if inspect.isclass(value):
        return 'class'
    if callable(value):
        return 'function'
    return 'constant'


def is_api(value: object) -> bool:
    """Whether a module-level value is part of gokart's surface rather than an import's by-product.

    Modules count when they are gokart's. Classes and functions count when gokart or luigi
    defines them: luigi is gokart's foundation and its names re-exported by gokart modules are
    reachable through them, while stdlib helpers (``getLogger``, ``dataclass``) and the mypy
    API imported by the plugin are not gokart's. Other values are constants unless they are
    loggers, ``from __future__`` features, type variables, parameter specs or instances of third-party classes.
    """
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith('gokart.')
    if id(value) in TYPING_OBJECTS or isinstance(value, (logging.Logger, __future__._Feature, typing.TypeVar, typing.ParamSpec)):
        return False
    if inspect.isclass(value) or callable(value):
        return top_level(getattr(value, '__module__', None) or '') in ('gokart', 'luigi')
    origin = top_level(type(value).__module__)
    return origin in ('gokart', 'luigi') or origin in sys.stdlib_module_names


def top_level(module_name: str) -> str:
    return module_name.split('.', 1)[0]


def public_names(module: types.ModuleType) -> dict[str, str]:
    names: dict[str, str] = {}
    for name in sorted(dir(module)):
        if name.startswith('_'):
            continue
        value = getattr(module, name)
        if getattr(typing, name, None) is value:
            continue  # TYPE_CHECKING and the typing helpers, whatever their value
        if is_api(value):
            names[name] = kind_of(value)
    return names


def private_names(module: types.ModuleType) -> dict[str, str]:
    """Module-level names with one leading underscore that are gokart's or luigi's (as ``is_api`` says)."""
    names: dict[str, str] = {}
    for name in sorted(vars(module)):
        if not name.startswith('_') or name.startswith('__'):
            continue
        value = getattr(module, name)
        if is_api(value):
            names[name] = kind_of(value)
    return names


def defined_classes(module: types.ModuleType) -> dict[str, type]:
    """The public classes ``module`` itself defines (re-exports are recorded where they are defined)."""
    return {
        name: value
        for name, value in sorted(vars(module).items())
        if not name.startswith('_') and inspect.isclass(value) and value.__module__ == module.__name__
    }


def class_attributes(cls: type) -> list[str]:
    return sorted(set(dir(cls)) - set(dir(object)) - {'__dict__', '__module__', '__weakref__', '__annotations__', '__orig_bases__'})


def sample_instances(workspace: str) -> dict[str, object]:
    """Instances of gokart's classes as a pipeline has them: a built task, its targets, processors, clients."""
    import luigi

    import gokart
    from gokart.file_processor import make_file_processor
    from gokart.in_memory import InMemoryCacheRepository
    from gokart.target import make_model_target
    from gokart.zip_client_util import make_zip_client

    class InventoryUpstream(gokart.TaskOnKart):
        def run(self):
            self.dump({'a': 1})

    class InventoryTask(gokart.TaskOnKart):
        value = luigi.IntParameter(default=1)

        def requires(self):
            return InventoryUpstream(workspace_directory=workspace)

        def run(self):
            self.dump(self.load())

    task = InventoryTask(workspace_directory=workspace)
    gokart.build(task, reset_register=False, log_level=logging.CRITICAL)
    instances: dict[str, object] = {
        'TaskOnKart (built)': task,
        'SingleFileTarget': task.output(),
        'ModelTarget': make_model_target(
            os.path.join(workspace, 'model.zip'),
            temporary_directory=os.path.join(workspace, 'tmp'),
            save_function=lambda obj, path: None,
            load_function=lambda path: None,
            unique_id='u',
        ),
        'LocalZipClient': make_zip_client(os.path.join(workspace, 'a.zip'), os.path.join(workspace, 'tmp')),
        'InMemoryCacheRepository': InMemoryCacheRepository(),
    }
    for extension in ['.txt', '.csv', '.tsv', '.pkl', '.gz', '.json', '.ndjson', '.xml', '.npz', '.parquet', '.feather', '.png']:
        processor = make_file_processor('x' + extension)
        instances[f'{type(processor).__name__} ({extension})'] = processor
    return instances


def instance_attributes(instances: dict[str, object]) -> dict[str, list[str]]:
    return {name: sorted(vars(instance)) for name, instance in instances.items()}


def module_names(root: str) -> list[str]:
    """Dotted names of every module file under the package directory ``root``.

    The file tree is walked rather than ``pkgutil.walk_packages``, which skips the namespace
    packages (``gokart.tree``, ``gokart.conflict_prevention_lock`` have no ``__init__.py``).
    A module file shadowed by a package of the same name (a stale ``file_processor.py`` next to
    ``file_processor/``) is the package, as for ``import``.
    """
    names = {'gokart'}
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if name != '__pycache__')
        relative = os.path.relpath(directory, root)
        package = 'gokart' if relative == os.curdir else 'gokart.' + relative.replace(os.sep, '.')
        if package != 'gokart':
            names.add(package)
        for file in files:
            if file.endswith('.py') and file != '__init__.py':
                names.add(f'{package}.{file[:-3]}')
    return sorted(names)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the inventory of gokart 1.12.2's public names.")
    parser.add_argument('--output', default=OUTPUT, help='where to write the JSON (default: the checked-in inventory)')
    parser.add_argument(
        '--skip-unimportable',
        action='store_true',
        help='leave out modules whose optional dependency is missing (listed under "skipped") instead of failing',
    )
    args = parser.parse_args(argv)
    import gokart

    if os.path.dirname(os.path.abspath(gokart.__file__)) == os.path.join(REPOSITORY, 'gokart'):
        sys.exit('imported the repository gokart, not the reference: run this from outside the repository')
    package_attributes = sorted(
        name for name, value in vars(gokart).items() if isinstance(value, types.ModuleType) and value.__name__.startswith('gokart.')
    )
    modules: dict[str, dict[str, str]] = {}
    private: dict[str, dict[str, str]] = {}
    classes: dict[str, list[str]] = {}
    skipped: list[str] = []
    for name in module_names(gokart.__path__[0]):
        try:
            if name == 'gokart.mypy':
                # Under mypy a plugin meets mypy fully imported; importing mypy.expandtype first is circular.
                importlib.import_module('mypy.types')
            module = importlib.import_module(name)
        except ImportError as error:
            if not args.skip_unimportable:
                sys.exit(f'{name} does not import ({error}): put its optional dependency on PYTHONPATH, e.g. pip install --target')
            skipped.append(name)
            continue
        modules[name] = public_names(module)
        if private_names(module):
            private[name] = private_names(module)
        for class_name, cls in defined_classes(module).items():
            classes[f'{name}.{class_name}'] = class_attributes(cls)
    import tempfile

    with tempfile.TemporaryDirectory() as workspace:
        instances = instance_attributes(sample_instances(workspace))
    inventory: dict[str, object] = {
        'gokart_version': importlib.metadata.version('gokart'),
        'package_attributes_after_import': package_attributes,
        'modules': modules,
        'private_module_names': private,
        'class_attributes': classes,
        'instance_attributes': instances,
    }
    if skipped:
        inventory['skipped'] = skipped
    with open(args.output, 'w') as file:
        json.dump(inventory, file, indent=1, sort_keys=True)
        file.write('\n')
    print(f'{len(modules)} modules, {sum(len(names) for names in modules.values())} names -> {args.output}')


if __name__ == '__main__':
    main()
