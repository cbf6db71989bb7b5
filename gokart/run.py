"""``gokart.run``: luigi's command line with gokart's options and exit codes that say what happened."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import luigi
import luigi.execution_summary
import luigi.interface
import luigi.retcodes
from luigi.cmdline_parser import CmdlineParser
from luigi.task_register import Register, TaskClassNotFoundException

from gokart import worker as gokart_worker
from gokart.build import WorkerSchedulerFactory
from gokart.contracts.declarations import possibly_declared
from gokart.contracts.preflight import check_before_run
from gokart.core.error_messages import task_class_not_found_message
from gokart.errors import SchemaContractError, TaskClassNotFoundError
from gokart.execution import executors
from gokart.execution.dask_command import LUIGI_WORKER_NAMES, pop_executor_options, run_on_executor_and_exit
from gokart.execution.run_arguments import check_command_line
from gokart.execution.termination import BuildTerminated, terminate_on_sigterm
from gokart.object_storage import ObjectStorage
from gokart.worker import interruption_of

logger = logging.getLogger(__name__)


def run(cmdline_args: list[str] | None = None, set_retcode: bool = True) -> None:
    """Run a task from the command line (``python main.py pkg.Task --local-scheduler --param=v``); always exits.

    Exit codes: 0 success or already complete, 40 a task failed, 20 missing external data,
    30 not run, 50 scheduling error, 10 already running, 4 unhandled error.
    """
    cmdline_args = cmdline_args or sys.argv[1:]
    executor, dask_address, cmdline_args = pop_executor_options(cmdline_args)
    if set_retcode:
        _set_gokart_retcodes()
    with _task_classes_suggested():
        check_command_line(cmdline_args)  # a bad value of the root task raises, naming the flag, before anything runs

    if _handle_tree_info(cmdline_args):
        sys.exit(0)
    if _handle_delete_unnecessary_output_files(cmdline_args):
        sys.exit(0)
    _handle_test_run(cmdline_args)

    notifier = _start_slack_notifier()
    try:
        with terminate_on_sigterm():  # SIGTERM stops the build and its workers, then exits 143
            if executor is not None and executor not in LUIGI_WORKER_NAMES:
                run_on_executor_and_exit(cmdline_args, executor, {'dask_address': dask_address})
            _run_and_exit(cmdline_args)
    except SystemExit:
        if notifier is not None:
            _send_slack(notifier, cmdline_args)
        raise


@contextlib.contextmanager
def _task_classes_suggested() -> Iterator[None]:
    """luigi's TaskClassNotFoundException for an unknown root task, as gokart 1.12 raised it, suggesting task classes only."""
    try:
        yield
    except TaskClassNotFoundException as e:
        # luigi's text is 'No task NAME. Candidates are: ...': NAME may hold dots (mlpipe.compare.Compare), named whole.
        found = re.match(r'No task (\S+?)\.(?:\s|$)', str(e))
        if isinstance(e, TaskClassNotFoundError) or found is None:
            raise
        raise TaskClassNotFoundError(task_class_not_found_message(found.group(1), Register._get_reg())) from None


def _set_gokart_retcodes() -> None:
    retcode = luigi.retcodes.retcode
    retcode.already_running = 10  # type: ignore[assignment]
    retcode.missing_data = 20  # type: ignore[assignment]
    retcode.not_run = 30  # type: ignore[assignment]
    retcode.task_failed = 40  # type: ignore[assignment]
    retcode.scheduling_error = 50  # type: ignore[assignment]


def _root_task(cmdline_args: list[str]) -> Any:
    with CmdlineParser.global_instance(cmdline_args) as cp:
        return cp.get_task_obj()


def _handle_tree_info(cmdline_args: list[str]) -> bool:
    from gokart.info import tree_info

    with CmdlineParser.global_instance(cmdline_args) as cp:
        info = tree_info()
        mode = info.mode
        if not mode:
            return False
        if mode not in ('simple', 'all'):
            raise ValueError(f'--tree-info-mode must be "simple" or "all", but "{mode}" is passed.')
        from gokart.tree.task_info import make_task_info_as_tree_str

        task = cp.get_task_obj()
        text = make_task_info_as_tree_str(task, details=(mode == 'all'))
        target = info.output()
        target.dump(text)
        logger.info(f'output tree info: {target.path()}')
    return True


