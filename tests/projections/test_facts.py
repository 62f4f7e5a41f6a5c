import pytest

import events
from events import store
from events.db import database
from projections import facts
from projections.exercises import COLUMNS, ExerciseEdition, _row

SOURCE = [{"url": "https://example.org", "quote": "q", "kind": "press"}]


def fold(batch_events):
    with database.atomic():
        batch = facts.Batch(ExerciseEdition, COLUMNS, _row, batch_events, lambda e: e.type == "ExerciseConducted")
        batch.write()
    return batch


def rows():
    return {r.position: (r.occurred, r.data) for r in ExerciseEdition.select()}


def test_corrections_and_retractions_reach_facts_stored_by_an_earlier_batch(log):
    database.create_tables([ExerciseEdition])
    [kept, dropped] = events.append([
        events.NewEvent("exercise/x", "ExerciseConducted", "2017", {"title": "kept"}, SOURCE),
        events.NewEvent("exercise/x", "ExerciseConducted", "2018", {"title": "dropped"}, SOURCE)], author="t")
    assert [s.change for s in fold([kept, dropped]).steps] == ["added", "added"]
    later = events.append([
        events.NewEvent("exercise/x", "EventCorrected", "2026", {"target": kept.event_id, "reason": "r",
                                                                "changes": {"occurred": "2017-05"}}),
        events.NewEvent("exercise/x", "EventRetracted", "2026", {"target": dropped.event_id, "reason": "r"}),
    ], author="t")
    steps = fold(later).steps
    assert [(s.change, s.before.occurred) for s in steps] == [("corrected", "2017"), ("retracted", "2018")]
    assert rows() == {kept.position: ("2017-05", '{"title":"kept"}')}


def test_facts_other_read_models_keep_are_ignored(log):
    database.create_tables([ExerciseEdition])
    plan = events.NewEvent("exercise/x", "ExercisePlanned", "2026", {"title": "p", "planned_for": "2030"}, SOURCE)
    [planned] = events.append([plan], author="t")
    [retraction] = events.append([events.NewEvent("exercise/x", "EventRetracted", "2026",
                                                  {"target": planned.event_id, "reason": "r"})], author="t")
    assert fold(store.read(limit=10)).steps == []
    assert rows() == {} and retraction.position == 2


@pytest.mark.parametrize(("value", "expected"), [
    ("air", ["air"]), (["air", "land"], ["air", "land"]), (None, []), ({"air": 1}, []),
    ([True, "air", 3], ["air", "3"]),
])
def test_a_list_of_names_is_read_whatever_its_shape(value, expected):
    assert facts.strings(value) == expected
