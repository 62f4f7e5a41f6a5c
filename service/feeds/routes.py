"""The Atom feeds: the whole log, per subject, per type and per read model, as RFC 5005 archived feeds.

Each feed is a sequence of items (log events, or a read model's changes),
published as a subscription document (the newest items: every one of the
window ``windows`` describes, 50 to 1,000 of them, linking ``prev-archive``
to the newest complete archive) and archive pages of a fixed number of items
that never change once full. Pages are read by keyset (position, or
(updated, position, id) for the read models), never by OFFSET, so a page
costs the same at a million events.

One rule decides what a filtered feed carries: an item belongs to it when
the event it is about does. A subject's feed holds its stream; a type's
feed holds the events of that type and the corrections and retractions of
them (a correction re-publishes the corrected event, a retraction adds its
tombstone, wherever the original was published). A read model's feed
holds its changes, each about an event it folded; a correction or
retraction of such an event is the change it makes there. A revision comes
after its target in the log, so every sequence grows only at its end.

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
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, current_app, has_request_context, request
from werkzeug.exceptions import NotFound

import events
import projections
from events import RecordedEvent
from events.vocabulary import EVENT_TYPES, META_TYPES
from projections.changes import Change, ChangeLog

from . import atom, caching, revalidation
from .entries import change_entry, event_entries
from .heads import DEFAULT_TTL, Reading, heads
from .windows import DEFAULT_DAYS, DEFAULT_MAX, Window

log = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__)

DEFAULT_PAGE_SIZE = 50
#: Bump when the rendering changes: every validator changes with it.
RENDER_VERSION = 3  # 2: entries carry chr:hash; 3: the project's own namespace, type feeds carry their revisions
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
    window: Window


def settings() -> Settings:
    extensions = current_app.extensions
    found = extensions.get("chronology.feed_settings")
    if found is None:
        config = current_app.config
        size = int(config.get("FEED_PAGE_SIZE", DEFAULT_PAGE_SIZE))
        window = Window(timedelta(days=float(config.get("FEED_WINDOW_DAYS", DEFAULT_DAYS))), size,
                        max(size, int(config.get("FEED_WINDOW_MAX", DEFAULT_MAX))))
        found = extensions["chronology.feed_settings"] = Settings(
            size, float(config.get("FEED_HEAD_TTL", DEFAULT_TTL)), config.get("WEBSUB_HUB") or None,
            str(config["PUBLIC_URL"]).rstrip("/") if config.get("PUBLIC_URL") else None, config["DATABASE_URL"],
            window)
    return found


class NotArchivedYet(NotFound):
    """The 404 of an archive page that does not exist yet but will: no cache may keep it."""

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [*super().get_headers(environ, scope), ("Cache-Control", "no-store")]


def _not_yet(description: str) -> NoReturn:
    raise NotArchivedYet(description=description)


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


def _respond(key_parts: Sequence[object], newest: datetime, build: Callable[[], atom.Document], *,
             read_at: datetime | None, immutable: bool = False, config: Settings | None = None) -> Response:
    """The document ``key_parts`` name (rendered once, by ``build``), or a 304; ``newest`` is its newest item's time."""
    config, req = config or settings(), request._get_current_object()  # type: ignore[attr-defined]
    base = config.public_url or _root(req)
    window = config.window
    key = caching.validator(RENDER_VERSION, base, config.page_size, window.span, window.most, config.hub,
                            *key_parts)

    def render() -> bytes:
        doc = build()
        if config.hub:  # WebSub discovery in the document too, for readers that never see the headers
            doc.links["hub"] = config.hub
        return atom.render(doc)

    return caching.feed_response(req, key, newest, render, self_url=base + req.path, hub=config.hub,
                                 immutable=immutable, read_at=read_at)


def _recorded(event: RecordedEvent) -> datetime:
    return event.recorded_at


def _head_key(reading: Reading) -> tuple[int, str]:
    return (reading.head.position, reading.head.hash) if reading.head else (0, "")


# --- the whole log ---------------------------------------------------------------


def _log_archive_url(n: int) -> str:
    return f"{base_url()}/feed/archive/{n}.atom"


@bp.get("/feed.atom")
def log_feed() -> Response:
    """The subscription document of the whole log: the entries and tombstones of its window."""
    config = settings()
    size = config.page_size
    reading = heads.lookup(config.database_url, config.head_ttl)
    top = reading.head
    head = top.position if top else 0
    complete = head // size
    revalidation.allow_reuse(request.environ, reading.fresh_until, reading.generation)

    def build() -> atom.Document:
        most = config.window.most
        batch = config.window.cut(events.read(max(0, head - most), limit=most)[::-1], _recorded)
        entries, tombstones = event_entries(batch, base_url(), newest_only=True)
        links = {"prev-archive": _log_archive_url(complete)} if complete else {}
        return atom.Document(atom.feed_id("log"), "France–Japan partnership chronology: every change",
                             "Every fact, correction and retraction appended to the chronology's log.",
                             base_url() + request.path, base_url() + "/", entries, tombstones, links)

    return _respond(("log", head, top.hash if top else ""), top.recorded_at if top else atom.EMPTY_UPDATED, build,
                    read_at=reading.read_at, config=config)


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
        _not_yet(f"Archive {n} is not complete yet: only full pages of {size} events are archived.")
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

    return _respond(("log-archive", n, end.hash), end.recorded_at, build, read_at=None, immutable=True)


