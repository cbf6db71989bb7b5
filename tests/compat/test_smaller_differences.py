"""Smaller differences from gokart 1.12.2 that differential runs found, each pinned (issue 30)."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import luigi
import pandas as pd
import polars as pl
import pytest
from reference_python import REPOSITORY, reference_python

import gokart
from gokart.errors import GokartBuildError, OutputNameTooLongError
from gokart.file_processor import JsonFileProcessor, JsonFileProcessorPandas, JsonFileProcessorPolars

FRAME = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})


# ----- JsonFileProcessor(lines=...), as gokart releases after 1.12.2 accept ---------------------
def _written(processor: JsonFileProcessor, frame: object) -> bytes:
    buffer = io.BytesIO()
    processor.dump(frame, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize('make', [lambda **kw: JsonFileProcessor(**kw), lambda **kw: JsonFileProcessorPandas(**kw)])
def test_lines_true_writes_one_record_per_line_and_reads_it_back(make) -> None:
    processor = make(lines=True)
    data = _written(processor, FRAME)
    assert [json.loads(line) for line in data.decode().splitlines()] == [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    pd.testing.assert_frame_equal(processor.load(io.BytesIO(data)), FRAME)


def test_lines_false_with_records_writes_one_json_array() -> None:
    processor = JsonFileProcessor(orient='records', lines=False)
    data = _written(processor, FRAME)
    assert json.loads(data) == [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    pd.testing.assert_frame_equal(processor.load(io.BytesIO(data)), FRAME)


def test_lines_unset_keeps_1_12s_rule() -> None:
    assert _written(JsonFileProcessor(orient='records'), FRAME) == _written(JsonFileProcessor(lines=True), FRAME)
    assert json.loads(_written(JsonFileProcessor(), FRAME)) == {'a': {'0': 1, '1': 2}, 'b': {'0': 'x', '1': 'y'}}


def test_lines_with_another_orient_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"lines=True.*orient='records'.*orient='index'"):
        JsonFileProcessor(orient='index', lines=True)


@pytest.mark.parametrize('lines', [True, False])
def test_polars_frames_take_lines_too(lines: bool) -> None:
    processor = JsonFileProcessorPolars(lines=lines)
    frame = pl.DataFrame({'a': [1, 2], 'b': ['x', 'y']})
    data = _written(processor, frame)
    assert (len(data.decode().splitlines()) == 2) is lines
    assert processor.load(io.BytesIO(data)).equals(frame)


# ----- pandas on Python 3.14 --------------------------------------------------------------------
def test_pandas_is_at_least_2_3_3_on_python_3_14() -> None:
    tomllib = pytest.importorskip('tomllib')  # Python 3.11+
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).parents[2] / 'pyproject.toml').read_text())
    pandas = [Requirement(line) for line in pyproject['project']['dependencies'] if Requirement(line).name == 'pandas']

    def allowed(version: str, python: str) -> bool:
        environment = {'python_version': python, 'python_full_version': f'{python}.0'}
        return all(r.specifier.contains(version) for r in pandas if r.marker is None or r.marker.evaluate(environment))

    assert not allowed('2.3.2', '3.14') and allowed('2.3.3', '3.14')
    assert allowed('2.0.0', '3.13') and allowed('2.2.3', '3.12')


# ----- a file name over 255 bytes fails where 1.12.2 fails: when written ------------------------
class LongNamed(gokart.TaskOnKart[str]):
    name = luigi.Parameter()

    def output(self) -> Any:
        return self.make_target(f'named/{self.name}.pkl')

    def run(self) -> None:
        self.dump(self.name)


def test_an_over_long_name_gives_a_target_and_fails_at_write_with_an_os_error(tmp_path: Path) -> None:
    task = LongNamed(name='x' * 300, workspace_directory=str(tmp_path))
    target = task.output()  # 1.12.2 returns the target; so does ours
    assert not target.exists() and not task.complete()
    with pytest.raises(OSError) as raised:
        task.dump('value')
    assert isinstance(raised.value, OutputNameTooLongError) and raised.value.errno == errno.ENAMETOOLONG
    message = str(raised.value)
    assert 'LongNamed[' in message and f'is {300 + 33 + 4} bytes long; file systems allow 255' in message, message
    with pytest.raises(GokartBuildError) as failed:
        gokart.build(task, reset_register=False)
    assert any(isinstance(e, OutputNameTooLongError) for errors in failed.value.raised_exceptions.values() for e in errors)
    assert not list((tmp_path / 'named').glob('*')), 'nothing may be left that counts as the output'


# ----- [TaskOnKart] options for parameters named like luigi.Task attributes ------------------
LUIGI_TASK_NAMES_SCRIPT = """
import json, luigi, gokart

