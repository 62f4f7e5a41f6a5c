"""Open world, as a property: no page, feed or JSON answer says an agreement is not in force without a recorded
ground, nor that it is in force without a recorded stage that put it there.

Agreements are generated with every kind of stage, date precision, category, term, correction and retraction;
the service is asked about many days. Each "no" it gives is held against the grounds the record states, worked
out here from the events themselves (not by the code under test): a negotiation, signature, adoption or entry
into force dated after the day, a term that had not begun, or an end (an expiry, termination, supersession, or
a term's close) dated before it.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import events
import projections
from events import dates
from events.declaration import CATEGORIES
from service.feeds.atom import ATOM_NS, CHRONOLOGY_NS
from tests.conftest import make_app

STAGE_TYPES = ("AgreementNegotiationsOpened", "AgreementSigned", "AgreementApproved", "AgreementEnteredIntoForce",
               "AgreementAdopted", "AgreementAmended", "AgreementExpired", "AgreementTerminated",
               "AgreementSuperseded")
ENDS = {"AgreementExpired", "AgreementTerminated", "AgreementSuperseded"}
BARS = {"AgreementNegotiationsOpened", "AgreementSigned", "AgreementAdopted", "AgreementEnteredIntoForce"}
DATES = ("2016-12-01", "2017", "2017-21", "2018-07", "2018-07-19", "[..2017-01-06]", "[2017-01-08..2018-05]",
         "2019-06-26", "2027", "2030-05", "2013-06-07", "2021")
INTERVALS = ("2023/2027", "2011/..", "2011/", "2013/2018")  # an adoption or entry into force dated by its term
TERMS = (None, "2013/2018", "2023/2027", "2011/..", "2011/", "2016-12-01/2019-06-30")
DAYS = (date(2010, 1, 1), date(2013, 6, 7), date(2017, 1, 6), date(2017, 6, 30), date(2018, 7, 15),
        date(2019, 1, 1), date(2019, 7, 1), date(2024, 1, 1), date(2028, 1, 1), date(2031, 6, 1))
SOURCE = [{"url": "https://example.org/treaty", "quote": "as the record says", "kind": "official"}]
NS = {"a": ATOM_NS, "chr": CHRONOLOGY_NS}
#: Examples per run; PROPERTY_EXAMPLES=300 for a longer search after changing how a status is decided.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "20"))
SIGNATURE_APPLIES = {"roadmap", "plan", "partnership", "framework"}  # the declaration's rule, restated to check it


def _stage(draw: st.DrawFn) -> dict:
    type_ = draw(st.sampled_from(STAGE_TYPES))
    pool = DATES + (INTERVALS if type_ in ("AgreementAdopted", "AgreementEnteredIntoForce") else ())
    return {"type": type_, "occurred": draw(st.sampled_from(pool)), "term": draw(st.sampled_from(TERMS))}


@st.composite
def agreements(draw: st.DrawFn) -> list[dict]:
    """A few agreements, each with a category (or none), stages, and revisions of some of them."""
    out = []
    for i in range(draw(st.integers(1, 3))):
        stages = [_stage(draw) for _ in range(draw(st.integers(1, 4)))]
        revisions = draw(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(("retract", *DATES))), max_size=2))
        out.append({"stream": f"agreement/a{i}", "category": draw(st.none() | st.sampled_from(CATEGORIES)),
                    "stages": stages, "revisions": revisions})
    return out


# --- the record's own grounds, worked out from the events appended ------------------------------------------


@dataclass
class Stage:
    type: str
    occurred: str
    term: str | None
    position: int
    #: (position, new date) of each correction; the position of its retraction, if any.
    corrected: list[tuple[int, str]] = field(default_factory=list)
    retracted: int | None = None

    def as_of(self, position: int) -> str | None:
        """Its date as the log stood at ``position`` (None: not yet recorded, or retracted by then)."""
        if self.position > position or (self.retracted is not None and self.retracted <= position):
            return None
        return next((d for p, d in reversed(self.corrected) if p <= position), self.occurred)


def _bounds(occurred: str) -> tuple[date | None, date | None]:
    """When a stage happened: a span (2023/2027) takes effect on its first day."""
    period = dates.parse(occurred)
    if "/" in occurred and not occurred.startswith("["):
        return period.lo, period.lo
    return period.lo, period.hi


def _term(stage_type: str, occurred: str, term: str | None) -> tuple[date | None, date | None]:
    """(the first day of the term, the first day after it closes), each None when the record gives none."""
    text = term or (occurred if stage_type in ("AgreementAdopted", "AgreementEnteredIntoForce") else None)
    if not text or "/" not in text or text.startswith("["):
        return None, None
    start, end = text.split("/", 1)
    begins = dates.parse(start).lo if start not in ("", "..") else None
    ends = dates.parse(end).hi if end not in ("", "..") else None
    return begins, ends + timedelta(days=1) if ends else None


def grounds_for_no(stages: list[tuple[str, str, str | None]], day: date) -> list[str]:
    found = []
    for type_, occurred, term in stages:
        lo, hi = _bounds(occurred)
        begins, ends = _term(type_, occurred, term)
        if type_ in ENDS and hi is not None and hi <= day:
            found.append(f"{type_} {occurred}")
        if ends is not None and ends <= day:
            found.append(f"term {term or occurred} ended")
        if type_ in BARS and lo is not None and lo > day:
            found.append(f"{type_} {occurred} after the day")
        if begins is not None and begins > day:
            found.append(f"term {term or occurred} not begun")
    return found


def grounds_for_yes(stages: list[tuple[str, str, str | None]], day: date, category: str | None) -> list[str]:
    starts = {"AgreementEnteredIntoForce", "AgreementAdopted"} | (
        {"AgreementSigned"} if category in SIGNATURE_APPLIES else set())
    return [f"{t} {o}" for t, o, _ in stages if t in starts and (_bounds(o)[1] or date.max) <= day]


# --- the property --------------------------------------------------------------------------------------------


def _append(generated: list[dict]) -> dict[str, tuple[str | None, list[Stage]]]:
    """Append the agreements, then their revisions; what each agreement's record holds, by stream."""
    record: dict[str, tuple[str | None, list[Stage]]] = {}
    for agreement in generated:
        stages = []
        for i, spec in enumerate(agreement["stages"]):
            data = {"title": f"stage {i}", "short": agreement["stream"]}
            if agreement["category"]:
                data["category"] = agreement["category"]
            if spec["term"]:
                data["term"] = spec["term"]
            event_id = str(uuid.uuid4())
            [logged] = events.append([events.NewEvent(agreement["stream"], spec["type"], spec["occurred"], data,
                                                      SOURCE, event_id)], author="editor")
            stages.append(Stage(spec["type"], spec["occurred"], spec["term"], logged.position))
            stages[-1].event_id = event_id  # type: ignore[attr-defined]
        record[agreement["stream"]] = (agreement["category"], stages)
    for agreement in generated:
        _, stages = record[agreement["stream"]]
        for pick, what in agreement["revisions"]:
            target = stages[pick % len(stages)]
            if target.retracted is not None:
                continue
            data = {"target": target.event_id, "reason": "checked"}  # type: ignore[attr-defined]
            if what == target.as_of(events.head().position):
                continue  # a correction must change something
            if what == "retract":
                [logged] = events.append([events.NewEvent(agreement["stream"], "EventRetracted", "2026", data)],
                                         author="editor")
                target.retracted = logged.position
            else:
                [logged] = events.append([events.NewEvent(agreement["stream"], "EventCorrected", "2026", {
                    **data, "changes": {"occurred": what}})], author="editor")
                target.corrected.append((logged.position, what))
    projections.catch_up()
    return record


