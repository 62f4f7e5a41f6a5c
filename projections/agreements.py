"""Active agreements: every agreement's lifecycle, and its status on any date.

The table keeps each stage's form with the log positions between which it
was the known form (``known_from``/``known_until``), so a question can be
asked as the record stood at any recorded time: a correction closes one form
and opens the next, a retraction closes it.

``agreement_change`` is what the agreements feed publishes: each change of
an agreement's lifecycle in the world ("ACSA: under negotiation → signed
(July 2018)"), with the valid date it took effect, at its precision, apart
from the time it was recorded. An event publishes the transitions of the
agreement's history (``lifecycle.history``) it adds or withdraws; a
transition dated after the event's recording (a term that ends later) is a
calendar row, visible from its day. Ids and times come from the log alone,
so a rebuild gives the same rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

import orjson
from peewee import BooleanField, CharField, CompositeKey, DateField, IntegerField, Model, TextField

from events import dates, store
from events.canonical import dumps, parse_utc, utc_text
from events.corrections import Form, apply_changes
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import quarantine, tables
from .base import Projection
from .changes import Change, ChangeLog
from .claims import resolve, source_rank
from .facts import latest, restated_fact, strings
from .lifecycle import STAGES, Stage, Status, Transition, history, status_on, when_words
from .paging import DEFAULT_LIMIT, Page, check_limit
from .tables import UTCTimeField, ViewModel, execute_many, insert_rows, query
from .text import fold
from .tuning import stable_id

KIND = "agreement/"
NAMESPACE = uuid.UUID("0c6b2d2e-59c5-5a52-8e8f-6f1f7b0a9a11")


class Agreement(ViewModel):
    stream = CharField(max_length=200, primary_key=True)
    sort_name = TextField(index=True)
    first_position = IntegerField()

    class Meta:
        table_name = "agreement"


class AgreementStage(ViewModel):
    event_id = CharField(max_length=36)
    known_from = IntegerField()
    known_until = IntegerField(null=True)
    stream = CharField(max_length=200)
    type = CharField(max_length=64)
    occurred = CharField(max_length=100)
    data = TextField()
    sources = TextField()
    position = IntegerField()
    recorded_at = UTCTimeField()

    class Meta:
        table_name = "agreement_stage"
        primary_key = CompositeKey("event_id", "known_from")
        indexes = ((("stream", "known_from"), False),)


class AgreementChange(ViewModel):
    id = CharField(max_length=36, primary_key=True)
    stream = CharField(max_length=200)
    name = TextField()
    change = CharField(max_length=16)  # "status" (a transition on record), or "withdrawn" (no longer on record)
    from_status = TextField()
    to_status = TextField()
    valid = CharField(max_length=100)  # EDTF: when it took effect in the world (a term's stated end, by_term)
    by_term = BooleanField(default=False)
    previously = CharField(max_length=100, null=True)  # the date the record gave it before a correction
    effective = DateField(null=True)  # the first day it may have taken effect
    active = CharField(max_length=16, null=True)  # in force from then on (lifecycle.ANSWERS), and why
    reason = TextField(null=True)
    cause = CharField(max_length=16)  # "event" or "calendar"
    event_id = CharField(max_length=36, null=True)
    position = IntegerField()
    updated = UTCTimeField()

    class Meta:
        table_name = "agreement_change"
        indexes = ((("updated", "position", "id"), False), (("stream", "cause", "effective"), False))


STAGE_COLUMNS = ("event_id", "known_from", "known_until", "stream", "type", "occurred", "data", "sources", "position",
                 "recorded_at")
CHANGE_COLUMNS = ("id", "stream", "name", "change", "from_status", "to_status", "valid", "by_term", "previously",
                  "effective", "active", "reason", "cause", "event_id", "position", "updated")


@dataclass
class _Form:
    """One known form of a stage while folding."""

    event_id: str
    known_from: int
    stream: str
    type: str
    occurred: str
    data: dict[str, Any]
    sources: list[dict[str, Any]]
    position: int
    recorded_at: datetime
    known_until: int | None = None
    stored: bool = False  # already a row in the table (closing it is an UPDATE)
    _stage: Stage | None = field(default=None, repr=False, compare=False)  # its stage, once asked

    def row(self) -> tuple[Any, ...]:
        return (self.event_id, self.known_from, self.known_until, self.stream, self.type, self.occurred,
                dumps(self.data).decode(), dumps(self.sources).decode(), self.position, utc_text(self.recorded_at))


def preferred_stages(forms: list[Any]) -> list[tuple[Any, list[Any]]]:
    """The forms a view shows (rival claims resolved), each with its rivals, in position order."""
    if not any(f.data.get("fact") is not None for f in forms):  # no rival claims: every form, no rivals
        return [(f, []) for f in sorted(forms, key=lambda f: f.position)]
    verdicts = resolve(forms, lambda f: f.data.get("fact"), lambda f: (source_rank(f.sources), f.position))
    return [(f, verdicts[id(f)][1]) for f in sorted(forms, key=lambda f: f.position) if verdicts[id(f)][0]]


def _stages(forms: list[Any]) -> list[Stage]:
    return [_stage(f) for f, _ in preferred_stages(forms)]


def _stage(form: Any) -> Stage:
    """A form's stage, kept on the form: a fold asks again for every later event of its stream."""
    stage = getattr(form, "_stage", None)
    if stage is None:
        stage = Stage.of(form.type, form.occurred, form.event_id, form.data.get("term"))
        if isinstance(form, _Form):
            form._stage = stage
    return stage


