"""``gokart.diff``: what differs between two recorded runs (parameters, upstream runs, code, outputs)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from gokart.core.task_names import decoded_task_instance
from gokart.runs import query
from gokart.runs.row import RunRow
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
    notes: list[str] = field(default_factory=list)  # what is the same where a difference was looked for (identical metrics)

    @property
    def same(self) -> bool:
        return not (self.parameters or self.upstream or self.code or self.output)

    def lines(self) -> list[str]:
        lines = [f'a: {self.a}', f'b: {self.b}']
        for title, items in (('parameter', self.parameters), ('upstream', self.upstream), ('code', self.code), ('output', self.output)):
            lines.extend(f'{title:9} {name}: {_short(x)} -> {_short(y)}' for name, x, y in items)
        lines.extend(f'{"output":9} {note}' for note in self.notes)
        if self.same:
            lines.append('no difference recorded')
        return lines

    def __str__(self) -> str:
        return '\n'.join(self.lines())


def diff(id_a: str, id_b: str, workspace: str | None = None, sync: bool = True) -> RunDiff:
    """Parameter, upstream and code differences between two recorded runs, and a summary of how their outputs differ."""
    workspace = workspace or query.default_workspace()
    a, b = query.answer(workspace, sync, lambda connection: (query.find_run(connection, id_a), query.find_run(connection, id_b)))
    result = RunDiff(a=a.label, b=b.label)
    result.parameters = parameter_differences(a.params, b.params)
    result.upstream = _upstream_differences(a.requires, b.requires)
    for name, attribute in (
        ('code fingerprint', 'code_fingerprint'),
        ('git commit', 'git_commit'),
        ('git dirty', 'git_dirty'),
        ('id scheme', 'scheme'),
    ):
        x, y = getattr(a, attribute), getattr(b, attribute)
        if x != y and (x is not None or y is not None):
            result.code.append((name, x, y))
    result.code += _changed_functions(workspace, a, b)
    schema_changes, both_recorded = _schema_differences(a, b)
    output = _output_differences(a.outputs, b.outputs, a.metrics, b.metrics, columns_known=both_recorded)
    if schema_changes:  # a changed column is the difference to show, not that the values then differ too
        output = [change for change in output if change[0] != 'values']
    result.output = output + schema_changes
    if a.metrics and b.metrics and a.metrics == b.metrics:
        result.notes.append('metrics identical (' + ', '.join(f'{k}={v:g}' for k, v in a.metrics.items()) + ')')
    return result


def parameter_differences(a: dict[str, str], b: dict[str, str], prefix: str = '') -> list[tuple[str, Any, Any]]:
    """The recorded parameters that differ, a task held in a parameter compared leaf by leaf (``model.C: 1.0 -> 10.0``).

    Two tasks of different classes differ as a whole, each shown as ``Family(name=value, ...)``; the
    records are decoded as they are, so the modules defining the classes need not be importable.
    """
    differences: list[tuple[str, Any, Any]] = []
    for name in dict.fromkeys([*a, *b]):
        x, y = a.get(name), b.get(name)
        if x == y:
            continue
        task_x, task_y = decoded_task_instance(x), decoded_task_instance(y)
        if task_x is not None and task_y is not None and task_x[0] == task_y[0]:
            differences += parameter_differences(task_x[1], task_y[1], prefix=f'{prefix}{name}.')
            continue
        differences.append((prefix + name, _readable(x), _readable(y)))
    return differences


def _readable(value: str | None) -> Any:
    if value is None:
        return None
    decoded = decoded_task_instance(value)
    if decoded is None:
        return value
    return query.readable_task(value)


def _schema_differences(a: RunRow, b: RunRow) -> tuple[list[tuple[str, Any, Any]], bool]:
    """Columns, dtypes and declared schemas that changed between the runs' frame outputs, from what each run recorded at dump.

    Outputs are paired by position (the runs are of one class); the second value says whether every output
    of both runs has a recorded schema, so their files need not be loaded to compare columns.
    """
    differences: list[tuple[str, Any, Any]] = []
    pairs = list(zip(a.outputs, b.outputs, strict=False))
    recorded = [(a.schemas.get(x), b.schemas.get(y), _output_label(x, a.id)) for x, y in pairs]
    for left, right, label in recorded:
        if not isinstance(left, dict) or not isinstance(right, dict):
            continue
        x, y = left.get('columns') or {}, right.get('columns') or {}
        only_a, only_b = [c for c in x if c not in y], [c for c in y if c not in x]
        if only_a or only_b:
            differences.append((f'columns of {label}', only_a or None, only_b or None))
        for column in x:
            if column in y and x[column] != y[column]:
                differences.append((f'dtype of {column} in {label}', x[column], y[column]))
        if left.get('declared') != right.get('declared'):
            differences.append((f'declared schema of {label}', _schema_text(left.get('declared')), _schema_text(right.get('declared'))))
    both = bool(pairs) and all(isinstance(left, dict) and isinstance(right, dict) for left, right, _ in recorded)
    return differences, both


def _output_label(path: str, unique_id: str) -> str:
    return os.path.basename(path).replace(f'_{unique_id}', '')


def _schema_text(declared: Any) -> str | None:
    if not isinstance(declared, dict):
        return None
    return ', '.join(name if dtype is None else f'{name}: {dtype}' for name, dtype in declared.items())


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


def _changed_functions(workspace: str, a: RunRow, b: RunRow) -> list[tuple[str, Any, Any]]:
    """Which functions changed, from the runs' ``log/code_fingerprint`` records when both have one."""
    from gokart.ids.code_fingerprint import changed_code
    from gokart.records import run_records
    from gokart.target import make_target

    parts = []
    for run in (a, b):
        path = run_records.path_in(workspace, run_records.CODE_FINGERPRINT, run.task_class, run.id)
        try:
            loaded = make_target(path).load() if storage.exists(path) else None
        except Exception:
            loaded = None
        parts.append(loaded if isinstance(loaded, dict) else None)
    if parts[0] is None or parts[1] is None:
        return []
    return [(f'changed {name}', parts[0].get(name), parts[1].get(name)) for name in changed_code(parts[0], parts[1])]


