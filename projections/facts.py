"""The current form of each fact in a batch, after the corrections and retractions among it.

Exercises, meetings and the timeline each keep one row per fact (its current
form). Folding a batch means: new facts become rows, an ``EventCorrected``
rewrites its target's row, an ``EventRetracted`` removes it. This module
does that in memory for a whole batch, loading from the projection's table
only the rows the batch touches, and hands back every step in log order so
each read model can record what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson
from peewee import CharField, DateField, IntegerField, TextField

from events import dates
from events.canonical import dumps, parse_utc
from events.corrections import Form, apply_changes
from events.db import database
from events.models import BaseModel
from events.records import RecordedEvent
from events.store import sql
from events.vocabulary import META_TYPES

#: The columns every fact table starts with, in this order. The fact's id, type and recorded time are the log's,
#: read by ``select_base`` through the position: a table of every fact need not copy them.
BASE_COLUMNS = ("position", "stream", "occurred", "data", "sources", "lo", "hi")


class FactRow(BaseModel):
    """A fact in its current form, keyed by the position of the event that recorded it (rows append in key order).

    ``data`` and ``sources`` are NULL while the fact is as the log has it at
    that position; ``occurred`` and its bounds are kept, being what a
    correction most often changes and what the views sort and filter on.
    """

    position = IntegerField(primary_key=True)
    stream = CharField(max_length=200)
    occurred = CharField(max_length=100)
    data = TextField(null=True)
    sources = TextField(null=True)
    lo = DateField(null=True)
    hi = DateField(null=True)


CHUNK = 500


@lru_cache(maxsize=65536)
def period(occurred: str) -> dates.Period:
    """``dates.parse`` cached: the same few thousand date strings recur across a large log."""
    return dates.parse(occurred)


@dataclass(frozen=True)
class Fact:
    """One fact in its current form; ``position`` and ``recorded_at`` are those of its first recording."""

    event_id: str
    stream: str
    type: str
    occurred: str
    data: dict[str, Any]
    sources: list[dict[str, Any]]
    position: int
    recorded_at: datetime
    #: Still the form the log recorded at ``position``: a table may then keep a reference instead of a copy.
    original: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, event: RecordedEvent) -> Fact:
        return cls(event.event_id, event.stream, event.type, event.occurred, event.data, event.sources,
                   event.position, event.recorded_at, True)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Fact:
        return cls(row[0], row[1], row[2], row[3], orjson.loads(row[4]), orjson.loads(row[5]), row[6],
                   parse_utc(row[7]))

    @property
    def period(self) -> dates.Period:
        return period(self.occurred)

    @property
    def lo(self) -> date | None:
        return self.period.lo

    @property
    def hi(self) -> date | None:
        return self.period.hi

    @property
    def title(self) -> str:
        return title_of(self.data, self.type)

    def corrected(self, changes: dict[str, Any]) -> Fact:
        form = apply_changes(Form(self.occurred, self.data, self.sources), changes)
        return Fact(self.event_id, self.stream, self.type, form.occurred, form.data, form.sources, self.position,
                    self.recorded_at)

    def row(self) -> tuple:
        """The ``BASE_COLUMNS`` values: data and sources NULL while the fact is as the log has it at its position.

        The log already holds that text; copying it into a table of every
        fact doubled what a rebuild writes. ``load`` and the read models'
        queries take it back from the log (``COALESCE`` with the event row).
        """
        lo, hi = dates.bounds(self.occurred)
        if self.original:
            return (self.position, self.stream, self.occurred, None, None, lo, hi)
        return (self.position, self.stream, self.occurred, dumps(self.data).decode(), dumps(self.sources).decode(),
                lo, hi)


@dataclass(frozen=True)
class Step:
    """What one event did to one fact: ``before`` None for a new fact, ``after`` None for a retraction."""

    event: RecordedEvent
    before: Fact | None
    after: Fact | None

    @property
    def change(self) -> str:
        if self.before is None:
            return "added"
        return "retracted" if self.after is None else "corrected"


def title_of(data: dict[str, Any], type_: str) -> str:
    """What a fact is called: its data's title, or else its type."""
    return str(data.get("title") or type_)


