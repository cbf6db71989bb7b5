"""Every mistake gets an error that names the task (with its unique id) and the parameter or path, and says what to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import luigi
import luigi.parameter
import pandas as pd
import pytest

import gokart
from gokart.errors import (
    CorruptOutputError,
    DependencyCycleError,
    GokartBuildError,
    GokartError,
    MissingParameterError,
    NotARequirementError,
    OutputNotFoundError,
    RequiresError,
    TaskInstanceTypeError,
    TaskParameterError,
    UnsupportedFormatError,
    UnwritableObjectError,
    WorkspaceError,
)

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(gokart.__file__)))


class Source(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'
    size = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.size)


class Unrelated(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'

    def run(self) -> None:
        self.dump(0)


class NeedsSource(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'
    source = gokart.TaskInstanceParameter(expected_type=Source)

    def run(self) -> None:
        self.dump(self.load('source') + 1)


class NeedsSources(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'
    sources = gokart.ListTaskInstanceParameter(expected_elements_type=Source)


class YamlOutput(gokart.TaskOnKart[dict]):
    task_namespace = 'test_errors'

    def output(self):
        return self.make_target('errors/config.yaml')

    def run(self) -> None:
        self.dump({'a': 1})


class DictToCsv(gokart.TaskOnKart[dict]):
    task_namespace = 'test_errors'

    def output(self):
        return self.make_target('errors/table.csv')

    def run(self) -> None:
        self.dump({'a': 1})


class Unpicklable(gokart.TaskOnKart[object]):
    task_namespace = 'test_errors'

    def run(self) -> None:
        self.dump(i for i in range(3))


class LoadsStranger(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'

    def run(self) -> None:
        self.dump(self.load(Unrelated()))


class Chicken(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'

    def requires(self):
        return Egg()

    def run(self) -> None:
        self.dump(1)


class Egg(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'

    def requires(self):
        return Chicken()

    def run(self) -> None:
        self.dump(2)


class BrokenRequires(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'
    flavour = luigi.Parameter(default='vanilla')

    def requires(self):
        return {'data': Source(size=1), 'config': self.missing_attribute}  # type: ignore[attr-defined]

    def run(self) -> None:
        self.dump(1)


class Fails(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'
    reason = luigi.Parameter()

    def run(self) -> None:
        raise ValueError(f'cannot go on: {self.reason}')


class BothFail(gokart.TaskOnKart[int]):
    task_namespace = 'test_errors'

    def requires(self):
        return {'left': Fails(reason='left broke'), 'right': Fails(reason='right broke')}

    def run(self) -> None:
        self.dump(1)


def _only_exception(raised: pytest.ExceptionInfo[GokartBuildError]) -> BaseException:
    (exceptions,) = raised.value.raised_exceptions.values()
    (exception,) = exceptions
    return exception


def _name(task) -> str:
    return f'{type(task).__name__}[{task.make_unique_id()}]'


# ----- parameters ------------------------------------------------------------------------------


def test_a_missing_required_parameter_names_the_class_the_parameter_and_how_to_set_it():
    with pytest.raises(MissingParameterError) as raised:
        Source()
    message = str(raised.value)
    assert "Source: the parameter 'size'" in message
    assert 'Source(size=...)' in message
    assert '--test_errors.Source-size' in message
    assert '[test_errors.Source]' in message
    # Still what luigi raises, so existing except clauses keep working.
    assert isinstance(raised.value, luigi.parameter.MissingParameterException)
    assert _one_sentence(message), message


def _one_sentence(message: str) -> bool:
    """One sentence: it ends with a single period and holds no other sentence end (``. ``) and no ``..`` (``...`` is fine)."""
    text = message.replace('...', '')
    return text.endswith('.') and '..' not in text and '. ' not in text


def test_a_requirement_missing_a_parameter_is_reported_without_a_double_period():
    class MakesSourceWithoutSize(gokart.TaskOnKart[int]):
        task_namespace = 'test_errors'

        def requires(self):
            return Source()

    with pytest.raises(Exception) as raised:
        MakesSourceWithoutSize().make_unique_id()
    assert "the parameter 'size'" in str(raised.value) and '..' not in str(raised.value).replace('...', '')


def test_a_task_instance_parameter_of_the_wrong_class_names_the_parameter_and_both_classes():
    with pytest.raises(TaskInstanceTypeError) as raised:
        NeedsSource(source=Unrelated())
    message = str(raised.value)
    assert "NeedsSource: the parameter 'source'" in message
    assert 'Unrelated' in message and 'Source' in message
    assert isinstance(raised.value, TypeError)


def test_a_list_task_instance_parameter_with_an_element_of_the_wrong_class_is_refused():
    with pytest.raises(TaskInstanceTypeError) as raised:
        NeedsSources(sources=[Source(size=1), Unrelated()])
    assert "NeedsSources: the parameter 'sources'" in str(raised.value)


def test_a_parameter_value_that_does_not_parse_names_the_parameter():
    luigi.configuration.get_config().set('test_errors.Source', 'size', 'twelve')
    with pytest.raises(ValueError) as raised:
        Source()
    assert "'size'" in str(raised.value) and 'test_errors.Source' in str(raised.value)


def test_a_value_a_parameter_refuses_names_the_class_and_the_parameter():
    class Dated(gokart.TaskOnKart[int]):
        task_namespace = 'test_errors'
        day = luigi.DateParameter()

    with pytest.raises(TaskParameterError) as raised:
        Dated(day='not a date')
    assert "Dated: the parameter 'day' cannot take 'not a date'" in str(raised.value)


# ----- outputs ---------------------------------------------------------------------------------


def test_an_unknown_extension_names_the_task_the_path_and_the_known_extensions():
    task = YamlOutput()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    error = _only_exception(raised)
    assert isinstance(error, UnsupportedFormatError) and isinstance(error, AssertionError)
    message = str(error)
    assert _name(task) in message
    assert 'errors/config.yaml' in message
    assert "'.pkl'" in message and 'register_file_processor' in message


def test_a_dict_dumped_to_csv_names_the_task_the_path_and_the_format_requirement():
    task = DictToCsv()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    error = _only_exception(raised)
    assert isinstance(error, UnwritableObjectError) and isinstance(error, TypeError)
    message = str(error)
    assert _name(task) in message
    assert task.output().path() in message
    assert 'builtins.dict' in message and 'requires pd.DataFrame' in message
    assert not os.path.exists(task.output().path())


def test_an_unpicklable_object_names_the_task_and_the_path_and_leaves_no_output():
    task = Unpicklable()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    error = _only_exception(raised)
    assert isinstance(error, UnwritableObjectError)
    assert _name(task) in str(error) and task.output().path() in str(error)
    assert 'generator' in str(error)
    assert not task.complete()
    leftovers = [name for name in os.listdir(os.path.dirname(task.output().path())) if 'Unpicklable' in name]
    assert leftovers == []


def test_loading_a_task_that_is_not_a_requirement_names_both_tasks():
    task = LoadsStranger()
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task)
    error = _only_exception(raised)
    assert isinstance(error, NotARequirementError)
    assert _name(task) in str(error) and _name(Unrelated()) in str(error)
    assert 'requires' in str(error)


@pytest.mark.parametrize(
    'content',
    [b'', b'\x80\x05\x95', b'not a pickle at all'],
    ids=['empty', 'truncated', 'garbage'],
)
def test_a_corrupt_cached_input_names_the_loading_task_the_writer_the_path_and_the_fix(content):
    source, downstream = Source(size=3), NeedsSource(source=Source(size=3))
    gokart.build(source)
    with open(source.output().path(), 'wb') as f:
        f.write(content)
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(downstream)
    error = _only_exception(raised)
    assert isinstance(error, CorruptOutputError)
    message = str(error)
    assert _name(downstream) in message and _name(source) in message
    assert message.count(source.output().path()) == 1, message
    assert 'rerun=True' in message and 'delete the file' in message
    assert _one_sentence(message), message


def test_a_cut_parquet_file_is_reported_not_loaded_as_garbage():
    class Table(gokart.TaskOnKart[pd.DataFrame]):
        task_namespace = 'test_errors'

        def output(self):
            return self.make_target('errors/table.parquet')

        def run(self):
            self.dump(pd.DataFrame({'a': range(1000)}))

    gokart.build(Table())
    path = Table().output().path()
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(CorruptOutputError) as raised:
        gokart.build(Table())
    assert path in str(raised.value) and _name(Table()) in str(raised.value)
    # rerun=True is the fix the message gives, and it works.
    pd.testing.assert_frame_equal(gokart.build(Table(rerun=True)), pd.DataFrame({'a': range(1000)}))


def test_loading_a_missing_output_names_the_task_and_the_path():
    task = NeedsSource(source=Source(size=9))
    with pytest.raises(OutputNotFoundError) as raised:
        task.load('source')
    assert _name(task) in str(raised.value) and Source(size=9).output().path() in str(raised.value)


# ----- the DAG ---------------------------------------------------------------------------------


def test_a_dependency_cycle_is_an_error_naming_the_tasks_in_it():
    with pytest.raises(DependencyCycleError) as raised:
        Chicken().make_unique_id()
    assert 'Chicken({}) -> Egg({}) -> Chicken({})' in str(raised.value)
    with pytest.raises(GokartBuildError) as build_raised:
        gokart.build(Chicken())
    assert isinstance(_only_exception(build_raised), DependencyCycleError)
    assert 'Chicken' in str(build_raised.value) and 'Egg' in str(build_raised.value)


def test_a_failing_requires_names_the_task_its_parameters_and_the_error():
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(BrokenRequires(flavour='mint'))
    error = _only_exception(raised)
    assert isinstance(error, RequiresError)
    message = str(error)
    assert "requires() of BrokenRequires({'flavour': 'mint'}) raised AttributeError" in message
    assert 'missing_attribute' in message


@pytest.mark.parametrize('workers', [1, 2])
def test_every_failed_task_is_in_the_build_error(workers):
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(BothFail(), workers=workers)
    left, right = Fails(reason='left broke'), Fails(reason='right broke')
    assert set(raised.value.raised_exceptions) == {left.make_unique_id(), right.make_unique_id()}
    for task, text in ((left, 'left broke'), (right, 'right broke')):
        (exception,) = raised.value.raised_exceptions[task.make_unique_id()]
        assert isinstance(exception, ValueError) and text in str(exception)
        assert f'{_name(task)}: ValueError: cannot go on: {text}' in str(raised.value)


def test_gokart_run_exits_non_zero_and_reports_every_failure(tmp_path):
    script = tmp_path / 'pipeline.py'
    script.write_text(
        textwrap.dedent(
            """
            import gokart, luigi

            class Fails(gokart.TaskOnKart):
                reason = luigi.Parameter()
                def run(self):
                    raise ValueError(f'cannot go on: {self.reason}')

            class BothFail(gokart.TaskOnKart):
                def requires(self):
                    return [Fails(reason='left broke'), Fails(reason='right broke')]
                def run(self):
                    self.dump(1)

            if __name__ == '__main__':
                gokart.run()
            """
        )
    )
    for extra in ([], ['--workers', '2']):
        done = subprocess.run(
            [sys.executable, str(script), 'BothFail', '--local-scheduler', *extra],
            cwd=tmp_path,
            env={**os.environ, 'PYTHONPATH': REPOSITORY},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 40, done.stderr[-2000:]
        assert 'cannot go on: left broke' in done.stderr and 'cannot go on: right broke' in done.stderr


# ----- the workspace ---------------------------------------------------------------------------

_CHILD = """
import json, sys
import gokart
from gokart.errors import GokartBuildError