def _handle_delete_unnecessary_output_files(cmdline_args: list[str]) -> bool:
    with CmdlineParser.global_instance(cmdline_args) as cp:
        task = cp.get_task_obj()
        if not getattr(task, 'delete_unnecessary_output_files', False):
            return False
        from gokart.workspace_management import delete_local_unnecessary_outputs

        if ObjectStorage.if_object_storage_path(task.workspace_directory):
            logger.info('delete-unnecessary-output-files is not support s3/gcs.')
        else:
            delete_local_unnecessary_outputs(task)
    return True


def _handle_test_run(cmdline_args: list[str]) -> None:
    if not any(arg.startswith('--test-run-pandas') for arg in cmdline_args):
        return
    from gokart.testing.empty_data_frame_run import try_test_run  # only when asked for: it imports the test helpers

    try_test_run(cmdline_args, run_workflow=run)


def _start_slack_notifier() -> Any:
    try:
        from gokart.slack.notifier import RunNotifier
    except ImportError:
        return None
    try:
        notifier = RunNotifier.from_config()
        if notifier is None:
            logger.info('Slack notification is not activated.')  # gokart 1.12's record
        else:
            notifier.start()
        return notifier
    except Exception as e:
        logger.warning(f'Slack notification is not available: {e}')
        return None


def _send_slack(notifier: Any, cmdline_args: list[str]) -> None:
    try:
        task = _root_task(cmdline_args)
        tree = _slack_tree(task) if getattr(notifier, 'send_tree_info', False) else None
        notifier.send(task, tree_info=tree)
    except Exception as e:
        logger.warning(f'Slack notification failed: {e}')


def _slack_tree(task: Any) -> str:
    """The task tree of the Slack report: ``gokart.make_tree_info`` with details, as gokart 1.12 made it.

    Looked up on the package at each report, so a test that patches ``gokart.make_tree_info`` sees its tree sent.
    The package is imported already (this module is part of it); no import here, which would point upward.
    """
    package = sys.modules[__package__ or 'gokart']
    tree: str = package.make_tree_info(task, details=True)
    return tree


def _try_get_slack_api(cmdline_args: list[str]) -> Any:
    """gokart 1.12's helper: the ``SlackAPI`` that ``[SlackConfig]`` (with ``cmdline_args``) sets up, or None when it is off."""
    with CmdlineParser.global_instance(cmdline_args):
        try:
            from gokart.slack.notifier import RunNotifier
        except ImportError:
            return None
        notifier = RunNotifier.from_config()
        if notifier is None:
            return None
        notifier.start()
        return notifier.api


def _try_to_send_event_summary_to_slack(slack_api: Any, event_aggregator: Any, cmdline_args: list[str]) -> None:
    """gokart 1.12's helper: post ``event_aggregator``'s report of the root task of ``cmdline_args`` through ``slack_api``.

    Nothing happens without a ``slack_api``; the report (counts, events, tree when
    ``SlackConfig.send_tree_info``) is the one ``gokart.run`` sends.
    """
    if slack_api is None:
        return
    from gokart.slack.notifier import report_snippet
    from gokart.slack.slack_config import SlackConfig

    with CmdlineParser.global_instance(cmdline_args) as cp:
        task = cp.get_task_obj()
        tree = _slack_tree(task) if SlackConfig().send_tree_info else None
    slack_api.send_snippet(**report_snippet(type(task).__name__, event_aggregator, tree))


