"""The runs index: a SQLite database (WAL) that caches what a workspace's records say, rebuildable at any time.

Local workspaces keep it in ``{workspace}/.gokart/runs.sqlite``; object-store workspaces in the
user's cache directory (``$GOKART_CACHE_DIR``, else ``$XDG_CACHE_HOME/gokart``, else
``~/.cache/gokart``), under ``runs/{hash of the workspace URL}.sqlite``. Deleting it loses nothing:
the next sync reads every record again. Writers take SQLite's write lock for a whole sync
(``BEGIN IMMEDIATE``), so concurrent syncs run one after the other and never see half of another's.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3

from gokart.core import settings
from gokart.records import lineage
from gokart.runs import row
from gokart.storage import filesystem as storage

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


def database_path(workspace: str) -> str:
    """The index of ``workspace``: beside its journals when local, in the user's cache for an object store."""
    if storage.is_local(workspace):
        return os.path.join(storage.local_path(workspace), lineage.HIDDEN_DIRECTORY, DATABASE_NAME)
    key = hashlib.sha256(workspace.rstrip('/').encode()).hexdigest()[:24]
    return os.path.join(cache_directory(), 'runs', f'{key}.sqlite')


def connect(workspace: str) -> sqlite3.Connection:
    """The index of ``workspace``, created (or rebuilt, when made by another schema) on first use."""
    path = database_path(workspace)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
    connection.execute('PRAGMA journal_mode=WAL')
    connection.execute('PRAGMA synchronous=NORMAL')
    connection.execute('PRAGMA cache_size=-65536')  # 64 MiB: a first sync of 100,000 runs updates six indexes
    _ensure_schema(connection)
    return connection


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
        connection.execute('ROLLBACK')
        raise


def _schema_version(connection: sqlite3.Connection) -> str | None:
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    found = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return '' if found is None else str(found[0])
