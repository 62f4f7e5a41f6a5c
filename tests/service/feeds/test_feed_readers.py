"""Real feed readers nobody here wrote, against the service served on 127.0.0.1.

``feedparser`` (PyPI) reads the documents, follows the archive chain and
revalidates with ETag (strong or weakened) and Last-Modified. ``newsboat``
and ``rss2email`` (Debian packages) poll as they do in everyday use, never
walking ``prev-archive``: 200 events appended between two polls must reach
each exactly once, a correction and a retraction must reach each as the
README says, and a poll that changed nothing must be a 304.
"""

from __future__ import annotations

import email
import mailbox
import os
import shutil
import sqlite3
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from werkzeug.serving import make_server

import events
from events import NewEvent
from service.feeds import heads as heads_module
from tests.conftest import make_app, make_event

SIZE = 10
BUSY_WEEK = 200  # arrivals between two polls: four times the page of 50 readers used to see


class Recorder:
    """WSGI middleware that notes each feed request's path, status and If-None-Match."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.seen: list[tuple[str, int, str | None]] = []

    def __call__(self, environ, start_response):
        def noted(status, headers, exc_info=None):
            self.seen.append((environ["PATH_INFO"], int(status.split()[0]), environ.get("HTTP_IF_NONE_MATCH")))
            return start_response(status, headers, exc_info)

        return self.app(environ, noted)


def _serve(app) -> Iterator[tuple[object, str, Recorder]]:
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}", recorder
    server.shutdown()
    thread.join(5)
    if not events.db.database.is_closed():
        events.db.database.close()


@pytest.fixture
def served(sqlite_url, tmp_path):
    """The service with small pages (so a few events fill archives) on a real socket: (app, base URL, recorder)."""
    yield from _serve(make_app(sqlite_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE))


@pytest.fixture
def deployed(sqlite_url, tmp_path):
    """The service as deployed (pages of 50, a window of 30 days up to 1,000 entries) on a real socket."""
    yield from _serve(make_app(sqlite_url, tmp_path / "instance"))


@pytest.fixture
def later(monkeypatch):
    """Move the wall clock the head cache reads forward: the newest event's second is then over."""
    shift = [0.0]
    wall = heads_module.wall_clock
    monkeypatch.setattr(heads_module, "wall_clock", lambda: wall() + timedelta(seconds=shift[0]))

    def move(seconds: float) -> None:
        shift[0] += seconds
        heads_module.heads.clear()

    return move


def append(app, count: int, start: int = 0, *, batch: int = 20) -> list[events.RecordedEvent]:
    """``count`` 2+2 sessions, appended ``batch`` at a time as an editor's busy week would."""
    made = [make_event(stream="meeting/2plus2", type_="MeetingHeld", occurred=f"{2000 + i % 30}",
                       title=f"2+2 session {i}") for i in range(start, start + count)]
    with app.app_context():
        return [e for i in range(0, count, batch) for e in events.append(made[i:i + batch], author="test")]


def correct(app, target: events.RecordedEvent) -> events.RecordedEvent:
    with app.app_context():
        return events.append([NewEvent(target.stream, "EventCorrected", target.occurred, {
            "title": "Title corrected", "target": target.event_id,
            "changes": {"data": {"title": "2+2 session 0, Tokyo"}},
            "reason": "The statement names Tokyo."})], author="test")[0]


def retract(app, target: events.RecordedEvent) -> events.RecordedEvent:
    with app.app_context():
        return events.append([NewEvent(target.stream, "EventRetracted", target.occurred, {
            "title": "Session withdrawn", "target": target.event_id,
            "reason": "It was the same session as another."})], author="test")[0]


def urn(event: events.RecordedEvent) -> str:
    return f"urn:uuid:{event.event_id}"


