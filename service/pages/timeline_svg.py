"""The timeline as a picture: one lane per kind of fact, a year axis, and every fact a link to its page.

Drawn on the server as SVG, so it needs no script and the CSP stays strict:
colours and dashes come from classes styled in ``static/site.css``. How a
date is drawn says how well it is known: a dot for a day, a faint dashed bar
over every day it could be for a month, season or year, a solid bar for a
span of time, an arrow for a span that is still running.

Marks carry a short label beside them where it fits, and always for an
agreement's stages and a session held: rows are packed with room for those
labels. Each mark is a link named by its full title and date, so keyboard
and screen-reader users hear it on focus; the optional ``timeline.js`` shows
it in a caption on focus and on a first touch. ``busiest`` says where the
facts are densest, for the first view on a narrow screen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from markupsafe import Markup, escape

from events import dates

#: Lanes top to bottom, with their labels.
LANES = (("agreement", "Agreements"), ("exercise", "Exercises"), ("meeting", "Meetings"),
         ("dialogue", "Dialogues set up"), ("other", "Other facts"))

WIDTH = 1100
LEFT = 130
RIGHT = 20
TOP = 28
ROW = 16
LANE_GAP = 14
MIN_MARK = 8  # px: a mark narrower than this is drawn as a dot, and rows keep marks this far apart


class Drawable(Protocol):
    event_id: str
    lane: str
    title: str
    occurred: str
    when: str
    lo: date | None
    hi: date | None


#: Types whose marks are always labelled (the lanes a reader scans first): every agreement stage, every session.
ALWAYS_LABELLED_LANES = frozenset({"agreement"})
ALWAYS_LABELLED_TYPES = frozenset({"MeetingHeld"})
LABEL_CHARS = 24  # a label's longest text before it is cut with "…"
CHAR_WIDTH = 6.0  # px per character of a label at 11 px, a generous average for proportional type
LABEL_GAP = 4  # px between a mark and its label


@dataclass(frozen=True)
class Mark:
    """One fact placed in the picture."""

    event_id: str
    lane: str
    label: str
    x0: float
    x1: float
    shape: str  # dot, vague (a point known to a month/season/year), span, open (a span still running)
    uncertain: bool
    row: int = 0
    short: str = ""  # the label drawn beside the mark ("" for none)
    left: bool = False  # the label is drawn to the mark's left (it would run off the right edge)

    @property
    def extent(self) -> tuple[float, float]:
        """The horizontal room the mark and its label take in their row."""
        end = max(self.x1, self.x0 + MIN_MARK) + (6 if self.shape == "open" else 0)
        if not self.short:
            return self.x0, end
        width = LABEL_GAP + len(self.short) * CHAR_WIDTH
        return (self.x0 - width, end) if self.left else (self.x0, end + width)


def short_label(title: str, limit: int = LABEL_CHARS) -> str:
    """A title cut to ``limit`` characters after a whole word, with "…"; "" when not even its first word fits.

    Never inside a word: what a mark shows must be words of its link's name (the title and date it is read by),
    or a screen reader user who says what they see ("cooper…") cannot reach it (WCAG 2.5.3, Label in Name).
    """
    if len(title) <= limit:
        return title
    head = title[:limit - 1]
    ends = [m.start() for m in WORD_END.finditer(title, 0, len(head) + 1)]
    cut = head[:max(ends)].rstrip(" ,;:—–-/") if ends else ""
    return cut + "…" if cut else ""


WORD_END = re.compile(r"[\s\-–—/]")


def _always_labelled(item: Drawable) -> bool:
    return item.lane in ALWAYS_LABELLED_LANES or getattr(item, "type", "") in ALWAYS_LABELLED_TYPES


def _style(occurred: str) -> tuple[str, bool, bool]:
    """(shape, uncertain, open end) for an EDTF date."""
    try:
        p = dates.parse(occurred)
    except ValueError:
        return "vague", True, False
    doubtful = p.uncertain or p.approximate or p.unknown_start or p.unknown_end
    if p.precision == "interval":
        return ("open" if p.open_end else "span"), doubtful, p.open_end
    if p.precision == "day":
        return "dot", doubtful, False
    return "vague", doubtful, False


def _domain(items: Sequence[Drawable], today: date) -> tuple[date, date]:
    days = [d for i in items for d in (i.lo, i.hi) if d is not None]
    first = min(days, default=today)
    last = max(days, default=today)
    if any(_style(i.occurred)[2] for i in items):
        last = max(last, today)
    return date(first.year, 1, 1), date(last.year, 12, 31)


def _pack(marks: list[Mark]) -> list[Mark]:
    """Give each mark the first row of its lane where it (and its label, if it must have one) touches no other."""
    ends: dict[str, list[float]] = {}
    out = []
    for m in sorted(marks, key=lambda m: (m.extent[0], m.x0, m.x1)):
        rows = ends.setdefault(m.lane, [])
        lo, hi = m.extent
        for index, end in enumerate(rows):
            if lo >= end + 2:
                rows[index] = hi
                out.append(replace(m, row=index))
                break
        else:
            rows.append(hi)
            out.append(replace(m, row=len(rows) - 1))
    return out


def _labels_where_they_fit(marks: list[Mark], right_edge: float) -> list[Mark]:
    """Give a label to each unlabelled mark with room after it in its row (cut shorter to fit, if need be)."""
    by_row: dict[tuple[str, int], list[Mark]] = {}
    for m in marks:
        by_row.setdefault((m.lane, m.row), []).append(m)
    out = []
    for row in by_row.values():
        row.sort(key=lambda m: m.extent[0])
        for i, m in enumerate(row):
            if m.short:
                out.append(m)
                continue
            end = m.extent[1]
            limit = row[i + 1].extent[0] - 2 if i + 1 < len(row) else right_edge
            room = int((limit - end - LABEL_GAP) // CHAR_WIDTH)
            title = m.label.split(" — ", 1)[0]
            out.append(replace(m, short=short_label(title, min(room, LABEL_CHARS))) if room >= 8 else m)
            if out[-1].short:
                row[i] = out[-1]
    return out


GAP_YEARS = 4  # a run of at least this many years without a fact is drawn as a short break
GAP_WEIGHT = 0.6  # how many years' width a break takes


class Axis:
    """Days to x positions, with long empty stretches of years squeezed into a marked break.

    One agreement of 1979 must not crush forty years of partnership into a
    corner: the empty years between are drawn as a zigzag, not to scale.
    """

    def __init__(self, start: date, end: date, busy: set[int], left: float, width: float) -> None:
        every = list(range(start.year, end.year + 1))
        self.weight = dict.fromkeys(every, 1.0)
        self.breaks: list[tuple[int, int]] = []
        run: list[int] = []
        for y in [*every, None]:
            if y is not None and not busy & {y - 1, y, y + 1}:
                run.append(y)
                continue
            if len(run) >= GAP_YEARS:
                self.breaks.append((run[0], run[-1]))
                for g in run:
                    self.weight[g] = GAP_WEIGHT / len(run)
            run = []
        self.before: dict[int, float] = {}
        total = 0.0
        for y in every:
            self.before[y] = total
            total += self.weight[y]
        self.total = total or 1.0
        self.first, self.last = every[0], every[-1]
        self.left, self.width = left, width

    def __call__(self, day: date) -> float:
        if day.year < self.first:
            return self.left
        if day.year > self.last:
            return self.left + self.width
        length = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
        frac = (day - date(day.year, 1, 1)).days / length
        return self.left + self.width * (self.before[day.year] + self.weight[day.year] * frac) / self.total

    def squeezed(self, year: int) -> bool:
        return self.weight.get(year, 1.0) < 1.0


def _busy_years(items: Sequence[Drawable], today: date) -> set[int]:
    busy: set[int] = set()
    for i in items:
        lo = i.lo or i.hi
        hi = (today if _style(i.occurred)[2] else i.hi) or lo
        if lo is not None and hi is not None:
            busy.update(range(lo.year, hi.year + 1))
    return busy


def draw(items: Sequence[Drawable], today: date) -> Markup:
    """The SVG picture of ``items`` (undated ones are left to the list below it)."""
    dated = [i for i in items if i.lo is not None or i.hi is not None]
    start, end = _domain(dated, today)
    x = Axis(start, end, _busy_years(dated, today), LEFT, WIDTH - LEFT - RIGHT)
    marks = _labels_where_they_fit(_pack([_mark(item, x, today) for item in dated]), WIDTH - 4)
    lane_top, height = _lane_tops(marks)
    dense = busiest(dated)
    first_view = x(date(dense[0], 1, 1)) / WIDTH if dense else 0.0
    parts = [Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="group" aria-label="Timeline from {a} to {b}; the list below gives every entry" '
        'data-first-view="{f:.3f}">'
    ).format(w=WIDTH, h=height, a=start.year, b=end.year, f=first_view)]
    parts += _lane_bands(marks, lane_top)
    parts += _year_axis(x, start, end, height)
    parts += _axis_breaks(x, height)
    if start <= today <= end:
        tx = x(today)
        parts.append(Markup('<line class="today" x1="{x}" y1="{t}" x2="{x}" y2="{b}"/>').format(
            x=f"{tx:.1f}", t=TOP - 10, b=height - 4))
    parts += [_drawn(m, lane_top) for m in marks]
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _mark(item: Drawable, x: Axis, today: date) -> Mark:
    """Where and how one dated fact is drawn (its row in its lane comes later, from ``_pack``)."""
    shape, uncertain, open_end = _style(item.occurred)
    lo = item.lo or item.hi
    assert lo is not None  # a dated fact has a bound
    hi = (today if open_end else item.hi) or lo
    x0, x1 = x(lo), x(hi + timedelta(days=1))
    if shape == "dot" or (shape == "span" and x1 - x0 < MIN_MARK / 2):
        shape, x1 = ("dot", x0) if shape == "dot" else (shape, x0 + MIN_MARK / 2)
    lane = item.lane if item.lane in dict(LANES) else "other"
    mark = Mark(item.event_id, lane, f"{item.title} — {item.when}", x0, x1, shape, uncertain)
    if not _always_labelled(item):
        return mark
    labelled = replace(mark, short=short_label(item.title))
    return replace(labelled, left=True) if labelled.extent[1] > WIDTH - 4 else labelled


def _rows(marks: list[Mark], lane: str) -> int:
    return max((m.row for m in marks if m.lane == lane), default=0) + 1


def _lane_tops(marks: list[Mark]) -> tuple[dict[str, int], int]:
    """Where each lane starts, top to bottom, and the height of the whole picture."""
    lane_top: dict[str, int] = {}
    y = TOP
    for lane, _ in LANES:
        lane_top[lane] = y
        y += _rows(marks, lane) * ROW + LANE_GAP
    return lane_top, y + 4


def _lane_bands(marks: list[Mark], lane_top: dict[str, int]) -> list[Markup]:
    return [Markup('<rect class="lane lane-{l}" x="0" y="{y}" width="{w}" height="{h}"/>'
                   '<text class="lane-label" x="8" y="{ty}">{label}</text>').format(
        l=lane, y=lane_top[lane] - LANE_GAP / 2, w=WIDTH, h=_rows(marks, lane) * ROW + LANE_GAP,
        ty=lane_top[lane] + 11, label=label) for lane, label in LANES]


def _year_axis(x: Axis, start: date, end: date, height: int) -> list[Markup]:
    """A line for every year drawn to scale, labelled every year, 5 or 25 years by how many there are."""
    parts = []
    shown = [y for y in range(start.year, end.year + 1) if not x.squeezed(y)]
    step = 1 if len(shown) <= 25 else 5 if len(shown) <= 120 else 25
    for year in shown:
        gx = x(date(year, 1, 1))
        parts.append(Markup('<line class="year" x1="{x}" y1="{t}" x2="{x}" y2="{b}"/>').format(
            x=f"{gx:.1f}", t=TOP - 10, b=height - 4))
        if year % step == 0 or (year == shown[0] and step - year % step >= 3):
            parts.append(Markup('<text class="year-label" x="{tx}" y="16">{year}</text>').format(
                tx=f"{gx + 3:.1f}", year=year))
    return parts


def _axis_breaks(x: Axis, height: int) -> list[Markup]:
    """A zigzag where empty years are squeezed."""
    parts = []
    for first, last in x.breaks:
        bx0, bx1 = x(date(first, 1, 1)), x(date(last, 12, 31))
        mid = (bx0 + bx1) / 2
        parts.append(Markup('<g class="axis-break"><title>{a}–{b}: nothing on record, not to scale</title>'
                            '<rect x="{x0:.1f}" y="{t}" width="{w:.1f}" height="{h}"/>'
                            '<path d="M{m0:.1f},{t} l4,6 l-4,6 l4,6"/></g>').format(
            a=first, b=last, x0=bx0, t=TOP - 10, w=max(bx1 - bx0, 1), h=height - TOP + 6, m0=mid - 2))
    return parts


def _drawn(m: Mark, lane_top: dict[str, int]) -> Markup:
    """One mark as a link to its fact's page: a dot, or a bar (with an arrow when the span is still running)."""
    cy = lane_top[m.lane] + m.row * ROW + ROW / 2
    css = f"mark {m.lane} {m.shape}" + (" uncertain" if m.uncertain else "")
    if m.shape == "dot":
        shape = Markup('<circle class="{c}" cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>').format(c=css, x=m.x0, y=cy)
    else:
        shape = Markup('<rect class="{c}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="9" rx="2"/>').format(
            c=css, x=m.x0, y=cy - 4.5, w=max(m.x1 - m.x0, 3))
        if m.shape == "open":
            shape += Markup('<path class="{c}" d="M{x:.1f},{y0:.1f} l7,6.5 l-7,6.5 z"/>').format(
                c=css, x=m.x1, y0=cy - 6.5)
    if m.short:
        tx = m.x0 - LABEL_GAP if m.left else max(m.x1, m.x0 + 4.5) + (7 if m.shape == "open" else 0) + LABEL_GAP
        shape += Markup('<text class="mark-label" x="{x:.1f}" y="{y:.1f}"{anchor}>{text}</text>').format(
            x=tx, y=cy + 3.5, anchor=Markup(' text-anchor="end"') if m.left else "", text=m.short)
    return Markup('<a href="/events/{id}" aria-label="{label}" data-title="{label}"><title>{label}</title>{shape}'
                  '</a>').format(id=m.event_id, label=m.label, shape=shape)


