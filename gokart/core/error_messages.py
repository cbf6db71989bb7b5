"""The messages of gokart's errors: each names the task (with its unique id), the parameter or the path, and the fix.

``gokart.errors`` holds the exception classes and nothing else; the code that raises one asks here
for its text, or for the clearer error to raise instead of a library's. Everything here is pure
text building from what the caller passes: it imports no other module of gokart than the
hierarchy, so any module may use it.
"""

from __future__ import annotations

import errno
import pickle
import re
from collections.abc import Mapping, Sequence
from typing import Any

from luigi.parameter import MissingParameterException

from gokart.core.task_protocol import KartTask
from gokart.errors import (
    GokartError,
    MissingBucketError,
    MissingParameterError,
    NothingDumpedError,
    OutputNameTooLongError,
    TaskInstanceTypeError,
    TaskParameterError,
    TaskParameterTypeError,
    UnknownInputError,
    UnknownParameterError,
    UnwritableObjectError,
    WorkspaceError,
)

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


def dump_error(task: KartTask, path: str, obj: Any, error: BaseException) -> BaseException:
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
    """``WorkspaceError`` naming the task and path for a full disk or a denied write; other errors unchanged.

    A name too long for the file system (``ENAMETOOLONG``) is ``OutputNameTooLongError`` naming the long part.
    """
    if isinstance(error, GokartError):
        return error
    if error.errno == errno.ENAMETOOLONG:
        return OutputNameTooLongError(error.errno, long_name_message(describe_task(task), path or error.filename or ''))
    reason = _WORKSPACE_ERRNOS.get(error.errno or 0)
    if reason is None:
        return error
    where = path or error.filename or 'its workspace'
    return WorkspaceError(error.errno, f'{describe_task(task)} cannot write {where}: {reason} ({error.strerror or error}).')


MAX_NAME_BYTES = 255
"""NAME_MAX of Linux, macOS and Windows file systems (bytes on Linux)."""


def long_name_message(subject: str, path: str) -> str:
    """What to say when ``path`` (an output of ``subject``) could not be written because a name in it is too long."""
    names = [name for name in str(path).replace('\\', '/').split('/') if len(name.encode('utf-8', 'surrogateescape')) > MAX_NAME_BYTES]
    if not names:
        return f'{subject} cannot write {path}: a name in the path is too long for this file system. Shorten the make_target path or the parameter the name is made from (or hash it).'
    size = len(names[0].encode('utf-8', 'surrogateescape'))
    return (
        f'{subject} cannot write {path}: its name {names[0][:40]}... is {size} bytes long; file systems allow {MAX_NAME_BYTES}. '
        'Shorten the make_target path or the parameter the name is made from (or hash it).'
    )


def corrupt_input_message(task: KartTask, target: Any, error: BaseException, writer: Any = None) -> str:
    """Message of a ``CorruptOutputError`` raised while ``task`` loads ``target``: who loads, who wrote it (``writer``), the fix.

    The target's own message already starts with the path (``cannot load PATH: ...``): that start is
    replaced by this one, so the path is named once.
    """
    path = str(target.path())
    written_by = f' (written by {describe_task(writer)})' if writer is not None and writer is not task else ''
    text = str(error)
    if text.startswith(f'cannot load {path}: '):
        return f'{describe_task(task)} cannot load {path}{written_by}: {text[len(f"cannot load {path}: ") :]}'
    if text.startswith(f'refusing to load {path}: '):
        return f'{describe_task(task)} is refused {path}{written_by}: {text[len(f"refusing to load {path}: ") :]}'
    return f'{describe_task(task)} cannot load {path}{written_by}: {text}'


def clause(error: BaseException | str) -> str:
    """The text of ``error`` without its final period, to be followed by more of a sentence (no ``..``)."""
    text = str(error).rstrip()
    return text[:-1] if text.endswith('.') and not text.endswith('..') else text


