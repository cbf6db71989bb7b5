"""Early cutoff on S3 (moto's standalone server over HTTP) and GCS (the emulator): server-side copies, whole or absent after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import boto3
import luigi
import pytest

import gokart
from gokart.storage.s3_filesystem import S3FileSystem

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPOSITORY = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
from cutoff_pipeline import RUNS, Link, Top  # noqa: E402


@pytest.fixture(autouse=True)
def cutoff_on(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('GOKART_CACHE_DIR', str(tmp_path / 'cache'))  # the index of an object-store workspace: this test's own
    monkeypatch.setenv('GOKART_EARLY_CUTOFF', 'true')
    RUNS.clear()


def configure(section: str, option: str, value: str) -> None:
    luigi.configuration.get_config().set(section, option, value)
    luigi.task_register.Register.clear_instance_cache()


def object_keys(endpoint: str, bucket: str, prefix: str) -> list[str]:
    listing = boto3.client('s3', endpoint_url=endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item['Key'] for item in listing.get('Contents', []))


def test_a_chain_on_s3_is_cut_off_by_server_side_copies(s3_workspace: str, s3_endpoint: str, monkeypatch) -> None:
    gokart.build(Link(n=9), log_level=40)
    assert len(RUNS) == 11
    RUNS.clear()
    copies: list[tuple[str, str]] = []
    real_copy = S3FileSystem.cp_file

    def counted(self, path1, path2, **kwargs):
        copies.append((path1, path2))
        return real_copy(self, path1, path2, **kwargs)

    monkeypatch.setattr(S3FileSystem, 'cp_file', counted)
    configure('First', 'level', '2')
    assert gokart.build(Link(n=9), log_level=40) == [1, 2, 3, *range(10)]
    assert RUNS == ['First']
    assert len(copies) == 10  # each Link's output copied within S3, its bytes never downloaded
    outputs = [key for key in object_keys(s3_endpoint, s3_workspace, 'ws/cutoff_pipeline/') if '/Link_' in key]
    assert len(outputs) == 20
    luigi.task_register.Register.clear_instance_cache()
    assert Link(n=9).output().exists()


def test_a_diamond_on_s3_reruns_only_the_changed_branch(s3_workspace: str) -> None:
    gokart.build(Top(), log_level=40)
    RUNS.clear()
    configure('Base', 'value', '2')
    assert gokart.build(Top(), log_level=40, workers=2, parallel='thread') == 12
    assert sorted(RUNS) == ['Base', 'Left', 'Right', 'Top']


KILLED_COPY = textwrap.dedent(
    """
    import os, signal
    import luigi
    import gokart
    from gokart.storage.s3_filesystem import S3FileSystem
    from cutoff_pipeline import Link
    luigi.configuration.get_config().set('TaskOnKart', 'workspace_directory', os.environ['WORKSPACE'])
    luigi.configuration.get_config().set('First', 'level', '2')

    def killed(self, path1, path2, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    S3FileSystem.cp_file = killed
    gokart.build(Link(n=3), log_level=40)
    """
)


def test_a_kill_during_placement_on_s3_leaves_the_output_absent(s3_workspace: str, s3_endpoint: str) -> None:
    gokart.build(Link(n=3), log_level=40)
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join([REPOSITORY, TESTS]), 'WORKSPACE': f's3://{s3_workspace}/ws/'}
    killed = subprocess.run([sys.executable, '-c', KILLED_COPY], env=environment, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    configure('First', 'level', '2')
    assert not Link(n=0).output().exists()  # the copy never completed: no object, not a partial one
    RUNS.clear()
    assert gokart.build(Link(n=3), log_level=40) == [1, 2, 3, 0, 1, 2, 3]
    assert RUNS == []  # First ran in the killed build (its journal line died with it: its output is hashed on first need), the rest cut off


def test_a_chain_on_gcs_is_cut_off_by_copies_within_the_bucket(gcs_bucket: str, tmp_path) -> None:
    """The same on GCS (the emulator over HTTP): gcsfs copies within the store (a rewrite)."""
    config = luigi.configuration.get_config()
    config.set('TaskOnKart', 'workspace_directory', f'gs://{gcs_bucket}/cutoff-{tmp_path.name}/')
    try:
        luigi.task_register.Register.clear_instance_cache()
        gokart.build(Link(n=4), log_level=40)
        RUNS.clear()
        configure('First', 'level', '2')
        assert gokart.build(Link(n=4), log_level=40) == [1, 2, 3, *range(5)]
        assert RUNS == ['First']
    finally:
        config.remove_option('TaskOnKart', 'workspace_directory')
