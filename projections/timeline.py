"""The timeline: every fact in valid-time order, honest about its precision.

A fact known to the day sorts on that day. A fact known only to a month,
a season or a year sorts at the middle of that span, not on its first day:
"spring 2017" comes after "6 March 2017" and before "20 May 2017". A span
of validity ("2023/2027", "since 2011") sorts where it begins. Ties go by
log position. The sort key is stored, so a page is a keyset range
(``after`` = the last row's cursor) and costs the same anywhere in the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from peewee import CharField, DateField, IntegerField, Model, TextField

from events import dates
from events.db import database
from events.models import BaseModel, UTCTimeField
from events.records import RecordedEvent
from events.store import sql

from .base import Projection
from .facts import BASE_COLUMNS, Batch, Fact, period, select_base

LANES = ("agreement", "exercise", "meeting", "dialogue", "other")
UNDATED = 9_999_999
#: A cursor: twice the sort day's ordinal, then the position (both zero-padded, so text order is key order).
CURSOR = re.compile(r"^\d{7}\.\d{12}$")


class TimelineEntry(BaseModel):
    event_id = CharField(max_length=36, primary_key=True)
    stream = CharField(max_length=200)
    type = CharField(max_length=64)
    occurred = CharField(max_length=100)
    data = TextField(null=True)  # NULL: as the log has it at ``position``
    sources = TextField(null=True)
    position = IntegerField()
    recorded_at = UTCTimeField()
    lo = DateField(null=True)
    hi = DateField(null=True)
    lane = CharField(max_length=16)
    sort_key = CharField(max_length=20, unique=True)

    class Meta:
        table_name = "timeline_entry"
        indexes = ((("lane", "sort_key"), False),)


COLUMNS = (*BASE_COLUMNS, "lo", "hi", "lane", "sort_key")


def lane_of(stream: str, type_: str) -> str:
    """Where a fact is drawn: agreements, exercises, meetings, dialogues (set up) or everything else."""
    kind = stream.split("/", 1)[0]
    if kind == "meeting":
        return "dialogue" if type_ == "DialogueEstablished" else "meeting"
    return kind if kind in ("agreement", "exercise") else "other"


def sort_key(occurred: str, position: int) -> str:
    """The stored order: the middle of an uncertain point, the start of a span, then the position."""
    p = period(occurred)
    if p.precision == "interval" and (p.lo or p.hi):
        day = p.lo or p.hi
        doubled = 2 * day.toordinal()  # type: ignore[union-attr]
    elif p.lo and p.hi:
        doubled = p.lo.toordinal() + p.hi.toordinal()
    elif p.lo or p.hi:
        doubled = 2 * (p.lo or p.hi).toordinal()  # type: ignore[union-attr]
    else:
        doubled = UNDATED
    return f"{doubled:07d}.{position:012d}"


def _row(fact: Fact) -> tuple:
    lo, hi = dates.bounds(fact.occurred)
    return (*fact.reference_row(), lo, hi, lane_of(fact.stream, fact.type), sort_key(fact.occurred, fact.position))


class Timeline(Projection):
    name = "timeline"
    version = 2  # 2: data and sources NULL while a fact is as logged (read from the log instead)
    models: ClassVar[list[type[Model]]] = [TimelineEntry]
    deferred: ClassVar[list[type[Model]]] = [TimelineEntry]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch("timeline_entry", events, lambda e: True)
        if batch.steps:
            batch.write(COLUMNS, _row)


@dataclass
class Entry:
    event_id: str
    position: int
    stream: str
    lane: str
    type: str
    title: str
    summary: str | None
    occurred: str
    when: str
    precision: str
    lo: date | None
    hi: date | None
    sources: list[dict[str, Any]]
    cursor: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "position": self.position, "stream": self.stream, "lane": self.lane,
            "type": self.type, "title": self.title, "summary": self.summary, "occurred": self.occurred,
            "when": self.when, "precision": self.precision,
            "lo": self.lo.isoformat() if self.lo else None, "hi": self.hi.isoformat() if self.hi else None,
            "sources": self.sources, "cursor": self.cursor,
        }


def entries(after: str | None = None, limit: int = 100, kind: str | None = None) -> list[Entry]:
    """One page of the timeline in valid-time order, after the cursor of the last row seen.

    Raises ValueError naming the argument when ``after`` is not a cursor or
    ``kind`` is not a lane.
    """
    if after is not None and not CURSOR.match(after):
        raise ValueError(f"after: {after!r} is not a timeline cursor (the 'cursor' of the last row seen)")
    if kind is not None and kind not in LANES:
        raise ValueError(f"kind: {kind!r} is not a lane (one of {', '.join(LANES)})")
    where, params = [], []
    if after is not None:
        where.append("t.sort_key > ?")
        params.append(after)
    if kind is not None:
        where.append("t.lane = ?")
        params.append(kind)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    query = f"{select_base('timeline_entry', 'lane', 'sort_key')}{clause} ORDER BY t.sort_key LIMIT ?"
    out = []
    for row in database.execute_sql(sql(query), (*params, limit)):
        fact = Fact.from_row(row)
        p = fact.period
        out.append(Entry(fact.event_id, fact.position, fact.stream, row[9], fact.type, fact.title,
                         fact.data.get("summary"), fact.occurred, dates.describe(fact.occurred), p.precision,
                         p.lo, p.hi, fact.sources, row[10]))
    return out
