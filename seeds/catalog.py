"""The seed catalogue: the source documents, their metadata, the curated entries and the quotes' translations.

Reading the catalogue checks everything a reviewer would: every entry names
a known document, every quote is found in it verbatim (after whitespace
normalisation), every translation belongs to a quote of its entry, every
type and date is one the log accepts. A problem is reported with the file,
the entry and the field. Each document becomes a ``DocumentRegistered``
event holding its text byte for byte, before the entries that quote it.
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
from events.declaration import DOCUMENT_TYPE
from events.documents import stream_of
from events.quotes import normalise
from events.validation import prepare

SEEDS_DIR = Path(__file__).resolve().parent

#: Event ids of seed entries are uuid5(NAMESPACE, "seed:<entry id>"): stable across runs and machines.
NAMESPACE = uuid.UUID("8f0c6f5e-2c1b-5d8e-9a57-6a1f0c2b7e31")

ENTRY_FIELDS = frozenset({"id", "stream", "type", "occurred", "title", "summary", "place", "participants", "fact",
                          "data", "sources", "correction"})
RETRACTION_FIELDS = frozenset({"id", "reason", "replaced_by"})
DOCUMENT_FIELDS = frozenset({"id", "file", "title", "publisher", "author", "published", "language", "kind", "url",
                             "inferred"})
#: What a seed source copies from its document's metadata (what the seed sources have always carried).
CITED_FIELDS = ("title", "publisher", "author", "published", "language", "kind", "url")
#: A document's metadata as its registration states it (``published`` is the registration's date).
REGISTERED_FIELDS = ("title", "author", "publisher", "kind", "language", "url")
#: An inferred field's name in documents.yaml and in a registration (the date is the event's ``occurred``).
INFERRED_NAMES = {"published": "occurred"}
TRANSLATIONS = "translations.yaml"
CONTEXT_CHARS = 32


class SeedError(Exception):
    """A seed file that cannot be loaded; names where and what."""

    def __init__(self, where: str, field: str, reason: str) -> None:
        self.where, self.field, self.reason = where, field, reason
        super().__init__(f"{where}: {field}: {reason}")


@dataclass(frozen=True)
class Document:
    id: str
    path: Path
    metadata: dict[str, Any]

    @cached_property
    def raw(self) -> str:
        """The file's text byte for byte (no newline translation): what its registration keeps."""
        return self.path.read_bytes().decode("utf-8")

    @cached_property
    def text(self) -> str:
        return normalise(self.raw)

    @property
    def event_id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"seed:document:{self.id}"))

    def registration(self) -> NewEvent:
        """The event that registers this document: its metadata, what of it is inferred and why, its text."""
        data: dict[str, Any] = {k: self.metadata[k] for k in REGISTERED_FIELDS if k in self.metadata}
        inferred = self.metadata.get("inferred")
        if inferred:
            data["inferred"] = {INFERRED_NAMES.get(k, k): v for k, v in inferred.items()}
        data["text"] = self.raw
        return NewEvent(stream_of(self.id), DOCUMENT_TYPE, self.metadata["published"], data, [], self.event_id)

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
        fields = {k: self.metadata[k] for k in CITED_FIELDS if k in self.metadata}
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
        if "published" not in row:
            raise SeedError(where, "published", "is required: the date the document was published (EDTF), or "
                                                "the honest bounds of it, marked under inferred")
        documents[row["id"]] = Document(row["id"], file, {**{k: str(v) for k, v in row.items() if k != "inferred"},
                                                          **_inferred(row, where)})
    return documents


