"""Bring a workspace's runs index up to date with its records, reading only what appeared since the last sync.

Two sources, each listed once per sync:

- the lineage journals (``.gokart/lineage/``): a chunk already read is skipped; a journal still
  being appended to (``.open``, local) is read from where the last sync stopped, whole lines only;
- the ``log/`` records of gokart 1.12 (``task_params``, ``task_log``), so runs made before the journal
  existed (or by gokart 1.12 itself) appear too, with what those records say. A run the journal
  knows is not read from ``log/``. On a local disk a directory whose modification time has not
  changed since the last sync is not even listed.

Records on an object store are read in parallel. Everything is written in one transaction, under
SQLite's write lock, so concurrent syncs and builds never leave a half-written or duplicated run.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import pickle
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from gokart.records import lineage, run_records
from gokart.runs import row
from gokart.storage import content_hash
from gokart.storage import filesystem as storage

logger = logging.getLogger(__name__)

T = TypeVar('T')
R = TypeVar('R')

FROM_LOG_RECORDS = 'log records'
"""The ``source`` of a run known only from its ``log/`` records (runs from the journal say ``'journal'``)."""
READERS = 16  # parallel reads on an object store
# A directory changed this recently may still change within the same timestamp tick: not trusted as unchanged.
_SETTLED_SECONDS = 2.0
_METRICS_FILE_LIMIT = 64 * 1024


@dataclass
class SyncResult:
    """What a sync found: new journal records, runs read from ``log/``, and files read."""

    journal_records: int = 0
    log_runs: int = 0
    files_read: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.journal_records or self.log_runs)


def sync(connection: sqlite3.Connection, workspace: str) -> SyncResult:
    """Index what ``workspace``'s records say that ``connection`` does not know yet."""
    result = SyncResult()
    connection.execute('BEGIN IMMEDIATE')
    try:
        _sync_journals(connection, workspace, result)
        _sync_log_records(connection, workspace, result)
        connection.execute('COMMIT')
    except BaseException:
        if connection.in_transaction:  # SQLite rolls back itself on some errors (a full disk): the first error is the one to tell
            connection.execute('ROLLBACK')
        raise
    return result


def sync_journals(connection: sqlite3.Connection, workspace: str) -> SyncResult:
    """``sync`` of the lineage journals only: what a build asks between its tasks (early cutoff), where the ``log/`` records of
    the tasks running meanwhile would only be read to be superseded by their journal lines."""
    result = SyncResult()
    connection.execute('BEGIN IMMEDIATE')
    try:
        _sync_journals(connection, workspace, result)
        connection.execute('COMMIT')
    except BaseException:
        connection.execute('ROLLBACK')
        raise
    return result


# ----- journals ------------------------------------------------------------------------------
def _journal_entries(folder: str) -> list[tuple[str, int]]:
    if storage.is_local(folder):
        try:
            with os.scandir(storage.local_path(folder)) as entries:
                return [(entry.path, entry.stat().st_size) for entry in entries if lineage.is_journal(entry.name)]
        except (FileNotFoundError, NotADirectoryError):
            return []
    try:
        return [(entry.path, entry.size) for entry in storage.list_entries(folder) if lineage.is_journal(entry.path)]
    except FileNotFoundError:
        return []


def _sync_journals(connection: sqlite3.Connection, workspace: str, result: SyncResult) -> None:
    known = dict(connection.execute('SELECT stem, offset FROM journals').fetchall())
    wanted = []
    new_bytes = 0
    for path, size in _journal_entries(lineage.directory(workspace)):
        offset = known.get(lineage.chunk_stem(path), 0)
        if size > offset:
            wanted.append((path, offset))
            new_bytes += size - offset
    if not wanted:
        return
    local = storage.is_local(workspace)
    # Many new records (a first sync): what is indexed already is read in one pass, not asked per run.
    existing = _Existing(connection, everything=new_bytes > 1_000_000)
    ours = lineage.workspace_id(workspace)
    for chunk in _map(_read_journal, wanted, parallel=not local):
        result.files_read += 1
        _leave_out_foreign(chunk, ours)
        result.journal_records += _store_journal_records(connection, chunk, existing)
        connection.execute('INSERT OR REPLACE INTO journals VALUES (?, ?)', (lineage.chunk_stem(chunk.path), chunk.offset + chunk.consumed))


