"""The changes a read model publishes: what its feed carries, in one shape whatever the read model.

A read model with a feed keeps a table of change rows, each with an id and an
``updated`` time derived from the log alone (so a rebuild gives the same
rows). ``ChangeLog`` pages those rows in feed order, (updated, position, id),
by keyset, so archive pages are fixed ranges of that order and never shift.
A calendar row (a term ending, a planned session falling due) becomes visible
when its moment comes, and its ``updated`` is that moment: it always sorts
after everything visible before it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from peewee import Model, ModelSelect


@dataclass(frozen=True)
class Change:
    """One entry of a read model's feed."""

    id: str
    stream: str
    title: str
    updated: datetime
    position: int  # the event that caused it
    event_id: str | None  # the event it is about (a stage, an edition, a session)
    change: str  # added, corrected, retracted; status, withdrawn (agreements); passed (a plan's date, meetings)
    cause: str  # "event", or "calendar" when a date passing made it
    effective: date | None = None  # the first day it may have taken effect in the world
    occurred: str | None = None  # when it took effect in the world, or what it is about took place (EDTF)
    valid: str | None = None  # the same in words, with its precision ("July 2018", "the end of 2018, by its term")
    announced: str | None = None  # for a plan: when it was made or announced (EDTF); ``occurred`` is its date
    note: str | None = None  # what else the read model says of it ("In force from then on: unknown (...)")

    @property
    def key(self) -> tuple[datetime, int, str]:
        """Its place in feed order."""
        return (self.updated, self.position, self.id)


def in_feed_order(query: ModelSelect, model: Any, after: tuple[Any, ...] | None, limit: int,
                  descending: bool = False) -> list[Any]:
    """One page of change rows in feed order (updated, position, id), by keyset after ``after``."""
    order = (model.updated, model.position, model.id)
    if after is not None:
        updated, position, id_ = after
        beyond = operator.lt if descending else operator.gt
        query = query.where(
            beyond(model.updated, updated)
            | ((model.updated == updated) & beyond(model.position, position))
            | ((model.updated == updated) & (model.position == position) & beyond(model.id, id_)))
    return list(query.order_by(*(o.desc() for o in order) if descending else order).limit(limit))


class ChangeLog:
    """What a read model with a feed adds: its change rows, read as ``Change``s at a moment ``now``."""

    #: The read model's (``Projection``): what its feed's URLs name.
    name: ClassVar[str]
    kind: ClassVar[str | None]
    feed_title: ClassVar[str]
    change_rows: ClassVar[type[Model]]
    #: Whether some rows come from the calendar (a ``cause`` column; visible once their moment has come).
    calendar: ClassVar[bool] = False

    def change_of(self, row: Any) -> Change:
        """A change row as the feed shows it."""
        raise NotImplementedError

    def _visible(self, now: datetime) -> Any:
        rows: Any = self.change_rows
        if self.calendar:
            return (rows.cause == "event") | (rows.updated <= now)
        return rows.updated <= now

    def changes(self, now: datetime, *, after: tuple[Any, ...] | None = None, limit: int = 50,
                descending: bool = False) -> list[Change]:
        """The changes visible at ``now`` after (or, descending, before) the key ``after``, in feed order."""
        query = self.change_rows.select().where(self._visible(now))
        return [self.change_of(r) for r in in_feed_order(query, self.change_rows, after, limit, descending)]

    def count_changes(self, now: datetime, upto: tuple[Any, ...] | None = None) -> int:
        """How many changes are visible at ``now``, up to and including the key ``upto``."""
        query = self.change_rows.select().where(self._visible(now))
        if upto is not None:
            query = query.where(self._not_after(upto))
        return int(query.count())

    def _not_after(self, key: tuple[Any, ...]) -> Any:
        rows: Any = self.change_rows
        updated, position, id_ = key
        return ((rows.updated < updated) | ((rows.updated == updated) & (rows.position < position))
                | ((rows.updated == updated) & (rows.position == position) & (rows.id <= id_)))

    def find_change(self, now: datetime, change_id: str) -> Change | None:
        """The change ``change_id`` if it is visible at ``now``."""
        row = self.change_rows.get_or_none((self.change_rows.id == change_id) & self._visible(now))  # type: ignore[attr-defined]
        return self.change_of(row) if row is not None else None

    def due(self, now: datetime) -> list[Change]:
        """Calendar changes whose moment is at or before ``now``, oldest first (what the calendar job announces)."""
        if not self.calendar:
            return []
        rows: Any = self.change_rows
        query = rows.select().where((rows.cause == "calendar") & (rows.updated <= now)).order_by(rows.updated, rows.id)
        return [self.change_of(r) for r in query]
