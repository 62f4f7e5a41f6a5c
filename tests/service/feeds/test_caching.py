"""Validators, the render cache and conditional answers, on a bare Flask app."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from flask import Flask, request

from service.feeds import caching
from service.feeds.caching import RenderCache, feed_response, validator

MODIFIED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


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
        return feed_response(request, '"k1"', MODIFIED, lambda: b"<feed/>", self_url="http://localhost/doc",
                             hub=request.args.get("hub"), immutable="immutable" in request.args)

    return app


def test_feed_response_answers_304_to_either_validator_and_keeps_its_headers():
    caching.documents.clear()
    client = _app().test_client()
    full = client.get("/doc")
    assert full.status_code == 200 and full.data == b"<feed/>"
    assert full.headers["ETag"] == '"k1"'
    assert full.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert full.headers["Cache-Control"] == "public, no-cache"
    assert full.headers["Link"] == '<http://localhost/doc>; rel="self"'
    for headers in ({"If-None-Match": '"k1"'}, {"If-None-Match": '"other", "k1-gz"'},
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
