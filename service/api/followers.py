"""Followers of the log: long-polls waiting for the next event, woken by this process's appends, within a budget.

A follower asks ``GET /api/events?after=N&wait=S``. When nothing is new it is
held until an append in this process wakes it (``wake``, a step of the
after-append pipeline) or, for appends by other processes and hosts, until
its next look at the head, every ``POLL_SECONDS``. Each held follower holds a
server thread, so a process holds at most its budget of them.
"""

from __future__ import annotations

import threading
import time

from events import RecordedEvent, store

POLL_SECONDS = 0.2  # how often a held follower looks at the head for appends made by other processes

_appended = threading.Condition()


def wake(_recorded: list[RecordedEvent]) -> None:
    """Wake every follower held in this process: an event was just committed here."""
    with _appended:
        _appended.notify_all()


def wait_for_head(after: int, seconds: float) -> int:
    """Block until the log's head passes ``after`` or ``seconds`` elapse; return the head."""
    deadline = time.monotonic() + seconds
    while True:
        head = store.head_position()
        remaining = deadline - time.monotonic()
        if head > after or remaining <= 0:
            return head
        with _appended:
            _appended.wait(min(POLL_SECONDS, remaining))


class Budget:
    """How many followers this process may hold waiting at once.

    Past the budget a follower is answered at once (an empty page with
    ``Retry-After``) rather than let followers take every thread a page, a
    feed or ``/healthz`` needs.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._held = 0
        self._lock = threading.Lock()

    def hold(self) -> bool:
        with self._lock:
            if self._held >= self.size:
                return False
            self._held += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._held -= 1
