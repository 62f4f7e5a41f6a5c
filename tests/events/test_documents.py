"""Registered documents in the log: registered once with their text byte for byte, never re-written, and the
yardstick every quote naming them is checked against (on both backends)."""

from __future__ import annotations

import hashlib
import io
import unicodedata

import pytest

import events
from events import NewEvent, ValidationError, store
from events.quotes import QuoteNotFound
from events.transfer import export, import_lines
from tests.conftest import make_event, written_by_an_earlier_version

#: A text as an editor might send it: CRLF line ends, trailing spaces, accents, a no-break space.
TEXT = ("Joint statement\r\n\r\nThe ministers met in Paris on 6 January 2017.  \r\n"
        "Ils ont salué les travaux du comité conjoint.\nThe next meeting\u00a0will be held in Tokyo.\n")
QUOTE = "The ministers met in Paris on 6 January 2017."


def registration(document_id: str = "statement-2017", text: str = TEXT, **data: object) -> NewEvent:
    return NewEvent(f"source/{document_id}", "DocumentRegistered", "2017-01-06",
                    {"title": "Joint statement", "kind": "official", "language": "en", "text": text, **data})


def citing(document_id: str = "statement-2017", quote: object = QUOTE, **kwargs: object) -> NewEvent:
    return make_event(stream="meeting/2plus2", type_="MeetingHeld", occurred="2017-01-06", title="2+2 held",
                      sources=[{"document": document_id, "quote": quote}], **kwargs)


def refused(batch: list[NewEvent]) -> ValidationError:
    head = store.head_position()
    with pytest.raises(ValidationError) as caught:
        events.append(batch, author="ada")
    assert store.head_position() == head  # nothing written
    return caught.value


def test_a_document_is_kept_byte_for_byte_with_the_sha256_of_its_text(log):
    [recorded] = events.append([registration()], author="ada")
    assert recorded.data["text"] == TEXT  # CRLF, trailing spaces and the no-break space all kept
    assert recorded.data["sha256"] == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()
    assert events.get(recorded.event_id).data["text"].encode("utf-8") == TEXT.encode("utf-8")


