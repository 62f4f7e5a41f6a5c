"""The one database object, its connection settings, and the log's schema.

SQLite (WAL) is the zero-setup default; PostgreSQL is chosen by a
``postgresql://`` URL. Both get the same tables and the same guarantees: the
log refuses UPDATE and DELETE in the database itself, and appends are
serialised so positions are gap-free and committed in order.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase

from .errors import StoreBusy

database = DatabaseProxy()

#: The URL ``connect`` was last given (a worker process connects to it too), and how many times it was called:
#: whoever keeps state per database (the read models' table binding) knows from the count that it changed.
_connected: dict[str, Any] = {"url": None, "generation": 0}

# Custom column types: a rowid-aliased INTEGER on SQLite (fastest scans), a
# BIGINT on PostgreSQL; UTC instants as fixed-width text on SQLite (sorts as
# time) and as timestamptz on PostgreSQL.
SQLITE_TYPES = {"POSITION": "INTEGER", "UTCTIME": "TEXT"}
POSTGRES_TYPES = {"POSITION": "BIGINT", "UTCTIME": "TIMESTAMPTZ"}

#: How long a writer waits for another to finish before giving up (StoreBusy).
BUSY_TIMEOUT_SECONDS = 60

# Any constant works: it names the one advisory lock appends take on PostgreSQL.
APPEND_LOCK_KEY = 0x4652_4A50  # "FRJP"


def sqlite_pragmas() -> dict[str, object]:
    # synchronous=FULL makes an acknowledged append survive power loss, not
    # only a crash; CHRONOLOGY_SQLITE_SYNCHRONOUS=NORMAL trades that for speed.
    return {
        "journal_mode": "wal",
        "synchronous": os.environ.get("CHRONOLOGY_SQLITE_SYNCHRONOUS", "FULL").upper(),
        "foreign_keys": 1,
        "busy_timeout": int(BUSY_TIMEOUT_SECONDS * 1000),
    }


def open_database(url: str) -> SqliteDatabase | PostgresqlDatabase:
    """Build (not connect) the database an URL names; refuse schemes we do not support."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            raise ValueError(
                "an SQLite DATABASE_URL needs a file path (sqlite:////abs/path.db): "
                "an in-memory database is empty in every other thread"
            )
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        return SqliteDatabase(path, pragmas=sqlite_pragmas(), timeout=BUSY_TIMEOUT_SECONDS, field_types=SQLITE_TYPES)
    if scheme in ("postgres", "postgresql"):
        params = db_url.parse(url)
        pooled: PostgresqlDatabase = PooledPostgresqlDatabase(
            max_connections=64, stale_timeout=300, field_types=POSTGRES_TYPES, **params
        )
        return pooled
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///PATH or postgresql://…")


def describe_database(url: str) -> str:
    """Where a DATABASE_URL points, as host:port/db (or the SQLite path), never with its password."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url[len("sqlite:///"):] or url
    if parts.scheme in ("postgres", "postgresql"):
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
    return url.rsplit("@", 1)[-1]  # whatever it is, never with its credentials


def connect(url: str) -> None:
    """Point the shared proxy at the database ``url`` names (connections open lazily, per thread)."""
    if database.obj is not None:
        database.obj.close_all() if hasattr(database.obj, "close_all") else database.obj.close()
    database.initialize(open_database(url))
    _connected["url"] = url
    _connected["generation"] += 1


def url() -> str | None:
    """The URL this process is connected to (a worker process started afresh connects to it too)."""
    return _connected["url"]  # type: ignore[no-any-return]


def generation() -> int:
    """How many times ``connect`` was called in this process: a change means another database."""
    return int(_connected["generation"])


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def backend_name() -> str:
    return "postgresql" if is_postgres() else "sqlite"


@contextmanager
def writing() -> Iterator[Any]:
    """A write transaction that no other appender can interleave with, and a cursor in it.

    SQLite: BEGIN IMMEDIATE takes the write lock up front (no deadlocking
    lock upgrades). PostgreSQL: a transaction-scoped advisory lock, so
    positions are assigned and committed strictly in order and a reader that
    has seen position N can never later find a committed event below N.
    """
    if is_postgres():
        with database.atomic():
            if database.transaction_depth() == 1:
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))
            yield database.cursor()
    elif database.transaction_depth():
        with database.atomic():  # a savepoint inside the caller's transaction
            yield database.cursor()
    else:
        yield from _immediate_transaction()


def _immediate_transaction() -> Iterator[sqlite3.Cursor]:
    """BEGIN IMMEDIATE ... COMMIT on the raw connection, registered with peewee.

    Peewee's own transaction wrapper costs as much as the SQL of a one-event
    append. Pushing a transaction object keeps peewee's view right: a nested
    ``atomic()`` becomes a savepoint and ``after_commit`` callbacks wait for
    the commit (and are dropped on rollback).
    """
    db = database.obj
    conn = db.connection()
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
            raise StoreBusy(BUSY_TIMEOUT_SECONDS) from exc
        raise
    db.push_transaction(db.transaction())
    try:
        yield conn.cursor()
    except BaseException:
        db.pop_transaction()
        _rollback(db, conn)
        raise
    db.pop_transaction()
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(db, conn)
        raise
    db._run_commit_callbacks()


def _rollback(db: SqliteDatabase, conn: sqlite3.Connection) -> None:
    db._clear_commit_callbacks()  # type: ignore[attr-defined]  # peewee's stubs leave its private methods out
    if conn.in_transaction:
        conn.execute("ROLLBACK")
