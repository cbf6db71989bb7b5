"""Every exception gokart raises, in one hierarchy.

Names that gokart 1.12 users catch (``GokartBuildError``, ``HasLockedTaskException``,
``PandasTypeError``, ``EmptyDumpError``, ``TaskLockException``) keep their bases so existing
``except`` clauses keep working; new errors derive from :class:`GokartError` and, where gokart used
to raise a builtin (``AssertionError``, ``FileNotFoundError``, ``TypeError``), from that builtin too.
"""

from __future__ import annotations

from typing import Any


class GokartError(Exception):
    """Base of every error raised by gokart itself."""


class GokartBuildError(GokartError):
    """``gokart.build`` failed; ``raised_exceptions`` maps each failed task's unique id to its exceptions."""

    def __init__(self, message: str, raised_exceptions: dict[str, list[Exception]] | None = None) -> None:
        super().__init__(message)
        self.raised_exceptions: dict[str, list[Exception]] = raised_exceptions or {}


class HasLockedTaskException(GokartError):
    """A task of the build was locked by another worker; ``gokart.build`` retries the build."""


class TaskLockException(GokartError):
    """A Redis lock on a task or output could not be taken."""


class PandasTypeError(GokartError):
    """A dumped DataFrame column holds values of a type its ``PandasTypeConfig`` forbids."""


class EmptyDumpError(GokartError, AssertionError):
    """``fail_on_empty_dump`` is set and the task dumped an empty DataFrame."""


class UnsupportedFormatError(GokartError, AssertionError):
    """No file processor is registered for an output's file extension."""


class OutputNotFoundError(GokartError, FileNotFoundError):
    """A task's output is missing where it should have been loaded from."""


class CorruptOutputError(GokartError):
    """A cached output exists but cannot be read back: it is truncated, corrupt or tampered with."""


class UnsignedOutputError(CorruptOutputError):
    """Pickle signing is on and an output's signature is missing or wrong."""


class TaskParameterError(GokartError, ValueError):
    """A task parameter is missing, of the wrong type or cannot be parsed."""


class TaskInstanceTypeError(GokartError, TypeError):
    """A task-instance parameter holds a task of the wrong class."""


class NotARequirementError(GokartError, AssertionError):
    """``load(task)`` names a task that is not among the task's requirements."""


class DependencyCycleError(GokartError):
    """The requirements of the DAG form a cycle."""


class RequiresError(GokartError, ValueError):
    """A task's ``requires()`` raised or returned something that is not a task."""


class WorkspaceError(GokartError, OSError):
    """The workspace cannot be written: no space left, permission denied, read-only file system."""


def describe_task(task: Any) -> str:
    """``Name[unique_id]`` of a task for error messages, tolerant of half-built tasks."""
    name = type(task).__name__
    try:
        return f'{name}[{task.make_unique_id()}]'
    except Exception:  # an error message must never fail because the task is broken
        return name
