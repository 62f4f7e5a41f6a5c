"""Meetings and dialogues: the 2+2 and every other mechanism, its sessions and the next one due.

A mechanism is a ``meeting/...`` stream: when it was set up, the sessions
held (number, date, place, participants, the events they decided), the
statements issued, and the sessions planned, each plan with its two dates:
when it was announced (``occurred``) and the date it names
(``data.planned_for``). A planned session is pending until a session is
recorded that fulfils it (the same or a later number, or one held on or
after the planned date). Once its date has fully passed with no later
session on record, the view says exactly that — "no later session on
record (planned for 2018)", from 1 January 2019 — and no more: the record
holds what its sources say, so a session missing from it is a gap in the
sources, not a missed meeting.

``meeting_change`` is the feed's history. Each event adds a row (id and
time from the log) that names the date it is about in the world; a pending
session's date passing is a calendar row whose ``updated`` is the first
day after that date, visible only from then on, and forgotten if a session
is recorded before. A plan whose date had already passed when it was
recorded says so in its own row: nothing is announced twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, TypeAlias

from peewee import CharField, DateField, IntegerField, Model, TextField

from events import dates, derived
from events.canonical import utc_text
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .changes import Change, ChangeLog
from .claims import resolve, source_rank
from .facts import BASE_COLUMNS, Batch, Fact, FactRow, Step, announced, date_of, latest, participants_of, strings
from .paging import DEFAULT_LIMIT, Page, check_limit
from .tables import UTCTimeField, ViewModel, execute_many, insert_rows, query
from .tuning import stable_id

KIND = "meeting/"
TYPES = frozenset({"DialogueEstablished", "MeetingHeld", "MeetingPlanned", "StatementIssued"})
NAMESPACE = uuid.UUID("a3f1c9d2-6e4b-5b7a-8c0d-2e9f4b1a6c35")


class MeetingItem(FactRow):
    class Meta:
        table_name = "meeting_item"
        indexes = ((("stream",), False),)


class MeetingChange(ViewModel):
    id = CharField(max_length=36, primary_key=True)
    stream = CharField(max_length=200)
    name = TextField()
    event_id = CharField(max_length=36)  # the item (session, plan, statement) the row is about
    change = CharField(max_length=16)  # added, corrected, retracted; passed (a plan's date, no later session)
    title = TextField()
    occurred = CharField(max_length=100, null=True)  # EDTF: what the row is about, in the world (a plan: its date)
    announced = CharField(max_length=100, null=True)  # EDTF: for a plan, when it was made or announced
    cause = CharField(max_length=16)  # "event" or "calendar"
    effective = DateField(null=True)  # for a calendar row: the first day after the planned date
    position = IntegerField()  # the event that caused the row
    updated = UTCTimeField()

    class Meta:
        table_name = "meeting_change"
        indexes = ((("updated", "position", "id"), False), (("stream", "cause", "effective"), False))


CHANGE_COLUMNS = ("id", "stream", "name", "event_id", "change", "title", "occurred", "announced", "cause", "effective",
                  "position", "updated")


# --- what is pending, from the facts of one mechanism (pure) -------------------


def _session(fact: Fact) -> int | None:
    value = fact.data.get("session")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def preferred(facts: list[Fact]) -> list[tuple[Fact, list[Fact]]]:
    """The facts a view shows (rival claims resolved), with their rivals, in position order."""
    if not any(f.data.get("fact") is not None for f in facts):  # no rival claims: every fact, no rivals
        return [(f, []) for f in sorted(facts, key=lambda f: f.position)]
    verdicts = resolve(facts, lambda f: f.data.get("fact"), lambda f: (source_rank(f.sources), f.position))
    return [(f, verdicts[id(f)][1]) for f in sorted(facts, key=lambda f: f.position) if verdicts[id(f)][0]]


def planned_for(plan: Fact) -> dates.Period:
    """The date a plan names (``facts.date_of``)."""
    return dates.parse(date_of(plan.type, plan.data, plan.occurred))


def _fulfils(held: Fact, plan: Fact) -> bool:
    held_session, planned_session = _session(held), _session(plan)
    if held_session is not None and planned_session is not None:
        return held_session >= planned_session
    latest, planned = held.hi or held.lo, planned_for(plan).lo
    return latest is not None and planned is not None and latest >= planned


def pending(facts: list[Fact]) -> list[Fact]:
    """Planned sessions no recorded session fulfils, the next one due first."""
    shown = [f for f, _ in preferred(facts)]
    held = [f for f in shown if f.type == "MeetingHeld"]
    plans = [f for f in shown if f.type == "MeetingPlanned"]
    if not plans:  # a fold asks this for every event of the mechanism: most have no plan pending
        return []
    plans = [f for f in plans if not any(_fulfils(h, f) for h in held)]
    return sorted(plans, key=lambda f: (planned_for(f).lo or date.min, f.position))


def due_day(plan: Fact) -> date | None:
    """The first day on which the plan's date has fully passed (None: an open date never passes)."""
    last = planned_for(plan).hi
    return last + timedelta(days=1) if last is not None else None


