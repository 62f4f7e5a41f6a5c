"""Citations: CSL-JSON items that validate against the CSL schema, BibTeX that parses back, citeproc-py's formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import bibtexparser
import jsonschema
import orjson
import pytest
import yaml
from pybtex.database import parse_string as pybtex_parse

from events import InvalidDate
from seeds.catalog import SEEDS_DIR as SEEDS
from service.citations import (
    CHRONOLOGY,
    UNCHECKED,
    bibtex,
    csl_date,
    document_item,
    entry_item,
    format_citation,
    source_items,
)

#: The CSL-JSON input schema as the CSL project publishes it (see tests/data/README.md).
CSL_DATA_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "csl-data.json"
EVENT_ID = "4b0c2a8e-5f1d-5a4e-9c3b-2d7e6f8a9b10"
PERMALINK = f"https://chronology.example/events/{EVENT_ID}"
ACSA = "France–Japan Acquisition and Cross-Servicing Agreement (ACSA) signed"
JOINT_TITLE = ("Déclaration conjointe de la 3e session des consultations politico-militaires ministérielles "
               "franco-japonaises («2+2»), Paris, 6 janvier 2017")


@pytest.fixture(scope="module")
def seed_documents() -> dict[str, dict]:
    return {row["id"]: row for row in yaml.safe_load((SEEDS / "documents.yaml").read_text(encoding="utf-8"))}


@pytest.fixture
def entry() -> dict:
    return entry_item(event_id=EVENT_ID, title=ACSA, permalink=PERMALINK,
                      recorded=datetime(2025, 3, 4, 22, 15, tzinfo=UTC), accessed=date(2026, 12, 6),
                      occurred="2018-07")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = orjson.loads(CSL_DATA_SCHEMA.read_bytes())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_an_entry_item_cites_the_recorded_entry_at_its_permalink(entry):
    assert entry["id"] == f"event-{EVENT_ID}"
    assert entry["type"] == "entry"
    assert entry["title"] == ACSA
    assert entry["URL"] == PERMALINK
    assert entry["author"] == [{"literal": CHRONOLOGY}]
    assert entry["issued"] == {"date-parts": [[2025, 3, 4]]}
    assert entry["accessed"] == {"date-parts": [[2026, 12, 6]]}
    assert entry["event-date"] == {"date-parts": [[2018, 7]]}


def test_every_item_validates_against_the_csl_data_schema(entry, seed_documents, validator):
    items = [entry, *(document_item(doc_id, row) for doc_id, row in seed_documents.items()),
             document_item(None, {"url": "https://www.example.org/page?id=1", "title": "A page"})]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(items)]
    assert errors == []


@pytest.mark.parametrize("bad", [
    {"id": "x", "type": "entry", "container_title": "typo for container-title"},
    {"id": "x", "type": "webpage", "issued": {"date-parts": []}},
    {"id": "x", "type": "web-page"},
    {"id": "x", "type": "report", "author": [{"name": "Pajon"}]},
    {"type": "report"},
])
def test_the_schema_refuses_what_csl_json_does_not_allow(bad, validator):
    assert not validator.is_valid([bad])


def test_a_named_author_is_split_only_when_written_family_comma_given():
    split = document_item("d", {"title": "T", "author": "Pajon, Céline; Tsuruoka, Michito"})
    kept = document_item("d", {"title": "T", "author": "Jean-Yves Le Drian"})
    assert split["author"] == [{"family": "Pajon", "given": "Céline"}, {"family": "Tsuruoka", "given": "Michito"}]
    assert kept["author"] == [{"literal": "Jean-Yves Le Drian"}]


def test_without_an_author_the_publisher_is_the_corporate_author(seed_documents):
    item = document_item("joint-statement-2017-2plus2", seed_documents["joint-statement-2017-2plus2"])
    assert item["author"] == [{"literal": "Governments of France and Japan"}]
    assert "publisher" not in item
    assert item["type"] == "document" and item["language"] == "fr" and item["genre"] == "Official document"
    assert item["issued"] == {"date-parts": [[2017, 1, 6]]}


def test_source_items_list_each_document_once_in_order_of_mention(seed_documents):
    sources = [
        {"document": "ifri-pajon-2018", **seed_documents["ifri-pajon-2018"], "quote": {"exact": "a"}},
        {"document": "joint-statement-2017-2plus2", **seed_documents["joint-statement-2017-2plus2"]},
        {"document": "ifri-pajon-2018", **seed_documents["ifri-pajon-2018"], "quote": {"exact": "b"}},
        {"url": "https://www.example.org/a", "title": "Only a URL"},
    ]
    assert [i["id"] for i in source_items(sources)] == [
        "ifri-pajon-2018", "joint-statement-2017-2plus2", document_item(None, {"url": "https://www.example.org/a"})["id"]]


@pytest.mark.parametrize(("edtf", "expected"), [
    ("2017-01-06", {"date-parts": [[2017, 1, 6]]}),
    ("2017-01", {"date-parts": [[2017, 1]]}),
    ("2018", {"date-parts": [[2018]]}),
    ("2023~", {"date-parts": [[2023]], "circa": True}),
    ("2018?", {"date-parts": [[2018]], "circa": True}),
    ("2017-01%", {"date-parts": [[2017, 1]], "circa": True}),
    ("2017-21", {"date-parts": [[2017]], "season": 1}),
    ("2017-24", {"date-parts": [[2017]], "season": 4}),
    ("201X", {"date-parts": [[2010], [2019]]}),
    ("2023/2027", {"date-parts": [[2023], [2027]]}),
    ("2016-12/2017-01~", {"date-parts": [[2016, 12], [2017, 1]], "circa": True}),
    ("2011/..", {"literal": "since 2011"}),
    ("[2012-08..2017-01]", {"literal": "between August 2012 and January 2017"}),
])
def test_edtf_dates_become_csl_dates(edtf, expected, validator):
    assert csl_date(edtf) == expected
    assert validator.is_valid([{"id": "x", "type": "report", "issued": csl_date(edtf)}])


def test_a_date_that_is_not_edtf_is_refused():
    with pytest.raises(InvalidDate, match="2017-13"):
        csl_date("2017-13")


def test_the_formatted_citation_names_the_entry_its_permalink_and_dates(entry, seed_documents):
    sources = [document_item(d, seed_documents[d]) for d in ("ifri-pajon-2018", "joint-statement-2017-2plus2")]
    text, html = format_citation([entry, *sources])
    lines = text.split("\n")
    assert len(lines) == 3
    assert lines[0] == (f"{CHRONOLOGY} (2025) ‘{ACSA}’. Available at: {PERMALINK} (Accessed: 6 December 2026).")
    assert lines[1].startswith("Céline Pajon (2018) A New Japan-France Strategic Partnership: A View from Paris.")
    assert lines[2] == f"Governments of France and Japan (2017) ‘{JOINT_TITLE}’."
    assert html.startswith('<div class="csl-bib-body"><div class="csl-entry">')
    assert html.count('<div class="csl-entry">') == 3
    assert PERMALINK in html and "6 December 2026" in html
    assert "<i>A New Japan-France Strategic Partnership: A View from Paris</i>" in html


def test_french_titles_keep_their_accents_and_guillemets_everywhere(seed_documents):
    item = document_item("joint-statement-2017-2plus2", seed_documents["joint-statement-2017-2plus2"])
    text, html = format_citation([item])
    assert JOINT_TITLE in text and JOINT_TITLE in html
    entry = bibtexparser.parse_string(bibtex(item)).entries[0]
    assert entry["title"] == "{" + JOINT_TITLE + "}"


def test_a_partial_date_is_formatted_at_its_precision(seed_documents):
    text, _ = format_citation([document_item("news-2017-third-2plus2", seed_documents["news-2017-third-2plus2"])])
    assert text == "(2017) ‘France and Japan tighten military links’, January."


def test_markup_in_any_field_is_escaped_in_the_html_once():
    # citeproc-py's HTML formatter passes the item's own text through unescaped.
    item = document_item("d", {"title": "Tom & Jerry <script>alert(1)</script>", "publisher": "Smith & <b>Co</b>",
                               "kind": "analysis", "url": "https://www.example.org/?a=1&b=2"})
    text, html = format_citation([item])
    assert text == ("Smith & <b>Co</b> (no date) Tom & Jerry <script>alert(1)</script>. Analysis. "
                    "Available at: https://www.example.org/?a=1&b=2.")
    assert "<script>" not in html and "<b>" not in html and "&amp;amp;" not in html
    assert "Smith &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert "<i>Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt;</i>" in html
    assert "https://www.example.org/?a=1&amp;b=2" in html


def test_the_bibtex_parses_back_with_bibtexparser(entry, seed_documents):
    ifri = document_item("ifri-pajon-2018", seed_documents["ifri-pajon-2018"])
    library = bibtexparser.parse_string(bibtex(entry, ifri))
    assert library.failed_blocks == []
    first, second = library.entries
    assert (first.entry_type, first.key) == ("misc", f"event-{EVENT_ID}")
    assert first["title"] == "{" + ACSA + "}"
    assert first["author"] == "{" + CHRONOLOGY + "}"
    assert (first["url"], first["urldate"], first["year"], first["date"]) == (PERMALINK, "2026-12-06", "2025",
                                                                              "2025-03-04")
    assert (second.entry_type, second.key) == ("techreport", "ifri-pajon-2018")
    assert second["institution"] == seed_documents["ifri-pajon-2018"]["publisher"]
    assert (second["year"], second["date"], second["langid"]) == ("2018", "2018-11-16", "english")


def test_the_bibtex_reads_as_bibtex_does_with_pybtex(entry):
    item = document_item("pajon", {"title": "T", "author": "Pajon, Céline; Ifri & Co", "published": "2023~",
                                   "url": "https://www.example.org/a_b%20c", "kind": "analysis"})
    data = pybtex_parse(bibtex(entry, item), "bibtex")
    corporate = data.entries[f"event-{EVENT_ID}"].persons["author"]
    assert [p.last_names for p in corporate] == [["{" + CHRONOLOGY + "}"]]  # one name, not split
    people = data.entries["pajon"].persons["author"]
    assert [(p.last_names, p.first_names) for p in people] == [(["Pajon"], ["Céline"]), ([r"{Ifri \& Co}"], [])]
    fields = data.entries["pajon"].fields
    assert (fields["date"], fields["url"]) == ("2023~", "https://www.example.org/a_b%20c")


def test_latex_special_characters_are_escaped_and_the_file_still_parses():
    item = {"id": "odd key, with spaces", "type": "report", "title": r"R&D {50%} costs_1 $5 #2 ~a ^b \c",
            "URL": "https://www.example.org/{x}"}
    text = bibtex(item)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    entry = library.entries[0]
    assert entry.key == "odd-key--with-spaces"
    assert entry["title"] == (r"{R\&D \textbraceleft{}50\%\textbraceright{} costs\_1 \$5 \#2 \textasciitilde{}a "
                              r"\textasciicircum{}b \textbackslash{}c}")
    assert entry["url"] == "https://www.example.org/%7Bx%7D"
    assert list(pybtex_parse(text, "bibtex").entries) == ["odd-key--with-spaces"]


def test_a_source_not_checked_against_a_stored_copy_says_so_in_its_note(seed_documents, validator):
    sources = [{"url": "https://www.example.org/a", "title": "Only a URL", "quote": {"exact": "a"}},
               {"document": "ifri-pajon-2018", "quote": {"exact": "b"}}]
    registered = {"ifri-pajon-2018": seed_documents["ifri-pajon-2018"]}
    unchecked, checked = source_items(sources, registered=registered, checked=[False, True])
    assert unchecked["note"] == UNCHECKED and UNCHECKED not in checked.get("note", "")
    assert checked["title"] == seed_documents["ifri-pajon-2018"]["title"]  # described by its registration
    assert validator.is_valid([unchecked, checked])
