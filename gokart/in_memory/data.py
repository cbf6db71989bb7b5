"""``InMemoryData``: one value kept by ``InMemoryCacheRepository``, with the time it was written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InMemoryData:
    """A stored value and its write time, which ``InMemoryTarget.last_modification_time()`` reports."""

    value: Any
    last_modification_time: datetime

    @classmethod
    def create_data(cls, value: Any) -> InMemoryData:
        """``value`` stamped with the current time."""
        return cls(value=value, last_modification_time=datetime.now())
