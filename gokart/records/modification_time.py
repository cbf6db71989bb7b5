"""Input modification times for ``modification_time_check``, ignoring (with a warning) times in the future.

With ``modification_time_check`` a task is complete only when no input is newer than its outputs.
An input whose modification time lies in the future (a clock that runs ahead on the machine that wrote
it, or a timestamp copied from elsewhere) stays newer than any output written now, so its downstream
ran again on every build, for as long as that time was ahead. Such an input is named in a warning
(once per path) and left out of the comparison: gokart cannot tell when it really changed.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterable
from typing import Any

from gokart.core.error_messages import describe_task

# Clocks of different machines (an object store's, this one's) disagree by a little; only an input
# more than this far ahead counts as coming from the future.
FUTURE_TOLERANCE = datetime.timedelta(seconds=60)


class FutureModificationTimeWarning(UserWarning):
    """An input's modification time lies in the future, so ``modification_time_check`` ignores it."""


_warned: set[str] = set()


def newest_input_time(task: Any, inputs: Iterable[Any]) -> datetime.datetime | None:
    """The latest modification time of ``inputs`` that is not in the future; None when there is none."""
    times = [(target, target.last_modification_time()) for target in inputs]
    if not times:
        return None
    limit = datetime.datetime.now(datetime.timezone.utc) + FUTURE_TOLERANCE
    past = []
    for target, time in times:
        if _aware(time) > limit:
            _warn_once(task, target.path(), time)
        else:
            past.append(time)
    return max(past) if past else None


def _aware(time: datetime.datetime) -> datetime.datetime:
    return time if time.tzinfo is not None else time.astimezone()  # naive times are local


def _warn_once(task: Any, path: str, time: datetime.datetime) -> None:
    if path in _warned:
        return
    _warned.add(path)
    warnings.warn(
        f'{describe_task(task)}: the input {path} was modified at {time.isoformat()}, which lies in the future, so '
        'modification_time_check cannot tell whether it is newer than the outputs and ignores it (otherwise the task would '
        'run again on every build). Fix the clock of the machine that wrote it, or touch the file.',
        FutureModificationTimeWarning,
        stacklevel=2,
    )


__all__ = ['FutureModificationTimeWarning', 'newest_input_time', 'FUTURE_TOLERANCE']
