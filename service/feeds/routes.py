"""The Atom feeds: the whole log, per subject, per type and per read model, as RFC 5005 archived feeds.

Each feed is a subscription document (the newest ``FEED_PAGE_SIZE``
entries, linking ``prev-archive`` to the newest complete archive) and
archive pages of a fixed number of items that never change once full.
Pages are read by keyset (position, or (updated, position, id) for the read
models), never by OFFSET, so a page costs the same at a million events.

Log archives are numbered (``/feed/archive/N.atom`` holds positions
(N-1)*size+1 .. N*size: positions have no gaps). A filtered sequence has
gaps, so its archive pages are named by the key of the item just before
them (``0`` for the first): ``/subjects/<stream>/feed/archive/<position>.atom``,
``/agreements/feed/archive/<change id>.atom``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, has_request_context, request

import events
import projections
from events import RecordedEvent
from events.vocabulary import EVENT_TYPES
from projections.changes import Change, ChangeLog

from . import atom, caching, revalidation
from .entries import change_entry, event_entries
from .heads import DEFAULT_TTL, heads

log = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__)

DEFAULT_PAGE_SIZE = 50
#: Bump when the rendering changes: every validator changes with it.
RENDER_VERSION = 2  # 2: entries carry chr:hash
_ARCHIVE_NUMBER = re.compile(r"[1-9][0-9]{0,17}")
_POSITION_KEY = re.compile(r"0|[1-9][0-9]{0,17}")
_UUID_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Settings:
    """The feed configuration of one app, read once (a poll should not pay for config lookups)."""

    page_size: int
    head_ttl: float
    hub: str | None
    public_url: str | None
    database_url: str


def settings() -> Settings:
    extensions = current_app.extensions
    found = extensions.get("chronology.feed_settings")
    if found is None:
        config = current_app.config
        found = extensions["chronology.feed_settings"] = Settings(
            int(config.get("FEED_PAGE_SIZE", DEFAULT_PAGE_SIZE)), float(config.get("FEED_HEAD_TTL", DEFAULT_TTL)),
            config.get("WEBSUB_HUB") or None, str(config["PUBLIC_URL"]).rstrip("/") if config.get("PUBLIC_URL")
            else None, config["DATABASE_URL"])
    return found


_ROOTS: dict[tuple[object, ...], str] = {}


def _root(req: Any) -> str:
    """``request.url_root`` without its trailing slash, remembered per (scheme, host, script root).

    werkzeug rebuilds and IRI-checks the URL on every call: remembering it saved 4.4 % of a revalidation
    answered by Flask (350 against 365 µs in-process, best of five runs of 3,000).
    """
    environ = req.environ
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
           environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"), environ.get("HTTP_X_FORWARDED_HOST"),
           environ.get("HTTP_X_FORWARDED_PROTO"))
    found = _ROOTS.get(key)
    if found is None:
        found = req.url_root.rstrip("/")
        if len(_ROOTS) < 64:  # a flood of made-up Host headers must not grow it
            _ROOTS[key] = found
    return found


def page_size() -> int:
    return settings().page_size


def base_url() -> str:
    """The scheme and host the links are built on: ``PUBLIC_URL`` if configured, else the request's."""
    return settings().public_url or _root(request)


def _hub() -> str | None:
    return settings().hub


def _respond(key_parts: Sequence[object], last_modified: datetime, build: Callable[[], atom.Document],
             *, immutable: bool = False, config: Settings | None = None) -> Response:
    config, req = config or settings(), request._get_current_object()  # type: ignore[attr-defined]
    base = config.public_url or _root(req)
    key = caching.validator(RENDER_VERSION, base, config.page_size, config.hub, *key_parts)

    def render() -> bytes:
        doc = build()
        if config.hub:  # WebSub discovery in the document too, for readers that never see the headers
            doc.links["hub"] = config.hub
        return atom.render(doc)

    return caching.feed_response(req, key, last_modified, render, self_url=base + req.path, hub=config.hub,
                                 immutable=immutable)


# --- the whole log ---------------------------------------------------------------


def _log_archive_url(n: int) -> str:
    return f"{base_url()}/feed/archive/{n}.atom"


