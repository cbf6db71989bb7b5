"""Signed pickles: with a key set, an output whose signature is missing or wrong is refused before unpickling."""

from __future__ import annotations

import os
import pickle

import luigi
import pandas as pd
import pytest

import gokart
from gokart.errors import CorruptOutputError, GokartBuildError, UnsignedOutputError
from gokart.storage import signing


class Numbers(gokart.TaskOnKart[dict]):
    task_namespace = 'test_signing'
    n = luigi.IntParameter(default=1)

    def run(self) -> None:
        self.dump({'n': self.n, 'values': list(range(self.n))})


class Compressed(gokart.TaskOnKart[list]):
    task_namespace = 'test_signing'

    def output(self):
        return self.make_target('signing/compressed.xz')

    def run(self) -> None:
        self.dump([1, 2, 3])


class Frame(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'test_signing'

    def output(self):
        return self.make_large_data_frame_target('signing/frame.zip')

    def run(self) -> None:
        self.dump(pd.DataFrame({'a': range(100)}))


class Consumer(gokart.TaskOnKart[int]):
    task_namespace = 'test_signing'
    numbers = gokart.TaskInstanceParameter()

    def run(self) -> None:
        self.dump(len(self.load('numbers')['values']))


class _Trap:
    """Unpickling this creates a file: evidence that code from the workspace ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'a secret of the team')
    return 'a secret of the team'


def _path(task) -> str:
    return task.output().path()


def _trailer(path: str) -> signing.Trailer:
    with open(path, 'rb') as f:
        _, trailer = signing.split_trailer(f)
    assert trailer is not None, f'{path} has no signature trailer'
    return trailer


def test_a_signed_output_ends_with_the_trailer_and_loads(key):
    assert gokart.build(Numbers(n=3)) == {'n': 3, 'values': [0, 1, 2]}
    path = _path(Numbers(n=3))
    data = open(path, 'rb').read()
    trailer = _trailer(path)
    assert trailer.version == 2
    # The trailer names the output it was signed for: its path relative to the workspace.
    assert trailer.name.decode() == os.path.relpath(path, 'resources')
    assert data[-trailer.size :].startswith(signing.TRAILER_MAGIC)
    # The content before the trailer is the plain pickle: other readers (gokart 1.12) still load it.
    assert pickle.loads(data) == {'n': 3, 'values': [0, 1, 2]}


@pytest.mark.parametrize('where', ['first byte', 'tenth byte', 'last content byte', 'magic', 'name', 'name length', 'digest', 'last byte'])
def test_flipping_one_byte_of_a_signed_output_makes_load_refuse(key, where):
    gokart.build(Numbers(n=5))
    path = _path(Numbers(n=5))
    size = _trailer(path).size
    position = {
        'first byte': 0,
        'tenth byte': 10,
        'last content byte': -size - 1,
        'magic': -size,
        'name': -size + len(signing.TRAILER_MAGIC),
        'name length': -signing.DIGEST_BYTES - 1,
        'digest': -signing.DIGEST_BYTES,
        'last byte': -1,
    }[where]
    data = bytearray(open(path, 'rb').read())
    data[position] ^= 0x01
    open(path, 'wb').write(bytes(data))
    with pytest.raises(UnsignedOutputError) as raised:
        Numbers(n=5).output().load()
    assert path in str(raised.value)
    assert 'rerun=True' in str(raised.value)


def test_an_unsigned_output_is_refused_once_a_key_is_set(monkeypatch):
    gokart.build(Numbers(n=2))
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'k')
    with pytest.raises(UnsignedOutputError, match='has no signature'):
        Numbers(n=2).output().load()


def test_an_output_signed_with_another_key_is_refused(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'old key')
    gokart.build(Numbers(n=2))
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'new key')
    with pytest.raises(UnsignedOutputError, match='does not match'):
        Numbers(n=2).output().load()


def test_a_signed_output_copied_over_another_tasks_output_is_refused(key):
    gokart.build(Numbers(n=1))
    gokart.build(Numbers(n=2))
    # Both are validly signed, but the signature binds the file name, which holds the unique id.
    with open(_path(Numbers(n=1)), 'rb') as source:
        data = source.read()
    with open(_path(Numbers(n=2)), 'wb') as destination:
        destination.write(data)
    with pytest.raises(UnsignedOutputError):
        Numbers(n=2).output().load()


def test_a_planted_pickle_is_refused_before_any_of_its_code_runs(key, tmp_path):
    gokart.build(Numbers(n=4))
    marker = str(tmp_path / 'code-ran')
    with open(_path(Numbers(n=4)), 'wb') as f:
        pickle.dump(_Trap(marker), f)
    with pytest.raises(UnsignedOutputError):
        Numbers(n=4).output().load()
    assert not os.path.exists(marker)


def test_a_downstream_task_refuses_a_tampered_input_and_the_build_fails(key):
    gokart.build(Numbers(n=3))
    path = _path(Numbers(n=3))
    data = bytearray(open(path, 'rb').read())
    data[5] ^= 0xFF
    open(path, 'wb').write(bytes(data))
    with pytest.raises(GokartBuildError) as raised:
        gokart.build(Consumer(numbers=Numbers(n=3)))
    (errors,) = raised.value.raised_exceptions.values()
    assert isinstance(errors[0], UnsignedOutputError)
    assert isinstance(errors[0], CorruptOutputError)
    message = str(errors[0])
    assert f'Consumer[{Consumer(numbers=Numbers(n=3)).make_unique_id()}]' in message
    assert f'Numbers[{Numbers(n=3).make_unique_id()}]' in message
    assert path in message


def test_the_key_can_come_from_the_luigi_config():
    luigi.configuration.get_config().set('gokart', 'pickle_signing_key', 'from config')
    gokart.build(Numbers(n=6))
    assert signing.TRAILER_MAGIC in open(_path(Numbers(n=6)), 'rb').read()
    luigi.configuration.get_config().set('gokart', 'pickle_signing_key', 'changed')
    with pytest.raises(UnsignedOutputError):
        Numbers(n=6).output().load()


def test_without_a_key_outputs_carry_no_trailer(monkeypatch):
    monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE, raising=False)
    gokart.build(Numbers(n=3))
    data = open(_path(Numbers(n=3)), 'rb').read()
    assert signing.TRAILER_MAGIC not in data
    assert pickle.loads(data) == {'n': 3, 'values': [0, 1, 2]}


def test_a_signed_output_still_loads_when_signing_is_off(key, monkeypatch):
    gokart.build(Numbers(n=3))
    monkeypatch.delenv(signing.ENVIRONMENT_VARIABLE)
    assert Numbers(n=3).output().load() == {'n': 3, 'values': [0, 1, 2]}


def test_lzma_pickles_and_large_frame_zips_are_signed_too(key):
    assert gokart.build(Compressed()) == [1, 2, 3]
    pd.testing.assert_frame_equal(gokart.build(Frame()), pd.DataFrame({'a': range(100)}))
    for task in (Compressed(), Frame()):
        path = _path(task)
        data = bytearray(open(path, 'rb').read())
        data[len(data) // 2] ^= 0x10
        open(path, 'wb').write(bytes(data))
        with pytest.raises(UnsignedOutputError):
            task.output().load()


def test_the_run_records_are_signed(key):
    gokart.build(Numbers(n=7))
    records = [os.path.join(root, name) for root, _, names in os.walk('resources/log') for name in names if name.endswith('.pkl')]
    assert records
    for record in records:
        assert _trailer(record).name.decode() == os.path.relpath(record, 'resources')
    assert Numbers.restore(Numbers(n=7).make_unique_id()).n == 7


def test_other_formats_are_not_signed(key):
    class Csv(gokart.TaskOnKart):
        task_namespace = 'test_signing'

        def output(self):
            return self.make_target('signing/table.csv')

        def run(self):
            self.dump(pd.DataFrame({'a': [1]}))

    gokart.build(Csv())
    assert signing.TRAILER_MAGIC not in open(_path(Csv()), 'rb').read()


def test_a_build_signs_with_the_key_it_started_with(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'at start')

    class ChangesTheKey(gokart.TaskOnKart[int]):
        def run(self):
            os.environ[signing.ENVIRONMENT_VARIABLE] = 'changed mid-build'
            self.dump(1)

    task = ChangesTheKey()
    gokart.build(task, return_value=False)
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'at start')
    assert task.output().load() == 1  # signed with the key the build began with, and all its records too
    assert task.get_processing_time() != 'unknown'
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'changed mid-build')
    with pytest.raises(UnsignedOutputError):
        task.output().load()
