"""Events a read model could not fold: set aside with the reason, so one event never stops a view.

A fold that raises on an event (a value no rule foresaw, a bug) records the
event here and goes on with the next one; the view then lacks that event,
and ``/status``, ``chronology status`` and the event's own page say so and
why. A later correction of the event is folded as the event in its corrected
form, and resolves the entry (``resolved_by``: the correction's position).
Rows depend on the log alone, so a rebuild sets aside exactly what catching
up did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import CharField, CompositeKey, IntegerField, TextField, fn

from events.records import RecordedEvent

from . import tables
from .tables import BaseModel


class Quarantine(BaseModel):
    name = CharField(max_length=64)  # the read model
    position = IntegerField()
    event_id = CharField(max_length=36)
    error = TextField()
    resolved_by = IntegerField(null=True)  # the position of the correction or retraction that resolved it

    class Meta:
        table_name = "projection_quarantine"
        primary_key = CompositeKey("name", "position")
        indexes = ((("event_id",), False),)


@dataclass(frozen=True)
class SetAside:
    """One event a read model could not fold, and why."""

    name: str
    position: int
    event_id: str
    error: str

    def to_dict(self) -> dict[str, object]:
        return {"read_model": self.name, "position": self.position, "event_id": self.event_id, "error": self.error}


def create_table() -> None:
    tables.create([Quarantine])


def set_aside(name: str, event: RecordedEvent, error: str) -> None:
    Quarantine.insert(name=name, position=event.position, event_id=event.event_id, error=error).on_conflict(
        conflict_target=[Quarantine.name, Quarantine.position],
        update={Quarantine.error: error, Quarantine.resolved_by: None}).execute()


def unresolved(name: str, event_ids: Iterable[str]) -> set[str]:
    """Which of ``event_ids`` the read model ``name`` set aside and no correction has resolved yet."""
    wanted = sorted(set(event_ids))
    if not wanted:
        return set()
    query = Quarantine.select(Quarantine.event_id).where(
        (Quarantine.name == name) & Quarantine.resolved_by.is_null() & Quarantine.event_id.in_(wanted))
    return {row.event_id for row in query}


def resolve(name: str, resolutions: dict[str, int]) -> None:
    """Mark the set-aside events of ``name`` among the keys resolved by the position each maps to."""
    for event_id, position in resolutions.items():
        Quarantine.update(resolved_by=position).where(
            (Quarantine.name == name) & (Quarantine.event_id == event_id) & Quarantine.resolved_by.is_null()
        ).execute()


def clear(name: str) -> None:
    """Forget what ``name`` set aside (a rebuild folds everything again)."""
    Quarantine.delete().where(Quarantine.name == name).execute()


def pending(name: str | None = None, *, event_id: str | None = None, limit: int = 100) -> list[SetAside]:
    """Unresolved set-aside events, oldest first: of one read model, of one event, or of all."""
    query = Quarantine.select().where(Quarantine.resolved_by.is_null())
    if name is not None:
        query = query.where(Quarantine.name == name)
    if event_id is not None:
        query = query.where(Quarantine.event_id == event_id)
    return [SetAside(q.name, q.position, q.event_id, q.error)
            for q in query.order_by(Quarantine.position, Quarantine.name).limit(limit)]


def counts() -> dict[str, int]:
    """How many unresolved events each read model has set aside."""
    query = (Quarantine.select(Quarantine.name, fn.COUNT(Quarantine.position).alias("n"))
             .where(Quarantine.resolved_by.is_null()).group_by(Quarantine.name))
    return {row.name: row.n for row in query}  # type: ignore[attr-defined]  # peewee's stubs: no alias on a row


def dump() -> list[tuple[Any, ...]]:
    """Every row, sorted: what rebuild-equals-incremental compares."""
    return sorted((q.name, q.position, q.event_id, q.error, q.resolved_by) for q in Quarantine.select())
