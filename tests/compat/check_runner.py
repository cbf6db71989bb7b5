"""Run the ``check_*`` functions of a module, as a script under any interpreter, and print the outcomes as JSON.

The check modules (seam_checks.py, difference_checks.py) hold tests as gokart 1.12.2 users write
them: plain functions that patch, call and assert, importing nothing from this repository. pytest
calls them in-process against ours (test_seams_used.py); run as a script they print
``{name: "ok" | "skipped: why" | "failed: what"}``, so the same bodies run under gokart 1.12.2's
interpreter, which has no pytest, to show that they are what 1.12.2's users' tests do.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import Any


class Skip(Exception):
    """The check cannot run in this interpreter (a library it needs is not installed)."""


def checks_of(namespace: dict[str, Any]) -> dict[str, Callable[[str], None]]:
    """The ``check_*`` functions of a module, by name, in definition order."""
    return {name: value for name, value in namespace.items() if name.startswith('check_') and callable(value)}


def run_one(check: Callable[[str], None]) -> str:
    """Run one check in a fresh temporary directory: ``ok``, ``skipped: ...`` or ``failed: <traceback>``."""
    import luigi

    luigi.task_register.Register.clear_instance_cache()
    with tempfile.TemporaryDirectory() as directory:
        try:
            check(directory)
        except Skip as skip:
            return f'skipped: {skip}'
        except BaseException:  # noqa: BLE001 - a check's failure, whatever it is, is its outcome
            return 'failed: ' + traceback.format_exc(limit=-4)
    return 'ok'


def main(namespace: dict[str, Any]) -> None:
    """Run the checks named on the command line (all without names) and print the JSON outcome."""
    checks = checks_of(namespace)
    names = sys.argv[1:] or list(checks)
    out, sys.stdout = sys.stdout, sys.stderr  # what the checks print (luigi's summary) must not mix with the JSON
    try:
        outcomes = {name: run_one(checks[name]) for name in names}
    finally:
        sys.stdout = out
    json.dump(outcomes, out)
