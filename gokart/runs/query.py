"""``gokart.runs``, ``gokart.load_run``, ``gokart.lineage`` and ``gokart.diff``: questions asked of a workspace's runs index.

Each call syncs the index first (see ``runs.sync``: only what appeared since the last sync is read),
unless ``sync=False``. Parameters are decoded with the task class's own parameters when the class is
known (``Train`` or ``'module:Train'``), so a column holds Python values: floats, ints, dates, and an
upstream task as ``Family_<unique id>``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import luigi

from gokart.core.task_names import decoded_task_instance, task_class_named
from gokart.errors import GokartError
from gokart.runs import index
from gokart.runs import sync as syncing
from gokart.runs import where as where_expressions
from gokart.storage import filesystem as storage

BUILT_IN = {
    'unique_id': 'id',
    'family': 'family',
    'state': 'state',
    'processing_time': 'processing_time',
    'start_time': 'start',
    'end_time': '"end"',
    'host': 'host',
    'user': 'user',
    'git_commit': 'git_commit',
    'code_fingerprint': 'code_fingerprint',
    'scheme': 'scheme',
    'source': 'source',
}
_TIMES = ('start_time', 'end_time')
_COLUMNS = 'class, id, family, module, source, params, outputs, requires, metrics, start, "end", processing_time, state, error, scheme, code_fingerprint, git_commit, git_dirty, host, user'


class RunNotFoundError(GokartError, LookupError):
    """No recorded run has the unique id asked for (or a path has no recorded producer)."""


# ----- resolving what was asked about --------------------------------------------------------
def task_class(spec: Any) -> type:
    """The task class named by ``spec``: a class, an instance's class, ``'module:Class'``, ``'module.Class'`` or a registered family."""
    if isinstance(spec, type):
        return spec
    if isinstance(spec, luigi.Task):
        return type(spec)
    if not isinstance(spec, str):
        raise TypeError(f'gokart.runs takes a task class, a task or "module:Task", not {type(spec).__name__}')
    return task_class_named(spec)


def default_workspace(cls: type | None = None) -> str:
    """The workspace a task of ``cls`` (or any TaskOnKart) writes to by default: ``workspace_directory`` as the config sets it."""
    from gokart.core.task_protocol import kart_base

    base = kart_base()  # TaskOnKart (this layer is below the tasks)
    for owner in (cls, base):
        if owner is None or not issubclass(owner, base):
            continue
        try:  # an instance reads the config as a build would ([TaskOnKart], [Class], ...)
            value = getattr(owner(), 'workspace_directory', None)
        except Exception:  # required parameters without a value: the class's own default is not known
            continue
        if isinstance(value, str):
            return value
    return './resources'


def _workspace_of(spec: Any, cls: type | None, workspace: str | None) -> str:
    if workspace is not None:
        return workspace
    found = getattr(spec, 'workspace_directory', None) if isinstance(spec, luigi.Task) else None
    if isinstance(found, str):
        return found
    return default_workspace(cls)


@contextmanager
def opened(workspace: str, sync: bool = True) -> Iterator[sqlite3.Connection]:
    """The index of ``workspace``, synced first unless ``sync`` is False."""
    connection = index.connect(workspace)
    try:
        if sync:
            syncing.sync(connection, workspace)
        yield connection
    finally:
        connection.close()


def sync(workspace: str | None = None) -> syncing.SyncResult:
    """Sync the index of ``workspace`` (default: the configured one) and say what was new."""
    workspace = workspace or default_workspace()
    connection = index.connect(workspace)
    try:
        return syncing.sync(connection, workspace)
    finally:
        connection.close()


# ----- gokart.runs ---------------------------------------------------------------------------
def runs(task: Any, workspace: str | None = None, where: str | None = None, sync: bool = True) -> Any:
    """One row per recorded run of ``task``'s class: id, parameters (decoded), metrics, times, state, outputs.

    ``where`` is an expression over the columns, e.g. ``"c > 0.5 and model == 'svm'"`` (see
    ``gokart.runs.where``: comparisons only, never run as code).
    """
    cls = task_class(task)
    workspace = _workspace_of(task, cls, workspace)
    parsed = where_expressions.parse(where) if where else None
    with opened(workspace, sync) as connection:
        rows, applied = _select(connection, cls, parsed)
        frame = _frame(rows, cls)
    if parsed is not None and not applied:
        frame = where_expressions.apply(parsed, frame).reset_index(drop=True)
    return frame


