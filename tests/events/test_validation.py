import pytest

import events
from events import NewEvent, UnknownEventType, ValidationError
from events.validation import prepare, prepare_fields

QUOTE = [{"document": "ifri-pajon-2018", "quote": "In July 2018, an acquisition and cross-servicing agreement"}]


def event(**overrides):
    fields = dict(stream="agreement/acsa", type="AgreementSigned", occurred="2018-07",
                  data={"title": "ACSA signed"}, sources=QUOTE)
    fields.update(overrides)
    return NewEvent(**fields)


def error_of(**overrides) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        prepare(event(**overrides))
    return info.value


def test_a_valid_event_is_normalised():
    participants = ["France", {"name": "Japan", "role": "host"}]
    p = prepare(event(data={"title": "  ACSA   signed ", "participants": participants}))
    assert p.data["title"] == "ACSA signed"
    assert p.data["participants"] == [{"name": "France"}, {"name": "Japan", "role": "host"}]
    assert p.sources[0]["quote"] == {"type": "TextQuoteSelector",
                                     "exact": "In July 2018, an acquisition and cross-servicing agreement"}
    assert (p.occurred_lo, p.occurred_hi) == ("2018-07-01", "2018-07-31")
    assert len(p.event_id) == 36


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"occurred": "2017-13-45"}, "occurred", "month 13"),
        ({"occurred": "2018-02-30"}, "occurred", "day 30"),
        ({"occurred": 2018}, "occurred", "EDTF string"),
        ({"data": {}}, "data.title", "required"),
        ({"data": {"title": "   "}}, "data.title", "must not be empty"),
        ({"data": {"title": 5}}, "data.title", "must be text, not 5"),
        ({"data": "ACSA"}, "data", "JSON object"),
        ({"data": {"title": "x", "n": 1}}, "data.n", "unknown field (expected: title, summary,"),
        ({"data": {"title": "x", "participants": [{"name": "Japan", "role": "boss"}]}},
         "data.participants[0].role", "'boss' is not a role (expected: participant, observer, host, organizer)"),
        ({"data": {"title": "x", "participants": [{"name": "Japan", "role": ["host"]}]}},
         "data.participants[0].role", "a list is not a role"),
        ({"sources": []}, "sources", "must not be empty"),
        ({"sources": [{"document": "d", "quote": 42}]}, "sources[0].quote",
         "must be a verbatim quote (a string) or a TextQuoteSelector, not 42"),
        ({"sources": [{"document": "d", "quote": {"exact": ["x"]}}]}, "sources[0].quote.exact",
         "must be a verbatim quote, not a list"),
        ({"sources": [{"document": "d"}]}, "sources[0].quote", "required"),
        ({"sources": [{"quote": "words"}]}, "sources[0]", "document or a url"),
        ({"sources": [{"url": "ftp://x", "quote": "words"}]}, "sources[0].url", "http(s) URL"),
        ({"sources": [{"document": "d", "quote": "x" * 2001}]}, "sources[0].quote", "the limit is 2000"),
        ({"sources": [{"document": "d", "quote": "x", "kind": "blog"}]}, "sources[0].kind",
         "'blog' is not a kind of source (expected: official, press, analysis, other)"),
        ({"sources": [{"document": "d", "quote": "x", "kind": {"a": 1}}]}, "sources[0].kind",
         "an object is not a kind of source"),
        ({"sources": [{"document": "d", "quote": "x", "published": ["2018"]}]}, "sources[0].published",
         "must be an EDTF date, not a list"),
        ({"sources": [{"document": "d", "quote": "x", "published": "2018-13"}]}, "sources[0].published", "13"),
        ({"sources": [{"document": "d", "quote": "x", "colour": "red"}]}, "sources[0].colour", "unknown field"),
        ({"stream": "agreement"}, "stream", "<kind>/<slug>"),
        ({"stream": "treaty/acsa"}, "stream", "unknown subject kind 'treaty'"),
        ({"stream": "agreement/ACSA"}, "stream", "<kind>/<slug>"),
        ({"event_id": "not-a-uuid"}, "event_id", "not a UUID"),
        ({"expected_version": -1}, "expected_version", "non-negative"),
        ({"expected_version": True}, "expected_version", "non-negative"),
    ],
)
def test_bad_input_names_the_field_and_the_reason(overrides, field, fragment):
    error = error_of(**overrides)
    assert error.field == field
    assert fragment in error.reason


def test_unknown_type_is_its_own_error():
    with pytest.raises(UnknownEventType, match="unknown event type 'AgreementSigneded'"):
        prepare(event(type="AgreementSigneded"))


def test_type_must_fit_the_subject_kind():
    with pytest.raises(UnknownEventType, match="does not apply to exercise subjects"):
        prepare(event(stream="exercise/pegase"))


def test_corrections_need_a_target_a_reason_and_changes():
    base = dict(type="EventCorrected", sources=[])
    assert error_of(**base, data={"reason": "typo", "changes": {"occurred": "2018"}}).field == "data.target"
    target = "6b1b7c2e-1111-4111-8111-111111111111"
    assert error_of(**base, data={"target": target, "changes": {"occurred": "2018"}}).field == "data.reason"
    assert error_of(**base, data={"target": target, "reason": "typo", "changes": {}}).field == "data.changes"
    unknown = error_of(**base, data={"target": target, "reason": "r", "changes": {"stream": "x"}})
    assert unknown.field == "data.changes.stream"
    bad_date = error_of(**base, data={"target": target, "reason": "r", "changes": {"occurred": "2018-02-30"}})
    assert bad_date.field == "data.changes.occurred"


