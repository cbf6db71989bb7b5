"""Render a :class:`DagGraph` as one self-contained HTML file: inline SVG, CSS and a little JS, no network.

Requirements are drawn left of the tasks that need them, one column per layer. The page pans (drag),
zooms (wheel or the buttons), finds tasks by class, id or parameter (the search box), and shows every
detail of a task when it is clicked, so a DAG of hundreds of tasks stays readable.
"""

from __future__ import annotations

import datetime
import html
import json
from typing import Any

from gokart.commands.report.graph import DagGraph, NodeState, TaskNode

NODE_WIDTH = 200
NODE_HEIGHT = 62  # three lines: the class, what tells it from its siblings, then its id and state
COLUMN_GAP = 32  # six columns of 200 fit a 1400 px window at 100% zoom
ROW_GAP = 12
MARGIN = 16
# The page draws the DAG at least this many screen pixels per SVG unit for DAGs of up to
# READABLE_NODES tasks (then it pans), so that the smallest label (12 units) is at least 12 px at 100%
# browser zoom; a larger DAG opens fitted to the window, to be zoomed and panned.
MIN_SCALE = 1.0
MAX_SCALE = 1.6
READABLE_NODES = 50
NAME_CHARACTERS = 21
DISTINCTION_CHARACTERS = 26

_STATE_LABELS = {NodeState.CACHED: 'cached', NodeState.RAN: 'ran', NodeState.FAILED: 'failed', NodeState.PENDING: 'pending'}


def render_html(graph: DagGraph, title: str) -> str:
    """The report page for ``graph``."""
    positions = _positions(graph)
    width = max((x for x, _ in positions), default=0) + NODE_WIDTH + 2 * MARGIN
    height = max((y for _, y in positions), default=0) + NODE_HEIGHT + 2 * MARGIN
    edges = ''.join(_edge_svg(graph, positions, index) for index in range(len(graph.nodes)))
    nodes = ''.join(_node_svg(node, positions[index], index) for index, node in enumerate(graph.nodes))
    counts = ''.join(
        f'<span class="chip state-{label}"><b id="count-{label}">{graph.count(state)}</b> {label}</span>'
        for state, label in _STATE_LABELS.items()
    )
    details = json.dumps([_node_details(node, graph) for node in graph.nodes]).replace('</', '<\\/')
    generated = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
    return _PAGE.format(
        title=html.escape(title),
        total=len(graph.nodes),
        counts=counts,
        generated=generated,
        width=width,
        height=height,
        edges=edges,
        nodes=nodes,
        details=details,
        sizing=html.escape(json.dumps({'min': MIN_SCALE, 'max': MAX_SCALE, 'readable': READABLE_NODES, 'nodes': len(graph.nodes)})),
        css=_CSS,
        js=_JS,
    )


def _positions(graph: DagGraph) -> list[tuple[int, int]]:
    positions = [(0, 0)] * len(graph.nodes)
    layers = graph.layers
    tallest = max((len(members) for members in layers), default=0)
    for layer, members in enumerate(layers):
        # Centre short columns against the tallest one so edges stay short.
        offset = (tallest - len(members)) * (NODE_HEIGHT + ROW_GAP) // 2
        for row, index in enumerate(members):
            positions[index] = (MARGIN + layer * (NODE_WIDTH + COLUMN_GAP), MARGIN + offset + row * (NODE_HEIGHT + ROW_GAP))
    return positions


