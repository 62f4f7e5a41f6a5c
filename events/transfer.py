"""Export and import: the log as JSON Lines, one canonical document per event.

Import restores a log: each line must extend the chain exactly where the
database's log ends (same position, same prev_hash, a hash that matches its
content) and obey every rule an append obeys. Lines already present with
the same hash are skipped, so an interrupted restore can be run again. One
bad line refuses the whole file; nothing is written.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from typing import Any, BinaryIO, NoReturn, TypeAlias, TypeVar

import orjson

from . import db, schema
from .canonical import GENESIS_HASH, chain_hash, document, parse_utc, utc_text
from .db import database
from .errors import ImportRejected, ValidationError
from .integrity import raw_rows, row_document
from .models import COLUMNS
from .records import Row
from .store import INSERT, head, sql
from .validation import MAX_AUTHOR, prepare_fields

EXPORT_KEYS = frozenset({
    "author", "data", "event_id", "hash", "occurred", "occurred_hi", "occurred_lo", "position",
    "prev_hash", "recorded_at", "sources", "stream", "type", "version",
})


def export(out: BinaryIO, after: int = 0) -> int:
    """Write every event after ``after`` as one line of canonical JSON; return the count."""
    count = 0
    for chunk in export_chunks(after):
        out.write(chunk)
        count += chunk.count(b"\n")  # a canonical document never holds a raw newline: JSON escapes it
    return count


def export_chunks(after: int = 0, upto: int | None = None, *, rows: int = 1000) -> Iterator[bytes]:
    """The bytes of an export, ``rows`` lines at a time, from position ``after`` + 1 to ``upto`` (inclusive).

    One source for ``export`` and for a download of the log, so the two are
    the same bytes; ``upto`` pins a download to the head it started from.
    """
    lines: list[bytes] = []
    for row in raw_rows(after):
        if upto is not None and row[0] > upto:
            break
        lines.append(row_document(row, with_hash=True))
        if len(lines) >= rows:
            yield b"\n".join(lines) + b"\n"
            lines.clear()
    if lines:
        yield b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class ImportReport:
    imported: int
    skipped: int
    head: int


def import_lines(lines: Iterable[bytes | str], *, batch: int = 2000) -> ImportReport:
    """Restore events from export lines, all or nothing.

    The loop below runs once per line of a restore of the whole log, so it
    calls nothing per line that it can do inline: a refused line and a line
    out of place each leave it for a function that raises.
    """
    with db.writing(), _indexes_built_after(head() is None):
        top = head()
        position, prev_hash = (top.position, top.hash) if top else (0, GENESIS_HASH)
        last_recorded = utc_text(top.recorded_at) if top else ""
        stored = _StoredLog(position)
        skipped, rest = _skip_present(_checked(lines, batch), position, stored)
        versions: dict[str, int] = {}
        ids: set[str] = set()  # the ids imported so far (their count is the report's)
        pending: list[Row] = []
        cursor, insert, text_columns = database.cursor(), *_insert_statement()
        for number, checked in rest:
            if isinstance(checked, _Refusal):
                _reject(number, _placed(number, checked), checked.reason, position, prev_hash, versions, ids, stored)
            # A row: the line passed every check a line can pass alone (its stream and event_id are strings).
            line_position, event_id, stream, version = checked[0], checked[1], checked[2], checked[3]
            expected = versions[stream] + 1 if stream in versions else stored.version(stream) + 1
            if (line_position != position + 1 or checked[12] != prev_hash or version != expected
                    or event_id in ids or (not stored.empty and stored.has_id(event_id))):
                _reject(number, (line_position, event_id, stream, version, checked[12], checked[13]),
                        "does not extend the log", position, prev_hash, versions, ids, stored)
            recorded = checked[8]
            if recorded < last_recorded:
                raise ImportRejected(number, "recorded_at goes backwards")
            ids.add(event_id)
            versions[stream] = expected
            position, prev_hash, last_recorded = line_position, checked[13], recorded
            pending.append(checked)
            if len(pending) >= batch:
                _insert(cursor, insert, text_columns, pending)
                pending.clear()
        _insert(cursor, insert, text_columns, pending)
    return ImportReport(len(ids), skipped, position)


def _placed(number: int, item: Row | _Refusal) -> _Place:
    """Where the line says it belongs; a line refused before it could say, refused now."""
    if isinstance(item, _Refusal):
        if item.key is None:
            raise ImportRejected(number, item.reason)
        return item.key
    return item[0], item[1], item[2], item[3], item[12], item[13]


def _skip_present(checked: Iterator[tuple[int, Row | _Refusal]], position: int,
                  stored: _StoredLog) -> tuple[int, Iterator[tuple[int, Row | _Refusal]]]:
    """Pass the leading lines the log already holds (a restore run again), each with the hash it has stored.

    Returns how many were passed, and the lines from the first one the log does not hold.
    """
    skipped = 0
    for number, item in checked:
        line_position, *_, line_hash = _placed(number, item)
        if line_position > position:
            return skipped, chain([(number, item)], checked)
        stored.check_present(line_position, line_hash, number)
        skipped += 1
    return skipped, iter(())


def _reject(number: int, place: _Place, reason: str, position: int, prev_hash: str, versions: dict[str, int],
            ids: set[str], stored: _StoredLog) -> NoReturn:
    """Refuse a line: for the first rule of its place in the log that it breaks, else for ``reason``.

    The rules in the order they are checked: it continues the log (its position, its prev_hash), names a stream and
    an id, carries the stream's next version, and an id the log does not hold yet.
    """
    line_position, event_id, stream, version, line_prev_hash, _ = place
    if line_position != position + 1:
        raise ImportRejected(number, f"position {line_position} does not continue the log "
                                     f"(expected {position + 1})")
    if line_prev_hash != prev_hash:
        raise ImportRejected(number, "prev_hash does not match the hash of the event before it")
    if not isinstance(stream, str) or not isinstance(event_id, str):
        raise ImportRejected(number, "stream and event_id must be strings")
    expected = versions[stream] + 1 if stream in versions else stored.version(stream) + 1
    if version != expected:
        raise ImportRejected(number, f"version {version!r} of stream {stream!r} should be {expected}")
    if event_id in ids or (not stored.empty and stored.has_id(event_id)):
        raise ImportRejected(number, f"event_id {event_id} is already in the log")
    raise ImportRejected(number, reason)


def _insert(cursor: Any, insert: str, text_columns: Callable[[list[Row]], list[Row]] | None, rows: list[Row]) -> None:
    if rows:
        cursor.executemany(insert, text_columns(rows) if text_columns else rows)


#: On SQLite, data and sources are bound as the UTF-8 bytes validation wrote and stored as TEXT by SQLite
#: itself: no row decodes them to str in a worker, pickles them back, and encodes them again to bind them.
_SQLITE_INSERT = "INSERT INTO event (" + ", ".join(COLUMNS) + ") VALUES (" + ", ".join(
    "CAST(? AS TEXT)" if column in ("data", "sources") else "?" for column in COLUMNS) + ")"


def _insert_statement() -> tuple[str, Callable[[list[Row]], list[Row]] | None]:
    """The INSERT for import rows, and what the rows need first (PostgreSQL takes the two columns as str)."""
    if db.is_postgres():
        return sql(INSERT), _decoded
    return _SQLITE_INSERT, None


def _decoded(rows: list[Row]) -> list[Row]:
    return [(*row[:9], row[9].decode(), row[10].decode(), *row[11:]) for row in rows]


#: Where a line says it belongs: position, event_id, stream, version, prev_hash, hash (not checked yet).
_Place: TypeAlias = tuple[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class _Refusal:
    """A line that cannot be imported, with what is known of its place in the log."""

    reason: str
    key: _Place | None = None  # position, event_id, stream, version, prev_hash, hash: when it can be placed


T = TypeVar("T")

#: Below this many lines, validating in worker processes costs more than it saves.
PARALLEL_FROM = 10_000


def _checked(lines: Iterable[bytes | str], chunk: int) -> Iterator[tuple[int, Row | _Refusal]]:
    """Each non-blank line, numbered, as a row ready to insert or as a refusal, in file order.

    A big restore validates its lines (JSON, every append rule, the hash) in
    worker processes: that is most of an import's work, and each line can be
    checked on its own. What depends on the lines before it (positions,
    prev_hash, versions, ids) is checked here, in order. Lines already in
    memory (a list) are not sent to the workers at all: forked, they hold
    them already, and are told only where each chunk starts.
    """
    workers = min(os.cpu_count() or 1, 4)
    if isinstance(lines, list) and len(lines) >= PARALLEL_FROM and workers >= 2:
        with multiprocessing.get_context("fork").Pool(workers, _share, (lines, chunk)) as pool:
            for results in pool.imap(_check_shared, range(0, len(lines), chunk)):
                yield from results
        return
    numbered = _numbered(lines, 1)
    first = list(islice(numbered, PARALLEL_FROM))
    if len(first) < PARALLEL_FROM or workers < 2:
        yield from _check_chunk(first)
        yield from _check_chunk(numbered)
        return
    chunks = chain([first[i:i + chunk] for i in range(0, len(first), chunk)], _chunked(numbered, chunk))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for results in pool.imap(_check_chunk_list, chunks):
            yield from results


def _chunked(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


_shared: tuple[list[bytes | str], int] = ([], 0)


def _share(lines: list[bytes | str], chunk: int) -> None:
    """In each worker (forked, so nothing is copied): the lines of the import and the chunk size."""
    global _shared
    _shared = (lines, chunk)


def _check_shared(start: int) -> list[tuple[int, Row | _Refusal]]:
    lines, chunk = _shared
    return list(_check_chunk(_numbered(lines[start:start + chunk], start + 1)))


def _numbered(lines: Iterable[bytes | str], first: int) -> Iterator[tuple[int, bytes | str]]:
    """The lines that are not blank, each with its line number (the first line being ``first``)."""
    return ((n, raw) for n, raw in enumerate(lines, start=first) if not raw.isspace() and raw)


def _check_chunk_list(numbered: list[tuple[int, bytes | str]]) -> list[tuple[int, Row | _Refusal]]:
    return list(_check_chunk(numbered))


def _check_chunk(numbered: Iterable[tuple[int, bytes | str]]) -> Iterator[tuple[int, Row | _Refusal]]:
    for number, raw in numbered:
        try:
            line = _parse(raw)
        except _Refused as exc:
            yield number, _Refusal(exc.reason)
            continue
        try:
            yield number, _row(line)
        except _Refused as exc:
            key = (line["position"], line["event_id"], line["stream"], line["version"], line["prev_hash"],
                   line["hash"])
            yield number, _Refusal(exc.reason, key)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse(raw: bytes | str) -> dict[str, Any]:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Refused(f"not JSON ({exc})") from None
    if not isinstance(line, dict):
        raise _Refused("not a JSON object")
    if line.keys() != EXPORT_KEYS:
        keys = set(line)
        missing, extra = sorted(EXPORT_KEYS - keys), sorted(keys - EXPORT_KEYS)
        raise _Refused(f"fields differ from an export line (missing {missing}, unexpected {extra})")
    if not isinstance(line["position"], int) or isinstance(line["position"], bool):
        raise _Refused("position must be an integer")
    return line


#: What utc_text writes. A recorded_at of this shape that parses is already canonical (no field can overflow
#: into the next: hours stop at 23, minutes and seconds at 59), so it need not be rewritten to show it.
_CANONICAL_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z")


def _recorded(value: str) -> str:
    """``value`` when it is a UTC timestamp in canonical form; otherwise refused, saying which it is not."""
    try:
        if _CANONICAL_UTC.fullmatch(value):
            datetime.fromisoformat(value)  # a real day and time ('Z' is UTC)
            return value
        recorded = utc_text(parse_utc(value))
    except ValueError:
        raise _Refused(f"recorded_at {value!r} is not a UTC timestamp") from None
    if recorded != value:
        raise _Refused("recorded_at is not in canonical form (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    return recorded


def _row(line: dict[str, Any]) -> Row:
    """Check one line against every rule that needs no other line, and build its row."""
    event_id, stream, version, author = line["event_id"], line["stream"], line["version"], line["author"]
    if not isinstance(stream, str) or not isinstance(event_id, str):
        raise _Refused("stream and event_id must be strings")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _Refused("version must be an integer")
    for key in ("author", "hash", "recorded_at", "prev_hash"):
        if not isinstance(line[key], str) or not line[key]:
            raise _Refused(f"{key} must be a non-empty string")
    if len(author) > MAX_AUTHOR:
        raise _Refused(f"author is {len(author)} characters long; the log's author column holds {MAX_AUTHOR}")
    recorded = _recorded(line["recorded_at"])
    data, sources = line["data"], line["sources"]
    try:
        prepared = prepare_fields(stream, line["type"], line["occurred"], data, sources, event_id, new_text=False)
    except ValidationError as exc:
        raise _Refused(str(exc)) from None
    if prepared.event_id != event_id or prepared.data != data or prepared.sources != sources:
        raise _Refused("the event is not in the canonical form the log stores")
    if prepared.occurred_lo != line["occurred_lo"] or prepared.occurred_hi != line["occurred_hi"]:
        raise _Refused("occurred_lo/occurred_hi do not match occurred")
    pre = document(
        author=author, data=prepared.data_text, event_id=prepared.event_id, occurred=prepared.occurred,
        occurred_hi=prepared.occurred_hi, occurred_lo=prepared.occurred_lo, position=line["position"],
        prev_hash=line["prev_hash"], recorded_at=recorded, sources=prepared.sources_text, stream=prepared.stream,
        type=prepared.type, version=version,
    )
    if chain_hash(pre) != line["hash"]:
        raise _Refused("hash does not match the line's content")
    return (
        line["position"], prepared.event_id, prepared.stream, version, prepared.type, prepared.occurred,
        prepared.occurred_lo, prepared.occurred_hi, recorded, prepared.data_text, prepared.sources_text, author,
        line["prev_hash"], line["hash"],
    )


@contextmanager
def _indexes_built_after(empty: bool) -> Iterator[None]:
    """Restoring into an empty log: build the secondary indexes once, after the rows, not row by row.

    Inside the import's transaction, so a refused import leaves them as they were.
    Uniqueness is still enforced: the import checks ids and versions itself, and
    CREATE UNIQUE INDEX would refuse a duplicate. The revisions' target types
    are filled once at the end too: row by row, each would look its target up
    in a log that has no index on event ids yet.
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
    schema.drop_revision_trigger()
    yield
    for _, definition in indexes:
        database.execute_sql(definition)
    schema.fill_revision_targets()


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

    def check_present(self, position: int, hash_: str | None, number: int) -> None:
        row = database.execute_sql(sql("SELECT hash FROM event WHERE position = ?"), (position,)).fetchone()
        if row is None or row[0] != hash_:
            raise ImportRejected(number, f"position {position} is already in the log with a different hash")