def _name(forms: list[Any], stream: str) -> str:
    return latest(forms, "short", "agreement") or stream.split("/", 1)[1]


def _category(forms: list[Any]) -> str | None:
    """The category the newest event stating one gives: what a signature does depends on it."""
    return latest(forms, "category")


def _sort_name(forms: list[Any], stream: str) -> str:
    """What the list is ordered by: the name a reader sees (the full name, else the short one), folded.

    Folded (accents, case) so both backends order it alike, whatever their collation.
    """
    return fold(latest(forms, "agreement") or _name(forms, stream))


class Agreements(ChangeLog, Projection):
    name = "agreements"
    parallel = True  # a subject's rows depend on its own events alone: subjects fold in several processes
    kind = KIND.rstrip("/")
    version = 4  # 2: names and statuses in text columns; 3: open-world statuses, changes dated in valid time;
    # 4: ordered by the name shown
    models: ClassVar[list[type[Model]]] = [Agreement, AgreementStage, AgreementChange]
    feed_title = "Agreements: every status change"
    change_rows = AgreementChange
    calendar = True  # a term ends on its day, with no event appended

    def change_of(self, row: AgreementChange) -> Change:
        when = when_words(row.valid, row.by_term)
        if row.change == "withdrawn":
            title = f"{row.name}: {row.to_status} ({when}) no longer on record"
        else:
            moved = f"{row.from_status} → {row.to_status}" if row.from_status else row.to_status
            earlier = f"; previously dated {dates.describe(row.previously)}" if row.previously else ""
            title = f"{row.name}: {moved} ({when}{earlier})"
        note = f"In force from then on: {row.active} ({row.reason})." if row.active else None
        return Change(row.id, row.stream, title, row.updated, row.position, row.event_id, row.change, row.cause,
                      row.effective, row.valid or None, valid=when, note=note)

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        relevant = [e for e in events if e.stream.startswith(KIND)]
        if not relevant:
            return
        targets = {e.data["target"] for e in relevant if e.type in META_TYPES}
        fold = _Fold({e.stream for e in relevant}, quarantine.unresolved(self.name, targets))
        for event in relevant:
            fold.apply(event)
        fold.flush()


def _news(old: list[Transition], new: list[Transition]) -> tuple[list[tuple[Transition, str | None]],
                                                                 list[Transition]]:
    """The transitions ``new`` adds to ``old`` (each with the date a correction moved it from, if one did), and
    the ones it withdraws: a status ``old`` reached on a date that no transition of ``new`` reaches then, nor
    reaches on a corrected date."""
    before = {t.key for t in old}
    added = [t for t in new if t.key not in before]
    reached = {(t.after, t.when) for t in new}
    gone = [t for t in old if (t.after, t.when) not in reached]
    moved = {t.after for t in added}
    out = []
    for t in added:
        earlier = next((g.when for g in gone if g.after == t.after and not g.by_term and not t.by_term), None)
        out.append((t, earlier))
    return out, [t for t in gone if t.after not in moved]


