"""What a Dask worker does for gokart: apply the client's luigi config, construct a group's tasks again, run them.

A group of tasks (see ``dask_groups``) is one Dask task. A task travels as its class and parameter values (task instances carry wrapped methods that
cannot be pickled; constructing them again gives the same unique id). cloudpickle sends a class
of an importable module by reference and one defined in ``__main__`` (a script, a notebook) by
value. The client's luigi config travels with each task and is applied before the task is
constructed, so tasks built in ``requires()`` on the worker read the same config; the pickle
signing key is left out: workers keep their own. The task then runs through the local executor's
``run_task``: run lock, events, ``log/`` records, signing and atomic outputs as in a local build.
The group returns only each member's status (values travel through the workspace).
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from dataclasses import dataclass
from typing import Any, Final

import luigi

from gokart.core.error_messages import describe_task
from gokart.core.task_protocol import KartTask
from gokart.errors import GokartError
from gokart.execution.local import portable_exception, restore_exception, run_task
from gokart.ids import id_scheme
from gokart.storage import signing

RECIPE = 'docs/distributed.md#worker-environments'


def config_snapshot() -> tuple[str, bytes]:
    """(digest, pickled sections) of this process's luigi config, without the pickle signing key."""
    config = luigi.configuration.get_config()
    data = getattr(config, 'data', None)
    if isinstance(data, dict):  # luigi's TOML parser
        sections = {name: dict(items) for name, items in data.items() if isinstance(items, dict)}
    else:
        sections = {name: dict(config.items(name, raw=True)) for name in config.sections()}
    sections.get(signing.CONFIG_SECTION, {}).pop(signing.CONFIG_OPTION, None)
    # The id scheme in force here, however it was chosen (environment, config, id_scheme.use): the
    # workers must name outputs as the client does.
    sections.setdefault(id_scheme.CONFIG_SECTION, {})[id_scheme.CONFIG_OPTION] = str(id_scheme.current())
    pickled = pickle.dumps(sections, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(pickled).hexdigest(), pickled


def config_value(snapshot: tuple[str, bytes]) -> tuple[str, bytes]:
    """The Dask task holding a build's config once on the cluster: every task of the build takes it as an argument.

    One task instead of a copy in every task's arguments keeps the scheduler's memory independent of
    the config's size; its key holds the digest, so builds with one config share it.
    """
    return snapshot


_applied_config: str | None = None


def _apply_config(snapshot: tuple[str, bytes]) -> None:
    """Make a worker's luigi config the client's (once per distinct config), keeping the worker's signing key."""
    global _applied_config
    digest, pickled = snapshot
    if digest == _applied_config:
        return
    sections: dict[str, dict[str, Any]] = pickle.loads(pickled)
    config = luigi.configuration.get_config()
    worker_key = config.get(signing.CONFIG_SECTION, signing.CONFIG_OPTION, None)
    if worker_key is not None:
        sections.setdefault(signing.CONFIG_SECTION, {})[signing.CONFIG_OPTION] = worker_key
    if isinstance(getattr(config, 'data', None), dict):  # luigi's TOML parser
        config.data = sections
    else:
        for name in config.sections():
            config.remove_section(name)
        for name, items in sections.items():
            config.add_section(name)
            for option, value in items.items():
                config.set(name, option, value)
    id_scheme.follow(sections.get(id_scheme.CONFIG_SECTION, {}).get(id_scheme.CONFIG_OPTION))
    _applied_config = digest


@functools.cache
def _task_pickler_class() -> type[pickle.Pickler]:
    """A cloudpickle pickler that sends each task as its class and parameter values, so workers construct it again.

    Task instances carry wrapped methods that cannot be pickled; their class and parameters are all
    that defines them, and constructing them again gives the same unique id. cloudpickle sends an
    importable class by reference and one defined in ``__main__`` (a script, a notebook) by value.
    """
    import cloudpickle

    class TaskPickler(cloudpickle.Pickler):  # type: ignore[misc]
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, luigi.Task):
                return _rebuild_task, (type(obj), obj.param_kwargs)
            return super().reducer_override(obj)

    return TaskPickler


def _rebuild_task(task_class: type, param_kwargs: dict[str, Any]) -> Any:
    return task_class(**param_kwargs)


