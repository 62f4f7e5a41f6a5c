"""The append-only log: one way to write, several ways to read.

``append`` is the only writer (seeds, the form, the API and imports of new
events all go through it). Reads are keyset-paged by position and can be
asked "as known at" a recorded time: positions and recorded times grow
together, so that is a bound on position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson

from . import db, documents, schema
from .canonical import GENESIS_HASH, chain_hash, document, parse_utc, utc_text
from .corrections import EventState, Form, apply_changes, fold
from .db import database
from .declaration import DOCUMENT_TYPE
from .errors import (
    ConcurrencyConflict,
    IdempotencyConflict,
    UnknownEvent,
    ValidationError,
)
from .models import COLUMNS
from .records import NewEvent, RecordedEvent, Row
from .validation import Prepared, check_author, prepare
from .vocabulary import META_TYPES

SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM event"
INSERT = "INSERT INTO event (" + ", ".join(COLUMNS) + ") VALUES (" + ", ".join("?" * len(COLUMNS)) + ")"

_listeners: list[Callable[[list[RecordedEvent]], None]] = []


@dataclass(frozen=True, slots=True)
class Head:
    position: int
    hash: str
    recorded_at: datetime


def sql(text: str) -> str:
    """Adapt '?' placeholders to the backend's parameter style."""
    return text.replace("?", database.param) if database.param != "?" else text


def on_append(listener: Callable[[list[RecordedEvent]], None]) -> None:
    """Call ``listener`` with the new events after every committed append in this process."""
    _listeners.append(listener)


def utc_now() -> datetime:
    return datetime.now(UTC)


def append(events: Sequence[NewEvent], *, author: str) -> list[RecordedEvent]:
    """Append a batch atomically and return the recorded events, in order.

    All or nothing: a validation error, an expected-version mismatch or an
    event id reused with other content leaves the log untouched. An event id
    already recorded with the same content returns the original record.
    """
    return [record for record, _ in append_each(events, author=author)]


def append_each(events: Sequence[NewEvent], *, author: str) -> list[tuple[RecordedEvent, bool]]:
    """``append``, saying of each event whether this call recorded it (False: it was already in the log).

    Decided under the write lock, so of several identical requests racing
    each other exactly one is told it recorded the event.
    """
    check_author(author)
    prepared = _prepare_all(events)
    if not prepared:
        return []
    with db.writing() as cursor:
        results, new = _record(cursor, prepared, author)
        if new:
            cursor.executemany(sql(INSERT), new)
        fresh = [r for r, is_new in results if is_new]
        if fresh and _listeners:
            database.after_commit(lambda: _notify(fresh))
    return results


def _prepare_all(events: Sequence[NewEvent]) -> list[Prepared]:
    prepared = []
    for i, event in enumerate(events):
        try:
            prepared.append(prepare(event))
        except ValidationError as exc:
            if len(events) > 1:
                raise exc.at(i) from None
            raise
    seen: set[str] = set()
    for i, p in enumerate(prepared):
        if p.event_id in seen:
            raise ValidationError("event_id", f"{p.event_id} appears twice in the batch", i)
        seen.add(p.event_id)
    return prepared


