"""The service's one way to write: append through the log, then bring the read models level.

The form and the JSON API both come through ``append_one``, so an editor who
lands on the new event's page, or a machine that reads the position it was
given, finds the event already folded into the read models and the feeds.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from flask import current_app, has_app_context

import events
import projections
from events import NewEvent, RecordedEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Appended:
    event: RecordedEvent
    created: bool  # False when the same event_id and content were already recorded (an idempotent re-send)


def append_one(event: NewEvent, *, author: str) -> Appended:
    """Append one event as ``author``; raises the store's typed errors and writes nothing then."""
    existed = event.event_id is not None and _known(event.event_id)
    recorded = events.append([event], author=author)[0]
    if not existed:
        after_append(recorded)
    return Appended(recorded, created=not existed)


def _known(event_id: object) -> bool:
    try:
        events.get(str(uuid.UUID(str(event_id))))
    except (ValueError, events.UnknownEvent):
        return False
    return True


def after_append(recorded: RecordedEvent) -> None:
    """Fold the new event into the read models before the writer is answered.

    A read model that fails here is logged, not raised: the event is already
    committed, and the scheduled catch-up job retries the fold.
    """
    try:
        projections.catch_up()
    except Exception:
        log.exception("read models could not catch up after position %s; the catch-up job will retry",
                      recorded.position)
    notify = current_app.extensions.get("chronology.notify_feeds") if has_app_context() else None
    if notify:
        notify([recorded])  # WebSub publish pings, in the background