# --- filtered views of the log ---------------------------------------------------


@dataclass(frozen=True)
class LogFilter:
    """A subset of the log (one subject's stream, or one type with its revisions) paged over its own sequence."""

    name: str  # for the feed id
    path: str  # the feed's URL path without ".atom"
    title: str
    stream: str | None = None
    type: str | None = None

    def read(self, after: int = 0, limit: int = 50, *, before: int | None = None,
             descending: bool = False) -> list[RecordedEvent]:
        if self.type is not None:
            return events.store.read_type(self.type, after, limit, before=before, descending=descending)
        return events.read(after, limit=limit, stream=self.stream, before=before, descending=descending)

    def count(self, upto: int | None = None) -> int:
        if self.type is not None:
            return events.store.count_type(self.type, upto)
        return events.store.count(stream=self.stream, upto=upto)


def _subject(stream: str) -> LogFilter:
    config = settings()
    reading = heads.lookup(config.database_url, config.head_ttl)
    if not heads.remember((config.database_url, "subject", stream, *_head_key(reading)), reading,
                          lambda: events.stream_version(stream) > 0):
        abort(404, description=f"There is no subject {stream!r} in the chronology.")
    return LogFilter(f"subject/{stream}", f"/subjects/{stream}/feed", f"{stream}: every change", stream=stream)


def _type(type_: str) -> LogFilter:
    if type_ not in EVENT_TYPES:
        abort(404, description=f"{type_!r} is not an event type of the chronology.")
    return LogFilter(f"type/{type_}", f"/types/{type_}/feed", f"Every {type_} event, its corrections and retractions",
                     type=type_)


def _filtered_archive_url(view: LogFilter, key: int) -> str:
    return f"{base_url()}{view.path}/archive/{key}.atom"


def _filtered_feed(view: LogFilter) -> Response:
    config = settings()
    size = config.page_size
    reading = heads.lookup(config.database_url, config.head_ttl)
    top = heads.remember((config.database_url, view.name, *_head_key(reading)), reading,
                         lambda: next(iter(view.read(limit=1, descending=True)), None))

    def build() -> atom.Document:
        items = config.window.cut(view.read(limit=config.window.most, before=top.position + 1, descending=True)
                                  if top else [], _recorded)
        entries, tombstones = event_entries(items, base_url(), newest_only=True)
        links = {}
        total = view.count(top.position) if top else 0
        if top is not None and total >= size:
            # The newest complete page starts after the item ((complete-1)*size) of the sequence.
            depth = total % size + size + 1
            older = view.read(limit=depth, before=top.position + 1, descending=True)
            links["prev-archive"] = _filtered_archive_url(view, older[-1].position if len(older) == depth else 0)
        return atom.Document(atom.feed_id(view.name), view.title, "The newest entries; older ones are in the archives.",
                             base_url() + request.path, base_url() + "/", entries, tombstones, links)

    return _respond((view.name, top.position if top else 0, top.hash if top else ""),
                    top.recorded_at if top else atom.EMPTY_UPDATED, build, read_at=reading.read_at, config=config)


def _filtered_archive(view: LogFilter, key: str) -> Response:
    size = page_size()
    if not _POSITION_KEY.fullmatch(key):
        abort(404, description=f"{key!r} is not an archive key (a log position).")
    after = int(key)
    start = view.read(after - 1, limit=1) if after else []
    if after and (not start or start[0].position != after):
        if not start:  # a position the sequence has not reached yet: a page may start after it one day
            _not_yet(f"No archive page of this feed starts after position {after} yet.")
        abort(404, description=f"No archive page of this feed starts after position {after}.")
    if after and view.count(after) % size:
        abort(404, description=f"No archive page of this feed starts after position {after}.")
    page = view.read(after, limit=size)
    if len(page) < size:
        _not_yet(f"This archive page is not complete yet: only full pages of {size} are archived.")

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
                    read_at=None, immutable=True)


@bp.get("/subjects/<path:stream>/feed.atom")
def subject_feed(stream: str) -> Response:
    """Every change to one subject (its whole stream, corrections and retractions included)."""
    return _filtered_feed(_subject(stream))


