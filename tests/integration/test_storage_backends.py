"""The same behaviour on every backend: a local directory, fsspec's ``memory://`` and S3 (a real moto server).

Each test builds small pipelines with ``workspace_directory`` pointing at one backend and checks what a
user sees: the build result, that a second build is a cache hit, that ``rerun`` reruns, that every
format of the registry loads back as it does locally, and that model and large-frame targets work.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import luigi
import pandas as pd
import pytest

import gokart
from gokart.file_processor import make_file_processor
from gokart.storage import filesystem as storage
from gokart.workspace_management import delete_local_unnecessary_outputs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'file_processor'))
from compat_cases import CASES, assert_same, normalize  # noqa: E402

runs: list[str] = []


class Numbers(gokart.TaskOnKart[list[int]]):
    n = luigi.IntParameter()

    def run(self) -> None:
        runs.append(f'Numbers({self.n})')
        self.dump(list(range(self.n)))


class Total(gokart.TaskOnKart[int]):
    numbers = gokart.TaskInstanceParameter()

    def run(self) -> None:
        runs.append('Total')
        self.dump(sum(self.load(self.numbers)))


class FormatCase(gokart.TaskOnKart[Any]):
    case = luigi.Parameter()

    def output(self) -> Any:
        name, extension, dataframe_type, _ = _case(self.case)
        path = f'formats/{name}{extension}'
        return self.make_target(path, processor=make_file_processor(path, dataframe_type=dataframe_type))

    def run(self) -> None:
        self.dump(_case(self.case)[3]())


class Model(gokart.TaskOnKart[dict[str, int]]):
    def output(self) -> Any:
        return self.make_model_target('model/model.zip', save_function=_save_model, load_function=_load_model)

    def run(self) -> None:
        runs.append('Model')
        self.dump({'weight': 7})


class LargeFrame(gokart.TaskOnKart[pd.DataFrame]):
    def output(self) -> Any:
        return self.make_large_data_frame_target('frames/large.zip', max_byte=64)

    def run(self) -> None:
        self.dump(pd.DataFrame({'a': range(100), 'b': [str(i) for i in range(100)]}))


class _Unpicklable:
    def __reduce__(self) -> Any:
        raise RuntimeError('this object cannot be pickled')


def _save_model(obj: dict[str, int], path: str) -> None:
    with open(path, 'w') as f:
        f.write(str(obj['weight']))


def _load_model(path: str) -> dict[str, int]:
    with open(path) as f:
        return {'weight': int(f.read())}


def _case(name: str) -> tuple[str, str, str, Any]:
    return next(case for case in CASES if case[0] == name)


@pytest.fixture(params=['local', 'memory', 's3'])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty workspace on one backend."""
    runs.clear()
    if request.param == 'local':
        return str(tmp_path / 'workspace')
    if request.param == 'memory':
        return f'memory://gokart-{uuid.uuid4().hex}'
    bucket = request.getfixturevalue('s3_bucket')
    return f's3://{bucket}/workspace'


def test_build_then_a_second_build_is_a_cache_hit(workspace: str) -> None:
    root = Total(numbers=Numbers(n=4, workspace_directory=workspace), workspace_directory=workspace)
    assert gokart.build(root) == 6
    assert sorted(runs) == ['Numbers(4)', 'Total']
    assert root.output().path().startswith(workspace)

    runs.clear()
    assert gokart.build(Total(numbers=Numbers(n=4, workspace_directory=workspace), workspace_directory=workspace)) == 6
    assert runs == []


def test_rerun_runs_the_task_again(workspace: str) -> None:
    gokart.build(Total(numbers=Numbers(n=3, workspace_directory=workspace), workspace_directory=workspace))
    runs.clear()
    luigi.task_register.Register.clear_instance_cache()
    assert gokart.build(Total(numbers=Numbers(n=3, workspace_directory=workspace), workspace_directory=workspace, rerun=True)) == 3
    assert runs == ['Total']


def test_outputs_and_log_records_are_in_the_workspace(workspace: str) -> None:
    task = Numbers(n=2, workspace_directory=workspace)
    gokart.build(task)
    files = storage.list_files(workspace)
    assert any(path.endswith(f'Numbers_{task.make_unique_id()}.pkl') and '/log/' not in path for path in files)
    assert any('/log/task_params/' in path for path in files)
    assert task.get_task_log()['file_path'] == [task.output().path()]


@pytest.mark.parametrize('case', [case[0] for case in CASES if case[0] != 'pickle_lambda'])
def test_every_format_loads_back_as_it_does_locally(workspace: str, tmp_path: Path, case: str) -> None:
    expected = gokart.build(FormatCase(case=case, workspace_directory=str(tmp_path / 'reference')))
    loaded = gokart.build(FormatCase(case=case, workspace_directory=workspace))
    assert_same(normalize(loaded), normalize(expected))


def test_model_target_round_trips_through_a_zip(workspace: str) -> None:
    task = Model(workspace_directory=workspace, local_temporary_directory=str(Path.cwd() / 'tmp'))
    assert gokart.build(task) == {'weight': 7}
    assert task.output().path().endswith('.zip')
    assert storage.exists(task.output().path())
    luigi.task_register.Register.clear_instance_cache()
    runs.clear()
    assert gokart.build(Model(workspace_directory=workspace, local_temporary_directory=str(Path.cwd() / 'tmp'))) == {'weight': 7}
    assert runs == []


def test_large_data_frame_target_keeps_rows_in_order(workspace: str) -> None:
    frame = gokart.build(LargeFrame(workspace_directory=workspace, local_temporary_directory=str(Path.cwd() / 'tmp')))
    assert list(frame['a']) == list(range(100))


def test_a_failed_dump_leaves_no_output(workspace: str) -> None:
    target = Numbers(n=1, workspace_directory=workspace).output()
    with pytest.raises(RuntimeError, match='cannot be pickled'):
        target.dump([b'x' * 100_000, _Unpicklable()])  # fails after part of the file was written
    assert not target.exists()
    assert storage.list_files(workspace) == []


def test_modification_time_check_sees_a_newer_input(workspace: str) -> None:
    numbers = Numbers(n=2, workspace_directory=workspace)
    gokart.build(Total(numbers=numbers, workspace_directory=workspace))
    assert Total(numbers=numbers, workspace_directory=workspace, modification_time_check=True).complete()
    time.sleep(1.1)  # S3 keeps modification times to the second
    numbers.output().dump([5, 5])
    assert not Total(numbers=numbers, workspace_directory=workspace, modification_time_check=True).complete()


def test_delete_unnecessary_outputs_keeps_the_dag_and_its_logs(workspace: str) -> None:
    needed = Numbers(n=2, workspace_directory=workspace)
    stale = Numbers(n=9, workspace_directory=workspace)
    gokart.build(needed)
    gokart.build(stale)
    delete_local_unnecessary_outputs(needed)
    assert needed.output().exists()
    assert not stale.output().exists()
    assert any('/log/' in path and stale.make_unique_id() in path for path in storage.list_files(workspace))
