import sqlite3

import pytest

import events
from events import db, describe_database

database = events.db.database


@pytest.fixture
def scratch(log):
    database.execute_sql("CREATE TABLE scratch (x INTEGER)")
    return lambda: [x for (x,) in database.execute_sql("SELECT x FROM scratch ORDER BY x")]


def _insert(x: int) -> None:
    database.execute_sql(f"INSERT INTO scratch (x) VALUES ({x})")


def test_writing_commits_then_runs_after_commit_callbacks(scratch):
    ran = []
    with db.writing():
        _insert(1)
        database.after_commit(lambda: ran.append(scratch()))
        assert ran == []
    assert ran == [[1]]
    assert database.transaction_depth() == 0
    assert not database.in_transaction()


def test_writing_rolls_back_and_drops_callbacks_on_error(scratch):
    ran = []
    with pytest.raises(RuntimeError), db.writing():
        _insert(1)
        database.after_commit(lambda: ran.append("committed"))
        raise RuntimeError("boom")
    assert scratch() == []
    assert ran == []
    with db.writing():  # the connection is usable again
        _insert(2)
    assert scratch() == [2]
    assert ran == []


def test_atomic_inside_writing_is_a_savepoint(scratch):
    with db.writing():
        _insert(1)
        with pytest.raises(RuntimeError), database.atomic():
            _insert(2)
            raise RuntimeError("inner")
        _insert(3)
    assert scratch() == [1, 3]


def test_writing_inside_a_transaction_joins_it(scratch):
    with pytest.raises(RuntimeError), database.atomic():
        with db.writing():
            _insert(1)
        raise RuntimeError("outer")
    assert scratch() == []


def test_a_writer_kept_waiting_too_long_gets_store_busy_and_writes_nothing(sqlite_log, new_event, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.2)
    events.connect(sqlite_log)  # picks up the shorter wait
    holder = sqlite3.connect(sqlite_log.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(events.StoreBusy, match=r"locked by another writer for 0\.2 s; nothing was written"):
            events.append([new_event()], author="seed")
    finally:
        holder.rollback()
        holder.close()
    assert events.store.head_position() == 0
    assert events.append([new_event()], author="seed")[0].position == 1


def test_describe_names_host_port_and_database_never_the_password():
    assert describe_database("postgresql://ops:hunter2@db.example:6543/chrono") == "db.example:6543/chrono"
    assert describe_database("postgresql://ops@db.example/chrono") == "db.example:5432/chrono"
    assert describe_database("sqlite:////srv/chronology.sqlite3") == "/srv/chronology.sqlite3"
    assert describe_database("mysql://ops:hunter2@db.example/chrono") == "db.example/chrono"