def strings(value: object) -> list[str]:
    """A data field meant as a list of names (domains, outcomes): one name alone counts as a list of one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return []


def latest(facts: Iterable[Any], *keys: str) -> str | None:
    """The first of ``keys`` set on the most recently recorded fact that sets any (a subject's current name)."""
    newest = max((f for f in facts if any(f.data.get(k) for k in keys)), key=lambda f: f.position, default=None)
    if newest is None:
        return None
    return str(next(newest.data.get(k) for k in keys if newest.data.get(k)))


def participants_of(data: dict[str, Any]) -> list[dict[str, str]]:
    """Participants as {name, role}; a bare name is a participant."""
    out = []
    listed = data.get("participants")
    for p in listed if isinstance(listed, list) else []:
        if isinstance(p, dict):
            out.append({"name": str(p.get("name", "")), "role": str(p.get("role") or "participant")})
        else:
            out.append({"name": str(p), "role": "participant"})
    return out


def _chunks(items: list) -> Iterable[list]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def select_base(table: str, *extra: str) -> str:
    """``SELECT`` of a fact table's facts as ``t`` joined to their events as ``e``, in ``Fact.from_row`` order.

    Then whether data was left to the log, then the ``extra`` columns of
    ``t``. Id, type and recorded time are the event's; data and sources too
    where the table did not copy them.
    """
    more = "".join(f", t.{c}" for c in extra)
    return ("SELECT e.event_id, t.stream, e.type, t.occurred, COALESCE(t.data, e.data), "
            f"COALESCE(t.sources, e.sources), t.position, e.recorded_at, t.data IS NULL{more} "
            f"FROM {table} t JOIN event e ON e.position = t.position")


def load(table: str, column: str, keys: Iterable[str]) -> list[Fact]:
    """The stored facts whose ``column`` (``event_id`` or ``stream``) is one of ``keys``."""
    out = []
    alias = "e" if column == "event_id" else "t"
    for chunk in _chunks(sorted(set(keys))):
        marks = ", ".join("?" * len(chunk))
        query = f"{select_base(table)} WHERE {alias}.{column} IN ({marks})"
        for row in database.execute_sql(sql(query), tuple(chunk)):
            fact = Fact.from_row(row)
            out.append(replace(fact, original=True) if row[8] else fact)
    return out


class Batch:
    """A batch folded in memory: the facts it touched, in their new forms, and every step.

    ``whole_streams`` loads every stored fact of the streams the batch touches
    (a read model that judges a fact by its neighbours, like a planned
    session by the sessions held); otherwise only the targets of corrections.
    """

    def __init__(self, table: str, events: list[RecordedEvent], accepts: Callable[[RecordedEvent], bool],
                 *, whole_streams: bool = False) -> None:
        self.table = table
        relevant = [e for e in events if e.type in META_TYPES or accepts(e)]
        if whole_streams:
            stored = load(table, "stream", {e.stream for e in relevant})
        else:
            new = {e.event_id for e in relevant if e.type not in META_TYPES}
            stored = load(table, "event_id", {e.data["target"] for e in relevant
                                              if e.type in META_TYPES and e.data["target"] not in new})
        self.stored: dict[str, Fact] = {f.event_id: f for f in stored}
        self.current: dict[str, Fact | None] = dict(self.stored)
        self.steps: list[Step] = []
        for event in relevant:
            self._apply(event)

    def _apply(self, event: RecordedEvent) -> None:
        if event.type not in META_TYPES:
            fact = Fact.of(event)
            self.current[fact.event_id] = fact
            self.steps.append(Step(event, None, fact))
            return
        target = self.current.get(event.data["target"])
        if target is None:  # not a fact this read model keeps, or already retracted
            return
        after = target.corrected(event.data["changes"]) if event.type == "EventCorrected" else None
        self.current[target.event_id] = after
        self.steps.append(Step(event, target, after))

    def write(self, columns: Sequence[str], row: Callable[[Fact], tuple]) -> None:
        """Replace the touched rows: stored ones are deleted, current ones inserted (``row`` gives the values)."""
        touched = [self.stored[eid].position for eid in self.current if eid in self.stored]
        for chunk in _chunks(touched):
            marks = ", ".join("?" * len(chunk))
            database.execute_sql(sql(f"DELETE FROM {self.table} WHERE position IN ({marks})"), tuple(chunk))
        insert_rows(self.table, columns, [row(f) for f in self.current.values() if f is not None])


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (values in ``columns`` order) into a read model's table in one statement."""
    if rows:
        marks = ", ".join("?" * len(columns))
        database.cursor().executemany(sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"), rows)
