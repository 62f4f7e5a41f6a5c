"""The event store against raw sqlite3 and the PyPI ``eventsourcing`` library.

store.import    200k events through ``import_lines`` (parse, validate, hash chain)
                vs raw ``executemany`` of the same rows into the same DDL; events/s.
store.append    5,000 single-event appends, one transaction each, through ``append``
                vs ``eventsourcing`` saving one aggregate event per transaction; events/s.
store.read_all  every event back in position order as RecordedEvent vs a raw
                ``SELECT * ... ORDER BY position`` with ``orjson.loads`` of data and sources; events/s.

Both sides of each figure use the same SQLite file settings: WAL and the
``synchronous`` level ``eventsourcing`` runs at (it sets none, so SQLite's
compiled default; read back from its connection at run time).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import events
from events.models import COLUMNS
from events.transfer import import_lines

from . import workload
from .harness import Context, area, compare, log, report

INSERT = f"INSERT INTO event ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
SYNC_SOURCE = ("PRAGMA synchronous read back from an eventsourcing SQLite connection (it sets none, so SQLite's "
               "default); ours set to the same through CHRONOLOGY_SQLITE_SYNCHRONOUS")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _close_ours() -> None:
    if events.db.database.obj is not None and not events.db.database.is_closed():
        events.db.database.close()


def _raw_connection(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the same pragmas our SQLite database gets."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name, value in events.db.sqlite_pragmas().items():
        conn.execute(f"PRAGMA {name} = {value}")
    return conn


def _event_ddl(workdir: Path) -> list[str]:
    """The real DDL (table, indexes, guard triggers, the revisions' target types), as create_schema writes it."""
    scratch = workdir / "ddl.sqlite3"
    events.connect(f"sqlite:///{scratch}")
    events.create_schema()
    _close_ours()
    conn = sqlite3.connect(scratch)
    ddl = [row[0] for row in conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ('event', 'revision_target') AND sql IS NOT NULL "
        "ORDER BY type = 'table' DESC, type = 'index' DESC, name")]
    conn.close()
    _remove(scratch)
    return ddl


def eventsourcing_synchronous(workdir: Path) -> str:
    """The ``synchronous`` level an ``eventsourcing`` SQLite application really runs at."""
    from .es_baseline import application

    app = application(workdir / "probe.sqlite3")
    try:
        with app.recorder.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA synchronous")
            level = cursor.fetchone()[0]
    finally:
        app.close()
        _remove(workdir / "probe.sqlite3")
    return SYNCHRONOUS_NAMES[level]


@contextmanager
def synchronous(level: str) -> Iterator[None]:
    """Run our store at ``level`` (events/db.py reads CHRONOLOGY_SQLITE_SYNCHRONOUS when connecting)."""
    before = os.environ.get("CHRONOLOGY_SQLITE_SYNCHRONOUS")
    os.environ["CHRONOLOGY_SQLITE_SYNCHRONOUS"] = level
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CHRONOLOGY_SQLITE_SYNCHRONOUS", None)
        else:
            os.environ["CHRONOLOGY_SQLITE_SYNCHRONOUS"] = before


# --- the figures -----------------------------------------------------------------


def bench_import(ctx: Context, db_path: Path, export_path: Path, count: int, sync: str) -> None:
    repeat = ctx.repeat(3)
    lines = export_path.read_bytes().splitlines()
    src = sqlite3.connect(db_path)
    rows = src.execute(f"SELECT {', '.join(COLUMNS)} FROM event ORDER BY position").fetchall()
    src.close()
    assert len(lines) == len(rows) == count
    ddl = _event_ddl(ctx.workdir)
    target = ctx.workdir / "import-target.sqlite3"

    def ours_setup() -> None:
        _remove(target)
        events.connect(f"sqlite:///{target}")
        events.create_schema()

    def ours(_: None) -> None:
        report_ = import_lines(lines)
        assert report_.imported == count

    def ours_teardown(_: None) -> None:
        _close_ours()
        _remove(target)

    def raw_setup() -> sqlite3.Connection:
        _remove(target)
        conn = _raw_connection(target)
        for statement in ddl:
            conn.execute(statement)
        return conn

    def raw(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows)
        conn.execute("COMMIT")

    def raw_teardown(conn: sqlite3.Connection) -> None:
        conn.close()
        _remove(target)

    with synchronous(sync):
        mine, theirs = compare(ours, raw, repeat, setup=ours_setup, teardown=ours_teardown,
                               baseline_setup=raw_setup, baseline_teardown=raw_teardown, label="store.import")
    report("store.import", count / mine.median, count / theirs.median, "events/s", goal=0.5, ours=mine,
           theirs=theirs, note=f"{count} events, one transaction, synchronous={sync}",
           params={"events": count, "synchronous": sync, "repeat": repeat,
                   "baseline": "sqlite3 executemany of the same rows, same DDL (table, its indexes, triggers)"})


