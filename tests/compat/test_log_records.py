"""gokart.build and gokart.run emit gokart 1.12.2's log records (issue 30, "logs like 1.12's").

A team shipping gokart's records to a log pipeline filters and counts them by logger and level:
luigi's worker and scheduler records (``gokart.worker`` where 1.12's copy of luigi's worker logged,
``luigi-interface``, ``luigi.scheduler``), the pickle writer's (``gokart.file_processor.base``), a
failed task's (``gokart.task``) and luigi's execution summary. ``log_records_driver`` builds a chain,
a fan-in, a failing chain and a cached root under our gokart and under 1.12.2; the sequences of
(logger, level) must be the same, at INFO and at DEBUG. Messages may differ (clearer), never be fewer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reference_python import reference_python

DRIVER = Path(__file__).resolve().parent / 'log_records_driver.py'
REPOSITORY = Path(__file__).resolve().parents[2]


def records(python: str, mode: str, level: str, directory: Path, ours: bool) -> dict[str, Any]:
    directory.mkdir()
    environment = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'LUIGI_CONFIG_PATH')}
    environment['LUIGI_CONFIG_PATH'] = str(directory / 'absent.cfg')  # no config file of the machine's
    if ours:
        environment['PYTHONPATH'] = str(REPOSITORY)
    done = subprocess.run([python, str(DRIVER), mode, level], cwd=directory, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope='module')
def reference() -> str:
    found = reference_python()
    if found is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up (`make reference-venv`)')
    return found


@pytest.mark.parametrize('level', ['INFO', 'DEBUG'])
@pytest.mark.parametrize('mode', ['build', 'run'])
def test_the_log_records_are_gokart_112s_logger_by_logger_and_level_by_level(mode: str, level: str, reference: str, tmp_path: Path) -> None:
    ours = records(sys.executable, mode, level, tmp_path / 'ours', ours=True)
    theirs = records(reference, mode, level, tmp_path / 'reference', ours=False)
    for shape, found in theirs.items():
        assert ours[shape]['outcome'] == found['outcome'], shape
        expected = [(name, levelname) for name, levelname, _ in found['records']]
        got = [(name, levelname) for name, levelname, _ in ours[shape]['records']]
        assert got == expected, f'{mode} {shape} at {level}: ours {len(got)} records, 1.12.2 {len(expected)}'


def test_a_build_logs_what_each_task_did_in_1_12s_words(tmp_path: Path) -> None:
    """Without the reference: the records that say what happened carry 1.12's message shapes."""
    found = records(sys.executable, 'build', 'INFO', tmp_path / 'ours', ours=True)
    messages = [message for _, _, message in found['failing']['records']]
    assert any(m.startswith('Informed scheduler that task   logs.Leaf_0_') and m.endswith('has status   DONE') for m in messages)
    assert any(' running   logs.Middle[' in m for m in messages)
    failed = [m for name, level, m in found['failing']['records'] if name == 'gokart.worker' and level == 'ERROR']
    assert len(failed) == 1 and ' failed    logs.Middle[' in failed[0]
    assert 'FAILURE:\n    task name=Middle' in messages[messages.index(failed[0]) + 1]
    chain = [m for _, _, m in found['chain']['records']]
    assert chain.count('done') == 15  # five pickles per task (output and four log/ records), three tasks
    assert 'writing a file with total_bytes=' in chain[chain.index('done') - 2]
    assert 'Execution Summary' in chain[-1] and 'Scheduled 3 tasks of which' in chain[-1]
