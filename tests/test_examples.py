"""``make demo`` (examples/demo.py): the workspace and its HTML report stay, and the commands it prints work as printed."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / 'examples' / 'demo.py'


def test_demo_keeps_its_workspace_and_prints_commands_that_run(tmp_path):
    pytest.importorskip('sklearn')
    workspace = tmp_path / 'demo'
    done = subprocess.run([sys.executable, str(DEMO), '--workspace', str(workspace)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert 'second run: 0 tasks ran, all cache hits' in lines
    assert (
        f"The workspace is kept: look at its files (outputs, and log/ with each run's records), delete it when done: {workspace}/" in lines
    )
    assert (workspace / 'report.html').read_text().count('data-state=') >= 9
    assert (workspace / 'log' / 'task_params').is_dir()

    commands = lines[lines.index('Try next:') + 1 :]
    directory = commands[0].strip().removeprefix('cd ')
    plan = shlex.split(commands[1], comments=True)
    assert plan[1:4] == ['-m', 'gokart', 'plan']
    planned = subprocess.run(plan, capture_output=True, text=True, cwd=directory, timeout=300)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1] == '0 to run, 1 cached'
