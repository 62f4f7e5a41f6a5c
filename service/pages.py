"""The public pages that read the log itself: home, one event, one subject, every subject.

The read-model pages (agreements, exercises, meetings, timeline) live beside
their read models; these need nothing but the log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, abort, render_template

import events
from events.corrections import EventState, fold
from events.vocabulary import META_TYPES, STREAM_KINDS

from .templating import canonical_event_id

bp = Blueprint("pages", __name__)

LATEST = 20


@dataclass(frozen=True)
class KindCount:
    kind: str
    description: str
    subjects: int
    events: int


@dataclass(frozen=True)
class Change:
    """One line of 'latest changes': the event, and for a correction or retraction its target."""

    event: events.RecordedEvent
    target: events.RecordedEvent | None


def counts() -> list[KindCount]:
    """Subjects and events of each kind (a stream's version is its number of events)."""
    subjects: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for stream, version in events.streams():
        kind = stream.split("/", 1)[0]
        subjects[kind] += 1
        totals[kind] += version
    return [KindCount(kind, text, subjects[kind], totals[kind]) for kind, text in STREAM_KINDS.items()]


def latest_changes(limit: int = LATEST) -> list[Change]:
    latest = events.read(limit=limit, descending=True)
    targets = {e.data["target"] for e in latest if e.type in META_TYPES}
    found = {t: _find(t) for t in targets}
    return [Change(e, found.get(e.data.get("target")) if e.type in META_TYPES else None) for e in latest]


def _find(event_id: str) -> events.RecordedEvent | None:
    try:
        return events.get(event_id)
    except events.UnknownEvent:
        return None


@bp.get("/")
def home() -> str:
    """What the chronology is, what changed lately, how much it holds, and where to read it."""
    top = events.store.head()
    return render_template("home.html", latest=latest_changes(), counts=counts(), head=top)


@bp.get("/events/<event_id>")
def event(event_id: str) -> str:
    """One event: its current form, every source quoted, its corrections, and its place in the chain."""
    canonical = canonical_event_id(event_id)
    if canonical is None:
        abort(404, description=f"{event_id!r} is not an event id (a UUID).")
    try:
        state = events.state(canonical)
    except events.UnknownEvent:
        abort(404, description=f"There is no event with id {canonical}.")
    target = None
    if state.original.type in META_TYPES:
        target = _find(state.original.data.get("target", ""))
    return render_template("event.html", state=state, event=state.original, target=target)


@bp.get("/subjects")
def subjects() -> str:
    """Every subject, grouped by kind."""
    by_kind: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for stream, version in events.streams():
        by_kind[stream.split("/", 1)[0]].append((stream, version))
    return render_template("subjects.html", by_kind=by_kind)


@bp.get("/subjects/<path:stream>")
def subject(stream: str) -> str:
    """A subject's whole stream, in version order, each fact with its corrections folded in."""
    stream_events = events.read_stream(stream)
    if not stream_events:
        abort(404, description=f"There is no subject {stream!r}.")
    metas = [e for e in stream_events if e.type in META_TYPES]
    states: dict[str, EventState] = {
        e.event_id: fold(e, [m for m in metas if m.position > e.position])
        for e in stream_events if e.type not in META_TYPES
    }
    titles = {event_id: s.current.data.get("title", "") for event_id, s in states.items()}
    return render_template("subject.html", stream=stream, kind=stream.split("/", 1)[0], events=stream_events,
                           states=states, titles=titles)
