"""The feeds as HTTP resources: paging and archives, entries, corrections, tombstones, caching, 404s."""

from __future__ import annotations

import gzip
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest
from lxml import etree

import events
import projections
from events import NewEvent
from service.feeds import heads as heads_module
from service.feeds import routes as feeds
from service.feeds.atom import AT_NS, ATOM_NS, CHRONOLOGY_NS, FH_NS
from service.writes import append_one
from tests.conftest import make_app, make_event, written_by_an_earlier_version

NS = {"a": ATOM_NS, "fh": FH_NS, "at": AT_NS, "chr": CHRONOLOGY_NS}
SIZE = 5
ROOT = "http://localhost"


@pytest.fixture
def feed_app(sqlite_url, tmp_path):
    application = make_app(sqlite_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE)
    yield application
    if not events.db.database.is_closed():
        events.db.database.close()


@pytest.fixture
def seeded_feed_app(feed_app):
    from seeds.loader import seed

    with feed_app.app_context():
        seed()
        projections.catch_up()
    return feed_app


@pytest.fixture
def later(monkeypatch):
    """Move the clocks the feeds read forward by hand: the head cache's TTL and the wall time a head is read at."""
    shift = [0.0]
    monotonic, wall = heads_module.time.monotonic, heads_module.wall_clock
    monkeypatch.setattr(heads_module.time, "monotonic", lambda: monotonic() + shift[0])
    monkeypatch.setattr(heads_module, "wall_clock", lambda: wall() + timedelta(seconds=shift[0]))

    def move(seconds: float) -> None:
        shift[0] += seconds

    return move


def append(app, *new: NewEvent) -> list[events.RecordedEvent]:
    with app.app_context():
        return [append_one(e, author="test").event for e in new]


def numbered(app, count: int, stream: str = "meeting/2plus2") -> list[events.RecordedEvent]:
    return append(app, *(make_event(stream=stream, type_="MeetingHeld", occurred=f"20{10 + i % 10}",
                                    title=f"Session {i}") for i in range(count)))


def fetch(client, url: str, **headers: str) -> tuple[etree._Element, object]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert_rfc4287(root)
    return root, response


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def assert_rfc4287(root: etree._Element) -> None:
    """The constraints of RFC 4287 section 4 that a generator can get wrong."""
    assert root.tag == f"{{{ATOM_NS}}}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"a:{name}", NS)) == 1, name
    feed_author = root.find("a:author/a:name", NS) is not None
    alternates = [(link.get("type"), link.get("hreflang")) for link in root.findall("a:link[@rel='alternate']", NS)]
    assert len(alternates) == len(set(alternates))
    stamps = [root.findtext("a:updated", namespaces=NS)]
    seen: set[tuple[str, str]] = set()
    for entry in root.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        assert feed_author or entry.find("a:author/a:name", NS) is not None
        assert entry.find("a:content", NS) is not None or entry.find("a:link[@rel='alternate']", NS) is not None
        assert len(entry.findall("a:summary", NS)) <= 1 and len(entry.findall("a:published", NS)) <= 1
        key = (entry.findtext("a:id", namespaces=NS), entry.findtext("a:updated", namespaces=NS))
        assert key not in seen, f"two entries {key[0]} with the same updated"
        seen.add(key)
        stamps += [entry.findtext("a:updated", namespaces=NS), entry.findtext("a:published", namespaces=NS)]
    stamps += [d.get("when") for d in root.findall("at:deleted-entry", NS)]
    assert all(RFC3339.fullmatch(s) for s in stamps if s is not None), stamps


def links(root: etree._Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in root.findall("a:link", NS)}


def entry_ids(root: etree._Element) -> list[str]:
    return [e.findtext("a:id", namespaces=NS) for e in root.findall("a:entry", NS)]


def positions(root: etree._Element) -> list[int]:
    return [int(e.findtext("chr:position", namespaces=NS)) for e in root.findall("a:entry", NS)]


def walk(client, url: str) -> tuple[etree._Element, list[etree._Element]]:
    """The subscription document and its archives, newest first, checking each archive's manners."""
    sub, response = fetch(client, url)
    assert links(sub)["self"] == ROOT + url
    assert response.headers["Link"] == f'<{ROOT}{url}>; rel="self"'
    archives, next_url = [], links(sub).get("prev-archive")
    while next_url:
        page, response = fetch(client, next_url)
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert page.find("fh:archive", NS) is not None
        assert links(page)["self"] == next_url
        assert links(page)["current"] == ROOT + url
        assert page.findtext("a:id", namespaces=NS) == sub.findtext("a:id", namespaces=NS)
        if archives:
            assert links(page)["next-archive"] == links(archives[-1])["self"]
        archives.append(page)
        next_url = links(page).get("prev-archive")
    return sub, archives


# --- the whole log -----------------------------------------------------------------


def test_archive_chain_from_the_subscription_document_back_to_position_1_holds_every_event_once(feed_app):
    recorded = numbered(feed_app, 3 * SIZE + 2)
    client = feed_app.test_client()
    sub, archives = walk(client, "/feed.atom")
    assert positions(sub) == list(range(1, 3 * SIZE + 3))  # all recorded within the window
    assert links(sub)["prev-archive"] == f"{ROOT}/feed/archive/3.atom"
    assert len(archives) == 3
    assert positions(archives[-1])[0] == 1
    archived = [p for page in archives for p in positions(page)]
    assert sorted(archived) == list(range(1, 3 * SIZE + 1))  # full pages only, no overlap
    seen = Counter(i for page in archives for i in entry_ids(page))
    seen.update(i for i, p in zip(entry_ids(sub), positions(sub), strict=True) if p > 3 * SIZE)
    assert seen == Counter(f"urn:uuid:{e.event_id}" for e in recorded)


