"""The warnings gokart.slack.slack_api logs for a bad token or an unknown channel are gokart 1.12.2's.

Teams assert them (``assertLogs``) and grep job logs for them. Each misconfiguration runs through
slack_warnings_runner.py under gokart 1.12.2's interpreter and ours, against a local stand-in for
Slack; levels and texts must match. Skips without the reference interpreter (fails under CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from reference_python import REPOSITORY, reference_python

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'slack_warnings_runner.py')
CASES = [('invalid_token', 'reports'), ('unknown_channel', 'reports'), ('unknown_channel', '#reports')]


def warnings_under(python: str, mode: str, channel: str, cwd: Any, env: dict[str, str]) -> list[list[str]]:
    completed = subprocess.run([python, RUNNER, mode, channel], capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr
    records: list[list[str]] = json.loads(completed.stdout)
    return records


@pytest.mark.parametrize(('mode', 'channel'), CASES)
def test_slack_warnings_are_gokart_1_12s(mode: str, channel: str, tmp_path: Any) -> None:
    ours = warnings_under(sys.executable, mode, channel, tmp_path, {**os.environ, 'PYTHONPATH': REPOSITORY})
    assert ours and all(level == 'WARNING' for _, level, _ in ours)
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    reference = warnings_under(python, mode, channel, tmp_path, {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
    assert ours == reference