class Big(gokart.TaskOnKart):
    task_namespace = 'test_errors_child'
    def run(self):
        self.dump(b'x' * 2_000_000)

task = Big(workspace_directory=sys.argv[1])
try:
    gokart.build(task)
    print(json.dumps({'ok': True}))
except GokartBuildError as e:
    (errors,) = e.raised_exceptions.values()
    print(json.dumps({'ok': False, 'types': [c.__name__ for c in type(errors[0]).__mro__], 'message': str(errors[0]),
                      'name': f'Big[{task.make_unique_id()}]'}))
"""


def _build_in_child(command_prefix: list[str], workspace: str) -> dict:
    done = subprocess.run(
        [*command_prefix, sys.executable, '-c', _CHILD, workspace],
        env={**os.environ, 'PYTHONPATH': REPOSITORY},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _in_mount_namespace(mount_options: str, directory: str) -> list[str]:
    if shutil.which('unshare') is None:
        pytest.skip('needs unshare(1) to mount a small file system')
    probe = subprocess.run(['unshare', '--mount', '--map-root-user', 'true'], capture_output=True)
    if probe.returncode != 0:
        pytest.skip('this machine does not allow mount namespaces')
    # A private mount namespace: the tmpfs exists only for the child and vanishes with it.
    return ['unshare', '--mount', '--map-root-user', 'sh', '-c', f'mount -t tmpfs -o {mount_options} tmpfs "$0" && exec "$@"', directory]


def test_no_space_left_is_a_workspace_error_naming_the_task_and_the_path(tmp_path):
    workspace = tmp_path / 'full'
    workspace.mkdir()
    result = _build_in_child(_in_mount_namespace('size=256k', str(workspace)), str(workspace))
    assert not result['ok']
    assert 'WorkspaceError' in result['types'] and 'OSError' in result['types']
    assert result['name'] in result['message'] and str(workspace) in result['message']
    assert 'no space is left' in result['message']


def test_a_read_only_workspace_is_a_workspace_error(tmp_path):
    workspace = tmp_path / 'read-only'
    workspace.mkdir()
    result = _build_in_child(_in_mount_namespace('ro', str(workspace)), str(workspace))
    assert not result['ok']
    assert 'WorkspaceError' in result['types']
    assert result['name'] in result['message'] and 'read-only' in result['message']


def test_permission_denied_is_a_workspace_error(tmp_path):
    workspace = tmp_path / 'locked'
    workspace.mkdir()
    workspace.chmod(0o555)
    # root ignores file modes; without the DAC capabilities it is held to them like any owner.
    prefix = ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] if os.geteuid() == 0 else []
    if prefix and shutil.which('setpriv') is None:
        pytest.skip('needs setpriv(1) to drop root privileges')
    result = _build_in_child(prefix, str(workspace))
    workspace.chmod(0o755)
    assert not result['ok']
    assert 'WorkspaceError' in result['types'] and 'PermissionError' not in result['types']
    assert result['name'] in result['message'] and str(workspace) in result['message']
    assert 'permission is denied' in result['message']


def test_every_error_is_a_gokart_error():
    for error in (MissingParameterError, TaskInstanceTypeError, UnsupportedFormatError, UnwritableObjectError, WorkspaceError):
        assert issubclass(error, GokartError)
