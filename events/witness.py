"""Witnesses of the log: what an earlier export, a download or a saved Atom page says each hash was.

The hash chain shows a row was altered, unless the chain is rewritten from
that row onward or rows are removed from its end: nothing inside the
database can tell those apart from an honest log. A copy kept elsewhere can.
A witness is read into claims (position, hash) in increasing position
order, and ``compare`` names the first position where the log disagrees
with them, or says the log lost its tail when the witness holds positions
beyond the log's head.

An export line is checked against its own content (its hash recomputed, its
prev_hash linked to the line before), so a forged line is refused rather
than believed. An Atom entry cannot be checked that way: its hash is taken
as a claim, which is all a subscriber's copy needs to be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import BinaryIO

import orjson
from lxml import etree

from . import store
from .canonical import GENESIS_HASH, chain_hash, dumps
from .transfer import EXPORT_KEYS

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Longer than any export line (an event is a few KB; a registered document's text a few MB).
MAX_LINE = 64 * 1024 * 1024
#: Longer than any page of feed entries.
MAX_ATOM = 64 * 1024 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")
_POSITION = re.compile(r"[1-9][0-9]{0,17}")

Claim = tuple[int, str]


class WitnessError(ValueError):
    """The witness cannot be read, or contradicts itself; the message names the line or entry."""


def read_claims(stream: BinaryIO, *, namespace: str | Sequence[str], max_bytes: int | None = None) -> Iterator[Claim]:
    """The (position, hash) claims of a witness, in increasing position order, read lazily.

    ``stream`` holds JSON Lines (an export, a backup, a download of
    ``/log.jsonl``) or an Atom document whose entries carry ``position`` and
    ``hash`` elements in ``namespace`` (or in any of several: a page saved
    before the namespace changed still witnesses). More than ``max_bytes`` is
    refused.
    """
    lines = _lines(stream, max_bytes)
    first = next(((number, raw) for number, raw in lines if raw.strip()), None)
    if first is None:
        return  # an export of an empty log: nothing to claim
    number, raw = first
    start = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<"):
        yield from _atom_claims(_joined(raw, lines), (namespace,) if isinstance(namespace, str) else tuple(namespace))
    elif start.startswith(b"{"):
        yield from _export_claims(chain([(number, raw)], lines))
    else:
        raise WitnessError(f"line {number}: neither JSON Lines (an export, /log.jsonl) nor an Atom document")


def _lines(stream: BinaryIO, max_bytes: int | None) -> Iterator[tuple[int, bytes]]:
    total = number = 0
    while raw := stream.readline(MAX_LINE + 1):
        number += 1
        total += len(raw)
        if len(raw) > MAX_LINE:
            raise WitnessError(f"line {number} is longer than {MAX_LINE} bytes: not a witness")
        if max_bytes is not None and total > max_bytes:
            raise WitnessError(f"the witness is larger than {max_bytes} bytes")
        yield number, raw


def _joined(first: bytes, rest: Iterator[tuple[int, bytes]]) -> bytes:
    parts, size = [first], len(first)
    for _, raw in rest:
        size += len(raw)
        if size > MAX_ATOM:
            raise WitnessError(f"the Atom document is larger than {MAX_ATOM} bytes: not a page of entries")
        parts.append(raw)
    return b"".join(parts)


def _export_claims(lines: Iterable[tuple[int, bytes]]) -> Iterator[Claim]:
    """Each line's hash, and the hash its first line links to; the lines must form one chain."""
    last_position, last_hash = 0, None
    for number, raw in lines:
        if not raw.strip():
            continue
        position, hash_, prev = _export_line(number, raw)
        if position <= last_position:
            raise WitnessError(f"line {number}: position {position} does not come after position {last_position}")
        if last_hash is not None and position == last_position + 1:
            if prev != last_hash:
                raise WitnessError(f"line {number} (position {position}): prev_hash is not the hash of the line "
                                   "before it: the lines are not one chain")
        elif position == 1:
            if prev != GENESIS_HASH:
                raise WitnessError(f"line {number} (position 1): prev_hash must be 64 zeros")
        else:  # a partial export (--after N) or a gap: its prev_hash is a claim about the position before
            yield position - 1, prev
        yield position, hash_
        last_position, last_hash = position, hash_


