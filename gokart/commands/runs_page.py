"""The page of ``gokart runs --html``: one self-contained file (no network) with a sortable table and a plot.

The runs are embedded as JSON; a small script draws the table (click a header to sort) and an inline
SVG scatter plot of a chosen metric against a chosen parameter (two selects above it). The URL's
fragment may preset them: ``#sort=score:desc&x=c&y=score``.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

_HIDDEN = ('family', 'output_paths', 'error', 'scheme', 'code_fingerprint', 'host', 'user', 'source', 'end_time')


def page(frame: Any, title: str, x: str | None = None, y: str | None = None) -> str:
    """The HTML text of the page for the runs in ``frame`` (as ``gokart.runs`` returns them)."""
    columns = [str(c) for c in frame.columns if c not in _HIDDEN]
    rows = [[_cell(frame[c].iloc[i]) for c in columns] for i in range(len(frame))]
    numeric = [c for c in columns if c != 'output_size' and _is_numeric([row[columns.index(c)] for row in rows])]
    parameters = [c for c in frame.attrs.get('parameters', []) if c in numeric]
    metrics = [c for c in frame.attrs.get('metrics', []) if c in numeric]
    for flag, name in (('--x', x), ('--y', y)):
        if name is not None and name not in numeric:
            import difflib

            close = difflib.get_close_matches(name, numeric, n=1)
            hint = f'; did you mean {close[0]}?' if close else ''
            what = 'is not a number in every run' if name in columns else 'is no column of these runs'
            raise ValueError(f'{flag} {name} {what}{hint} (the plot takes one of: {", ".join(numeric) or "none"})')
    x = x or (parameters or numeric or [None])[0]
    y = y or (metrics or [c for c in numeric if c != x] or [None])[0]
    data = {'columns': columns, 'rows': rows, 'numeric': numeric, 'x': x, 'y': y}
    payload = json.dumps(data, default=str).replace('</', '<\\/')
    return _TEMPLATE.replace('{title}', html.escape(title)).replace('{data}', payload)


def write_runs_page(frame: Any, path: str, title: str, x: str | None = None, y: str | None = None) -> None:
    text = page(frame, title, x, y)  # first: a refused axis leaves no file behind
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, 'item') and not isinstance(value, (list, tuple, dict, str)):
        try:
            return _cell(value.item())
        except (ValueError, AttributeError):
            pass
    if hasattr(value, 'isoformat'):
        try:
            return value.isoformat(sep=' ', timespec='seconds')
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, (list, tuple)):
        return ', '.join(map(str, value))
    return str(value)


def _is_numeric(values: list[Any]) -> bool:
    """Numbers (or blanks) throughout, and at least one number: a column the plot can use."""
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; white-space: nowrap; }
th { cursor: pointer; background: #f4f4f4; user-select: none; }
th.sorted::after { content: " \\25B2"; } th.sorted.desc::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { border: 1px solid #ccc; background: #fff; }
circle { fill: #3366cc; fill-opacity: 0.7; } circle:hover { fill: #dc3912; }
</style></head>
<body>
<h1>{title}</h1>
<div>plot <select id="y"></select> against <select id="x"></select></div>
<svg id="plot" width="640" height="360" viewBox="0 0 640 360" role="img" aria-label="metric against parameter"></svg>
<table id="runs"><thead></thead><tbody></tbody></table>
<script type="application/json" id="data">{data}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var columns = data.columns, rows = data.rows.slice(), sortColumn = null, descending = false;
  var fragment = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (part) {
    var pair = part.split('='); if (pair[0]) fragment[pair[0]] = decodeURIComponent(pair[1] || '');
  });
  function compare(a, b) {
    if (a === b) return 0; if (a === null) return 1; if (b === null) return -1;
    return (typeof a === 'number' && typeof b === 'number') ? a - b : String(a).localeCompare(String(b));
  }
  function drawTable() {
    var head = document.querySelector('#runs thead'), body = document.querySelector('#runs tbody');
    head.innerHTML = ''; body.innerHTML = '';
    var tr = document.createElement('tr');
    columns.forEach(function (name, i) {
      var th = document.createElement('th'); th.textContent = name; th.dataset.column = name;
      if (name === sortColumn) th.className = 'sorted' + (descending ? ' desc' : '');
      th.onclick = function () { sortBy(name, name === sortColumn ? !descending : false); };
      tr.appendChild(th);
    });
    head.appendChild(tr);
    rows.forEach(function (row) {
      var tr = document.createElement('tr'); tr.className = 'run';
      row.forEach(function (value) {
        var td = document.createElement('td'); td.textContent = value === null ? '' : String(value);
        if (typeof value === 'number') td.className = 'num';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function sortBy(name, desc) {
    var i = columns.indexOf(name); if (i < 0) return;
    sortColumn = name; descending = desc;
    rows.sort(function (a, b) { var c = compare(a[i], b[i]); return desc ? -c : c; });
    drawTable();
  }
  function fill(select, chosen) {
    data.numeric.forEach(function (name) {
      var option = document.createElement('option'); option.value = name; option.textContent = name;
      if (name === chosen) option.selected = true; select.appendChild(option);
    });
    select.onchange = drawPlot;
  }
  function drawPlot() {
    var svg = document.getElementById('plot'), ns = 'http://www.w3.org/2000/svg';
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var xi = columns.indexOf(document.getElementById('x').value), yi = columns.indexOf(document.getElementById('y').value);
    svg.setAttribute('data-x', columns[xi] || ''); svg.setAttribute('data-y', columns[yi] || '');
    var points = rows.filter(function (r) { return xi >= 0 && yi >= 0 && typeof r[xi] === 'number' && typeof r[yi] === 'number'; });
    function text(x, y, s, anchor) { var t = document.createElementNS(ns, 'text'); t.setAttribute('x', x); t.setAttribute('y', y);
      t.setAttribute('text-anchor', anchor || 'middle'); t.setAttribute('font-size', '12'); t.textContent = s; svg.appendChild(t); }
    if (!points.length) { text(320, 180, 'no run has both values'); return; }
    var xs = points.map(function (r) { return r[xi]; }), ys = points.map(function (r) { return r[yi]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x0 === x1) { x0 -= 1; x1 += 1; } if (y0 === y1) { y0 -= 1; y1 += 1; }
    function px(v) { return 60 + (v - x0) / (x1 - x0) * 560; } function py(v) { return 320 - (v - y0) / (y1 - y0) * 300; }
    var axis = document.createElementNS(ns, 'path'); axis.setAttribute('d', 'M60 10 V320 H620'); axis.setAttribute('stroke', '#888');
    axis.setAttribute('fill', 'none'); svg.appendChild(axis);
    text(340, 350, columns[xi] + '  (' + x0.toPrecision(3) + ' .. ' + x1.toPrecision(3) + ')');
    text(12, 165, columns[yi], 'start'); text(56, 320, y0.toPrecision(3), 'end'); text(56, 18, y1.toPrecision(3), 'end');
    points.forEach(function (r) {
      var c = document.createElementNS(ns, 'circle'); c.setAttribute('cx', px(r[xi])); c.setAttribute('cy', py(r[yi])); c.setAttribute('r', 5);
      var title = document.createElementNS(ns, 'title'); title.textContent = r[0] + ': ' + columns[xi] + '=' + r[xi] + ', ' + columns[yi] + '=' + r[yi];
      c.appendChild(title); svg.appendChild(c);
    });
  }
  fill(document.getElementById('x'), fragment.x || data.x);
  fill(document.getElementById('y'), fragment.y || data.y);
  drawTable();
  if (fragment.sort) { var s = fragment.sort.split(':'); sortBy(s[0], s[1] === 'desc'); }
  drawPlot();
})();
</script>
</body></html>
"""
