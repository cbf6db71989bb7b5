"""gokart 1.12 seams patched as 1.12.2 users' tests patch them, each with the effect such a test expects.

Every ``check_*`` function is one such test: it patches a name of gokart 1.12 (a module attribute,
``luigi.configuration.get_config``, ``builtins.__import__``, the Slack client), calls the public
entry point, and asserts what it observes. test_seams_used.py runs them in-process against ours and,
through check_runner.py, as a script under gokart 1.12.2's interpreter (``python seam_checks.py``),
where they must pass too. Each gets a fresh temporary directory.
"""

from __future__ import annotations

import builtins
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import luigi

import gokart
from gokart.gcs_config import GCSConfig
from gokart.gcs_obj_metadata_client import GCSObjectMetadataClient
from gokart.gcs_zip_client import GCSZipClient
from gokart.object_storage import ObjectStorage
from gokart.s3_config import S3Config
from gokart.s3_zip_client import S3ZipClient
from gokart.target import make_target

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_runner import Skip, main  # noqa: E402 - run as a script, this directory is not on the path otherwise


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError as error:
        raise Skip(f'{module} is not installed here ({error})') from error


# ----- 1. pickles load through gokart.file_processor.base._ChunkedLargeFileReader --------------
def check_pickle_load_goes_through_the_chunked_reader_looked_up_at_call_time(directory: str) -> None:
    import gokart.file_processor.base as base

    target = make_target(os.path.join(directory, 'model.pkl'))
    target.dump({'weights': [1, 2, 3]})
    with mock.patch('gokart.file_processor.base._ChunkedLargeFileReader', wraps=base._ChunkedLargeFileReader) as reader:
        assert target.load() == {'weights': [1, 2, 3]}
    assert reader.call_count == 1, reader.call_args_list


def check_a_replaced_chunked_reader_is_what_reads_the_pickle(directory: str) -> None:
    import gokart.file_processor.base as base

    sizes: list[int] = []

    class CountingReader(base._ChunkedLargeFileReader):  # type: ignore[misc,name-defined]
        def read(self, n: int) -> bytes:
            sizes.append(n)
            return super().read(n)  # type: ignore[no-any-return]

    target = make_target(os.path.join(directory, 'rows.pkl'))
    target.dump(list(range(1000)))
    with mock.patch.object(base, '_ChunkedLargeFileReader', CountingReader):
        assert target.load() == list(range(1000))
    assert sizes, 'the replacement reader was not read from'


# ----- 2. _add_configuration reads luigi.configuration.get_config() as 1.12 does ---------------
class SeamConfigured(gokart.TaskOnKart):
    param = luigi.IntParameter(default=1)
    list_param = luigi.ListParameter(default=['a'])
    bool_param = luigi.BoolParameter()


def check_add_configuration_takes_get_config_patched_to_a_dict_of_sections(directory: str) -> None:
    sections = {'SeamConfigured': {'param': '3', 'list_param': '["c", "d"]', 'bool_param': 'True', 'not_a_param': 'x'}}
    with mock.patch('luigi.configuration.get_config', return_value=sections):
        kwargs: dict[str, Any] = {}
        SeamConfigured._add_configuration(kwargs, 'SeamConfigured')
        assert kwargs == {'param': 3, 'list_param': ['c', 'd'], 'bool_param': True}, kwargs
        given: dict[str, Any] = {'param': 9}
        SeamConfigured._add_configuration(given, 'SeamConfigured')
        assert given == {'param': 9, 'list_param': ['c', 'd'], 'bool_param': True}, given
        untouched: dict[str, Any] = {}
        SeamConfigured._add_configuration(untouched, 'NoSuchSection')
        assert untouched == {}


def check_construction_asks_add_configuration_for_the_task_on_kart_section(directory: str) -> None:
    with mock.patch.object(gokart.TaskOnKart, '_add_configuration', wraps=gokart.TaskOnKart._add_configuration) as add:
        SeamConfigured(param=2)
    assert [call.args[1:] for call in add.call_args_list] == [('TaskOnKart',)], add.call_args_list


