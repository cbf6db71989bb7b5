"""``gokart.diff``: what differs between two recorded runs (parameters, upstream runs, code, outputs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gokart.runs import query
from gokart.storage import filesystem as storage


@dataclass
class RunDiff:
    """The differences between run ``a`` and run ``b``, each as (what, value in a, value in b)."""

    a: str
    b: str
    parameters: list[tuple[str, Any, Any]] = field(default_factory=list)
    upstream: list[tuple[str, Any, Any]] = field(default_factory=list)
    code: list[tuple[str, Any, Any]] = field(default_factory=list)
    output: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.parameters or self.upstream or self.code or self.output)

    def lines(self) -> list[str]:
        lines = [f'a: {self.a}', f'b: {self.b}']
        for title, items in (('parameter', self.parameters), ('upstream', self.upstream), ('code', self.code), ('output', self.output)):
            lines.extend(f'{title:9} {name}: {_short(x)} -> {_short(y)}' for name, x, y in items)
        if self.same:
            lines.append('no difference recorded')
        return lines

    def __str__(self) -> str:
        return '\n'.join(self.lines())


def diff(id_a: str, id_b: str, workspace: str | None = None, sync: bool = True) -> RunDiff:
    """Parameter, upstream and code differences between two recorded runs, and a summary of how their outputs differ."""
    workspace = workspace or query.default_workspace()
    with query.opened(workspace, sync) as connection:
        a, b = query._run_row(connection, id_a), query._run_row(connection, id_b)
    result = RunDiff(a=f'{a[0]}_{a[1]}', b=f'{b[0]}_{b[1]}')
    params_a, params_b = json.loads(a[5]), json.loads(b[5])
    for name in dict.fromkeys([*params_a, *params_b]):
        if params_a.get(name) != params_b.get(name):
            result.parameters.append((name, params_a.get(name), params_b.get(name)))
    result.upstream = _upstream_differences(json.loads(a[7]), json.loads(b[7]))
    for name, column in (('code fingerprint', 15), ('git commit', 16), ('git dirty', 17), ('id scheme', 14)):
        if a[column] != b[column] and (a[column] is not None or b[column] is not None):
            result.code.append((name, a[column], b[column]))
    result.code += _changed_functions(workspace, a, b)
    result.output = _output_differences(json.loads(a[6]), json.loads(b[6]), a[8], b[8])
    return result


def _upstream_differences(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    def by_family(requires: list[dict[str, Any]]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for r in requires:
            found.setdefault(str(r.get('family') or r.get('class')), []).append(str(r.get('id')))
        return found

    left, right = by_family(a), by_family(b)
    differences = []
    for family in dict.fromkeys([*left, *right]):
        x, y = sorted(left.get(family, [])), sorted(right.get(family, []))
        if x != y:
            differences.append((family, ', '.join(x) or None, ', '.join(y) or None))
    return differences


def _changed_functions(workspace: str, a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """Which functions changed, from the runs' ``log/code_fingerprint`` records when both have one."""
    from gokart.ids.code_fingerprint import changed_code
    from gokart.records import run_records
    from gokart.target import make_target

    parts = []
    for row in (a, b):
        path = run_records.path_in(workspace, run_records.CODE_FINGERPRINT, row[0], row[1])
        try:
            loaded = make_target(path).load() if storage.exists(path) else None
        except Exception:
            loaded = None
        parts.append(loaded if isinstance(loaded, dict) else None)
    if parts[0] is None or parts[1] is None:
        return []
    return [(f'changed {name}', parts[0].get(name), parts[1].get(name)) for name in changed_code(parts[0], parts[1])]


def _output_differences(a: list[str], b: list[str], metrics_a: str | None, metrics_b: str | None) -> list[tuple[str, Any, Any]]:
    differences: list[tuple[str, Any, Any]] = []
    ma, mb = json.loads(metrics_a) if metrics_a else {}, json.loads(metrics_b) if metrics_b else {}
    for name in dict.fromkeys([*ma, *mb]):
        if ma.get(name) != mb.get(name):
            differences.append((f'metric {name}', ma.get(name), mb.get(name)))
    if len(a) != 1 or len(b) != 1 or ma or mb:
        return differences
    frames = [_frame_or_none(path) for path in (a[0], b[0])]
    x, y = frames
    if x is None or y is None:
        return differences
    if x.shape != y.shape:
        differences.append(('shape', x.shape, y.shape))
    only_a, only_b = [c for c in x.columns if c not in y.columns], [c for c in y.columns if c not in x.columns]
    if only_a or only_b:
        differences.append(('columns', only_a or None, only_b or None))
    for column in x.columns:
        if column in y.columns and x[column].dtype != y[column].dtype:
            differences.append((f'dtype of {column}', str(x[column].dtype), str(y[column].dtype)))
    if not differences and not x.equals(y):
        differences.append(('values', 'differ', 'differ'))
    return differences


def _frame_or_none(path: str) -> Any:
    import pandas as pd

    from gokart.target import make_target

    try:
        if not storage.exists(path):
            return None
        loaded = make_target(path).load()
    except Exception:
        return None
    return loaded if isinstance(loaded, pd.DataFrame) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + '...'
