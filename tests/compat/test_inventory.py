"""Every module file of gokart 1.12.2 imports here, and every public name it has resolves at the same path.

The inventory (gokart_1_12_2_names.json) is generated from the installed gokart 1.12.2 by
make_inventory.py; regenerate it there rather than editing it by hand.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import types
from typing import Any

import luigi.scheduler
import luigi.worker
import pytest
from reference_python import reference_python

INVENTORY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gokart_1_12_2_names.json')
MAKE_INVENTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make_inventory.py')
with open(INVENTORY_PATH) as _file:
    INVENTORY: dict[str, Any] = json.load(_file)

KIND_EXCEPTIONS = {
    # gokart 1.12 made this decorator factory a class; users only call it, which a function does alike.
    ('gokart.config_params', 'inherits_config_params'): 'function',
}


def kind_matches(expected: str, value: object) -> bool:
    """Whether ``value`` can stand where 1.12 had a name of kind ``expected``.

    A class must stay a class (users subclass it and use isinstance), a module a module, a
    constant a plain value; where 1.12 had a function, any callable does (users only call it).
    """
    if expected == 'module':
        return isinstance(value, types.ModuleType)
    if expected == 'class':
        return inspect.isclass(value)
    if expected == 'function':
        return callable(value)
    return not isinstance(value, types.ModuleType) and not inspect.isclass(value)


@pytest.mark.parametrize('module_name', sorted(INVENTORY['modules']))
def test_every_name_of_the_module_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in INVENTORY['modules'][module_name] if not hasattr(module, name)]
    assert not missing, f'{module_name} lacks {missing}'
    wrong_kind = [
        f'{name} ({kind} in 1.12, now {type(getattr(module, name)).__name__})'
        for name, kind in INVENTORY['modules'][module_name].items()
        if not kind_matches(KIND_EXCEPTIONS.get((module_name, name), kind), getattr(module, name))
    ]
    assert not wrong_kind, f'{module_name}: {wrong_kind}'


def test_submodules_are_package_attributes_right_after_import() -> None:
    # A fresh interpreter: this test process has long imported the submodules itself.
    expected = INVENTORY['package_attributes_after_import']
    script = 'import json, types, gokart; print(json.dumps([n for n in %r if isinstance(getattr(gokart, n, None), types.ModuleType)]))'
    output = subprocess.run([sys.executable, '-c', script % (expected,)], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == expected


def test_inventory_covers_what_the_issue_names() -> None:
    # Guards the generator's filters: these names were missing once and must stay in the inventory.
    modules = INVENTORY['modules']
    assert {'make_zip_client', 'LocalZipClient', 'ZipClient', 'ObjectStorage'} <= set(modules['gokart.zip_client_util'])
    assert 'HAS_POLARS' in modules['gokart.file_processor.polars']
    assert {'PENDING', 'WORKER_STATE_ACTIVE', 'ContextManagedTaskProcess', 'GetWorkResponse'} <= set(modules['gokart.worker'])
    assert {'worker', 'slack', 'zip_client_util', 'task_complete_check'} <= set(INVENTORY['package_attributes_after_import'])


def test_worker_status_constants_are_luigis() -> None:
    worker = importlib.import_module('gokart.worker')
    for name in ['PENDING', 'RUNNING', 'DONE', 'FAILED', 'DISABLED', 'UNKNOWN']:
        assert getattr(worker, name) == getattr(luigi.scheduler, name)
    assert worker.WORKER_STATE_ACTIVE == luigi.scheduler.WORKER_STATE_ACTIVE == 'active'
    assert worker.WORKER_STATE_DISABLED == luigi.scheduler.WORKER_STATE_DISABLED == 'disabled'
    assert worker.GetWorkResponse._fields == luigi.worker.GetWorkResponse._fields


def test_inventory_is_what_the_generator_reads_from_gokart_1_12_2(tmp_path: Any) -> None:
    # Guards the checked-in inventory against hand edits and the generator against silent changes.
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    fresh_path = os.path.join(tmp_path, 'names.json')
    command = [python, MAKE_INVENTORY, '--output', fresh_path, '--skip-unimportable']
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}  # the reference's own gokart, not ours
    subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True, env=env)
    with open(fresh_path) as file:
        fresh = json.load(file)
    skipped = set(fresh.get('skipped', []))  # gokart.mypy needs mypy, which the reference venv lacks
    assert fresh['package_attributes_after_import'] == INVENTORY['package_attributes_after_import']
    assert fresh['modules'] == {name: names for name, names in INVENTORY['modules'].items() if name not in skipped}
    for section in ['private_module_names', 'class_attributes', 'instance_attributes']:
        expected = {name: names for name, names in INVENTORY[section].items() if not name.startswith(tuple(skipped))}
        assert fresh[section] == expected, section