# ----- 3. with should_lock_run, run.__wrapped__ is the user's own run ---------------------------
class SeamLockedRun(gokart.TaskOnKart):
    def run(self) -> None:
        self.dump('done')


def check_locked_run_wraps_the_users_run(directory: str) -> None:
    task = SeamLockedRun(should_lock_run=True, redis_host='localhost', redis_port=6379, workspace_directory=directory)
    assert task.run.__name__ == 'run'
    assert task.run.__wrapped__.__name__ == 'run', task.run.__wrapped__
    innermost = inspect.unwrap(task.run)
    assert innermost.__func__ is SeamLockedRun.run and innermost.__self__ is task


def check_run_without_a_lock_keeps_its_name(directory: str) -> None:
    task = SeamLockedRun(workspace_directory=directory)
    assert task.run.__name__ == 'run'
    assert task.run.__wrapped__.__func__ is SeamLockedRun.run


# ----- 4 and 5. Slack: the report gokart.run sends, the client calls, the warnings -------------
class FakeSlackClient:
    """A fake WebClient as a 1.12 user's test writes it: conversations_list takes only params=, pages are iterated."""

    uploads: list[dict[str, Any]] = []
    channel_lookups: list[dict[str, Any]] = []
    upload_answer: Any = {'ok': True}

    def __init__(self, token: str) -> None:
        self.token = token

    def conversations_list(self, *, params: dict[str, Any]) -> list[dict[str, Any]]:
        FakeSlackClient.channel_lookups.append(params)
        return [
            {'ok': True, 'channels': [{'name': 'general', 'id': 'C0'}]},
            {'ok': True, 'channels': [{'name': 'reports', 'id': 'C42'}]},
        ]

    def _upload(self, content: str, initial_comment: str) -> Any:
        FakeSlackClient.uploads.append({'content': content, 'initial_comment': initial_comment})
        if isinstance(self.upload_answer, Exception):
            raise self.upload_answer
        return self.upload_answer

    def api_call(self, method: str, data: dict[str, Any]) -> Any:  # gokart 1.12 uploads with files.upload
        return self._upload(data['content'], data['initial_comment'])

    def files_upload_v2(self, **kwargs: Any) -> Any:  # Slack retired files.upload; ours uploads with files_upload_v2
        return self._upload(kwargs['content'], kwargs['initial_comment'])


@contextmanager
def fake_slack(upload_answer: Any = None) -> Iterator[type[FakeSlackClient]]:
    FakeSlackClient.uploads = []
    FakeSlackClient.channel_lookups = []
    FakeSlackClient.upload_answer = {'ok': True} if upload_answer is None else upload_answer
    with mock.patch('gokart.slack.slack_api.slack_sdk') as sdk:
        sdk.WebClient = FakeSlackClient
        yield FakeSlackClient


@contextmanager
def slack_warnings() -> Iterator[list[str]]:
    messages: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logger = logging.getLogger('gokart.slack.slack_api')
    handler = Recorder()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def check_slack_channel_lookup_passes_params_as_1_12_does(directory: str) -> None:
    from gokart.slack.slack_api import SlackAPI

    with fake_slack() as client, slack_warnings() as warnings:
        SlackAPI(token='xoxb-test', channel='reports', to_user='alice').send_snippet(comment='done', title='report.txt', content='all good')
    assert client.channel_lookups == [{'exclude_archived': True, 'limit': 100}], client.channel_lookups
    assert client.uploads == [{'content': 'all good', 'initial_comment': '<@alice> done'}], client.uploads
    assert warnings == []


def check_slack_failed_upload_logs_1_12s_warning(directory: str) -> None:
    from gokart.slack.slack_api import SlackAPI

    with fake_slack({'ok': False, 'error': 'not_in_channel'}), slack_warnings() as warnings:
        SlackAPI(token='xoxb-test', channel='reports', to_user='').send_snippet(comment='done', title='report.txt', content='x')
    assert warnings == ['Failed to send slack notification: Error while uploading file. The error reason is "not_in_channel".'], warnings
    with fake_slack(RuntimeError('connection reset')), slack_warnings() as warnings:
        SlackAPI(token='xoxb-test', channel='reports', to_user='').send_snippet(comment='done', title='report.txt', content='x')
    assert warnings == ['Failed to send slack notification: connection reset'], warnings


