"""The body of ``--test-run-pandas``: run the workflow, then call every task's ``run()`` again without writing anything.

The second pass checks that each task's code still runs end to end against what its requirements
left behind, without touching the outputs; the log lists each task as OK or NG.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import luigi
from luigi.cmdline_parser import CmdlineParser

from gokart.core import dag
from gokart.task import TaskOnKart

logger = logging.getLogger(__name__)

UNSPECIFIED_NAMESPACE = '__not_user_specified'
_TEST_RUN_PREFIX = '--test-run-'


@dataclass(frozen=True)
class TestRunResult:
    """What happened when one task's ``run()`` was called again."""

    __test__ = False  # not a pytest test class

    namespace: str
    name: str
    unique_id: str
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        text = f'status={"OK" if self.ok else "NG"}; namespace={self.namespace}; name={self.name}; id={self.unique_id};'
        if self.error is not None:
            text += f' message={type(self.error)}: {self.error}'
        return text


class test_run(TaskOnKart[Any]):  # noqa: N801 - the name is the command-line prefix --test-run-*
    """Holder of ``--test-run-pandas`` and ``--test-run-namespace``."""

    __test__ = False  # not a pytest test class
    pandas: bool = luigi.BoolParameter()  # type: ignore[assignment]
    namespace: str | None = luigi.OptionalParameter(default=None, description='namespace of tasks to test')  # type: ignore[assignment]


def try_test_run(cmdline_args: list[str], *, run_workflow: Callable[[list[str]], Any]) -> None:
    """With ``--test-run-pandas`` in ``cmdline_args``: ``run_test``, then exit 0 or 1; without it, nothing.

    ``run_workflow`` is ``gokart.run``, passed in by its callers (``gokart.run`` itself among them).
    """
    with CmdlineParser.global_instance(cmdline_args):
        settings = test_run()
    if not settings.pandas:
        return
    sys.exit(run_test(cmdline_args, settings.namespace, run_workflow=run_workflow))


def run_test(cmdline_args: list[str], namespace: str | None = None, *, run_workflow: Callable[[list[str]], Any]) -> int:
    """Run the workflow of ``cmdline_args`` (``--test-run-*`` removed), then each task's ``run()`` with dump disabled.

    Only tasks whose ``task_namespace`` equals ``namespace`` are re-run when it is given. Logs
    ``gokart test results:`` and one line per task, and returns 1 when any task raised, else 0.
    The workflow runs through ``run_workflow`` (``gokart.run``).
    """
    workflow_args = strip_test_run_arguments(cmdline_args)
    exit_code = _exit_code(run_workflow, workflow_args)
    assert exit_code == 0, f'the workflow did not succeed before the test run (exit code {exit_code}).'
    with CmdlineParser.global_instance(workflow_args) as parser:
        root = parser.get_task_obj()
    tasks = [task for task in collect_tasks(root) if namespace is None or namespace_of(task) == namespace]
    results = [_run_without_dump(task) for task in tasks]
    _report('\n'.join(['gokart test results:'] + [result.line() for result in results]))
    return 0 if all(result.ok for result in results) else 1


def strip_test_run_arguments(cmdline_args: list[str]) -> list[str]:
    """``cmdline_args`` without ``--test-run-pandas``, ``--test-run-namespace=ns`` or ``--test-run-namespace ns``."""
    stripped: list[str] = []
    skip_value = False
    for arg in cmdline_args:
        if skip_value:
            skip_value = False
            continue
        if arg.startswith(_TEST_RUN_PREFIX):
            # A value-taking option given as two words carries its value in the next argument.
            skip_value = '=' not in arg and arg != '--test-run-pandas'
            continue
        stripped.append(arg)
    return stripped


def collect_tasks(root: Any) -> list[Any]:
    """Every gokart task of the tree under ``root``, root first, depth first, each task once."""
    return list(
        dag.walk(
            [root],
            key=lambda task: f'{task.get_task_family()}_{task.make_unique_id()}',
            include=lambda task: isinstance(task, TaskOnKart),
        )
    )


def namespace_of(task: Any) -> str:
    """The task's namespace, ``__not_user_specified`` for a task that sets none."""
    return str(task.task_namespace) if task.task_namespace else UNSPECIFIED_NAMESPACE


def _report(text: str) -> None:
    # The results are the point of the command: show them at INFO even when nothing configured logging,
    # through a temporary stderr handler (as the tree info of gokart.build is shown).
    if logger.hasHandlers():
        logger.info(text)
        return
    handler = logging.StreamHandler()
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info(text)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def _exit_code(run_workflow: Callable[[list[str]], Any], workflow_args: list[str]) -> int:
    try:
        run_workflow(workflow_args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def _run_without_dump(task: Any) -> TestRunResult:
    result = TestRunResult(namespace=namespace_of(task), name=type(task).__name__, unique_id=task.make_unique_id())
    with mock.patch.object(TaskOnKart, 'dump', _dump_nothing):
        try:
            task.run()
        except Exception as e:
            return TestRunResult(result.namespace, result.name, result.unique_id, error=e)
    return result


def _dump_nothing(self: Any, obj: Any, target: Any = None, custom_labels: Any = None) -> None:
    """Stands in for ``TaskOnKart.dump`` during the test run: outputs stay as the workflow left them."""


__all__ = ['TestRunResult', 'collect_tasks', 'namespace_of', 'run_test', 'strip_test_run_arguments', 'test_run', 'try_test_run']