class _Fold:
    """A batch of agreement events folded in memory, then written in bulk.

    Each stream's stages and history are kept between its events (those
    after one event are those before the next), so an event costs the size
    of its stream, not of the batch. Calendar rows (transitions dated after
    an event's recording) are kept per stream until the next event of the
    stream says how far they still hold.
    """

    def __init__(self, streams: set[str], waiting: set[str]) -> None:
        self.open: dict[str, list[_Form]] = {s: [] for s in streams}
        self.waiting = waiting  # stages set aside earlier: a correction folds them in their corrected form
        self.stages: dict[str, list[Stage]] = {}  # each stream's stages and name after its last event
        self.names: dict[str, str] = {}
        self.plain: set[str] = set()  # streams with no rival claims among their open forms
        self.histories: dict[str, list[Transition]] = {}  # each stream's history after its last event
        self.closed: list[_Form] = []
        self.changes: list[tuple[Any, ...]] = []
        self.calendar: dict[str, list[tuple[Any, ...]]] = {}  # per stream, its rows still to come due
        self.new_agreements: dict[str, int] = {}
        self.dropped_calendar: dict[str, date] = {}
        marks = ", ".join("?" * len(streams))
        for row in query(
            "SELECT event_id, known_from, stream, type, occurred, data, sources, position, recorded_at "
            f"FROM {tables.name(AgreementStage)} WHERE known_until IS NULL AND stream IN ({marks})", tuple(streams)):
            self.open[row[2]].append(_Form(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]),
                                           orjson.loads(row[6]), row[7], parse_utc(row[8]), stored=True))
        agreement = tables.name(Agreement)
        self.known = {r[0] for r in query(f"SELECT stream FROM {agreement} WHERE stream IN ({marks})", tuple(streams))}

    def apply(self, event: RecordedEvent) -> None:
        stream = event.stream
        forms = self.open[stream]
        if event.type in STAGES:
            before = self._history(stream)
            form = _Form(event.event_id, event.position, stream, event.type, event.occurred, event.data,
                         event.sources, event.position, event.recorded_at)
            forms.append(form)
            if stream in self.plain and not form.data.get("fact"):
                # No rival claims: the new stage, the latest recorded, goes last and the others stay as they were.
                self.stages[stream] = [*self.stages[stream], _stage(form)]
                self.names[stream] = latest([form], "short", "agreement") or self.names[stream]
            else:
                self._recount(stream)
        elif event.type in META_TYPES:
            target = next((f for f in forms if f.event_id == event.data["target"]), None)
            restated = self._restated(event) if target is None else None
            if target is None and restated is None:
                return
            before = self._history(stream)
            if target is not None:
                forms.remove(target)
                target.known_until = event.position
                self.closed.append(target)
                if event.type == "EventCorrected":
                    corrected = apply_changes(Form(target.occurred, target.data, target.sources), event.data["changes"])
                    forms.append(_Form(target.event_id, event.position, target.stream, target.type,
                                       corrected.occurred, corrected.data, corrected.sources, target.position,
                                       target.recorded_at))
            elif restated is not None:
                forms.append(restated)
            self._recount(stream)
        else:
            return
        if stream not in self.known and stream not in self.new_agreements:
            self.new_agreements[stream] = event.position
        self._record_changes(event, before)

    def _restated(self, event: RecordedEvent) -> _Form | None:
        """A stage set aside earlier, in the form this revision gives it, known from it (None: nothing to fold)."""
        target_id = event.data["target"]
        if target_id not in self.waiting:
            return None
        self.waiting.discard(target_id)
        fact = restated_fact(target_id, event.position)
        if fact is None or fact.type not in STAGES:
            return None
        return _Form(fact.event_id, event.position, fact.stream, fact.type, fact.occurred, fact.data, fact.sources,
                     fact.position, fact.recorded_at)

    def _history(self, stream: str) -> list[Transition]:
        if stream not in self.histories:
            if stream not in self.stages:
                self._recount(stream)
            self.histories[stream] = history(self.stages[stream])
        return self.histories[stream]

    def _recount(self, stream: str) -> None:
        """The stream's stages and name from all its open forms (and whether any rival claims are among them)."""
        forms = self.open[stream]
        self.stages[stream] = _stages(forms)
        self.names[stream] = _name(forms, stream)
        if any(f.data.get("fact") is not None for f in forms):
            self.plain.discard(stream)
        else:
            self.plain.add(stream)

    def _record_changes(self, event: RecordedEvent, before: list[Transition]) -> None:
        """The transitions the event adds or withdraws, and the stream's calendar rows from its day on."""
        stream, day = event.stream, event.recorded_at.date()
        stages, name = self.stages[stream], self.names[stream]
        after = history(stages)
        self.histories[stream] = after
        category = _category(self.open[stream])
        added, withdrawn = _news(before, after)
        for transition, earlier in added:
            if transition.lo is None or transition.lo <= day:
                self._change(event, name, "status", transition, earlier, stages, category, "event",
                             event.recorded_at)
        for transition in withdrawn:
            if transition.lo is None or transition.lo <= day:
                self._change(event, name, "withdrawn", transition, None, [], None, "event", event.recorded_at)
        # What was foreseen beyond this day follows from the stages as this event leaves them.
        kept = [row for row in self.calendar.get(stream, []) if row[9] <= day]
        self.calendar[stream] = kept
        for transition in after:
            if transition.lo is not None and transition.lo > day:
                moment = datetime.combine(transition.lo, time(), tzinfo=UTC)
                kept.append(self._row(event, name, "status", transition, None, stages, category, "calendar", moment))
        self.dropped_calendar[stream] = min(day, self.dropped_calendar.get(stream, day))

    def _change(self, event: RecordedEvent, name: str, change: str, transition: Transition, earlier: str | None,
                stages: list[Stage], category: str | None, cause: str, updated: datetime) -> None:
        self.changes.append(self._row(event, name, change, transition, earlier, stages, category, cause, updated))

    @staticmethod
    def _row(event: RecordedEvent, name: str, change: str, transition: Transition, earlier: str | None,
             stages: list[Stage], category: str | None, cause: str, updated: datetime) -> tuple[Any, ...]:
        """A change row: the in-force answer is the one on the first day the transition had surely happened."""
        status = status_on(stages, transition.day, category) if stages and transition.day else None
        t = transition
        key = f"{event.stream}|{cause}|{event.position}|{change}|{t.before}|{t.after}|{t.when}|{t.by_term}"
        return (stable_id(NAMESPACE, key), event.stream, name, change, t.before, t.after, t.when, t.by_term, earlier,
                t.lo, status.active if status else None, status.reason if status else None, cause,
                event.event_id, event.position, updated)

    def flush(self) -> None:
        changes = tables.name(AgreementChange)
        execute_many(f"DELETE FROM {changes} WHERE stream = ? AND cause = 'calendar' AND effective > ?",
                     [(stream, day.isoformat()) for stream, day in self.dropped_calendar.items()])
        execute_many(f"UPDATE {tables.name(AgreementStage)} SET known_until = ? WHERE event_id = ? AND known_from = ?",
                     [(f.known_until, f.event_id, f.known_from) for f in self.closed if f.stored])
        rows = [f.row() for f in self.closed if not f.stored]
        rows += [f.row() for forms in self.open.values() for f in forms if not f.stored]
        insert_rows(AgreementStage, STAGE_COLUMNS, rows)
        insert_rows(Agreement, ("stream", "sort_name", "first_position"),
                    [(s, _sort_name(self.open[s], s), first) for s, first in self.new_agreements.items()])
        execute_many(f"UPDATE {tables.name(Agreement)} SET sort_name = ? WHERE stream = ?",
                     [(_sort_name(self.open[stream], stream), stream) for stream in self.known])
        written = self.changes + [row for rows in self.calendar.values() for row in rows]
        insert_rows(AgreementChange, CHANGE_COLUMNS,
                    [(*c[:9], c[9].isoformat() if c[9] else None, *c[10:15], utc_text(c[15])) for c in written])


