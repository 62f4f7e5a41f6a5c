"""The pages that read the log itself: home, one event, one subject, every subject."""

from __future__ import annotations

import re

import pytest

import events
import projections
from events.vocabulary import STREAM_KINDS
from seeds.catalog import event_id_for
from tests.conftest import make_event, written_by_an_earlier_version

ACSA_SIGNED = event_id_for("ifri-pajon-2018/acsa-signed")
SCRIPT = "<script>alert(1)</script>"


def html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_home_says_what_it_is_counts_links_every_view_and_lists_the_latest(seeded_app):
    client = seeded_app.test_client()
    page = html(client, "/")
    assert "verifiable chronology" in page
    for path in ("/agreements", "/exercises", "/meetings", "/timeline", "/subjects"):
        assert f'href="{path}"' in page
    with seeded_app.app_context():
        top = events.head()
        latest = events.read(limit=1, descending=True)[0]
    assert f"{top.position} events" in page
    assert f'href="/events/{latest.event_id}"' in page
    for kind in STREAM_KINDS:
        assert f"<strong>{kind}</strong>" in page


def test_home_of_an_empty_log(client):
    page = html(client, "/")
    assert "The log is empty." in page and "Nothing yet." in page


def test_event_page_shows_date_sources_quote_and_chain(seeded_app):
    client = seeded_app.test_client()
    page = html(client, f"/events/{ACSA_SIGNED}")
    with seeded_app.app_context():
        event = events.get(ACSA_SIGNED)
    assert "July 2018" in page and "to the month" in page and "<code>2018-07</code>" in page
    assert "AgreementSigned" in page and 'href="/subjects/agreement/acsa"' in page
    assert "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed" in page
    assert "ifri-pajon-2018" in page
    for value in (event.hash, event.prev_hash, event.event_id, "seed"):
        assert value in page
    assert f"<dt>Position</dt><dd>{event.position} " in page
    for feed in ("/subjects/agreement/acsa/feed.atom", "/types/AgreementSigned/feed.atom"):
        served = client.get(feed).status_code == 200
        assert (f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in page) == served, feed


def test_corrected_and_retracted_events_show_their_history(app):
    with app.app_context():
        original = events.append([make_event(title="ACSA signed", data={"summary": "first"})], author="seed")[0]
        events.append([events.NewEvent("agreement/acsa", "EventCorrected", "2024-01-01", {
            "target": original.event_id, "changes": {"data": {"title": "ACSA signed in Paris"}},
            "reason": "The place was missing"})], author="ada")
        retraction = events.append([events.NewEvent("agreement/acsa", "EventRetracted", "2024-01-02", {
            "target": original.event_id, "reason": "Duplicate of another entry"})], author="ada")[0]
    client = app.test_client()
    page = html(client, f"/events/{original.event_id}")
    assert "ACSA signed in Paris" in page
    assert "<strong>Retracted</strong>" in page and "Duplicate of another entry" in page
    assert "The place was missing" in page and "title → ACSA signed in Paris" in page
    meta = html(client, f"/events/{retraction.event_id}")
    assert f'href="/events/{original.event_id}"' in meta and "Duplicate of another entry" in meta
    subject = html(client, "/subjects/agreement/acsa?order=recorded")  # every event, as recorded
    assert "retracted" in subject and "Retraction" in subject


def test_user_text_is_escaped_everywhere(app):
    with app.app_context(), written_by_an_earlier_version():  # a document named as anything, unchecked
        e = events.append([make_event(title=SCRIPT, data={"summary": SCRIPT, "place": SCRIPT},
                                      sources=[{"document": SCRIPT, "quote": SCRIPT}])], author="seed")[0]
        projections.catch_up()
    client = app.test_client()
    for path in ("/", f"/events/{e.event_id}", "/subjects/agreement/acsa", "/subjects/agreement/acsa?order=recorded",
                 "/search?q=alert"):
        page = html(client, path)
        assert SCRIPT not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_subject_page_lists_the_whole_stream(seeded_app):
    client = seeded_app.test_client()
    page = html(client, "/subjects/meeting/2plus2")
    with seeded_app.app_context():
        stream = events.read_stream("meeting/2plus2")
    assert len(stream) > 1
    for e in stream:
        assert f'href="/events/{e.event_id}"' in page
    assert f"{len(stream)} events" in page


def test_subjects_page_groups_by_kind(seeded_app):
    page = html(seeded_app.test_client(), "/subjects")
    assert "<h2>agreement</h2>" in page and 'href="/subjects/agreement/acsa"' in page


