"""Atom documents rendered with feedgen: entries, RFC 5005 archive markers, RFC 6721 tombstones.

Every text is passed through ``xml_safe``: a log written before such text was
refused may hold a character XML 1.0 cannot carry, and one of them would make
the whole document, an immutable archive page included, unwritable.

This module knows nothing of the log or of URLs: ``feeds`` describes a
document (its entries, links and tombstones) and this renders it. Every time
in a document comes from the data: feedgen stamps "now" on anything left
unset, which would make old entries look new to every subscriber.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from events.text import xml_safe

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
AT_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721
#: The project's own namespace for what Atom has no element for: an entry's log position (``chr:position``) and
#: that event's hash (``chr:hash``). A UUID minted for it: no one else can have named anything with it.
CHRONOLOGY_NS = "urn:uuid:3990ec8e-ec75-5bcf-bc38-06b9f2e332a0"
#: Where those elements lived before (a reserved ``.example`` domain): pages saved then still witness the chain.
LEGACY_NAMESPACES = ("https://france-japan-chronology.example/ns/feed",)
#: Every namespace a saved page may carry its claims in, newest first.
CLAIM_NAMESPACES = (CHRONOLOGY_NS, *LEGACY_NAMESPACES)
#: The ``updated`` of a feed with no entries: nothing has happened since the epoch (never "now").
EMPTY_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
FEED_NAMESPACE = uuid.UUID("9a1b6f0e-3b7d-5d2a-9c44-2f9d61d0e7a3")


@dataclass(frozen=True)
class Category:
    term: str
    scheme: str
    label: str


@dataclass(frozen=True)
class Entry:
    """One ``atom:entry``; ``id`` is an event or change UUID (rendered as ``urn:uuid:``)."""

    id: str
    title: str
    updated: datetime
    published: datetime
    summary: str
    content: str  # HTML, already escaped where it quotes data
    link: str
    categories: tuple[Category, ...]
    position: int
    hash: str | None  # of the event at ``position``: every copy of the entry witnesses the chain (None: not in the log)


@dataclass(frozen=True)
class Tombstone:
    """An RFC 6721 ``at:deleted-entry``: the entry ``ref`` was withdrawn at ``when``, for ``comment``."""

    ref: str
    when: datetime
    comment: str
    link: str


@dataclass
class Document:
    """A whole feed document: the subscription document or one archive page."""

    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    entries: list[Entry]
    tombstones: list[Tombstone] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # current, prev-archive, next-archive
    archive: bool = False

    @property
    def updated(self) -> datetime:
        moments = [e.updated for e in self.entries] + [t.when for t in self.tombstones]
        return max(moments) if moments else EMPTY_UPDATED


def feed_id(name: str) -> str:
    """The permanent id of a logical feed: the same for its subscription document and its archives."""
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, name)}"


def urn(value: str) -> str:
    return f"urn:uuid:{value}"


class _History(BaseExtension):
    """Feed-level additions feedgen lacks: ``fh:archive`` and ``at:deleted-entry``."""

    def __init__(self) -> None:
        self.archive = False
        self.tombstones: list[Tombstone] = []

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS, "at": AT_NS, "chr": CHRONOLOGY_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        for stone in self.tombstones:
            deleted = etree.SubElement(feed, f"{{{AT_NS}}}deleted-entry",
                                       ref=urn(stone.ref), when=_stamp(stone.when))
            etree.SubElement(deleted, "link", rel="alternate", type="text/html", href=stone.link)
            comment = etree.SubElement(deleted, f"{{{AT_NS}}}comment")
            comment.text = xml_safe(stone.comment)
        return feed


class _Position(BaseEntryExtension):
    """``chr:position`` and ``chr:hash`` (where the entry stands in the log, and that event's hash) and its link.

    A subscriber's copy of an entry is thereby a copy of the chain's hash at
    that position, kept outside the database: ``chronology verify --against``
    reads it back.

    feedgen 1.0 drops ``rel`` and ``type`` from entry links (a shadowed
    variable), so the link is written here.
    """

    def __init__(self) -> None:
        self.value: int | None = None
        self.hash: str | None = None
        self.link: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"chr": CHRONOLOGY_NS}

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.link is not None:
            etree.SubElement(entry, "link", rel="alternate", type="text/html", href=self.link)
        if self.value is not None:
            etree.SubElement(entry, f"{{{CHRONOLOGY_NS}}}position").text = str(self.value)
        if self.hash is not None:
            etree.SubElement(entry, f"{{{CHRONOLOGY_NS}}}hash").text = self.hash
        return entry


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def render(doc: Document) -> bytes:
    """The document as Atom XML bytes (UTF-8, with an XML declaration)."""
    fg = FeedGenerator()
    fg.register_extension("history", _History, _Position, rss=False)
    fg.id(doc.id)
    fg.title(xml_safe(doc.title))
    fg.subtitle(xml_safe(doc.subtitle))
    fg.updated(doc.updated)
    fg.author(name="France–Japan partnership chronology")
    fg.link(href=doc.self_url, rel="self", type="application/atom+xml")
    fg.link(href=doc.alternate_url, rel="alternate", type="text/html")
    for rel, href in doc.links.items():
        if rel == "hub":
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type="application/atom+xml")
    fg.generator("chronology")
    history: _History = fg.history
    history.archive = doc.archive
    history.tombstones = list(doc.tombstones)
    for item in doc.entries:
        fe = fg.add_entry(order="append")
        fe.id(urn(item.id))
        fe.title(xml_safe(item.title))
        fe.updated(item.updated)
        fe.published(item.published)
        fe.summary(xml_safe(item.summary))
        fe.content(xml_safe(item.content), type="html")
        for c in item.categories:
            if c.label:
                fe.category(term=xml_safe(c.term), scheme=c.scheme, label=xml_safe(c.label))
            else:
                fe.category(term=xml_safe(c.term), scheme=c.scheme)
        fe.history.value = item.position
        fe.history.hash = item.hash
        fe.history.link = item.link
    return fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
