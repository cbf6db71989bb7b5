"""How the Dask executor cuts a plan into groups, each submitted as one Dask task.

One Dask task per gokart task pays Dask's own cost (a scheduler round trip, serialization, a
worker's bookkeeping: several milliseconds) for every task, which dwarfs a trivial task. So tasks
travel in groups:

- **Chains are fused.** A task whose only pending requirement has no other pending dependent runs
  right after it, in the same group: nothing could run them in parallel anyway.
- **Siblings are batched.** Chains of one *level* (the longest path of groups below them) never
  depend on each other; they are packed into groups up to a count and an estimated time. A group
  depends only on groups of lower levels, so the groups form a DAG.
- **Expensive tasks stay single**, so big tasks still spread over the workers. A task's cost is
  estimated from the ``processing_time`` records of its class on a local workspace (the median of a
  few); a class never run counts as cheap, and the count budget keeps enough groups per level to
  balance the workers.

``[gokart] dask_batch``: ``auto`` (the default), ``off`` (one Dask task per gokart task, keyed
``{family}-{unique_id}`` as before) or a number N (at most N tasks a group, chains included).
A group of one keeps the task's own key; a larger group's key names its families and counts, e.g.
``DaskLeaf_x6+DaskPair_x3-<digest>``, which Dask's dashboard shows as the group's name. Keys are
derived from the members' keys only, so two clients that plan the same DAG submit equal groups.
"""

from __future__ import annotations

import hashlib
import math
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gokart.core import settings
from gokart.execution.plan import Plan

CONFIG_SECTION, CONFIG_OPTION = settings.SECTION, 'dask_batch'

# A group of cheap tasks should take about this long: long enough that Dask's few milliseconds per
# task vanish, short enough that a killed worker loses little and the last group does not keep
# one worker busy while the others idle.
GROUP_SECONDS = 1.0
# A task estimated to take this long is its own Dask task: batching saves it nothing.
EXPENSIVE_SECONDS = 0.2
# auto: at most this many tasks a group, and at least this many groups a level per worker thread.
AUTO_MAX_COUNT = 256
GROUPS_PER_WORKER = 4
# How many processing_time records of a class are read for its estimate.
RECORDS_PER_CLASS = 5


@dataclass
class Group:
    """Plan indices run together, in an order where requirements come first."""

    members: list[int]
    key: str = ''
    upstream: list[int] = field(default_factory=list)  # indices of the groups it waits for
    level: int = 0


def batch_setting() -> int | None:
    """``[gokart] dask_batch``: None for off, 0 for auto, else the largest group."""
    return settings.value(CONFIG_OPTION)  # type: ignore[no-any-return]


