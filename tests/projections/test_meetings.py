from datetime import UTC, date, datetime

import pytest

import events
import projections
from events import store
from projections import meetings as model
from seeds.catalog import event_id_for
from tests.conftest import written_by_an_earlier_version

NOW = datetime(2026, 11, 23, tzinfo=UTC)
SOURCE = [{"url": "https://www.mofa.go.jp/example", "quote": "the fourth 2+2 was held", "kind": "official"}]


def by_name(now=NOW):
    return {m.name: m for m in model.mechanisms(now)}


def append(*new):
    recorded = events.append(list(new), author="editor")
    projections.catch_up()
    return recorded


def test_the_2plus2_sessions_places_participants_and_outcomes(seeded):
    two = by_name()["2+2"]
    assert [(s.session, s.occurred) for s in two.sessions] == [(2, "[..2017-01-05]"), (3, "2017-01-06")]
    third = two.last
    assert third.place == "Paris"
    assert {"name": "Fumio Kishida", "role": "participant"} in third.participants
    assert event_id_for("joint-statement-2017-2plus2/acsa-negotiations-opened") in third.outcomes
    assert two.established.occurred == "2013" and two.level == "ministerial"


def test_the_2plus2s_2018_plan_reads_no_later_session_on_record_once_2018_has_fully_passed(seeded):
    two = by_name()["2+2"]
    assert (two.next.occurred, two.next.announced) == ("2018", "2017-01-06")
    still = by_name(datetime(2018, 12, 31, 23, 59, tzinfo=UTC))["2+2"]
    assert (still.passed, still.passed_note) == (False, None)
    passed = by_name(datetime(2019, 1, 1, tzinfo=UTC))["2+2"]
    assert passed.passed and passed.passed_since == date(2019, 1, 1)
    assert passed.passed_note == "no later session on record (planned for 2018)"
    row = passed.to_dict()
    assert (row["next_passed"], row["next_passed_on"], row["next_note"]) == (
        True, "2019-01-01", "no later session on record (planned for 2018)")
    assert not any("overdue" in key for key in row)
    assert by_name()["cybersecurity dialogue"].passed_since == date(2017, 1, 24)


def test_a_session_held_later_fulfils_the_plan(seeded):
    append(events.NewEvent("meeting/2plus2", "MeetingHeld", "2019-01-11",
                           {"title": "Fourth 2+2 held in Brest", "place": "Brest", "session": 4}, SOURCE))
    two = by_name()["2+2"]
    assert (two.next, two.passed, two.passed_note, two.last.session) == (None, False, None, 4)


def test_the_disputed_joint_statement_date_shows_the_official_claim(seeded):
    two = by_name()["2+2"]
    [statement] = two.statements
    assert statement.occurred == "2017-01-06" and statement.disputed
    assert statement.rivals[0]["event_id"] == event_id_for("news-2017-third-2plus2/2plus2-joint-statement-8-january")
    assert two.disputed and two.to_dict()["disputed"] is True


def test_every_mechanism_is_listed_with_event_ids_and_sources(seeded):
    views = by_name()
    assert {"strategic dialogue", "Comprehensive Dialogue on Space", "maritime dialogue", "staff talks",
            "discussion group (industrial cooperation group)"} <= set(views)
    assert "global space dialogue" not in views
    for view in views.values():
        row = view.to_dict()
        assert row["event_ids"]
        assert all(item["sources"] for key in ("sessions", "statements", "planned") for item in row[key])


def test_retracting_a_plan_removes_it(seeded):
    plan = event_id_for("joint-statement-2017-2plus2/2plus2-next-session-planned")
    append(events.NewEvent("meeting/2plus2", "EventRetracted", "2026-11-23", {"target": plan, "reason": "test"}))
    assert by_name()["2+2"].next is None
    assert projections.get("meetings").changes(NOW, limit=1, descending=True)[0].change == "retracted"