@pytest.fixture
def windowed_app(sqlite_url, tmp_path):
    """Pages of 5, a window of 30 days holding at most 12 items: small enough to see every bound."""
    application = make_app(sqlite_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE, FEED_WINDOW_MAX=12)
    yield application
    if not events.db.database.is_closed():
        events.db.database.close()


def test_the_subscription_document_holds_the_window_never_fewer_than_a_page_never_more_than_the_bound(
        windowed_app, monkeypatch):
    """Gap: a reader that never walks archives lost everything beyond the newest 50 arrivals since its last poll."""
    moment = [datetime(2026, 1, 5, tzinfo=UTC)]
    monkeypatch.setattr(events.store, "utc_now", lambda: moment[0])
    old = numbered(windowed_app, 8)
    moment[0] += timedelta(days=40)
    recent = numbered(windowed_app, 3)
    client = windowed_app.test_client()
    urls = ("/feed.atom", "/subjects/meeting/2plus2/feed.atom", "/types/MeetingHeld/feed.atom", "/meetings/feed.atom")

    def held(url: str) -> list[str]:
        root, _ = fetch(client, url)
        return [p.get("href") for p in root.findall("a:entry/a:link", NS)] if url == "/meetings/feed.atom" else \
            entry_ids(root)

    def expected(url: str, recorded: list[events.RecordedEvent]) -> list[str]:
        if url == "/meetings/feed.atom":
            return [f"{ROOT}/events/{e.event_id}" for e in recorded]
        return [f"urn:uuid:{e.event_id}" for e in recorded]

    for url in urls:  # 3 in the window: the floor of a page keeps the 2 before them
        found = held(url)
        assert found == expected(url, [*old[-2:], *recent]), url
    recent += numbered(windowed_app, 4)
    for url in urls:  # 7 in the window, nothing older
        assert held(url) == expected(url, recent), url
    moment[0] += timedelta(days=29)
    recent += numbered(windowed_app, 7)
    for url in urls:  # 14 in the window: the 12 newest
        assert held(url) == expected(url, recent[-12:]), url


def test_entries_say_what_happened_and_when_with_the_recorded_time(feed_app):
    (event,) = append(feed_app, make_event(title="ACSA signed", occurred="2018-07",
                                           data={"summary": "Signed in <Paris> & Tokyo."}))
    root, _ = fetch(feed_app.test_client(), "/feed.atom")
    (entry,) = root.findall("a:entry", NS)
    assert entry.findtext("a:id", namespaces=NS) == f"urn:uuid:{event.event_id}"
    assert entry.findtext("a:title", namespaces=NS) == "ACSA signed — July 2018"
    assert entry.findtext("a:updated", namespaces=NS) == event.recorded_at.isoformat()
    assert entry.findtext("a:published", namespaces=NS) == event.recorded_at.isoformat()
    assert entry.findtext("a:summary", namespaces=NS) == "Signed in <Paris> & Tokyo."
    assert entry.findtext("chr:position", namespaces=NS) == "1"
    assert links(entry) == {"alternate": f"{ROOT}/events/{event.event_id}"}
    assert {(c.get("term"), c.get("scheme")) for c in entry.findall("a:category", NS)} == {
        ("AgreementSigned", f"{ROOT}/types/"), ("agreement/acsa", f"{ROOT}/subjects/")}
    html = etree.fromstring(f"<div>{entry.findtext('a:content', namespaces=NS)}</div>", etree.HTMLParser())
    assert html.findtext(".//p") == "Signed in <Paris> & Tokyo."
    assert html.findtext(".//blockquote") == event.sources[0]["quote"]["exact"]
    assert root.findtext("a:updated", namespaces=NS) == event.recorded_at.isoformat()


def test_an_empty_log_has_a_valid_empty_feed(feed_app):
    root, response = fetch(feed_app.test_client(), "/feed.atom")
    assert root.findall("a:entry", NS) == []
    assert root.findtext("a:updated", namespaces=NS) == "1970-01-01T00:00:00+00:00"
    assert "prev-archive" not in links(root)
    assert response.headers["ETag"]


