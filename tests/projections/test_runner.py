import gc

import events
import projections
from events import store
from projections import runner
from projections.exercises import Exercises
from seeds.loader import seed


def test_catching_up_together_gives_what_each_read_model_gives_alone(log):
    seed()
    projections.ensure_schema()
    for projection in projections.PROJECTIONS.values():
        runner.catch_up(projection, batch=7)
    alone = {p.name: p.dump() for p in projections.PROJECTIONS.values()}
    projections.rebuild()
    assert {p.name: p.dump() for p in projections.PROJECTIONS.values()} == alone
    assert all(s.lag == 0 and s.position == store.head_position() for s in projections.status())


def test_a_read_model_already_ahead_is_not_folded_twice(log):
    seed()
    projections.ensure_schema()
    runner.catch_up(projections.get("exercises"))
    others = len(projections.PROJECTIONS) - 1
    assert runner.catch_up_together(projections.PROJECTIONS.values(), batch=10) == others * store.head_position()
    assert all(s.failed_position is None and s.lag == 0 for s in projections.status())


def test_one_failing_read_model_stops_at_its_event_and_the_others_go_on(log, monkeypatch):
    seed()
    projections.ensure_schema()
    first = next(e for e in store.read(limit=1000) if e.stream.startswith("exercise/"))

    def broken(self, event):
        if event.position == first.position:
            raise RuntimeError("cannot fold this")

    monkeypatch.setattr(Exercises, "apply_batch", lambda self, batch: [broken(self, e) for e in batch])
    monkeypatch.setattr(Exercises, "apply", broken)
    projections.catch_up()
    status = {s.name: s for s in projections.status()}
    assert (status["exercises"].position, status["exercises"].failed_position) == (first.position - 1, first.position)
    assert "RuntimeError: cannot fold this" in status["exercises"].error
    assert all(s.lag == 0 for name, s in status.items() if name != "exercises")
    events.append([events.NewEvent("context/x", "IncidentOccurred", "2026", {"title": "later"},
                                   [{"url": "https://example.org", "quote": "q", "kind": "press"}])], author="t")
    projections.catch_up()
    assert projections.status()[1].position == first.position - 1  # still stopped where it failed


def _indexes() -> dict[str, set[str]]:
    return {m._meta.table_name: {i.name for i in events.database.get_indexes(m._meta.table_name)}
            for p in projections.PROJECTIONS.values() for m in p.models}


def test_a_rebuild_defers_indexes_the_fold_never_reads_and_builds_them_again(log, monkeypatch):
    seed()
    projections.ensure_schema()
    projections.catch_up()
    before = _indexes()
    assert before["timeline_entry"] and before["exercise_edition"]
    seen = {}
    real = runner._refold
    monkeypatch.setattr(runner, "_refold", lambda *a, **k: (seen.update(_indexes()), real(*a, **k))[1])
    projections.rebuild()
    assert seen["timeline_entry"] <= {"timeline_entry_pkey"}  # keyed by position: no other index until the end
    assert seen["agreement_stage"] == before["agreement_stage"]  # the agreements fold reads by stream
    assert _indexes() == before


def test_an_interrupted_rebuild_still_builds_its_indexes(log, monkeypatch):
    seed()
    projections.ensure_schema()
    before = _indexes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_refold", interrupted)
    try:
        projections.rebuild()
    except KeyboardInterrupt:
        pass
    assert _indexes() == before


def test_a_rebuild_puts_sqlite_durability_and_cache_back(log):
    if events.db.is_postgres():
        return  # the settings are SQLite's; PostgreSQL commits as configured
    names = list(runner.REBUILD_PRAGMAS)
    settings = [events.database.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in names]
    seed()
    projections.ensure_schema()
    projections.rebuild()
    assert [events.database.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in names] == settings
    assert settings != [v for v in runner.REBUILD_PRAGMAS.values()]  # so the test would see a setting left behind


def test_a_rebuild_collects_garbage_less_often_while_it_folds_and_puts_the_thresholds_back(log, monkeypatch):
    seed()
    projections.ensure_schema()
    before = gc.get_threshold()
    assert before != runner.REBUILD_GC_THRESHOLDS  # so the test would see them left behind
    during = []
    real = runner._refold
    monkeypatch.setattr(runner, "_refold", lambda *a, **k: (during.append(gc.get_threshold()), real(*a, **k))[1])
    projections.rebuild()
    assert during and set(during) == {runner.REBUILD_GC_THRESHOLDS}
    assert gc.get_threshold() == before
