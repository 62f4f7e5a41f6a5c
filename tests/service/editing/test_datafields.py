"""The form's type-specific fields, from the declaration: shown for the chosen type, typed, and checked."""

from __future__ import annotations

import lxml.html
import pytest

import events
from events import declaration
from service.editing.datafields import DECLARED, OWN_FIELDS
from tests.conftest import csrf_token_of
from tests.service.editing.test_views import descriptions_of, form, head


def page_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def visible_fields(page) -> set[str]:
    """The declared data fields a person sees (and the browser sends): not hidden, not disabled."""
    shown = set()
    for group in page.xpath("//*[@data-types]"):
        if group.get("hidden") is None:
            inputs = group.xpath(".//input | .//select | .//textarea")
            assert inputs and all(i.get("disabled") is None for i in inputs)
            shown.add(inputs[0].get("name").removeprefix("data-"))
        else:
            assert all(i.get("disabled") is not None for i in group.xpath(".//input | .//select | .//textarea"))
    return shown


def declared_fields(type_name: str) -> set[str]:
    return {f.name for f in declaration.form_fields(type_name)} - set(OWN_FIELDS)


def test_every_declared_field_of_every_fact_type_has_an_input_that_names_its_types(seeded_app, editor_client):
    page = page_of(editor_client.get("/events/new"))
    groups = {g.xpath(".//input | .//select | .//textarea")[0].get("name").removeprefix("data-"): g.get("data-types")
              for g in page.xpath("//*[@data-types]")}
    assert set(groups) == set(DECLARED)
    for name in declaration.TYPES:
        if name not in declaration.META_TYPES:
            assert {field for field, types in groups.items() if name in types.split()} == declared_fields(name)


def test_the_form_opens_with_no_type_chosen_and_no_type_fields_shown(seeded_app, editor_client):
    page = page_of(editor_client.get("/events/new"))
    [select] = page.xpath('//select[@name="type"]')
    selected = select.xpath(".//option[@selected]") or select.xpath(".//option")[:1]
    assert selected[0].get("value") == "" and "Choose" in selected[0].text_content()
    assert visible_fields(page) == set()


def test_the_main_button_comes_first_so_enter_submits_the_form(seeded_app, editor_client):
    """A browser submits a form on Enter with its first submit button: it must be the one that appends."""
    for path in ("/events/new", "/events/new?type=MeetingHeld"):
        buttons = page_of(editor_client.get(path)).xpath('//form[@data-typed]//*[@type="submit"]')
        assert [b.get("name") for b in buttons] == ["submit", "preview", "add_source"]


def test_a_link_naming_a_type_opens_with_its_fields(seeded_app, editor_client):
    page = page_of(editor_client.get("/events/new?type=AgreementSigned"))
    assert visible_fields(page) == declared_fields("AgreementSigned")
    assert {"agreement", "short", "category", "parties", "term"} <= visible_fields(page)


def test_without_javascript_choosing_a_type_first_shows_its_fields_and_writes_nothing(seeded_app, editor_client):
    before = head(seeded_app)
    data = form(editor_client, type="MeetingHeld", new_stream="meeting/dialogue-on-space", shown_type="",
                title="First comprehensive dialogue on space")
    response = editor_client.post("/events/new", data=data)
    assert response.status_code == 200 and head(seeded_app) == before
    page = page_of(response)
    assert visible_fields(page) == declared_fields("MeetingHeld")
    assert page.xpath('//input[@name="shown_type"]')[0].get("value") == "MeetingHeld"
    assert "are now shown below" in response.get_data(as_text=True)
    assert page.xpath('//input[@name="title"]')[0].get("value") == "First comprehensive dialogue on space"
    appended = editor_client.post("/events/new", data={**data, "shown_type": "MeetingHeld", "data-session": "1",
                                                       "data-mechanism": "Comprehensive Dialogue on Space"})
    assert appended.status_code == 303 and head(seeded_app) == before + 1


