"""The whole DAG of a task as plain data: one node per distinct task with its state, and a layered layout.

Nothing here calls ``complete()``: with ``rerun=True`` that would delete outputs. Completion is read
from the outputs' existence, or from a build's outcome when one is given.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gokart.contracts.describe import declared_columns
from gokart.core import dag
from gokart.execution.plan import TaskState
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace
from gokart.utils import flatten


class NodeState(enum.Enum):
    CACHED = 'cached'  # the outputs existed before the build (or exist, when no build is known)
    RAN = 'ran'  # this build ran it successfully
    FAILED = 'failed'  # it raised, or its complete()/requires() raised
    PENDING = 'pending'  # not run and not complete


@dataclass
class Output:
    path: str
    size: int | None  # None when the file does not exist
    shared: bool = False  # found in the team's shared workspace (path is the shared one), not in the own workspace


@dataclass
class TaskNode:
    """What the report shows of one task."""

    name: str
    unique_id: str
    params: dict[str, str]
    state: NodeState
    processing_time: float | None
    outputs: list[Output]
    requirements: list[int] = field(default_factory=list)  # indices into DagGraph.nodes
    error: str | None = None
    layer: int = 0
    order: float = 0.0
    # What tells it from the other tasks of its class in the DAG (``C=0.01``, ``model.C=1.0``); '' when it is the only one.
    distinction: str = ''
    leaves: dict[str, str] = field(default_factory=dict)  # its significant parameters, nested tasks decoded
    columns: list[str] = field(default_factory=list)  # its declared frame contracts: 'dumps a: int64', "reads 'data' a" (gokart.Schema)

    @property
    def key(self) -> str:
        return f'{self.name}_{self.unique_id}'


@dataclass
class DagGraph:
    nodes: list[TaskNode]
    root: int

    def count(self, state: NodeState) -> int:
        return sum(1 for n in self.nodes if n.state is state)

    @property
    def layers(self) -> list[list[int]]:
        """Node indices by layer (0 holds the tasks with no requirements), each layer in display order."""
        grouped: dict[int, list[int]] = {}
        for index, node in enumerate(self.nodes):
            grouped.setdefault(node.layer, []).append(index)
        return [sorted(grouped.get(layer, []), key=lambda i: self.nodes[i].order) for layer in range(max(grouped, default=-1) + 1)]


def collect_graph(task: Any, outcome: Any = None) -> DagGraph:
    """Walk every task under ``task`` once (by unique id) and record its state; ``outcome`` is a build's BuildOutcome."""
    states = _states_from_outcome(outcome)
    if outcome is None:  # no build to follow: the team-cache settings as the config says now
        shared_workspace.refresh()
    nodes: list[TaskNode] = []
    index_of: dict[str, int] = {}
    pending_edges: list[tuple[int, list[Any]]] = []
    stack = [task]
    while stack:
        current = stack.pop()
        key = _key_of(current)
        if key in index_of:
            continue
        index_of[key] = len(nodes)
        node, requirements = _make_node(current, states)
        nodes.append(node)
        pending_edges.append((index_of[key], requirements))
        stack.extend(reversed(requirements))
    for position, requirements in pending_edges:
        seen: set[int] = set()
        for requirement in requirements:
            target = index_of[_key_of(requirement)]
            if target not in seen:
                seen.add(target)
                nodes[position].requirements.append(target)
    graph = DagGraph(nodes=nodes, root=0)
    assign_layers(graph)
    assign_distinctions(graph)
    return graph


DISTINCTION_PARTS = 2  # parameters named on a node: more would not fit, and the details panel has them all


def assign_distinctions(graph: DagGraph) -> None:
    """Give each node the parameters that tell it from the other tasks of its class, so siblings differ by more than a hash.

    Of the leaves whose values differ within the class (nested tasks decoded: ``model.C``), the
    shallowest come first, and a node names only those where its value is not the ordinary one
    (the most common value, when several tasks share it): 20 features differing in ``source.index``,
    one of them also ``fail=True``, read ``source.index=3`` and ``source.index=7, fail=True``.
    """
    families: dict[str, list[TaskNode]] = {}
    for node in graph.nodes:
        families.setdefault(node.name, []).append(node)
    for members in families.values():
        if len(members) < 2:
            continue
        paths = list(dict.fromkeys(path for node in members for path in node.leaves))
        ordinary: dict[str, list[str | None]] = {}  # path -> [its ordinary value], or [] when no value is shared
        for path in paths:
            values = Counter(node.leaves.get(path) for node in members)
            if len(values) > 1:
                value, count = values.most_common(1)[0]
                ordinary[path] = [value] if count > 1 else []
        order = sorted(ordinary, key=lambda p: (p.count('.') + p.count('['), paths.index(p)))
        for node in members:
            unusual = [p for p in order if [node.leaves.get(p)] != ordinary[p]]
            parts = [f'{p}={node.leaves.get(p, "(absent)")}' for p in unusual[:DISTINCTION_PARTS]]
            node.distinction = ', '.join(parts) + (', …' if len(unusual) > DISTINCTION_PARTS else '')


