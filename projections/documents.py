"""Source documents and what quotes them: every registered document and, for each, the facts citing it in date order.

A document's row holds its registration's metadata in its current form (a
correction may fix a title or a date; never the text, which the log keeps
and the pages read from it). A citation is one fact whose current sources
name a document, keyed like the other fact tables by the position of the
fact's own event, with its data and sources left to the log until a
correction changes them. Each document's count of citing facts is kept as
the citations come and go, so the list of documents costs one small read.
Citations of a document not (yet) registered are kept too: registering it
later finds them. Citations sort by the timeline's key (``timeline.sort_key``),
so "in date order" means the same on every page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from peewee import CharField, DateField, IntegerField, Model, TextField

from events import derived, store
from events.canonical import dumps
from events.declaration import DOCUMENT_TYPE, UNSOURCED_TYPES
from events.documents import id_of, named
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import tables, timeline
from .base import Projection
from .facts import BASE_COLUMNS, Fact, fact_of
from .paging import DEFAULT_LIMIT, Page, check_limit
from .tables import ViewModel, execute, insert_rows, query

#: What of a registration's data a document's row keeps: all but the text, which stays in the log.
TEXT_FIELDS = ("text",)


class DocumentEntry(ViewModel):
    document = CharField(max_length=200, primary_key=True)
    position = IntegerField()  # of its registration
    occurred = CharField(max_length=100)
    metadata = TextField()  # the registration's data without the text, as corrected
    retracted_at = IntegerField(null=True)

    class Meta:
        table_name = "document_entry"


class DocumentCitation(ViewModel):
    """One fact citing one document: the fact table's columns (``facts.BASE_COLUMNS``), the document, the sort key."""

    position = IntegerField()
    stream = CharField(max_length=200)
    occurred = CharField(max_length=100)
    data = TextField(null=True)
    sources = TextField(null=True)
    lo = DateField(null=True)
    hi = DateField(null=True)
    document = CharField(max_length=200)
    sort_key = CharField(max_length=20)

    class Meta:
        table_name = "document_citation"
        primary_key = False
        indexes = ((("document", "sort_key"), True), (("position",), False))


class DocumentTally(ViewModel):
    document = CharField(max_length=200, primary_key=True)
    facts = IntegerField(default=0)  # the facts whose current sources name it

    class Meta:
        table_name = "document_tally"


CITATION_COLUMNS = (*BASE_COLUMNS, "document", "sort_key")


def _citation_row(fact: Fact, document: str) -> tuple[Any, ...]:
    return (*fact.row(), document, timeline.sort_key(fact.occurred, fact.position))


class Documents(Projection):
    name = "documents"
    version = 1
    models: ClassVar[list[type[Model]]] = [DocumentEntry, DocumentCitation, DocumentTally]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        rows: list[tuple[Any, ...]] = []
        counts: Counter[str] = Counter()
        for event in events:
            if event.type == DOCUMENT_TYPE:
                _register(event)
            elif event.type in META_TYPES:
                _write(rows, counts)  # a revision may act on a fact of this very batch
                _revise(event)
            elif event.sources:
                fact = Fact.of(event)
                for document in sorted(named(event.sources)):
                    rows.append(_citation_row(fact, document))
                    counts[document] += 1
        _write(rows, counts)

    def refold(self, upto: int) -> Iterator[int]:
        """The citations as logged in one INSERT ... SELECT (the database takes the sources apart), their counts
        in one more; then the registrations and every revision, folded as catching up folds them."""
        derived.copy_citations(tables.name(DocumentCitation), CITATION_COLUMNS, upto=upto,
                               skip_types=sorted(UNSOURCED_TYPES), prefix_of=timeline.sort_prefix)
        execute(f"INSERT INTO {tables.name(DocumentTally)} (document, facts) "
                f"SELECT document, COUNT(*) FROM {tables.name(DocumentCitation)} GROUP BY document")
        yield upto
        for batch in store.pages(types=[DOCUMENT_TYPE], before=upto + 1):
            self.apply_batch(batch)
        yield from self.refold_revisions(upto, upto)


def _write(rows: list[tuple[Any, ...]], counts: Counter[str]) -> None:
    """Insert the pending citations and move the counts, then forget them."""
    insert_rows(DocumentCitation, CITATION_COLUMNS, rows)
    tally = tables.name(DocumentTally)
    for document, delta in sorted(counts.items()):
        if delta and not execute(f"UPDATE {tally} SET facts = facts + ? WHERE document = ?",
                                 (delta, document)).rowcount:
            execute(f"INSERT INTO {tally} (document, facts) VALUES (?, ?)", (document, delta))
    rows.clear()
    counts.clear()


def _metadata(data: dict[str, Any]) -> str:
    return dumps({k: v for k, v in data.items() if k not in TEXT_FIELDS}).decode()


def _register(event: RecordedEvent) -> None:
    document = id_of(event.stream)
    if document is not None:
        insert_rows(DocumentEntry, ("document", "position", "occurred", "metadata", "retracted_at"),
                    [(document, event.position, event.occurred, _metadata(event.data), None)])


