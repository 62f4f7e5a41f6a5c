"""Events a read model could not fold: set aside with the reason, so one event never stops a view.

A fold that raises on an event (a value no rule foresaw, a bug) records the
event here and goes on with the next one; the view then lacks that event,
and ``/status``, ``chronology status`` and the event's own page say so and
why. A later correction of the event is folded as the event in its corrected
form, and resolves the entry (``resolved_by``: the correction's position).
Rows depend on the log alone, so a rebuild sets aside exactly what catching
up did. Each build of a read model keeps its own (``name`` holds the build's
key, ``binding.key``): a rebuild folding new tables sets aside its events
while the build it replaces still shows its own; they are read here by read
model, for the build the context names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import CharField, CompositeKey, IntegerField, TextField, fn

from events.records import RecordedEvent

from . import binding, tables
from .tables import BaseModel


class Quarantine(BaseModel):
    name = CharField(max_length=64)  # the build's key (the read model's name, for build 0)
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
    """The read model ``name`` (the build this context names) could not fold ``event``."""
    key = binding.key_of(name)
    Quarantine.insert(name=key, position=event.position, event_id=event.event_id, error=error).on_conflict(
        conflict_target=[Quarantine.name, Quarantine.position],
        update={Quarantine.error: error, Quarantine.resolved_by: None}).execute()


def unresolved(name: str, event_ids: Iterable[str]) -> set[str]:
    """Which of ``event_ids`` the read model ``name`` set aside and no correction has resolved yet."""
    wanted = sorted(set(event_ids))
    if not wanted:
        return set()
    query = Quarantine.select(Quarantine.event_id).where(
        (Quarantine.name == binding.key_of(name)) & Quarantine.resolved_by.is_null()
        & Quarantine.event_id.in_(wanted))
    return {row.event_id for row in query}


def resolve(name: str, resolutions: dict[str, int]) -> None:
    """Mark the set-aside events of ``name`` among the keys resolved by the position each maps to."""
    key = binding.key_of(name)
    for event_id, position in resolutions.items():
        Quarantine.update(resolved_by=position).where(
            (Quarantine.name == key) & (Quarantine.event_id == event_id) & Quarantine.resolved_by.is_null()
        ).execute()


def clear_build(key: str) -> None:
    """Forget what one build set aside (its tables are new, or gone)."""
    Quarantine.delete().where(Quarantine.name == key).execute()


def _keys() -> dict[str, str]:
    """The build key of every read model this context names → the read model's name."""
    return {binding.key(name, tag): name for name, tag in binding.current().items()}


def pending(name: str | None = None, *, event_id: str | None = None, limit: int = 100) -> list[SetAside]:
    """Unresolved set-aside events, oldest first: of one read model, of one event, or of all (the builds served)."""
    keys = _keys()
    wanted = [k for k, n in keys.items() if name is None or n == name]
    if not wanted:
        return []
    query = Quarantine.select().where(Quarantine.resolved_by.is_null() & Quarantine.name.in_(wanted))
    if event_id is not None:
        query = query.where(Quarantine.event_id == event_id)
    return [SetAside(keys[q.name], q.position, q.event_id, q.error)
            for q in query.order_by(Quarantine.position, Quarantine.name).limit(limit)]


def counts() -> dict[str, int]:
    """How many unresolved events each read model (the build served) has set aside."""
    keys = _keys()
    if not keys:
        return {}
    query = (Quarantine.select(Quarantine.name, fn.COUNT(Quarantine.position).alias("n"))
             .where(Quarantine.resolved_by.is_null() & Quarantine.name.in_(list(keys))).group_by(Quarantine.name))
    return {keys[row.name]: row.n for row in query}  # type: ignore[attr-defined]  # peewee's stubs: no alias on a row


def dump() -> list[tuple[Any, ...]]:
    """Every row of the builds served, by read model, sorted: what rebuild-equals-incremental compares."""
    keys = _keys()
    return sorted((keys[q.name], q.position, q.event_id, q.error, q.resolved_by)
                  for q in Quarantine.select() if q.name in keys)
