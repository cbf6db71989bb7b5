"""Ids, task ids, output paths, parameter texts and construction errors are gokart 1.12.2's (issue 22, item 9).

Two parts:
- the differential check: tasks generated at random from fixed seeds (``differential_tasks``), run
  under our gokart and under 1.12.2 (``differential_run``); ``make fuzz`` runs many more seeds;
- one case per difference such a run found, each run under both, and the behaviour that the fix
  gives asserted directly (so it also holds where the reference interpreter is missing).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import sys
import textwrap
import warnings

import luigi
import pytest

import gokart
from tests.reference_python import reference_python

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import differential_run  # noqa: E402

CI_SEEDS = range(0, 16)  # about 20 s on a shared machine; `make fuzz` runs more


@pytest.fixture(scope='module')
def reference() -> str:
    found = reference_python()
    if found is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up (`make reference-venv`)')
    return found


def test_generated_tasks_have_gokart_112s_ids_paths_and_errors(reference: str) -> None:
    found = differential_run.differences(CI_SEEDS, reference)
    assert not found, (
        f'{len(found)} differences from gokart 1.12.2 (see a seed with `python tests/compat/differential_run.py --show N`):\n'
        + '\n'.join(found[:20])
    )


# ----- the differences a first run found, one case each ---------------------------------------
CASES = {
    'explicit_bool_values': (
        """
        class Flag(gokart.TaskOnKart):
            flag = gokart.ExplicitBoolParameter()
        """,
        ['Flag(flag=None)', 'Flag(flag=0)', 'Flag(flag=1)', "Flag(flag='yes')", "Flag(flag='')", "Flag(flag='TRUE')", "Flag(flag='false')"],
    ),
    'task_instance_default_none': (
        """
        class Up(gokart.TaskOnKart):
            pass

        class Down(gokart.TaskOnKart):
            up = gokart.TaskInstanceParameter(default=None)
        """,
        ['Down()', 'Down(up=None)', 'Down(up=Up())'],
    ),
    'none_inside_requires': (
        """
        class Up(gokart.TaskOnKart):
            n = luigi.IntParameter(default=1)

        class Down(gokart.TaskOnKart):
            def requires(self):
                return [Up(), None, {'a': None, 'b': [Up(n=2), None]}, (None,)]
        """,
        ['Down()'],
    ),
    'all_parameters_by_position': (
        """
        class Own(gokart.TaskOnKart):
            a = luigi.IntParameter()
            b = luigi.Parameter(default='x')
        """,
        [
            "Own('./resources/', './resources/tmp/', False, False, False, True, False, True, ('random.seed',), -42497368, None, None, 180, False, True, True, True, True, False, 7, 'y')",
            "Own('./resources/', './resources/tmp/', False, False, False, False, False, False, ('random.seed',), 5, None, None, 180, False, True, True, True, True, False, 8)",
        ],
    ),
    'zoned_date_second_given_a_string_or_none': (
        """
        class Zoned(gokart.TaskOnKart):
            at = gokart.ZonedDateSecondParameter()
        """,
        [
            "Zoned(at='2024-01-02T03:04:05Z')",
            'Zoned(at=None)',
            'Zoned(at=5)',
            'Zoned(at=datetime.datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc))',
        ],
    ),
    'init_changes_param_kwargs': (
        """
        class Changed(gokart.TaskOnKart):
            n = luigi.IntParameter(default=1)

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.param_kwargs['n'] = 2

        class Holder(gokart.TaskOnKart):
            t = gokart.TaskInstanceParameter()
        """,
        ['Changed()', 'Changed(n=5)', 'Holder(t=Changed())'],
    ),
    'serialized_task_definition_check_on_instances': (
        """
        def helper(value):
            return value

        class Cached(gokart.TaskOnKart):
            @functools.lru_cache(maxsize=None)
            def cached(self):
                return 1

        class Held(gokart.TaskOnKart):
            function = helper

        class HeldOnInstance(gokart.TaskOnKart):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.function = helper

        class StrParams(gokart.TaskOnKart):
            def to_str_params(self, only_significant=False, only_public=False):
                return super().to_str_params(only_significant, only_public)

        class OwnCode(gokart.TaskOnKart):
            def get_own_code(self):
                return 'the code'
        """,
        [f'{name}(serialized_task_definition_check=True)' for name in ('Cached', 'Held', 'HeldOnInstance', 'StrParams', 'OwnCode')],
    ),
    'make_unique_id_overridden': (
        """
        class Custom(gokart.TaskOnKart):
            def make_unique_id(self):
                return 'c' * 32

        class Down(gokart.TaskOnKart):
            def requires(self):
                return Custom()

        class Held(gokart.TaskOnKart):
            t = gokart.TaskInstanceParameter()
        """,
        ['Custom()', 'Down()', 'Held(t=Custom())'],
    ),
    'invalid_default_valid_call': (
        """
        class Choice(gokart.TaskOnKart):
            c = luigi.ChoiceParameter(choices=['a', 'b'], default='z')

        class Exists(gokart.TaskOnKart):
            p = luigi.PathParameter(exists=True, default='does/not/exist')
        """,
        ["Choice(c='a')", 'Choice()', "Exists(p='.')", 'Exists()'],
    ),
    'given_values_fail_before_invalid_defaults': (
        """
        class Both(gokart.TaskOnKart):
            items = luigi.ChoiceListParameter(choices=['a', 'b'])
            c = luigi.ChoiceParameter(choices=['a', 'b'], default='z')
        """,
        ['Both(items=1)', "Both(items=['a'])"],
    ),
    'absolute_path_default_after_chdir': (
        """
        class Absolute(gokart.TaskOnKart):
            p = luigi.PathParameter(absolute=True, default='data')

        def chdir(path):
            os.makedirs(path, exist_ok=True)
            os.chdir(path)
            return path
        """,
        ['Absolute()', "chdir('elsewhere')", 'Absolute()'],
    ),
    'task_attribute_names': (
        """
        class Named(gokart.TaskOnKart):
            priority = luigi.IntParameter(default=3)
            resources = luigi.DictParameter(default={'cpu': 1})
            disabled = luigi.BoolParameter(default=False)
            owner_email = luigi.Parameter(default='a@b')
        """,
        ['Named()', "Named(priority=5, disabled=True, resources={'gpu': 2}, owner_email='x')"],
    ),
    'requires_raising': (
        """
        class Broken(gokart.TaskOnKart):
            def requires(self):
                raise KeyError('no such input')

        class Holder(gokart.TaskOnKart):
            t = gokart.TaskInstanceParameter()
        """,
        ['Broken()', 'Holder(t=Broken())'],
    ),
}

HEADER = 'import datetime\nimport functools\nimport os\n\nimport luigi\n\nimport gokart\n'


@pytest.fixture(scope='module')
def case_reports(reference: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list, list]]:
    sources = {name: HEADER + textwrap.dedent(source) for name, (source, _) in CASES.items()}
    calls = {name: calls for name, (_, calls) in CASES.items()}
    return differential_run.reports_of(sources, calls, reference)


@pytest.mark.parametrize('name', sorted(CASES))
def test_each_difference_found_is_gone(name: str, case_reports: dict[str, tuple[list, list]]) -> None:
    ours, theirs = case_reports[name]
    assert differential_run.compare(name, ours, theirs) == []


# ----- the same behaviours, asserted without the reference -------------------------------------
class ExplicitFlag(gokart.TaskOnKart[int]):
    flag = gokart.ExplicitBoolParameter()


@pytest.mark.parametrize('value', [None, 0, 1, 'yes', ''])
def test_an_explicit_bool_given_neither_true_nor_false_is_none_with_a_warning(value: object) -> None:
    with pytest.warns(UserWarning, match='neither True nor False'):
        task = ExplicitFlag(flag=value)
    assert task.flag is None
    assert task.to_str_params(only_significant=True) == {'flag': 'None'}


def test_an_explicit_bool_on_the_command_line_still_refuses_other_words() -> None:
    with pytest.raises(ValueError):
        gokart.ExplicitBoolParameter().parse('yes')


class OptionalUpstream(gokart.TaskOnKart[int]):
    task = gokart.TaskInstanceParameter(default=None)


def test_a_task_instance_parameter_holding_none_is_a_type_error() -> None:
    with pytest.raises(TypeError, match='None is passed'):
        OptionalUpstream()


class Leaf(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=1)


class RequiresWithNone(gokart.TaskOnKart[int]):
    def requires(self):
        return [Leaf(), None, {'a': None, 'b': [Leaf(n=2), None]}]


def test_none_inside_requires_is_left_out() -> None:
    from gokart.utils import flatten

    assert flatten([1, None, [None, 2], {'a': None}]) == [1, 2]
    upstream = [Leaf().make_unique_id(), Leaf(n=2).make_unique_id()]
    assert RequiresWithNone().make_unique_id() == hashlib.md5(str([*upstream, {}, 'RequiresWithNone']).encode()).hexdigest()


class PositionalOwn(gokart.TaskOnKart[int]):
    a = luigi.IntParameter()


def test_tasks_own_parameters_follow_gokart_112s_built_in_ones_by_position() -> None:
    builtins = (
        './resources/',
        './resources/tmp/',
        False,
        False,
        False,
        False,
        False,
        True,
        ('random.seed',),
        -42497368,
        None,
        None,
        180,
        False,
        True,
        True,
        True,
        True,
        False,
    )
    assert PositionalOwn(*builtins, 7).a == 7
    assert dict(gokart.TaskOnKart.get_params())['code_fingerprint_check'].positional is False


class ZonedAt(gokart.TaskOnKart[int]):
    at = gokart.ZonedDateSecondParameter()


def test_zoned_date_second_takes_datetimes_only_in_python() -> None:
    with pytest.raises(TypeError, match='parse it first'):
        ZonedAt(at='2024-01-02T03:04:05Z')
    with pytest.raises(AttributeError):
        ZonedAt(at=None)
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc)
    assert ZonedAt(at=moment).to_str_params(only_significant=True) == {'at': '2024-01-02T03:04:05+00:00'}
    assert gokart.ZonedDateSecondParameter().serialize(moment) == '2024-01-02T03:04:05.000678+00:00'


class ChangesItsParameters(gokart.TaskOnKart[int]):
    n = luigi.IntParameter(default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.param_kwargs['n'] = 2


def test_an_init_changing_param_kwargs_changes_the_unique_id_but_not_the_task_id() -> None:
    task = ChangesItsParameters()
    assert task.to_str_params(only_significant=True) == {'n': '2'}
    assert task.task_id.startswith('ChangesItsParameters_1_')
    assert task.make_unique_id() == hashlib.md5(str([{'n': '2'}, 'ChangesItsParameters']).encode()).hexdigest()


def helper_function(value):
    return value


class LruCached(gokart.TaskOnKart[int]):
    @functools.cache  # noqa: B019 - the point of the test
    def cached(self):
        return 1


class HeldOnInstance(gokart.TaskOnKart[int]):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.function = helper_function


class OverridesStrParams(gokart.TaskOnKart[int]):
    def to_str_params(self, only_significant=False, only_public=False):
        return super().to_str_params(only_significant, only_public)


def test_the_own_code_of_a_task_is_its_instances() -> None:
    assert 'def cached(self)' in LruCached().get_own_code()
    assert 'def helper_function' in HeldOnInstance().get_own_code()
    assert OverridesStrParams().get_own_code() == ''


class CustomId(gokart.TaskOnKart[int]):
    def make_unique_id(self):
        return 'c' * 32


class RequiresCustomId(gokart.TaskOnKart[int]):
    def requires(self):
        return CustomId()


def test_a_requirement_overriding_make_unique_id_enters_with_what_it_returns() -> None:
    expected = hashlib.md5(str(['c' * 32, {}, 'RequiresCustomId']).encode()).hexdigest()
    assert RequiresCustomId().make_unique_id() == expected


class InvalidChoiceDefault(gokart.TaskOnKart[int]):
    c = luigi.ChoiceParameter(choices=['a', 'b'], default='z')


def test_an_invalid_default_fails_only_the_calls_that_use_it() -> None:
    assert InvalidChoiceDefault(c='a').c == 'a'
    with pytest.raises(ValueError):
        InvalidChoiceDefault()


class AbsoluteDefault(gokart.TaskOnKart[int]):
    p = luigi.PathParameter(absolute=True, default='data')


def test_an_absolute_path_default_follows_the_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = AbsoluteDefault().p
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')
    assert str(AbsoluteDefault().p) == os.path.join(str(tmp_path), 'elsewhere', 'data') != str(first)


class BrokenRequires(gokart.TaskOnKart[int]):
    def requires(self):
        raise KeyError('no such input')


def test_an_error_of_requires_keeps_its_type() -> None:
    from gokart.errors import RequiresError

    with pytest.raises(KeyError) as raised:
        BrokenRequires().make_unique_id()
    assert isinstance(raised.value, RequiresError)
    assert 'BrokenRequires' in str(raised.value)


def test_warnings_of_this_module_do_not_leak() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert ExplicitFlag(flag=True).flag is True