@bp.get("/feed.atom")
def log_feed() -> Response:
    """The subscription document of the whole log: its newest entries and tombstones."""
    config = settings()
    size = config.page_size
    top, fresh_until, generation = heads.lookup(config.database_url, config.head_ttl)
    head = top.position if top else 0
    complete = head // size
    revalidation.allow_reuse(request.environ, fresh_until, generation)

    def build() -> atom.Document:
        batch = events.read(max(0, head - size), limit=size)
        entries, tombstones = event_entries(batch, base_url())
        links = {"prev-archive": _log_archive_url(complete)} if complete else {}
        return atom.Document(atom.feed_id("log"), "France–Japan partnership chronology: every change",
                             "Every fact, correction and retraction appended to the chronology's log.",
                             base_url() + request.path, base_url() + "/", entries, tombstones, links)

    return _respond(("log", head, top.hash if top else ""), top.recorded_at if top else atom.EMPTY_UPDATED, build,
                    config=config)


@bp.get("/feed/archive/<number>.atom")
def log_archive(number: str) -> Response:
    """Archive page N: positions (N-1)*size+1 .. N*size, served once complete, immutable."""
    if not _ARCHIVE_NUMBER.fullmatch(number):
        abort(404, description=f"{number!r} is not an archive number (1, 2, 3, ...).")
    config = settings()
    n, size = int(number), config.page_size
    # A page once complete stays complete: the cached head is enough to say yes; only "not yet" asks the log.
    top = heads.get(config.database_url, config.head_ttl)
    known = top.position if top else 0
    full = n * size <= known or n * size <= events.store.head_position()
    last = events.read(n * size - 1, limit=1) if full else []
    if not last or last[0].position != n * size:
        abort(404, description=f"Archive {n} is not complete yet: only full pages of {size} events are archived.")
    end = last[0]
    revalidation.allow_reuse(request.environ, revalidation.FOREVER)

    def build() -> atom.Document:
        batch = events.read((n - 1) * size, limit=size)
        entries, tombstones = event_entries(batch, base_url())
        links = {"current": base_url() + "/feed.atom", "next-archive": _log_archive_url(n + 1)}
        if n > 1:
            links["prev-archive"] = _log_archive_url(n - 1)
        return atom.Document(atom.feed_id("log"), f"France–Japan partnership chronology: archive {n}",
                             f"Log positions {(n - 1) * size + 1} to {n * size}.",
                             base_url() + request.path, base_url() + "/", entries, tombstones, links, archive=True)

    return _respond(("log-archive", n, end.hash), end.recorded_at, build, immutable=True)


# --- filtered views of the log ---------------------------------------------------


@dataclass(frozen=True)
class LogFilter:
    """A subset of the log (one subject, or one type) paged over its own sequence."""

    name: str  # for the feed id
    path: str  # the feed's URL path without ".atom"
    title: str
    filters: dict[str, Any]

    def read(self, after: int = 0, limit: int = 50, **kwargs: Any) -> list[RecordedEvent]:
        return events.read(after, limit=limit, **self.filters, **kwargs)

    def count(self, upto: int | None = None) -> int:
        types = self.filters.get("types")
        return events.store.count(stream=self.filters.get("stream"), type_=types[0] if types else None, upto=upto)


def _subject(stream: str) -> LogFilter:
    if events.stream_version(stream) == 0:
        abort(404, description=f"There is no subject {stream!r} in the chronology.")
    return LogFilter(f"subject/{stream}", f"/subjects/{stream}/feed", f"{stream}: every change",
                     {"stream": stream})


def _type(type_: str) -> LogFilter:
    if type_ not in EVENT_TYPES:
        abort(404, description=f"{type_!r} is not an event type of the chronology.")
    return LogFilter(f"type/{type_}", f"/types/{type_}/feed", f"Every {type_} event", {"types": [type_]})


def _filtered_archive_url(view: LogFilter, key: int) -> str:
    return f"{base_url()}{view.path}/archive/{key}.atom"


