"""``InMemoryTarget``: a target whose value lives in ``InMemoryCacheRepository``, keyed by its ``path()``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gokart.conflict_prevention_lock.task_lock import TaskLockParams, make_task_lock_params
from gokart.in_memory.repository import InMemoryCacheRepository
from gokart.required_task_output import RequiredTaskOutput
from gokart.target import TargetOnKart

__all__ = ['InMemoryCacheRepository', 'InMemoryTarget', 'RequiredTaskOutput', 'make_in_memory_target']

_repository = InMemoryCacheRepository()


class InMemoryTarget(TargetOnKart):
    """Fast hand-over between tasks of one process; nothing is written to disk, so nothing survives the process."""

    def __init__(self, data_key: str, task_lock_param: TaskLockParams) -> None:
        if task_lock_param.should_task_lock:
            raise ValueError('Redis with `InMemoryTarget` is not currently supported.')
        self._data_key = data_key
        self._task_lock_params = task_lock_param

    def _exists(self) -> bool:
        return _repository.has(self._data_key)

    def _get_task_lock_params(self) -> TaskLockParams:
        return self._task_lock_params

    def _load(self) -> Any:
        return _repository.get_value(self._data_key)

    def _dump(self, obj: Any) -> None:
        _repository.set_value(self._data_key, obj)

    def _remove(self) -> None:
        _repository.remove(self._data_key)

    def _last_modification_time(self) -> datetime:
        if not _repository.has(self._data_key):
            raise ValueError(f'No object(s) which id is {self._data_key} are stored before.')
        return _repository.get_last_modification_time(self._data_key)

    def _path(self) -> str:
        return self._data_key


def make_in_memory_target(target_key: str, task_lock_params: TaskLockParams | None = None) -> InMemoryTarget:
    """An ``InMemoryTarget`` under ``target_key``; lock params with Redis on raise ``ValueError``."""
    params = task_lock_params if task_lock_params is not None else make_task_lock_params(file_path=target_key, unique_id=None)
    return InMemoryTarget(target_key, params)