def _stages_at(stages: list[Stage], position: int) -> list[tuple[str, str, str | None]]:
    out = []
    for s in stages:
        occurred = s.as_of(position)
        if occurred is not None:
            out.append((s.type, occurred, s.term))
    return out


def _check_json(client, record, head: int) -> None:
    for day in DAYS:
        for row in client.get(f"/api/agreements?as_of={day.isoformat()}&limit=100").get_json()["agreements"]:
            category, stages = record[row["stream"]]
            now = _stages_at(stages, head)
            if row["active"] == "no":
                assert grounds_for_no(now, day), (row["stream"], day, row["reason"], now)
            if row["active"] == "yes":
                assert grounds_for_yes(now, day, category), (row["stream"], day, row["reason"], now)
            assert row["active"] in ("yes", "no", "possibly", "unknown") and row["reason"]


def _check_page(client, record, head: int) -> None:
    for day in DAYS:
        html = client.get(f"/agreements?as_of={day.isoformat()}").get_data(as_text=True)
        cards = re.findall(r'<section class="card agreement" id="([^"]+)">(.*?)</section>', html, re.S)
        said = 0
        for anchor, card in cards:
            stream = anchor.replace("-", "/", 1)
            if 'class="badge no"' in card:
                said += 1
                assert grounds_for_no(_stages_at(record[stream][1], head), day), (stream, day, card)
        tally = re.search(r"(\d+) not in force, ", html)
        assert tally and int(tally.group(1)) == said
        assert sum(card.count("not in force") for _, card in cards) == said  # in a grounded card's badge only


