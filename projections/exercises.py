"""Exercise history: every exercise, training or deployment, grouped by series.

A series is a stream (``exercise/pegase``); each fact in it is an edition
with its dates (EDTF, honest precision), domains, place, participants and
their roles, and what the source calls a first. Planned editions are kept
and marked as planned. ``exercise_change`` is the feed's history: one row
per edition added, corrected or retracted, with an id and time taken from
the log, so a rebuild gives the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import orjson
from peewee import CharField, IntegerField, Model, TextField

from events import dates, derived
from events.canonical import parse_utc, utc_text
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .changes import Change, ChangeLog
from .claims import resolve, source_rank
from .facts import (
    BASE_COLUMNS,
    PLANNED_TYPES,
    Batch,
    Fact,
    FactRow,
    announced,
    date_of,
    latest,
    participants_of,
    strings,
    title_of,
)
from .paging import DEFAULT_LIMIT, Page, check_limit, like_escaped
from .tables import UTCTimeField, ViewModel, insert_rows, query
from .tuning import stable_id

KIND = "exercise/"
TYPES = frozenset({"ExerciseConducted", "TrainingConducted", "DeploymentConducted", "ExercisePlanned"})
#: The domains an exercise can have (seeds/README.md, "Type-specific fields").
DOMAINS = ("maritime", "air", "land", "amphibious", "hadr", "space", "cyber", "joint")
NAMESPACE = uuid.UUID("5d0a7a3e-3b8e-5c4f-9a41-0f3c1e2b7d21")
#: Editions a rebuild reads and writes at a time: memory stays flat however long the log.
REFOLD_BATCH = 10_000


class ExerciseEdition(FactRow):
    # What the filters search, casefolded between bars ("|air|maritime|"), so a page is filtered in SQL.
    domains = TextField(default="")
    people = TextField(default="")

    class Meta:
        table_name = "exercise_edition"
        indexes = ((("stream",), False), (("lo",), False))


class ExerciseChange(ViewModel):
    id = CharField(max_length=36, primary_key=True)
    stream = CharField(max_length=200)
    event_id = CharField(max_length=36)  # the edition
    change = CharField(max_length=16)  # added, corrected, retracted
    title = TextField()
    occurred = CharField(max_length=100)  # the event's date: for a plan, when it was made or announced
    planned_for = CharField(max_length=100, null=True)  # for a plan, the date it names
    position = IntegerField()  # the event that caused the change
    updated = UTCTimeField()

    class Meta:
        table_name = "exercise_change"
        indexes = ((("updated", "position", "id"), False),)


COLUMNS = (*BASE_COLUMNS, "domains", "people")
CHANGE_COLUMNS = ("id", "stream", "event_id", "change", "title", "occurred", "planned_for", "position", "updated")


def _barred(names: list[str]) -> str:
    return "|" + "|".join(n.casefold() for n in names) + "|" if names else ""


def _filter_columns(data: dict[str, Any]) -> tuple[str, str]:
    """The ``domains`` and ``people`` columns of an edition with this data."""
    return _barred(strings(data.get("domains"))), _barred([p["name"] for p in participants_of(data)])


def _row(fact: Fact) -> tuple[Any, ...]:
    position, stream, occurred, data, sources, lo, hi = fact.row()
    if fact.type in PLANNED_TYPES:  # a planned edition is found, filtered and ordered by the date it names
        lo, hi = dates.bounds(date_of(fact.type, fact.data, fact.occurred))
    return (position, stream, occurred, data, sources, lo, hi, *_filter_columns(fact.data))


def _change_row(event_id: str, stream: str, change: str, title: str, occurred: str, planned: str | None,
                position: int, recorded_at: datetime) -> tuple[str, str, str, str, str, str, str | None, int, str]:
    """An ``exercise_change`` row; its id is derived from the log, so a rebuild gives it again."""
    return (stable_id(NAMESPACE, f"{event_id}|{position}|{change}"), stream, event_id, change, title, occurred,
            planned, position, utc_text(recorded_at))


def _planned(type_: str, data: dict[str, Any], occurred: str) -> str | None:
    """A plan's planned date (None for an edition that took place, or an older plan with one date)."""
    return date_of(type_, data, occurred) if announced(type_, data, occurred) else None


