"""An agreement's status on a given day, from the stages the log states and from nothing else.

The record is open-world: it holds what its sources say, not everything that
happened. An agreement is in force (``yes``) on a day only when a recorded
stage had put it in force by then and no recorded end had come; not in force
(``no``) only on a recorded ground: the day is before its negotiations opened,
its signature, adoption or entry into force, or the start of its term, or
after a recorded end (its term, an expiry, a termination, a supersession);
``possibly`` when a vague date straddles the day ("signed in July 2018"
asked about 15 July 2018); otherwise ``unknown``. Every answer carries its
reason in words: "signed in July 2018; entry into force not on record".

Which stage puts an agreement in force is the vocabulary's rule
(``events.vocabulary.applies_on_signature``): an adoption always; a signature
for the categories that apply from it (a roadmap, a plan); otherwise only an
entry into force. A term ("2013/2018") ends the force the day after it
closes, with no event appended: a calendar transition.

``history`` is the lifecycle in valid time (negotiations opened → signed →
entered into force → amended → ended), each transition dated as precisely as
the stage that made it: what the agreements feed publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from events import dates
from events.vocabulary import applies_on_signature

YES, NO, POSSIBLY, UNKNOWN = "yes", "no", "possibly", "unknown"
#: Every answer to "in force on that day?", in the order pages count them.
ANSWERS = (YES, POSSIBLY, NO, UNKNOWN)
ONE_DAY = timedelta(days=1)

#: Stage type → (rank in the lifecycle, status it leads to).
STAGES: dict[str, tuple[int, str]] = {
    "AgreementNegotiationsOpened": (1, "under negotiation"),
    "AgreementSigned": (2, "signed"),
    "AgreementApproved": (3, "approved"),
    "AgreementEnteredIntoForce": (4, "in force"),
    "AgreementAdopted": (4, "adopted"),
    "AgreementAmended": (5, "amended"),
    "AgreementExpired": (6, "expired"),
    "AgreementTerminated": (6, "terminated"),
    "AgreementSuperseded": (6, "superseded"),
}
#: What each stage did, as a reason says it.
DONE: dict[str, str] = {
    "AgreementNegotiationsOpened": "negotiations opened", "AgreementSigned": "signed",
    "AgreementApproved": "approved", "AgreementEnteredIntoForce": "entered into force",
    "AgreementAdopted": "adopted", "AgreementAmended": "amended", "AgreementExpired": "expired",
    "AgreementTerminated": "terminated", "AgreementSuperseded": "superseded",
}
#: Stages that, dated after a day, show the agreement was not yet in force on it: nothing applies before it is
#: negotiated, signed, adopted or in force. A party's approval is not among them: in an agreement of several
#: parties, one may approve after the others brought it into force.
NOT_BEFORE: dict[str, str] = {
    "AgreementNegotiationsOpened": "its negotiations opened", "AgreementSigned": "its signature",
    "AgreementAdopted": "its adoption", "AgreementEnteredIntoForce": "its entry into force",
}
#: Stages that conclude an agreement: dated after a day, it was not yet concluded on that day.
CONCLUDING = frozenset({"AgreementSigned", "AgreementAdopted", "AgreementEnteredIntoForce"})
ENDS = frozenset({"AgreementExpired", "AgreementTerminated", "AgreementSuperseded"})
AMENDED, TERMINAL = 5, 6
NOT_YET = "not yet concluded"
NOTHING_YET = "no stage on record yet"
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

    def surely_by(self, day: date) -> bool:
        return self.hi is not None and self.hi <= day

    def surely_after(self, day: date) -> bool:
        return self.lo is not None and self.lo > day

    def possibly_by(self, day: date) -> bool:
        return not self.surely_after(day)


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


class Term(NamedTuple):
    """A stated term: the moment it begins, the first day it no longer applies, and its end as stated."""

    begins: Moment | None
    begins_on: str | None
    ends: Moment | None
    ends_on: str | None  # the end as the term states it ("2018"); None when unknown or open


NO_TERM = Term(None, None, None, None)


def term_of(type_: str, occurred: str, term: str | None) -> Term:
    """The term that bounds the agreement's force, if one is stated.

    ``data.term`` wins; an adoption or entry into force dated as an interval
    (``2023/2027``) has that interval as its term. ``2011/..`` never ends;
    ``2011/`` ended at some unknown time.
    """
    text = term if term else occurred if type_ in ("AgreementAdopted", "AgreementEnteredIntoForce") else None
    if not text or "/" not in text or text.startswith("["):
        return NO_TERM
    start, end = text.split("/", 1)
    begun = dates.parse(start) if start not in ("", "..") else None
    begins = Moment(begun.lo, begun.hi) if begun else None
    begins_on = start if begun else None
    if end == "..":
        return Term(begins, begins_on, None, None)
    if end == "":
        return Term(begins, begins_on, Moment(begun.lo + ONE_DAY if begun and begun.lo else None, None), None)
    last = dates.parse(end).hi
    ends = Moment(last + ONE_DAY, last + ONE_DAY) if last else None
    return Term(begins, begins_on, ends, end if last else None)


def term_end(type_: str, occurred: str, term: str | None) -> Moment | None:
    """When a stated term stops the agreement's force (the day after it closes), or None."""
    return term_of(type_, occurred, term).ends


