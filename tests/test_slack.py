"""Slack reporting against a local stand-in for Slack's Web API (no real network)."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import luigi
import pytest

from gokart.slack import EventAggregator, RunNotifier, SlackAPI

Response = dict[str, Any] | Callable[['FakeSlack'], dict[str, Any]]


@dataclass
class FakeSlack:
    """Records every request; answers each Web API method from ``responses`` (default ``{'ok': true}``)."""

    url: str = ''
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    responses: dict[str, Response] = field(default_factory=dict)

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.requests if name == method]


@pytest.fixture
def fake_slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    state = FakeSlack()
    state.responses['files.getUploadURLExternal'] = lambda s: {'ok': True, 'upload_url': s.url + 'upload/F1', 'file_id': 'F1'}
    state.responses['files.completeUploadExternal'] = {'ok': True, 'files': [{'id': 'F1', 'title': 'event.txt'}]}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
            path, _, query = self.path.partition('?')
            if path.startswith('/upload/'):
                state.uploads.append(body)
                self._answer({'ok': True})
                return
            method = path.rsplit('/', 1)[-1]
            params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
            if 'json' in self.headers.get('Content-Type', ''):
                params.update(json.loads(body or b'{}'))
            else:
                params.update({k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()})
            state.requests.append((method, params))
            response = state.responses.get(method, {'ok': True})
            self._answer(response(state) if callable(response) else response)

        do_GET = do_POST

        def _answer(self, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    state.url = f'http://127.0.0.1:{server.server_port}/'
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('GOKART_SLACK_API_URL', state.url + 'api/')
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


CHANNELS = {'ok': True, 'channels': [{'id': 'C0', 'name': 'random'}, {'id': 'C1', 'name': 'reports'}]}


def test_send_snippet_uploads_to_the_looked_up_channel(fake_slack: FakeSlack) -> None:
    fake_slack.responses['conversations.list'] = CHANNELS

    api = SlackAPI(token='xoxb-test', channel='reports', to_user='alice')
    api.send_snippet(comment='hello', title='event.txt', content='the body')

    assert api.channel_id == 'C1'
    assert fake_slack.calls('conversations.list')[0].keys() == {'params'}  # gokart 1.12's call: the options in params=
    assert fake_slack.calls('files.getUploadURLExternal')[0]['filename'] == 'event.txt'
    assert fake_slack.uploads == [b'the body']
    complete = fake_slack.calls('files.completeUploadExternal')[0]
    assert complete['channel_id'] == 'C1'
    assert complete['initial_comment'] == '<@alice> hello'
    assert json.loads(complete['files']) == [{'id': 'F1', 'title': 'event.txt'}]
    assert fake_slack.calls('files.upload') == []  # the deprecated API is not used


def test_channel_lookup_follows_pagination(fake_slack: FakeSlack) -> None:
    pages = iter(
        [
            {'ok': True, 'channels': [{'id': 'C0', 'name': 'random'}], 'response_metadata': {'next_cursor': 'page2'}},
            {'ok': True, 'channels': [{'id': 'C9', 'name': 'reports'}], 'response_metadata': {'next_cursor': ''}},
        ]
    )
    fake_slack.responses['conversations.list'] = lambda s: next(pages)

    assert SlackAPI(token='t', channel='#reports', to_user='').channel_id == 'C9'
    assert fake_slack.calls('conversations.list')[1]['cursor'] == 'page2'


def test_unknown_channel_is_one_warning_as_in_1_12_and_nothing_is_uploaded(fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    fake_slack.responses['conversations.list'] = CHANNELS

    with caplog.at_level(logging.WARNING, logger='gokart.slack'):
        api = SlackAPI(token='t', channel='#missing', to_user='')
        api.send_snippet(comment='c', title='event.txt', content='x')

    assert api.channel_id is None
    # gokart 1.12's one warning, naming the channel as configured; sending adds none.
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ('WARNING', 'The job will start without slack notification: Channel #missing is not found in public channels.')
    ]
    assert fake_slack.uploads == []


def test_api_errors_are_only_warnings(fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    fake_slack.responses['conversations.list'] = {'ok': False, 'error': 'invalid_auth'}
    with caplog.at_level(logging.WARNING, logger='gokart.slack'):
        SlackAPI(token='bad', channel='reports', to_user='')
    assert 'The job will start without slack notification' in caplog.text
    assert 'invalid_auth' in caplog.text

    caplog.clear()
    fake_slack.responses['conversations.list'] = CHANNELS
    fake_slack.responses['files.completeUploadExternal'] = {'ok': False, 'error': 'not_in_channel'}
    with caplog.at_level(logging.WARNING, logger='gokart.slack'):
        SlackAPI(token='t', channel='reports', to_user='').send_snippet(comment='c', title='event.txt', content='x')
    assert 'Failed to send slack notification' in caplog.text
    assert 'not_in_channel' in caplog.text


def test_unreachable_server_is_only_a_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    server = ThreadingHTTPServer(('127.0.0.1', 0), BaseHTTPRequestHandler)
    closed_port = server.server_port
    server.server_close()  # nothing listens there any more: connection refused
    monkeypatch.setenv('GOKART_SLACK_API_URL', f'http://127.0.0.1:{closed_port}/api/')

    with caplog.at_level(logging.WARNING, logger='gokart.slack'):
        SlackAPI(token='t', channel='reports', to_user='').send_snippet(comment='c', title='event.txt', content='x')

    assert 'The job will start without slack notification: the Slack API at http://127.0.0.1:' in caplog.text
    sent = [r.getMessage() for r in caplog.records if 'Failed to send slack notification' in r.getMessage()]
    assert len(sent) == 1 and 'could not be reached' in sent[0] and 'not found' not in sent[0]


class _Succeeds(luigi.Task):
    def complete(self) -> bool:
        return getattr(self, '_done', False)

    def run(self) -> None:
        self._done = True


class _Fails(luigi.Task):
    def complete(self) -> bool:
        return False

    def run(self) -> None:
        raise ValueError('boom')


def test_event_aggregator_collects_successes_and_failures() -> None:
    aggregator = EventAggregator()
    assert aggregator.get_summary() == 'Success: 0; Failure: 0'
    assert aggregator.get_event_list() == 'Tasks were not executed.'

    aggregator.set_handlers()
    aggregator.set_handlers()  # idempotent: events are not counted twice
    succeeded, failed = _Succeeds(), _Fails()
    luigi.build([succeeded, failed], local_scheduler=True, log_level='CRITICAL')

    assert aggregator.get_summary() == 'Success: 1; Failure: 1'
    assert aggregator.get_event_list() == os.linesep.join(
        [
            '---- Failure Tasks ----',
            f'Task: _Fails:[{failed.task_id}]; Exception: boom',
            '---- Success Tasks ----',
            f'_Succeeds:[{succeeded.task_id}]',
        ]
    )


@pytest.fixture
def slack_config() -> Iterator[Callable[..., None]]:
    def configure(**options: str) -> None:
        for key, value in options.items():
            luigi.configuration.get_config().set('SlackConfig', key, value)

    config = luigi.configuration.get_config()
    if not config.has_section('SlackConfig'):
        config.add_section('SlackConfig')
    yield configure
    config.remove_section('SlackConfig')


def test_run_notifier_is_off_without_token_or_channel(monkeypatch: pytest.MonkeyPatch, slack_config: Callable[..., None]) -> None:
    monkeypatch.delenv('SLACK_TOKEN', raising=False)
    slack_config(channel='reports')
    assert RunNotifier.from_config() is None

    monkeypatch.setenv('SLACK_TOKEN', 'xoxb-test')
    slack_config(channel='')
    assert RunNotifier.from_config() is None


def test_run_notifier_sends_the_report(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, slack_config: Callable[..., None]) -> None:
    fake_slack.responses['conversations.list'] = CHANNELS
    monkeypatch.setenv('MY_SLACK_TOKEN', 'xoxb-test')
    slack_config(token_name='MY_SLACK_TOKEN', channel='reports', to_user='@bob')

    notifier = RunNotifier.from_config()
    assert notifier is not None
    assert notifier.send_tree_info is False
    notifier.start()
    failed = _Fails()
    luigi.build([failed], local_scheduler=True, log_level='CRITICAL')
    notifier.send(failed, tree_info='ignored: send_tree_info is off')

    complete = fake_slack.calls('files.completeUploadExternal')[0]
    assert complete['initial_comment'] == '<@bob> Report of _Fails' + os.linesep + 'Success: 0; Failure: 1'
    assert fake_slack.uploads[0].decode() == os.linesep.join(
        [
            '===== Event List ====',
            '---- Failure Tasks ----',
            f'Task: _Fails:[{failed.task_id}]; Exception: boom',
            os.linesep,
            '==== Tree Info ====',
            'Please add SlackConfig.send_tree_info to include tree-info',
        ]
    )


def test_run_notifier_includes_the_tree_when_asked(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, slack_config: Callable[..., None]
) -> None:
    fake_slack.responses['conversations.list'] = CHANNELS
    monkeypatch.setenv('SLACK_TOKEN', 'xoxb-test')
    slack_config(channel='reports', send_tree_info='true')

    notifier = RunNotifier.from_config()
    assert notifier is not None and notifier.send_tree_info
    notifier.start()
    notifier.send('Root', tree_info='└─-(COMPLETE) Root[abc]')

    assert fake_slack.uploads[0].decode().endswith('==== Tree Info ====' + os.linesep + '└─-(COMPLETE) Root[abc]')
    assert fake_slack.calls('files.completeUploadExternal')[0]['initial_comment'].startswith('Report of Root' + os.linesep + 'Success: 0')
