"""Meetings and dialogues: the 2+2 and every other mechanism, its sessions and the next one due.

A mechanism is a ``meeting/...`` stream: when it was set up, the sessions
held (number, date, place, participants, the events they decided), the
statements issued, and the sessions planned. A planned session is pending
until a session is recorded that fulfils it (the same or a later number,
or one held on or after the planned date); it is *overdue* once its date
has fully passed: a session planned for "2018" is overdue from 1 January
2019, not from 2 January 2018.

``meeting_change`` is the feed's history. Each event adds a row (id and
time from the log); a pending session's coming due is a calendar row whose
``updated`` is the moment it falls due, visible only from then on, and
forgotten if a session is recorded before. A plan already overdue when it
is recorded says so in its own row: nothing is announced twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from peewee import CharField, DateField, IntegerField, Model, TextField

from events import dates, derived
from events.canonical import utc_text
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .changes import Change, ChangeLog
from .claims import resolve, source_rank
from .facts import BASE_COLUMNS, Batch, Fact, FactRow, Step, latest, participants_of, strings
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
    change = CharField(max_length=16)  # added, corrected, retracted, overdue
    title = TextField()
    cause = CharField(max_length=16)  # "event" or "calendar"
    effective = DateField(null=True)  # for a calendar row: the day the session fell due
    position = IntegerField()  # the event that caused the row
    updated = UTCTimeField()

    class Meta:
        table_name = "meeting_change"
        indexes = ((("updated", "position", "id"), False), (("stream", "cause", "effective"), False))


CHANGE_COLUMNS = ("id", "stream", "name", "event_id", "change", "title", "cause", "effective", "position", "updated")


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


def _fulfils(held: Fact, plan: Fact) -> bool:
    if _session(held) is not None and _session(plan) is not None:
        return _session(held) >= _session(plan)  # type: ignore[operator]
    latest = held.hi or held.lo
    return latest is not None and plan.lo is not None and latest >= plan.lo


def pending(facts: list[Fact]) -> list[Fact]:
    """Planned sessions no recorded session fulfils, the next one due first."""
    shown = [f for f, _ in preferred(facts)]
    held = [f for f in shown if f.type == "MeetingHeld"]
    plans = [f for f in shown if f.type == "MeetingPlanned"]
    if not plans:  # a fold asks this for every event of the mechanism: most have no plan pending
        return []
    plans = [f for f in plans if not any(_fulfils(h, f) for h in held)]
    return sorted(plans, key=lambda f: (f.lo or date.min, f.position))


def due_day(plan: Fact) -> date | None:
    """The first day on which the plan's date has fully passed (None: an open date never falls due)."""
    return plan.hi + timedelta(days=1) if plan.hi is not None else None


def mechanism_name(facts: list[Fact], stream: str) -> str:
    return latest(facts, "mechanism", "name") or stream.split("/", 1)[1].replace("-", " ")


def _describe(step: Step, name: str) -> str:
    fact = step.after or step.before
    assert fact is not None
    what = {"MeetingHeld": "session held", "MeetingPlanned": "session planned", "StatementIssued": "statement issued",
            "DialogueEstablished": "set up"}[fact.type]
    number = f" {_session(fact)}" if _session(fact) is not None and fact.type != "StatementIssued" else ""
    what = what.replace("session", f"session{number}", 1)
    text = f"{name}: {what} ({dates.describe(fact.occurred)})"
    return text if step.change == "added" else f"{text}, {step.change}"


