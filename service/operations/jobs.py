"""The time-driven work of a deployment, as plain functions.

Each job runs under an application context, logs its outcome, and leaves a
row in ``job_run``: the status page shows the last run of each, and a job
that raises is recorded with its traceback and simply runs again next time.
Which process runs them is the scheduler's business (``service/scheduler.py``).
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from peewee import AutoField, CharField, TextField

import projections
from events import store, tables
from events.tables import BaseModel, UTCTimeField
from events.transfer import export

from .. import pipeline
from . import integrity

log = logging.getLogger(__name__)


class JobRun(BaseModel):
    """One run of one job, by one process: what the status page and the tests read."""

    id = AutoField()
    name = CharField(max_length=64, index=True)
    started_at = UTCTimeField()
    finished_at = UTCTimeField(null=True)
    outcome = CharField(max_length=16)  # running, ok, failed
    detail = TextField(default="")
    host = CharField(max_length=200)

    class Meta:
        table_name = "job_run"


class CalendarPublication(BaseModel):
    """A calendar transition (a term ending, a planned date passing) noticed and announced, once."""

    change_id = CharField(max_length=36, primary_key=True)
    model = CharField(max_length=32)
    effective_at = UTCTimeField()
    published_at = UTCTimeField()

    class Meta:
        table_name = "calendar_publication"


def create_tables() -> None:
    tables.create_tables([JobRun, CalendarPublication])
    integrity.create_tables()


def now() -> datetime:
    return datetime.now(UTC)


# --- the jobs ----------------------------------------------------------------


def catch_up() -> str:
    """Bring every read model level with the log (events appended by other processes or hosts)."""
    applied = projections.catch_up()
    failed = [s for s in projections.status() if s.failed_position is not None]
    if failed:
        raise RuntimeError("; ".join(f"{s.name} stopped at position {s.failed_position}: {s.error}" for s in failed))
    aside = sum(s.set_aside for s in projections.status())
    return f"applied {applied} events" + (f"; {aside} set aside (see /status)" if aside else "")


def publish_calendar() -> str:
    """Announce, once, every calendar transition whose moment has passed (missed ones included)."""
    moment = now()
    published = {p.change_id for p in CalendarPublication.select(CalendarPublication.change_id)}
    due = sorted(((model.name, change) for model in projections.with_feeds() for change in model.due(moment)
                  if change.id not in published), key=lambda pair: (pair[1].updated, pair[1].id))
    for model, change in due:
        CalendarPublication.insert(change_id=change.id, model=model, effective_at=change.updated,
                                   published_at=moment).on_conflict_ignore().execute()
        log.info("calendar transition published: %s", change.title)
    if due:
        pipeline.ping_hubs(sorted({model for model, _ in due}))
    return f"published {len(due)} calendar transitions"


def backups() -> Path:
    return Path(current_app.instance_path) / "backups"


def newest_backup() -> Path | None:
    """The latest backup file (their names sort by the time they were taken), if any."""
    found = sorted(backups().glob("chronology-*.jsonl"))
    return found[-1] if found else None


def verify_log() -> str:
    """Walk the hash chain and hold the log against the newest backup; every page shows a break.

    The verdict is recorded for the pages whatever it is (a clean check
    clears an earlier break); a break, or a backup that cannot be read,
    also fails the job, so the status page and the logs show it.
    """
    found = integrity.check(newest_backup())
    integrity.record(found.verdict)
    if not found.verdict.ok or found.unreadable:
        raise RuntimeError(found.detail)
    return found.detail


def backup() -> str:
    """Export the log to a dated JSON Lines file in the instance folder, keeping the newest few.

    Only a log that verifies, and agrees with the newest backup, is backed
    up: a backup of a rewritten log would launder the rewrite, since the
    next check compares with the newest backup.
    """
    found = integrity.check(newest_backup())
    integrity.record(found.verdict)
    if not found.verdict.ok:
        raise RuntimeError(f"no backup taken: the record failed verification at position {found.verdict.broken_at}"
                           f"\n{found.detail}")
    if found.unreadable:
        raise RuntimeError(f"no backup taken: {found.unreadable} (move it out of backups/ to take new ones)")
    folder = backups()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    # The head zero-padded: two backups of one second (a test, a manual run) still sort by head, p…99 before p…100.
    target = folder / f"chronology-{stamp}-p{store.head_position():012d}.jsonl"
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        count = export(out)
        out.flush()
        os.fsync(out.fileno())
    partial.rename(target)
    keep = current_app.config.get("BACKUP_KEEP", 14)
    for old in sorted(folder.glob("chronology-*.jsonl"))[:-keep]:
        old.unlink()
    return f"{count} events to {target.name}"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], str]
    every: timedelta
    description: str


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("catch-up", catch_up, timedelta(seconds=5), "fold new events into the read models"),
    Job("calendar", publish_calendar, timedelta(minutes=1), "publish calendar transitions that fell due"),
    Job("verify", verify_log, timedelta(hours=1), "check the hash chain and hold the log against the newest backup"),
    Job("backup", backup, timedelta(days=1), "export the log to instance/backups"),
)}


def run(app: Flask, name: str) -> JobRun:
    """Run one job under an app context, record its outcome, never raise."""
    job = JOBS[name]
    with app.app_context():
        record = JobRun.create(name=name, started_at=now(), outcome="running",
                               host=f"{socket.gethostname()}:{os.getpid()}")
        try:
            detail, outcome = job.run(), "ok"
            # A catch-up every few seconds would drown the log: routine successes are debug lines.
            log.log(logging.DEBUG if job.every < ROUTINE else logging.INFO, "job %s ok: %s", name, detail)
        except Exception as exc:
            detail, outcome = "".join(traceback.format_exception(exc)), "failed"
            log.error("job %s failed:\n%s", name, detail)
        JobRun.update(finished_at=now(), outcome=outcome, detail=detail).where(JobRun.id == record.id).execute()
        _prune(name)
        return JobRun.get_by_id(record.id)


#: Jobs that run more often than this log their successes at debug level.
ROUTINE = timedelta(minutes=5)
#: Runs kept per job: enough history for the status page, not a row every 5 s forever.
KEEP_RUNS = 200


def _prune(name: str) -> None:
    oldest_kept = (JobRun.select(JobRun.id).where(JobRun.name == name)
                   .order_by(JobRun.id.desc()).offset(KEEP_RUNS - 1).limit(1).scalar())
    if oldest_kept is not None:
        JobRun.delete().where((JobRun.name == name) & (JobRun.id < oldest_kept)).execute()


def last_runs() -> dict[str, JobRun]:
    """The latest finished run of each job."""
    out: dict[str, JobRun] = {}
    for name in JOBS:
        last = (JobRun.select().where((JobRun.name == name) & (JobRun.outcome != "running"))
                .order_by(JobRun.id.desc()).first())
        if last is not None:
            out[name] = last
    return out

