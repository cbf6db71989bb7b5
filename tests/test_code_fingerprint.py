"""Code fingerprints: edit the code a task runs and see its id change; edit only comments or docstrings and see it stay."""

from __future__ import annotations

import importlib
import itertools
import linecache
import sys
import textwrap
import types
from pathlib import Path

import pytest

import gokart
from gokart.ids.code_fingerprint import changed_code, code_fingerprint, code_fingerprint_parts
from gokart.records.run_records import code_fingerprint_record_path, dump_code_fingerprint_parts, load_code_fingerprint_parts

HELPERS = '''
"""Helpers of the pipeline."""
import json

THRESHOLD = 3


def clean(values):
    """Keep the large values."""
    return [v for v in values if v > THRESHOLD]  # small ones are noise


def describe(values):
    return json.dumps(scale(values))


def scale(values):
    return [v * 10 for v in values]


def unused():
    return 'not called by any task'
'''

TASKS = """
import gokart

from . import helpers
from .helpers import clean


class Train(gokart.TaskOnKart):
    def run(self):
        self.dump(clean([1, 5]))


class Describe(gokart.TaskOnKart):
    def run(self):
        self.dump(helpers.describe([1, 2]))


class Upstream(gokart.TaskOnKart):
    def run(self):
        self.dump(1)


class Downstream(gokart.TaskOnKart):
    def requires(self):
        return Upstream()

    def run(self):
        self.dump(self.load() + 1)
"""

_package_numbers = itertools.count()


class Pipeline:
    """A package ``helpers.py`` + ``tasks.py`` on disk that a test rewrites and imports afresh, as after an edit."""

    def __init__(self, root: Path) -> None:
        self.name = f'fingerprinted_pipeline_{next(_package_numbers)}'
        self.directory = root / self.name
        self.directory.mkdir()
        (self.directory / '__init__.py').write_text('')

    def load(self, helpers: str = HELPERS, tasks: str = TASKS) -> types.ModuleType:
        (self.directory / 'helpers.py').write_text(textwrap.dedent(helpers))
        (self.directory / 'tasks.py').write_text(textwrap.dedent(tasks))
        for module in [m for m in sys.modules if m == self.name or m.startswith(self.name + '.')]:
            del sys.modules[module]
        importlib.invalidate_caches()
        # A rewrite of the same size within one file-system clock tick looks unchanged to linecache,
        # which inspect.getsource reads; a real edit happens between processes.
        linecache.clearcache()
        return importlib.import_module(f'{self.name}.tasks')


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, 'dont_write_bytecode', True)  # a stale .pyc from the same second must not be imported
    return Pipeline(tmp_path)


def checked_id(module: types.ModuleType, name: str = 'Train') -> str:
    return str(getattr(module, name)(code_fingerprint_check=True).make_unique_id())


def test_by_default_the_id_is_gokarts(pipeline: Pipeline) -> None:
    tasks = pipeline.load()
    assert tasks.Train().make_unique_id() == tasks.Train(code_fingerprint_check=False).make_unique_id()
    assert checked_id(tasks) != tasks.Train().make_unique_id()
    edited = pipeline.load(helpers=HELPERS.replace('v > THRESHOLD', 'v >= THRESHOLD'))
    assert edited.Train().make_unique_id() == tasks.Train().make_unique_id()


def test_editing_a_called_helper_changes_the_id(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load())
    after = checked_id(pipeline.load(helpers=HELPERS.replace('v > THRESHOLD', 'v >= THRESHOLD')))
    assert after != before


REFORMATTED_COMPREHENSION = """return [
        v
        for v in values
        if v > (THRESHOLD)
    ]"""


def test_comments_docstrings_and_formatting_do_not_change_the_id(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load())
    cosmetic = (
        HELPERS.replace('# small ones are noise', '# values under the threshold are noise')
        .replace('"""Keep the large values."""', '"""Keep the values above THRESHOLD; the rest is noise."""')
        .replace('return [v for v in values if v > THRESHOLD]', REFORMATTED_COMPREHENSION)
    )
    tasks = TASKS.replace(
        '    def run(self):\n        self.dump(clean([1, 5]))',
        '    def run(self):\n        """Train."""\n        # one call\n        self.dump(clean([1,5],))',
    )
    assert cosmetic != HELPERS and tasks != TASKS
    assert checked_id(pipeline.load(helpers=cosmetic, tasks=tasks)) == before


def test_editing_the_task_method_changes_the_id(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load())
    assert checked_id(pipeline.load(tasks=TASKS.replace('clean([1, 5])', 'clean([1, 6])'))) != before


def test_editing_a_constant_the_helper_reads_changes_the_id(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load())
    assert checked_id(pipeline.load(helpers=HELPERS.replace('THRESHOLD = 3', 'THRESHOLD = 4'))) != before