def test_unknown_things_are_404_pages(client):
    for path in ("/events/not-a-uuid", "/events/00000000-0000-4000-8000-000000000000", "/subjects/agreement/none"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>" in response.get_data(as_text=True)


def test_pages_carry_no_inline_script_or_style_and_the_csp_forbids_them(seeded_app, editor_client):
    paths = ["/", "/agreements", "/exercises", "/meetings", "/timeline", "/subjects", "/subjects/agreement/acsa",
             f"/events/{ACSA_SIGNED}", "/sign-in", "/events/new", f"/events/{ACSA_SIGNED}/correct",
             f"/events/{ACSA_SIGNED}/retract"]
    for path in paths:
        response = editor_client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page and " style=" not in page, path
        assert 'name="viewport"' in page, path


def test_the_readme_tour_shows_a_screenshot_of_every_main_page():
    from tests.screenshots import NAMES, OUT, ROOT

    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("## Tour"):readme.index("## Layout")]
    shown = set(re.findall(r"\]\((docs/screenshots/[a-z-]+\.png)\)", tour))
    expected = {f"docs/screenshots/{name}.png" for name in NAMES}
    assert shown == expected
    for path in shown:
        assert (OUT.parent.parent / path).stat().st_size > 10_000, path


def test_home_counts_come_from_the_tallies_and_match_the_log(seeded_app):
    page = html(seeded_app.test_client(), "/")
    with seeded_app.app_context():
        agreements = events.streams("agreement")
    row = re.search(r"<strong>agreement</strong>.*?<td>(\d+)</td><td>(\d+)</td>", page, re.S)
    assert row and (int(row.group(1)), int(row.group(2))) == (len(agreements), sum(v for _, v in agreements))


def test_subjects_page_a_keyset_at_a_time_per_kind(seeded_app, monkeypatch):
    from service.pages import log as pages

    client = seeded_app.test_client()
    with seeded_app.app_context():
        every = [s for s, _ in events.streams("agreement")]
    monkeypatch.setattr(pages, "SUBJECTS_PAGE", 3)
    monkeypatch.setattr(pages, "SUBJECTS_OVERVIEW", 2)
    first = html(client, "/subjects")
    assert "<h2>exercise</h2>" in first and f"{len(every)} subjects; this page shows 2" in first
    assert f'href="/subjects?kind=agreement&amp;after={every[1].replace("/", "%2F")}" rel="next"' in first
    seen, path = [], "/subjects?kind=agreement"
    while path:
        page = html(client, path)
        assert "<h2>exercise</h2>" not in page
        seen += re.findall(r'<li><a href="/subjects/(agreement/[^"]+)">', page)
        more = re.search(r'<a href="(/subjects\?[^"]+)" rel="next">', page)
        path = more.group(1).replace("&amp;", "&") if more else None
    assert seen == every and len(every) > 3
    assert 'href="/subjects?kind=agreement">First page</a>' in page


