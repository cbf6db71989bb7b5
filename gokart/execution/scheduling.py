"""The scheduling core every executor shares: which tasks of a plan may start, what a result releases, how a build ends.

An executor decides *where* a task runs (this process, forked workers, threads, a Dask cluster, a
third party's engine); this module decides *when* it may: a pending task is ready once every
requirement that was not complete at planning has succeeded. A failed task releases nothing, so
everything downstream of it stays pending and ends as not run, while independent branches go on.
The listener (the progress display) hears of each start, finish and put-aside from here, so every
executor reports progress alike; ``settle`` fills in what did not run and tells a cycle from a
failure. The local executor and the Dask executor both schedule through ``ReadySet``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from gokart.core.error_messages import describe_task
from gokart.errors import DependencyCycleError
from gokart.execution.plan import Plan, TaskState


class ExecutionListener(Protocol):
    """Receives progress of a build (the progress display implements it)."""

    def planned(self, plan: Plan) -> None: ...

    def started(self, task: Any) -> None: ...

    def finished(self, task: Any, succeeded: bool) -> None: ...

    def put_aside(self, task: Any) -> None:
        """Another process holds ``task``'s run lock: it is no longer running here, and will be started again later."""


@dataclass
class BuildOutcome:
    """What happened to each task of a build."""

    plan: Plan
    succeeded: list[Any] = field(default_factory=list)
    failed: dict[int, BaseException] = field(default_factory=dict)
    not_run: list[int] = field(default_factory=list)
    cut_off: dict[int, str] = field(default_factory=dict)  # tasks early cutoff spared, with the run their outputs came from

    @property
    def ok(self) -> bool:
        return not self.failed and not any(t.state is TaskState.BROKEN for t in self.plan.tasks)

    @property
    def missing_external(self) -> list[Any]:
        return [t.task for t in self.plan.tasks if t.state is TaskState.MISSING_EXTERNAL]

    def exceptions_by_task(self) -> dict[Any, BaseException]:
        found = {self.plan.tasks[i].task: e for i, e in self.failed.items()}
        for node in self.plan.tasks:
            if node.state is TaskState.BROKEN and node.error is not None:
                found[node.task] = node.error
        return found

    def _ran(self) -> list[Any]:
        spared = {id(self.plan.tasks[i].task) for i in self.cut_off}
        return [t for t in self.succeeded if id(t) not in spared]

    def summary(self) -> str:
        plan = self.plan
        lines = ['', '===== gokart Execution Summary =====', '', f'Scheduled {len(plan.tasks)} tasks of which:']
        complete = [t.task for t in plan.tasks if t.state is TaskState.COMPLETE]
        for label, tasks in (
            ('complete ones were encountered', complete),
            ('ran successfully', self._ran()),
            ('failed', [plan.tasks[i].task for i in self.failed] + [t.task for t in plan.tasks if t.state is TaskState.BROKEN]),
            ('were left pending because a dependency failed or is missing', [plan.tasks[i].task for i in self.not_run]),
            ('external dependencies are missing', self.missing_external),
        ):
            if tasks:
                lines.append(f'* {len(tasks)} {label}:')
                lines.extend(f'    - {describe_task(t)}' for t in tasks[:20])
                if len(tasks) > 20:
                    lines.append(f'    - ... and {len(tasks) - 20} more')
        if self.cut_off:
            lines.append(f'* {len(self.cut_off)} were cut off (an upstream reran and wrote what it wrote before; outputs reused from):')
            lines.extend(f'    - {describe_task(plan.tasks[i].task)} from {source}' for i, source in list(self.cut_off.items())[:20])
            if len(self.cut_off) > 20:
                lines.append(f'    - ... and {len(self.cut_off) - 20} more')
        lines += [
            '',
            'This progress looks :)' if self.ok and not self.not_run else 'This progress looks :( because some tasks failed or did not run',
        ]
        lines += ['', '===== gokart Execution Summary =====', '']
        return '\n'.join(lines)