def _filtered_feed(view: LogFilter) -> Response:
    size = page_size()
    newest = view.read(limit=size, descending=True)
    newest.reverse()
    top = newest[-1] if newest else None

    def build() -> atom.Document:
        entries, tombstones = event_entries(newest, base_url())
        links = {}
        total = view.count(top.position) if top else 0
        if top is not None and total >= size:
            # The newest complete page starts after the item ((complete-1)*size) of the sequence.
            depth = total % size + size + 1
            older = view.read(limit=depth, before=top.position + 1, descending=True)
            links["prev-archive"] = _filtered_archive_url(view, older[-1].position if len(older) == depth else 0)
        return atom.Document(atom.feed_id(view.name), view.title, f"The newest {size} entries; older ones are "
                             "in the archives.", base_url() + request.path, base_url() + "/", entries, tombstones,
                             links)

    return _respond((view.name, top.position if top else 0, top.hash if top else ""),
                    max((e.recorded_at for e in newest), default=atom.EMPTY_UPDATED), build)


def _filtered_archive(view: LogFilter, key: str) -> Response:
    size = page_size()
    if not _POSITION_KEY.fullmatch(key):
        abort(404, description=f"{key!r} is not an archive key (a log position).")
    after = int(key)
    start = view.read(after - 1, limit=1) if after else []
    if after and (not start or start[0].position != after or view.count(after) % size):
        abort(404, description=f"No archive page of this feed starts after position {after}.")
    page = view.read(after, limit=size)
    if len(page) < size:
        abort(404, description=f"This archive page is not complete yet: only full pages of {size} are archived.")

    def build() -> atom.Document:
        entries, tombstones = event_entries(page, base_url())
        links = {"current": f"{base_url()}{view.path}.atom",
                 "next-archive": _filtered_archive_url(view, page[-1].position)}
        if after:
            older = view.read(limit=size + 1, before=after + 1, descending=True)
            links["prev-archive"] = _filtered_archive_url(view, older[-1].position if len(older) == size + 1 else 0)
        return atom.Document(atom.feed_id(view.name), f"{view.title}: archive",
                             f"Entries after log position {after}.", base_url() + request.path, base_url() + "/",
                             entries, tombstones, links, archive=True)

    return _respond((view.name, "archive", after, page[-1].hash), max(e.recorded_at for e in page), build,
                    immutable=True)


@bp.get("/subjects/<path:stream>/feed.atom")
def subject_feed(stream: str) -> Response:
    """Every change to one subject (its whole stream, corrections and retractions included)."""
    return _filtered_feed(_subject(stream))


@bp.get("/subjects/<path:stream>/feed/archive/<key>.atom")
def subject_archive(stream: str, key: str) -> Response:
    return _filtered_archive(_subject(stream), key)


@bp.get("/types/<type_>/feed.atom")
def type_feed(type_: str) -> Response:
    """Every event of one type."""
    return _filtered_feed(_type(type_))


@bp.get("/types/<type_>/feed/archive/<key>.atom")
def type_archive(type_: str, key: str) -> Response:
    return _filtered_archive(_type(type_), key)


# --- read-model feeds -------------------------------------------------------------


def now() -> datetime:
    """The moment a read-model feed is read at: a calendar change shows once its moment has come."""
    return datetime.now(UTC)


def _read_model(name: str) -> ChangeLog:
    """The read model whose feed is ``/<name>/feed.atom``; 404 for any name the registry does not list."""
    found = next((model for model in projections.with_feeds() if model.name == name), None)
    if found is None:
        abort(404, description=f"There is no feed at /{name}/feed.atom.")
    return found