def test_a_sha256_that_is_not_the_texts_is_refused(log):
    error = refused([registration(sha256="0" * 64)])
    assert error.field == "data.sha256"
    assert hashlib.sha256(TEXT.encode()).hexdigest() in error.reason
    [recorded] = events.append([registration(sha256=hashlib.sha256(TEXT.encode()).hexdigest())], author="ada")
    assert recorded.data["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()


@pytest.mark.parametrize(("text", "fragment"), [
    ("   \n\t ", "must not be empty"),
    ("page one\n\fpage two", "line 2 holds U+000C (FORM FEED)"),
    ("Title\n" + unicodedata.normalize("NFD", "comité"), "line 2 is not in Unicode's composed form (NFC)"),
])
def test_a_text_the_log_cannot_keep_is_refused_naming_why(log, text, fragment):
    error = refused([registration(text=text)])
    assert error.field == "data.text" and fragment in error.reason


def test_a_verbatim_quote_of_a_registered_document_is_accepted(log):
    events.append([registration()], author="ada")
    # Any run of whitespace counts as one space; a decomposed accent (typed on macOS) matches the composed text.
    recorded = events.append([citing(quote="The ministers met\nin Paris on 6  January 2017."),
                              citing(quote=unicodedata.normalize("NFD", "Ils ont salué les travaux du comité")),
                              citing(quote="The next meeting will be held in Tokyo")], author="ada")
    assert len(recorded) == 3


def test_a_quote_not_in_the_document_is_refused_with_the_nearest_passage(log):
    events.append([registration()], author="ada")
    error = refused([citing(quote="The ministers met in Tokyo on 6 January 2017.")])
    assert isinstance(error, QuoteNotFound)
    assert error.field == "sources[0].quote"
    assert error.nearest == "The ministers met in Paris on 6 January 2017."
    assert str(error) == ("sources[0].quote: not found in document statement-2017; the nearest passage is: "
                          "'The ministers met in Paris on 6 January 2017.'")


def test_in_a_batch_the_refusal_names_the_event(log):
    events.append([registration()], author="ada")
    error = refused([citing(), citing(quote="They met in Kyoto.")])
    assert (error.index, error.field) == (1, "sources[0].quote")
    assert str(error).startswith("event 1: sources[0].quote: not found in document statement-2017")


def test_a_selector_whose_context_is_not_the_documents_is_refused(log):
    events.append([registration()], author="ada")
    error = refused([citing(quote={"exact": "met in Paris", "prefix": "The presidents "})])
    assert error.field == "sources[0].quote.prefix"
    events.append([citing(quote={"exact": "met in Paris", "prefix": "The ministers ", "suffix": " on 6"})],
                  author="ada")


def test_a_source_naming_a_document_the_log_does_not_hold_is_refused(log):
    error = refused([citing(document_id="nowhere")])
    assert error.field == "sources[0].document"
    assert "no document 'nowhere' is registered" in error.reason and "url" in error.reason


def test_a_source_given_by_url_alone_is_not_checked(log):
    [recorded] = events.append([make_event(sources=[{"url": "https://example.org/a", "quote": "any words"}])],
                               author="ada")
    assert recorded.sources[0]["quote"]["exact"] == "any words"


def test_a_document_and_the_events_quoting_it_can_come_in_one_batch_in_that_order(log):
    recorded = events.append([registration(), citing()], author="ada")
    assert [e.type for e in recorded] == ["DocumentRegistered", "MeetingHeld"]
    error = refused([citing(document_id="later"), registration(document_id="later")])
    assert (error.index, error.field) == (0, "sources[0].document")


def test_a_document_is_registered_once(log):
    events.append([registration()], author="ada")
    error = refused([registration(text="Another text entirely.")])
    assert error.field == "stream" and "already registered" in error.reason


def test_a_correction_may_change_a_documents_metadata_but_never_its_text(log):
    [document] = events.append([registration()], author="ada")

    def correction(changes: dict) -> NewEvent:
        return NewEvent(document.stream, "EventCorrected", "2026-12-06",
                        {"target": document.event_id, "reason": "checked", "changes": changes})

    for field in ("text", "sha256"):
        error = refused([correction({"data": {field: "Another text."}})])
        assert error.field == f"data.changes.data.{field}" and "cannot be corrected" in error.reason
    events.append([correction({"data": {"title": "Déclaration conjointe", "publisher": "Governments"},
                                "occurred": "2017-01-08"})], author="ada")
    assert events.current_form(document.event_id).data["title"] == "Déclaration conjointe"
    assert events.current_form(document.event_id).data["text"] == TEXT


def test_a_retracted_document_can_no_longer_be_cited(log):
    [document] = events.append([registration()], author="ada")
    events.append([citing()], author="ada")
    [retraction] = events.append([NewEvent(document.stream, "EventRetracted", "2026-12-06",
                                           {"target": document.event_id, "reason": "a forgery"})], author="ada")
    error = refused([citing()])
    assert error.field == "sources[0].document" and "retracted" in error.reason
    registered = store.registrations(["statement-2017", "nowhere"])
    assert set(registered) == {"statement-2017"}
    assert (registered["statement-2017"].position, registered["statement-2017"].retracted_at) == (
        document.position, retraction.position)


def test_a_correction_checks_the_sources_it_adds_and_not_those_it_keeps(log):
    with written_by_an_earlier_version():  # before documents: a document named, its quote never checked
        [old] = events.append([citing(document_id="statement-2017", quote="words nobody checked")], author="seed")
    events.append([registration()], author="ada")
    kept = old.sources[0]

    def correction(sources: list) -> NewEvent:
        return NewEvent(old.stream, "EventCorrected", "2026-12-06",
                        {"target": old.event_id, "reason": "a better source", "changes": {"sources": sources}})

    error = refused([correction([kept, {"document": "statement-2017", "quote": "met in Kyoto"}])])
    assert error.field == "data.changes.sources[1].quote" and "met in Paris" in error.reason
    events.append([correction([kept, {"document": "statement-2017", "quote": "met in Paris"}])], author="ada")


def _export() -> bytes:
    out = io.BytesIO()
    export(out)
    return out.getvalue()


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_export_then_import_restores_documents_byte_for_byte(log, request, target):
    pdf_text = "Rapport\n\nLe comité conjoint s’est réuni.\u202f»\n" + "Une ligne de plus.\n" * 2000
    events.append([registration(), registration(document_id="rapport", text=pdf_text, language="fr",
                                                file={"name": "rapport.pdf", "media_type": "application/pdf",
                                                      "size": 48213, "sha256": "a" * 64}),
                   citing()], author="ada")
    exported = _export()
    originals = {e.stream: e.data["text"].encode("utf-8") for e in events.read_all(types=["DocumentRegistered"])}
    url = (f"sqlite:///{request.getfixturevalue('tmp_path') / 'restored.sqlite3'}" if target == "sqlite"
           else request.getfixturevalue("postgres_database")())
    events.connect(url)
    events.create_schema()
    assert import_lines(exported.splitlines()).imported == 3
    restored = {e.stream: e for e in events.read_all(types=["DocumentRegistered"])}
    assert {s: e.data["text"].encode("utf-8") for s, e in restored.items()} == originals
    for event in restored.values():
        assert event.data["sha256"] == hashlib.sha256(event.data["text"].encode("utf-8")).hexdigest()
    assert _export() == exported
    # The restored log checks quotes against the restored texts.
    error = refused([citing(document_id="rapport", quote="Le comité mixte s’est réuni")])
    assert "Le comité conjoint s’est réuni" in error.reason
