"""PandasTypeConfig: column types checked when a task of the config's namespace dumps a pandas DataFrame."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import gokart
from gokart.errors import PandasTypeError
from gokart.pandas_type_config import PandasTypeConfig


class TypedColumns(PandasTypeConfig):
    task_namespace = 'typed_columns'

    @classmethod
    def type_dict(cls) -> dict[str, Any]:
        return {'int_column': int, 'str_column': str}


class DumpFrame(gokart.TaskOnKart[pd.DataFrame]):
    task_namespace = 'typed_columns'
    frame: Any = None

    def run(self) -> None:
        self.dump(self.frame)


def dump(task_class: type[gokart.TaskOnKart[Any]], frame: Any) -> Any:
    task = task_class(complete_check_at_run=False)  # dump again even when an earlier test left the output
    task.frame = frame
    task.run()
    return task.output().load()


def test_a_frame_with_the_declared_types_is_dumped() -> None:
    frame = pd.DataFrame({'int_column': [1, 2], 'str_column': ['a', 'b']})
    pd.testing.assert_frame_equal(dump(DumpFrame, frame), frame)


def test_a_value_of_another_type_is_rejected_with_its_column() -> None:
    frame = pd.DataFrame({'int_column': [1, 'x']})
    with pytest.raises(PandasTypeError) as raised:
        dump(DumpFrame, frame)
    assert str(raised.value) == 'expected type is "<class \'int\'>", but "<class \'str\'>" is passed in column "int_column".'


def test_missing_columns_and_unlisted_columns_are_not_checked() -> None:
    frame = pd.DataFrame({'other': [1, 'mixed']})
    pd.testing.assert_frame_equal(dump(DumpFrame, frame), frame)


def test_other_namespaces_and_other_objects_are_not_checked() -> None:
    class Elsewhere(DumpFrame):
        task_namespace = 'not_typed'

    frame = pd.DataFrame({'int_column': ['not an int']})
    pd.testing.assert_frame_equal(dump(Elsewhere, frame), frame)
    assert dump(DumpFrame, {'int_column': ['x']}) == {'int_column': ['x']}


def test_a_config_defined_after_the_first_dump_applies() -> None:
    # gokart 1.12 built the namespace map at the first dump and ignored configs defined later.
    class LateTask(DumpFrame):
        task_namespace = 'late_namespace'

    frame = pd.DataFrame({'price': ['12']})
    pd.testing.assert_frame_equal(dump(LateTask, frame), frame)

    class LateConfig(PandasTypeConfig):
        task_namespace = 'late_namespace'

        @classmethod
        def type_dict(cls) -> dict[str, Any]:
            return {'price': float}

    with pytest.raises(PandasTypeError, match='in column "price"'):
        dump(LateTask, frame)


def test_tasks_without_a_namespace_use_the_config_without_one() -> None:
    class Unnamespaced(PandasTypeConfig):
        @classmethod
        def type_dict(cls) -> dict[str, Any]:
            return {'flag_column_for_unnamespaced_test': bool}

    class PlainTask(gokart.TaskOnKart[pd.DataFrame]):
        frame: Any = None

        def run(self) -> None:
            self.dump(self.frame)

    with pytest.raises(PandasTypeError, match='flag_column_for_unnamespaced_test'):
        dump(PlainTask, pd.DataFrame({'flag_column_for_unnamespaced_test': [1]}))