def _record(cursor: Any, prepared: list[Prepared], author: str) -> tuple[list[tuple[RecordedEvent, bool]], list[Row]]:
    """Inside the write lock: check idempotency, versions and targets; build the rows."""
    top, known_versions, existing_ids = _write_snapshot(cursor, prepared)
    existing = {e.event_id: e for e in _by_ids(existing_ids)}
    copies = _Copies([p for p in prepared if p.event_id not in existing])
    position, prev_hash = (top.position, top.hash) if top else (0, GENESIS_HASH)
    # Recorded time never goes backwards, even if the clock does.
    now = max(utc_now(), top.recorded_at) if top else utc_now()
    recorded_text = utc_text(now)
    versions: dict[str, int] = {}
    batch: dict[str, RecordedEvent] = {}
    results: list[tuple[RecordedEvent, bool]] = []
    rows: list[Row] = []
    for i, p in enumerate(prepared):
        if p.event_id in existing:
            old = existing[p.event_id]
            if _content(old) != p.content():
                raise IdempotencyConflict(p.event_id, old.position)
            results.append((old, False))
            continue
        target = _check_target(p, i, batch) if p.type in META_TYPES else None
        current = versions[p.stream] if p.stream in versions else known_versions.get(p.stream, 0)
        if p.expected_version is not None and p.expected_version != current:
            raise ConcurrencyConflict(p.stream, p.expected_version, current)
        check_documents(p, i if len(prepared) > 1 else None, current, copies.find, target)
        copies.add(p)
        versions[p.stream] = version = current + 1
        position += 1
        hash_ = chain_hash(document(
            author=author, data=p.data_text, event_id=p.event_id, occurred=p.occurred,
            occurred_hi=p.occurred_hi, occurred_lo=p.occurred_lo, position=position,
            prev_hash=prev_hash, recorded_at=recorded_text, sources=p.sources_text,
            stream=p.stream, type=p.type, version=version,
        ))
        rows.append((
            position, p.event_id, p.stream, version, p.type, p.occurred, p.occurred_lo, p.occurred_hi,
            recorded_text, p.data_text.decode(), p.sources_text.decode(), author, prev_hash, hash_,
        ))
        record = RecordedEvent(
            position, p.event_id, p.stream, version, p.type, p.occurred,
            date.fromisoformat(p.occurred_lo) if p.occurred_lo else None,
            date.fromisoformat(p.occurred_hi) if p.occurred_hi else None,
            now, p.data, p.sources, author, prev_hash, hash_,
        )
        batch[p.event_id] = record
        results.append((record, True))
        prev_hash = hash_
    return results, rows


def _write_snapshot(cursor: Any, prepared: list[Prepared]) -> tuple[Head | None, dict[str, int], list[str]]:
    """The head, the batch's streams' versions and which of its ids exist, in one round trip.

    An append is one query, one insert and the commit: at one event per
    transaction the fixed cost per statement is what a writer waits for.
    """
    streams_ = sorted({p.stream for p in prepared})
    ids = [p.event_id for p in prepared]
    cursor.execute(sql(_snapshot_query(len(streams_), len(ids))), (*streams_, *ids))
    top = None
    versions: dict[str, int] = {}
    existing: list[str] = []
    for kind, number, text, recorded in cursor:
        if kind == "h":
            top = Head(number, text, parse_utc(recorded))
        elif kind == "v":
            versions[text] = number
        else:
            existing.append(text)
    return top, versions, existing


@lru_cache(maxsize=64)
def _snapshot_query(streams: int, ids: int) -> str:
    return (
        "SELECT 'h', position, hash, recorded_at FROM "
        "(SELECT position, hash, recorded_at FROM event ORDER BY position DESC LIMIT 1) AS top "
        f"UNION ALL SELECT 'v', MAX(version), stream, NULL FROM event WHERE stream IN ({', '.join('?' * streams)}) "
        "GROUP BY stream "
        f"UNION ALL SELECT 'e', position, event_id, NULL FROM event WHERE event_id IN ({', '.join('?' * ids)})"
    )


def _content(event: RecordedEvent) -> tuple[str, str, str, bytes, bytes]:
    from .canonical import dumps

    return (event.stream, event.type, event.occurred, dumps(event.data), dumps(event.sources))