def _select(connection: sqlite3.Connection, cls: type, parsed: where_expressions.Where | None) -> tuple[list[Any], bool]:
    base = f'SELECT {_COLUMNS} FROM runs WHERE class = ?'
    if parsed is not None:
        try:
            columns = _SqlColumns(connection, cls, parsed)
            condition, values = where_expressions.to_sql(parsed, columns)
            _index_expressions(connection, columns.expressions)
            return connection.execute(f'{base} AND {condition} ORDER BY start, id', [cls.__name__, *values]).fetchall(), True
        except where_expressions.NotTranslatable:
            pass
    return connection.execute(f'{base} ORDER BY start, id', [cls.__name__]).fetchall(), False


def _index_expressions(connection: sqlite3.Connection, expressions: set[str]) -> None:
    """An index on (class, expression) for each parameter or metric a ``where`` names, made on first use.

    Filtering 100,000 runs by json_extract reads every row; with the index SQLite reads the matching
    ones. The names in the expressions are Python identifiers (``where`` only has those), so the
    JSON paths written into the SQL below carry no quote.
    """
    made = False
    for expression in sorted(expressions):
        name = 'runs_by_' + hashlib.md5(expression.encode()).hexdigest()[:16]
        if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone() is None:
            connection.execute(f'CREATE INDEX IF NOT EXISTS {name} ON runs (class, {expression})')
            made = True
    if made:
        connection.execute('ANALYZE')  # so the planner picks the most selective index


class _SqlColumns:
    """Maps a name of a ``where`` expression to SQL: a built-in column, a parameter, or a metric."""

    def __init__(self, connection: sqlite3.Connection, cls: type, parsed: where_expressions.Where) -> None:
        self._connection = connection
        self._cls = cls
        self._parameters = dict(cls.get_params()) if hasattr(cls, 'get_params') else {}
        self._text = parsed.text
        self.expressions: set[str] = set()

    def __call__(self, name: str) -> where_expressions.SqlColumn:
        if name in BUILT_IN:
            return where_expressions.SqlColumn(BUILT_IN[name], (), _time_constant if name in _TIMES else _same)
        found = self._column(name)
        self.expressions.add(found.sql)
        return found

    def _column(self, name: str) -> where_expressions.SqlColumn:
        if not name.isidentifier():  # never true for a checked where; a guard for the literal paths below
            raise where_expressions.WhereError(f'{name!r} is not a column name')
        parameter = self._parameters.get(name)
        path = f'$."{name}"'
        literal = f"'{path}'"  # written into the SQL, not bound, so that an index on the same expression applies
        if parameter is not None:
            if isinstance(parameter, (luigi.IntParameter, luigi.FloatParameter, luigi.NumericalParameter)):
                return where_expressions.SqlColumn(f'CAST(json_extract(params, {literal}) AS REAL)', (), _numeric(name))
            if type(parameter) in (
                luigi.Parameter,
                luigi.BoolParameter,
                luigi.DateParameter,
                luigi.DateHourParameter,
                luigi.EnumParameter,
            ) or isinstance(parameter, luigi.parameter.OptionalParameterMixin):
                return where_expressions.SqlColumn(f'json_extract(params, {literal})', (), _serialized(parameter))
            raise where_expressions.NotTranslatable(name)  # lists, dicts, tasks: compared as Python values in the frame
        known = self._connection.execute(
            'SELECT 1 FROM runs WHERE class = ? AND (json_extract(metrics, ?) IS NOT NULL OR json_extract(params, ?) IS NOT NULL) LIMIT 1',
            (self._cls.__name__, path, path),
        ).fetchone()
        if known is None:
            columns = [*BUILT_IN, *(n for n, p in self._parameters.items() if p.significant)]
            raise where_expressions.WhereError(
                f'where {self._text!r}: {name!r} is no column of the runs of {self._cls.__name__} '
                f'(no parameter, and no recorded run has a metric of that name); columns include {", ".join(columns)}'
            )
        return where_expressions.SqlColumn(f'coalesce(json_extract(metrics, {literal}), json_extract(params, {literal}))', (), _same)


def _same(value: Any) -> Any:
    return value


def _numeric(name: str) -> Any:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise where_expressions.WhereError(f'{name} is a number; it cannot be compared with {value!r}')
        return float(value)

    return convert


