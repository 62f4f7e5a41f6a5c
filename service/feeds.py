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
import importlib
import logging
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, has_request_context, request

import events
from events import RecordedEvent
from events.vocabulary import EVENT_TYPES

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

    werkzeug rebuilds and IRI-checks the URL on every call, which costs a poll more than the rest of it.
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
        if total >= size:
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


@dataclass(frozen=True)
class ModelFeed:
    """A read model's change history: rows with ``id``, ``updated``, ``position``, ordered by all three."""

    name: str  # agreements, exercises, meetings
    title: str
    module: Any
    row: Any  # the peewee model of the change rows

    def now(self) -> datetime:
        return datetime.now(UTC)

    def changes(self, moment: datetime, **kwargs: Any) -> list[Any]:
        fn = self.module.changes
        if fn.__code__.co_varnames[:1] == ("now",):
            return fn(moment, **kwargs)
        return fn(**kwargs)

    def visible(self, moment: datetime) -> Any:
        if hasattr(self.row, "cause"):
            return (self.row.cause == "event") | (self.row.updated <= moment)
        return self.row.updated <= moment

    def _not_after(self, row: Any, *, inclusive: bool) -> Any:
        r = self.row
        last = (r.id <= row.id) if inclusive else (r.id < row.id)
        return ((r.updated < row.updated) | ((r.updated == row.updated) & (r.position < row.position))
                | ((r.updated == row.updated) & (r.position == row.position) & last))

    def visible_row(self, moment: datetime, row: Any) -> bool:
        return getattr(row, "cause", "event") == "event" or row.updated <= moment

    def before(self, moment: datetime, row: Any, limit: int) -> list[Any]:
        """The ``limit`` visible rows just before ``row``, newest first (keyset, never OFFSET)."""
        r = self.row
        return list(r.select().where(self.visible(moment) & self._not_after(row, inclusive=False))
                    .order_by(r.updated.desc(), r.position.desc(), r.id.desc()).limit(limit))

    def count(self, moment: datetime, upto: Any | None = None) -> int:
        query = self.row.select().where(self.visible(moment))
        if upto is not None:
            query = query.where(self._not_after(upto, inclusive=True))
        return query.count()


MODEL_FEEDS: dict[str, tuple[str, str, str]] = {
    "agreements": ("projections.agreements", "AgreementChange", "Agreements: every status change"),
    "exercises": ("projections.exercises", "ExerciseChange", "Exercises: editions added, corrected, retracted"),
    "meetings": ("projections.meetings", "MeetingChange", "Meetings and dialogues: every change"),
}
STREAM_KIND_MODEL = {"agreement": "agreements", "exercise": "exercises", "meeting": "meetings"}


def _model_feeds() -> dict[str, ModelFeed]:
    """The read models whose change history exists in this build (each feed is served only if its model is)."""
    found = {}
    for name, (module_name, row_name, title) in MODEL_FEEDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, "changes") and hasattr(module, row_name):
            found[name] = ModelFeed(name, title, module, getattr(module, row_name))
    return found


def _key(row: Any) -> tuple:
    return (row.updated, row.position, row.id)


def _row_fingerprint(rows: Iterable[Any]) -> str:
    """A digest of every column of the rows a document shows (so its validator changes with any of them)."""
    text = "|".join(f"{r.id}@{r.updated.isoformat()}#{r.position}:{sorted(r.__data__.items())}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _hash_fingerprint(hashes: dict[int, str]) -> str:
    """A digest of the events' hashes a page of changes cites: a rewritten log changes the validator too."""
    return hashlib.sha256("|".join(f"{p}:{h}" for p, h in sorted(hashes.items())).encode()).hexdigest()


def _model_archive_url(feed: ModelFeed, key: str) -> str:
    return f"{base_url()}/{feed.name}/feed/archive/{key}.atom"


def _model_feed(feed: ModelFeed) -> Response:
    size, moment = page_size(), feed.now()
    newest = feed.changes(moment, limit=size, descending=True)
    newest.reverse()
    prev = None
    if newest:
        total = feed.count(moment, newest[-1])
        if total >= size:
            depth = total % size + size + 1
            older = feed.changes(moment, limit=depth, descending=True)
            prev = older[-1].id if len(older) == depth else "0"

    hashes = events.store.hashes(c.position for c in newest)

    def build() -> atom.Document:
        entries = [change_entry(c, base_url(), feed.name, hashes.get(c.position)) for c in newest]
        links = {"prev-archive": _model_archive_url(feed, prev)} if prev else {}
        return atom.Document(atom.feed_id(feed.name), feed.title, "The newest changes; older ones are in the "
                             "archives.", base_url() + request.path, f"{base_url()}/{feed.name}", entries, [], links)

    return _respond((feed.name, prev, _row_fingerprint(newest), _hash_fingerprint(hashes)),
                    max((c.updated for c in newest), default=atom.EMPTY_UPDATED), build)


def _model_archive(feed: ModelFeed, key: str) -> Response:
    size, moment = page_size(), feed.now()
    after = None
    if key != "0":
        found = feed.row.get_or_none(feed.row.id == key) if _UUID_KEY.fullmatch(key) else None
        rank = feed.count(moment, found) if found is not None else 0
        if found is None or not rank or rank % size or not feed.visible_row(moment, found):
            abort(404, description=f"No archive page of this feed starts after {key!r}.")
        after = found
    page = feed.changes(moment, after=_key(after) if after else None, limit=size)
    if len(page) < size:
        abort(404, description=f"This archive page is not complete yet: only full pages of {size} are archived.")

    hashes = events.store.hashes(c.position for c in page)

    def build() -> atom.Document:
        entries = [change_entry(c, base_url(), feed.name, hashes.get(c.position)) for c in page]
        links = {"current": f"{base_url()}/{feed.name}/feed.atom",
                 "next-archive": _model_archive_url(feed, page[-1].id)}
        if after is not None:
            older = feed.before(moment, page[0], size + 1)
            links["prev-archive"] = _model_archive_url(feed, older[-1].id if len(older) == size + 1 else "0")
        return atom.Document(atom.feed_id(feed.name), f"{feed.title}: archive", "A complete page of changes.",
                             base_url() + request.path, f"{base_url()}/{feed.name}", entries, [], links, archive=True)

    return _respond((feed.name, "archive", key, _row_fingerprint(page), _hash_fingerprint(hashes)),
                    max(c.updated for c in page), build,
                    immutable=True)


def _register_model_routes() -> None:
    for name, feed in _model_feeds().items():
        bp.add_url_rule(f"/{name}/feed.atom", f"{name}_feed", lambda feed=feed: _model_feed(feed))
        bp.add_url_rule(f"/{name}/feed/archive/<key>.atom", f"{name}_archive",
                        lambda key, feed=feed: _model_archive(feed, key))


_register_model_routes()


# --- WebSub -----------------------------------------------------------------------


def feed_paths(changed: Iterable[str | RecordedEvent]) -> list[str]:
    """The feeds that change with ``changed`` (appended events, or names of read models)."""
    paths: list[str] = []
    models = _model_feeds()
    for item in changed:
        if isinstance(item, RecordedEvent):
            found = ["/feed.atom", f"/subjects/{item.stream}/feed.atom", f"/types/{item.type}/feed.atom"]
            model = STREAM_KIND_MODEL.get(item.kind)
            if model in models:
                found.append(f"/{model}/feed.atom")
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


@bp.record_once
def _install_notifier(state: Any) -> None:
    """Appends (``writes.after_append``) and the calendar job find the notifier here."""
    state.app.extensions["chronology.notify_feeds"] = notify_feeds
