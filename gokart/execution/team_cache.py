"""The team cache in a build: fetch the shared inputs a plan will load before running, push what ran when asked.

The mechanism itself (where a shared output lives, how it is found, fetched, verified and pushed)
is ``gokart.storage.shared_workspace``; this module applies it to a plan and to a task that ran.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gokart.core.error_messages import describe_task
from gokart.execution.plan import Plan, TaskState, output_locations
from gokart.ids import code_fingerprint
from gokart.records import run_records
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace

logger = logging.getLogger(__name__)

_FETCH_THREADS = 32


def planned_with_inputs_fetched(make_plan: Callable[[], Plan]) -> Plan:
    """The plan ``make_plan`` makes, once the shared outputs it will load are in the own workspace.

    A fetched file that is refused (tampered, unsigned with trusted keys set) or gone since it was
    listed makes its task incomplete, and so does a shared workspace that stops answering: the DAG is
    planned again, and those tasks run locally, their own inputs fetched in turn. Each round takes back
    at least one more file (or the whole shared workspace), so this ends.
    """
    shared_workspace.refresh()
    plan = make_plan()
    while shared_workspace.enabled():
        changes = shared_workspace.changes()
        fetch_inputs(plan)
        if shared_workspace.changes() == changes:
            break
        plan = make_plan()
    return plan


def inputs_to_fetch(plan: Plan) -> list[int]:
    """The shared hits of ``plan`` whose outputs the build loads: requirements of tasks that will run, and the roots."""
    wanted: set[int] = {i for i in plan.roots if plan.tasks[i].shared}
    for node in plan.tasks:
        if node.state is TaskState.PENDING:
            wanted.update(r for r in node.requirements if plan.tasks[r].shared)
    return sorted(wanted)


def fetch_inputs(plan: Plan) -> int:
    """Fetch, in parallel, the outputs of ``inputs_to_fetch(plan)`` not in the own workspace yet; the number fetched."""
    return fetch_outputs([plan.tasks[i].task for i in inputs_to_fetch(plan)])


def fetch_outputs(tasks: list[Any]) -> int:
    """Fetch the shared outputs of ``tasks`` missing from their own workspaces, ``_FETCH_THREADS`` at a time."""
    wanted = [(path, workspace) for path, workspace in output_locations(tasks) if not storage.exists(path)]
    if not wanted:
        return 0
    # Which have signature files, from one listing per directory (known already after a plan): no GET of a missing one.
    shared_workspace.existence(wanted)
    with ThreadPoolExecutor(max_workers=min(_FETCH_THREADS, len(wanted)), thread_name_prefix='gokart-fetch') as pool:
        done = list(pool.map(lambda location: shared_workspace.fetch(*location), wanted))
    return sum(done)


@dataclass
class PushReport:
    """What a push did, file by file (paths in the own workspace)."""

    pushed: list[str] = field(default_factory=list)
    already_shared: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)


def task_files(task: Any) -> list[str]:
    """The own-workspace files of ``task`` a push uploads: its outputs and the ``log/`` records of its run that exist."""
    files = [path for path, _ in output_locations([task])]
    for kind, extension in run_records.RUN_RECORDS:
        record = run_records.path(kind, task, extension)
        if storage.exists(record):
            files.append(record)
    return files


def push_task(task: Any, report: PushReport | None = None) -> PushReport:
    """Push the outputs and records of ``task`` to the shared workspace (conditional creates, signed when a key is set)."""
    report = report if report is not None else PushReport()
    unique_id = task.make_unique_id()
    fingerprint = code_fingerprint.code_fingerprint(type(task)) if getattr(task, 'code_fingerprint_check', False) else None
    for path in task_files(task):
        outcome = shared_workspace.push_file(path, task.workspace_directory, unique_id, fingerprint)
        if outcome == 'pushed':
            report.pushed.append(path)
        elif outcome == 'already shared':
            report.already_shared.append(path)
        elif outcome == 'differs':
            report.differing.append(path)
    return report


def push_after_run(task: Any) -> None:
    """With ``[gokart] shared_push = true``, push what ``task`` just wrote; a failure is a warning, never a failed build."""
    settings = shared_workspace.settings()
    if not settings.push or settings.workspace is None or not isinstance(getattr(task, 'workspace_directory', None), str):
        return
    if shared_workspace.unreachable():  # warned about once already: the build goes on with its own workspace
        return
    try:
        outputs = output_locations([task])
        if not outputs or not all(storage.exists(path) for path, _ in outputs):
            return  # it failed or wrote nothing: its records alone are not worth sharing
        report = push_task(task)
    except OSError as error:  # the store did not answer (StorageUnavailableError), refused us, or has no such bucket
        shared_workspace.mark_unreachable(error)
        return
    except Exception as error:
        warnings.warn(
            f'pushing {describe_task(task)} to the shared workspace {settings.workspace} failed ({type(error).__name__}: {error}); '
            'its outputs stay in the own workspace (push them later with gokart cache push).',
            shared_workspace.SharedWorkspaceWarning,
            stacklevel=2,
        )
        return
    if report.differing:
        warnings.warn(
            f'{describe_task(task)}: left {len(report.differing)} file(s) in the shared workspace as they are, because their content '
            f"differs from this run's: {', '.join(report.differing)}",
            shared_workspace.SharedWorkspaceWarning,
            stacklevel=2,
        )
