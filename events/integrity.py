"""Tamper evidence: walk the hash chain and name the first position that breaks it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import dates
from .canonical import GENESIS_HASH, chain_hash, date_text, document, parse_utc, utc_text
from .db import database
from .errors import ValidationError
from .models import COLUMNS
from .records import Row
from .store import sql

RAW_PAGE = "SELECT " + ", ".join(COLUMNS) + " FROM event WHERE position > ? ORDER BY position LIMIT ?"


@dataclass(frozen=True)
class Verification:
    checked: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def __str__(self) -> str:
        if self.ok:
            return f"ok: {self.checked} events, hash chain intact, head {self.head_hash}"
        return f"BROKEN at position {self.broken_at}: {self.reason} ({self.checked} events checked before it)"


def raw_rows(after: int = 0, page: int = 10_000) -> Iterator[Row]:
    """Every row as stored, without decoding its JSON: for verify and export."""
    query = sql(RAW_PAGE)
    while True:
        rows = database.execute_sql(query, (after, page)).fetchall()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def row_document(row: Row, *, with_hash: bool) -> bytes:
    """The canonical document of a raw row, rebuilt from its stored columns."""
    position, event_id, stream, version, type_, occurred, lo, hi, recorded, data, sources, author, prev, hash_ = row
    return document(
        author=author, data=data.encode() if isinstance(data, str) else bytes(data), event_id=event_id,
        occurred=occurred, occurred_hi=date_text(hi), occurred_lo=date_text(lo), position=position,
        prev_hash=prev, recorded_at=recorded if isinstance(recorded, str) else utc_text(recorded),
        sources=sources.encode() if isinstance(sources, str) else bytes(sources), stream=stream, type=type_,
        version=version, hash=hash_ if with_hash else None,
    )


def check_row(row: Row, expected_position: int, prev_hash: str) -> str | None:
    """Why this row does not extend the chain, or None when it does."""
    position, occurred, lo, hi, recorded, prev, hash_ = row[0], row[5], row[6], row[7], row[8], row[12], row[13]
    if position != expected_position:
        return f"position {expected_position} is missing (next stored position is {position})"
    if prev != prev_hash:
        return "prev_hash does not match the hash of the event before it"
    if chain_hash(row_document(row, with_hash=False)) != hash_:
        return "hash does not match the stored content: the row was altered"
    try:
        period = dates.parse(occurred)
        parse_utc(recorded)
    except (ValidationError, ValueError) as exc:
        return f"stored value is invalid: {exc}"
    if date_text(lo) != (period.lo.isoformat() if period.lo else None) or date_text(hi) != (
        period.hi.isoformat() if period.hi else None
    ):
        return "occurred_lo/occurred_hi do not match occurred"
    return None


def verify() -> Verification:
    """Recompute every hash from the stored columns and check the links between them."""
    prev_hash, expected, checked = GENESIS_HASH, 1, 0
    for row in raw_rows():
        problem = check_row(row, expected, prev_hash)
        if problem:
            return Verification(checked, prev_hash, broken_at=expected if row[0] != expected else row[0],
                                reason=problem)
        prev_hash, expected, checked = row[13], expected + 1, checked + 1
    return Verification(checked, prev_hash)
