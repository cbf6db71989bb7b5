"""An S3 workspace written by gokart 1.12.2 is reused by this gokart (same keys, nothing reruns), and the other way round.

Runs only where the reference gokart 1.12.2 environment (with boto3) exists: ``/work/venvs/ref`` or
``GOKART_REFERENCE_PYTHON``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT, python_of_reference_gokart

HERE = Path(__file__).resolve().parent
REFERENCE = python_of_reference_gokart()

pytestmark = pytest.mark.skipif(REFERENCE is None, reason='no gokart 1.12.2 environment (set GOKART_REFERENCE_PYTHON)')


def build_with(python: str, workspace: str, endpoint: str, tmp_path: Path, name: str) -> list[str]:
    """Build the pipeline with ``python``; return the tasks whose run() executed."""
    config = tmp_path / f'{name}.cfg'
    config.write_text(f'[TaskOnKart]\nworkspace_directory={workspace}\n')
    counter = tmp_path / f'{name}.runs'
    environment = {
        **os.environ,
        **FAKE_AWS_ENVIRONMENT,
        'AWS_ENDPOINT_URL': endpoint,
        'LUIGI_CONFIG_PATH': str(config),
        'PYTHONPATH': str(HERE),
    }
    if python == sys.executable:
        environment['PYTHONPATH'] = os.pathsep.join([str(HERE), *sys.path])
    completed = subprocess.run(
        [python, str(HERE / 'interchange_pipeline.py'), str(counter)], env=environment, cwd=tmp_path, capture_output=True
    )
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    return sorted(counter.read_text().split()) if counter.exists() else []


def object_keys(endpoint: str, bucket: str) -> set[str]:
    import boto3

    listing = boto3.client('s3', endpoint_url=endpoint).list_objects_v2(Bucket=bucket)
    return {item['Key'] for item in listing.get('Contents', [])}


ALL_TASKS = sorted(['Frame.csv', 'Frame.parquet', 'Frame.pkl', 'Summary', 'Text'])


def test_reference_workspace_is_reused_without_rerunning(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    assert REFERENCE is not None
    workspace = f's3://{s3_bucket}/from-reference'
    assert build_with(REFERENCE, workspace, s3_endpoint, tmp_path, 'reference') == ALL_TASKS
    keys = object_keys(s3_endpoint, s3_bucket)
    assert build_with(sys.executable, workspace, s3_endpoint, tmp_path, 'ours') == []
    assert {k for k in object_keys(s3_endpoint, s3_bucket) if '/log/' not in k} == {k for k in keys if '/log/' not in k}


def test_our_workspace_is_reused_by_the_reference(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    assert REFERENCE is not None
    workspace = f's3://{s3_bucket}/from-ours'
    assert build_with(sys.executable, workspace, s3_endpoint, tmp_path, 'ours') == ALL_TASKS
    assert build_with(REFERENCE, workspace, s3_endpoint, tmp_path, 'reference') == []