def _check_target(p: Prepared, index: int, batch: dict[str, RecordedEvent]) -> EventState:
    """A correction or retraction must point at a live fact of its own stream; returns the fact's state."""
    target_id = p.data["target"]
    target = batch.get(target_id) or next(iter(_by_ids([target_id])), None)
    if target is None:
        raise ValidationError("data.target", f"no event with id {target_id}", index)
    if target.type in META_TYPES:
        raise ValidationError("data.target", "corrections and retractions apply to facts, not to other corrections",
                              index)
    if target.stream != p.stream:
        raise ValidationError("stream", f"must be {target.stream!r}, the stream of the target event", index)
    later = [e for e in batch.values() if e.position > target.position and e.stream == target.stream]
    state = fold(target, revisions([target_id]) + later)
    if state.retracted:
        raise ValidationError("data.target", f"event {target_id} is already retracted", index)
    if p.type == "EventCorrected":
        try:
            documents.check_correction(target.type, p.data["changes"])
        except ValidationError as exc:
            raise exc.at(index) from None
        corrected = apply_changes(state.current, p.data["changes"])
        try:
            prepare(NewEvent(target.stream, target.type, corrected.occurred, corrected.data, corrected.sources))
        except ValidationError as exc:
            raise ValidationError(f"data.changes.{exc.field}", exc.reason, index) from None
        if corrected == state.current:
            raise ValidationError("data.changes", "changes nothing in the event's current form", index)
    return state


class _Copies:
    """The registered documents a batch's sources name: those the log held before it, read once when the
    first is needed, and those registered earlier in the batch itself."""

    def __init__(self, prepared: list[Prepared]) -> None:
        self.names: set[str] = set()
        for p in prepared:
            self.names |= documents.named(p.sources)
            if p.type == "EventCorrected":
                self.names |= documents.named(p.data["changes"].get("sources") or ())
        self.logged: dict[str, documents.Copy] | None = None
        self.batch: dict[str, documents.Copy] = {}

    def add(self, p: Prepared) -> None:
        document_id = documents.id_of(p.stream) if p.type == DOCUMENT_TYPE else None
        if document_id is not None and document_id in self.names:
            self.batch[document_id] = documents.Copy.of(p.data["text"])

    def find(self, document_id: str) -> documents.Copy | None:
        if document_id in self.batch:
            return self.batch[document_id]
        if self.logged is None:
            self.logged = registered_copies(self.names)
        return self.logged.get(document_id)


def check_documents(p: Prepared, index: int | None, version: int, find: Callable[[str], documents.Copy | None],
                    target: EventState | None = None) -> None:
    """A document is registered once, on a new subject, and its text is never corrected; a source naming a
    document quotes it verbatim (a correction's own sources: those it adds). ``index``: the event's place in
    a batch of several, named in the refusal."""
    try:
        if p.type == DOCUMENT_TYPE:
            if version:
                raise documents.already_registered(documents.id_of(p.stream) or p.stream, version)
        elif p.type == "EventCorrected" and target is not None:
            changes = p.data["changes"]
            if "sources" in changes:
                added = documents.added_sources(target.current.sources, changes["sources"])
                documents.check_sources([s for _, s in added], "data.changes.sources", find, [i for i, _ in added])
        elif p.type not in META_TYPES:
            documents.check_sources(p.sources, "sources", find)
    except ValidationError as exc:
        raise exc if index is None else exc.at(index) from None


def _notify(events: list[RecordedEvent]) -> None:
    for listener in list(_listeners):
        listener(events)


# --- reading -----------------------------------------------------------------


def _decode(cursor: Iterable[Row]) -> list[RecordedEvent]:
    return [RecordedEvent.from_row(row) for row in cursor]


def head(known_at: datetime | None = None) -> Head | None:
    """The last event (as known at ``known_at``), or None for an empty log.

    Recorded time never decreases along the log (an append takes the later of
    the clock and the head's time; an import refuses a step back), so the
    head as known at a time is found by bisecting positions: no index on
    ``recorded_at`` is needed, and every append writes one index page less.
    """
    row = database.execute_sql(
        "SELECT position, hash, recorded_at FROM event ORDER BY position DESC LIMIT 1"
    ).fetchone()
    top = Head(row[0], row[1], parse_utc(row[2])) if row else None
    if known_at is None or top is None:
        return top
    bound = parse_utc(utc_text(known_at))
    if top.recorded_at <= bound:
        return top
    known, unknown = 0, top.position  # event `known` was recorded by then (0: none); event `unknown` was not
    while unknown - known > 1:
        middle = (known + unknown) // 2
        if _recorded_at(middle) <= bound:
            known = middle
        else:
            unknown = middle
    if known == 0:
        return None
    row = database.execute_sql(sql("SELECT position, hash, recorded_at FROM event WHERE position = ?"),
                               (known,)).fetchone()
    return Head(row[0], row[1], parse_utc(row[2]))


