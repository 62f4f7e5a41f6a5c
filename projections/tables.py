"""The read models' own tables: every statement a read model runs on them goes through here.

A read model declares its tables as peewee models on ``ViewModel`` and
writes its rows with these helpers; what it needs of the log itself it reads
through ``events`` (``events.store``, ``events.derived``), never by SQL.
A statement names a table by ``name(Model)``: each build of a read model has
tables of its own (``binding``), and only the context knows which is meant.

Inside ``captured()`` the writes are recorded instead of run: a worker
process folding a share of the subjects hands its writes to the one writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from peewee import Model

from events import tables
from events.canonical import utc_text
from events.tables import (
    BaseModel,
    UTCTimeField,
    add_column,
    atomic,
    close,
    columns,
    database_url,
    exclusive,
    exists,
    generation,
    in_transaction,
    is_postgres,
    query,
    sqlite_pragma,
    try_exclusive,
)

from .binding import ViewModel

__all__ = [
    "BaseModel",
    "UTCTimeField",
    "ViewModel",
    "add_column",
    "atomic",
    "base_name",
    "captured",
    "close",
    "columns",
    "create",
    "database_url",
    "delete_positions",
    "drop",
    "dump",
    "exclusive",
    "execute",
    "execute_many",
    "exists",
    "generation",
    "in_transaction",
    "insert_rows",
    "is_postgres",
    "name",
    "query",
    "replay",
    "sqlite_pragma",
    "try_exclusive",
]

CHUNK = 500

#: Writes recorded instead of run (``captured``): (statement, rows or parameters, many).
Writes = list[tuple[str, Any, bool]]
_capture: ContextVar[Writes | None] = ContextVar("captured_writes", default=None)


def name(model: type[Model]) -> str:
    """The table a statement in this context means by ``model``: the build being read or written."""
    return str(model._meta.table_name)


def execute(statement: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement on a read model's table (``events.tables.execute``), or record it inside ``captured``."""
    writes = _capture.get()
    if writes is not None:
        writes.append((statement, tuple(params), False))
        return None
    return tables.execute(statement, params)


def execute_many(statement: str, rows: Iterable[Sequence[Any]]) -> None:
    """Run one statement once per row (``events.tables.execute_many``), or record it inside ``captured``."""
    writes = _capture.get()
    if writes is not None:
        writes.append((statement, list(rows), True))
        return
    tables.execute_many(statement, rows)


@contextmanager
def captured() -> Iterator[Writes]:
    """Record the writes made inside instead of running them, in order, for ``replay`` by another process.

    Only what a fold writes through these helpers is recorded; what it reads
    still comes from the database. A fold may run captured only when it
    never reads back what it wrote, as a fold of whole new subjects does not.
    """
    writes: Writes = []
    token = _capture.set(writes)
    try:
        yield writes
    finally:
        _capture.reset(token)


def replay(writes: Writes) -> None:
    """Run writes recorded by ``captured``, in the order they were made."""
    for statement, values, many in writes:
        if many:
            tables.execute_many(statement, values)
        else:
            tables.execute(statement, values)


def create(models: Sequence[type[Model]]) -> None:
    tables.create_tables(models)


def drop(models: Sequence[type[Model]]) -> None:
    tables.drop_tables(models)


def insert_rows(model: type[Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in ``columns`` order) into a read model's table in one statement."""
    if rows:
        marks = ", ".join("?" * len(columns))
        execute_many(f"INSERT INTO {name(model)} ({', '.join(columns)}) VALUES ({marks})", rows)


def delete_positions(model: type[Model], positions: Iterable[int]) -> None:
    """Delete a fact table's rows of these positions (its key), a chunk at a time."""
    keys = list(positions)
    table = name(model)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        execute(f"DELETE FROM {table} WHERE position IN ({', '.join('?' * len(chunk))})", chunk)


def dump(models: Sequence[type[Model]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, by the model's own table name: what rebuild-equals-incremental compares."""
    out = {}
    for model in models:
        columns = [f.column_name for f in model._meta.sorted_fields]
        rows = query(f"SELECT {', '.join(columns)} FROM {name(model)}")
        out[base_name(model)] = sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)
    return out


def base_name(model: type[Model]) -> str:
    """A read model table's own name, whatever build: ``agreement_stage`` for ``agreement_stage_v2b3``."""
    meta = model._meta
    return str(getattr(meta, "base_name", meta.table_name))


def _comparable(value: object) -> object:
    """Backends return dates and times differently; compare them as ISO text."""
    if isinstance(value, datetime):
        return utc_text(value)
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat is not None else value
