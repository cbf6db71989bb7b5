"""kannon 0.1.4's own unit tests pass against this gokart, as they do against gokart 1.12.2.

kannon (a third party) drives gokart tasks from its own job loop and its tests replace
``task.complete`` on task instances, so they check behaviour a real dependant relies on. They run
in a separate virtualenv made by ``scripts/make_kannon_venv.sh`` (default ``<repo>/.venv-kannon``,
or ``$GOKART_KANNON_VENV``). kannon publishes its tests only in its git repository, not in its sdist
or wheel, so a machine that reaches only PyPI cannot get them: without that venv this test skips,
under CI too. CI runs tests/compat/test_kannon_driver.py, our own test of kannon driving a pipeline.
"""

from __future__ import annotations

import os
import subprocess

import pytest

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _kannon_venv() -> str:
    """The venv holding kannon's own tests; skips the test when there is none (CI included)."""
    venv = os.environ.get('GOKART_KANNON_VENV', os.path.join(REPOSITORY, '.venv-kannon'))
    if os.path.exists(os.path.join(venv, 'bin', 'python')) and os.path.isdir(os.path.join(venv, 'kannon-tests')):
        return venv
    pytest.skip(
        f"kannon's own test files are not available (no venv with kannon-tests at {venv}): kannon publishes its tests "
        'only in its git repository (github.com/m3dev/kannon), not in its sdist or wheel, so a machine that reaches only PyPI '
        'cannot get them. '
        "To run them, put kannon 0.1.4's test files (test/test_master*.py) in a directory and run "
        '`KANNON_TESTS_DIR=<dir> scripts/make_kannon_venv.sh` (or set GOKART_KANNON_VENV to such a venv). '
        'tests/compat/test_kannon_driver.py checks kannon driving a pipeline without them.'
    )


def test_kannon_unit_tests_pass_on_this_gokart(tmp_path):
    venv = _kannon_venv()
    python = os.path.join(venv, 'bin', 'python')
    tests = os.path.join(venv, 'kannon-tests')
    # The venv must import this repository's gokart, not another one.
    where = subprocess.run(
        [python, '-c', 'import gokart; print(gokart.__file__)'], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert where.stdout.strip().startswith(os.path.join(REPOSITORY, 'gokart')), where.stdout

    # kannon's tests clear os.environ in tearDown; they run in a child process of their own.
    result = subprocess.run(
        [python, '-m', 'unittest', 'discover', '-v', '-s', tests, '-t', tests],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = result.stderr[-5000:]
    assert result.returncode == 0, report
    ran = [line for line in result.stderr.splitlines() if line.startswith('Ran ')]
    assert ran and not ran[0].startswith('Ran 0 '), report
    assert '\nOK' in result.stderr, report
