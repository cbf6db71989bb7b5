"""gokart.testing: ``--test-run-pandas`` through real ``gokart.run`` processes, and the frame assertion."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from gokart.testing import assert_frame_contents_equal
from gokart.testing.empty_data_frame_run import strip_test_run_arguments

REPO_ROOT = Path(__file__).parent.parent

PIPELINE = textwrap.dedent(
    """
    import os

    import gokart
    import luigi


    class Make(gokart.TaskOnKart):
        def run(self):
            self.dump(1)


    class Agg(gokart.TaskOnKart):
        task_namespace = 'ns'
        fail_second_run = luigi.BoolParameter(default=False)

        def requires(self):
            return Make()

        def run(self):
            value = self.load()
            if self.fail_second_run and os.path.exists(self.output().path()):
                raise RuntimeError('second run')
            self.dump(value + 1)


    if __name__ == '__main__':
        gokart.run()
    """
)


def run_pipeline(directory: Path, *args: str) -> tuple[int, str]:
    """Run the pipeline module as a user would (``python pipeline.py ...``); returns exit code and stderr."""
    (directory / 'pipeline.py').write_text(PIPELINE)
    env = {**os.environ, 'PYTHONPATH': str(REPO_ROOT)}
    command = [sys.executable, 'pipeline.py', *args, '--local-scheduler']
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    return done.returncode, done.stderr


def result_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith('gokart test results:'))
    return [line for line in lines[start + 1 :] if line.startswith('status=')]


def test_every_task_passes_the_test_run(tmp_path: Path) -> None:
    code, stderr = run_pipeline(tmp_path, 'ns.Agg', '--test-run-pandas')
    assert code == 0, stderr
    lines = result_lines(stderr)
    assert [line.split(' id=')[0] for line in lines] == [
        'status=OK; namespace=ns; name=Agg;',
        'status=OK; namespace=__not_user_specified; name=Make;',
    ]
    assert all(line.endswith(';') and len(line.split('id=')[1]) == 33 for line in lines)


def test_a_task_failing_its_second_run_is_ng_and_the_exit_code_is_1(tmp_path: Path) -> None:
    code, stderr = run_pipeline(tmp_path, 'ns.Agg', '--fail-second-run', '--complete-check-at-run=false', '--test-run-pandas')
    assert code == 1, stderr
    agg, make = result_lines(stderr)
    assert agg.startswith('status=NG; namespace=ns; name=Agg; id=')
    assert agg.endswith("; message=<class 'RuntimeError'>: second run")
    assert make.startswith('status=OK; namespace=__not_user_specified; name=Make;')


def test_the_namespace_option_selects_tasks(tmp_path: Path) -> None:
    code, stderr = run_pipeline(tmp_path, 'ns.Agg', '--test-run-pandas', '--test-run-namespace=__not_user_specified')
    assert code == 0, stderr
    assert [line.split(' id=')[0] for line in result_lines(stderr)] == ['status=OK; namespace=__not_user_specified; name=Make;']


def test_the_test_run_writes_nothing_new(tmp_path: Path) -> None:
    code, _ = run_pipeline(tmp_path, 'ns.Agg')
    assert code == 0
    outputs = sorted((tmp_path / 'resources' / '__main__').iterdir())
    stamps = [p.stat().st_mtime_ns for p in outputs]
    rerun_everything = ['--complete-check-at-run=false', '--Make-complete-check-at-run=false']
    code, stderr = run_pipeline(tmp_path, 'ns.Agg', *rerun_everything, '--test-run-pandas')
    assert code == 0, stderr
    assert sorted((tmp_path / 'resources' / '__main__').iterdir()) == outputs
    assert [p.stat().st_mtime_ns for p in outputs] == stamps


def test_without_the_option_the_workflow_just_runs(tmp_path: Path) -> None:
    code, stderr = run_pipeline(tmp_path, 'ns.Agg')
    assert code == 0, stderr
    assert 'gokart test results:' not in stderr


@pytest.mark.parametrize(
    ('args', 'expected'),
    [
        (['T', '--test-run-pandas', '--x=1'], ['T', '--x=1']),
        (['T', '--test-run-namespace=ns', '--test-run-pandas'], ['T']),
        (['T', '--test-run-namespace', 'ns', '--local-scheduler'], ['T', '--local-scheduler']),
    ],
)
def test_test_run_arguments_are_stripped(args: list[str], expected: list[str]) -> None:
    assert strip_test_run_arguments(args) == expected


def test_frames_with_rows_and_columns_in_another_order_are_equal() -> None:
    actual = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}, index=[10, 20])
    expected = pd.DataFrame({'b': ['y', 'x'], 'a': [2, 1]}, index=[20, 10])
    assert_frame_contents_equal(actual, expected)


def test_different_values_are_reported() -> None:
    actual = pd.DataFrame({'a': [1, 2]})
    with pytest.raises(AssertionError):
        assert_frame_contents_equal(actual, pd.DataFrame({'a': [1, 3]}))


def test_keyword_arguments_go_to_assert_frame_equal() -> None:
    actual = pd.DataFrame({'a': [1, 2]})
    expected = pd.DataFrame({'a': [1.0, 2.0]})
    with pytest.raises(AssertionError):
        assert_frame_contents_equal(actual, expected)
    assert_frame_contents_equal(actual, expected, check_dtype=False)


@pytest.mark.parametrize(
    ('actual', 'expected', 'message'),
    [
        (pd.DataFrame({'a': [1, 2]}, index=[0, 0]), pd.DataFrame({'a': [1, 2]}), 'actual index is not unique'),
        (pd.DataFrame({'a': [1, 2]}), pd.DataFrame({'a': [1, 2]}, index=[0, 0]), 'expected index is not unique'),
        (pd.DataFrame([[1, 2]], columns=['a', 'a']), pd.DataFrame({'a': [1]}), 'actual columns is not unique'),
        (pd.DataFrame({'a': [1]}), pd.DataFrame({'b': [1]}), 'columns are not equal'),
        (pd.DataFrame({'a': [1]}, index=[0]), pd.DataFrame({'a': [1]}, index=[1]), 'indexes are not equal'),
        ([1, 2], pd.DataFrame({'a': [1]}), 'actual is not a DataFrame'),
    ],
)
def test_invalid_frames_are_rejected_with_a_reason(actual: object, expected: object, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_frame_contents_equal(actual, expected)
