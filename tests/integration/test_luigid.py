"""Several ``gokart.run`` worker processes build one DAG through a real ``luigid``, as on several machines.

Each worker is ``python luigid_pipeline.py DistributedRoot --scheduler-host 127.0.0.1 --scheduler-port P``
with its own luigi pid-lock directory (as separate machines have) and ``[gokart_worker] keep_alive``,
sharing one workspace: a local directory, or a bucket on a real (moto) S3 server. luigid hands each
task to one worker, so every run() body runs once; every worker exits 0 once the DAG is built, also
those whose tasks were all taken by others. When the worker running a task is SIGKILLed, luigid
declares it dead after ``worker_disconnect_delay`` and a waiting worker runs that task again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT
from luigid_server import luigid_server, scheduler_task_statuses

import gokart

HERE = Path(__file__).resolve().parent
WORKER_TIMEOUT = 60.0

pytestmark = pytest.mark.integration


@pytest.fixture
def luigid_port(tmp_path: Path) -> Iterator[int]:
    """A fresh luigid per test (its task states must not leak between tests), on a free loopback port."""
    with luigid_server(str(tmp_path / 'luigid')) as port:
        yield port


class Workers:
    """Worker processes of one DAG; each in its own session, so a test can kill one with whatever it started."""

    def __init__(self, tmp_path: Path, port: int, workspace: str, environment: dict[str, str], slow: bool) -> None:
        self.tmp_path = tmp_path
        self.port = port
        self.slow = slow
        self.runs_directory = tmp_path / 'runs'
        self.runs_directory.mkdir()
        config = tmp_path / 'client.cfg'
        # keep_alive: wait for tasks other workers run, to exit with the DAG done or take over from a dead worker.
        # Short waits and pings keep the test fast; pings every 0.5 s stay far inside luigid's disconnect delay.
        config.write_text(
            f'[TaskOnKart]\nworkspace_directory = {workspace}\n'
            '[gokart_worker]\nkeep_alive = true\ncount_work_of_other_workers = true\nwait_interval = 0.2\nwait_jitter = 0.2\nping_interval = 0.5\n'
        )
        self.environment = {
            **os.environ,
            **environment,
            'LUIGI_CONFIG_PATH': str(config),
            'GOKART_TEST_RUNS': str(self.runs_directory),
            'PYTHONPATH': os.pathsep.join([str(HERE), *sys.path]),
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            k = len(self.processes)
            command = [sys.executable, str(HERE / 'luigid_pipeline.py'), 'DistributedRoot', '--scheduler-host', '127.0.0.1']
            command += ['--scheduler-port', str(self.port), '--lock-pid-dir', str(self.tmp_path / f'machine-{k}'), '--workers', '1']
            command += ['--slow'] if self.slow else []
            log = open(self.tmp_path / f'worker-{k}.log', 'wb')
            self.processes.append(
                subprocess.Popen(
                    command, env=self.environment, cwd=self.tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
            log.close()

    def wait(self) -> list[int]:
        """Exit codes of every worker, in start order."""
        deadline = time.monotonic() + WORKER_TIMEOUT
        for k, process in enumerate(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f'worker {k} did not finish within {WORKER_TIMEOUT} s:\n{self.log(k)}')
        return [process.returncode for process in self.processes]

    def kill(self, pid: int) -> None:
        os.killpg(pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, k: int) -> str:
        return (self.tmp_path / f'worker-{k}.log').read_text(errors='replace')[-4000:]

    def runs(self) -> dict[str, list[int]]:
        """Per task, the pids whose run() started it, in order."""
        return {path.name[: -len('.runs')]: [int(pid) for pid in path.read_text().split()] for path in self.runs_directory.iterdir()}

    def wait_for_run_of(self, name: str) -> int:
        """The pid of the worker that starts ``name``'s run(), as soon as it does."""
        path = self.runs_directory / f'{name}.runs'
        deadline = time.monotonic() + WORKER_TIMEOUT
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().strip():
                return int(path.read_text().split()[0])
            if all(process.poll() is not None for process in self.processes):
                break
            time.sleep(0.05)
        pytest.fail(f'no worker started {name}:\n' + '\n'.join(self.log(k) for k in range(len(self.processes))))