@pytest.mark.parametrize("query, message", [
    ("kind=battle", "kind: &#39;battle&#39; is not a kind of subject"),
    ("kind=agreement&after=exercise/pegase", "after: &#39;exercise/pegase&#39; is not a subject of kind agreement"),
])
def test_bad_subject_paging_is_400(client, query, message):
    response = client.get(f"/subjects?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


# --- a break found by the scheduled check is told to every reader -------------------------


def _event_page_says_it_failed(page: str) -> bool:
    return "The record here failed verification." in page


def test_a_break_found_by_the_verify_job_shows_on_every_page_and_on_event_pages_from_it(seeded_app, tamper):
    from service.operations import jobs

    client = seeded_app.test_client()
    with seeded_app.app_context():
        logged = list(events.read_all())
        untouched = next(e for e in logged[:39] if not events.state(e.event_id).revisions)
        early_fact = next(e for e in logged[:39] if e.type not in ("EventCorrected", "EventRetracted",
                                                                     "DocumentRegistered")
                          and e.event_id != untouched.event_id and not events.state(e.event_id).revisions)
        assert "role=\"alert\"" not in html(client, "/")
        tamper("UPDATE event SET author = 'mallory' WHERE position = 40")
        corrected_later = events.append([events.NewEvent(early_fact.stream, "EventCorrected", early_fact.occurred, {
            "title": "summary", "target": early_fact.event_id, "changes": {"data": {"summary": "Reworded."}},
            "reason": "Clearer."})], author="test")[0]
    run = jobs.run(seeded_app, "verify")
    assert run.outcome == "failed"
    banner = "The record failed verification at position 40 on <time datetime="
    for path in ("/", "/agreements", "/exercises", "/meetings", "/timeline", "/subjects", "/status",
                 f"/subjects/{untouched.stream}", f"/events/{untouched.event_id}"):
        page = html(client, path)
        assert '<p class="banner failed" role="alert">' + banner in page, path
        assert "hash does not match the stored content: the row was altered. Pages may show altered text." in page
    missing = client.get("/events/not-an-id").get_data(as_text=True)
    assert banner in missing  # error pages too
    assert not _event_page_says_it_failed(html(client, f"/events/{untouched.event_id}"))
    for event in (logged[39], logged[45], corrected_later):
        assert _event_page_says_it_failed(html(client, f"/events/{event.event_id}")), event.position
    assert _event_page_says_it_failed(html(client, f"/events/{early_fact.event_id}"))  # its current form is later
    health = client.get("/healthz")
    assert health.status_code == 200 and health.data == b"ok"  # liveness, not integrity
    with seeded_app.app_context():
        tamper(f"UPDATE event SET author = '{logged[39].author}' WHERE position = 40")  # restored
    assert jobs.run(seeded_app, "verify").outcome == "ok"
    assert banner not in html(client, "/")
    assert not _event_page_says_it_failed(html(client, f"/events/{logged[45].event_id}"))


def test_a_long_subject_is_paged_by_version_with_corrections_folded_for_each_page(app, client, new_event):
    """A 42,000-event stream once took 16 s a request: a page now reads its own 60 events and their revisions."""
    with app.app_context():
        facts = events.append([new_event(stream="meeting/long", type_="MeetingHeld", occurred="2017",
                                         title=f"Session {i}") for i in range(130)], author="t")
        events.append([events.NewEvent("meeting/long", "EventCorrected", "2026", {
            "target": facts[3].event_id, "reason": "r", "changes": {"data": {"title": "Session three, renamed"}}})],
            author="t")
    first = client.get("/subjects/meeting/long?order=recorded").get_data(as_text=True)
    assert "131 events" in first and "this page shows 1 to 60" in first
    assert first.count('<li class=') == 60 and "Session three, renamed" in first and "Session 60" not in first
    assert 'href="/subjects/meeting/long?order=recorded&amp;after=60" rel="next"' in first
    last = client.get("/subjects/meeting/long?order=recorded&after=120").get_data(as_text=True)
    assert "this page shows 121 to 131" in last and "Session 129" in last and "rel=\"next\"" not in last
    assert "Correction" in last and "Session three, renamed" in last  # the correction names its target by title
    for bad in ("order=recorded&after=x", "order=recorded&after=132", "order=recorded&after=²", "after=x",
                "order=random"):
        response = client.get(f"/subjects/meeting/long?{bad}")
        named = bad.rsplit("&", 1)[-1].split("=")[0]
        assert response.status_code == 400 and f"{named}: " in response.get_data(as_text=True), bad


def test_a_subject_is_titled_by_its_name_with_its_facts_in_date_order_and_paged(app, client, new_event):
    """Recorded out of order (the 2018 signing before the 2017 negotiations), shown in the order they happened."""
    with app.app_context():
        events.append([
            new_event(stream="agreement/pact", type_="AgreementSigned", occurred="2018-07-13", title="Pact signed",
                      data={"agreement": "Treaty of Friendship and Cooperation", "short": "Pact"}),
            new_event(stream="agreement/pact", type_="AgreementNegotiationsOpened", occurred="2017-21",
                      title="Pact negotiations opened"),
            new_event(stream="agreement/pact", type_="AgreementEnteredIntoForce", occurred="2019",
                      title="Pact in force"),
        ], author="t")
        projections.catch_up()
    page = html(client, "/subjects/agreement/pact")
    assert "<h1>Treaty of Friendship and Cooperation</h1>" in page
    assert "<title>Treaty of Friendship and Cooperation ·" in page
    order = [page.index(t) for t in ("Pact negotiations opened", "Pact signed", "Pact in force")]
    assert order == sorted(order)
    assert "spring 2017" in page and "Agreement negotiations opened" in page  # dates and types in words
    from service.pages import log as log_pages

    log_pages.STREAM_PAGE = 2
    try:
        first = html(client, "/subjects/agreement/pact")
        assert "Pact signed" in first and "Pact in force" not in first
        following = re.search(r'href="(/subjects/agreement/pact\?after=[0-9.]+)" rel="next"', first).group(1)
        assert "Pact in force" in html(client, following)
    finally:
        log_pages.STREAM_PAGE = 60


def test_latest_changes_mark_retractions_and_show_corrected_titles(app, client, new_event):
    with app.app_context():
        kept, dropped = events.append([new_event(title="Exercise Alpha"), new_event(title="Exercise Beta")],
                                      author="t")
        events.append([events.NewEvent("agreement/acsa", "EventCorrected", "2026", {
            "target": kept.event_id, "reason": "misnamed", "changes": {"data": {"title": "Exercise Gamma"}}})],
            author="t")
        events.append([events.NewEvent("agreement/acsa", "EventRetracted", "2026", {
            "target": dropped.event_id, "reason": "never happened"})], author="t")
    home = html(client, "/")
    changes = home[home.index("Latest changes"):]
    assert "Exercise Alpha" not in changes  # shown under its corrected title
    assert changes.count("Exercise Gamma") == 2  # the correction's line and the fact's own line
    assert "corrected since" in changes and "retracted since" in changes
    assert re.search(rf'<li class="retracted">\s*<a href="/events/{dropped.event_id}">Exercise Beta</a>', changes)
    assert "Retraction</a> <span class=\"muted\">of</span>" in changes and "never happened" in changes