@dataclass
class _Chunk:
    """The whole lines of a journal read from ``offset``: each parsed line with its line number, and the bytes they span."""

    path: str
    offset: int
    lines: list[tuple[int, Any]]
    consumed: int
    unreadable: list[int]


def _read_journal(entry: tuple[str, int]) -> _Chunk:
    path, offset = entry
    try:
        if storage.is_local(path):
            with open(storage.local_path(path), 'rb') as f:
                before = f.read(offset).count(b'\n') if offset else 0  # line numbers count from the file's start
                data = f.read()
        else:
            with storage.open_read(path) as f:  # published objects never change: read whole
                data, before = f.read(), 0
    except FileNotFoundError:  # an open journal renamed to .jsonl between the listing and the read: next sync
        return _Chunk(path, offset, [], 0, [])
    end = data.rfind(b'\n') + 1  # a partial last line is left for the next sync
    chunk = _Chunk(path, offset, [], end, [])
    for number, line in enumerate(data[:end].split(b'\n')[:-1], start=before + 1):
        if not line.strip():
            continue
        try:
            chunk.lines.append((number, json.loads(line)))
        except ValueError:  # torn by a crash mid-write (or damaged): skipped with a warning
            chunk.unreadable.append(number)
    return chunk


NUL_KEY = 'nul parameters:'
"""``meta`` key (with the class name after it) marking a class with a parameter value that holds a NUL byte."""


def note_nul_parameters(connection: sqlite3.Connection, runs: list[row.RunRow]) -> None:
    """Mark each class with a recorded parameter holding a NUL: SQLite's JSON functions cut text there, so ``where``
    compares that class's text in the frame (noted as records arrive, so a query need not scan for it)."""
    classes = {run.task_class for run in runs if any('\x00' in value for value in run.params.values())}
    connection.executemany('INSERT OR REPLACE INTO meta VALUES (?, ?)', [(NUL_KEY + c, '1') for c in classes])


def _leave_out_foreign(chunk: _Chunk, ours: str | None) -> None:
    """Drop the lines of ``chunk`` written in another workspace (a chunk copied here), with one warning.

    Each line carries the ``workspace_id`` of the workspace it was written in (``lineage.workspace_id``);
    lines without one (older journals) are taken, as are all when this workspace has no id yet.
    """
    if ours is None:
        return
    kept, foreign = [], set()
    for number, record in chunk.lines:
        other = record.get('workspace_id') if isinstance(record, dict) else None
        if other is not None and other != ours:
            foreign.add(str(other))
        else:
            kept.append((number, record))
    if foreign:
        logger.warning(
            f'gokart runs: left out {len(chunk.lines) - len(kept)} record(s) of the lineage journal {chunk.path}: they were written in '
            f'another workspace (workspace id {", ".join(sorted(foreign))}, this one is {ours}); was the file copied here?'
        )
        chunk.lines = kept


