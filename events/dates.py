"""Valid time as EDTF, with honest precision and strict bounds.

`edtf.parse_edtf` costs milliseconds a call, which a log of a million events
cannot pay, and it has traps (``2011/`` gets an invented end, winter stops at
31 December). The common forms are therefore parsed here; anything rarer goes
to the library, whose bounds are then checked against the same rules.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .errors import InvalidDate

SEASONS = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}

#: The years a date may name. Every page, feed and read model can render any day between them (a term's end or a
#: plan's due day, the day after a date, stays inside Python's calendar), and the partnership's history fits.
MIN_YEAR, MAX_YEAR = 1000, 2999
FIRST_DAY, LAST_DAY = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
RANGE_TEXT = f"the years {MIN_YEAR}-{MAX_YEAR}"
_MONTH_NAMES = [calendar.month_name[m] for m in range(13)]

# One date: year, optional month or season, optional day, optional qualifier.
# X digits are EDTF's "unspecified" (201X = some year of the 2010s).
_DATE = re.compile(
    r"^(?P<year>[0-9]{3}[0-9X])(?:-(?P<month>[0-9X]{2})(?:-(?P<day>[0-9X]{2}))?)?(?P<qual>[?~%])?$"
)

# One day somewhere in a range (EDTF "one of a set"): [..2017-01-06], [2012-08..2017-01].
_RANGE = re.compile(r"^\[(?P<start>[^\[\],.]*)\.\.(?P<end>[^\[\],.]*)\]$")

# Level-2 seasons (25-41: hemispheres, quarters, quadrimesters, semesters).
_LEVEL2_SEASON = re.compile(r"^[0-9]{4}-(2[5-9]|3[0-9]|4[01])$")


@dataclass(frozen=True, slots=True)
class Period:
    """An EDTF string and what it means: strict bounds and precision.

    ``hi`` is None for an open end (``2011/..``: still true today) and for an
    unknown end (``2011/``: it ended, nobody says when); ``open_end`` and
    ``unknown_end`` tell them apart. Bounds are inclusive days.
    """

    text: str
    lo: date | None
    hi: date | None
    precision: str  # day, month, season, year, decade, interval (a span), range (one day within bounds)
    uncertain: bool = False  # '?'
    approximate: bool = False  # '~'
    open_start: bool = False
    unknown_start: bool = False
    open_end: bool = False
    unknown_end: bool = False

    @property
    def is_exact_day(self) -> bool:
        return self.precision == "day" and not (self.uncertain or self.approximate)

    def contains(self, day: date) -> bool:
        """True when ``day`` lies inside the strict bounds (open ends included)."""
        if self.lo is not None and day < self.lo:
            return False
        if self.hi is None:
            return self.open_end
        return day <= self.hi

    def label(self) -> str:
        """How a person would write it: '6 January 2017', 'spring 2017', '2023–2027'."""
        return describe(self.text)


def _bounds_of_single(text: str) -> Period:
    m = _DATE.match(text)
    if not m:
        raise InvalidDate(text, "is not an EDTF date (expected forms like 2017, 2017-01, 2017-01-06, 2017-21)")
    year_s, month_s, day_s, qual = m.group("year", "month", "day", "qual")
    flags = {"uncertain": qual in ("?", "%"), "approximate": qual in ("~", "%")}
    if "X" in year_s:
        return _decade(text, year_s, month_s, day_s, flags)
    year = int(year_s)
    _check_year(text, year)
    if month_s is None:
        return Period(text, date(year, 1, 1), date(year, 12, 31), "year", **flags)
    if month_s == "XX":
        if day_s not in (None, "XX"):
            raise InvalidDate(text, "a day cannot be given when the month is unspecified")
        return Period(text, date(year, 1, 1), date(year, 12, 31), "year", **flags)
    return _within_year(text, year, month_s, day_s, flags)


def _decade(text: str, year_s: str, month_s: str | None, day_s: str | None, flags: dict[str, bool]) -> Period:
    """201X: some year of a decade, which cannot then name a month or a day."""
    if month_s or day_s:
        raise InvalidDate(text, "an unspecified year cannot carry a month or day")
    if year_s[2] == "X" or year_s.count("X") > 1:
        raise InvalidDate(text, "only the last digit of a year may be unspecified (e.g. 201X)")
    decade = int(year_s[:3]) * 10
    _check_year(text, decade)
    return Period(text, date(decade, 1, 1), date(decade + 9, 12, 31), "decade", **flags)


def _within_year(text: str, year: int, month_s: str, day_s: str | None, flags: dict[str, bool]) -> Period:
    """A season, a month or a day of a known year."""
    if "X" in month_s:
        raise InvalidDate(text, "a month is either given or wholly unspecified (XX)")
    month = int(month_s)
    if 21 <= month <= 24:
        if day_s is not None:
            raise InvalidDate(text, "a season cannot carry a day")
        return _season(text, year, month, flags)
    if not 1 <= month <= 12:
        raise InvalidDate(text, f"month {month_s} does not exist (01-12, or 21-24 for seasons)")
    last = calendar.monthrange(year, month)[1]
    if day_s is None or day_s == "XX":
        return Period(text, date(year, month, 1), date(year, month, last), "month", **flags)
    if "X" in day_s:
        raise InvalidDate(text, "a day is either given or wholly unspecified (XX)")
    day = int(day_s)
    if not 1 <= day <= last:
        raise InvalidDate(text, f"day {day_s} does not exist in {_MONTH_NAMES[month]} {year} (it has {last} days)")
    d = date(year, month, day)
    return Period(text, d, d, "day", **flags)


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidDate(text, f"names the year {year}: the chronology records dates in {RANGE_TEXT}")


def _season(text: str, year: int, code: int, flags: dict[str, bool]) -> Period:
    # Meteorological seasons of the northern hemisphere; winter YYYY runs
    # from December YYYY into February of the next year.
    starts = {21: (year, 3), 22: (year, 6), 23: (year, 9), 24: (year, 12)}
    y0, m0 = starts[code]
    y1, m1 = (y0, m0 + 2) if code != 24 else (year + 1, 2)
    return Period(text, date(y0, m0, 1), date(y1, m1, calendar.monthrange(y1, m1)[1]), "season", **flags)


def _ends_before_it_starts(start: Period | None, end: Period | None) -> bool:
    """True when both ends are known and the end's last day comes before the start's first."""
    return (start is not None and end is not None and start.lo is not None and end.hi is not None
            and start.lo > end.hi)


def _interval(text: str, start: str, end: str) -> Period:
    lo_p = None if start in ("", "..") else _bounds_of_single(start)
    hi_p = None if end in ("", "..") else _bounds_of_single(end)
    if lo_p is None and hi_p is None:
        raise InvalidDate(text, "an interval needs at least one known end")
    if _ends_before_it_starts(lo_p, hi_p):
        raise InvalidDate(text, f"the interval ends ({end}) before it starts ({start})")
    return Period(
        text,
        lo_p.lo if lo_p else None,
        hi_p.hi if hi_p else None,
        "interval",
        uncertain=any(p.uncertain for p in (lo_p, hi_p) if p),
        approximate=any(p.approximate for p in (lo_p, hi_p) if p),
        open_start=start == "..",
        unknown_start=start == "",
        open_end=end == "..",
        unknown_end=end == "",
    )


def _range(text: str, start: str, end: str) -> Period:
    """A single moment known only to lie between two bounds (either may be open)."""
    lo_p = _bounds_of_single(start) if start else None
    hi_p = _bounds_of_single(end) if end else None
    if lo_p is None and hi_p is None:
        raise InvalidDate(text, "a range needs at least one bound")
    if _ends_before_it_starts(lo_p, hi_p):
        raise InvalidDate(text, f"the range ends ({end}) before it starts ({start})")
    return Period(text, lo_p.lo if lo_p else None, hi_p.hi if hi_p else None, "range",
                  open_start=lo_p is None, open_end=hi_p is None)


def _via_library(text: str) -> Period:
    """Rare EDTF forms (sets, level-2 seasons): the `edtf` library's strict bounds."""
    import edtf  # imported lazily: slow to import, rarely needed

    try:
        parsed = edtf.parse_edtf(text)
        lo, hi = parsed.lower_strict(), parsed.upper_strict()
    except Exception as exc:  # the library raises several unrelated types
        raise InvalidDate(text, f"is not valid EDTF ({exc})") from None

    def as_date(t: object) -> date | None:
        if isinstance(t, float):  # +/- infinity: an open end
            return None
        try:
            day = date(t.tm_year, t.tm_mon, t.tm_mday)  # type: ignore[attr-defined]
        except (ValueError, AttributeError):
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidDate(text, f"falls outside {RANGE_TEXT}") from None
        return day

    lo_d, hi_d = as_date(lo), as_date(hi)
    if lo_d and hi_d and lo_d > hi_d:
        raise InvalidDate(text, "ends before it starts")
    return Period(text, lo_d, hi_d, "interval", open_end=hi_d is None, open_start=lo_d is None)


