"""What the record is drawn from: every source its events cite, with the metadata the newest citation gives.

The chronology holds what its sources say, not everything that happened, so
every page that draws a view from it says which sources those are: how many
documents (and sources cited only by URL), their kinds and dates, and the
newest source's date. A source is a registered document (by its id) or else
a URL; its title, kind, publisher and publication date are those the newest
event citing it gives (a correction of the sources updates them). A source
stays in the coverage once cited: the log keeps every event that cited it.

The table holds one row per source, so a page reads a handful of rows
however long the log; a rebuild finds each source's newest citation in one
statement over the log (``events.derived.newest_citations``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from peewee import CharField, DateField, IntegerField, Model, TextField

from events import dates, derived
from events.errors import InvalidDate
from events.records import RecordedEvent
from events.vocabulary import SOURCE_KIND_RANK

from . import tables
from .base import Projection
from .tables import ViewModel, execute_many, query

#: Words for each kind of source, as a sentence counts them.
KIND_WORDS = {"official": ("official text", "official texts"), "press": ("press article", "press articles"),
              "analysis": ("analysis", "analyses"), "other": ("other source", "other sources"),
              "": ("source of no stated kind", "sources of no stated kind")}
#: What every statement of coverage ends with: the record's silence is not evidence.
OPEN_WORLD = ("The record holds what these sources say, not everything that happened: a fact missing from it is "
              "not known not to have happened.")
LISTED = 50  # documents named one by one; beyond them, counted


class CoverageSource(ViewModel):
    source_key = CharField(max_length=2100, primary_key=True)  # "document:<id>" or "url:<url>"
    document = CharField(max_length=300, null=True)
    url = TextField(null=True)
    title = TextField(null=True)
    kind = CharField(max_length=16, default="")  # "" when no citation states one
    publisher = TextField(null=True)
    published = CharField(max_length=100, null=True)  # EDTF, as the newest citation gives it
    published_lo = DateField(null=True)
    published_hi = DateField(null=True)
    position = IntegerField()  # the newest event citing it

    class Meta:
        table_name = "coverage_source"
        indexes = ((("kind", "published_lo"), False), (("published_hi",), False))


COLUMNS = ("source_key", "document", "url", "title", "kind", "publisher", "published", "published_lo", "published_hi",
           "position")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _row(source: object, position: int) -> tuple[Any, ...] | None:
    """A source's row, or None for one that names neither a document nor a URL (an old log's odd value)."""
    if not isinstance(source, dict):
        return None
    document, url = source.get("document"), source.get("url")
    if isinstance(document, str):
        key = f"document:{document}"
    elif document is None and isinstance(url, str):
        key = f"url:{url}"
    else:
        return None
    published = _text(source.get("published"))
    try:
        lo, hi = dates.bounds(published) if published else (None, None)  # ISO text, as the table stores them
    except (InvalidDate, ValueError):
        lo = hi = None
    kind = source.get("kind")
    return (key, document if isinstance(document, str) else None, url if isinstance(url, str) else None,
            _text(source.get("title")), kind if isinstance(kind, str) and kind in SOURCE_KIND_RANK else "",
            _text(source.get("publisher")), published, lo, hi, position)


def cited(position: int, sources: object, data: object) -> list[tuple[Any, ...]]:
    """The rows an event's citations give, in order: its own sources, then those a correction gives its target."""
    listed = sources if isinstance(sources, list) else []
    changes = data.get("changes") if isinstance(data, dict) else None
    corrected = changes.get("sources") if isinstance(changes, dict) else None
    if isinstance(corrected, list):
        listed = [*listed, *corrected]
    return [row for row in (_row(s, position) for s in listed) if row is not None]


class Coverage(Projection):
    name = "coverage"
    version = 1
    models: ClassVar[list[type[Model]]] = [CoverageSource]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        newest: dict[str, tuple[Any, ...]] = {}
        for event in events:
            for row in cited(event.position, event.sources, event.data if event.type == "EventCorrected" else None):
                newest[row[0]] = row  # the later citation (in the log, then in the event) wins
        _upsert(list(newest.values()))

    def refold(self, upto: int) -> Iterator[int]:
        """Each source's newest citing event found by the database, then read as a fold would read it."""
        newest: dict[str, tuple[Any, ...]] = {}
        for position, type_, sources, data in derived.newest_citations(upto):
            corrected = orjson.loads(data) if type_ == "EventCorrected" else None
            for row in cited(position, orjson.loads(sources), corrected):
                newest[row[0]] = row
        _upsert(list(newest.values()))
        yield upto


