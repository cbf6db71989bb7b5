"""Every exception gokart raises, in one hierarchy.

Names that gokart 1.12 users catch (``GokartBuildError``, ``HasLockedTaskException``,
``PandasTypeError``, ``EmptyDumpError``, ``TaskLockException``) keep their bases so existing
``except`` clauses keep working; new errors derive from :class:`GokartError` and, where gokart used
to raise a builtin (``AssertionError``, ``FileNotFoundError``, ``TypeError``), from that builtin too.
The messages that name the task, the path and the fix are built in ``gokart.core.error_messages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from luigi.parameter import MissingParameterException, UnknownParameterException
from luigi.task_register import TaskClassNotFoundException
from luigi.worker import TaskException


class GokartError(Exception):
    """Base of every error raised by gokart itself."""


class GokartBuildError(GokartError):
    """``gokart.build`` failed; ``raised_exceptions`` maps each failed task's unique id to its exceptions."""

    def __init__(self, message: str, raised_exceptions: dict[str, list[Exception]] | None = None) -> None:
        super().__init__(message)
        self.raised_exceptions: dict[str, list[Exception]] = raised_exceptions or {}


class TaskNameError(GokartError, LookupError):
    """A task named as ``module:Class`` (``gokart plan``, ``gokart.runs``, ...) cannot be found or is not a task class."""


class HasLockedTaskException(GokartError):
    """A task of the build was locked by another worker; ``gokart.build`` retries the build."""


class TaskLockException(GokartError):
    """A Redis lock on a task or output could not be taken."""


class LockConfigurationError(GokartError, AssertionError):
    """Redis lock settings that cannot work: ``should_lock_run`` without a Redis host and port, or a too short ``redis_timeout``.

    An ``AssertionError`` because gokart 1.12 raised a bare one for these.
    """


class RunLockConfigurationError(GokartError, ValueError):
    """``[gokart] run_lock`` (or ``GOKART_RUN_LOCK``) names no backend, or one that cannot lock a task's workspace."""


class ConfigOptionError(GokartError, ValueError):
    """A gokart option of the luigi config or the environment (``[gokart] strict``, ``GOKART_STRICT``) has a value it cannot take."""


class ConfigNotAParameterError(GokartError, AttributeError):
    """A ``[TaskOnKart]`` (or task) config option names a task attribute that is not a parameter (a method, a property); an AttributeError, as in gokart 1.12."""


class RunLockLostError(GokartError):
    """The run lock (a workspace lease) of a running task was taken over by another process: its outputs are not written."""


class PandasTypeError(GokartError):
    """A dumped DataFrame column holds values of a type its ``PandasTypeConfig`` forbids."""


class EmptyDumpError(GokartError, AssertionError):
    """``fail_on_empty_dump`` is set and the task dumped an empty DataFrame."""


class UnsupportedFormatError(GokartError, AssertionError):
    """No file processor is registered for an output's file extension.

    An ``AssertionError`` because gokart 1.12 raised a bare one here. Built either from a message or
    from ``(extension, supported, file_path)``, the form ``gokart.file_processor`` raises it in.
    """

    def __init__(self, extension: str, supported: Sequence[str] | None = None, file_path: str = '') -> None:
        self.extension = extension
        self.supported = list(supported) if supported is not None else []
        if supported is None:  # a ready message
            super().__init__(extension)
            return
        if extension:
            subject = repr(extension)
        else:
            subject = f'A path without an extension ({file_path!r})' if file_path else 'A path without an extension'
        super().__init__(
            f'{subject} is not supported. The supported extensions are {self.supported}. '
            'Use gokart.file_processor.register_file_processor() to add one.'
        )


class OutputNotFoundError(GokartError, FileNotFoundError):
    """A task's output is missing where it should have been loaded from."""


class CorruptOutputError(GokartError):
    """A cached output exists but cannot be read back: it is truncated, corrupt or tampered with."""


class UnsignedOutputError(CorruptOutputError):
    """Pickle signing is on and an output's signature is missing or wrong."""


class TaskParameterError(GokartError, ValueError):
    """A task parameter is missing, of the wrong type or cannot be parsed."""


class MissingParameterError(TaskParameterError, MissingParameterException):
    """A parameter without a default was given no value; still a luigi ``MissingParameterException``."""


class UnwritableObjectError(GokartError, TypeError, ValueError):
    """``dump`` got an object its output's format cannot hold (a dict to ``.csv``, an unpicklable object)."""


class TaskParameterTypeError(TaskParameterError, TypeError):
    """A task parameter got a value of a type it cannot take."""


class TaskParameterAttributeError(TaskParameterTypeError, AttributeError):
    """A task parameter got a value without what the parameter uses (an AttributeError, as gokart 1.12 raised)."""


class TaskInstanceTypeError(TaskParameterTypeError):
    """A task-instance parameter holds a task of the wrong class."""


class NotARequirementError(GokartError, AssertionError):
    """``load(task)`` names a task that is not among the task's requirements."""


class DependencyCycleError(GokartError):
    """The requirements of the DAG form a cycle."""


