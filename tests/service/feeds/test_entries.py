"""Entries from events and read-model changes: titles, escaping, corrections as of their own position."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from lxml import etree

import events
import projections
from events import NewEvent
from events.corrections import Form
from service.feeds.entries import change_entry, event_entries, fact_entry
from tests.conftest import make_event

BASE = "https://chronology.example"


def _html(content: str) -> etree._Element:
    return etree.fromstring(f"<div>{content}</div>", etree.HTMLParser())


def test_a_fact_says_what_and_when_and_quotes_its_sources_escaped(sqlite_log):
    sources = [{"document": "doc", "title": 'A "quoted" <title>', "language": "fr", "url": "https://example.org/?a=1&b=2",
                "quote": {"type": "TextQuoteSelector", "exact": "l'accord <ACSA> & le reste"}}]
    events.append([NewEvent("source/doc", "DocumentRegistered", "2018", {
        "title": "Doc", "kind": "press", "language": "fr", "text": "Enfin, l'accord <ACSA> & le reste."})],
        author="test")
    (event,) = events.append([make_event(occurred="2018-07", title="ACSA signed", sources=sources,
                                         data={"summary": "<script>alert(1)</script>", "place": "Paris"})],
                             author="test")
    entry = fact_entry(event, Form.of(event), updated=event.recorded_at, position=event.position, hash_=event.hash,
                       base=BASE)
    assert entry.title == "ACSA signed — July 2018"
    assert entry.summary == "<script>alert(1)</script>"  # plain text: the XML layer escapes it
    html = _html(entry.content)
    assert html.find(".//script") is None
    assert html.findtext(".//p") == "<script>alert(1)</script>"
    assert html.findall(".//p")[1].text == "July 2018 (2018-07), Paris"
    quote = html.find(".//blockquote")
    assert quote.text == "l'accord <ACSA> & le reste" and quote.get("lang") == "fr"
    assert html.findtext(".//cite") == 'A "quoted" <title>'
    assert html.find(".//a").get("href") == "https://example.org/?a=1&b=2"
    checked = html.findall(".//a")[1]  # the quote was checked against the registered copy: its place is linked
    assert checked.get("href") == f"{BASE}/sources/doc?event={event.event_id}#quote-{event.event_id}-0"
    assert checked.getparent().text == "Checked against the stored copy: "
    assert entry.link == f"{BASE}/events/{event.event_id}"


def test_a_document_registered_says_where_its_text_is_read_without_the_text(sqlite_log):
    text = "Les ministres se sont réunis à Paris."
    (event,) = events.append([NewEvent("source/communique", "DocumentRegistered", "2017-01-06", {
        "title": "Communiqué", "kind": "official", "language": "fr", "publisher": "Ministère",
        "inferred": {"publisher": "the letterhead"}, "text": text})], author="test")
    entry = fact_entry(event, Form.of(event), updated=event.recorded_at, position=event.position, hash_=event.hash,
                       base=BASE)
    words = " ".join(_html(entry.content).xpath("string()").split())
    assert "Document registered: Communiqué." in words and "Publisher: Ministère (inferred)" in words
    assert event.data["sha256"] in words and text not in words
    assert _html(entry.content).findall(".//a")[-1].get("href") == f"{BASE}/sources/communique"


def test_a_correction_republishes_the_form_it_gave_not_a_later_one(sqlite_log):
    (fact,) = events.append([make_event(occurred="2018-05", title="ACSA signed")], author="test")

    def correction(occurred: str) -> NewEvent:
        return NewEvent(fact.stream, "EventCorrected", occurred, {
            "title": "date", "target": fact.event_id, "changes": {"occurred": occurred},
            "reason": f"It was {occurred}."})

    first = events.append([correction("2018-06")], author="test")
    events.append([correction("2018-07")], author="test")
    entries, tombstones = event_entries(first, BASE)
    republished, own = entries
    assert republished.id == fact.event_id and republished.title == "ACSA signed — June 2018"  # not July
    assert republished.updated == first[0].recorded_at and republished.published == fact.recorded_at
    assert (republished.position, republished.hash) == (first[0].position, first[0].hash)
    assert own.id == first[0].event_id and own.title == "Corrected: ACSA signed"
    assert (own.position, own.hash) == (first[0].position, first[0].hash)
    assert "It was 2018-06." in own.summary
    assert tombstones == []


def test_a_retraction_is_a_tombstone_and_an_entry(sqlite_log):
    (fact,) = events.append([make_event(title="ACSA signed")], author="test")
    retraction = events.append([NewEvent(fact.stream, "EventRetracted", "2018-07", {
        "title": "withdrawn", "target": fact.event_id, "reason": "Duplicate."})], author="test")
    entries, (stone,) = event_entries(retraction, BASE)
    assert (stone.ref, stone.when, stone.comment) == (fact.event_id, retraction[0].recorded_at, "Duplicate.")
    assert [e.title for e in entries] == ["Retracted: ACSA signed"]


def test_change_rows_become_entries_with_their_own_ids_and_times_and_their_date_in_the_world():
    moment = datetime(2031, 1, 1, tzinfo=UTC)
    row = SimpleNamespace(id="6f36b215-6966-5ff4-8401-b553426d0cb3", name="Roadmap", change="status",
                          from_status="adopted", to_status="expired", valid="2030", by_term=True, previously=None,
                          effective=date(2031, 1, 1), active="no", reason="expired at the end of 2030, by its term",
                          cause="calendar", event_id="e1", position=7, updated=moment, stream="agreement/roadmap")
    agreements = projections.get("agreements")
    status = agreements.change_of(row)
    entry = change_entry(status, BASE, "agreements", "f" * 64)
    assert (entry.id, entry.updated, entry.position, entry.hash) == (row.id, moment, 7, "f" * 64)
    assert entry.title == "Roadmap: adopted → expired (the end of 2030, by its term)"
    assert [c.term for c in entry.categories] == ["calendar", "agreement/roadmap"]
    text = _html(entry.content).xpath("string()")
    assert "from the calendar" in text
    assert "In the world: the end of 2030, by its term (EDTF 2030, to the year)." in text
    assert "In force from then on: no (expired at the end of 2030, by its term)." in text
    first = SimpleNamespace(**{**vars(row), "from_status": "", "to_status": "signed", "cause": "event",
                               "valid": "2018-07", "by_term": False, "active": "unknown",
                               "reason": "signed in July 2018; entry into force not on record"})
    signed = change_entry(agreements.change_of(first), BASE, "agreements", "f" * 64)
    assert signed.title == "Roadmap: signed (July 2018)"
    assert "In the world: July 2018 (EDTF 2018-07, to the month)." in _html(signed.content).xpath("string()")
    assert "Recorded: 1 January 2031, 00:00 UTC." in _html(signed.content).xpath("string()")
    edition = SimpleNamespace(id="x", title="Pegase", change="corrected", occurred="2023-07", planned_for=None,
                              event_id="e2", position=3, updated=moment, stream="exercise/pegase")
    entry = change_entry(projections.get("exercises").change_of(edition), BASE, "exercises", "e" * 64)
    assert entry.title == "Pegase — July 2023 (corrected)"
    plan = SimpleNamespace(**{**vars(edition), "change": "added", "occurred": "[..2023-12]", "planned_for": "2023"})
    entry = change_entry(projections.get("exercises").change_of(plan), BASE, "exercises", "e" * 64)
    assert entry.title == "Pegase — planned for 2023, announced on or before December 2023"
    assert "Announced: on or before December 2023" in _html(entry.content).xpath("string()")


def test_a_fact_corrected_in_its_own_batch_appears_once_in_its_corrected_form(sqlite_log):
    fact = make_event(title="ACSA signed", occurred="2018-05", event_id="33333333-3333-4333-8333-333333333333")
    batch = events.append([fact, NewEvent(fact.stream, "EventCorrected", "2018-07", {
        "title": "date", "target": fact.event_id, "changes": {"occurred": "2018-07"}, "reason": "July."})],
        author="test")
    entries, _ = event_entries(batch, BASE)
    versions = [e for e in entries if e.id == fact.event_id]
    assert [e.title for e in versions] == ["ACSA signed — July 2018"]
    assert len({(e.id, e.updated) for e in entries}) == len(entries) == 2