def passed_note(planned: str) -> str:
    """What the record says of a plan whose date has passed with no later session on record, and no more."""
    return f"no later session on record (planned for {dates.describe(planned)})"


def mechanism_name(facts: list[Fact], stream: str) -> str:
    return latest(facts, "mechanism", "name") or stream.split("/", 1)[1].replace("-", " ")


def _describe(step: Step, name: str) -> str:
    """The row's title: what happened to what, and the date it is about in the world (a plan's both dates)."""
    fact = step.after or step.before
    assert fact is not None
    what = {"MeetingHeld": "session held", "MeetingPlanned": "session planned", "StatementIssued": "statement issued",
            "DialogueEstablished": "set up"}[fact.type]
    number = f" {_session(fact)}" if _session(fact) is not None and fact.type != "StatementIssued" else ""
    what = what.replace("session", f"session{number}", 1)
    about = date_of(fact.type, fact.data, fact.occurred)
    made = announced(fact.type, fact.data, fact.occurred)
    if fact.type == "MeetingPlanned":
        when = f"for {dates.describe(about)}" + (f", announced {dates.describe(made)}" if made else "")
        text = f"{name}: {what} {when}"
    else:
        text = f"{name}: {what} ({dates.describe(about)})"
    return text if step.change == "added" else f"{text}, {step.change}"


def _dates(fact: Fact) -> tuple[str, str | None]:
    """What a row is about in the world (a plan's planned date) and, for a plan, when it was announced."""
    return date_of(fact.type, fact.data, fact.occurred), announced(fact.type, fact.data, fact.occurred)


#: What a stream's last step foresees: the mechanism's facts, the step's day, the mechanism's name, the step's event.
_Foreseen: TypeAlias = tuple[list[Fact], date, str, RecordedEvent]


