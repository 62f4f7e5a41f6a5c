"""The declaration against what exists: the seeds, today's hand-written rules, the vocabulary, and its own
JSON Schema, form fields and README table."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from events import dates, validation
from events import declaration as d
from events.errors import ValidationError
from events.records import NewEvent
from projections import exercises
from seeds.catalog import Entry, load_entries

README = Path(__file__).resolve().parents[2] / "README.md"
#: Where README.md holds the table ``fields_table()`` makes (regenerate it with ``python -m events.declaration``).
FIELDS_START, FIELDS_END = "<!-- fields: start -->", "<!-- fields: end -->"
ENTRIES = load_entries()
TARGET = "6f1c0f36-9a53-4ab4-8c33-8a1b6c2f1d11"



def as_before(event: NewEvent) -> validation.Prepared:
    """The event under the rules a restore still applies: the hand-written ones from before the declaration."""
    return validation.prepare_fields(event.stream, event.type, event.occurred, event.data, event.sources,
                                     event.event_id, new_text=False)


def body(event: NewEvent) -> dict[str, Any]:
    """An event as the API takes it."""
    return {"event_id": event.event_id, "stream": event.stream, "type": event.type, "occurred": event.occurred,
            "data": copy.deepcopy(event.data), "sources": copy.deepcopy(event.sources)}


def refusal(type_name: str, data: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        d.validate_data(type_name, data)
    return caught.value.field, caught.value.reason


# --- the declaration agrees with the project's vocabulary and limits --------------------------------------------


def test_vocabularies_and_limits_are_the_projects() -> None:
    assert d.DOMAINS == exercises.DOMAINS
    assert validation.STREAM_PATTERN.pattern == "^([a-z]+)" + d.STREAM_TAIL
    assert validation.FACT_PATTERN.pattern == d.SLUG_PATTERN
    assert validation.LANGUAGE_PATTERN.pattern == d.LANGUAGE_PATTERN
    for name in ("MAX_TITLE", "MAX_TEXT", "MAX_QUOTE", "MAX_CONTEXT", "MAX_OCCURRED", "MAX_SOURCES"):
        assert getattr(d, name) == getattr(validation, name), name


def test_a_field_means_the_same_in_every_type_that_has_it() -> None:
    """Among facts: a document is not one (its title is the document's own), nor is a correction."""
    seen: dict[str, tuple[object, object, object]] = {}
    for spec in d.TYPES.values():
        if spec.name in d.UNSOURCED_TYPES:
            continue
        for name, info in spec.data.model_fields.items():
            declared = (info.annotation, tuple(map(repr, info.metadata)), info.description)
            assert seen.setdefault(name, declared) == declared, (spec.name, name)


# --- the seeds -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_seed_event_validates_as_under_the_rules_before(entry: Entry) -> None:
    event = entry.event
    before = as_before(event)
    assert d.validate_data(event.type, event.data) == before.data
    assert d.validate_sources(event.sources) == before.sources


def test_every_plan_names_its_planned_date() -> None:
    plans = [e for e in ENTRIES if e.event.type in ("ExercisePlanned", "MeetingPlanned")]
    assert plans and all(isinstance(e.event.data.get("planned_for"), str) for e in plans)


def test_normalised_data_validates_to_itself() -> None:
    for entry in ENTRIES:
        once = d.validate_data(entry.event.type, entry.event.data)
        assert d.validate_data(entry.event.type, once) == once


# --- ill-typed data is refused, the field named and the reason in words ---------------------------------------


@pytest.mark.parametrize(("type_name", "data", "field", "reason"), [
    ("AgreementAdopted", {"term": "2020/garbage"}, "data.term",
     "not an EDTF interval ('2020/garbage'): 'garbage' is not an EDTF date (expected forms like 2017, 2017-01, "
     "2017-01-06, 2017-21)"),
    ("AgreementAdopted", {"term": "2023"}, "data.term",
     "not an EDTF interval ('2023'): give a start and an end, as in 2023/2027 or 2011/.."),
    ("AgreementSigned", {"parties": 5}, "data.parties", "must be a list of names, not 5"),
    ("AgreementSigned", {"parties": ["France", "France"]}, "data.parties", "names 'France' twice"),
    ("AgreementSigned", {"parties": []}, "data.parties", "must not be empty"),
    ("AgreementSigned", {"parties": ["France", " "]}, "data.parties[1]", "must not be empty"),
    ("AgreementSigned", {"category": "pact"}, "data.category",
     "'pact' is not a category (expected: treaty, arrangement, roadmap, plan, partnership, framework)"),
    ("AgreementSigned", {"short": "x" * 301}, "data.short", "is 301 characters long; the limit is 300"),
    ("AgreementSuperseded", {"superseded_by": "exercise/acsa"}, "data.superseded_by",
     "'exercise/acsa' is not an agreement's subject ('agreement/<slug>')"),
    ("MeetingHeld", {"session": "three"}, "data.session", "must be a whole number, not 'three'"),
    ("MeetingHeld", {"session": "3"}, "data.session", "must be a whole number, not '3'"),
    ("MeetingHeld", {"session": True}, "data.session", "must be a whole number, not true"),
    ("MeetingHeld", {"session": 0}, "data.session", "must be at least 1"),
    ("MeetingHeld", {"session": 1001}, "data.session", "must be at most 1000"),
    ("MeetingHeld", {"outcomes": ["the-2plus2"]}, "data.outcomes[0]", "'the-2plus2' is not an event id (a UUID)"),
    ("ExerciseConducted", {"domains": ["underwater"]}, "data.domains[0]",
     "'underwater' is not a domain (expected: maritime, air, land, amphibious, hadr, space, cyber, joint)"),
    ("ExerciseConducted", {"domains": "maritime"}, "data.domains", "must be a list of domains, not 'maritime'"),
    ("ExerciseConducted", {"edition": 16}, "data.edition", "must be text, not 16"),
    ("ExerciseConducted", {"colour": "red"}, "data.colour",
     "unknown field (expected: title, summary, place, participants, fact, name, domains, possibly_same_as, series, "
     "edition, first)"),
    ("ExerciseConducted", {"session": 3}, "data.session",
     "not a field of ExerciseConducted (only of MeetingHeld, MeetingPlanned); expected: title, summary, place, "
     "participants, fact, name, domains, possibly_same_as, series, edition, first"),
    ("ExercisePlanned", {"planned_for": "2017-13"}, "data.planned_for",
     "'2017-13' month 13 does not exist (01-12, or 21-24 for seasons)"),
    ("ExercisePlanned", {"planned_for": "2017-01-06", "first": "x"}, "data.first",
     "not a field of ExercisePlanned (only of ExerciseConducted, TrainingConducted, DeploymentConducted); expected: "
     "title, summary, place, participants, fact, name, domains, possibly_same_as, series, edition, planned_for"),
    ("VisitMade", {"participants": [{"name": "Macron", "role": "chair"}]}, "data.participants[0].role",
     "'chair' is not a role (expected: participant, observer, host, organizer)"),
    ("VisitMade", {"participants": ["Macron", " "]}, "data.participants[1]", "must not be empty"),
    ("VisitMade", {"participants": [5]}, "data.participants[0]",
     "must be a name or an object with name, role and country, not 5"),
    ("VisitMade", {"participants": [{"name": "Macron", "rank": 1}]}, "data.participants[0].rank",
     "unknown field (expected: name, role, country)"),
    ("VisitMade", {"summary": "a\x0cb"}, "data.summary",
     "contains U+000C (FORM FEED), a character XML (and so the Atom feeds) cannot carry; remove it"),
    ("VisitMade", {"fact": "Date of visit"}, "data.fact",
     "'Date of visit' is not a lowercase slug (letters, digits, hyphens)"),
])
def test_ill_typed_data_is_refused_at_its_field(type_name: str, data: dict[str, Any], field: str,
                                                 reason: str) -> None:
    assert refusal(type_name, {"title": "A title", **data}) == (field, reason)


def test_title_and_planned_for_are_required_and_data_is_an_object() -> None:
    assert refusal("VisitMade", {"summary": "s"}) == ("data.title", "is required")
    assert refusal("VisitMade", {"title": "   "}) == ("data.title", "must not be empty")
    assert refusal("MeetingPlanned", {"title": "t"}) == ("data.planned_for", "is required")
    assert refusal("VisitMade", 5) == ("data", "must be a JSON object of fields, not 5")
    assert refusal("Annexation", {}) == ("type", "unknown event type 'Annexation'; the types are listed in README.md")


def test_every_problem_is_reported_first_one_first() -> None:
    with pytest.raises(ValidationError) as caught:
        d.validate_data("MeetingHeld", {"title": "", "session": "three", "colour": 1})
    assert [field for field, _ in caught.value.errors] == ["data.title", "data.session", "data.colour"]
    assert str(caught.value) == "data.title: must not be empty"


def test_data_is_normalised_as_today() -> None:
    data = {"title": "  Third\n 2+2  held ", "summary": "  Two\n\nparagraphs.  ", "participants": ["Ayrault"],
            "place": None}
    assert d.validate_data("MeetingHeld", data) == {
        "title": "Third 2+2 held", "summary": "Two\n\nparagraphs.", "participants": [{"name": "Ayrault"}]}


# --- parity with the hand-written rules from before, on the fields both check -------------------------------------


@pytest.mark.parametrize("data", [
    {"title": "x" * 301},
    {"title": 5},
    {"title": "t", "summary": "s" * 10_001},
    {"title": "t", "participants": "Macron"},
    {"title": "t", "participants": [{"name": "Macron", "role": "chair"}]},
    {"title": "t", "participants": [{"role": "host"}]},
    {"title": "t", "fact": "Not A Slug"},
])
def test_refused_at_the_same_field_as_before(data: dict[str, Any]) -> None:
    event = NewEvent("policy/white-paper", "PolicyPublished", "2013", data, [{"url": "https://x.fr", "quote": "q"}])
    with pytest.raises(ValidationError) as before:
        as_before(event)
    assert refusal("PolicyPublished", data)[0] == before.value.field


# --- sources -------------------------------------------------------------------------------------------------------


def test_a_source_names_a_document_or_a_url_and_quotes() -> None:
    with pytest.raises(ValidationError) as caught:
        d.validate_sources([{"title": "A paper", "quote": "words"}])
    assert (caught.value.field, caught.value.reason) == (
        "sources[0]", "needs a document or a url saying where the quote comes from")
    with pytest.raises(ValidationError) as caught:
        d.validate_sources([{"url": "https://x.fr"}])
    assert (caught.value.field, caught.value.reason) == ("sources[0].quote", "is required")
    with pytest.raises(ValidationError) as caught:
        d.validate_sources([])
    assert (caught.value.field, caught.value.reason) == ("sources", "must not be empty")
    assert d.validate_sources([], required=False) == []


def test_a_source_carries_a_translation_of_its_quote() -> None:
    source = {"document": "joint-statement-2017-2plus2", "language": "fr", "kind": "official",
              "quote": {"exact": "se sont  réunis", "prefix": "ils ", "suffix": " le"},
              "translation": {"text": "met", "language": "en"}}
    assert d.validate_sources([source]) == [{
        "document": "joint-statement-2017-2plus2", "language": "fr", "kind": "official",
        "quote": {"type": "TextQuoteSelector", "exact": "se sont réunis", "prefix": "ils ", "suffix": " le"},
        "translation": {"text": "met", "language": "en"}}]
    with pytest.raises(ValidationError) as caught:
        d.validate_sources([{**source, "translation": {"text": "met"}}])
    assert caught.value.field == "sources[0].translation.language"


@pytest.mark.parametrize(("source", "field", "reason"), [
    ({"url": "ftp://x.fr"}, "sources[0].url", "'ftp://x.fr' is not an http(s) URL"),
    ({"kind": "blog"}, "sources[0].kind",
     "'blog' is not a kind of source (expected: official, press, analysis, other)"),
    ({"language": "French"}, "sources[0].language", "'French' is not a language tag such as 'en' or 'fr'"),
    ({"published": "May 2018"}, "sources[0].published",
     "'May 2018' is not an EDTF date (expected forms like 2017-01-06, 2018-07, 2017-21, 2023/2027, 2011/..)"),
    ({"quote": "q" * 2001}, "sources[0].quote", "is 2001 characters long; the limit is 2000"),
    ({"quote": {"exact": "q" * 2001}}, "sources[0].quote.exact", "is 2001 characters long; the limit is 2000"),
    ({"quote": " \n "}, "sources[0].quote", "must not be empty"),
    ({"quote": 5}, "sources[0].quote", "must be a verbatim quote (a string) or a TextQuoteSelector, not 5"),
    ({"quote": {"type": "RangeSelector", "exact": "q"}}, "sources[0].quote.type",
     "'RangeSelector' is not a selector type (expected: TextQuoteSelector)"),
    ({"translation": "met"}, "sources[0].translation", "must be an object with text, language, not 'met'"),
    ({"pages": 3}, "sources[0].pages", "unknown field (expected: document, url, title, publisher, author, kind, "
                                       "language, published, quote, translation)"),
])
def test_ill_typed_sources_are_refused_at_their_field(source: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        d.validate_sources([{"url": "https://x.fr", "quote": "q", **source}])
    assert (caught.value.field, caught.value.reason) == (field, reason)


# --- corrections and retractions -----------------------------------------------------------------------------------


def test_a_correction_names_its_target_reason_and_changes() -> None:
    data = {"title": "Correction", "target": TARGET.upper(), "reason": "The statement says 6 January.",
            "changes": {"occurred": "2017-01-06", "data": {"summary": None, "session": 3}}}
    assert d.validate_data("EventCorrected", data) == {**data, "target": TARGET}
    assert refusal("EventCorrected", {**data, "changes": {"stream": "meeting/x"}}) == (
        "data.changes.stream", "unknown field (expected: occurred, data, sources)")
    assert refusal("EventCorrected", {**data, "changes": {"occurred": None}}) == (
        "data.changes", "must change at least one of occurred, data, sources")
    assert refusal("EventCorrected", {**data, "changes": {"data": {"colour": "red"}}}) == (
        "data.changes.data", "'colour' is not a data field of any event type")
    assert d.validate_data("EventCorrected", {**data, "changes": {"data": {"amount": None}}})["changes"] == {
        "data": {"amount": None}}  # an old field nobody declares can still be removed
    assert refusal("EventCorrected", {**data, "target": "acsa"}) == (
        "data.target", "'acsa' is not an event id (a UUID)")
    assert refusal("EventRetracted", {"target": TARGET, "reason": " "}) == ("data.reason", "must not be empty")
    assert refusal("EventRetracted", {"target": TARGET, "reason": "r", "changes": {}}) == (
        "data.changes", "unknown field (expected: title, target, reason)")


def test_changes_are_checked_against_the_targets_type() -> None:
    assert d.validate_changes("MeetingHeld", {"session": 4, "summary": None, "place": "  Tokyo "}) == {
        "session": 4, "summary": None, "place": "Tokyo"}
    with pytest.raises(ValidationError) as caught:
        d.validate_changes("MeetingHeld", {"session": "three"})
    assert (caught.value.field, caught.value.reason) == ("data.changes.data.session",
                                                         "must be a whole number, not 'three'")
    with pytest.raises(ValidationError) as caught:
        d.validate_changes("MeetingPlanned", {"planned_for": None})
    assert (caught.value.field, caught.value.reason) == ("data.changes.data.planned_for",
                                                         "cannot be removed: every MeetingPlanned has one")
    with pytest.raises(ValidationError) as caught:
        d.validate_changes("AgreementSigned", {"session": 2})
    assert caught.value.field == "data.changes.data.session"
    assert d.validate_changes("MeetingPlanned", {"planned_for": "2018"}) == {"planned_for": "2018"}


# --- JSON Schema ---------------------------------------------------------------------------------------------------

FORMATS = FormatChecker()


@FORMATS.checks("edtf", raises=dates.InvalidDate)
def _edtf(value: object) -> bool:
    return not isinstance(value, str) or dates.parse(value) is not None


@FORMATS.checks("edtf-interval", raises=dates.InvalidDate)
def _edtf_interval(value: object) -> bool:
    return not isinstance(value, str) or (dates.parse(value) is not None and "/" in value)


def schema_fields(type_name: str, instance: dict[str, Any]) -> set[str]:
    """Every field a JSON Schema validator refuses, as the declaration names fields."""
    validator = Draft202012Validator(d.json_schema(type_name), format_checker=FORMATS)
    found: set[str] = set()

    def visit(error: Any) -> None:
        path = d._path("", error.absolute_path).lstrip(".")
        if error.validator == "required":
            found.update(f"{path}.{n}".lstrip(".") for n in error.validator_value if n not in error.instance)
        elif error.validator == "additionalProperties":
            found.update(f"{path}.{n}".lstrip(".") for n in error.instance if n not in error.schema["properties"])
        else:
            found.add(path)
        for child in error.context or ():
            visit(child)

    for error in validator.iter_errors(instance):
        visit(error)
    return found


@pytest.mark.parametrize("type_name", list(d.TYPES))
def test_each_type_has_a_valid_2020_12_schema(type_name: str) -> None:
    schema = d.json_schema(type_name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["type"]["const"] == type_name
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"stream", "type", "occurred", "data"} | (
        set() if type_name in d.UNSOURCED_TYPES else {"sources"})


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_the_schema_takes_the_seed_events_the_declaration_takes(entry: Entry) -> None:
    assert schema_fields(entry.event.type, body(entry.event)) == set()


SEED = {e.event.type: e.event for e in ENTRIES}


@pytest.mark.parametrize(("type_name", "change"), [
    ("AgreementAdopted", {"term": "2020/garbage"}),
    ("AgreementAdopted", {"term": "2023"}),
    ("AgreementAdopted", {"parties": 5}),
    ("AgreementAdopted", {"parties": ["Japan", "Japan"]}),
    ("AgreementAdopted", {"short": "x" * 301}),
    ("AgreementAdopted", {"colour": "red"}),
    ("MeetingHeld", {"session": "three"}),
    ("MeetingHeld", {"session": 0}),
    ("MeetingHeld", {"outcomes": ["nope"]}),
    ("ExerciseConducted", {"domains": ["underwater"]}),
    ("ExerciseConducted", {"participants": [{"name": "France", "role": "chair"}]}),
    ("ExerciseConducted", {"summary": "a\x0cb"}),
    ("ExerciseConducted", {"title": "   "}),
    ("ExerciseConducted", {"session": 3}),
])
def test_the_schema_refuses_what_the_declaration_refuses_at_the_same_field(type_name: str,
                                                                            change: dict[str, Any]) -> None:
    event = body(SEED[type_name])
    event["data"].update(change)
    field = refusal(type_name, event["data"])[0]
    assert field in {f"{p}" for p in schema_fields(type_name, event)}


def test_the_schema_refuses_bad_sources_and_bodies_as_the_api_does() -> None:
    event = body(SEED["MeetingHeld"])
    assert schema_fields("MeetingHeld", {**event, "sources": [{"document": None, "quote": "q"}]}) >= {"sources[0]"}
    assert "sources" in schema_fields("MeetingHeld", {**event, "sources": []})
    assert "stream" in schema_fields("MeetingHeld", {**event, "stream": "agreement/acsa"})
    assert "occurred" in schema_fields("MeetingHeld", {**event, "occurred": "6 January 2017"})
    assert "type" in schema_fields("MeetingHeld", {**event, "type": "MeetingPlanned"})
    assert "author" in schema_fields("MeetingHeld", {**event, "author": "me"})
    correction = {"stream": event["stream"], "type": "EventCorrected", "occurred": "2017-01-07",
                  "data": {"target": TARGET, "reason": "r", "changes": {"occurred": None}}}
    assert "data.changes" in schema_fields("EventCorrected", correction)
    correction["data"]["changes"] = {"occurred": "2017-01-06"}
    assert schema_fields("EventCorrected", correction) == set()


# --- the form ------------------------------------------------------------------------------------------------------


def fields_of(type_name: str) -> dict[str, d.FormField]:
    return {f.name: f for f in d.form_fields(type_name)}


def test_form_fields_follow_the_type() -> None:
    agreement = fields_of("AgreementSigned")
    assert agreement["category"].widget == "select" and agreement["category"].choices == d.CATEGORIES
    assert agreement["parties"].widget == "textarea" and agreement["parties"].many
    assert agreement["term"].widget == "date" and not agreement["term"].required
    assert agreement["short"].widget == "text" and agreement["short"].max_length == 300
    assert agreement["short"].label == "Short name" and "ACSA" in agreement["short"].help
    assert [f.name for f in d.form_fields("AgreementSigned") if not f.common] == [
        "agreement", "short", "category", "parties", "term"]
    exercise = fields_of("ExerciseConducted")
    assert exercise["domains"].widget == "multiselect" and exercise["domains"].choices == d.DOMAINS
    assert exercise["summary"].widget == "textarea" and exercise["summary"].common
    meeting = fields_of("MeetingHeld")
    assert (meeting["session"].widget, meeting["session"].minimum, meeting["session"].maximum) == ("number", 1, 1000)
    assert meeting["outcomes"].many and "session" not in fields_of("DialogueEstablished")
    plan = fields_of("MeetingPlanned")
    assert plan["planned_for"].widget == "date" and plan["planned_for"].required
    assert fields_of("VisitMade")["participants"].widget == "textarea"
    assert [f.name for f in d.form_fields("EventRetracted")] == ["title", "target", "reason"]


@pytest.mark.parametrize("type_name", list(d.TYPES))
def test_every_form_field_is_labelled_explained_and_renderable(type_name: str) -> None:
    for field in d.form_fields(type_name):
        assert field.widget in d.WIDGETS, field
        assert field.label and field.help, field
        assert bool(field.choices) == (field.widget in ("select", "multiselect")), field


# --- the README's table --------------------------------------------------------------------------------------------


def test_the_readmes_table_of_types_and_fields_is_the_declarations() -> None:
    readme = README.read_text(encoding="utf-8")
    start, end = readme.index(FIELDS_START) + len(FIELDS_START), readme.index(FIELDS_END)
    assert readme[start:end].strip("\n") == d.fields_table().strip("\n")


def test_the_fields_table_names_every_type_and_field() -> None:
    table = d.fields_table()
    for spec in d.TYPES.values():
        assert f"| `{spec.name}` |" in table
        for name in spec.data.model_fields:
            assert f"`{name}`" in table
    assert "| `planned_for` | EDTF date | ExercisePlanned, MeetingPlanned |" in table
