"""Frame assertions that ignore row and column order."""

from __future__ import annotations

from typing import Any


def assert_frame_contents_equal(actual: Any, expected: Any, **kwargs: Any) -> None:
    """Assert two DataFrames hold the same rows and columns, in any order; ``kwargs`` go to ``assert_frame_equal``."""
    import pandas as pd

    assert isinstance(actual, pd.DataFrame), f'actual is not a DataFrame: {type(actual)}'
    assert isinstance(expected, pd.DataFrame), f'expected is not a DataFrame: {type(expected)}'
    assert actual.index.is_unique, 'actual index is not unique'
    assert expected.index.is_unique, 'expected index is not unique'
    assert actual.columns.is_unique, 'actual columns is not unique'
    assert expected.columns.is_unique, 'expected columns is not unique'
    assert set(actual.columns) == set(expected.columns), 'columns are not equal'
    assert set(actual.index) == set(expected.index), 'indexes are not equal'
    pd.testing.assert_frame_equal(actual, expected.reindex(actual.index)[actual.columns], **kwargs)