class Meetings(ChangeLog, Projection):
    name = "meetings"
    parallel = True  # a subject's rows depend on its own events alone: subjects fold in several processes
    kind = KIND.rstrip("/")
    feed_title = "Meetings and dialogues: every change"
    change_rows = MeetingChange
    calendar = True  # a planned session falls due on its day, with no event appended
    version = 5  # 2: keyed by position; 3: text titles; 4: plans by their planned date; 5: valid dates, no verdict
    models: ClassVar[list[type[Model]]] = [MeetingItem, MeetingChange]

    def change_of(self, row: MeetingChange) -> Change:
        title = row.title if row.change in ("added", "passed") else f"{row.title} ({row.change})"
        valid = None
        if row.change == "passed" and row.effective is not None:
            valid = f"{dates.describe(row.effective.isoformat())}, once the planned date had passed"
        return Change(row.id, row.stream, title, row.updated, row.position, row.event_id, row.change, row.cause,
                      row.effective, row.occurred, valid=valid, announced=row.announced)

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch(MeetingItem, BASE_COLUMNS, Fact.row, [e for e in events if e.stream.startswith(KIND)],
                      lambda e: e.type in TYPES, whole_streams=True, set_aside=self.name)
        if not batch.steps:
            return
        batch.write()
        streams: dict[str, dict[str, Fact]] = {}
        for stored in batch.stored.values():
            streams.setdefault(stored.stream, {})[stored.event_id] = stored
        rows: list[tuple[Any, ...]] = []
        dropped: dict[str, date] = {}  # per stream, the earliest day whose later calendar rows are void
        foreseen: dict[str, _Foreseen] = {}  # per stream, after its last step
        names: dict[str, str] = {}  # per stream, its name after its last step
        for step in batch.steps:
            stream = step.event.stream
            items = streams.setdefault(stream, {})
            fact = step.after or step.before
            assert fact is not None
            if step.after is None:
                items.pop(fact.event_id, None)
            else:
                items[fact.event_id] = step.after
            facts = list(items.values())
            if step.change == "added" and stream in names:  # the newest fact: it names the mechanism, or not
                name = latest([fact], "mechanism", "name") or names[stream]
            else:
                name = mechanism_name(facts, stream) if facts else mechanism_name([fact], stream)
            if facts:
                names[stream] = name
            else:
                names.pop(stream, None)  # named after a retracted fact: the next fact names it afresh
            day = step.event.recorded_at.date()
            self._settle(foreseen, rows, stream, day)
            title = _describe(step, name)
            due = due_day(step.after) if step.after is not None and step.after.type == "MeetingPlanned" else None
            if due is not None and due <= day and step.after in pending(facts):
                title += "; its date has passed with no later session on record"
            key = f"{fact.event_id}|{step.event.position}|{step.change}"
            rows.append(self._change(key, stream, name, fact.event_id, step.change, title, _dates(fact), "event",
                                     None, step.event, step.event.recorded_at))
            dropped[stream] = min(day, dropped.get(stream, day))
            foreseen[stream] = (facts, day, name, step.event)
        for stream in list(foreseen):
            self._settle(foreseen, rows, stream, None)
        changes = tables.name(MeetingChange)
        execute_many(f"DELETE FROM {changes} WHERE stream = ? AND cause = 'calendar' AND effective > ?",
                     [(stream, day.isoformat()) for stream, day in dropped.items()])
        insert_rows(MeetingChange, CHANGE_COLUMNS,
                    [(*r[:9], r[9].isoformat() if r[9] else None, *r[10:]) for r in rows])

    def _settle(self, foreseen: dict[str, _Foreseen], rows: list[tuple[Any, ...]], stream: str,
                until: date | None) -> None:
        """The plans the stream's last step left pending fall due on their day, up to ``until`` (None: all).

        What is due after the next step's day follows from the mechanism
        as that step leaves it, so it is worked out only once the next
        step (or the end of the batch) says how far it holds.
        """
        if stream not in foreseen:
            return
        facts, day, name, event = foreseen.pop(stream)
        if until is not None and until <= day:
            return
        for plan in pending(facts):
            due = due_day(plan)
            if due is not None and day < due and (until is None or due <= until):
                key = f"{stream}|calendar|{event.position}|{plan.event_id}|{due.isoformat()}"
                title = f"{name}: {passed_note(date_of(plan.type, plan.data, plan.occurred))}"
                rows.append(self._change(key, stream, name, plan.event_id, "passed", title,
                                         (due.isoformat(), announced(plan.type, plan.data, plan.occurred)),
                                         "calendar", due, event, datetime.combine(due, time(), tzinfo=UTC)))

    @staticmethod
    def _change(key: str, stream: str, name: str, event_id: str, change: str, title: str,
                when: tuple[str | None, str | None], cause: str, effective: date | None, event: RecordedEvent,
                updated: datetime) -> tuple[Any, ...]:
        return (stable_id(NAMESPACE, key), stream, name, event_id, change, title, *when, cause, effective,
                event.position, utc_text(updated))


# --- queries -----------------------------------------------------------------


@dataclass
class ItemView:
    event_id: str
    type: str
    title: str
    session: int | None
    occurred: str
    when: str
    precision: str
    lo: date | None
    hi: date | None
    place: str | None
    participants: list[dict[str, str]]
    outcomes: list[str]
    position: int
    sources: list[dict[str, Any]]
    rivals: list[dict[str, Any]] = field(default_factory=list)
    announced: str | None = None  # for a planned session: when the plan was made or announced (EDTF)
    announced_when: str | None = None

    @property
    def disputed(self) -> bool:
        return bool(self.rivals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "type": self.type, "title": self.title, "session": self.session,
            "announced": self.announced,
            "occurred": self.occurred, "when": self.when, "precision": self.precision,
            "lo": self.lo.isoformat() if self.lo else None, "hi": self.hi.isoformat() if self.hi else None,
            "place": self.place, "participants": self.participants, "outcomes": self.outcomes,
            "position": self.position, "sources": self.sources, "disputed": self.disputed, "rivals": self.rivals,
        }


