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
from typing import Any

import orjson
from peewee import CharField, DateField, IntegerField, Model, TextField

from events import dates, derived, store
from events.canonical import dumps, parse_utc
from events.corrections import Form, apply_changes
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import quarantine, tables
from .tables import ViewModel, delete_positions, insert_rows

#: The columns every fact table starts with, in this order. The fact's id, type and recorded time are the log's,
#: read through the position (``events.derived.joined_facts``): a table of every fact need not copy them.
BASE_COLUMNS = ("position", "stream", "occurred", "data", "sources", "lo", "hi")


class FactRow(ViewModel):
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
        return dates.parse(self.occurred)

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

    def row(self) -> tuple[Any, ...]:
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


def restated_fact(event_id: str, upto: int) -> Fact | None:
    """An event a read model set aside, in the form its revisions up to ``upto`` give it (None: retracted).

    It stays keyed by its own position and recording; what changes is when
    the read model learns of it, which is the revision's step.
    """
    state = store.state(event_id, upto=upto)
    if state.retracted:
        return None
    original, form = state.original, state.current
    return Fact(original.event_id, original.stream, original.type, form.occurred, form.data, form.sources,
                original.position, original.recorded_at)


#: Types whose fact is a plan: what they are about is the date the plan names (``data.planned_for``).
PLANNED_TYPES = frozenset({"ExercisePlanned", "MeetingPlanned"})


def date_of(type_: str, data: dict[str, Any], occurred: str) -> str:
    """The date a fact is about: a plan's planned date; any other fact's ``occurred`` (for a plan, its announcement).

    A plan recorded before plans kept two dates names its planned date in ``occurred``.
    """
    planned = data.get("planned_for")
    return planned if type_ in PLANNED_TYPES and isinstance(planned, str) else occurred


def announced(type_: str, data: dict[str, Any], occurred: str) -> str | None:
    """When a plan was made or announced (None for a fact that is not a plan, or an older plan with one date)."""
    return occurred if type_ in PLANNED_TYPES and isinstance(data.get("planned_for"), str) else None


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


def fact_of(row: Sequence[Any]) -> Fact:
    """A fact from a row of ``events.derived.joined_facts``: marked as logged when the table kept no copy."""
    fact = Fact.from_row(row)
    return replace(fact, original=True) if row[8] else fact


def load(model: type[Model], column: str, keys: Iterable[str]) -> list[Fact]:
    """The stored facts of a fact table whose ``column`` (``event_id`` or ``stream``) is one of ``keys``."""
    wanted = sorted(set(keys))
    table = tables.name(model)
    if column == "event_id":
        return [fact_of(row) for row in derived.facts_of_events(table, wanted)]
    out = []
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        where = f"t.stream IN ({', '.join('?' * len(chunk))})"
        out += [fact_of(row) for row in derived.joined_facts(table, where=where, params=chunk)]
    return out


class Batch:
    """A batch folded in memory: the facts it touched, in their new forms, every step, and their rows.

    ``whole_streams`` loads every stored fact of the streams the batch touches
    (a read model that judges a fact by its neighbours, like a planned
    session by the sessions held); otherwise only the targets of corrections.
    Each fact's row is worked out at the step that makes it, not at the end:
    an event whose fact cannot be written fails at its own turn, whatever
    batch it arrives in, so a rebuild sets aside what catching up did.
    """

    def __init__(self, model: type[Model], columns: Sequence[str], row: Callable[[Fact], tuple[Any, ...]],
                 events: list[RecordedEvent],
                 accepts: Callable[[RecordedEvent], bool], *, whole_streams: bool = False,
                 set_aside: str | None = None) -> None:
        self.model, self.columns, self.row = model, columns, row
        relevant = [e for e in events if e.type in META_TYPES or accepts(e)]
        new = {e.event_id for e in relevant if e.type not in META_TYPES}
        targets = {e.data["target"] for e in relevant if e.type in META_TYPES and e.data["target"] not in new}
        if whole_streams:
            stored = load(model, "stream", {e.stream for e in relevant})
        else:
            stored = load(model, "event_id", targets)
        self.stored: dict[str, Fact] = {f.event_id: f for f in stored}
        self.current: dict[str, Fact | None] = dict(self.stored)
        self.rows: dict[str, tuple[Any, ...]] = {}
        #: Targets the read model ``set_aside`` could not fold: a correction folds them in their corrected form.
        self.waiting = quarantine.unresolved(set_aside, targets - self.stored.keys()) if set_aside else set()
        self.steps: list[Step] = []
        for event in relevant:
            self._apply(event)

    def _apply(self, event: RecordedEvent) -> None:
        if event.type not in META_TYPES:
            self._step(event, None, Fact.of(event))
            return
        target_id = event.data["target"]
        target = self.current.get(target_id)
        if target is None and target_id in self.waiting:
            self.waiting.discard(target_id)
            restated = restated_fact(target_id, event.position)
            if restated is not None:
                self._step(event, None, restated)
            return
        if target is None:  # not a fact this read model keeps, or already retracted
            return
        self._step(event, target, target.corrected(event.data["changes"]) if event.type == "EventCorrected" else None)

    def _step(self, event: RecordedEvent, before: Fact | None, after: Fact | None) -> None:
        fact = after if after is not None else before
        assert fact is not None  # a step has the fact before it, after it, or both
        fact_id = fact.event_id
        if after is None:
            self.rows.pop(fact_id, None)
        else:
            self.rows[fact_id] = self.row(after)
        self.current[fact_id] = after
        self.steps.append(Step(event, before, after))

    def write(self) -> None:
        """Replace the touched rows: stored ones are deleted, current ones inserted."""
        delete_positions(self.model, [self.stored[eid].position for eid in self.current if eid in self.stored])
        rows = [self.rows[eid] if eid in self.rows else self.row(f) for eid, f in self.current.items() if f is not None]
        insert_rows(self.model, self.columns, rows)