@lru_cache(maxsize=65536)
def parse(text: str) -> Period:
    """Parse an EDTF string into a Period, or raise InvalidDate naming the problem."""
    if not isinstance(text, str):
        raise InvalidDate(repr(text), "must be a string")
    if text != text.strip() or not text:
        raise InvalidDate(text, "must be a non-empty EDTF string without surrounding spaces")
    ranged = _RANGE.match(text)
    if ranged:
        return _range(text, ranged.group("start"), ranged.group("end"))
    if _LEVEL2_SEASON.match(text) or text[0] in "[{":
        return _via_library(text)
    if "/" in text:
        start, _, end = text.partition("/")
        if "/" in end:
            raise InvalidDate(text, "an interval has exactly one '/'")
        if _DATE.match(start) or start in ("", ".."):
            return _interval(text, start, end)
    elif _DATE.match(text):
        return _bounds_of_single(text)
    raise InvalidDate(
        text, "is not an EDTF date (expected forms like 2017-01-06, 2018-07, 2017-21, 2023/2027, 2011/..)"
    )


@lru_cache(maxsize=65536)
def bounds(text: str) -> tuple[str | None, str | None]:
    """The strict bounds as ISO dates (what the log stores), or raise InvalidDate."""
    period = parse(text)
    return (period.lo.isoformat() if period.lo else None, period.hi.isoformat() if period.hi else None)


