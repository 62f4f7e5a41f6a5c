"""The pages of the read models: active agreements, exercise history, meetings and dialogues, the timeline.

Each page reads one query of ``projections`` and nothing else; a bad query
parameter is a 400 naming the parameter (``params``), never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, render_template, request

import events
from events import dates
from projections import agreements as agreement_model
from projections import coverage as coverage_model
from projections import exercises as exercise_model
from projections import meetings as meeting_model
from projections import timeline as timeline_model
from projections.lifecycle import ANSWERS

from .. import params
from . import timeline_svg

bp = Blueprint("readmodels", __name__)


def _today() -> date:
    return datetime.now(UTC).date()


#: "In force on this date?" answered in words: ``no`` only on a recorded ground (projections/lifecycle.py).
ANSWER_WORDS = {"yes": "in force", "possibly": "possibly in force", "no": "not in force",
                "unknown": "in force? not on record"}
AGREEMENTS_PAGE = 20  # a screenful or two; a page costs the same at any size of log
EXERCISES_PAGE = 20  # series, each with all its editions
MEETINGS_PAGE = 20  # mechanisms, each with all its sessions


def agreement_page(as_of: date, known_at: datetime | None, after: str | None,
                   limit: int | None = None) -> tuple[list[agreement_model.AgreementView], str | None]:
    """One page of agreements in name order after the agreement ``after`` (a stream), and the next cursor."""
    try:
        page = agreement_model.agreements(as_of, known_at, after=after, limit=limit or AGREEMENTS_PAGE)
    except ValueError as exc:
        raise params.BadParameter("after", str(exc).removeprefix("after: ")) from None
    return page, page.next_after


@bp.get("/agreements")
def agreements() -> str:
    """Every agreement's status on ``as_of`` (default today), as the record stood at ``known_at`` (default now)."""
    as_of = params.day("as_of") or _today()
    known_at = params.moment("known_at")
    after = params.subject("after", "agreement")
    views, next_after = agreement_page(as_of, known_at, after)
    for view in views:  # a lifecycle reads from its first stage to its latest
        view.stages.sort(key=lambda stage: (_start(stage.occurred), stage.position))
    tally = {answer: sum(1 for v in views if v.active == answer) for answer in ANSWERS}
    return render_template("agreements.html", agreements=views, as_of=as_of, known_at=known_at, tally=tally,
                           ANSWER_WORDS=ANSWER_WORDS, coverage=coverage_model.coverage(),
                           known_at_text=request.args.get("known_at", "").strip(), after=after,
                           next_after=next_after, paged=bool(after or next_after))


@bp.get("/exercises")
def exercises() -> str:
    """Every exercise series and its editions, filtered by year, domain and participant."""
    year = params.year("year")
    domain = params.choice("domain", exercise_model.DOMAINS, "a domain")
    participant = params.text("participant")
    after = params.subject("after", "exercise")
    series = exercise_model.exercises(year=year, domain=domain, participant=participant, after=after,
                                      limit=EXERCISES_PAGE)
    domains = sorted({*exercise_model.DOMAINS, *([domain] if domain else [])}, key=str.casefold)
    keep = {k: v for k, v in (("year", year), ("domain", domain), ("participant", participant)) if v}
    return render_template("exercises.html", series=series, year=year, domain=domain, participant=participant,
                           domains=domains, editions=sum(len(s.editions) for s in series), after=after,
                           next_after=series.next_after, keep=keep, page_size=EXERCISES_PAGE,
                           coverage=coverage_model.coverage())


def _start(occurred: str) -> date:
    try:
        lo, hi = dates.bounds(occurred)
    except ValueError:
        return date.max
    first = lo or hi
    return date.fromisoformat(first) if first else date.max


@bp.get("/meetings")
def meetings() -> str:
    """Every dialogue mechanism: its sessions and outcomes, the next planned session, and whether its date passed."""
    after = params.subject("after", "meeting")
    views = meeting_model.mechanisms(datetime.now(UTC), after=after, limit=MEETINGS_PAGE)
    outcome_ids = sorted({o for v in views for item in v.sessions for o in item.outcomes})
    found = (events.store.find(event_id) for event_id in outcome_ids)  # a handful: the outcomes of sessions
    titles = {e.event_id: e.title for e in found if e is not None}
    return render_template("meetings.html", mechanisms=views, titles=titles, today=_today(), after=after,
                           next_after=views.next_after, coverage=coverage_model.coverage())


TIMELINE_PAGE = 300


@bp.get("/timeline")
def timeline() -> str:
    """Everything in valid-time order, drawn as lanes on a year axis, a page at a time, with the same as a list."""
    after = params.text("after", 40)
    kind = params.text("kind", 20)
    try:
        entries = timeline_model.entries(after=after, limit=TIMELINE_PAGE + 1, kind=kind)
    except ValueError as exc:
        name, _, reason = str(exc).partition(": ")
        raise params.BadParameter(name, reason) from None
    more = len(entries) > TIMELINE_PAGE
    entries = entries[:TIMELINE_PAGE]
    return render_template("timeline.html", entries=entries, picture=timeline_svg.draw(entries, _today()),
                           legend=timeline_svg.legend(), lanes=timeline_svg.LANES, kind=kind, after=after,
                           next_cursor=entries[-1].cursor if more else None, coverage=coverage_model.coverage())
