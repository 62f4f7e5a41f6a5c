"""Corrections and retractions: how an event's current form follows from its history.

Nothing in the log is rewritten. An ``EventCorrected`` carries ``changes``
(``occurred``, ``sources``, and ``data`` fields where null removes one); an
``EventRetracted`` withdraws its target. These pure functions fold them, so
the store, the read models and the seed loader agree on what "current" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .records import RecordedEvent


@dataclass(frozen=True)
class Form:
    """The parts of a fact that a correction may change."""

    occurred: str
    data: dict[str, Any]
    sources: list[dict[str, Any]]

    @classmethod
    def of(cls, event: RecordedEvent) -> Form:
        return cls(event.occurred, event.data, event.sources)


def apply_changes(form: Form, changes: dict[str, Any]) -> Form:
    data = dict(form.data)
    for key, value in (changes.get("data") or {}).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Form(changes.get("occurred", form.occurred), data, changes.get("sources", form.sources))


def diff(current: Form, desired: Form) -> dict[str, Any]:
    """The changes that turn ``current`` into ``desired`` (empty when equal)."""
    changes: dict[str, Any] = {}
    if current.occurred != desired.occurred:
        changes["occurred"] = desired.occurred
    data = {k: v for k, v in desired.data.items() if current.data.get(k) != v}
    data.update({k: None for k in current.data if k not in desired.data})
    if data:
        changes["data"] = data
    if current.sources != desired.sources:
        changes["sources"] = desired.sources
    return changes


@dataclass(frozen=True)
class Revision:
    """One step in an event's history: the correction or retraction and when it was recorded."""

    event: RecordedEvent
    form: Form | None  # the form after this step; None once retracted


@dataclass(frozen=True)
class EventState:
    """An event as first recorded, as it stands now, and every step between."""

    original: RecordedEvent
    current: Form
    revisions: list[Revision] = field(default_factory=list)
    retraction: RecordedEvent | None = None

    @property
    def retracted(self) -> bool:
        return self.retraction is not None

    @property
    def corrected(self) -> bool:
        return any(r.event.type == "EventCorrected" for r in self.revisions)

    @property
    def updated(self) -> datetime:
        """When the event last changed in the log (its own recording, or its last revision)."""
        return self.revisions[-1].event.recorded_at if self.revisions else self.original.recorded_at


def fold(original: RecordedEvent, later: list[RecordedEvent]) -> EventState:
    """Apply the corrections and retraction among ``later`` that target ``original``."""
    form = Form.of(original)
    revisions: list[Revision] = []
    retraction = None
    for event in later:
        if event.data.get("target") != original.event_id or retraction is not None:
            continue
        if event.type == "EventCorrected":
            form = apply_changes(form, event.data["changes"])
            revisions.append(Revision(event, form))
        elif event.type == "EventRetracted":
            retraction = event
            revisions.append(Revision(event, None))
    return EventState(original, form, revisions, retraction)