@bp.get("/subjects/<path:stream>/feed/archive/<key>.atom")
def subject_archive(stream: str, key: str) -> Response:
    return _filtered_archive(_subject(stream), key)


@bp.get("/types/<type_>/feed.atom")
def type_feed(type_: str) -> Response:
    """Every event of one type, and the corrections and retractions of those events."""
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


@dataclass(frozen=True)
class _ModelDocument:
    """What a read model's subscription document shows at one head and moment, worked out once."""

    changes: list[Change]  # oldest first
    prev: str | None  # the key of the newest complete archive page
    hashes: dict[int, str]
    fingerprint: str
    caught_up: bool  # the read model had folded the whole log as read: no older change can still appear


def _model_document(model: ChangeLog, config: Settings, moment: datetime, reading: Reading) -> _ModelDocument:
    size, window = config.page_size, config.window
    checkpoint = next((s.position for s in projections.status() if s.name == model.name), 0)
    changes = window.cut(model.changes(moment, limit=window.most, descending=True), lambda c: c.updated)
    prev = None
    if changes:
        total = model.count_changes(moment, changes[-1].key)
        if total >= size:
            depth = total % size + size + 1
            older = model.changes(moment, limit=depth, descending=True)
            prev = older[-1].id if len(older) == depth else "0"
    hashes = events.store.hashes(c.position for c in changes)
    return _ModelDocument(changes, prev, hashes, _fingerprint(changes, hashes),
                          checkpoint >= (reading.head.position if reading.head else 0))


@bp.get("/<name>/feed.atom")
def model_feed(name: str) -> Response:
    """The subscription document of a read model's changes (``/agreements/feed.atom``, ...).

    Worked out once per head of the log and per ``FEED_HEAD_TTL`` of the clock: a read model folds after the
    head moves, and a calendar change appears when its moment comes, neither of which moves the head.
    """
    model, config, moment = _read_model(name), settings(), now()
    reading = heads.lookup(config.database_url, config.head_ttl)
    tick = int(moment.timestamp() // max(config.head_ttl, 0.001))
    shown = heads.remember((config.database_url, "model", model.name, *_head_key(reading), tick), reading,
                           lambda: _model_document(model, config, moment, reading))

    def build() -> atom.Document:
        entries = [change_entry(c, base_url(), model.name, shown.hashes.get(c.position)) for c in shown.changes]
        links = {"prev-archive": _model_archive_url(model, shown.prev)} if shown.prev else {}
        return atom.Document(atom.feed_id(model.name), model.feed_title, "The newest changes; older ones are in the "
                             "archives.", base_url() + request.path, f"{base_url()}/{model.name}", entries, [], links)

    # A change folded late may still appear with an older time: the date is settled only once the model is level.
    read_at = reading.read_at if shown.caught_up else atom.EMPTY_UPDATED
    return _respond((model.name, shown.prev, shown.fingerprint),
                    shown.changes[-1].updated if shown.changes else atom.EMPTY_UPDATED, build, read_at=read_at,
                    config=config)


@bp.get("/<name>/feed/archive/<key>.atom")
def model_archive(name: str, key: str) -> Response:
    """A complete page of a read model's changes, named by the change just before it (``0``: the first)."""
    model, size, moment = _read_model(name), page_size(), now()
    after = None
    if key != "0":
        if not _UUID_KEY.fullmatch(key):
            abort(404, description=f"{key!r} is not an archive key (a change id).")
        found = model.find_change(moment, key)
        if found is None:  # a change not folded or not due yet may bear this id one day
            _not_yet(f"No archive page of this feed starts after {key!r} yet.")
        rank = model.count_changes(moment, found.key)
        if not rank or rank % size:
            abort(404, description=f"No archive page of this feed starts after {key!r}.")
        after = found
    page = model.changes(moment, after=after.key if after else None, limit=size)
    if len(page) < size:
        _not_yet(f"This archive page is not complete yet: only full pages of {size} are archived.")
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
                    read_at=None, immutable=True)


# --- WebSub -----------------------------------------------------------------------


def feed_paths(changed: Iterable[str | RecordedEvent]) -> list[str]:
    """The feeds that change with ``changed`` (appended events, or names of read models)."""
    paths: list[str] = []
    models = {model.name: model for model in projections.with_feeds()}
    items = list(changed)
    targets = events.store.find_many(str(e.data.get("target")) for e in items
                                     if isinstance(e, RecordedEvent) and e.type in META_TYPES)
    for item in items:
        if isinstance(item, RecordedEvent):
            found = ["/feed.atom", f"/subjects/{item.stream}/feed.atom", f"/types/{item.type}/feed.atom"]
            target = targets.get(str(item.data.get("target"))) if item.type in META_TYPES else None
            if target is not None:  # a revision is published in its target's type feed too
                found.append(f"/types/{target.type}/feed.atom")
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
