import gc
from datetime import UTC, datetime

import pytest
from peewee import OperationalError

import events
import projections
from events import store
from projections import exercises as exercise_model
from projections import quarantine, runner, tables, tuning
from projections.builds import Build
from projections.exercises import Exercises
from seeds.loader import seed


def test_catching_up_together_gives_what_each_read_model_gives_alone(log):
    projections.ensure_schema()  # on the empty log: every read model starts at position 0
    seed()
    for projection in projections.PROJECTIONS.values():
        runner.catch_up(projection, batch=7)
    alone = {p.name: p.dump() for p in projections.PROJECTIONS.values()}
    projections.rebuild()
    assert {p.name: p.dump() for p in projections.PROJECTIONS.values()} == alone
    assert all(s.lag == 0 and s.position == store.head_position() for s in projections.status())


def test_a_read_model_already_ahead_is_not_folded_twice(log):
    projections.ensure_schema()  # on the empty log: every read model starts at position 0
    seed()
    runner.catch_up(projections.get("exercises"))
    assert projections.lag() == store.head_position()  # the furthest behind has everything to fold
    others = len(projections.PROJECTIONS) - 1
    assert runner.catch_up_together(projections.PROJECTIONS.values(), batch=10) == others * store.head_position()
    assert all(s.failed_position is None and s.lag == 0 for s in projections.status())
    assert projections.lag() == 0


POISON = "cannot fold this"


def _poison_exercises(monkeypatch) -> None:
    """Make the exercises fold raise, on every path it takes, on an edition whose title holds POISON."""
    real = exercise_model._filter_columns

    def filter_columns(data):
        if POISON in str(data.get("title", "")):
            raise RuntimeError(POISON)
        return real(data)

    monkeypatch.setattr(exercise_model, "_filter_columns", filter_columns)


def _edition(title: str, **kwargs) -> events.NewEvent:
    return events.NewEvent("exercise/poisoned", "ExerciseConducted", "2024-05", {"title": title},
                           [{"url": "https://example.org", "quote": "q", "kind": "press"}], **kwargs)


def test_an_event_a_read_model_cannot_fold_is_set_aside_and_the_fold_goes_on(log, monkeypatch):
    seed()
    projections.ensure_schema()
    projections.catch_up()
    _poison_exercises(monkeypatch)
    bad = events.append([_edition(f"Drill ({POISON})")], author="t")[0]
    good = events.append([_edition("A later drill")], author="t")[0]
    projections.catch_up()
    status = {s.name: s for s in projections.status()}
    assert all(s.lag == 0 and s.failed_position is None for s in status.values())  # nothing stopped
    assert status["exercises"].set_aside == 1 and not status["exercises"].healthy
    assert [(q.position, q.event_id) for q in quarantine.pending("exercises")] == [(bad.position, bad.event_id)]
    assert f"RuntimeError: {POISON}" in quarantine.pending(event_id=bad.event_id)[0].error
    titles = {e.title for s in exercise_model.exercises() for e in s.editions}
    assert "A later drill" in titles and good.position > bad.position
    assert not any(POISON in t for t in titles)


def test_a_correction_of_a_set_aside_event_folds_it_in_its_corrected_form(log, monkeypatch):
    projections.ensure_schema()
    _poison_exercises(monkeypatch)
    bad = events.append([_edition(f"Drill ({POISON})")], author="t")[0]
    projections.catch_up()
    fix = events.append([events.NewEvent("exercise/poisoned", "EventCorrected", "2026", {
        "target": bad.event_id, "reason": "typo", "changes": {"data": {"title": "Drill Pégase"}}})], author="t")[0]
    projections.catch_up()
    assert quarantine.pending("exercises") == []
    assert quarantine.dump() == [("exercises", bad.position, bad.event_id, f"RuntimeError: {POISON}", fix.position)]
    [series] = exercise_model.exercises()
    assert [(e.event_id, e.title) for e in series.editions] == [(bad.event_id, "Drill Pégase")]
    assert [(c.event_id, c.change, c.position) for c in projections.get("exercises").changes(datetime.now(UTC))] == [
        (bad.event_id, "added", fix.position)]  # the feed learns of it when it became foldable, not in the past
    incremental = projections.get("exercises").dump(), quarantine.dump()
    projections.rebuild("exercises")
    assert (projections.get("exercises").dump(), quarantine.dump()) == incremental


