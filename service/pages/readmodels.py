"""The pages of the read models: active agreements, exercise history, meetings and dialogues, the timeline.

Each page reads one query of ``projections`` and nothing else; a bad query
parameter is a 400 naming the parameter (``params``), never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, render_template

import events
from events import dates
from projections import agreements as agreement_model
from projections import coverage as coverage_model
from projections import exercises as exercise_model
from projections import meetings as meeting_model
from projections import timeline as timeline_model
from projections.lifecycle import ANSWERS

from .. import filters, params
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
    asked = filters.agreement_query()
    after = params.subject("after", "agreement")
    views, next_after = agreement_page(asked.as_of, asked.known_at, after)
    for view in views:  # a lifecycle reads from its first stage to its latest
        view.stages.sort(key=lambda stage: (_start(stage.occurred), stage.position))
    tally = {answer: sum(1 for v in views if v.active == answer) for answer in ANSWERS}
    return render_template("agreements.html", agreements=views, as_of=asked.as_of, known_at=asked.known_at,
                           tally=tally, ANSWER_WORDS=ANSWER_WORDS, coverage=coverage_model.coverage(),
                           known_at_text=asked.known_at_text, after=after, keep=asked.args(),
                           next_after=next_after, paged=bool(after or next_after))


@bp.get("/exercises")
def exercises() -> str:
    """Every exercise series and its editions, filtered by year, domain and participant."""
    asked = filters.exercise_query()
    after = params.subject("after", "exercise")
    series = exercise_model.exercises(year=asked.year, domain=asked.domain, participant=asked.participant,
                                      after=after, limit=EXERCISES_PAGE)
    for one in series:
        one.editions = filters.sorted_items(one.editions, asked.sort)
    domains = sorted({*exercise_model.DOMAINS, *([asked.domain] if asked.domain else [])}, key=str.casefold)
    return render_template("exercises.html", series=series, year=asked.year, domain=asked.domain,
                           participant=asked.participant, domains=domains, sort=asked.sort,
                           editions=sum(len(s.editions) for s in series), after=after,
                           next_after=series.next_after, keep=asked.args(), page_size=EXERCISES_PAGE,
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
    sort = filters.session_sort()
    views = meeting_model.mechanisms(datetime.now(UTC), after=after, limit=MEETINGS_PAGE)
    for view in views:
        view.sessions = filters.sorted_items(view.sessions, sort)
    outcome_ids = sorted({o for v in views for item in v.sessions for o in item.outcomes})
    found = (events.store.find(event_id) for event_id in outcome_ids)  # a handful: the outcomes of sessions
    titles = {e.event_id: e.title for e in found if e is not None}
    return render_template("meetings.html", mechanisms=views, titles=titles, today=_today(), after=after,
                           next_after=views.next_after, sort=sort, keep={"sort": sort} if sort != "when" else {},
                           coverage=coverage_model.coverage())


TIMELINE_PAGE = 300


@bp.get("/timeline")
def timeline() -> str:
    """Everything in valid-time order, drawn as lanes on a year axis, a page at a time, with the same as a list."""
    after = filters.timeline_after()
    kind = filters.timeline_kind()
    entries = timeline_model.entries(after=after, limit=TIMELINE_PAGE + 1, kind=kind)
    more = len(entries) > TIMELINE_PAGE
    entries = entries[:TIMELINE_PAGE]
    return render_template("timeline.html", entries=entries, picture=timeline_svg.draw(entries, _today()),
                           busiest=timeline_svg.busiest(entries), keep={"kind": kind} if kind else {},
                           legend=timeline_svg.legend(), lanes=timeline_svg.LANES, kind=kind, after=after,
                           next_cursor=entries[-1].cursor if more else None, coverage=coverage_model.coverage())