def test_feedparser_reads_the_feed_walks_the_archives_and_revalidates(served, later):
    app, base, _ = served
    recorded = append(app, 2 * SIZE + 3)
    parsed = feedparser.parse(f"{base}/feed.atom")
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.status == 200
    assert parsed.headers["content-encoding"] == "gzip"  # feedparser asks for it
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    assert links["self"] == f"{base}/feed.atom"
    assert len(parsed.entries) == 2 * SIZE + 3  # every event recorded in the window
    newest = recorded[-1]
    (last,) = [e for e in parsed.entries if e.id == urn(newest)]
    assert last.title == f"2+2 session {2 * SIZE + 2} — {2000 + 2 * SIZE + 2}"
    assert last.link == f"{base}/events/{newest.event_id}"
    assert {t.term for t in last.tags} == {"MeetingHeld", "meeting/2plus2"}
    assert last.updated_parsed[:6] == newest.recorded_at.utctimetuple()[:6]

    url = links.get("prev-archive")
    archived: Counter[str] = Counter()
    while url:
        page = feedparser.parse(url)
        assert page.bozo == 0 and page.status == 200
        archived.update(e.id for e in page.entries)
        url = next((link["href"] for link in page.feed.links if link["rel"] == "prev-archive"), None)
    assert set(archived.values()) == {1}
    assert set(archived) == {urn(e) for e in recorded[:2 * SIZE]}  # full pages only

    again = feedparser.parse(f"{base}/feed.atom", etag=parsed.etag)
    assert again.status == 304 and again.entries == []
    weakened = feedparser.parse(f"{base}/feed.atom", etag=f"W/{parsed.etag}")  # as a compressing proxy passes it on
    assert weakened.status == 304
    later(5)  # the newest event's second is over: only now can a date alone say nothing is newer
    dated = feedparser.parse(f"{base}/feed.atom")
    assert feedparser.parse(f"{base}/feed.atom", modified=dated.modified).status == 304
    append(app, 1, start=100)
    fresh = feedparser.parse(f"{base}/feed.atom", etag=parsed.etag, modified=dated.modified)
    assert fresh.status == 200 and fresh.etag != parsed.etag


def test_a_date_only_poll_is_not_told_304_after_an_event_in_the_same_second(served, monkeypatch):
    """Gap: a client that sent only If-Modified-Since got 304 and missed an event recorded in the same second."""
    app, base, _ = served
    (first,) = append(app, 1)
    monkeypatch.setattr(events.store, "utc_now", lambda: first.recorded_at)  # the next append: the same instant
    seen = feedparser.parse(f"{base}/feed.atom")
    (second,) = append(app, 1, start=1)
    assert second.recorded_at.replace(microsecond=0) == first.recorded_at.replace(microsecond=0)
    again = feedparser.parse(f"{base}/feed.atom", modified=seen.modified)
    assert again.status == 200 and urn(second) in {e.id for e in again.entries}


# --- readers that never walk archives: a busy week between two polls ------------------


class Reader:
    """A feed reader subscribed to one URL; ``poll`` returns what it holds afterwards: (guid, title) in order."""

    name: str

    def poll(self) -> list[tuple[str, str]]:
        raise NotImplementedError


class FeedparserReader(Reader):
    """What a reader built on feedparser does: keep each id's newest version (by ``updated``), revalidate."""

    name = "feedparser"

    def __init__(self, url: str, home: Path) -> None:
        self.url, self.etag, self.modified = url, None, None
        self.held: dict[str, tuple[str, str]] = {}  # id -> (updated, title)

    def poll(self) -> list[tuple[str, str]]:
        parsed = feedparser.parse(self.url, etag=self.etag, modified=self.modified)
        assert parsed.bozo == 0 and parsed.status in (200, 304)
        self.etag, self.modified = parsed.get("etag"), parsed.get("modified")
        for entry in parsed.entries:
            if entry.id not in self.held or entry.updated >= self.held[entry.id][0]:
                self.held[entry.id] = (entry.updated, entry.title)
        return [(guid, title) for guid, (_, title) in self.held.items()]


NEWSBOAT = shutil.which("newsboat")
R2E = shutil.which("r2e")


class Newsboat(Reader):
    """``newsboat -x reload``, headless, with its own cache."""

    name = "newsboat"

    def __init__(self, url: str, home: Path) -> None:
        self.home = home
        (home / "config").write_text("")
        (home / "urls").write_text(f"{url}\n")

    def poll(self) -> list[tuple[str, str]]:
        subprocess.run([NEWSBOAT, "-x", "reload", "-u", str(self.home / "urls"), "-c", str(self.home / "cache.db"),
                        "-C", str(self.home / "config")], env={**os.environ, "HOME": str(self.home)}, check=True,
                       timeout=120, capture_output=True)
        with sqlite3.connect(self.home / "cache.db") as db:
            return list(db.execute("SELECT guid, title FROM rss_item ORDER BY id"))