# --- queries -----------------------------------------------------------------


@dataclass
class StageView:
    type: str
    label: str
    occurred: str
    when: str
    event_id: str
    position: int
    sources: list[dict[str, Any]]
    rivals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def disputed(self) -> bool:
        return bool(self.rivals)


@dataclass
class AgreementView:
    stream: str
    name: str
    title: str
    category: str | None
    parties: list[str]
    term: str | None
    status: Status
    stages: list[StageView]
    history: list[Transition] = field(default_factory=list)

    @property
    def active(self) -> str:
        return self.status.active

    @property
    def disputed(self) -> bool:
        return any(s.disputed for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        since = self.status.since
        return {
            "stream": self.stream, "name": self.name, "title": self.title, "category": self.category,
            "parties": self.parties, "term": self.term, "status": self.status.text, "active": self.active,
            "reason": self.status.reason, "status_by_term": self.status.by_term,
            "since": {"event_id": since.event_id, "occurred": since.occurred, "when": self.status.when}
            if since else None,
            "history": [{"from": t.before or None, "to": t.after, "valid": t.when or None, "when": t.when_words,
                         "by_term": t.by_term} for t in self.history],
            "disputed": self.disputed,
            "stages": [{
                "type": s.type, "status": s.label, "occurred": s.occurred, "when": s.when, "event_id": s.event_id,
                "position": s.position, "sources": s.sources, "disputed": s.disputed, "rivals": s.rivals,
            } for s in self.stages],
            "event_ids": [s.event_id for s in self.stages],
        }


def _visible_forms(streams: list[str], bound: int | None) -> dict[str, list[_Form]]:
    out: dict[str, list[_Form]] = {s: [] for s in streams}
    if not streams:
        return out
    marks = ", ".join("?" * len(streams))
    params: tuple[int, ...]
    if bound is None:
        where, params = "known_until IS NULL", ()
    else:
        where, params = "known_from <= ? AND (known_until IS NULL OR known_until > ?)", (bound, bound)
    for row in query(
        "SELECT event_id, known_from, stream, type, occurred, data, sources, position, recorded_at "
        f"FROM {tables.name(AgreementStage)} WHERE stream IN ({marks}) AND {where}", (*streams, *params)):
        out[row[2]].append(_Form(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]),
                                 orjson.loads(row[6]), row[7], parse_utc(row[8]), stored=True))
    return out