@lru_cache(maxsize=65536)
def describe(text: str) -> str:
    """A reader's rendering of an EDTF string."""
    p = parse(text)
    if p.precision == "interval" and "/" in text:
        return _describe_interval(text)
    if p.precision == "range":
        return _describe_range(text)
    if p.precision == "interval":
        return text
    return _qualified(_describe_single(text, p.precision), p)


def _describe_interval(text: str) -> str:
    start, _, end = text.partition("/")
    if start == "..":
        return f"until {describe(end)}"
    if start == "":
        return f"unknown start – {describe(end)}"
    if end == "..":
        return f"since {describe(start)}"
    if end == "":
        return f"from {describe(start)}, end unknown"
    return f"{describe(start)} – {describe(end)}"


def _describe_range(text: str) -> str:
    m = _RANGE.match(text)
    assert m is not None  # parse() said it is a range
    start, end = m.group("start", "end")
    if not start:
        return f"on or before {describe(end)}"
    if not end:
        return f"on or after {describe(start)}"
    return f"between {describe(start)} and {describe(end)}"


def _describe_single(text: str, precision: str) -> str:
    """The words for one date (a decade, a year, a season, a month or a day), without its qualifiers."""
    m = _DATE.match(text)
    assert m is not None  # parse() read it as one date
    year, month, day = m.group("year", "month", "day")
    if precision == "decade":
        return f"the {year[:3]}0s"
    if precision == "year":
        return year.lstrip("0")
    if precision == "season":
        return f"{SEASONS[int(month)]} {int(year)}"
    if precision == "month":
        return f"{_MONTH_NAMES[int(month)]} {int(year)}"
    return f"{int(day)} {_MONTH_NAMES[int(month)]} {int(year)}"


def _qualified(words: str, p: Period) -> str:
    if p.uncertain and p.approximate:
        return f"{words} (approximate, uncertain)"
    if p.uncertain:
        return f"{words} (uncertain)"
    if p.approximate:
        return f"about {words}"
    return words


_HUMAN_MONTHS = {
    name.lower(): i for i, name in enumerate(calendar.month_name) if name
} | {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12, "sept": 9,
}
_HUMAN_SEASONS = {
    "spring": 21, "summer": 22, "autumn": 23, "fall": 23, "winter": 24,
    "printemps": 21, "été": 22, "ete": 22, "automne": 23, "hiver": 24,
}


