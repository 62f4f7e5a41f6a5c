"""The editor's forms: append, correct, retract, and the date preview; every refusal writes nothing."""

from __future__ import annotations

import re

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import events
from projections import exercises
from seeds import catalog as seeds
from tests.conftest import csrf_token_of

SCRIPT = "<script>alert(1)</script>"


def head(app) -> int:
    with app.app_context():
        return events.head().position


def form(client, **fields: str) -> dict[str, str]:
    """A valid append form for a new exercise, overriding only ``fields``."""
    data = {
        "csrf_token": csrf_token_of(client, "/events/new"),
        "event_id": "",
        "stream": "",
        "new_stream": "exercise/pegase-2026",
        "type": "ExerciseConducted",
        "occurred": "spring 2026",
        "title": "Pégase 2026 air deployment",
        "summary": "French aircraft flew to Japan.",
        "participants": "French Air and Space Force; participant; France\nJASDF; host; Japan",
        "place": "Hyakuri",
        "sources-0-document": "",
        "sources-0-url": "https://example.org/pegase-2026",
        "sources-0-quote": "French aircraft arrived at Hyakuri in spring 2026",
        "submit": "Append the event",
    }
    data.update(fields)
    data.setdefault("shown_type", data["type"])  # the page showed this type's fields (as after its first step)
    return data


def descriptions_of(html: str, element_id: str) -> list[str]:
    """The texts an input's aria-describedby points at (each must exist): what a screen reader reads with it."""
    page = lxml.html.fromstring(html)
    [element] = page.xpath(f'//*[@id="{element_id}"]')
    texts = []
    for described in element.get("aria-describedby", "").split():
        [target] = page.xpath(f'//*[@id="{described}"]')
        texts.append(target.text_content())
    return texts


def errors_of(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html)


def test_append_lands_on_the_new_event_already_in_the_read_models(seeded_app, editor_client):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client))
    assert response.status_code == 303
    event_id = response.headers["Location"].rsplit("/", 1)[1]
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pégase 2026 air deployment" in page
    assert "spring 2026" in page and "2026-21" in page
    assert "French aircraft arrived at Hyakuri in spring 2026" in page
    assert "The event is recorded." in page and f"<dt>Position</dt><dd>{before + 1} " in page
    with seeded_app.app_context():
        recorded = events.get(event_id)
        assert recorded.author == "ada"
        assert recorded.data["participants"] == [
            {"name": "French Air and Space Force", "role": "participant", "country": "France"},
            {"name": "JASDF", "role": "host", "country": "Japan"},
        ]
        series = exercises.exercises(year=2026)
    assert [e.event_id for s in series for e in s.editions] == [event_id]