def _store_journal_records(connection: sqlite3.Connection, chunk: _Chunk, known: _Existing) -> int:
    """Index a journal's records in a few statements: the latest run of each id wins, a log/-only row gives way.

    A line that is not a run record of the expected types is skipped with one warning naming the
    file and line: it is never indexed, so it can never break a query. Returns how many records were read.
    """
    latest: dict[tuple[str, str], row.RunRow] = {}
    bad: list[str] = [f'line {n}: not JSON' for n in chunk.unreadable]
    contents: list[tuple[str, str, int | None, int | None, float | None]] = []
    for number, record in chunk.lines:
        if isinstance(record, dict) and record.get('kind') == lineage.CONTENT_KIND:
            contents.extend(_content_rows(record))
            continue
        try:
            run = row.from_journal(record)
        except row.BadRecord as e:
            bad.append(f'line {number}: {e}')
            continue
        before = latest.get(run.key)
        if before is None or (run.end or 0) >= (before.end or 0):
            latest[run.key] = run
    if bad:
        shown = '; '.join(bad[:3]) + (f'; and {len(bad) - 3} more' if len(bad) > 3 else '')
        logger.warning(f'gokart runs: skipped {len(bad)} unreadable record(s) of the lineage journal {chunk.path} ({shown})')
    connection.executemany('INSERT INTO contents VALUES (?, ?, ?, ?, ?)', contents)
    if not latest:
        return 0
    existing = known.of(list(latest))
    rows: list[row.RunRow] = []
    edges: list[tuple[str, str, str, str, str | None]] = []
    produced: list[tuple[str, str, str]] = []
    replaced: list[tuple[str, str]] = []
    output_contents: list[tuple[str, str, int | None, int | None, float | None]] = []
    for key, run in latest.items():
        found = existing.get(key)
        if found is not None:
            if found[0] == row.JOURNAL_SOURCE and (found[1] or 0) > (run.end or 0):
                continue  # a later run of the same id is indexed already
            replaced.append(key)
        run.outputs = [normal_path(p) for p in run.outputs]
        rows.append(run)
        for required in run.requires:
            identity = (required['class'], required['id'])
            paths: list[str | None] = [normal_path(p) for p in required.get('outputs') or []] or [None]
            edges.extend((*key, *identity, path) for path in paths)
        produced.extend((p, *key) for p in run.outputs)
        if run.state == 'SUCCESS':
            output_contents.extend(_output_content_rows(run))
    connection.executemany('DELETE FROM edges WHERE class = ? AND id = ?', replaced)
    connection.executemany('DELETE FROM produced WHERE class = ? AND id = ?', replaced)
    connection.executemany(row.INSERT, [row.values(r) for r in rows])
    note_nul_parameters(connection, rows)
    connection.executemany('INSERT INTO edges VALUES (?, ?, ?, ?, ?)', edges)
    connection.executemany('INSERT INTO produced VALUES (?, ?, ?)', produced)
    connection.executemany('INSERT INTO contents VALUES (?, ?, ?, ?, ?)', output_contents)
    known.learn([r.key for r in rows], [(row.JOURNAL_SOURCE, r.end) for r in rows])
    return len(chunk.lines)


def _content_rows(record: dict[str, Any]) -> list[tuple[str, str, int | None, int | None, float | None]]:
    """The row of a journal line remembering one file's hash; none for a malformed line."""
    found = content_hash.Content.from_record(record)
    path = record.get('path')
    if found is None or not isinstance(path, str):
        return []
    end = record.get('end')
    return [
        (
            normal_path(path),
            found.digest,
            found.size,
            found.mtime_ns,
            float(end) if isinstance(end, (int, float)) and not isinstance(end, bool) else None,
        )
    ]


def _output_content_rows(run: row.RunRow) -> list[tuple[str, str, int | None, int | None, float | None]]:
    """A row per output whose content the run recorded (``contents`` parallel to ``outputs``)."""
    if len(run.contents) != len(run.outputs):
        return []
    rows = []
    for path, value in zip(run.outputs, run.contents, strict=True):
        found = content_hash.Content.from_record(value)
        if found is not None:
            rows.append((path, found.digest, found.size, found.mtime_ns, run.end))
    return rows


class _Existing:
    """(source, end) of the runs already indexed: all read at once for a big sync, else asked run by run."""

    def __init__(self, connection: sqlite3.Connection, everything: bool) -> None:
        self._connection = connection
        self._all: dict[tuple[str, str], tuple[str, float | None]] | None = None
        if everything:
            self._all = {(c, i): (s, e) for c, i, s, e in connection.execute('SELECT class, id, source, "end" FROM runs')}

    def of(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, float | None]]:
        if self._all is not None:
            return {key: self._all[key] for key in keys if key in self._all}
        found = {}
        for key in keys:
            hit = self._connection.execute('SELECT source, "end" FROM runs WHERE class = ? AND id = ?', key).fetchone()
            if hit is not None:
                found[key] = (hit[0], hit[1])
        return found

    def learn(self, keys: Any, values: Any) -> None:
        if self._all is not None:
            self._all.update(zip(keys, values, strict=True))