@dataclass(frozen=True)
class Stage:
    """One stated stage of an agreement, reduced to what status needs."""

    type: str
    occurred: str
    event_id: str
    moment: Moment
    term: Term = NO_TERM

    @classmethod
    def of(cls, type_: str, occurred: str, event_id: str, term: object = None) -> Stage:
        """A stage; a ``term`` that is not text (an old log's) bounds nothing."""
        return cls(type_, occurred, event_id, *_moments(type_, occurred, term if isinstance(term, str) else None))

    @property
    def ends(self) -> Moment | None:
        return self.term.ends

    @property
    def rank(self) -> int:
        return STAGES[self.type][0]

    @property
    def label(self) -> str:
        return STAGES[self.type][1]


@lru_cache(maxsize=65536)
def _moments(type_: str, occurred: str, term: str | None) -> tuple[Moment, Term]:
    """A stage's moment and term, cached: a rebuild meets the same few thousand dates again and again."""
    return moment_of(occurred), term_of(type_, occurred, term)


# --- dates in words ------------------------------------------------------------


def dated(edtf: str) -> str:
    """A date with the preposition it takes: 'on 7 June 2013', 'in July 2018', 'on or before 2025'."""
    precision = dates.parse(edtf).precision
    words = dates.describe(edtf)
    if precision == "day":
        return f"on {words}"
    if precision in ("month", "season", "year", "decade"):
        return f"in {words}"
    return words


def end_of(edtf: str | None) -> str:
    """When a term that closes on ``edtf`` stops applying: 'the end of 2018', '1 July 2027' (after a day)."""
    if edtf is None:
        return "a date not on record"
    last = dates.parse(edtf)
    if last.precision == "day" and last.hi is not None:
        return dates.describe((last.hi + ONE_DAY).isoformat())
    return f"the end of {dates.describe(edtf)}"


# --- the status on a day ---------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """An agreement's standing on a day. ``since`` is the stage that put it there.

    ``label`` is the furthest stage the record shows reached ("signed");
    ``active`` answers "in force on that day?" (``ANSWERS``) and ``reason``
    says on what ground, in words.
    """

    label: str
    active: str  # yes, no, possibly, unknown
    since: Stage | None
    possibly: str | None = None  # a later status the day may already fall under
    by_term: bool = False  # the status comes from the calendar (a term ended), not from an event
    reason: str = ""

    @property
    def text(self) -> str:
        return f"{self.label} (possibly {self.possibly})" if self.possibly else self.label

    @property
    def when(self) -> str | None:
        """The date, in words, the status took effect in the world: 'July 2018', 'the end of 2018'."""
        if self.since is None:
            return None
        return end_of(self.since.term.ends_on) if self.by_term else dates.describe(self.since.occurred)


class _Step(NamedTuple):
    """A tuple, not a dataclass: a fold builds one per stage for every event of the agreement."""

    rank: int
    label: str
    moment: Moment
    stage: Stage
    by_term: bool = False


def _steps(stages: list[Stage]) -> list[_Step]:
    steps = [_Step(STAGES[s.type][0], STAGES[s.type][1], s.moment, s) for s in stages]
    steps += [_Step(TERMINAL, EXPIRED_BY_TERM, s.term.ends, s, True) for s in stages if s.term.ends is not None]
    return steps


def status_on(stages: list[Stage], day: date, category: object = None) -> Status:
    """The status on ``day``: the furthest stage surely reached (and any later one possibly reached), and whether
    the agreement was in force then, as far as the record grounds it. ``category`` is the agreement's (the rule of
    what a signature does is the vocabulary's)."""
    current, maybe, steps = _standing(_steps(stages), day)
    active, reason = _answer(stages, steps, day, category, current, maybe)
    if current is None:
        label = NOT_YET if any(s.type in CONCLUDING and s.moment.surely_after(day) for s in stages) else NOTHING_YET
        return Status(label, active, None, maybe.label if maybe else None, reason=reason)
    return Status(current.label, active, current.stage, maybe.label if maybe else None, current.by_term, reason)


def _standing(steps: list[_Step], day: date) -> tuple[_Step | None, _Step | None, list[_Step]]:
    """The furthest step surely reached by ``day`` and the furthest possibly reached beyond it.

    One pass (a page asks this for every agreement it lists). The furthest
    stage surely reached wins; between equals (an early termination and a
    term's end) the first to happen; between full equals the first listed.
    """
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
    for step in possible:
        if step.rank > floor and (maybe is None or step.rank > maybe.rank):
            maybe = step
    return current, maybe, steps


