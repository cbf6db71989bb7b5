"""A real ``luigid`` central scheduler on a free loopback port, for the multi-machine tests.

luigid is started from this interpreter's luigi (``luigi.cmdline.luigid``) with its own config file
in ``LUIGI_CONFIG_PATH``: short ``[scheduler]`` delays, so a worker that stops pinging is declared
dead, and its running task handed to another worker, within seconds instead of luigi's default minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from integration_servers import free_port

# Seconds without a ping after which luigid forgets a worker and fails the task it was running.
WORKER_DISCONNECT_DELAY = 5
# Seconds a failed task waits before luigid makes it PENDING again (so another worker may take it).
RETRY_DELAY = 1

SCHEDULER_CONFIG = f"""\
[scheduler]
worker_disconnect_delay = {WORKER_DISCONNECT_DELAY}
retry_delay = {RETRY_DELAY}
# Without this luigid looks for dead workers only once a minute; with it, on every get_work call.
prune_on_get_work = true
# A task killed with its worker counts as one failure: never disable it for that.
retry_count = 100
disable_window = 10
record_task_history = false
"""


@contextmanager
def luigid_server(directory: str | None = None) -> Iterator[int]:
    """Run luigid on 127.0.0.1 on a free port until the block ends; yield the port once it answers HTTP."""
    own_directory = directory is None
    work = Path(directory or tempfile.mkdtemp(prefix='gokart-luigid-'))
    work.mkdir(parents=True, exist_ok=True)
    config = work / 'luigid.cfg'
    config.write_text(SCHEDULER_CONFIG)
    port = free_port()
    environment = {**os.environ, 'LUIGI_CONFIG_PATH': str(config)}
    log = open(work / 'luigid.log', 'wb')
    command = [
        sys.executable,
        '-c',
        'import sys; from luigi.cmdline import luigid; luigid(sys.argv[1:])',
        '--address',
        '127.0.0.1',
        '--port',
        str(port),
        '--logdir',
        str(work),
        '--state-path',
        str(work / 'luigid-state.pickle'),
    ]
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    try:
        _wait_until_answering(port, process, work / 'luigid.log')
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if own_directory:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


def scheduler_task_statuses(port: int) -> dict[str, str]:
    """luigid's view of every task it knows: task id -> status (DONE, PENDING, RUNNING, FAILED, ...)."""
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/task_list?data=%7B%7D', timeout=5) as response:
        body = json.loads(response.read().decode())
    return {task_id: info['status'] for task_id, info in body['response'].items()}


def _wait_until_answering(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'luigid exited with status {process.returncode} before answering on {port}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/task_list?data=%7B%7D', timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f'luigid did not answer on {port} within {timeout} s:\n{log.read_text()[-3000:]}')


__all__ = ['luigid_server', 'scheduler_task_statuses', 'WORKER_DISCONNECT_DELAY', 'RETRY_DELAY']