class SeamReported(gokart.TaskOnKart):
    def run(self) -> None:
        self.dump(1)


def _run_with_slack(directory: str, send_tree_info: bool) -> tuple[dict[str, Any], mock.MagicMock]:
    config = luigi.configuration.get_config()
    config.set('SlackConfig', 'channel', 'reports')
    config.set('SlackConfig', 'to_user', 'alice')
    config.set('SlackConfig', 'send_tree_info', str(send_tree_info))
    try:
        with (
            mock.patch.dict(os.environ, {'SLACK_TOKEN': 'xoxb-run'}),
            fake_slack() as client,
            mock.patch('gokart.make_tree_info', return_value='TREE OF THE RUN') as tree,
        ):
            try:
                gokart.run(['SeamReported', '--local-scheduler', '--no-lock', '--workspace-directory', directory])
            except SystemExit as exited:
                assert exited.code == 0, exited.code
    finally:
        config.remove_section('SlackConfig')
    assert len(client.uploads) == 1, client.uploads
    return client.uploads[0], tree


def check_gokart_run_takes_the_slack_tree_from_gokart_make_tree_info(directory: str) -> None:
    upload, tree = _run_with_slack(directory, send_tree_info=True)
    task_id = SeamReported(workspace_directory=directory).make_unique_id()
    assert [(type(call.args[0]).__name__, call.kwargs) for call in tree.call_args_list] == [('SeamReported', {'details': True})]
    expected = f'===== Event List ====\n---- Success Tasks ----\nSeamReported:[{task_id}]\n\n\n==== Tree Info ====\nTREE OF THE RUN'
    assert upload['content'] == expected, upload['content']
    assert upload['initial_comment'] == '<@alice> Report of SeamReported\nSuccess: 1; Failure: 0', upload['initial_comment']


def check_gokart_run_without_send_tree_info_says_how_to_include_it(directory: str) -> None:
    upload, tree = _run_with_slack(directory, send_tree_info=False)
    assert tree.call_count == 0
    assert upload['content'].endswith('\n\n\n==== Tree Info ====\nPlease add SlackConfig.send_tree_info to include tree-info'), upload


# ----- 6. GCSObjectMetadataClient._makepatch ---------------------------------------------------
def check_makepatch_gives_the_patch_between_two_metadata_dicts(directory: str) -> None:
    _require('googleapiclient')
    makepatch = GCSObjectMetadataClient._makepatch
    assert makepatch({'a': '1'}, {'a': '1', 'b': '2'}) == {'b': '2'}
    assert makepatch({'a': '1', 'c': '3'}, {'a': '2'}) == {'a': '2', 'c': None}
    assert makepatch({}, {}) == {}
    assert makepatch({'x': {'y': 1}}, {'x': {'y': 2, 'z': 3}}) == {'x': {'y': 2, 'z': 3}}


# ----- 7. a missing client library, detected at call time through builtins.__import__ ----------
@contextmanager
def unimportable(hidden: str) -> Iterator[list[tuple[Any, ...]]]:
    """``import hidden`` (and its submodules) raises ImportError; every socket connection is refused and recorded."""
    real_import = builtins.__import__
    connections: list[tuple[Any, ...]] = []

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == hidden or name.startswith(hidden + '.'):
            raise ImportError(f'No module named {name!r} (hidden by the test)')
        return real_import(name, *args, **kwargs)

    def refused(*args: Any, **kwargs: Any) -> Any:
        connections.append(args)
        raise OSError('no network in this test')

    with (
        mock.patch('builtins.__import__', fake_import),
        mock.patch('socket.socket.connect', refused),
        mock.patch('socket.create_connection', refused),
        mock.patch('socket.getaddrinfo', refused),
    ):
        yield connections