def test_a_fault_of_the_database_stops_the_fold_and_it_goes_on_later(log, monkeypatch):
    projections.ensure_schema()  # on the empty log: every read model starts at position 0
    seed()
    first = next(e for e in store.read(limit=1000) if e.stream.startswith("exercise/"))
    real = Exercises.apply_batch

    def locked(self, batch):
        if any(e.position == first.position for e in batch):
            raise OperationalError("database is locked")
        real(self, batch)

    monkeypatch.setattr(Exercises, "apply_batch", locked)
    monkeypatch.setattr(Exercises, "apply", lambda self, event: locked(self, [event]))
    projections.catch_up()
    status = {s.name: s for s in projections.status()}
    assert status["exercises"].failed_position == first.position and status["exercises"].position < first.position
    assert "database is locked" in status["exercises"].error
    assert quarantine.pending() == []  # not the event's fault: nothing set aside
    assert all(s.lag == 0 for name, s in status.items() if name != "exercises")
    monkeypatch.setattr(Exercises, "apply_batch", real)
    monkeypatch.undo()
    projections.catch_up()
    assert all(s.lag == 0 and s.healthy for s in projections.status())


def _indexes() -> dict[str, set[str]]:
    """Each table's indexes, under the model's own names (the build a table belongs to left out of both)."""
    out = {}
    for p in projections.PROJECTIONS.values():
        for m in p.models:
            physical, base = m._meta.table_name, tables.base_name(m)
            out[base] = {i.name.replace(physical, base) for i in events.db.database.get_indexes(physical)}
    return out


def test_a_rebuild_defers_indexes_the_fold_never_reads_and_builds_them_again(log, monkeypatch):
    seed()
    projections.ensure_schema()
    projections.catch_up()
    before = _indexes()
    assert before["timeline_entry"] and before["exercise_edition"]
    seen = {}
    real = runner._refold_all
    monkeypatch.setattr(runner, "_refold_all", lambda *a, **k: (seen.update(_indexes()), real(*a, **k))[1])
    projections.rebuild()
    assert seen["timeline_entry"] <= {"timeline_entry_pkey"}  # keyed by position: no other index until the end
    assert seen["agreement_stage"] == before["agreement_stage"]  # the agreements fold reads by stream
    assert _indexes() == before


def test_an_interrupted_rebuild_leaves_the_served_tables_whole_and_drops_its_own(log, monkeypatch):
    seed()
    projections.ensure_schema()
    before = _indexes(), {p.name: p.dump() for p in projections.PROJECTIONS.values()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_refold_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        projections.rebuild()
    assert (_indexes(), {p.name: p.dump() for p in projections.PROJECTIONS.values()}) == before
    abandoned = list(Build.select().where(Build.state == "dropped"))
    assert {row.model for row in abandoned} == set(projections.PROJECTIONS)
    assert all(not tables.exists(name) for row in abandoned for name in row.tables.split(","))


def test_a_rebuild_puts_sqlite_durability_and_cache_back(log):
    if events.db.is_postgres():
        return  # the settings are SQLite's; PostgreSQL commits as configured
    names = list(tuning.REBUILD_PRAGMAS)
    settings = [events.db.database.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in names]
    seed()
    projections.ensure_schema()
    projections.rebuild()
    assert [events.db.database.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in names] == settings
    assert settings != [v for v in tuning.REBUILD_PRAGMAS.values()]  # so the test would see a setting left behind


def test_a_rebuild_collects_garbage_less_often_while_it_folds_and_puts_the_thresholds_back(log, monkeypatch):
    seed()
    projections.ensure_schema()
    before = gc.get_threshold()
    assert before != tuning.REBUILD_GC_THRESHOLDS  # so the test would see them left behind
    during = []
    real = runner._refold_all
    monkeypatch.setattr(runner, "_refold_all", lambda *a, **k: (during.append(gc.get_threshold()), real(*a, **k))[1])
    projections.rebuild()
    assert during and set(during) == {tuning.REBUILD_GC_THRESHOLDS}
    assert gc.get_threshold() == before
