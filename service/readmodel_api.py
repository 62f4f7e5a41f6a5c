"""The read models as JSON: agreements on a date, exercises, meetings, the timeline.

Every row carries the event ids and sources it was built from, so a reader
can check each answer against the log. A parameter that does not parse is
refused with a 400 naming it; nothing is guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, request

from projections import agreements as agreement_model
from projections import exercises as exercise_model
from projections import meetings as meeting_model
from projections import timeline as timeline_model

from .errors import json_error

bp = Blueprint("readmodel_api", __name__, url_prefix="/api")

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR = re.compile(r"^\d{4}$")
MAX_LIMIT = 1000
PAGE = 50  # rows of a read model per answer unless ``limit`` says otherwise; ``next`` leads on


class BadParameter(ValueError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter) -> Response:
    return json_error(400, str(exc), parameter=exc.name)


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), mimetype="application/json")


def _day(name: str) -> date | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        if not DAY.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"must be a date as YYYY-MM-DD, not {text!r}") from None


def _moment(name: str) -> datetime | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"must be an ISO 8601 timestamp such as 2026-11-23T10:00:00Z, not {text!r}") from None
    if moment.tzinfo is None:
        raise BadParameter(name, f"must say its timezone (e.g. {text}Z for UTC), {text!r} does not")
    return moment.astimezone(UTC)


def _year(name: str) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not YEAR.match(text) or int(text) == 0:
        raise BadParameter(name, f"must be a year such as 2017, not {text!r}")
    return int(text)


def _limit(name: str, default: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(name, f"must be a whole number between 1 and {MAX_LIMIT}, not {text!r}")
    return int(text)


def _cursor(kind: str) -> str | None:
    """``after``: the subject the previous page ended with (its ``next``), which must be of ``kind``."""
    text = request.args.get("after")
    if text is not None and (not text.startswith(f"{kind}/") or len(text) > 200):
        article = "an" if kind[0] in "aeiou" else "a"
        raise BadParameter("after", f"must be the 'next' of a previous page, {article} {kind} subject such as "
                                    f"{kind}/example, not {text[:60]!r}")
    return text


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    text = request.args.get(name)
    if text is not None and text not in allowed:
        raise BadParameter(name, f"must be one of {', '.join(allowed)}, not {text!r}")
    return text


@bp.get("/agreements")
def agreements() -> Response:
    """A page of agreements by name, each one's status on ``as_of`` (default today) as known at ``known_at``."""
    as_of = _day("as_of") or datetime.now(UTC).date()
    known_at = _moment("known_at")
    after = _cursor("agreement")
    limit = _limit("limit", PAGE)
    try:
        rows = agreement_model.agreements(as_of, known_at, after=after, limit=limit)
    except ValueError as exc:
        raise BadParameter("after", str(exc).removeprefix("after: ")) from None
    return _json({"as_of": as_of.isoformat(), "known_at": known_at.isoformat() if known_at else None,
                  "agreements": [a.to_dict() for a in rows], "next": rows.next_after})


@bp.get("/exercises")
def exercises() -> Response:
    """A page of exercise series, filtered by ``year``, ``domain`` and part of a ``participant``'s name."""
    year = _year("year")
    domain = _choice("domain", exercise_model.DOMAINS)
    participant = request.args.get("participant") or None
    after = _cursor("exercise")
    limit = _limit("limit", PAGE)
    series = exercise_model.exercises(year=year, domain=domain, participant=participant, after=after, limit=limit)
    return _json({"year": year, "domain": domain, "participant": participant,
                  "series": [s.to_dict() for s in series], "next": series.next_after})


@bp.get("/meetings")
def meetings() -> Response:
    """A page of dialogue mechanisms, their sessions and the next session due (overdue as of now)."""
    now = datetime.now(UTC)
    after = _cursor("meeting")
    limit = _limit("limit", PAGE)
    page = meeting_model.mechanisms(now, after=after, limit=limit)
    return _json({"now": now.isoformat(), "mechanisms": [m.to_dict() for m in page], "next": page.next_after})


@bp.get("/timeline")
def timeline() -> Response:
    """One page of the timeline in valid-time order; ``next`` is the ``after`` of the following page."""
    after = request.args.get("after")
    if after is not None and not timeline_model.CURSOR.match(after):
        raise BadParameter("after", f"must be the 'cursor' of a timeline row, like 1471102.000000000085, not {after!r}")
    limit = _limit("limit", 100)
    kind = _choice("kind", timeline_model.LANES)
    rows = timeline_model.entries(after=after, limit=limit + 1, kind=kind)
    page = rows[:limit]
    return _json({"entries": [e.to_dict() for e in page],
                  "next": page[-1].cursor if len(rows) > limit else None})
