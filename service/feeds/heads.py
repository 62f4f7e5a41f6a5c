"""The log's head as the feeds see it: re-read at most once per ``FEED_HEAD_TTL`` seconds.

A poll of an unchanged feed should cost what a static file costs. The
subscription document depends only on the head of the log, so each process
keeps the head it last read: an append in this process clears it at once
(a step of ``service.pipeline``); an append by another process or host is seen within
the TTL (one second by default). A reader never misses an event either way:
the log only grows, and the next poll shows it.
"""

from __future__ import annotations

import threading
import time

import events
from events.store import Head

DEFAULT_TTL = 1.0


class HeadCache:
    """The last head read for each database URL, with the moment it was read."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[float, Head | None]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Bumped by every append in this process: an answer built on an older head is out of date."""
        return self._generation

    def get(self, url: str, ttl: float) -> Head | None:
        return self.lookup(url, ttl)[0]

    def lookup(self, url: str, ttl: float) -> tuple[Head | None, float, int]:
        """The head, the monotonic time until which it is trusted, and the generation it was read in."""
        now = time.monotonic()
        generation = self._generation  # before the lookup: `clear` empties the dict, then bumps this
        found = self._heads.get(url)
        if found is not None and now - found[0] < ttl:
            return found[1], found[0] + ttl, generation
        head = events.store.head()
        with self._lock:
            # An append that committed while we read must not be hidden behind what we read.
            if generation == self._generation:
                self._heads[url] = (now, head)
        return head, now + ttl, generation

    def clear(self, *_: object) -> None:
        with self._lock:
            self._heads.clear()
            self._generation += 1


heads = HeadCache()
