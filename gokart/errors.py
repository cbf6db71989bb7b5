"""Every exception gokart raises, in one hierarchy.

Names that gokart 1.12 users catch (``GokartBuildError``, ``HasLockedTaskException``,
``PandasTypeError``, ``EmptyDumpError``, ``TaskLockException``) keep their bases so existing
``except`` clauses keep working; new errors derive from :class:`GokartError` and, where gokart used
to raise a builtin (``AssertionError``, ``FileNotFoundError``, ``TypeError``), from that builtin too.
"""

from __future__ import annotations

import errno
import pickle
import re
from collections.abc import Mapping, Sequence
from typing import Any

from luigi.parameter import MissingParameterException, UnknownParameterException


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


class LockConfigurationError(GokartError, AssertionError):
    """Redis lock settings that cannot work: ``should_lock_run`` without a Redis host and port, or a too short ``redis_timeout``.

    An ``AssertionError`` because gokart 1.12 raised a bare one for these.
    """


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


class TaskInstanceTypeError(TaskParameterTypeError):
    """A task-instance parameter holds a task of the wrong class."""


class NotARequirementError(GokartError, AssertionError):
    """``load(task)`` names a task that is not among the task's requirements."""


class DependencyCycleError(GokartError):
    """The requirements of the DAG form a cycle."""


class RequiresError(GokartError, ValueError):
    """A task's ``requires()`` raised or returned something that is not a task."""


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


_WORKSPACE_ERRNOS = {
    errno.ENOSPC: 'no space is left on the device: free space or point workspace_directory elsewhere',
    errno.EDQUOT: 'the disk quota is exceeded: free space or point workspace_directory elsewhere',
    errno.EACCES: 'permission is denied: make the workspace writable by this user or point workspace_directory elsewhere',
    errno.EPERM: 'the operation is not permitted: make the workspace writable by this user or point workspace_directory elsewhere',
    errno.EROFS: 'the file system is read-only: point workspace_directory at a writable location',
}

# What a format raises for an object it cannot hold: pandas and the pickle layer raise TypeError
# and ValueError, the C pickler AttributeError ("Can't pickle local object") and PicklingError.
_UNWRITABLE = (TypeError, ValueError, AttributeError, pickle.PicklingError)


def dump_error(task: Any, path: str, obj: Any, error: BaseException) -> BaseException:
    """The error to raise for ``error`` from dumping ``obj`` to ``path``: ``error`` itself when it is already clear.

    Full disks and denied permissions become ``WorkspaceError``; an object the format cannot hold
    becomes ``UnwritableObjectError``; both name the task, its unique id and the path.
    """
    if isinstance(error, GokartError):
        return error
    if isinstance(error, OSError):
        return workspace_error(task, error, path)
    if isinstance(error, _UNWRITABLE):
        return UnwritableObjectError(
            f'{describe_task(task)} cannot write a {type(obj).__module__}.{type(obj).__qualname__} to {path}: '
            f'{type(error).__name__}: {str(error).rstrip(". ")}. Dump an object this format holds, '
            'or choose another file extension (.pkl holds any picklable object).'
        )
    return error


def workspace_error(task: Any, error: OSError, path: str | None = None) -> OSError:
    """``WorkspaceError`` naming the task and path for a full disk or a denied write; other errors unchanged."""
    reason = _WORKSPACE_ERRNOS.get(error.errno or 0)
    if reason is None or isinstance(error, GokartError):
        return error
    where = path or error.filename or 'its workspace'
    return WorkspaceError(error.errno, f'{describe_task(task)} cannot write {where}: {reason} ({error.strerror or error}).')


def corrupt_input_message(task: Any, target: Any, error: BaseException) -> str:
    """Message of a ``CorruptOutputError`` raised while ``task`` loads ``target``: who loads, who wrote it, the fix."""
    writer = _writer_of(task, target)
    written_by = f', written by {describe_task(writer)},' if writer is not None and writer is not task else ''
    return f'{describe_task(task)} cannot load {target.path()}{written_by} because it is unreadable: {error}'