def test_a_title_with_markup_is_shown_as_text(seeded_app, editor_client):
    response = editor_client.post("/events/new", data=form(editor_client, title=SCRIPT))
    assert response.status_code == 303
    for path in (response.headers["Location"], "/", "/subjects/exercise/pegase-2026", "/exercises"):
        html = editor_client.get(path).get_data(as_text=True)
        assert SCRIPT not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_missing_csrf_token_is_refused_and_nothing_written(seeded_app, editor_client):
    before = head(seeded_app)
    data = form(editor_client)
    del data["csrf_token"]
    response = editor_client.post("/events/new", data=data)
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    response = editor_client.post("/events/new", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    assert head(seeded_app) == before


def test_not_signed_in_is_sent_to_sign_in_and_nothing_written(seeded_app):
    client = seeded_app.test_client()
    before = head(seeded_app)
    token = csrf_token_of(client, "/sign-in")
    response = client.post("/events/new", data={"csrf_token": token, "title": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert head(seeded_app) == before


@pytest.mark.parametrize("fields, field_id, message", [
    ({"occurred": "30 February 2017"}, "occurred", "day 30 does not exist in February 2017"),
    ({"occurred": "sometime soon"}, "occurred", "is not a date we can read"),
    ({"occurred": ""}, "occurred", "Give the date"),
    ({"new_stream": "battle/somme"}, "new_stream", "Unknown subject kind 'battle'"),
    ({"new_stream": "exercise/Bad Slug"}, "new_stream", "is not kind/slug"),
    ({"new_stream": "agreement/acsa", "type": "AgreementSigned"}, "new_stream", "already exists"),
    ({"stream": "agreement/acsa", "new_stream": ""}, "type", "ExerciseConducted does not apply to agreement"),
    ({"stream": "exercise/nowhere"}, "stream", "There is no subject"),
    ({"sources-0-url": "", "sources-0-quote": ""}, "sources", "at least one source"),
    ({"sources-0-quote": ""}, "sources-0-quote", "Quote the words"),
    ({"sources-0-quote": "word " * 500}, "sources-0-quote", "quote at most 2000"),
    ({"sources-0-url": "ftp://example.org/x"}, "sources-0-url", "is not an http(s) URL"),
    ({"title": ""}, "title", "This field is required."),
    ({"participants": "Japan; admiral"}, "participants", "is not one of"),
    ({"place": "Hyakuri\x01air base"}, "place", "U+0001"),
    ({"sources-0-quote": "signed\x01in July"}, "sources-0-quote", "a character XML (and so the Atom feeds) cannot"),
    ({"occurred": "31 December 9999"}, "occurred", "the chronology records dates in the years 1000-2999"),
    ({"occurred": "13/07/2018"}, "occurred", "write 13 July 2018 or 2018-07-13"),
])
def test_a_refused_form_shows_the_reason_at_the_field_keeps_the_input_and_writes_nothing(
        seeded_app, editor_client, fields, field_id, message):
    before = head(seeded_app)
    data = form(editor_client, **fields)
    response = editor_client.post("/events/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was saved" in html
    assert any(message in e.replace("&#39;", "'") for e in errors_of(html)), errors_of(html)
    if field_id != "sources":
        assert any(message in text.replace("&#39;", "'") for text in descriptions_of(html, field_id))
    assert 'value="Pégase 2026 air deployment"' in html or fields.get("title") == ""
    assert "French aircraft flew to Japan." in html
    assert head(seeded_app) == before


def test_preview_shows_how_the_date_will_be_read_and_writes_nothing(seeded_app, editor_client):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client, occurred="6 January 2017",
                                                           preview="Preview the date", submit=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Read as <strong>6 January 2017</strong> (to the day); EDTF <code>2017-01-06</code>" in html
    assert 'value="6 January 2017"' in html
    assert head(seeded_app) == before


def test_submitting_the_same_form_twice_appends_once(seeded_app, editor_client):
    data = form(editor_client)
    html = editor_client.get("/events/new").get_data(as_text=True)
    data["event_id"] = re.search(r'name="event_id" type="hidden" value="([^"]+)"|id="event_id" name="event_id" '
                                 r'type="hidden" value="([^"]+)"', html).group(0).split('value="')[1].rstrip('"')
    first = editor_client.post("/events/new", data=data)
    before = head(seeded_app)
    second = editor_client.post("/events/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert head(seeded_app) == before
    landed = editor_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already recorded; nothing new was written" in landed


def _appended(editor_client) -> str:
    response = editor_client.post("/events/new", data=form(editor_client))
    return response.headers["Location"]


def test_correction_records_only_what_changed_with_the_reason(seeded_app, editor_client):
    path = _appended(editor_client)
    page = editor_client.get(f"{path}/correct").get_data(as_text=True)
    assert 'value="2026-21"' in page and "JASDF; host; Japan" in page
    data = {"csrf_token": csrf_token_of(editor_client, f"{path}/correct"), "occurred": "May 2026",
            "title": "Pégase 2026 air deployment", "summary": "French aircraft flew to Japan.",
            "participants": "French Air and Space Force; participant; France\nJASDF; host; Japan",
            "place": "Hyakuri", "reason": "The ministry gives the month", "version": "1", "submit": "x"}
    response = editor_client.post(f"{path}/correct", data=data)
    assert response.status_code == 303
    html = editor_client.get(path).get_data(as_text=True)
    assert "May 2026" in html and "Corrected 1 time" in html and "The ministry gives the month" in html
    with seeded_app.app_context():
        state = events.state(path.rsplit("/", 1)[1])
    assert state.revisions[0].event.data["changes"] == {"occurred": "2026-05"}
    assert state.revisions[0].event.author == "ada"


def test_a_correction_that_changes_nothing_is_refused(seeded_app, editor_client):
    path = _appended(editor_client)
    before = head(seeded_app)
    data = {"csrf_token": csrf_token_of(editor_client, f"{path}/correct"), "occurred": "2026-21",
            "title": "Pégase 2026 air deployment", "summary": "French aircraft flew to Japan.",
            "participants": "French Air and Space Force; participant; France\nJASDF; host; Japan",
            "place": "Hyakuri", "reason": "no reason", "submit": "x"}
    response = editor_client.post(f"{path}/correct", data=data)
    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)
    response = editor_client.post(f"{path}/correct", data={**data, "occurred": "2026-02-30", "title": "new"})
    assert "day 30 does not exist" in response.get_data(as_text=True)
    response = editor_client.post(f"{path}/correct", data={**data, "title": "new", "reason": ""})
    assert errors_of(response.get_data(as_text=True)) == ["This field is required."]
    assert head(seeded_app) == before


def test_a_stale_correction_is_refused_as_a_conflict(seeded_app, editor_client):
    path = _appended(editor_client)
    data = {"csrf_token": csrf_token_of(editor_client, f"{path}/correct"), "occurred": "2026-21",
            "title": "Renamed", "reason": "typo", "version": "0", "submit": "x"}
    response = editor_client.post(f"{path}/correct", data=data)
    assert response.status_code == 400
    assert "The subject changed while you were editing (now at version 1)" in response.get_data(as_text=True)


@pytest.mark.parametrize("version", ["²", "", "one", "-1"])
def test_a_version_that_is_not_a_number_is_refused_never_skipped(seeded_app, editor_client, version):
    """A version that did not parse once skipped the concurrency check (and '²' was a 500)."""
    path = _appended(editor_client)
    before = head(seeded_app)
    for action, extra in (("correct", {"occurred": "2026-21", "title": "Renamed"}), ("retract", {})):
        data = {"csrf_token": csrf_token_of(editor_client, f"{path}/{action}"), "reason": "typo", "version": version,
                "submit": "x", **extra}
        response = editor_client.post(f"{path}/{action}", data=data)
        assert response.status_code == 400 and "version: " in response.get_data(as_text=True), action
    assert head(seeded_app) == before


def test_retraction_keeps_the_event_reachable_and_says_so(seeded_app, editor_client):
    path = _appended(editor_client)
    token = csrf_token_of(editor_client, f"{path}/retract")
    response = editor_client.post(f"{path}/retract", data={"csrf_token": token, "reason": ""})
    assert response.status_code == 400
    response = editor_client.post(f"{path}/retract", data={"csrf_token": token, "reason": "Never happened"})
    assert response.status_code == 303
    page = editor_client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Retracted" in html and "Never happened" in html and "Pégase 2026 air deployment" in html
    assert editor_client.get(f"{path}/retract").status_code == 409
    assert editor_client.get(f"{path}/correct").status_code == 409
    with seeded_app.app_context():
        assert exercises.exercises(year=2026) == []


def test_unknown_or_malformed_event_ids_are_404_on_the_forms(editor_client):
    assert editor_client.get("/events/not-a-uuid/correct").status_code == 404
    assert editor_client.get("/events/00000000-0000-4000-8000-000000000000/retract").status_code == 404


def test_date_preview_endpoint(client):
    assert client.get("/dates/preview?text=spring 2017").get_json() == {
        "edtf": "2017-21", "words": "spring 2017", "precision": "to the season"}
    response = client.get("/dates/preview?text=2017-13")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("text: '2017-13'")
    assert client.get("/dates/preview?text=" + "1" * 300).status_code == 400


def test_a_body_over_the_limit_is_413_and_nothing_written(seeded_app, editor_client):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client, summary="x" * 300_000))
    assert response.status_code == 413
    assert "larger than the limit" in response.get_data(as_text=True)
    assert head(seeded_app) == before


FIELDS = ("stream", "new_stream", "type", "occurred", "title", "summary", "participants", "place",
          "sources-0-document", "sources-0-url", "sources-0-quote", "sources-1-quote", "event_id")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(FIELDS), st.one_of(
    st.text(max_size=40),
    st.sampled_from(["agreement/acsa", "exercise/x", "context/", "AgreementSigned", "EventRetracted", "2017-02-30",
                     "spring 2017", "2011/..", "[..2017]", "https://x.org", "a; host; b", "a; b; c; d",
                     "00000000-0000-0000-0000-000000000000", "not-a-uuid", "\x00", "x" * 2100]),
)))
def test_no_form_input_gets_a_server_error(seeded_app, editor_client, values):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client, **values))
    assert response.status_code in (303, 400), response.get_data(as_text=True)[-2000:]
    assert head(seeded_app) == before + (response.status_code == 303)
    path = f"/events/{seeds.event_id_for('ifri-pajon-2018/acsa-signed')}/correct"
    corrected = editor_client.post(path, data={
        "csrf_token": csrf_token_of(editor_client, path), "occurred": values.get("occurred", ""),
        "title": values.get("title", ""), "participants": values.get("participants", ""),
        "reason": values.get("summary", ""), "version": values.get("event_id", "")})
    assert corrected.status_code in (303, 400), corrected.get_data(as_text=True)[-2000:]