def bench_append(ctx: Context, count: int, sync: str) -> None:
    repeat = ctx.repeat(5)
    from .es_baseline import Subject, application

    new = list(workload.generate(count, seed=2026))
    ours_db, es_db = ctx.workdir / "append-ours.sqlite3", ctx.workdir / "append-es.sqlite3"

    documents = workload.registrations()

    def ours_setup() -> None:
        _remove(ours_db)
        events.connect(f"sqlite:///{ours_db}")
        events.create_schema()
        events.append(documents, author=workload.AUTHOR)  # what the sources name, so each quote is checked

    def ours(_: None) -> None:
        for event in new:
            events.append([event], author=workload.AUTHOR)

    def ours_teardown(_: None) -> None:
        assert events.store.head_position() == len(documents) + count
        _close_ours()
        _remove(ours_db)

    def es_setup() -> Any:
        _remove(es_db)
        return application(es_db)

    def es(app: Any) -> None:
        subjects: dict[str, Any] = {}
        for e in new:
            agg = subjects.get(e.stream)
            if agg is None:
                agg = subjects[e.stream] = Subject(e.stream, e.type, e.occurred, e.data, e.sources)
            else:
                agg.record(e.type, e.occurred, e.data, e.sources)
            app.save(agg)

    def es_teardown(app: Any) -> None:
        assert app.recorder.max_notification_id() == count
        app.close()
        _remove(es_db)

    with synchronous(sync):
        mine, theirs = compare(ours, es, repeat, setup=ours_setup, teardown=ours_teardown,
                               baseline_setup=es_setup, baseline_teardown=es_teardown, label="store.append")
    report("store.append", count / mine.median, count / theirs.median, "events/s", goal=1.0, ours=mine,
           theirs=theirs, note=f"{count} appends, 1 event/transaction, synchronous={sync} (stretch 1.5)",
           params={"events": count, "synchronous": sync, "synchronous_from": SYNC_SOURCE, "repeat": repeat,
                   "stretch_goal": 1.5,
                   "baseline": "eventsourcing Application on eventsourcing.sqlite, one aggregate event per save"})


def bench_read_all(ctx: Context, db_path: Path, count: int, sync: str) -> None:
    repeat = ctx.repeat(5)

    def ours() -> None:
        n = 0
        for _ in events.read_all():
            n += 1
        assert n == count

    def raw(conn: sqlite3.Connection) -> None:
        assert workload.raw_scan(conn) == count

    with synchronous(sync):
        events.connect(f"sqlite:///{db_path}")
        conn = _raw_connection(db_path)
        try:
            mine, theirs = compare(lambda _: ours(), raw, repeat, setup=lambda: conn, warmup=1,
                                   label="store.read_all")
        finally:
            conn.close()
            _close_ours()
    report("store.read_all", count / mine.median, count / theirs.median, "events/s", goal=0.5, ours=mine,
           theirs=theirs, note=f"{count} events as RecordedEvent, warm cache",
           params={"events": count, "repeat": repeat,
                   "baseline": workload.RAW_SCAN})


@area("store")
def store(ctx: Context) -> None:
    sync = eventsourcing_synchronous(ctx.workdir)
    log(f"eventsourcing's SQLite connections run at synchronous={sync}; ours is set to the same")
    count = ctx.size(200_000, 5_000)
    with synchronous(sync):
        db_path, export_path = workload.shared_log(ctx, count)
    bench_import(ctx, db_path, export_path, count, sync)
    bench_read_all(ctx, db_path, count, sync)
    bench_append(ctx, ctx.size(5_000, 500), sync)
