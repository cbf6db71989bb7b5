"""A user's test suite around S3 workspaces with moto's in-process ``mock_aws``, as gokart 1.12 users write them.

No server runs: ``mock_aws`` patches botocore in this process, and every S3 request gokart makes
must be answered by the mock (a request escaping it would try to reach AWS with fake credentials
and fail). The pipelines are real: dumps, loads, model and large-frame targets, cache hits, the
last-modification time, deleting outputs.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import luigi
import pandas as pd
import pytest
from moto import mock_aws

import gokart
from gokart.target import make_target

BUCKET = 'gokart-user-bucket'
REPOSITORY = Path(__file__).resolve().parents[2]

runs: list[str] = []


@pytest.fixture
def s3_workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``s3://`` workspace inside ``mock_aws``, with no endpoint configured: requests would go to AWS itself."""
    for name in ('AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1')
    runs.clear()
    with mock_aws():
        boto3.resource('s3', region_name='us-east-1').create_bucket(Bucket=BUCKET)
        yield f's3://{BUCKET}/workspace'


def _keys(prefix: str = '') -> list[str]:
    client = boto3.client('s3', region_name='us-east-1')
    pages = client.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=prefix)
    return [item['Key'] for page in pages for item in page.get('Contents', [])]


class Words(gokart.TaskOnKart[pd.DataFrame]):
    n = luigi.IntParameter()

    def run(self) -> None:
        runs.append('Words')
        self.dump(pd.DataFrame({'word': [f'w{i}' for i in range(self.n)], 'length': [len(f'w{i}') for i in range(self.n)]}))


class LongWords(gokart.TaskOnKart[pd.DataFrame]):
    words = gokart.TaskInstanceParameter()

    def run(self) -> None:
        runs.append('LongWords')
        frame = self.load_data_frame('words')
        self.dump(frame[frame['length'] > 2])

    def requires(self) -> Any:
        return {'words': self.words}


class Model(gokart.TaskOnKart[dict[str, float]]):
    def output(self) -> Any:
        return self.make_model_target('model/weights.zip', save_function=_save_model, load_function=_load_model)

    def run(self) -> None:
        runs.append('Model')
        self.dump({'slope': 2.5})


class Predict(gokart.TaskOnKart[float]):
    model = gokart.TaskInstanceParameter()

    def run(self) -> None:
        self.dump(self.load(self.model)['slope'] * 4)


class BigFrame(gokart.TaskOnKart[pd.DataFrame]):
    def output(self) -> Any:
        return self.make_large_data_frame_target('frames/big.zip', max_byte=256)

    def run(self) -> None:
        self.dump(pd.DataFrame({'a': range(200), 'b': [str(i) for i in range(200)]}))


def _save_model(obj: dict[str, float], path: str) -> None:
    Path(path).write_text(repr(obj))


def _load_model(path: str) -> dict[str, float]:
    return dict(eval(Path(path).read_text()))  # a test model file written by _save_model above


def test_a_pipeline_dumps_to_and_loads_from_the_mocked_bucket(s3_workspace: str) -> None:
    result = gokart.build(LongWords(words=Words(n=20, workspace_directory=s3_workspace), workspace_directory=s3_workspace))
    assert list(result['word']) == [f'w{i}' for i in range(10, 20)]
    keys = _keys('workspace/')
    assert any(key.startswith('workspace/__main__/Words_') or '/Words_' in key for key in keys)
    assert any('/LongWords_' in key for key in keys)


def test_a_second_build_is_a_cache_hit_on_the_mocked_bucket(s3_workspace: str) -> None:
    gokart.build(Words(n=5, workspace_directory=s3_workspace))
    runs.clear()
    luigi.task_register.Register.clear_instance_cache()
    result = gokart.build(Words(n=5, workspace_directory=s3_workspace))
    assert runs == [] and len(result) == 5
    assert gokart.build(Words(n=5, workspace_directory=s3_workspace, rerun=True)) is not None
    assert runs == ['Words']