def test_a_correction_can_add_the_source_that_supports_it(seeded_app, editor_client):
    path = _appended(editor_client)
    data = {"csrf_token": csrf_token_of(editor_client, f"{path}/correct"), "occurred": "May 2026",
            "title": "Pégase 2026 air deployment", "summary": "French aircraft flew to Japan.",
            "participants": "French Air and Space Force; participant; France\nJASDF; host; Japan",
            "place": "Hyakuri", "reason": "The ministry gives the month", "submit": "x",
            "source-url": "https://example.org/ministry", "source-quote": ""}
    refused = editor_client.post(f"{path}/correct", data=data)
    assert refused.status_code == 400
    assert any("Quote the words" in text for text in descriptions_of(refused.get_data(as_text=True), "source-quote"))
    response = editor_client.post(f"{path}/correct", data={**data, "source-quote": "Pégase arrived in May 2026"})
    assert response.status_code == 303
    html = editor_client.get(path).get_data(as_text=True)
    assert "Pégase arrived in May 2026" in html and "French aircraft arrived at Hyakuri in spring 2026" in html
    with seeded_app.app_context():
        changes = events.state(path.rsplit("/", 1)[1]).revisions[0].event.data["changes"]
    assert changes["occurred"] == "2026-05"
    assert [s.get("url") for s in changes["sources"]] == ["https://example.org/pegase-2026",
                                                          "https://example.org/ministry"]