def test_helpers_reached_through_a_module_and_other_helpers_count(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load(), 'Describe')
    after = checked_id(pipeline.load(helpers=HELPERS.replace('v * 10', 'v * 100')), 'Describe')
    assert after != before


def test_code_the_task_does_not_reach_does_not_count(pipeline: Pipeline) -> None:
    before = checked_id(pipeline.load())
    edited = HELPERS.replace("'not called by any task'", "'still not called'").replace('v * 10', 'v * 100')
    assert checked_id(pipeline.load(helpers=edited)) == before


def test_parts_name_each_piece_of_first_party_code(pipeline: Pipeline) -> None:
    tasks = pipeline.load()
    name = pipeline.name
    assert sorted(code_fingerprint_parts(tasks.Describe)) == [
        f'{name}.helpers.describe',
        f'{name}.helpers.scale',
        f'{name}.tasks.Describe.run',
    ]
    # json (standard library) and gokart are not part of the fingerprint.
    assert sorted(code_fingerprint_parts(tasks.Train)) == [
        f'{name}.helpers.THRESHOLD',
        f'{name}.helpers.clean',
        f'{name}.tasks.Train.run',
    ]


def test_changed_code_names_what_changed_between_two_versions(pipeline: Pipeline) -> None:
    before = code_fingerprint_parts(pipeline.load().Describe)
    after = code_fingerprint_parts(pipeline.load(helpers=HELPERS.replace('v * 10', 'v * 100')).Describe)
    assert changed_code(before, after) == [f'{pipeline.name}.helpers.scale']
    assert changed_code(before, before) == []
    assert changed_code({'a': '1'}, {'b': '2'}) == ['a', 'b']


def test_another_tasks_code_belongs_to_that_task(pipeline: Pipeline) -> None:
    before = pipeline.load()
    downstream, upstream = code_fingerprint(before.Downstream), code_fingerprint(before.Upstream)
    after = pipeline.load(tasks=TASKS.replace('self.dump(1)', 'self.dump(2)'))
    assert code_fingerprint(after.Downstream) == downstream
    assert code_fingerprint(after.Upstream) != upstream


def test_methods_of_first_party_base_classes_and_closures_count() -> None:
    def make_task(offset: int) -> type:
        def shift(value: int) -> int:
            return value + offset

        class Base(gokart.TaskOnKart[int]):
            def value(self) -> int:
                return shift(1)

        class Child(Base):
            def run(self) -> None:
                self.dump(self.value())

        return Child

    parts = code_fingerprint_parts(make_task(1))
    prefix = f'{__name__}.test_methods_of_first_party_base_classes_and_closures_count.<locals>.make_task.<locals>'
    assert sorted(parts) == [f'{prefix}.Base.value', f'{prefix}.Child.run', f'{prefix}.shift', f'{prefix}.shift.offset']
    # The closure's value is data the code depends on, like a module constant.
    assert code_fingerprint(make_task(1)) == code_fingerprint(make_task(1))
    assert code_fingerprint(make_task(1)) != code_fingerprint(make_task(2))


def test_functions_without_source_are_hashed_by_their_bytecode() -> None:
    def make_task(expression: str) -> type:
        namespace: dict[str, object] = {'gokart': gokart, '__name__': __name__}
        exec(f'class NoSource(gokart.TaskOnKart):\n    def run(self):\n        self.dump({expression})\n', namespace)  # noqa: S102
        return namespace['NoSource']  # type: ignore[return-value]

    assert code_fingerprint(make_task('1 + 1')) == code_fingerprint(make_task('1 + 1'))
    assert code_fingerprint(make_task('1 + 1')) != code_fingerprint(make_task('1 + 2'))


def test_the_parts_are_recorded_under_the_task_id(pipeline: Pipeline) -> None:
    task = pipeline.load().Train(code_fingerprint_check=True)
    assert load_code_fingerprint_parts(task) is None
    dump_code_fingerprint_parts(task)
    path = code_fingerprint_record_path(task)
    assert path == f'./resources/log/code_fingerprint/Train_{task.make_unique_id()}.pkl'
    assert Path(path).exists()
    assert load_code_fingerprint_parts(task) == code_fingerprint_parts(type(task))
    assert load_code_fingerprint_parts(task, unique_id='0' * 32) is None


def test_a_fingerprinted_task_builds_and_is_cached(pipeline: Pipeline) -> None:
    tasks = pipeline.load()
    assert gokart.build(tasks.Train(code_fingerprint_check=True), reset_register=False) == [5]
    assert Path(f'resources/{pipeline.name}/tasks/Train_{checked_id(tasks)}.pkl').exists()
