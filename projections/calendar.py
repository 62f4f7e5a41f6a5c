"""Calendar transitions: status changes that come from a date passing, not from an event.

A term ending or a planned session becoming overdue is already a row in its
read model (with an id and a time derived from the log); it becomes visible
when its moment comes. This module lists the ones that are due, across read
models, for the job that announces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .agreements import AgreementChange
from .meetings import MeetingChange


@dataclass(frozen=True)
class CalendarChange:
    id: str
    model: str  # the read model whose feed carries it
    title: str
    updated: datetime


def due(now: datetime) -> list[CalendarChange]:
    """Every calendar transition whose moment is at or before ``now``, oldest first."""
    rows = (AgreementChange.select()
            .where((AgreementChange.cause == "calendar") & (AgreementChange.updated <= now))
            .order_by(AgreementChange.updated, AgreementChange.id))
    out = [CalendarChange(r.id, "agreements", f"{r.name}: {r.from_status} → {r.to_status}", r.updated)
           for r in rows]
    overdue = (MeetingChange.select()
               .where((MeetingChange.cause == "calendar") & (MeetingChange.updated <= now))
               .order_by(MeetingChange.updated, MeetingChange.id))
    out += [CalendarChange(r.id, "meetings", r.title, r.updated) for r in overdue]
    return sorted(out, key=lambda c: (c.updated, c.id))