def _store_outputs(connection: sqlite3.Connection, key: tuple[str, str], outputs: Iterable[str]) -> None:
    connection.execute('DELETE FROM produced WHERE class = ? AND id = ?', key)
    connection.executemany('INSERT INTO produced VALUES (?, ?, ?)', [(normal_path(p), *key) for p in outputs])


def normal_path(path: str) -> str:
    """A local path made absolute and normal (as the index keeps paths); URLs as they are."""
    return os.path.abspath(storage.local_path(path)) if storage.is_local(path) else path.rstrip('/')


# ----- log/ records --------------------------------------------------------------------------
def _listing(connection: sqlite3.Connection, folder: str) -> list[tuple[str, float | None]] | None:
    """The records in ``folder`` with their modification times; None when (locally) it has not changed since the last sync."""
    if storage.is_local(folder):
        local = storage.local_path(folder)
        try:
            changed = os.stat(local).st_mtime_ns
        except FileNotFoundError:
            return None  # no such records: nothing to read
        key = f'mtime:{local}'
        before = connection.execute('SELECT value FROM meta WHERE key = ?', (key,)).fetchone()
        if before is not None and before[0] == str(changed):
            return None
        settled = time.time() - changed / 1e9 > _SETTLED_SECONDS
        connection.execute('INSERT OR REPLACE INTO meta VALUES (?, ?)', (key, str(changed) if settled else ''))
        with os.scandir(local) as entries:
            return [(entry.path, None) for entry in entries if entry.name.endswith('.pkl')]
    try:
        return [
            (entry.path, entry.modified.timestamp() if entry.modified else None)
            for entry in storage.list_entries(folder)
            if entry.path.endswith('.pkl')
        ]
    except FileNotFoundError:
        return []


def _parsed_name(path: str) -> tuple[str, str] | None:
    match = run_records._RECORD_NAME.match(os.path.basename(path))
    return (match['name'], match['uid']) if match else None


def _sync_log_records(connection: sqlite3.Connection, workspace: str, result: SyncResult) -> None:
    params_listing = _listing(connection, run_records.directory(workspace, run_records.TASK_PARAMS))
    log_listing = _listing(connection, run_records.directory(workspace, run_records.TASK_LOG))
    if params_listing is None and log_listing is None:
        return
    seen = {name for (name,) in connection.execute('SELECT name FROM records')}
    new_params = [(p, m) for p, m in params_listing or [] if _record_key(p) not in seen]
    new_logs = [(p, m) for p, m in log_listing or [] if _record_key(p) not in seen]
    if not new_params and not new_logs:
        return
    indexed = _indexed_sources(connection)
    parallel = not storage.is_local(workspace)

    to_read = [(p, m) for p, m in new_params if (_parsed_name(p) or ('', '')) not in indexed]
    for (path, modified), params in zip(to_read, _map(_load_params, [p for p, _ in to_read], parallel), strict=True):
        name = _parsed_name(path)
        if name is None or params is None:
            continue
        result.files_read += 1
        started = modified if modified is not None else _local_mtime(path)
        started_run = row.RunRow(
            task_class=name[0], id=name[1], family=name[0], source=FROM_LOG_RECORDS, params=params, start=started, state='STARTED'
        )
        connection.execute(row.INSERT_NEW, row.values(started_run))
        note_nul_parameters(connection, [started_run])
        indexed[name] = FROM_LOG_RECORDS
        result.log_runs += 1
    finished = [(p, m) for p, m in new_logs if indexed.get(_parsed_name(p) or ('', '')) in (FROM_LOG_RECORDS, None)]
    loaded = _map(_load_finished, [p for p, _ in finished], parallel)
    for (path, modified), (outputs, processing_time) in zip(finished, loaded, strict=True):
        name = _parsed_name(path)
        if name is None:
            continue
        result.files_read += 1
        ended = modified if modified is not None else _local_mtime(path)
        if name not in indexed:  # a task_log without task_params: what it says is all there is
            finished_run = row.RunRow(task_class=name[0], id=name[1], family=name[0], source=FROM_LOG_RECORDS, state='SUCCESS')
            connection.execute(row.INSERT_NEW, row.values(finished_run))
            result.log_runs += 1
        metrics = _metrics_from_outputs(outputs)
        connection.execute(
            'UPDATE runs SET outputs = ?, state = ?, "end" = ?, processing_time = ?, metrics = ? WHERE class = ? AND id = ? AND source = ?',
            (json.dumps([normal_path(p) for p in outputs]), 'SUCCESS', ended, processing_time, metrics, *name, FROM_LOG_RECORDS),
        )
        _store_outputs(connection, name, outputs)
    connection.executemany('INSERT OR IGNORE INTO records VALUES (?)', [(_record_key(p),) for p, _ in new_params + new_logs])


