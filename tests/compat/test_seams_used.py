"""The seams gokart 1.12 users' tests patch take effect: seam_checks.py, against ours and against gokart 1.12.2.

Each check patches a 1.12 name as a user's test does and asserts the effect. Here every check runs
in-process against this repository's gokart; the last test runs the same file under gokart 1.12.2's
interpreter (skipped without it, failing under CI), where every check must pass too, so the checks
are what tests written for 1.12.2 do and not our own idea of them.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
import seam_checks
from check_runner import checks_of, run_one
from reference_python import reference_python

CHECKS = checks_of(vars(seam_checks))


@pytest.mark.parametrize('name', list(CHECKS))
def test_the_seam_takes_effect_on_ours(name: str) -> None:
    outcome = run_one(CHECKS[name])
    if outcome.startswith('skipped: '):
        pytest.skip(outcome)
    assert outcome == 'ok', outcome


def run_checks_under(python: str, script: str, cwd: Any) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    env.update({'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing'})  # no credential lookup on the network
    completed = subprocess.run([python, script], capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcomes: dict[str, str] = json.loads(completed.stdout)
    return outcomes


def test_the_same_checks_pass_on_gokart_1_12_2(tmp_path: Any) -> None:
    python = reference_python()
    if python is None:
        pytest.skip('gokart 1.12.2 reference interpreter not set up: make reference-venv')
    outcomes = run_checks_under(python, seam_checks.__file__, tmp_path)
    assert set(outcomes) == set(CHECKS)
    failed = {name: outcome for name, outcome in outcomes.items() if not (outcome == 'ok' or outcome.startswith('skipped: '))}
    assert not failed, failed
    # the reference has no Google client libraries: only the check of _makepatch's values needs them
    assert [name for name, outcome in outcomes.items() if outcome != 'ok'] in (
        [],
        ['check_makepatch_gives_the_patch_between_two_metadata_dicts'],
    )