def _check_feed(client, record) -> None:
    root = etree.fromstring(client.get("/agreements/feed.atom").data)
    for entry in root.findall("a:entry", NS):
        text = etree.fromstring(f"<div>{entry.findtext('a:content', namespaces=NS)}</div>").xpath("string()")
        if "In force from then on: no" not in text:
            assert "not in force" not in text
            continue
        streams = [c.get("term") for c in entry.findall("a:category", NS) if c.get("term", "").startswith("agreement/")]
        assert len(streams) == 1
        found = re.search(r"EDTF ([^ ,)]+)", text)
        assert found, text  # an answer is given only for a change whose date is on record
        edtf = found.group(1)
        title = entry.findtext("a:title", namespaces=NS)
        if title.endswith("by its term)"):
            day = dates.parse(edtf).hi + timedelta(days=1)
        else:
            lo, hi = _bounds(edtf)
            day = hi or lo
        position = int(entry.findtext("chr:position", namespaces=NS))
        assert grounds_for_no(_stages_at(record[streams[0]][1], position), day), (title, text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=agreements())
def test_no_page_feed_or_json_says_not_in_force_without_a_recorded_ground(tmp_path_factory, generated):
    base: Path = tmp_path_factory.mktemp("open-world")
    app = make_app(f"sqlite:///{base}/chronology.sqlite3", base / "instance")
    try:
        with app.app_context():
            record = _append(generated)
            head = events.head().position
        client = app.test_client()
        _check_json(client, record, head)
        _check_page(client, record, head)
        _check_feed(client, record)
    finally:
        if not events.db.database.is_closed():
            events.db.database.close()


@pytest.mark.parametrize(("stages", "day", "expected"), [
    ([("AgreementSigned", "2018-07", None)], date(2020, 1, 1), []),
    ([("AgreementSigned", "2018-07", None)], date(2018, 6, 30), ["AgreementSigned 2018-07 after the day"]),
    ([("AgreementAdopted", "2013-06-07", "2013/2018")], date(2019, 1, 1), ["term 2013/2018 ended"]),
    ([("AgreementAdopted", "[..2025]", "2023/2027")], date(2022, 6, 1), ["term 2023/2027 not begun"]),
    ([("AgreementApproved", "2019", None)], date(2018, 1, 1), []),
])
def test_the_oracle_finds_exactly_the_grounds_the_record_states(stages, day, expected):
    """The property's own reading of the record, checked on cases a person can read."""
    assert grounds_for_no(stages, day) == expected
