"""The completion check right before a task runs: ``[gokart_worker] task_completion_check_at_run``.

A task found incomplete when the DAG was planned may be complete by the time it is run: another
process or an upstream task wrote its output meanwhile. gokart 1.12's worker checks ``complete()``
again just before ``run()`` and skips the run when it is complete (its events still fire), unless
``task_completion_check_at_run = false``. A task with ``complete_check_at_run`` checks itself in
its ``run()`` wrapper, so both the luigi worker and our executor check only the other tasks here.
"""

from __future__ import annotations

import logging
from typing import Any

from gokart.utils import config_section

logger = logging.getLogger(__name__)

SECTION = 'gokart_worker'
OPTION = 'task_completion_check_at_run'


def completion_check_enabled() -> bool:
    """The ``[gokart_worker] task_completion_check_at_run`` option of the luigi config (default true)."""
    section = config_section(SECTION)
    value = None if section is None else section.get(OPTION)
    if value is None:
        return True
    text = value.strip().lower()
    if text not in ('true', 'false'):
        raise ValueError(f'[{SECTION}] {OPTION} must be true or false, not {value!r}: fix the luigi config file.')
    return text == 'true'


def completed_before_run(task: Any, enabled: bool | None = None) -> bool:
    """True when ``task`` must not run because it is complete now; ``enabled`` overrides the config option.

    Tasks whose own ``run()`` checks completion (``complete_check_at_run``) are left to that check,
    which spares a second look at their outputs.
    """
    if getattr(task, 'complete_check_at_run', False):
        return False
    if not (completion_check_enabled() if enabled is None else enabled):
        return False
    if not task.complete():
        return False
    logger.warning(f'{task} is skipped because it has already been completed.')
    return True
