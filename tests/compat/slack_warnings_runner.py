"""Print, as JSON, what gokart.slack.slack_api logs at WARNING and above for one Slack misconfiguration.

Usage: python slack_warnings_runner.py invalid_token|unknown_channel CHANNEL. A local stand-in for
Slack's Web API answers (every method rejects the token, or no channel has the configured name);
the client is pointed at it through ``gokart.slack.slack_api.slack_sdk``, the seam 1.12 users patch.
Runs under gokart 1.12.2's interpreter and ours (test_slack_reference.py). The URL of the failed
call is written ``<url>/<method>``: the stand-in's port differs per run, and the method too (1.12
uploads with ``files.upload``, which Slack retired; ours looks the channel up again first and uploads
with ``files_upload_v2``).
"""

import functools
import json
import logging
import re
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import slack_sdk

import gokart.slack.slack_api as slack_api

MODE, CHANNEL = sys.argv[1], sys.argv[2]


class _Slack(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        method = self.path.split('?')[0].rsplit('/', 1)[-1]
        if MODE == 'invalid_token':
            payload = {'ok': False, 'error': 'invalid_auth'}
        elif method == 'conversations.list':
            payload = {'ok': True, 'channels': [{'name': 'general', 'id': 'C1'}], 'response_metadata': {'next_cursor': ''}}
        else:
            payload = {'ok': True}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append([record.name, record.levelname, record.getMessage()])


def main():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Slack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_port}/api/'
    slack_api.slack_sdk = types.SimpleNamespace(WebClient=functools.partial(slack_sdk.WebClient, base_url=url))
    recorder = _Recorder()
    logger = logging.getLogger('gokart.slack.slack_api')
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    api = slack_api.SlackAPI(token='xoxb-not-valid', channel=CHANNEL, to_user='someone')
    api.send_snippet(comment='report', title='event.txt', content='text')
    server.shutdown()
    failed_call = re.compile(re.escape(url) + r'[\w.]+')
    records = [[name, level, failed_call.sub('<url>/<method>', message)] for name, level, message in recorder.records]
    json.dump(records, sys.stdout)


if __name__ == '__main__':
    main()
