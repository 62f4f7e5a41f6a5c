"""What each view's query parameters ask for, read once the same way for its page, its JSON and its CSV.

A view's page, ``/api/...`` answer and ``.csv`` download take the same
parameters and refuse the same bad ones with the same words (a 400 naming
the parameter, ``params``): the page links its JSON and CSV with its own
query string, so what a reader downloads is what they were reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from events.vocabulary import EVENT_TYPES, STREAM_KINDS
from projections import exercises as exercise_model
from projections import search as search_model
from projections import timeline as timeline_model

from . import params


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class AgreementQuery:
    as_of: date
    known_at: datetime | None
    known_at_text: str

    def args(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat(), **({"known_at": self.known_at_text} if self.known_at_text else {})}


def agreement_query() -> AgreementQuery:
    """``as_of`` (default today) and ``known_at``."""
    known_at = params.moment("known_at")
    return AgreementQuery(params.day("as_of") or today(), known_at, params.raw("known_at") or "")


#: How the tables of editions and sessions can be sorted (``sort``; a leading ``-`` reverses).
EDITION_SORTS = ("when", "-when", "edition", "-edition", "where", "-where")
SESSION_SORTS = ("session", "-session", "when", "-when", "where", "-where")


@dataclass(frozen=True)
class ExerciseQuery:
    year: int | None
    domain: str | None
    participant: str | None
    sort: str

    def args(self) -> dict[str, str]:
        chosen = {"year": self.year, "domain": self.domain, "participant": self.participant}
        out = {k: str(v) for k, v in chosen.items() if v is not None}
        return {**out, **({"sort": self.sort} if self.sort != "when" else {})}


def exercise_query() -> ExerciseQuery:
    """``year``, ``domain``, part of a ``participant``'s name, and how each series' editions are sorted."""
    return ExerciseQuery(params.year("year"), params.choice("domain", exercise_model.DOMAINS, "a domain"),
                         params.text("participant"), params.choice("sort", EDITION_SORTS, "a way to sort") or "when")


def session_sort() -> str:
    """How each mechanism's sessions are sorted (``sort``)."""
    return params.choice("sort", SESSION_SORTS, "a way to sort") or "when"


def timeline_kind() -> str | None:
    """``kind``: one lane of the timeline."""
    return params.choice("kind", timeline_model.LANES, "a lane")


def timeline_after() -> str | None:
    """``after``: the cursor of the last timeline row seen."""
    after = params.raw("after")
    if after is not None and not timeline_model.CURSOR.fullmatch(after):
        raise params.BadParameter("after", f"must be the 'cursor' of a timeline row, like 1471102.000000000085, "
                                           f"not {after[:40]!r}")
    return after


#: How search answers are ordered (``sort``): by date, oldest first, or newest first.
SEARCH_SORTS = ("date", "-date")


@dataclass(frozen=True)
class SearchQuery:
    query: search_model.Query | None
    filters: search_model.Filters
    newest_first: bool
    after: str | None

    def args(self, **changed: Any) -> dict[str, str]:
        """This search's parameters (without the page's cursor), with ``changed`` ones set (None: removed)."""
        out = {"q": self.query.text} if self.query else {}
        out.update(self.filters.chosen())
        if self.newest_first:
            out["sort"] = "-date"
        for key, value in changed.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out


def search_query(*, required: bool) -> SearchQuery:
    """``q`` (words, "a phrase", ``prefix*``), one value per facet, ``sort`` and ``after``.

    ``required``: the JSON and CSV need a ``q``; the page without one shows the empty form.
    """
    text = params.text("q", search_model.MAX_QUERY)
    query = None
    if text is not None or required:
        try:
            query = search_model.parse_query(text or "")
        except ValueError as exc:
            raise params.BadParameter("q", str(exc).removeprefix("q: ")) from None
    filters = search_model.Filters(
        kind=params.choice("kind", tuple(STREAM_KINDS), "a kind of subject"),
        type=params.choice("type", tuple(EVENT_TYPES), "an event type"),
        year=params.year("year"),
        participant=params.text("participant", 200),
        document=params.text("document", 200),
        language=params.text("language", 35),
    )
    newest_first = (params.choice("sort", SEARCH_SORTS, "a way to sort") or "date") == "-date"
    after = params.raw("after")
    if after is not None and not timeline_model.CURSOR.fullmatch(after):
        raise params.BadParameter("after", f"must be the 'cursor' of a search result, not {after[:40]!r}")
    return SearchQuery(query, filters, newest_first, after)


def _when(item: Any) -> tuple[date, int]:
    return (item.lo or item.hi or date.max, item.position)


#: What each sort of a table of editions or sessions orders by (then by date, then position).
SORT_KEYS: dict[str, Any] = {
    "when": _when,
    "edition": lambda item: ((item.edition or "").casefold(), *_when(item)),
    "where": lambda item: ((item.place or "\uffff").casefold(), *_when(item)),
    "session": lambda item: (item.session if item.session is not None else 1 << 30, *_when(item)),
}


def sorted_items(items: list[Any], sort: str) -> list[Any]:
    """Rows of a table in the order ``sort`` names (``-`` first: the reverse)."""
    return sorted(items, key=SORT_KEYS[sort.lstrip("-")], reverse=sort.startswith("-"))
