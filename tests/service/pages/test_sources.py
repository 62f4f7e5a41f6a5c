"""The sources a reader can check: /sources, each document's text with every quote in place, quote links from
event pages, translations beside the words, unchecked sources said so, and "Cite this" in three forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import bibtexparser
import jsonschema
import orjson
import pytest
from lxml import etree
from lxml import html as lxml_html
from pybtex.database import parse_string as pybtex_parse

import events
from events.quotes import normalise
from projections import documents, timeline
from seeds.catalog import event_id_for, load_documents
from service.citations import CHRONOLOGY, UNCHECKED
from service.sources import quote_anchor
from tests.conftest import make_event

ACSA_SIGNED = event_id_for("ifri-pajon-2018/acsa-signed")
THIRD_2PLUS2 = event_id_for("joint-statement-2017-2plus2/2plus2-third-session")
ATOM = "{http://www.w3.org/2005/Atom}"
CSL_DATA_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "csl-data.json"


def html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


class _Marked(HTMLParser):
    """The text inside a page's ``.document-text`` and, per mark id, the characters the quote's marks cover."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside the document's text when > 0
        self.text: list[str] = []
        self.open: list[frozenset[str]] = []
        self.covered: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "div" and "document-text" in (attributes.get("class") or ""):
            self.depth = 1
        elif self.depth and tag == "mark":
            self.open.append(frozenset((attributes.get("data-quotes") or "").split()))
            self.covered.setdefault(attributes.get("id") or "", [])

    def handle_endtag(self, tag):
        if self.depth and tag == "mark":
            self.open.pop()
        elif self.depth and tag == "div":
            self.depth = 0

    def handle_data(self, data):
        if not self.depth:
            return
        self.text.append(data)
        for quote in frozenset().union(*self.open) if self.open else ():
            self.covered.setdefault(quote, []).append(data)


def _marked(page: str) -> _Marked:
    parser = _Marked()
    parser.feed(page)
    return parser


def test_sources_lists_every_seed_document_with_what_a_reader_checks(seeded_app):
    page = html(seeded_app.test_client(), "/sources")
    assert 'href="/sources/new"' in page  # where an editor registers another
    catalogue = load_documents()
    with seeded_app.app_context():
        cited = documents.cited(catalogue)
    for document in catalogue.values():
        meta = document.metadata
        assert f'href="/sources/{document.id}"' in page
        assert lxml_html.fromstring(page).xpath(f'//a[@href="/sources/{document.id}"]')[0].text_content() == \
            meta["title"]
        if meta.get("url"):
            assert f'href="{meta["url"]}"' in page
    tree = lxml_html.fromstring(page)
    cards = tree.xpath('//li[contains(@class, "document-card")]')
    assert len(cards) == len(catalogue) == 5
    for card in cards:
        document = card.xpath(".//h2/a/@href")[0].removeprefix("/sources/")
        words = " ".join(" ".join(card.itertext()).split())
        assert f"Cited by {cited[document]} event" in words and cited[document] > 0
        assert catalogue[document].metadata["kind"] in words
    # What is inferred is marked as such: the 2017 joint statement's title, publisher, date and kind were supplied.
    joint = next(c for c in cards if c.xpath('.//a[@href="/sources/joint-statement-2017-2plus2"]'))
    assert "(title inferred)" in joint.text_content() and joint.text_content().count("(inferred)") >= 2


def test_a_document_page_shows_its_text_byte_for_byte_with_every_seed_quote_marked(seeded_app):
    client = seeded_app.test_client()
    for document in load_documents().values():
        page = html(client, f"/sources/{document.id}")
        marked = _marked(page)
        assert "".join(marked.text) == document.raw  # the text as registered, every character once
        with seeded_app.app_context():
            citing = list(documents.citations(document.id, limit=1000))
        assert citing, document.id
        for citation in citing:
            for index, source in citation.quotes():
                anchor = quote_anchor(citation.fact.event_id, index)
                assert anchor in marked.covered, (document.id, anchor)
                assert normalise("".join(marked.covered[anchor])) == normalise(source["quote"]["exact"])
        listed = re.findall(r'<li><a href="/events/([0-9a-f-]{36})">', page)
        assert listed == [c.fact.event_id for c in citing]  # the events quoting it, in date order


def test_the_events_quoting_a_document_are_listed_in_date_order(seeded_app):
    """The timeline's order: the middle of an uncertain date, the start of a span (``timeline.sort_day``)."""
    with seeded_app.app_context():
        citing = list(documents.citations("ifri-pajon-2018", limit=1000))
        days = [(timeline.sort_day(c.fact.occurred), events.store.find(c.fact.event_id).position) for c in citing]
    assert days == sorted(days) and len({d for d, _ in days}) > 10


def test_an_event_links_each_quote_to_its_place_in_the_document(seeded_app):
    client = seeded_app.test_client()
    page = html(client, f"/events/{ACSA_SIGNED}")
    anchor = quote_anchor(ACSA_SIGNED, 0)
    link = f"/sources/ifri-pajon-2018?event={ACSA_SIGNED}#{anchor}"
    assert f'href="{link}"' in page.replace("&amp;", "&")
    assert "checked against the stored copy" in page and UNCHECKED not in page
    target = html(client, link.split("#")[0])
    assert f'id="{anchor}"' in target
    # The marked passage links back to the event that quotes it.
    assert lxml_html.fromstring(target).xpath(f'//mark[@id="{anchor}"]/a/@href') == [f"/events/{ACSA_SIGNED}"]
    assert "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed" in \
        "".join(_marked(target).covered[anchor])


