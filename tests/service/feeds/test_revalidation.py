"""Revalidations answered before Flask: the same 304, never staler than the view's own answer."""

from __future__ import annotations

import pytest
from flask import request

import events
from service import pipeline
from service.feeds import heads as heads_module
from service.feeds import revalidation
from tests.conftest import make_app, make_event

SIZE = 3


@pytest.fixture
def feed_app(sqlite_url, tmp_path):
    application = make_app(sqlite_url, tmp_path / "instance", FEED_PAGE_SIZE=SIZE, FEED_HEAD_TTL=60)
    application.reached_flask = []

    @application.before_request
    def count() -> None:
        application.reached_flask.append(request.path)

    yield application
    if not events.db.database.is_closed():
        events.db.database.close()


def append(app, count: int) -> None:
    with app.app_context():
        for i in range(count):
            events.append([make_event(stream="meeting/2plus2", type_="MeetingHeld", occurred=f"20{10 + i}",
                                      title=f"Session {i}")], author="test")


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock both the head cache and the middleware read, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(revalidation.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(heads_module.time, "monotonic", lambda: now[0])
    return now


def test_a_repeated_revalidation_gets_flasks_304_without_reaching_flask(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    tag = client.get("/feed.atom").headers["ETag"]
    first = client.get("/feed.atom", headers={"If-None-Match": tag})
    assert first.status_code == 304
    reached = len(feed_app.reached_flask)
    for _ in range(3):
        again = client.get("/feed.atom", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.data == b""
        assert sorted(again.headers.items()) == sorted(first.headers.items())
    assert client.head("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    assert len(feed_app.reached_flask) == reached


def test_an_append_in_this_process_is_seen_by_the_next_poll(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    tag = client.get("/feed.atom").headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    append(feed_app, 1)
    changed = client.get("/feed.atom", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag


def test_another_writers_append_is_seen_once_the_head_ttl_has_passed(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    tag = client.get("/feed.atom").headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    events.store._listeners.remove(pipeline.committed)  # as if another process appended
    try:
        append(feed_app, 1)
    finally:
        events.store.on_append(pipeline.committed)
    clock[0] += 59  # within the head cache's TTL: the view itself would still say 304
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    clock[0] += 2
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 200


def test_other_tags_encodings_and_cookies_go_to_flask(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    tag = client.get("/feed.atom").headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    reached = len(feed_app.reached_flask)
    assert client.get("/feed.atom", headers={"If-None-Match": '"stale"'}).status_code == 200
    other = client.get("/feed.atom", headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
    assert other.status_code == 200 and other.headers["ETag"] == tag[:-1] + '-gz"'  # the identity tag: other bytes
    zipped = client.get("/feed.atom", headers={"If-None-Match": other.headers["ETag"], "Accept-Encoding": "gzip"})
    assert zipped.status_code == 304
    client.set_cookie("session", "x")
    assert client.get("/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    assert len(feed_app.reached_flask) == reached + 4


def test_a_full_archive_pages_304_is_reused_for_ever(feed_app, clock):
    append(feed_app, SIZE)
    client = feed_app.test_client()
    tag = client.get("/feed/archive/1.atom").headers["ETag"]
    assert client.get("/feed/archive/1.atom", headers={"If-None-Match": tag}).status_code == 304
    reached = len(feed_app.reached_flask)
    append(feed_app, SIZE)
    clock[0] += 10 ** 6
    again = client.get("/feed/archive/1.atom", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(feed_app.reached_flask) == reached


def test_feeds_that_do_not_ask_for_reuse_always_reach_flask(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    url = "/subjects/meeting/2plus2/feed.atom"
    tag = client.get(url).headers["ETag"]
    reached = len(feed_app.reached_flask)
    for _ in range(2):
        assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert len(feed_app.reached_flask) == reached + 2


def test_a_weakened_tag_is_answered_before_flask_as_flask_answers_it(feed_app, clock):
    append(feed_app, 2)
    client = feed_app.test_client()
    tag = client.get("/feed.atom").headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": f"W/{tag}"}).status_code == 304
    reached = len(feed_app.reached_flask)
    again = client.get("/feed.atom", headers={"If-None-Match": f'W/"other", W/{tag}'})
    assert again.status_code == 304 and again.headers["ETag"] == tag
    assert len(feed_app.reached_flask) == reached