def test_from_dict_names_unknown_and_assigned_fields():
    with pytest.raises(ValidationError, match="position: is assigned by the log"):
        NewEvent.from_dict({"stream": "agreement/acsa", "position": 3})
    with pytest.raises(ValidationError, match="colour: is not a field"):
        NewEvent.from_dict({"colour": "red"})
    with pytest.raises(ValidationError, match="occurred: is required"):
        NewEvent.from_dict({"stream": "agreement/acsa", "type": "AgreementSigned", "data": {}})
    with pytest.raises(ValidationError, match="JSON object"):
        NewEvent.from_dict([1, 2])


def test_prepare_fields_gives_what_prepare_gives():
    fields = dict(stream="agreement/acsa", type="AgreementSigned", occurred="2018-07",
                  data={"title": "  ACSA   signed "}, sources=QUOTE, event_id="6b1b7c2e-1111-4111-8111-111111111111")
    assert prepare_fields(fields["stream"], fields["type"], fields["occurred"], fields["data"], fields["sources"],
                          fields["event_id"]) == prepare(NewEvent(**fields))


@pytest.mark.parametrize("stream", ["agreement/acsa", "agreement/ACSA", "treaty/acsa", "agreement", ""])
def test_a_stream_name_gets_the_same_answer_every_time(stream):
    """Accepted names are remembered; a refused one is refused again, for the same reason."""
    answers = []
    for _ in range(3):
        try:
            answers.append(prepare(event(stream=stream)).stream)
        except ValidationError as exc:
            answers.append((exc.field, exc.reason))
    assert answers[0] == answers[1] == answers[2]
    assert (answers[0] == stream) == (stream == "agreement/acsa")


@pytest.mark.parametrize(
    ("overrides", "field", "character"),
    [
        ({"data": {"title": "Pégase\x002024"}}, "data.title", "U+0000"),
        ({"data": {"title": "x", "summary": "a\x0cb"}}, "data.summary", "U+000C"),
        ({"data": {"title": "x", "place": "Brest\ufffe"}}, "data.place", "U+FFFE"),
        ({"data": {"title": "x", "participants": [{"name": "Japan\x1b"}]}}, "data.participants[0].name", "U+001B"),
        ({"data": {"title": "x", "parties": ["France", "Japan\uffff"]}}, "data.parties[1]", "U+FFFF"),
        ({"data": {"title": "x", "place": "Brest\x08"}}, "data.place", "U+0008"),
        ({"sources": [{"document": "d", "quote": "signed\x02in July"}]}, "sources[0].quote", "U+0002"),
        ({"sources": [{"document": "d\x01", "quote": "q"}]}, "sources[0].document", "U+0001"),
    ],
)
def test_text_xml_cannot_carry_is_refused_naming_the_field(overrides, field, character):
    """A form feed pasted from a PDF would make every Atom document holding the entry unwritable."""
    error = error_of(**overrides)
    assert (error.field, character in error.reason, "XML" in error.reason) == (field, True, True)


def test_a_title_or_quote_folds_whitespace_controls_into_spaces():
    prepared = prepare(event(data={"title": "Pégase\x0c2024\x0b"}, sources=[{"document": "d", "quote": "a\x0cb"}]))
    assert (prepared.data["title"], prepared.sources[0]["quote"]["exact"]) == ("Pégase 2024", "a b")


def test_tabs_line_breaks_and_other_scripts_are_text_like_any_other():
    prepared = prepare(event(data={"title": "日仏 2+2 «Paris»", "summary": "line one\nline\ttwo\r\n",
                                   "place": "\\b\\f"}))
    assert prepared.data["summary"] == "line one\nline\ttwo"
    assert prepared.data["place"] == "\\b\\f"  # a backslash and a letter are not a control character


def test_an_edtf_date_longer_than_the_log_holds_is_refused():
    assert error_of(occurred="2017" + " " * 300).reason.startswith("is 304 characters long")


def test_an_edtf_date_the_postgresql_column_could_not_hold_is_refused_on_both_backends(log):
    """A 301-character EDTF set was a 500 on PostgreSQL (varchar(100)) and stored on SQLite."""
    with pytest.raises(ValidationError, match="occurred: is 304 characters long; an EDTF date has at most 100"):
        events.append([event(occurred="[" + "2017, " * 49 + "2018, 20]")], author="t")
    assert events.store.head_position() == 0


def test_an_author_longer_than_the_log_holds_is_refused(log):
    with pytest.raises(ValidationError, match="author: must be at most 200"):
        events.append([event()], author="x" * 201)


@pytest.mark.parametrize(("data", "field", "fragment"), [
    ({"title": "x", "n": float("nan")}, "data.n", "finite"),
    ({"title": "x", "n": 2**70}, "data.n", "64-bit"),
])
def test_a_restore_refuses_values_json_cannot_carry_faithfully(data, field, fragment):
    """An older log's free data fields still pass through a restore, but only as faithful JSON."""
    with pytest.raises(ValidationError) as info:
        prepare_fields("agreement/acsa", "AgreementSigned", "2018-07", data, QUOTE, new_text=False)
    assert (info.value.field, fragment in info.value.reason) == (field, True)