def _pickled(tasks: list[KartTask]) -> tuple[str, str, bytes]:
    """(modules of the tasks' classes, description, the tasks pickled together: one class sent once)."""
    buffer = io.BytesIO()
    try:
        _task_pickler_class()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(tasks)
    except Exception:
        for task in tasks:  # find the task that does not pickle, to name it
            try:
                _task_pickler_class()(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(task)
            except Exception as e:
                raise GokartError(
                    f'{describe_task(task)} cannot be sent to Dask workers: {type(e).__name__}: {e}. '
                    f'Its class and parameter values must be picklable (see {RECIPE})'
                ) from e
        raise
    modules = sorted({type(task).__module__ for task in tasks})
    more = f' and {len(tasks) - 1} more task(s)' if len(tasks) > 1 else ''
    return ', '.join(modules), describe_task(tasks[0]) + more, buffer.getvalue()


NOT_RUN: Final = 'not run'
"""A group member's status when a requirement of it failed or did not run: it was not tried."""

MemberStatus = tuple[bytes | None, str] | str | None
"""None: succeeded (or found complete); ``NOT_RUN``; else the (pickled exception, description) it raised."""


@dataclass(frozen=True)
class GroupPayload:
    """What a worker needs to run a group: the tasks and how each waits for the others.

    ``inside[m]``: positions in the group of member m's requirements; ``outside[m]``: (argument,
    position) of its requirements run by upstream groups, whose statuses arrive as arguments.
    """

    modules: str
    description: str
    tasks: bytes
    inside: list[list[int]]
    outside: list[list[tuple[int, int]]]


def group_payload(tasks: list[KartTask], inside: list[list[int]], outside: list[list[tuple[int, int]]]) -> GroupPayload:
    modules, description, data = _pickled(tasks)
    return GroupPayload(modules, description, data, inside, outside)


def run_group(config: tuple[str, bytes], payload: GroupPayload, *upstream: list[MemberStatus]) -> list[MemberStatus]:
    """The Dask task of a group: run its tasks in order as the local executor does; the status of each.

    A failure stops only the members that need it (here, or in later groups through the statuses
    returned); the others still run. A member that is already complete (a retry after its worker
    died finished it) is skipped by ``run_task``'s check under its run lock.
    """
    _apply_config(config)
    try:
        tasks: list[KartTask] = pickle.loads(payload.tasks)
    except (ImportError, AttributeError) as e:
        missing = getattr(e, 'name', None) or payload.modules
        failure = portable_exception(
            TaskFailedOnWorker(
                None,
                f'Dask worker {_worker_address()} cannot import module {missing!r} of {payload.description}: {type(e).__name__}: {e}. '
                'Task classes must be importable on every worker: client.upload_file(...), the same package installed, '
                f'or a shared image (see {RECIPE})',
            )
        )
        return [failure for _ in payload.inside]
    statuses: list[MemberStatus] = []
    for position, task in enumerate(tasks):
        blocked = any(statuses[p] is not None for p in payload.inside[position]) or any(
            upstream[argument][p] is not None for argument, p in payload.outside[position]
        )
        if blocked:
            statuses.append(NOT_RUN)
            continue
        try:
            run_task(task)
            statuses.append(None)
        except Exception as e:
            statuses.append(portable_exception(e))
    return statuses


def restore_status(status: MemberStatus) -> BaseException:
    """The exception a member's failure status carries (a TaskFailedOnWorker is unwrapped to what it wraps)."""
    assert isinstance(status, tuple)
    error = restore_exception(*status)
    return error.original() if isinstance(error, TaskFailedOnWorker) else error


class TaskFailedOnWorker(GokartError):
    """Carries a task's exception from a Dask worker; the build reports the original exception."""

    def __init__(self, payload: bytes | None, description: str) -> None:
        super().__init__(description)
        self.payload = payload
        self.description = description

    def __reduce__(self) -> Any:
        return TaskFailedOnWorker, (self.payload, self.description)

    def original(self) -> BaseException:
        return restore_exception(self.payload, self.description)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:
        return '(unknown)'


__all__ = [
    'NOT_RUN',
    'RECIPE',
    'GroupPayload',
    'MemberStatus',
    'TaskFailedOnWorker',
    'config_snapshot',
    'config_value',
    'group_payload',
    'restore_status',
    'run_group',
]