def _record_key(path: str) -> str:
    return '/'.join(path.replace(os.sep, '/').rsplit('/', 2)[-2:])  # 'task_params/Train_<id>.pkl'


def _indexed_sources(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    return {(c, i): source for c, i, source in connection.execute('SELECT class, id, source FROM runs')}


def _local_mtime(path: str) -> float | None:
    try:
        return os.stat(storage.local_path(path)).st_mtime if storage.is_local(path) else None
    except FileNotFoundError:
        return None


def _load_params(path: str) -> dict[str, str] | None:
    from gokart.target import make_target

    try:
        loaded = make_target(path).load()
    except Exception:  # unreadable or removed meanwhile: left out, read again never (the name is marked seen)
        return None
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else None


def _load_finished(path: str) -> tuple[list[str], float | None]:
    """The output paths of a ``task_log`` record and the run's ``processing_time`` record."""
    from gokart.target import make_target

    outputs: list[str] = []
    try:
        loaded = make_target(path).load()
        if isinstance(loaded, dict) and isinstance(loaded.get('file_path'), list):
            outputs = [str(p) for p in loaded['file_path']]
    except Exception:
        pass
    seconds = None
    try:
        value = make_target(run_records.sibling(path, run_records.PROCESSING_TIME)).load()
        seconds = float(value) if isinstance(value, (int, float)) else None
    except Exception:
        pass
    return outputs, seconds


class _NumbersOnly(pickle.Unpickler):
    """Unpickles plain containers and numbers only: a sync never runs code from a pickle it reads."""

    def find_class(self, module: str, name: str) -> Any:
        if module in ('numpy.core.multiarray', 'numpy._core.multiarray') and name == 'scalar' or module == 'numpy' and name == 'dtype':
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'{module}.{name} is not read by the runs index')


def _metrics_from_outputs(outputs: list[str]) -> str | None:
    """The metrics of an old run whose one output is a small local pickle of names to numbers (no journal recorded them)."""
    if len(outputs) != 1 or not outputs[0].endswith('.pkl') or not storage.is_local(outputs[0]):
        return None
    path = storage.local_path(outputs[0])
    try:
        if os.path.getsize(path) > _METRICS_FILE_LIMIT:
            return None
        with open(path, 'rb') as f:
            data = f.read()
        # A signing trailer after the pickle is never reached: unpickling stops at its STOP opcode.
        metrics = lineage.metrics_of(_NumbersOnly(io.BytesIO(data)).load())
    except Exception:
        return None
    return json.dumps(metrics) if metrics else None


def _map(function: Callable[[T], R], items: list[T], parallel: bool) -> list[R]:
    if not parallel or len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(READERS, len(items)), thread_name_prefix='gokart-runs') as pool:
        return list(pool.map(function, items))


def utc(timestamp: float | None) -> datetime.datetime | None:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc) if timestamp is not None else None
