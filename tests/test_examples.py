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
    assert 'tasks run before the error: 0' in lines  # the renamed column, caught by the declared frame contracts
    assert any("reads column 'phenols_ratio'" in line and "Did you mean 'phenol_ratio'?" in line for line in lines)
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


def test_the_suggested_plan_names_the_changed_model_setting_in_one_line(tmp_path):
    """The demo's last hint: change MODEL_SETTINGS and run plan again; the plan names the setting that changed."""
    pytest.importorskip('sklearn')
    examples = tmp_path / 'examples'
    examples.mkdir()
    for name in ('demo.py', 'wine_pipeline.py'):
        (examples / name).write_text((DEMO.parent / name).read_text())
    done = subprocess.run(
        [sys.executable, str(examples / 'demo.py'), '--workspace', str(tmp_path / 'ws')], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any('change MODEL_SETTINGS' in line for line in lines)
    pipeline = examples / 'wine_pipeline.py'
    source = pipeline.read_text()
    assert 'MODEL_SETTINGS = (0.01, 1.0)' in source
    pipeline.write_text(source.replace('MODEL_SETTINGS = (0.01, 1.0)', 'MODEL_SETTINGS = (0.01, 0.1)'))
    commands = lines[lines.index('Try next:') + 1 :]
    planned = subprocess.run(shlex.split(commands[1], comments=True), capture_output=True, text=True, cwd=examples, timeout=300)
    assert planned.returncode == 0, planned.stderr
    report = [line for line in planned.stdout.splitlines() if line.startswith('run     WineReport[')]
    assert len(report) == 1 and "evaluations[1].model.C: '1.0' -> '0.1'" in report[0], planned.stdout
    root = [line for line in planned.stdout.splitlines() if 'WinePipeline[' in line][0]
    assert 'evaluations' not in root, root
