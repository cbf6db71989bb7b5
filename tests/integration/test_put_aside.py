"""A task whose run lock another process holds is put aside, not waited for: the build runs the
other ready tasks meanwhile and comes back to it when nothing else is left (workspace leases on a
real moto S3 server, so no server but S3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT

import gokart
from gokart.run_locks.selection import refresh_settings

HERE = Path(__file__).resolve().parent


@pytest.mark.integration
@pytest.mark.parametrize('workers', [1, 2])
@pytest.mark.parametrize('slow_first', [True, False])
def test_a_build_runs_other_tasks_while_another_process_holds_one(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, slow_first: bool, workers: int
) -> None:
    workspace = f's3://{s3_bucket}/aside'
    signals = tmp_path / 'signals'
    signals.mkdir()
    config = tmp_path / 'luigi.cfg'
    # A lease long enough that a renewal made late on a loaded machine is not taken for a dead holder.
    config.write_text(f'[TaskOnKart]\nworkspace_directory={workspace}\n[gokart]\nrun_lock=workspace\nrun_lock_lease_seconds=10\n')
    environment = {**os.environ, **FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint, 'LUIGI_CONFIG_PATH': str(config)}
    environment['PYTHONPATH'] = os.pathsep.join(sys.path)
    holder = subprocess.Popen([sys.executable, str(HERE / 'held_task_pipeline.py'), str(signals)], env=environment, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not (signals / 'slow-started').exists():
            assert holder.poll() is None, 'the holder exited before running its task'
            assert time.monotonic() < deadline, 'the holder did not start its task'
            time.sleep(0.05)

        import held_task_pipeline

        monkeypatch.setenv('GOKART_RUN_LOCK', 'workspace')
        monkeypatch.setenv('GOKART_RUN_LOCK_LEASE_SECONDS', '10')
        refresh_settings()
        around = held_task_pipeline.Around(workspace_directory=workspace, signal_directory=str(signals), slow_first=slow_first)
        loaded = gokart.build(around, reset_register=False, workers=workers)
        assert holder.wait(60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        monkeypatch.undo()
        refresh_settings()
    slow_value = 'the quick tasks ran while this one was held'
    assert sorted(loaded, key=str) == sorted([slow_value, 0, 1, 2], key=str)
    # Slow ran in the holder only: this build found it complete after putting it aside.
    assert (signals / 'slow-started').read_text() == str(holder.pid)
    assert str(holder.pid) not in {(signals / f'quick-{i}').read_text() for i in range(3)}
