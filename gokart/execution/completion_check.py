"""The completion check right before a task runs, owned by the executor, under the task's run lock.

A task found incomplete when the DAG was planned may be complete by the time it is run: another
process or an upstream task wrote its output meanwhile. The executor (``execution.local.run_task``,
and ``gokart.worker`` on the luigi path) takes the task's run lock (``gokart.run_locks``), checks
``complete()`` under it, and runs the task only when it is still incomplete:

- a task with ``complete_check_at_run`` (the default) found complete under a run lock is skipped
  without events: another process ran it while this one waited;
- otherwise the check follows gokart 1.12's worker: ``complete_check_at_run`` or
  ``[gokart_worker] task_completion_check_at_run`` (default true) make it skip a complete task with
  a warning, its START and SUCCESS events still firing.

``run()`` is then called with the executor marked as its checker (``run_locks.ownership``), so the
task's own ``run()`` wrapper does not look at its outputs a second time; called any other way
(``task.run()`` in a user's test), that wrapper still checks, as in gokart 1.12.
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

    Checked when the task asks for it (``complete_check_at_run``) or the config option is on.
    """
    if not getattr(task, 'complete_check_at_run', False) and not (completion_check_enabled() if enabled is None else enabled):
        return False
    if not task.complete():
        return False
    logger.warning(f'{task} is skipped because it has already been completed.')
    return True


def complete_if_checked(task: Any) -> bool | None:
    """Whether a task with ``complete_check_at_run`` is complete now; None when it does not ask, or the check failed.

    A failed check is left to ``completed_before_run``, which raises it again between the task's
    START and FAILURE events.
    """
    if not getattr(task, 'complete_check_at_run', True):
        return None
    try:
        return bool(task.complete())
    except Exception:
        return None