def _export_line(number: int, raw: bytes) -> tuple[int, str, str]:
    """A line's position, hash and prev_hash, once its hash is shown to be that of its content."""
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise WitnessError(f"line {number}: not JSON ({exc})") from None
    if not isinstance(line, dict) or line.keys() != EXPORT_KEYS:
        keys = set(line) if isinstance(line, dict) else set()
        raise WitnessError(f"line {number}: not an export line (missing {sorted(EXPORT_KEYS - keys)}, "
                           f"unexpected {sorted(keys - EXPORT_KEYS)})")
    position, hash_, prev = line["position"], line["hash"], line["prev_hash"]
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise WitnessError(f"line {number}: position must be a positive integer")
    for key, value in (("hash", hash_), ("prev_hash", prev)):
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            raise WitnessError(f"line {number}: {key} must be 64 lowercase hexadecimal digits")
    try:
        preimage = dumps({key: value for key, value in line.items() if key != "hash"})
    except orjson.JSONEncodeError as exc:
        raise WitnessError(f"line {number}: cannot be written as canonical JSON ({exc})") from None
    if chain_hash(preimage) != hash_:
        raise WitnessError(f"line {number} (position {position}): its hash is not the hash of its content: "
                           "the line was altered")
    return position, hash_, prev


def _entry_text(entry: etree._Element, name: str, namespaces: tuple[str, ...]) -> str | None:
    return next((text for ns in namespaces if (text := entry.findtext(f"{{{ns}}}{name}")) is not None), None)


def _atom_claims(document: bytes, namespaces: tuple[str, ...]) -> Iterator[Claim]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise WitnessError(f"not well-formed XML ({exc})") from None
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise WitnessError("not an Atom feed document (its root element is not atom:feed)")
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    found: dict[int, str] = {}
    for number, entry in enumerate(entries, start=1):
        hash_ = _entry_text(entry, "hash", namespaces)
        if hash_ is None:
            continue
        position, hash_ = (_entry_text(entry, "position", namespaces) or "").strip(), hash_.strip()
        if not _POSITION.fullmatch(position):
            raise WitnessError(f"entry {number}: position {position!r} is not a log position")
        if not _HASH.fullmatch(hash_):
            raise WitnessError(f"entry {number}: hash {hash_[:80]!r} is not 64 lowercase hexadecimal digits")
        if found.setdefault(int(position), hash_) != hash_:
            raise WitnessError(f"entries give position {position} two different hashes: the document "
                               "contradicts itself")
    if entries and not found:
        raise WitnessError("no entry of this Atom document carries a hash: it was saved before entries "
                           "carried their event's hash")
    yield from sorted(found.items())


@dataclass(frozen=True)
class Comparison:
    """The log against one witness: the first position where they differ, if any."""

    witness: str
    head: int  # the log's head when compared
    compared: int  # positions found equal
    first: int | None = None  # the lowest position the witness holds
    last: int | None = None  # the highest position read from it
    position: int | None = None  # the first position where the log differs
    reason: str | None = None
    hashes: str = ""  # the two hashes at that position, for the record

    @property
    def ok(self) -> bool:
        return self.position is None

    def __str__(self) -> str:
        if not self.ok:
            return f"DIFFERS from {self.witness} at position {self.position}: {self.reason}{self.hashes}"
        if not self.compared:
            return f"nothing to compare: {self.witness} holds no positions"
        return (f"matches {self.witness}: {self.compared} positions compared, {self.first} to {self.last} "
                f"(the log's head is {self.head})")


def compare(claims: Iterable[Claim], *, witness: str) -> Comparison:
    """The log against a witness's claims, a page of positions at a time.

    The first claim the log does not bear out is named: a hash that differs
    (a row altered, or the chain rewritten from there) or a position beyond
    the log's head (its tail removed).
    """
    head = store.head_position()
    pending = iter(claims)
    compared, first, last = 0, None, None
    while batch := list(islice(pending, store.HASHES_PER_QUERY)):
        first = batch[0][0] if first is None else first
        held = store.hashes(position for position, _ in batch if position <= head)
        for position, claimed in batch:
            if position > head:
                last = batch[-1][0]
                try:
                    for claim in pending:
                        last = claim[0]
                except WitnessError:
                    pass  # the log lost its tail whatever the rest of the witness says
                return Comparison(witness, head, compared, first, last, head + 1,
                                  f"the log ends at position {head}, but {witness} holds positions up to {last}: "
                                  "events were removed from the end of the log")
            found = held.get(position)
            if found != claimed:
                reason = (f"the log has no event there, but {witness} holds one" if found is None else
                          f"the hash there is not the one {witness} holds: the record was altered, or the chain "
                          "rewritten from there on")
                return Comparison(witness, head, compared, first, position, position, reason,
                                  f" (log {found or 'none'}, witness {claimed})")
            compared += 1
        last = batch[-1][0]
    return Comparison(witness, head, compared, first, last)
