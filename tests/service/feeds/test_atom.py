"""The Atom renderer: every element from the data (never "now"), archive markers and tombstones."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from service.feeds import atom
from service.feeds.atom import AT_NS, ATOM_NS, CHRONOLOGY_NS, FH_NS, Category, Document, Entry, Tombstone

NS = {"a": ATOM_NS, "fh": FH_NS, "at": AT_NS, "chr": CHRONOLOGY_NS}
T1 = datetime(2018, 7, 1, 9, 30, tzinfo=UTC)
T2 = datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC)
ID1 = "11111111-1111-4111-8111-111111111111"
ID2 = "22222222-2222-4222-8222-222222222222"


def entry(id_: str = ID1, updated: datetime = T1, position: int = 1, content: str = "<p>x</p>") -> Entry:
    return Entry(id_, "ACSA signed — July 2018", updated, T1, "France and Japan signed an ACSA.", content,
                 f"https://example.org/events/{id_}",
                 (Category("AgreementSigned", "https://example.org/types/", "The agreement was signed."),
                  Category("agreement/acsa", "https://example.org/subjects/", "agreement/acsa")), position,
                 f"{position:064x}")


def document(entries: list[Entry], **kwargs: object) -> Document:
    return Document(atom.feed_id("log"), "Chronology", "Every change", "https://example.org/feed.atom",
                    "https://example.org/", entries, **kwargs)  # type: ignore[arg-type]


def parse(doc: Document) -> etree._Element:
    return etree.fromstring(atom.render(doc))


def test_entries_carry_their_own_times_ids_links_categories_and_position() -> None:
    root = parse(document([entry(), entry(ID2, T2, 2)]))
    assert root.tag == f"{{{ATOM_NS}}}feed"
    assert root.findtext("a:updated", namespaces=NS) == T2.isoformat()  # the newest entry, not now
    first, second = root.findall("a:entry", NS)  # order='append': the order given
    assert first.findtext("a:id", namespaces=NS) == f"urn:uuid:{ID1}"
    assert first.findtext("a:updated", namespaces=NS) == T1.isoformat()
    assert first.findtext("a:published", namespaces=NS) == T1.isoformat()
    assert first.findtext("a:title", namespaces=NS) == "ACSA signed — July 2018"
    assert first.findtext("chr:position", namespaces=NS) == "1"
    assert first.findtext("chr:hash", namespaces=NS) == f"{1:064x}"
    (link,) = first.findall("a:link", NS)
    assert link.attrib == {"rel": "alternate", "type": "text/html", "href": f"https://example.org/events/{ID1}"}
    terms = [(c.get("term"), c.get("scheme")) for c in first.findall("a:category", NS)]
    assert terms == [("AgreementSigned", "https://example.org/types/"),
                     ("agreement/acsa", "https://example.org/subjects/")]
    assert second.findtext("chr:position", namespaces=NS) == "2"
    assert second.findtext("chr:hash", namespaces=NS) == f"{2:064x}"
    assert root.find("fh:archive", NS) is None


def test_html_content_survives_escaping_exactly() -> None:
    html = '<p>Quote: &quot;a &lt; b&quot; &amp; <em>c</em></p><script>alert(1)</script>'
    root = parse(document([entry(content=html)]))
    content = root.find("a:entry/a:content", NS)
    assert content.get("type") == "html"
    assert content.text == html  # one level of XML escaping, undone by the parser


def test_an_empty_feed_is_dated_from_the_data_not_now() -> None:
    root = parse(document([]))
    assert root.findall("a:entry", NS) == []
    assert root.findtext("a:updated", namespaces=NS) == atom.EMPTY_UPDATED.isoformat()
    assert root.findtext("a:id", namespaces=NS) == atom.feed_id("log")


def test_archive_pages_are_marked_and_linked() -> None:
    links = {"current": "https://example.org/feed.atom", "prev-archive": "https://example.org/feed/archive/1.atom",
             "next-archive": "https://example.org/feed/archive/3.atom"}
    root = parse(document([entry()], links=links, archive=True))
    assert root.find("fh:archive", NS) is not None
    found = {link.get("rel"): link.get("href") for link in root.findall("a:link", NS)}
    assert found == {"self": "https://example.org/feed.atom", "alternate": "https://example.org/", **links}


def test_tombstones_follow_rfc_6721() -> None:
    stone = Tombstone(ID2, T2, "The source was misread.", f"https://example.org/events/{ID2}")
    root = parse(document([entry()], tombstones=[stone]))
    (deleted,) = root.findall("at:deleted-entry", NS)
    assert deleted.get("ref") == f"urn:uuid:{ID2}"
    assert deleted.get("when") == T2.isoformat()
    assert deleted.findtext("at:comment", namespaces=NS) == "The source was misread."
    assert deleted.find("a:link", NS).get("href") == f"https://example.org/events/{ID2}"
    assert root.findtext("a:updated", namespaces=NS) == T2.isoformat()  # a deletion is a change too


def test_feed_ids_are_stable_and_distinct() -> None:
    assert atom.feed_id("log") == atom.feed_id("log")
    assert atom.feed_id("log") != atom.feed_id("subject/agreement/acsa")
    assert atom.feed_id("log").startswith("urn:uuid:")


def test_the_position_and_hash_live_in_a_namespace_the_project_owns() -> None:
    """Gap: they lived on a reserved ``.example`` domain, which no one can own."""
    import uuid

    assert CHRONOLOGY_NS.startswith("urn:uuid:") and uuid.UUID(CHRONOLOGY_NS.removeprefix("urn:uuid:")).version == 5
    root = parse(document([entry()]))
    assert root.nsmap["chr"] == CHRONOLOGY_NS
    assert root.find("a:entry/chr:position", NS).text == "1"
