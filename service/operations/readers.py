"""Which read-model tables this process reads: one build per request, and a heartbeat the deployment can see.

Each request is pinned to the builds the process serves when it starts
(``projections.pin``), so it reads one build from start to end even if a
rebuild swaps in the next one meanwhile; the process learns of a swap made
elsewhere at most ``REFRESH_SECONDS`` late, at a request's start.

Every serving process (each ``chronology serve`` worker) also runs a
heartbeat thread: every ``CHRONOLOGY_HEARTBEAT_SECONDS`` (default 10) it
records which builds it reads, catches them up with the log (a process of
another version than the scheduler's has nobody else to do it), and drops
the builds nobody reads any more, once they have been retired for
``CHRONOLOGY_RETIRED_GRACE_SECONDS`` (default 60: a request that began on
the old tables ends on them). Started by ``chronology serve`` only, never by
``create_app``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from flask import Flask, g

import projections

log = logging.getLogger(__name__)

HEARTBEAT_ENV = "CHRONOLOGY_HEARTBEAT_SECONDS"
HEARTBEAT_SECONDS = 10.0
GRACE_ENV = "CHRONOLOGY_RETIRED_GRACE_SECONDS"
#: How stale the serving set may be at a request's start: a swap by another process is seen within this.
REFRESH_SECONDS = 1.0

_refreshed = {"at": 0.0}
_refresh_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Pin every request to the builds served at its start, and notice other processes' swaps."""

    @app.before_request
    def pin_builds() -> None:
        _refresh()
        try:
            g.read_model_builds = projections.pin()
        except Exception:  # the database is away: the request goes on, and says so where it needs the database
            log.debug("could not read the read models' builds", exc_info=True)

    @app.teardown_request
    def unpin_builds(_exc: BaseException | None) -> None:
        token = g.pop("read_model_builds", None)
        if token is not None:
            try:
                projections.unpin(token)
            except ValueError:  # reset in another context (a streamed response): nothing of ours is held there
                log.debug("the request's pin was set in another context", exc_info=True)


def _refresh() -> None:
    """Read which builds to serve at most once per ``REFRESH_SECONDS`` per process; a database fault keeps the last."""
    moment = time.monotonic()
    if moment - _refreshed["at"] < REFRESH_SECONDS or not _refresh_lock.acquire(blocking=False):
        return
    try:
        _refreshed["at"] = moment
        projections.refresh()
    except Exception:  # the database is away: keep serving what we served; the request itself will say so
        log.debug("could not read the read models' builds", exc_info=True)
    finally:
        _refresh_lock.release()


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.1, float(os.environ.get(name, default)))
    except ValueError:
        log.warning("%s is not a number of seconds: %s used instead", name, default)
        return default


def interval() -> float:
    return _seconds(HEARTBEAT_ENV, HEARTBEAT_SECONDS)


def grace() -> timedelta:
    return timedelta(seconds=_seconds(GRACE_ENV, projections.builds.GRACE.total_seconds()))


class Heartbeat:
    """A daemon thread that says, every ``every`` seconds, what this process reads (see the module's docstring)."""

    def __init__(self, app: Flask, every: float | None = None) -> None:
        self.app = app
        self.every = every if every is not None else interval()
        self.grace = grace()
        self.process = projections.process_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="read-model-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> list[str]:
        with self.app.app_context():
            dropped = projections.heartbeat(self.process, grace=self.grace)
        if dropped:
            log.info("dropped builds no process reads any more: %s", ", ".join(dropped))
        return dropped

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:
                log.warning("read-model heartbeat failed; trying again in %.0f s", self.every, exc_info=True)
            self._stop.wait(self.every)

    def stop(self) -> None:
        """Stop beating and say this process reads nothing any more."""
        self._stop.set()
        self._thread.join(timeout=self.every + 5)
        try:
            with self.app.app_context():
                projections.forget_reader(self.process)
        except Exception:
            log.debug("could not forget this process's reader rows", exc_info=True)


_started: dict[str, Heartbeat | None] = {"heartbeat": None}


def start(app: Flask) -> Heartbeat:
    """Start this process's heartbeat (once)."""
    heartbeat = _started["heartbeat"]
    if heartbeat is None:
        heartbeat = _started["heartbeat"] = Heartbeat(app).start()
    return heartbeat


def stop() -> None:
    heartbeat = _started["heartbeat"]
    if heartbeat is not None:
        heartbeat.stop()
        _started["heartbeat"] = None
