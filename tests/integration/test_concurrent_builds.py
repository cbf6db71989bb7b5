"""Four processes build overlapping DAGs on one workspace: every task runs exactly once, every output loads.

- Local workspace, no server: the executor's file locks (``gokart.conflict_prevention_lock.file_lock``).
- S3 workspace (a real moto server) with a real redis-server: gokart's Redis locks with
  ``should_lock_run``; a process that finds a task locked fails it with ``TaskLockException`` and
  ``gokart.build`` retries later, when the task is complete and is skipped.
- The same with only ``redis_host``/``redis_port`` set: a process waits for the run lock of a task
  another process runs, then skips it (``redis_run_once``, the default).
- S3 workspace and no other server: workspace leases (``[gokart] run_lock = auto`` picks them for
  s3://), also with the processes' clocks an hour apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT

HERE = Path(__file__).resolve().parent
ROOTS = range(4)
TASKS = [f'Root_{k}' for k in ROOTS] + [f'Mid_{j}' for j in range(7)] + [f'Base_{j}' for j in range(8)]


def build_concurrently(
    tmp_path: Path, config: str, extra_environment: dict[str, str], clock_offsets: tuple[float, ...] = ()
) -> dict[str, list[str]]:
    """Start one process per root at the same time; return, per task, the pids that ran it.

    ``clock_offsets[k]`` puts the clock of the k-th process that many seconds off.
    """
    config_path = tmp_path / 'luigi.cfg'
    config_path.write_text(config)
    counters = tmp_path / 'counters'
    counters.mkdir()
    environment = {**os.environ, **extra_environment, 'LUIGI_CONFIG_PATH': str(config_path), 'PYTHONPATH': os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [sys.executable, str(HERE / 'concurrent_pipeline.py'), str(k), str(counters), *[str(o) for o in clock_offsets[k : k + 1]]],
            env=environment,
            cwd=tmp_path,
            stderr=subprocess.PIPE,
        )
        for k in ROOTS
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()[-3000:]
    return {path.name[: -len('.runs')]: path.read_text().split() for path in counters.iterdir()}


def assert_each_task_ran_once_and_loads(runs: dict[str, list[str]], workspace: str) -> None:
    assert sorted(runs) == sorted(TASKS)
    assert {name: len(pids) for name, pids in runs.items() if len(pids) != 1} == {}
    sys.path.insert(0, str(HERE))
    import concurrent_pipeline
    import luigi

    config = luigi.configuration.get_config()
    if not config.has_section('TaskOnKart'):
        config.add_section('TaskOnKart')
    config.set('TaskOnKart', 'workspace_directory', workspace)
    for k in ROOTS:
        root = concurrent_pipeline.Root(k=k)
        assert root.output().load() == concurrent_pipeline.expected_root_value(k)
        for mid in root.requires():
            assert mid.output().load() == sum(base.output().load() for base in mid.requires())


def test_local_workspace_with_file_locks(tmp_path: Path) -> None:
    workspace = str(tmp_path / 'workspace')
    runs = build_concurrently(tmp_path, f'[TaskOnKart]\nworkspace_directory={workspace}\n', {})
    assert_each_task_ran_once_and_loads(runs, workspace)


@pytest.mark.integration
def test_s3_workspace_with_redis_locks(tmp_path: Path, s3_bucket: str, s3_endpoint: str, redis_address: tuple[str, int]) -> None:
    workspace = f's3://{s3_bucket}/shared'
    host, port = redis_address
    config = f'[TaskOnKart]\nworkspace_directory={workspace}\nredis_host={host}\nredis_port={port}\nshould_lock_run=true\n'
    runs = build_concurrently(tmp_path, config, {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint})
    assert_each_task_ran_once_and_loads(runs, workspace)


@pytest.mark.integration
def test_s3_workspace_with_redis_runs_each_task_once_by_default(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str, redis_address: tuple[str, int]
) -> None:
    workspace = f's3://{s3_bucket}/shared'
    host, port = redis_address
    config = f'[TaskOnKart]\nworkspace_directory={workspace}\nredis_host={host}\nredis_port={port}\n'
    runs = build_concurrently(tmp_path, config, {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint})
    assert_each_task_ran_once_and_loads(runs, workspace)


@pytest.mark.integration
def test_s3_workspace_with_workspace_leases_and_no_other_server(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    workspace = f's3://{s3_bucket}/shared'
    config = f'[TaskOnKart]\nworkspace_directory={workspace}\n[gokart]\nrun_lock=auto\nrun_lock_lease_seconds=5\n'
    runs = build_concurrently(tmp_path, config, {**FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint})
    assert_each_task_ran_once_and_loads(runs, workspace)


@pytest.mark.integration
def test_workspace_leases_hold_when_the_clocks_of_the_processes_disagree(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    workspace = f's3://{s3_bucket}/skewed'
    config = f'[TaskOnKart]\nworkspace_directory={workspace}\n'
    environment = {
        **FAKE_AWS_ENVIRONMENT,
        'AWS_ENDPOINT_URL': s3_endpoint,
        'GOKART_RUN_LOCK': 'workspace',
        'GOKART_RUN_LOCK_LEASE_SECONDS': '3',
    }
    runs = build_concurrently(tmp_path, config, environment, clock_offsets=(3600.0, -3600.0, 0.0, 7200.0))
    assert_each_task_ran_once_and_loads(runs, workspace)
