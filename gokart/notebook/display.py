"""What a task shows as a notebook cell's value: a compact picture of its DAG, coloured by what a build would do.

States: *cached* (its outputs exist: a build loads them), *will run*, *missing input* (external
data that does not exist, or a task that waits on it), *failed* (its ``requires()`` or ``output()``
raised). Nothing is run and ``complete()`` is not called (with ``rerun=True`` it deletes outputs).
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from gokart.commands.report.graph import DagGraph, NodeState, collect_graph
from gokart.commands.report.svg import DEFAULT_MAX_NODES, STYLES, boxes_of, render_svg
from gokart.core import dag

CACHED, WILL_RUN, MISSING_INPUT, FAILED = 'cached', 'will run', 'missing input', 'failed'


def build_states(task: Any, graph: DagGraph) -> list[str]:
    """The state of each node of ``graph`` (the DAG of ``task``), as a build would see it now."""
    external = _external_keys(task)
    states: list[str] = []
    for node in graph.nodes:
        if node.state is NodeState.FAILED:
            states.append(FAILED)
        elif node.state is NodeState.CACHED and node.key not in external.rerun:
            states.append(CACHED)
        elif node.key in external.missing:
            states.append(MISSING_INPUT)
        else:
            states.append(WILL_RUN)
    # A task that needs missing data cannot run either: requirements come before their dependents here.
    for index in sorted(range(len(graph.nodes)), key=lambda i: graph.nodes[i].layer):
        if states[index] == WILL_RUN and any(states[r] == MISSING_INPUT for r in graph.nodes[index].requirements):
            states[index] = MISSING_INPUT
    return states


class _Kinds:
    def __init__(self) -> None:
        self.missing: set[str] = set()  # external tasks: nothing can make their data
        self.rerun: set[str] = set()  # tasks with rerun=True: run even where outputs exist


def _external_keys(task: Any) -> _Kinds:
    kinds = _Kinds()
    seen: set[str] = set()
    stack = [task]
    while stack:
        current = stack.pop()
        key = _key(current)
        if key in seen:
            continue
        seen.add(key)
        if getattr(type(current), 'run', None) is None:  # the class's: the instance's may be wrapped (complete_check_at_run)
            kinds.missing.add(key)
        if getattr(current, 'rerun', False):
            kinds.rerun.add(key)
        try:
            stack.extend(dag.requirements(current))
        except Exception:
            continue  # the graph marks it failed
    return kinds


def _key(task: Any) -> str:
    make_unique_id = getattr(task, 'make_unique_id', None)
    return f'{type(task).__name__}_{make_unique_id() if make_unique_id is not None else task.task_id}'


def task_html(task: Any, max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """A title line, a legend with counts and the DAG's SVG: ``TaskOnKart._repr_html_``."""
    graph = collect_graph(task)
    states = build_states(task, graph)
    boxes, caption = boxes_of(graph, states, max_nodes=max_nodes)
    root = graph.nodes[graph.root]
    counts = Counter(states)
    legend = ' '.join(
        f'<span style="padding:0 6px;border:1px solid {STYLES[state][1]};background:{STYLES[state][0]};border-radius:8px">'
        f'{counts[state]} {state}</span>'
        for state in (CACHED, WILL_RUN, MISSING_INPUT, FAILED)
        if counts[state]
    )
    return (
        '<div class="gokart-dag" style="font:12px/1.6 system-ui,sans-serif">'
        f'<div><b>{html.escape(root.name)}</b>[<code>{html.escape(root.unique_id)}</code>] {legend}</div>'
        f'<div style="overflow:auto;max-width:100%">{render_svg(boxes, caption)}</div></div>'
    )


__all__ = ['CACHED', 'FAILED', 'MISSING_INPUT', 'WILL_RUN', 'build_states', 'task_html']
