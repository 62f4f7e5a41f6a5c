"""Validators, the render cache and conditional answers, on a bare Flask app."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

from flask import Flask, request

from service.feeds import caching
from service.feeds.caching import RenderCache, feed_response, validator

MODIFIED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
SETTLED = MODIFIED + timedelta(seconds=10)  # read from the log well after the newest item's second ended


def test_validators_are_strong_stable_and_distinct():
    tag = validator(1, "https://a", 50, "log", 7, "abc")
    assert tag == validator(1, "https://a", 50, "log", 7, "abc")
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag != validator(1, "https://b", 50, "log", 7, "abc")
    assert tag != validator(1, "https://a", 50, "log", 8, "abc")


def test_the_render_cache_renders_once_and_forgets_the_oldest():
    cache, calls = RenderCache(size=2), []

    def render(text: str):
        return lambda: calls.append(text) or text.encode()

    assert cache.get("a", render("a")).body == b"a"
    assert cache.get("a", render("a")).body == b"a"
    cache.get("b", render("b"))
    cache.get("c", render("c"))  # "a" is the oldest: evicted
    cache.get("a", render("a"))
    assert calls == ["a", "b", "c", "a"]
    assert gzip.decompress(cache.get("a", render("a")).gzipped) == b"a"


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/doc")
    def doc():
        newest = datetime.fromisoformat(request.args["newest"]) if "newest" in request.args else MODIFIED
        read_at = datetime.fromisoformat(request.args["read"]) if "read" in request.args else SETTLED
        return feed_response(request, request.args.get("key", '"k1"'), newest, lambda: b"<feed/>",
                             self_url="http://localhost/doc", hub=request.args.get("hub"),
                             immutable="immutable" in request.args, read_at=read_at)

    return app


def test_feed_response_answers_304_to_its_validators_and_keeps_its_headers():
    caching.documents.clear()
    client = _app().test_client()
    full = client.get("/doc")
    assert full.status_code == 200 and full.data == b"<feed/>"
    assert full.headers["ETag"] == '"k1"'
    assert full.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert full.headers["Cache-Control"] == "public, no-cache"
    assert full.headers["Link"] == '<http://localhost/doc>; rel="self"'
    for headers in ({"If-None-Match": '"k1"'}, {"If-None-Match": '"other", "k1"'}, {"If-None-Match": "*"},
                    {"If-Modified-Since": "Mon, 06 May 2024 07:08:09 GMT"}):
        again = client.get("/doc", headers=headers)
        assert again.status_code == 304, headers
        assert again.headers["Last-Modified"] == full.headers["Last-Modified"]
        assert again.headers["ETag"] == '"k1"'
    assert client.get("/doc", headers={"If-None-Match": '"k2"'}).status_code == 200
    assert client.get("/doc", headers={"If-Modified-Since": "Mon, 06 May 2024 07:08:08 GMT"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    assert client.get("/doc", headers={"If-None-Match": '"k2"',
                                       "If-Modified-Since": "Mon, 06 May 2024 07:08:09 GMT"}).status_code == 200


def test_feed_response_gzip_hub_and_immutable():
    caching.documents.clear()
    client = _app().test_client()
    zipped = client.get("/doc?hub=https://hub.example/&immutable=1", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == b"<feed/>"
    assert zipped.headers["ETag"] == '"k1-gz"'
    assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert zipped.headers["Link"] == '<http://localhost/doc>; rel="self", <https://hub.example/>; rel="hub"'


def test_if_none_match_compares_weakly_as_rfc_9110_says():
    """A cache or proxy that weakened the tag (nginx does when it compresses) still gets its 304."""
    caching.documents.clear()
    client = _app().test_client()
    for tags in ('W/"k1"', '"other", W/"k1"', 'W/"other", W/"k1"'):
        again = client.get("/doc", headers={"If-None-Match": tags})
        assert again.status_code == 304, tags
        assert again.headers["ETag"] == '"k1"'
    assert client.get("/doc", headers={"If-None-Match": 'W/"k2"'}).status_code == 200


def test_a_tag_names_one_encoding_only():
    """The identity and gzip forms are different bytes: a 304 must not tell a cache to keep one under the other."""
    caching.documents.clear()
    client = _app().test_client()
    zipped = client.get("/doc", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["ETag"] == '"k1-gz"' and zipped.headers["Vary"] == "Accept-Encoding"
    assert client.get("/doc", headers={"If-None-Match": '"k1-gz"'}).status_code == 200
    assert client.get("/doc", headers={"Accept-Encoding": "gzip", "If-None-Match": '"k1"'}).status_code == 200
    again = client.get("/doc", headers={"Accept-Encoding": "gzip", "If-None-Match": 'W/"k1-gz"'})
    assert again.status_code == 304 and again.headers["ETag"] == '"k1-gz"'


def test_a_date_only_revalidation_is_never_304_while_a_newer_item_may_share_its_second():
    caching.documents.clear()
    client = _app().test_client()
    newest = "2024-05-06T07:08:09.100000+00:00"
    early = client.get("/doc", query_string={"newest": newest, "read": "2024-05-06T07:08:09.200000+00:00"})
    # read while the second was open: the date names the second before, so the next poll by date gets a 200
    assert early.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:08 GMT"
    later = {"newest": "2024-05-06T07:08:09.900000+00:00", "read": "2024-05-06T07:08:20+00:00", "key": '"k2"'}
    assert client.get("/doc", query_string=later,
                      headers={"If-Modified-Since": early.headers["Last-Modified"]}).status_code == 200
    same = client.get("/doc", query_string={**later, "newest": newest},
                      headers={"If-Modified-Since": early.headers["Last-Modified"]})
    assert same.status_code == 200  # nothing newer, but the date could not tell: a harmless 200
    settled = client.get("/doc", query_string=later)
    assert settled.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert client.get("/doc", query_string=later,
                      headers={"If-Modified-Since": settled.headers["Last-Modified"]}).status_code == 304
    archive = client.get("/doc", query_string={"newest": newest, "read": newest, "immutable": 1})
    assert archive.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"  # a full archive page never changes