def _serialized(parameter: luigi.Parameter) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, str) and type(parameter) is not luigi.BoolParameter:
            return value
        return parameter.serialize(value)

    return convert


def _time_constant(value: Any) -> Any:
    if isinstance(value, str):
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    return value


def _frame(rows: list[Any], cls: type | None) -> Any:
    import pandas as pd

    decoder = _Decoder(cls)
    records = []
    metric_names: dict[str, None] = {}
    # The class's significant parameters are columns even before any run of it is recorded.
    parameter_names: dict[str, None] = dict.fromkeys(
        n for n, p in (cls.get_params() if cls is not None and hasattr(cls, 'get_params') else []) if p.significant
    )
    all_outputs = [path for row in rows for path in json.loads(row[6])]
    sizes = output_sizes(all_outputs)
    for row in rows:
        params = json.loads(row[5])
        metrics = json.loads(row[8]) if row[8] else {}
        outputs = json.loads(row[6])
        requires = json.loads(row[7])
        record: dict[str, Any] = {'unique_id': row[1], 'family': row[2] or row[0]}
        for name, value in params.items():
            parameter_names.setdefault(name)
            record[name] = decoder.decode(name, value)
        for name, value in metrics.items():
            metric_names.setdefault(name)
            record[('metric_' + name) if name in record else name] = value
        found = [sizes.get(path) for path in outputs]
        record.update(
            start_time=syncing.utc(row[9]),
            end_time=syncing.utc(row[10]),
            processing_time=row[11],
            state=row[12],
            output_paths=outputs,
            output_size=sum(s for s in found if s is not None) if outputs and all(s is not None for s in found) else None,
            output_exists=bool(outputs) and all(s is not None for s in found),
            requires=[f'{r.get("family") or r.get("class")}_{r.get("id")}' for r in requires],
            error=row[13],
            scheme=row[14],
            code_fingerprint=row[15],
            git_commit=row[16],
            git_dirty=None if row[17] is None else bool(row[17]),
            host=row[18],
            user=row[19],
            source=row[4],
        )
        records.append(record)
    columns = ['unique_id', 'family', *parameter_names, *(n if n not in parameter_names else 'metric_' + n for n in metric_names)]
    rest = ['start_time', 'end_time', 'processing_time', 'state', 'output_paths', 'output_size', 'output_exists', 'requires', 'error']
    rest += ['scheme', 'code_fingerprint', 'git_commit', 'git_dirty', 'host', 'user', 'source']
    frame = pd.DataFrame.from_records(records, columns=columns + rest)
    for name in ('start_time', 'end_time'):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame.attrs['parameters'] = list(parameter_names)
    frame.attrs['metrics'] = [n if n not in parameter_names else 'metric_' + n for n in metric_names]
    return frame


class _Decoder:
    """Parameter strings to Python values with the class's own parameters, each distinct string parsed once."""

    def __init__(self, cls: type | None) -> None:
        self._parameters = dict(cls.get_params()) if cls is not None and hasattr(cls, 'get_params') else {}
        self._cache: dict[tuple[str, str], Any] = {}

    def decode(self, name: str, value: str) -> Any:
        key = (name, value)
        if key not in self._cache:
            self._cache[key] = self._decoded(name, value)
        return self._cache[key]

    def _decoded(self, name: str, value: str) -> Any:
        parameter = self._parameters.get(name)
        if parameter is None:
            return _guess(value)
        try:
            parsed = parameter.parse(value)
        except Exception:  # a value the class's parameter no longer reads (the code changed): the recorded text
            return value
        return _task_label(parsed)


def _task_label(value: Any) -> Any:
    if isinstance(value, luigi.Task):
        unique_id = value.make_unique_id() if hasattr(value, 'make_unique_id') else value.task_id
        return f'{value.get_task_family()}_{unique_id}'
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, luigi.Task) for v in value):
        return type(value)(_task_label(v) for v in value)
    return value


def _guess(value: str) -> Any:
    try:
        found = json.loads(value)
    except ValueError:
        return value
    return found if isinstance(found, (int, float, bool)) else value


