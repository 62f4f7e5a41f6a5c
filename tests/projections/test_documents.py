"""The documents read model: every registered document with how many facts cite it, and its citations in date
order, following corrections and retractions of the facts and of the documents."""

from __future__ import annotations

from collections import Counter

import pytest

import events
import projections
from projections import documents as model
from seeds.catalog import load_entries
from tests.conftest import written_by_an_earlier_version

TEXT = "The ministers met in Paris on 6 January 2017. They agreed to open negotiations on an ACSA."


def registration(document_id: str = "statement", **data: object) -> events.NewEvent:
    return events.NewEvent(f"source/{document_id}", "DocumentRegistered", "2017-01-06",
                           {"title": "Joint statement", "kind": "official", "language": "en", "text": TEXT, **data})


def fact(title: str, occurred: str, *documents: str, stream: str = "meeting/2plus2") -> events.NewEvent:
    sources = [{"document": d, "quote": "met in Paris"} for d in documents] or [
        {"url": "https://example.org", "quote": "words"}]
    return events.NewEvent(stream, "MeetingHeld", occurred, {"title": title}, sources)


def correct(target: events.RecordedEvent, changes: dict) -> events.RecordedEvent:
    return events.append([events.NewEvent(target.stream, "EventCorrected", "2026-12-06",
                                          {"target": target.event_id, "reason": "r", "changes": changes})],
                         author="ada")[0]


def retract(target: events.RecordedEvent) -> events.RecordedEvent:
    return events.append([events.NewEvent(target.stream, "EventRetracted", "2026-12-06",
                                          {"target": target.event_id, "reason": "r"})], author="ada")[0]


def fold() -> None:
    projections.ensure_schema()
    projections.catch_up()


def titles(document_id: str) -> list[str]:
    return [c.fact.title for c in model.citations(document_id, limit=1000)]


def test_the_seed_documents_are_listed_with_how_many_entries_cite_each(seeded):
    listed = model.documents(limit=100)
    assert [d.id for d in listed] == sorted(["ifri-pajon-2018", "news-2017-third-2plus2", "mfa-fr-indo-pacific-2025",
                                             "voa-2023-air-drills", "joint-statement-2017-2plus2"])
    expected = Counter(d for e in load_entries() for d in {s["document"] for s in e.event.sources})
    assert {d.id: d.cited for d in listed} == dict(expected)
    statement = model.document("joint-statement-2017-2plus2")
    assert statement is not None and statement.metadata["language"] == "fr"
    assert "text" not in statement.metadata and len(statement.metadata["sha256"]) == 64
    assert set(statement.inferred) == {"title", "publisher", "occurred", "kind"}
    assert model.document("nowhere") is None


def test_a_documents_citations_come_in_date_order_a_page_at_a_time(log):
    events.append([registration(), fact("third", "2017-01-06", "statement"), fact("first", "2014", "statement"),
                   fact("elsewhere", "2015"), fact("second", "2016-21", "statement", "statement")], author="ada")
    fold()
    assert titles("statement") == ["first", "second", "third"]
    first, second = model.citations("statement", limit=2), None
    assert [c.fact.title for c in first] == ["first", "second"] and first.next_after is not None
    second = model.citations("statement", after=first.next_after, limit=2)
    assert [c.fact.title for c in second] == ["third"] and second.next_after is None
    twice = model.citations("statement", limit=10)[1]
    assert [i for i, _ in twice.quotes()] == [0, 1]  # both of its sources quote the document
    assert model.document("statement").cited == 3
    with pytest.raises(ValueError, match="after: 'x' is not a citation cursor"):
        model.citations("statement", after="x")


def test_corrections_move_citations_and_retractions_remove_them(log):
    events.append([registration(), registration("report")], author="ada")
    moved, dated, gone = events.append([fact("moved", "2017", "statement"), fact("dated", "2016", "statement"),
                                        fact("gone", "2015", "statement")], author="ada")
    correct(moved, {"sources": [{"document": "report", "quote": "They agreed"}]})
    correct(dated, {"occurred": "2019", "data": {"title": "dated again"}})
    retract(gone)
    fold()
    assert titles("statement") == ["dated again"]
    assert titles("report") == ["moved"]
    [citation] = model.citations("report")
    assert citation.quotes() == [(0, {"document": "report", "quote": {"type": "TextQuoteSelector",
                                                                      "exact": "They agreed"}})]
    assert {d.id: d.cited for d in model.documents()} == {"statement": 1, "report": 1}


def test_a_documents_corrections_and_retraction_show_in_its_row(log):
    [document] = events.append([registration()], author="ada")
    correct(document, {"occurred": "2017-01-08", "data": {"title": "Déclaration conjointe",
                                                          "inferred": {"title": "no title line"}}})
    fold()
    row = model.document("statement")
    assert (row.occurred, row.title, row.inferred, row.retracted_at) == (
        "2017-01-08", "Déclaration conjointe", {"title": "no title line"}, None)
    retraction = retract(document)
    fold()
    assert model.document("statement").retracted_at == retraction.position


def test_citations_written_before_the_document_was_registered_are_found_when_it_is(log):
    with written_by_an_earlier_version():
        events.append([fact("older", "2016", "statement")], author="seed")
    fold()
    assert model.document("statement") is None and model.cited(["statement"]) == {"statement": 1}
    events.append([registration()], author="seed")
    fold()
    assert model.document("statement").cited == 1 and titles("statement") == ["older"]


def test_a_rebuild_gives_what_catching_up_gave(log):
    events.append([registration(), registration("report")], author="ada")
    a, b = events.append([fact("a", "2017", "statement", "report"), fact("b", "2016", "report")], author="ada")
    correct(a, {"sources": [{"document": "report", "quote": "They agreed"}]})
    retract(b)
    fold()
    caught_up = projections.get("documents").dump()
    projections.rebuild("documents")
    assert projections.get("documents").dump() == caught_up
    assert titles("report") == ["a"] and titles("statement") == []
