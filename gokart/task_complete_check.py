"""``task_complete_check_wrapper``: run a task's ``run`` only when its outputs are not there yet."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def task_complete_check_wrapper(run_func: Callable[..., Any], complete_check_func: Callable[..., Any]) -> Callable[..., Any]:
    """``run_func`` made to return None without running when ``complete_check_func()`` is true.

    Another worker or process may have produced the outputs between scheduling and running
    (``complete_check_at_run``); running again would only redo and overwrite its work.
    """

    @functools.wraps(run_func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if complete_check_func():
            logger.warning(f'{getattr(run_func, "__name__", run_func)} is skipped because the task is already completed.')
            return None
        return run_func(*args, **kwargs)

    return wrapper
