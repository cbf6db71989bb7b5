"""The executors, by name: what ``gokart.build(task, executor=NAME)`` and ``gokart.run ... --executor NAME`` run on.

An executor takes the roots of a DAG and runs what is incomplete, returning a ``BuildOutcome``; it
plans through ``local.plan_roots`` and schedules through ``scheduling.ReadySet`` so that events,
failures and what did not run are the same on every engine. ``gokart.build`` turns the outcome
into its return value or ``GokartBuildError``, ``gokart.run`` into an exit code (``exit_code``,
luigi's rule: the largest code of what happened). Built in: ``local`` (also ``gokart``: this
process, forked workers or threads), ``dask`` (docs/distributed.md) and ``luigi`` (luigi's own
scheduler and worker, which ``build`` and ``run`` drive through luigi's interface, as gokart 1.12 did).

A third party adds one with one call (docs/extending.md)::

    from gokart.execution.executors import register_executor

    register_executor('one_by_one', OneByOne())

The keyword arguments of ``gokart.build`` that are not luigi's reach the executor as ``options``
(``workers``, ``parallel``, ``dask_client``, ``dask_address``, ...), as does ``--dask-address`` of ``gokart.run``.
"""

from __future__ import annotations

from typing import Any, Protocol

from gokart.errors import GokartError
from gokart.execution.scheduling import BuildOutcome, ExecutionListener


class Executor(Protocol):
    """Runs the incomplete tasks of the DAG below ``roots``; ``options`` are the build's own keyword arguments."""

    def execute(self, roots: list[Any], listener: ExecutionListener | None, options: dict[str, Any]) -> BuildOutcome: ...


class LocalExecutor:
    """This process: serially, on ``workers`` forked processes, or threads with ``parallel='thread'``."""

    def execute(self, roots: list[Any], listener: ExecutionListener | None, options: dict[str, Any]) -> BuildOutcome:
        from gokart.execution.local import execute

        return execute(roots, workers=int(options.get('workers', 1)), parallel=str(options.get('parallel', 'process')), listener=listener)


class DaskExecutor:
    """A Dask distributed cluster: ``dask_client``, else ``dask_address``, else ``GOKART_DASK_ADDRESS`` or the current client."""

    def execute(self, roots: list[Any], listener: ExecutionListener | None, options: dict[str, Any]) -> BuildOutcome:
        from gokart.execution.dask_executor import execute_on_dask  # loads distributed only when asked for

        return execute_on_dask(roots, options.get('dask_client'), options.get('dask_address'), listener)


class LuigiExecutor:
    """luigi's scheduler and worker (``gokart.worker``): ``build`` and ``run`` hand the whole call to luigi's interface."""

    delegates_to_luigi = True

    def execute(self, roots: list[Any], listener: ExecutionListener | None, options: dict[str, Any]) -> BuildOutcome:
        raise GokartError("executor 'luigi' runs through luigi.build or luigi's command line: use gokart.build or gokart.run")


_executors: dict[str, Executor] = {}


def register_executor(name: str, executor: Executor) -> None:
    """Make ``executor`` the one ``executor=name`` (and ``--executor name``) selects, replacing any before it."""
    _executors[name] = executor


def executor_named(name: str) -> Executor:
    """The executor registered as ``name``; a ``GokartError`` naming the registered ones for any other name."""
    try:
        return _executors[name]
    except KeyError:
        raise GokartError(
            f'no executor is registered as {name!r}: use one of {", ".join(sorted(_executors))} (or register_executor)'
        ) from None


def delegates_to_luigi(executor: Executor) -> bool:
    """Whether ``executor`` is luigi's own, which ``build`` and ``run`` drive through luigi's interface."""
    return bool(getattr(executor, 'delegates_to_luigi', False))


def names() -> list[str]:
    """The registered names, sorted."""
    return sorted(_executors)


def exit_code(happened: set[str], retcodes: Any) -> int:
    """The exit code of a run from what happened, as luigi computes it: the largest configured code among them.

    ``happened`` holds luigi's summary names (``failed``, ``still_pending_ext``, ``run_by_other_worker``,
    ``scheduling_error``, ``not_run``); ``retcodes`` is ``luigi.retcodes.retcode()``.
    """
    return max(
        [
            retcodes.missing_data if 'still_pending_ext' in happened else 0,
            retcodes.task_failed if 'failed' in happened else 0,
            retcodes.already_running if 'run_by_other_worker' in happened else 0,
            retcodes.scheduling_error if 'scheduling_error' in happened else 0,
            retcodes.not_run if 'not_run' in happened else 0,
        ]
    )


def what_happened(outcome: BuildOutcome) -> set[str]:
    """luigi's summary names for an outcome of our executors: a task failed, external data is missing, or tasks did not run.

    Tasks left pending behind a failure or missing data are the consequence of those, as in luigi's
    summary, not a ``not_run`` of their own.
    """
    happened = set()
    if outcome.exceptions_by_task():
        happened.add('failed')
    if outcome.missing_external:
        happened.add('still_pending_ext')
    if outcome.not_run and not happened:
        happened.add('not_run')
    return happened


register_executor('local', LocalExecutor())
register_executor('gokart', _executors['local'])  # the name GOKART_EXECUTOR has always taken for it
register_executor('dask', DaskExecutor())
register_executor('luigi', LuigiExecutor())


__all__ = [
    'DaskExecutor',
    'Executor',
    'LocalExecutor',
    'LuigiExecutor',
    'delegates_to_luigi',
    'executor_named',
    'exit_code',
    'names',
    'register_executor',
    'what_happened',
]
