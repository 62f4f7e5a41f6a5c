"""Export and import: the log as JSON Lines, one canonical document per event.

Import restores a log: each line must extend the chain exactly where the
database's log ends (same position, same prev_hash, a hash that matches its
content) and obey every rule an append obeys. Lines already present with
the same hash are skipped, so an interrupted restore can be run again. One
bad line refuses the whole file; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import orjson

from . import db
from .canonical import GENESIS_HASH, chain_hash, document, parse_utc, utc_text
from .db import database
from .errors import ImportRejected, ValidationError
from .integrity import raw_rows, row_document
from .records import NewEvent
from .store import INSERT, head, sql
from .validation import prepare

EXPORT_KEYS = frozenset({
    "author", "data", "event_id", "hash", "occurred", "occurred_hi", "occurred_lo", "position",
    "prev_hash", "recorded_at", "sources", "stream", "type", "version",
})


def export(out: BinaryIO, after: int = 0) -> int:
    """Write every event after ``after`` as one line of canonical JSON; return the count."""
    count = 0
    for row in raw_rows(after):
        out.write(row_document(row, with_hash=True) + b"\n")
        count += 1
    return count


@dataclass(frozen=True)
class ImportReport:
    imported: int
    skipped: int
    head: int


def import_lines(lines: Iterable[bytes | str], *, batch: int = 2000) -> ImportReport:
    """Restore events from export lines, all or nothing."""
    with db.writing(), _indexes_built_after(head() is None):
        top = head()
        position, prev_hash = (top.position, top.hash) if top else (0, GENESIS_HASH)
        last_recorded = utc_text(top.recorded_at) if top else ""
        stored = _StoredLog(position)
        versions: dict[str, int] = {}
        ids: set[str] = set()
        pending: list[tuple] = []
        imported = skipped = 0
        cursor = database.cursor()
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            line = _parse(raw, number)
            if line["position"] <= position:
                stored.check_present(line, number)
                skipped += 1
                continue
            stream, event_id = line["stream"], line["event_id"]
            if not isinstance(stream, str) or not isinstance(event_id, str):
                raise ImportRejected(number, "stream and event_id must be strings")
            expected = versions[stream] + 1 if stream in versions else stored.version(stream) + 1
            if line["version"] != expected:
                raise ImportRejected(number, f"version {line['version']!r} of stream {stream!r} should be {expected}")
            if event_id in ids or stored.has_id(event_id):
                raise ImportRejected(number, f"event_id {event_id} is already in the log")
            row = _row(line, number, position + 1, prev_hash, last_recorded)
            ids.add(event_id)
            versions[stream] = expected
            position, prev_hash, last_recorded = row[0], row[13], row[8]
            pending.append(row)
            imported += 1
            if len(pending) >= batch:
                cursor.executemany(sql(INSERT), pending)
                pending.clear()
        if pending:
            cursor.executemany(sql(INSERT), pending)
    return ImportReport(imported, skipped, position)


def _parse(raw: bytes | str, number: int) -> dict:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportRejected(number, f"not JSON ({exc})") from None
    if not isinstance(line, dict):
        raise ImportRejected(number, "not a JSON object")
    keys = set(line)
    if keys != EXPORT_KEYS:
        missing, extra = sorted(EXPORT_KEYS - keys), sorted(keys - EXPORT_KEYS)
        raise ImportRejected(number, f"fields differ from an export line (missing {missing}, unexpected {extra})")
    if not isinstance(line["position"], int) or isinstance(line["position"], bool):
        raise ImportRejected(number, "position must be an integer")
    return line


def _row(line: dict, number: int, position: int, prev_hash: str, last_recorded: str) -> tuple:
    """Check one new line against every rule of the log and build its row."""
    if line["position"] != position:
        raise ImportRejected(number, f"position {line['position']} does not continue the log (expected {position})")
    if line["prev_hash"] != prev_hash:
        raise ImportRejected(number, "prev_hash does not match the hash of the event before it")
    for key in ("author", "hash", "recorded_at"):
        if not isinstance(line[key], str) or not line[key]:
            raise ImportRejected(number, f"{key} must be a non-empty string")
    try:
        recorded = utc_text(parse_utc(line["recorded_at"]))
    except ValueError:
        raise ImportRejected(number, f"recorded_at {line['recorded_at']!r} is not a UTC timestamp") from None
    if recorded != line["recorded_at"]:
        raise ImportRejected(number, "recorded_at is not in canonical form (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    if recorded < last_recorded:
        raise ImportRejected(number, "recorded_at goes backwards")
    try:
        prepared = prepare(NewEvent(line["stream"], line["type"], line["occurred"], line["data"], line["sources"],
                                    line["event_id"]))
    except ValidationError as exc:
        raise ImportRejected(number, str(exc)) from None
    if prepared.event_id != line["event_id"] or prepared.data != line["data"] or prepared.sources != line["sources"]:
        raise ImportRejected(number, "the event is not in the canonical form the log stores")
    if (prepared.occurred_lo, prepared.occurred_hi) != (line["occurred_lo"], line["occurred_hi"]):
        raise ImportRejected(number, "occurred_lo/occurred_hi do not match occurred")
    pre = document(
        author=line["author"], data=prepared.data_text, event_id=prepared.event_id, occurred=prepared.occurred,
        occurred_hi=prepared.occurred_hi, occurred_lo=prepared.occurred_lo, position=position,
        prev_hash=prev_hash, recorded_at=recorded, sources=prepared.sources_text, stream=prepared.stream,
        type=prepared.type, version=line["version"],
    )
    if chain_hash(pre) != line["hash"]:
        raise ImportRejected(number, "hash does not match the line's content")
    return (
        position, prepared.event_id, prepared.stream, line["version"], prepared.type, prepared.occurred,
        prepared.occurred_lo, prepared.occurred_hi, recorded, prepared.data_text.decode(),
        prepared.sources_text.decode(), line["author"], prev_hash, line["hash"],
    )


@contextmanager
def _indexes_built_after(empty: bool) -> Iterator[None]:
    """Restoring into an empty log: build the secondary indexes once, after the rows, not row by row.

    Inside the import's transaction, so a refused import leaves them as they were.
    Uniqueness is still enforced: the import checks ids and versions itself, and
    CREATE UNIQUE INDEX would refuse a duplicate.
    """
    if not empty:
        yield
        return
    if db.is_postgres():
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'event' AND indexname <> 'event_pkey'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' AND sql IS NOT NULL"
    indexes = database.execute_sql(query).fetchall()
    for name, _ in indexes:
        database.execute_sql(f'DROP INDEX "{name}"')
    yield
    for _, definition in indexes:
        database.execute_sql(definition)


class _StoredLog:
    """What the database already holds, asked lazily (an import into an empty log asks nothing)."""

    def __init__(self, head_position: int) -> None:
        self.empty = head_position == 0

    def version(self, stream: str) -> int:
        if self.empty:
            return 0
        row = database.execute_sql(sql("SELECT MAX(version) FROM event WHERE stream = ?"), (stream,)).fetchone()
        return row[0] or 0

    def has_id(self, event_id: str) -> bool:
        if self.empty:
            return False
        return database.execute_sql(sql("SELECT 1 FROM event WHERE event_id = ?"), (event_id,)).fetchone() is not None

    def check_present(self, line: dict, number: int) -> None:
        row = database.execute_sql(sql("SELECT hash FROM event WHERE position = ?"), (line["position"],)).fetchone()
        if row is None or row[0] != line["hash"]:
            raise ImportRejected(number, f"position {line['position']} is already in the log with a different hash")

