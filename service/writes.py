"""The service's one way to write: append through the log, then bring the read models level, within bounds.

The form and the JSON API both come through ``append_one``. Ordinarily the
views are level when the writer is answered, so an editor who lands on the
new event's page, or a machine that reads the position it was given, finds
the event already in the read models and the feeds; behind a backlog (an
import) the answer says how far the views lag instead of waiting on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import events
from events import NewEvent, RecordedEvent

from . import pipeline


@dataclass(frozen=True)
class Appended:
    event: RecordedEvent
    created: bool  # False when the same event_id and content were already recorded (an idempotent re-send)
    lag: int = 0  # events the views have yet to fold when the writer was answered (the catch-up job folds them)


def append_together(batch: list[NewEvent], *, author: str) -> list[Appended]:
    """Append events that stand or fall together (all recorded, or none), then what follows a write."""
    results = events.store.append_each(batch, author=author)
    if not any(created for _, created in results):
        lag = pipeline.views_lag()
        return [Appended(recorded, created=False, lag=lag) for recorded, _ in results]
    lag = pipeline.after_write(results[-1][0])
    return [Appended(recorded, created=created, lag=lag) for recorded, created in results]


def append_one(event: NewEvent, *, author: str) -> Appended:
    """Append one event as ``author``, then what follows a write (``pipeline``); raises the store's typed errors
    and writes nothing then."""
    [appended] = append_together([event], author=author)
    return appended
