"""A workspace in an S3 bucket that does not exist: one clear error naming the bucket, the path and what to check."""

from __future__ import annotations

import uuid

import luigi
import pytest

import gokart
from gokart.errors import GokartBuildError, MissingBucketError


class Numbers(gokart.TaskOnKart[list]):
    def run(self) -> None:
        self.dump([1, 2, 3])


def test_a_missing_bucket_is_named_with_what_to_check(s3_bucket: str) -> None:
    missing = f'gokart-missing-{uuid.uuid4().hex[:8]}'  # the fixture set up the endpoint; this bucket was never created
    task = Numbers(workspace_directory=f's3://{missing}/workspace/')
    with pytest.raises(MissingBucketError) as raised:
        task.output().exists()
    message = str(raised.value)
    assert f"The S3 bucket '{missing}' does not exist at http://127.0.0.1:" in message
    assert f's3://{missing}/workspace/' in message and 'AWS_ENDPOINT_URL' in message and f'aws s3 mb s3://{missing}' in message
    assert isinstance(raised.value, FileNotFoundError)  # what callers of a missing path already catch
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # no botocore traceback on top

    with pytest.raises(GokartBuildError) as failed:
        gokart.build(task, reset_register=False, log_level=luigi.interface.logging.CRITICAL)
    assert f"MissingBucketError: The S3 bucket '{missing}' does not exist" in str(failed.value)
    assert gokart.build(Numbers(workspace_directory=f's3://{s3_bucket}/workspace/'), reset_register=False) == [1, 2, 3]
