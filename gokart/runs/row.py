"""One run of the runs index, declared once: the ``runs`` table, its insert and its select are made from ``RunRow``.

Each field of :class:`RunRow` is a column. Its metadata says the SQL type, how the value is stored
(``json``: a list or dict kept as JSON text) and what a journal record must hold there (``kind``).
A new column is one new field here: the table, the insert, the select, the schema version (so an
index made before it is rebuilt) and the check of untrusted journal records follow.

A journal record is input written by another process, maybe by another version of gokart, maybe
damaged: :func:`from_journal` checks every field's type and raises :class:`BadRecord` naming the
field, so the sync can skip the line with a warning instead of indexing a wrong value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

JOURNAL_SOURCE = 'journal'


class BadRecord(ValueError):
    """A journal record whose fields do not have the types a run record has."""


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _flag(value: Any) -> bool:
    return isinstance(value, (bool, int))


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _number_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _number(v) for k, v in value.items())


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _requirement(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _text(value.get('class'))
        and _text(value.get('id'))
        and (value.get('family') is None or _text(value.get('family')))
        and (value.get('outputs') is None or _text_list(value.get('outputs')))
    )


def _requirements(value: Any) -> bool:
    return isinstance(value, list) and all(_requirement(v) for v in value)


def _task_ids(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and (_text(v) or _text_list(v)) for k, v in value.items())


def _contents(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or isinstance(v, dict) for v in value)


def _mapping(value: Any) -> bool:
    return isinstance(value, dict)


def _schemas(value: Any) -> bool:
    def declared(schema: Any) -> bool:
        return schema is None or (
            isinstance(schema, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in schema.items())
        )

    return isinstance(value, dict) and all(
        isinstance(path, str) and isinstance(entry, dict) and _text_map(entry.get('columns')) and declared(entry.get('declared'))
        for path, entry in value.items()
    )


KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    'text': (_text, 'a string'),
    'real': (_number, 'a number'),
    'integer': (_integer, 'an integer'),
    'flag': (_flag, 'true or false'),
    'text map': (_text_map, 'a mapping of names to strings'),
    'number map': (_number_map, 'a mapping of names to numbers'),
    'text list': (_text_list, 'a list of strings'),
    'requirements': (_requirements, 'a list of {class, id, family, outputs}'),
    'task ids': (_task_ids, 'a mapping of parameter names to unique ids'),
    'contents': (_contents, 'a list of {hash, size, mtime_ns} or null'),
    'mapping': (_mapping, 'a mapping'),
    'schemas': (_schemas, 'a mapping of output paths to {columns, declared}'),
}


def column(
    sql: str,
    kind: str,
    *,
    name: str | None = None,
    record: str | Callable[[dict[str, Any]], Any] | None = None,
    required: bool = False,
    json_value: bool = False,
    default: Any = None,
) -> Any:
    """A field of ``RunRow``: its SQL type, its kind (see ``KINDS``), its SQL name when not the field's, where a journal record keeps it."""
    metadata = {'sql': sql, 'kind': kind, 'name': name, 'record': record, 'required': required, 'json': json_value}
    if isinstance(default, (list, dict)):
        factory = type(default)
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _git(key: str) -> Callable[[dict[str, Any]], Any]:
    def read(record: dict[str, Any]) -> Any:
        git = record.get('git')
        if git is None:
            return None
        if not isinstance(git, dict):
            raise BadRecord(f'git is {type(git).__name__}, not a mapping')
        value = git.get(key)
        return int(value) if key == 'dirty' and isinstance(value, bool) else value

    return read