def _recorded_at(position: int) -> datetime:
    row = database.execute_sql(sql("SELECT recorded_at FROM event WHERE position = ?"), (position,)).fetchone()
    return parse_utc(row[0])


def head_position(known_at: datetime | None = None) -> int:
    top = head(known_at)
    return top.position if top else 0


#: Positions asked in one ``IN (...)``: a page of any feed, well under every backend's limit on parameters.
HASHES_PER_QUERY = 1000


def hashes(positions: Iterable[int]) -> dict[int, str]:
    """The hash of the event at each of ``positions`` that the log holds (absent ones are left out).

    What a page of feed entries cites as its events' hashes, and what a
    witness's claims are compared with: one query per thousand positions.
    """
    wanted = sorted(set(positions))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), HASHES_PER_QUERY):
        chunk = wanted[start:start + HASHES_PER_QUERY]
        marks = ", ".join("?" * len(chunk))
        rows = database.execute_sql(sql(f"SELECT position, hash FROM event WHERE position IN ({marks})"), tuple(chunk))
        found.update((position, hash_) for position, hash_ in rows)
    return found


def get(event_id: str) -> RecordedEvent:
    found = _by_ids([event_id])
    if not found:
        raise UnknownEvent(event_id)
    return found[0]


@dataclass(frozen=True, slots=True)
class Registration:
    """A registered document as the log holds it: where and by which event, and when it was withdrawn if it was."""

    document_id: str
    event_id: str
    position: int
    hash: str
    retracted_at: int | None  # the position of its retraction


def registrations(document_ids: Iterable[str]) -> dict[str, Registration]:
    """The registrations of those of ``document_ids`` the log holds, by document id: one indexed query."""
    wanted = sorted({documents.stream_of(d) for d in document_ids})
    found: dict[str, Registration] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        rows = database.execute_sql(sql(
            f"SELECT e.stream, e.event_id, e.position, e.hash, (SELECT MIN(r.position) FROM event r "
            f"WHERE {schema.target_expression('r')} = e.event_id AND r.{schema.REVISION_TYPES} "
            "AND r.type = 'EventRetracted') FROM event e "
            f"WHERE e.stream IN ({', '.join('?' * len(chunk))}) AND e.version = 1 AND e.type = ?"),
            (*chunk, DOCUMENT_TYPE))
        for stream, event_id, position, hash_, retracted in rows:
            document_id = documents.id_of(stream) or stream
            found[document_id] = Registration(document_id, event_id, position, hash_, retracted)
    return found


def registered_copies(document_ids: Iterable[str]) -> dict[str, documents.Copy]:
    """The registered texts of those of ``document_ids`` the log holds, each read once per process."""
    return {document_id: _copy(r.position, r.hash)._replace(retracted=r.retracted_at is not None)
            for document_id, r in registrations(document_ids).items()}


@lru_cache(maxsize=16)
def _copy(position: int, hash_: str) -> documents.Copy:
    """A registered text by its event's position and hash: the hash names the content, so a copy never goes stale
    (the cache holds the few documents being cited; a text is at most a few megabytes)."""
    row = database.execute_sql(sql("SELECT data FROM event WHERE position = ? AND hash = ?"),
                               (position, hash_)).fetchone()
    return documents.Copy.of(orjson.loads(row[0])["text"])


def find(event_id: str) -> RecordedEvent | None:
    found = _by_ids([event_id])
    return found[0] if found else None


