"""``gokart cache push|pull|status MODULE:TASK``: a DAG's place in the team cache (``[gokart] shared_workspace``).

- ``status`` lists every task of the DAG as ``local`` (all its outputs in its own workspace),
  ``shared`` (in the shared workspace only), ``both`` or ``missing``; one listing per directory on
  either side.
- ``push`` uploads the outputs and ``log/`` records of the DAG's tasks that are complete locally and
  not yet shared, with conditional creates (never overwriting), signed with ``[gokart]
  shared_signing_key`` when set; it names the files it left because the shared copy differs.
  ``--dry-run`` lists them and uploads nothing.
- ``pull`` fetches what a build of the task would load from the shared workspace (what ``gokart.build``
  fetches before running), so the build can then run offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gokart.core import dag
from gokart.core.error_messages import describe_task
from gokart.execution import team_cache
from gokart.execution.plan import make_plan, output_locations
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace

ACTIONS = ('push', 'pull', 'status')


@dataclass
class TaskPlace:
    """Where a task's outputs are: ``local``, ``shared``, ``both`` or ``missing``."""

    task: Any
    place: str


def status(root: Any) -> list[TaskPlace]:
    """Each task of ``root``'s DAG (depth first, a task before its requirements) with where its outputs are."""
    shared_workspace.refresh()
    tasks = list(dag.walk([root], key=_identity))
    locations = output_locations(tasks)
    own = storage.exists_many(path for path, _ in locations)
    shared_workspace.existence(locations)
    places = []
    with shared_workspace.verification_deferred():
        for task in tasks:
            mine = output_locations([task])
            local = bool(mine) and all(own.get(path, False) for path, _ in mine)
            shared = bool(mine) and all(shared_workspace.exists_in_shared(path, workspace) for path, workspace in mine)
            places.append(TaskPlace(task, 'both' if local and shared else 'local' if local else 'shared' if shared else 'missing'))
    return places


def push(root: Any, dry_run: bool = False) -> tuple[list[Any], team_cache.PushReport]:
    """Push the tasks of ``root``'s DAG that are ``local`` (not ``both``); the tasks and what was done with their files."""
    places = status(root)
    tasks = [place.task for place in places if place.place == 'local']
    report = team_cache.PushReport()
    if dry_run:
        for task in tasks:
            report.pushed.extend(team_cache.task_files(task))
        return tasks, report
    for task in tasks:
        team_cache.push_task(task, report)
    return tasks, report


def pull(root: Any) -> list[str]:
    """Fetch the shared outputs a build of ``root`` would load; the paths of those now in the own workspace."""
    plan = team_cache.planned_with_inputs_fetched(lambda: make_plan([root]))
    loaded = [plan.tasks[index].task for index in team_cache.inputs_to_fetch(plan)]
    return [path for path, _ in output_locations(loaded) if storage.exists(path)]


def run(action: str, root: Any, dry_run: bool) -> int:
    """The ``gokart cache`` command: print, and return the exit status."""
    settings = shared_workspace.refresh()
    if settings.workspace is None:
        print(
            'gokart cache: no shared workspace is set: set [gokart] shared_workspace in the luigi config '
            f'or {shared_workspace.WORKSPACE_VARIABLE} (e.g. s3://team/gokart-cache).'
        )
        return 2
    if action == 'status':
        places = status(root)
        for place in places:
            print(f'{place.place:<8} {describe_task(place.task)}')
        counts = {name: sum(1 for p in places if p.place == name) for name in ('local', 'shared', 'both', 'missing')}
        print(', '.join(f'{count} {name}' for name, count in counts.items()) + f' (shared workspace {settings.workspace})')
        return 0
    if action == 'push':
        tasks, report = push(root, dry_run)
        verb = 'would push' if dry_run else 'pushed'
        for path in report.pushed:
            print(f'{verb} {path}')
        for path in report.differing:
            print(f'left {path}: the shared workspace holds different content at its place')
        print(
            f'{verb} {len(report.pushed)} file(s) of {len(tasks)} task(s) to {settings.workspace}'
            + (f'; {len(report.already_shared)} already there' if report.already_shared else '')
            + (f'; left {len(report.differing)} that differ' if report.differing else '')
        )
        return 0
    pulled = pull(root)
    print(f'{len(pulled)} output(s) a build of {describe_task(root)} loads are in its workspace (from {settings.workspace})')
    refused = shared_workspace.refused()
    for path, reason in refused.items():
        print(f'not used: {path}: {reason}')
    return 0


def _identity(task: Any) -> Any:
    return task


__all__ = ['ACTIONS', 'TaskPlace', 'pull', 'push', 'run', 'status']