def make_groups(plan: Plan, order: list[int], workers: int, setting: int | None, task_key: Any) -> list[Group]:
    """The groups of the tasks ``order`` lists (requirements first), listed so that a group comes after its upstream groups.

    ``task_key(task)`` is a task's Dask key; ``workers`` the cluster's worker threads.
    """
    nodes = plan.tasks
    if setting is None:
        singles = [Group([index], task_key(nodes[index].task)) for index in order]
        _link(singles, plan, {index: g for g, group in enumerate(singles) for index in group.members})
        return singles
    pending = set(order)
    costs = estimated_seconds([nodes[i].task for i in order])

    def cost(index: int) -> float:
        return costs.get(_class_key(nodes[index].task), 0.0)

    # Chains: a task joins the chain of its only pending requirement when it is that requirement's only pending dependent.
    cap = setting or AUTO_MAX_COUNT
    chain_of: dict[int, list[int]] = {}
    chains: list[list[int]] = []
    level_of_chain: dict[int, int] = {}  # id(chain) -> level
    level_of_task: dict[int, int] = {}
    for index in order:
        requirements = [r for r in nodes[index].requirements if r in pending]
        if len(requirements) == 1:
            previous = requirements[0]
            chain = chain_of[previous]
            only_dependent = sum(1 for d in nodes[previous].dependents if d in pending) == 1
            if only_dependent and chain[-1] == previous and len(chain) < cap:
                chain.append(index)
                chain_of[index] = chain
                level_of_task[index] = level_of_chain[id(chain)]
                continue
        chain = [index]
        chain_of[index] = chain
        chains.append(chain)
        level_of_chain[id(chain)] = level_of_task[index] = 1 + max((level_of_task[r] for r in requirements), default=-1)
    # A chain's later members have only the previous member as pending requirement, so a chain's
    # level, taken from its head, is above every chain it waits for.
    by_level: dict[int, list[list[int]]] = {}
    for chain in chains:
        by_level.setdefault(level_of_chain[id(chain)], []).append(chain)

    groups: list[Group] = []
    for level in sorted(by_level):
        level_chains = by_level[level]
        count = setting or max(1, min(AUTO_MAX_COUNT, math.ceil(sum(len(c) for c in level_chains) / (GROUPS_PER_WORKER * max(1, workers)))))
        current: list[int] = []
        seconds = 0.0
        for chain in level_chains:
            chain_seconds = sum(cost(i) for i in chain)
            if setting == 0 and chain_seconds >= EXPENSIVE_SECONDS:
                groups.append(Group(list(chain), level=level))
                continue
            if current and (len(current) + len(chain) > count or seconds + chain_seconds > GROUP_SECONDS):
                groups.append(Group(current, level=level))
                current, seconds = [], 0.0
            current.extend(chain)
            seconds += chain_seconds
        if current:
            groups.append(Group(current, level=level))
    where = {index: g for g, group in enumerate(groups) for index in group.members}
    for group in groups:
        group.key = group_key([nodes[i].task for i in group.members], task_key)
    _link(groups, plan, where)
    return groups


def _link(groups: list[Group], plan: Plan, where: dict[int, int]) -> None:
    for g, group in enumerate(groups):
        upstream = {where[r] for i in group.members for r in plan.tasks[i].requirements if r in where and where[r] != g}
        group.upstream = sorted(upstream)


def group_key(tasks: list[Any], task_key: Any) -> str:
    """A single task's own key; else the families with their counts and a digest of the members' keys."""
    if len(tasks) == 1:
        return str(task_key(tasks[0]))
    families = Counter(task.get_task_family() for task in tasks)
    label = '+'.join(f'{family}_x{count}' for family, count in sorted(families.items()))
    digest = hashlib.sha256('\n'.join(sorted(task_key(t) for t in tasks)).encode()).hexdigest()[:32]
    return f'{label}-{digest}'


def _class_key(task: Any) -> tuple[str, str]:
    return str(getattr(task, 'workspace_directory', '')), type(task).__name__


def estimated_seconds(tasks: list[Any]) -> dict[tuple[str, str], float]:
    """(workspace, class name) -> median ``processing_time`` of a few recorded runs of that class, for local workspaces.

    Remote workspaces are not asked: a listing there costs a round trip per thousand records, more
    than batching wins on small DAGs. An unreadable record is skipped (an estimate only).
    """
    from gokart.records import run_records
    from gokart.target import make_target

    wanted: dict[str, set[str]] = {}
    for workspace, name in {_class_key(task) for task in tasks}:
        if workspace and '://' not in workspace:
            wanted.setdefault(workspace, set()).add(name)
    found: dict[tuple[str, str], float] = {}
    for workspace, names in wanted.items():
        directory = run_records.directory(workspace, run_records.PROCESSING_TIME)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        picked: dict[str, list[str]] = {}
        for entry in entries:
            name = entry.rsplit('_', 1)[0]
            if name in names and entry.endswith('.pkl') and len(picked.setdefault(name, [])) < RECORDS_PER_CLASS:
                picked[name].append(entry)
        for name, entries_of_class in picked.items():
            values: list[float] = []
            for entry in entries_of_class:
                try:
                    value = make_target(os.path.join(directory, entry)).load()
                except Exception:
                    continue
                if isinstance(value, int | float):
                    values.append(float(value))
            if values:
                found[(workspace, name)] = statistics.median(values)
    return found


__all__ = ['CONFIG_OPTION', 'CONFIG_SECTION', 'Group', 'batch_setting', 'estimated_seconds', 'group_key', 'make_groups']