def _inferred(row: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields of a document not read in it, each with its basis (checked again by the log's rules)."""
    inferred = row.get("inferred")
    if inferred is None:
        return {}
    if not isinstance(inferred, dict) or not all(isinstance(v, str) for v in inferred.values()):
        raise SeedError(where, "inferred", "must map each inferred field to the basis of the inference")
    unknown = set(inferred) - (set(REGISTERED_FIELDS) | set(INFERRED_NAMES))
    if unknown:
        raise SeedError(where, f"inferred.{sorted(unknown)[0]}", "is not a field of the document")
    missing = set(inferred) - set(row)
    if missing:
        raise SeedError(where, f"inferred.{sorted(missing)[0]}", "names a field the document does not give")
    return {"inferred": dict(inferred)}


def load_registrations(directory: Path = SEEDS_DIR, documents: dict[str, Document] | None = None) -> list[Entry]:
    """The registration of every document, checked, as entries the loader appends before those that quote them."""
    documents = documents if documents is not None else load_documents(directory)
    out = []
    for document in documents.values():
        entry = Entry(f"document:{document.id}", f"documents.yaml ({document.id})", document.registration())
        _check(entry)
        out.append(entry)
    return out


def load_entries(directory: Path = SEEDS_DIR, documents: dict[str, Document] | None = None) -> list[Entry]:
    """Every entry of every seed file, checked, its quotes' translations attached; raise SeedError at the first
    problem."""
    documents = documents if documents is not None else load_documents(directory)
    translations = Translations.load(directory)
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted((directory / "events").glob("*.yaml")):
        rows = _yaml(path)
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise SeedError(str(path), "entries", "must be a list of entries")
        for i, row in enumerate(rows):
            entry = _entry(row, f"events/{path.name}[{i}]", documents, translations)
            if entry.id in seen:
                raise SeedError(entry.where, "id", f"duplicate id, also at {seen[entry.id]}")
            seen[entry.id] = entry.where
            entries.append(entry)
    _check_outcomes(entries)
    translations.check_all_used()
    for entry in entries:
        _check(entry)
    return entries


class Translations:
    """The translations of seed quotes (``translations.yaml``): by entry and quote, each to be used once.

    A translation is an editor's, never the source's words: it is kept beside the quote as ``translation``.
    """

    def __init__(self, by_quote: dict[tuple[str, str], dict[str, str]]) -> None:
        self.by_quote = by_quote
        self.used: set[tuple[str, str]] = set()

    @classmethod
    def load(cls, directory: Path) -> Translations:
        path = directory / TRANSLATIONS
        rows = _yaml(path) if path.exists() else []
        if not isinstance(rows, list):
            raise SeedError(TRANSLATIONS, "translations", "must be a list of entries with their quotes")
        by_quote: dict[tuple[str, str], dict[str, str]] = {}
        for i, row in enumerate(rows):
            where = f"{TRANSLATIONS}[{i}]"
            if not isinstance(row, dict) or not isinstance(row.get("entry"), str) or not isinstance(
                    row.get("quotes"), list) or set(row) - {"entry", "quotes", "language"}:
                raise SeedError(where, "entry", "each item is an entry id, its quotes and optionally the language "
                                                "of the translations (default en)")
            language = str(row.get("language", "en"))
            for j, quote in enumerate(row["quotes"]):
                if not isinstance(quote, dict) or not {"quote", "translation"} <= set(quote) or set(quote) - {
                        "quote", "translation", "note"}:
                    raise SeedError(f"{where} ({row['entry']})", f"quotes[{j}]",
                                    "must hold the quote as the entry gives it and its translation (and a note)")
                key = (row["entry"], normalise(str(quote["quote"])))
                if key in by_quote:
                    raise SeedError(f"{where} ({row['entry']})", f"quotes[{j}]", "translates this quote twice")
                by_quote[key] = {"text": str(quote["translation"]), "language": language}
        return cls(by_quote)

    def of(self, entry_id: str, quote: str) -> dict[str, str] | None:
        key = (entry_id, normalise(quote))
        found = self.by_quote.get(key)
        if found is not None:
            self.used.add(key)
        return found

    def check_all_used(self) -> None:
        """A translation of a quote no entry gives is a mistake (an entry renamed, a quote edited): refused."""
        for entry_id, quote in sorted(self.by_quote.keys() - self.used):
            raise SeedError(f"{TRANSLATIONS} ({entry_id})", "quote", f"is not a quote of that entry: {quote[:80]!r}")


def _entry(row: object, where: str, documents: dict[str, Document], translations: Translations) -> Entry:
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
    sources = _translated(row["id"], _sources(row.get("sources"), where, documents), translations)
    event = NewEvent(row["stream"], row["type"], occurred, {**data, **extra}, sources, event_id_for(row["id"]))
    return Entry(row["id"], where, event, " ".join(correction.split()) if correction else None)


def _translated(entry_id: str, sources: list[dict[str, Any]], translations: Translations) -> list[dict[str, Any]]:
    """The sources with each quote's translation beside it, when the catalogue gives one."""
    for source in sources:
        translation = translations.of(entry_id, source["quote"]["exact"])
        if translation is not None:
            source["translation"] = translation
    return sources


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
