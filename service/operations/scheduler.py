"""Exactly one scheduler per deployment, however many processes and hosts serve it.

Every serving process may call ``start(app)``; only the one holding the
deployment lock runs the jobs. The lock is a PostgreSQL session advisory
lock held on a dedicated connection (shared by every host using the
database), or an exclusive lock on a file in the instance folder for SQLite
(a single-host database). The lock dies with its process, and the others
keep trying, so if the leader goes away another takes over.

Never started by ``create_app``: only ``chronology serve`` (or a test that
asks) starts it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from playhouse import db_url

from . import jobs

log = logging.getLogger(__name__)

LOCK_KEY = 0x4652_4A53  # "FRJS": the scheduler's advisory lock on PostgreSQL
RETRY_SECONDS = 15.0


class Leadership:
    """The deployment-wide lock that makes one process the scheduler."""

    def __init__(self, app: Flask) -> None:
        self.url: str = app.config["DATABASE_URL"]
        self.lock_path = Path(app.instance_path) / "scheduler.lock"
        self._conn: Any = None  # a psycopg2 connection holding the advisory lock
        self._file: IO[str] | None = None  # the lock file, flocked

    @property
    def postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    def acquire(self) -> bool:
        if self.postgres:
            import psycopg2

            conn = psycopg2.connect(**db_url.parse(self.url))
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                if cur.fetchone()[0]:
                    self._conn = conn
                    return True
            conn.close()
            return False
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        if self._file is not None:
            return True
        if self._conn is None:
            return False
        try:
            with self._conn.cursor() as cur:
                cur.execute("SELECT 1")
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class DeploymentScheduler:
    """Campaigns for leadership in a daemon thread; runs the jobs while it leads."""

    def __init__(self, app: Flask, retry: float = RETRY_SECONDS) -> None:
        self.app = app
        self.retry = retry
        self.leadership = Leadership(app)
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._campaign, name="chronology-scheduler", daemon=True)

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> DeploymentScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._abdicate()

    def _campaign(self) -> None:
        while not self._stop.is_set():
            try:
                if self.scheduler is None and self.leadership.acquire():
                    self._lead()
                elif self.scheduler is not None and not self.leadership.still_held():
                    log.warning("scheduler lost its lock; stopping jobs in this process")
                    self._abdicate()
            except Exception:
                log.exception("scheduler leadership check failed; retrying")
            self._stop.wait(self.retry)

    def _lead(self) -> None:
        log.info("this process (pid %s) runs the scheduled jobs", os.getpid())
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        for job in jobs.JOBS.values():
            scheduler.add_job(jobs.run, IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
                              args=(self.app, job.name), id=job.name, name=job.description,
                              next_run_time=self._first_run(job, now))
        scheduler.start()
        self.scheduler = scheduler

    def _first_run(self, job: jobs.Job, now: datetime) -> datetime:
        """Missed work is caught up at once; a job that ran recently waits for its turn."""
        with self.app.app_context():
            last = jobs.last_runs().get(job.name)
        if last is None or last.outcome != "ok" or last.finished_at is None:
            return now
        return max(now, last.finished_at + job.every)

    def _abdicate(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.leadership.release()


_started: DeploymentScheduler | None = None
_guard = threading.Lock()


def start(app: Flask, retry: float = RETRY_SECONDS) -> DeploymentScheduler:
    """Start campaigning in this process (once per process, whatever the caller)."""
    global _started
    with _guard:
        if _started is None:
            _started = DeploymentScheduler(app, retry).start()
        return _started



def current() -> DeploymentScheduler | None:
    """This process's scheduler, if ``start`` was called here (the status page asks who leads)."""
    return _started
