"""Highlights: a document's text as HTML with every quote in <mark>, each character once, each quote's id once."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import yaml

from events.quotes import normalise
from seeds.catalog import SEEDS_DIR, load_documents
from service.highlights import highlight

DOCUMENTS = {d.id: d.raw for d in load_documents().values()}
SEED_QUOTES = [
    (entry["id"], source["document"], source["quote"])
    for path in sorted((SEEDS_DIR / "events").glob("*.yaml"))
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in entry["sources"]
]


class _Marks(HTMLParser):
    """The text of an HTML fragment and, for each character, the quotes its marks name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.owners: list[frozenset[str]] = []
        self.ids: list[str] = []
        self.stack: list[frozenset[str]] = []

    def handle_starttag(self, tag, attrs):
        assert tag == "mark"
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        self.stack.append(frozenset((attributes.get("data-quotes") or "").split()))

    def handle_endtag(self, tag):
        assert tag == "mark"
        self.stack.pop()

    def handle_data(self, data):
        owners = frozenset().union(*self.stack) if self.stack else frozenset()
        self.text.append(data)
        self.owners.extend([owners] * len(data))


def _read(fragment: str) -> _Marks:
    parser = _Marks()
    parser.feed(fragment)
    parser.close()
    assert parser.stack == []
    return parser


def test_highlighting_escapes_the_document_and_marks_each_quote():
    document = "A <b>bold</b> claim & more.\nSecond line: the claim again."
    result = highlight(document, {"q-1": "claim & more. Second", "q-2": {"exact": "the claim"}})
    assert result.missing == []
    assert "<b>" not in result.html and "&lt;b&gt;bold&lt;/b&gt;" in result.html
    marks = _read(result.html)
    assert "".join(marks.text) == document  # every character, line breaks included, once
    assert marks.ids == ["q-1", "q-2"]
    marked = {q: "".join(c for c, o in zip(document, marks.owners, strict=True) if q in o) for q in ("q-1", "q-2")}
    assert marked == {"q-1": "claim & more.\nSecond", "q-2": "the claim"}


def test_overlapping_nested_and_coinciding_quotes_share_marks():
    document = "one two three four five six"
    quotes = {"a": "two three four", "b": "three four five", "c": "three", "d": "two three", "e": "six"}
    result = highlight(document, quotes)
    marks = _read(result.html)
    assert "".join(marks.text) == document
    assert sorted(marks.ids) == sorted(quotes)  # each id exactly once, so #id links work
    for quote_id, quote in quotes.items():
        covered = "".join(c for c, o in zip(document, marks.owners, strict=True) if quote_id in o)
        assert covered == quote
    assert unescape(re.sub("<[^>]+>", "", result.html)) == document


def test_a_quote_not_in_the_document_is_reported_and_not_marked():
    result = highlight("alpha beta", {"ok": "beta", "gone": "gamma"})
    assert result.missing == ["gone"]
    assert _read(result.html).ids == ["ok"]


def test_every_seed_quote_is_highlighted_in_its_document():
    for document, text in DOCUMENTS.items():
        quotes = {f"q{i}": quote for i, (_, d, quote) in enumerate(SEED_QUOTES) if d == document}
        result = highlight(text, quotes)
        assert result.missing == []
        marks = _read(result.html)
        assert "".join(marks.text) == text
        assert sorted(marks.ids) == sorted(quotes)
        for quote_id, quote in quotes.items():
            covered = [i for i, owners in enumerate(marks.owners) if quote_id in owners]
            assert normalise(text[covered[0]:covered[-1] + 1]) == normalise(quote)


def test_a_marked_passage_links_to_the_first_quote_it_belongs_to():
    document = "one two three four"
    result = highlight(document, {"a": "two three", "b": "three four"},
                       links={"a": "/events/a", "b": "/events/b?x=1&y=2"})
    assert "".join(_read_text(result.html)) == document
    assert re.findall(r'<a href="([^"]+)">([^<]*)</a>', result.html) == [
        ("/events/a", "two "), ("/events/a", "three"), ("/events/b?x=1&amp;y=2", " four")]


def _read_text(fragment: str) -> list[str]:
    return [unescape(t) for t in re.split("<[^>]+>", fragment)]