class RequiresError(GokartError, ValueError):
    """A task's ``requires()`` raised or returned something that is not a task.

    When ``requires()`` raised, the error raised is also an instance of the class of what it raised
    (``requires_raised``), as gokart 1.12 let that exception through: ``except TypeError`` still works.
    """

    def __str__(self) -> str:
        # The message as given, also when mixed with KeyError (whose text would be the message's repr).
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()

    def __reduce__(self) -> Any:
        original = type(self).__bases__[1] if type(self) is not RequiresError else None
        return (_rebuild_requires_error, (str(self), original))


def requires_raised(message: str, original: BaseException) -> RequiresError:
    """A ``RequiresError`` with ``message`` that is also an instance of ``type(original)``, when such a class can exist."""
    kind = type(original)
    if isinstance(original, RequiresError) or not isinstance(original, Exception) or issubclass(RequiresError, kind):
        return RequiresError(message)
    mixed = _requires_error_classes.get(kind)
    if mixed is None:
        try:
            mixed = type(f'RequiresError[{kind.__name__}]', (RequiresError, kind), {'__module__': __name__})
        except TypeError:  # a builtin whose layout cannot be combined (OSError's, for one)
            mixed = RequiresError
        _requires_error_classes[kind] = mixed
    try:
        return mixed(message)
    except Exception:  # noqa: BLE001 - a class whose __init__ needs other arguments (UnicodeDecodeError's)
        return RequiresError(message)


_requires_error_classes: dict[type, type[RequiresError]] = {}


def _rebuild_requires_error(message: str, original: type | None) -> RequiresError:
    if original is None:
        return RequiresError(message)
    try:
        return requires_raised(message, original.__new__(original))  # type: ignore[call-overload]
    except Exception:  # noqa: BLE001 - rebuilt as a plain RequiresError then
        return RequiresError(message)


class StorageUnavailableError(GokartError, ConnectionError):
    """A remote workspace's endpoint did not answer after every retry; the message names the endpoint and the path.

    A ``ConnectionError`` (so an ``OSError``), as the network errors of the storage client are.
    """

    def __init__(self, message: str, endpoint: str = '', path: str = '') -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.path = path

    def __reduce__(self) -> Any:  # keeps endpoint and path across processes (parallel workers)
        return type(self), (str(self), self.endpoint, self.path)


class MissingStorageLibraryError(GokartError, ImportError):
    """The client library of a remote workspace (``s3://``, ``gs://``, ...) is not installed; the message names the extra."""


class WorkspaceError(GokartError, OSError):
    """The workspace cannot be written: no space left, permission denied, read-only file system."""


class OutputNameTooLongError(WorkspaceError):
    """An output's file (or directory) name is longer than file systems allow; raised when it is written, as gokart 1.12 failed then."""


# ----- mistakes a newcomer makes (their messages, naming the mistake and the fix: gokart.core.error_messages) -----


class NothingDumpedError(GokartError, RuntimeError):
    """``run()`` returned without writing the task's output; raised at the end of that run in strict mode only (``[gokart] strict``)."""


class NothingDumpedWarning(UserWarning):
    """``run()`` returned without writing the task's output: the task succeeds, as in gokart 1.12, and a downstream load fails."""


class OutputPathTypeError(GokartError, TypeError):
    """``make_target`` was given an output path that is neither a str nor a ``pathlib.Path`` (a TypeError, as in gokart 1.12)."""


class NotATaskError(GokartError, TaskException):
    """``gokart.build`` was given something else than a task instance (a class, a list, None); luigi's ``TaskException``, as in gokart 1.12."""


class UnknownInputError(GokartError, KeyError):
    """``load('name')`` names no input of the task; the message lists the names that exist."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ''


class MissingBucketError(GokartError, FileNotFoundError):
    """The bucket of an object-storage workspace does not exist (or is not visible with these credentials)."""


class SchemaError(GokartError):
    """A frame contract (``gokart.Schema``) is broken or cannot be read; see docs/contracts.md."""


class SchemaDeclarationError(SchemaError, TypeError):
    """An ``output_schema`` or ``input_schema`` gokart cannot read: an unknown dtype, or an input the task does not have."""


class SchemaMismatchError(SchemaError, ValueError):
    """``dump()`` was given a frame that does not match the task's ``output_schema``; nothing was written."""


class SchemaContractError(SchemaError, GokartBuildError):
    """Found at plan time, before any ``run()``: two tasks' declared schemas disagree, or a cached output no longer matches its schema.

    A ``GokartBuildError`` too, so the ``except`` clause around a build catches it as any failed build.
    """


class TaskClassNotFoundError(GokartError, TaskClassNotFoundException):
    """The command line names no registered task class; still luigi's ``TaskClassNotFoundException``, which gokart 1.12 raised.

    Its suggestions are task classes only: luigi's own would also offer its configuration classes
    (``retcode``, ``core``, ...), which cannot be run.
    """


class UnknownParameterError(GokartError, UnknownParameterException):
    """A keyword argument at construction that is no parameter of the task; the message suggests the nearest names."""