def _run_and_exit(cmdline_args: list[str]) -> None:
    with CmdlineParser.global_instance(cmdline_args):
        retcodes = luigi.retcodes.retcode()
    from gokart.execution.progress import luigi_progress
    from gokart.notebook.progress import for_this_process

    _check_contracts_or_exit(cmdline_args, retcodes.scheduling_error or retcodes.unhandled_exception)
    keep_tracebacks = _debug_logging_asked(cmdline_args)
    gokart_worker.quiet_interrupts = not keep_tracebacks  # read by the task processes forked from here
    try:
        with luigi_progress(cell_display=for_this_process()):
            worker = luigi.interface._run(cmdline_args, worker_scheduler_factory=WorkerSchedulerFactory()).worker
    except luigi.interface.PidLockAlreadyTakenExit:
        sys.exit(retcodes.already_running)
    except BuildTerminated:
        raise  # SIGTERM: exit 143 (see termination)
    except KeyboardInterrupt as e:
        _report_interruption(e, keep_tracebacks)
    except Exception:
        luigi.interface.InterfaceLogging.setup(luigi.interface.core())
        logging.getLogger('luigi-interface').exception('Uncaught exception in luigi')
        sys.exit(retcodes.unhandled_exception)

    with CmdlineParser.global_instance(cmdline_args):
        task_sets = luigi.execution_summary._summary_dict(worker)
        root_task = luigi.execution_summary._root_task(worker)
        if not luigi.interface.core().local_scheduler and gokart_worker.gokart_worker().count_work_of_other_workers:
            _count_work_of_other_workers_as_done(task_sets)
    code = executors.exit_code({status for status, tasks in task_sets.items() if tasks}, retcodes)
    if code == 0 and root_task not in task_sets['completed'] and root_task not in task_sets['already_done']:
        sys.exit(retcodes.not_run)
    sys.exit(code)


def _check_contracts_or_exit(cmdline_args: list[str], exit_code: int) -> None:
    """Exit with ``exit_code`` when declared frame contracts are broken (``gokart.Schema``), before luigi runs anything."""
    if not possibly_declared():
        return
    try:
        check_before_run([_root_task(cmdline_args)])
    except SchemaContractError as e:
        print(f'SchemaContractError: {e}', file=sys.stderr)
        sys.exit(exit_code)


def _debug_logging_asked(cmdline_args: list[str]) -> bool:
    """``--log-level=DEBUG`` (or ``--log-level DEBUG``) on the command line: keep every traceback of a Ctrl-C."""
    for position, argument in enumerate(cmdline_args):
        name, has_value, value = argument.partition('=')
        if name == '--log-level':
            given = value if has_value else (cmdline_args[position + 1] if position + 1 < len(cmdline_args) else '')
            return given.upper() == 'DEBUG'
    return False


def _report_interruption(error: KeyboardInterrupt, keep_tracebacks: bool) -> NoReturn:
    """One line per interrupted task and the count, then the KeyboardInterrupt gokart 1.12 lets out of a Ctrl-C.

    It stays a plain ``KeyboardInterrupt`` (a subclass would not do): Python exits by SIGINT, status
    130 in a shell, only for that exact type, as gokart 1.12 does. Its traceback is cut to gokart.run
    unless --log-level=DEBUG, which keeps luigi's.
    """
    interruption = interruption_of(error)
    if interruption is None:
        raise error
    lines = interruption.lines()
    # The count is the exception's message, printed last by Python; printed here too only before luigi's traceback.
    sys.stderr.write(''.join(f'{line}\n' for line in (lines if keep_tracebacks else lines[:-1])))
    sys.stderr.flush()
    if keep_tracebacks:
        raise error
    raise KeyboardInterrupt(lines[-1]) from None


def _count_work_of_other_workers_as_done(task_sets: dict[str, set[Any]]) -> None:
    """With luigid, tasks this worker left to other workers count as done when they are complete now.

    luigid hands each task to one worker; the others report it as "not granted run permission" or
    "run by other worker" even when it has finished since, so every worker but one would exit 30 or 10
    on a DAG that was built. Tasks still incomplete keep their status, and the exit code says so.
    """
    left_statuses = [
        status for status in task_sets if status.startswith(('still_pending', 'upstream_')) or status in ('not_run', 'run_by_other_worker')
    ]
    left = set().union(*(task_sets[status] for status in left_statuses))
    finished = {task for task in left if _is_complete(task)}
    for status in left_statuses:
        task_sets[status] = task_sets[status] - finished
    task_sets['already_done'] = task_sets['already_done'] | (finished - task_sets['completed'])


def _is_complete(task: Any) -> bool:
    try:
        return bool(task.complete())
    except Exception:  # a task whose completion cannot be checked is not done
        logger.warning(f'Could not check whether {task} is complete', exc_info=True)
        return False


__all__ = ['run']
