"""Helpers for testing gokart pipelines: ``--test-run-pandas`` and order-insensitive frame assertions."""

from gokart.testing.check_if_run_with_empty_data_frame import run_test, test_run, try_to_run_test_for_empty_data_frame
from gokart.testing.pandas_assert import assert_frame_contents_equal

__all__ = ['test_run', 'try_to_run_test_for_empty_data_frame', 'run_test', 'assert_frame_contents_equal']
