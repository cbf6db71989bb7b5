"""``gokart.runs``, ``gokart.load_run``, ``gokart.lineage`` and ``gokart.diff``: questions asked of a workspace's runs index.

Each call syncs the index first (see ``runs.sync``: only what appeared since the last sync is read),
unless ``sync=False``. Parameters are decoded with the task class's own parameters when the class is
known (``Train`` or ``'module:Train'``), so a column holds Python values: floats, ints, dates, and an
upstream task as ``Family_<unique id>``.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import luigi

from gokart.core.task_names import decoded_task_instance, task_class_named
from gokart.errors import GokartError
from gokart.records import lineage as journal
from gokart.runs import index, row
from gokart.runs import sync as syncing
from gokart.runs import where as where_expressions
from gokart.storage import filesystem as storage
from gokart.storage import shared_workspace

T = TypeVar('T')

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
    'error': 'error',
}
FRAME_ONLY = ('output_exists', 'output_size', 'output_paths', 'requires', 'git_dirty')
"""Columns a ``where`` compares in the frame (found from the outputs on disk, or decoded), not in SQL."""
_TIMES = ('start_time', 'end_time')
MINIMUM_PREFIX = 6
"""A run may be named by this many leading characters of its unique id, or more."""


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
    """The index of ``workspace``, synced first unless ``sync`` is False (see ``answer`` for one that survives a damaged index)."""
    connection = index.connect(workspace)
    try:
        if sync:
            syncing.sync(connection, workspace)
        yield connection
    finally:
        connection.close()


def answer(workspace: str, sync: bool, question: Callable[[sqlite3.Connection], T]) -> T:
    """``question`` asked of the index of ``workspace`` (synced first unless ``sync`` is False).

    An index found damaged on the way (a torn page, random bytes) is set aside with one warning and
    rebuilt from the records, and the question asked again: the index is a cache. A full disk or
    an unwritable place is an ``IndexUnavailableError`` that says so.
    """
    for attempt in (1, 2):
        connection = index.connect(workspace)
        try:
            if sync:
                syncing.sync(connection, workspace)
            return question(connection)
        except sqlite3.DatabaseError as e:
            if attempt == 2 or not index.is_damage(e):
                raise index.unavailable(index.database_path(workspace), e) from e
            damage = e
        finally:
            connection.close()
        index.set_aside(index.database_path(workspace), damage)
    raise AssertionError('unreachable')


def sync(workspace: str | None = None) -> syncing.SyncResult:
    """Sync the index of ``workspace`` (default: the configured one) and say what was new."""
    workspace = workspace or default_workspace()
    return answer(workspace, False, lambda connection: syncing.sync(connection, workspace))


# ----- gokart.runs ---------------------------------------------------------------------------
def runs(task: Any, workspace: str | None = None, where: str | None = None, sync: bool = True) -> Any:
    """One row per recorded run of ``task``'s class: id, parameters (decoded), metrics, times, state, outputs.

    ``where`` is an expression over the columns, e.g. ``"c > 0.5 and model == 'svm'"`` (see
    ``gokart.runs.where``: comparisons only, never run as code).
    """
    cls = task_class(task)
    shared = None if workspace is not None else _shared_workspace()
    workspace = _workspace_of(task, cls, workspace)
    parsed = where_expressions.parse(where) if where else None
    frame = _runs_in(workspace, cls, parsed, sync)
    if shared is None or shared_workspace.same_place(shared, workspace):
        return frame
    # With a team cache (docs/team-cache.md) the runs recorded in the shared workspace (what CI pushed) come after the own
    # ones, marked shared: the tasks a build fetched from there instead of running.
    try:
        theirs = _runs_in(shared, cls, parsed, sync)
    except Exception as error:
        warnings.warn(
            f'the runs recorded in the shared workspace {shared} cannot be read ({type(error).__name__}: {error}); '
            'showing those of the own workspace only.',
            shared_workspace.SharedWorkspaceWarning,
            stacklevel=2,
        )
        return frame
    return _with_shared_runs(frame, theirs)


def _runs_in(workspace: str, cls: type, parsed: where_expressions.Where | None, sync: bool) -> Any:
    def question(connection: sqlite3.Connection) -> tuple[Any, bool, list[dict[str, str]]]:
        rows, applied = _select(connection, cls, parsed)
        reconcile(connection, rows, cls, workspace)
        return _frame(rows, cls, RecordedRuns(connection)), applied, [run.params for run in rows]

    frame, applied, recorded = answer(workspace, sync, question)
    if parsed is not None and not applied:
        frame = _apply(parsed, frame, recorded)
    return frame


def _apply(parsed: where_expressions.Where, frame: Any, recorded: list[dict[str, str]]) -> Any:
    """``parsed`` applied to the frame; ``model.C`` compared as the parameter ``C`` of the task each run held in ``model``."""
    dotted = sorted(n for n in parsed.names if '.' in n and n not in frame.columns)
    work = frame.copy() if dotted else frame
    for name in dotted:
        work[name] = [_leaf(params, name) for params in recorded]
    kept = where_expressions.apply(parsed, work).reset_index(drop=True)
    kept = kept.drop(columns=dotted)
    kept.attrs = {k: v for k, v in frame.attrs.items()}
    return kept


def _leaf(params: dict[str, str], dotted: str) -> Any:
    """The recorded value at ``model.C`` (a parameter of the task held in ``model``), a number when it reads as one; None if absent."""
    head, _, rest = dotted.partition('.')
    value = params.get(head)
    if value is None:
        return None
    if not rest:
        return _guess(value)
    decoded = decoded_task_instance(value)
    return _leaf(decoded[1], rest) if decoded is not None else None


def _shared_workspace() -> str | None:
    """``[gokart] shared_workspace`` as the config says now (None when unset)."""
    return shared_workspace.read_settings().workspace


def _with_shared_runs(own: Any, shared: Any) -> Any:
    """The own runs then the shared ones, with a ``shared`` column saying which is which."""
    import pandas as pd

    attrs = {name: list(dict.fromkeys([*own.attrs.get(name, []), *shared.attrs.get(name, [])])) for name in ('parameters', 'metrics')}
    own = own.assign(shared=False)
    shared = shared.assign(shared=True)
    frames = [frame for frame in (own, shared) if len(frame)] or [own]
    combined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    combined.attrs.update(attrs)
    return combined


def _select(connection: sqlite3.Connection, cls: type, parsed: where_expressions.Where | None) -> tuple[list[row.RunRow], bool]:
    base = f'{row.SELECT} WHERE class = ?'
    if parsed is not None and not (_compares_text(parsed) and _holds_nul(connection, cls)):
        try:
            columns = _SqlColumns(connection, cls, parsed)
            condition, values = where_expressions.to_sql(parsed, columns)
            _index_expressions(connection, columns.expressions)
            found = connection.execute(f'{base} AND {condition} ORDER BY start, id', [cls.__name__, *values])
            return [row.from_sql(r) for r in found], True
        except where_expressions.NotTranslatable:
            pass
        except sqlite3.OperationalError as e:  # too long for SQLite's parser ("Expression tree is too large"): the frame
            if 'too large' not in str(e) and 'too many' not in str(e) and 'stack' not in str(e):
                raise
    return [row.from_sql(r) for r in connection.execute(f'{base} ORDER BY start, id', [cls.__name__])], False


def reconcile(connection: sqlite3.Connection, runs: list[row.RunRow], cls: type | None, workspace: str) -> None:
    """Runs known only from a ``task_params`` record (``STARTED``) whose outputs exist: killed after the dump.

    Such a run left no ``task_log`` and no journal line (on an object store the unpublished chunk dies
    with the process), yet its output is complete and a build loads it. Its output paths are those
    of the task rebuilt from its recorded parameters (under the recorded id); when they all exist the
    index records them and ``SUCCESS``, so the run is not ``STARTED`` forever.
    """
    for run in runs:
        if cls is None or run.state != 'STARTED' or run.outputs or run.source != syncing.FROM_LOG_RECORDS:
            continue
        paths = _rebuilt_outputs(cls, run, workspace)
        if not paths or not all(storage.exists(p) for p in paths):
            continue
        run.outputs, run.state = [syncing.normal_path(p) for p in paths], 'SUCCESS'
        connection.execute(
            'UPDATE runs SET outputs = ?, state = ? WHERE class = ? AND id = ? AND state = ?',
            (json.dumps(run.outputs), run.state, *run.key, 'STARTED'),
        )
        connection.execute('DELETE FROM produced WHERE class = ? AND id = ?', run.key)
        connection.executemany('INSERT INTO produced VALUES (?, ?, ?)', [(p, *run.key) for p in run.outputs])


def _rebuilt_outputs(cls: type, run: row.RunRow, workspace: str) -> list[str]:
    from gokart.utils import flatten

    if not hasattr(cls, 'get_params') or cls.__name__ != run.task_class:
        return []
    try:
        kwargs: dict[str, Any] = {}
        for name, parameter in cls.get_params():
            if name in run.params:
                kwargs[name] = parameter.parse(run.params[name])
        if 'workspace_directory' in dict(cls.get_params()) and 'workspace_directory' not in kwargs:
            kwargs['workspace_directory'] = workspace
        task = cls(**kwargs)
        rebuilt = str(task.make_unique_id())
        paths = [str(t.path()) for t in flatten(task.output()) if hasattr(t, 'path')]
    except Exception:  # the class changed since: its records say no more
        return []
    if not paths or not all(rebuilt in p for p in paths):
        return []
    return [p.replace(rebuilt, run.id) for p in paths]


def _compares_text(parsed: where_expressions.Where) -> bool:
    return any(isinstance(node, ast.Constant) and isinstance(node.value, str) for node in ast.walk(parsed.tree))


def _holds_nul(connection: sqlite3.Connection, cls: type) -> bool:
    """Whether a recorded parameter of ``cls`` holds a NUL: SQLite's JSON functions cut text there, so the frame compares."""
    return connection.execute('SELECT 1 FROM meta WHERE key = ?', (syncing.NUL_KEY + cls.__name__,)).fetchone() is not None


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
        if name in FRAME_ONLY:
            raise where_expressions.NotTranslatable(name)
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
            # A typo of a column (metrics included) is refused naming it; any other name is a metric no run
            # has recorded yet: no run matches it (NULL compares false), as no row of the frame would.
            where_expressions.unknown(name, self._columns(), self._text)
            return where_expressions.SqlColumn('NULL', (), _same)
        return where_expressions.SqlColumn(f'coalesce(json_extract(metrics, {literal}), json_extract(params, {literal}))', (), _same)

    def _columns(self) -> list[str]:
        metrics: dict[str, None] = {}
        for (text,) in self._connection.execute(
            'SELECT DISTINCT metrics FROM runs WHERE class = ? AND metrics IS NOT NULL', (self._cls.__name__,)
        ):
            metrics.update(dict.fromkeys(_json_object(text)))
        parameters = [n for n, p in self._parameters.items() if p.significant]
        return [*BUILT_IN, *FRAME_ONLY, *parameters, *metrics]


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
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise where_expressions.WhereError(
                f'{value!r} is not a time gokart can read: write it as ISO 8601, e.g. "2026-12-08" or "2026-12-08 09:30:00"'
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    return value


def _frame(runs: list[row.RunRow], cls: type | None, recorded: RecordedRuns) -> Any:
    import pandas as pd

    decoder = _Decoder(cls)
    records = []
    metric_names: dict[str, None] = {}
    # The class's significant parameters are columns even before any run of it is recorded.
    parameter_names: dict[str, None] = dict.fromkeys(
        n for n, p in (cls.get_params() if cls is not None and hasattr(cls, 'get_params') else []) if p.significant
    )
    sizes = output_sizes([path for run in runs for path in run.outputs])
    for run in runs:
        record: dict[str, Any] = {'unique_id': run.id, 'family': run.family or run.task_class}
        for name, value in run.params.items():
            parameter_names.setdefault(name)
            upstream = upstream_label(run, name, value, recorded)
            record[name] = upstream if upstream is not None else decoder.decode(name, value)
        for name, number in (run.metrics or {}).items():
            metric_names.setdefault(name)
            record[('metric_' + name) if name in record else name] = number
        found = [sizes.get(path) for path in run.outputs]
        record.update(
            start_time=syncing.utc(run.start),
            end_time=syncing.utc(run.end),
            processing_time=run.processing_time,
            state=run.state,
            output_paths=run.outputs,
            output_size=sum(s for s in found if s is not None) if run.outputs and all(s is not None for s in found) else None,
            output_exists=bool(run.outputs) and all(s is not None for s in found),
            output_schemas=[run.schemas.get(path) for path in run.outputs] if run.schemas else None,
            requires=[f'{r.get("family") or r.get("class")}_{r.get("id")}' for r in run.requires],
            error=run.error,
            scheme=run.scheme,
            code_fingerprint=run.code_fingerprint,
            git_commit=run.git_commit,
            git_dirty=None if run.git_dirty is None else bool(run.git_dirty),
            host=run.host,
            user=run.user,
            source=run.source,
            output_hashes=[_digest(c) for c in run.contents] if len(run.contents) == len(run.outputs) else [None] * len(run.outputs),
            cutoff_from=f'{run.cutoff_from.get("family") or run.cutoff_from.get("class")}_{run.cutoff_from.get("id")}'
            if run.cutoff_from
            else None,
        )
        records.append(record)
    columns = ['unique_id', 'family', *parameter_names, *(n if n not in parameter_names else 'metric_' + n for n in metric_names)]
    rest = ['start_time', 'end_time', 'processing_time', 'state', 'output_paths', 'output_size', 'output_exists', 'output_schemas']
    rest += ['requires', 'error']
    rest += ['scheme', 'code_fingerprint', 'git_commit', 'git_dirty', 'host', 'user', 'source', 'output_hashes', 'cutoff_from']
    frame = pd.DataFrame.from_records(records, columns=columns + rest)
    for name in ('start_time', 'end_time'):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame.attrs['parameters'] = list(parameter_names)
    frame.attrs['metrics'] = [n if n not in parameter_names else 'metric_' + n for n in metric_names]
    return frame


def _digest(content: Any) -> str | None:
    """The content hash a run recorded for one output (``storage.content_hash``), None where it recorded none."""
    digest = content.get('hash') if isinstance(content, dict) else None
    return digest if isinstance(digest, str) else None


class RecordedRuns:
    """The ids of the recorded runs of a family with given parameters, each family read once per query."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._families: dict[str, list[tuple[str, dict[str, str]]]] = {}

    def ids(self, family: str, params: dict[str, str]) -> set[str]:
        if family not in self._families:
            found = self._connection.execute(
                'SELECT id, params FROM runs WHERE family = ? OR (family IS NULL AND class = ?)', (family, family)
            )
            self._families[family] = [(unique_id, _json_object(text)) for unique_id, text in found]
        return {unique_id for unique_id, recorded in self._families[family] if recorded == params}


def _json_object(text: str) -> dict[str, str]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def upstream_label(run: row.RunRow, name: str, value: str, recorded: RecordedRuns) -> Any:
    """``Family_<id>`` of the task the run held in its parameter ``name``, with an id from the records; None for other parameters.

    The id is the one the run read: ``task_params`` of its record; else its one requirement of that
    family; else the one recorded run of that family with those parameters. It is never computed
    again from the parameters: under today's settings (a code fingerprint turned on, an edited
    class) that would name a run that did not happen. When the records leave it open, the task is
    shown as ``Family(name=value, ...)``.
    """
    decoded = decoded_task_instance(value)
    elements = None if decoded is not None else _task_list(value)
    if decoded is None and elements is None:
        return None
    recorded_ids = run.task_params.get(name)
    if decoded is not None:
        if isinstance(recorded_ids, str):
            return f'{decoded[0]}_{recorded_ids}'
        return _label_from_records(run, value, recorded)
    assert elements is not None
    if isinstance(recorded_ids, list) and len(recorded_ids) == len(elements):
        return [f'{(decoded_task_instance(e) or ("?", {}))[0]}_{i}' for e, i in zip(elements, recorded_ids, strict=True)]
    return [_label_from_records(run, e, recorded) for e in elements]


def _label_from_records(run: row.RunRow, value: str, recorded: RecordedRuns) -> str:
    family, params = decoded_task_instance(value) or ('?', {})
    required = {str(r.get('id')) for r in run.requires if (r.get('family') or r.get('class')) == family}
    if len(required) != 1:
        same = recorded.ids(family, params)
        required = (same & required) if required else same
    if len(required) == 1:
        return f'{family}_{required.pop()}'
    return readable_task(value)


def readable_task(value: str) -> str:
    """A serialized task as ``Family(name=value, ...)``, tasks inside it as ``Family(...)``."""
    decoded = decoded_task_instance(value)
    if decoded is None:
        return value
    inner = ', '.join(f'{k}={v}' for k, v in readable_params(decoded[1], nested=True).items())
    return f'{decoded[0]}({inner})'


def _task_list(value: str) -> list[str] | None:
    if not value.startswith('['):
        return None
    try:
        found = json.loads(value)
    except ValueError:
        return None
    if isinstance(found, list) and found and all(isinstance(v, str) and decoded_task_instance(v) is not None for v in found):
        return found
    return None


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
def find_runs(connection: sqlite3.Connection, text: str) -> list[row.RunRow]:
    """The recorded runs ``text`` names: a full unique id, a prefix of 6 or more characters, or ``Family_<id or prefix>``.

    The one id grammar of ``load_run``, ``lineage``, ``diff`` and the commands. Every character is
    itself: ``%`` and ``_`` are compared as they are (no SQL pattern is made of the text).
    """
    if not isinstance(text, str):
        raise TypeError(f'a run is named by its unique id (a str), not {type(text).__name__}')
    found = _by_id(connection, text)
    if not found and '_' in text:
        family, _, unique_id = text.rpartition('_')
        found = [r for r in _by_id(connection, unique_id) if family in (r.family, r.task_class)]
    return found


def _by_id(connection: sqlite3.Connection, text: str) -> list[row.RunRow]:
    exact = [row.from_sql(r) for r in connection.execute(f'{row.SELECT} WHERE id = ?', (text,))]
    if exact or len(text) < MINIMUM_PREFIX:
        return exact
    # A range of the index, not LIKE: the text is a prefix of characters, never a pattern.
    upper = text[:-1] + chr(ord(text[-1]) + 1) if ord(text[-1]) < 0x10FFFF else text + '\U0010ffff'
    candidates = connection.execute(f'{row.SELECT} WHERE id >= ? AND id < ?', (text, upper))
    return [run for run in map(row.from_sql, candidates) if run.id.startswith(text)]


def find_run(connection: sqlite3.Connection, text: str) -> row.RunRow:
    """The one recorded run ``text`` names (see ``find_runs``); ``RunNotFoundError`` lists the candidates when several match."""
    found = find_runs(connection, text)
    if not found:
        hint = '' if len(text) >= MINIMUM_PREFIX or '_' in text else f' (a prefix needs {MINIMUM_PREFIX} characters or more)'
        raise RunNotFoundError(f'no recorded run has the unique id {text!r}{hint}; its log/ records and lineage journals were searched')
    if len(found) > 1:
        names = sorted(r.label for r in found)
        shown = ', '.join(names[:10]) + (f' and {len(names) - 10} more' if len(names) > 10 else '')
        raise RunNotFoundError(f'{text!r} names several recorded runs ({shown}): give more of the id')
    return found[0]


def load_run(unique_id: str, workspace: str | None = None, sync: bool = True) -> Any:
    """The output of the recorded run ``unique_id`` names (full, a prefix of 6 or more characters, or ``Family_<id>``); a list for several outputs."""
    from gokart.target import make_target

    workspace = workspace or default_workspace()
    run = answer(workspace, sync, lambda connection: find_run(connection, unique_id))
    missing = [path for path in run.outputs if not storage.exists(path)]
    if run.state == 'FAILURE' and (missing or not run.outputs):
        raise RunNotFoundError(f'the run {run.label} failed: {run.error or "no error was recorded"}; it left no output to load')
    if not run.outputs:
        raise RunNotFoundError(f'the run {run.label} recorded no output path (state {run.state}): nothing to load')
    if missing:
        raise FileNotFoundError(f'the output of the run {run.label} is gone: {", ".join(missing)}; build the task again to make it')
    loaded = [make_target(path).load() for path in run.outputs]
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
    rows = answer(workspace, sync, lambda connection: _walk(connection, path_or_task, direction, depth))
    columns = ['depth', 'family', 'unique_id', 'parent', 'path', 'params', 'state', 'start_time', 'output_paths']
    return pd.DataFrame.from_records(rows, columns=columns)


def _walk(connection: sqlite3.Connection, path_or_task: Any, direction: str, depth: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
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
            rows.append(_lineage_row(key, parent, path, details.get(key), current_depth))
            if direction == 'up':
                following.extend((r, key, p) for r, p in _inputs_of(connection, key))
            else:
                following.extend((c, key, p) for c, p in _consumers_of_run(connection, key))
        level = following
        current_depth += 1
    return rows


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
    producers = [(found[0], found[1]) for found in connection.execute('SELECT class, id FROM produced WHERE path = ?', (path,))]
    if producers:
        return _Start(producers, path, False)
    if connection.execute('SELECT 1 FROM edges WHERE path = ? LIMIT 1', (path,)).fetchone() is not None:
        return _Start([], path, False)
    by_id = find_runs(connection, spec)
    if len({r.id for r in by_id}) > 1:
        find_run(connection, spec)  # raises, naming the candidates
    if by_id:
        return _Start([r.key for r in by_id], None, True)
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


def _details(connection: sqlite3.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], row.RunRow]:
    found: dict[tuple[str, str], row.RunRow] = {}
    ids = sorted({key[1] for key in keys})
    for start in range(0, len(ids), 500):  # SQLite's limit on bound values
        chunk = ids[start : start + 500]
        query = f'{row.SELECT} WHERE id IN ({", ".join("?" for _ in chunk)})'
        for run in map(row.from_sql, connection.execute(query, chunk)):
            found[run.key] = run
    return found


def _lineage_row(
    key: tuple[str, str], parent: tuple[str, str] | None, path: str | None, run: row.RunRow | None, depth: int
) -> dict[str, Any]:
    return {
        'depth': depth,
        'family': (run.family if run is not None else None) or key[0],
        'unique_id': key[1],
        'parent': f'{parent[0]}_{parent[1]}' if parent else None,
        'path': path,
        'params': readable_params(run.params) if run is not None else None,
        'state': run.state if run is not None else 'not recorded',
        'start_time': syncing.utc(run.start) if run is not None else None,
        'output_paths': run.outputs if run is not None else [],
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


def recorded_failure(workspace: str, task_class_name: str, unique_id: str) -> str | None:
    """The recorded error when the index's latest run of ``task_class_name`` with ``unique_id`` failed; None otherwise or when unknown.

    Asked on the way to an error message: a workspace without records, or an index that cannot be
    read, is no reason for a second error.
    """
    try:
        if storage.is_local(workspace) and not os.path.isdir(os.path.join(storage.local_path(workspace), journal.LINEAGE_DIRECTORY)):
            return None  # no journal, so no recorded failure: nothing is created to say so
        found = answer(
            workspace,
            True,
            lambda connection: connection.execute(f'{row.SELECT} WHERE class = ? AND id = ?', (task_class_name, unique_id)).fetchone(),
        )
    except Exception:
        return None
    if found is None:
        return None
    run = row.from_sql(found)
    return (run.error or 'no error was recorded') if run.state == 'FAILURE' else None