class OwnTaskAttributes(gokart.TaskOnKart):
    retry_count = luigi.IntParameter(default=0)
    disabled = luigi.BoolParameter()
    priority = luigi.IntParameter(default=0)
    owner_email = luigi.Parameter(default='')
    resources = luigi.DictParameter(default={})

task = OwnTaskAttributes()
print(json.dumps([task.retry_count, task.disabled, task.priority, task.owner_email, dict(task.resources), task.make_unique_id()]))
"""
LUIGI_TASK_NAMES_CONFIG = (
    '[TaskOnKart]\nretry_count = 3\ndisabled = true\npriority = 7\nowner_email = a@example.com\nresources = {"gpu": 1}\n'
)


def _own_task_attributes_under(python: str, tmp_path: Path, env: dict[str, str], configured: bool) -> list[Any]:
    config = tmp_path / ('configured.cfg' if configured else 'empty.cfg')
    config.write_text(LUIGI_TASK_NAMES_CONFIG if configured else '')
    completed = subprocess.run(
        [python, '-c', LUIGI_TASK_NAMES_SCRIPT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, 'LUIGI_CONFIG_PATH': str(config)},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    values: list[Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return values


def test_task_on_kart_options_set_a_tasks_own_parameters_named_like_luigi_task_attributes(tmp_path: Path) -> None:
    ours_env = {**os.environ, 'PYTHONPATH': REPOSITORY}
    plain = _own_task_attributes_under(sys.executable, tmp_path, ours_env, configured=False)
    configured = _own_task_attributes_under(sys.executable, tmp_path, ours_env, configured=True)
    assert plain[:5] == [0, False, 0, '', {}]
    assert configured[:5] == [3, True, 7, 'a@example.com', {'gpu': 1}]
    assert configured[5] != plain[5], 'the options are significant parameters: the unique id changes'
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    reference_env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    assert _own_task_attributes_under(python, tmp_path, reference_env, configured=True) == configured
    assert _own_task_attributes_under(python, tmp_path, reference_env, configured=False) == plain


# ----- param_kwargs changed by an __init__ after super().__init__() ----------------------------
MUTATED_SCRIPT = """
import json, sys, luigi, gokart

class Upstream(gokart.TaskOnKart):
    n = luigi.IntParameter(default=1)

class Mutated(gokart.TaskOnKart):
    tasks = gokart.ListTaskInstanceParameter(default=[])
    choice = luigi.ChoiceParameter(choices=['a', 'b'], default='a')
    number = luigi.IntParameter(default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name, value = MUTATION
        if name:
            self.param_kwargs[name] = value

def outcome(call):
    try:
        return repr(call())
    except Exception as error:
        return f'{[c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"][0]}: {error}'

results = {}
for label, mutation in [('none', (None, None)), ('tasks as a str', ('tasks', 'abc')), ('tasks as a list', ('tasks', [Upstream(n=2)])),
                        ('valid choice', ('choice', 'b')), ('invalid choice', ('choice', 'zzz')), ('number as a str', ('number', '5'))]:
    MUTATION = mutation
    for cache in (True, False):
        luigi.task_register.Register.clear_instance_cache()
        task = Mutated(cache_unique_id=cache)
        shown = {k: v for k, v in task.to_str_params().items() if k in ('tasks', 'choice', 'number')}
        results[f'{label}, cache_unique_id={cache}'] = [outcome(lambda: str(task)), outcome(lambda: repr(task)), shown, task.make_unique_id(), task.task_id]
print(json.dumps(results))
"""


def _mutated_under(python: str, tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    completed = subprocess.run(
        [python, '-c', MUTATED_SCRIPT], capture_output=True, text=True, cwd=tmp_path, env={**env, 'PYTHONHASHSEED': '0'}, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    results: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


def test_param_kwargs_set_after_super_init_shows_and_identifies_as_in_1_12(tmp_path: Path) -> None:
    ours = _mutated_under(sys.executable, tmp_path, {**os.environ, 'PYTHONPATH': REPOSITORY})
    as_str, as_repr, shown, unique_id, _ = ours['tasks as a str, cache_unique_id=False']
    assert shown['tasks'] == '"abc"', 'the string is serialised as JSON, not as a list of its characters'
    assert as_str == as_repr == "AttributeError: 'str' object has no attribute 'get_task_family'"
    assert unique_id != ours['none, cache_unique_id=False'][3]
    assert ours['invalid choice, cache_unique_id=True'][0].startswith('ValueError: zzz is not a valid choice')
    assert 'choice=b' in ours['valid choice, cache_unique_id=False'][0] and 'number=5' in ours['number as a str, cache_unique_id=True'][1]
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    reference = _mutated_under(python, tmp_path, {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'})
    differences = {case: (reference[case], ours[case]) for case in reference if reference[case] != ours[case]}
    assert not differences, differences