def _edge_svg(graph: DagGraph, positions: list[tuple[int, int]], index: int) -> str:
    x2, y2 = positions[index]
    y2 += NODE_HEIGHT // 2
    pieces = []
    for requirement in graph.nodes[index].requirements:
        x1, y1 = positions[requirement]
        x1 += NODE_WIDTH
        y1 += NODE_HEIGHT // 2
        bend = max(30, (x2 - x1) // 2)
        pieces.append(
            f'<path class="edge" data-from="{requirement}" data-to="{index}" d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"/>'
        )
    return ''.join(pieces)


def _node_svg(node: TaskNode, position: tuple[int, int], index: int) -> str:
    x, y = position
    label = _STATE_LABELS[node.state]
    name = _cut(node.name, NAME_CHARACTERS)
    shared = any(o.shared for o in node.outputs)
    subtitle = f'{node.unique_id[:8]} · {label}' + (' (shared)' if shared and node.state is NodeState.CACHED else '')
    if node.processing_time is not None:
        subtitle += f' · {_seconds(node.processing_time)}'
    search_text = ' '.join([node.name, node.unique_id, *(f'{k}={v}' for k, v in node.params.items())]).lower()
    tooltip_lines = [f'{node.name}[{node.unique_id}] ({label})', *(f'{k}={v}' for k, v in node.params.items())]
    tooltip_lines += [
        f'output: {o.path} ({"missing" if o.size is None else _bytes(o.size)}{", shared workspace" if o.shared else ""})'
        for o in node.outputs
    ]
    tooltip_lines += node.columns
    tooltip = '\n'.join(tooltip_lines)
    return (
        f'<g class="node state-{label}" id="task-{html.escape(node.key)}" data-index="{index}" data-name="{html.escape(node.name)}" '
        f'data-unique-id="{node.unique_id}" data-state="{label}" data-search="{html.escape(search_text)}" transform="translate({x},{y})">'
        f'<title>{html.escape(tooltip)}</title>'
        f'<rect width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="7"/>'
        f'<text class="name" x="10" y="19">{html.escape(name)}</text>'
        f'<text class="distinction" x="10" y="36">{html.escape(_cut(node.distinction, DISTINCTION_CHARACTERS))}</text>'
        f'<text class="sub" x="10" y="53">{html.escape(subtitle)}</text></g>'
    )


def _cut(text: str, characters: int) -> str:
    return text if len(text) <= characters else text[: characters - 1] + '…'


def _node_details(node: TaskNode, graph: DagGraph) -> dict[str, Any]:
    return {
        'name': node.name,
        'unique_id': node.unique_id,
        'state': _STATE_LABELS[node.state],
        'params': node.params,
        'processing_time': None if node.processing_time is None else _seconds(node.processing_time),
        'outputs': [{'path': o.path, 'size': None if o.size is None else _bytes(o.size), 'shared': o.shared} for o in node.outputs],
        'requires': [graph.nodes[r].key for r in node.requirements],
        'error': node.error,
        'distinction': node.distinction,
        'columns': node.columns,
    }


def _seconds(value: float) -> str:
    if value < 1:
        return f'{value * 1000:.0f} ms'
    if value < 120:
        return f'{value:.1f} s'
    return f'{value / 60:.1f} min'


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ('B', 'KB', 'MB', 'GB'):
        if value < 1024 or unit == 'GB':
            return f'{value:.0f} {unit}' if unit == 'B' else f'{value:.1f} {unit}'
        value /= 1024
    return f'{size} B'


_CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2937; background: #f8fafc; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 10px 14px;
         background: #fff; border-bottom: 1px solid #e5e7eb; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
.chip { padding: 2px 9px; border-radius: 10px; border: 1px solid; }
.chip.state-cached { background: #dbeafe; border-color: #3b82f6; }
.chip.state-ran { background: #dcfce7; border-color: #16a34a; }
.chip.state-failed { background: #fee2e2; border-color: #dc2626; }
.chip.state-pending { background: #f3f4f6; border-color: #9ca3af; }
#search { margin-left: auto; padding: 4px 8px; width: 240px; border: 1px solid #cbd5e1; border-radius: 6px; }
button { padding: 3px 9px; border: 1px solid #cbd5e1; background: #fff; border-radius: 6px; cursor: pointer; }
#meta { color: #6b7280; font-size: 12px; }
body { display: flex; flex-direction: column; height: 100vh; }
main { position: relative; flex: 1; min-height: 0; }
#canvas { width: 100%; height: 100%; overflow: hidden; cursor: grab; }
#canvas svg { width: 100%; height: 100%; display: block; }
/* Over the drawing, and only once a task is clicked: the DAG has the window's whole width. */
#panel { display: none; position: absolute; top: 0; right: 0; bottom: 0; width: 340px; overflow: auto; padding: 12px 14px;
         background: #fff; border-left: 1px solid #e5e7eb; box-shadow: -4px 0 12px rgba(15, 23, 42, .08); }
#panel.open { display: block; }
#panel-close { float: right; }
#hint { color: #6b7280; font-size: 12px; }
#panel h2 { font-size: 14px; margin: 0 0 4px; word-break: break-all; }
#panel table { border-collapse: collapse; width: 100%; }
#panel td { border-top: 1px solid #f1f5f9; padding: 3px 4px; vertical-align: top; word-break: break-all; }
#panel td:first-child { color: #6b7280; white-space: nowrap; word-break: normal; }
#panel .error { color: #b91c1c; white-space: pre-wrap; }
.edge { fill: none; stroke: #94a3b8; stroke-width: 1.3; }
.edge.hot { stroke: #0f172a; stroke-width: 2.2; }
.node rect { stroke-width: 1.6; }
.node { cursor: pointer; }
.node .name { font-weight: 600; font-size: 15px; fill: #111827; }
.node .distinction { font-size: 12px; fill: #1e3a8a; font-family: ui-monospace, Menlo, monospace; }
.node .sub { font-size: 12px; fill: #4b5563; font-family: ui-monospace, Menlo, monospace; }
.node.state-cached rect { fill: #dbeafe; stroke: #3b82f6; }
.node.state-ran rect { fill: #dcfce7; stroke: #16a34a; }
.node.state-failed rect { fill: #fee2e2; stroke: #dc2626; stroke-width: 2.4; }
.node.state-pending rect { fill: #f3f4f6; stroke: #9ca3af; stroke-dasharray: 5 3; }
.node.selected rect { stroke: #111827; stroke-width: 3; }
.node.dim { opacity: .18; }
.node.match rect { stroke: #f59e0b; stroke-width: 3.2; }
"""

_JS = """
(function () {
  var details = JSON.parse(document.getElementById('task-details').textContent);
  var svg = document.getElementById('dag');
  var full = svg.viewBox.baseVal;
  var whole = {x: full.x, y: full.y, w: full.width, h: full.height};
  var sizing = JSON.parse(svg.dataset.sizing);
  var view = {x: whole.x, y: whole.y, w: whole.w, h: whole.h};
  var home = view;
  function apply() { svg.setAttribute('viewBox', view.x + ' ' + view.y + ' ' + view.w + ' ' + view.h); }
  // The drawing is sized to the window: the viewBox takes the canvas's shape, at the scale (screen pixels per
  // SVG unit) that fits the DAG, within [min, max] for a DAG of up to sizing.readable tasks so labels stay
  // readable (it is then panned, starting at the root's end); a larger DAG opens fitted, to be zoomed.
  function sizeToWindow() {
    var r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    var scale = Math.min(r.width / whole.w, r.height / whole.h, sizing.max);
    if (sizing.nodes <= sizing.readable) scale = Math.max(scale, sizing.min);
    var w = r.width / scale, h = r.height / scale;
    var x = w >= whole.w ? whole.x - (w - whole.w) / 2 : whole.x + whole.w - w;
    var y = whole.y + (whole.h - h) / 2;
    home = {x: x, y: y, w: w, h: h};
    view = {x: x, y: y, w: w, h: h}; apply();
  }
  sizeToWindow();
  window.addEventListener('resize', sizeToWindow);
  function zoom(factor, cx, cy) {
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    view.x = cx - (cx - view.x) * factor; view.y = cy - (cy - view.y) * factor;
    view.w *= factor; view.h *= factor; apply();
  }
  function toSvg(evt) {
    var r = svg.getBoundingClientRect();
    var scale = Math.max(view.w / r.width, view.h / r.height);
    var ox = view.x + (view.w - r.width * scale) / 2, oy = view.y + (view.h - r.height * scale) / 2;
    return {x: ox + (evt.clientX - r.left) * scale, y: oy + (evt.clientY - r.top) * scale, scale: scale};
  }
  svg.addEventListener('wheel', function (evt) {
    evt.preventDefault(); var p = toSvg(evt); zoom(evt.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, {passive: false});
  var drag = null;
  svg.addEventListener('mousedown', function (evt) {
    drag = toSvg(evt); drag.vx = view.x; drag.vy = view.y; drag.cx = evt.clientX; drag.cy = evt.clientY;
  });
  window.addEventListener('mouseup', function () { drag = null; });
  window.addEventListener('mousemove', function (evt) {
    if (!drag) return;
    view.x = drag.vx - (evt.clientX - drag.cx) * drag.scale; view.y = drag.vy - (evt.clientY - drag.cy) * drag.scale; apply();
  });
  document.getElementById('zoom-in').onclick = function () { zoom(1 / 1.4); };
  document.getElementById('zoom-out').onclick = function () { zoom(1.4); };
  document.getElementById('zoom-fit').onclick = function () { view = {x: whole.x, y: whole.y, w: whole.w, h: whole.h}; apply(); };
  document.getElementById('zoom-home').onclick = function () { sizeToWindow(); };
  var nodes = Array.prototype.slice.call(document.querySelectorAll('.node'));
  var edges = Array.prototype.slice.call(document.querySelectorAll('.edge'));
  var entities = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'};
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return entities[c]; }); }
  function row(k, v) { return '<tr><td>' + esc(k) + '</td><td>' + v + '</td></tr>'; }
  function show(index) {
    var d = details[index];
    nodes.forEach(function (n) { n.classList.toggle('selected', n.dataset.index == index); });
    edges.forEach(function (e) { e.classList.toggle('hot', e.dataset.from == index || e.dataset.to == index); });
    var h = '<h2>' + esc(d.name) + '</h2><div class="chip state-' + d.state + '">' + d.state + '</div><table>';
    h += row('unique id', '<code>' + esc(d.unique_id) + '</code>');
    h += row('time', esc(d.processing_time || 'unknown'));
    Object.keys(d.params).forEach(function (k) { h += row(k, esc(d.params[k])); });
    d.outputs.forEach(function (o) { h += row('output', esc(o.path) + ' <b>' + esc(o.size || 'missing') + '</b>'); });
    d.columns.forEach(function (c) { var i = c.indexOf(' '); h += row('columns ' + c.slice(0, i), esc(c.slice(i + 1))); });
    d.requires.forEach(function (r) { h += row('requires', esc(r)); });
    h += '</table>';
    if (d.error) h += '<p class="error">' + esc(d.error) + '</p>';
    var panel = document.getElementById('panel');
    panel.innerHTML = '<button id="panel-close" title="close (Esc)">&times;</button>' + h;
    panel.classList.add('open');
    document.getElementById('panel-close').onclick = close;
  }
  function close() {
    document.getElementById('panel').classList.remove('open');
    nodes.forEach(function (n) { n.classList.remove('selected'); });
    edges.forEach(function (e) { e.classList.remove('hot'); });
  }
  document.addEventListener('keydown', function (evt) { if (evt.key === 'Escape') close(); });
  nodes.forEach(function (n) { n.addEventListener('click', function (evt) { evt.stopPropagation(); show(n.dataset.index); }); });
  function search(text) {
    var q = text.trim().toLowerCase(), found = 0;
    nodes.forEach(function (n) {
      var hit = q && n.dataset.search.indexOf(q) >= 0; if (hit) found++;
      n.classList.toggle('match', !!hit); n.classList.toggle('dim', !!q && !hit);
    });
    document.getElementById('found').textContent = q ? found + ' found' : '';
  }
  var box = document.getElementById('search');
  box.addEventListener('input', function () { search(box.value); });
  // report.html#q=Train opens with that search applied: a link can point at the tasks it is about.
  var hash = decodeURIComponent(location.hash || '');
  if (hash.indexOf('#q=') === 0) { box.value = hash.slice(3); search(box.value); }
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{css}</style></head>
<body>
<header><h1>{title}</h1><span id="total"><b>{total}</b> tasks</span>{counts}
<input id="search" type="search" placeholder="search class, id or param=value"><span id="found"></span>
<button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">&minus;</button><button id="zoom-home" title="readable size">100%</button><button id="zoom-fit" title="the whole DAG">fit</button>
<span id="hint" title="drag to pan, wheel to zoom">click a task for details</span>
<span id="meta">generated {generated}</span></header>
<main><div id="canvas"><svg id="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" data-sizing="{sizing}">
<g id="edges">{edges}</g><g id="nodes">{nodes}</g></svg></div>
<aside id="panel"></aside></main>
<script type="application/json" id="task-details">{details}</script>
<script>{js}</script>
</body></html>
"""