def test_a_future_plan_falls_due_on_the_calendar_and_is_announced_then(seeded, monkeypatch):
    monkeypatch.setattr(store, "utc_now", lambda: NOW)
    append(events.NewEvent("meeting/2plus2", "MeetingHeld", "2026-11-01",
                           {"title": "Seventh 2+2", "session": 7}, SOURCE),
           events.NewEvent("meeting/2plus2", "MeetingPlanned", "2026-11-01",
                           {"title": "Next 2+2 planned in Tokyo", "planned_for": "2027", "place": "Tokyo",
                            "session": 8}, SOURCE))
    assert not [r for r in projections.get("meetings").changes(NOW, limit=100) if r.cause == "calendar"]
    due = datetime(2028, 1, 1, tzinfo=UTC)
    [row] = [r for r in projections.get("meetings").changes(due, limit=100) if r.cause == "calendar"]
    assert (row.change, row.updated, row.effective) == ("passed", due, date(2028, 1, 1))
    assert row.title == "2+2: no later session on record (planned for 2027)"
    assert (row.occurred, row.announced) == ("2028-01-01", "2026-11-01")
    assert len(projections.get("meetings").due(due)) == 1
    assert projections.get("meetings").due(NOW) == []
    # Recording the session before it falls due forgets the calendar row.
    append(events.NewEvent("meeting/2plus2", "MeetingHeld", "2027-06-02",
                           {"title": "Eighth 2+2", "session": 8}, SOURCE))
    assert not [r for r in projections.get("meetings").changes(due, limit=100) if r.cause == "calendar"]


def test_seed_plans_whose_date_had_passed_say_so_in_their_own_row_with_both_dates(seeded):
    rows = projections.get("meetings").changes(NOW, limit=100)
    plan = event_id_for("joint-statement-2017-2plus2/2plus2-next-session-planned")
    [row] = [r for r in rows if r.event_id == plan]
    assert row.cause == "event" and row.title == (
        "2+2: session planned for 2018, announced 6 January 2017; its date has passed with no later session on record")
    assert (row.occurred, row.announced) == ("2018", "2017-01-06")
    assert not [r for r in rows if "overdue" in r.title or r.change == "overdue"]
    assert row.updated == events.get(plan).recorded_at
    assert projections.get("meetings").due(NOW) == []


def test_a_rebuild_gives_the_same_rows_ids_and_times(seeded, monkeypatch):
    monkeypatch.setattr(store, "utc_now", lambda: NOW)
    append(events.NewEvent("meeting/space-dialogue", "MeetingPlanned", "2026-11-01",
                           {"title": "Space dialogue", "planned_for": "2030"}, SOURCE))
    meetings = projections.get("meetings")
    before = meetings.dump()
    projections.rebuild("meetings")
    assert meetings.dump() == before


def test_odd_field_shapes_do_not_stop_the_fold(seeded):
    """The declaration now refuses these at the door; a log written before it may hold them."""
    with written_by_an_earlier_version():
        append(events.NewEvent("meeting/2plus2", "MeetingHeld", "2019-01-11",
                               {"title": "Fourth 2+2", "session": True, "outcomes": "an-event-id"}, SOURCE))
    two = by_name()["2+2"]
    assert (two.last.session, two.last.outcomes) == (None, ["an-event-id"])
    assert all(s.failed_position is None for s in projections.status())


def test_mechanisms_come_a_keyset_page_at_a_time_in_subject_order(seeded):
    whole = [m.stream for m in model.mechanisms(NOW, limit=1000)]
    assert whole == sorted(whole) and len(whole) > 2
    seen, after = [], None
    while True:
        page = model.mechanisms(NOW, after=after, limit=2)
        assert 1 <= len(page) <= 2
        seen += [m.stream for m in page]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == whole
    assert model.mechanisms(NOW, after=whole[-1]) == []
    with pytest.raises(ValueError, match="limit"):
        model.mechanisms(NOW, limit=0)


def test_names_the_sources_do_not_tie_stay_two_bodies_each_naming_the_other(seeded):
    views = {m.stream: m for m in model.mechanisms(NOW)}
    pairs = [("meeting/maritime-dialogue", "meeting/comprehensive-maritime-dialogue"),
             ("meeting/export-control-committee", "meeting/export-control-joint-committee"),
             ("meeting/industrial-cooperation-group", "meeting/defence-equipment-committee")]
    for one, other in pairs:
        assert views[one].possibly_same_as == [other] and views[other].possibly_same_as == [one]
        assert views[one].to_dict()["possibly_same_as"] == [other]
    # The forum Ifri dates to 2013 no longer borrows the joint statement's words about another committee.
    [forum] = views["meeting/export-control-committee"].items
    assert {s["document"] for s in forum.sources} == {"ifri-pajon-2018"}
    assert views["meeting/2plus2"].possibly_same_as == []