def test_a_correction_republishes_its_target_with_a_later_updated_and_has_its_own_entry(feed_app):
    (fact,) = append(feed_app, make_event(title="ACSA signed", occurred="2018-06"))
    (correction,) = append(feed_app, NewEvent("agreement/acsa", "EventCorrected", "2018-07", {
        "title": "ACSA date corrected", "target": fact.event_id, "changes": {"occurred": "2018-07"},
        "reason": "The Ifri text says July."}))
    numbered(feed_app, SIZE - 2)  # fill archive 1: it keeps both versions, as they were published
    client = feed_app.test_client()
    archived, _ = fetch(client, "/feed/archive/1.atom")
    original, again = [e for e in archived.findall("a:entry", NS)
                       if e.findtext("a:id", namespaces=NS) == f"urn:uuid:{fact.event_id}"]
    assert original.findtext("a:title", namespaces=NS) == "ACSA signed — June 2018"
    assert original.findtext("a:updated", namespaces=NS) == fact.recorded_at.isoformat()
    assert again.findtext("a:title", namespaces=NS) == "ACSA signed — July 2018"
    root, _ = fetch(client, "/feed.atom")
    by_id: dict[str, list[etree._Element]] = {}
    for entry in root.findall("a:entry", NS):
        by_id.setdefault(entry.findtext("a:id", namespaces=NS), []).append(entry)
    # The subscription document shows each entry once, in its newest form: a reader that keeps the first of two
    # entries with one id (newsboat does) would otherwise never show the correction.
    (republished,) = by_id[f"urn:uuid:{fact.event_id}"]
    assert republished.findtext("a:title", namespaces=NS) == "ACSA signed — July 2018"
    assert republished.findtext("a:updated", namespaces=NS) == correction.recorded_at.isoformat()
    assert republished.findtext("a:published", namespaces=NS) == fact.recorded_at.isoformat()
    assert republished.findtext("chr:position", namespaces=NS) == str(correction.position)
    (own,) = by_id[f"urn:uuid:{correction.event_id}"]
    assert own.findtext("a:title", namespaces=NS) == "Corrected: ACSA signed"
    assert "The Ifri text says July." in own.findtext("a:summary", namespaces=NS)


def test_a_republished_entry_belongs_to_the_archive_page_of_the_correction(feed_app):
    (fact,) = append(feed_app, make_event(title="ACSA signed", occurred="2018-06"))
    numbered(feed_app, SIZE)
    (correction,) = append(feed_app, NewEvent("agreement/acsa", "EventCorrected", "2018-07", {
        "title": "ACSA date corrected", "target": fact.event_id, "changes": {"occurred": "2018-07"},
        "reason": "July."}))
    numbered(feed_app, SIZE)
    client = feed_app.test_client()
    first, _ = fetch(client, "/feed/archive/1.atom")
    second, _ = fetch(client, "/feed/archive/2.atom")
    assert f"urn:uuid:{fact.event_id}" in entry_ids(first)
    assert entry_ids(second).count(f"urn:uuid:{fact.event_id}") == 1
    assert correction.position == SIZE + 2
    assert positions(first) == list(range(1, SIZE + 1))


def test_a_retraction_is_a_tombstone_in_the_subscription_document(feed_app):
    (fact,) = append(feed_app, make_event(title="ACSA signed"))
    (retraction,) = append(feed_app, NewEvent("agreement/acsa", "EventRetracted", "2018-07", {
        "title": "ACSA signing withdrawn", "target": fact.event_id, "reason": "Duplicate of another event."}))
    root, _ = fetch(feed_app.test_client(), "/feed.atom")
    (stone,) = root.findall("at:deleted-entry", NS)
    assert stone.get("ref") == f"urn:uuid:{fact.event_id}"
    assert stone.get("when") == retraction.recorded_at.isoformat()
    assert stone.findtext("at:comment", namespaces=NS) == "Duplicate of another event."
    assert f"urn:uuid:{retraction.event_id}" in entry_ids(root)


@pytest.mark.parametrize("number", ["0", "3", "99999999999999999", "abc", "-1", "01", "1.5"])
def test_archives_out_of_range_or_malformed_are_404(feed_app, number):
    numbered(feed_app, 2 * SIZE + 1)
    response = feed_app.test_client().get(f"/feed/archive/{number}.atom")
    assert response.status_code == 404


def test_the_page_still_filling_is_not_an_archive(feed_app):
    numbered(feed_app, SIZE - 1)
    client = feed_app.test_client()
    root, _ = fetch(client, "/feed.atom")
    assert "prev-archive" not in links(root)
    assert client.get("/feed/archive/1.atom").status_code == 404
    numbered(feed_app, 1)
    root, _ = fetch(client, "/feed.atom")
    assert links(root)["prev-archive"] == f"{ROOT}/feed/archive/1.atom"
    assert client.get("/feed/archive/1.atom").status_code == 200


def _no_store(response) -> bool:
    return response.status_code == 404 and response.headers.get("Cache-Control") == "no-store"


def test_an_archive_page_that_will_exist_is_a_404_no_cache_may_keep(feed_app):
    """Gap: the 404 of a page still filling carried no Cache-Control, so a cache could keep it for ever."""
    numbered(feed_app, SIZE + 2)
    client = feed_app.test_client()
    for url in ("/feed/archive/2.atom", "/feed/archive/99.atom", f"/subjects/meeting/2plus2/feed/archive/{SIZE}.atom",
                f"/types/MeetingHeld/feed/archive/{SIZE}.atom", "/subjects/meeting/2plus2/feed/archive/999.atom",
                "/meetings/feed/archive/00000000-0000-4000-8000-000000000000.atom"):
        assert _no_store(client.get(url)), url
    meetings, _ = fetch(client, "/meetings/feed.atom")
    first, _ = fetch(client, links(meetings)["prev-archive"])
    assert _no_store(client.get(links(first)["next-archive"]))  # the page after the newest full one
    for url in ("/feed/archive/abc.atom", "/subjects/meeting/2plus2/feed/archive/2.atom",  # never a page
                "/meetings/feed/archive/nope.atom"):
        response = client.get(url)
        assert response.status_code == 404 and response.headers.get("Cache-Control") != "no-store", url
    numbered(feed_app, SIZE)
    assert client.get("/feed/archive/2.atom").status_code == 200


