"""How many entries a subscription document holds: a window of time, with a floor and a ceiling.

Most feed readers (newsboat, rss2email, ...) never walk ``prev-archive``:
what is not in the subscription document when they poll, they never see.
So the document holds every item recorded in the ``FEED_WINDOW_DAYS``
before its newest one (30 days), never fewer than ``FEED_PAGE_SIZE`` (50)
and never more than ``FEED_WINDOW_MAX`` (1,000). The window is measured
from the newest item, not from the clock: the document then depends on the
log alone, is rendered once per head, and an item that left it never comes
back. A reader that does not walk archives misses items only when, between
two of its polls, more than the ceiling arrive, or more than the floor
arrive and the oldest of them was recorded more than the window before the
newest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

DEFAULT_DAYS = 30
DEFAULT_MAX = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Every item within ``span`` of the newest, at least ``least`` of them, at most ``most``."""

    span: timedelta
    least: int
    most: int

    def cut(self, newest_first: Sequence[T], when: Callable[[T], datetime]) -> list[T]:
        """The items a subscription document holds, oldest first, out of up to ``most`` items newest first.

        Items come newest first in time as in position (recorded times never
        decrease along the log; a read model's feed is ordered by time), so
        the window is a prefix.
        """
        items = newest_first[:self.most]
        if not items:
            return []
        since = when(items[0]) - self.span
        kept = min(self.least, len(items))
        while kept < len(items) and when(items[kept]) >= since:
            kept += 1
        return list(reversed(items[:kept]))