def output_sizes(paths: list[str]) -> dict[str, int]:
    """The size of each of ``paths`` that exists (local: a stat each; object stores: one listing per directory)."""
    sizes: dict[str, int] = {}
    remote: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        if storage.is_local(path):
            try:
                sizes[path] = os.stat(storage.local_path(path)).st_size
            except OSError:
                pass
        else:
            remote.setdefault(path.rsplit('/', 1)[0], []).append(path)
    for folder, members in remote.items():
        try:
            listed = {entry.path.rstrip('/'): entry.size for entry in storage.list_entries(folder)}
        except Exception:
            continue
        sizes.update((p, listed[p]) for p in members if p in listed)
    return sizes


# ----- gokart.load_run -----------------------------------------------------------------------
def _run_row(connection: sqlite3.Connection, unique_id: str) -> Any:
    rows = connection.execute(f'SELECT {_COLUMNS} FROM runs WHERE id = ?', (unique_id,)).fetchall()
    if not rows:
        rows = (
            connection.execute(f'SELECT {_COLUMNS} FROM runs WHERE id LIKE ?', (unique_id + '%',)).fetchall() if len(unique_id) >= 6 else []
        )
    if not rows:
        raise RunNotFoundError(f'no recorded run has the unique id {unique_id!r} (its log/ records and lineage journals were searched)')
    if len({row[1] for row in rows}) > 1:
        raise RunNotFoundError(
            f'{unique_id!r} is the start of several recorded ids ({", ".join(sorted({r[1] for r in rows}))}): give more of it'
        )
    return rows[0]


def load_run(unique_id: str, workspace: str | None = None, sync: bool = True) -> Any:
    """The output of the recorded run with ``unique_id`` (a prefix of 6 or more characters will do); a dict or list for several outputs."""
    from gokart.target import make_target

    workspace = workspace or default_workspace()
    with opened(workspace, sync) as connection:
        row = _run_row(connection, unique_id)
    outputs = json.loads(row[6])
    if not outputs:
        raise RunNotFoundError(f'the run {row[0]}_{row[1]} recorded no output path (state {row[12]}): nothing to load')
    missing = [path for path in outputs if not storage.exists(path)]
    if missing:
        raise FileNotFoundError(f'the output of the run {row[0]}_{row[1]} is gone: {", ".join(missing)}; build the task again to make it')
    loaded = [make_target(path).load() for path in outputs]
    return loaded[0] if len(loaded) == 1 else loaded


# ----- gokart.lineage ------------------------------------------------------------------------
def lineage(path_or_task: Any, direction: str = 'up', depth: int | None = None, workspace: str | None = None, sync: bool = True) -> Any:
    """The runs upstream of a file or task (what produced each input, recursively) or downstream (which runs consumed it).

    ``path_or_task``: an output path, a task, or a recorded unique id. The result is a DataFrame,
    one row per run reached: its ``depth`` (0 is the run that made the path or the task itself),
    ``family``, ``unique_id``, the ``parent`` run it was reached from, the ``path`` that links them,
    ``params`` (as recorded), ``state``, ``start_time`` and ``output_paths``.
    """
    import pandas as pd

    if direction not in ('up', 'down'):
        raise ValueError(f"lineage direction is 'up' or 'down', not {direction!r}")
    if isinstance(path_or_task, luigi.Task):
        workspace = _workspace_of(path_or_task, type(path_or_task), workspace)
    workspace = workspace or default_workspace()
    rows: list[dict[str, Any]] = []
    with opened(workspace, sync) as connection:
        start = _starting_runs(connection, path_or_task)
        seen: set[tuple[str, str]] = set()
        level: list[tuple[tuple[str, str], tuple[str, str] | None, str | None]] = []
        if direction == 'down' and isinstance(path_or_task, str) and not start.is_run:
            level = [(c, None, p) for c, p in _consumers_of_path(connection, start.path)]
            current_depth = 1
        else:
            level = [(key, None, start.path) for key in start.runs]
            current_depth = 0
        while level and (depth is None or current_depth <= depth):
            details = _details(connection, [key for key, _, _ in level])
            following: list[tuple[tuple[str, str], tuple[str, str] | None, str | None]] = []
            for key, parent, path in level:
                if key in seen:
                    continue
                seen.add(key)
                row = details.get(key)
                rows.append(_lineage_row(key, parent, path, row, current_depth))
                if direction == 'up':
                    following.extend((r, key, p) for r, p in _inputs_of(connection, key))
                else:
                    following.extend((c, key, p) for c, p in _consumers_of_run(connection, key))
            level = following
            current_depth += 1
    columns = ['depth', 'family', 'unique_id', 'parent', 'path', 'params', 'state', 'start_time', 'output_paths']
    return pd.DataFrame.from_records(rows, columns=columns)


