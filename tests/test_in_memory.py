"""In-memory targets (experimental): values shared within one process, keyed by path."""

from __future__ import annotations

import pytest

from gokart.in_memory import InMemoryCacheRepository, InMemoryTarget, make_in_memory_target


@pytest.fixture(autouse=True)
def empty_repository() -> None:
    InMemoryCacheRepository().clear()


def test_dump_load_remove() -> None:
    target = make_in_memory_target('features')
    assert not target.exists()
    target.dump({'a': 1})
    assert target.exists() and target.load() == {'a': 1} and target.path() == 'features'
    assert make_in_memory_target('features').load() == {'a': 1}  # one store per process
    first_time = target.last_modification_time()
    target.dump({'a': 2})
    assert target.last_modification_time() >= first_time
    target.remove()
    assert not target.exists()


def test_repository_is_shared_and_removing_a_missing_key_asserts() -> None:
    InMemoryCacheRepository().set_value('k', 1)
    repository = InMemoryCacheRepository()
    assert repository.has('k') and repository.get_value('k') == 1 and repository.size == 1
    repository.remove('k')
    assert repository.empty()
    with pytest.raises(AssertionError):
        repository.remove('k')


def test_modification_time_of_a_missing_value_is_an_error() -> None:
    target = make_in_memory_target('nothing')
    assert isinstance(target, InMemoryTarget)
    with pytest.raises(ValueError):
        target.last_modification_time()