def busiest(items: Sequence[Drawable], span: int = 6) -> tuple[int, int] | None:
    """The ``span`` years holding the most dated facts (the earliest such run), or None when nothing is dated."""
    years: dict[int, int] = {}
    for i in items:
        day = i.lo or i.hi
        if day is not None:
            years[day.year] = years.get(day.year, 0) + 1
    if not years:
        return None
    best = max(range(min(years), max(years) + 1),
               key=lambda y: (sum(years.get(y + k, 0) for k in range(span)), -y))
    return best, best + span - 1


def legend() -> Markup:
    """What each way of drawing a date means (shown under the picture)."""
    rows = (
        ("dot", "an exact day"),
        ("vague", "a date known only to the month, season or year: the bar covers every day it could be"),
        ("span", "a span of time (from – to)"),
        ("open", "a span still running (“since …”)"),
        ("dot uncertain", "dashed and faint: the source says the date is uncertain or approximate"),
    )
    items = []
    for shape, text in rows:
        if shape.startswith("dot"):
            sample = Markup('<circle class="mark other {s}" cx="14" cy="8" r="4.5"/>').format(s=shape)
        else:
            sample = Markup('<rect class="mark other {s}" x="2" y="3.5" width="24" height="9" rx="2"/>').format(
                s=shape)
        items.append(Markup('<li><svg width="30" height="16" aria-hidden="true">{sample}</svg> {text}</li>').format(
            sample=sample, text=escape(text)))
    return Markup('<ul class="legend">') + Markup("").join(items) + Markup("</ul>")
