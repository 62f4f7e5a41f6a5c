"""Builds of a read model: folded apart from the served ones, made current in one step, dropped when unread."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

import events
import projections
from events import store, tables
from projections import agreements, binding, builds, quarantine, runner
from projections.agreements import Agreements
from seeds.loader import seed
from tests.benchmarks import workload
from tests.conftest import make_event, written_by_an_earlier_version


def _dump() -> dict:
    return {**{p.name: p.dump() for p in projections.PROJECTIONS.values()}, "set aside": quarantine.dump()}


def _broken_agreement() -> events.NewEvent:
    """An agreement event the fold cannot read (a term of an older log): every path sets it aside."""
    return make_event(stream="agreement/broken", type_="AgreementSigned", occurred="2020-03", title="Broken",
                      data={"term": "2020/garbage"})


def test_a_rebuild_in_several_processes_gives_the_rows_of_one_and_of_catching_up(log):
    projections.ensure_schema()
    seed()
    events.append(list(workload.generate(2500, seed=5)), author="test")
    with written_by_an_earlier_version():
        events.append([_broken_agreement()], author="old version")
    events.append(list(workload.generate(500, seed=6)), author="test")
    projections.catch_up()
    incremental = _dump()
    assert incremental["set aside"] and incremental["set aside"][0][0] == "agreements"
    projections.rebuild(workers=1)
    assert _dump() == incremental
    projections.rebuild(workers=2)  # a worker meets the broken event: the agreements fold event by event
    assert _dump() == incremental
    projections.rebuild("meetings", workers=2)
    assert _dump() == incremental
    assert {s.name: s.lag for s in projections.status()} == dict.fromkeys(projections.PROJECTIONS, 0)


def test_a_rebuild_records_its_progress_and_serves_its_tables_only_once_they_reach_the_head(log, monkeypatch):
    projections.ensure_schema()
    seed()
    projections.catch_up()
    served = builds.servable(projections.get("agreements"))
    seen = []
    real = builds.progressed

    def watch(key: str, folded: int, target: int) -> None:
        real(key, folded, target)
        seen.append((binding.key_of("agreements"), builds.Build.get_by_id(key).state, folded, target))

    monkeypatch.setattr(builds, "progressed", watch)
    projections.rebuild("agreements")
    new = builds.servable(projections.get("agreements"))
    assert new.name != served.name and new.state == "ready" and new.position == store.head_position()
    assert seen and all(key == new.name and state == "building" and target == store.head_position()
                        for key, state, _, target in seen)
    assert seen[-1][2] == sum(1 for e in store.read(limit=10_000) if e.stream.startswith("agreement/"))
    assert builds.Build.get_by_id(served.name).state == "retired"  # kept for its grace: requests may be on it
    assert binding.tag_of("agreements") == new.tag


def test_tables_from_before_builds_are_adopted_as_build_0_and_serve_without_a_rebuild(log):
    """A database whose read models were folded before builds existed: plain table names, one checkpoint each."""
    projections.ensure_schema()
    seed()
    projections.catch_up()
    head = store.head_position()
    expected = _dump()
    for projection in projections.READ_MODELS:  # make it look as an older release left it
        row = builds.servable(projection)
        for model in projection.models:
            built = binding.physical(model._meta.base_name, row.tag)
            if tables.exists(built):  # search keeps only this backend's own index table
                tables.execute(f"ALTER TABLE {built} RENAME TO {model._meta.base_name}")
    tables.execute(f"DROP TABLE {builds.Build._meta.table_name}")
    tables.execute("CREATE TABLE projection_checkpoint (name VARCHAR(64) PRIMARY KEY, version INTEGER NOT NULL, "
                   "position INTEGER NOT NULL, failed_position INTEGER, error TEXT, updated_at TEXT)")
    for projection in projections.READ_MODELS:
        tables.execute("INSERT INTO projection_checkpoint (name, version, position) VALUES (?, ?, ?)",
                       (projection.name, projection.version, head))
    tables.execute("UPDATE projection_quarantine SET name = substr(name, 1, instr(name, '@') - 1) "
                   "WHERE name LIKE '%@%'" if not tables.is_postgres() else
                   "UPDATE projection_quarantine SET name = split_part(name, '@', 1)")
    binding.forget()
    projections.ensure_schema()
    assert {p.name: binding.tag_of(p.name) for p in projections.READ_MODELS} == dict.fromkeys(projections.PROJECTIONS,
                                                                                             "")
    assert _dump() == expected
    assert [(s.position, s.builds[0].key, s.builds[0].state) for s in projections.status()] == [
        (head, p.name, "ready") for p in projections.READ_MODELS]
    projections.rebuild("tallies", grace=timedelta(0))  # build 0's tables go like any other's once replaced
    assert not tables.exists("subject_tally")
    assert binding.tag_of("tallies") == f"v{projections.get('tallies').version}b1"
    assert _dump() == expected


def test_a_new_version_folds_beside_the_old_one_which_keeps_serving_its_own_code(log, monkeypatch):
    projections.ensure_schema()
    seed()
    projections.catch_up()
    old_version = Agreements.version
    old = builds.servable(projections.get("agreements"))
    expected = agreements.agreements(agreements.date(2020, 1, 1))
    monkeypatch.setattr(Agreements, "version", old_version + 1)
    projections.ensure_schema()
    new = builds.servable(projections.get("agreements"))
    assert (new.version, new.state, old.version) == (old_version + 1, "ready", old_version)
    assert builds.Build.get_by_id(old.name).state == "retired"
    assert agreements.agreements(agreements.date(2020, 1, 1)) == expected
    # A process still running the old code serves the old build, and catches it up; the new one is the new code's.
    monkeypatch.setattr(Agreements, "version", old_version)
    assert projections.refresh()["agreements"] == old.tag
    events.append([make_event(stream="agreement/after-the-swap", title="Signed later")], author="test")
    projections.catch_up()
    assert "agreement/after-the-swap" in {a.stream for a in agreements.agreements(agreements.date(2020, 1, 1))}
    assert builds.Build.get_by_id(old.name).position == store.head_position()
    assert builds.Build.get_by_id(new.name).position < store.head_position()  # nobody serving v+1 is running


def test_a_build_whose_builder_died_is_dropped_and_built_again(log, monkeypatch):
    projections.ensure_schema()
    seed()
    projections.catch_up()
    monkeypatch.setattr(Agreements, "version", Agreements.version + 1)
    orphan = builds.claim(projections.get("agreements"), "gone-host:1")
    assert builds.building(projections.get("agreements")) == [orphan]
    builds.Build.update(updated_at=builds.now() - builds.LEASE - timedelta(seconds=1)).where(
        builds.Build.name == orphan.name).execute()
    assert builds.building(projections.get("agreements")) == []
    projections.ensure_schema()  # does not wait for the dead builder: builds its own
    served = builds.servable(projections.get("agreements"))
    assert served.name != orphan.name and served.version == Agreements.version
    assert builds.Build.get_by_id(orphan.name).state == "dropped"  # by the cleanup that ends the new build
    assert not any(tables.exists(name) for name in orphan.tables.split(","))


def test_a_process_waits_for_the_build_another_is_folding_rather_than_folding_it_twice(log, monkeypatch):
    projections.ensure_schema()
    monkeypatch.setattr(Agreements, "version", Agreements.version + 1)
    theirs = builds.claim(projections.get("agreements"), "other-host:7")
    monkeypatch.setattr(runner, "WAIT_SECONDS", 0.05)
    waiter = threading.Thread(target=lambda: (projections.ensure_schema(), events.db.database.close()))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # waiting: the other process is alive (its lease is fresh) and folding it
    with binding.bound({"agreements": theirs.tag}), tables.atomic():  # the other process finishes and swaps
        row = builds.Build.get_by_id(theirs.name)
        builds.swap(projections.get("agreements"), row)
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert [b.name for b in builds.Build.select().where(builds.Build.model == "agreements")
            if b.version == Agreements.version] == [theirs.name]


@pytest.mark.parametrize("state", ["ready", "retired"])
def test_the_build_a_process_serves_is_never_dropped_by_its_own_cleanup(log, state):
    projections.ensure_schema()
    served = builds.servable(projections.get("timeline"))
    builds.Build.update(state=state, retired_at=builds.now() - timedelta(days=1)).where(
        builds.Build.name == served.name).execute()
    assert builds.cleanup(projections.READ_MODELS, grace=timedelta(0), stale=timedelta(0)) == []
    assert builds.Build.get_by_id(served.name).state == state


def test_workers_that_die_leave_a_rebuild_that_folds_in_one_process_instead_of_one_that_hangs(log, monkeypatch):
    projections.ensure_schema()
    seed()
    projections.catch_up()
    expected = _dump()
    monkeypatch.setattr(projections.tables, "database_url", lambda: "nowhere://")  # each worker fails to start
    started = time.monotonic()
    projections.rebuild(workers=2)
    assert _dump() == expected and time.monotonic() - started < 60
    assert {s.name: s.lag for s in projections.status()} == dict.fromkeys(projections.PROJECTIONS, 0)


def test_two_processes_starting_a_new_version_at_once_fold_it_once(log, monkeypatch):
    projections.ensure_schema()
    seed()
    projections.catch_up()
    monkeypatch.setattr(Agreements, "version", Agreements.version + 1)
    monkeypatch.setattr(runner, "WAIT_SECONDS", 0.05)
    failures = []

    def start() -> None:
        try:
            projections.ensure_schema()
        except Exception as exc:
            failures.append(exc)
        finally:
            events.db.database.close()

    starting = [threading.Thread(target=start) for _ in range(2)]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(timeout=120)
    assert failures == []
    new = [b for b in builds.Build.select().where(builds.Build.model == "agreements")
           if b.version == Agreements.version]
    assert [b.state for b in new] == ["ready"]


def test_a_rebuild_leaves_the_tables_it_replaced_to_the_processes_serving_them(log):
    """A serving process may have begun a request on the old tables just before it switched: it drops them later."""
    projections.ensure_schema()
    seed()
    projections.catch_up()
    old = builds.servable(projections.get("exercises"))
    builds.record_readers("serving-host:9", projections.READ_MODELS)
    projections.rebuild("exercises", grace=timedelta(0))
    assert builds.Build.get_by_id(old.name).state == "retired"  # a process serves exercises: not dropped here
    builds.record_readers("serving-host:9", projections.READ_MODELS)  # it switched (reads the new build) ...
    assert builds.cleanup(projections.READ_MODELS) == []  # ... and its grace is not over
    assert builds.cleanup(projections.READ_MODELS, grace=timedelta(0)) == [old.name]
