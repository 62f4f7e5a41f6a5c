"""Another claim about a fact on record: same subject, type and fact key, another source; ranked, not a new fact."""

from __future__ import annotations

import lxml.html

import events
from tests.conftest import csrf_token_of
from tests.service.editing.test_views import head


def seed_event(app, stream: str, type_: str, **data):
    with app.app_context():
        return next(e for e in events.store.stream_page(stream, after_version=0, limit=100)
                    if e.type == type_ and all(e.data.get(k) == v for k, v in data.items()))


def claim_form(client, event_id: str, **fields) -> dict[str, str]:
    page = lxml.html.fromstring(client.get(f"/events/new?claim={event_id}").get_data(as_text=True))
    data = {i.get("name"): i.get("value") or "" for i in page.xpath('//form[@data-typed]//input[@name]')
            if i.get("type") not in ("submit", "checkbox") and i.get("disabled") is None}
    data.update({t.get("name"): (t.text or "").strip() for t in page.xpath('//form[@data-typed]//textarea[@name]')
                 if t.get("disabled") is None})
    data.update({"csrf_token": csrf_token_of(client, f"/events/new?claim={event_id}"), "submit": "Append the event",
                 "sources-0-url": "https://www.mod.go.jp/j/press/news/2018/07/13a.html",
                 "sources-0-quote": "日仏物品役務相互提供協定の署名について", **fields})
    return data


def test_the_claim_form_says_what_it_does_and_holds_subject_type_and_fact(seeded_app, editor_client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    html = editor_client.get(f"/events/new?claim={signed.event_id}").get_data(as_text=True)
    page = lxml.html.fromstring(html)
    assert "another claim" in page.xpath("//h1")[0].text_content()
    assert "sharing the fact key" in html and "correct it" in html
    assert page.xpath('//input[@name="stream"]')[0].get("value") == "agreement/acsa"
    assert page.xpath('//input[@name="type"]')[0].get("value") == "AgreementSigned"
    fact = page.xpath('//input[@name="data-fact"]')[0]
    assert fact.get("readonly") is not None and fact.get("value").endswith(signed.event_id[:8])
    assert page.xpath('//input[@name="data-short"]')[0].get("value") == "ACSA"


def test_a_second_claim_refines_the_fact_instead_of_adding_a_stage(seeded_app, editor_client, client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=claim_form(
        editor_client, signed.event_id, occurred="13 July 2018", title="ACSA signed in Paris", place="Paris"))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert head(seeded_app) == before + 2  # the key added to the first claim, and the second claim
    with seeded_app.app_context():
        first = events.state(signed.event_id)
        second = events.store.find(response.headers["Location"].rsplit("/", 1)[1])
    key = first.current.data["fact"]
    assert second.data["fact"] == key and second.stream == "agreement/acsa" and second.type == "AgreementSigned"
    assert "Another claim about the same fact" in first.revisions[-1].event.data["reason"]
    [acsa] = [a for a in client.get("/api/agreements?as_of=2019-01-01").get_json()["agreements"]
              if a["stream"] == "agreement/acsa"]
    assert [s["type"] for s in acsa["stages"]].count("AgreementSigned") == 1
    [stage] = [s for s in acsa["stages"] if s["type"] == "AgreementSigned"]
    assert stage["disputed"] and len(stage["rivals"]) == 1
    assert acsa["name"] == "ACSA" and acsa["category"] == "treaty"


def test_a_fact_that_already_has_a_key_gets_only_the_new_claim(seeded_app, editor_client):
    issued = seed_event(seeded_app, "meeting/2plus2", "StatementIssued")
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=claim_form(
        editor_client, issued.event_id, occurred="7 January 2017", title="Joint statement published"))
    assert response.status_code == 303 and head(seeded_app) == before + 1
    with seeded_app.app_context():
        second = events.store.find(response.headers["Location"].rsplit("/", 1)[1])
    assert second.data["fact"] == issued.data["fact"] == "2plus2-2017-joint-statement-date"


def test_sending_the_claim_form_twice_records_the_pair_once(seeded_app, editor_client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    data = claim_form(editor_client, signed.event_id, occurred="13 July 2018", title="ACSA signed in Paris")
    before = head(seeded_app)
    assert editor_client.post("/events/new", data=data).status_code == 303
    again = editor_client.post("/events/new", data=data)
    assert again.status_code == 303 and head(seeded_app) == before + 2


def test_a_refused_claim_writes_neither_event(seeded_app, editor_client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=claim_form(
        editor_client, signed.event_id, occurred="13 July 2018", title="ACSA signed", **{"sources-0-quote": ""}))
    assert response.status_code == 400 and head(seeded_app) == before


def test_a_claim_cannot_be_moved_to_another_subject_or_type(seeded_app, editor_client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    response = editor_client.post("/events/new", data=claim_form(
        editor_client, signed.event_id, occurred="2018", title="Elsewhere", stream="agreement/roadmap-2013-2018",
        type="AgreementTerminated", shown_type="AgreementTerminated"))
    assert response.status_code == 303
    with seeded_app.app_context():
        second = events.store.find(response.headers["Location"].rsplit("/", 1)[1])
    assert (second.stream, second.type) == ("agreement/acsa", "AgreementSigned")


def test_event_and_subject_pages_offer_another_claim_to_editors_only(seeded_app, editor_client, client):
    signed = seed_event(seeded_app, "agreement/acsa", "AgreementSigned")
    link = f'href="/events/new?claim={signed.event_id}"'
    for path in (f"/events/{signed.event_id}", "/subjects/agreement/acsa"):
        assert link in editor_client.get(path).get_data(as_text=True)
        assert link not in client.get(path).get_data(as_text=True)


def test_a_claim_about_a_correction_or_an_unknown_event_is_refused(seeded_app, editor_client):
    assert editor_client.get("/events/new?claim=not-an-id").status_code == 404
    assert editor_client.get("/events/new?claim=00000000-0000-4000-8000-000000000000").status_code == 404
