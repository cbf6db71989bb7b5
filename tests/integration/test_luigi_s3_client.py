"""``S3Config().get_s3_client()`` is luigi's S3Client on the same bucket and endpoint gokart writes to (a real moto server)."""

from __future__ import annotations

import pickle

import pytest

import gokart
from gokart.s3_config import S3Config

pytestmark = pytest.mark.integration


class Value(gokart.TaskOnKart[dict[str, int]]):
    def run(self) -> None:
        self.dump({'answer': 42})


def test_luigis_s3_client_lists_and_reads_what_gokart_wrote(s3_bucket: str) -> None:
    import luigi.contrib.s3

    task = Value(workspace_directory=f's3://{s3_bucket}/workspace')
    gokart.build(task)
    client = S3Config().get_s3_client()
    assert isinstance(client, luigi.contrib.s3.S3Client)
    path = task.output().path()
    assert client.exists(path)
    assert path in [
        f's3://{s3_bucket}/{key}' if not key.startswith('s3://') else key for key in client.listdir(f's3://{s3_bucket}/workspace')
    ]
    assert pickle.loads(client.get_as_bytes(path)) == {'answer': 42}
    luigi.task_register.Register.clear_instance_cache()