def test_a_french_quote_shows_its_english_translation_beside_it_marked_as_a_translation(seeded_app):
    client = seeded_app.test_client()
    tree = lxml_html.fromstring(html(client, f"/events/{THIRD_2PLUS2}"))
    quote = tree.xpath('//blockquote[@lang="fr"]')[1]
    translation = quote.getnext()
    assert translation.get("lang") == "en" and "translation" in translation.get("class")
    words = " ".join(translation.text_content().split())
    assert words.startswith("English translation (unofficial), not the source's words:")
    assert "met on 6 January 2017 in Paris for the 3rd session" in words
    assert "met on 6 January" not in quote.text_content()  # never shown as the source's words
    with seeded_app.app_context():
        stream = events.state(THIRD_2PLUS2).original.stream
    feed = etree.fromstring(client.get(f"/subjects/{stream}/feed.atom").data)
    [content] = [e.findtext(f"{ATOM}content") for e in feed.iter(f"{ATOM}entry")
                 if e.find(f"{ATOM}link").get("href").endswith(f"/events/{THIRD_2PLUS2}")]
    entry = lxml_html.fromstring(content)
    shown = [" ".join(p.text_content().split()) for p in entry.xpath('//p[@lang="en"]')]
    assert any(p.startswith("English translation (unofficial), not the source's words: met on 6 January 2017 in "
                            "Paris") for p in shown)


def test_a_source_given_only_by_url_is_marked_unchecked_on_the_page_the_feed_and_in_json(app, client):
    with app.app_context():
        [recorded] = events.append([make_event(sources=[{"url": "https://www.example.org/acsa", "quote": "signed"}])],
                                   author="test")
    page = html(client, f"/events/{recorded.event_id}")
    assert UNCHECKED in page and "checked against the stored copy</span>" not in page
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert "Not checked against a stored copy." in feed
    answer = client.get(f"/api/events/{recorded.event_id}/sources").get_json()
    assert answer["sources"] == [{"url": "https://www.example.org/acsa", "quote": {"type": "TextQuoteSelector",
                                                                                  "exact": "signed"},
                                  "checked": False, "check": UNCHECKED}]
    cited = orjson.loads(client.get(f"/events/{recorded.event_id}/citation.json").data)
    assert cited[1]["note"] == UNCHECKED


def test_a_checked_source_says_where_it_is_in_json(seeded_app):
    answer = seeded_app.test_client().get(f"/api/events/{ACSA_SIGNED}/sources").get_json()
    first = answer["sources"][0]
    assert (first["checked"], first["check"]) == (True, "checked against the stored copy")
    assert first["in_place"] == f"/sources/ifri-pajon-2018?event={ACSA_SIGNED}#{quote_anchor(ACSA_SIGNED, 0)}"


@pytest.fixture(scope="module")
def csl_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(orjson.loads(CSL_DATA_SCHEMA.read_bytes()))


@pytest.mark.parametrize("path", [f"/events/{ACSA_SIGNED}", "/sources/ifri-pajon-2018"])
def test_cite_this_in_three_forms_that_a_reference_manager_reads(seeded_app, csl_validator, path):
    client = seeded_app.test_client()
    page = lxml_html.fromstring(html(client, path))
    cite = page.xpath('//section[@class="cite"]')[0]
    formatted = " ".join(cite.xpath('.//div[@class="csl-entry"]')[0].text_content().split())
    if path.startswith("/events/"):
        assert formatted.startswith(f"{CHRONOLOGY} (") and "Available at:" in formatted and "Accessed:" in formatted
    else:
        assert formatted.startswith("Céline Pajon (2018) A New Japan-France Strategic Partnership")
    bib = client.get(f"{path}/citation.bib")
    assert bib.status_code == 200 and bib.mimetype == "application/x-bibtex"
    assert "max-age=" in bib.headers["Cache-Control"]
    text = bib.get_data(as_text=True)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == [] and library.entries
    parsed = pybtex_parse(text, "bibtex")
    assert list(parsed.entries) == [e.key for e in library.entries]
    csl = client.get(f"{path}/citation.json")
    assert csl.status_code == 200 and csl.mimetype == "application/vnd.citationstyles.csl+json"
    items = orjson.loads(csl.data)
    assert [f"{e.path}: {e.message}" for e in csl_validator.iter_errors(items)] == []
    assert [i["id"] for i in items] == [e.key for e in library.entries]
    if path.startswith("/events/"):
        entry = items[0]
        assert (entry["type"], entry["URL"]) == ("entry", f"http://localhost/events/{ACSA_SIGNED}")
        with seeded_app.app_context():
            assert entry["title"] == events.state(ACSA_SIGNED).current.data["title"]
        assert "accessed" in entry and "issued" in entry
        assert [i["id"] for i in items[1:]] == ["ifri-pajon-2018"]
        assert f"http://localhost/events/{ACSA_SIGNED}" in formatted
    else:
        assert items[0]["id"] == "ifri-pajon-2018" and items[0]["archive_location"] == \
            "http://localhost/sources/ifri-pajon-2018"


def test_an_unknown_document_or_event_is_a_404_that_says_so(seeded_app):
    client = seeded_app.test_client()
    for path in ("/sources/nothing-here", "/sources/nothing-here/citation.bib", "/events/not-a-uuid/citation.json"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert "/sources lists them all" in client.get("/sources/nothing-here").get_data(as_text=True)
