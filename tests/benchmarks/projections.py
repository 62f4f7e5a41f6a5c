"""The read models: rebuild, its memory, catch-up, and the agreements query as the log grows.

projections.rebuild         the view read models (agreements, exercises, meetings, timeline, tallies,
                            coverage) rebuilt from position 0 on the 1M-event log, with a worker process
                            per core folding the agreements and meetings (the default), vs a raw sqlite3
                            scan + orjson decode of the same rows; events/s, goal >= 0.5. The search read
                            model is measured apart (``exploration``: projections.rebuild_search).
                            Its note and params carry the floor under any rebuild, in raw scans:
                            writing the rebuilt rows alone, and reading the log inside SQLite.
projections.rebuild_one_core  the same rebuild folded in one process (workers=1), same baseline.
projections.rebuild_memory  peak RSS of a process that rebuilds every read model in one process (VmHWM),
                            against the 300 MB budget; the raw scan's peak is in the params for scale.
projections.rebuild_memory_all_cores  the peak of the summed RSS of the rebuilding process and its
                            workers (sampled every 20 ms) in a rebuild on every core; same budget.
projections.catch_up        folding 1,000 new events into every read model (search too) vs the full rebuild of
                            every read model (the views, then search); goal <= 1%.
projections.agreements_as_of  ``agreements(as_of)`` per agreement listed, on the 1M log vs a 1k log;
                            the list grows with the number of agreements, so the cost per row is what
                            shows whether the query scans the log; goal <= 1.5.
projections.agreement_as_of   ``agreement(stream, as_of)`` for one agreement, 1M log vs 1k log, each an
                            agreement with as many stage rows as the other; goal <= 1.5.

The shared log is never written to: each figure works on a copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from peewee import SQL, fn

import events
import projections
from projections import agreements, runner, tables, tuning

from . import workload
from .harness import REPO, Context, area, compare, log, measure, report

BUDGET_MB = 300.0
AS_OF = date(2017, 6, 30)
# The peak is read from /proc/self/status (VmHWM: this process image's own high-water mark), not from
# getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child forked from the benchmark
# process would report the benchmark's own size (a million-event log built in it) instead of its own.
PEAK_KB = "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))"
MEMORY_SCRIPT = f"""
import sys
from datetime import timedelta
import events, projections
events.connect(sys.argv[1])
projections.ensure_schema()
projections.rebuild(workers=1, grace=timedelta(0))
{PEAK_KB}
"""
# The rebuilding process and every process under it (the fork server and its workers), summed, sampled.
TREE_MEMORY_SCRIPT = """
import os, sys, threading, time
from datetime import timedelta
import events, projections

def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0

def tree():
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    mine, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return mine

peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], sum(rss_kb(pid) for pid in tree()))
        time.sleep(0.02)

events.connect(sys.argv[1])
projections.ensure_schema()
threading.Thread(target=sample, daemon=True).start()
projections.rebuild(workers=projections.runner.default_workers(), grace=timedelta(0))
done.set()
print(peak[0])
"""
RAW_MEMORY_SCRIPT = f"""
import sqlite3, sys
import orjson
from peewee import SQL, fn
conn = sqlite3.connect(sys.argv[1])
for row in conn.execute("SELECT * FROM event ORDER BY position"):
    orjson.loads(row[9]); orjson.loads(row[10])
{PEAK_KB}
"""


def _remove(path: Path) -> None:
    """Delete a SQLite database and its WAL files, if they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> Path:
    _remove(target)
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(source, target)
    return target


def _close() -> None:
    if events.db.database.obj is not None and not events.db.database.is_closed():
        events.db.database.close()