@dataclass
class MechanismView:
    stream: str
    name: str
    level: str | None
    established: ItemView | None
    sessions: list[ItemView]
    statements: list[ItemView]
    planned: list[ItemView]  # pending, the next one due first
    passed_since: date | None  # the first day after the next planned session's date, once that date has passed
    possibly_same_as: list[str] = field(default_factory=list)

    @property
    def next(self) -> ItemView | None:
        return self.planned[0] if self.planned else None

    @property
    def passed(self) -> bool:
        return self.passed_since is not None

    @property
    def passed_note(self) -> str | None:
        """"no later session on record (planned for 2018)" once the next plan's date has passed: nothing more."""
        return passed_note(self.next.occurred) if self.next is not None and self.passed else None

    @property
    def last(self) -> ItemView | None:
        return self.sessions[-1] if self.sessions else None

    @property
    def items(self) -> list[ItemView]:
        return ([self.established] if self.established else []) + self.sessions + self.statements + self.planned

    @property
    def disputed(self) -> bool:
        return any(i.disputed for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream, "name": self.name, "level": self.level,
            "established": self.established.to_dict() if self.established else None,
            "sessions": [s.to_dict() for s in self.sessions],
            "statements": [s.to_dict() for s in self.statements],
            "planned": [p.to_dict() for p in self.planned],
            "next": self.next.to_dict() if self.next else None, "next_passed": self.passed,
            "next_passed_on": self.passed_since.isoformat() if self.passed_since else None,
            "next_note": self.passed_note, "possibly_same_as": self.possibly_same_as,
            "disputed": self.disputed, "event_ids": [i.event_id for i in self.items],
        }


def _item(fact: Fact, rivals: list[Fact]) -> ItemView:
    about = date_of(fact.type, fact.data, fact.occurred)
    p = dates.parse(about)
    plan = announced(fact.type, fact.data, fact.occurred)
    return ItemView(
        fact.event_id, fact.type, fact.title, _session(fact), about, dates.describe(about),
        p.precision, p.lo, p.hi, fact.data.get("place"), participants_of(fact.data),
        strings(fact.data.get("outcomes")), fact.position, fact.sources,
        [{"event_id": r.event_id, "occurred": r.occurred, "when": dates.describe(r.occurred), "sources": r.sources}
         for r in rivals],
        plan, dates.describe(plan) if plan else None,
    )


def _order(item: ItemView) -> tuple[date, int]:
    return (item.lo or item.hi or date.max, item.position)


def _mechanism(stream: str, facts: list[Fact], today: date) -> MechanismView:
    shown = preferred(facts)
    items = {f.event_id: _item(f, rivals) for f, rivals in shown}
    of = {t: sorted((items[f.event_id] for f, _ in shown if f.type == t), key=_order) for t in TYPES}
    waiting = pending(facts)
    due = due_day(waiting[0]) if waiting else None
    level = next((str(f.data["level"]) for f in sorted(facts, key=lambda f: -f.position) if f.data.get("level")), None)
    return MechanismView(
        stream, mechanism_name(facts, stream), level,
        of["DialogueEstablished"][0] if of["DialogueEstablished"] else None,
        of["MeetingHeld"], of["StatementIssued"], [items[p.event_id] for p in waiting],
        due if due is not None and due <= today else None,
        sorted({s for f, _ in shown for s in strings(f.data.get("possibly_same_as"))}),
    )


def mechanisms(now: datetime, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[MechanismView]:
    """One page of mechanisms (in subject order, after the mechanism ``after``), their plans as of ``now``.

    The page is found by keyset on the stream index and only its
    mechanisms' items are read, so it costs the same at any size of log;
    ``next_after`` is the ``after`` of the following page.
    """
    check_limit(limit)
    keyset, params = ("WHERE stream > ? ", (after,)) if after is not None else ("", ())
    items = tables.name(MeetingItem)
    streams = [row[0] for row in query(f"SELECT DISTINCT stream FROM {items} {keyset}ORDER BY stream LIMIT ?",
                                       (*params, limit + 1))]
    shown, more = streams[:limit], len(streams) > limit
    by_stream: dict[str, list[Fact]] = {s: [] for s in shown}
    if shown:
        marks = ", ".join("?" * len(shown))
        rows = derived.joined_facts(items, where=f"t.stream IN ({marks})", params=shown)
        for fact in map(Fact.from_row, rows):
            by_stream[fact.stream].append(fact)
    today = now.astimezone(UTC).date()
    views = [_mechanism(stream, facts, today) for stream, facts in by_stream.items()]
    names = [v.name for v in views]
    for v in views:  # two "discussion group"s on one page are told apart by their subject
        if names.count(v.name) > 1:
            v.name = f"{v.name} ({v.stream.split('/', 1)[1].replace('-', ' ')})"
    return Page(views, shown[-1] if more else None)


def mechanism(stream: str, now: datetime) -> MechanismView | None:
    """One mechanism (``meeting/2plus2``) as ``mechanisms`` shows it, or None when none is on record."""
    rows = derived.joined_facts(tables.name(MeetingItem), where="t.stream = ?", params=[stream])
    if not rows:
        return None
    return _mechanism(stream, [Fact.from_row(row) for row in rows], now.astimezone(UTC).date())
