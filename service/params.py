"""Query parameters, read the same way on every page and every JSON answer.

Each reader takes the raw text from the request, accepts only what it can
honour (ASCII digits, dates the chronology can render, bounded ranges) and
otherwise raises ``BadParameter`` naming the parameter and what it expects;
the app answers that with a 400, as a page or as JSON (``errors``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask import request

from events.dates import FIRST_DAY, LAST_DAY, RANGE_TEXT

DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also says yes to '²'
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


class BadParameter(ValueError):
    """A query parameter that does not say what it must: answered with a 400 naming it."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def raw(name: str) -> str | None:
    """The parameter's text with its surrounding spaces removed; None when absent or empty."""
    text = request.args.get(name)
    if text is None:
        return None
    text = text.strip()
    return text or None


def _shown(text: str) -> str:
    return repr(text[:40])


def integer(name: str, default: int, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high``, written in ASCII digits."""
    text = raw(name)
    if text is None:
        return default
    if not DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise BadParameter(name, f"must be a whole number between {low} and {high}, not {_shown(text)}")
    return int(text)


def seconds(name: str, high: float) -> float:
    """A number of seconds between 0 and ``high``."""
    text = raw(name)
    if text is None:
        return 0.0
    if not NUMBER.fullmatch(text) or not 0 <= float(text) <= high:
        raise BadParameter(name, f"must be a number of seconds between 0 and {high:g}, not {_shown(text)}")
    return float(text)


def day(name: str) -> date | None:
    """A calendar day as YYYY-MM-DD, within the years the chronology records."""
    text = raw(name)
    if text is None:
        return None
    try:
        if not DAY.fullmatch(text):
            raise ValueError
        value = date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"{_shown(text)} is not a date; use YYYY-MM-DD (e.g. 2019-06-01)") from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise BadParameter(name, f"{_shown(text)} is outside {RANGE_TEXT}")
    return value


def moment(name: str) -> datetime | None:
    """A recorded time: a timestamp (UTC unless it says otherwise) or a day, meaning the end of that day."""
    text = raw(name)
    if text is None:
        return None
    try:
        if len(text) == 10:
            if not DAY.fullmatch(text):
                raise ValueError
            value = datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        else:
            if not text[:4].isascii() or not DAY.fullmatch(text[:10]):
                raise ValueError
            parsed = datetime.fromisoformat(text)
            value = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadParameter(name, f"{_shown(text)} is not a date or time; use YYYY-MM-DD or "
                                 "YYYY-MM-DDTHH:MM (UTC, or with its offset)") from None
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise BadParameter(name, f"{_shown(text)} is outside {RANGE_TEXT}")
    return value


def year(name: str) -> int | None:
    """A year the chronology records."""
    text = raw(name)
    if text is None:
        return None
    if not DIGITS.fullmatch(text) or not FIRST_DAY.year <= int(text) <= LAST_DAY.year:
        raise BadParameter(name, f"{_shown(text)} is not a year between {FIRST_DAY.year} and {LAST_DAY.year}")
    return int(text)


def choice(name: str, allowed: tuple[str, ...], what: str = "one of") -> str | None:
    """One of ``allowed`` (``what`` says what they are, in the refusal)."""
    text = raw(name)
    if text is not None and text not in allowed:
        raise BadParameter(name, f"{_shown(text)} is not {what} ({', '.join(allowed)})")
    return text


def text(name: str, limit: int = 100) -> str | None:
    """Free text (a name to search for), its runs of spaces made one, at most ``limit`` characters."""
    value = " ".join((request.args.get(name) or "").split())
    if len(value) > limit:
        raise BadParameter(name, f"at most {limit} characters")
    return value or None


def subject(name: str, kind: str) -> str | None:
    """A subject key of ``kind`` (``kind/slug``): where the previous page of a list ended."""
    value = text(name, 200)
    if value is not None and not value.startswith(f"{kind}/"):
        raise BadParameter(name, f"{_shown(value)} is not a subject of kind {kind} ({kind}/slug); "
                                 "follow the page's own links")
    return value