def _fingerprint(changes: Iterable[Change], hashes: dict[int, str]) -> str:
    """A digest of every field of the changes a document shows and of the events' hashes it cites.

    Its validator then changes with any of them, a rewritten log included.
    """
    text = "|".join(repr(astuple(c)) for c in changes) + "#" + "|".join(f"{p}:{h}" for p, h in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _model_archive_url(model: ChangeLog, key: str) -> str:
    return f"{base_url()}/{model.name}/feed/archive/{key}.atom"


@bp.get("/<name>/feed.atom")
def model_feed(name: str) -> Response:
    """The subscription document of a read model's changes (``/agreements/feed.atom``, ...)."""
    model, size, moment = _read_model(name), page_size(), now()
    newest = model.changes(moment, limit=size, descending=True)
    newest.reverse()
    prev = None
    if newest:
        total = model.count_changes(moment, newest[-1].key)
        if total >= size:
            depth = total % size + size + 1
            older = model.changes(moment, limit=depth, descending=True)
            prev = older[-1].id if len(older) == depth else "0"
    hashes = events.store.hashes(c.position for c in newest)

    def build() -> atom.Document:
        entries = [change_entry(c, base_url(), model.name, hashes.get(c.position)) for c in newest]
        links = {"prev-archive": _model_archive_url(model, prev)} if prev else {}
        return atom.Document(atom.feed_id(model.name), model.feed_title, "The newest changes; older ones are in the "
                             "archives.", base_url() + request.path, f"{base_url()}/{model.name}", entries, [], links)

    return _respond((model.name, prev, _fingerprint(newest, hashes)),
                    max((c.updated for c in newest), default=atom.EMPTY_UPDATED), build)


@bp.get("/<name>/feed/archive/<key>.atom")
def model_archive(name: str, key: str) -> Response:
    """A complete page of a read model's changes, named by the change just before it (``0``: the first)."""
    model, size, moment = _read_model(name), page_size(), now()
    after = None
    if key != "0":
        found = model.find_change(moment, key) if _UUID_KEY.fullmatch(key) else None
        rank = model.count_changes(moment, found.key) if found is not None else 0
        if found is None or not rank or rank % size:
            abort(404, description=f"No archive page of this feed starts after {key!r}.")
        after = found
    page = model.changes(moment, after=after.key if after else None, limit=size)
    if len(page) < size:
        abort(404, description=f"This archive page is not complete yet: only full pages of {size} are archived.")
    hashes = events.store.hashes(c.position for c in page)

    def build() -> atom.Document:
        entries = [change_entry(c, base_url(), model.name, hashes.get(c.position)) for c in page]
        links = {"current": f"{base_url()}/{model.name}/feed.atom",
                 "next-archive": _model_archive_url(model, page[-1].id)}
        if after is not None:
            older = model.changes(moment, after=page[0].key, limit=size + 1, descending=True)
            links["prev-archive"] = _model_archive_url(model, older[-1].id if len(older) == size + 1 else "0")
        return atom.Document(atom.feed_id(model.name), f"{model.feed_title}: archive", "A complete page of changes.",
                             base_url() + request.path, f"{base_url()}/{model.name}", entries, [], links,
                             archive=True)

    return _respond((model.name, "archive", key, _fingerprint(page, hashes)), max(c.updated for c in page), build,
                    immutable=True)


# --- WebSub -----------------------------------------------------------------------


def feed_paths(changed: Iterable[str | RecordedEvent]) -> list[str]:
    """The feeds that change with ``changed`` (appended events, or names of read models)."""
    paths: list[str] = []
    models = {model.name: model for model in projections.with_feeds()}
    for item in changed:
        if isinstance(item, RecordedEvent):
            found = ["/feed.atom", f"/subjects/{item.stream}/feed.atom", f"/types/{item.type}/feed.atom"]
            found += [f"/{model.name}/feed.atom" for model in models.values() if model.kind == item.kind]
        else:
            found = [f"/{item}/feed.atom"] if item in models else []
        paths.extend(p for p in found if p not in paths)
    return paths


def _ping(hub: str, urls: list[str]) -> None:
    for url in urls:
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(hub, data=body, method="POST"), timeout=10) as reply:
                log.info("WebSub hub %s told of %s (HTTP %s)", hub, url, reply.status)
        except Exception as exc:  # a hub that is down must never fail a write
            log.warning("WebSub publish ping to %s for %s failed: %s", hub, url, exc)


def notify_feeds(changed: Iterable[str | RecordedEvent]) -> threading.Thread | None:
    """Tell the configured WebSub hub, in the background, which feeds changed."""
    hub = _hub()
    if not hub:
        return None
    base = settings().public_url or (request.url_root if has_request_context() else None)
    if not base:
        log.warning("WebSub hub configured but PUBLIC_URL is not: cannot name the feeds outside a request")
        return None
    urls = [str(base).rstrip("/") + p for p in feed_paths(changed)]
    thread = threading.Thread(target=_ping, args=(hub, urls), name="websub-publish", daemon=True)
    thread.start()
    return thread
