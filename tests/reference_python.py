"""Where the gokart 1.12.2 reference interpreter lives for cross-check tests.

`make test` creates it in `.venv-ref` at the repository root (`make reference-venv`);
`$GOKART_REFERENCE_PYTHON` points elsewhere. Without it the cross-check tests skip, except under
CI (`CI` set), where a missing reference is a set-up failure and must not pass as a skip.
"""

from __future__ import annotations

import os

import pytest

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REFERENCE_PYTHON = os.path.join(REPOSITORY, '.venv-ref', 'bin', 'python')


def reference_python() -> str | None:
    """The interpreter with gokart 1.12.2 installed, or None when it is not set up."""
    path = os.environ.get('GOKART_REFERENCE_PYTHON', DEFAULT_REFERENCE_PYTHON)
    if os.path.exists(path):
        return path
    if os.environ.get('CI'):
        pytest.fail(f'gokart 1.12.2 reference interpreter not found at {path}: run `make reference-venv`', pytrace=False)
    return None
