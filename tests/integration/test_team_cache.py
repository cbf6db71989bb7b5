"""The team cache: developers read through to a shared workspace that CI pushes to, on a disk, the S3 server and the GCS emulator.

Each developer and CI has a workspace of its own; ``[gokart] shared_workspace`` names the team's.
What a build of a developer runs is read from the pipeline's run log (each ``run()`` appends its
task's name), what is in a workspace from its files.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import luigi
import pytest
import team_cache_pipeline as pipeline
from integration_servers import FAKE_AWS_ENVIRONMENT, python_of_reference_gokart

import gokart
from gokart.execution import TaskState, make_plan, team_cache
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace
from gokart.storage.shared_signatures import SIGNATURE_SUFFIX

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
ALL_TASKS = ['Frame', 'Numbers', 'Squares', 'Total']
EXPECTED = sum(x * x for x in range(10)) + sum(range(10))


@pytest.fixture(params=['disk', 's3', 'gcs'])
def shared_root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the team's shared workspace lives in this test: a directory, an S3 bucket or a GCS bucket."""
    if request.param == 'disk':
        return str(tmp_path / 'team-cache')
    if request.param == 's3':
        return f's3://{request.getfixturevalue("s3_bucket")}/team-cache'
    return f'gs://{request.getfixturevalue("gcs_bucket")}/team-cache-{uuid.uuid4().hex[:8]}'


@contextmanager
def working_as(workspace: Path | str, shared: str, **settings: str) -> Iterator[Path]:
    """Builds inside the block are those of one person: their own workspace, the team's, their [gokart] settings."""
    config = luigi.configuration.get_config()
    for section in ('TaskOnKart', 'gokart'):
        if not config.has_section(section):
            config.add_section(section)
    config.set('TaskOnKart', 'workspace_directory', str(workspace))
    options = {'shared_workspace': shared, **settings}
    for name, value in options.items():
        config.set('gokart', name, value)
    runs = Path(f'{workspace}.runs')
    pipeline.RUNS_FILE = str(runs)
    luigi.task_register.Register.clear_instance_cache()  # a task made by the last person holds their workspace
    try:
        yield runs
    finally:
        pipeline.RUNS_FILE = ''
        config.remove_option('TaskOnKart', 'workspace_directory')
        for name in options:
            config.remove_option('gokart', name)
        shared_workspace.refresh()


def ran(runs: Path) -> list[str]:
    return sorted(runs.read_text().split()) if runs.exists() else []


def files_of(workspace: str) -> set[str]:
    """The files of a workspace, relative to it, leaving out gokart's own bookkeeping (locks, lineage journal)."""
    root = workspace.rstrip('/') + '/'
    found = {path[len(root) :] if path.startswith(root) else path for path in storage.list_files(workspace)}
    return {name for name in found if not name.startswith(('.gokart-locks', '.gokart/', '.gokart-leases'))}


def outputs_of(workspace: str) -> set[str]:
    return {name for name in files_of(workspace) if not name.startswith('log/') and not name.endswith(SIGNATURE_SUFFIX)}


def build(size: int = 10, offset: int = 0) -> int:
    return gokart.build(pipeline.Total(size=size, offset=offset), log_level=40)  # type: ignore[no-any-return]


def test_the_second_developer_builds_what_ci_pushed_without_running_a_task(shared_root: str, tmp_path: Path) -> None:
    with working_as(tmp_path / 'ci', shared_root, shared_push='true') as runs:
        assert build() == EXPECTED
        assert ran(runs) == ALL_TASKS
    pushed = files_of(shared_root)
    assert len(outputs_of(shared_root)) == 4
    assert {name for name in pushed if name.startswith('log/processing_time/')}, 'the records of the runs are pushed too'

    with working_as(tmp_path / 'dev1', shared_root) as runs:  # a developer's experiment stays in their workspace
        assert build(size=12) != EXPECTED
        assert ran(runs) == ALL_TASKS
    assert files_of(shared_root) == pushed

    with working_as(tmp_path / 'dev2', shared_root) as runs:
        assert build() == EXPECTED
        assert ran(runs) == []
        # Only what the build loads is fetched: the root's output.
        assert outputs_of(str(tmp_path / 'dev2')) == {name for name in outputs_of(shared_root) if 'Total_' in name}

        assert build(offset=1) == EXPECTED + 1
        assert ran(runs) == ['Total']
        fetched = outputs_of(str(tmp_path / 'dev2'))
        assert any('Squares_' in name for name in fetched) and any('numbers' in name for name in fetched)
        assert not any('Numbers_' in name for name in fetched), 'an input of a shared hit is not fetched'