def _raw_scan(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    try:
        assert workload.raw_scan(conn) == count
    finally:
        conn.close()


#: What projections.rebuild measures: the read models it has measured since it began (search is its own figure).
VIEWS = tuple(p for p in projections.READ_MODELS if p.name != "search")


def _rebuild_all(workers: int | None = None) -> None:
    """The view read models, into new tables; the ones replaced dropped at its end (nobody here reads them)."""
    runner.rebuild_together(VIEWS, workers=workers, grace=timedelta(0))


def _peak_mb(script: str, argument: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, argument], cwd=REPO, capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # VmHWM is in kB


def write_floor(path: Path) -> dict[str, tuple[int, float]]:
    """Each read-model table's rows and the seconds to write them once more, already computed.

    Each table is copied into an empty twin (same columns and indexes, in a
    scratch database beside the file) by SQLite's own C code, in storage
    order, its indexes built afterwards, under the rebuild's own settings:
    the cheapest way SQLite writes those rows. However a rebuild computes
    them, it cannot write them for less.
    """
    names = [tables.name(m) for p in VIEWS for m in p.models]
    twin = path.with_name(f"{path.stem}-floor.sqlite3")
    _remove(twin)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS floor", (str(twin),))
        conn.execute("PRAGMA floor.journal_mode = WAL")
        for name, value in tuning.REBUILD_PRAGMAS.items():
            conn.execute(f"PRAGMA floor.{name} = {value}")
        out = {}
        for table in names:
            ddl = conn.execute("SELECT type, sql FROM main.sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
                               "ORDER BY type = 'index'", (table,)).fetchall()
            conn.execute(ddl[0][1].replace("CREATE TABLE ", "CREATE TABLE floor.", 1))
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute(f'INSERT INTO floor."{table}" SELECT * FROM main."{table}" ORDER BY rowid')
            for _, index in ddl[1:]:
                conn.execute(index.replace(" INDEX ", " INDEX floor.", 1))
            conn.execute("COMMIT")
            seconds = time.perf_counter() - started
            out[table] = (conn.execute(f'SELECT count(*) FROM floor."{table}"').fetchone()[0], seconds)
        return out
    finally:
        conn.close()
        _remove(twin)


def read_floor(path: Path) -> float:
    """Seconds to read every row of the log once, every column's bytes, inside SQLite (no Python, no decoding).

    Every read model takes something from every event, so a rebuild reads
    at least this much, however it folds.
    """
    conn = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        conn.execute("SELECT count(*), sum(length(event_id) + length(stream) + length(type) + length(occurred) "
                     "+ length(data) + length(sources) + length(recorded_at)) FROM event").fetchone()
        return time.perf_counter() - started
    finally:
        conn.close()


def bench_rebuild(ctx: Context, db: Path, count: int) -> float:
    repeat = ctx.repeat(3)
    cores = runner.default_workers()
    events.connect(f"sqlite:///{db}")
    projections.ensure_schema()
    try:
        one, theirs_one = compare(lambda: _rebuild_all(1), lambda: _raw_scan(db, count), repeat,
                                  label="projections.rebuild_one_core")
        every, theirs = compare(lambda: _rebuild_all(cores), lambda: _raw_scan(db, count), repeat,
                                label=f"projections.rebuild ({cores} cores)")
    finally:
        _close()
    tables_written = write_floor(db)
    writing = sum(seconds for _, seconds in tables_written.values()) / theirs.median
    reading = read_floor(db) / theirs.median
    log(f"writing the rebuilt rows alone costs {writing:.2f} raw scans and reading the log in SQLite "
        f"{reading:.2f}: a rebuild's ratio can be at most {1 / (writing + reading):.2f}")
    rows = sum(n for n, _ in tables_written.values())
    common = {"events": count, "repeat": repeat, "read_models": [p.name for p in VIEWS],
              "baseline": workload.RAW_SCAN}
    report("projections.rebuild_one_core", count / one.median, count / theirs_one.median, "events/s", goal=0.5,
           ours=one, theirs=theirs_one, note=f"{count} events, {len(VIEWS)} read models, "
                                             "folded in one process",
           params={**common, "workers": 1})
    report("projections.rebuild", count / every.median, count / theirs.median, "events/s", goal=0.5, ours=every,
           theirs=theirs, note=f"{count} events, {len(VIEWS)} read models, agreements and meetings "
                               f"folded by {cores} worker processes ({one.median / every.median:.2f}x one process); "
                               f"writing their {rows:,} rows alone costs {writing:.2f} raw scans, reading the log "
                               f"in SQLite {reading:.2f}",
           params={**common, "workers": cores, "speedup_over_one_core": one.median / every.median,
                   "write_floor_raw_scans": writing, "read_floor_raw_scans": reading,
                   "write_floor_tables": {t: {"rows": r, "seconds": s} for t, (r, s) in tables_written.items()}})
    return every.median


def bench_memory(db: Path, count: int) -> None:
    ours = _peak_mb(MEMORY_SCRIPT, f"sqlite:///{db}")
    tree = _peak_mb(TREE_MEMORY_SCRIPT, f"sqlite:///{db}")
    raw = _peak_mb(RAW_MEMORY_SCRIPT, str(db))
    report("projections.rebuild_memory", ours, BUDGET_MB, "MB", goal=1.0, higher_is_better=False,
           note=f"peak RSS of a full rebuild of {count} events in one process; the baseline is the 300 MB budget "
                f"(a raw scan peaks at {raw:.0f} MB)",
           params={"events": count, "raw_scan_peak_mb": raw, "measure": "VmHWM of a fresh subprocess", "workers": 1})
    report("projections.rebuild_memory_all_cores", tree, BUDGET_MB, "MB", goal=1.0, higher_is_better=False,
           note=f"peak of the summed RSS of the rebuilding process and its {runner.default_workers()} workers "
                f"(and their fork server), a full rebuild of {count} events",
           params={"events": count, "workers": runner.default_workers(),
                   "measure": "sum of VmRSS over the process tree, sampled every 20 ms"})


def bench_catch_up(ctx: Context, db: Path, count: int, rebuild_seconds: float) -> None:
    repeat = ctx.repeat(3)
    new = 1000
    events.connect(f"sqlite:///{db}")
    projections.ensure_schema()
    projections.catch_up()
    try:
        fresh = iter(range(repeat))

        def setup() -> None:
            events.append(list(workload.generate(new, seed=3000 + next(fresh))), author=workload.AUTHOR)

        def ours(_: None) -> None:
            assert projections.catch_up() == new * len(projections.PROJECTIONS)

        timing = measure(ours, repeat, setup=setup)
    finally:
        _close()
    report("projections.catch_up", timing.median, rebuild_seconds, "s", goal=0.01, higher_is_better=False,
           ours=timing, note=f"{new} new events into every read model, against the full rebuild of {count}",
           params={"new_events": new, "log_events": count, "repeat": repeat})


def _stage_count(stream: str) -> int:
    stage = agreements.AgreementStage
    return stage.select().where((stage.stream == stream) & stage.known_until.is_null()).count()


def _agreement_of_size(stages: int | None) -> str:
    """The first agreement by name with ``stages`` current stage rows (nearest if none has exactly that many).

    One agreement's answer costs what its stages cost: the 1M log's first agreement has more of them
    than the 1k log's, so the same query means an agreement of the same size.
    """
    stage = agreements.AgreementStage
    counts = (stage.select(stage.stream, fn.COUNT(SQL("*"))).where(stage.known_until.is_null())
              .group_by(stage.stream).order_by(stage.stream).tuples())
    if stages is None:
        return counts.first()[0]
    return min(counts, key=lambda row: abs(row[1] - stages))[0]  # min keeps the first of equals: name order


def _agreement_timings(db: Path, repeat: int, stages: int | None = None) -> tuple[float, int, float, str, int]:
    """(seconds per agreement listed by agreements(as_of), how many, seconds for one agreement(stream),
    that agreement, its stage rows)."""
    events.connect(f"sqlite:///{db}")
    try:
        projections.ensure_schema()
        projections.catch_up()
        listed = len(agreements.agreements(AS_OF))
        whole = measure(lambda: agreements.agreements(AS_OF), repeat, warmup=1)
        stream = _agreement_of_size(stages)
        one = measure(lambda: agreements.agreement(stream, AS_OF), repeat * 5, warmup=2)
        return whole.median / max(listed, 1), listed, one.median, stream, _stage_count(stream)
    finally:
        _close()


def bench_agreements(ctx: Context, db: Path, count: int) -> None:
    small_count = 1000
    small = ctx.workdir / "small.sqlite3"
    _remove(small)
    workload.build_log(f"sqlite:///{small}", small_count)
    _close()
    repeat = ctx.repeat(7, 3)
    small_row, small_n, small_one, small_stream, small_stages = _agreement_timings(small, repeat)
    big_row, big_n, big_one, big_stream, big_stages = _agreement_timings(db, repeat, small_stages)
    report("projections.agreements_as_of", big_row * 1e6, small_row * 1e6, "µs/agreement", goal=1.5,
           higher_is_better=False,
           note=f"agreements(as_of) per row listed: {big_n} agreements at {count} events vs {small_n} at 1k",
           params={"events": count, "baseline_events": small_count, "agreements": big_n,
                   "baseline_agreements": small_n, "repeat": repeat})
    report("projections.agreement_as_of", big_one * 1000, small_one * 1000, "ms", goal=1.5, higher_is_better=False,
           note=f"agreement(stream, as_of) for one agreement of {big_stages} stages at {count} events "
                f"vs one of {small_stages} at 1k",
           params={"events": count, "baseline_events": small_count, "repeat": repeat * 5, "stream": big_stream,
                   "stages": big_stages, "baseline_stream": small_stream, "baseline_stages": small_stages})


@area("projections")
def projections_area(ctx: Context) -> None:
    count = ctx.size(1_000_000, 5_000)
    source, _ = workload.shared_log(ctx, count)
    db = _copy(source, ctx.workdir / "projections.sqlite3")
    started = time.perf_counter()
    rebuild_seconds = bench_rebuild(ctx, db, count)
    bench_memory(db, count)
    events.connect(f"sqlite:///{db}")
    try:
        started_search = time.perf_counter()
        projections.rebuild("search", grace=timedelta(0))
        rebuild_seconds += time.perf_counter() - started_search
    finally:
        _close()
    bench_catch_up(ctx, db, count, rebuild_seconds)
    bench_agreements(ctx, db, count)  # the copy, now a few thousand events longer
    _remove(db)
    log(f"projections area took {time.perf_counter() - started:.0f}s")
