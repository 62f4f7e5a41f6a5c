"""The public pages that read the log itself: home, one event, one subject, every subject.

The read-model pages (agreements, exercises, meetings, timeline) live beside
their read models; these read the log, and the home page's counts come from
the tallies read model (counting a million events on every visit would not do).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template

import events
from events.corrections import EventState
from events.declaration import DOCUMENT_TYPE
from events.documents import id_of
from events.vocabulary import META_TYPES, STREAM_KINDS
from projections import coverage as coverage_model
from projections import documents, quarantine
from projections import search as search_model
from projections.tallies import tallies

from .. import params
from ..operations import integrity
from .lookup import event_state_or_404
from .sources import event_checks, formatted_event_citation

bp = Blueprint("pages", __name__)

LATEST = 20
SUBJECTS_PAGE = 60  # subjects of one kind per page; a kind can have a hundred thousand
SUBJECTS_OVERVIEW = 12  # per kind on /subjects, where every kind is shown; "more" leads to that kind's pages


@dataclass(frozen=True)
class KindCount:
    kind: str
    description: str
    subjects: int
    events: int


@dataclass(frozen=True)
class Change:
    """One line of 'latest changes': the event, for a correction or retraction its target, and its fact's state.

    ``state`` is the current form of the fact the line is about (the event's
    own, or its target's): a line shows a corrected fact under its corrected
    title and says when it has been retracted since.
    """

    event: events.RecordedEvent
    target: events.RecordedEvent | None
    state: EventState | None = None

    @property
    def title(self) -> str:
        if self.state is not None:
            return str(self.state.current.data.get("title") or self.state.original.type)
        return self.event.title


def counts() -> list[KindCount]:
    """Subjects and events of each kind, as kept by the tallies read model (one small read)."""
    kept = tallies()
    return [KindCount(kind, text, *kept.get(kind, (0, 0))) for kind, text in STREAM_KINDS.items()]


def latest_changes(limit: int = LATEST) -> list[Change]:
    latest = events.read(limit=limit, descending=True)
    targets = events.store.find_many(e.data["target"] for e in latest if e.type in META_TYPES)
    facts = [e for e in latest if e.type not in META_TYPES]
    states = events.store.states(list({e.event_id: e for e in [*facts, *targets.values()]}.values()))
    out = []
    for e in latest:
        target = targets.get(e.data.get("target", "")) if e.type in META_TYPES else None
        about = target.event_id if target is not None else e.event_id
        out.append(Change(e, target, states.get(about)))
    return out


def _find(event_id: str) -> events.RecordedEvent | None:
    try:
        return events.get(event_id)
    except events.UnknownEvent:
        return None


@bp.get("/")
def home() -> str:
    """What the chronology is, what changed lately, how much it holds, and where to read it."""
    top = events.store.head()
    return render_template("home.html", latest=latest_changes(), counts=counts(), head=top,
                           coverage=coverage_model.coverage())


@bp.get("/events/<event_id>")
def event(event_id: str) -> str:
    """One event: its current form, every source quoted, its corrections, and its place in the chain."""
    state = event_state_or_404(event_id)
    target = None
    if state.original.type in META_TYPES:
        target = _find(state.original.data.get("target", ""))
    aside = quarantine.pending(event_id=state.original.event_id)
    # The page shows the original and every correction or retraction of it: the latest of them is in doubt
    # once the record failed verification at or before its position.
    drawn_from = max([state.original.position, *(r.event.position for r in state.revisions)])
    failed = integrity.failure()
    in_doubt = failed if failed is not None and drawn_from >= (failed.broken_at or 0) else None
    fact = state.original.type not in META_TYPES and state.original.type != DOCUMENT_TYPE
    source_checks = event_checks(state) if fact else []
    named = {c.document for c in source_checks if c.document is not None}
    return render_template(
        "event.html", state=state, event=state.original, target=target, in_doubt=in_doubt, drawn_from=drawn_from,
        set_aside=aside, checks=source_checks,
        cite=formatted_event_citation(state, source_checks) if fact else None,
        registered={d: row for d in named if (row := documents.document(d)) is not None},
        document_id=id_of(state.original.stream) if state.original.type == DOCUMENT_TYPE else None)


@dataclass(frozen=True)
class SubjectPage:
    """One kind's subjects, a keyset page of them, and where the next page starts."""

    kind: str
    description: str
    total: int
    subjects: list[tuple[str, int]]
    after: str | None
    next_after: str | None


def _subject_page(kind: str, after: str | None, total: int, size: int) -> SubjectPage:
    rows = events.streams(kind, after=after, limit=size + 1)
    shown = rows[:size]
    return SubjectPage(kind, STREAM_KINDS[kind], total, shown, after, shown[-1][0] if len(rows) > size else None)


@bp.get("/subjects")
def subjects() -> str:
    """The subjects of each kind, a page at a time: ``kind`` (and ``after``, from a page's link) shows one kind."""
    after = params.text("after", 200)
    kind = params.choice("kind", tuple(STREAM_KINDS), "a kind of subject")
    if after is not None:
        if kind is None:
            prefix = after.split("/", 1)[0]
            if prefix not in STREAM_KINDS:
                raise params.BadParameter("after", f"{after[:60]!r} is not a subject (kind/slug)")
            kind = prefix
        after = params.subject("after", kind)
    kept = tallies()
    kinds, size = ([kind], SUBJECTS_PAGE) if kind else (list(STREAM_KINDS), SUBJECTS_OVERVIEW)
    pages = [_subject_page(k, after, kept.get(k, (0, 0))[0], size) for k in kinds]
    return render_template("subjects.html", pages=[p for p in pages if p.subjects or kind], kind=kind,
                           page_size=size)


STREAM_PAGE = 60  # events of one subject per page: a subject may have tens of thousands
#: How a subject's events can be listed: its facts by date (the default), or every event as recorded.
ORDERS = ("date", "recorded")


def subject_title(stream: str) -> str:
    """What a subject is called: the name its facts state, else its key in words."""
    named = search_model.subject_name(stream)
    return named or stream.split("/", 1)[-1].replace("-", " ").capitalize()


@bp.get("/subjects/<path:stream>")
def subject(stream: str) -> str:
    """A subject's facts in date order a page at a time (``order=recorded``: every event as recorded)."""
    total = events.stream_version(stream)
    if not total:
        abort(404, description=f"There is no subject {stream!r}.")
    order = params.choice("order", ORDERS, "an order") or "date"
    title = subject_title(stream)
    if order == "date":
        after_cursor = params.raw("after")
        try:
            facts, following_cursor = search_model.subject_facts(stream, after=after_cursor, limit=STREAM_PAGE)
        except ValueError as exc:
            raise params.BadParameter("after", str(exc).removeprefix("after: ")) from None
        return render_template("subject.html", stream=stream, kind=stream.split("/", 1)[0], title=title,
                               order=order, facts=facts, total=total, after=after_cursor,
                               following=following_cursor, page_size=STREAM_PAGE)
    after = params.integer("after", 0, 0, total)
    page = events.store.stream_page(stream, after_version=after, limit=STREAM_PAGE)
    facts_ = [e for e in page if e.type not in META_TYPES]
    targets = events.store.find_many(e.data["target"] for e in page if e.type in META_TYPES)
    states = events.store.states(list({e.event_id: e for e in [*facts_, *targets.values()]}.values()))
    titles = {event_id: s.current.data.get("title", "") for event_id, s in states.items()}
    following = page[-1].version if page and page[-1].version < total else None
    return render_template("subject.html", stream=stream, kind=stream.split("/", 1)[0], title=title, order=order,
                           events=page, states=states, titles=titles, total=total, after=after,
                           following=following, page_size=STREAM_PAGE)
