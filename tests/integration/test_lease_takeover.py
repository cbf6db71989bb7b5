"""A process SIGKILLed while holding a task's workspace lease: another process takes the task over
within the lease time plus a few seconds, and runs it (issue 18's bound: lease time + 5 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integration_servers import FAKE_AWS_ENVIRONMENT

import gokart
from gokart.run_locks.selection import refresh_settings

HERE = Path(__file__).resolve().parent
LEASE_SECONDS = 3.0


@pytest.mark.integration
def test_a_killed_holder_is_taken_over_within_the_lease_time(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    workspace = f's3://{s3_bucket}/takeover'
    config = tmp_path / 'luigi.cfg'
    config.write_text(
        f'[TaskOnKart]\nworkspace_directory={workspace}\n[gokart]\nrun_lock=workspace\nrun_lock_lease_seconds={LEASE_SECONDS}\n'
    )
    marker = tmp_path / 'started'
    environment = {**os.environ, **FAKE_AWS_ENVIRONMENT, 'AWS_ENDPOINT_URL': s3_endpoint, 'LUIGI_CONFIG_PATH': str(config)}
    environment['PYTHONPATH'] = os.pathsep.join(sys.path)
    holder = subprocess.Popen([sys.executable, str(HERE / 'killed_holder_pipeline.py'), str(marker)], env=environment, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert holder.poll() is None, 'the holder exited before running its task'
            assert time.monotonic() < deadline, 'the holder did not start its task'
            time.sleep(0.05)
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        killed_at = time.monotonic()

        import killed_holder_pipeline

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv('GOKART_RUN_LOCK', 'workspace')
            patch.setenv('GOKART_RUN_LOCK_LEASE_SECONDS', str(LEASE_SECONDS))
            refresh_settings()
            value = gokart.build(killed_holder_pipeline.HeldWhenKilled(workspace_directory=workspace), reset_register=False)
        took = time.monotonic() - killed_at
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        refresh_settings()
    assert value == 'finished by the process that took over'
    assert took >= LEASE_SECONDS, 'the lease of the killed holder must have been waited out, not ignored'
    assert took < LEASE_SECONDS + 5, f'took {took:.1f} s to take over a {LEASE_SECONDS:g} s lease'
