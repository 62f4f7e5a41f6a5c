"""Real feed readers nobody here wrote, against the service served on 127.0.0.1.

``feedparser`` (PyPI) reads the documents, follows the archive chain and
revalidates with ETag and Last-Modified; ``newsboat`` (Debian) polls
headless and must see every appended event exactly once, and nothing new
when nothing changed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from collections import Counter

import feedparser
import pytest
from werkzeug.serving import make_server

import events
from events import NewEvent
from service.writes import append_one
from tests.conftest import make_app, make_event

SIZE = 10


@pytest.fixture
def served(sqlite_url, tmp_path):
    """The service on a real socket (werkzeug's threaded server) and its base URL."""
    app = make_app(sqlite_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    if not events.db.database.is_closed():
        events.db.database.close()


def append(app, count: int, start: int = 0) -> list[events.RecordedEvent]:
    with app.app_context():
        return [append_one(make_event(stream="meeting/2plus2", type_="MeetingHeld", occurred=f"{2000 + i}",
                                      title=f"2+2 session {i}"), author="test").event
                for i in range(start, start + count)]


def correct(app, target: events.RecordedEvent) -> events.RecordedEvent:
    with app.app_context():
        return append_one(NewEvent(target.stream, "EventCorrected", target.occurred, {
            "title": "Title corrected", "target": target.event_id,
            "changes": {"data": {"title": "2+2 session 0, Tokyo"}},
            "reason": "The statement names Tokyo."}), author="test").event


def test_feedparser_reads_the_feed_walks_the_archives_and_revalidates(served):
    app, base = served
    recorded = append(app, 2 * SIZE + 3)
    parsed = feedparser.parse(f"{base}/feed.atom")
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.status == 200
    assert parsed.headers["content-encoding"] == "gzip"  # feedparser asks for it
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    assert links["self"] == f"{base}/feed.atom"
    assert len(parsed.entries) == SIZE
    newest = recorded[-1]
    (last,) = [e for e in parsed.entries if e.id == f"urn:uuid:{newest.event_id}"]
    assert last.title == f"2+2 session {2 * SIZE + 2} — {2000 + 2 * SIZE + 2}"
    assert last.link == f"{base}/events/{newest.event_id}"
    assert {t.term for t in last.tags} == {"MeetingHeld", "meeting/2plus2"}
    assert last.updated_parsed[:6] == newest.recorded_at.utctimetuple()[:6]

    seen = Counter(e.id for e in parsed.entries)
    url = links.get("prev-archive")
    archived: Counter[str] = Counter()
    while url:
        page = feedparser.parse(url)
        assert page.bozo == 0 and page.status == 200
        archived.update(e.id for e in page.entries)
        url = next((link["href"] for link in page.feed.links if link["rel"] == "prev-archive"), None)
    assert set(archived.values()) == {1}
    assert set(archived) | set(seen) == {f"urn:uuid:{e.event_id}" for e in recorded}

    again = feedparser.parse(f"{base}/feed.atom", etag=parsed.etag)
    assert again.status == 304 and again.entries == []
    again = feedparser.parse(f"{base}/feed.atom", modified=parsed.modified)
    assert again.status == 304
    append(app, 1, start=100)
    fresh = feedparser.parse(f"{base}/feed.atom", etag=parsed.etag, modified=parsed.modified)
    assert fresh.status == 200 and fresh.etag != parsed.etag


NEWSBOAT = shutil.which("newsboat")


def _poll(home, url_file, cache) -> list[str]:
    """One headless newsboat reload; the guids in its cache afterwards."""
    subprocess.run([NEWSBOAT, "-x", "reload", "-u", str(url_file), "-c", str(cache), "-C", str(home / "config")],
                   env={**os.environ, "HOME": str(home)}, check=True, timeout=120, capture_output=True)
    with sqlite3.connect(cache) as db:
        return [row[0] for row in db.execute("SELECT guid FROM rss_item")]


@pytest.mark.slow
@pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat; make test does)")
def test_newsboat_sees_every_appended_event_exactly_once(served, tmp_path):
    app, base = served
    home = tmp_path / "newsboat"
    home.mkdir()
    (home / "config").write_text("")
    urls = home / "urls"
    urls.write_text(f"{base}/feed.atom\n")
    cache = home / "cache.db"

    first = append(app, 5)
    guids = _poll(home, urls, cache)
    expected = Counter(f"urn:uuid:{e.event_id}" for e in first)
    assert Counter(guids) == expected

    second = append(app, 3, start=5)
    correction = correct(app, first[0])  # re-publishes first[0] under the same id: an update, not a new item
    guids = _poll(home, urls, cache)
    expected.update(f"urn:uuid:{e.event_id}" for e in [*second, correction])
    assert Counter(guids) == expected

    assert Counter(_poll(home, urls, cache)) == expected  # nothing changed: nothing new
