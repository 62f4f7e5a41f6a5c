"""What every template may use: the navigation, the signed-in editor, and filters for dates and events.

The navigation lists every view of the chronology, but shows a link only
once that path is served, so no page ever links to a 404.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from events import dates
from events.declaration import META_TYPES, TYPES, form_fields
from events.text import xml_safe
from events.vocabulary import EVENT_TYPES, STREAM_KINDS

#: Every view a reader can open, in the order the navigation shows them.
NAVIGATION = (
    ("/", "Home"),
    ("/agreements", "Agreements"),
    ("/exercises", "Exercises"),
    ("/meetings", "Meetings"),
    ("/timeline", "Timeline"),
    ("/sources", "Sources"),
    ("/subjects", "Subjects"),
    ("/search", "Search"),
)

#: The whole log's Atom feed.
LOG_FEED = "/feed.atom"

PRECISION_WORDS = {
    "day": "to the day",
    "month": "to the month",
    "season": "to the season",
    "year": "to the year",
    "decade": "to the decade",
    "interval": "a span of time",
    "range": "a day between the dates given",
}


def routed(path: str) -> bool:
    """True when a GET of ``path`` reaches a view of this application."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (HTTPException, RequestRedirect):
        return False
    return True


def navigation() -> list[tuple[str, str]]:
    return [(path, label) for path, label in NAVIGATION if routed(path)]


def when(edtf: str) -> str:
    """An EDTF date as a reader says it ('6 January 2017', 'spring 2017'), never raising."""
    try:
        return dates.describe(edtf)
    except (ValueError, TypeError):
        return str(edtf)


def precision(edtf: str) -> str:
    """How precisely the date is known, in words."""
    try:
        period = dates.parse(edtf)
    except (ValueError, TypeError):
        return ""
    words = PRECISION_WORDS.get(period.precision, period.precision)
    if period.uncertain:
        words += ", uncertain"
    if period.approximate:
        words += ", approximate"
    return words


def moment(value: datetime | None) -> Markup:
    """A recorded UTC time as a ``<time>`` element."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(
        value.isoformat(), value.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
    )


def participant(item: dict[str, Any] | str) -> str:
    if isinstance(item, str):
        return item
    extra = ", ".join(str(item[k]) for k in ("role", "country") if item.get(k))
    return f"{item.get('name', '')} ({extra})" if extra else str(item.get("name", ""))


_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def type_label(type_: str) -> str:
    """An event type in words: ``AgreementSigned`` → "Agreement signed", ``EventCorrected`` → "Event corrected"."""
    first, *rest = _WORD_START.split(str(type_)) or [""]
    return " ".join([first, *(w.lower() for w in rest)])


def subject_label(stream: str) -> str:
    """A subject key in words, for a link whose page says its full name: ``exercise/jeanne-d-arc`` →
    "jeanne d arc (exercise)"."""
    kind, _, slug = str(stream).partition("/")
    return f"{slug.replace('-', ' ')} ({kind})" if slug else kind


def type_description(type_: str) -> str:
    known = EVENT_TYPES.get(type_)
    return known.description if known else ""


@dataclass(frozen=True)
class Stated:
    """One declared data field an event states, as its page shows it."""

    label: str
    value: Any
    kind: str  # "date" (EDTF), "list", "events" (event ids) or "text"


def stated_fields(type_: str, data: dict[str, Any]) -> list[Stated]:
    """The fields of the event's type it states, beyond title, summary, participants and place, in the
    declaration's order (an undeclared field of an older event is not shown: the JSON has it)."""
    if type_ not in TYPES or type_ in META_TYPES:
        return []
    shown = []
    for spec in form_fields(type_):
        value = data.get(spec.name)
        if value is None or spec.name in ("title", "summary", "participants", "place"):
            continue
        kind = ("date" if spec.widget == "date" else "events" if spec.name == "outcomes"
                else "list" if isinstance(value, list) else "text")
        shown.append(Stated(spec.label, value, kind))
    return shown


def quote_text(quote: dict[str, Any] | str | None) -> str:
    if isinstance(quote, dict):
        return str(quote.get("exact", ""))
    return "" if quote is None else str(quote)


#: Languages a translation is most often in, by tag, for the words that mark it.
LANGUAGE_NAMES = {"en": "English", "fr": "French", "ja": "Japanese", "de": "German", "es": "Spanish", "zh": "Chinese"}


def language_name(tag: str | None) -> str:
    """A language tag as a reader says it ('en' is English); an unlisted tag is shown as it is."""
    text = str(tag or "")
    return LANGUAGE_NAMES.get(text.split("-", 1)[0].lower(), text)


def canonical_event_id(text: str) -> str | None:
    """The canonical form of a UUID, or None for anything else (so a bad id is a 404, not an error)."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, TypeError, AttributeError):
        return None


def feed_link(path: str, title: str) -> Markup:
    """A ``<link rel="alternate">`` to an Atom feed, once that feed is served."""
    if not routed(path):
        return Markup("")
    return Markup('<link rel="alternate" type="application/atom+xml" href="{}" title="{}">').format(
        path, title
    )


def lines(text: str | None) -> Markup:
    """Plain text with its line breaks kept, escaped."""
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())


def printable(value: Any) -> Any:
    """What a template prints, with characters XML (and sane HTML) cannot carry replaced: old logs may hold them."""
    if isinstance(value, Markup):
        return Markup(xml_safe(str(value)))
    return xml_safe(value) if isinstance(value, str) else value


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when, precision=precision, moment=moment, participant=participant,
        type_description=type_description, quote_text=quote_text, lines=lines, type_label=type_label,
        subject_label=subject_label, language_name=language_name,
    )
    app.jinja_env.globals.update(
        navigation=navigation, routed=routed, feed_link=feed_link, LOG_FEED=LOG_FEED,
        STREAM_KINDS=STREAM_KINDS, stated_fields=stated_fields,
    )
    app.jinja_env.finalize = printable
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def editor() -> dict[str, Any]:
        return {"editor": g.get("editor")}
