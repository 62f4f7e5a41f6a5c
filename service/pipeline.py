"""What happens after an append, in one place and in order.

After every commit this process makes, whoever appends (the form, the API,
``chronology seed``, a test), in this order:

1. the feeds' cached head is dropped, so the next poll sees the new event
   and no repeated 304 answers from before it (``feeds.heads``);
2. followers held in a long-poll here are woken (``api.followers``).

After a write through the service (``writes.append_one``), before its answer:

3. one bounded batch is folded into the read models, so the writer ordinarily
   finds its event in every view, and never waits on a backlog (an import)
   that the catch-up job folds instead;
4. the WebSub hub, if one is configured, is told in the background which
   feeds changed.

Appends by other processes and hosts reach this one through the head cache's
short TTL, the followers' polling and the catch-up job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask

import projections
from events import RecordedEvent, store

from .api import followers
from .feeds import routes as feeds
from .feeds.heads import heads

log = logging.getLogger(__name__)

#: What a write folds before it answers: one batch of this many events, skipping a read model another process is
#: folding. After a large import the rest is left to the catch-up job, so a write never waits on a backlog.
FOLD_AFTER_APPEND = 500


def clear_heads(_recorded: list[RecordedEvent]) -> None:
    heads.clear()


#: Steps 1 and 2, after every commit in this process: cheap, and never raise.
AFTER_COMMIT: tuple[Callable[[list[RecordedEvent]], None], ...] = (clear_heads, followers.wake)

_installed = False


def install(app: Flask) -> None:
    """Have the store run ``AFTER_COMMIT`` after each commit of this process (once, however many apps)."""
    global _installed
    if not _installed:
        store.on_append(committed)
        _installed = True


def committed(recorded: list[RecordedEvent]) -> None:
    for step in AFTER_COMMIT:
        step(recorded)


def after_write(recorded: RecordedEvent) -> int:
    """Steps 3 and 4 for a write the service just committed; returns how far the views still lag.

    A read model that fails to fold here is logged, not raised: the event is
    committed, and the scheduled catch-up job folds what is left.
    """
    try:
        projections.catch_up(rounds=1, batch=FOLD_AFTER_APPEND, wait=False)
    except Exception:
        log.exception("read models could not catch up after position %s; the catch-up job will retry",
                      recorded.position)
    ping_hubs([recorded])
    return views_lag()


def views_lag() -> int:
    """How many events the views have yet to fold (0 when every read model is level with the log)."""
    try:
        return projections.lag()
    except Exception:
        log.exception("could not read how far the views lag")
        return 0


def ping_hubs(changed: Iterable[str | RecordedEvent]) -> None:
    """Tell the configured WebSub hub, in the background, which feeds ``changed`` (events or read models) touch."""
    feeds.notify_feeds(changed)
