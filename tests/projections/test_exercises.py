from datetime import UTC, datetime

import pytest

import events
import projections
from projections import exercises as model
from seeds.catalog import event_id_for
from tests.conftest import written_by_an_earlier_version

#: Exercise changes have no calendar: every one is visible at any moment after it was recorded.
LATER = datetime(2999, 1, 1, tzinfo=UTC)


def changes(**kwargs):
    return projections.get("exercises").changes(LATER, **kwargs)


SOURCE = [{"url": "https://www.defense.gouv.fr/example", "quote": "Pegase 2025 a eu lieu", "kind": "official"}]


def by_name(**filters):
    return {s.name: s for s in model.exercises(**filters)}


def append(*new):
    recorded = events.append(list(new), author="editor")
    projections.catch_up()
    return recorded


def test_series_group_their_editions_with_dates_domains_places_and_roles(seeded):
    series = by_name()
    assert {"Croix du Sud", "Jeanne d'Arc", "Pegase", "Brunet-Takamori", "Pacific Steller"} <= set(series)
    croix = series["Croix du Sud"].editions[0]
    assert (croix.edition, croix.occurred, croix.when, croix.precision) == ("16", "2016-11", "November 2016", "month")
    assert croix.place == "New Caledonia" and croix.domains == []  # the statement does not give its domain
    assert series["Croix du Sud"].possibly_same_as == ["exercise/south-pacific-hadr-training"]
    assert series["Croix du Sud"].to_dict()["possibly_same_as"] == ["exercise/south-pacific-hadr-training"]
    assert {"name": "Japan Self-Defense Forces", "role": "participant"} in croix.participants
    iron_fist = series["Iron Fist"].editions[0]
    assert {"name": "France", "role": "observer"} in iron_fist.participants
    jeanne = series["Jeanne d'Arc"]
    assert [e.occurred for e in jeanne.editions] == ["2017", "2017", "2017-21"]
    assert [e.planned for e in jeanne.editions].count(True) == 1


def test_firsts_are_kept_as_the_source_words_them(seeded):
    pegase = by_name()["Pegase"]
    assert [(e.occurred, e.first) for e in pegase.firsts] == [
        ("2023", "the first of their kind between the two allies")]
    assert pegase.to_dict()["firsts"][0]["event_id"] == event_id_for("voa-2023-air-drills/pegase-2023-air-drills-japan")


def test_filters_by_year_domain_and_participant(seeded):
    # "On or before 6 January 2017" or "16 November 2018" may fall in 2017: a filter keeps what may match.
    assert set(by_name(year=2017)) == {"Jeanne d'Arc", "Djibouti maritime security training", "Iron Fist",
                                       "French freedom of navigation patrols", "French pacific forces operations",
                                       "HA/DR joint training in the South Pacific"}
    assert set(by_name(domain="air")) == {"P1 maritime patrol training", "Pegase"}
    assert set(by_name(participant="united kingdom")) == {"Jeanne d'Arc", "French freedom of navigation patrols"}
    assert set(by_name(domain="hadr")) == {"HA/DR joint training in the South Pacific",
                                           "French pacific forces operations"}
    uk = by_name(participant="United Kingdom")["Jeanne d'Arc"]
    assert len(uk.editions) == 2  # the edition without the UK is filtered out
    assert by_name(year=1990, domain="air") == {}


def test_rows_carry_event_ids_and_sources(seeded):
    for series in model.exercises():
        row = series.to_dict()
        assert row["event_ids"] and all(e["sources"] and e["event_id"] for e in row["editions"])


def test_corrections_and_retractions_change_the_history(seeded):
    target = event_id_for("mfa-fr-indo-pacific-2025/pacific-steller-2025")
    append(events.NewEvent("exercise/pacific-steller", "EventCorrected", "2026-11-23",
                           {"target": target, "reason": "date", "changes": {"occurred": "2025-02-14",
                                                                            "data": {"place": "Philippine Sea"}}}))
    edition = by_name()["Pacific Steller"].editions[0]
    assert (edition.occurred, edition.place, edition.precision) == ("2025-02-14", "Philippine Sea", "day")
    append(events.NewEvent("exercise/pacific-steller", "EventRetracted", "2026-11-23",
                           {"target": target, "reason": "test"}))
    assert "Pacific Steller" not in by_name()
    assert events.state(target).retracted


