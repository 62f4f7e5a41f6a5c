"""Every view as CSV: agreements, exercises, meetings, the timeline and search, with their pages' filters.

A download is streamed a page of the read model at a time, so a million
timeline rows never sit in memory. It opens cleanly in a spreadsheet: UTF-8
with a byte-order mark (which Excel needs to read it as UTF-8), one header
row, CRLF line ends, and every date both as the chronology's EDTF text and
as the ISO days it lies between (``start``, ``end``; empty where the record
leaves a side open). Each row is one row of the view's JSON, in its order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, stream_with_context

from events import dates
from projections import agreements as agreement_model
from projections import exercises as exercise_model
from projections import meetings as meeting_model
from projections import search as search_model
from projections import timeline as timeline_model

from .. import filters
from ..feeds.routes import base_url
from ..templating import type_label

bp = Blueprint("exports", __name__)

#: Rows of a read model read per query while streaming.
BATCH = 500
#: Rows written between two flushes of the response.
FLUSH_ROWS = 2000
BOM = "\ufeff"


def _span(edtf: str | None) -> tuple[str, str]:
    """The ISO first and last days an EDTF date can be (empty when open or undated)."""
    if not edtf:
        return "", ""
    try:
        lo, hi = dates.bounds(edtf)
    except ValueError:
        return "", ""
    return lo or "", hi or ""


#: What a spreadsheet reads as the start of a formula: a text cell starting so gets a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(row: Sequence[Any], texts: Sequence[int]) -> Sequence[Any]:
    """The row with its free-text cells (titles, names, places: anyone's words) unable to run as a formula.

    OWASP's advice for CSV injection: the apostrophe makes a spreadsheet show
    the text as typed instead of evaluating it; it is the only change made.
    """
    if not any(isinstance(row[i], str) and row[i].startswith(FORMULA_START) for i in texts):
        return row
    return [f"'{v}" if i in texts and isinstance(v, str) and v.startswith(FORMULA_START) else v
            for i, v in enumerate(row)]


def _lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV text of ``header`` and ``rows``, a chunk of rows at a time, as UTF-8 bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    texts = [i for i, name in enumerate(header) if name in TEXT_COLUMNS]
    pending = 0
    for row in rows:
        writer.writerow(_inert(row, texts))
        pending += 1
        if pending >= FLUSH_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


#: Columns holding free text written by editors or quoted from sources.
TEXT_COLUMNS = frozenset({"name", "title", "category", "parties", "series", "edition", "place", "participants",
                          "first", "mechanism", "snippet", "status"})


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    response = Response(stream_with_context(_lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "no-cache"
    return response


def _pages(fetch: Callable[[str | None], tuple[list[Any], str | None]]) -> Iterator[Any]:
    """Every row of a keyset-paged query, following each page's cursor to the end."""
    after: str | None = None
    while True:
        rows, after = fetch(after)
        yield from rows
        if after is None:
            return


def _joined(values: Iterable[str]) -> str:
    return "; ".join(values)


AGREEMENT_HEADER = ("stream", "name", "title", "category", "parties", "term_edtf", "term_start", "term_end",
                    "status", "in_force", "reason", "since_edtf", "since_start", "since_end", "by_term", "disputed",
                    "stages", "url")


@bp.get("/agreements.csv")
def agreements() -> Response:
    """Every agreement with its status on ``as_of``, as known at ``known_at`` (the page's parameters)."""
    asked = filters.agreement_query()
    root = base_url()

    def fetch(after: str | None) -> tuple[list[Any], str | None]:
        page = agreement_model.agreements(asked.as_of, asked.known_at, after=after, limit=BATCH)
        return list(page), page.next_after

    def rows() -> Iterator[tuple[Any, ...]]:
        for a in _pages(fetch):
            since = a.status.since.occurred if a.status.since else ""
            yield (a.stream, a.name, a.title, a.category or "", _joined(a.parties), a.term or "", *_span(a.term),
                   a.status.text, a.active, a.status.reason, since, *_span(since), a.status.by_term, a.disputed,
                   len(a.stages), f"{root}/subjects/{a.stream}")

    return csv_response(f"agreements-{asked.as_of.isoformat()}", AGREEMENT_HEADER, rows())


def _participants(people: list[dict[str, str]]) -> str:
    return _joined(p["name"] if p["role"] == "participant" else f"{p['name']} ({p['role']})" for p in people)


EXERCISE_HEADER = ("series_stream", "series", "event_id", "type", "type_label", "title", "edition", "date_edtf",
                   "start", "end", "when", "precision", "place", "domains", "participants", "first", "planned",
                   "announced_edtf", "disputed", "url")


@bp.get("/exercises.csv")
def exercises() -> Response:
    """Every edition of every series the filters keep, one row each (the page's ``year``, ``domain``, ...)."""
    asked = filters.exercise_query()
    root = base_url()

    def fetch(after: str | None) -> tuple[list[Any], str | None]:
        page = exercise_model.exercises(asked.year, asked.domain, asked.participant, after=after, limit=BATCH)
        return list(page), page.next_after

    def rows() -> Iterator[tuple[Any, ...]]:
        for series in _pages(fetch):
            for e in filters.sorted_items(series.editions, asked.sort):
                yield (series.stream, series.name, e.event_id, e.type, type_label(e.type), e.title, e.edition or "",
                       e.occurred, *_span(e.occurred), e.when, e.precision, e.place or "", _joined(e.domains),
                       _participants(e.participants), e.first or "", e.planned, e.announced or "", e.disputed,
                       f"{root}/events/{e.event_id}")

    return csv_response("exercises", EXERCISE_HEADER, rows())


MEETING_HEADER = ("stream", "mechanism", "item", "event_id", "type", "title", "session", "date_edtf", "start", "end",
                  "when", "precision", "place", "participants", "outcomes", "announced_edtf", "disputed", "url")


@bp.get("/meetings.csv")
def meetings() -> Response:
    """Every item of every mechanism: its setting up, sessions held, statements and sessions still planned."""
    now = datetime.now(UTC)
    sort = filters.session_sort()
    root = base_url()

    def fetch(after: str | None) -> tuple[list[Any], str | None]:
        page = meeting_model.mechanisms(now, after=after, limit=BATCH)
        return list(page), page.next_after

    def rows() -> Iterator[tuple[Any, ...]]:
        for m in _pages(fetch):
            items = [("set up", m.established)] if m.established else []
            items += [("session", s) for s in filters.sorted_items(m.sessions, sort)]
            items += [("statement", s) for s in m.statements]
            items += [("planned", p) for p in m.planned]
            for what, i in items:
                yield (m.stream, m.name, what, i.event_id, i.type, i.title, i.session if i.session is not None else "",
                       i.occurred, *_span(i.occurred), i.when, i.precision, i.place or "",
                       _participants(i.participants), _joined(i.outcomes), i.announced or "", i.disputed,
                       f"{root}/events/{i.event_id}")

    return csv_response("meetings", MEETING_HEADER, rows())


@bp.get("/timeline.csv")
def timeline() -> Response:
    """Every fact in valid-time order (one lane with ``kind``), however many."""
    kind = filters.timeline_kind()
    rows = (row for page in timeline_model.table_rows(kind) for row in page)
    header = tuple("date_edtf" if c == "occurred" else c for c in timeline_model.TABLE_COLUMNS)
    return csv_response(f"timeline-{kind}" if kind else "timeline", header, rows)


SEARCH_HEADER = ("event_id", "stream", "type", "type_label", "title", "date_edtf", "start", "end", "when", "place",
                 "found_in", "snippet", "url")


@bp.get("/search.csv")
def search() -> Response:
    """Every fact matching ``q`` and the facets chosen, in the page's order."""
    asked = filters.search_query(required=True)
    query = asked.query
    assert query is not None  # required
    root = base_url()

    def fetch(after: str | None) -> tuple[list[Any], str | None]:
        answer = search_model.search(query, asked.filters, after=after, newest_first=asked.newest_first, limit=BATCH)
        return answer.results, answer.next_after

    def rows() -> Iterator[tuple[Any, ...]]:
        for r in _pages(fetch):
            yield (r.event_id, r.stream, r.type, type_label(r.type), r.title, r.occurred, *_span(r.occurred), r.when,
                   r.place or "", r.found_in, r.snippet_text, f"{root}/events/{r.event_id}")

    return csv_response("search", SEARCH_HEADER, rows())