def test_the_subject_is_typed_with_a_bounded_list_of_the_latest_subjects(seeded_app, editor_client, monkeypatch):
    from service.editing import views as editing

    monkeypatch.setattr(editing, "SUGGESTED", 3)
    page = editor_client.get("/events/new?stream=agreement/acsa").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="stream"[^>]*list="subjects"', page) or \
        re.search(r'<input[^>]*list="subjects"[^>]*id="stream"', page)
    assert 'value="agreement/acsa"' in page and '<select id="stream"' not in page
    offered = re.findall(r'<option value="([^"]+)">', page.split('<datalist id="subjects">')[1].split("</datalist>")[0])
    with seeded_app.app_context():
        latest = list(dict.fromkeys(e.stream for e in events.read(limit=200, descending=True)))[:3]
    assert offered == latest


def test_what_was_typed_brings_the_subjects_that_start_with_it(seeded_app, editor_client, monkeypatch):
    from service.editing import views as editing

    monkeypatch.setattr(editing, "SUGGESTED", 5)
    page = editor_client.post("/events/new", data=form(editor_client, stream="", new_stream="exercise/p", preview="x"))
    html = page.get_data(as_text=True)
    offered = re.findall(r'<option value="([^"]+)">', html.split('<datalist id="subjects">')[1].split("</datalist>")[0])
    with seeded_app.app_context():
        starting = [s for s, _ in events.streams("exercise") if s.startswith("exercise/p")]
    assert starting and offered[:len(starting)] == starting[:5] and len(offered) <= 5


def test_an_existing_subject_typed_with_spaces_is_appended_to(seeded_app, editor_client):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client, stream="  exercise/pegase ", new_stream=""))
    assert response.status_code == 303 and head(seeded_app) == before + 1
    with seeded_app.app_context():
        assert events.read(limit=1, descending=True)[0].stream == "exercise/pegase"
