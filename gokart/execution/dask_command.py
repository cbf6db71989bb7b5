"""``gokart.run ... --executor NAME [--dask-address tcp://host:8786]``: the command line on another executor.

luigi's command line does not know these two options, so they are taken out of the arguments
before luigi parses them. Unless they name luigi's own worker (``luigi``, or ``local``/``gokart``,
which gokart.run has always run on luigi's worker), the root task is then built by the registered
executor (``executors``: ``dask``, or a third party's), and the process exits with gokart.run's codes.
"""

from __future__ import annotations

import sys
from typing import Any

from gokart.core import settings
from gokart.errors import GokartError

EXECUTOR_OPTION = '--executor'
ADDRESS_OPTION = '--dask-address'


def pop_executor_options(cmdline_args: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(executor, Dask address, the other arguments); both options accept ``--opt value`` and ``--opt=value``."""
    found: dict[str, str] = {}
    rest: list[str] = []
    args = iter(cmdline_args)
    for arg in args:
        name, equals, value = arg.partition('=')
        if name not in (EXECUTOR_OPTION, ADDRESS_OPTION):
            rest.append(arg)
            continue
        if not equals:
            value = next(args, '')
        if not value or value.startswith('--'):
            raise SystemExit(f'gokart.run: {name} needs a value, e.g. {EXECUTOR_OPTION} dask {ADDRESS_OPTION} tcp://scheduler:8786')
        found[name] = value
    executor = found.get(EXECUTOR_OPTION) or settings.lookup('executor').text or None
    return executor, found.get(ADDRESS_OPTION), rest


LUIGI_WORKER_NAMES = frozenset({'luigi', 'local', 'gokart'})
"""Executor names under which gokart.run keeps luigi's command line and worker, as gokart 1.12 ran it."""


def run_on_dask_and_exit(cmdline_args: list[str], address: str | None) -> None:
    """Build the command line's root task on Dask; exit 0 when built, 40 on a failure, 20 missing data, 30 not run."""
    run_on_executor_and_exit(cmdline_args, 'dask', {'dask_address': address})


def run_on_executor_and_exit(cmdline_args: list[str], name: str, options: dict[str, Any]) -> None:
    """Build the command line's root task on the executor registered as ``name``; exit with gokart.run's codes."""
    import luigi.retcodes
    from luigi.cmdline_parser import CmdlineParser

    from gokart.core.error_messages import build_failure_message, describe_task
    from gokart.execution import executors
    from gokart.execution.progress import progress_listener

    try:
        executor = executors.executor_named(name)
    except GokartError as e:
        raise SystemExit(f'gokart.run: --executor {name}: {e}') from None
    with CmdlineParser.global_instance(cmdline_args) as parser:
        root = parser.get_task_obj()
        retcodes = luigi.retcodes.retcode()
        with progress_listener() as listener:
            outcome = executor.execute([root], listener, options)
    exceptions = outcome.exceptions_by_task()
    print(build_failure_message(outcome.summary(), {describe_task(t): e for t, e in exceptions.items()}), file=sys.stderr)
    sys.exit(executors.exit_code(executors.what_happened(outcome), retcodes))


__all__ = ['LUIGI_WORKER_NAMES', 'pop_executor_options', 'run_on_dask_and_exit', 'run_on_executor_and_exit']
