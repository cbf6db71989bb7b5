"""A compact SVG of a task's DAG for inline display (a notebook cell), from the report's layout.

The layers and order within each layer are the report's (:func:`gokart.commands.report.graph.collect_graph`
lays them out); only the drawing is smaller, and styled with attributes rather than a page
stylesheet, so the fragment can sit inside any HTML page without touching it. Hovering a task
shows its id and output paths. A DAG with more than ``max_nodes`` tasks has each family of a layer
drawn as one box with its count ("Leaf ×500"), and the caption says so.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field

from gokart.commands.report.graph import DagGraph

NODE_WIDTH = 170
NODE_HEIGHT = 46  # three lines: the name, what tells it from its siblings (as the report), the state
COLUMN_GAP = 44
ROW_GAP = 8
MARGIN = 8
DEFAULT_MAX_NODES = 40

# state -> (fill, stroke, dash): the report's palette
STYLES = {
    'cached': ('#dbeafe', '#3b82f6', ''),
    'will run': ('#dcfce7', '#16a34a', ''),
    'missing input': ('#fef3c7', '#d97706', '4 2'),
    'failed': ('#fee2e2', '#dc2626', ''),
    'ran': ('#dcfce7', '#16a34a', ''),
    'mixed': ('#f3f4f6', '#6b7280', ''),
}


@dataclass
class Box:
    """One drawn box: a task, or a family of a layer collapsed into one."""

    name: str
    state: str
    layer: int
    order: float
    tooltip: str
    members: int = 1
    subtitle: str = ''  # under the name; the state unless a collapsed box has several
    distinction: str = ''  # what tells a task from its siblings (the report's second line)
    requirements: set[int] = field(default_factory=set)


def boxes_of(graph: DagGraph, states: list[str], max_nodes: int = DEFAULT_MAX_NODES) -> tuple[list[Box], str]:
    """The boxes to draw (one per task, or per family and layer past ``max_nodes``) and a caption saying which."""
    nodes = graph.nodes
    if len(nodes) <= max_nodes:
        boxes = [
            Box(
                name=n.name,
                state=states[i],
                layer=n.layer,
                order=n.order,
                tooltip=_tooltip(graph, i, states[i]),
                distinction=_told_apart(n.distinction),
                requirements=set(n.requirements),
            )
            for i, n in enumerate(nodes)
        ]
        return boxes, f'{len(nodes)} task{"s" if len(nodes) != 1 else ""}'
    group_of: dict[tuple[str, int], int] = {}
    box_of: list[int] = []
    boxes = []
    for index, node in enumerate(nodes):
        key = (node.name, node.layer)
        if key not in group_of:
            group_of[key] = len(boxes)
            boxes.append(Box(name=node.name, state=states[index], layer=node.layer, order=node.order, tooltip='', members=0))
        box = boxes[group_of[key]]
        box.members += 1
        box.order = min(box.order, node.order)
        box_of.append(group_of[key])
    state_counts: list[Counter[str]] = [Counter() for _ in boxes]
    for index, node in enumerate(nodes):
        state_counts[box_of[index]][states[index]] += 1
        for requirement in node.requirements:
            boxes[box_of[index]].requirements.add(box_of[requirement])
    for position, box in enumerate(boxes):
        counts = state_counts[position]
        box.state = next(iter(counts)) if len(counts) == 1 else 'mixed'
        if box.members == 1:
            member = box_of.index(position)
            box.tooltip = _tooltip(graph, member, states[member])
        else:
            box.tooltip = f'{box.members} {box.name} tasks: ' + ', '.join(f'{count} {state}' for state, count in counts.most_common())
            box.name = f'{box.name} ×{box.members}'
            box.subtitle = ', '.join(f'{count} {state}' for state, count in counts.most_common())
    collapsed = sum(1 for b in boxes if b.members > 1)
    caption = f'{len(nodes)} tasks, more than {max_nodes}: each family repeated in a layer is drawn as one box ({collapsed} such boxes)'
    # Re-number the order within each layer so collapsed boxes sit next to each other.
    by_layer: dict[int, list[Box]] = {}
    for box in boxes:
        by_layer.setdefault(box.layer, []).append(box)
    for members in by_layer.values():
        for rank, box in enumerate(sorted(members, key=lambda b: b.order)):
            box.order = rank
    return boxes, caption


def render_svg(boxes: list[Box], caption: str) -> str:
    """An ``<svg>`` element (no XML prolog, no stylesheet) drawing ``boxes``, with ``caption`` under it."""
    layers: dict[int, list[int]] = {}
    for index, box in enumerate(boxes):
        layers.setdefault(box.layer, []).append(index)
    tallest = max((len(m) for m in layers.values()), default=0)
    positions: dict[int, tuple[int, int]] = {}
    for layer, members in layers.items():
        offset = (tallest - len(members)) * (NODE_HEIGHT + ROW_GAP) // 2
        for row, index in enumerate(sorted(members, key=lambda i: boxes[i].order)):
            positions[index] = (MARGIN + layer * (NODE_WIDTH + COLUMN_GAP), MARGIN + offset + row * (NODE_HEIGHT + ROW_GAP))
    width = max((x for x, _ in positions.values()), default=0) + NODE_WIDTH + 2 * MARGIN
    height = max((y for _, y in positions.values()), default=0) + NODE_HEIGHT + 2 * MARGIN + 16
    pieces = []
    for index, box in enumerate(boxes):
        x2, y2 = positions[index]
        for requirement in sorted(box.requirements):
            x1, y1 = positions[requirement]
            x1, y1, y2c = x1 + NODE_WIDTH, y1 + NODE_HEIGHT // 2, y2 + NODE_HEIGHT // 2
            bend = max(16, (x2 - x1) // 2)
            pieces.append(
                f'<path d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2c} {x2},{y2c}" fill="none" stroke="#94a3b8" stroke-width="1.2"/>'
            )
    for index, box in enumerate(boxes):
        x, y = positions[index]
        fill, stroke, dash = STYLES.get(box.state, STYLES['mixed'])
        name = box.name if len(box.name) <= 21 else box.name[:20] + '…'
        dashes = f' stroke-dasharray="{dash}"' if dash else ''
        pieces.append(
            f'<g class="gokart-task" data-state="{html.escape(box.state)}" transform="translate({x},{y})">'
            f'<title>{html.escape(box.tooltip)}</title>'
            f'<rect width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="5" fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dashes}/>'
            f'<text x="7" y="14" font-size="12" font-weight="600" fill="#111827">{html.escape(name)}</text>'
            f'<text x="7" y="27" font-size="10" fill="#1e3a8a" font-family="ui-monospace, Menlo, monospace" class="distinction">'
            f'{html.escape(box.distinction)}</text>'
            f'<text x="7" y="40" font-size="10" fill="#4b5563">{html.escape(box.subtitle or box.state)}</text></g>'
        )
    pieces.append(f'<text x="{MARGIN}" y="{height - 6}" font-size="10" fill="#6b7280">{html.escape(caption)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui, sans-serif">{"".join(pieces)}</svg>'
    )


def _told_apart(distinction: str) -> str:
    """What tells a task from its siblings, as the report's second line shows it (``source.index=3``)."""
    from gokart.commands.report.html import DISTINCTION_CHARACTERS

    return distinction if len(distinction) <= DISTINCTION_CHARACTERS else distinction[: DISTINCTION_CHARACTERS - 1] + '…'


def _tooltip(graph: DagGraph, index: int, state: str) -> str:
    node = graph.nodes[index]
    shared = ', in the shared workspace' if any(o.shared for o in node.outputs) and state == 'cached' else ''
    lines = [f'{node.name}[{node.unique_id}] ({state}{shared})', *(f'{k}={v}' for k, v in node.params.items())]
    lines += [f'output: {o.path}' + ('' if o.size is not None else ' (missing)') + (' (shared)' if o.shared else '') for o in node.outputs]
    lines += node.columns  # its declared frame contracts (gokart.Schema)
    if node.error:
        lines.append(node.error)
    return '\n'.join(lines)


__all__ = ['Box', 'boxes_of', 'render_svg']