def cutoff_key(family: str, params: dict[str, str], upstream: Any, fingerprint: str | None) -> str:
    """What a run must share with another for early cutoff to let one stand in for the other (``gokart.runs.cutoff``).

    The family, the significant parameters but those holding upstream tasks (``upstream``: their
    names; their values change with any upstream id, and cutoff compares what the upstreams wrote
    instead), and the code fingerprint (None without ``code_fingerprint_check``).
    """
    own = sorted((name, value) for name, value in params.items() if name not in upstream)
    text = json.dumps([family, own, fingerprint], separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cutoff_key_of(record: dict[str, Any]) -> str | None:
    family, params, upstream = record.get('family'), record.get('params'), record.get('task_params')
    fingerprint = record.get('code_fingerprint')
    if not isinstance(family, str) or not isinstance(params, dict) or not _text_map(params) or not isinstance(upstream, dict):
        return None  # a run recorded before the journal named its upstream parameters: it stands in for nothing
    if fingerprint is not None and not isinstance(fingerprint, str):
        return None
    return cutoff_key(family, params, upstream, fingerprint)


@dataclasses.dataclass
class RunRow:
    """What the index knows of one run. Field order is column order; ``task_class`` is the SQL column ``class``."""

    task_class: str = column('TEXT NOT NULL', 'text', name='class', record='class', required=True, default='')
    id: str = column('TEXT NOT NULL', 'text', required=True, default='')
    family: str | None = column('TEXT', 'text')
    module: str | None = column('TEXT', 'text')
    source: str = column('TEXT NOT NULL', 'text', record=lambda _: JOURNAL_SOURCE, default=JOURNAL_SOURCE)
    params: dict[str, str] = column('TEXT NOT NULL', 'text map', json_value=True, default={})
    outputs: list[str] = column('TEXT NOT NULL', 'text list', json_value=True, default=[])
    requires: list[dict[str, Any]] = column('TEXT NOT NULL', 'requirements', json_value=True, default=[])
    metrics: dict[str, float] | None = column('TEXT', 'number map', json_value=True)
    start: float | None = column('REAL', 'real')
    end: float | None = column('REAL', 'real')
    processing_time: float | None = column('REAL', 'real')
    state: str | None = column('TEXT', 'text')
    error: str | None = column('TEXT', 'text')
    scheme: int | None = column('INTEGER', 'integer')
    code_fingerprint: str | None = column('TEXT', 'text')
    git_commit: str | None = column('TEXT', 'text', record=_git('commit'))
    git_dirty: int | None = column('INTEGER', 'flag', record=_git('dirty'))
    host: str | None = column('TEXT', 'text')
    user: str | None = column('TEXT', 'text')
    stream: str | None = column('TEXT', 'text')
    seq: int | None = column('INTEGER', 'integer')
    # The unique id of the task held in each TaskInstanceParameter when the run was recorded (a list for
    # a list of tasks): what the run read, which today's code may no longer compute (absent before 2026-12).
    task_params: dict[str, Any] = column('TEXT NOT NULL', 'task ids', json_value=True, default={})
    # The content hash of each output, parallel to outputs (None where not known; storage.content_hash).
    contents: list[dict[str, Any] | None] = column('TEXT NOT NULL', 'contents', json_value=True, default=[])
    # What another run must share with this one for early cutoff to reuse its outputs (cutoff_key above).
    # (Declared DEFAULT NULL so that indexes made when journals carried their own key are rebuilt.)
    cutoff_key: str | None = column('TEXT DEFAULT NULL', 'text', record=_cutoff_key_of)
    # For a cut-off run, the run its outputs came from: {class, id, end}.
    cutoff_from: dict[str, Any] | None = column('TEXT', 'mapping', json_value=True)
    # The columns and dtypes of each frame output as dumped, and the gokart.Schema it was checked against (contracts).
    schemas: dict[str, Any] = column('TEXT NOT NULL', 'schemas', json_value=True, default={})

    @property
    def key(self) -> tuple[str, str]:
        return (self.task_class, self.id)

    @property
    def label(self) -> str:
        """``Family_<id>`` as the runs table and the messages show the run."""
        return f'{self.family or self.task_class}_{self.id}'


FIELDS = dataclasses.fields(RunRow)
SQL_NAMES = [str(f.metadata['name'] or f.name) for f in FIELDS]
"""The SQL name of each field, in order."""


def _quoted(name: str) -> str:
    return f'"{name}"'


TABLE = 'CREATE TABLE IF NOT EXISTS runs (\n    {},\n    PRIMARY KEY ("class", "id")\n)'.format(
    ',\n    '.join(f'{_quoted(n)} {f.metadata["sql"]}' for n, f in zip(SQL_NAMES, FIELDS, strict=True))
)
SELECT = 'SELECT {} FROM runs'.format(', '.join(_quoted(n) for n in SQL_NAMES))
INSERT = 'INSERT OR REPLACE INTO runs ({}) VALUES ({})'.format(', '.join(_quoted(n) for n in SQL_NAMES), ', '.join('?' for _ in SQL_NAMES))
INSERT_NEW = INSERT.replace('INSERT OR REPLACE', 'INSERT OR IGNORE', 1)
SCHEMA_DIGEST = hashlib.sha256(TABLE.encode()).hexdigest()[:12]
"""Changes with the declaration: an index made by another declaration is rebuilt (it is a cache)."""


def values(row: RunRow) -> tuple[Any, ...]:
    """``row`` as the values of ``INSERT``, in column order."""
    found = []
    for f in FIELDS:
        value = getattr(row, f.name)
        found.append(json.dumps(value) if f.metadata['json'] and value is not None else value)
    return tuple(found)


def from_sql(row: sqlite3.Row | tuple[Any, ...]) -> RunRow:
    """A row of ``SELECT`` as a ``RunRow`` (JSON columns decoded)."""
    kwargs = {}
    for f, value in zip(FIELDS, row, strict=True):
        if f.metadata['json'] and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if f.metadata['json'] and value is None:
            value = _empty(f)
        kwargs[f.name] = value
    return RunRow(**kwargs)


def _reading(f: dataclasses.Field[Any]) -> tuple[str, Any, bool, Callable[[Any], bool], str, str]:
    """How ``from_journal`` reads field ``f``: its name, where the record keeps it, required, the check, the kind."""
    where = f.metadata['record'] or f.metadata['name'] or f.name
    check, expected = KINDS[f.metadata['kind']]
    return f.name, where, bool(f.metadata['required']), check, expected, f.metadata['kind']


_READINGS = [(_reading(f), f) for f in FIELDS]  # worked out once: a first sync reads every record of a workspace


def from_journal(record: Any) -> RunRow:
    """The run a journal record describes; ``BadRecord`` names the first field of an unexpected type."""
    if not isinstance(record, dict):
        raise BadRecord(f'the line holds {type(record).__name__}, not a record')
    kwargs: dict[str, Any] = {}
    for (name, where, required, check, expected, kind), f in _READINGS:
        value = where(record) if callable(where) else record.get(where)
        if value is None:
            if required:
                raise BadRecord(f'it has no {where}')
            kwargs[name] = _empty(f)
            continue
        if not check(value):
            raise BadRecord(f'{where if isinstance(where, str) else name} is {type(value).__name__} {_short(value)}, not {expected}')
        if kind == 'flag':
            value = int(bool(value))
        elif kind == 'real':
            value = float(value)
        kwargs[name] = value
    if not kwargs['metrics']:
        kwargs['metrics'] = None
    return RunRow(**kwargs)


def _empty(f: dataclasses.Field[Any]) -> Any:
    """The field's default: a fresh list or dict for the JSON columns that hold one."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'
