"""``--test-run-pandas``: run every task of a workflow once more with dumps turned off, and report each.

gokart 1.12's home of ``test_run`` and ``try_to_run_test_for_empty_data_frame``; the work is done in
``gokart.testing.empty_data_frame_run``, with ``gokart.run`` running the workflow.
"""

from __future__ import annotations

from luigi.cmdline_parser import CmdlineParser

from gokart.run import run
from gokart.testing import empty_data_frame_run
from gokart.testing.empty_data_frame_run import test_run
from gokart.utils import flatten

__all__ = ['CmdlineParser', 'flatten', 'run_test', 'test_run', 'try_to_run_test_for_empty_data_frame']


def try_to_run_test_for_empty_data_frame(cmdline_args: list[str]) -> None:
    """With ``--test-run-pandas``: run the workflow, then each task's run() with dump disabled; exit 0 or 1."""
    empty_data_frame_run.try_test_run(cmdline_args, run_workflow=run)


def run_test(cmdline_args: list[str], namespace: str | None = None) -> int:
    """Run the workflow of ``cmdline_args`` (``--test-run-*`` removed) with ``gokart.run``, then each task's ``run()`` with dump disabled.

    Only tasks whose ``task_namespace`` equals ``namespace`` are re-run when it is given; returns 1
    when any task raised, else 0 (see ``gokart.testing.empty_data_frame_run.run_test``).
    """
    return empty_data_frame_run.run_test(cmdline_args, namespace, run_workflow=run)