def _view(stream: str, forms: list[_Form], as_of: date) -> AgreementView:
    shown = preferred_stages(forms)
    newest_first = sorted(forms, key=lambda f: f.position, reverse=True)

    def stated(key: str) -> object:
        """What the newest event stating ``key`` says of it: an event that leaves it out never erases it."""
        return next((f.data[key] for f in newest_first if f.data.get(key) not in (None, "", [])), None)

    stages = [StageView(
        f.type, STAGES[f.type][1], f.occurred, dates.describe(f.occurred), f.event_id, f.position, f.sources,
        [{"occurred": r.occurred, "when": dates.describe(r.occurred), "event_id": r.event_id, "sources": r.sources}
         for r in rivals],
    ) for f, rivals in shown]
    term = next((f.data.get("term") for f, _ in shown if f.data.get("term")), None)
    name = _name(forms, stream)
    category = _text(stated("category"))
    lifecycle = _stages(forms)
    return AgreementView(
        stream, name, _text(stated("agreement")) or name, category, strings(stated("parties")), term,
        status_on(lifecycle, as_of, category), stages, history(lifecycle),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def agreements(as_of: date, known_at: datetime | None = None, *, after: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Page[AgreementView]:
    """One page of agreements by the name shown (full, else short), each with its status on ``as_of``, as the log
    stood at ``known_at``.

    ``after`` is the stream of the last agreement of the previous page
    (``next_after`` of that page). The page is a keyset on the
    (sort_name, stream) index, and only the page's stages are read, in one
    query: it costs the same on a log of a thousand events as on a million.
    """
    check_limit(limit)
    bound = store.head_position(known_at) if known_at is not None else None
    query = Agreement.select(Agreement.stream).order_by(Agreement.sort_name, Agreement.stream)
    if bound is not None:
        query = query.where(Agreement.first_position <= bound)
    if after is not None:
        cursor = Agreement.get_or_none(Agreement.stream == after)
        if cursor is None:
            raise ValueError(f"after: {after[:60]!r} is not an agreement on record (a subject such as agreement/acsa)")
        query = query.where((Agreement.sort_name > cursor.sort_name)
                            | ((Agreement.sort_name == cursor.sort_name) & (Agreement.stream > cursor.stream)))
    streams = list(query.limit(limit + 1).scalars())
    shown = streams[:limit]
    forms = _visible_forms(shown, bound)
    return Page([_view(s, forms[s], as_of) for s in shown if forms[s]],
                shown[-1] if len(streams) > limit else None)


def agreement(stream: str, as_of: date, known_at: datetime | None = None) -> AgreementView | None:
    bound = store.head_position(known_at) if known_at is not None else None
    forms = _visible_forms([stream], bound)[stream]
    return _view(stream, forms, as_of) if forms else None