def _ending(step: _Step) -> str:
    """How a step ended the force, in words: 'terminated in March 2020', 'expired at the end of 2018, by its term'."""
    if not step.by_term:
        return f"{DONE[step.stage.type]} {dated(step.stage.occurred)}"
    ends_on = step.stage.term.ends_on
    if ends_on is None:
        return "reached the end of its term, on a date not on record"
    when = end_of(ends_on)
    return f"expired {'on ' + when if not when.startswith('the end') else 'at ' + when}, by its term"


def _may_have_ended(step: _Step) -> str:
    """An end whose date straddles the day, in words."""
    if step.by_term and step.stage.term.ends_on is None:
        return "its term ended on a date not on record, perhaps before that day"
    return f"it {_ending(step)}, perhaps before that day"


def _applying(stage: Stage, category: object) -> str:
    """Why a stage put the agreement in force, in words."""
    done = f"{DONE[stage.type]} {dated(stage.occurred)}"
    if stage.type == "AgreementSigned":
        return f"{done}; a {category} applies from its signature"
    return done


def _answer(stages: list[Stage], steps: list[_Step], day: date, category: object, current: _Step | None,
            maybe: _Step | None) -> tuple[str, str]:
    """In force on ``day``, and on what ground (see the module's docstring for the rule)."""
    ends = [s for s in steps if s.rank == TERMINAL]
    ended = min((s for s in ends if s.moment.surely_by(day)), key=lambda s: s.moment.hi or day, default=None)
    if ended is not None:
        return NO, _ending(ended)
    not_begun = next((s for s in stages if s.term.begins is not None and s.term.begins.surely_after(day)), None)
    if not_begun is not None:
        return NO, f"before its term began ({dates.describe(not_begun.term.begins_on or '')})"
    signature = applies_on_signature(category)
    starts = [s for s in stages if s.type in ("AgreementEnteredIntoForce", "AgreementAdopted")
              or (signature and s.type == "AgreementSigned")]
    started = min((s for s in starts if s.moment.surely_by(day)), key=lambda s: s.moment.hi or day, default=None)
    if started is not None:
        end = next((s for s in ends if s.moment.possibly_by(day)), None)
        if end is None:
            return YES, _applying(started, category)
        return POSSIBLY, f"{_applying(started, category)}; {_may_have_ended(end)}"
    bar = min((s for s in stages if s.type in NOT_BEFORE and s.moment.surely_after(day)),
              key=lambda s: s.rank, default=None)
    if bar is not None:
        return NO, f"before {NOT_BEFORE[bar.type]} ({dates.describe(bar.occurred)})"
    start = next((s for s in starts if s.moment.possibly_by(day)), None)
    if start is not None:
        return POSSIBLY, f"{_applying(start, category)}: that day may be before or after it"
    return UNKNOWN, _unknown(current, maybe, signature)


def _unknown(current: _Step | None, maybe: _Step | None, signature: bool) -> str:
    """Why the record cannot say: the furthest stage it shows, and what it lacks."""
    missing = "signature or adoption not on record" if signature else "entry into force not on record"
    if current is not None:
        return f"{DONE[current.stage.type]} {dated(current.stage.occurred)}; {missing}"
    if maybe is not None:
        return f"{DONE[maybe.stage.type]} {dated(maybe.stage.occurred)}, perhaps after that day; {missing}"
    return f"no stage on record by that day; {missing}"


# --- the lifecycle in valid time -------------------------------------------------


class Transition(NamedTuple):
    """One change of an agreement's status in the world, dated as precisely as the stage (or term) that made it."""

    before: str  # the status it left ("" when nothing was on record before)
    after: str
    when: str  # EDTF: the stage's date, or the term's stated end
    by_term: bool
    lo: date | None  # the first day it may have taken effect
    day: date | None  # the first day by which it had surely taken effect (None: no such day is known)

    @property
    def when_words(self) -> str:
        return when_words(self.when, self.by_term)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.before, self.after, self.when)


def when_words(when: str, by_term: bool = False) -> str:
    """When a transition took effect, in words: 'July 2018', 'the end of 2018, by its term'."""
    if by_term:
        return f"{end_of(when or None)}, by its term"
    return dates.describe(when)


def history(stages: list[Stage]) -> list[Transition]:
    """The statuses the agreement went through, in lifecycle order, each with when it took effect.

    Each stage moves the agreement on only if it goes further than the
    stages before it (several amendments each count; the first end ends
    it); between stages of one rank, the earlier date comes first.
    """
    order = sorted((step.rank, step.moment.lo or step.moment.hi or date.min, i, step)
                   for i, step in enumerate(_steps(stages)))
    out: list[Transition] = []
    rank, label = 0, ""
    for step_rank, _, _, step in order:
        if rank == TERMINAL or step_rank < rank or (step_rank == rank and rank != AMENDED):
            continue
        moment = step.moment
        when = (step.stage.term.ends_on or "") if step.by_term else step.stage.occurred
        out.append(Transition(label, step.label, when, step.by_term, moment.lo, moment.hi))
        rank, label = step_rank, step.label
    return out