class _Start:
    def __init__(self, runs: list[tuple[str, str]], path: str | None, is_run: bool) -> None:
        self.runs, self.path, self.is_run = runs, path, is_run


def _starting_runs(connection: sqlite3.Connection, spec: Any) -> _Start:
    if isinstance(spec, luigi.Task):
        unique_id = spec.make_unique_id() if hasattr(spec, 'make_unique_id') else spec.task_id
        return _Start([(type(spec).__name__, unique_id)], None, True)
    if not isinstance(spec, str):
        raise TypeError(f'lineage takes an output path, a task or a unique id, not {type(spec).__name__}')
    path = syncing.normal_path(spec)
    producers = [(row[0], row[1]) for row in connection.execute('SELECT class, id FROM produced WHERE path = ?', (path,))]
    if producers:
        return _Start(producers, path, False)
    if connection.execute('SELECT 1 FROM edges WHERE path = ? LIMIT 1', (path,)).fetchone() is not None:
        return _Start([], path, False)
    by_id = connection.execute('SELECT class, id FROM runs WHERE id = ?', (spec,)).fetchall()
    if by_id:
        return _Start([(row[0], row[1]) for row in by_id], None, True)
    raise RunNotFoundError(f'{spec}: no recorded run produced or read this path, and no run has this id (paths are compared as {path})')


def _inputs_of(connection: sqlite3.Connection, key: tuple[str, str]) -> list[tuple[tuple[str, str], str | None]]:
    found: dict[tuple[str, str], str | None] = {}
    for input_class, input_id, path in connection.execute('SELECT input_class, input_id, path FROM edges WHERE class = ? AND id = ?', key):
        found.setdefault((input_class, input_id), path)
    return list(found.items())


def _consumers_of_run(connection: sqlite3.Connection, key: tuple[str, str]) -> list[tuple[tuple[str, str], str | None]]:
    found: dict[tuple[str, str], str | None] = {}
    for consumer_class, consumer_id, path in connection.execute(
        'SELECT class, id, path FROM edges WHERE input_class = ? AND input_id = ?', key
    ):
        found.setdefault((consumer_class, consumer_id), path)
    return list(found.items())


def _consumers_of_path(connection: sqlite3.Connection, path: str | None) -> list[tuple[tuple[str, str], str | None]]:
    found: dict[tuple[str, str], str | None] = {}
    for consumer_class, consumer_id in connection.execute('SELECT class, id FROM edges WHERE path = ?', (path,)):
        found.setdefault((consumer_class, consumer_id), path)
    return list(found.items())


def _details(connection: sqlite3.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    ids = sorted({key[1] for key in keys})
    for start in range(0, len(ids), 500):  # SQLite's limit on bound values
        chunk = ids[start : start + 500]
        query = f'SELECT {_COLUMNS} FROM runs WHERE id IN ({", ".join("?" for _ in chunk)})'
        for row in connection.execute(query, chunk):
            found[(row[0], row[1])] = row
    return found


def _lineage_row(key: tuple[str, str], parent: tuple[str, str] | None, path: str | None, row: Any, depth: int) -> dict[str, Any]:
    return {
        'depth': depth,
        'family': (row[2] if row is not None else None) or key[0],
        'unique_id': key[1],
        'parent': f'{parent[0]}_{parent[1]}' if parent else None,
        'path': path,
        'params': readable_params(json.loads(row[5])) if row is not None else None,
        'state': row[12] if row is not None else 'not recorded',
        'start_time': syncing.utc(row[9]) if row is not None else None,
        'output_paths': json.loads(row[6]) if row is not None else [],
    }


def readable_params(params: dict[str, str], nested: bool = False) -> dict[str, str]:
    """Recorded parameter strings with each task-valued one shown as ``Family(name=value, ...)`` (tasks inside it as ``Family(...)``)."""
    shown = {}
    for name, value in params.items():
        decoded = decoded_task_instance(value)
        if decoded is None:
            shown[name] = value
        elif nested:
            shown[name] = f'{decoded[0]}(...)'
        else:
            inner = ', '.join(f'{k}={v}' for k, v in readable_params(decoded[1], nested=True).items())
            shown[name] = f'{decoded[0]}({inner})'
    return shown
