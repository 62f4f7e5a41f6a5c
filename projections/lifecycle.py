"""An agreement's status on a given day, from the stages the log states.

Pure functions, no database: negotiations opened → signed → approved →
entered into force (or adopted) → amended / expired / terminated /
superseded. Dates have honest precision, so a stage can be known to have
happened by a day ("yes"), known not to ("no"), or neither ("possibly"):
"signed in July 2018" asked about 15 July 2018 answers "possibly signed".
A term ("2023/2027") ends the agreement's force the day after it closes,
with no event appended: that is a calendar transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from events import dates

YES, NO, POSSIBLY = "yes", "no", "possibly"
ONE_DAY = timedelta(days=1)

#: Stage type → (rank in the lifecycle, status it leads to).
STAGES: dict[str, tuple[int, str]] = {
    "AgreementNegotiationsOpened": (1, "under negotiation"),
    "AgreementSigned": (2, "signed"),
    "AgreementApproved": (3, "approved"),
    "AgreementEnteredIntoForce": (4, "in force"),
    "AgreementAdopted": (4, "in force"),
    "AgreementAmended": (5, "in force (amended)"),
    "AgreementExpired": (6, "expired"),
    "AgreementTerminated": (6, "terminated"),
    "AgreementSuperseded": (6, "superseded"),
}
IN_FORCE = frozenset({4, 5})
TERMINAL = 6
NOT_YET = "not yet concluded"
EXPIRED_BY_TERM = "expired"


@dataclass(frozen=True)
class Moment:
    """When something happened, as strict bounds (None: unbounded on that side)."""

    lo: date | None
    hi: date | None

    def by(self, day: date) -> str:
        if self.hi is not None and self.hi <= day:
            return YES
        if self.lo is not None and self.lo > day:
            return NO
        return POSSIBLY


def moment_of(occurred: str) -> Moment:
    """When a stage happened. An interval (``2023/2027``) states the span the
    stage covers, so it takes effect on the first day of that span."""
    period = dates.parse(occurred)
    if period.precision == "interval" and "/" in occurred:
        start = occurred.split("/", 1)[0]
        if start in ("", ".."):
            return Moment(None, period.hi)
        return Moment(period.lo, period.lo)
    return Moment(period.lo, period.hi)


def term_end(type_: str, occurred: str, term: str | None) -> Moment | None:
    """When a stated term stops the agreement's force (the day after it closes), or None.

    ``data.term`` wins; an adoption or entry into force dated as an interval
    (``2023/2027``) has that interval as its term. ``2011/..`` never ends;
    ``2011/`` ended at some unknown time.
    """
    text = term if term else occurred if type_ in ("AgreementAdopted", "AgreementEnteredIntoForce") else None
    if not text or "/" not in text or text.startswith("["):
        return None
    start, end = text.split("/", 1)
    if end == "..":
        return None
    if end == "":
        begun = dates.parse(start).lo if start not in ("", "..") else None
        return Moment(begun + timedelta(days=1) if begun else None, None)
    last = dates.parse(end).hi
    return Moment(last + timedelta(days=1), last + timedelta(days=1)) if last else None


@dataclass(frozen=True)
class Stage:
    """One stated stage of an agreement, reduced to what status needs."""

    type: str
    occurred: str
    event_id: str
    moment: Moment
    ends: Moment | None = None

    @classmethod
    def of(cls, type_: str, occurred: str, event_id: str, term: str | None = None) -> Stage:
        if term is None or isinstance(term, str):
            return cls(type_, occurred, event_id, *_moments(type_, occurred, term))
        return cls(type_, occurred, event_id, moment_of(occurred), term_end(type_, occurred, term))

    @property
    def rank(self) -> int:
        return STAGES[self.type][0]

    @property
    def label(self) -> str:
        return STAGES[self.type][1]


@lru_cache(maxsize=65536)
def _moments(type_: str, occurred: str, term: str | None) -> tuple[Moment, Moment | None]:
    """A stage's moment and term end, cached: a rebuild meets the same few thousand dates again and again."""
    return moment_of(occurred), term_end(type_, occurred, term)


@dataclass(frozen=True)
class Status:
    """An agreement's standing on a day. ``since`` is the stage that put it there."""

    label: str
    active: str  # yes, no, possibly
    since: Stage | None
    possibly: str | None = None  # a later status the day may already fall under
    by_term: bool = False  # the status comes from the calendar (a term ended), not from an event

    @property
    def text(self) -> str:
        return f"{self.label} (possibly {self.possibly})" if self.possibly else self.label


class _Step(NamedTuple):
    """A tuple, not a dataclass: a fold builds one per stage for every event of the agreement."""

    rank: int
    label: str
    moment: Moment
    stage: Stage
    by_term: bool = False


def _steps(stages: list[Stage]) -> list[_Step]:
    steps = [_Step(STAGES[s.type][0], STAGES[s.type][1], s.moment, s) for s in stages]
    steps += [_Step(TERMINAL, EXPIRED_BY_TERM, s.ends, s, True) for s in stages if s.ends is not None]
    return steps


def status_on(stages: list[Stage], day: date) -> Status:
    """The status on ``day``: the furthest stage surely reached, and any later one possibly reached."""
    return _status(_steps(stages), day)


def _status(steps: list[_Step], day: date) -> Status:
    # One pass (a rebuild asks this for every agreement event): Moment.by inlined.
    # The furthest stage surely reached wins; between equals (an early termination
    # and a term's end) the first to happen; between full equals the first listed.
    current: _Step | None = None
    possible: list[_Step] = []
    for step in steps:
        lo, hi = step.moment.lo, step.moment.hi
        if hi is not None and hi <= day:
            if current is None or (-step.rank, hi) < (-current.rank, current.moment.hi):
                current = step
        elif lo is None or lo <= day:
            possible.append(step)
    floor = current.rank if current else 0
    maybe: _Step | None = None
    for step in possible:  # the furthest stage possibly reached beyond it, the first listed between equals
        if step.rank > floor and (maybe is None or step.rank > maybe.rank):
            maybe = step
    if current is None:
        active = POSSIBLY if maybe and maybe.rank in IN_FORCE else NO
        return Status(NOT_YET, active, None, maybe.label if maybe else None)
    if current.rank in IN_FORCE:
        active = POSSIBLY if maybe and maybe.rank == TERMINAL else YES
    elif current.rank < min(IN_FORCE) and maybe and maybe.rank in IN_FORCE:
        active = POSSIBLY
    else:
        active = NO
    return Status(current.label, active, current.stage, maybe.label if maybe else None, current.by_term)


def transitions_after(stages: list[Stage], day: date, current: Status | None = None,
                      until: date | None = None) -> list[tuple[date, Status, Status]]:
    """Every day after ``day`` (up to ``until``, if given) on which the status changes by the calendar alone.

    ``current`` is the status on ``day`` when the caller already has it.
    """
    if until is not None and until <= day:
        return []
    steps = _steps(stages)
    candidates = set()
    for step in steps:
        for bound in (step.moment.lo, step.moment.hi):
            if bound is not None and bound >= day:  # only days after ``day`` count: a bound or the day after it
                if bound > day:
                    candidates.add(bound)
                candidates.add(bound + ONE_DAY)
    if until is not None:
        candidates = {when for when in candidates if when <= until}
    out: list[tuple[date, Status, Status]] = []
    if not candidates:
        return out
    later = sorted(candidates)
    previous = current if current is not None else _status(steps, day)
    for when in later:
        now = _status(steps, when)
        if (now.text, now.active) != (previous.text, previous.active):
            out.append((when, previous, now))
        previous = now
    return out