class Rss2email(Reader):
    """``r2e run`` delivering into a local Maildir: every message it would send, with the entry's id in X-RSS-ID."""

    name = "rss2email"

    def __init__(self, url: str, home: Path) -> None:
        self.home, self.maildir = home, home / "Maildir"
        self.config, self.data = home / "r2e.cfg", home / "r2e.json"
        self.maildir.mkdir()
        self.config.write_text(
            "[DEFAULT]\nto = reader@example.invalid\nfrom = chronology@example.invalid\n"
            f"email-protocol = maildir\nmaildir-path = {self.maildir}\nmaildir-mailbox = inbox\n"
            "same-server-fetch-interval = 0\n")
        self._r2e("add", "chronology", url)

    def _r2e(self, *args: str) -> None:
        done = subprocess.run([R2E, "-c", str(self.config), "-d", str(self.data), *args], timeout=120,
                              capture_output=True, text=True, env={**os.environ, "HOME": str(self.home)})
        assert done.returncode == 0 and "[ERROR]" not in done.stderr, done.stderr

    def poll(self) -> list[tuple[str, str]]:
        self._r2e("run")
        if not (self.maildir / "inbox").exists():
            return []
        return [(m["X-RSS-ID"], str(email.header.make_header(email.header.decode_header(m["Subject"]))))
                for m in mailbox.Maildir(self.maildir / "inbox", create=False)]


def _debian(cls: type[Reader], binary: str | None) -> object:
    missing = pytest.mark.skipif(binary is None, reason=f"{cls.name} is not installed (apt-get install {cls.name}; "
                                                         "make test does)")
    return pytest.param(cls, id=cls.name, marks=[pytest.mark.slow, missing])


READERS = [pytest.param(FeedparserReader, id="feedparser"), _debian(Newsboat, NEWSBOAT), _debian(Rss2email, R2E)]


@pytest.mark.parametrize("reader_class", READERS)
def test_a_reader_that_never_walks_archives_gets_every_one_of_a_busy_weeks_events_once(deployed, reader_class,
                                                                                         tmp_path):
    """Gap: newsboat, rss2email and most readers saw only the newest 50 of the events since their last poll."""
    app, base, recorder = deployed
    reader = reader_class(f"{base}/feed.atom", tmp_path)
    first = append(app, 5)
    assert Counter(g for g, _ in reader.poll()) == Counter(urn(e) for e in first)

    busy = append(app, BUSY_WEEK, start=5)
    held = Counter(g for g, _ in reader.poll())
    assert held == Counter(urn(e) for e in [*first, *busy])  # every one, exactly once

    recorder.seen.clear()
    assert Counter(g for g, _ in reader.poll()) == held  # nothing new: nothing new
    assert [status for path, status, _ in recorder.seen if path == "/feed.atom"] == [304]


@pytest.mark.parametrize("reader_class", READERS)
def test_a_correction_and_a_retraction_reach_a_reader_as_the_readme_says(deployed, reader_class, tmp_path):
    """The correction and the retraction each arrive as an entry of their own; a reader that replaces an entry by
    its id (feedparser, newsboat) shows the corrected version; rss2email, which never mails an id twice, mails
    the correction's own entry; none acts on the tombstone, so the retraction is told by its own entry."""
    app, base, _ = deployed
    reader = reader_class(f"{base}/feed.atom", tmp_path)
    first = append(app, 3)
    reader.poll()
    correction, retraction = correct(app, first[0]), retract(app, first[1])
    held = reader.poll()
    guids = Counter(g for g, _ in held)
    assert guids == Counter(urn(e) for e in [*first, correction, retraction])
    titles = dict(held)
    assert titles[urn(correction)] == "Corrected: 2+2 session 0"
    assert titles[urn(retraction)] == "Retracted: 2+2 session 1"
    if reader.name == "rss2email":
        assert titles[urn(first[0])] == "2+2 session 0 — 2000"  # mailed once, before it was corrected
    else:
        assert titles[urn(first[0])] == "2+2 session 0, Tokyo — 2000"
