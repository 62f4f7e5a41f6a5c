"""Canonical JSON and the SHA-256 hash chain.

One event's canonical document is its row as JSON with sorted keys and no
whitespace (what ``orjson`` writes with OPT_SORT_KEYS); its hash is the
SHA-256 of that document without the ``hash`` key, and the document's
``prev_hash`` links it to the event before. An export line is the canonical
document *with* the hash, so export and import are byte-for-byte stable.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import orjson

GENESIS_HASH = "0" * 64

_SORT = orjson.OPT_SORT_KEYS


def dumps(value: object) -> bytes:
    """Canonical JSON bytes: sorted keys, compact, UTF-8."""
    return orjson.dumps(value, option=_SORT)


def utc_text(moment: datetime) -> str:
    """An aware datetime as fixed-width RFC 3339 UTC text (sorts as time)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" becomes "Z"


def parse_utc(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value!r} has no timezone")
        return value.astimezone(UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone")
    return parsed.astimezone(UTC)


def date_text(value: str | date | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


_dumps = orjson.dumps
_Fragment = orjson.Fragment


def _s(value: str | None) -> bytes:
    return orjson.dumps(value)


def document(
    *,
    author: str,
    data: bytes,
    event_id: str,
    occurred: str,
    occurred_hi: str | None,
    occurred_lo: str | None,
    position: int,
    prev_hash: str,
    recorded_at: str,
    sources: bytes,
    stream: str,
    type: str,
    version: int,
    hash: str | None = None,
) -> bytes:
    """An event's canonical document; without ``hash`` it is what the hash covers.

    Built from the already-canonical ``data`` and ``sources`` columns, so
    verifying a million rows never re-serialises them; a test proves this
    equals ``dumps`` of the same dict. The preimage (no ``hash``: every
    append, import line and verified row) is one ``orjson`` call over a dict
    whose keys are written in sorted order, the two columns embedded as
    fragments: half the cost of joining thirty pieces.
    """
    if hash is None and data.__class__ is bytes and sources.__class__ is bytes and position.__class__ is int \
            and version.__class__ is int:  # (``type`` is a field here)
        try:
            return _dumps({
                "author": author, "data": _Fragment(data), "event_id": event_id, "occurred": occurred,
                "occurred_hi": occurred_hi, "occurred_lo": occurred_lo, "position": position,
                "prev_hash": prev_hash, "recorded_at": recorded_at, "sources": _Fragment(sources),
                "stream": stream, "type": type, "version": version,
            })
        except orjson.JSONEncodeError:
            pass  # e.g. an integer beyond 64 bits: the joined form below says what it says
    return b"".join((
        b'{"author":', _s(author),
        b',"data":', data,
        b',"event_id":', _s(event_id),
        b',"hash":"' + hash.encode() + b'"' if hash is not None else b"",
        b',"occurred":', _s(occurred),
        b',"occurred_hi":', _s(occurred_hi),
        b',"occurred_lo":', _s(occurred_lo),
        b',"position":', str(position).encode(),
        b',"prev_hash":', _s(prev_hash),
        b',"recorded_at":', _s(recorded_at),
        b',"sources":', sources,
        b',"stream":', _s(stream),
        b',"type":', _s(type),
        b',"version":', str(version).encode(),
        b"}",
    ))


def chain_hash(preimage: bytes) -> str:
    return hashlib.sha256(preimage).hexdigest()
