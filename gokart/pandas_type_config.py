"""Column-type checks applied when a task dumps a pandas DataFrame."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import luigi
from luigi.task_register import Register

from gokart.errors import PandasTypeError


class PandasTypeConfig(luigi.Config):
    """Subclass with a ``task_namespace`` and ``type_dict()``; dumps of tasks in that namespace are checked."""

    @classmethod
    @abstractmethod
    def type_dict(cls) -> dict[str, Any]: ...

    @classmethod
    def check(cls, df: Any) -> None:
        for column_name, column_type in cls.type_dict().items():
            cls._check_column(df, column_name, column_type)

    @classmethod
    def _check_column(cls, df: Any, column_name: str, column_type: type) -> None:
        if column_name not in df.columns:
            return
        for value in df[column_name]:
            if not isinstance(value, column_type):
                raise PandasTypeError(f'expected type is "{column_type}", but "{type(value)}" is passed in column "{column_name}".')


class PandasTypeConfigMap(luigi.Config):
    """The PandasTypeConfig of each namespace, kept up to date with the classes defined so far.

    gokart 1.12 built the map once, at the first dump; configs defined later were ignored. Here it is
    rebuilt whenever the set of PandasTypeConfig subclasses changes.
    """

    _known: tuple[int, dict[str, type[PandasTypeConfig]]] = (-1, {})

    def check(self, obj: Any, task_namespace: str | None) -> None:
        check_pandas_types(obj, task_namespace)


def check_pandas_types(obj: Any, task_namespace: str | None) -> None:
    """Check a dumped DataFrame against the PandasTypeConfig of the dumping task's namespace, if there is one."""
    if type(obj).__module__.split('.')[0] != 'pandas':
        return
    import pandas as pd

    if not isinstance(obj, pd.DataFrame):
        return
    config = _config_map().get(str(task_namespace))
    if config is not None:
        config.check(obj)


def _config_map() -> dict[str, type[PandasTypeConfig]]:
    registered = Register._reg
    known_count, known = PandasTypeConfigMap._known
    if known_count == len(registered):
        return known
    mapping: dict[str, type[PandasTypeConfig]] = {}
    for task_class in registered:
        if isinstance(task_class, type) and issubclass(task_class, PandasTypeConfig) and task_class is not PandasTypeConfig:
            mapping[str(task_class.get_task_namespace() or '__not_user_specified')] = task_class
    PandasTypeConfigMap._known = (len(registered), mapping)
    return mapping


__all__ = ['PandasTypeConfig', 'PandasTypeConfigMap', 'PandasTypeError', 'check_pandas_types']