class Exercises(ChangeLog, Projection):
    name = "exercises"
    kind = KIND.rstrip("/")
    feed_title = "Exercises: editions added, corrected, retracted"
    change_rows = ExerciseChange
    version = 6  # 2: domains, people; 3: keyed by position; 4: text titles; 5: plans by planned date; 6: both dates
    models: ClassVar[list[type[Model]]] = [ExerciseEdition, ExerciseChange]
    deferred: ClassVar[list[type[Model]]] = [ExerciseEdition, ExerciseChange]  # the fold reads by position only

    def change_of(self, row: ExerciseChange) -> Change:
        """The edition's date in the world in its title; a plan's both dates (the date it names, then when it was
        announced)."""
        planned = row.planned_for
        if planned:
            title = f"{row.title} — planned for {dates.describe(planned)}, announced {dates.describe(row.occurred)}"
        else:
            title = f"{row.title} — {dates.describe(row.occurred)}" if row.occurred else row.title
        if row.change != "added":
            title = f"{title} ({row.change})"
        valid = planned or row.occurred
        return Change(row.id, row.stream, title, row.updated, row.position, row.event_id, row.change, "event",
                      None, valid or None, announced=row.occurred if planned else None)

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch(ExerciseEdition, COLUMNS, _row, [e for e in events if e.stream.startswith(KIND)],
                      lambda e: e.type in TYPES, set_aside=self.name)
        if not batch.steps:
            return
        batch.write()
        rows = []
        for step in batch.steps:
            fact = step.after or step.before
            assert fact is not None
            rows.append(_change_row(fact.event_id, fact.stream, step.change, fact.title, fact.occurred,
                                    _planned(fact.type, fact.data, fact.occurred), step.event.position,
                                    step.event.recorded_at))
        insert_rows(ExerciseChange, CHANGE_COLUMNS, rows)

    def refold(self, upto: int) -> Iterator[int]:
        """Every edition as logged, straight from the log's rows; then the corrections and retractions, folded.

        An edition as logged is the log's own columns plus what its data
        says of domains and people, so it needs no fact objects and no
        batch bookkeeping: a rebuild reads each exercise event once.
        """
        done = 0
        for rows in derived.raw_pages(sorted(TYPES), self.kind, upto, batch=REFOLD_BATCH):
            editions, changes = [], []
            for position, event_id, stream, type_, occurred, lo, hi, recorded_at, data_text in rows:
                data = orjson.loads(data_text)
                if type_ in PLANNED_TYPES:
                    lo, hi = dates.bounds(date_of(type_, data, occurred))
                editions.append((position, stream, occurred, None, None, lo, hi, *_filter_columns(data)))
                changes.append(_change_row(event_id, stream, "added", title_of(data, type_), occurred,
                                           _planned(type_, data, occurred), position, parse_utc(recorded_at)))
            insert_rows(ExerciseEdition, COLUMNS, editions)
            insert_rows(ExerciseChange, CHANGE_COLUMNS, changes)
            done += len(rows)
            yield done
        yield from self.refold_revisions(upto, done)


# --- queries -----------------------------------------------------------------


@dataclass
class EditionView:
    event_id: str
    stream: str
    type: str
    title: str
    edition: str | None
    occurred: str
    when: str
    precision: str
    lo: date | None
    hi: date | None
    place: str | None
    domains: list[str]
    participants: list[dict[str, str]]
    first: str | None
    position: int
    sources: list[dict[str, Any]]
    rivals: list[dict[str, Any]] = field(default_factory=list)
    announced: str | None = None  # for a planned edition: when the plan was made or announced (EDTF)
    announced_when: str | None = None

    @property
    def planned(self) -> bool:
        return self.type == "ExercisePlanned"

    @property
    def disputed(self) -> bool:
        return bool(self.rivals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "type": self.type, "title": self.title, "edition": self.edition,
            "occurred": self.occurred, "when": self.when, "precision": self.precision,
            "lo": self.lo.isoformat() if self.lo else None, "hi": self.hi.isoformat() if self.hi else None,
            "place": self.place, "domains": self.domains, "participants": self.participants, "first": self.first,
            "planned": self.planned, "announced": self.announced, "position": self.position, "sources": self.sources,
            "disputed": self.disputed, "rivals": self.rivals,
        }


@dataclass
class SeriesView:
    stream: str
    name: str
    editions: list[EditionView]
    possibly_same_as: list[str] = field(default_factory=list)  # series the sources may name otherwise

    @property
    def domains(self) -> list[str]:
        return sorted({d for e in self.editions for d in e.domains})

    @property
    def participants(self) -> list[str]:
        return sorted({p["name"] for e in self.editions for p in e.participants})

    @property
    def firsts(self) -> list[EditionView]:
        return [e for e in self.editions if e.first]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream, "name": self.name, "domains": self.domains, "participants": self.participants,
            "firsts": [{"event_id": e.event_id, "first": e.first, "occurred": e.occurred} for e in self.firsts],
            "editions": [e.to_dict() for e in self.editions], "possibly_same_as": self.possibly_same_as,
            "event_ids": [e.event_id for e in self.editions],
        }


