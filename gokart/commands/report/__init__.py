"""The HTML report of a DAG: ``gokart.report(task, 'report.html')``, or one written after a build.

One self-contained file (inline SVG, CSS and JS; nothing is fetched), so it can be mailed, attached to a
CI run or opened offline. Tasks are laid out by dependency and coloured by state: cached, ran, failed
or pending.
"""

from __future__ import annotations

import os
from typing import Any

from gokart.commands.report.graph import DagGraph, NodeState, TaskNode, collect_graph
from gokart.commands.report.html import render_html
from gokart.ids import id_scheme
from gokart.records import run_records
from gokart.storage import filesystem as storage


def write_report(task: Any, path: str, outcome: Any = None) -> str:
    """Write the report of ``task``'s DAG to ``path`` and return the path.

    ``outcome`` is the ``BuildOutcome`` of a build just finished; with it, tasks are marked ran, failed,
    cached or pending as that build saw them. Without it, a task is cached when its outputs exist and
    pending otherwise (``complete()`` is not called, so ``rerun=True`` deletes nothing).
    """
    graph = collect_graph(task, outcome=outcome)
    root = graph.nodes[graph.root]
    page = render_html(graph, title=f'gokart: {root.name}[{root.unique_id[:10]}] · {_scheme_text(task)}')
    if storage.is_local(path):
        directory = os.path.dirname(storage.local_path(path))
        if directory:
            os.makedirs(directory, exist_ok=True)
    with storage.atomic_write(path) as f:
        f.write(page.encode('utf-8'))
    return path


def _scheme_text(task: Any) -> str:
    """The id scheme in force, and the workspace's when its recorded runs say otherwise (docs/ids.md)."""
    in_force = id_scheme.current()
    held = run_records.scheme_census(task.workspace_directory).verdict()
    text = f'id scheme {in_force}'
    if held == 'mixed':
        return text + ' (the workspace holds runs of both schemes)'
    if held not in ('empty', str(in_force)):
        return text + f' (the workspace holds scheme-{held} runs: gokart rekey --to {in_force})'
    return text


def report(task: Any, path: str = 'report.html') -> str:
    """Write the HTML report of ``task``'s DAG to ``path`` (states from the outputs that exist now)."""
    return write_report(task, path)


__all__ = ['DagGraph', 'NodeState', 'TaskNode', 'collect_graph', 'render_html', 'report', 'write_report']