def _by_ids(event_ids: list[str]) -> list[RecordedEvent]:
    if not event_ids:
        return []
    marks = ", ".join("?" * len(event_ids))
    return _decode(database.execute_sql(sql(f"{SELECT} WHERE event_id IN ({marks})"), tuple(event_ids)))


def read(
    after: int = 0,
    limit: int = 1000,
    *,
    known_at: datetime | None = None,
    types: Sequence[str] | None = None,
    stream: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    descending: bool = False,
    before: int | None = None,
) -> list[RecordedEvent]:
    """One keyset page of events in position order, filtered.

    ``after``/``before`` bound the positions (exclusive); ``known_at`` keeps
    only what the log held at that recorded time; ``valid_from`` and
    ``valid_until`` keep events whose valid time overlaps that window
    (an open or unknown end overlaps everything after its start).
    """
    return _decode(_read_rows(after, limit, known_at=known_at, types=types, stream=stream, valid_from=valid_from,
                              valid_until=valid_until, descending=descending, before=before))


def _read_rows(
    after: int,
    limit: int,
    *,
    known_at: datetime | None = None,
    types: Sequence[str] | None = None,
    stream: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    descending: bool = False,
    before: int | None = None,
) -> list[Row]:
    """The raw rows of one page of ``read``, not yet decoded."""
    where: list[str] = ["position > ?"]
    params: list[object] = [after]
    if before is not None:
        where.append("position < ?")
        params.append(before)
    if known_at is not None:
        where.append("position <= ?")
        params.append(head_position(known_at))
    if types:
        where.append("type IN (" + ", ".join("?" * len(types)) + ")")
        params.extend(types)
    if stream is not None:
        where.append("stream = ?")
        params.append(stream)
    if valid_until is not None:
        where.append("(occurred_lo IS NULL OR occurred_lo <= ?)")
        params.append(valid_until.isoformat())
    if valid_from is not None:
        where.append("(occurred_hi IS NULL OR occurred_hi >= ?)")
        params.append(valid_from.isoformat())
    order = "DESC" if descending else "ASC"
    query = f"{SELECT} WHERE {' AND '.join(where)} ORDER BY position {order} LIMIT ?"
    params.append(limit)
    rows: list[Row] = database.execute_sql(sql(query), tuple(params)).fetchall()
    return rows


def read_all(after: int = 0, *, batch: int = 5000, known_at: datetime | None = None,
             **filters: Any) -> Iterator[RecordedEvent]:
    """Every matching event after ``after``, fetched a page at a time."""
    decode = RecordedEvent.from_row
    for rows in _row_pages(after, batch, known_at, filters):
        # Decode one event at a time rather than a page at once: events the
        # caller drops then die young, instead of a page of dicts outliving
        # several garbage-collector passes (17% of a full scan's time).
        for row in rows:
            yield decode(row)


def pages(after: int = 0, *, batch: int = 5000, known_at: datetime | None = None,
          **filters: Any) -> Iterator[list[RecordedEvent]]:
    """``read_all`` a page at a time, for folds that take a batch."""
    for rows in _row_pages(after, batch, known_at, filters):
        yield _decode(rows)


