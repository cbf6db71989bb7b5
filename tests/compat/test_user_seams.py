"""Users' tests keep the seams gokart 1.12 gave them: what they mock by path still takes effect.

Written as a team tests its pipelines: in-memory outputs by replacing ``luigi.LocalTarget`` with
``luigi.mock.MockTarget``; Redis and Slack clients patched by their gokart 1.12 module paths.
"""

from __future__ import annotations

import os
from unittest import mock

import luigi
import pandas as pd
import pytest
from luigi.mock import MockFileSystem, MockTarget

import gokart
from gokart.conflict_prevention_lock.task_lock import RedisClient
from gokart.slack.slack_api import SlackAPI


@pytest.fixture(params=['gokart', 'luigi'])
def executor(request, monkeypatch):
    monkeypatch.setenv('GOKART_EXECUTOR', request.param)
    return request.param


@pytest.fixture
def in_memory_outputs():
    """The seam of gokart 1.12's own tests: every local output lives in luigi's MockFileSystem."""
    MockFileSystem().clear()
    with mock.patch('luigi.LocalTarget', new=lambda path, **kwargs: MockTarget(path, **kwargs)):
        yield MockFileSystem()
    MockFileSystem().clear()


class SeamSales(gokart.TaskOnKart[pd.DataFrame]):
    def output(self):
        return self.make_target('sales/raw.csv')

    def run(self):
        self.dump(pd.DataFrame({'shop': ['a', 'b', 'a'], 'amount': [1, 2, 3]}))


class SeamTotals(gokart.TaskOnKart):
    sales = gokart.TaskInstanceParameter()

    def output(self):
        return {
            'table': self.make_target('sales/totals.pkl'),
            'note': self.make_target('sales/note.txt'),
            'model': self.make_model_target('sales/model.zip', save_function=_save_text, load_function=_load_text),
        }

    def run(self):
        totals = self.load('sales').groupby('shop')['amount'].sum().to_dict()
        self.dump(totals, 'table')
        self.dump(f'{len(totals)} shops', 'note')
        self.dump(f'model of {sorted(totals)}', 'model')


class SeamReport(gokart.TaskOnKart[str]):
    totals = gokart.TaskInstanceParameter()

    def run(self):
        loaded = self.load('totals')
        self.dump(f'{loaded["table"]} / {loaded["note"]} / {loaded["model"]}')


def _save_text(obj: str, path: str) -> None:
    with open(path, 'w') as f:
        f.write(obj)


def _load_text(path: str) -> str:
    with open(path) as f:
        return f.read()


def _report(workspace: str) -> SeamReport:
    return SeamReport(
        totals=SeamTotals(sales=SeamSales(workspace_directory=workspace), workspace_directory=workspace), workspace_directory=workspace
    )


def test_mock_target_keeps_every_output_in_memory(in_memory_outputs, executor, tmp_path):
    workspace = str(tmp_path / 'ws')
    result = gokart.build(_report(workspace), reset_register=False)

    assert result == "{'a': 4, 'b': 2} / ['2 shops'] / model of ['a', 'b']"
    stored = in_memory_outputs.get_all_data()
    for part in (
        'sales/raw_',
        'sales/totals_',
        'sales/note_',
        'sales/model_',
        '/log/task_params/SeamReport_',
        '/log/processing_time/SeamTotals_',
    ):
        assert any(part in path for path in stored), (part, sorted(stored))
    assert not os.path.exists(workspace), 'nothing may reach the disk under the workspace'


def test_mock_target_outputs_count_for_completion_and_can_be_cleared(in_memory_outputs, tmp_path):
    workspace = str(tmp_path / 'ws')
    report = _report(workspace)
    gokart.build(report, reset_register=False)
    assert report.complete()
    assert report.output().load().startswith("{'a': 4, 'b': 2}")

    in_memory_outputs.clear()
    assert not report.complete()
    assert not SeamSales(workspace_directory=workspace).complete()