def test_a_shared_hit_is_named_as_such_in_the_plan(shared_root: str, tmp_path: Path) -> None:
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    with working_as(tmp_path / 'dev', shared_root):
        plan = team_cache.planned_with_inputs_fetched(lambda: make_plan([pipeline.Total(offset=1)]))
        shared = sorted(type(node.task).__name__ for node in plan.tasks if node.shared)
        assert shared == ['Frame', 'Squares']
        assert [type(node.task).__name__ for node in plan.tasks if node.state is TaskState.PENDING] == ['Total']


def _key_pair(directory: Path, name: str) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = directory / f'{name}.pem'
    public = directory / f'{name}.pub.pem'
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def _shared_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, shared_workspace.SharedWorkspaceWarning)]


def test_trusted_keys_refuse_tampered_unsigned_and_foreign_shared_files(shared_root: str, tmp_path: Path) -> None:
    ci_key, ci_public = _key_pair(tmp_path, 'ci')
    _, other_public = _key_pair(tmp_path, 'other')
    with working_as(tmp_path / 'ci', shared_root, shared_push='true', shared_signing_key=ci_key):
        build()
    with working_as(tmp_path / 'ci-unsigned', shared_root, shared_push='true'):
        build(size=20)

    with working_as(tmp_path / 'dev', shared_root, shared_trusted_keys=ci_public) as runs:
        assert build() == EXPECTED
        assert ran(runs) == []
        squares_task = pipeline.Squares(numbers=pipeline.Numbers(size=10))
        squares = shared_workspace.relative_path(squares_task.output().path(), squares_task.workspace_directory)
        assert squares is not None

    tampered = shared_workspace.join(shared_root, squares)
    storage.write_bytes(tampered, pickle.dumps([666] * 10))
    with (
        working_as(tmp_path / 'dev-tampered', shared_root, shared_trusted_keys=ci_public) as runs,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter('always')
        assert build(offset=1) == EXPECTED + 1  # the tampered squares are not loaded: they are computed again
        assert ran(runs) == ['Squares', 'Total']
    refusals = _shared_warnings(caught)
    assert len(refusals) == 1 and tampered in refusals[0] and 'tampered' in refusals[0]

    with (
        working_as(tmp_path / 'dev-unsigned', shared_root, shared_trusted_keys=ci_public) as runs,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter('always')
        build(size=20)
        assert ran(runs) == ALL_TASKS
    assert any('unsigned' in message and 'Total_' in message for message in _shared_warnings(caught))

    with (
        working_as(tmp_path / 'dev-foreign', shared_root, shared_trusted_keys=other_public) as runs,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter('always')
        assert build() == EXPECTED
        assert ran(runs) == ALL_TASKS
    assert any('unknown key' in message for message in _shared_warnings(caught))

    with working_as(tmp_path / 'dev-untrusting', shared_root) as runs:  # no trusted keys: the hash still catches the tampering
        assert build(offset=1) == EXPECTED + 1
        assert ran(runs) == ['Squares', 'Total']


def test_a_push_never_overwrites_other_content(shared_root: str, tmp_path: Path) -> None:
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    before = {name: storage.open_read(shared_workspace.join(shared_root, name)).read() for name in outputs_of(shared_root)}
    with working_as(tmp_path / 'other', shared_root):
        build()  # fetches only the root
        total = pipeline.Total()
        local_total = total.output().path()
        storage.write_bytes(local_total, pickle.dumps(-1))
        report = team_cache.push_task(total)
        assert report.differing == [local_total] and report.pushed == []
        report = team_cache.push_task(pipeline.Squares(numbers=pipeline.Numbers(size=10)))
        assert report.differing == [] and report.pushed == []  # its output is not in this workspace: nothing to push
    after = {name: storage.open_read(shared_workspace.join(shared_root, name)).read() for name in outputs_of(shared_root)}
    assert after == before


def test_concurrent_fetches_of_one_file_download_it_once(s3_bucket: str, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from s3_request_count import counted_s3_requests

    shared_root = f's3://{s3_bucket}/team-cache'
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    with working_as(tmp_path / 'dev', shared_root):
        shared_workspace.refresh()
        target = pipeline.Total().output()
        assert target.exists()
        with counted_s3_requests() as counts, ThreadPoolExecutor(8) as pool:
            assert all(pool.map(lambda _: shared_workspace.fetch(target.path(), target._workspace_directory), range(8)))
        assert counts['GetObject'] == 2  # the output and its signature file, once
        assert target.load() == EXPECTED


@pytest.mark.parametrize('push', ['false', 'true'])
def test_an_unreachable_shared_workspace_turns_into_local_runs_with_one_warning(
    push: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integration_servers import free_port

    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv('AWS_ENDPOINT_URL', f'http://127.0.0.1:{free_port()}')  # nothing listens there
    with (
        working_as(tmp_path / 'dev', 's3://team/cache', storage_timeout='1', storage_retries='0', shared_push=push) as runs,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter('always')
        assert build() == EXPECTED
        assert ran(runs) == ALL_TASKS
    messages = _shared_warnings(caught)
    assert len(messages) == 1 and 's3://team/cache' in messages[0]


def _run_pipeline(
    python: str, config: str, tmp_path: Path, name: str, extra_environment: dict[str, str], *arguments: str
) -> tuple[str, list[str]]:
    config_file = tmp_path / f'{name}.cfg'
    config_file.write_text(config)
    runs = tmp_path / f'{name}.runs'
    environment = {**os.environ, **extra_environment, 'LUIGI_CONFIG_PATH': str(config_file), 'PYTHONPATH': str(HERE)}
    if python == sys.executable:
        environment['PYTHONPATH'] = os.pathsep.join([str(HERE), *sys.path])
    else:
        environment.pop('GOKART_SHARED_WORKSPACE', None)
    completed = subprocess.run(
        [python, str(HERE / 'team_cache_pipeline.py'), str(runs), *arguments],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    return completed.stdout.decode().strip().splitlines()[-1], ran(runs)


@pytest.mark.parametrize('where', ['disk', 's3'])
def test_gokart_1_12_builds_from_the_shared_workspace_with_no_task_run(where: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reference = python_of_reference_gokart()
    if reference is None:
        pytest.skip('no gokart 1.12.2 reference interpreter')
    environment: dict[str, str] = {}
    if where == 's3':
        shared_root = f's3://{request.getfixturevalue("s3_bucket")}/team-cache'
        environment = {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': request.getfixturevalue('s3_endpoint')}
    else:
        shared_root = str(tmp_path / 'team-cache')
    ci = f'[TaskOnKart]\nworkspace_directory={tmp_path / "ci"}\n[gokart]\nshared_workspace={shared_root}\nshared_push=true\n'
    assert _run_pipeline(sys.executable, ci, tmp_path, 'ci', environment) == (str(EXPECTED), ALL_TASKS)
    as_only_workspace = f'[TaskOnKart]\nworkspace_directory={shared_root}\n'
    assert _run_pipeline(reference, as_only_workspace, tmp_path, 'reference', environment) == (str(EXPECTED), [])


_SLOW_FETCH = """
import sys, time
sys.path[:0] = {path!r}
from gokart.storage import filesystem, shared_workspace
shared_workspace._CHUNK_BYTES = 64 * 1024
real_open_read = filesystem.open_read

class Slow:
    def __init__(self, stream): self.stream = stream
    def read(self, n=-1):
        time.sleep(0.05)
        return self.stream.read(n)
    def __enter__(self): return self
    def __exit__(self, *exc): self.stream.close()

def open_read(path):
    stream = real_open_read(path)
    return Slow(stream) if path.startswith({shared!r}) and not path.endswith('signature') else stream

filesystem.open_read = open_read
import luigi, gokart
luigi.configuration.get_config().set('TaskOnKart', 'workspace_directory', {workspace!r})
luigi.configuration.get_config().set('gokart', 'shared_workspace', {shared!r})
import big_output_pipeline
gokart.build(big_output_pipeline.Big(), log_level=40)
"""


def test_a_kill_during_a_fetch_leaves_nothing_partial(tmp_path: Path) -> None:
    import signal
    import time

    (tmp_path / 'big_output_pipeline.py').write_text(
        'import gokart\n\nclass Big(gokart.TaskOnKart):\n    def run(self):\n        self.dump(bytes(range(256)) * 8192)\n'
    )
    shared_root = str(tmp_path / 'team-cache')
    sys.path.insert(0, str(tmp_path))
    try:
        import big_output_pipeline

        with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
            gokart.build(big_output_pipeline.Big(), log_level=40)
        relative = next(iter(outputs_of(shared_root)))
        developer = tmp_path / 'dev'
        script = _SLOW_FETCH.format(path=[str(tmp_path), *sys.path], shared=shared_root, workspace=str(developer))
        process = subprocess.Popen(
            [sys.executable, '-c', script], cwd=tmp_path, env={**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}
        )
        final = developer / relative
        deadline = time.monotonic() + 120
        while not list(final.parent.glob(f'*{storage.TEMPORARY_SUFFIX}')) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None, 'the fetch ended before it could be killed'
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not final.exists(), 'a killed fetch left a file under the output name'
        assert all(name.name.endswith(storage.TEMPORARY_SUFFIX) for name in final.parent.iterdir())

        with working_as(developer, shared_root):
            assert gokart.build(big_output_pipeline.Big(), log_level=40) == bytes(range(256)) * 8192
        assert final.read_bytes() == (Path(shared_root) / relative).read_bytes()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop('big_output_pipeline', None)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    from gokart.commands.cli import main

    luigi.task_register.Register.clear_instance_cache()
    assert main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize('backend', ['disk', 's3'])
def test_cache_push_pull_and_status(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    shared_root = str(tmp_path / 'team-cache') if backend == 'disk' else f's3://{request.getfixturevalue("s3_bucket")}/team-cache'
    task = 'team_cache_pipeline:Total'
    with working_as(tmp_path / 'ci', shared_root):  # a build without shared_push writes its own workspace only
        build()
        assert files_of(shared_root) == set()
        status = _cli(capsys, 'cache', 'status', task)
        assert [line.split()[0] for line in status[:-1]] == ['local'] * 4 and status[-1].startswith('4 local, 0 shared, 0 both, 0 missing')
        dry = _cli(capsys, 'cache', 'push', '--dry-run', task)
        assert dry[-1].startswith('would push 24 file(s) of 4 task(s)') and files_of(shared_root) == set()
        assert _cli(capsys, 'cache', 'push', task)[-1].startswith('pushed 24 file(s) of 4 task(s)')
        assert len(outputs_of(shared_root)) == 4
        assert _cli(capsys, 'cache', 'push', task)[-1].startswith('pushed 0 file(s) of 0 task(s)')
        assert [line.split()[0] for line in _cli(capsys, 'cache', 'status', task)[:-1]] == ['both'] * 4
    with working_as(tmp_path / 'dev', shared_root) as runs:
        status = _cli(capsys, 'cache', 'status', task, '--offset', '1')
        assert status[0].split()[0] == 'missing' and [line.split()[0] for line in status[1:-1]] == ['shared'] * 3
        plan = _cli(capsys, 'plan', task, '--offset', '1')
        assert sum('(in the shared workspace)' in line for line in plan) == 2  # Squares and Frame; Numbers is not looked at
        pulled = _cli(capsys, 'cache', 'pull', task, '--offset', '1')
        assert pulled[0].startswith('2 output(s)')
        assert len(outputs_of(str(tmp_path / 'dev'))) == 2
        assert build(offset=1) == EXPECTED + 1 and ran(runs) == ['Total']


def test_the_report_and_the_notebook_plan_name_a_shared_hit(tmp_path: Path) -> None:
    from gokart.commands.report.graph import collect_graph
    from gokart.notebook.plan import plan as notebook_plan

    shared_root = str(tmp_path / 'team-cache')
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    with working_as(tmp_path / 'dev', shared_root):
        graph = collect_graph(pipeline.Total(offset=1))
        shared = sorted(node.name for node in graph.nodes if any(o.shared for o in node.outputs))
        assert shared == ['Frame', 'Numbers', 'Squares']
        assert all(o.path.startswith(shared_root) for node in graph.nodes if node.name == 'Squares' for o in node.outputs)
        table = notebook_plan(pipeline.Total(offset=1))._repr_html_()
        assert table.count('cached (shared)') == 2 and 'its output is in the shared workspace' in table


@pytest.mark.parametrize('backend', ['disk', 's3'])
def test_of_writers_racing_for_one_shared_file_exactly_one_wins(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    shared_root = str(tmp_path / 'team-cache') if backend == 'disk' else f's3://{request.getfixturevalue("s3_bucket")}/team-cache'
    path = shared_workspace.join(shared_root, 'pkg/Task_0123456789abcdef0123456789abcdef.pkl')
    start = threading.Barrier(8)

    def write(n: int) -> bool:
        start.wait()
        return shared_workspace.create(path, f'content of writer {n}'.encode())

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(write, range(8)))
    assert won.count(True) == 1
    with storage.open_read(path) as f:
        assert f.read() == f'content of writer {won.index(True)}'.encode()


@pytest.mark.parametrize('backend', ['disk', 's3'])
def test_two_ci_processes_pushing_the_same_dag_at_once_leave_a_consistent_shared_workspace(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    environment: dict[str, str] = {}
    if backend == 's3':
        shared_root = f's3://{request.getfixturevalue("s3_bucket")}/team-cache'
        environment = {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': request.getfixturevalue('s3_endpoint')}
    else:
        shared_root = str(tmp_path / 'team-cache')
    ci_key, ci_public = _key_pair(tmp_path, 'ci')
    processes = []
    for name in ('ci-a', 'ci-b'):
        config = tmp_path / f'{name}.cfg'
        config.write_text(
            f'[TaskOnKart]\nworkspace_directory={tmp_path / name}\n'
            f'[gokart]\nshared_workspace={shared_root}\nshared_push=true\nshared_signing_key={ci_key}\n'
        )
        child_environment = {
            **os.environ,
            **environment,
            'LUIGI_CONFIG_PATH': str(config),
            'PYTHONPATH': os.pathsep.join([str(HERE), *sys.path]),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, str(HERE / 'team_cache_pipeline.py'), str(tmp_path / f'{name}.runs')],
                env=child_environment,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()[-3000:]
        assert out.decode().split()[-1] == str(EXPECTED)
    with working_as(tmp_path / 'dev', shared_root, shared_trusted_keys=ci_public) as runs, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert build(offset=1) == EXPECTED + 1  # Squares and Frame fetched and verified
        assert ran(runs) == ['Total']
    assert _shared_warnings(caught) == []


def test_gokart_run_pushes_with_shared_push_and_reads_through(tmp_path: Path) -> None:
    """The luigi path (gokart.run, luigi's worker): CI's run pushes, a developer's run of the same DAG runs nothing."""
    shared_root = str(tmp_path / 'team-cache')
    ci = f'[TaskOnKart]\nworkspace_directory={tmp_path / "ci"}\n[gokart]\nshared_workspace={shared_root}\nshared_push=true\n'
    assert _run_pipeline(sys.executable, ci, tmp_path, 'ci', {}, '10', '0', 'luigi') == (str(EXPECTED), ALL_TASKS)
    assert len(outputs_of(shared_root)) == 4
    developer = f'[TaskOnKart]\nworkspace_directory={tmp_path / "dev"}\n[gokart]\nshared_workspace={shared_root}\n'
    assert _run_pipeline(sys.executable, developer, tmp_path, 'dev', {}, '10', '1', 'luigi') == (str(EXPECTED + 1), ['Total'])


def test_gokart_runs_lists_the_runs_recorded_in_the_shared_workspace_as_shared(tmp_path: Path) -> None:
    shared_root = str(tmp_path / 'team-cache')
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    with working_as(tmp_path / 'dev', shared_root):
        build(offset=1)  # runs Total; Squares and Frame are fetched
        squares = gokart.runs(pipeline.Squares)
        assert list(squares['shared']) == [True]  # the run CI recorded and pushed; none in the own workspace
        totals = gokart.runs(pipeline.Total)
        assert sorted(zip(totals['offset'], totals['shared'], strict=True)) == [(0, True), (1, False)]
        assert 'shared' not in gokart.runs(pipeline.Total, workspace=str(tmp_path / 'dev')).columns  # one workspace asked


def test_gokart_why_names_a_shared_hit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared_root = str(tmp_path / 'team-cache')
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        build()
    with working_as(tmp_path / 'dev', shared_root):
        lines = _cli(capsys, 'why', 'team_cache_pipeline:Total')
        assert lines[0].endswith('its output is in the shared workspace; a build would fetch it and load it.')


class Leaf(gokart.TaskOnKart[int]):
    task_namespace = 'test_team_cache'
    i = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.i)


class Wide(gokart.TaskOnKart[int]):
    task_namespace = 'test_team_cache'
    n = luigi.IntParameter()
    tag = luigi.Parameter(default='')

    def requires(self):
        return [Leaf(i=i) for i in range(self.n)]

    def run(self) -> None:
        self.dump(len(self.load()))


def test_a_plan_asks_the_shared_workspace_by_listing_not_per_task(s3_bucket: str, tmp_path: Path) -> None:
    from s3_request_count import counted_s3_requests

    shared_root = f's3://{s3_bucket}/team-cache'
    with working_as(tmp_path / 'ci', shared_root, shared_push='true'):
        assert gokart.build(Wide(n=60), log_level=40) == 60
    with working_as(tmp_path / 'dev', shared_root):
        shared_workspace.refresh()
        with counted_s3_requests() as counts:
            plan = make_plan([Wide(n=60, tag='new root')])
        assert sum(node.shared for node in plan.tasks) == 60
        # The root, alone on its level, is asked about by itself (as the own side asks it); its 60 inputs by one listing.
        assert counts['ListObjectsV2'] <= 2 and counts['HeadObject'] <= 1 and counts['GetObject'] == 0, counts


def test_with_trusted_keys_a_completion_check_outside_a_plan_verifies_by_fetching(tmp_path: Path) -> None:
    """luigi's scheduler (gokart.run) asks complete() itself: a refused shared file makes its task incomplete there too."""
    shared_root = str(tmp_path / 'team-cache')
    ci_key, ci_public = _key_pair(tmp_path, 'ci')
    with working_as(tmp_path / 'ci', shared_root, shared_push='true', shared_signing_key=ci_key):
        build()
    with working_as(tmp_path / 'dev', shared_root, shared_trusted_keys=ci_public), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        shared_workspace.refresh()
        numbers = pipeline.Numbers(size=10)
        squares = pipeline.Squares(numbers=numbers)
        storage.write_bytes(shared_workspace.shared_path(squares.output().path(), squares.workspace_directory) or '', pickle.dumps([0]))
        assert numbers.complete() and os.path.exists(numbers.output().path())  # verified, so fetched now
        assert not squares.complete() and not os.path.exists(squares.output().path())
    assert [message for message in _shared_warnings(caught) if 'tampered' in message]
