"""Set parameters get the same unique id in every process, whatever its hash seed (issue 13, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import luigi

import gokart

SCRIPT = textwrap.dedent(
    """
    import warnings
    warnings.simplefilter('ignore')
    import luigi
    import gokart

    class SetTask(gokart.TaskOnKart):
        p = luigi.Parameter()

    class ListTask(gokart.TaskOnKart):
        p = luigi.ListParameter()

    values = [{'apple', 'banana', 'cherry', 'durian'}, frozenset({'x', 'y', 'z', 'w'}), {('a', 1), ('b', 2), ('c', 3)}, {'s', 3}]
    for value in values:
        print(SetTask(p=value).make_unique_id(), SetTask(p=value).task_id)
    print(ListTask(p={'apple', 'banana', 'cherry'}).make_unique_id())
    """
)


def ids_under_hash_seed(seed: str) -> list[str]:
    environment = {**os.environ, 'PYTHONHASHSEED': seed, 'PYTHONPATH': os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, '-c', SCRIPT], env=environment, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_ids_of_string_sets_are_the_same_under_every_hash_seed() -> None:
    first = ids_under_hash_seed('0')
    assert len(first) == 9
    for seed in ('1', '2', '3', '12345'):
        assert ids_under_hash_seed(seed) == first


class IntSet(gokart.TaskOnKart[str]):
    p = luigi.Parameter()


def test_sets_of_small_ints_keep_gokart_112_ids() -> None:
    # Ids gokart 1.12.2 gives (the same in every process, since small ints hash to themselves).
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert IntSet(p={3, 1, 2}).make_unique_id() == 'c0abac8e05a4c3db906632d138333bf4'
        assert IntSet(p={0, 8, 16}).make_unique_id() == '770694033681ee8bef059ece9b693793'
        assert IntSet(p={8, 0}).make_unique_id() == 'faeba6931f5ff736f8798497555020e2'
        assert IntSet(p=frozenset({40, 5})).make_unique_id() == '9b06545e1e75a11a59326be5d616f617'
        assert IntSet(p=frozenset()).make_unique_id() == '30d2354dae3e45715c4dba37f9a017e1'
        assert IntSet(p={1.5, -2.0}).make_unique_id() == '47b4e0140d280019a00e9ae7f8bd0db7'
        assert IntSet(p={(1, 2), (3, 4)}).make_unique_id() == 'e3b726b4c0e6b9e51606c625879ee51b'


def test_a_frozenset_parameter_stays_an_equal_frozenset() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        task = IntSet(p=frozenset({'b', 'a'}))
    assert isinstance(task.p, frozenset)
    assert task.p == frozenset({'a', 'b'})
    assert str(task.p) == "frozenset({'a', 'b'})"
