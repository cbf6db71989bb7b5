"""The runs index: a SQLite database (WAL) that caches what a workspace's records say, rebuildable at any time.

Local workspaces keep it in ``{workspace}/.gokart/runs.sqlite``; object-store workspaces in the
user's cache directory (``$GOKART_CACHE_DIR``, else ``$XDG_CACHE_HOME/gokart``, else
``~/.cache/gokart``), under ``runs/{hash of the workspace URL}.sqlite``. Deleting it loses nothing:
the next sync reads every record again. Writers take SQLite's write lock for a whole sync
(``BEGIN IMMEDIATE``), so concurrent syncs run one after the other and never see half of another's.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import logging
import os
import sqlite3
import time

from gokart.core import settings
from gokart.errors import GokartError
from gokart.records import lineage
from gokart.runs import row
from gokart.storage import filesystem as storage

logger = logging.getLogger(__name__)

SCHEMA_VERSION = f'2-{row.SCHEMA_DIGEST}'  # the run row's declaration is part of it: a new column rebuilds the cache
DATABASE_NAME = 'runs.sqlite'
BUSY_SECONDS = 60.0

_SCHEMA = """
{runs_table};
CREATE INDEX IF NOT EXISTS runs_id ON runs (id);
CREATE INDEX IF NOT EXISTS runs_cutoff ON runs (cutoff_key);
CREATE TABLE IF NOT EXISTS contents (path TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, "end" REAL);
CREATE INDEX IF NOT EXISTS contents_path ON contents (path);
CREATE TABLE IF NOT EXISTS edges (
    class TEXT NOT NULL, id TEXT NOT NULL, input_class TEXT NOT NULL, input_id TEXT NOT NULL, path TEXT
);
CREATE INDEX IF NOT EXISTS edges_consumer ON edges (class, id);
CREATE INDEX IF NOT EXISTS edges_input ON edges (input_class, input_id);
CREATE INDEX IF NOT EXISTS edges_path ON edges (path);
CREATE TABLE IF NOT EXISTS produced (path TEXT NOT NULL, class TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS produced_path ON produced (path);
CREATE INDEX IF NOT EXISTS produced_run ON produced (class, id);
CREATE TABLE IF NOT EXISTS journals (stem TEXT PRIMARY KEY, offset INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
""".replace('{runs_table}', row.TABLE)


def cache_directory() -> str:
    """Where the indexes of object-store workspaces live."""
    explicit = settings.value('cache_dir')
    if explicit:
        return explicit
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'gokart')


class WorkspaceNotFoundError(GokartError, FileNotFoundError):
    """The workspace asked about does not exist (nothing is created for it)."""


class IndexUnavailableError(GokartError, OSError):
    """The runs index cannot be written: the disk is full, or no place for it is writable."""


def database_path(workspace: str) -> str:
    """The index of ``workspace``: beside its journals when local and writable, else in the user's cache (object stores, read-only disks)."""
    if storage.is_local(workspace):
        local = os.path.join(storage.local_path(workspace), lineage.HIDDEN_DIRECTORY, DATABASE_NAME)
        if _writable(local):
            return local
        workspace = os.path.abspath(storage.local_path(workspace))
    key = hashlib.sha256(workspace.rstrip('/').encode()).hexdigest()[:24]
    return os.path.join(cache_directory(), 'runs', f'{key}.sqlite')


def _writable(database: str) -> bool:
    """Whether the index can live at ``database``: the file writable, else the nearest existing folder on the way to it."""
    if os.path.exists(database):
        return os.access(database, os.W_OK) and os.access(os.path.dirname(database), os.W_OK)
    folder = os.path.dirname(database)
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return os.access(folder, os.W_OK)


def check_workspace(workspace: str) -> None:
    """``WorkspaceNotFoundError`` for a local workspace that does not exist, naming the nearest folder name that does."""
    if not storage.is_local(workspace):
        return
    local = storage.local_path(workspace)
    if os.path.isdir(local):
        return
    parent = os.path.dirname(os.path.abspath(local))
    hint = ''
    if os.path.isdir(parent):
        siblings = [n for n in os.listdir(parent) if os.path.isdir(os.path.join(parent, n))]
        close = difflib.get_close_matches(os.path.basename(os.path.abspath(local)), siblings, n=1)
        if close:
            hint = f'; did you mean {os.path.join(os.path.dirname(local), close[0])}?'
    raise WorkspaceNotFoundError(
        f'no workspace at {workspace}: the folder does not exist{hint} (name it with workspace=...; '
        "the default is the configured workspace_directory, './resources')"
    )


def connect(workspace: str) -> sqlite3.Connection:
    """The index of ``workspace``, created (or rebuilt, when made by another schema or found damaged) on first use."""
    check_workspace(workspace)
    path = database_path(workspace)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            return _open(path)
        except sqlite3.DatabaseError as e:
            if not is_damage(e):
                raise
            set_aside(path, e)
            return _open(path)
    except (sqlite3.DatabaseError, OSError) as e:
        raise unavailable(path, e) from e


def _open(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
    try:
        connection.execute('PRAGMA journal_mode=WAL')
        connection.execute('PRAGMA synchronous=NORMAL')
        connection.execute('PRAGMA cache_size=-65536')  # 64 MiB: a first sync of 100,000 runs updates six indexes
        _ensure_schema(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def is_damage(error: BaseException) -> bool:
    """Whether ``error`` says the database file is damaged (not a lock, a full disk or a denied write)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    text = str(error).lower()
    return 'malformed' in text or 'not a database' in text or 'corrupt' in text or type(error) is sqlite3.DatabaseError


def unavailable(path: str, error: BaseException) -> BaseException:
    """A clear error for an index that cannot be written (a full disk, a denied write); other errors as they are."""
    text = str(error).lower()
    if 'full' in text or getattr(error, 'errno', None) == errno.ENOSPC:
        return IndexUnavailableError(f'the runs index {path} cannot be written: the disk is full ({error}); free some space and ask again')
    if isinstance(error, PermissionError) or 'readonly' in text or 'read-only' in text or 'unable to open' in text:
        return IndexUnavailableError(f'the runs index {path} cannot be written ({error}); set GOKART_CACHE_DIR to a writable folder')
    return error


def set_aside(path: str, error: BaseException) -> None:
    """Move a damaged index (and its WAL) aside, with one warning: it is a cache, rebuilt from the records."""
    aside = f'{path}.damaged-{time.strftime("%Y%m%dT%H%M%S")}-{os.getpid()}'
    for suffix in ('', '-wal', '-shm'):
        try:
            os.replace(path + suffix, aside + suffix)
        except FileNotFoundError:
            pass
    logger.warning(f'gokart runs: the runs index {path} is damaged ({error}); it was moved to {aside} and is rebuilt from the records')


def _ensure_schema(connection: sqlite3.Connection) -> None:
    connection.execute('BEGIN IMMEDIATE')
    try:
        if _schema_version(connection) not in (None, SCHEMA_VERSION):
            # Made by another version of gokart: a cache, so dropped and made again (a DELETE would keep old columns).
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
            for (table,) in tables:
                connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        for statement in _SCHEMA.split(';'):
            if statement.strip():
                connection.execute(statement)
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        connection.execute('COMMIT')
    except BaseException:
        if connection.in_transaction:  # SQLite rolls back itself on some errors (a full disk): the first error is the one to tell
            connection.execute('ROLLBACK')
        raise


def _schema_version(connection: sqlite3.Connection) -> str | None:
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    found = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return '' if found is None else str(found[0])
