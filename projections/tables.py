"""The read models' own tables: every statement a read model runs on them goes through here.

A read model declares its tables as peewee models on ``BaseModel`` and
writes its rows with these helpers; what it needs of the log itself it reads
through ``events`` (``events.store``, ``events.derived``), never by SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from peewee import Model

from events import tables
from events.canonical import utc_text
from events.tables import (
    BaseModel,
    UTCTimeField,
    atomic,
    exclusive,
    execute,
    execute_many,
    in_transaction,
    is_postgres,
    query,
    sqlite_pragma,
    try_exclusive,
)

__all__ = [
    "BaseModel",
    "UTCTimeField",
    "atomic",
    "create",
    "delete_positions",
    "drop",
    "dump",
    "exclusive",
    "execute",
    "execute_many",
    "in_transaction",
    "insert_rows",
    "is_postgres",
    "query",
    "sqlite_pragma",
    "try_exclusive",
]

CHUNK = 500


def create(models: Sequence[type[Model]]) -> None:
    tables.create_tables(models)


def drop(models: Sequence[type[Model]]) -> None:
    tables.drop_tables(models)


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in ``columns`` order) into a read model's table in one statement."""
    if rows:
        marks = ", ".join("?" * len(columns))
        execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def delete_positions(table: str, positions: Iterable[int]) -> None:
    """Delete a fact table's rows of these positions (its key), a chunk at a time."""
    keys = list(positions)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        execute(f"DELETE FROM {table} WHERE position IN ({', '.join('?' * len(chunk))})", chunk)


def dump(models: Sequence[type[Model]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: what rebuild-equals-incremental compares."""
    out = {}
    for model in models:
        columns = [f.column_name for f in model._meta.sorted_fields]
        name = model._meta.table_name
        rows = query(f"SELECT {', '.join(columns)} FROM {name}")
        out[name] = sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)
    return out


def _comparable(value: object) -> object:
    """Backends return dates and times differently; compare them as ISO text."""
    if isinstance(value, datetime):
        return utc_text(value)
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat is not None else value
