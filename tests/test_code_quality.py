"""The package stays lint-clean, formatted and type-checked (the settings live in pyproject.toml)."""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tool(name):
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if found is None:
        pytest.skip(f'{name} is not installed; `pip install -e .[test]` installs it')
    return found


def test_ruff_check_is_clean():
    result = subprocess.run([tool('ruff'), 'check', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run([tool('ruff'), 'format', '--check', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = subprocess.run([sys.executable, '-m', 'mypy', 'gokart'], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _sources():
    package = os.path.join(ROOT, 'gokart')
    for directory, _, names in os.walk(package):
        for name in sorted(names):
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, ROOT).replace(os.sep, '/'), path


def test_only_dag_follows_requires():
    """Every walk of the DAG goes through gokart.dag, so each sees the same checked requirements (issue 15)."""
    pattern = re.compile(r'flatten\([^\n]*\.requires\(\)')
    found = [
        f'{name}:{number}'
        for name, path in _sources()
        if name != 'gokart/dag.py'
        for number, line in enumerate(open(path, encoding='utf-8'), start=1)
        if pattern.search(line)
    ]
    assert found == [], f'use gokart.dag.requirements / gokart.dag.walk instead of flatten(task.requires()) at {found}'


# Modules still spelling a log/ path of their own: the id scheme census (being reworked with the id
# scheme) and the GCS metadata client's pattern of records it leaves unlabelled.
_RECORD_PATH_EXCEPTIONS = {'gokart/run_records.py', 'gokart/id_scheme.py', 'gokart/gcs_obj_metadata_client.py'}


def test_only_run_records_spells_a_record_path():
    """Code outside run_records.py asks it for log/ paths instead of building them (issue 15); docstrings may mention them."""
    component = re.compile(r'(^|/)log(/|$)')
    found = []
    for name, path in _sources():
        if name in _RECORD_PATH_EXCEPTIONS:
            continue
        tree = ast.parse(open(path, encoding='utf-8').read())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and component.search(node.value)
            ):
                found.append(f'{name}:{node.lineno} {node.value!r}')
    assert found == [], f'ask gokart.run_records for record paths: {found}'
