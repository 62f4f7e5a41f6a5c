"""The seed catalogue: the source documents, their metadata, and the curated entries.

Reading the catalogue checks everything a reviewer would: every entry names
a known document, every quote is found in it verbatim (after whitespace
normalisation), every type and date is one the log accepts. A problem is
reported with the file, the entry and the field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from events import NewEvent, ValidationError
from events.validation import prepare

SEEDS_DIR = Path(__file__).resolve().parent

#: Event ids of seed entries are uuid5(NAMESPACE, "seed:<entry id>"): stable across runs and machines.
NAMESPACE = uuid.UUID("8f0c6f5e-2c1b-5d8e-9a57-6a1f0c2b7e31")

ENTRY_FIELDS = frozenset({"id", "stream", "type", "occurred", "title", "summary", "place", "participants", "fact",
                          "data", "sources", "correction"})
RETRACTION_FIELDS = frozenset({"id", "reason", "replaced_by"})
DOCUMENT_FIELDS = frozenset({"id", "file", "title", "publisher", "author", "published", "language", "kind", "url"})
CONTEXT_CHARS = 32


class SeedError(Exception):
    """A seed file that cannot be loaded; names where and what."""

    def __init__(self, where: str, field: str, reason: str) -> None:
        self.where, self.field, self.reason = where, field, reason
        super().__init__(f"{where}: {field}: {reason}")


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Document:
    id: str
    path: Path
    metadata: dict[str, Any]

    @cached_property
    def text(self) -> str:
        return normalise(self.path.read_text(encoding="utf-8"))

    def selector(self, quote: str) -> dict[str, str] | None:
        """A TextQuoteSelector for ``quote`` (with prefix and suffix), or None when it is not in the text."""
        exact = normalise(quote)
        at = self.text.find(exact)
        if at < 0 or not exact:
            return None
        prefix = self.text[max(0, at - CONTEXT_CHARS):at]
        suffix = self.text[at + len(exact):at + len(exact) + CONTEXT_CHARS]
        return {"exact": exact, "prefix": prefix, "suffix": suffix}

    def source(self, quote: str) -> dict[str, Any] | None:
        selector = self.selector(quote)
        if selector is None:
            return None
        fields = {k: v for k, v in self.metadata.items() if k not in ("id", "file")}
        return {"document": self.id, **fields, "quote": selector}


@dataclass(frozen=True)
class Entry:
    """One curated claim, ready to become an event; ``correction`` says why it was last edited (the reason of the
    ``EventCorrected`` the seed appends when the log is behind it)."""

    id: str
    where: str
    event: NewEvent
    correction: str | None = None

    @property
    def event_id(self) -> str:
        return self.event.event_id  # type: ignore[return-value]


def event_id_for(entry_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"seed:{entry_id}"))


def load_documents(directory: Path = SEEDS_DIR) -> dict[str, Document]:
    path = directory / "documents.yaml"
    rows = _yaml(path)
    if not isinstance(rows, list):
        raise SeedError(str(path), "documents", "must be a list of documents")
    documents: dict[str, Document] = {}
    for i, row in enumerate(rows):
        where = f"{path.name}[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("file"), str):
            raise SeedError(where, "id", "each document needs an id and a file")
        unknown = set(row) - DOCUMENT_FIELDS
        if unknown:
            raise SeedError(where, sorted(unknown)[0], "unknown field")
        file = directory / row["file"]
        if not file.is_file():
            raise SeedError(where, "file", f"{row['file']} does not exist")
        if row["id"] in documents:
            raise SeedError(where, "id", f"duplicate document id {row['id']!r}")
        documents[row["id"]] = Document(row["id"], file, {k: str(v) for k, v in row.items()})
    return documents


def load_entries(directory: Path = SEEDS_DIR, documents: dict[str, Document] | None = None) -> list[Entry]:
    """Every entry of every seed file, checked; raise SeedError at the first problem."""
    documents = documents if documents is not None else load_documents(directory)
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted((directory / "events").glob("*.yaml")):
        rows = _yaml(path)
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise SeedError(str(path), "entries", "must be a list of entries")
        for i, row in enumerate(rows):
            entry = _entry(row, f"events/{path.name}[{i}]", documents)
            if entry.id in seen:
                raise SeedError(entry.where, "id", f"duplicate id, also at {seen[entry.id]}")
            seen[entry.id] = entry.where
            entries.append(entry)
    _check_outcomes(entries)
    for entry in entries:
        _check(entry)
    return entries


def _entry(row: object, where: str, documents: dict[str, Document]) -> Entry:
    if not isinstance(row, dict):
        raise SeedError(where, "entry", "must be a mapping")
    if not isinstance(row.get("id"), str) or not row["id"]:
        raise SeedError(where, "id", "is required")
    where = f"{where} ({row['id']})"
    unknown = set(row) - ENTRY_FIELDS
    if unknown:
        raise SeedError(where, sorted(unknown)[0], f"unknown field (expected: {', '.join(sorted(ENTRY_FIELDS))})")
    for key in ("stream", "type", "occurred", "title"):
        if key not in row:
            raise SeedError(where, key, "is required")
    extra = row.get("data") or {}
    if not isinstance(extra, dict):
        raise SeedError(where, "data", "must be a mapping")
    data = {key: row[key] for key in ("title", "summary", "place", "participants", "fact") if key in row}
    clash = set(extra) & set(data)
    if clash:
        raise SeedError(where, f"data.{sorted(clash)[0]}", "is a top-level field of the entry")
    occurred = row["occurred"].isoformat() if isinstance(row["occurred"], date) else row["occurred"]
    correction = row.get("correction")
    if correction is not None and (not isinstance(correction, str) or not correction.strip()):
        raise SeedError(where, "correction", "must be a sentence saying why the entry was last edited")
    event = NewEvent(row["stream"], row["type"], occurred, {**data, **extra},
                     _sources(row.get("sources"), where, documents), event_id_for(row["id"]))
    return Entry(row["id"], where, event, " ".join(correction.split()) if correction else None)


def _check(entry: Entry) -> None:
    """Every rule the log applies to a new event (outcomes already made event ids)."""
    try:
        prepare(entry.event)
    except ValidationError as exc:
        raise SeedError(entry.where, exc.field.removeprefix("data."), exc.reason) from None


def _sources(value: object, where: str, documents: dict[str, Document]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise SeedError(where, "sources", "at least one source with a verbatim quote is required")
    out = []
    for i, item in enumerate(value):
        path = f"sources[{i}]"
        if not isinstance(item, dict):
            raise SeedError(where, path, "must be a mapping with document and quote")
        unknown = set(item) - {"document", "quote"}
        if unknown:
            raise SeedError(where, f"{path}.{sorted(unknown)[0]}", "unknown field (expected document, quote)")
        document = documents.get(item.get("document"))  # type: ignore[arg-type]
        if document is None:
            raise SeedError(where, f"{path}.document", f"unknown document {item.get('document')!r}")
        quote = item.get("quote")
        if quote is None:
            raise SeedError(where, f"{path}.quote", "is required: the verbatim words that support the entry")
        if not isinstance(quote, str):
            raise SeedError(where, f"{path}.quote", f"must be a string, not {type(quote).__name__}")
        source = document.source(quote)
        if source is None:
            raise SeedError(where, f"{path}.quote", f"not found in {document.path.name}: {normalise(quote)[:80]!r}")
        out.append(source)
    return out


def _check_outcomes(entries: list[Entry]) -> None:
    """Outcomes name seed entries in the files; in the log they are event ids."""
    ids = {e.id for e in entries}
    for entry in entries:
        outcomes = entry.event.data.get("outcomes")
        if outcomes is None:
            continue
        if not isinstance(outcomes, list):
            raise SeedError(entry.where, "data.outcomes", "must be a list of entry ids")
        for outcome in outcomes:
            if outcome not in ids:
                raise SeedError(entry.where, "data.outcomes", f"refers to unknown entry {outcome!r}")
        entry.event.data["outcomes"] = [event_id_for(o) for o in outcomes]


@dataclass(frozen=True)
class Retraction:
    """An entry withdrawn from the catalogue: the seed retracts its event in a log that has it, and never adds it
    to one that has not. ``replaced_by`` names the entry that states the fact rightly, if one does."""

    id: str
    where: str
    reason: str
    replaced_by: str | None

    @property
    def event_id(self) -> str:
        return event_id_for(self.id)


def load_retractions(directory: Path = SEEDS_DIR, entries: list[Entry] | None = None) -> list[Retraction]:
    """``retractions.yaml``, checked against the entries: a retracted id is no longer an entry, a replacement is."""
    path = directory / "retractions.yaml"
    if not path.is_file():
        return []
    rows = _yaml(path) or []
    if not isinstance(rows, list):
        raise SeedError(path.name, "retractions", "must be a list of retractions")
    ids = {e.id: e.where for e in (entries if entries is not None else load_entries(directory))}
    out: list[Retraction] = []
    for i, row in enumerate(rows):
        retraction = _retraction(row, f"{path.name}[{i}]", ids)
        if any(r.id == retraction.id for r in out):
            raise SeedError(retraction.where, "id", "is retracted twice")
        out.append(retraction)
    return out


def _retraction(row: object, where: str, entries: dict[str, str]) -> Retraction:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
        raise SeedError(where, "id", "each retraction names the id of the entry it withdraws")
    where = f"{where} ({row['id']})"
    unknown = set(row) - RETRACTION_FIELDS
    if unknown:
        expected = ", ".join(sorted(RETRACTION_FIELDS))
        raise SeedError(where, sorted(unknown)[0], f"unknown field (expected: {expected})")
    if row["id"] in entries:
        raise SeedError(where, "id", f"is still an entry at {entries[row['id']]}: remove it there or keep it")
    reason = row.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise SeedError(where, "reason", "is required: why the entry is withdrawn, in words a reader can check")
    replaced_by = row.get("replaced_by")
    if replaced_by is not None and replaced_by not in entries:
        raise SeedError(where, "replaced_by", f"names no entry: {replaced_by!r}")
    return Retraction(row["id"], where, " ".join(reason.split()), replaced_by)


def _yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise SeedError(str(path), "yaml", str(exc).replace("\n", " ")) from None