def missing_input_message(task: KartTask, target: Any, error: BaseException, writer: Any = None, failure: str | None = None) -> str:
    """Message of an ``OutputNotFoundError`` raised while ``task`` loads ``target``, naming who should have written it.

    A task whose run() writes nothing succeeds (as in gokart 1.12, with a warning), so the missing file
    is often that task's doing: the message says so, for the task that loads and for ``gokart.build``'s own load.
    ``failure``: the error the runs index recorded for the writer's last run, which is then the reason given.
    """
    if writer is task and failure is not None:
        return f'{describe_task(task)} cannot return its output: {target.path()} does not exist because its last run failed: {failure}'
    if writer is task:
        return (
            f'{describe_task(task)} cannot return its output: {target.path()} does not exist. If the task has run, '
            'its run() did not write it: did you call self.dump()? Build a task that writes no output with return_value=False.'
        )
    if writer is not None and failure is not None:
        return (
            f'{describe_task(task)} cannot load its input {target.path()}, the output of {describe_task(writer)}: '
            f'it does not exist because the last run of {type(writer).__name__} failed: {failure}. Fix that and build it again.'
        )
    if writer is not None:
        return (
            f'{describe_task(task)} cannot load its input {target.path()}, the output of {describe_task(writer)}: it does not exist. '
            f'Run {type(writer).__name__} first; if it has run, its run() did not write it: did you call self.dump()?'
        )
    return f'{describe_task(task)} cannot load its input: {error}'


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
        kind = 'a class' if isinstance(value, type) else f'a {type(value).__name__}'
        text = f'{name}: the parameter {parameter!r} cannot take {value!r} ({kind}): {error}'
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
        f'{name}: the parameter {parameter!r} has no default and no value was given; '
        f'pass it as {name}({parameter}=...), on the command line as --{family}-{parameter.replace("_", "-")} '
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


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` for the candidates closest to ``name``, or an empty string."""
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ''
    return ' Did you mean ' + ' or '.join(repr(c) for c in close) + '?'


def task_class_not_found_message(name: str, registry: Mapping[str, Any]) -> str:
    """``No task X.`` and the task classes of ``registry`` (luigi's names to classes) that ``name`` may mean.

    Configuration classes (``luigi.Config``) and the classes of luigi and gokart themselves, which a
    command line does not run, are never offered.
    """
    import luigi

    def runnable(cls: Any) -> bool:
        module = str(getattr(cls, '__module__', ''))
        library = module.split('.')[0] in ('luigi', 'gokart')
        return isinstance(cls, type) and issubclass(cls, luigi.Task) and not issubclass(cls, luigi.Config) and not library

    tasks = sorted(family for family, cls in registry.items() if runnable(cls))
    module, _, class_name = name.rpartition('.')
    if module and class_name[:1].isupper() and name not in registry:
        # A dotted name is a family luigi looks up as it is; the module that defines the class must be named apart.
        known = f' (the task classes are: {", ".join(tasks)})' if tasks else ''
        return f'No task {name}. To run {class_name} of the module {module}, name the module apart: --module {module} {class_name}{known}.'
    suggestion = did_you_mean(name, tasks)
    if suggestion:
        return f'No task {name}.{suggestion}'
    if tasks:
        return f'No task {name}. The task classes are: {", ".join(tasks)}.'
    return f'No task {name}: no task class is registered (is the module that defines it imported?).'


def nothing_dumped_message(task: KartTask, missing: Sequence[str], strict: bool) -> str:
    """What a ``run()`` that wrote no output is told: the task, the paths it did not write, and what to do."""
    text = f'{describe_task(task)} finished run() without writing its output {", ".join(missing)}: did you call self.dump()?'
    if strict:
        return f'{text} Every task must write its output in run() in strict mode ([gokart] strict = true).'
    return (
        f'{text} The task counts as done, as in gokart 1.12, but a task that loads this output will fail; '
        'set [gokart] strict = true (or GOKART_STRICT=true) to make this an error.'
    )


def nothing_dumped_error(task: KartTask, missing: Sequence[str]) -> NothingDumpedError:
    return NothingDumpedError(nothing_dumped_message(task, missing, strict=True))


def not_a_task_message(caller: str, value: Any) -> str:
    """What ``caller`` (``gokart.build``) says when given ``value`` where one task instance belongs, and what to pass instead."""
    if isinstance(value, type):
        return f'{caller} needs a task instance, but got the class {value.__name__}: pass {value.__name__}(...) instead.'
    if isinstance(value, (list, tuple, set, dict)):
        return (
            f'{caller} builds one task, but got a {type(value).__name__} ({value!r}): build each task on its own, '
            'or write a task whose requires() returns them and build that one.'
        )
    return f'{caller} needs a task instance, but got {value!r} (a {type(value).__name__}): pass an instance of a TaskOnKart subclass.'


def unknown_input_error(task: KartTask, key: Any, inputs: Mapping[str, Any]) -> UnknownInputError:
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
