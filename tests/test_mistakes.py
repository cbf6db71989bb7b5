"""A newcomer's mistakes get errors that name the task, the mistake and the fix, where the mistake is made."""

from unittest import mock

import luigi
import pytest

import gokart
from gokart.errors import (
    GokartBuildError,
    NothingDumpedError,
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


def test_a_run_that_dumps_nothing_fails_itself_asking_for_dump():
    error = failure_of(LoadsTheForgetful())
    task = ForgetsToDump()
    assert f'{task.__class__.__name__}[{task.make_unique_id()}]: NothingDumpedError' in str(error)
    assert 'did you call self.dump()?' in str(error) and task.output().path() in str(error)
    assert 'LoadsTheForgetful[' not in str(error).split('raised:')[-1]  # the loader is not blamed
    with pytest.raises(NothingDumpedError):
        ForgetsToDump().run()


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
