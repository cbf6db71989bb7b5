"""Signatures bind the whole path of an output (relative to its workspace), so signed files cannot be swapped."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import shutil
import subprocess
import sys
import zipfile

import luigi
import pytest
from signed_zip_tasks import Frame, Model, PickleTrap

import gokart
from gokart.commands.resign import resign_workspace
from gokart.errors import UnsignedOutputError
from gokart.storage import signing
from gokart.target import make_target

KEY = 'a secret of the team'


class Split(gokart.TaskOnKart[dict]):
    """Two outputs that share a base name, ``data_<id>.pkl``, in two directories."""

    task_namespace = 'test_signing_paths'

    def output(self):
        return {'train': self.make_target('split/train/data.pkl'), 'test': self.make_target('split/test/data.pkl')}

    def run(self) -> None:
        self.dump([1, 2, 3], 'train')
        self.dump([4], 'test')


class ModelP(gokart.TaskOnKart[str]):
    task_namespace = 'test_signing_paths'

    def output(self):
        return self.make_target('p/model.pkl', use_unique_id=False)

    def run(self) -> None:
        self.dump('model of p')


class ModelQ(gokart.TaskOnKart[str]):
    task_namespace = 'test_signing_paths'

    def output(self):
        return self.make_target('q/model.pkl', use_unique_id=False)

    def run(self) -> None:
        self.dump('model of q')


class Numbers(gokart.TaskOnKart[list]):
    task_namespace = 'test_signing_paths'
    n = luigi.IntParameter(default=3)
    workspace_directory = luigi.Parameter(default='./resources/', significant=False)

    def run(self) -> None:
        self.dump(list(range(self.n)))


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, KEY)


def _copy_over(source: str, destination: str) -> None:
    shutil.copyfile(source, destination)


def test_two_outputs_sharing_a_base_name_cannot_be_swapped():
    task = Split()
    gokart.build(task, return_value=False)
    train, test = task.output()['train'], task.output()['test']
    assert os.path.basename(train.path()) == os.path.basename(test.path())
    _copy_over(train.path(), test.path())
    with pytest.raises(UnsignedOutputError, match='signed as the output') as raised:
        test.load()
    assert test.path() in str(raised.value)
    assert train.load() == [1, 2, 3]


def test_same_named_outputs_of_two_tasks_cannot_be_swapped():
    gokart.build(ModelP(), return_value=False)
    gokart.build(ModelQ(), return_value=False)
    _copy_over(ModelP().output().path(), ModelQ().output().path())
    with pytest.raises(UnsignedOutputError, match="signed as the output 'p/model.pkl'"):
        ModelQ().output().load()


def test_a_swapped_log_record_is_refused_by_restore_not_a_type_error():
    task = Numbers(n=4)
    gokart.build(task, return_value=False)
    uid = task.make_unique_id()
    # Both records are named Numbers_<id>.pkl: only their directories tell them apart.
    _copy_over(task._log_path('processing_time'), task._log_path('task_params'))
    with pytest.raises(UnsignedOutputError, match=f'log/processing_time/Numbers_{uid}.pkl'):
        Numbers.restore(uid)


def test_an_output_signed_in_one_workspace_loads_from_a_copy_of_it():
    gokart.build(Numbers(n=5, workspace_directory='./first/'), return_value=False)
    shutil.copytree('first', 'second')
    assert Numbers(n=5, workspace_directory=os.path.abspath('second')).output().load() == [0, 1, 2, 3, 4]


def test_a_target_on_a_full_path_accepts_an_output_signed_for_a_path_it_ends_with():
    task = Numbers(n=2)
    gokart.build(task, return_value=False)
    path = task.output().path()
    assert make_target(os.path.abspath(path)).load() == [0, 1]
    elsewhere = os.path.join('elsewhere', os.path.basename(path))
    os.makedirs('elsewhere')
    _copy_over(path, elsewhere)
    with pytest.raises(UnsignedOutputError, match='signed as the output'):
        make_target(elsewhere).load()


@pytest.mark.parametrize(('task', 'member'), [(Model(), 'model.pkl'), (Model(), 'load_function.pkl'), (Frame(), 'data_0.pkl')])
def test_every_pickle_inside_a_model_or_frame_zip_is_covered(task, member, tmp_path):
    gokart.build(task, return_value=False)
    path = task.output().path()
    with open(path, 'rb') as f:
        _, trailer = signing.split_trailer(f)
    assert trailer is not None
    marker = str(tmp_path / 'code-ran')
    with zipfile.ZipFile(path) as original:
        members = {name: original.read(name) for name in original.namelist()}
    assert member in members
    members[member] = pickle.dumps(PickleTrap(marker))
    with zipfile.ZipFile(path, 'w') as forged:
        for name, data in members.items():
            forged.writestr(name, data)
    with open(path, 'ab') as f:
        f.write(signing.trailer(trailer.name, trailer.digest))  # the genuine signature, kept
    with pytest.raises(UnsignedOutputError, match='does not match'):
        task.output().load()
    assert not os.path.exists(marker)


def test_the_pickles_inside_a_signed_model_zip_stay_plain():
    gokart.build(Model(), return_value=False)
    with zipfile.ZipFile(Model().output().path()) as archive:
        for name in archive.namelist():
            assert signing.TRAILER_MAGIC not in archive.read(name)
        assert pickle.loads(archive.read('model.pkl')) == {'weights': [0.5, 0.25]}


def _as_v1(path: str) -> None:
    """Rewrite a signed file as the v1 format wrote it: a digest bound to the base name only."""
    with open(path, 'rb') as f:
        content, _ = signing.split_trailer(f)
    name = os.path.basename(path).encode()
    mac = hmac.new(KEY.encode(), digestmod=hashlib.sha256)
    mac.update(b'gokart pickle signature v1\x00' + len(name).to_bytes(4, 'big') + name + content)
    with open(path, 'wb') as f:
        f.write(content + signing.LEGACY_TRAILER_MAGIC + mac.digest())


def test_a_v1_signed_output_is_refused_with_the_command_that_re_signs_it():
    task = Numbers(n=6)
    gokart.build(task, return_value=False)
    _as_v1(task.output().path())
    with pytest.raises(UnsignedOutputError, match='python -m gokart.resign'):
        task.output().load()


def test_re_signing_a_v1_workspace_makes_it_loadable_and_leaves_forgeries_alone():
    gokart.build(Numbers(n=6), return_value=False)
    gokart.build(Model(), return_value=False)
    good = [Numbers(n=6).output().path(), Model().output().path(), Numbers(n=6)._log_path('task_params')]
    for path in good:
        _as_v1(path)
    forged = Numbers(n=6)._log_path('processing_time')
    _as_v1(forged)
    with open(forged, 'r+b') as f:
        f.write(b'\x00')  # the v1 signature no longer holds
    report = resign_workspace('./resources/')
    assert sorted(report.resigned) == sorted(good)
    assert report.refused == [forged]
    assert Numbers(n=6).output().load() == [0, 1, 2, 3, 4, 5]
    assert Model().output().load() == {'weights': [0.5, 0.25]}
    assert Numbers.restore(Numbers(n=6).make_unique_id()).n == 6
    with pytest.raises(UnsignedOutputError):
        make_target(forged).load()


def test_the_re_sign_command_reports_and_exits_non_zero_on_a_refused_file():
    gokart.build(Numbers(n=2), return_value=False)
    path = Numbers(n=2).output().path()
    _as_v1(path)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(gokart.__file__)))
    done = subprocess.run([sys.executable, '-m', 'gokart.resign', './resources/'], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert 're-signed 1 file(s)' in done.stdout
    _as_v1(path)
    with open(path, 'r+b') as f:
        f.write(b'\x00')  # the v1 signature no longer holds
    done = subprocess.run([sys.executable, '-m', 'gokart.resign', './resources/'], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    assert 'not re-signed' in done.stderr
    assert os.path.basename(path) in done.stderr