# --- HTTP caching ------------------------------------------------------------------


def test_if_none_match_and_if_modified_since_answer_304_with_the_same_caching_headers(feed_app, later):
    numbered(feed_app, 3)
    client = feed_app.test_client()
    later(5)  # the newest event's second is over: its date can name it
    first = client.get("/feed.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith('W/')
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = client.get("/feed.atom", headers=headers)
        assert again.status_code == 304
        assert again.data == b""
        for name in ("ETag", "Last-Modified", "Cache-Control", "Link", "Vary"):
            assert again.headers[name] == first.headers[name], name
    numbered(feed_app, 1)
    changed = client.get("/feed.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get("/feed.atom", headers={"If-Modified-Since": old}).status_code == 200


def test_a_subscription_document_is_rendered_once_per_head_and_encoding_and_then_served_from_memory(
        feed_app, monkeypatch):
    numbered(feed_app, 3)
    client = feed_app.test_client()
    urls = ("/feed.atom", "/subjects/meeting/2plus2/feed.atom", "/types/MeetingHeld/feed.atom", "/meetings/feed.atom")
    renders: Counter[str] = Counter()
    render = feeds.atom.render
    monkeypatch.setattr(feeds.atom, "render", lambda doc: renders.update([doc.self_url]) or render(doc))
    compress = gzip.compress
    compressed: list[int] = []
    monkeypatch.setattr(feeds.caching.gzip, "compress", lambda data, **kw: compressed.append(1) or compress(data, **kw))
    first = {url: client.get(url).data for url in urls}
    queries: list[str] = []
    database = type(events.db.database.obj)
    execute = database.execute_sql
    monkeypatch.setattr(database, "execute_sql",
                        lambda db, sql, *args, **kw: queries.append(sql) or execute(db, sql, *args, **kw))
    for _ in range(3):
        for url in urls:
            assert client.get(url).data == first[url]
            assert gzip.decompress(client.get(url, headers={"Accept-Encoding": "gzip"}).data) == first[url]
    assert renders == Counter(ROOT + url for url in urls) and len(compressed) == len(urls)
    assert queries == []  # the same head: nothing asked of the database
    client.get("/subjects/meeting/nobody/feed.atom")
    assert queries  # (which would be seen: a subject unknown until asked is looked up)
    numbered(feed_app, 1)
    for url in urls:
        client.get(url)
    assert renders == Counter(ROOT + url for url in urls for _ in range(2))


def test_archives_answer_304_and_are_immutable(feed_app):
    numbered(feed_app, SIZE)
    client = feed_app.test_client()
    first = client.get("/feed/archive/1.atom")
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    numbered(feed_app, SIZE)  # a newer page fills; the old one does not change
    again = client.get("/feed/archive/1.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/feed/archive/1.atom").data == first.data


def test_gzip_when_asked(feed_app):
    numbered(feed_app, 3)
    client = feed_app.test_client()
    plain = client.get("/feed.atom")
    zipped = client.get("/feed.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # strong validators differ per encoding
    again = client.get("/feed.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


# --- filtered feeds ----------------------------------------------------------------


def test_subject_feed_pages_over_its_own_events(feed_app):
    mine = []
    for _ in range(2 * SIZE + 1):
        mine += numbered(feed_app, 1, stream="meeting/2plus2")
        numbered(feed_app, 2, stream="meeting/strategic-dialogue")
    client = feed_app.test_client()
    sub, archives = walk(client, "/subjects/meeting/2plus2/feed.atom")
    assert len(archives) == 2
    archived = [i for page in archives for i in entry_ids(page)]
    assert len(archived) == len(set(archived)) == 2 * SIZE
    assert set(archived) | set(entry_ids(sub)) == {f"urn:uuid:{e.event_id}" for e in mine}
    terms = {c.get("term") for c in sub.findall("a:entry/a:category", NS) if c.get("scheme").endswith("/subjects/")}
    assert terms == {"meeting/2plus2"}


@pytest.mark.parametrize("url", [
    "/subjects/meeting/nothing-here/feed.atom",
    "/subjects/meeting/2plus2/feed/archive/abc.atom",
    "/subjects/meeting/2plus2/feed/archive/2.atom",  # not a page boundary
    "/subjects/meeting/2plus2/feed/archive/00.atom",
    "/types/NoSuchType/feed.atom",
    "/types/MeetingHeld/feed/archive/999.atom",
])
def test_filtered_feeds_refuse_unknown_subjects_types_and_keys(feed_app, url):
    numbered(feed_app, 2 * SIZE)
    assert feed_app.test_client().get(url).status_code == 404


def test_type_feed_holds_only_its_type(feed_app):
    numbered(feed_app, 3)
    (signed,) = append(feed_app, make_event())
    root, _ = fetch(feed_app.test_client(), "/types/AgreementSigned/feed.atom")
    assert entry_ids(root) == [f"urn:uuid:{signed.event_id}"]
    assert links(root)["self"] == f"{ROOT}/types/AgreementSigned/feed.atom"
    empty, _ = fetch(feed_app.test_client(), "/types/AgreementExpired/feed.atom")  # known type, no events yet
    assert empty.findall("a:entry", NS) == []


def _correction(target: events.RecordedEvent, title: str) -> NewEvent:
    return NewEvent(target.stream, "EventCorrected", target.occurred, {
        "title": "Title corrected", "target": target.event_id, "changes": {"data": {"title": title}},
        "reason": "The source says otherwise."})


def _retraction(target: events.RecordedEvent) -> NewEvent:
    return NewEvent(target.stream, "EventRetracted", target.occurred, {
        "title": "Withdrawn", "target": target.event_id, "reason": "Duplicate of another event."})


def test_a_type_feed_carries_the_corrections_and_retractions_of_its_events(feed_app):
    """Gap: /types/<Type>/feed.atom showed a corrected or retracted event only in its original form."""
    numbered(feed_app, 2)
    acsa, raa = append(feed_app, make_event(stream="agreement/acsa", title="ACSA signed"),
                       make_event(stream="agreement/raa", title="RAA signed", occurred="2023"))
    (held,) = numbered(feed_app, 1)
    correction, retraction, other = append(feed_app, _correction(acsa, "ACSA signed in Tokyo"), _retraction(raa),
                                           _correction(held, "Session held in Paris"))
    client = feed_app.test_client()
    root, _ = fetch(client, "/types/AgreementSigned/feed.atom")
    assert entry_ids(root) == [f"urn:uuid:{e.event_id}" for e in (raa, acsa, correction, retraction)]
    assert positions(root) == [raa.position, correction.position, correction.position, retraction.position]
    assert root.findall("a:entry/a:title", NS)[1].text == "ACSA signed in Tokyo — July 2018"
    assert [t.get("ref") for t in root.findall("at:deleted-entry", NS)] == [f"urn:uuid:{raa.event_id}"]
    meetings, _ = fetch(client, "/types/MeetingHeld/feed.atom")
    assert f"urn:uuid:{other.event_id}" in entry_ids(meetings)
    assert f"urn:uuid:{correction.event_id}" not in entry_ids(meetings)
    corrections, _ = fetch(client, "/types/EventCorrected/feed.atom")  # the corrections themselves, as before
    assert {f"urn:uuid:{correction.event_id}", f"urn:uuid:{other.event_id}"} <= set(entry_ids(corrections))


def test_a_type_feeds_archive_pages_hold_its_revisions_and_never_change(feed_app):
    signed = append(feed_app, *(make_event(stream=f"agreement/a{i}", title=f"Agreement {i} signed")
                                for i in range(3)))
    numbered(feed_app, 2)
    revisions = append(feed_app, _correction(signed[0], "Agreement 0 signed in Paris"), _retraction(signed[1]))
    client = feed_app.test_client()
    sub, archives = walk(client, "/types/AgreementSigned/feed.atom")
    assert len(archives) == 1
    (page,) = archives
    assert positions(page) == [e.position for e in signed] + [revisions[0].position] * 2 + [revisions[1].position]
    assert len(page.findall("at:deleted-entry", NS)) == 1
    before = client.get(links(sub)["prev-archive"]).data
    later = append(feed_app, _correction(signed[2], "Agreement 2 signed in Kyoto"))  # an event archived above
    root, _ = fetch(client, "/types/AgreementSigned/feed.atom")
    assert positions(root)[-1] == later[0].position  # a new item of the sequence, at its own place
    assert client.get(links(sub)["prev-archive"]).data == before


# --- read-model feeds --------------------------------------------------------------


def _change_entries(root: etree._Element) -> list[tuple[str, str, str]]:
    return [(e.findtext("a:id", namespaces=NS), e.findtext("a:updated", namespaces=NS),
             e.findtext("a:title", namespaces=NS)) for e in root.findall("a:entry", NS)]


def test_agreements_feed_carries_status_changes_and_survives_a_rebuild(seeded_feed_app):
    client = seeded_feed_app.test_client()
    sub, archives = walk(client, "/agreements/feed.atom")
    before = [_change_entries(page) for page in (sub, *archives)]
    titles = [t for page in before for _, _, t in page]
    assert "ACSA: under negotiation → signed (July 2018)" in titles
    assert "Roadmap 2013-2018: adopted → expired (the end of 2018, by its term)" in titles
    with seeded_feed_app.app_context():
        rows = projections.get("agreements").changes(datetime.now(UTC), limit=10_000)
    archived = [i for page in archives for i, _, _ in _change_entries(page)]
    assert len(archived) == len(set(archived)) == (len(rows) // SIZE) * SIZE
    assert set(archived) | {i for i, _, _ in before[0]} == {f"urn:uuid:{r.id}" for r in rows}
    with seeded_feed_app.app_context():
        projections.rebuild()
    sub, archives = walk(client, "/agreements/feed.atom")
    assert [_change_entries(page) for page in (sub, *archives)] == before


def test_every_agreements_feed_entry_carries_the_valid_date_of_its_change_apart_from_its_recording(seeded_feed_app):
    client = seeded_feed_app.test_client()
    sub, archives = walk(client, "/agreements/feed.atom")
    entries = [e for page in (sub, *archives) for e in page.findall("a:entry", NS)]
    assert len(entries) > 10
    for entry in entries:
        title = entry.findtext("a:title", namespaces=NS)
        when = re.fullmatch(r".+ \(([^()]+(?:\([^()]*\))?[^()]*)\)(?: no longer on record)?", title)
        assert when, title
        text = etree.fromstring(f"<div>{entry.findtext('a:content', namespaces=NS)}</div>").xpath("string()")
        valid = when.group(1).split("; previously")[0]
        assert f"In the world: {valid} (EDTF " in text, (title, text)
        assert "Recorded: " in text and "Effective" not in text
        recorded = datetime.fromisoformat(entry.findtext("a:updated", namespaces=NS))
        assert recorded.strftime("%d %B %Y").lstrip("0") in text  # the recording, named apart from the valid date


def test_a_calendar_change_appears_once_its_day_has_come(feed_app, monkeypatch):
    append(feed_app, make_event(stream="agreement/roadmap-2030", type_="AgreementAdopted", occurred="2026-01",
                                title="Roadmap adopted", data={"short": "Roadmap", "term": "2026/2030"}))
    client = feed_app.test_client()
    now_titles = [t for _, _, t in _change_entries(fetch(client, "/agreements/feed.atom")[0])]
    assert all("expired" not in t for t in now_titles)
    monkeypatch.setattr(feeds, "now", lambda: datetime(2032, 1, 1, tzinfo=UTC))
    later = _change_entries(fetch(client, "/agreements/feed.atom")[0])
    (expired,) = [(i, u, t) for i, u, t in later if "expired" in t]
    assert expired[2].startswith("Roadmap: ")
    assert expired[1] == "2031-01-01T00:00:00+00:00"


@pytest.mark.parametrize("name", ["exercises", "meetings"])
def test_other_read_model_feeds_are_served_when_their_model_exists(seeded_feed_app, name):
    root, response = fetch(seeded_feed_app.test_client(), f"/{name}/feed.atom")
    assert links(root)["self"] == f"{ROOT}/{name}/feed.atom"
    assert response.headers["ETag"]
    ids = entry_ids(root)
    assert len(ids) == len(set(ids))


def test_every_read_model_with_a_feed_in_the_registry_is_served_and_no_other(seeded_feed_app):
    client = seeded_feed_app.test_client()
    for model in projections.with_feeds():
        assert fetch(client, f"/{model.name}/feed.atom")[0].findtext("a:title", namespaces=NS) == model.feed_title
    assert client.get("/timeline/feed.atom").status_code == 404  # a read model without a feed
    assert client.get("/battles/feed.atom").status_code == 404


@pytest.mark.parametrize("url", ["/agreements/feed/archive/nope.atom",
                                 "/agreements/feed/archive/00000000-0000-4000-8000-000000000000.atom"])
def test_read_model_archives_refuse_unknown_keys(seeded_feed_app, url):
    assert seeded_feed_app.test_client().get(url).status_code == 404


# --- WebSub ------------------------------------------------------------------------


class _Hub(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).received.append(parse_qs(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_hub_link_and_publish_pings_on_append(sqlite_url, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub = f"http://127.0.0.1:{server.server_port}/hub"
    _Hub.received = []
    app = make_app(sqlite_url, tmp_path / "instance", WEBSUB_HUB=hub, PUBLIC_URL="https://chronology.example")
    try:
        response = app.test_client().get("/feed.atom")
        assert response.headers["Link"] == (f'<https://chronology.example/feed.atom>; rel="self", '
                                            f'<{hub}>; rel="hub"')
        assert links(etree.fromstring(response.data))["hub"] == hub
        with app.app_context():
            thread = feeds.notify_feeds([append_one(make_event(), author="test").event])
        thread.join(10)
        urls = {q["hub.url"][0] for q in _Hub.received}
        assert all(q["hub.mode"] == ["publish"] for q in _Hub.received)
        assert {"https://chronology.example/feed.atom", "https://chronology.example/subjects/agreement/acsa/feed.atom",
                "https://chronology.example/types/AgreementSigned/feed.atom",
                "https://chronology.example/agreements/feed.atom"} <= urls
    finally:
        server.shutdown()
        events.db.database.close()


def test_an_unreachable_hub_never_fails_an_append(sqlite_url, tmp_path, caplog):
    app = make_app(sqlite_url, tmp_path / "instance", WEBSUB_HUB="http://127.0.0.1:9/hub",
                   PUBLIC_URL="https://chronology.example")
    try:
        with app.app_context():
            appended = append_one(make_event(), author="test")
            thread = feeds.notify_feeds([appended.event])
            thread.join(15)
            assert events.read()[0].event_id == appended.event.event_id
        assert any("WebSub publish ping" in r.getMessage() for r in caplog.records)
    finally:
        events.db.database.close()


def test_feed_paths_follow_what_changed(feed_app):
    (event,) = numbered(feed_app, 1)
    assert feeds.feed_paths(["agreements", "unknown-model"]) == ["/agreements/feed.atom"]
    paths = feeds.feed_paths([event, event])
    assert paths[:3] == ["/feed.atom", "/subjects/meeting/2plus2/feed.atom", "/types/MeetingHeld/feed.atom"]
    assert len(paths) == len(set(paths))
    (correction,) = append(feed_app, _correction(event, "Session held in Tokyo"))
    with feed_app.app_context():
        assert feeds.feed_paths([correction])[:4] == [
            "/feed.atom", "/subjects/meeting/2plus2/feed.atom", "/types/EventCorrected/feed.atom",
            "/types/MeetingHeld/feed.atom"]  # the corrected event's type feed carries it too


# --- autodiscovery -----------------------------------------------------------------


@pytest.mark.parametrize("page", ["/", "/subjects/agreement/acsa", "/agreements", "/exercises", "/meetings"])
def test_pages_link_feeds_that_answer_with_their_own_url(seeded_feed_app, page):
    client = seeded_feed_app.test_client()
    response = client.get(page)
    if response.status_code == 404:
        pytest.skip(f"{page} is not served in this build")
    html = etree.fromstring(response.data, etree.HTMLParser())
    hrefs = [link.get("href") for link in html.iterfind(".//head/link[@rel='alternate']")
             if link.get("type") == "application/atom+xml"]
    assert hrefs, f"{page} links no feed"
    for href in hrefs:
        root, _ = fetch(client, href)
        assert links(root)["self"] == ROOT + href


# --- both backends -----------------------------------------------------------------


@pytest.fixture
def backend_app(database_url, tmp_path):
    application = make_app(database_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE)
    yield application
    if not events.db.database.is_closed():
        events.db.database.close()


def test_archives_corrections_tombstones_and_filtered_feeds_on_each_backend(backend_app):
    recorded = numbered(backend_app, 2 * SIZE)
    (fact,) = append(backend_app, make_event(title="ACSA signed", occurred="2018-06"))
    (correction,) = append(backend_app, NewEvent("agreement/acsa", "EventCorrected", "2018-07", {
        "title": "ACSA date corrected", "target": fact.event_id, "changes": {"occurred": "2018-07"},
        "reason": "July."}))
    (retraction,) = append(backend_app, NewEvent("agreement/acsa", "EventRetracted", "2018-07", {
        "title": "ACSA withdrawn", "target": fact.event_id, "reason": "Duplicate."}))
    client = backend_app.test_client()
    sub, archives = walk(client, "/feed.atom")
    archived = Counter(i for page in archives for i in entry_ids(page))
    assert set(archived) == {f"urn:uuid:{e.event_id}" for e in recorded}
    assert set(archived.values()) == {1}
    assert [s.get("ref") for s in sub.findall("at:deleted-entry", NS)] == [f"urn:uuid:{fact.event_id}"]
    assert entry_ids(sub).count(f"urn:uuid:{fact.event_id}") == 1  # re-published by the correction, in its place
    assert positions(sub)[entry_ids(sub).index(f"urn:uuid:{fact.event_id}")] == correction.position
    assert f"urn:uuid:{correction.event_id}" in entry_ids(sub)
    assert f"urn:uuid:{retraction.event_id}" in entry_ids(sub)
    subject, subject_archives = walk(client, "/subjects/meeting/2plus2/feed.atom")
    assert len(subject_archives) == 2 and len(entry_ids(subject)) == 2 * SIZE  # all within the window
    agreements, _ = walk(client, "/agreements/feed.atom")
    assert _change_entries(agreements)[0][2] == "acsa: signed (June 2018)"  # no short name given
    first = client.get("/feed.atom")
    assert client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_exercise_entries_say_what_and_when(seeded_feed_app):
    root, _ = fetch(seeded_feed_app.test_client(), "/exercises/feed.atom")
    titles = [t for _, _, t in _change_entries(root)]
    assert titles and all(" — " in t for t in titles)


def test_the_readme_sample_entry_is_what_the_feed_serves(sqlite_url, tmp_path):
    """The README shows real output: the same elements, ids, title, categories and link (times differ)."""
    from pathlib import Path

    from seeds.loader import seed

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    sample = readme.split("A sample entry of `/subjects/agreement/acsa/feed.atom`", 1)[1]
    sample = sample.split("```xml\n", 1)[1].split("```", 1)[0]
    sample = sample.replace("<entry>", f'<entry xmlns="{ATOM_NS}" xmlns:chr="{CHRONOLOGY_NS}">', 1)
    documented = etree.fromstring(sample)
    app = make_app(sqlite_url, tmp_path / "instance", PUBLIC_URL="https://chronology.example")
    try:
        with app.app_context():
            seed()
            projections.catch_up()
        root, _ = fetch(app.test_client(), "/subjects/agreement/acsa/feed.atom")
        served = root.find("a:entry", NS)
        assert [e.tag for e in served] == [e.tag for e in documented]
        for path in ("a:id", "a:title", "a:summary", "a:content", "chr:position"):
            assert served.findtext(path, namespaces=NS) == documented.findtext(path, namespaces=NS), path
        for path in ("a:category", "a:link"):
            assert [dict(e.attrib) for e in served.findall(path, NS)] == [
                dict(e.attrib) for e in documented.findall(path, NS)], path
    finally:
        events.db.database.close()


def test_every_feed_address_the_readme_gives_answers_on_a_fresh_install(seeded_app):
    """Gap: the README's example archive, /subjects/agreement/acsa/feed/archive/0.atom, was a 404 after `make run`."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    given = set(re.findall(r"(?:`|https://chronology\.example)(/[^\s`<>…*]*\.atom)", readme))
    concrete = {url for url in given if not re.search(r"/[A-Z]\.atom$", url)}  # `/feed/archive/N.atom` is a pattern
    assert {"/feed.atom", "/feed/archive/1.atom", "/subjects/agreement/acsa/feed.atom"} <= concrete
    client = seeded_app.test_client()
    for url in sorted(concrete):
        fetch(client, url)


@pytest.mark.parametrize("name", ["agreements", "exercises", "meetings"])
def test_a_rebuild_is_invisible_in_every_read_model_feed(seeded_feed_app, name):
    client = seeded_feed_app.test_client()
    sub, archives = walk(client, f"/{name}/feed.atom")
    before = [_change_entries(page) for page in (sub, *archives)]
    assert before[0], f"the {name} feed is empty on the seeds"
    with seeded_feed_app.app_context():
        projections.rebuild()
    sub, archives = walk(client, f"/{name}/feed.atom")
    assert [_change_entries(page) for page in (sub, *archives)] == before


# --- every entry witnesses the chain ------------------------------------------------


def _claims(root: etree._Element) -> list[tuple[int, str | None]]:
    return [(int(e.findtext("chr:position", namespaces=NS)), e.findtext("chr:hash", namespaces=NS))
            for e in root.findall("a:entry", NS)]


def test_every_entry_of_every_feed_and_archive_carries_its_events_hash(seeded_feed_app):
    client = seeded_feed_app.test_client()
    with seeded_feed_app.app_context():
        logged = list(events.read_all())
    hashes = {e.position: e.hash for e in logged}
    busiest_type = Counter(e.type for e in logged).most_common(1)[0][0]
    busiest_subject = Counter(e.stream for e in logged).most_common(1)[0][0]
    urls = ["/feed.atom", f"/types/{busiest_type}/feed.atom", f"/subjects/{busiest_subject}/feed.atom",
            *(f"/{model.name}/feed.atom" for model in projections.with_feeds())]
    archived = 0
    for url in urls:
        sub, archives = walk(client, url)
        assert archives, f"{url} has no archive page to check"
        for document in (sub, *archives):
            claims = _claims(document)
            assert claims, url
            assert all(found == hashes[position] for position, found in claims), url
        archived += len(archives)
    assert archived >= len(urls)


def test_a_read_model_feed_never_shows_a_stale_hash_under_an_old_validator(seeded_feed_app, rewrite, later):
    client = seeded_feed_app.test_client()
    before, first = fetch(client, "/agreements/feed.atom")
    position, old = _claims(before)[0]
    with seeded_feed_app.app_context():
        rewrite(position, f"UPDATE event SET author = 'mallory' WHERE position = {position}")
        new = events.store.hashes([position])[position]
    later(feeds.DEFAULT_TTL)  # rewritten behind the service's back: seen once the head is read again
    after, second = fetch(client, "/agreements/feed.atom", **{"If-None-Match": first.headers["ETag"]})
    assert new != old and _claims(after)[0] == (position, new)
    assert second.headers["ETag"] != first.headers["ETag"]


def test_a_log_holding_text_xml_cannot_carry_still_renders_every_feed_and_archive(feed_app, monkeypatch):
    """A form feed written before such text was refused once made these documents a 500, the archive for ever."""
    with written_by_an_earlier_version():
        [old] = append(feed_app, make_event(stream="meeting/2plus2", type_="MeetingHeld", occurred="2017-01-06",
                                            title="Third\x002+2", data={"summary": "pasted\x0cfrom a PDF",
                                                                        "place": "Paris\ufffe"}))
    numbered(feed_app, SIZE)  # the old entry ages out of the subscription document into archive 1
    client = feed_app.test_client()
    for url in ("/feed/archive/1.atom", "/subjects/meeting/2plus2/feed/archive/0.atom",
                "/types/MeetingHeld/feed/archive/0.atom"):
        _, response = fetch(client, url)
        assert "Third\ufffd2+2" in response.get_data(as_text=True), url
    meetings, _ = fetch(client, "/meetings/feed.atom")
    fetch(client, links(meetings)["prev-archive"])  # the read model's archive holding it renders too
    for path in (f"/events/{old.event_id}", "/subjects/meeting/2plus2", "/timeline", "/meetings"):
        response = client.get(path)
        assert response.status_code == 200 and "\x0c" not in response.get_data(as_text=True), path


def test_no_host_header_plants_its_links_in_a_feed(sqlite_url, tmp_path):
    """Archive pages are cached for a year: a made-up Host must not name another site in them."""
    plain = make_app(sqlite_url, tmp_path / "plain", FEED_PAGE_SIZE=SIZE)
    numbered(plain, SIZE)
    client = plain.test_client()
    for url in ("/feed.atom", "/feed/archive/1.atom", "/agreements", "/"):
        assert client.get(url, headers={"Host": "evil.example"}).status_code == 400, url
        assert client.get(url, headers={"Host": "127.0.0.1:8000"}).status_code == 200, url
    public = make_app(sqlite_url, tmp_path / "public", FEED_PAGE_SIZE=SIZE, PUBLIC_URL="https://chronology.example")
    page = public.test_client().get("/feed/archive/1.atom", headers={"Host": "evil.example"})
    assert page.status_code == 200 and b"evil.example" not in page.data and b"https://chronology.example/" in page.data
    listed = make_app(sqlite_url, tmp_path / "listed", TRUSTED_HOSTS=["chronology.example"])
    assert listed.test_client().get("/feed.atom", headers={"Host": "chronology.example"}).status_code == 200
    assert listed.test_client().get("/feed.atom", headers={"Host": "localhost"}).status_code == 400