class Meetings(ChangeLog, Projection):
    name = "meetings"
    parallel = True  # a subject's rows depend on its own events alone: subjects fold in several processes
    kind = KIND.rstrip("/")
    feed_title = "Meetings and dialogues: every change"
    change_rows = MeetingChange
    calendar = True  # a planned session falls due on its day, with no event appended
    version = 3  # 2: items keyed by position; 3: names and titles in text columns
    models: ClassVar[list[type[Model]]] = [MeetingItem, MeetingChange]

    def change_of(self, row: MeetingChange) -> Change:
        title = row.title if row.change == "added" else f"{row.title} ({row.change})"
        return Change(row.id, row.stream, title, row.updated, row.position, row.event_id, row.change, row.cause,
                      row.effective)

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch(MeetingItem, BASE_COLUMNS, Fact.row, [e for e in events if e.stream.startswith(KIND)],
                      lambda e: e.type in TYPES, whole_streams=True, set_aside=self.name)
        if not batch.steps:
            return
        batch.write()
        streams: dict[str, dict[str, Fact]] = {}
        for fact in batch.stored.values():
            streams.setdefault(fact.stream, {})[fact.event_id] = fact
        rows: list[tuple] = []
        dropped: dict[str, date] = {}  # per stream, the earliest day whose later calendar rows are void
        foreseen: dict[str, tuple[list[Fact], date, str, RecordedEvent]] = {}  # per stream, after its last step
        names: dict[str, str] = {}  # per stream, its name after its last step

        def settle(stream: str, until: date | None) -> None:
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
                    title = f"{name}: session planned for {dates.describe(plan.occurred)} is overdue"
                    rows.append(self._change(key, stream, name, plan.event_id, "overdue", title, "calendar", due,
                                             event, datetime.combine(due, time(), tzinfo=UTC)))

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
            settle(stream, day)
            title = _describe(step, name)
            due = due_day(step.after) if step.after is not None and step.after.type == "MeetingPlanned" else None
            if due is not None and due <= day and step.after in pending(facts):
                title += f"; overdue since {due.isoformat()}"
            key = f"{fact.event_id}|{step.event.position}|{step.change}"
            rows.append(self._change(key, stream, name, fact.event_id, step.change, title, "event", None,
                                     step.event, step.event.recorded_at))
            dropped[stream] = min(day, dropped.get(stream, day))
            foreseen[stream] = (facts, day, name, step.event)
        for stream in list(foreseen):
            settle(stream, None)
        changes = tables.name(MeetingChange)
        execute_many(f"DELETE FROM {changes} WHERE stream = ? AND cause = 'calendar' AND effective > ?",
                     [(stream, day.isoformat()) for stream, day in dropped.items()])
        insert_rows(MeetingChange, CHANGE_COLUMNS,
                    [(*r[:7], r[7].isoformat() if r[7] else None, *r[8:]) for r in rows])

    @staticmethod
    def _change(key: str, stream: str, name: str, event_id: str, change: str, title: str, cause: str,
                effective: date | None, event: RecordedEvent, updated: datetime) -> tuple:
        return (stable_id(NAMESPACE, key), stream, name, event_id, change, title, cause, effective,
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

    @property
    def disputed(self) -> bool:
        return bool(self.rivals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "type": self.type, "title": self.title, "session": self.session,
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
    overdue_since: date | None  # the day the next planned session fell due, if it has

    @property
    def next(self) -> ItemView | None:
        return self.planned[0] if self.planned else None

    @property
    def overdue(self) -> bool:
        return self.overdue_since is not None

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
            "next": self.next.to_dict() if self.next else None, "overdue": self.overdue,
            "overdue_since": self.overdue_since.isoformat() if self.overdue_since else None,
            "disputed": self.disputed, "event_ids": [i.event_id for i in self.items],
        }


def _item(fact: Fact, rivals: list[Fact]) -> ItemView:
    p = fact.period
    return ItemView(
        fact.event_id, fact.type, fact.title, _session(fact), fact.occurred, dates.describe(fact.occurred),
        p.precision, p.lo, p.hi, fact.data.get("place"), participants_of(fact.data),
        strings(fact.data.get("outcomes")), fact.position, fact.sources,
        [{"event_id": r.event_id, "occurred": r.occurred, "when": dates.describe(r.occurred), "sources": r.sources}
         for r in rivals],
    )


def _order(item: ItemView) -> tuple:
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
    )


def mechanisms(now: datetime, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[MechanismView]:
    """One page of mechanisms (in subject order, after the mechanism ``after``), judged overdue as of ``now``.

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
