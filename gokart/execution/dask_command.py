"""``gokart.run ... --executor dask --dask-address tcp://host:8786``: the command line on a Dask cluster.

luigi's command line does not know these two options, so they are taken out of the arguments
before luigi parses them. The root task is then built by the Dask executor instead of luigi's
worker, and the process exits with gokart.run's codes.
"""

from __future__ import annotations

import sys

from gokart.core import settings

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


def run_on_dask_and_exit(cmdline_args: list[str], address: str | None) -> None:
    """Build the command line's root task on Dask; exit 0 when built, 40 on a failure, 20 missing data, 30 not run."""
    import luigi.retcodes
    from luigi.cmdline_parser import CmdlineParser

    from gokart.core.error_messages import build_failure_message, describe_task
    from gokart.execution.dask_executor import execute_on_dask
    from gokart.execution.progress import progress_listener

    with CmdlineParser.global_instance(cmdline_args) as parser:
        root = parser.get_task_obj()
        retcodes = luigi.retcodes.retcode()
        with progress_listener() as listener:
            outcome = execute_on_dask([root], address=address, listener=listener)
    exceptions = outcome.exceptions_by_task()
    print(build_failure_message(outcome.summary(), {describe_task(t): e for t, e in exceptions.items()}), file=sys.stderr)
    if exceptions:
        sys.exit(retcodes.task_failed)
    if outcome.missing_external:
        sys.exit(retcodes.missing_data)
    if outcome.not_run:
        sys.exit(retcodes.not_run)
    sys.exit(0)


__all__ = ['pop_executor_options', 'run_on_dask_and_exit']
