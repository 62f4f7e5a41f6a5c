from datetime import date

import pytest

import events
import projections
from events import store
from projections import timeline as model
from seeds.catalog import event_id_for

SOURCE = [{"url": "https://example.org/a", "quote": "a quote", "kind": "press"}]


def append(*new):
    recorded = events.append(list(new), author="editor")
    projections.catch_up()
    return recorded


def occurred_order():
    return [e.occurred for e in model.entries(limit=10_000)]


@pytest.mark.parametrize(("earlier", "later"), [
    ("2017-03-06", "2017-21"),   # spring 2017 sorts at its middle, after early March
    ("2017-21", "2017-05-20"),   # and before late May
    ("2017-06-30", "2017"),      # a year sorts at its middle
    ("2017", "2017-07-05"),
    ("2023/2027", "2023-06"),    # a span sorts where it begins
])
def test_vague_dates_sort_by_their_span_not_their_first_day(log, earlier, later):
    projections.ensure_schema()
    append(events.NewEvent("context/b", "IncidentOccurred", later, {"title": "later"}, SOURCE),
           events.NewEvent("context/a", "IncidentOccurred", earlier, {"title": "earlier"}, SOURCE))
    assert occurred_order() == [earlier, later]


def test_ties_go_by_position_and_paging_by_cursor_sees_every_entry_once(seeded):
    everything = model.entries(limit=10_000)
    # Every seed fact, for the seeds hold no corrections; not the five documents, which are sources, not facts.
    assert len(everything) == store.head_position() - 5
    assert not any(e.stream.startswith("source/") for e in everything)
    paged, after = [], None
    while page := model.entries(after=after, limit=7):
        paged += page
        after = page[-1].cursor
    assert [e.event_id for e in paged] == [e.event_id for e in everything]
    same_day = [e.position for e in everything if e.occurred == "2017-01-06"]
    assert same_day == sorted(same_day)


def test_rows_say_their_precision_lane_bounds_and_sources(seeded):
    rows = {e.event_id: e for e in model.entries(limit=10_000)}
    guam = rows[event_id_for("ifri-pajon-2018/jeanne-d-arc-2017-guam-drills")]
    assert (guam.lane, guam.when, guam.precision, guam.lo, guam.hi) == (
        "exercise", "spring 2017", "season", date(2017, 3, 1), date(2017, 5, 31))
    assert guam.sources and guam.to_dict()["lo"] == "2017-03-01"
    lanes = {e.lane for e in rows.values()}
    assert lanes == set(model.LANES)
    assert all(e.lane == "meeting" for e in model.entries(kind="meeting", limit=1000))


def test_corrections_move_an_entry_and_retractions_remove_it(seeded):
    target = event_id_for("mfa-fr-indo-pacific-2025/pacific-steller-2025")
    append(events.NewEvent("exercise/pacific-steller", "EventCorrected", "2026-11-23",
                           {"target": target, "reason": "date", "changes": {"occurred": "2011"}}))
    rows = model.entries(limit=10_000)
    moved = next(e for e in rows if e.event_id == target)
    assert moved.occurred == "2011" and rows.index(moved) < 5
    append(events.NewEvent("exercise/pacific-steller", "EventRetracted", "2026-11-23",
                           {"target": target, "reason": "test"}))
    assert target not in {e.event_id for e in model.entries(limit=10_000)}
    assert all(e.type not in ("EventCorrected", "EventRetracted") for e in model.entries(limit=10_000))


@pytest.mark.parametrize(("arguments", "named"), [({"after": "2017"}, "after"), ({"kind": "party"}, "kind")])
def test_bad_arguments_are_refused_naming_them(seeded, arguments, named):
    with pytest.raises(ValueError, match=f"^{named}:"):
        model.entries(**arguments)


def test_a_plan_sits_where_it_was_announced_and_carries_the_date_it_names(seeded):
    plan = event_id_for("joint-statement-2017-2plus2/2plus2-next-session-planned")
    [entry] = [e for e in model.entries(limit=1000) if e.event_id == plan]
    assert (entry.occurred, entry.planned_for, entry.planned_when) == ("2017-01-06", "2018", "2018")
    assert entry.to_dict()["planned_for"] == "2018"
    held = [e for e in model.entries(limit=1000) if e.type == "MeetingHeld"]
    assert held and all(e.planned_for is None for e in held)
