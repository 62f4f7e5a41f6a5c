from collections import Counter

import events
import projections
from projections.tallies import tallies

SOURCE = [{"url": "https://www.mod.go.jp/example", "quote": "held", "kind": "official"}]


def from_the_log():
    subjects, counted = Counter(), Counter()
    for stream, version in events.streams():
        kind = stream.split("/", 1)[0]
        subjects[kind] += 1
        counted[kind] += version
    return {kind: (subjects[kind], counted[kind]) for kind in subjects}


def test_tallies_count_subjects_and_events_of_each_kind_as_the_log_does(seeded):
    assert tallies() == from_the_log() and tallies()["agreement"][0] > 3


def test_new_subjects_and_events_are_counted_as_they_arrive(seeded):
    before = tallies()
    events.append([events.NewEvent("exercise/tally-test", "ExerciseConducted", "2026-05", {"title": "t"}, SOURCE),
                   events.NewEvent("exercise/tally-test", "ExerciseConducted", "2026-06", {"title": "u"}, SOURCE),
                   events.NewEvent("agreement/acsa", "AgreementAmended", "2026-07", {"title": "v"}, SOURCE)],
                  author="editor")
    projections.catch_up()
    after = tallies()
    assert after["exercise"] == (before["exercise"][0] + 1, before["exercise"][1] + 2)
    assert after["agreement"] == (before["agreement"][0], before["agreement"][1] + 1)
    assert after == from_the_log()
