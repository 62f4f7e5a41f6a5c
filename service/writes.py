"""The service's one way to write: append through the log, then bring the read models level, within bounds.

The form and the JSON API both come through ``append_one``. Ordinarily the
views are level when the writer is answered, so an editor who lands on the
new event's page, or a machine that reads the position it was given, finds
the event already in the read models and the feeds; behind a backlog (an
import) the answer says how far the views lag instead of waiting on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, has_app_context

import events
import projections
from events import NewEvent, RecordedEvent

log = logging.getLogger(__name__)


#: What a write folds before it answers: one batch of this many events, skipping a read model another process is
#: folding. After a large import the rest is left to the catch-up job, so a write never waits on a backlog.
FOLD_AFTER_APPEND = 500


@dataclass(frozen=True)
class Appended:
    event: RecordedEvent
    created: bool  # False when the same event_id and content were already recorded (an idempotent re-send)
    lag: int = 0  # events the views have yet to fold when the writer was answered (the catch-up job folds them)


def append_one(event: NewEvent, *, author: str) -> Appended:
    """Append one event as ``author``; raises the store's typed errors and writes nothing then."""
    [(recorded, created)] = events.store.append_each([event], author=author)
    if not created:
        return Appended(recorded, created=False, lag=_lag())
    return Appended(recorded, created=True, lag=after_append(recorded))


def _lag() -> int:
    try:
        return projections.lag()
    except Exception:
        log.exception("could not read how far the views lag")
        return 0


def after_append(recorded: RecordedEvent) -> int:
    """Fold a bounded amount into the read models before the writer is answered; return how far they still lag.

    A read model that fails here is logged, not raised: the event is already
    committed, and the scheduled catch-up job folds what is left.
    """
    try:
        projections.catch_up(rounds=1, batch=FOLD_AFTER_APPEND, wait=False)
    except Exception:
        log.exception("read models could not catch up after position %s; the catch-up job will retry",
                      recorded.position)
    notify = current_app.extensions.get("chronology.notify_feeds") if has_app_context() else None
    if notify:
        notify([recorded])  # WebSub publish pings, in the background
    return _lag()
