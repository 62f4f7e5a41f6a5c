"""The timeline: every fact in valid-time order, honest about its precision.

A fact known to the day sorts on that day. A fact known only to a month,
a season or a year sorts at the middle of that span, not on its first day:
"spring 2017" comes after "6 March 2017" and before "20 May 2017". A span
of validity ("2023/2027", "since 2011") sorts where it begins. A plan sorts
where it was made or announced, and carries the date it names. Ties go by
log position. The sort key is stored, so a page is a keyset range
(``after`` = the last row's cursor) and costs the same anywhere in the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar

import orjson
from peewee import CharField, Model

from events import dates, derived
from events.declaration import DOCUMENT_TYPE, UNSOURCED_TYPES
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .facts import BASE_COLUMNS, Batch, Fact, FactRow, announced, date_of

LANES = ("agreement", "exercise", "meeting", "dialogue", "other")
UNDATED = 9_999_999
#: A cursor: twice the sort day's ordinal, then the position (both zero-padded, so text order is key order).
CURSOR = re.compile(r"^\d{7}\.\d{12}$")


class TimelineEntry(FactRow):
    lane = CharField(max_length=16)
    sort_key = CharField(max_length=20, unique=True)

    class Meta:
        table_name = "timeline_entry"
        indexes = ((("lane", "sort_key"), False),)


COLUMNS = (*BASE_COLUMNS, "lane", "sort_key")


#: The lane of a fact by its subject's kind and its type (None: the kind's other types); any other kind is "other".
LANE_OF: dict[str, dict[str | None, str]] = {
    "agreement": {None: "agreement"},
    "exercise": {None: "exercise"},
    "meeting": {"DialogueEstablished": "dialogue", None: "meeting"},
}


def lane_of(stream: str, type_: str) -> str:
    """Where a fact is drawn: agreements, exercises, meetings, dialogues (set up) or everything else."""
    by_type = LANE_OF.get(stream.split("/", 1)[0])
    return "other" if by_type is None else by_type.get(type_, by_type[None])


def sort_day(occurred: str) -> int:
    """Twice the ordinal of the day a fact sorts on: the middle of an uncertain point, the start of a span."""
    p = dates.parse(occurred)
    day = p.lo or p.hi
    if day is None:
        return UNDATED
    if p.precision == "interval" or p.lo is None or p.hi is None:
        return 2 * day.toordinal()
    return p.lo.toordinal() + p.hi.toordinal()


def sort_prefix(occurred: str) -> str:
    """What a sort key starts with: the zero-padded sort day and its dot."""
    return f"{sort_day(occurred):07d}."


def sort_key(occurred: str, position: int) -> str:
    """The stored order: the sort day, then the position."""
    return f"{sort_prefix(occurred)}{position:012d}"


def _row(fact: Fact) -> tuple[Any, ...]:
    return (*fact.row(), lane_of(fact.stream, fact.type), sort_key(fact.occurred, fact.position))


def _on_the_timeline(event: RecordedEvent) -> bool:
    """Every fact; not a document's registration, which is a source, not something that happened."""
    return event.type != DOCUMENT_TYPE


class Timeline(Projection):
    name = "timeline"
    version = 3  # 3: keyed by position; id, type and recorded time read from the log
    models: ClassVar[list[type[Model]]] = [TimelineEntry]
    deferred: ClassVar[list[type[Model]]] = [TimelineEntry]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch(TimelineEntry, COLUMNS, _row, events, _on_the_timeline, set_aside=self.name)
        if batch.steps:
            batch.write()

    def refold(self, upto: int) -> Iterator[int]:
        """Every fact as logged, in one INSERT ... SELECT; then the corrections and retractions, folded.

        A fact's row as logged is the log's own columns plus its lane and
        sort key, and the sort key depends only on the date text: it is
        computed once per distinct date, not once per event.
        """
        derived.copy_dated_facts(tables.name(TimelineEntry), COLUMNS, upto=upto, skip_types=sorted(UNSOURCED_TYPES),
                                 labels=LANE_OF, default_label="other", prefix_of=sort_prefix)
        yield upto
        yield from self.refold_revisions(upto, upto)


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
    planned_for: str | None = None  # a plan, placed when it was made or announced: the date it names

    @property
    def planned_when(self) -> str | None:
        return dates.describe(self.planned_for) if self.planned_for else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "position": self.position, "stream": self.stream, "lane": self.lane,
            "type": self.type, "title": self.title, "summary": self.summary, "occurred": self.occurred,
            "when": self.when, "precision": self.precision,
            "lo": self.lo.isoformat() if self.lo else None, "hi": self.hi.isoformat() if self.hi else None,
            "planned_for": self.planned_for, "sources": self.sources, "cursor": self.cursor,
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
    out = []
    rows = derived.joined_facts(tables.name(TimelineEntry), where=" AND ".join(where), params=params,
                                extra=("lane", "sort_key"), order="t.sort_key", limit=limit)
    for row in rows:
        fact = Fact.from_row(row)
        p = fact.period
        planned = date_of(fact.type, fact.data, fact.occurred) if announced(fact.type, fact.data, fact.occurred) \
            else None
        out.append(Entry(fact.event_id, fact.position, fact.stream, row[9], fact.type, fact.title,
                         fact.data.get("summary"), fact.occurred, dates.describe(fact.occurred), p.precision,
                         p.lo, p.hi, fact.sources, row[10], planned))
    return out


#: The columns of ``table_rows``, in order: what the timeline's CSV holds.
TABLE_COLUMNS = ("position", "event_id", "stream", "lane", "type", "title", "occurred", "when", "precision", "start",
                 "end", "planned_for", "cursor")


def table_rows(kind: str | None = None, *, batch: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """The whole timeline (or one lane) in valid-time order as plain rows, a keyset page at a time.

    An export of a million rows reads each fact once and decodes only its
    data (for the title), never its sources; the words for each date are
    worked out once per distinct date.
    """
    if kind is not None and kind not in LANES:
        raise ValueError(f"kind: {kind!r} is not a lane (one of {', '.join(LANES)})")
    after: str | None = None
    loads = orjson.loads
    while True:
        where, params = (["t.sort_key > ?"], [after]) if after is not None else ([], [])
        if kind is not None:
            where.append("t.lane = ?")
            params.append(kind)
        rows = derived.joined_facts(tables.name(TimelineEntry), where=" AND ".join(where), params=params,
                                    extra=("lane", "sort_key", "lo", "hi"), order="t.sort_key", limit=batch)
        out = []
        for event_id, stream, type_, occurred, data, _sources, position, _at, _logged, lane, key, lo, hi in rows:
            words, precision = _words(occurred)
            fields = loads(data)
            title = fields.get("title") or type_
            planned = date_of(type_, fields, occurred) if announced(type_, fields, occurred) else ""
            out.append((position, event_id, stream, lane, type_, title, occurred, words, precision,
                        _iso(lo), _iso(hi), planned, key))
        if out:
            yield out
        if len(rows) < batch:
            return
        after = rows[-1][10]


@lru_cache(maxsize=65536)
def _words(occurred: str) -> tuple[str, str]:
    return dates.describe(occurred), dates.parse(occurred).precision


def _iso(value: Any) -> str:
    """A stored bound as ISO text (SQLite gives text, PostgreSQL a date), empty when open."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value.isoformat())