def _row_pages(after: int, batch: int, known_at: datetime | None, filters: dict[str, Any]) -> Iterator[list[Row]]:
    filters = dict(filters)
    before = filters.pop("before", None) if known_at is None else head_position(known_at) + 1
    while True:
        rows = _read_rows(after, batch, before=before, **filters)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def subjects(kind: str, upto: int, *, batch: int = 5000, after: str | None = None,
             through: str | None = None) -> Iterator[list[RecordedEvent]]:
    """Every event of one kind of subject (``agreement``) up to position ``upto``, a few whole streams at a time.

    Each stream comes whole and in version order, in one list: a rebuild
    folds a subject once, from its first event to its last, and reads no
    event of another kind. Pages walk the (stream, version) index by keyset.
    ``after`` and ``through`` keep the streams in that range of the index's
    order (a share of the subjects, for one of several processes folding them).
    """
    if db.is_postgres():  # the index's collation need not order "kind/" before "kind0": match the prefix instead
        where, params = "substr(stream, 1, ?) = ?", [len(kind) + 1, f"{kind}/"]
    else:
        where, params = "stream < ?", [f"{kind}0"]
    if through is not None:
        where += " AND stream <= ?"
        params.append(through)
    held: list[RecordedEvent] = []  # the last stream of a page, which the next page may continue
    stream, version = (after, 2**62) if after is not None else (f"{kind}/", 0)
    while True:
        rows = database.execute_sql(sql(
            f"{SELECT} WHERE (stream, version) > (?, ?) AND {where} AND position <= ? "
            "ORDER BY stream, version LIMIT ?"), (stream, version, *params, upto, batch)).fetchall()
        page = held + _decode(rows)
        if len(rows) < batch:
            if page:
                yield page
            return
        stream, version = rows[-1][2], rows[-1][3]
        cut = len(page)
        while cut and page[cut - 1].stream == stream:
            cut -= 1
        held = page[cut:]
        if cut:
            yield page[:cut]


def stream_page(stream: str, *, after_version: int = 0, limit: int = 60) -> list[RecordedEvent]:
    """One keyset page of a subject's stream in version order: a page of a long stream costs what a short one does."""
    return _decode(database.execute_sql(sql(f"{SELECT} WHERE stream = ? AND version > ? ORDER BY version LIMIT ?"),
                                        (stream, after_version, limit)))


def find_many(event_ids: Iterable[str]) -> dict[str, RecordedEvent]:
    """The events among ``event_ids`` that are in the log, by id."""
    wanted = sorted(set(event_ids))
    return {e.event_id: e for i in range(0, len(wanted), 500) for e in _by_ids(wanted[i:i + 500])}


def read_stream(stream: str, *, known_at: datetime | None = None) -> list[RecordedEvent]:
    """A subject's whole stream, in version order."""
    return list(read_all(0, stream=stream, known_at=known_at))


def count(*, stream: str | None = None, type_: str | None = None, upto: int | None = None) -> int:
    """How many events of a subject or a type the log holds (up to position ``upto``): a filtered feed's length."""
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if stream is not None:
        where.append("stream = ?")
        params.append(stream)
    if type_ is not None:
        where.append("type = ?")
        params.append(type_)
    if upto is not None:
        where.append("position <= ?")
        params.append(upto)
    row = database.execute_sql(sql(f"SELECT COUNT(*) FROM event WHERE {' AND '.join(where)}"), tuple(params)).fetchone()
    return int(row[0])


#: The largest position: ``before`` when a read is bounded above by nothing.
_NO_BOUND = 2**63 - 1


def read_type(type_: str, after: int = 0, limit: int = 50, *, before: int | None = None,
              descending: bool = False) -> list[RecordedEvent]:
    """One keyset page of a type's sequence: its events and the corrections and retractions of them, by position.

    What a feed of one type carries, so that a reader of the signings hears
    of a signing corrected or withdrawn. A revision comes after its target,
    so the sequence only ever grows at its end: pages of it never shift.
    Each half is one range of an index (the log's type and position, the
    revisions' target type and position), so a page costs the same however
    long the log is.
    """
    order = "DESC" if descending else "ASC"
    bounds = (after, _NO_BOUND if before is None else before, limit)
    rows = database.execute_sql(sql(
        f"{SELECT} WHERE position IN ("
        f"SELECT position FROM (SELECT position FROM event WHERE type = ? AND position > ? AND position < ? "
        f"ORDER BY position {order} LIMIT ?) AS own UNION ALL "
        f"SELECT position FROM (SELECT position FROM revision_target WHERE target_type = ? AND position > ? "
        f"AND position < ? ORDER BY position {order} LIMIT ?) AS revised) ORDER BY position {order} LIMIT ?"),
        (type_, *bounds, type_, *bounds, limit))
    return _decode(rows)


