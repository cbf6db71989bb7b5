"""Helpers for testing gokart pipelines."""

from gokart.testing.check_if_run_with_empty_data_frame import test_run, try_to_run_test_for_empty_data_frame
from gokart.testing.pandas_assert import assert_frame_contents_equal

__all__ = ['test_run', 'try_to_run_test_for_empty_data_frame', 'assert_frame_contents_equal']
