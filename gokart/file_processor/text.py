"""Text-like files: plain text (``.txt``, ``.ini``), gzipped text (``.gz``) and XML (``.xml``)."""

from __future__ import annotations

import gzip
import io
import locale
import xml.etree.ElementTree as ET
from typing import IO, Any

from .base import BinaryFormatProcessor, read_all

GZIP_COMPRESSLEVEL = 6
"""The level of the ``gzip`` command that gokart's luigi target piped through."""


class TextFileProcessor(BinaryFormatProcessor):
    """Lines of text in the platform's preferred encoding, as gokart wrote them.

    dump: a list is written one ``str(item)`` per line; anything else is written as ``str(obj)``.
    load: always a list of lines with trailing whitespace stripped (universal newlines).
    """

    def load(self, file: IO[bytes]) -> list[str]:
        reader = io.TextIOWrapper(file, encoding=_platform_encoding())
        try:
            return [line.rstrip() for line in reader.readlines()]
        finally:
            reader.detach()  # leave the caller's file open; the target closes it

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        file.write(as_text(obj).encode(_platform_encoding()))


class GzipFileProcessor(BinaryFormatProcessor):
    """Like ``TextFileProcessor``, but UTF-8 and gzip-compressed; lines split at ``\\n`` only."""

    def load(self, file: IO[bytes]) -> list[str]:
        with gzip.GzipFile(fileobj=file, mode='rb') as reader:
            return [line.decode('utf-8').rstrip() for line in reader.readlines()]

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        # filename='' and mtime=0 keep the header free of the temporary path and the clock,
        # so equal objects give equal bytes.
        with gzip.GzipFile(filename='', fileobj=file, mode='wb', compresslevel=GZIP_COMPRESSLEVEL, mtime=0) as writer:
            writer.write(as_text(obj).encode('utf-8'))


class XmlFileProcessor(BinaryFormatProcessor):
    """An ``xml.etree.ElementTree.ElementTree``.

    gokart 1.12.2 could not dump XML at all (it wrote bytes to a text file); this writes the
    tree ASCII-encoded (non-ASCII as character references), which gokart reads back. An empty
    file loads as an empty ``ElementTree()`` as in gokart; other malformed XML raises
    ``ParseError`` instead of silently becoming an empty tree.
    """

    def load(self, file: IO[bytes]) -> ET.ElementTree:
        data = read_all(file)
        if not data.strip():
            return ET.ElementTree()
        return ET.ElementTree(ET.fromstring(data))

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        if not isinstance(obj, ET.ElementTree):
            raise AssertionError(f'requires ET.ElementTree, but {type(obj)} is passed.')
        obj.write(file)


def as_text(obj: Any) -> str:
    """gokart's text layout: one line per list item, otherwise ``str(obj)`` with no newline."""
    if isinstance(obj, list):
        if all(type(item) is str for item in obj):  # the usual case, a list of lines: joined at C speed (format(s, '') is s)
            return '\n'.join(obj) + '\n' if obj else ''
        return ''.join(f'{item}\n' for item in obj)
    return str(obj)


def _platform_encoding() -> str:
    # gokart opened text targets in text mode without an encoding, i.e. with this one.
    return locale.getpreferredencoding(False)
