"""Runs and lineage on an S3 workspace (moto's standalone server over HTTP): a journal object per chunk, the index in the user's cache."""

from __future__ import annotations

import os
import sys

import boto3
import pytest

import gokart
from gokart.runs import index

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from runs_pipeline import Data, Leaf, Train, Wide  # noqa: E402


@pytest.fixture(autouse=True)
def private_index_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index of an object-store workspace lives under the user's cache directory: one of this test's own."""
    monkeypatch.setenv('GOKART_CACHE_DIR', str(tmp_path / 'cache'))


def keys(endpoint: str, bucket: str, prefix: str) -> list[str]:
    listing = boto3.client('s3', endpoint_url=endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item['Key'] for item in listing.get('Contents', []))


def test_runs_and_lineage_of_an_s3_workspace(s3_workspace: str, s3_endpoint: str, tmp_path) -> None:
    # data=Data() made now, in the bucket: the parameter's default instance was made at import, with the local workspace.
    tasks = [Train(c=c, data=Data()) for c in (0.1, 0.5, 0.9)]
    for task in tasks:
        gokart.build(task, log_level=40)
    gokart.build(Wide(size=20), log_level=40)
    journals = keys(s3_endpoint, s3_workspace, 'ws/.gokart/lineage/')
    # A chunk object per build (and per 5 s of a longer one), not an object per task: 25 runs in a handful of objects.
    assert 4 <= len(journals) < 12 and all(key.endswith('.jsonl') for key in journals)
    client = boto3.client('s3', endpoint_url=s3_endpoint)
    lines = [line for key in journals for line in client.get_object(Bucket=s3_workspace, Key=key)['Body'].read().splitlines()]
    assert len(lines) == 25

    found = gokart.runs(Train)
    assert sorted(found['c']) == [0.1, 0.5, 0.9] and set(found['source']) == {'journal'}
    assert found['output_exists'].all() and (found['output_size'] > 0).all()
    assert sorted(found['accuracy']) == [0.8, 0.8, 1.0]
    assert found['output_paths'][0][0].startswith(f's3://{s3_workspace}/ws/')
    database = index.database_path(f's3://{s3_workspace}/ws/')
    assert database.startswith(str(tmp_path / 'cache')) and os.path.exists(database)
    assert len(gokart.runs(Leaf)) == 20
    assert gokart.runs.sync(f's3://{s3_workspace}/ws/').files_read == 0

    up = gokart.lineage(found['output_paths'][0][0])
    assert list(up['family']) == ['Train', 'Data'] and up['unique_id'][1] == Data().make_unique_id()
    down = gokart.lineage(Data().output().path(), direction='down')
    assert sorted(down['unique_id']) == sorted(t.make_unique_id() for t in tasks)
    assert gokart.load_run(tasks[1].make_unique_id()) == tasks[1].output().load()


def test_runs_of_an_s3_workspace_without_journals_come_from_log_records(s3_workspace: str, s3_endpoint: str) -> None:
    for c in (0.1, 0.5):
        gokart.build(Train(c=c, data=Data()), log_level=40)
    client = boto3.client('s3', endpoint_url=s3_endpoint)
    for key in keys(s3_endpoint, s3_workspace, 'ws/.gokart/'):
        client.delete_object(Bucket=s3_workspace, Key=key)
    found = gokart.runs(Train)
    assert sorted(found['c']) == [0.1, 0.5] and set(found['source']) == {'log records'} and set(found['state']) == {'SUCCESS'}
    assert found['output_exists'].all()


def test_an_s3_run_killed_before_its_journal_line_was_published_is_reconciled_from_its_records(
    s3_workspace: str, s3_endpoint: str, tmp_path
) -> None:
    """The journal of an object store is published in chunks: a kill loses the lines of the unpublished one.
    The runs that finished have their output and their log/ records uploaded: they are SUCCESS, not STARTED."""
    import subprocess

    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([os.path.dirname(tests), tests])}
    code = (
        'import luigi, runs_pipeline, gokart\n'
        f'luigi.configuration.get_config().set("TaskOnKart", "workspace_directory", "s3://{s3_workspace}/ws/")\n'
        'gokart.build(runs_pipeline.Crashing(), log_level=40)\n'
    )
    killed = subprocess.run([sys.executable, '-c', code], env=environment, cwd=tmp_path, capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    assert keys(s3_endpoint, s3_workspace, 'ws/.gokart/lineage/') == []  # the leaves' lines died with the process
    found = gokart.runs(Leaf)
    assert sorted(found['index']) == [0, 1, 2]
    assert set(found['state']) == {'SUCCESS'} and found['output_exists'].all(), found[['state', 'source']]
    crashing = gokart.runs('runs_pipeline:Crashing')
    assert list(crashing['state']) == ['STARTED']  # it never finished: that is what its records say


def test_an_s3_run_seen_started_by_a_sync_and_killed_before_its_journal_line_ends_success(
    s3_workspace: str, s3_endpoint: str, tmp_path
) -> None:
    import subprocess
    import time

    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([os.path.dirname(tests), tests]), 'SLOW_LEAF_SECONDS': '3'}
    code = (
        'import luigi, runs_pipeline, gokart\n'
        f'luigi.configuration.get_config().set("TaskOnKart", "workspace_directory", "s3://{s3_workspace}/ws/")\n'
        'gokart.build(runs_pipeline.CrashingAfterSlow(), log_level=40)\n'
    )
    build = subprocess.Popen([sys.executable, '-c', code], env=environment, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not [k for k in keys(s3_endpoint, s3_workspace, 'ws/log/task_params/') if 'SlowLeaf_' in k] and time.monotonic() < deadline:
        time.sleep(0.1)
    seen = gokart.runs('runs_pipeline:SlowLeaf')  # while it runs: its task_params record only
    assert list(seen['state']) == ['STARTED']
    assert build.wait(timeout=60) == 9, build.stderr.read() if build.stderr else ''
    found = gokart.runs('runs_pipeline:SlowLeaf')
    assert list(found['state']) == ['SUCCESS'] and found['output_exists'].all(), found[['state', 'source']]
    assert found['processing_time'].notna().all()


def test_an_s3_run_killed_after_its_output_was_uploaded_is_reconciled_from_the_output(
    s3_workspace: str, s3_endpoint: str, tmp_path
) -> None:
    """Killed after its dump, before run() returned: no task_log record and no journal line, but its output is
    complete (a build loads it). The index says so instead of STARTED forever."""
    import subprocess

    from runs_pipeline import DumpsThenDies

    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([os.path.dirname(tests), tests])}
    code = (
        'import luigi, runs_pipeline, gokart\n'
        f'luigi.configuration.get_config().set("TaskOnKart", "workspace_directory", "s3://{s3_workspace}/ws/")\n'
        'gokart.build(runs_pipeline.DumpsThenDies(size=3), log_level=40)\n'
    )
    killed = subprocess.run([sys.executable, '-c', code], env=environment, cwd=tmp_path, capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    task = DumpsThenDies(size=3)
    assert task.complete()
    found = gokart.runs(DumpsThenDies)
    assert list(found['state']) == ['SUCCESS'] and list(found['output_paths']) == [[task.output().path()]]
    assert found['output_exists'].all()
    assert gokart.load_run(task.make_unique_id()) == 3
    assert list(gokart.lineage(task.output().path())['unique_id']) == [task.make_unique_id()]