def test_typed_fields_are_recorded_typed(seeded_app, editor_client):
    data = form(editor_client, type="AgreementSigned", new_stream="agreement/rms", occurred="2023",
                title="Reciprocal Access Agreement negotiations concluded",
                **{"data-agreement": "Reciprocal Access Agreement", "data-short": "RAA", "data-category": "treaty",
                   "data-parties": "France\nJapan\n", "data-term": "2023 to 2027", "data-domains": ["land", "air"]})
    response = editor_client.post("/events/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    with seeded_app.app_context():
        recorded = events.store.find(response.headers["Location"].rsplit("/", 1)[1])
    assert recorded.data["parties"] == ["France", "Japan"]
    assert recorded.data["term"] == "2023/2027" and recorded.data["category"] == "treaty"
    assert recorded.data["domains"] == ["air", "land"]
    assert "series" not in recorded.data  # a field of other types is never sent, so never recorded


@pytest.mark.parametrize(("fields", "field_id", "message"), [
    ({"type": "MeetingHeld", "data-session": "three"}, "data-session", "Give a whole number from 1 to 1,000"),
    ({"type": "MeetingHeld", "data-session": "0"}, "data-session", "Give a whole number from 1 to 1,000"),
    ({"type": "AgreementSigned", "data-term": "2018"}, "data-term", "not an EDTF interval"),
    ({"type": "ExercisePlanned", "data-planned_for": ""}, None, "planned_for"),
    ({"type": "ExercisePlanned", "data-planned_for": "13/07/2027"}, "data-planned_for", "write 13 July 2027"),
    ({"type": "AgreementSigned", "data-category": "alliance"}, None, "category"),
])
def test_a_wrong_typed_field_is_refused_at_its_input_and_nothing_is_written(
        seeded_app, editor_client, fields, field_id, message):
    before = head(seeded_app)
    stream = {"MeetingHeld": "meeting/x", "AgreementSigned": "agreement/x", "ExercisePlanned": "exercise/x"}
    response = editor_client.post("/events/new", data=form(editor_client, new_stream=stream[fields["type"]],
                                                          **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was saved" in html
    if field_id:
        assert any(message.lower() in text.lower() for text in descriptions_of(html, field_id)), \
            descriptions_of(html, field_id)
    else:
        assert message in html
    assert 'value="Pégase 2026 air deployment"' in html
    assert head(seeded_app) == before


def test_more_source_rows_than_an_event_takes_is_an_error_not_a_silent_cut(seeded_app, editor_client):
    before = head(seeded_app)
    rows = {f"sources-{i}-{part}": value for i in range(declaration.MAX_SOURCES + 5)
            for part, value in (("url", f"https://example.org/{i}"), ("quote", f"words {i}"), ("document", ""))}
    response = editor_client.post("/events/new", data=form(editor_client, **rows))
    assert response.status_code == 400
    assert f"{declaration.MAX_SOURCES + 5} source rows were sent; an event takes at most {declaration.MAX_SOURCES}" \
        in response.get_data(as_text=True)
    assert head(seeded_app) == before


def test_source_rows_are_numbered_and_one_can_be_added_up_to_the_limit(seeded_app, editor_client):
    page = page_of(editor_client.get("/events/new"))
    labels = [label.text_content() for label in page.xpath("//label[starts-with(@for, 'sources-')]")]
    assert labels[:6] == ["Source 1 — document", "Source 1 — or URL", "Source 1 — verbatim quote",
                          "Source 2 — document", "Source 2 — or URL", "Source 2 — verbatim quote"]
    before = head(seeded_app)
    more = editor_client.post("/events/new", data=form(editor_client, add_source="Add a source row"))
    assert more.status_code == 200 and head(seeded_app) == before
    more_page = page_of(more)
    assert more_page.xpath('//label[@for="sources-3-quote"]')[0].text_content() == "Source 4 — verbatim quote"
    assert more_page.xpath('//input[@name="sources-0-quote"] | //textarea[@name="sources-0-quote"]')[0] \
        .text_content().strip() == "French aircraft arrived at Hyakuri in spring 2026"


def test_every_hint_and_error_is_tied_to_its_input(seeded_app, editor_client):
    response = editor_client.post("/events/new", data=form(editor_client, occurred="13/07/2018", title=""))
    page = page_of(response)
    for hint in page.xpath('//form[@data-typed]//p[contains(@class, "hint") or contains(@class, "field-error")]'
                           '[@id]'):
        owners = page.xpath(f'//*[contains(concat(" ", @aria-describedby, " "), " {hint.get("id")} ")]')
        assert owners, f"nothing is described by {hint.get('id')}: {hint.text_content()[:60]}"


def test_a_stage_appended_without_the_agreements_name_keeps_its_name_category_and_parties(
        seeded_app, editor_client, client):
    data = form(editor_client, type="AgreementEnteredIntoForce", stream="agreement/acsa", new_stream="",
                occurred="2019", title="ACSA entered into force")
    assert editor_client.post("/events/new", data=data).status_code == 303
    [acsa] = [a for a in client.get("/api/agreements?as_of=2020-01-01").get_json()["agreements"]
              if a["stream"] == "agreement/acsa"]
    assert acsa["name"] == "ACSA" and acsa["title"] == "Acquisition and Cross-Servicing Agreement"
    assert acsa["category"] == "treaty" and acsa["parties"] == ["France", "Japan"]
    assert acsa["stages"][-1]["type"] == "AgreementEnteredIntoForce" and acsa["status"] == "in force"


def test_a_correction_shows_and_changes_the_types_own_fields(seeded_app, editor_client):
    with seeded_app.app_context():
        [third] = [e for e in events.store.stream_page("meeting/2plus2", after_version=0, limit=50)
                   if e.type == "MeetingHeld" and e.data.get("session") == 3]
    path = f"/events/{third.event_id}/correct"
    page = page_of(editor_client.get(path))
    assert page.xpath('//input[@name="data-session"]')[0].get("value") == "3"
    assert page.xpath('//input[@name="data-mechanism"]')[0].get("value") == "2+2"
    data = {"csrf_token": csrf_token_of(editor_client, path), "occurred": third.occurred,
            "title": third.data["title"], "summary": "", "participants": "Jean-Marc Ayrault\nJean-Yves Le Drian\n"
            "Fumio Kishida\nTomomi Inada", "place": "Paris", "reason": "Checking the form", "submit": "x",
            "data-session": "4", "data-mechanism": "2+2", "data-level": "ministerial",
            "data-outcomes": "\n".join(third.data["outcomes"])}
    assert editor_client.post(path, data=data).status_code == 303
    with seeded_app.app_context():
        changes = events.state(third.event_id).revisions[-1].event.data["changes"]
    assert changes["data"]["session"] == 4
