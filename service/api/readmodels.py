"""The read models as JSON: agreements on a date, exercises, meetings, the timeline.

Every row carries the event ids and sources it was built from, so a reader
can check each answer against the log. A parameter that does not parse is
refused with a 400 naming it (``params``); nothing is guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response

from projections import agreements as agreement_model
from projections import coverage as coverage_model
from projections import exercises as exercise_model
from projections import meetings as meeting_model
from projections import timeline as timeline_model

from .. import filters, params

bp = Blueprint("readmodel_api", __name__, url_prefix="/api")

PAGE = 50  # rows of a read model per answer unless ``limit`` says otherwise; ``next`` leads on
MAX_LIMIT = 1000


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), mimetype="application/json")


def _coverage() -> dict[str, Any]:
    """What the record is drawn from, carried by every answer: absence from it is not evidence of absence."""
    return coverage_model.coverage().to_dict()


def _cursor(kind: str) -> str | None:
    """``after``: the subject the previous page ended with (its ``next``), which must be of ``kind``."""
    return params.subject("after", kind)


@bp.get("/agreements")
def agreements() -> Response:
    """A page of agreements by name, each one's status on ``as_of`` (default today) as known at ``known_at``."""
    asked = filters.agreement_query()
    as_of, known_at = asked.as_of, asked.known_at
    after = _cursor("agreement")
    limit = params.integer("limit", PAGE, 1, MAX_LIMIT)
    try:
        rows = agreement_model.agreements(as_of, known_at, after=after, limit=limit)
    except ValueError as exc:
        raise params.BadParameter("after", str(exc).removeprefix("after: ")) from None
    return _json({"as_of": as_of.isoformat(), "known_at": known_at.isoformat() if known_at else None,
                  "agreements": [a.to_dict() for a in rows], "next": rows.next_after, "coverage": _coverage()})


@bp.get("/exercises")
def exercises() -> Response:
    """A page of exercise series, filtered by ``year``, ``domain`` and part of a ``participant``'s name."""
    asked = filters.exercise_query()
    after = _cursor("exercise")
    limit = params.integer("limit", PAGE, 1, MAX_LIMIT)
    series = exercise_model.exercises(year=asked.year, domain=asked.domain, participant=asked.participant,
                                      after=after, limit=limit)
    for one in series:
        one.editions = filters.sorted_items(one.editions, asked.sort)
    return _json({"year": asked.year, "domain": asked.domain, "participant": asked.participant, "sort": asked.sort,
                  "series": [s.to_dict() for s in series], "next": series.next_after,
                  "coverage": _coverage()})


@bp.get("/meetings")
def meetings() -> Response:
    """A page of dialogue mechanisms, their sessions and the next session planned, as of now."""
    now = datetime.now(UTC)
    after = _cursor("meeting")
    sort = filters.session_sort()
    limit = params.integer("limit", PAGE, 1, MAX_LIMIT)
    page = meeting_model.mechanisms(now, after=after, limit=limit)
    for view in page:
        view.sessions = filters.sorted_items(view.sessions, sort)
    return _json({"now": now.isoformat(), "mechanisms": [m.to_dict() for m in page], "next": page.next_after,
                  "coverage": _coverage()})


@bp.get("/timeline")
def timeline() -> Response:
    """One page of the timeline in valid-time order; ``next`` is the ``after`` of the following page."""
    after = filters.timeline_after()
    limit = params.integer("limit", 100, 1, MAX_LIMIT)
    kind = filters.timeline_kind()
    rows = timeline_model.entries(after=after, limit=limit + 1, kind=kind)
    page = rows[:limit]
    return _json({"entries": [e.to_dict() for e in page],
                  "next": page[-1].cursor if len(rows) > limit else None, "coverage": _coverage()})
