"""Live progress of a build on a terminal (rich), quiet when not a terminal or turned off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress_listener(setting: Any = None) -> Iterator[Any]:
    """The listener for ``gokart.build(progress=...)``; ``None`` (no display) until the display lands."""
    yield None
