"""Plan a build: which tasks of the DAG are already complete and which must run, in dependency order.

The walk is breadth first and iterative, so its cost is linear in the number of tasks and edges
and it has no recursion limit. As luigi does, the requirements of a complete task are not looked
at. Completion checks of one level run in threads when outputs are on remote storage, where each
check is a network round trip.
"""

from __future__ import annotations

import enum
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import luigi

from gokart.contracts.dag_check import check_contracts
from gokart.contracts.declarations import possibly_declared
from gokart.core import dag
from gokart.core.error_messages import describe_task
from gokart.execution.collisions import check_collisions
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace
from gokart.target import TargetOnKart
from gokart.utils import flatten

logger = logging.getLogger(__name__)

_REMOTE_CHECK_THREADS = 32


class TaskState(enum.Enum):
    COMPLETE = 'complete'  # outputs existed before the build
    PENDING = 'pending'  # must run
    MISSING_EXTERNAL = 'missing_external'  # an external task whose data is missing: nothing can make it
    BROKEN = 'broken'  # complete() or requires() raised


@dataclass
class PlannedTask:
    task: Any
    state: TaskState
    requirements: list[int] = field(default_factory=list)
    dependents: list[int] = field(default_factory=list)
    error: BaseException | None = None
    shared: bool = False  # COMPLETE through the shared workspace: some output is there and not in the own workspace


@dataclass
class Plan:
    """The tasks reachable from the roots through incomplete tasks; ``roots`` index ``tasks``."""

    tasks: list[PlannedTask]
    roots: list[int]

    def count(self, state: TaskState) -> int:
        return sum(1 for t in self.tasks if t.state is state)


def make_plan(roots: list[Any]) -> Plan:
    """The plan of a build of ``roots``; the requirements of each task are collected once (``dag.planning``)."""
    with dag.planning(), shared_workspace.verification_deferred():
        return _make_plan(roots)


def _make_plan(roots: list[Any]) -> Plan:
    index: dict[Any, int] = {}
    planned: list[PlannedTask] = []

    def add(task: Any) -> int:
        position = index.get(task)
        if position is None:
            position = index[task] = len(planned)
            planned.append(PlannedTask(task=task, state=TaskState.PENDING))
            frontier.append(position)
        return position

    frontier: list[int] = []
    # One event per edge adds up in a big DAG; skip them when nobody listens (luigi keeps the
    # handlers of every class in one mapping).
    announce_edges = any(luigi.Event.DEPENDENCY_DISCOVERED in handlers for handlers in luigi.Task._event_callbacks.values())
    root_positions = [add(root) for root in roots]
    while frontier:
        level, frontier = frontier, []
        for position, (complete, error, shared) in zip(level, _check_completion([planned[p].task for p in level]), strict=True):
            node = planned[position]
            if error is not None:
                node.state, node.error = TaskState.BROKEN, error
                continue
            if complete:
                node.state, node.shared = TaskState.COMPLETE, shared
                continue
            if _is_external(node.task):
                node.state = TaskState.MISSING_EXTERNAL
                node.task.trigger_event(luigi.Event.DEPENDENCY_MISSING, node.task)
                continue
            try:
                requirements = dag.requirements(node.task)
            except BaseException as e:
                node.state, node.error = TaskState.BROKEN, e
                continue
            for requirement in requirements:
                if announce_edges:
                    node.task.trigger_event(luigi.Event.DEPENDENCY_DISCOVERED, node.task, requirement)
                required = add(requirement)
                node.requirements.append(required)
                planned[required].dependents.append(position)
    check_collisions(node.task for node in planned)
    _check_contracts(planned, index)
    return Plan(tasks=planned, roots=root_positions)


def _check_contracts(planned: list[PlannedTask], index: dict[Any, int]) -> None:
    """Raise ``SchemaContractError`` when the declared frame contracts of the plan disagree, before anything runs."""
    if not possibly_declared():  # no task of this process declares a schema
        return

    def cached(task: Any) -> bool | None:
        position = index.get(task)
        return None if position is None else planned[position].state is TaskState.COMPLETE

    check_contracts((node.task for node in planned), cached).raise_if_broken()


def _check_completion(tasks: list[Any]) -> list[tuple[bool, BaseException | None, bool]]:
    """(complete, error, found through the shared workspace) of each task."""
    if len(tasks) == 1:
        return [_checked(tasks[0], None)]
    # One listing per output directory answers most existence checks of a wide level.
    locations = output_locations(tasks)
    known = storage.exists_many(path for path, _ in locations)
    if shared_workspace.enabled():  # what the own workspace lacks, asked of the shared one the same way
        shared_workspace.existence(location for location in locations if not known.get(location[0]))

    def check(task: Any) -> tuple[bool, BaseException | None, bool]:
        with storage.known_existence(known):
            return _checked(task, known)

    if any(_is_remote(t) for t in tasks[:8]):
        # What the listing did not answer is a network round trip each: overlap them.
        with ThreadPoolExecutor(max_workers=min(_REMOTE_CHECK_THREADS, len(tasks))) as pool:
            return list(pool.map(check, tasks))
    with storage.known_existence(known):
        return [_checked(t, known) for t in tasks]


def _checked(task: Any, known: dict[str, bool] | None) -> tuple[bool, BaseException | None, bool]:
    complete, error = _safe_complete(task)
    return complete, error, complete and shared_workspace.enabled() and found_in_shared(task, known)


def found_in_shared(task: Any, known: dict[str, bool] | None = None) -> bool:
    """Whether the complete ``task`` is complete through the shared workspace: one of its outputs is not in its own workspace."""
    for path, workspace in output_locations([task]):
        own = known.get(path) if known is not None else None
        if own is None:
            own = storage.exists(path)
        if not own and shared_workspace.exists_in_shared(path, workspace):
            return True
    return False


def output_paths(tasks: list[Any]) -> list[str]:
    """The paths of the gokart outputs of ``tasks``, for one ``storage.exists_many``; a task whose ``output()`` raises is skipped."""
    return [path for path, _ in output_locations(tasks)]


def output_locations(tasks: list[Any]) -> list[tuple[str, str | None]]:
    """(path, workspace directory) of each gokart output of ``tasks``; a task whose ``output()`` raises is skipped."""
    locations: list[tuple[str, str | None]] = []
    for task in tasks:
        try:
            locations.extend(
                (target.path(), getattr(target, '_workspace_directory', None))
                for target in flatten(task.output())
                if isinstance(target, TargetOnKart)
            )
        except Exception:
            continue  # complete() will raise the same error and report it
    return locations


def _safe_complete(task: Any) -> tuple[bool, BaseException | None]:
    try:
        return bool(task.complete()), None
    except Exception as e:
        logger.exception(f'complete() of {describe_task(task)} raised')
        return False, e


def _is_remote(task: Any) -> bool:
    workspace = getattr(task, 'workspace_directory', '')
    return isinstance(workspace, str) and '://' in workspace and not workspace.startswith('file://')


def _is_external(task: Any) -> bool:
    return getattr(task, 'run', None) is None
