"""A process-wide store of values with the time each was written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from gokart.in_memory.data import InMemoryData


class InMemoryCacheRepository:
    """Every instance shares one dict: an ``InMemoryTarget`` written anywhere in the process is seen everywhere in it."""

    _cache: ClassVar[dict[str, InMemoryData]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def get_value(self, key: str) -> Any:
        return self._get_data(key).value

    def get_last_modification_time(self, key: str) -> datetime:
        return self._get_data(key).last_modification_time

    def set_value(self, key: str, obj: Any) -> None:
        with self._guard:
            self._cache[key] = InMemoryData.create_data(obj)

    def has(self, key: str) -> bool:
        return key in self._cache

    def remove(self, key: str) -> None:
        with self._guard:
            assert key in self._cache, f'{key} does not exist.'
            del self._cache[key]

    def empty(self) -> bool:
        return not self._cache

    def clear(self) -> None:
        with self._guard:
            self._cache.clear()

    def get_gen(self) -> Iterator[tuple[str, Any]]:
        """Every (key, value) in the cache, in the order they were first written (gokart 1.12's iterator)."""
        for key, data in list(self._cache.items()):  # a copy: a dump elsewhere must not break the iteration
            yield key, data.value

    @property
    def size(self) -> int:
        return len(self._cache)

    def _get_data(self, key: str) -> InMemoryData:
        try:
            return self._cache[key]
        except KeyError:
            raise KeyError(f'{key} is not in the in-memory cache: dump it first.') from None