def assign_layers(graph: DagGraph) -> None:
    """Longest-path layering (a task sits right of its deepest requirement), pulled toward dependents, then barycenter ordering.

    Barycenter sweeps put each node near the mean position of its neighbours in the adjacent layer,
    which removes most edge crossings at a cost linear in the number of edges per sweep.
    """
    nodes = graph.nodes
    layer: list[int | None] = [None] * len(nodes)
    for start in range(len(nodes)):
        if layer[start] is not None:
            continue
        stack: list[tuple[int, bool]] = [(start, False)]
        while stack:
            index, expanded = stack.pop()
            if layer[index] is not None:
                continue
            if expanded:
                layer[index] = 1 + max((layer[r] or 0 for r in nodes[index].requirements), default=-1)
                continue
            stack.append((index, True))
            stack.extend((r, False) for r in nodes[index].requirements if layer[r] is None)
    dependents: list[list[int]] = [[] for _ in nodes]
    for index, node in enumerate(nodes):
        for requirement in node.requirements:
            dependents[requirement].append(index)
    # Pull each task right, next to its nearest dependent, so an edge rarely runs behind other tasks.
    final = [value or 0 for value in layer]
    for index in sorted(range(len(nodes)), key=lambda i: -final[i]):
        if dependents[index]:
            final[index] = min(final[d] for d in dependents[index]) - 1
    for index, node in enumerate(nodes):
        node.layer = final[index]
    for position, index in enumerate(sorted(range(len(nodes)), key=lambda i: (nodes[i].layer, i))):
        nodes[index].order = position
    for sweep in range(4):
        layers = graph.layers
        ordered_layers = layers if sweep % 2 == 0 else list(reversed(layers))
        for members in ordered_layers:
            for index in members:
                neighbours = nodes[index].requirements if sweep % 2 == 0 else dependents[index]
                if neighbours:
                    nodes[index].order = sum(nodes[n].order for n in neighbours) / len(neighbours)
            for position, index in enumerate(sorted(members, key=lambda i: nodes[i].order)):
                nodes[index].order = position


def _states_from_outcome(outcome: Any) -> dict[str, tuple[NodeState, str | None]] | None:
    if outcome is None:
        return None
    states: dict[str, tuple[NodeState, str | None]] = {}
    for node in outcome.plan.tasks:
        if node.state is TaskState.COMPLETE:
            states[_key_of(node.task)] = (NodeState.CACHED, None)
        elif node.state is TaskState.BROKEN:
            states[_key_of(node.task)] = (NodeState.FAILED, _describe(node.error))
    for task in outcome.succeeded:
        states[_key_of(task)] = (NodeState.RAN, None)
    for index, error in outcome.failed.items():
        states[_key_of(outcome.plan.tasks[index].task)] = (NodeState.FAILED, _describe(error))
    return states


def _make_node(task: Any, states: dict[str, tuple[NodeState, str | None]] | None) -> tuple[TaskNode, list[Any]]:
    outputs = [_output_of(target) for target in flatten(task.output())]
    error: str | None = None
    try:
        requirements = list(dag.requirements(task))
    except Exception as e:
        requirements, error = [], _describe(e)
    exists = bool(outputs) and all(o.size is not None for o in outputs)
    known = states.get(_key_of(task)) if states is not None else None
    if known is not None:
        state, error = known[0], known[1] or error
    elif error is not None:
        state = NodeState.FAILED
    else:
        state = NodeState.CACHED if exists else NodeState.PENDING
    node = TaskNode(
        name=type(task).__name__,
        unique_id=_unique_id(task),
        params=_params_of(task),
        state=state,
        processing_time=_processing_time(task),
        outputs=outputs,
        error=error,
        leaves=_leaves_of(task),
        columns=declared_columns(task),
    )
    return node, requirements


def _key_of(task: Any) -> str:
    return f'{type(task).__name__}_{_unique_id(task)}'


def _unique_id(task: Any) -> str:
    make_unique_id = getattr(task, 'make_unique_id', None)
    return str(make_unique_id()) if make_unique_id is not None else str(task.task_id)


def _params_of(task: Any) -> dict[str, str]:
    get_info = getattr(task, 'get_info', None)
    if get_info is not None:
        return dict(get_info(only_significant=True))
    return dict(task.to_str_params(only_significant=True))


def _leaves_of(task: Any) -> dict[str, str]:
    from gokart.commands.explain import parameter_leaves  # the decoding that plan and why use for nested tasks

    try:
        return parameter_leaves(dict(task.to_str_params(only_significant=True)))
    except Exception:  # a report is drawn even for a task whose parameters cannot be serialized
        return {}


def _processing_time(task: Any) -> float | None:
    getter = getattr(task, 'get_processing_time', None)
    if getter is None:
        return None
    try:
        value = getter()
    except Exception:
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _output_of(target: Any) -> Output:
    path = getattr(target, 'path', None)
    path = str(
        path() if callable(path) else path if path is not None else target
    )  # luigi's targets have a path attribute, gokart's a method
    try:
        if not target.exists():
            return Output(path=path, size=None)
        if not storage.exists(path):  # a shared hit: the team's copy, fetched when a build loads it
            shared = shared_workspace.shared_path(path, getattr(target, '_workspace_directory', None))
            if shared is not None:
                return Output(path=shared, size=storage.size(shared), shared=True)
        return Output(path=path, size=storage.size(path))
    except Exception:
        return Output(path=path, size=None)


def _describe(error: BaseException | None) -> str | None:
    return None if error is None else f'{type(error).__name__}: {error}'