def test_rival_claims_show_the_official_one_and_are_marked_disputed(seeded):
    press = {"url": "https://press.example/pegase", "quote": "Pegase in August", "kind": "press"}
    append(events.NewEvent("exercise/pegase", "ExerciseConducted", "2025-08", {"title": "press", "fact": "p25"},
                           [press]),
           events.NewEvent("exercise/pegase", "ExerciseConducted", "2025-07", {"title": "mofa", "fact": "p25"},
                           SOURCE))
    [edition] = [e for e in by_name()["Pegase"].editions if e.occurred.startswith("2025")]
    assert edition.occurred == "2025-07" and edition.disputed
    assert edition.rivals[0]["occurred"] == "2025-08"


def test_changes_have_log_derived_ids_and_times_and_survive_a_rebuild(seeded):
    rows = changes(limit=100)
    assert len(rows) == 17 and {r.change for r in rows} == {"added"}
    croix = next(r for r in rows if r.stream == "exercise/croix-du-sud")
    assert croix.updated == events.get(croix.event_id).recorded_at
    target = event_id_for("mfa-fr-indo-pacific-2025/pacific-steller-2025")
    append(events.NewEvent("exercise/pacific-steller", "EventRetracted", "2026-11-23",
                           {"target": target, "reason": "test"}))
    newest = changes(limit=1, descending=True)[0]
    assert (newest.event_id, newest.change) == (target, "retracted")
    page = changes(limit=5)
    assert changes(after=(page[-1].updated, page[-1].position, page[-1].id), limit=100) == \
        changes(limit=100)[5:]
    before = projections.get("exercises").dump()
    projections.rebuild("exercises")
    assert projections.get("exercises").dump() == before


def test_a_rebuild_reading_the_editions_a_few_at_a_time_gives_the_rows_catching_up_gave(seeded, monkeypatch):
    caught_up = projections.get("exercises").dump()
    assert len(caught_up["exercise_edition"]) > 3
    monkeypatch.setattr(model, "REFOLD_BATCH", 3)  # pages end inside the seeds' exercises, and one ends short
    projections.rebuild("exercises")
    assert projections.get("exercises").dump() == caught_up


def test_an_edition_appended_later_appears_in_its_series(seeded):
    append(events.NewEvent("exercise/pegase", "ExerciseConducted", "2025-22",
                           {"title": "Pegase 2025", "series": "Pegase", "edition": "2025", "domains": ["air"],
                            "participants": ["France", {"name": "Japan", "role": "host"}]}, SOURCE))
    edition = by_name(year=2025)["Pegase"].editions[-1]
    assert (edition.when, edition.participants) == (
        "summer 2025", [{"name": "France", "role": "participant"}, {"name": "Japan", "role": "host"}])
    assert changes(limit=1, descending=True)[0].updated <= datetime.now(UTC)


def test_a_single_domain_written_as_a_string_counts_as_one_domain(seeded):
    """The declaration now wants a list; a log written before it may hold one domain as a string."""
    with written_by_an_earlier_version():
        append(events.NewEvent("exercise/la-perouse", "ExerciseConducted", "2025-05",
                               {"title": "La Perouse", "domains": "maritime", "first": "first time with Japan"},
                               SOURCE))
    [edition] = by_name(domain="maritime")["La perouse"].editions
    assert edition.domains == ["maritime"]
    assert projections.status()[1].failed_position is None


def every_page(limit, **filters):
    """Follow next_after from the first page to the last, as a reader would."""
    pages, after = [], None
    while True:
        page = model.exercises(**filters, after=after, limit=limit)
        pages.append([s.stream for s in page])
        if page.next_after is None:
            return pages
        assert page.next_after == page[-1].stream
        after = page.next_after


def test_series_come_a_keyset_page_at_a_time_in_subject_order(seeded):
    whole = [s.stream for s in model.exercises(limit=1000)]
    assert whole == sorted(whole) and len(whole) > 5
    pages = every_page(2)
    assert all(len(p) == 2 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert [s for p in pages for s in p] == whole
    assert model.exercises(after=whole[-1]) == [] and model.exercises(after=whole[-1]).next_after is None
    assert model.exercises(limit=len(whole)).next_after is None


def test_filters_apply_before_paging(seeded):
    air = [s.stream for s in model.exercises(domain="air")]
    assert [s for p in every_page(1, domain="air") for s in p] == air
    uk = [s.stream for s in model.exercises(participant="United Kingdom")]
    assert [s for p in every_page(1, participant="united kingdom") for s in p] == uk and len(uk) == 2
    assert [s for p in every_page(1, year=2017) for s in p] == [s.stream for s in model.exercises(year=2017)]


def test_filter_text_is_matched_literally_and_a_bad_limit_is_refused(seeded):
    assert model.exercises(participant="%") == [] and model.exercises(participant="_") == []
    assert model.exercises(domain="a%") == []
    for limit in (0, -1, 1001, "5"):
        with pytest.raises(ValueError, match="limit"):
            model.exercises(limit=limit)
