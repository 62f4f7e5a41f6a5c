"""The record's integrity as readers see it: the scheduled check's verdict, shown on every page.

A break found by the hourly check must not stay on /status: a reader of any
page is told that the record failed verification, where and when, and an
event page at or after that position says the record there is in doubt.
The verdict is one row, written by each check (a later clean check clears
it) and read by pages through a per-process cache of a few seconds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from peewee import IntegerField, TextField

from events import tables
from events.integrity import verify
from events.models import BaseModel, UTCTimeField
from events.witness import WitnessError, compare, read_claims

from ..feeds.atom import CLAIM_NAMESPACES

log = logging.getLogger(__name__)

#: How long a process shows a verdict before reading it again.
TTL_SECONDS = 5.0


class IntegrityVerdict(BaseModel):
    """The latest check's verdict: one row (id 1), replaced by every check."""

    id = IntegerField(primary_key=True)
    checked_at = UTCTimeField()
    broken_at = IntegerField(null=True)
    reason = TextField(default="")

    class Meta:
        table_name = "integrity_verdict"


@dataclass(frozen=True)
class Verdict:
    checked_at: datetime
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat(), "ok": self.ok, "broken_at": self.broken_at,
                "reason": self.reason}


@dataclass(frozen=True)
class Check:
    """What one check found: the verdict, a line per thing checked, and a backup it could not read."""

    verdict: Verdict
    detail: str
    unreadable: str | None = None


def check(backup: Path | None) -> Check:
    """Walk the hash chain, then hold the log against ``backup``, an export kept outside the database.

    The chain alone cannot see a chain rewritten from an altered row onward,
    nor rows removed from its end; the backup can, for every position it holds.
    The verdict names the lowest position either finds.
    """
    moment = datetime.now(UTC)
    chain = verify()
    lines = [str(chain)]
    found: list[tuple[int, str]] = []  # (position, why) of each disagreement
    if chain.broken_at is not None:  # not ok
        found.append((chain.broken_at, chain.reason or ""))
    unreadable = None
    if backup is not None:
        try:
            with backup.open("rb") as stream:
                comparison = compare(read_claims(stream, namespace=CLAIM_NAMESPACES), witness=f"backup {backup.name}")
        except (WitnessError, OSError) as exc:
            unreadable = f"the newest backup {backup.name} cannot serve as a witness: {exc}"
            lines.append(unreadable)
        else:
            lines.append(str(comparison))
            if comparison.position is not None:  # not ok
                found.append((comparison.position, comparison.reason or ""))
    position, reason = min(found, key=lambda item: item[0]) if found else (None, "")
    return Check(Verdict(moment, position, reason), "\n".join(lines), unreadable)


def create_tables() -> None:
    tables.create_tables([IntegrityVerdict])


_cache: dict[str, tuple[float, Verdict | None]] = {}


def record(verdict: Verdict) -> None:
    """Keep ``verdict`` as the latest, for every page of every process (each sees it within the TTL)."""
    with tables.atomic():
        IntegrityVerdict.delete().execute()
        IntegrityVerdict.create(id=1, checked_at=verdict.checked_at, broken_at=verdict.broken_at,
                                reason=verdict.reason)
    _cache.pop(current_app.config["DATABASE_URL"], None)


def latest() -> Verdict | None:
    """The latest check's verdict (None before the first), read at most once per TTL in this process."""
    key, now = current_app.config["DATABASE_URL"], time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < TTL_SECONDS:
        return cached[1]
    row = IntegrityVerdict.get_or_none(IntegrityVerdict.id == 1)
    verdict = Verdict(row.checked_at, row.broken_at, row.reason) if row is not None else None
    _cache[key] = (now, verdict)
    return verdict


def failure() -> Verdict | None:
    """The latest verdict when it found a break; None otherwise, and whenever it cannot be read.

    Every page asks, error pages included: a database that does not answer
    must leave a page to say so, not break it.
    """
    try:
        verdict = latest()
    except Exception as exc:
        log.debug("integrity verdict unavailable: %s", exc)
        return None
    return verdict if verdict is not None and not verdict.ok else None


def init_app(app: Flask) -> None:
    @app.context_processor
    def integrity_failure() -> dict[str, Any]:
        return {"integrity_failure": failure()}