def test_model_and_large_frame_targets_round_trip_through_the_mock(s3_workspace: str) -> None:
    assert gokart.build(Predict(model=Model(workspace_directory=s3_workspace), workspace_directory=s3_workspace)) == 10.0
    assert any(key.endswith('.zip') and '/model/weights_' in f'/{key}' for key in _keys())
    frame = gokart.build(BigFrame(workspace_directory=s3_workspace))
    assert list(frame['a']) == list(range(200))
    assert Model(workspace_directory=s3_workspace).complete() and BigFrame(workspace_directory=s3_workspace).complete()


def test_targets_exist_load_and_report_their_last_modification_time(s3_workspace: str) -> None:
    target = make_target(f'{s3_workspace}/direct/values.pkl')
    assert not target.exists()
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    target.dump({'a': 1})
    assert target.exists()
    assert target.load() == {'a': 1}
    modified = target.last_modification_time()
    assert modified.tzinfo is not None and before <= modified <= before + datetime.timedelta(minutes=5)
    target.remove()
    assert not target.exists()
    assert _keys('workspace/direct/') == []


def test_a_big_frame_goes_up_in_parts_and_comes_back_whole(s3_workspace: str) -> None:
    rows = 600_000  # about 40 MiB pickled: spilled to disk and uploaded in several parts
    frame = pd.DataFrame({'id': range(rows), 'text': [f'row-{i:08d}-' + 'padding' * 8 for i in range(rows)]})
    target = make_target(f'{s3_workspace}/big/frame.pkl')
    target.dump(frame)
    head = boto3.client('s3', region_name='us-east-1').head_object(Bucket=BUCKET, Key='workspace/big/frame.pkl')
    assert '-' in head['ETag'], 'a large output is a multipart upload'
    pd.testing.assert_frame_equal(target.load(), frame)


def test_a_failed_dump_leaves_nothing_in_the_bucket(s3_workspace: str) -> None:
    class Unpicklable:
        def __reduce__(self) -> Any:
            raise RuntimeError('cannot pickle')

    target = make_target(f'{s3_workspace}/broken/value.pkl')
    with pytest.raises(Exception, match='cannot pickle'):
        target.dump(Unpicklable())
    assert _keys('workspace/broken/') == []


def test_tasks_use_the_mocked_bucket_from_the_luigi_config(s3_workspace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / 'luigi.cfg'
    config.write_text(f'[TaskOnKart]\nworkspace_directory={s3_workspace}\n')
    luigi.configuration.get_config().read(str(config))
    try:
        assert len(gokart.build(Words(n=3))) == 3
        assert any('/Words_' in key for key in _keys('workspace/'))
    finally:
        luigi.configuration.get_config().remove_section('TaskOnKart')


def test_a_client_made_before_moto_was_imported_is_still_intercepted(tmp_path: Path) -> None:
    """gokart touched S3 (and made its client) before the test imported moto: the mock still sees every request."""
    script = textwrap.dedent(
        f"""
        import os
        for name in ('AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'):
            os.environ.pop(name, None)
        os.environ.update(AWS_ACCESS_KEY_ID='a', AWS_SECRET_ACCESS_KEY='b', AWS_DEFAULT_REGION='us-east-1')
        from gokart.storage import filesystem as storage
        fs = storage.filesystem_for_protocol('s3')
        fs.client  # made now, while moto is not imported
        import sys
        assert 'moto' not in sys.modules
        from moto import mock_aws
        import boto3
        with mock_aws():
            boto3.client('s3', region_name='us-east-1').create_bucket(Bucket='{BUCKET}')
            storage.write_bytes('s3://{BUCKET}/x.bin', b'payload')
            assert storage.exists('s3://{BUCKET}/x.bin')
            with storage.open_read('s3://{BUCKET}/x.bin') as f:
                assert f.read() == b'payload'
        print('intercepted')
        """
    )
    environment = {**os.environ, 'PYTHONPATH': str(REPOSITORY)}
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'intercepted' in result.stdout
