"""What a page's address names, found in the log, or a 404 that says why it names nothing."""

from __future__ import annotations

from flask import abort

import events
from events.corrections import EventState

from ..templating import canonical_event_id


def event_state_or_404(event_id: str) -> EventState:
    """The event ``event_id`` names, with its corrections; a 404 naming why when it names none."""
    canonical = canonical_event_id(event_id)
    if canonical is None:
        abort(404, description=f"{event_id!r} is not an event id (a UUID).")
    try:
        return events.state(canonical)
    except events.UnknownEvent:
        abort(404, description=f"There is no event with id {canonical}.")