def load_root(workspace: str, slow: bool) -> object:
    import luigid_pipeline

    return luigid_pipeline.DistributedRoot(slow=slow, workspace_directory=workspace).output().load()


def build_with_three_workers(tmp_path: Path, port: int, workspace: str, environment: dict[str, str]) -> None:
    import luigid_pipeline

    workers = Workers(tmp_path, port, workspace, environment, slow=False)
    try:
        workers.start(3)
        codes = workers.wait()
        logs = '\n'.join(workers.log(k) for k in range(3))
        assert codes == [0, 0, 0], logs
        runs = workers.runs()
        assert sorted(runs) == sorted(luigid_pipeline.task_names(slow=False))
        assert {name: pids for name, pids in runs.items() if len(pids) != 1} == {}, logs
        assert set(scheduler_task_statuses(port).values()) == {'DONE'}
        assert load_root(workspace, slow=False) == luigid_pipeline.expected_root_value(slow=False)
    finally:
        workers.stop_all()


def test_three_workers_share_a_local_workspace_and_run_each_task_once(tmp_path: Path, luigid_port: int) -> None:
    build_with_three_workers(tmp_path, luigid_port, str(tmp_path / 'workspace'), {})


def test_three_workers_share_an_s3_workspace_and_run_each_task_once(
    tmp_path: Path, luigid_port: int, s3_bucket: str, s3_endpoint: str
) -> None:
    workspace = f's3://{s3_bucket}/shared'
    build_with_three_workers(tmp_path, luigid_port, workspace, {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint})


def test_a_waiting_worker_takes_over_the_task_of_a_killed_worker(tmp_path: Path, luigid_port: int) -> None:
    import luigid_pipeline

    workspace = str(tmp_path / 'workspace')
    workers = Workers(tmp_path, luigid_port, workspace, {}, slow=True)
    try:
        workers.start(2)
        killed = workers.wait_for_run_of('DistributedSlow')
        pids = [process.pid for process in workers.processes]
        assert killed in pids  # with --workers 1, luigi runs the task in the worker process itself
        workers.kill(killed)

        codes = workers.wait()
        survivor = pids[1 - pids.index(killed)]
        logs = '\n'.join(workers.log(k) for k in range(2))
        assert codes[pids.index(killed)] == -signal.SIGKILL
        assert codes[pids.index(survivor)] == 0, logs
        runs = workers.runs()
        assert sorted(runs) == sorted(luigid_pipeline.task_names(slow=True))
        # The killed run, then the survivor's run once luigid saw the worker dead; every other task once.
        assert runs.pop('DistributedSlow') == [killed, survivor], logs
        assert {name: pids for name, pids in runs.items() if len(pids) != 1} == {}, logs
        assert set(scheduler_task_statuses(luigid_port).values()) == {'DONE'}
        assert load_root(workspace, slow=True) == luigid_pipeline.expected_root_value(slow=True)
    finally:
        workers.stop_all()


def test_build_goes_through_luigid_with_local_scheduler_false(tmp_path: Path, luigid_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import luigid_pipeline

    monkeypatch.setenv('GOKART_TEST_RUNS', str(tmp_path))
    task = luigid_pipeline.DistributedPair(j=1, workspace_directory=str(tmp_path / 'workspace'))

    value = gokart.build(task, local_scheduler=False, scheduler_host='127.0.0.1', scheduler_port=luigid_port)

    assert value == 2**2 + 3**2
    assert sorted(scheduler_task_statuses(luigid_port)) == sorted(t.task_id for t in [task, *task.requires()])
    assert set(scheduler_task_statuses(luigid_port).values()) == {'DONE'}
