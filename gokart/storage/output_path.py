"""Output paths no file system can hold are a path error naming the task, before anything runs.

A NUL byte in a parameter that ends up in a file name made the dump fail with "embedded null byte",
reported as an object the format cannot hold (``UnwritableObjectError``); it is ``OutputPathError``
when the task's output is made, naming the task, the path and what to change. A name longer than the
file system allows fails where gokart 1.12 failed, when the output is written (``output()`` and
``complete()`` work, as there): ``OutputNameTooLongError``, an ``OSError``, naming the long name
(``gokart.core.error_messages.workspace_error``).
"""

from __future__ import annotations

import os
import posixpath
import warnings
from typing import Any

from gokart.core.error_messages import MAX_NAME_BYTES, describe_task
from gokart.errors import GokartError
from gokart.storage import filesystem as storage
from gokart.target import insert_unique_id


class OutputPathError(GokartError, ValueError):
    """An output path that no file system accepts: a NUL byte."""


def check_output_path(task: Any, path: str, unique_id: str | None = None) -> None:
    """Raise ``OutputPathError`` when the local ``path`` of an output of ``task`` (with ``unique_id`` inserted) holds a NUL byte."""
    if '\x00' not in path:
        return
    path = insert_unique_id(path, unique_id)
    if not storage.is_local(path):
        return  # object stores have their own key rules and report them
    raise OutputPathError(
        f'{describe_task(task)} has the output path {path!r}, which contains a NUL byte (\\x00) that no file system accepts. '
        'Remove it from the parameter or make_target path the file name is made from.'
    )


class OutsideWorkspaceWarning(UserWarning):
    """A task's output path leaves its workspace."""


_warned_outside: set[tuple[str, str]] = set()


def warn_if_outside_workspace(task: Any, relative_path: str, workspace: str) -> None:
    """Warn once when ``make_target(relative_path)`` of ``task`` resolves outside ``workspace`` (``..`` or an absolute path).

    gokart 1.12 allows it and some pipelines write to shared paths on purpose, so it stays allowed;
    but such an output is shared by every workspace, and workspace cleaning never sees it.
    """
    if _inside(relative_path, workspace):
        return
    resolved = os.path.join(workspace, relative_path)
    key = (type(task).__name__, relative_path)
    if key in _warned_outside:
        return
    _warned_outside.add(key)
    warnings.warn(
        f'{describe_task(task)} writes {relative_path}, which resolves to {resolved}, outside its workspace {workspace}. '
        'Every workspace shares that file and workspace cleaning never sees it; use a path inside the workspace unless that is the point.',
        OutsideWorkspaceWarning,
        stacklevel=4,
    )


def _inside(relative_path: str, workspace: str) -> bool:
    if not os.path.isabs(relative_path) and '..' not in relative_path.replace('\\', '/').split('/'):
        return True  # the common case, decided without normalizing anything
    if '://' in workspace:
        workspace = workspace.split('://', 1)[1]
        joined, root = posixpath.normpath(posixpath.join(workspace, relative_path)), posixpath.normpath(workspace)
        return joined == root or joined.startswith(root.rstrip('/') + '/')
    joined, root = os.path.normpath(os.path.join(workspace, relative_path)), os.path.normpath(workspace)
    return joined == root or joined.startswith(root.rstrip(os.sep) + os.sep)


__all__ = ['OutputPathError', 'OutsideWorkspaceWarning', 'check_output_path', 'warn_if_outside_workspace', 'MAX_NAME_BYTES']
