"""Signed outputs on S3 (a real moto server): a signed local workspace copied to a bucket loads there,
model zips unpack through the S3 zip client with their pickles vouched for, and ``gokart.resign``
re-signs a v1 workspace in a bucket.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
from typing import Any

import luigi
import pytest

import gokart
import gokart.zip_client_util
from gokart.commands.resign import resign_workspace
from gokart.errors import UnsignedOutputError
from gokart.storage import filesystem as storage
from gokart.storage import signing
from gokart.target import make_target

KEY = 'the key of the team'


def _save(obj: Any, path: str) -> None:
    with open(path, 'wb') as f:
        pickle.dump(obj, f)


def _load(path: str) -> Any:
    with open(path, 'rb') as f:
        return pickle.load(f)


class Numbers(gokart.TaskOnKart[list[int]]):
    task_namespace = 'test_signing_s3'
    n = luigi.IntParameter()

    def run(self) -> None:
        self.dump(list(range(self.n)))


class Model(gokart.TaskOnKart[dict[str, int]]):
    task_namespace = 'test_signing_s3'

    def output(self) -> Any:
        return self.make_model_target('model/model.zip', save_function=_save, load_function=_load)

    def run(self) -> None:
        self.dump({'depth': 3})


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signing.ENVIRONMENT_VARIABLE, KEY)


def _upload_tree(local: str, remote: str) -> None:
    for path in storage.list_files(local):
        storage.upload(path, remote + os.path.relpath(path, local))


def test_a_signed_local_workspace_copied_to_a_bucket_loads_there(s3_bucket: str) -> None:
    gokart.build(Numbers(n=3, workspace_directory='./local/'), return_value=False)
    gokart.build(Model(workspace_directory='./local/'), return_value=False)
    remote = f's3://{s3_bucket}/copied/'
    _upload_tree('./local/', remote)
    assert Numbers(n=3, workspace_directory=remote).output().load() == [0, 1, 2]
    assert Model(workspace_directory=remote).output().load() == {'depth': 3}
    assert Numbers.from_str_params(make_target(f'{remote}log/task_params/Numbers_{Numbers(n=3).make_unique_id()}.pkl').load()).n == 3


def test_the_s3_zip_client_checks_a_signed_model_zip_and_vouches_for_its_pickles(s3_bucket: str, tmp_path: Any) -> None:
    task = Model(workspace_directory=f's3://{s3_bucket}/ws/')
    gokart.build(task, return_value=False)
    scratch = str(tmp_path / 'scratch')
    gokart.zip_client_util.make_zip_client(task.output().path(), scratch).unpack_archive()
    load_function = make_target(os.path.join(scratch, 'load_function.pkl')).load()
    assert load_function(os.path.join(scratch, 'model.pkl')) == {'depth': 3}

    other = f's3://{s3_bucket}/ws/model/elsewhere.zip'
    storage.upload(_download(task.output().path(), tmp_path), other)
    with pytest.raises(UnsignedOutputError, match='signed as the output'):
        gokart.zip_client_util.make_zip_client(other, str(tmp_path / 'other')).unpack_archive()


def _download(path: str, tmp_path: Any) -> str:
    local = str(tmp_path / 'downloaded.zip')
    storage.download(path, local)
    return local


def test_resign_re_signs_a_v1_workspace_in_a_bucket(s3_bucket: str) -> None:
    remote = f's3://{s3_bucket}/old/'
    task = Numbers(n=4, workspace_directory=remote)
    gokart.build(task, return_value=False)
    path = task.output().path()
    with storage.open_read(path) as stream:
        content, _ = signing.split_trailer(stream)
    name = os.path.basename(path).encode()
    mac = hmac.new(KEY.encode(), digestmod=hashlib.sha256)
    mac.update(signing.LEGACY_DOMAIN + len(name).to_bytes(4, 'big') + name + content)
    storage.write_bytes(path, content + signing.LEGACY_TRAILER_MAGIC + mac.digest())
    with pytest.raises(UnsignedOutputError, match='gokart.resign'):
        task.output().load()
    report = resign_workspace(remote)
    assert report.resigned == [path]
    assert task.output().load() == [0, 1, 2, 3]