def _output_differences(
    a: list[str], b: list[str], metrics_a: dict[str, float] | None, metrics_b: dict[str, float] | None, columns_known: bool = False
) -> list[tuple[str, Any, Any]]:
    differences: list[tuple[str, Any, Any]] = []
    ma, mb = metrics_a or {}, metrics_b or {}
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
    if not columns_known:  # else the recorded schemas said it (_schema_differences)
        only_a, only_b = [c for c in x.columns if c not in y.columns], [c for c in y.columns if c not in x.columns]
        if only_a or only_b:
            differences.append(('columns', only_a or None, only_b or None))
        for column in x.columns:
            if column in y.columns and x[column].dtype != y[column].dtype:
                differences.append((f'dtype of {column}', str(x[column].dtype), str(y[column].dtype)))
    if not differences and not x.equals(y):
        differences.append(_changed_values(x, y))
    return differences


SHOWN_VALUES = 3  # changed cells named in a diff of two frames


def _changed_values(x: Any, y: Any) -> tuple[str, Any, Any]:
    """How two frames of one shape, columns and dtypes differ: how many rows, and the first few changed cells."""
    import pandas as pd

    try:
        left, right = x.reset_index(drop=True), y.reset_index(drop=True)
        changed = ~((left == right) | (left.isna() & right.isna()))
        rows = int(changed.any(axis=1).sum())
        cells = [(r, c) for c in changed.columns for r in changed.index[changed[c]]][:SHOWN_VALUES]
        before = {f'{c}[{r}]': _plain(left.at[r, c]) for r, c in cells}
        after = {f'{c}[{r}]': _plain(right.at[r, c]) for r, c in cells}
        return (f'values ({rows} of {len(left)} rows differ)', before, after)
    except (TypeError, ValueError, pd.errors.InvalidIndexError):  # cells that do not compare (objects, lists)
        return ('values', 'differ', 'differ')


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, 'item') else value


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
