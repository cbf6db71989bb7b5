"""What a Dask worker does for gokart: apply the client's luigi config, construct the task again, run it.

A task travels as its class and parameter values (task instances carry wrapped methods that
cannot be pickled; constructing them again gives the same unique id). cloudpickle sends a class
of an importable module by reference and one defined in ``__main__`` (a script, a notebook) by
value. The client's luigi config travels with each task and is applied before the task is
constructed, so tasks built in ``requires()`` on the worker read the same config; the pickle
signing key is left out: workers keep their own. The task then runs through the local executor's
``run_task``: run lock, events, ``log/`` records, signing and atomic outputs as in a local build.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from typing import Any

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


def task_payload(task: KartTask) -> tuple[str, str, bytes]:
    """(module of the task's class, description, pickled task) for ``run_on_worker``."""
    buffer = io.BytesIO()
    try:
        _task_pickler_class()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(task)
    except Exception as e:
        raise GokartError(
            f'{describe_task(task)} cannot be sent to Dask workers: {type(e).__name__}: {e}. '
            f'Its class and parameter values must be picklable (see {RECIPE})'
        ) from e
    return type(task).__module__, describe_task(task), buffer.getvalue()


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


def run_on_worker(config: tuple[str, bytes], payload: tuple[str, str, bytes], *upstream: Any) -> None:
    """The Dask task: apply the client's config, construct the gokart task from its payload and run it; raise what it raised."""
    _apply_config(config)
    module, description, data = payload
    try:
        task = pickle.loads(data)
    except (ImportError, AttributeError) as e:
        raise TaskFailedOnWorker(
            None,
            f'Dask worker {_worker_address()} cannot import module {module!r} of {description}: {type(e).__name__}: {e}. '
            'Task classes must be importable on every worker: client.upload_file(...), the same package installed, '
            f'or a shared image (see {RECIPE})',
        ) from None
    try:
        run_task(task)
    except Exception as e:
        raise TaskFailedOnWorker(*portable_exception(e)) from None


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:
        return '(unknown)'


__all__ = ['RECIPE', 'TaskFailedOnWorker', 'config_snapshot', 'config_value', 'run_on_worker', 'task_payload']
