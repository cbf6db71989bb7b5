"""Content hashes of outputs (issue 33): taken while an output is written, kept in the lineage journal and the runs index."""

from __future__ import annotations

import json
import os

import blake3
import luigi
import pandas as pd
import pytest

import gokart
from gokart.runs import index
from gokart.storage import content_hash, signing


class Frame(gokart.TaskOnKart[pd.DataFrame]):
    extension = luigi.Parameter(default='.pkl')

    def output(self):
        return self.make_target(f'frame{self.extension}')

    def run(self):
        self.dump(pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']}))


class Model(gokart.TaskOnKart):
    def output(self):
        return self.make_model_target('model.zip', save_function=_save, load_function=_load)

    def run(self):
        self.dump(b'weights')


def _save(obj, path):
    with open(path, 'wb') as f:
        f.write(obj)


def _load(path):
    with open(path, 'rb') as f:
        return f.read()


def blake3_of(path: str) -> str:
    with open(path, 'rb') as f:
        return 'blake3:' + blake3.blake3(f.read()).hexdigest()


def journal_records() -> list[dict]:
    folder = os.path.join('resources', '.gokart', 'lineage')
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            found.extend(json.loads(line) for line in f if line.strip())
    return found


@pytest.mark.parametrize('extension', ['.pkl', '.csv', '.parquet', '.feather', '.json'])
def test_the_journal_records_the_blake3_hash_of_each_output_as_written(extension):
    task = Frame(extension=extension)
    gokart.build(task, log_level=40)
    path = task.output().path()
    [record] = [r for r in journal_records() if r.get('class') == 'Frame']
    [content] = record['contents']
    assert content['hash'] == blake3_of(path)
    assert content['size'] == os.path.getsize(path) and content['mtime_ns'] == os.stat(path).st_mtime_ns


def test_a_model_archive_is_hashed_though_its_writer_seeks_back():
    task = Model()
    gokart.build(task, log_level=40)
    [record] = [r for r in journal_records() if r.get('class') == 'Model']
    assert record['contents'][0]['hash'] == blake3_of(task.output().path())


def test_a_signed_output_has_the_hash_of_its_content_without_the_signature(monkeypatch):
    unsigned = Frame()
    gokart.build(unsigned, log_level=40)
    plain = blake3_of(unsigned.output().path())
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, 'k' * 32)
    signed = Frame(workspace_directory='./signed')
    gokart.build(signed, log_level=40)
    assert blake3_of(signed.output().path()) != plain  # the file carries a trailer naming its place
    [record] = [r for r in journal_records_of('signed') if r.get('class') == 'Frame']
    assert record['contents'][0]['hash'] == plain  # the same content at another place has the same hash
    assert content_hash.hash_file(signed.output().path()).digest == plain  # and so says a second look at the file


def journal_records_of(workspace: str) -> list[dict]:
    folder = os.path.join(workspace, '.gokart', 'lineage')
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            found.extend(json.loads(line) for line in f if line.strip())
    return found


def test_the_inputs_a_run_read_are_recorded_with_their_hashes():
    class Consumer(gokart.TaskOnKart):
        def requires(self):
            return Frame()

        def run(self):
            self.dump(len(self.load()))

    gokart.build(Consumer(), log_level=40)
    [record] = [r for r in journal_records() if r.get('class') == 'Consumer']
    [required] = record['requires']
    assert required['hashes'] == [blake3_of(Frame().output().path())]


def test_the_runs_index_keeps_the_hashes_and_reads_old_and_malformed_journal_lines():
    task = Frame()
    gokart.build(task, log_level=40)
    folder = os.path.join('resources', '.gokart', 'lineage')
    old = {'class': 'Old', 'id': 'a' * 32, 'params': {}, 'requires': [], 'outputs': ['/nowhere/old.pkl'], 'state': 'SUCCESS', 'end': 1.0}
    bad = {**old, 'class': 'Bad', 'contents': [{'hash': 'md5:xyz', 'size': 'big'}]}
    junk = {'kind': 'content', 'path': '/nowhere/x.pkl', 'hash': 12}
    with open(os.path.join(folder, 'other-host-1-abc-00000.jsonl'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in (old, bad, junk))
    gokart.runs.sync('resources')
    connection = index.connect('resources')
    known = dict(connection.execute('SELECT path, hash FROM contents').fetchall())
    assert known == {os.path.abspath(task.output().path()): blake3_of(task.output().path())}
    classes = {row[0] for row in connection.execute('SELECT class FROM runs')}
    assert {'Old', 'Bad', 'Frame'} <= classes  # a line without hashes, or with malformed ones, is still a run


def test_a_file_hashed_on_first_need_is_remembered_until_it_changes(tmp_path):
    path = str(tmp_path / 'written_elsewhere.pkl')
    with open(path, 'wb') as f:
        f.write(b'bytes gokart did not write')
    first = content_hash.hash_file(path)
    assert first.digest == blake3_of(path)
    assert content_hash.current(path) == first
    with open(path, 'wb') as f:
        f.write(b'other bytes, another size')
    assert content_hash.current(path) is None  # rewritten since: no longer trusted


def test_a_pickle_that_falls_back_to_dill_is_hashed_as_finally_written():
    class Lambda(gokart.TaskOnKart):
        def run(self):
            self.dump(lambda x: x + 1)  # the C pickler refuses it: the writer rewinds and dill writes again

    task = Lambda()
    gokart.build(task, log_level=40)
    [record] = [r for r in journal_records() if r.get('class') == 'Lambda']
    assert record['contents'][0]['hash'] == blake3_of(task.output().path())
