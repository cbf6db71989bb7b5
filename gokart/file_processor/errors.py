"""Exceptions raised by the file-format layer, re-exported from ``gokart.errors`` where they live.

``UnsupportedFormatError`` subclasses ``AssertionError`` because gokart 1.12.2 raised a bare
``AssertionError`` here, and users' ``except AssertionError`` blocks must keep working.
"""

from __future__ import annotations

from gokart.errors import UnsupportedFormatError


class FileLoadError(Exception):
    """A file could not be decoded by any of the readers its processor tried.

    The first reader's exception is kept as ``__cause__``; the target adds the task and path.
    """


__all__ = ['FileLoadError', 'UnsupportedFormatError']