def count_type(type_: str, upto: int | None = None) -> int:
    """How many items ``read_type`` has up to position ``upto``: a type feed's length, to align its archive pages."""
    bound = _NO_BOUND if upto is None else upto
    row = database.execute_sql(sql(
        "SELECT (SELECT COUNT(*) FROM event WHERE type = ? AND position <= ?) + "
        "(SELECT COUNT(*) FROM revision_target WHERE target_type = ? AND position <= ?)"),
        (type_, bound, type_, bound)).fetchone()
    return int(row[0])


def stream_version(stream: str) -> int:
    row = database.execute_sql(sql("SELECT MAX(version) FROM event WHERE stream = ?"), (stream,)).fetchone()
    return row[0] or 0


def streams(kind: str | None = None, *, after: str | None = None,
            limit: int | None = None) -> list[tuple[str, int]]:
    """Subjects (optionally of one kind) with their current versions, in stream order.

    ``after`` and ``limit`` page them by keyset on the (stream, version)
    index: a page of subjects costs the same however many there are.
    """
    where: list[str] = []
    params: list[object] = []
    if kind is not None:
        where.append("stream >= ? AND stream < ?")
        params += [f"{kind}/", f"{kind}0"]
    if after is not None:
        where.append("stream > ?")
        params.append(after)
    query = "SELECT stream, MAX(version) FROM event"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " GROUP BY stream ORDER BY stream"
    if limit is not None:
        query += " LIMIT ?"
        params.append(limit)
    return [(row[0], row[1]) for row in database.execute_sql(sql(query), tuple(params))]


def recent_streams(limit: int = 50, *, scan: int = 2000) -> list[str]:
    """Up to ``limit`` subjects written to most recently, newest first, from the last ``scan`` events only.

    What an editor most likely wants to add to, found without reading the
    whole log: the cost is bounded by ``scan``, not by the number of subjects.
    """
    out: dict[str, None] = {}
    rows = database.execute_sql(sql("SELECT stream FROM event ORDER BY position DESC LIMIT ?"), (scan,))
    for (stream,) in rows:
        out.setdefault(stream, None)
        if len(out) >= limit:
            break
    return list(out)


def revisions(event_ids: Iterable[str], *, upto: int | None = None) -> list[RecordedEvent]:
    """The corrections and retractions acting on any of ``event_ids`` (up to position ``upto``), in log order.

    Found through the partial index on a revision's target, so an event's
    history costs what its revisions cost, however long its stream.
    """
    wanted = sorted(set(event_ids))
    if not wanted:
        return []
    out: list[RecordedEvent] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        where = f"{schema.target_expression()} IN ({', '.join('?' * len(chunk))}) AND {schema.REVISION_TYPES}"
        params: list[object] = list(chunk)
        if upto is not None:
            where += " AND position <= ?"
            params.append(upto)
        out += _decode(database.execute_sql(sql(f"{SELECT} WHERE {where}"), tuple(params)))
    return sorted(out, key=lambda e: e.position)


def state(event_id: str, *, known_at: datetime | None = None, upto: int | None = None) -> EventState:
    """An event's original record, current form, corrections and retraction (as the log stood at a time or position)."""
    target = get(event_id)
    if known_at is not None:
        upto = min(upto, head_position(known_at)) if upto is not None else head_position(known_at)
    if upto is not None and target.position > upto:
        raise UnknownEvent(event_id)
    return fold(target, revisions([event_id], upto=upto))


def states(targets: Sequence[RecordedEvent]) -> dict[str, EventState]:
    """The states of several events at once (a page of a subject), their revisions read in one query."""
    later = revisions([t.event_id for t in targets])
    return {t.event_id: fold(t, [r for r in later if r.data.get("target") == t.event_id]) for t in targets}


def current_form(event_id: str, *, known_at: datetime | None = None) -> Form | None:
    """The event as it stands after its corrections; None once retracted."""
    s = state(event_id, known_at=known_at)
    return None if s.retracted else s.current