def _writer_of(task: Any, target: Any) -> Any:
    """The requirement of ``task`` (or ``task`` itself) that has ``target`` among its outputs, if any."""
    from gokart import dag  # dag raises the errors defined here
    from gokart.utils import flatten

    path = target.path()
    try:
        candidates = [task, *dag.requirements(task)]
        for candidate in candidates:
            if any(getattr(t, 'path', lambda: None)() == path for t in flatten(candidate.output())):
                return candidate
    except Exception:  # naming the writer is a courtesy: never fail the error message over it
        return None
    return None


def parameter_error(task_class: Any, params: Sequence[tuple[str, Any]], kwargs: Mapping[str, Any], error: BaseException) -> BaseException:
    """A clearer error for ``error`` raised while resolving the parameters of ``task_class``, or ``error`` itself.

    No unique id exists before every parameter has a value, so the message names the class and the parameter.
    """
    name = task_class.__name__
    if isinstance(error, MissingParameterException) and not isinstance(error, MissingParameterError):
        found = re.search(r"requires the '([^']+)' parameter", str(error))
        return MissingParameterError(missing_parameter_message(task_class, found.group(1)) if found else f'{name}: {error}')
    if isinstance(error, TaskInstanceTypeError) or (isinstance(error, (ValueError, TypeError)) and not isinstance(error, GokartError)):
        culprit = _parameter_refusing(dict(params), kwargs)
        if culprit is None or str(error).startswith(f'{name}:'):
            return error
        parameter, value = culprit
        text = f'{name}: the parameter {parameter!r} cannot take {value!r} (a {type(value).__name__}): {error}'
        if isinstance(error, TaskInstanceTypeError):
            return TaskInstanceTypeError(text)
        return TaskParameterTypeError(text) if isinstance(error, TypeError) else TaskParameterError(text)
    return error


