"""``--test-run-pandas``: run every task of a workflow once more with dumps turned off, and report each."""

from __future__ import annotations

import logging
import sys
from typing import Any

import luigi
from luigi.cmdline_parser import CmdlineParser

from gokart.task import TaskOnKart
from gokart.utils import flatten

__all__ = ['CmdlineParser', 'flatten', 'test_run', 'try_to_run_test_for_empty_data_frame']

logger = logging.getLogger(__name__)


class test_run(TaskOnKart[Any]):  # noqa: N801 - the name is the command-line prefix --test-run-*
    """Holder of ``--test-run-pandas`` and ``--test-run-namespace``."""

    __test__ = False  # not a pytest test class
    pandas: bool = luigi.BoolParameter()  # type: ignore[assignment]
    namespace: str | None = luigi.OptionalParameter(default=None, description='namespace of tasks to test')  # type: ignore[assignment]


def try_to_run_test_for_empty_data_frame(cmdline_args: list[str]) -> None:
    """With ``--test-run-pandas``: run the workflow, then each task's run() with dump disabled; exit 0 or 1."""
    from gokart.testing.empty_data_frame_run import run_test

    with CmdlineParser.global_instance(cmdline_args):
        settings = test_run()
    if not settings.pandas:
        return
    sys.exit(run_test(cmdline_args, settings.namespace))
