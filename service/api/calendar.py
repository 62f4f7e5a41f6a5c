"""Meetings to subscribe to: every session held or planned, as iCalendar (RFC 5545), built with ``icalendar``.

``/meetings/calendar.ics`` holds every mechanism's sessions, and
``/meetings/<slug>/calendar.ics`` one mechanism's. Each session is an
all-day event spanning every day its date can be: a session known to the
day is one day, one known only to the month spans the month, so a calendar
never shows more precision than the record has. Its UID is its event's id
and its DTSTAMP its recording, so a refresh finds the same events unchanged;
a planned session is TENTATIVE until one is recorded as held.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import icalendar
from flask import Blueprint, Response, abort

from events import store
from projections import meetings as meeting_model

from ..feeds.routes import base_url
from ..templating import precision

bp = Blueprint("calendar", __name__)

PRODID = "-//France-Japan partnership chronology//Meetings//EN"
UID_DOMAIN = "franco-japanese-chronology"
BATCH = 200  # mechanisms read at a time


def _all_mechanisms(now: datetime) -> Iterator[meeting_model.MechanismView]:
    after = None
    while True:
        page = meeting_model.mechanisms(now, after=after, limit=BATCH)
        yield from page
        after = page.next_after
        if after is None:
            return


def _days(item: meeting_model.ItemView) -> tuple[date, date] | None:
    """The first day and the day after the last that the item's date can be (None: undated)."""
    first = item.lo or item.hi
    last = item.hi or item.lo
    if first is None or last is None:
        return None
    return first, last + timedelta(days=1)


def _event(m: meeting_model.MechanismView, item: meeting_model.ItemView, planned: bool, recorded: datetime,
           root: str) -> icalendar.Event | None:
    days = _days(item)
    if days is None:
        return None
    event = icalendar.Event()
    event.add("uid", f"{item.event_id}@{UID_DOMAIN}")
    event.add("dtstamp", recorded.astimezone(UTC))
    event.add("dtstart", days[0])
    event.add("dtend", days[1])
    event.add("summary", f"{'Planned: ' if planned else ''}{m.name} — {item.title}")
    how = precision(item.occurred)
    lines = [f"{'Planned for' if planned else 'Held'} {item.when}" + (f" ({how})." if how else ".")]
    if planned:
        lines.append("No session fulfilling this plan is on record yet.")
    lines.append(f"{root}/events/{item.event_id}")
    event.add("description", "\n".join(lines))
    if item.place:
        event.add("location", item.place)
    event.add("status", "TENTATIVE" if planned else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", [m.name])
    event.add("url", f"{root}/events/{item.event_id}")
    return event


def _calendar(name: str, mechanisms: list[meeting_model.MechanismView]) -> bytes:
    root = base_url()
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    items = [(m, i, False) for m in mechanisms for i in m.sessions]
    items += [(m, p, True) for m in mechanisms for p in m.planned]
    recorded = {e.event_id: e.recorded_at for e in store.find_many(i.event_id for _, i, _ in items).values()}
    for m, item, planned in items:
        event = _event(m, item, planned, recorded.get(item.event_id, datetime(1970, 1, 1, tzinfo=UTC)), root)
        if event is not None:
            calendar.add_component(event)
    return bytes(calendar.to_ical())


def _response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/meetings/calendar.ics")
def every_meeting() -> Response:
    """Every session held or planned, of every mechanism."""
    mechanisms = list(_all_mechanisms(datetime.now(UTC)))
    return _response(_calendar("France–Japan meetings and dialogues", mechanisms), "meetings.ics")


@bp.get("/meetings/<path:slug>/calendar.ics")
def one_mechanism(slug: str) -> Response:
    """One mechanism's sessions (``/meetings/2plus2/calendar.ics`` for ``meeting/2plus2``)."""
    found = meeting_model.mechanism(f"meeting/{slug}", datetime.now(UTC))
    if found is None:
        abort(404, description=f"There is no dialogue mechanism meeting/{slug[:60]}.")
    return _response(_calendar(f"France–Japan: {found.name}", [found]), f"{slug.replace('/', '-')}.ics")
