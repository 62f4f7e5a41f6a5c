"""The pages of the read models: active agreements, exercise history, meetings and dialogues, the timeline.

Each page reads one query of ``projections`` and nothing else; a bad query
parameter is a 400 page naming the parameter, never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, abort, render_template, request

from projections import agreements as agreement_model
from projections import exercises as exercise_model

bp = Blueprint("readmodels", __name__)


def date_param(name: str) -> date | None:
    """The query parameter ``name`` as a calendar day, None when absent, 400 when unreadable."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name}: {text[:40]!r} is not a date; use YYYY-MM-DD (e.g. 2019-06-01).")


def moment_param(name: str) -> datetime | None:
    """A recorded time: a full timestamp (UTC unless it says otherwise), or a day meaning the end of that day."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name}: {text[:40]!r} is not a date or time; use YYYY-MM-DD or "
                               "YYYY-MM-DDTHH:MM (UTC).")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def int_param(name: str, low: int, high: int) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        abort(400, description=f"{name}: {text[:40]!r} is not a year between {low} and {high}.")
    return int(text)


def text_param(name: str, limit: int = 100) -> str | None:
    text = " ".join(request.args.get(name, "").split())
    if len(text) > limit:
        abort(400, description=f"{name}: at most {limit} characters.")
    return text or None


def _today() -> date:
    return datetime.now(UTC).date()


@bp.get("/agreements")
def agreements() -> str:
    """Every agreement's status on ``as_of`` (default today), as the record stood at ``known_at`` (default now)."""
    as_of = date_param("as_of") or _today()
    known_at = moment_param("known_at")
    views = agreement_model.agreements(as_of, known_at)
    tally = {answer: sum(1 for v in views if v.active == answer) for answer in ("yes", "possibly", "no")}
    return render_template("agreements.html", agreements=views, as_of=as_of, known_at=known_at, tally=tally,
                           known_at_text=request.args.get("known_at", "").strip())


@bp.get("/exercises")
def exercises() -> str:
    """Every exercise series and its editions, filtered by year, domain and participant."""
    year = int_param("year", 1900, 2200)
    domain = text_param("domain")
    participant = text_param("participant")
    series = exercise_model.exercises(year=year, domain=domain, participant=participant)
    series = [s for s in series if s.editions]
    every = exercise_model.exercises()
    domains = sorted({d for s in every for d in s.domains})
    years = sorted({y for s in every for e in s.editions for y in _years(e.lo, e.hi)})
    return render_template("exercises.html", series=series, year=year, domain=domain, participant=participant,
                           domains=domains, years=years,
                           editions=sum(len(s.editions) for s in series))


def _years(lo: date | None, hi: date | None) -> range:
    if lo is None and hi is None:
        return range(0)
    first = (lo or hi).year  # type: ignore[union-attr]
    last = (hi or lo).year  # type: ignore[union-attr]
    return range(first, min(last, first + 30) + 1)