class ReadySet:
    """The pending tasks of a plan that may start now, by index; ``finish`` records a result and releases dependents."""

    def __init__(self, plan: Plan, outcome: BuildOutcome, listener: ExecutionListener | None = None) -> None:
        nodes = self.nodes = plan.tasks
        self.plan = plan
        self.outcome = outcome
        self.listener = listener
        self.waiting_on = [sum(1 for r in node.requirements if nodes[r].state is not TaskState.COMPLETE) for node in nodes]
        self.ready = deque(i for i, node in enumerate(nodes) if node.state is TaskState.PENDING and self.waiting_on[i] == 0)
        self.finished: set[int] = set()
        self.pending = sum(1 for node in nodes if node.state is TaskState.PENDING)

    def release(self, index: int) -> list[int]:
        """The dependents of ``index`` that its success makes ready (also appended to ``ready``)."""
        nodes, waiting_on = self.nodes, self.waiting_on
        released = []
        for dependent in nodes[index].dependents:
            waiting_on[dependent] -= 1
            if waiting_on[dependent] == 0 and nodes[dependent].state is TaskState.PENDING:
                released.append(dependent)
        self.ready.extend(released)
        return released

    def order(self) -> list[int]:
        """Every task that can run once those before it succeed, requirements first, in the plan's order where free.

        For an executor that hands the whole graph over at once (Dask); tasks behind missing external
        data, a broken task or a cycle are left out. ``ready`` is left as it was.
        """
        waiting_on = list(self.waiting_on)
        stack = list(reversed(self.ready))  # popped from the end: the plan's order, so two clients group alike
        nodes = self.nodes
        order: list[int] = []
        while stack:
            index = stack.pop()
            order.append(index)
            for dependent in nodes[index].dependents:
                waiting_on[dependent] -= 1
                if waiting_on[dependent] == 0 and nodes[dependent].state is TaskState.PENDING:
                    stack.append(dependent)
        return order

    def start(self, indices: list[int]) -> None:
        """Tell the listener these tasks are running."""
        if self.listener is not None:
            for index in indices:
                self.listener.started(self.nodes[index].task)

    def put_aside(self, index: int) -> None:
        """The task is no longer running and is neither done nor failed (its run lock was held elsewhere, or it never ran)."""
        if self.listener is not None:
            self.listener.put_aside(self.nodes[index].task)

    def finish(self, index: int, error: BaseException | None, release: bool = True) -> None:
        """Record the task's result; a success releases its dependents unless ``release`` is false (the executor does)."""
        self.finished.add(index)
        node = self.nodes[index]
        if self.listener is not None:
            self.listener.finished(node.task, error is None)
        if error is not None:
            self.outcome.failed[index] = error
            return
        self.outcome.succeeded.append(node.task)
        if release:
            self.release(index)

    def settle(self) -> None:
        """At the end: pending tasks that never finished are not run; ``DependencyCycleError`` when a cycle kept them."""
        self.outcome.not_run = [i for i, node in enumerate(self.nodes) if node.state is TaskState.PENDING and i not in self.finished]
        raise_on_cycle(self.plan, self.outcome)


def raise_on_cycle(plan: Plan, outcome: BuildOutcome) -> None:
    """Tasks left pending with no failed, broken or missing requirement below them can only be waiting on each other."""
    if not outcome.not_run:
        return
    blocked = set(outcome.failed) | {i for i, n in enumerate(plan.tasks) if n.state in (TaskState.BROKEN, TaskState.MISSING_EXTERNAL)}
    stuck = set(outcome.not_run)
    changed = True
    while changed:  # propagate "blocked" to everything downstream of a failure
        changed = False
        for i in list(stuck):
            if any(r in blocked for r in plan.tasks[i].requirements):
                blocked.add(i)
                stuck.discard(i)
                changed = True
    if stuck:
        names = ', '.join(describe_task(plan.tasks[i].task) for i in sorted(stuck)[:10])
        raise DependencyCycleError(f'the requirements of these tasks form a cycle, so none of them can run: {names}')


__all__ = ['BuildOutcome', 'ExecutionListener', 'ReadySet', 'raise_on_cycle']
