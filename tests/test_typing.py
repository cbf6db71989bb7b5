"""Typed pipelines: mypy (with and without the gokart plugin) on small task modules, as a user's CI would run it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api

import gokart

REPO_ROOT = Path(__file__).parent.parent

TASKS = """
from typing_extensions import assert_type

from gokart.parameter import ListTaskInstanceParameter, TaskInstanceParameter
from gokart.task import TaskOnKart


class MakeNumber(TaskOnKart[int]):
    def run(self) -> None:
        self.dump(1)


class MakeName(TaskOnKart[str]):
    def run(self) -> None:
        self.dump('name')


class Double(TaskOnKart[int]):
    # Annotated with the parameter type: understood by mypy without a plugin and by pyright.
    number: TaskInstanceParameter[TaskOnKart[int]] = TaskInstanceParameter()
    # No default= here: with the plugin a parameter call has the type of its default (list[Any]), which an
    # annotation naming the parameter class would reject.
    numbers: ListTaskInstanceParameter[TaskOnKart[int]] = ListTaskInstanceParameter()

    def run(self) -> None:
        value = self.load(self.number)
        assert_type(value, int)
        values = self.load(list(self.numbers))
        assert_type(values, list[int])
        self.dump(value * 2 + sum(values))
"""

CORRECT = (
    TASKS
    + """

Double(number=MakeNumber(), numbers=[MakeNumber()])
"""
)

WRONG_TASK = (
    TASKS
    + """

Double(number=MakeName())
"""
)

WRONG_DUMP = (
    TASKS
    + """

class DumpsText(TaskOnKart[int]):
    def run(self) -> None:
        self.dump('not an int')
"""
)

SUBSCRIPTED_CALL = """
from typing_extensions import assert_type

from gokart.parameter import TaskInstanceParameter
from gokart.task import TaskOnKart


class MakeNumber(TaskOnKart[int]):
    pass


class MakeName(TaskOnKart[str]):
    pass


class Double(TaskOnKart[int]):
    number = TaskInstanceParameter[TaskOnKart[int]]()

    def run(self) -> None:
        assert_type(self.load(self.number), int)


Double(number=MakeNumber())
Double(number=MakeName())
"""

WRONG_TASK_MESSAGE = 'Argument "number" to "Double" has incompatible type "MakeName"; expected "TaskOnKart[int]"  [arg-type]'


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp('mypy_cache')  # shared: gokart, luigi and pandas are analysed once


@pytest.fixture(autouse=True)
def plugin_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # mypy imports the plugin by module name


def check(tmp_path: Path, cache_dir: Path, source: str, *, plugin: bool) -> tuple[int, list[str]]:
    """mypy on one module with the settings a project would use; returns the status and the error lines."""
    module = tmp_path / 'pipeline.py'
    module.write_text(textwrap.dedent(source))
    lines = ['[tool.mypy]', 'follow_imports = "silent"', f'mypy_path = "{REPO_ROOT}"', 'strict = true']
    if plugin:
        lines.append('plugins = ["gokart.mypy"]')
    config = tmp_path / 'pyproject.toml'
    config.write_text('\n'.join(lines) + '\n')
    stdout, stderr, status = api.run(['--config-file', str(config), '--cache-dir', str(cache_dir), str(module)])
    errors = [m[1] for m in re.finditer(r'^\S+\.py:\d+: error: (.*)$', stdout + stderr, re.MULTILINE)]
    return status, errors


@pytest.mark.parametrize('plugin', [False, True], ids=['plain mypy', 'gokart plugin'])
def test_correct_wiring_passes(tmp_path: Path, cache_dir: Path, plugin: bool) -> None:
    status, errors = check(tmp_path, cache_dir, CORRECT, plugin=plugin)
    assert (status, errors) == (0, [])


@pytest.mark.parametrize('plugin', [False, True], ids=['plain mypy', 'gokart plugin'])
def test_a_str_task_where_an_int_task_is_expected_fails(tmp_path: Path, cache_dir: Path, plugin: bool) -> None:
    status, errors = check(tmp_path, cache_dir, WRONG_TASK, plugin=plugin)
    assert (status, errors) == (1, [WRONG_TASK_MESSAGE])


@pytest.mark.parametrize('plugin', [False, True], ids=['plain mypy', 'gokart plugin'])
def test_dump_checks_the_task_type_argument(tmp_path: Path, cache_dir: Path, plugin: bool) -> None:
    status, errors = check(tmp_path, cache_dir, WRONG_DUMP, plugin=plugin)
    assert (status, errors) == (1, ['Argument 1 to "dump" of "TaskOnKart" has incompatible type "str"; expected "int"  [arg-type]'])


def test_a_subscripted_parameter_call_is_typed_by_the_plugin(tmp_path: Path, cache_dir: Path) -> None:
    status, errors = check(tmp_path, cache_dir, SUBSCRIPTED_CALL, plugin=True)
    assert (status, errors) == (1, [WRONG_TASK_MESSAGE])


def test_the_package_is_marked_typed() -> None:
    assert (Path(gokart.__file__).parent / 'py.typed').is_file()
    assert 'gokart = ["py.typed"]' in (REPO_ROOT / 'pyproject.toml').read_text()


# pyright comes with the test extra; it sits beside the interpreter, which need not be on PATH.
PYRIGHT = shutil.which('pyright', path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')]))


@pytest.mark.skipif(PYRIGHT is None, reason='pyright is not installed (pip install pyright)')
def test_pyright_accepts_correct_wiring_and_rejects_a_wrong_task(tmp_path: Path) -> None:
    (tmp_path / 'correct.py').write_text(CORRECT)
    (tmp_path / 'wrong.py').write_text(WRONG_TASK)
    (tmp_path / 'pyrightconfig.json').write_text(f'{{"extraPaths": ["{REPO_ROOT}"]}}')
    correct = subprocess.run([PYRIGHT, '--pythonpath', sys.executable, 'correct.py'], cwd=tmp_path, capture_output=True, text=True)
    assert correct.returncode == 0, correct.stdout
    wrong = subprocess.run([PYRIGHT, '--pythonpath', sys.executable, 'wrong.py'], cwd=tmp_path, capture_output=True, text=True)
    assert wrong.returncode == 1
    assert 'MakeName' in wrong.stdout


USER_PIPELINE = REPO_ROOT / 'tests' / 'pyright_samples'


@pytest.mark.skipif(PYRIGHT is None, reason='pyright is not installed (pip install pyright)')
def test_a_user_style_task_module_is_clean_under_pyright() -> None:
    # Overridden requires/output/input with the return types users write (a dict of targets included):
    # gokart 1.12.2's output() annotation made pyright reject a dict[str, TargetOnKart] override.
    environment = {**os.environ, 'PYRIGHT_PYTHON_IGNORE_WARNINGS': '1'}
    checked = subprocess.run(
        [PYRIGHT, '--pythonpath', sys.executable, '-p', str(USER_PIPELINE)], capture_output=True, text=True, env=environment, timeout=600
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert '0 errors' in checked.stdout


def test_make_lint_runs_pyright_on_the_user_style_module() -> None:
    makefile = (REPO_ROOT / 'Makefile').read_text()
    lint = makefile.split('\nlint:', 1)[1].split('\n\n', 1)[0]
    assert '$(PYRIGHT) --pythonpath $(BIN)/python -p tests/pyright_samples' in lint
    assert 'PYRIGHT := PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(BIN)/pyright' in makefile
    assert 'missing="$$missing nodejs"' in makefile  # pyright's node from Debian's packages: no download at first use