S3_ENTRY_POINTS: list[tuple[str, Callable[[], Any]]] = [
    ('S3Config().get_s3_client()', lambda: S3Config().get_s3_client()),
    ('S3Config()._get_s3_client()', lambda: S3Config()._get_s3_client()),
    ('ObjectStorage.get_object_storage_target', lambda: ObjectStorage.get_object_storage_target('s3://bucket/a.pkl', None)),
    ('ObjectStorage.exists', lambda: ObjectStorage.exists('s3://bucket/a.pkl')),
    ('ObjectStorage.get_zip_client', lambda: ObjectStorage.get_zip_client('s3://bucket/a.zip', '/tmp/unused')),
    ('S3ZipClient', lambda: S3ZipClient('s3://bucket/a.zip', '/tmp/unused')),
    ('make_target', lambda: make_target('s3://bucket/a.pkl')),
]
GCS_ENTRY_POINTS: list[tuple[str, Callable[[], Any]]] = [
    ('GCSConfig().get_gcs_client()', lambda: GCSConfig().get_gcs_client()),
    ('GCSConfig()._get_gcs_client()', lambda: GCSConfig()._get_gcs_client()),
    ('ObjectStorage.get_object_storage_target', lambda: ObjectStorage.get_object_storage_target('gs://bucket/a.pkl', None)),
    ('ObjectStorage.exists', lambda: ObjectStorage.exists('gs://bucket/a.pkl')),
    ('ObjectStorage.get_zip_client', lambda: ObjectStorage.get_zip_client('gs://bucket/a.zip', '/tmp/unused')),
    ('GCSZipClient', lambda: GCSZipClient('gs://bucket/a.zip', '/tmp/unused')),
    ('GCSObjectMetadataClient._makepatch', lambda: GCSObjectMetadataClient._makepatch({}, {'a': '1'})),
]


def _import_if_installed(module: str) -> None:
    try:
        __import__(module)  # in sys.modules before the patch: the check must not rely on a first import
    except ImportError:
        pass


def _each_fails_with_the_install_hint(hidden: str, entry_points: list[tuple[str, Callable[[], Any]]], hint: str) -> None:
    _import_if_installed(hidden)
    failures = []
    for name, call in entry_points:
        with unimportable(hidden) as connections:
            try:
                call()
                failures.append(f'{name}: no error')
            except ImportError as error:
                if hint not in str(error):
                    failures.append(f'{name}: {error}')
            except Exception as error:  # noqa: BLE001 - any other exception is what this check reports
                failures.append(f'{name}: {type(error).__name__}: {error}')
        if connections:
            failures.append(f'{name}: opened {len(connections)} connection(s)')
    assert not failures, failures


def check_s3_entry_points_without_boto3_say_pip_install_gokart_s3(directory: str) -> None:
    _each_fails_with_the_install_hint('boto3', S3_ENTRY_POINTS, 'pip install gokart[s3]')


def check_gcs_entry_points_without_the_google_api_client_say_pip_install_gokart_gcs(directory: str) -> None:
    _each_fails_with_the_install_hint('googleapiclient', GCS_ENTRY_POINTS, 'pip install gokart[gcs]')


def check_gcs_entry_points_without_google_oauth2_say_pip_install_gokart_gcs(directory: str) -> None:
    entry_points = [(name, call) for name, call in GCS_ENTRY_POINTS if 'makepatch' not in name]
    entry_points.append(('GCSConfig()._load_oauth_credentials()', lambda: GCSConfig()._load_oauth_credentials()))
    _each_fails_with_the_install_hint('google.oauth2', entry_points, 'pip install gokart[gcs]')


def check_the_libraries_work_again_once_the_patch_ends(directory: str) -> None:
    _require('boto3')
    with unimportable('boto3'):
        try:
            make_target('s3://bucket/a.pkl')
            raise AssertionError('no ImportError while boto3 is hidden')
        except ImportError:
            pass
    make_target('s3://bucket/a.pkl')  # boto3 importable again: no error


if __name__ == '__main__':
    main(globals())