def from_human(text: str) -> str:
    """Turn a date as a person types it into EDTF, or raise InvalidDate.

    Accepts EDTF itself, '6 January 2017', 'January 6, 2017', '1er décembre
    2016', 'July 2018', 'spring 2017', '2023–2027', 'since 2011', 'around 2017'.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise InvalidDate(text, "is empty")
    try:
        parse(raw)
        return raw
    except InvalidDate as exc:
        edtf_error = exc
    s = raw.lower().replace(",", " ").replace("–", "-").replace("—", "-")
    s = " ".join(s.split())
    _refuse_numeric_day(raw, s)
    for reading in (_from_prefixed, _from_span, _from_words):
        edtf_text = reading(raw, s)
        if edtf_text is not None:
            return edtf_text
    if re.fullmatch(r"[0-9X?~%/.\-]+", s):
        raise edtf_error
    raise InvalidDate(
        raw, "is not a date we can read (try '6 January 2017', 'July 2018', 'spring 2017', '2023-2027' or EDTF)"
    )


_HUMAN_PREFIXES = (("since ", "/.."), ("depuis ", "/.."), ("around ", "~"), ("about ", "~"), ("c. ", "~"),
                   ("vers ", "~"))


def _from_prefixed(raw: str, s: str) -> str | None:
    """'since 2011', 'around 2017': the date after the word, open-ended or approximate."""
    for prefix, suffix in _HUMAN_PREFIXES:
        if s.startswith(prefix):
            inner = from_human(raw[len(prefix):])
            return _checked(raw, f"{inner}{suffix}")
    return None


def _from_span(raw: str, s: str) -> str | None:
    """'2023–2027', 'March to May 2019': an interval, when both sides read as dates."""
    m = re.fullmatch(r"(\S.*?) ?(?:-|to|until|à|au) ?(\S.*)", s)
    if m and not re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", s):
        try:
            return _checked(raw, f"{from_human(m.group(1))}/{from_human(m.group(2))}")
        except InvalidDate:
            pass
    return None


def _from_words(raw: str, s: str) -> str | None:
    """'6 January 2017', 'January 6 2017', 'July 2018', 'spring 2017'."""
    m = re.fullmatch(r"([0-9]{1,2})(?:er|st|nd|rd|th)? ([a-zéèûô]+)\.? ([0-9]{4})", s)
    if m and m.group(2) in _HUMAN_MONTHS:
        return _checked(raw, f"{m.group(3)}-{_HUMAN_MONTHS[m.group(2)]:02d}-{int(m.group(1)):02d}")
    m = re.fullmatch(r"([a-zéèûô]+)\.? ([0-9]{1,2})(?:st|nd|rd|th)? ([0-9]{4})", s)
    if m and m.group(1) in _HUMAN_MONTHS:
        return _checked(raw, f"{m.group(3)}-{_HUMAN_MONTHS[m.group(1)]:02d}-{int(m.group(2)):02d}")
    m = re.fullmatch(r"([a-zéèûô]+) (?:of )?([0-9]{4})", s)
    if m and m.group(1) in _HUMAN_MONTHS:
        return _checked(raw, f"{m.group(2)}-{_HUMAN_MONTHS[m.group(1)]:02d}")
    if m and m.group(1) in _HUMAN_SEASONS:
        return _checked(raw, f"{m.group(2)}-{_HUMAN_SEASONS[m.group(1)]}")
    return None


_NUMERIC_DAY = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})|([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})")


def _refuse_numeric_day(raw: str, s: str) -> None:
    """A day written all in numbers (13/07/2018, 2018/07/13): say how to write it, since 03/04 reads two ways."""
    m = _NUMERIC_DAY.fullmatch(s)
    if m is None:
        return
    if m.group(4):
        year, first, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
        readings = [(first, second)]  # year/month/day is the only order that starts with the year
    else:
        year, first, second = int(m.group(3)), int(m.group(1)), int(m.group(2))
        readings = [(month, day) for month, day in ((second, first), (first, second)) if 1 <= month <= 12]
        readings = list(dict.fromkeys(readings))
    days = []
    for month, day in readings:
        try:
            days.append(date(year, month, day))
        except ValueError:
            continue
    if not days:
        raise InvalidDate(raw, "is not a day that exists; write it like 13 July 2018 or 2018-07-13")
    words = [f"{d.day} {_MONTH_NAMES[d.month]} {d.year}" for d in days]
    if len(days) == 1:
        raise InvalidDate(raw, f"is written with numbers only: write {words[0]} or {days[0].isoformat()}")
    raise InvalidDate(raw, f"reads two ways, {' or '.join(words)}: write the month in words, or the day as EDTF "
                           f"({' or '.join(d.isoformat() for d in days)})")


def _checked(raw: str, edtf_text: str) -> str:
    try:
        parse(edtf_text)
    except InvalidDate as exc:
        raise InvalidDate(raw, exc.reason) from None
    return edtf_text