def _series_name(facts: list[Fact], stream: str) -> str:
    return latest(facts, "series", "name") or stream.split("/", 1)[1].replace("-", " ").capitalize()


def _edition(fact: Fact, rivals: list[Fact]) -> EditionView:
    about = date_of(fact.type, fact.data, fact.occurred)
    p = dates.parse(about)
    edition = fact.data.get("edition")
    plan = announced(fact.type, fact.data, fact.occurred)
    return EditionView(
        fact.event_id, fact.stream, fact.type, fact.title, str(edition) if edition is not None else None,
        about, dates.describe(about), p.precision, p.lo, p.hi, fact.data.get("place"),
        strings(fact.data.get("domains")), participants_of(fact.data), fact.data.get("first"),
        fact.position, fact.sources,
        [{"event_id": r.event_id, "occurred": r.occurred, "when": dates.describe(r.occurred), "sources": r.sources}
         for r in rivals],
        plan, dates.describe(plan) if plan else None,
    )


def _matches(fact: Fact, domain: str | None, participant: str | None) -> bool:
    if domain is not None and domain.casefold() not in {d.casefold() for d in strings(fact.data.get("domains"))}:
        return False
    if participant is not None:
        wanted = participant.casefold()
        return any(wanted in p["name"].casefold() for p in participants_of(fact.data))
    return True


def _order(fact: Fact) -> tuple[date, int]:
    p = dates.parse(date_of(fact.type, fact.data, fact.occurred))
    return (p.lo or p.hi or date.max, fact.position)


def _filters(year: int | None, domain: str | None, participant: str | None) -> tuple[list[str], list[Any]]:
    """SQL conditions on exercise_edition for the filters (a superset of ``_matches``, which stays the judge)."""
    where: list[str] = []
    params: list[Any] = []
    if year is not None:
        where.append("(lo IS NULL OR lo <= ?) AND (hi IS NULL OR hi >= ?)")
        params += [date(year, 12, 31).isoformat(), date(year, 1, 1).isoformat()]
    if domain is not None:
        where.append("domains LIKE ? ESCAPE '\\'")
        params.append(f"%|{like_escaped(domain.casefold())}|%")
    if participant is not None:
        where.append("people LIKE ? ESCAPE '\\'")
        params.append(f"%{like_escaped(participant.casefold())}%")
    return where, params


def exercises(year: int | None = None, domain: str | None = None, participant: str | None = None, *,
              after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[SeriesView]:
    """One page of series (in subject order, after the series ``after``) with their editions, oldest first.

    Filters keep the editions that match, and the series that keep one:
    ``year`` keeps editions whose dates may fall in that year (an edition
    known only as "on or before 2017" may); ``domain`` is one of the
    vocabulary's domains; ``participant`` matches part of a participant's
    name, ignoring case ("Japan" finds "Japan Self-Defense Forces"). The
    page is found by keyset on the stream index, so it costs the same on a
    log of a thousand events as on one of a million; ``next_after`` is the
    ``after`` of the following page.
    """
    check_limit(limit)
    where, params = _filters(year, domain, participant)
    keyset = [*where, "stream > ?"] if after is not None else where
    keyset_params = [*params, after] if after is not None else params
    clause = f"WHERE {' AND '.join(keyset)} " if keyset else ""
    editions = tables.name(ExerciseEdition)
    streams = [row[0] for row in query(f"SELECT DISTINCT stream FROM {editions} {clause}ORDER BY stream LIMIT ?",
                                       (*keyset_params, limit + 1))]
    shown, more = streams[:limit], len(streams) > limit
    if not shown:
        return Page()
    marks = ", ".join("?" * len(shown))
    rows = derived.joined_facts(editions, where=" AND ".join([f"t.stream IN ({marks})", *where]),
                                params=(*shown, *params))
    facts = [f for f in map(Fact.from_row, rows) if _matches(f, domain, participant)]
    verdicts = resolve(facts, lambda f: f.data.get("fact"), lambda f: (source_rank(f.sources), f.position))
    by_stream: dict[str, list[Fact]] = {}
    for f in facts:
        by_stream.setdefault(f.stream, []).append(f)
    out = []
    for stream in shown:
        fs = by_stream.get(stream, [])
        shown_editions = [_edition(f, verdicts[id(f)][1]) for f in sorted(fs, key=_order) if verdicts[id(f)][0]]
        if shown_editions:
            same = sorted({s for f in fs for s in strings(f.data.get("possibly_same_as"))})
            out.append(SeriesView(stream, _series_name(fs, stream), shown_editions, same))
    return Page(out, shown[-1] if more else None)
