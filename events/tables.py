"""Tables that live beside the log in the same database: the read models', the accounts', the jobs'.

The database object and the log's own table are private to ``events``.
Other packages declare their tables as peewee models on ``BaseModel`` and run
their statements through these functions, which adapt placeholders to the
backend and own the transactions and locks. Only ``events`` reads the log's
table (``store``, ``derived``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from peewee import Model, OperationalError

from . import db
from .db import database
from .models import BaseModel, PositionField, UTCTimeField
from .store import sql

__all__ = [
    "BaseModel",
    "PositionField",
    "UTCTimeField",
    "add_column",
    "atomic",
    "backend",
    "close",
    "close_all",
    "columns",
    "create_tables",
    "database_url",
    "drop_tables",
    "exclusive",
    "execute",
    "execute_many",
    "exists",
    "generation",
    "in_transaction",
    "is_postgres",
    "ping",
    "query",
    "sqlite_pragma",
    "try_exclusive",
    "writing",
]


def backend() -> str:
    """``sqlite`` or ``postgresql``."""
    return db.backend_name()


def is_postgres() -> bool:
    return db.is_postgres()


def execute(statement: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement written with ``?`` placeholders; returns the cursor (its ``rowcount``, its rows)."""
    return database.execute_sql(sql(statement), tuple(params))


def query(statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query written with ``?`` placeholders, read to the end (no cursor left open)."""
    return list(database.execute_sql(sql(statement), tuple(params)).fetchall())


def execute_many(statement: str, rows: Iterable[Sequence[Any]]) -> None:
    """Run one statement once per row, in one round trip where the driver allows."""
    database.cursor().executemany(sql(statement), list(rows))


def atomic() -> Any:
    """A transaction, or a savepoint inside the caller's."""
    return database.atomic()


def in_transaction() -> bool:
    return bool(database.in_transaction())


@contextmanager
def exclusive() -> Iterator[None]:
    """A transaction no other writer of this kind interleaves with.

    SQLite: BEGIN IMMEDIATE, the database's write lock taken up front.
    PostgreSQL: an ordinary transaction; callers lock the rows they read
    (``SELECT ... FOR UPDATE``), since the database does not serialise writers.
    """
    with database.atomic() if is_postgres() else database.atomic("IMMEDIATE"):
        yield


def try_exclusive() -> bool:
    """On SQLite, whether the write lock is free this instant (taken and released at once, without waiting).

    Another process holding it is busy folding or writing; a caller that
    would only repeat that work can skip it. Always True on PostgreSQL.
    """
    if is_postgres():
        return True
    saved = database.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    database.execute_sql("PRAGMA busy_timeout = 0")
    try:
        try:
            database.execute_sql("BEGIN IMMEDIATE")
        except OperationalError:  # SQLITE_BUSY: another connection holds it
            return False
        database.execute_sql("ROLLBACK")
        return True
    finally:
        database.execute_sql(f"PRAGMA busy_timeout = {int(saved)}")


def writing() -> Any:
    """The log's own write transaction (appends are serialised by it): for state that must change with a write."""
    return db.writing()


def sqlite_pragma(name: str, value: int | str | None = None) -> Any:
    """Read (or set) an SQLite setting of this connection; None on PostgreSQL."""
    if is_postgres():
        return None
    if value is None:
        return database.execute_sql(f"PRAGMA {name}").fetchone()[0]
    database.execute_sql(f"PRAGMA {name} = {value}")
    return value


def create_tables(models: Sequence[type[Model]]) -> None:
    database.create_tables(list(models), safe=True)


def drop_tables(models: Sequence[type[Model]]) -> None:
    database.drop_tables(list(reversed(models)), safe=True)


def exists(table: str) -> bool:
    """Whether the table is in the database."""
    return bool(database.table_exists(table))


def columns(table: str) -> set[str]:
    return {column.name for column in database.get_columns(table)}


def add_column(table: str, name: str, definition: str) -> None:
    """Add a column an older table lacks; ``definition`` may name ``{UTCTIME}`` or ``{POSITION}`` (the backend's
    type). Safe when another process adds it at the same moment on PostgreSQL."""
    types = db.POSTGRES_TYPES if is_postgres() else db.SQLITE_TYPES
    guard = "IF NOT EXISTS " if is_postgres() else ""
    database.execute_sql(f"ALTER TABLE {table} ADD COLUMN {guard}{name} {definition.format(**types)}")


def generation() -> int:
    """Which database this process is connected to, as a count of ``events.connect`` calls."""
    return db.generation()


def database_url() -> str | None:
    """The URL of the database this process is connected to (for a worker process to connect to the same one)."""
    return db.url()


def ping() -> None:
    """Ask the database something trivial; raise whatever it raises when it does not answer."""
    database.execute_sql("SELECT 1").fetchone()


def close() -> None:
    """Give this thread's connection back (the end of a request or a job)."""
    if not database.is_closed():
        database.close()


def close_all() -> None:
    """Close every pooled connection (before a fork, or when a process is done with the database)."""
    closer = getattr(database.obj, "close_all", None) or database.obj.close
    closer()
