"""The read-model pages: agreements on a date and as once recorded, exercises filtered, meetings, the timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import events
import projections
from tests.conftest import make_event, written_by_an_earlier_version


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def card(html: str, anchor: str) -> str:
    """The card of one agreement or mechanism (its section)."""
    match = re.search(rf'<section class="card [a-z]+" id="{anchor}">(.*?)</section>', html, re.S)
    assert match, anchor
    return match.group(1)


def test_agreements_status_depends_on_as_of(seeded_app):
    client = seeded_app.test_client()
    before = card(page(client, "/agreements?as_of=2016-06-01"), "agreement-defence-equipment-transfer")
    after = card(page(client, "/agreements?as_of=2017-01-01"), "agreement-defence-equipment-transfer")
    assert 'class="badge no"' in before and "not yet concluded" in before
    assert 'class="badge yes"' in after and "in force" in after
    assert "1 December 2016" in after and "to the day" in after
    assert "2016-12-01" not in after  # dates in words on reader pages; the EDTF is on the event's page


def test_agreements_say_possibly_when_a_vague_date_straddles_the_day(seeded_app):
    html = card(page(seeded_app.test_client(), "/agreements?as_of=2019-06-01"),
                "agreement-eu-japan-connectivity-partnership")
    assert 'class="badge possibly"' in html and "possibly in force" in html
    assert "to the year" in html


def test_agreements_say_unknown_with_the_reason_where_the_record_is_silent(seeded_app):
    html = card(page(seeded_app.test_client(), "/agreements?as_of=2020-01-01"), "agreement-acsa")
    assert 'class="badge unknown"' in html and "in force? not on record" in html and "not in force" not in html
    assert "Why: signed in July 2018; entry into force not on record." in html
    assert "On record: under negotiation (6 January 2017) → signed (July 2018)." in html
    ended = card(page(seeded_app.test_client(), "/agreements?as_of=2019-01-01"), "agreement-roadmap-2013-2018")
    assert 'class="badge no"' in ended and "expired since the end of 2018" in ended
    assert "Why: expired at the end of 2018, by its term." in ended and "7 June 2013 (by its term)" not in ended


def test_agreements_show_every_stage_with_its_sources(seeded_app):
    html = card(page(seeded_app.test_client(), "/agreements"), "agreement-acsa")
    assert "signed" in html and "July 2018" in html and "under negotiation" in html
    assert html.index("under negotiation") < html.index("<strong>signed</strong>")  # first stage first
    assert "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed" in html
    assert 'href="/subjects/agreement/acsa"' in html


def test_agreements_as_the_record_stood_then(app):
    with app.app_context():
        projections.catch_up()
        events.append([make_event(stream="agreement/test-pact", occurred="2018-07-01",
                                  data={"agreement": "Test pact"})], author="seed")
        projections.catch_up()
    client = app.test_client()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert "Test pact" in page(client, "/agreements?as_of=2019-01-01")
    then = page(client, f"/agreements?as_of=2019-01-01&known_at={yesterday}")
    assert "Test pact" not in then and "No agreement was on record at that time" in then
    assert f'value="{yesterday}"' in then


@pytest.mark.parametrize("query, message", [
    ("as_of=yesterday", "as_of: &#39;yesterday&#39; is not a date"),
    ("as_of=2019-02-30", "as_of: &#39;2019-02-30&#39; is not a date"),
    ("known_at=soon", "known_at: &#39;soon&#39; is not a date or time"),
])
def test_bad_agreement_parameters_are_400_pages_naming_them(client, query, message):
    assert message in page(client, f"/agreements?{query}", 400)


def test_agreements_page_links_its_feed_when_served(client):
    html = page(client, "/agreements")
    served = client.get("/agreements/feed.atom").status_code == 200
    assert ('href="/agreements/feed.atom"' in html) == served


def test_exercises_filter_by_year_domain_and_participant(seeded_app):
    client = seeded_app.test_client()
    everything = page(client, "/exercises")
    assert "Pegase" in everything and "Croix du Sud" in everything
    in_2023 = page(client, "/exercises?year=2023")
    assert "Pegase" in in_2023 and "Croix du Sud" not in in_2023
    air = page(client, "/exercises?domain=air")
    assert "Pegase" in air and "Brunet-Takamori" not in air
    uk = page(client, "/exercises?participant=united+kingdom")
    assert "Jeanne d&#39;Arc" in uk and "Pegase" not in uk
    assert "No exercise matches in 2100" in page(client, "/exercises?year=2100")
    assert "Iron Fist" in page(client, "/exercises?year=1990")  # "on or before 6 January 2017" may be 1990


@pytest.mark.parametrize("query, message", [
    ("year=twenty", "year: &#39;twenty&#39; is not a year"),
    ("year=99999", "year: &#39;99999&#39; is not a year"),
    ("year=²", "year: &#39;²&#39; is not a year"),
    ("year=٢٠١٧", "year: &#39;٢٠١٧&#39; is not a year"),
    ("domain=bogus", "domain: &#39;bogus&#39; is not a domain"),
    ("participant=" + "x" * 101, "participant: at most 100 characters"),
])
def test_bad_exercise_filters_are_400_pages(client, query, message):
    assert message in page(client, f"/exercises?{query}", 400)


def test_meetings_show_sessions_and_the_next_plan_with_both_dates_and_no_verdict(seeded_app):
    html = page(seeded_app.test_client(), "/meetings")
    two_plus_two = card(html, "meeting-2plus2")
    assert "2 sessions on record" in two_plus_two
    assert "no later session on record (planned for 2018)" in two_plus_two
    assert "planned for 2018" in two_plus_two and "(announced 6 January 2017)" in two_plus_two
    assert "<strong>Next:</strong>" in two_plus_two
    assert "overdue" not in html.lower()
    assert "No session announced." in card(html, "meeting-france-japan-summit")


def test_timeline_draws_every_entry_and_lists_it(seeded_app):
    client = seeded_app.test_client()
    html = page(client, "/timeline")
    with seeded_app.app_context():
        entries = projections.timeline.entries(limit=1000)
    picture = html[html.index("<svg"):html.index("</svg>")]
    listing = html[html.index('id="timeline-list"'):]
    for entry in entries:
        assert f'href="/events/{entry.event_id}"' in listing
        if entry.lo or entry.hi:
            assert f'<a href="/events/{entry.event_id}" aria-label="' in picture  # named, for focus
    for lane in ("Agreements", "Exercises", "Meetings", "Dialogues set up"):
        assert lane in picture
    exercise_only = page(client, "/timeline?kind=exercise")
    assert "Pegase" in exercise_only and "ACSA" not in exercise_only


def test_timeline_pages_with_a_cursor(seeded_app, monkeypatch):
    from service.pages import readmodels

    monkeypatch.setattr(readmodels, "TIMELINE_PAGE", 5)
    client = seeded_app.test_client()
    first = page(client, "/timeline")
    cursor = re.search(r'href="/timeline\?after=([0-9.]+)" rel="next"', first).group(1)
    second = page(client, f"/timeline?after={cursor}")

    def ids(html: str) -> list[str]:
        return re.findall(r'href="/events/([0-9a-f-]+)"', html[html.index('id="timeline-list"'):])

    assert len(ids(first)) == 5 and len(ids(second)) == 5
    assert not set(ids(first)) & set(ids(second))


@pytest.mark.parametrize("query, message", [
    ("kind=battles", "kind: &#39;battles&#39; is not a lane"),
    ("after=yesterday", "after: must be the &#39;cursor&#39; of a timeline row"),
])
def test_bad_timeline_parameters_are_400_pages(client, query, message):
    assert message in page(client, f"/timeline?{query}", 400)


def test_agreements_page_a_keyset_at_a_time(seeded_app, monkeypatch):
    from service.pages import readmodels

    monkeypatch.setattr(readmodels, "AGREEMENTS_PAGE", 4)
    client = seeded_app.test_client()
    seen, path = [], "/agreements?as_of=2019-01-01"
    while path:
        html = page(client, path)
        assert "on this page" in html and 'value="2019-01-01"' in html
        seen += re.findall(r'<section class="card agreement" id="([^"]+)"', html)
        more = re.search(r'<a href="(/agreements\?[^"]+)" rel="next">', html)
        path = more.group(1).replace("&amp;", "&") if more else None
    with seeded_app.app_context():
        every = [a.stream.replace("/", "-") for a in projections.agreements.agreements(datetime.now(UTC).date())]
    assert seen == every and len(seen) > 4


def test_agreements_after_an_unknown_agreement_is_400(client):
    assert "after: &#39;agreement/none&#39; is not an agreement on record" in page(
        client, "/agreements?after=agreement/none", 400)


def follow(client, path, pattern):
    """Every id matching ``pattern`` on every page, following rel=next links from ``path``."""
    seen, pages = [], []
    while path:
        html = page(client, path)
        pages.append(html)
        seen += re.findall(pattern, html)
        more = re.search(r'<a href="([^"]+)" rel="next">', html)
        path = more.group(1).replace("&amp;", "&") if more else None
    return seen, pages


def test_exercises_page_a_keyset_at_a_time_keeping_the_filters(seeded_app, monkeypatch):
    from service.pages import readmodels

    client = seeded_app.test_client()
    whole = re.findall(r'<h2><a href="/subjects/(exercise/[^"]+)">', page(client, "/exercises"))
    assert len(whole) > 3 and 'rel="next"' not in page(client, "/exercises")
    monkeypatch.setattr(readmodels, "EXERCISES_PAGE", 2)
    seen, pages = follow(client, "/exercises", r'<h2><a href="/subjects/(exercise/[^"]+)">')
    assert seen == whole and len(pages) == (len(whole) + 1) // 2
    assert "on this page" in pages[0] and 'href="/exercises">First page</a>' in pages[1]
    air = re.findall(r'<h2><a href="/subjects/(exercise/[^"]+)">', page(client, "/exercises?domain=air"))
    monkeypatch.setattr(readmodels, "EXERCISES_PAGE", 1)
    seen, pages = follow(client, "/exercises?domain=air", r'<h2><a href="/subjects/(exercise/[^"]+)">')
    assert seen == air and len(pages) == len(air) > 1
    assert all('<option selected>air</option>' in html for html in pages)
    assert 'href="/exercises?domain=air">First page</a>' in pages[-1]


def test_meetings_page_a_keyset_at_a_time(seeded_app, monkeypatch):
    from service.pages import readmodels

    client = seeded_app.test_client()
    whole = re.findall(r'<section class="card mechanism" id="([^"]+)"', page(client, "/meetings"))
    monkeypatch.setattr(readmodels, "MEETINGS_PAGE", 2)
    seen, pages = follow(client, "/meetings", r'<section class="card mechanism" id="([^"]+)"')
    assert seen == whole and len(pages) > 1 and 'href="/meetings">First page</a>' in pages[-1]


@pytest.mark.parametrize("path, message", [
    ("/exercises?after=meeting/2plus2", "after: &#39;meeting/2plus2&#39; is not a subject of kind exercise"),
    ("/meetings?after=exercise/pegase", "after: &#39;exercise/pegase&#39; is not a subject of kind meeting"),
])
def test_a_cursor_of_another_kind_is_400(client, path, message):
    assert message in page(client, path, 400)


def _agreement_stage(stream: str, title: str, **data) -> events.NewEvent:
    return make_event(stream=stream, type_="AgreementSigned", occurred="2020-03", title=title, data=data,
                      sources=[{"url": "https://example.org/agreement", "quote": "signed in March 2020"}])


def test_an_agreement_event_no_fold_can_read_is_set_aside_and_every_later_agreement_still_shows(seeded_app):
    """A term like 2020/garbage, written before the rules refused it, once stopped the agreements view for good."""
    client = seeded_app.test_client()
    with seeded_app.app_context(), written_by_an_earlier_version():
        [bad] = events.append([_agreement_stage("agreement/broken", "Broken term", term="2020/garbage")],
                              author="old version")
        [later] = events.append([_agreement_stage("agreement/later", "A later agreement")], author="editor")
        projections.catch_up()
    listing = client.get("/api/agreements?limit=1000").get_json()["agreements"]
    assert "agreement/later" in {a["stream"] for a in listing}
    assert "agreement/broken" not in {a["stream"] for a in listing}
    assert f"<chr:position>{later.position}</chr:position>" in page(client, "/agreements/feed.atom")
    status = client.get("/api/status").get_json()
    assert [(s["position"], s["read_model"]) for s in status["set_aside"]] == [(bad.position, "agreements")]
    assert "garbage" in status["set_aside"][0]["error"]
    assert "Not reflected in every view" in page(client, f"/events/{bad.event_id}")
    assert "could not fold" in page(client, "/status")
    with seeded_app.app_context():
        events.append([events.NewEvent("agreement/broken", "EventCorrected", "2026", {
            "target": bad.event_id, "reason": "the term was garbled", "changes": {"data": {"term": "2020/2025"}}})],
            author="editor")
        projections.catch_up()
    listing = client.get("/api/agreements?limit=1000&as_of=2021-01-01").get_json()["agreements"]
    assert {a["stream"]: a["term"] for a in listing}["agreement/broken"] == "2020/2025"
    assert client.get("/api/status").get_json()["set_aside"] == []
    assert "Not reflected" not in page(client, f"/events/{bad.event_id}")


def test_parties_that_are_not_a_list_do_not_break_the_agreements_page(seeded_app):
    client = seeded_app.test_client()
    with seeded_app.app_context(), written_by_an_earlier_version():
        events.append([_agreement_stage("agreement/odd-parties", "Odd parties", parties=5, category=["x"])],
                      author="old version")
        projections.catch_up()
    assert "agreement-odd-parties" in page(client, "/agreements?limit=1000")  # its card renders
    [odd] = [a for a in client.get("/api/agreements?limit=1000").get_json()["agreements"]
             if a["stream"] == "agreement/odd-parties"]
    assert (odd["parties"], odd["category"]) == ([], None)


@pytest.mark.parametrize("path", ["/", "/agreements", "/exercises", "/meetings", "/timeline"])
def test_the_home_and_every_read_model_page_say_what_the_record_is_drawn_from(seeded_app, path):
    from projections import coverage
    from seeds.catalog import load_documents

    html = page(seeded_app.test_client(), path)
    with seeded_app.app_context():
        statement = coverage.coverage().statement
    assert "What the record covers." in html
    assert f"The record is drawn from {len(load_documents())} documents: " in html
    assert "a fact missing from it is not known not to have happened." in html
    assert statement.replace("'", "&#39;") in html
    if path == "/":  # the home page names each document
        for document in load_documents().values():
            assert document.metadata["title"].replace("'", "&#39;").replace('"', "&#34;") in html


def test_agreements_are_listed_by_the_name_shown(seeded_app):
    html = page(seeded_app.test_client(), "/agreements")
    shown = re.findall(r'<h2><a href="/subjects/agreement/[^"]+">([^<]+)</a>', html)
    assert len(shown) > 3
    folded = [projections.text.fold(name) for name in shown]
    assert folded == sorted(folded)


def test_tables_sort_on_the_server_by_the_column_in_the_url(seeded_app):
    client = seeded_app.test_client()
    two_plus_two = card(page(client, "/meetings?sort=-session"), "meeting-2plus2")
    assert two_plus_two.index("Third France-Japan 2+2") < two_plus_two.index("Previous (second)")
    assert 'aria-sort="descending"' in two_plus_two and 'href="/meetings?sort=session"' in two_plus_two
    ascending = card(page(client, "/meetings"), "meeting-2plus2")
    assert ascending.index("Previous (second)") < ascending.index("Third France-Japan 2+2")
    by_place = page(client, "/exercises?sort=where&domain=maritime")
    assert 'aria-sort="ascending"' in by_place and 'name="sort" value="where"' in by_place  # a new filter keeps it
    assert "sort: &#39;up&#39; is not a way to sort" in page(client, "/exercises?sort=up", 400)


def test_every_view_links_its_json_and_csv_with_its_filters(seeded_app):
    client = seeded_app.test_client()
    for path, json_path, csv_path in (
        ("/agreements?as_of=2019-01-01", "/api/agreements?as_of=2019-01-01", "/agreements.csv?as_of=2019-01-01"),
        ("/exercises?domain=air", "/api/exercises?domain=air", "/exercises.csv?domain=air"),
        ("/meetings", "/api/meetings?", "/meetings.csv"),
        ("/timeline?kind=exercise", "/api/timeline?kind=exercise", "/timeline.csv?kind=exercise"),
    ):
        html = page(client, path)
        assert f'href="{json_path}"' in html and f'href="{csv_path}"' in html, path
        assert client.get(json_path).status_code == 200 and client.get(csv_path).status_code == 200


def test_the_timeline_can_be_skipped_and_says_it_scrolls(seeded_app):
    html = page(seeded_app.test_client(), "/timeline")
    assert html.index('href="#timeline-list"') < html.index("<svg") and 'id="timeline-list"' in html
    assert 'class="scroll-hint"' in html and "It opens at the busiest years" in html
    assert re.search(r'data-first-view="0\.[0-9]{3}"', html)
