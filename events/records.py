"""The two shapes an event takes: what a writer proposes, and what the log recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeAlias

import orjson

from . import dates
from .canonical import date_text, document, parse_utc, utc_text
from .errors import ValidationError

#: The fields a writer chooses; everything else is assigned by the log.
WRITER_FIELDS = ("event_id", "stream", "type", "occurred", "data", "sources", "expected_version")
ASSIGNED_FIELDS = ("position", "version", "occurred_lo", "occurred_hi", "recorded_at", "author", "prev_hash", "hash")


#: A raw row of the log, in ``models.COLUMNS`` order, as the backend returns it (text or native dates and times).
Row: TypeAlias = tuple[Any, ...]

#: One append batch shares one recorded time, so a scan parses each a few times, not once per event.
_recorded = lru_cache(maxsize=1024)(parse_utc)


@dataclass(frozen=True)
class NewEvent:
    """An event a writer wants to append. ``expected_version`` is the stream's
    version the writer last saw (0: the stream must not exist yet)."""

    stream: str
    type: str
    occurred: str
    data: dict[str, Any]
    sources: list[Any] = field(default_factory=list)
    event_id: str | None = None
    expected_version: int | None = None

    @classmethod
    def from_dict(cls, payload: object) -> NewEvent:
        """Build from the JSON shape of an export line, naming any field that is wrong."""
        if not isinstance(payload, dict):
            raise ValidationError("event", "must be a JSON object")
        for key in payload:
            if key in ASSIGNED_FIELDS:
                raise ValidationError(key, "is assigned by the log; leave it out")
            if key not in WRITER_FIELDS:
                raise ValidationError(key, f"is not a field of an event (expected: {', '.join(WRITER_FIELDS)})")
        for key in ("stream", "type", "occurred", "data"):
            if key not in payload:
                raise ValidationError(key, "is required")
        return cls(
            stream=payload["stream"],
            type=payload["type"],
            occurred=payload["occurred"],
            data=payload["data"],
            sources=payload.get("sources", []),
            event_id=payload.get("event_id"),
            expected_version=payload.get("expected_version"),
        )


class RecordedEvent(NamedTuple):
    """One row of the log, decoded: immutable, and a tuple because a scan builds
    one per row (a frozen dataclass costs seven times as much to construct)."""

    position: int
    event_id: str
    stream: str
    version: int
    type: str
    occurred: str
    occurred_lo: date | None
    occurred_hi: date | None
    recorded_at: datetime
    data: dict[str, Any]
    sources: list[dict[str, Any]]
    author: str
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Row) -> RecordedEvent:
        """Decode a raw row in ``models.COLUMNS`` order (SQLite text or PostgreSQL types)."""
        lo, hi, rec = row[6], row[7], row[8]
        return cls(
            row[0], row[1], row[2], row[3], row[4], row[5],
            date.fromisoformat(lo) if isinstance(lo, str) else lo,
            date.fromisoformat(hi) if isinstance(hi, str) else hi,
            _recorded(rec),
            orjson.loads(row[9]),
            orjson.loads(row[10]),
            row[11], row[12], row[13],
        )

    @property
    def kind(self) -> str:
        return self.stream.split("/", 1)[0]

    @property
    def period(self) -> dates.Period:
        return dates.parse(self.occurred)

    @property
    def title(self) -> str:
        return str(self.data.get("title") or self.type)

    def export_line(self) -> bytes:
        """The canonical JSON document of this row, hash included (one export line)."""
        return document(
            author=self.author, data=orjson.dumps(self.data, option=orjson.OPT_SORT_KEYS),
            event_id=self.event_id, occurred=self.occurred,
            occurred_hi=date_text(self.occurred_hi), occurred_lo=date_text(self.occurred_lo),
            position=self.position, prev_hash=self.prev_hash, recorded_at=utc_text(self.recorded_at),
            sources=orjson.dumps(self.sources, option=orjson.OPT_SORT_KEYS), stream=self.stream,
            type=self.type, version=self.version, hash=self.hash,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same keys as an export line."""
        fields: dict[str, Any] = orjson.loads(self.export_line())
        return fields
