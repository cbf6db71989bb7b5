"""A newcomer's mistakes get errors that name the task, the mistake and the fix, where the mistake is made."""

from unittest import mock

import luigi
import pytest

import gokart
from gokart.errors import (
    GokartBuildError,
    NothingDumpedError,
    NothingDumpedWarning,
    RequiresError,
    UnknownInputError,
    UnknownParameterError,
    UnwritableObjectError,
)


class Tokens(gokart.TaskOnKart[list]):
    learning_rate = luigi.FloatParameter(default=0.1)

    def run(self):
        self.dump(['a', 'b'])


class ForgetsToDump(gokart.TaskOnKart[list]):
    def run(self):
        self.tokens = ['never', 'written']


class HasNoRun(gokart.TaskOnKart[list]):
    pass


class LoadsTheForgetful(gokart.TaskOnKart[int]):
    def requires(self):
        return ForgetsToDump()

    def run(self):
        self.dump(len(self.load()))


class LoadsAMisspelledInput(gokart.TaskOnKart[int]):
    def requires(self):
        return {'train': Tokens(), 'valid': Tokens(learning_rate=0.2)}

    def run(self):
        self.dump(len(self.load('tarin')))


class RequiresAClass(gokart.TaskOnKart[int]):
    def requires(self):
        return Tokens


class RequiresAString(gokart.TaskOnKart[int]):
    def requires(self):
        return {'tokens': Tokens(), 'other': 'Tokens'}


class ListToCsv(gokart.TaskOnKart[list]):
    def output(self):
        return self.make_target('tokens.csv')

    def run(self):
        self.dump([1, 2])


def failure_of(task):
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(task, reset_register=False, log_level=luigi.interface.logging.CRITICAL)
    return raised.value


def test_a_run_that_dumps_nothing_succeeds_with_a_warning_and_its_loader_fails_naming_it():
    # gokart 1.12's control flow: the task that wrote nothing succeeds; the task that loads its output fails.
    task = ForgetsToDump()
    with pytest.warns(NothingDumpedWarning) as warned:
        error = failure_of(LoadsTheForgetful())
    text = '\n'.join(str(w.message) for w in warned if w.category is NothingDumpedWarning)
    assert f'ForgetsToDump[{task.make_unique_id()}] finished run() without writing its output {task.output().path()}' in text
    assert 'did you call self.dump()?' in text and 'strict = true' in text
    blamed = str(error).split('raised:')[-1]
    assert 'ForgetsToDump[' not in blamed.split(': OutputNotFoundError')[0]  # only the loader failed
    assert f'LoadsTheForgetful[{LoadsTheForgetful().make_unique_id()}]: OutputNotFoundError' in blamed
    assert f'the output of ForgetsToDump[{task.make_unique_id()}]' in blamed and 'did you call self.dump()?' in blamed


def test_gokart_build_of_a_task_that_dumps_nothing_returns_as_in_1_12():
    with pytest.warns(NothingDumpedWarning):
        assert gokart.build(ForgetsToDump(), return_value=False, reset_register=False) is None
    assert ForgetsToDump().complete() is False  # nothing was written: the next build runs it again
    # With return_value=True there is nothing to return: 1.12 raised FileNotFoundError from its load.
    with pytest.raises(FileNotFoundError, match=r'ForgetsToDump\[.*\] cannot return its output: .* did you call self\.dump\(\)\?'):
        with pytest.warns(NothingDumpedWarning):
            gokart.build(ForgetsToDump(), reset_register=False)


def test_a_task_without_run_succeeds_on_the_luigi_path_too():
    with pytest.warns(NothingDumpedWarning, match=r'HasNoRun\[\w+\] finished run\(\) without writing its output'):
        assert gokart.build(HasNoRun(), return_value=False, reset_register=False, executor='luigi') is None


@pytest.mark.parametrize('switch', ['config', 'environment'])
def test_strict_mode_makes_a_run_that_dumps_nothing_fail_itself(switch, monkeypatch, request):
    if switch == 'config':
        _set_gokart_option('strict', 'true', request)
    else:
        monkeypatch.setenv('GOKART_STRICT', 'true')
    error = failure_of(LoadsTheForgetful())
    task = ForgetsToDump()
    assert f'{task.__class__.__name__}[{task.make_unique_id()}]: NothingDumpedError' in str(error)
    assert 'did you call self.dump()?' in str(error) and task.output().path() in str(error)
    assert 'LoadsTheForgetful[' not in str(error).split('raised:')[-1]  # the loader is not blamed
    with pytest.raises(NothingDumpedError):
        ForgetsToDump().run()


def test_strict_mode_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.setenv('GOKART_STRICT', 'maybe')
    with pytest.raises(ValueError, match="GOKART_STRICT is 'maybe': set it to true"):
        ForgetsToDump().run()
    monkeypatch.setenv('GOKART_STRICT', 'false')
    with pytest.warns(NothingDumpedWarning):
        ForgetsToDump().run()


def _set_gokart_option(name, value, request):
    config = luigi.configuration.get_config()
    if not config.has_section('gokart'):
        config.add_section('gokart')
    config.set('gokart', name, value)
    request.addfinalizer(lambda: config.remove_option('gokart', name))


def test_a_mocked_dump_writes_nothing_on_purpose():
    task = ForgetsToDump()
    with mock.patch.object(gokart.TaskOnKart, 'dump'):
        Tokens().run()
    task.dump = mock.MagicMock()
    task.run()  # no error: a test that replaces dump does not want files


def test_load_of_an_unknown_input_name_lists_the_names_that_exist():
    gokart.build(Tokens(), reset_register=False)
    gokart.build(Tokens(learning_rate=0.2), reset_register=False)
    task = LoadsAMisspelledInput()
    with pytest.raises(UnknownInputError) as raised:
        task.run()
    assert str(raised.value) == (
        f"LoadsAMisspelledInput[{task.make_unique_id()}] has no input named 'tarin': "
        "the inputs its requires() returns are 'train', 'valid'. Did you mean 'train'?"
    )
    assert isinstance(raised.value, KeyError)  # what gokart 1.12 raised


def test_unknown_keyword_suggests_the_parameter_meant():
    with pytest.raises(UnknownParameterError, match=r"Tokens has no parameter 'learning_rat'\. Did you mean 'learning_rate'\?"):
        Tokens(learning_rat=0.2)
    with pytest.raises(luigi.parameter.UnknownParameterException):  # what luigi users catch
        Tokens(epochs=3)


def test_requires_returning_a_class_or_a_string_says_so():
    with pytest.raises(
        RequiresError, match=r'requires\(\) of RequiresAClass returned the class Tokens, not a task: return an instance, Tokens\(\.\.\.\)'
    ):
        RequiresAClass().make_unique_id()
    with pytest.raises(RequiresError, match=r"returned the string 'Tokens' under the key 'other', not a task"):
        RequiresAString().make_unique_id()


def test_unwritable_object_message_reads_as_one_sentence():
    with pytest.raises(UnwritableObjectError) as raised:
        ListToCsv().run()
    assert '..' not in str(raised.value) and 'is passed. Dump an object this format holds' in str(raised.value)
