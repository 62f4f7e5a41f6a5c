"""Failed sign-ins are counted, so a password cannot be guessed at the speed of the network.

Counted per client address and per account name over a sliding window, in
this process's memory: each worker of a deployment holds its own count, which
still bounds guessing to a few attempts a minute, on top of Argon2's cost.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

#: Failures allowed within WINDOW seconds before further attempts are refused.
MAX_FAILURES = 10
WINDOW = 15 * 60


class Throttle:
    """Sliding-window failure counts for a set of keys (a client address, an account name)."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]  # an idle key costs no memory
            return deque()
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of ``keys`` may try again; 0 when none is throttled."""
        now = self.clock()
        with self._lock:
            waits = [times[0] + self.window - now for key in keys
                     if len(times := self._recent(key, now)) >= self.limit]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                self._failures[key].append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

