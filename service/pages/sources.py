"""The sources a reader can check: every registered document, each one's text with every quote in place, and
"Cite this" for events and documents (a formatted citation, BibTeX and CSL-JSON, from one set of CSL items).

A document's page marks the quotes of the facts citing it (the first in date
order, and any a link asks for with ``?event=``), each with an anchor an
event page links to, and lists those facts in date order, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup

import events
from events.corrections import EventState
from events.quotes import Normalised
from events.store import Registration
from projections import documents
from projections.paging import Page

from .. import citations, params
from ..feeds.routes import base_url
from ..highlights import highlight
from ..sources import Check, checks, quote_anchor, quote_link, sources_written_at
from ..templating import canonical_event_id
from .lookup import event_state_or_404

bp = Blueprint("sources", __name__)

LIST_PAGE = 100  # documents per page of /sources
CITATIONS_PAGE = 100  # citing facts listed per page of a document
HIGHLIGHTED = 300  # quotes marked in a document's text: the first facts in date order, and those a link names
BIBTEX = "application/x-bibtex; charset=utf-8"
CSL_JSON = "application/vnd.citationstyles.csl+json"


bp.add_app_template_global(quote_link)


@bp.get("/sources")
def sources() -> str:
    """Every registered document: title, author, publisher, date (what is inferred marked), language, kind,
    original address and how many events cite it, a page at a time (``after``: the last id shown)."""
    after = params.text("after", 200)
    page = documents.documents(after=after, limit=LIST_PAGE)
    return render_template("sources.html", documents=page, after=after)


@dataclass(frozen=True)
class DocumentView:
    """What a document's page shows: its row, its registration (text and history), its citations."""

    document: documents.Document
    state: EventState
    text: str
    marked: Markup
    missing: list[str]
    listed: Page[documents.Citation]
    highlighted: int
    marked_ids: frozenset[str]


def _document(document_id: str) -> tuple[documents.Document, EventState]:
    row = documents.document(document_id)
    if row is None:
        abort(404, description=f"There is no registered document {document_id!r}; /sources lists them all.")
    first = events.store.stream_page(f"source/{document_id}", limit=1)
    return row, events.state(first[0].event_id)


@bp.get("/sources/<path:document_id>")
def document(document_id: str) -> str:
    """A document's metadata, its text with every quote marked in place, and the events quoting it by date."""
    row, state = _document(document_id)
    after = params.raw("after")
    wanted = canonical_event_id(params.raw("event") or "")
    try:
        listed = documents.citations(document_id, after=after, limit=CITATIONS_PAGE)
    except ValueError as exc:
        raise params.BadParameter("after", str(exc).removeprefix("after: ")) from None
    marking = list(documents.citations(document_id, limit=HIGHLIGHTED))
    if wanted and wanted not in {c.fact.event_id for c in marking}:
        marking += documents.citations_by(document_id, [wanted])
    text = state.original.data["text"]
    quotes = {quote_anchor(c.fact.event_id, i): s["quote"] for c in marking for i, s in c.quotes()}
    links = {quote_anchor(c.fact.event_id, i): f"/events/{c.fact.event_id}" for c in marking for i, _ in c.quotes()}
    marked = highlight(text, quotes, Normalised.of(text), links)
    view = DocumentView(row, state, text, marked.html, marked.missing, listed, len(quotes) - len(marked.missing),
                        frozenset(quotes) - set(marked.missing))
    return render_template("document.html", view=view, document=row, cite=_formatted(document_items(row)),
                           quote_anchor=quote_anchor)


# --- "Cite this" ---------------------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


def document_metadata(row: documents.Document) -> dict[str, Any]:
    """A registered document's metadata as a citation reads it: its date is when it was published."""
    return {**row.metadata, "published": row.occurred}


def document_items(row: documents.Document) -> list[dict[str, Any]]:
    """The CSL-JSON of a document: the document itself, with the copy the chronology keeps."""
    return [citations.document_item(row.id, document_metadata(row), stored_at=f"{base_url()}/sources/{row.id}")]


def event_items(state: EventState, source_checks: list[Check]) -> list[dict[str, Any]]:
    """The CSL-JSON of an event: the chronology's entry for it, then each document or page it quotes."""
    event = state.original
    current = state.current
    named = {c.document for c in source_checks if c.document is not None}
    registered = {d: document_metadata(row) for d in named if (row := documents.document(d)) is not None}
    entry = citations.entry_item(
        event_id=event.event_id, title=str(current.data.get("title") or event.type),
        permalink=f"{base_url()}/events/{event.event_id}", recorded=event.recorded_at, accessed=_today(),
        occurred=current.occurred)
    return [entry, *citations.source_items(current.sources, registered=registered,
                                           checked=[c.checked for c in source_checks],
                                           stored_at={d: f"{base_url()}/sources/{d}" for d in registered})]


def event_checks(state: EventState, registrations: dict[str, Registration] | None = None) -> list[Check]:
    """How the event's current sources stand against the documents the log holds."""
    return checks(state.current.sources, sources_written_at(state), registrations)


def _formatted(items: list[dict[str, Any]]) -> Markup:
    """The citation as a reader copies it (Harvard, Cite Them Right), as HTML citeproc-py wrote it."""
    return Markup(citations.format_citation(items)[1])  # the items' text is escaped before citeproc renders it


def formatted_event_citation(state: EventState, source_checks: list[Check]) -> Markup:
    return _formatted(event_items(state, source_checks))


def _until_midnight(response: Response) -> Response:
    """The access date in a citation is today (UTC): a copy may be kept until the day ends, and no longer."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    response.headers["Cache-Control"] = f"public, max-age={max(1, int((midnight - now).total_seconds()))}"
    return response


def _bibtex(items: list[dict[str, Any]], name: str) -> Response:
    response = Response(citations.bibtex(*items), content_type=BIBTEX)
    response.headers["Content-Disposition"] = f'inline; filename="{name}.bib"'
    return _until_midnight(response)


def _csl_json(items: list[dict[str, Any]]) -> Response:
    return _until_midnight(Response(orjson.dumps(items, option=orjson.OPT_INDENT_2), content_type=CSL_JSON))


def _event_for_citation(event_id: str) -> tuple[EventState, list[Check]]:
    state = event_state_or_404(event_id)
    return state, event_checks(state)


@bp.get("/events/<event_id>/citation.bib")
def event_bibtex(event_id: str) -> Response:
    """The event's citation as BibTeX: the chronology's entry, then its sources."""
    state, source_checks = _event_for_citation(event_id)
    return _bibtex(event_items(state, source_checks), f"event-{state.original.event_id}")


@bp.get("/events/<event_id>/citation.json")
def event_csl_json(event_id: str) -> Response:
    """The event's citation as CSL-JSON: the chronology's entry, then its sources."""
    state, source_checks = _event_for_citation(event_id)
    return _csl_json(event_items(state, source_checks))


@bp.get("/sources/<path:document_id>/citation.bib")
def document_bibtex(document_id: str) -> Response:
    """The document's citation as BibTeX."""
    row, _ = _document(document_id)
    return _bibtex(document_items(row), row.id.replace("/", "-"))


@bp.get("/sources/<path:document_id>/citation.json")
def document_csl_json(document_id: str) -> Response:
    """The document's citation as CSL-JSON."""
    row, _ = _document(document_id)
    return _csl_json(document_items(row))