def test_mock_target_outputs_rerun_and_read_back_like_files(in_memory_outputs, tmp_path):
    workspace = str(tmp_path / 'ws')
    sales = SeamSales(workspace_directory=workspace)
    gokart.build(sales, reset_register=False)
    path = sales.output().path()
    assert path in in_memory_outputs.get_all_data()
    assert sales.output().load()['amount'].tolist() == [1, 2, 3]

    sales.output().dump(pd.DataFrame({'shop': ['z'], 'amount': [9]}), lock_at_dump=False)
    assert sales.output().load()['shop'].tolist() == ['z']
    sales.output().remove()
    assert path not in in_memory_outputs.get_all_data()


def test_outputs_go_back_to_disk_when_the_patch_ends(tmp_path):
    workspace = str(tmp_path / 'ws')
    with mock.patch('luigi.LocalTarget', new=lambda path, **kwargs: MockTarget(path, **kwargs)):
        gokart.build(SeamSales(workspace_directory=workspace), reset_register=False)
    assert not SeamSales(workspace_directory=workspace).complete()
    gokart.build(SeamSales(workspace_directory=workspace), reset_register=False)
    assert os.path.exists(SeamSales(workspace_directory=workspace).output().path())


# ----- Redis patched by gokart 1.12's module path ---------------------------------------------
class SeamLocked(gokart.TaskOnKart[int]):
    def run(self):
        self.dump(42)


@pytest.mark.parametrize(
    'patched', ['gokart.conflict_prevention_lock.task_lock.redis.Redis', 'gokart.conflict_prevention_lock.task_lock.redis']
)
def test_redis_patched_by_path_is_what_the_locks_use(patched, tmp_path):
    host = f'redis-{patched.rsplit(".", 1)[1]}-{tmp_path.name}'  # a client of its own: RedisClient keeps one per address
    with mock.patch(patched) as fake:
        redis_class = fake if patched.endswith('.Redis') else fake.Redis
        result = gokart.build(SeamLocked(redis_host=host, redis_port=6379, workspace_directory=str(tmp_path)), reset_register=False)
    assert result == 42
    redis_class.assert_called_with(host=host, port=6379)
    assert RedisClient(host, 6379).get_redis_client() is redis_class.return_value


def test_redis_is_not_imported_until_a_lock_is_used():
    import subprocess
    import sys

    code = 'import sys, gokart; assert "redis" not in sys.modules, "redis imported by import gokart"'
    subprocess.run([sys.executable, '-c', code], check=True)


# ----- Slack patched by gokart 1.12's module path ----------------------------------------------
def _channels() -> dict:
    return {'ok': True, 'channels': [{'name': 'reports', 'id': 'C123'}], 'response_metadata': {'next_cursor': ''}}


@pytest.mark.parametrize('patched', ['gokart.slack.slack_api.slack_sdk', 'gokart.slack.slack_api.slack_sdk.WebClient'])
def test_slack_sdk_patched_by_path_receives_the_report(patched):
    with mock.patch(patched) as fake:
        web_client = fake if patched.endswith('.WebClient') else fake.WebClient
        web_client.return_value.conversations_list.return_value = _channels()
        web_client.return_value.files_upload_v2.return_value = {'ok': True}
        SlackAPI(token='xoxb-test', channel='reports', to_user='alice').send_snippet('done', 'report.txt', 'all good')

    web_client.assert_called_once_with(token='xoxb-test')
    upload = web_client.return_value.files_upload_v2.call_args.kwargs
    assert upload['channel'] == 'C123'
    assert upload['content'] == 'all good'
    assert 'done' in upload['initial_comment']


def test_gokart_run_reports_to_the_patched_slack_client(monkeypatch, tmp_path):
    monkeypatch.setenv('SLACK_TOKEN', 'xoxb-run')
    luigi.configuration.get_config().set('SlackConfig', 'channel', 'reports')
    with mock.patch('gokart.slack.slack_api.slack_sdk') as fake:
        fake.WebClient.return_value.conversations_list.return_value = _channels()
        fake.WebClient.return_value.files_upload_v2.return_value = {'ok': True}
        with pytest.raises(SystemExit) as exited:
            gokart.run(['SeamLocked', '--local-scheduler', '--no-lock', '--workspace-directory', str(tmp_path)])
    assert exited.value.code == 0
    fake.WebClient.assert_called_with(token='xoxb-run')
    assert fake.WebClient.return_value.files_upload_v2.call_args.kwargs['channel'] == 'C123'
