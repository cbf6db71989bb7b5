"""Exceptions raised by the file-format layer.

These live here until ``gokart/errors.py`` exists; the lead moves them there and re-exports them
from this module so both import paths keep working.
"""

from __future__ import annotations

from collections.abc import Sequence


class UnsupportedFormatError(AssertionError):
    """No file processor is registered for a path's extension.

    It subclasses ``AssertionError`` because gokart 1.12.2 raised a bare ``AssertionError`` here,
    and users' ``except AssertionError`` blocks must keep working.
    """

    def __init__(self, extension: str, supported: Sequence[str], file_path: str = '') -> None:
        self.extension = extension
        self.supported = list(supported)
        if extension:
            subject = repr(extension)
        else:
            subject = f'A path without an extension ({file_path!r})' if file_path else 'A path without an extension'
        super().__init__(
            f'{subject} is not supported. The supported extensions are {self.supported}. '
            'Use gokart.file_processor.register_file_processor() to add one.'
        )


class FileLoadError(Exception):
    """A file could not be decoded by any of the readers its processor tried.

    The first reader's exception is kept as ``__cause__``; the target adds the task and path.
    """