def _revise(event: RecordedEvent) -> None:
    """A correction or retraction: of a document, its row follows; of a fact, its citations are made again."""
    state = store.state(event.data["target"], upto=event.position)
    original = state.original
    if original.type == DOCUMENT_TYPE:
        if state.retracted:
            execute(f"UPDATE {tables.name(DocumentEntry)} SET retracted_at = ? WHERE position = ?",
                    (event.position, original.position))
        else:
            execute(f"UPDATE {tables.name(DocumentEntry)} SET occurred = ?, metadata = ? WHERE position = ?",
                    (state.current.occurred, _metadata(state.current.data), original.position))
        return
    counts: Counter[str] = Counter()
    citations = tables.name(DocumentCitation)
    for (document,) in query(f"SELECT document FROM {citations} WHERE position = ?", (original.position,)):
        counts[document] -= 1
    execute(f"DELETE FROM {citations} WHERE position = ?", (original.position,))
    rows: list[tuple[Any, ...]] = []
    if not state.retracted:
        current = state.current
        fact = Fact(original.event_id, original.stream, original.type, current.occurred, current.data,
                    current.sources, original.position, original.recorded_at)
        for document in sorted(named(current.sources)):
            rows.append(_citation_row(fact, document))
            counts[document] += 1
    _write(rows, counts)


# --- queries ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A registered document as the pages list it: its metadata now, and how many facts cite it."""

    id: str
    position: int
    occurred: str
    metadata: dict[str, Any]
    retracted_at: int | None
    cited: int

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.id)

    @property
    def inferred(self) -> dict[str, str]:
        inferred = self.metadata.get("inferred")
        return dict(inferred) if isinstance(inferred, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "occurred": self.occurred, **self.metadata,
                "retracted_at": self.retracted_at, "cited_by": self.cited}


def _selected() -> str:
    """What a document's row is read with (the tables of the build being read)."""
    return ("SELECT d.document, d.position, d.occurred, d.metadata, d.retracted_at, COALESCE(t.facts, 0) "
            f"FROM {tables.name(DocumentEntry)} d LEFT JOIN {tables.name(DocumentTally)} t ON t.document = d.document")


def _document(row: tuple[Any, ...]) -> Document:
    return Document(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5])


def documents(after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Document]:
    """A page of the registered documents by id, after the id ``after``; ``next_after`` continues."""
    limit = check_limit(limit)
    where, params = ("WHERE d.document > ?", [after]) if after is not None else ("", [])
    rows = query(f"{_selected()} {where} ORDER BY d.document LIMIT ?", [*params, limit + 1])
    shown = [_document(row) for row in rows[:limit]]
    return Page(shown, shown[-1].id if len(rows) > limit else None)


def document(document_id: str) -> Document | None:
    rows = query(f"{_selected()} WHERE d.document = ?", [document_id])
    return _document(rows[0]) if rows else None


def cited(document_ids: Iterable[str]) -> dict[str, int]:
    """How many facts cite each of ``document_ids`` (registered or not), as far as the read model has folded."""
    wanted = sorted(set(document_ids))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = query(f"SELECT document, facts FROM {tables.name(DocumentTally)} WHERE document IN ({marks})", wanted)
    return {document: facts for document, facts in rows}


@dataclass(frozen=True)
class Citation:
    """A fact (in its current form) citing a document, and where it stands in the document's date order."""

    fact: Fact
    document: str
    cursor: str

    def quotes(self) -> list[tuple[int, dict[str, Any]]]:
        """The fact's sources that name the document, with their places among all its sources."""
        return [(i, s) for i, s in enumerate(self.fact.sources) if s.get("document") == self.document]


def _citations(where: str, params: list[Any], limit: int | None = None) -> list[Citation]:
    rows = derived.joined_facts(tables.name(DocumentCitation), where=where, params=params,
                                extra=("document", "sort_key"), order="t.sort_key", limit=limit)
    return [Citation(fact_of(row), row[9], row[10]) for row in rows]


def citations(document_id: str, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Citation]:
    """A page of the facts citing a document in date order (the timeline's), after the cursor ``after``.

    Raises ValueError naming the argument when ``after`` is not a cursor.
    """
    limit = check_limit(limit)
    if after is not None and not timeline.CURSOR.fullmatch(after):
        raise ValueError(f"after: {after[:40]!r} is not a citation cursor (the 'cursor' of the last row seen)")
    where, params = "t.document = ?", [document_id]
    if after is not None:
        where, params = f"{where} AND t.sort_key > ?", [*params, after]
    rows = _citations(where, params, limit + 1)
    return Page(rows[:limit], rows[limit - 1].cursor if len(rows) > limit else None)


def citations_by(document_id: str, event_ids: Iterable[str]) -> list[Citation]:
    """The citations of a document by the facts ``event_ids`` recorded (those that cite it)."""
    positions = [e.position for e in store.find_many(event_ids).values()]
    if not positions:
        return []
    marks = ", ".join("?" * len(positions))
    return _citations(f"t.document = ? AND t.position IN ({marks})", [document_id, *positions])