def _parameter_refusing(params: Mapping[str, Any], kwargs: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The first keyword argument whose parameter refuses its value."""
    for parameter, value in kwargs.items():
        if parameter not in params:
            continue
        try:
            params[parameter].normalize(value)
        except Exception:
            return parameter, value
    return None


def missing_parameter_message(task_class: type, parameter: str) -> str:
    """How to give a value to a required parameter, for ``MissingParameterError``."""
    name = task_class.__name__
    family = getattr(task_class, 'get_task_family', lambda: name)()
    return (
        f'{name}: the parameter {parameter!r} has no default and no value was given. '
        f'Pass it as {name}({parameter}=...), on the command line as --{family}-{parameter.replace("_", "-")} '
        f'(or --{parameter.replace("_", "-")} for the root task), '
        f'or as "{parameter} = ..." in the [{family}] section of a luigi config file.'
    )


def build_failure_message(summary: str, exceptions: Mapping[str, BaseException]) -> str:
    """``summary`` followed by every failed task's exception, one block each, so no failure hides behind another."""
    if not exceptions:
        return summary
    lines = [summary.rstrip('\n'), '', f'{len(exceptions)} task(s) raised:']
    for name, exception in exceptions.items():
        lines.append(f'  - {name}: {type(exception).__name__}: {exception}')
    return '\n'.join(lines) + '\n'


def describe_task(task: Any) -> str:
    """``Name[unique_id]`` of a task for error messages, tolerant of half-built tasks."""
    name = type(task).__name__
    try:
        return f'{name}[{task.make_unique_id()}]'
    except Exception:  # an error message must never fail because the task is broken
        return name


# ----- mistakes a newcomer makes: messages that name the mistake and the fix ---------------------


class NothingDumpedError(GokartError, RuntimeError):
    """``run()`` returned without writing the task's output: raised at the end of that run, not in a downstream load."""


class UnknownInputError(GokartError, KeyError):
    """``load('name')`` names no input of the task; the message lists the names that exist."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ''


class MissingBucketError(GokartError, FileNotFoundError):
    """The bucket of an object-storage workspace does not exist (or is not visible with these credentials)."""


class UnknownParameterError(GokartError, UnknownParameterException):
    """A keyword argument at construction that is no parameter of the task; the message suggests the nearest names."""


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` for the candidates closest to ``name``, or an empty string."""
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ''
    return ' Did you mean ' + ' or '.join(repr(c) for c in close) + '?'


def nothing_dumped_error(task: Any, missing: Sequence[str]) -> NothingDumpedError:
    return NothingDumpedError(
        f'{describe_task(task)} finished run() without writing its output {", ".join(missing)}: did you call self.dump()? '
        'Every task must write its output in run(), or a downstream task has nothing to load.'
    )


def unknown_input_error(task: Any, key: Any, inputs: Mapping[str, Any]) -> UnknownInputError:
    names = ', '.join(repr(k) for k in inputs) or '(none)'
    return UnknownInputError(
        f'{describe_task(task)} has no input named {key!r}: the inputs its requires() returns are {names}.'
        f'{did_you_mean(str(key), [str(k) for k in inputs])}'
    )


def unknown_parameter_error(task_class: Any, params: Sequence[tuple[str, Any]], name: str) -> UnknownParameterError:
    known = [n for n, _ in params]
    significant = ', '.join(n for n, p in params if getattr(p, 'significant', True)) or '(none)'
    return UnknownParameterError(
        f'{task_class.__name__} has no parameter {name!r}.{did_you_mean(name, known)} Its significant parameters: {significant}.'
    )


def bad_requirement_message(task: Any, requirements: Any, bad: Any) -> str:
    """What ``requires()`` of ``task`` returned wrong (``bad``), where in its result (the dict key or position), and the fix."""
    where = _position_of(requirements, bad)
    at = f' under {where}' if where else ''
    name = type(task).__name__
    if isinstance(bad, type):
        return f'requires() of {name} returned the class {bad.__name__}{at}, not a task: return an instance, {bad.__name__}(...), instead.'
    if isinstance(bad, str):
        return f'requires() of {name} returned the string {bad!r}{at}, not a task: return a task instance, e.g. {bad}(...), instead.'
    return f'requires() of {name} must return luigi tasks, but it returned {type(bad)}{at}.'


def _position_of(structure: Any, item: Any, path: str = '') -> str:
    """``the key 'b'`` or ``position [0]['x']`` of ``item`` inside nested dicts, lists and tuples; '' when at the top."""
    stack: list[tuple[Any, list[Any]]] = [(structure, [])]
    while stack:
        current, keys = stack.pop()
        if current is item and keys:
            if len(keys) == 1 and isinstance(keys[0], str):
                return f'the key {keys[0]!r}'
            return 'position ' + ''.join(f'[{k!r}]' for k in keys)
        if isinstance(current, dict):
            stack.extend((value, [*keys, key]) for key, value in current.items())
        elif isinstance(current, (list, tuple)):
            stack.extend((value, [*keys, index]) for index, value in enumerate(current))
    return ''


def missing_bucket_error(error: BaseException, path: str, endpoint: str) -> MissingBucketError | None:
    """``MissingBucketError`` for an S3 client error that says the bucket of ``path`` does not exist, else None."""
    response = getattr(error, 'response', None)
    code = response.get('Error', {}).get('Code') if isinstance(response, dict) else None
    if code != 'NoSuchBucket':
        return None
    bucket = path.split('://', 1)[-1].split('/', 1)[0]
    path = path.rstrip('/')
    return MissingBucketError(
        f'The S3 bucket {bucket!r} does not exist at {endpoint}, so the workspace path {path} cannot be read or written. '
        f'Check the bucket name in workspace_directory, the endpoint and region ([S3Config] endpoint_url, AWS_ENDPOINT_URL, '
        f'AWS_DEFAULT_REGION), that these credentials can see the bucket, and create it if it is new (aws s3 mb s3://{bucket}).'
    )