def _upsert(rows: list[tuple[Any, ...]]) -> None:
    """Each row replaces the stored one of its source only if it comes from a later event."""
    if not rows:
        return
    marks = ", ".join("?" * len(COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    table = tables.name(CoverageSource)
    execute_many(f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks}) "
                 f"ON CONFLICT (source_key) DO UPDATE SET {updates} WHERE {table}.position < excluded.position", rows)


# --- the statement ----------------------------------------------------------------


@dataclass(frozen=True)
class Dated:
    """A source's publication date: EDTF and words (None when no citation gives one)."""

    published: str | None

    @property
    def when(self) -> str | None:
        if self.published is None:
            return None
        try:
            return dates.describe(self.published)
        except (InvalidDate, ValueError):
            return self.published


@dataclass(frozen=True)
class KindCount:
    kind: str
    sources: int
    earliest: Dated
    newest: Dated

    @property
    def words(self) -> str:
        one, many = KIND_WORDS.get(self.kind, (self.kind, self.kind))
        span = ""
        if self.earliest.when and self.newest.when:
            span = (f" ({self.earliest.when})" if self.earliest.when == self.newest.when
                    else f" ({self.earliest.when} to {self.newest.when})")
        return f"{self.sources} {one if self.sources == 1 else many}{span}"


@dataclass(frozen=True)
class Listed:
    document: str | None
    url: str | None
    title: str | None
    kind: str
    publisher: str | None
    published: Dated


@dataclass(frozen=True)
class CoverageView:
    """What the record is drawn from, as every page and JSON answer states it."""

    documents: int
    urls: int
    kinds: list[KindCount]
    newest: Listed | None
    listed: list[Listed] = field(default_factory=list)

    @property
    def sources(self) -> int:
        return self.documents + self.urls

    @property
    def statement(self) -> str:
        """The coverage in one paragraph of plain words."""
        if not self.sources:
            return f"No source is on record yet. {OPEN_WORLD}"
        counted = [f"{self.documents} document{'s' if self.documents != 1 else ''}"] if self.documents else []
        if self.urls:
            counted.append(f"{self.urls} source{'s' if self.urls != 1 else ''} cited by URL")
        text = f"The record is drawn from {' and '.join(counted)}: {', '.join(k.words for k in self.kinds)}."
        if self.newest is not None and self.newest.published.when:
            text += f" The newest is dated {self.newest.published.when}."
        return f"{text} {OPEN_WORLD}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources, "documents": self.documents, "urls": self.urls,
            "kinds": [{"kind": k.kind or None, "sources": k.sources, "earliest": k.earliest.published,
                       "newest": k.newest.published} for k in self.kinds],
            "newest_source_date": self.newest.published.published if self.newest else None,
            "documents_listed": [{"document": d.document, "title": d.title, "kind": d.kind or None,
                                  "publisher": d.publisher, "published": d.published.published}
                                 for d in self.listed],
            "statement": self.statement,
        }


def _listed(row: tuple[Any, ...]) -> Listed:
    return Listed(row[0], row[1], row[2], row[3], row[4], Dated(row[5]))


SELECTED = "document, url, title, kind, publisher, published"


def coverage() -> CoverageView:
    """What the record is drawn from, as far as the read model has caught up: a few small indexed reads."""
    table = tables.name(CoverageSource)
    counts = query(f"SELECT kind, COUNT(*), COUNT(document) FROM {table} GROUP BY kind")
    kinds = []
    for kind, n, _ in sorted(counts, key=lambda row: (SOURCE_KIND_RANK.get(row[0], len(SOURCE_KIND_RANK)), row[0])):
        first = query(f"SELECT published FROM {table} WHERE kind = ? AND published_lo IS NOT NULL "
                      "ORDER BY published_lo, source_key LIMIT 1", (kind,))
        last = query(f"SELECT published FROM {table} WHERE kind = ? AND published_hi IS NOT NULL "
                     "ORDER BY published_hi DESC, source_key LIMIT 1", (kind,))
        kinds.append(KindCount(kind, n, Dated(first[0][0] if first else None), Dated(last[0][0] if last else None)))
    newest = query(f"SELECT {SELECTED} FROM {table} WHERE published_hi IS NOT NULL "
                   "ORDER BY published_hi DESC, source_key LIMIT 1")
    listed = query(f"SELECT {SELECTED} FROM {table} WHERE document IS NOT NULL "
                   "ORDER BY published_lo, source_key LIMIT ?", (LISTED,))
    documents = sum(row[2] for row in counts)
    return CoverageView(documents, sum(row[1] for row in counts) - documents, kinds,
                        _listed(newest[0]) if newest else None, [_listed(row) for row in listed])
