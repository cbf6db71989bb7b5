"""Task construction takes shortcuts past luigi's (one parameter resolution, a shared JSON encoder,
attributes set in one go); these tests pin that the result is what luigi's own path gives."""

from __future__ import annotations

import warnings
from typing import Any

import luigi
import luigi.task
from hypothesis import given
from hypothesis import strategies as st

import gokart
from gokart.execution.local import execute
from gokart.ids import identity


class Leaf(gokart.TaskOnKart[int]):
    number = luigi.IntParameter()
    name = luigi.Parameter(default='leaf')
    tags = luigi.ListParameter(default=['a', 'b'])
    hidden = luigi.Parameter(default='h', visibility=luigi.parameter.ParameterVisibility.PRIVATE)
    loose = luigi.Parameter(default='x', significant=False)

    def run(self) -> None:
        self.dump(self.number)


class Root(gokart.TaskOnKart[list[int]]):
    leaves = gokart.ListTaskInstanceParameter()

    def run(self) -> None:
        self.dump(self.load('leaves'))


class ChangesItsArguments(gokart.TaskOnKart[int]):
    number = luigi.IntParameter(default=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs['number'] = kwargs.get('number', 1) * 10
        super().__init__(*args, **kwargs)


def _as_luigi_builds_it(task_class: type, **kwargs: Any) -> dict[str, Any]:
    """The attributes luigi.Task.__init__ itself sets for these arguments, on a bare object."""
    bare = object.__new__(task_class)
    luigi.Task.__init__(bare, **kwargs)
    return vars(bare)


def test_attributes_are_the_ones_luigi_sets() -> None:
    kwargs: dict[str, Any] = {'number': 3, 'tags': ['c'], 'loose': 'y'}
    ours = Leaf(**kwargs)
    theirs = _as_luigi_builds_it(Leaf, **kwargs)
    for name, value in theirs.items():
        assert getattr(ours, name) == value, name
    assert ours.tags == ('c',)  # lists are stored as tuples, as luigi does
    assert hash(ours) == hash(ours.task_id) == theirs['_Task__hash']


def test_same_arguments_give_the_same_instance_and_others_a_new_one() -> None:
    assert Leaf(number=4) is Leaf(number=4)
    assert Leaf(number=4) is not Leaf(number=5)
    loose = Leaf(number=4, loose='other')
    assert loose is not Leaf(number=4) and loose == Leaf(number=4)  # luigi's task_id leaves insignificant parameters out
    assert loose.loose == 'other' and Leaf(number=4).loose == 'x'


def test_a_subclass_init_that_changes_its_arguments_is_honoured() -> None:
    assert ChangesItsArguments(number=2).number == 20
    assert ChangesItsArguments().number == 10


def test_missing_parameters_behave_as_in_luigi() -> None:
    try:
        Leaf()
    except luigi.parameter.MissingParameterException as e:
        assert 'number' in str(e)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError('a missing parameter must raise')


def test_luigi_type_warnings_still_fire() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        Leaf(number=1, name=5)
    assert any('is not of type string' in str(w.message) for w in caught)


_text = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), max_size=40)


@given(st.text(min_size=1, max_size=20), st.dictionaries(_text, _text, max_size=6))
def test_task_id_is_luigis(family: str, params: dict[str, str]) -> None:
    assert identity.luigi_task_id(family, params) == luigi.task.task_id_str(family, params)


def test_dependency_discovered_fires_for_each_edge_when_someone_listens(tmp_path: Any) -> None:
    seen: list[tuple[str, str]] = []

    @Root.event_handler(luigi.Event.DEPENDENCY_DISCOVERED)
    def record(task: Any, requirement: Any) -> None:
        seen.append((type(task).__name__, requirement.number))

    try:
        leaves = [Leaf(number=i, workspace_directory=str(tmp_path)) for i in range(3)]
        outcome = execute([Root(leaves=leaves, workspace_directory=str(tmp_path))])
        assert outcome.ok
        assert sorted(seen) == [('Root', 0), ('Root', 1), ('Root', 2)]
    finally:
        luigi.Task._event_callbacks[Root][luigi.Event.DEPENDENCY_DISCOVERED].discard(record)
